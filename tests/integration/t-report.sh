#!/bin/bash
# t-report: policy mode "report".  A default-deny group in report mode lets
# through what it would deny, over plain HTTP and TLS, and every such audit
# line carries "would":"deny" and the deciding rule; the upstream's log is
# the truth (it received exactly those requests, and no credential on a
# request policy would deny).  Never relaxed: an internal destination, an
# upstream whose certificate fails, the egress drop list.  Then
# `gatewayd suggest` turns the audit log into rules that would allow what
# was seen, and with them in enforce mode the same requests pass with no
# "would".
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool

topo_up isolated --guests 1
inet_up
ca_generate agents
REAL=ghp_REPORTREAL0123456789
umask 077
printf '%s\n' "$REAL" >"$T_DIR/token"
umask 022
gw_conf() { # MODE RULES
	gw_conf_tproxy /dev/stdout "mode = \"$1\"; default = \"deny\"; rules = ( $2 );" "
  egress = ( { action = \"drop\"; cidr = \"$INET_ECHO_IP/32\"; } );
  secrets = ( { name = \"gh\"; host = \"api.github.com\"; format = \"Bearer %s\";
      file = \"$T_DIR/token\"; placeholder = \"GH_PLACEHOLDER\"; } );"
}
gw_conf report '{ action = "deny"; host = ".wikipedia.org"; name = "no-wikipedia"; },
    { action = "allow"; host = "example.com"; }' >"$T_DIR/gw.conf"
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

# allowed by a rule: no "would"
assert_eq 200 "$(guest_code http://example.com/)" "allowed"
wait_match "$T_AUDIT" '"url":"http://example.com/".*"action":"allow"'
assert_no_match "$T_AUDIT" '"url":"http://example.com/".*"would"' "allowed line with would"
# denied by a rule, over TLS: forwarded, logged with the rule
assert_eq 200 "$(guest_code https://en.wikipedia.org/wiki/Report)" "would-deny by rule"
wait_match "$T_AUDIT" '"url":"https://en.wikipedia.org/wiki/Report".*"action":"allow","would":"deny".*"rule":"no-wikipedia"'
assert_match "$NGINX_LOG" 'host="en.wikipedia.org" method="GET" uri="/wiki/Report"'
# denied by the default, plain HTTP, POST with a body
code=$(guest_code http://news.ycombinator.com/item -d 'x=1')
assert_match "$NGINX_LOG" 'host="news.ycombinator.com" method="POST" uri="/item"'
wait_match "$T_AUDIT" '"method":"POST","url":"http://news.ycombinator.com/item".*"would":"deny".*"rule":"default"'
log "POST by default deny, report mode: upstream answered $code"
# a secret rule matches, but policy would deny: no credential goes out
guest_curl -o /dev/null -H 'Authorization: Bearer GH_PLACEHOLDER' https://api.github.com/repos/x
assert_match "$NGINX_LOG" 'host="api.github.com" .*uri="/repos/x" .*auth="Bearer GH_PLACEHOLDER"'
assert_no_match "$NGINX_LOG" "$REAL" "a credential on a would-deny request"
wait_match "$T_AUDIT" '"url":"https://api.github.com/repos/x".*"would":"deny"'
assert_no_match "$T_AUDIT" '"url":"https://api.github.com/repos/x".*"secret"' "secret logged as injected"

# never relaxed: an internal destination
assert_eq 403 "$(guest_code "http://$INET_PRIV_IP/")" "internal destination"
wait_match "$T_AUDIT" "\"url\":\"http://$INET_PRIV_IP/\".*\"action\":\"deny\".*\"rule\":\"internal-destination\""
# never relaxed: upstream verification
assert_eq 502 "$(guest_code https://bad.test/)" "bad upstream certificate"
assert_no_match "$NGINX_LOG" 'host="bad.test"' "forwarded to a failed upstream"
# never relaxed: the drop list, for the guest's packets and for the
# address the gateway dials (a Host naming a dropped address, sent to
# another one)
assert_eq 000 "$(T_CURL_TIMEOUT=3 guest_code "http://$INET_ECHO_IP/")" "egress drop list"
assert_eq 403 "$(guest_code http://echo.test/by-name --resolve "echo.test:80:$INET_MAIN_IP")" \
    "Host naming a dropped address"
wait_match "$T_AUDIT" '"url":"http://echo.test/by-name".*"action":"deny","rule":"egress drop, config line [0-9]+"'
assert_no_match "$T_AUDIT" '"url":"http://echo.test/by-name".*"would"' "dial refusal relaxed"

# suggest: rules that allow what was seen (the would-deny requests)
gw_exec suggest -c "$T_DIR/gw.conf" "$T_AUDIT" >"$T_DIR/suggest.out" 2>"$T_DIR/suggest.err" ||
    { cat "$T_DIR/suggest.err" >&2; fail "gatewayd suggest"; }
cat "$T_DIR/suggest.out" >&2
assert_match "$T_DIR/suggest.out" 'host = "en.wikipedia.org"; path = "/wiki/"; methods = \[ "GET" \]'
assert_match "$T_DIR/suggest.out" 'host = "news.ycombinator.com"; path = "/item"; methods = \[ "POST" \]'
assert_no_match "$T_DIR/suggest.out" "$INET_PRIV_IP" "an internal destination suggested"
rules=$(sed -n 's/^ *\({ action = "allow";.*}\),\{0,1\}$/\1/p' "$T_DIR/suggest.out" | paste -sd, -)
[ -n "$rules" ] || fail "suggest printed no rule"

# enforce mode with the suggested rules: the same requests pass plainly
gw_conf enforce "$rules, { action = \"allow\"; host = \"example.com\"; }" >"$T_DIR/gw.conf"
gw_reload >/dev/null
: >"$T_AUDIT.mark"
n=$(wc -l <"$T_AUDIT")
assert_eq 200 "$(guest_code https://en.wikipedia.org/wiki/Again)" "suggested rule allows"
wait_match "$T_AUDIT" '"url":"https://en.wikipedia.org/wiki/Again".*"action":"allow"'
tail -n +"$((n + 1))" "$T_AUDIT" >"$T_DIR/after"
assert_no_match "$T_DIR/after" '"would"' "would after enforcing the suggestion"
assert_eq 403 "$(guest_code https://en.wikipedia.org/other)" "outside the suggested prefix"
