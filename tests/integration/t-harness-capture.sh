#!/bin/bash
# t-harness-capture: the topology supports transparent capture in the
# gateway namespace, both ways gatewayd will use it, for both variants and
# both IP versions.  A stand-in proxy (upstream.py --transparent) takes the
# guest's port-80 flows and reports the original destination:
#   redirect  nat redirect; original destination from SO_ORIGINAL_DST
#   tproxy    nft tproxy + fwmark policy routing; original destination is
#             the accepted socket's local address
# The minimal rules here are a reference, not the project's ruleset (that
# is `gatewayd rules apply`, nftables/).
. "$(dirname "$0")/lib.sh"
need_cmd nft

pki_ensure
www_ensure

cap_rules() { # MODE IFACE
	local rule
	case $1 in
	redirect) rule="type nat hook prerouting priority dstnat; policy accept;
		iifname \"$2\" tcp dport 80 redirect to :3128" ;;
	tproxy) rule="type filter hook prerouting priority mangle; policy accept;
		iifname \"$2\" meta l4proto tcp tcp dport 80 tproxy to :3129 meta mark set 0x1 accept" ;;
	esac
	in_gw nft -f - <<EOF
table inet gwtest_capture {
	chain pre {
		$rule
	}
}
EOF
}

check() { # VARIANT MODE
	local v=$1 m=$2 out uri
	uri=/cap-$v-$m
	cap_rules "$m" "$T_GUEST_IFACE"
	out=$(guest_curl -4 "http://example.com$uri-4")
	echo "$out" | grep -q '"listen": "0.0.0.0:31' || fail "$v/$m v4 not captured: $out"
	case $m in
	redirect) echo "$out" | grep -q "\"orig_dst\": \"$INET_MAIN_IP:80\"" ||
		fail "$v/$m: SO_ORIGINAL_DST: $out" ;;
	tproxy) echo "$out" | grep -q "\"local\": \"$INET_MAIN_IP:80\"" ||
		fail "$v/$m: local address: $out" ;;
	esac
	out=$(guest_curl -6 "http://example.com$uri-6")
	echo "$out" | grep -q '"listen": "\[::\]:31' || fail "$v/$m v6 not captured: $out"
	echo "$out" | grep -Eq "\"(orig_dst|local)\": \"$INET_MAIN_IP6:80\"" ||
	    fail "$v/$m v6 original destination: $out"
	# captured, so upstream never saw it; 443 still goes straight through
	assert_no_match "$NGINX_LOG" "uri=\"$uri" "$v/$m: nginx log"
	assert_eq 200 "$(T_GUEST_CA=$PKI/public-root.crt guest_code https://example.com/1k)" \
	    "$v/$m: uncaptured https"
	in_gw nft delete table inet gwtest_capture
	log "$v/$m: ok"
}

for v in bridge isolated; do
	topo_up "$v" --guests 1 --ipv6
	nginx_start
	# tproxy's policy routing: marked packets are local
	in_gw ip rule add fwmark 0x1 lookup 100
	in_gw ip route add local 0.0.0.0/0 dev lo table 100
	in_gw ip -6 rule add fwmark 0x1 lookup 100
	in_gw ip -6 route add local ::/0 dev lo table 100
	start_bg standin "$NS_GW" "$PY" "$T_LIB_DIR/upstream.py" --transparent \
	    --listen 0.0.0.0:3128 --listen "[::]:3128" \
	    --listen 0.0.0.0:3129 --listen "[::]:3129" --log "$T_DIR/standin.log"
	wait_bg_port standin "$NS_GW" 3129
	check "$v" redirect
	check "$v" tproxy
	topo_down
done
