# sdceremony: one hand-written Makefile.  `make V=1` shows the full commands.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CC         ?= cc
BUILD      ?= build

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKGS      := libcrypto libsodium libqrencode ncursesw jansson libpng zlib
TEST_PKGS := cmocka

# Debian package that provides each pkg-config module, for the error message.
deb_libcrypto   := libssl-dev
deb_libsodium   := libsodium-dev
deb_libqrencode := libqrencode-dev
deb_ncursesw    := libncurses-dev
deb_jansson     := libjansson-dev
deb_libpng      := libpng-dev
deb_zlib        := zlib1g-dev
deb_cmocka      := libcmocka-dev

need_pkg = $(if $(shell $(PKG_CONFIG) --exists $(1) && echo y),,$(error missing dependency: pkg-config cannot find '$(1)'; install the Debian package $(deb_$(1)) (or run 'make deps' as root)))

ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
$(foreach p,$(PKGS),$(call need_pkg,$(p)))
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS)) -lpthread
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
        -Wno-missing-field-initializers
ifeq ($(CI),true)
WARN += -Werror
endif
HARDEN  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT     ?= -O2 -g
CFLAGS  ?=
CPPFLAGS += -D_GNU_SOURCE -DSDC_VERSION='"$(VERSION)"' -I.
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS_HARD := -pie -Wl,-z,relro,-z,now
ALL_LDFLAGS = $(LDFLAGS_HARD) $(LDFLAGS)

ifeq ($(V),1)
Q :=
qecho = @true
else
Q := @
qecho = @printf '  %-6s %s\n'
endif

SSS_SRC  := $(wildcard sss/*.c)
CER_SRC  := $(wildcard ceremony/*.c)
UI_SRC   := $(wildcard ui/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
BENCH_SRC:= $(wildcard bench/bench_*.c)

SSS_OBJ  := $(SSS_SRC:%.c=$(BUILD)/%.o)
CER_OBJ  := $(CER_SRC:%.c=$(BUILD)/%.o)
UI_OBJ   := $(UI_SRC:%.c=$(BUILD)/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

LIBSSS := $(BUILD)/libsss.a
LIBCER := $(BUILD)/libceremony.a
BIN    := $(BUILD)/sdceremony

.PHONY: all check check-unit check-asan bench install uninstall deps clean man
all: $(BIN) $(LIBSSS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(qecho) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBSSS): $(SSS_OBJ)
	$(qecho) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBCER): $(CER_OBJ)
	$(qecho) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(UI_OBJ) $(LIBCER) $(LIBSSS)
	$(qecho) LD $@
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(UI_OBJ) $(LIBCER) $(LIBSSS) $(PKG_LIBS)

TEST_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

$(BUILD)/tests/%: tests/%.c $(LIBCER) $(LIBSSS)
	$(call need_pkg,cmocka)
	@mkdir -p $(dir $@)
	$(qecho) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(TEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBCER) $(LIBSSS) $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/bench/%: bench/%.c $(LIBCER) $(LIBSSS)
	@mkdir -p $(dir $@)
	$(qecho) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBCER) $(LIBSSS) $(PKG_LIBS)

# `make check` runs every test: the unit and end-to-end tests on the normal build,
# then the unit tests again on an ASan + UBSan build.
check: all $(TESTS) $(TOOLS)
	$(Q)BUILD=$(BUILD) tests/run.sh
	$(Q)$(MAKE) --no-print-directory check-asan

check-unit: all $(TESTS) $(TOOLS)
	$(Q)BUILD=$(BUILD) tests/run.sh

check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
		OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' SDC_SANITIZE=1 check-unit

bench: all $(BENCHES) $(TOOLS)
	$(Q)BUILD=$(BUILD) bench/run.sh

man: docs/sdceremony.1

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/sdceremony
	install -m 0644 docs/sdceremony.1 $(DESTDIR)$(MANDIR)/man1/sdceremony.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sdceremony $(DESTDIR)$(MANDIR)/man1/sdceremony.1

# Build and test dependencies, from Debian 12 (run as root).
DEB_BUILD := build-essential pkg-config libssl-dev libsodium-dev libqrencode-dev \
             libncurses-dev libjansson-dev libpng-dev zlib1g-dev
DEB_TEST  := libcmocka-dev valgrind tmux zbar-tools azure-cli openssl python3 hyperfine \
             groff-base man-db jq clang
deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_BUILD) $(DEB_TEST)

clean:
	rm -rf build build-asan

.SECONDARY:
-include $(SSS_OBJ:.o=.d) $(CER_OBJ:.o=.d) $(UI_OBJ:.o=.d) $(wildcard $(BUILD)/tests/*.d $(BUILD)/tests/tools/*.d $(BUILD)/bench/*.d)
