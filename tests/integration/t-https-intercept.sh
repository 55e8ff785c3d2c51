#!/bin/bash
# t-https-intercept: TLS interception (bumping) in Slicer's bridge layout
# with nat redirect capture.  The guest trusts only the group CA, as a
# Slicer VM does, and has no proxy settings.  Bumped 200 with the full URL
# logged, denied host and path as readable 403s over TLS, splice untouched,
# bad upstream certificates -> 502 with nothing forwarded, Host != SNI ->
# 421, no-SNI IP literal, a ClientHello split across segments, h2 offered
# -> http/1.1, large bodies both ways, many requests per connection, git
# over https, openssl s_client and Python's ssl as clients, CA rotation
# while a connection is open, the egress drop list applied to the address
# the gateway dials for an SNI (bumped and spliced).
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool

topo_up bridge --guests 1 --ipv6
inet_up
# A simulated-internet host on the group's egress drop list, with names
# that the gateway resolves to it.
DROP_IP=198.18.0.77
ip -n "$NS_INET" addr add "$DROP_IP/24" dev inet0
hosts_lines "$DROP_IP" dropped.test dropped-pin.test >>"/etc/netns/$NS_GW/hosts"
upstream_start --listen "$DROP_IP:443:tls"
git_start
ca_generate agents
cat >"$T_DIR/gw.conf" <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$T_DIR/control.sock";
audit = { path = "$T_AUDIT"; format = "json"; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET", "$T_GUEST_NET6" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "redirect"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  egress = ( { action = "drop"; cidr = "$DROP_IP/32"; } );
  policy = { default = "allow"; rules = (
    { action = "deny"; host = ".wikipedia.org"; },
    { action = "splice"; host = "pinned.test"; },
    { action = "splice"; host = "dropped-pin.test"; },
    { action = "deny"; host = "news.ycombinator.com"; path = "/admin"; }
  ); }; } );
EOF
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

# The seed's walkthrough: allowed 200, allowed 200, denied 403 over TLS.
assert_eq 200 "$(guest_code https://example.com/)" "example.com"
assert_eq 200 "$(guest_code https://news.ycombinator.com/)" "news.ycombinator.com"
assert_eq 403 "$(guest_code https://en.wikipedia.org/wiki/Main_Page)" "en.wikipedia.org"
guest_curl https://en.wikipedia.org/wiki/Main_Page >"$T_DIR/403.txt" || true
assert_match "$T_DIR/403.txt" 'Blocked by egress policy: https://en.wikipedia.org/wiki/Main_Page'
wait_match "$T_AUDIT" '"url":"https://en.wikipedia.org/wiki/Main_Page"'
assert_match "$T_AUDIT" '"url":"https://example.com/".*"status":200'
assert_no_match "$NGINX_LOG" 'host="en.wikipedia.org"' "denied request forwarded"
# IPv6 through nat redirect (the original destination from
# IP6T_SO_ORIGINAL_DST)
assert_eq 200 "$(guest_code https://example.com/v6 -6)" "bumped over IPv6, redirect mode"
wait_match "$T_AUDIT" '"client":"fd00:66::2".*"url":"https://example.com/v6"'

# a path rule inside an allowed host
assert_eq 403 "$(guest_code https://news.ycombinator.com/admin/x)" "denied path"
assert_eq 200 "$(guest_code https://news.ycombinator.com/item?id=1)" "allowed path"
wait_match "$T_AUDIT" '"url":"https://news.ycombinator.com/item\?id=1"'

# The guest sees a leaf for the SNI from the group CA; the leaf names it
echo | in_guest openssl s_client -connect example.com:443 -servername example.com \
    -CAfile "$T_CA_CRT" -verify_return_error >"$T_DIR/sclient.txt" 2>&1 ||
    fail "openssl s_client does not verify the minted leaf"
assert_match "$T_DIR/sclient.txt" 'issuer=CN = agents egress CA'
assert_match "$T_DIR/sclient.txt" 'Verify return code: 0'

# The guest can resume its TLS session with the gateway (TLS 1.3 ticket)
(sleep 1) | in_guest openssl s_client -connect example.com:443 -servername example.com \
    -CAfile "$T_CA_CRT" -sess_out "$T_DIR/sess.pem" >"$T_DIR/sess1.txt" 2>&1 || true
assert_match "$T_DIR/sess1.txt" '^New, TLSv1.3' "first handshake"
in_guest openssl s_client -connect example.com:443 -servername example.com \
    -CAfile "$T_CA_CRT" -sess_in "$T_DIR/sess.pem" </dev/null >"$T_DIR/sess2.txt" 2>&1 || true
assert_match "$T_DIR/sess2.txt" '^Reused, TLSv1.3' "resumed handshake"

# Python's ssl, keep-alive: several requests on one connection, each logged
guest_client get https://echo.test/ka --n 5 >"$T_DIR/ka.json"
assert_eq 5 "$(grep -c '"status": 200' "$T_DIR/ka.json")" "keep-alive responses over TLS"
wait_match "$T_AUDIT" '"url":"https://echo.test/ka"'
assert_eq 5 "$(count_match "$T_AUDIT" '"url":"https://echo.test/ka"')" "each request logged"

# Splice: bytes untouched, the guest sees the real certificate
T_GUEST_CA=$PKI/public-root.crt guest_curl -o /dev/null -w '%{http_code}' \
    https://pinned.test/64k >"$T_DIR/pinned.code" || fail "spliced flow failed"
assert_eq 200 "$(cat "$T_DIR/pinned.code")" "spliced request with the real chain"
T_GUEST_CA=$PKI/public-root.crt guest_curl -o "$T_DIR/pinned.64k" https://pinned.test/64k
assert_eq "$(www_sha 64k)" "$(sha256_of "$T_DIR/pinned.64k")" "spliced body"
assert_eq 000 "$(guest_code https://pinned.test/64k)" "a spliced flow is not bumped"
wait_match "$T_AUDIT" '"kind":"tunnel".*"sni":"pinned.test"'

# The egress drop list covers what the gateway dials: an SNI naming the
# dropped host sent to another address is refused (bumped: a readable 403;
# spliced: a TLS alert), and the dropped host sees nothing.
eline=$(grep -n "cidr = \"$DROP_IP/32\"" "$T_DIR/gw.conf" | cut -d: -f1)
assert_eq 403 "$(guest_code https://dropped.test/bumped --resolve "dropped.test:443:$INET_ECHO_IP")" "SNI naming a dropped address (bumped)"
guest_curl https://dropped.test/bumped2 --resolve "dropped.test:443:$INET_ECHO_IP" >"$T_DIR/drop.txt" || true
assert_match "$T_DIR/drop.txt" "egress drop, config line $eline" "the 403 names the egress entry"
wait_match "$T_AUDIT" "\"url\":\"https://dropped.test/bumped\".*\"status\":403.*\"action\":\"deny\",\"rule\":\"egress drop, config line $eline\""
T_GUEST_CA=$PKI/public-root.crt guest_code https://dropped-pin.test/spliced \
    --resolve "dropped-pin.test:443:$INET_ECHO_IP" >"$T_DIR/drop-pin.code"
assert_eq 000 "$(cat "$T_DIR/drop-pin.code")" "SNI naming a dropped address (spliced)"
wait_match "$T_AUDIT" "\"kind\":\"tunnel\".*\"sni\":\"dropped-pin.test\".*\"action\":\"deny\",\"rule\":\"egress drop, config line $eline\""
assert_no_match "$UPSTREAM_LOG" "\"listen\": \"$DROP_IP:" "a dropped address was dialled"

# Upstream certificate problems: 502 naming the host and the reason, and
# nothing reaches the upstream.
for h in bad.test expired.test wrongname.test selfsigned.test; do
	assert_eq 502 "$(guest_code "https://$h/secret-$h")" "$h"
	assert_no_match "$NGINX_LOG" "uri=\"/secret-$h\"" "request forwarded to $h"
done
guest_curl https://expired.test/ >"$T_DIR/502.txt" || true
assert_match "$T_DIR/502.txt" 'expired.test could not be verified.*expired'
guest_curl https://wrongname.test/ >"$T_DIR/502b.txt" || true
assert_match "$T_DIR/502b.txt" 'wrongname.test could not be verified.*mismatch'
wait_match "$T_AUDIT" '"verify_error":"certificate has expired"'

# Domain fronting: Host (or absolute-form authority) must match the SNI
code=$(guest_code https://example.com/front -H 'Host: en.wikipedia.org')
assert_eq 421 "$code" "Host differs from SNI"
printf 'GET https://news.ycombinator.com/ HTTP/1.1\r\nHost: news.ycombinator.com\r\nConnection: close\r\n\r\n' |
    guest_client raw example.com 443 --tls --sni example.com >"$T_DIR/abs.txt"
assert_match "$T_DIR/abs.txt" '^HTTP/1.1 421 ' "absolute-form authority differs from SNI"
wait_match "$T_AUDIT" '"status":421'

# No SNI (an IP literal): the leaf carries the IP and the upstream is
# verified by IP (the sites certificate has the IP in its SAN).
assert_eq 200 "$(guest_code "https://$INET_MAIN_IP/ip-literal")" "IP literal, IP SAN upstream"
assert_match "$NGINX_LOG" 'uri="/ip-literal"'
echo | in_guest openssl s_client -connect "$INET_MAIN_IP:443" -noservername \
    -CAfile "$T_CA_CRT" >"$T_DIR/ip.txt" 2>&1 || true
in_guest openssl x509 -noout -ext subjectAltName <"$T_DIR/ip.txt" 2>/dev/null |
    grep -q "IP Address:$INET_MAIN_IP" || fail "the no-SNI leaf lacks the IP SAN"

# A ClientHello written in 50-byte TCP segments is still peeked whole
guest_client tls-split example.com 443 --sni example.com --split 50 --path /split >"$T_DIR/split.txt"
assert_match "$T_DIR/split.txt" 'HTTP/1.1 200'
assert_match "$T_DIR/split.txt" 'agents egress CA'

# A client offering h2 gets http/1.1 (the one protocol proxied)
out=$(guest_curl --http2 -o /dev/null -w '%{http_version}' https://example.com/)
assert_eq 1.1 "$out" "negotiated HTTP version"

# Large bodies both ways through TLS
guest_curl -o "$T_DIR/10m" https://example.com/10m
assert_eq "$(www_sha 10m)" "$(sha256_of "$T_DIR/10m")" "10m download through TLS"
head -c 5000000 /dev/urandom >"$T_DIR/up.bin"
guest_curl --data-binary @"$T_DIR/up.bin" https://echo.test/upload >"$T_DIR/up.json"
assert_match "$T_DIR/up.json" "$(sha256_of "$T_DIR/up.bin")" "5 MB upload through TLS"
guest_curl -H 'Transfer-Encoding: chunked' --data-binary @"$T_DIR/up.bin" \
    https://echo.test/upload-chunked >"$T_DIR/upc.json"
assert_match "$T_DIR/upc.json" "$(sha256_of "$T_DIR/up.bin")" "chunked upload through TLS"

# WebSocket over TLS
guest_client ws wss://ws.test/chat --msg hello >"$T_DIR/wss.json"
assert_match "$T_DIR/wss.json" '101'
# ... with strict RFC 6455 clients: python3-websockets and Node's ws
ws_strict_echo wss://ws.test

# git over https (smart HTTP): clone through the gateway
in_guest env GIT_SSL_CAINFO="$T_CA_CRT" git clone -q https://git.test/repo.git "$T_DIR/clone" ||
    fail "git clone through the gateway failed"
assert_eq "hello from git.test" "$(cat "$T_DIR/clone/README")" "cloned content"
wait_match "$T_AUDIT" '"url":"https://git.test/repo.git/info/refs\?service=git-upload-pack"'

# CA rotation while a connection is open: the open connection keeps
# working, new handshakes get the new CA.
old_fp=$(openssl x509 -noout -fingerprint -sha256 -in "$T_CA_CRT")
cp "$T_CA_CRT" "$T_DIR/old-ca.crt"
guest_py - "$T_DIR/old-ca.crt" "$T_DIR/rot.out" <<'PY' &
import http.client, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[1])
c = http.client.HTTPSConnection("echo.test", 443, context=ctx, timeout=20)
out = open(sys.argv[2], "w")
c.request("GET", "/before"); r = c.getresponse(); r.read(); out.write("before %d\n" % r.status); out.flush()
time.sleep(3)
c.request("GET", "/after"); r = c.getresponse(); r.read(); out.write("after %d\n" % r.status); out.flush()
PY
rot_pid=$!
wait_for 5 grep -q before "$T_DIR/rot.out" || fail "the long connection did not start"
ca_tool generate agents --dir "$T_DIR/ca" --force >/dev/null
new_fp=$(openssl x509 -noout -fingerprint -sha256 -in "$T_CA_CRT")
assert_ne "$old_fp" "$new_fp" "ca-tool made a new CA"
wait_for 5 grep -q "CA files changed" "$GW_LOG" || fail "gatewayd did not notice the new CA"
wait "$rot_pid" || fail "the open connection broke during rotation"
assert_match "$T_DIR/rot.out" 'after 200' "open connection after rotation"
echo | in_guest openssl s_client -connect example.com:443 -servername example.com \
    -CAfile "$T_CA_CRT" -verify_return_error >"$T_DIR/sclient2.txt" 2>&1 ||
    fail "new handshake not signed by the new CA"
T_GUEST_CA=$T_DIR/old-ca.crt
assert_eq 000 "$(guest_code https://example.com/)" "old CA no longer used for new handshakes"

# A CA file replaced by something that does not load never takes
# interception away: the running CA stays in use, the log says why.
cp "$T_CA_CRT" "$T_DIR/good-ca.crt"
echo "not a certificate" >"$T_CA_CRT.tmp"
mv "$T_CA_CRT.tmp" "$T_CA_CRT"
wait_for 5 grep -q "does not load any more" "$GW_LOG" ||
    fail "a broken CA file was not refused"
T_GUEST_CA=$T_DIR/good-ca.crt
assert_eq 200 "$(guest_code https://example.com/after-broken-ca)" "interception with the running CA"

gw_stop || fail "gatewayd exited with status $GW_RC"
