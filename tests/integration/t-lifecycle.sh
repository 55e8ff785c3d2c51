#!/bin/bash
# t-lifecycle: IPv6 capture (tproxy), reload with a good and a bad config
# while requests keep flowing, per-guest connection limit, a guest that
# dials the gateway's own port, a guest that does not trust the CA, and
# SIGTERM draining a request in flight.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool

topo_up isolated --guests 2 --ipv6
inet_up
upstream_start
ca_generate agents
write_conf() { # DENY-HOST [MORE-LIMITS]
	cat >"$T_DIR/gw.conf" <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$T_DIR/control.sock";
audit = { path = "$T_AUDIT"; format = "squid"; };
limits = { max_conns_per_guest = 4; drain_timeout = "10s"; header_timeout = "1s"; ${2:-} };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET", "$T_GUEST_NET6" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  policy = { default = "allow"; rules = ( { action = "deny"; host = "$1"; } ); }; } );
EOF
}
write_conf en.wikipedia.org
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

# IPv6: captured, bumped and verified like IPv4
assert_eq 200 "$(guest_code https://example.com/ -6)" "HTTPS over IPv6"
assert_eq 200 "$(guest_code http://example.com/ -6)" "HTTP over IPv6"
wait_match "$T_AUDIT" "^[0-9.]+ +[0-9]+ ${GUEST_IP6[1]} TCP_MISS/200 [0-9]+ GET https://example.com/ - HIER_DIRECT/2001:2::10 "
assert_eq 403 "$(guest_code https://en.wikipedia.org/ -6)" "denied over IPv6"

# Reload under traffic: a bounded stream of requests on guest 2 while the
# config changes twice (a good one, then a broken one): none may fail.
T_GUEST=2 in_guest sh -c "i=0; while [ \$i -lt 150 ]; do
    curl -sS --noproxy '*' -q --cacert '$T_CA_CRT' -o /dev/null -w '%{http_code}\n' \
        --max-time 5 https://example.com/1k || echo fail; i=\$((i+1)); done" >"$T_DIR/stream.txt" &
stream=$!
# reload only once the stream is flowing, and check below that it still was
wait_for 10 sh -c "[ \$(grep -c . '$T_DIR/stream.txt') -ge 10 ]" ||
    fail "the request stream did not start"
write_conf news.ycombinator.com
line=$(gw_reload)
echo "$line" | grep -q "in effect" || fail "good reload not taken: $line"
assert_eq 403 "$(guest_code https://news.ycombinator.com/)" "new rule after reload"
assert_eq 200 "$(guest_code https://en.wikipedia.org/)" "old rule gone after reload"
echo "groups = ( { name = \"broken\"; } );" >>"$T_DIR/gw.conf"
line=$(gw_reload)
echo "$line" | grep -q "keeping" || fail "bad reload was taken: $line"
assert_match "$GW_LOG" 'gw.conf:[0-9]+: '
assert_eq 403 "$(guest_code https://news.ycombinator.com/)" "running config kept after a bad reload"
during=$(grep -c . "$T_DIR/stream.txt")
[ "$during" -lt 150 ] || fail "the stream ended before the reloads: not a reload under traffic"
wait "$stream" || true
assert_eq 150 "$(grep -c '^200$' "$T_DIR/stream.txt")" "requests answered 200 during reloads"
write_conf news.ycombinator.com

# Per-guest limit: 4 connections held open; the 5th is refused, and the
# other guest is not affected.
slow_pids=()
for i in 1 2 3 4; do
	in_guest "$PY" -c "
import socket, time
s = socket.create_connection(('echo.test', 80), timeout=5)
s.sendall(b'GET /delay/3000 HTTP/1.1\r\nHost: echo.test\r\n\r\n')
s.recv(100)" >/dev/null 2>&1 &
	slow_pids+=($!)
done
wait_for 5 sh -c "[ \$(ip netns exec $NS_GW $GW_BIN stats -c $T_DIR/gw.conf | awk '\$1 == \"connections_open\" { print \$2 }') -ge 4 ]" ||
    fail "the 4 slow connections did not open"
assert_eq 000 "$(guest_code http://echo.test/fifth)" "5th connection of one guest"
assert_match "$GW_LOG" 'per-guest connection limit'
assert_eq 200 "$(T_GUEST=2 guest_code http://echo.test/other-guest)" "the other guest"
wait "${slow_pids[@]}" || true

# A slow head (slowloris): 408 after header_timeout, and the connection
# is closed
guest_py - >"$T_DIR/slow-head.txt" <<'PY'
import socket, time
s = socket.create_connection(("echo.test", 80), timeout=5)
s.sendall(b"GET /slow HTTP/1.1\r\nHost: echo.test\r\n")
t0 = time.monotonic()
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(data.split(b"\r\n")[0].decode(), "after %.1fs" % (time.monotonic() - t0))
PY
assert_match "$T_DIR/slow-head.txt" '^HTTP/1.1 408 .* after [1-3]\.'

# Timeouts of an exchange: idle_timeout is for a connection with nothing
# to do (between requests), not for a response that takes its time (a
# non-streamed LLM completion); response_timeout bounds the wait for the
# response head and between its bytes; a stream that keeps sending runs
# on past it.
reload_conf() { # DENY-HOST [MORE-LIMITS]
	write_conf "$@"
	line=$(gw_reload)
	echo "$line" | grep -q "in effect" || fail "reload with limits '${2:-}' not taken: $line"
}
reload_conf news.ycombinator.com 'idle_timeout = "2s";'
assert_eq 200 "$(guest_code http://echo.test/delay/4000)" "a response slower than idle_timeout"
guest_py - >"$T_DIR/ka-idle.txt" <<'PY'
import http.client, socket, time
c = http.client.HTTPConnection("echo.test", 80, timeout=10)
c.request("GET", "/ka-idle"); r = c.getresponse(); r.read()
t0 = time.monotonic()
c.sock.settimeout(10)
print(r.status, "closed" if c.sock.recv(1) == b"" else "data",
      "after %.1fs" % (time.monotonic() - t0))
PY
assert_match "$T_DIR/ka-idle.txt" '^200 closed after [2-3]\.' "idle keep-alive connection closed after idle_timeout"
reload_conf news.ycombinator.com 'response_timeout = "2s";'
assert_eq 504 "$(guest_code http://echo.test/delay/4000)" "a response slower than response_timeout"
wait_match "$T_AUDIT" '/504 [0-9]+ GET http://echo.test/delay/4000 '
guest_curl -o "$T_DIR/drip.txt" http://echo.test/drip/6/700
assert_eq "tick 0 tick 5" "$(sed -n '1p;$p' "$T_DIR/drip.txt" | tr '\n' ' ' | sed 's/ $//')" "a stream longer than response_timeout"
reload_conf news.ycombinator.com

# A guest that dials the gateway's own capture port directly is refused
assert_eq 000 "$(guest_code "http://${GUEST_GW[1]}:3128/")" "direct connection to the capture port"
assert_match "$GW_LOG" 'destination is the gateway itself'

# A guest that does not trust the group CA: handshake fails, logged, counted
T_GUEST_CA=$PKI/public-root.crt
assert_eq 000 "$(guest_code https://example.com/untrusted)" "guest without the CA"
T_GUEST_CA=$T_CA_CRT
wait_for 5 sh -c "[ \$(ip netns exec $NS_GW $GW_BIN stats --socket $T_DIR/control.sock | awk '\$1 == \"guest_tls_failed\" { print \$2 }') -ge 1 ]" ||
    fail "guest TLS failure not counted"
assert_match "$GW_LOG" 'guest TLS handshake failed'

# logrotate: the audit log is moved away, SIGUSR1 reopens it; every line
# lands in one of the two files, the new ones in the new file
assert_eq 200 "$(guest_code http://echo.test/before-rotate)" "before rotation"
wait_match "$T_AUDIT" 'before-rotate'
mv "$T_AUDIT" "$T_AUDIT.1"
gw_signal USR1
wait_for 5 test -e "$T_AUDIT" || fail "SIGUSR1 did not reopen the audit log"
assert_eq 200 "$(guest_code http://echo.test/after-rotate)" "after rotation"
wait_match "$T_AUDIT" 'after-rotate'
assert_no_match "$T_AUDIT.1" 'after-rotate' "a line went to the rotated file"

# SIGTERM drains: a request in flight completes, then gatewayd exits 0
guest_curl -o "$T_DIR/slow.json" http://echo.test/delay/1500 &
slow=$!
# SIGTERM only once the upstream holds the request
wait_match "$UPSTREAM_LOG" '"kind": "delay-start".*"/delay/1500"'
gw_stop TERM 15 || fail "gatewayd exited with status $GW_RC after SIGTERM"
wait "$slow" || fail "the request in flight was cut by the drain"
assert_match "$T_DIR/slow.json" 'delay' "slow response body"
assert_match "$GW_LOG" 'draining 1 connections'
