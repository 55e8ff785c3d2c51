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
for c in run rules sentinel stats; do
	ok "$c --help: exit 0" run 0 "$c" --help
	ok "  its usage on stdout, nothing on stderr" bash -c \
	    "grep -q '^usage: gatewayd' '$TMP/out' && [ ! -s '$TMP/err' ]"
done
ok "rules -h: exit 0" run 0 rules -h
ok "  names apply, show and remove" bash -c \
    "grep -qw apply '$TMP/out' && grep -qw show '$TMP/out' && grep -qw remove '$TMP/out'"
ok "sentinel issue --help: exit 0" run 0 sentinel issue --help
ok "  names --ttl" out_has "--ttl"
ok "  names --vm" out_has "--vm NAME"
ok "sentinel issue with --guest and --vm: exit 2" run 2 sentinel issue \
    --group a --guest 10.0.0.2 --vm v --secret s --ttl 1m
ok "sentinel issue --vm with a space: exit 2" run 2 sentinel issue \
    --group a --vm "v 1" --secret s --ttl 1m
ok "rules with a bad action: exit 2, usage on stderr" run 2 rules frob -c x
ok "  nothing on stdout" empty out

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

# ---- -c FILE: the control socket named by the config -------------------
conf() {	# conf FILE SOCKET
	cat >"$1" <<EOC
control_socket = "$2";
groups = ( { name = "agents"; interfaces = [ "ve-*" ];
  capture = { mode = "redirect"; http_port = 3128; https_port = 3129; }; } );
EOC
}
conf "$TMP/gone.conf" "$TMP/nowhere/control.sock"
for c in "sentinel -c $TMP/gone.conf list" "stats -c $TMP/gone.conf"; do
	# shellcheck disable=SC2086
	ok "${c%% *} -c, no daemon: exit 3" run 3 $c
	ok "  names the config's socket" stderr_has "$TMP/nowhere/control.sock"
done
echo 'groups = ( ' >"$TMP/bad.conf"
ok "sentinel -c with a bad config: exit 1" run 1 sentinel -c "$TMP/bad.conf" list
ok "  says where" stderr_has "bad.conf:"

# A stand-in daemon: answers each request line with one data line naming
# it, then OK; stops after two connections or 10 s.
conf "$TMP/ok.conf" "$TMP/ctl/control.sock"
mkdir -m 700 "$TMP/ctl"
/usr/bin/python3 - "$TMP/ctl/control.sock" <<'EOP' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(2)
s.settimeout(10)
for _ in range(3):
    c, _ = s.accept()
    line = c.makefile("rb").readline().decode().strip()
    c.sendall(("asked " + line.replace(" ", "_") + "\nOK\n").encode())
    c.close()
EOP
srv=$!
for i in $(seq 100); do [ -S "$TMP/ctl/control.sock" ] && break; sleep 0.05; done
ok "sentinel -c FILE list: exit 0" run 0 sentinel -c "$TMP/ok.conf" list
ok "  asked LIST at the config's socket" out_has "^asked LIST$"
ok "stats -c FILE: exit 0" run 0 stats -c "$TMP/ok.conf"
ok "  asked STATS" out_has "^asked STATS$"
ok "sentinel issue --vm NAME: exit 0" run 0 sentinel -c "$TMP/ok.conf" issue \
    --group agents --vm agents-1 --secret github --ttl 10m
ok "  asks the daemon for the VM's address (vm=NAME)" \
    out_has "ISSUE_agents_vm=agents-1_github_10m"
kill "$srv" 2>/dev/null
wait "$srv" 2>/dev/null

tap_done
