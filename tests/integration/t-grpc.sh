#!/bin/bash
# t-grpc: gRPC through the gateway, intercepted.  python3-grpcio against
# a python3-grpcio server in the internet namespace (TLS, a leaf from the
# test PKI): unary, server-streaming, client-streaming and bidirectional
# calls, metadata both ways, trailing metadata, a status with a message,
# a deadline, a 1 MB message.  grpcio refuses a connection whose ALPN is
# not h2, so every call passing proves the mirroring.  The server records
# the metadata and the deadline it saw; the audit log has one line per
# call, "proto":"h2", with the method's path; a denied method is refused
# and never reaches the server.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool
"$PY" -c 'import grpc' 2>/dev/null || skip "python3-grpcio is missing"

topo_up isolated --guests 1
inet_up
GRPC_IP=198.18.0.32
ip -n "$NS_INET" addr add "$GRPC_IP/24" dev inet0
for ns in "$NS_GW" "${GUEST_NS[1]}"; do
	hosts_lines "$GRPC_IP" grpc.test denied-grpc.test >>"/etc/netns/$ns/hosts"
done
(cd "$T_DIR" && cp "$PKI/public-int.crt" "$PKI/public-int.key" . &&
    pki_leaf grpc public-int grpc.test "DNS:grpc.test") ||
    error "cannot make the grpc leaf"
GRPC_LOG=$T_DIR/grpc.log
start_bg grpcsrv "$NS_INET" "$PY" "$T_LIB_DIR/grpc_test.py" server \
    --listen "$GRPC_IP:443" --cert "$T_DIR/grpc.chain.pem" \
    --key "$T_DIR/grpc.key" --log "$GRPC_LOG"
wait_bg_port grpcsrv "$NS_INET" 443 "$GRPC_IP"

ca_generate agents
gw_conf_tproxy "$T_DIR/gw.conf" 'default = "allow";
    rules = ( { action = "deny"; host = "grpc.test"; path = "/t.T/Denied"; },
              { action = "deny"; host = "denied-grpc.test"; } );'
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

grpc_guest() { in_guest env GRPC_DNS_RESOLVER=native "$PY" "$@"; }
grpc_guest "$T_LIB_DIR/grpc_test.py" client --target grpc.test:443 \
    --cafile "$T_GUEST_CA" >"$T_DIR/client.txt" 2>&1 ||
    { cat "$T_DIR/client.txt" >&2; fail "grpc client"; }
for c in unary metadata trailing-metadata status status-message 1MB deadline \
    server-streaming client-streaming bidi; do
	assert_match "$T_DIR/client.txt" "^ok $c\$" "grpc check $c"
done
# what the server saw: the metadata and a deadline (grpc-timeout) intact
assert_match "$GRPC_LOG" '"method": "Unary", "metadata": \[.*\["x-meta", "m1"\]'
assert_match "$GRPC_LOG" '"method": "Slow".*"deadline_left": [01]\.[0-9]+'
# one audit line per call, as h2
wait_match "$T_AUDIT" '"url":"https://grpc.test/t.T/Bidi","proto":"h2"'
assert_eq 3 "$(count_match "$T_AUDIT" '"url":"https://grpc.test/t.T/Unary","proto":"h2"')" \
    "audit lines for the 3 unary calls"
# a denied method: the gRPC client sees the 403 as an error, the server
# sees nothing
cat >"$T_DIR/denied.py" <<'PYEOF'
import sys, grpc
ca = open(sys.argv[1], "rb").read()
ch = grpc.secure_channel(sys.argv[2] + ":443", grpc.ssl_channel_credentials(ca))
try:
    ch.unary_unary("/t.T/Denied")(b"x", timeout=5)
    print("passed")
except grpc.RpcError as e:
    print("refused", e.code())
PYEOF
grpc_guest "$T_DIR/denied.py" "$T_GUEST_CA" grpc.test >"$T_DIR/denied.txt" 2>&1 || true
assert_match "$T_DIR/denied.txt" '^refused StatusCode.PERMISSION_DENIED' "a denied gRPC method"
assert_no_match "$GRPC_LOG" '"Denied"' "a denied call reached the server"
wait_match "$T_AUDIT" '"url":"https://grpc.test/t.T/Denied","proto":"h2","status":403'
# a host denied at the TLS stage: still h2 to a guest that offered it, so
# the gRPC client reads the 403 (PERMISSION_DENIED), not an ALPN failure
grpc_guest "$T_DIR/denied.py" "$T_GUEST_CA" denied-grpc.test >"$T_DIR/denied2.txt" 2>&1 || true
assert_match "$T_DIR/denied2.txt" '^refused StatusCode.PERMISSION_DENIED' "a gRPC call to a denied host"
wait_match "$T_AUDIT" '"url":"https://denied-grpc.test/t.T/Denied","proto":"h2","status":403.*"action":"deny"'
assert_no_match "$GRPC_LOG" '"Denied"' "a call to a denied host reached the server"

gw_stop || fail "gatewayd exited with status $GW_RC"
