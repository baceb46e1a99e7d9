# sdceremony: one hand-written Makefile.  `make V=1` shows the full commands.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CC         ?= cc
BUILD      ?= build

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Reproducible builds: the same commit gives the same bytes whatever the
# checkout path, user, time, TZ, locale, umask or -j.  Nothing reads the
# clock: the one date in the binary is SOURCE_DATE_EPOCH, by default the
# commit's time (without git: the VERSION file's modification time, which a
# release tarball keeps).  Paths are made relative (-ffile-prefix-map),
# source lists are sorted, archives are deterministic (ar D), and the ELF
# build id is a hash of the linked output, so it depends only on the inputs.
# (make deb hands GIT_COMMIT and GIT_DIRTY to the copy it builds in.)
ifeq ($(origin GIT_COMMIT),undefined)
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
GIT_DIRTY  := $(shell git status --porcelain --untracked-files=no 2>/dev/null | head -c1)
endif
ifeq ($(origin SOURCE_DATE_EPOCH),undefined)
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || stat -c %Y VERSION 2>/dev/null || echo 0)
endif
export SOURCE_DATE_EPOCH
SDC_COMMIT := $(if $(GIT_COMMIT),$(GIT_COMMIT)$(if $(GIT_DIRTY),+dirty),unknown (not built from git))
SDC_DATE   := $(shell LC_ALL=C date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
SDC_CC     := $(shell LC_ALL=C $(CC) --version 2>/dev/null | head -n1)

PKGS      := libcrypto libsodium libqrencode ncursesw jansson libpng zlib zbar p11-kit-1
TEST_PKGS := cmocka

# Debian package that provides each pkg-config module, for the error message.
deb_libcrypto   := libssl-dev
deb_libsodium   := libsodium-dev
deb_libqrencode := libqrencode-dev
deb_ncursesw    := libncurses-dev
deb_jansson     := libjansson-dev
deb_libpng      := libpng-dev
deb_zlib        := zlib1g-dev
deb_zbar        := libzbar-dev
deb_p11-kit-1   := libp11-kit-dev
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
REPRO   := -ffile-prefix-map=$(CURDIR)=. -fdebug-prefix-map=$(CURDIR)=.
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(HARDEN) $(REPRO) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS_HARD := -pie -Wl,-z,relro,-z,now -Wl,--build-id=sha1
ALL_LDFLAGS = $(LDFLAGS_HARD) $(LDFLAGS)

ifeq ($(V),1)
Q :=
qecho = @true
else
Q := @
qecho = @printf '  %-6s %s\n'
endif

SSS_SRC  := $(sort $(wildcard sss/*.c))
CER_SRC  := $(sort $(wildcard ceremony/*.c))
UI_SRC   := $(sort $(wildcard ui/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
BENCH_SRC:= $(sort $(wildcard bench/bench_*.c))

SSS_OBJ  := $(SSS_SRC:%.c=$(BUILD)/%.o)
CER_OBJ  := $(CER_SRC:%.c=$(BUILD)/%.o)
UI_OBJ   := $(UI_SRC:%.c=$(BUILD)/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

LIBSSS := $(BUILD)/libsss.a
LIBCER := $(BUILD)/libceremony.a
BIN    := $(BUILD)/sdceremony

.PHONY: layers format-check deb deb-lint offline-bundle FORCE all check check-unit check-asan bench install uninstall deps clean man fuzz fuzz-run
all: $(BIN) $(LIBSSS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(qecho) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBSSS): $(SSS_OBJ)
	$(qecho) AR $@
	$(Q)rm -f $@ && ar rcsD $@ $^

$(LIBCER): $(CER_OBJ)
	$(qecho) AR $@
	$(Q)rm -f $@ && ar rcsD $@ $^

# What `sdceremony version` prints; rewritten only when it changes, so that
# a new commit rebuilds ui/cmd_version.o and nothing else.
$(BUILD)/sdc_build.h: FORCE
	@mkdir -p $(dir $@)
	$(Q){ printf '#define SDC_COMMIT "%s"\n' '$(subst ",,$(SDC_COMMIT))'; \
	  printf '#define SDC_BUILD_DATE "%s"\n' '$(SDC_DATE)'; \
	  printf '#define SDC_COMPILER "%s"\n' '$(subst ",,$(subst ',,$(SDC_CC)))'; } >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(BUILD)/ui/cmd_version.o: $(BUILD)/sdc_build.h
$(BUILD)/ui/cmd_version.o: CPPFLAGS += -I$(BUILD)
FORCE:

$(BIN): $(UI_OBJ) $(LIBCER) $(LIBSSS)
	$(qecho) LD $@
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(UI_OBJ) $(LIBCER) $(LIBSSS) $(PKG_LIBS)

# A test-only build of the tool whose OpenSSL blocks are neither wiped nor
# kept in locked memory (ceremony/secmem.c with CER_TEST_UNWIPED), for
# tests/t_coredump.sh to show that its scan finds what that file prevents.
UNWIPED_BIN := $(BUILD)/tests/unwiped/sdceremony
$(BUILD)/tests/unwiped/secmem.o: ceremony/secmem.c
	@mkdir -p $(dir $@)
	$(qecho) CC $@
	$(Q)$(CC) $(CPPFLAGS) -DCER_TEST_UNWIPED $(ALL_CFLAGS) -c -o $@ $<

$(UNWIPED_BIN): $(UI_OBJ) $(BUILD)/tests/unwiped/secmem.o $(LIBCER) $(LIBSSS)
	$(qecho) LD $@
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(UI_OBJ) $(BUILD)/tests/unwiped/secmem.o \
		$(filter-out $(BUILD)/ceremony/secmem.o,$(CER_OBJ)) $(LIBSSS) $(PKG_LIBS)

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
check: all $(TESTS) $(TOOLS) $(UNWIPED_BIN)
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)BUILD=$(BUILD) tests/run.sh
	$(Q)$(MAKE) --no-print-directory check-asan

check-unit: all $(TESTS) $(TOOLS) $(UNWIPED_BIN)
	$(Q)BUILD=$(BUILD) tests/run.sh

check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
		OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' SDC_SANITIZE=1 check-unit

# `make layers`: ui -> ceremony -> sss, and ceremony/ never prints
# (tests/layers.sh; make check runs it through tests/t_layers.sh).
layers:
	$(Q)tests/layers.sh .

# `make format-check`: every tracked .c/.h file as the committed .clang-format
# wants it.  Not part of `make check` yet: most of the tree predates the
# .clang-format and is reformatted in one separate commit.
CLANG_FORMAT ?= clang-format
format-check:
	$(Q)$(CLANG_FORMAT) --dry-run -Werror $(sort $(if $(wildcard .git),$(shell git ls-files '*.c' '*.h'),$(wildcard sss/*.[ch] ceremony/*.[ch] ui/*.[ch] tests/*.[ch] tests/*/*.[ch] bench/*.[ch])))

bench: all $(BENCHES) $(TOOLS)
	$(Q)BUILD=$(BUILD) bench/run.sh

man: docs/sdceremony.1

# `make fuzz`: one libFuzzer + ASan + UBSan harness per parser of hostile
# input, tests/fuzz/fuzz_<name>.c -> build-fuzz/fuzz_<name>, each linked
# with all of ceremony/ and sss/ (built with clang for coverage).
# `make fuzz-run FUZZ_SECONDS=N` runs each in turn on a corpus seeded from
# tests/vectors (tests/fuzz/run.sh).
FUZZ_CC     ?= clang
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -g -O1 $(FUZZ_SAN) $(PKG_CFLAGS)
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS   := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_OBJ    := $(sort $(SSS_SRC) $(CER_SRC))
FUZZ_OBJ    := $(FUZZ_OBJ:%.c=$(FUZZ_BUILD)/obj/%.o)

fuzz: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(qecho) FUZZCC $<
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(qecho) FUZZLD $@
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS)

fuzz-run: fuzz
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/sdceremony
	install -m 0644 docs/sdceremony.1 $(DESTDIR)$(MANDIR)/man1/sdceremony.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sdceremony $(DESTDIR)$(MANDIR)/man1/sdceremony.1

# `make deb`: the Debian package $(BUILD)/sdceremony_<version>_<arch>.deb,
# built by dpkg-buildpackage from debian/ in a copy of the tracked files
# (so the work tree gets no debian/ build debris).  The commit, its state
# and SOURCE_DATE_EPOCH are handed to the copy, so the package is
# reproducible like the binary.  `make deb-lint` runs lintian on it.
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE := sdceremony_$(VERSION)_$(DEB_ARCH).deb
DEB_TREE := $(BUILD)/deb/sdceremony-$(VERSION)

deb:
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(DEB_TREE)
	$(Q)if git rev-parse HEAD >/dev/null 2>&1; then git ls-files -z; \
	  else find . \( -path './build*' -o -path ./.git \) -prune -o -type f -print0; fi | \
	  tar --null -T - --ignore-failed-read -cf - | tar -xf - -C $(DEB_TREE)
	$(Q)find $(DEB_TREE) -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} +
	$(qecho) DEB $(BUILD)/$(DEB_FILE)
	$(Q)cd $(DEB_TREE) && GIT_COMMIT='$(GIT_COMMIT)' GIT_DIRTY='$(GIT_DIRTY)' \
	  SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) dpkg-buildpackage -b --no-sign \
	  >../dpkg-buildpackage.log 2>&1 || { tail -30 ../dpkg-buildpackage.log; exit 1; }
	$(Q)cp $(BUILD)/deb/$(DEB_FILE) $(BUILD)/$(DEB_FILE)
	@sha256sum $(BUILD)/$(DEB_FILE)

deb-lint:
	lintian --fail-on error,warning --display-info $(BUILD)/$(DEB_FILE)

# `make offline-bundle` (on a connected Debian 12 machine, after make deb):
# the package and the .debs of its direct runtime dependencies, with a
# SHA256SUMS, in $(BUILD)/offline-bundle, to carry to the offline laptop.
offline-bundle:
	$(Q)test -f $(BUILD)/$(DEB_FILE) || { echo "run make deb first" >&2; exit 1; }
	$(Q)rm -rf $(BUILD)/offline-bundle && mkdir -p $(BUILD)/offline-bundle
	$(Q)cp $(BUILD)/$(DEB_FILE) $(BUILD)/offline-bundle/
	$(Q)cd $(BUILD)/offline-bundle && apt-get download $$(dpkg-deb -f $(DEB_FILE) Depends | \
	  tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g' | grep -v '^$$' | sort -u)
	$(Q)cd $(BUILD)/offline-bundle && sha256sum *.deb >SHA256SUMS && cat SHA256SUMS

# Build and test dependencies, from Debian 12 (run as root).
DEB_BUILD := build-essential pkg-config libssl-dev libsodium-dev libqrencode-dev \
             libncurses-dev libjansson-dev libpng-dev zlib1g-dev libzbar-dev libp11-kit-dev
DEB_TEST  := libcmocka-dev valgrind tmux zbar-tools azure-cli openssl python3 hyperfine \
             groff-base man-db jq clang clang-format debhelper lintian fakeroot dpkg-dev gdb \
             dosfstools fusefat imagemagick qrencode nodejs softhsm2 opensc
deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_BUILD) $(DEB_TEST)

clean:
	rm -rf build build-asan build-fuzz

.SECONDARY:
-include $(SSS_OBJ:.o=.d) $(CER_OBJ:.o=.d) $(UI_OBJ:.o=.d) $(wildcard $(FUZZ_BUILD)/obj/*/*.d) $(wildcard $(BUILD)/tests/*.d $(BUILD)/tests/unwiped/*.d $(BUILD)/tests/tools/*.d $(BUILD)/bench/*.d)
