#!/bin/bash
# t-harness-gw: the gatewayd helpers (gw_start, gw_reload, gw_stop,
# gw_exec, rules_*) against a stand-in with gatewayd's command-line
# contract, so that they are known to work before gatewayd does.
. "$(dirname "$0")/lib.sh"

GW_BIN=$T_DIR/gatewayd-stub
cat >"$GW_BIN" <<'EOF'
#!/bin/bash
# gatewayd-stub: `rules VERB -c F` prints; `-c F` listens on every
# <word>_port of F, logs a reload line on SIGHUP, exits 0 on SIGTERM;
# a config containing "broken" makes it exit 1 at start.
if [ "$1" = rules ]; then echo "stub rules $2 $4"; exit 0; fi
exec /usr/bin/python3 - "$@" <<'PY'
import re, signal, socket, sys, time
conf = sys.argv[sys.argv.index("-c") + 1]
text = open(conf).read()
if "broken" in text:
    print("stub: %s:1: broken config" % conf, file=sys.stderr)
    sys.exit(1)
def hup(sig, frm):
    print("stub: config reloaded from %s" % conf, file=sys.stderr, flush=True)
signal.signal(signal.SIGHUP, hup)
signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
socks = []
for p in sorted(set(re.findall(r"\b[a-z0-9]+_port\s*=\s*(\d+)", text))):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    time.sleep(0.2)      # not ready at once: gw_start must wait
    s.bind(("0.0.0.0", int(p)))
    s.listen(8)
    socks.append(s)
print("stub: ready", file=sys.stderr, flush=True)
while True:
    time.sleep(1)
PY
EOF
chmod 755 "$GW_BIN"

topo_up isolated --guests 1
cat >"$T_DIR/gw.conf" <<EOF
# comment: http_port = 9
capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
EOF

assert_eq "stub rules apply $T_DIR/gw.conf" "$(rules_apply "$T_DIR/gw.conf")" "rules_apply"
assert_eq "stub rules remove $T_DIR/gw.conf" "$(rules_remove "$T_DIR/gw.conf")" "rules_remove"
assert_eq "3128 3129" "$(gw_ports "$T_DIR/gw.conf" | tr '\n' ' ' | sed 's/ $//')" "gw_ports"

gw_start "$T_DIR/gw.conf"
port_listening "$NS_GW" 3128 || fail "gw_start returned before 3128 listened"
port_listening "$NS_GW" 3129 || fail "gw_start returned before 3129 listened"
pid=$(gw_pid)
[ -n "$pid" ] && pid_alive "$pid" || fail "gw_pid"
# it runs in the gateway namespace
assert_eq "$(readlink "/proc/$pid/ns/net")" "$(in_gw readlink /proc/self/ns/net)" "netns"

line=$(gw_reload)
echo "$line" | grep -q 'config reloaded' || fail "gw_reload printed '$line'"
line=$(gw_reload)		# a second reload finds its own line
echo "$line" | grep -q 'config reloaded' || fail "second gw_reload printed '$line'"
assert_eq 2 "$(count_match "$GW_LOG" reloaded)" "reload lines"

gw_stop || fail "gw_stop: status $GW_RC"
assert_eq 0 "$GW_RC" "exit status after SIGTERM"
pid_alive "$pid" && fail "still running after gw_stop"
assert_eq "" "$(gw_pid)" "gw_pid after stop"

# a gatewayd that exits at start is reported at once, with its status
printf 'broken = true;\nhttp_port = 3128;\n' >"$T_DIR/bad.conf"
rc=0
(gw_start "$T_DIR/bad.conf") 2>"$T_DIR/badstart.err" || rc=$?
assert_eq 1 "$rc" "gw_start of a gatewayd that exits"
assert_match "$T_DIR/badstart.err" 'gatewayd exited at start \(status 1\)'
echo 'broken = true;' >"$T_DIR/bad2.conf"	# no port to wait for
rc=0
(gw_start "$T_DIR/bad2.conf") 2>"$T_DIR/badstart2.err" || rc=$?
assert_eq 1 "$rc" "gw_start of a gatewayd with no ports that exits"
