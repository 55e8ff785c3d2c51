#!/bin/bash
# t-h2: HTTP/2 intercepted end to end.  The guest's ALPN is mirrored: an
# h2-only origin (h2_upstream.py) gets h2 and so does the guest, an
# HTTP/1.1-only origin (nginx) gets http/1.1 and so does the guest.  Per
# stream: 200, the policy's readable 403 as an h2 response, 421 for an
# :authority that is not the SNI (nothing reaches that other host), the
# secret injected per stream, one audit line per stream with "proto":"h2";
# large bodies both ways with digests; many concurrent streams (nghttp);
# a header list over the limit; forbidden fields, a CONTINUATION flood,
# rapid reset and a stream past the limit from a raw client, while another
# guest is served normally; h2c Upgrade and prior knowledge on port 80.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool
need_cmd nghttp
"$PY" -c 'import h2, hyperframe' 2>/dev/null || skip "python3-h2 is missing"

topo_up isolated --guests 2
inet_up
upstream_start
H2_IP=198.18.0.30	# h2_upstream.py: h2.test (ALPN h2 only)
OTHER_IP=198.18.0.31	# h2_upstream.py: other-h2.test, must see nothing
ip -n "$NS_INET" addr add "$H2_IP/24" dev inet0
ip -n "$NS_INET" addr add "$OTHER_IP/24" dev inet0
for ns in "$NS_GW" "${GUEST_NS[1]}" "${GUEST_NS[2]}"; do
	{ hosts_lines "$H2_IP" h2.test; hosts_lines "$OTHER_IP" other-h2.test; } \
	    >>"/etc/netns/$ns/hosts"
done
(cd "$T_DIR" && cp "$PKI/public-int.crt" "$PKI/public-int.key" . &&
    pki_leaf h2 public-int h2.test "DNS:h2.test,DNS:other-h2.test") ||
    error "cannot make the h2 leaf"
H2_LOG=$T_DIR/h2.log
OTHER_LOG=$T_DIR/other.log
start_bg h2up "$NS_INET" "$PY" "$T_LIB_DIR/h2_upstream.py" \
    --listen "$H2_IP:443" --cert "$T_DIR/h2.chain.pem" --key "$T_DIR/h2.key" \
    --log "$H2_LOG"
start_bg h2other "$NS_INET" "$PY" "$T_LIB_DIR/h2_upstream.py" \
    --listen "$OTHER_IP:443" --cert "$T_DIR/h2.chain.pem" \
    --key "$T_DIR/h2.key" --log "$OTHER_LOG"
wait_bg_port h2up "$NS_INET" 443 "$H2_IP"
wait_bg_port h2other "$NS_INET" 443 "$OTHER_IP"

ca_generate agents
REAL=h2_REALVALUE0123456789
umask 077
printf '%s\n' "$REAL" >"$T_DIR/h2.token"
gw_conf_tproxy "$T_DIR/gw.conf" 'default = "allow";
    rules = ( { action = "deny"; host = "h2.test"; path = "/denied"; } );' '
  secrets = (
    { name = "h2tok"; host = "h2.test"; path = "/secret/"; format = "Bearer %s";
      file = "'"$T_DIR"'/h2.token"; placeholder = "H2_PLACEHOLDER"; }
  );' 'limits = { max_header_bytes = 8192; };'
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

h2c() { guest_curl --http2 "$@"; }
h2raw() { guest_py "$T_LIB_DIR/h2_client.py" "$1" "${@:2}" --cafile "$T_GUEST_CA" \
    --host h2.test --sni h2.test; }

# --- mirroring: h2-only origin -> h2; HTTP/1.1-only origin -> http/1.1
assert_eq 2 "$(h2c -o /dev/null -w '%{http_version}' https://h2.test/hello)" \
    "HTTP version to the guest for an h2 origin"
wait_match "$H2_LOG" '":path", "/hello"'
assert_eq 1.1 "$(h2c -o /dev/null -w '%{http_version}' https://example.com/)" \
    "HTTP version to the guest for an HTTP/1.1-only origin"
assert_match "$NGINX_LOG" 'host="example.com" method="GET" uri="/" status=200'
assert_eq 1.1 "$(guest_curl --http1.1 -o /dev/null -w '%{http_version}' https://h2.test/h1)" \
    "a guest offering only http/1.1 to an h2-only origin"
wait_match "$H2_LOG" '"error": "not h2"'
# a name that does not resolve, from a guest offering h2: its leaf is
# minted once the lookup failed (not before: conn_tls.c), and it gets
# http/1.1 and the readable 502
h2c --resolve "nx-h2.test:443:$H2_IP" -o "$T_DIR/nx.txt" \
    -w '%{http_code} %{http_version}\n' https://nx-h2.test/x >"$T_DIR/nx.code" || true
assert_match "$T_DIR/nx.code" '^502 1.1$' "an h2 guest to a name that does not resolve"
assert_match "$T_DIR/nx.txt" 'resolve nx-h2.test' "the 502 names the lookup"

# --- per stream: 200, 403 (readable, as h2), 421
assert_eq 200 "$(h2c -o /dev/null -w '%{http_code}' https://h2.test/ok)" "allowed"
h2c -o "$T_DIR/403.txt" -w '%{http_code} %{http_version}\n' \
    https://h2.test/denied/x >"$T_DIR/403.code"
assert_match "$T_DIR/403.code" '^403 2$' "denied stream: an h2 403"
assert_match "$T_DIR/403.txt" 'Blocked by egress policy: https://h2.test/denied/x'
assert_no_match "$H2_LOG" '/denied' "a denied stream reached the upstream"
h2raw get /a --authority other-h2.test >"$T_DIR/421.json"
assert_match "$T_DIR/421.json" '"statuses": \{"1": 421\}' ":authority other than the SNI"
sleep 0.5
[ -s "$OTHER_LOG" ] && fail "other-h2.test received something: $(head -c 300 "$OTHER_LOG")"
assert_no_match "$H2_LOG" '"other-h2.test"' "a misdirected stream reached an upstream"
# curl turns a Host header into :authority
h2c -o /dev/null -w '%{http_code}' -H 'Host: other-h2.test' https://h2.test/curl-421 >"$T_DIR/421c.code" || true
assert_eq 421 "$(cat "$T_DIR/421c.code")" "curl --http2 with Host other than the SNI"
# on the same connection, streams to the SNI go on
h2raw get /same-1 /same-2 --authority h2.test >"$T_DIR/same.json"
assert_match "$T_DIR/same.json" '"statuses": \{"1": 200, "3": 200\}'

# --- secrets per stream, never indexed; one audit line per stream
guest_curl --http2 -o /dev/null -H 'Authorization: Bearer H2_PLACEHOLDER' \
    https://h2.test/secret/one -o /dev/null https://h2.test/plain/two
wait_match "$H2_LOG" '"/plain/two"'
assert_match "$H2_LOG" "\"/secret/one\".*\\[\"authorization\", \"Bearer $REAL\"\\]"
assert_no_match "$H2_LOG" "/plain/two\".*$REAL" "the secret went to a stream outside its rule"
assert_no_match "$H2_LOG" '/secret/one".*H2_PLACEHOLDER' "the placeholder went with the secret"
assert_match "$H2_LOG" '/plain/two".*"Bearer H2_PLACEHOLDER"' "outside the rule: the guest's value as sent"
assert_no_match "$T_AUDIT" "$REAL" "the audit log holds the secret"
wait_match "$T_AUDIT" '"url":"https://h2.test/secret/one","proto":"h2".*"secret":"h2tok"'
assert_match "$T_AUDIT" '"url":"https://h2.test/plain/two","proto":"h2","status":200'
assert_eq 1 "$(count_match "$T_AUDIT" '"url":"https://h2.test/secret/one"')" \
    "audit lines for one stream"

# --- large bodies both ways, with digests
h2c -o "$T_DIR/5m" https://h2.test/bytes/5000000
assert_eq "$("$PY" -c 'import sys,hashlib; b=bytes(i%251 for i in range(251*64)); d=(b*((5000000//len(b))+1))[:5000000]; print(hashlib.sha256(d).hexdigest())')" \
    "$(sha256_of "$T_DIR/5m")" "5 MB download over h2"
head -c 3000000 /dev/urandom >"$T_DIR/up.bin"
h2c --data-binary @"$T_DIR/up.bin" https://h2.test/upload >"$T_DIR/up.json"
assert_match "$T_DIR/up.json" "\"sha256\": \"$(sha256_of "$T_DIR/up.bin")\"" "3 MB upload over h2"
# trailers
h2c -o /dev/null -w '%{http_code}' https://h2.test/trailers >"$T_DIR/tr.code"
assert_eq 200 "$(cat "$T_DIR/tr.code")" "a response with trailers"
in_guest nghttp -v "https://h2.test/trailers" --cert /dev/null 2>&1 >"$T_DIR/tr.txt" || true

# --- nghttp: many concurrent streams on one connection; a header list
# over the limit gets 431 on its stream, the connection goes on
ngh() { in_guest env SSL_CERT_FILE="$T_GUEST_CA" nghttp "$@"; }
urls=()
for i in $(seq 1 60); do urls+=("https://h2.test/many/$i"); done
ngh -n -s -m 1 "${urls[@]}" >"$T_DIR/many.txt" 2>&1 || { cat "$T_DIR/many.txt" >&2; fail "nghttp, 60 streams"; }
wait_match "$T_AUDIT" '"url":"https://h2.test/many/60"'
assert_eq 60 "$(count_match "$T_AUDIT" '"url":"https://h2.test/many/[0-9]+","proto":"h2","status":200')" \
    "audit lines, one per concurrent stream"
# more response bytes on one connection than its 1 MiB window: the
# window must reopen for every byte the guest got, also for streams the
# upstream closed before the guest read them (it stalled at ~1000 here)
ngh -n -m 1500 https://h2.test/bytes/1024 >"$T_DIR/window.txt" 2>&1 &
ngh_pid=$!
wait_for 60 bash -c "! kill -0 $ngh_pid 2>/dev/null" || { kill "$ngh_pid"; fail "1500 x 1 KiB on one connection stalled"; }
wait "$ngh_pid" || { cat "$T_DIR/window.txt" >&2; fail "nghttp, 1500 x 1 KiB"; }
wait_match "$T_AUDIT" '"url":"https://h2.test/bytes/1024"' 5
wait_for 10 bash -c "[ \$(grep -c '\"url\":\"https://h2.test/bytes/1024\"' '$T_AUDIT') -ge 1500 ]" ||
    fail "audit lines for 1500 streams: $(count_match "$T_AUDIT" '"url":"https://h2.test/bytes/1024"')"
ngh -v -H "x-big: $(head -c 9000 /dev/zero | tr '\0' a)" https://h2.test/big \
    https://h2.test/after-big >"$T_DIR/big.txt" 2>&1 || true
assert_match "$T_DIR/big.txt" ':status: 431' "a header list over max_header_bytes"
assert_no_match "$H2_LOG" '"/big"' "an over-limit request reached the upstream"

# --- a hostile raw client, while guest 2 is served normally
for bad in "connection=close" "te=gzip" "transfer-encoding=chunked" "X-Upper=1"; do
	h2raw forbidden "$bad" >"$T_DIR/forbidden.json"
	assert_match "$T_DIR/forbidden.json" '"resets": \{"1": 1\}' "forbidden field $bad: PROTOCOL_ERROR"
done
assert_no_match "$H2_LOG" '/forbidden' "a forbidden request reached the upstream"
on_guest 2 curl -q -sS --http2 --cacert "$T_GUEST_CA" --max-time 20 -o /dev/null \
    https://h2.test/bystander/1 &
bystander=$!
h2raw continuation 40 --seconds 5 >"$T_DIR/cont.json"
assert_match "$T_DIR/cont.json" '"goaway": 11' "CONTINUATION flood: GOAWAY ENHANCE_YOUR_CALM"
h2raw rapid-reset 1500 --seconds 5 >"$T_DIR/rst.json"
assert_match "$T_DIR/rst.json" '"goaway": [0-9]+' "rapid reset: GOAWAY"
h2raw open 101 --seconds 3 >"$T_DIR/open.json"
assert_match "$T_DIR/open.json" '"201": 7|"goaway": 1' "the stream past 100: refused"
wait "$bystander" || fail "guest 2 was not served during the floods"
wait_match "$H2_LOG" '/bystander/1'

# --- port 80: h2c Upgrade is not honoured (the request goes on as
# HTTP/1.1), prior-knowledge h2 is refused with a clear error
guest_curl --http2 -o /dev/null -w '%{http_version} %{http_code}' \
    http://echo.test/h2c >"$T_DIR/h2c.txt"
assert_eq "1.1 200" "$(cat "$T_DIR/h2c.txt")" "h2c Upgrade on port 80"
assert_no_match "$UPSTREAM_LOG" '"[Uu]pgrade", "h2c"' "Upgrade: h2c reached the upstream"
guest_curl --http2-prior-knowledge -o "$T_DIR/pk.txt" -w '%{http_code}' \
    http://echo.test/pk >"$T_DIR/pk.code" 2>"$T_DIR/pk.err" || true
assert_match "$T_DIR/pk.err" 'HTTP_1_1_REQUIRED|HTTP/1.1 required|HTTP2|HTTP/2' \
    "prior-knowledge h2 on port 80 fails clearly"
wait_match "$T_AUDIT" "\"status\":505.*prior-knowledge HTTP/2 on port 80"
assert_no_match "$UPSTREAM_LOG" '"/pk"' "prior-knowledge h2 reached the upstream"

gw_stop || fail "gatewayd exited with status $GW_RC"
