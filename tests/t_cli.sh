#!/usr/bin/env bash
# The command table: version, help, unknown commands, no terminal.
. tests/lib.sh

check "version prints the version" grep -q "sdceremony $(cat VERSION)" <("$SDC" version)
check "--help lists every command" bash -c '"$0" --help | grep -q restore-blob' "$SDC"
expect_exit "unknown command is a usage error" 2 "$SDC" frobnicate
expect_err "unknown command is named" "unknown command 'frobnicate'"
expect_exit "no command without a terminal is a usage error" 2 "$SDC" </dev/null
done_testing
