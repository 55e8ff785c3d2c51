#!/bin/bash
# t-http-core: gatewayd on port 80, Slicer's isolated layout, tproxy capture
# installed by `gatewayd rules apply`.  Allowed and denied hosts, keep-alive
# with every request logged, chunked upload, 10 MB download intact,
# WebSocket only after policy and 101, smuggling attempts refused, a Host
# that names an allowed site sent to another address is carried to the
# site's real address, a private destination refused, the egress drop
# list applied to the address the gateway dials, audit lines.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool

topo_up isolated --guests 1
inet_up
# A simulated-internet host on the group's egress drop list, with a name
# that the gateway resolves to it.
DROP_IP=198.18.0.77
ip -n "$NS_INET" addr add "$DROP_IP/24" dev inet0
hosts_lines "$DROP_IP" dropped.test >>"/etc/netns/$NS_GW/hosts"
upstream_start --listen "$DROP_IP:80"
ca_generate agents
cat >"$T_DIR/gw.conf" <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$T_DIR/control.sock";
audit = { path = "$T_AUDIT"; format = "squid"; };
limits = { upstream_idle_timeout = "500ms"; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  egress = ( { action = "drop"; cidr = "$DROP_IP/32"; } );
  policy = { default = "allow"; rules = (
    { action = "deny"; host = ".wikipedia.org"; },
    { action = "deny"; host = "site-a.test"; path = "/private/"; },
    { action = "deny"; cidr = "$INET_BAD_IP/32"; name = "no-bad-host"; }
  ); }; } );
EOF
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

# allowed: served, body intact, logged with the full URL
guest_curl -o "$T_DIR/10m" http://example.com/10m
assert_eq "$(www_sha 10m)" "$(sha256_of "$T_DIR/10m")" "10m body through the gateway"
wait_match "$T_AUDIT" ' TCP_MISS/200 [0-9]+ GET http://example.com/10m - HIER_DIRECT/198.18.0.10 '

# denied: a readable 403 that names the host and the policy
code=$(guest_code http://en.wikipedia.org/wiki/Main_Page)
assert_eq 403 "$code" "denied host"
guest_curl http://en.wikipedia.org/wiki/Main_Page >"$T_DIR/403.txt" || true
assert_match "$T_DIR/403.txt" 'Blocked by egress policy: http://en.wikipedia.org/wiki/Main_Page'
wait_match "$T_AUDIT" ' TCP_DENIED/403 [0-9]+ GET http://en.wikipedia.org/wiki/Main_Page '
assert_no_match "$NGINX_LOG" 'host="en.wikipedia.org"' "upstream saw the denied request"

# a path rule: one path denied, the rest of the host allowed
assert_eq 403 "$(guest_code http://site-a.test/private/x)" "denied path"
assert_eq 200 "$(guest_code http://site-a.test/public/x)" "allowed path"
# a path with no single reading is refused where a path rule applies
# (Tomcat serves /;x/private/x as /private/x) and never reaches the site;
# a host without path rules gets it as sent
guest_curl --path-as-is 'http://site-a.test/;x/private/x' >"$T_DIR/amb.txt" || true
assert_match "$T_DIR/amb.txt" "\\(ambiguous-path: ';' path parameter, GET\\)" "ambiguous path page"
assert_eq 403 "$(guest_code 'http://site-a.test/public/..;/private/x' --path-as-is)" "..; under a path rule"
assert_eq 403 "$(guest_code 'http://site-a.test//private/x' --path-as-is)" "// under a path rule"
assert_eq 403 "$(guest_code 'http://site-a.test/private%2Fx')" "%2F against the rule's /"
assert_eq 403 "$(guest_code 'http://site-a.test/%70rivate/x')" "encoded letter, judged decoded"
assert_eq 200 "$(guest_code 'http://site-a.test/public/a%2Fb')" "%2F away from the rule"
assert_eq 200 "$(guest_code 'http://example.com/a/..;/b;c//d' --path-as-is)" "no path rule: as sent"
wait_match "$NGINX_LOG" 'host="example.com" method="GET" uri="/a/\.\.;/b;c//d"'
wait_match "$NGINX_LOG" 'host="site-a.test" method="GET" uri="/public/a%2Fb"'
assert_no_match "$NGINX_LOG" 'uri="(/;x|/public/\.\.;|//private|/private%2F|/%70rivate)' "a refused path reached the site"

# keep-alive: three requests on one connection, each judged and logged
guest_client get http://echo.test/ka --n 3 >"$T_DIR/ka.json"
assert_eq 3 "$(grep -c '"status": 200' "$T_DIR/ka.json")" "keep-alive responses"
wait_match "$T_AUDIT" 'GET http://echo.test/ka'
assert_eq 3 "$(count_match "$T_AUDIT" 'GET http://echo.test/ka ')" "keep-alive requests logged"
# a denied request in the middle of a keep-alive connection is refused alone
guest_curl -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} ' \
    http://site-a.test/a http://site-a.test/private/b http://site-a.test/c \
    >"$T_DIR/mixed.txt"
assert_eq "200 403 200 " "$(cat "$T_DIR/mixed.txt")" "allow, deny, allow on one connection"

# an upstream that closes its kept-alive connection just as the next
# request arrives: that body-less request is sent again, once, on a new
# upstream connection, and the guest never sees the race
guest_curl -o /dev/null -o /dev/null -w '%{http_code} ' \
    http://echo.test/idle-close http://echo.test/after-idle \
    >"$T_DIR/idle.txt"
assert_eq "200 200 " "$(cat "$T_DIR/idle.txt")" "request after the upstream closed its idle connection"

# an idle guest connection lets its upstream go after
# upstream_idle_timeout; its next request gets a new upstream connection
guest_py - >"$T_DIR/idle-up.txt" <<'PY'
import http.client, time
c = http.client.HTTPConnection("echo.test", 80, timeout=10)
for delay in (0, 1.5, 0):
    time.sleep(delay)
    c.request("GET", "/idle-up"); r = c.getresponse(); r.read()
    print(r.status, r.getheader("X-Upstream-Conn"))
PY
assert_eq 3 "$(grep -c '^200 ' "$T_DIR/idle-up.txt")" "requests around an upstream idle close"
assert_eq 2 "$(cut -d' ' -f2 "$T_DIR/idle-up.txt" | sort -u | wc -l)" "upstream connections used (one closed while idle)"

# response framing: chunked, no-body statuses, HEAD, HTTP/1.0 client
guest_curl -o "$T_DIR/chunked.bin" "http://echo.test/bytes/300000?chunked"
assert_eq 300000 "$(stat -c %s "$T_DIR/chunked.bin")" "chunked response length"
guest_curl -o /dev/null -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} ' \
    http://echo.test/status/204 http://echo.test/status/304 \
    http://echo.test/status/404 http://echo.test/after-statuses >"$T_DIR/statuses.txt"
assert_eq "204 304 404 200 " "$(cat "$T_DIR/statuses.txt")" "no-body statuses on one connection"
guest_curl -I -o /dev/null -w '%{http_code} ' http://echo.test/bytes/5000 \
    --next -o "$T_DIR/after-head.json" http://echo.test/after-head >"$T_DIR/head.txt"
assert_eq "200 " "$(cat "$T_DIR/head.txt")" "HEAD with a Content-Length"
assert_match "$T_DIR/after-head.json" '/after-head' "request after a HEAD on the same connection"
guest_curl -0 -o "$T_DIR/http10.bin" http://echo.test/bytes/70000
assert_eq 70000 "$(stat -c %s "$T_DIR/http10.bin")" "HTTP/1.0 client"

# transfer codings are forwarded as the upstream listed them (a body
# coded gzip and then chunked arrives declared so), and close-delimited
# codings too
raw_get() { # NAME REQUEST-LINE-VERSION PATH [EXTRA-HEADER-LINE]
	printf 'GET %s %s\r\nHost: echo.test\r\n%b\r\n' "$3" "$2" "${4:-}" |
	    guest_client raw "$INET_ECHO_IP" 80 --timeout 5 --expect-close \
	    >"$T_DIR/raw-$1.bin" || fail "$1: the gateway did not close the connection"
	sed -n '1,/^\r$/p' "$T_DIR/raw-$1.bin" | tr -d '\r' >"$T_DIR/raw-$1.head"
}
raw_get gzip-chunked HTTP/1.1 /te/gzip-chunked 'Connection: close\r\n'
assert_match "$T_DIR/raw-gzip-chunked.head" '^HTTP/1.1 200 ' "gzip, chunked status"
assert_match "$T_DIR/raw-gzip-chunked.head" '^Transfer-Encoding: gzip, chunked$' "gzip, chunked forwarded"
guest_curl --tr-encoding -o "$T_DIR/te.bin" http://echo.test/te/gzip-chunked
assert_eq "$(guest_curl -o - 'http://echo.test/bytes/1000' | sha256sum)" \
    "$(sha256sum <"$T_DIR/te.bin")" "gzip, chunked body decoded by curl"
raw_get gzip HTTP/1.1 /te/gzip
assert_match "$T_DIR/raw-gzip.head" '^Transfer-Encoding: gzip$' "close-delimited gzip forwarded"
assert_match "$T_DIR/raw-gzip.head" '^Connection: close$' "close-delimited gzip"
# an HTTP/1.0 guest cannot take chunked: it gets the body de-chunked,
# delimited by the close, without Transfer-Encoding (even if it asked
# for keep-alive); a coding it cannot be told of is a 502
raw_get http10-chunked HTTP/1.0 '/bytes/300000?chunked' 'Connection: keep-alive\r\n'
assert_match "$T_DIR/raw-http10-chunked.head" '^HTTP/1.1 200 ' "HTTP/1.0 guest, chunked response"
assert_no_match "$T_DIR/raw-http10-chunked.head" '^(Transfer-Encoding|Content-Length):' "framing sent to an HTTP/1.0 guest"
assert_match "$T_DIR/raw-http10-chunked.head" '^Connection: close$' "HTTP/1.0 guest told of the close"
assert_eq "$(guest_curl -o - 'http://echo.test/bytes/300000' | sha256sum)" \
    "$(sed '1,/^\r$/d' "$T_DIR/raw-http10-chunked.bin" | sha256sum)" "de-chunked body for HTTP/1.0"
guest_curl -0 -o "$T_DIR/http10-chunked.bin" 'http://echo.test/bytes/300000?chunked'
assert_eq 300000 "$(stat -c %s "$T_DIR/http10-chunked.bin")" "curl --http1.0, chunked response"
raw_get http10-gzip HTTP/1.0 /te/gzip-chunked
assert_match "$T_DIR/raw-http10-gzip.head" '^HTTP/1.1 502 ' "gzip coding for an HTTP/1.0 guest"
# ... and no interim 1xx response (RFC 9110 15.2), even if the upstream
# sends one (upstream.py answers any Expect: 100-continue)
raw_get http10-100 HTTP/1.0 /http10-expect 'Expect: 100-continue\r\nContent-Length: 0\r\n'
assert_match "$T_DIR/raw-http10-100.head" '^HTTP/1.1 200 ' "HTTP/1.0 guest: the final response first"

# chunked upload streamed through, digest intact
head -c 3000000 /dev/urandom >"$T_DIR/up.bin"
guest_curl -H 'Transfer-Encoding: chunked' --data-binary @"$T_DIR/up.bin" \
    http://echo.test/upload >"$T_DIR/up.json"
assert_match "$T_DIR/up.json" "$(sha256_of "$T_DIR/up.bin")" "chunked upload digest"
# a request body's codings reach the upstream as the guest listed them
printf 'hello' | gzip -n >"$T_DIR/up.gz"
guest_curl -H 'Transfer-Encoding: gzip, chunked' --data-binary @"$T_DIR/up.gz" \
    http://echo.test/upload-gzip >"$T_DIR/up-gz.json"
tr -d '\n ' <"$T_DIR/up-gz.json" >"$T_DIR/up-gz.flat"
assert_match "$T_DIR/up-gz.flat" '"Transfer-Encoding","gzip,chunked"' "request codings forwarded"
# Expect: 100-continue with a Content-Length body
guest_curl -H 'Expect: 100-continue' --data-binary @"$T_DIR/up.bin" \
    http://echo.test/upload100 >"$T_DIR/up100.json"
assert_match "$T_DIR/up100.json" "$(sha256_of "$T_DIR/up.bin")" "100-continue upload digest"

# WebSocket: upgrade passes policy, 101 from upstream, then an opaque tunnel
guest_client ws ws://ws.test/chat --msg hello --msg "second message" >"$T_DIR/ws.json"
assert_match "$T_DIR/ws.json" '101'
wait_match "$T_AUDIT" '/101 [0-9]+ GET http://ws.test/chat'
# strict RFC 6455 clients check the 101 itself (Upgrade: websocket,
# Connection: upgrade, Sec-WebSocket-Accept): python3-websockets, Node's ws
ws_strict_echo ws://ws.test
# a 101 to another protocol than the one asked for is not a WebSocket
printf 'GET /other-proto HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' |
    guest_client raw "$INET_ECHO_IP" 80 --timeout 3 >"$T_DIR/ws-other.txt"
assert_match "$T_DIR/ws-other.txt" '^HTTP/1.1 502 ' "101 with another protocol"
# ... and a denied upgrade never reaches the upstream
guest_client ws ws://en.wikipedia.org/ws --msg x >"$T_DIR/ws-denied.json" 2>&1 || true
assert_match "$T_DIR/ws-denied.json" '403'

# The guest names an allowed site but sends it to another address: the
# gateway dials the address it resolved for the name, not the guest's.
out=$(guest_curl --resolve "example.com:80:$INET_ECHO_IP" http://example.com/where)
assert_eq "site=example.com uri=/where" "$out" "Host/IP mismatch goes to the real site"
assert_no_match "$UPSTREAM_LOG" '/where' "the guest's chosen address was dialled"

# A private destination is refused unless a rule allows it explicitly
assert_eq 403 "$(guest_code http://internal.test/)" "private-range destination"
wait_match "$T_AUDIT" 'TCP_DENIED/403 [0-9]+ GET http://internal.test/'

# Smuggling and malformed heads: 400 and close, nothing forwarded
smuggle() { # NAME REQUEST-BYTES
	printf "$2" | guest_client raw "$INET_ECHO_IP" 80 >"$T_DIR/sm-$1.txt"
	assert_match "$T_DIR/sm-$1.txt" '^HTTP/1.1 400 ' "smuggling case $1"
}
smuggle cl-te 'POST /s1 HTTP/1.1\r\nHost: echo.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
smuggle two-cl 'POST /s2 HTTP/1.1\r\nHost: echo.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde'
smuggle bad-chunk 'POST /s3 HTTP/1.1\r\nHost: echo.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n'
# a first chunk size of 2^64, in the same write as the head
smuggle chunk-2e64 'POST /s7 HTTP/1.1\r\nHost: echo.test\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n'
smuggle space-colon 'GET /s4 HTTP/1.1\r\nHost : echo.test\r\n\r\n'
smuggle obs-fold 'GET /s5 HTTP/1.1\r\nHost: echo.test\r\nX-A: a\r\n b\r\n\r\n'
smuggle bare-lf 'GET /s6 HTTP/1.1\nHost: echo.test\n\n'
# the framing already buffered with the head (here the first chunk size
# line) is checked before the head leaves: the upstream gets nothing of
# those requests, not even a head (upstream.py logs a head whose body
# then fails)
assert_no_match "$UPSTREAM_LOG" '/s[1-7]"' "a malformed request reached the upstream"
# A Connection header may not nominate a header the gateway frames or
# judges by: were Content-Length dropped as hop-by-hop while the body was
# still sent, the upstream would read the body as a request of its own,
# never judged nor logged.  Head, body and the next request in one write.
printf 'GET /a HTTP/1.1\r\nHost: echo.test\r\nConnection: Content-Length\r\nContent-Length: 32\r\n\r\nGET /hidden HTTP/1.1\r\nX-Ignore: GET /b HTTP/1.1\r\nHost: echo.test\r\n\r\n' |
    guest_client raw --timeout 3 "$INET_ECHO_IP" 80 >"$T_DIR/conn-cl.txt"
assert_no_match "$UPSTREAM_LOG" '"/hidden"' "a request hidden in a body reached the upstream"
assert_match "$T_DIR/conn-cl.txt" '^HTTP/1.1 400 ' "Connection: Content-Length"
for cl in Transfer-Encoding Host; do
	printf 'GET /conn-%s HTTP/1.1\r\nHost: echo.test\r\nConnection: %s\r\n\r\n' "$cl" "$cl" |
	    guest_client raw --timeout 3 "$INET_ECHO_IP" 80 >"$T_DIR/conn-$cl.txt"
	assert_match "$T_DIR/conn-$cl.txt" '^HTTP/1.1 400 ' "Connection: $cl"
done
assert_no_match "$UPSTREAM_LOG" '"/(a|conn-[A-Za-z-]+)"' "a request with a Connection-nominated framing header reached the upstream"
# An Upgrade request with a body: nothing moves before a 101, so the body
# would stay unsent; an upstream that answers without reading it would
# then take the gateway's next head as that body, and the rest of that
# head (here an X-Pad value) as a request of its own.
printf 'GET /answer-first HTTP/1.1\r\nHost: echo.test\r\nConnection: Upgrade\r\nUpgrade: foo\r\nContent-Length: 42\r\n\r\nGET /b1 HTTP/1.1\r\nHost: echo.test\r\nX-Pad: GET /hidden-up HTTP/1.1\r\n\r\n' |
    guest_client raw --timeout 3 "$INET_ECHO_IP" 80 >"$T_DIR/up-body.txt"
assert_no_match "$UPSTREAM_LOG" '"/hidden-up"' "a request hidden behind an Upgrade body reached the upstream"
assert_match "$T_DIR/up-body.txt" '^HTTP/1.1 400 ' "Upgrade with a body"
assert_no_match "$UPSTREAM_LOG" '"/answer-first"' "an Upgrade request with a body reached the upstream"
# ... and the response head the guest gets carries the framing the gateway
# streams by, whatever the upstream's Connection names (it named its
# Content-Length: the guest would have read until close)
printf 'GET /conn-cl HTTP/1.1\r\nHost: echo.test\r\n\r\nGET /after-conn-cl HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n' |
    guest_client raw --timeout 3 "$INET_ECHO_IP" 80 | tr -d '\r' >"$T_DIR/conn-cl-resp.txt"
sed '/^$/q' "$T_DIR/conn-cl-resp.txt" >"$T_DIR/conn-cl-head.txt"
assert_match "$T_DIR/conn-cl-head.txt" '^Content-Length: [0-9]+$' "a response whose Connection names its Content-Length"
assert_eq 2 "$(count_match "$T_DIR/conn-cl-resp.txt" '^HTTP/1.1 200 ')" "responses on the connection"
# an oversized head gets 431
{ printf 'GET /big HTTP/1.1\r\nHost: echo.test\r\nX-Big: '; head -c 40000 /dev/zero | tr '\0' a; printf '\r\n\r\n'; } |
    guest_client raw "$INET_ECHO_IP" 80 >"$T_DIR/big.txt"
assert_match "$T_DIR/big.txt" '^HTTP/1.1 431 '

# The egress drop list covers what the gateway dials, not only what the
# guest sends to: a Host naming the dropped host (or its address) sent to
# another address is refused, never carried there.
eline=$(grep -n "cidr = \"$DROP_IP/32\"" "$T_DIR/gw.conf" | cut -d: -f1)
assert_eq 000 "$(guest_code "http://$DROP_IP/direct" --connect-timeout 2)" "direct to a dropped address"
assert_eq 403 "$(guest_code http://dropped.test/by-name --resolve "dropped.test:80:$INET_ECHO_IP")" "Host naming a dropped address"
guest_curl -H "Host: $DROP_IP" "http://$INET_ECHO_IP/by-literal" >"$T_DIR/drop-lit.txt" || true
assert_match "$T_DIR/drop-lit.txt" "egress drop, config line $eline" "the 403 names the egress entry"
wait_match "$T_AUDIT" " TCP_DENIED/403 [0-9]+ GET http://dropped.test/by-name "
wait_match "$T_AUDIT" " TCP_DENIED/403 [0-9]+ GET http://$DROP_IP/by-literal "
assert_no_match "$UPSTREAM_LOG" "\"listen\": \"$DROP_IP:" "a dropped address was dialled"

# no header value ever reaches the audit log
assert_no_match "$T_AUDIT" 'Bearer|Cookie'
gw_stop || fail "gatewayd exited with status $GW_RC"

# The JSON audit log names the refusing entry (the Squid format has no
# field for it).
sed -e 's/format = "squid"/format = "json"/' -e "s|$T_AUDIT|$T_DIR/audit.json|" \
    "$T_DIR/gw.conf" >"$T_DIR/gw-json.conf"
gw_start "$T_DIR/gw-json.conf"
assert_eq 403 "$(guest_code http://dropped.test/json --resolve "dropped.test:80:$INET_ECHO_IP")" "Host naming a dropped address (JSON log)"
wait_match "$T_DIR/audit.json" "\"url\":\"http://dropped.test/json\".*\"status\":403.*\"action\":\"deny\",\"rule\":\"egress drop, config line $eline\""
assert_no_match "$UPSTREAM_LOG" "\"listen\": \"$DROP_IP:" "a dropped address was dialled"
# a policy rule's cidr is matched against the address dialled, too
assert_eq 403 "$(guest_code http://bad.test/cidr-rule --resolve "bad.test:80:$INET_ECHO_IP")" "Host naming an address a cidr rule denies"
wait_match "$T_DIR/audit.json" "\"url\":\"http://bad.test/cidr-rule\".*\"status\":403.*\"action\":\"deny\",\"rule\":\"no-bad-host\""
assert_no_match "$NGINX_LOG" 'uri="/cidr-rule"' "an address a cidr rule denies was dialled"
gw_stop || fail "gatewayd exited with status $GW_RC"
