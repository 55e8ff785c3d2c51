#!/bin/bash
# t-nft-rules: `gatewayd rules` in the isolated (veth "ve-*", tproxy) and
# the bridge (redirect) topologies, with packets only, no gatewayd: a small
# IP_TRANSPARENT/plain listener (nft_probe.py) stands in for its capture
# ports.  Checks: apply twice = same ruleset, remove leaves no trace and
# never touches a foreign table; a broken config or a missing nft keeps the
# old rules; from a guest: HTTP captured, allowed CIDR reachable, dropped
# CIDR not, UDP 443 and DoT blocked, IPv6 dropped (no IPv6 guest prefix)
# or captured, DNS only to the configured resolver, spoofed sources
# dropped, the other guest unreachable, the host only on the gateway ports,
# and non-HTTP new flows taken by NFQUEUE (fail open / fail closed).
. "$(dirname "$0")/lib.sh"

[ -x "$GW_BIN" ] || skip "gatewayd is not built"
RULES=("$GW_BIN" rules)
command -v nft >/dev/null || skip "nft is not installed"
PROBE=$SOURCE_DIR/tests/integration/nft_probe.py

rules() { in_gw "${RULES[@]}" "$@"; }
probe() { local n=$1; shift; on_guest "$n" "$PY" "$PROBE" "$@" 2>&1; }
# reach N KIND ADDR PORT [SRC]: the answer guest N gets, or "" if none.
reach() { probe "$@" | grep -v '^no answer' || true; }
counter() { # FAMILY TABLE COMMENT-FRAGMENT: packets counted by the rule(s)
	in_gw nft list table "$1" "$2" 2>/dev/null | grep -F -- "$3" |
	    sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}'
}
# the ruleset without counter values (guests' own IPv6 chatter moves them)
ruleset() { in_gw nft -s list ruleset 2>/dev/null; }

write_conf() { # FILE MODE IFACE GUEST_CIDRS FAIL_OPEN DNS_BLOCK
	cat >"$1" <<-EOF
	upstream_mark = 0x4757; tproxy_mark = 0x4758; tproxy_table = 4758;
	nfqueue = { num = 4758; fail_open = $5; };
	groups = ( {
	  name = "agents"; guests = [ $4 ]; interfaces = [ "$3" ];
	  capture = { mode = "$2"; http_port = 3128; https_port = 3129; };
	  policy = { default = "allow"; };
	  egress = ( { action = "allow"; cidr = "$INET_MAIN_IP/32"; },
	             { action = "drop";  cidr = "$INET_BAD_IP/32"; },
	             { action = "drop";  cidr = "$INET_BAD_IP6/128"; } );
	  dns = { $6 };
	} );
	EOF
}

# ---------------------------------------------------------------- isolated
topo_up isolated --guests 2 --ipv6
in_gw nft add table inet someone_else
in_gw nft add chain inet someone_else keep '{ type filter hook input priority 10; }'
before=$(ruleset)
rules_before=$(in_gw ip rule; in_gw ip -6 rule)

start_bg inet "$NS_INET" "$PY" "$PROBE" serve \
    "tcp:$INET_MAIN_IP:8080" "tcp:$INET_BAD_IP:8080" "tcp:[$INET_MAIN_IP6]:8080" \
    "tcp:[$INET_BAD_IP6]:8080" "udp:$INET_MAIN_IP:443" "udp:$INET_MAIN_IP:4443" \
    "tcp:$INET_MAIN_IP:853" "udp:$INET_DNS_IP:53" "udp:$INET_MAIN_IP:53" \
    "tcp:$INET_MAIN_IP:80"
start_bg gwlisten "$NS_GW" "$PY" "$PROBE" serve tproxy:3128 tproxy:3129 \
    "tcp:0.0.0.0:9999"
start_bg guest2 "${GUEST_NS[2]}" "$PY" "$PROBE" serve "tcp:${GUEST_IP[2]}:7000"
wait_for 5 grep -q ready "$T_DIR/inet.out" || error "inet listeners"
wait_for 5 grep -q ready "$T_DIR/gwlisten.out" || error "gw listeners"
wait_for 5 grep -q ready "$T_DIR/guest2.out" || error "guest2 listener"

# without rules everything is reachable: the checks below can fail
assert_eq "tcp $INET_BAD_IP:8080" "$(reach 1 tcp "$INET_BAD_IP" 8080)" "no rules: dropped CIDR"
assert_eq "udp $INET_MAIN_IP:443" "$(reach 1 udp "$INET_MAIN_IP" 443)" "no rules: UDP 443"

conf=$T_DIR/agents.conf
write_conf "$conf" tproxy 've-*' "\"$ISOLATED_NET\"" true \
    "mode = \"server\"; servers = [ \"$INET_DNS_IP\" ];"
rules apply -c "$conf" >"$T_DIR/apply1" 2>&1 || { cat "$T_DIR/apply1"; fail "apply"; }
one=$(ruleset)
rules apply -c "$conf" >/dev/null 2>&1 || fail "second apply"
assert_eq "$one" "$(ruleset)" "ruleset after a second apply"
assert_eq 1 "$(in_gw ip rule | grep -c 'fwmark 0x4758 lookup 4758')" "ip rule, once"
assert_eq 1 "$(in_gw ip -6 rule | grep -c 'fwmark 0x4758 lookup 4758')" "ip -6 rule, once"
assert_eq "local default dev lo scope host" "$(in_gw ip route show table 4758 | xargs)" "local route"
echo "$one" | grep -q 'table inet someone_else' || fail "foreign table lost"
rules show -c "$conf" >"$T_DIR/show" 2>&1 || fail "show"
grep -q '^table inet gatewayd_agents {$' "$T_DIR/show" || fail "show prints the table"

# HTTP(S) is captured by tproxy with the original destination kept
assert_eq "captured $INET_MAIN_IP:80" "$(reach 1 tcp "$INET_MAIN_IP" 80)" "HTTP captured"
assert_eq "captured 203.0.113.9:443" "$(reach 1 tcp 203.0.113.9 443)" "HTTPS captured"
assert_no_match "$T_DIR/inet.out" "hit tcp $INET_MAIN_IP:80 " "HTTP never routed"
# egress list (non-HTTP goes through NFQUEUE: fail open, nobody listening)
assert_eq "tcp $INET_MAIN_IP:8080" "$(reach 1 tcp "$INET_MAIN_IP" 8080)" "allowed CIDR"
assert_eq "" "$(reach 1 tcp "$INET_BAD_IP" 8080)" "dropped CIDR"
assert_ne 0 "$(counter inet gatewayd_agents 'egress drop')" "egress drop counter"
# no bypass
assert_eq "udp $INET_MAIN_IP:4443" "$(reach 1 udp "$INET_MAIN_IP" 4443)" "other UDP"
assert_eq "" "$(reach 1 udp "$INET_MAIN_IP" 443)" "QUIC (UDP 443)"
assert_eq "" "$(reach 1 tcp "$INET_MAIN_IP" 853)" "DNS over TLS"
assert_eq "" "$(reach 1 tcp "$INET_MAIN_IP6" 8080)" "IPv6 (group has no IPv6 prefix)"
assert_eq "" "$(reach 1 tcp "$INET_MAIN_IP6" 80)" "IPv6 HTTP"
assert_eq "udp $INET_DNS_IP:53" "$(reach 1 udp "$INET_DNS_IP" 53)" "DNS to the resolver"
assert_eq "" "$(reach 1 udp "$INET_MAIN_IP" 53)" "DNS elsewhere"
# spoofing: guest 2's address, and an address of no guest
on_guest 1 ip addr add "${GUEST_IP[2]}/32" dev eth0
on_guest 1 ip addr add 10.99.0.7/32 dev eth0
assert_eq "" "$(reach 1 tcp "$INET_MAIN_IP" 8080 "${GUEST_IP[2]}")" "spoofed guest address"
assert_eq "" "$(reach 1 tcp "$INET_MAIN_IP" 8080 10.99.0.7)" "spoofed foreign address"
assert_ne 0 "$(counter inet gatewayd_agents 'spoofed')" "spoof counter"
assert_no_match "$T_DIR/inet.out" "from (${GUEST_IP[2]}|10\.99\.0\.7)$" "spoofed packets arrived"
on_guest 1 ip addr del "${GUEST_IP[2]}/32" dev eth0
# guests and the host
assert_eq "" "$(reach 1 tcp "${GUEST_IP[2]}" 7000)" "the other guest"
assert_eq "tcp ${GUEST_IP[2]}:7000" "$(in_gw "$PY" "$PROBE" tcp "${GUEST_IP[2]}" 7000)" "guest 2 listens"
assert_eq "captured ${GUEST_GW[1]}:3128" "$(reach 1 tcp "${GUEST_GW[1]}" 3128)" "host gateway port"
assert_eq "" "$(reach 1 tcp "${GUEST_GW[1]}" 9999)" "host, another port"
assert_eq "tcp ${GUEST_GW[1]}:9999" "$(in_gw "$PY" "$PROBE" tcp "${GUEST_GW[1]}" 9999)" "host port 9999 listens"

# fail closed: NFQUEUE with nobody listening drops, and the packets were
# taken by the queue (the fallback rule below it counts nothing)
write_conf "$conf" tproxy 've-*' "\"$ISOLATED_NET\"" false \
    "mode = \"server\"; servers = [ \"$INET_DNS_IP\" ];"
rules apply -c "$conf" >/dev/null 2>&1 || fail "apply fail-closed"
assert_eq "" "$(reach 1 tcp "$INET_MAIN_IP" 8080)" "fail closed"
assert_eq 0 "$(counter inet gatewayd_agents 'no NFQUEUE hand-off')" "queue took the flow"
assert_eq "captured $INET_MAIN_IP:80" "$(reach 1 tcp "$INET_MAIN_IP" 80)" "HTTP still captured"

# a broken config and a missing nft leave the old rules
good=$(ruleset)
sed 's|"'"$INET_BAD_IP"'/32"|"198.18.0.300/32"|' "$conf" >"$T_DIR/bad.conf"
if rules apply -c "$T_DIR/bad.conf" >"$T_DIR/bad.out" 2>&1; then fail "bad config applied"; fi
assert_match "$T_DIR/bad.out" "bad.conf:[0-9]+:" "bad config names its line"
write_conf "$T_DIR/bad2.conf" tproxy 've-?' "\"$ISOLATED_NET\"" false 'mode = "drop";'
if rules apply -c "$T_DIR/bad2.conf" >"$T_DIR/bad2.out" 2>&1; then fail "bad pattern applied"; fi
assert_match "$T_DIR/bad2.out" "bad2.conf:[0-9]+: .*trailing" "bad pattern message"
if in_gw env GATEWAYD_NFT=/nonexistent/nft "${RULES[@]}" apply -c "$conf" >"$T_DIR/nonft" 2>&1; then
	fail "apply without nft succeeded"
fi
assert_match "$T_DIR/nonft" "cannot run" "missing nft message"
assert_eq "$good" "$(ruleset)" "ruleset after failed applies"

# remove: nothing of ours left, the foreign table intact
rules remove -c "$conf" >/dev/null 2>&1 || fail "remove"
assert_eq "$before" "$(ruleset)" "ruleset after remove"
assert_eq "$rules_before" "$(in_gw ip rule; in_gw ip -6 rule)" "ip rules after remove"
assert_eq "" "$(in_gw ip route show table 4758)" "route after remove"
assert_eq "tcp $INET_BAD_IP:8080" "$(reach 1 tcp "$INET_BAD_IP" 8080)" "after remove: open again"
topo_down

# ------------------------------------------------------------------ bridge
topo_up bridge --guests 2 --ipv6
start_bg inet "$NS_INET" "$PY" "$PROBE" serve "tcp:$INET_MAIN_IP:8080" \
    "tcp:[$INET_MAIN_IP6]:8080" "udp:$INET_MAIN_IP:53"
start_bg gwlisten "$NS_GW" "$PY" "$PROBE" serve "tcp:0.0.0.0:3128" \
    "tcp:[::]:3128" "tcp:0.0.0.0:3129" "udp:0.0.0.0:5300"
start_bg guest2 "${GUEST_NS[2]}" "$PY" "$PROBE" serve "tcp:${GUEST_IP[2]}:7000" \
    "tcp:[${GUEST_IP6[2]}]:7000"
wait_for 5 grep -q ready "$T_DIR/inet.out" || error "inet listeners"
wait_for 5 grep -q ready "$T_DIR/gwlisten.out" || error "gw listeners"
wait_for 5 grep -q ready "$T_DIR/guest2.out" || error "guest2 listener"
assert_eq "tcp ${GUEST_IP[2]}:7000" "$(reach 1 tcp "${GUEST_IP[2]}" 7000)" "no rules: guest to guest"

write_conf "$conf" redirect br-agents "\"$BRIDGE_NET\", \"$BRIDGE_NET6\"" true \
    'mode = "gateway"; listen_port = 5300;'
rules apply -c "$conf" >"$T_DIR/apply2" 2>&1 || { cat "$T_DIR/apply2"; fail "apply (bridge)"; }
# redirect: the listener sees its own address as the destination
assert_eq "tcp 10.66.0.1:3128" "$(reach 1 tcp "$INET_MAIN_IP" 80)" "bridge: HTTP redirected"
assert_eq "tcp 10.66.0.1:3129" "$(reach 1 tcp "$INET_MAIN_IP" 443)" "bridge: HTTPS redirected"
assert_eq "tcp fd00:66::1:3128" "$(reach 1 tcp "$INET_MAIN_IP6" 80)" "bridge: IPv6 HTTP redirected"
assert_eq "udp 0.0.0.0:5300" "$(reach 1 udp "$INET_MAIN_IP" 53)" "bridge: DNS to the gateway"
assert_eq "tcp $INET_MAIN_IP6:8080" "$(reach 1 tcp "$INET_MAIN_IP6" 8080)" "bridge: IPv6 non-HTTP (fail open)"
assert_eq "" "$(reach 1 tcp "${GUEST_IP[2]}" 7000)" "bridge: the other guest"
assert_eq "" "$(reach 1 tcp "${GUEST_IP6[2]}" 7000)" "bridge: the other guest, IPv6"
# (on one bridge a guest can still pose as another guest of the same
# subnet: the fib check cannot tell them apart; see nftables/README.md)
on_guest 1 ip addr add 10.99.0.7/32 dev eth0
assert_eq "" "$(reach 1 tcp "$INET_MAIN_IP" 8080 10.99.0.7)" "bridge: spoofed foreign"
rules remove -c "$conf" >/dev/null 2>&1 || fail "remove (bridge)"
assert_eq "" "$(ruleset)" "bridge: ruleset after remove"
log "ok"
