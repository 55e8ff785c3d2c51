#!/bin/bash
# t-secrets: the VM never holds a real credential.  The upstream (nginx,
# which logs the Authorization it receives) gets the real value while the
# VM sent a placeholder; look-alike hosts, paths and methods outside the
# rule, plain HTTP and IP literals get nothing; sentinels are bound to one
# guest, expire and can be revoked; a world-readable secret file is refused;
# rotating the file takes effect without a restart; no log holds a secret.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool

topo_up isolated --guests 2
inet_up
upstream_start
ca_generate agents
REAL=ghp_REALVALUE0123456789abcdef
REAL2=ghp_ROTATED9876543210fedcba
ENVREAL=npm_ENVVALUE55555
umask 077
printf '%s\n' "$REAL" >"$T_DIR/github.token"
CTL=$T_DIR/control.sock
cat >"$T_DIR/gw.conf" <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$CTL";
audit = { path = "$T_AUDIT"; format = "json"; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  policy = { default = "allow";
    rules = ( { action = "deny"; host = "news.ycombinator.com"; } ); };
  secrets = (
    { name = "github"; host = "api.github.com"; path = "/repos/";
      methods = [ "GET", "POST" ]; format = "Bearer %s";
      file = "$T_DIR/github.token"; placeholder = "GITHUB_PLACEHOLDER"; },
    { name = "echo"; host = "echo.test"; header = "X-Api-Key"; format = "%s";
      env = "GW_TEST_SECRET"; require_sentinel = true; }
  ); } );
EOF
rules_apply "$T_DIR/gw.conf" >/dev/null
GW_TEST_SECRET=$ENVREAL gw_start "$T_DIR/gw.conf"

# placeholder replaced by the real value, all VM copies removed
guest_curl -o /dev/null -H 'Authorization: Bearer GITHUB_PLACEHOLDER' \
    -H 'Authorization: Bearer second-copy' https://api.github.com/repos/o/r
assert_match "$NGINX_LOG" "uri=\"/repos/o/r\" .*auth=\"Bearer $REAL\""
assert_no_match "$NGINX_LOG" 'second-copy' "a VM copy of the header reached upstream"
wait_match "$T_AUDIT" '"url":"https://api.github.com/repos/o/r".*"secret":"github"'
# nothing sent by the VM: injected too
guest_curl -o /dev/null https://api.github.com/repos/o/r2
assert_match "$NGINX_LOG" "uri=\"/repos/o/r2\" .*auth=\"Bearer $REAL\""

# outside the rule: nothing is injected, the VM's header passes as sent
guest_curl -o /dev/null -H 'Authorization: Bearer GITHUB_PLACEHOLDER' https://api.github.com/user
assert_match "$NGINX_LOG" 'uri="/user" .*auth="Bearer GITHUB_PLACEHOLDER"' "path outside the rule"
guest_curl -o /dev/null -X DELETE https://api.github.com/repos/o/r3
assert_match "$NGINX_LOG" 'method="DELETE" uri="/repos/o/r3" .*auth="-"' "method outside the rule"
guest_curl -o /dev/null http://api.github.com/repos/o/plain
assert_match "$NGINX_LOG" 'uri="/repos/o/plain" .*auth="-"' "plain HTTP"
guest_curl -o /dev/null "https://$INET_MAIN_IP/repos/o/ip" -H 'Host: api.github.com' || true
assert_no_match "$NGINX_LOG" "uri=\"/repos/o/ip\" .*$REAL" "IP literal"
guest_curl -o /dev/null https://api.github.com.evil.example/repos/o/evil
assert_no_match "$UPSTREAM_LOG" "$REAL" "look-alike host"
# a path with no single reading never gets the path-scoped secret: the
# request is refused and never leaves (Tomcat reads /repos/..;/user as /user)
for p in '/repos//o/r' '/repos/o/r%00' '/repos/..;/user'; do
	assert_eq 403 "$(guest_code "https://api.github.com$p" --path-as-is)" "ambiguous path $p"
done
guest_curl --path-as-is 'https://api.github.com/repos/..;/user' >"$T_DIR/amb.txt" || true
assert_match "$T_DIR/amb.txt" "ambiguous path for a path-scoped secret \\(';' path parameter\\)" "ambiguous path page"
assert_no_match "$NGINX_LOG" 'uri="(/repos//|/repos/o/r%00|/repos/\.\.;)' "an ambiguous path reached upstream"
wait_match "$T_AUDIT" '"url":"https://api.github.com/repos/\.\.;/user".*"secret":"github"'
# an encoded letter is judged decoded, and goes up as sent
guest_curl -o /dev/null https://api.github.com/re%70os/o/enc
assert_match "$NGINX_LOG" "uri=\"/re%70os/o/enc\" .*auth=\"Bearer $REAL\"" "encoded letter under the prefix"

# Connection: Content-Length over TLS: were the length dropped while the
# body still went up, the body would be a request of its own at the
# upstream, carrying the next request's injected credential unjudged.
printf 'GET /repos/o/a HTTP/1.1\r\nHost: api.github.com\r\nConnection: Content-Length\r\nContent-Length: 32\r\n\r\nGET /hidden HTTP/1.1\r\nX-Ignore: GET /repos/o/b HTTP/1.1\r\nHost: api.github.com\r\n\r\n' |
    guest_client raw --timeout 3 --tls --sni api.github.com api.github.com 443 >"$T_DIR/conn-cl.txt"
assert_no_match "$NGINX_LOG" 'uri="/hidden"' "a request hidden in a body reached the upstream"
assert_match "$T_DIR/conn-cl.txt" '^HTTP/1.1 400 ' "Connection: Content-Length over TLS"
assert_no_match "$NGINX_LOG" 'uri="/repos/o/[ab]"' "a request with Connection: Content-Length reached the upstream"

# sentinels: bound to one guest, a secret, a lifetime
S1=$(gw_exec sentinel issue --socket "$CTL" --group agents --guest "${GUEST_IP[1]}" --secret echo --ttl 10m)
case "$S1" in gwsnt_*) ;; *) fail "sentinel issue printed '$S1'" ;; esac
# require_sentinel: no sentinel, no credential
guest_curl -o /dev/null https://echo.test/nosent
assert_no_match "$UPSTREAM_LOG" "$ENVREAL" "credential without a sentinel"
# the right guest with its sentinel: substituted
guest_curl -o "$T_DIR/s1.json" -H "X-Api-Key: $S1" https://echo.test/withsent
assert_match "$T_DIR/s1.json" "$ENVREAL" "sentinel substituted"
# guest 2 with guest 1's sentinel: refused, 403 without echoing it
T_GUEST=2
code=$(guest_code https://echo.test/stolen -H "X-Api-Key: $S1")
assert_eq 403 "$code" "sentinel of guest 1 used by guest 2"
guest_curl -H "X-Api-Key: $S1" https://echo.test/stolen >"$T_DIR/stolen.txt" || true
assert_match "$T_DIR/stolen.txt" 'Credential refused'
assert_no_match "$T_DIR/stolen.txt" "$S1" "refusal page echoes the sentinel"
T_GUEST=1
# a denied request whose URL carries the sentinel: the 403 page does not
# echo it
guest_curl "https://news.ycombinator.com/x?token=$S1" >"$T_DIR/deny-url.txt" || true
assert_match "$T_DIR/deny-url.txt" 'Blocked by egress policy: https://news.ycombinator.com/x$'
assert_no_match "$T_DIR/deny-url.txt" "$S1" "a 403 page echoes the sentinel"
# a sentinel over plain HTTP is refused, never forwarded
assert_eq 403 "$(guest_code http://echo.test/plain -H "X-Api-Key: $S1")" "sentinel over plain HTTP"
assert_no_match "$UPSTREAM_LOG" "$S1" "a sentinel reached an upstream"
# revoked, expired
S2=$(gw_exec sentinel issue --socket "$CTL" --group agents --guest "${GUEST_IP[1]}" --secret echo --ttl 1s)
gw_exec sentinel list --socket "$CTL" >"$T_DIR/list.txt"
assert_no_match "$T_DIR/list.txt" "$S1" "list shows a full sentinel"
sleep 2
assert_eq 403 "$(guest_code https://echo.test/expired -H "X-Api-Key: $S2")" "expired sentinel"
gw_exec sentinel revoke --socket "$CTL" "$S1" >/dev/null
assert_eq 403 "$(guest_code https://echo.test/revoked -H "X-Api-Key: $S1")" "revoked sentinel"
# unknown names are refused by the daemon
gw_exec sentinel issue --socket "$CTL" --group agents --guest "${GUEST_IP[1]}" --secret nosuch --ttl 1m \
    >/dev/null 2>&1 && fail "a sentinel for an unknown secret was issued"

# rotation: replace the file, no restart
printf '%s\n' "$REAL2" >"$T_DIR/github.token.new"
mv "$T_DIR/github.token.new" "$T_DIR/github.token"
wait_for 10 sh -c "ip netns exec ${GUEST_NS[1]} curl -sS --cacert $T_CA_CRT -o /dev/null https://api.github.com/repos/o/rot; grep -q 'uri=\"/repos/o/rot\" .*$REAL2' $NGINX_LOG" ||
    fail "the rotated token was not used"

# a world-readable secret file is refused at load (and on reload)
chmod 644 "$T_DIR/github.token"
out=$(gw_exec -t -c "$T_DIR/gw.conf" 2>&1 || true)
line=$(gw_reload)
echo "$line" | grep -q "keeping" || fail "reload with a world-readable secret was not refused: $line"
assert_match "$GW_LOG" 'github.token.*(group or others|mode)'
chmod 600 "$T_DIR/github.token"

# the real values and the sentinels appear in no log the gateway writes
gw_stop || fail "gatewayd exited with status $GW_RC"
for f in "$T_AUDIT" "$GW_LOG"; do
	for v in "$REAL" "$REAL2" "$ENVREAL" "$S1" "$S2"; do
		assert_no_match "$f" "$v" "$(basename "$f") holds a secret"
	done
done
