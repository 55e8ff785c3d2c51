#!/bin/bash
# tap_lib.sh - the TAP helpers of lib.sh checked against themselves: a
# false command is "not ok", what a command prints never reaches the TAP
# stream raw, a description with a line break fails, and a pipeline given
# to ok as one command (bash -c) is judged by its last stage.
set -u

. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d /tmp/tap_lib_test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# probe COMMAND...: run COMMAND in a fresh copy of lib.sh; its TAP stream
# lands in $TMP/probe (a private TMP, so as not to touch ours).
probe() {
	(
		# shellcheck source=/dev/null
		. "$(dirname "$0")/lib.sh"
		TMP=$(mktemp -d "$TMP/p.XXXXXX")
		"$@"
		tap_done
	) >"$TMP/probe" 2>"$TMP/probe.err"
}
# clean: every line of the stream is TAP (meson reads all of them)
clean() { ! grep -Ev '^(ok [0-9]+ - |not ok [0-9]+ - |# |1\.\.[0-9]+$)' "$TMP/probe"; }
has() { grep -qxF -- "$1" "$TMP/probe" || { diag "$TMP/probe"; return 1; }; }

ok "a true command: ok, exit 0" probe ok "t" true
ok "  the line" has "ok 1 - t"
probe ok "f" false
rc=$?
ok "a false command: the run fails" test "$rc" -ne 0
ok "  the line" has "not ok 1 - f"
probe ok "noisy" sh -c 'echo raw out; echo raw err >&2; exit 1'
ok "a failing command's output: shown as diagnostics" has "# raw out"
ok "  stderr too" has "# raw err"
ok "  nothing raw" clean
probe ok "quiet success" sh -c 'echo chatter; echo 1..7; echo ok 9'
ok "a passing command's output: not in the stream" clean
ok "  not even TAP-looking lines" bash -c "[ \$(wc -l <'$TMP/probe') -eq 2 ]"
probe ok "$(printf 'two\nlines')" true
rc=$?
ok "a description with a line break: fails" test "$rc" -ne 0
ok "  on one line, not ok" has "not ok 1 - two lines"
ok "  and says why" has "# the description has a line break"
ok "  nothing raw" clean
# A pipeline must be one command: "ok D grep x | grep -q y" would pipe
# ok's own TAP line into grep -q, and the check could never fail.
printf 'Key Usage: critical\n  Digital Signature\n' >"$TMP/text"
probe ok "ku" bash -c "grep -A1 'Key Usage' '$TMP/text' | grep -q 'CRL Sign'"
ok "a pipeline in bash -c: its last stage decides" has "not ok 1 - ku"
tap_done
