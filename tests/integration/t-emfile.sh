#!/bin/bash
# t-emfile: gatewayd out of file descriptors.  With a low RLIMIT_NOFILE,
# idle guest connections use up the descriptors; accept(2) then fails with
# EMFILE and gatewayd must back off (not spin on the listener), keep
# serving the connections it has, and accept again once descriptors are
# free.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_cmd prlimit

topo_up isolated --guests 1
inet_up
upstream_start
cat >"$T_DIR/gw.conf" <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$T_DIR/control.sock";
audit = { path = "$T_AUDIT"; format = "squid"; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ];
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  policy = { default = "allow"; }; } );
EOF
rules_apply "$T_DIR/gw.conf" >/dev/null
# 96 descriptors: the daemon's own (listeners, epoll, eventfds, log,
# netlink, control...) take a few dozen; each held connection two more.
GW_BIN_REAL=$GW_BIN
start_bg gatewayd "$NS_GW" prlimit --nofile=96:96 "$GW_BIN_REAL" -c "$T_DIR/gw.conf"
wait_port "$NS_GW" 3128 10 || fail "gatewayd did not start"
GW_LOG=$T_DIR/gatewayd.out

assert_eq 200 "$(guest_code http://echo.test/before)" "served before the descriptors run out"

# hold idle keep-alive connections until accept fails (bounded: 60)
guest_py - "$T_DIR/hold.out" <<'PY' &
import socket, sys, time
out = open(sys.argv[1], "w")
held = []
for i in range(60):
    try:
        s = socket.create_connection(("echo.test", 80), timeout=3)
        s.sendall(b"GET /hold HTTP/1.1\r\nHost: echo.test\r\n\r\n")
        s.settimeout(1.5)
        data = s.recv(4096)
        held.append(s)
        out.write("ok %d %s\n" % (i, b"200" in data[:20]))
    except Exception as e:
        out.write("fail %d %s\n" % (i, type(e).__name__))
    out.flush()
time.sleep(4)
for s in held:
    s.close()
out.write("released\n"); out.flush()
time.sleep(1)
PY
holder=$!
wait_for 20 grep -q '^fail ' "$T_DIR/hold.out" || fail "descriptors never ran out"
wait_match "$GW_LOG" 'pausing 100 ms: Too many open files'
# no busy loop while it cannot accept: CPU over 1.5 s stays low
P=$(pid_of gatewayd)
P=$(pgrep -P "$P" gatewayd || echo "$P")
c0=$(awk '{print $14+$15}' "/proc/$P/stat")
sleep 1.5
c1=$(awk '{print $14+$15}' "/proc/$P/stat")
[ $((c1 - c0)) -lt 30 ] || fail "gatewayd used $((c1 - c0)) ticks in 1.5 s while out of descriptors"
wait "$holder" || true
assert_match "$T_DIR/hold.out" 'released'
# the held connections were served; once released, new ones are accepted
assert_match "$T_DIR/hold.out" '^ok 0 True'
assert_eq 200 "$(guest_code http://echo.test/after)" "served after descriptors are free again"
stop_bg gatewayd || fail "gatewayd exited with status $? after EMFILE"
