#!/usr/bin/env bash
# The layering rules (tests/layers.sh, `make layers`): the tree passes, and
# a fixture tree breaking each rule once is caught, naming file and rule.
. tests/lib.sh

check "the tree keeps ui -> ceremony -> sss" bash tests/layers.sh .

# fixture NAME DIR LINE: a tree whose DIR/bad.c holds LINE must be refused.
fixture() {
	local name=$1 dir=$2 line=$3 f="$TMP/fx_$1"
	mkdir -p "$f/$dir"
	printf '%s\n' "/* a comment: printf(\"x\"); #include \"ui/ui.h\" is fine here */" "$line" \
		>"$f/$dir/bad.c"
	expect_exit "caught: $name" 1 bash tests/layers.sh "$f"
	if grep -q -F -- "$dir/bad.c:2:" "$TMP/.out"; then ok "... names $dir/bad.c line 2"; else
		not_ok "... names $dir/bad.c line 2"; sed 's/^/# /' "$TMP/.out"; fi
}
fixture sss_includes_ceremony sss '#include "ceremony/cer.h"'
fixture sss_includes_ui sss '#include "ui/ui.h"'
fixture ceremony_includes_curses ceremony '#include <curses.h>'
fixture ceremony_includes_ncursesw ceremony '#include <ncursesw/ncurses.h>'
fixture ceremony_includes_ui ceremony '#include "ui/ui.h"'
fixture ceremony_printf ceremony '	printf("%d\n", x);'
fixture ceremony_fprintf_stderr ceremony '	fprintf(stderr, "oops\n");'
fixture ceremony_puts ceremony '	puts("hello");'
fixture ceremony_perror ceremony '	perror("open");'
fixture ceremony_fputs_stdout ceremony '	fputs("x", stdout);'
fixture ceremony_write_2 ceremony '	(void)write(2, msg, len);'
fixture ui_includes_sss ui '#include "sss/sss.h"'
fixture ceremony_names_a_flag ceremony '	return cer_fail(CER_EIO, "%s: exists (give --force)", path);'
fixture ceremony_names_a_flag_like_azs ceremony '	s = "--hsm-names";'

# What ceremony/ may do: format into buffers, write to files it opened.
mkdir -p "$TMP/fine/ceremony"
printf '%s\n' 'n = snprintf(buf, sizeof buf, "%s", s);' 'fprintf(f, "%s\n", line);' \
	'vsnprintf(b, n, fmt, ap);' >"$TMP/fine/ceremony/ok.c"
check "snprintf and writes to a FILE it opened are allowed" bash tests/layers.sh "$TMP/fine"
# ... and quote the az commands for the online host, flags and all, and PEM armour.
printf '%s\n' '	s = "az keyvault security-domain upload --hsm-name %s --sd-file %s --restore-blob";' \
	'	t = "--sd-wrapping-keys";' '	u = "-----BEGIN PRIVATE KEY-----";' >"$TMP/fine/ceremony/az.c"
check "the az commands' flags and PEM armour are allowed" bash tests/layers.sh "$TMP/fine"
done_testing
