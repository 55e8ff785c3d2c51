#!/bin/bash
# t-slicer-names: VM names and tags from a stub of Slicer's REST API
# (slicer_stub.py on 127.0.0.1:8080 in the gateway namespace, serving the
# documented GET /nodes schema and checking the bearer token).
#  - audit lines carry "vm", "vm_group" and "tags" of the guest's VM;
#  - a tags-scoped policy rule and a tags-scoped secret apply to the tagged
#    VM only (the upstream's log is the truth);
#  - `gatewayd sentinel issue --vm NAME` binds to that VM's address;
#  - a refused token and Slicer going down keep the last map, each outage
#    logged once;
#  - unknown = "refuse" refuses a guest that is not on the map (403, rule
#    unknown-vm), after a reload;
#  - a guest whose client does not trust the group CA is logged once for
#    two attempts, with the hint to docs/guests.md.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool

topo_up isolated --guests 2
inet_up
ca_generate agents
CTL=$T_DIR/control.sock
REAL=ghp_SLICERNAMESREAL0123
umask 077
printf '%s\n' "$REAL" >"$T_DIR/gh-token"
printf 'slicer-api-token-1\n' >"$T_DIR/slicer-token"
printf 'slicer-api-token-1\n' >"$T_DIR/stub-token"
umask 022

# the schema of Slicer's NodeResponse, one VM per guest
nodes() { # GUESTS...: the VMs to list (1, 2)
	local i sep=
	printf '['
	for i in "$@"; do
		case $i in
		1) tags='["team=ml", "user=alice"]' ;;
		*) tags='["user=bob"]' ;;
		esac
		printf '%s{"hostname":"agents-%s","hostgroup":"agents","ip":"%s",' \
		    "$sep" "$i" "${GUEST_IP[$i]}"
		printf '"ram_bytes":2147483648,"cpus":2,"created_at":"2026-01-02T03:04:05.1+00:00",'
		printf '"tags":%s,"arch":"x86_64","status":"Running"}' "$tags"
		sep=', '
	done
	printf ']\n'
}
nodes 1 2 >"$T_DIR/nodes.json"
stub_up() {
	start_bg slicer "$NS_GW" "$PY" "$T_LIB_DIR/slicer_stub.py" 127.0.0.1 8080 \
	    "$T_DIR/stub-token" "$T_DIR/nodes.json"
	wait_bg_port slicer "$NS_GW" 8080 127.0.0.1
}
stub_up

gw_conf() { # UNKNOWN
	cat <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$CTL";
audit = { path = "$T_AUDIT"; format = "json"; };
metrics = { listen = "127.0.0.1:9478"; };
slicer = { url = "http://127.0.0.1:8080"; token_file = "$T_DIR/slicer-token";
  refresh = "1s"; unknown = "$1"; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  policy = { default = "deny"; rules = (
      { action = "allow"; host = "site-a.test"; tags = [ "team=ml" ]; name = "ml-only"; },
      { action = "allow"; host = "example.com"; name = "everyone"; },
      { action = "allow"; host = "api.github.com"; name = "github"; } ); };
  secrets = ( { name = "gh"; host = "api.github.com"; format = "Bearer %s";
      file = "$T_DIR/gh-token"; placeholder = "GH_PLACEHOLDER"; tags = "team=ml"; } ); } );
EOF
}
gw_conf allow >"$T_DIR/gw.conf"
out=$(gw_exec -t -c "$T_DIR/gw.conf" 2>&1) || fail "gatewayd -t: $out"
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"
wait_match "$T_DIR/slicer.out" '^GET /nodes auth=ok status=200$'

# the audit line names the VM, its group and its tags
assert_eq 200 "$(T_GUEST=1 guest_code https://example.com/one)" "VM 1 example.com"
wait_match "$T_AUDIT" '"client":"'"${GUEST_IP[1]}"'".*"vm":"agents-1","vm_group":"agents","tags":\["team=ml","user=alice"\].*"url":"https://example.com/one"'
assert_eq 200 "$(T_GUEST=2 guest_code http://example.com/two)" "VM 2 example.com"
wait_match "$T_AUDIT" '"vm":"agents-2","vm_group":"agents","tags":\["user=bob"\].*"url":"http://example.com/two"'

# a tags-scoped rule: the tagged VM only
assert_eq 200 "$(T_GUEST=1 guest_code https://site-a.test/ml)" "team=ml VM to site-a"
wait_match "$T_AUDIT" '"vm":"agents-1".*"url":"https://site-a.test/ml".*"action":"allow".*"rule":"ml-only"'
assert_eq 403 "$(T_GUEST=2 guest_code https://site-a.test/bob)" "other VM to site-a"
wait_match "$T_AUDIT" '"vm":"agents-2".*"url":"https://site-a.test/bob".*"action":"deny".*"rule":"default"'
assert_match "$NGINX_LOG" 'host="site-a.test" method="GET" uri="/ml"'
assert_no_match "$NGINX_LOG" 'uri="/bob"' "a denied request reached the upstream"

# a tags-scoped secret: injected for the tagged VM only
T_GUEST=1 guest_curl -o /dev/null -H 'Authorization: Bearer GH_PLACEHOLDER' https://api.github.com/repos/ml
T_GUEST=2 guest_curl -o /dev/null -H 'Authorization: Bearer GH_PLACEHOLDER' https://api.github.com/repos/bob
assert_match "$NGINX_LOG" "uri=\"/repos/ml\" .*auth=\"Bearer $REAL\""
assert_match "$NGINX_LOG" 'uri="/repos/bob" .*auth="Bearer GH_PLACEHOLDER"'
wait_match "$T_AUDIT" '"vm":"agents-1".*"url":"https://api.github.com/repos/ml".*"secret":"gh"'
assert_no_match "$T_AUDIT" '"url":"https://api.github.com/repos/bob".*"secret"' "secret for the untagged VM"

# sentinel issue --vm: bound to the VM's address
S=$(gw_exec sentinel issue --socket "$CTL" --group agents --vm agents-1 --secret gh --ttl 10m)
case "$S" in gwsnt_*) ;; *) fail "sentinel issue --vm printed '$S'" ;; esac
gw_exec sentinel list --socket "$CTL" >"$T_DIR/sentinels"
assert_match "$T_DIR/sentinels" " agents ${GUEST_IP[1]} gh " "sentinel bound to VM 1"
out=$(gw_exec sentinel issue --socket "$CTL" --group agents --vm agents-9 --secret gh --ttl 10m 2>&1) &&
    fail "sentinel for an unknown VM issued: $out"
case "$out" in *"no VM named agents-9"*) ;; *) fail "unknown VM: '$out'" ;; esac

# a refused token: the last map is kept, logged once until Slicer answers
printf 'rotated-on-slicer\n' >"$T_DIR/stub-token"
wait_match "$T_DIR/slicer.out" 'auth=bad status=401' 5
wait_for 5 eval "[ \$(grep -c 'auth=bad' '$T_DIR/slicer.out') -ge 3 ]" ||
    fail "gatewayd stopped polling"
assert_eq 1 "$(count_match "$GW_LOG" 'slicer: HTTP 401.*keeping the last map')" \
    "401 logged once over three polls"
assert_eq 200 "$(T_GUEST=1 guest_code https://example.com/kept)" "VM 1 during the outage"
wait_match "$T_AUDIT" '"vm":"agents-1".*"url":"https://example.com/kept"'
# the operator rotates gatewayd's copy of the token: Slicer answers again
printf 'rotated-on-slicer\n' >"$T_DIR/slicer-token"
wait_match "$GW_LOG" 'slicer: answering again: 2 VMs' 5

# Slicer goes down: the last map is kept, logged once
stop_bg slicer || true	# its status is SIGTERM's
wait_match "$GW_LOG" 'slicer: connect 127.0.0.1:8080.*keeping the last map' 5
sleep 3		# three more polls fail
assert_eq 1 "$(count_match "$GW_LOG" 'slicer: connect 127.0.0.1:8080')" \
    "Slicer down logged once"
# ...and every failed poll counted (three 401s, then the connects)
polls() { in_gw curl -sS --max-time 5 http://127.0.0.1:9478/metrics |
	sed -n "s/^gatewayd_slicer_polls_total{result=\"$1\"} //p"; }
n=$(polls failed)
[ "${n:-0}" -ge 4 ] || fail "gatewayd_slicer_polls_total{result=\"failed\"} is '$n', expected >= 4"
[ "$(polls published)" -ge 2 ] || fail "no published maps counted"
assert_eq 200 "$(T_GUEST=2 guest_code http://example.com/down)" "VM 2 while Slicer is down"
wait_match "$T_AUDIT" '"vm":"agents-2".*"url":"http://example.com/down"'

# unknown = "refuse": Slicer back with VM 1 only, the config reloaded
nodes 1 >"$T_DIR/nodes.json"
stub_up
wait_match "$GW_LOG" 'slicer: answering again: 1 VMs' 5
gw_conf refuse >"$T_DIR/gw.conf"
gw_reload >/dev/null
assert_eq 200 "$(T_GUEST=1 guest_code https://example.com/known)" "VM 1 on the map"
assert_eq 403 "$(T_GUEST=2 guest_code https://example.com/unknown)" "VM 2 not on the map, HTTPS"
T_GUEST=2 guest_curl -s http://example.com/unknown-http >"$T_DIR/refused.body" || true
assert_match "$T_DIR/refused.body" 'unknown-vm' "the 403 page names the refusal"
wait_match "$T_AUDIT" '"client":"'"${GUEST_IP[2]}"'".*"url":"https://example.com/unknown".*"action":"deny".*"rule":"unknown-vm"'
wait_match "$T_AUDIT" '"url":"http://example.com/unknown-http".*"rule":"unknown-vm"'
assert_no_match "$T_AUDIT" '"vm":.*"url":"https?://example.com/unknown' "a vm on an unknown guest"
assert_no_match "$NGINX_LOG" 'uri="/unknown' "an unknown guest reached the upstream"

# a client that does not trust the group CA, twice: one hint
HINT='guest does not trust the group CA; see docs/guests.md'
for i in 1 2; do
	code=$(T_GUEST_CA=$PKI/public-root.crt T_GUEST=1 guest_code https://example.com/untrusted)
	assert_eq 000 "$code" "curl without the group CA, attempt $i"
done
wait_match "$GW_LOG" "$HINT"
sleep 0.5
assert_eq 1 "$(count_match "$GW_LOG" "$HINT")" "hint logged once for two attempts"
assert_match "$GW_LOG" "conn [0-9]+ [^ ]+ -> [^ ]+: guest TLS handshake failed: guest ${GUEST_IP[1]} vm agents-1 rejected the leaf for example.com \(alert unknown ca\)"
rules_remove "$T_DIR/gw.conf" >/dev/null
log "VM names from Slicer hold"
