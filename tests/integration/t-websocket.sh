#!/bin/bash
# t-websocket: WebSocket through gatewayd with strict real clients,
# python3-websockets and Node's ws, over plain HTTP (port 80) and bumped
# TLS (the guest trusts only the group CA), against a real echo server in
# the internet namespace (node/ws-server.js: Node's http parser and the ws
# package's server).  Each client: the handshake, a text and a binary
# echo, a 200 KiB message (64-bit frame length), ping/pong, the server's
# close code and reason reaching the client, the client's reaching the
# server.  The server records every upgrade request as it arrived (method,
# target, Host, Upgrade) and the audit log shows each one; a denied
# upgrade never reaches the server.  Each session's one audit line is
# written when its tunnel ends and counts all its bytes.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool

topo_up isolated --guests 1
pki_ensure
node_modules_ensure
WS_LOG=$T_DIR/ws-server.log
start_bg wsserver "$NS_INET" env NODE_PATH="$NODE_DIR/node_modules" \
    node "$T_LIB_DIR/node/ws-server.js" --listen "$INET_ECHO_IP:80" \
    --listen "$INET_ECHO_IP:443:tls" --cert "$PKI/echo.chain.pem" \
    --key "$PKI/echo.key" --log "$WS_LOG"
wait_bg_port wsserver "$NS_INET" 443 "$INET_ECHO_IP"
ca_generate agents
gw_conf_tproxy "$T_DIR/gw.conf" 'default = "allow"; rules = (
    { action = "deny"; host = "ws.test"; path = "/denied"; name = "no-ws-denied"; } );'
echo 'limits = { drain_timeout = "1s"; };' >>"$T_DIR/gw.conf"
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

# seen FILE COND...: the JSON lines of FILE matching every KEY=VALUE
seen() { "$PY" "$T_LIB_DIR/audit-match.py" "$@"; }
seen_some() { [ "$(seen "$@")" -gt 0 ]; }
# expect_seen WHAT FILE COND...: at least one such line (the server and
# the audit writer may still be writing: bounded wait)
expect_seen() {
	local what=$1
	shift
	wait_for 5 seen_some "$@" ||
	    { cat "$1" >&2; fail "$what: no line with ${*:2}"; }
}

# check CLIENT SCHEME: one client's run against SCHEME://ws.test
check() {
	local client=$1 scheme=$2 target=/$1-$2 tls=False out=$T_DIR/$1-$2.json
	[ "$scheme" = wss ] && tls=True
	case $client in
	py) in_guest "$PY" "$T_LIB_DIR/ws_check.py" "$scheme://ws.test$target" \
	    --cafile "$T_CA_CRT" >"$out" || { cat "$out" >&2; fail "python3-websockets over $scheme"; } ;;
	node) guest_node ws-check.js "$scheme://ws.test$target" --cafile "$T_CA_CRT" \
	    >"$out" || { cat "$out" >&2; fail "Node ws over $scheme"; } ;;
	esac
	log "$client over $scheme: $(cat "$out")"
	# what the server received: the upgrade request as the guest made it
	expect_seen "$client $scheme upgrade at the server" "$WS_LOG" \
	    event=upgrade method=GET "target=$target" host=ws.test \
	    upgrade=websocket version=13 http=1.1 "tls=$tls"
	expect_seen "$client $scheme 200 KiB message" "$WS_LOG" \
	    event=message "target=$target" binary=True len=204800
	expect_seen "$client $scheme ping" "$WS_LOG" event=ping "target=$target" data=p1
	expect_seen "$client $scheme client's close code" "$WS_LOG" \
	    event=close "target=$target-close" code=4001 "reason=client bye"
	# ... and what the gateway logged: the same request, switched
	local url=http://ws.test$target
	[ "$scheme" = wss ] && url=https://ws.test$target
	# written when the tunnel ends, counting the whole session: the
	# 200 KiB message went up and came back
	expect_seen "$client $scheme audit line" "$T_AUDIT" method=GET \
	    "url=$url" host=ws.test status=101 action=allow \
	    "bytes_in>=200000" "bytes_out>=200000" end=tunnel_closed '!reason'
	expect_seen "$client $scheme audit line (close)" "$T_AUDIT" \
	    method=GET "url=$url-close" status=101
	assert_eq 1 "$(seen "$T_AUDIT" "url=$url")" "$client $scheme: one audit line per session"
	assert_eq 1 "$(seen "$T_AUDIT" "url=$url-close")" "$client $scheme: one audit line per session (close)"
}
for scheme in ws wss; do
	for client in py node; do
		check "$client" "$scheme"
	done
done
# every upgrade the server saw is one the gateway logged
assert_eq "$(seen "$WS_LOG" event=upgrade)" "$(seen "$T_AUDIT" status=101)" \
    "upgrades at the server = 101s in the audit log"

# a denied upgrade: a 403 to the client, nothing at the server
for scheme in ws wss; do
	in_guest "$PY" "$T_LIB_DIR/ws_check.py" "$scheme://ws.test/denied" \
	    --cafile "$T_CA_CRT" >"$T_DIR/denied-$scheme.json" && fail "denied upgrade over $scheme opened"
	assert_match "$T_DIR/denied-$scheme.json" '403' "denied upgrade over $scheme"
	expect_seen "denied upgrade over $scheme logged" "$T_AUDIT" method=GET \
	    status=403 rule=no-ws-denied
done
assert_eq 0 "$(seen "$WS_LOG" target=/denied)" "denied upgrades at the server"

# a session still open when the gateway stops: its line is written by the
# teardown, with what the session moved (drain_timeout 1s, then closed)
start_bg wsheld "${GUEST_NS[$T_GUEST]}" "$PY" "$T_LIB_DIR/ws_check.py" \
    ws://ws.test/held --hold "$T_DIR/held.ready"
wait_for 10 test -s "$T_DIR/held.ready" ||
    { cat "$T_DIR/wsheld.out" >&2; fail "held session did not open"; }
assert_eq 0 "$(seen "$T_AUDIT" url=http://ws.test/held)" \
    "no audit line while the session is open"
gw_stop || fail "gatewayd exited with status $GW_RC"
assert_eq 1 "$(seen "$T_AUDIT" url=http://ws.test/held status=101 \
    "bytes_in>=200000" "bytes_out>=200000")" \
    "a session open at shutdown: one audit line with its bytes"
assert_eq 1 "$(seen "$T_AUDIT" url=http://ws.test/held)" \
    "a session open at shutdown: one audit line"
# ... that says the gateway cut it (it read as a clean allow)
assert_eq 1 "$(seen "$T_AUDIT" url=http://ws.test/held end=shutdown \
    "reason=gateway shutting down")" \
    "a session open at shutdown: its end and reason in the audit line"
