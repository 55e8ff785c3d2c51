#!/bin/bash
# tests/cli/gatewayd_cli.sh - gatewayd's command line without a running
# daemon: --help and its exit status, mistakes on stderr.
#
# usage: gatewayd_cli.sh /path/to/gatewayd      (TAP on stdout)
set -u

T=${1:?usage: gatewayd_cli.sh GATEWAYD}
. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d /tmp/gatewayd_cli.XXXXXX)
trap 'rm -rf -- "$TMP"' EXIT

for h in --help -h; do
	ok "$h: exit 0" run 0 "$h"
	ok "  usage on stdout, nothing on stderr" bash -c \
	    "grep -q '^usage: gatewayd' '$TMP/out' && [ ! -s '$TMP/err' ]"
	for w in run rules sentinel stats apply show remove issue revoke \
	    list --socket -c -t -d -v; do
		ok "  mentions $w" out_word "$w"
	done
done
ok "-d --help: exit 0" run 0 -d --help

ok "--bogus: exit 2" run 2 --bogus
ok "  nothing on stdout" empty out
ok "  names the option" stderr_has "bogus"
ok "  short: at most 4 lines" test "$(wc -l <"$TMP/err")" -le 4
ok "no -c: exit 2" run 2
ok "  says -c is required" stderr_has "-c FILE is required"
ok "unknown command: exit 2" run 2 frobnicate
ok "  names it" stderr_has '"frobnicate"'

ok "-v: the version" run 0 -v
ok "  gatewayd N.N.N" out_has "^gatewayd [0-9]"

tap_done
