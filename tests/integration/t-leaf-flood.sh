#!/bin/bash
# t-leaf-flood: one guest minting leaves by the hundred cannot evict the
# others'.  Guest 1 opens TLS handshakes with fresh SNIs (half of them
# denied by policy, which bump to a readable 403 and so need a leaf too)
# through a 16-leaf cache; meanwhile guest 2's HTTPS requests to echo.test
# all succeed and it is served the same leaf throughout (its fingerprint
# never changes: it was never evicted and minted again).  Then the mint
# rate: with limits.leaf_mints_per_guest low, guest 1's excess handshakes
# are refused while guest 2 is still served.  Guest 2's latencies are
# printed as "# " lines (docs/performance.md).
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool

FLOOD=$T_LIB_DIR/flood-tool.py
FLOOD_SECS=${FLOOD_SECS:-40}	# an upper bound: stopped after the probe
PROBES=${PROBES:-20}

topo_up isolated --guests 2
upstream_start
ca_generate agents
# gw_conf RATE: the config with limits.leaf_mints_per_guest = RATE.
gw_conf() {
	cat >"$T_DIR/gw.conf" <<CONF
trust_file = "$PKI/public-root.crt";
audit = { path = "$T_AUDIT"; format = "json"; };
control_socket = "$T_DIR/control.sock";
limits = { leaf_cache_size = 16; leaf_mints_per_guest = $1; };
groups = ( {
    name = "agents";
    guests = [ "$T_GUEST_NET" ];
    interfaces = [ "$T_GUEST_IFACE" ];
    ca_dir = "$T_CA_DIR";
    capture = { mode = "redirect"; http_port = 3128; https_port = 3129; };
    policy = { default = "deny"; rules = (
      { action = "allow"; host = "echo.test"; },
      { action = "allow"; host = ".flood.test"; }
    ); };
} );
CONF
}
gw_conf 100000
rules_apply "$T_DIR/gw.conf" >"$T_DIR/rules.out" 2>&1 ||
    { cat "$T_DIR/rules.out" >&2; fail "rules apply failed"; }
gw_start "$T_DIR/gw.conf"

probe() {
	on_guest 2 "$PY" "$FLOOD" https-probe "$INET_ECHO_IP" echo.test \
	    "$T_CA_CRT" "$PROBES"
}
# check_probe WHAT OUT: all of guest 2's requests succeeded on the leaf
# it had before any flood.
check_probe() {
	case $2 in
	*"https ok=$PROBES fail=0 "*) ;;
	*) fail "guest 2's HTTPS requests $1: $2" ;;
	esac
	case $2 in
	*" leaves=1 first=$LEAF0"*) ;;
	*) fail "guest 2's leaf for echo.test was minted again $1: $2" ;;
	esac
}
flood_run() { # TAG: guest 1 floods while guest 2 probes
	start_bg "flood-$1" "${GUEST_NS[1]}" "$PY" "$FLOOD" tls-flood \
	    "$INET_ECHO_IP" "$FLOOD_SECS" 8
	sleep 2
	out=$(probe)
	pid_alive "$(pid_of "flood-$1")" ||
	    fail "guest 1's flood ended before guest 2's probe did"
	stop_bg "flood-$1" || true
	flood_out=$(cat "$T_DIR/flood-$1.out")
	log "guest 1's $1 flood: $flood_out"
}

out=$(probe)
LEAF0=$(grep -oE 'first=[0-9a-f]+' <<<"$out" | cut -d= -f2)
[ -n "$LEAF0" ] || fail "guest 2 got no leaf without a flood: $out"
log "guest 2, no flood: $out"
echo "# leaf flood: guest 2 without a flood: $out"
check_probe "without a flood" "$out"

flood_run mint
log "guest 2 during guest 1's leaf flood: $out"
echo "# leaf flood: guest 2 during the flood: $out"
check_probe "during guest 1's leaf flood" "$out"
n=$(grep -oE 'handshake=[0-9]+' <<<"$flood_out" | cut -d= -f2)
[ "${n:-0}" -gt 64 ] ||
    fail "guest 1's flood completed only ${n:-0} handshakes: $flood_out"

# The mint rate: 20 a second per guest, burst 40.
gw_conf 20
gw_reload >/dev/null
# A reload drops every cached leaf: guest 2's is minted afresh.
out=$(probe)
LEAF0=$(grep -oE 'first=[0-9a-f]+' <<<"$out" | cut -d= -f2)
check_probe "after the reload" "$out"
flood_run rate
log "guest 2 during guest 1's rate-limited flood: $out"
echo "# leaf flood, leaf_mints_per_guest = 20: guest 2 during the flood: $out"
check_probe "during guest 1's rate-limited flood" "$out"
r=$(grep -oE 'refused=[0-9]+' <<<"$flood_out" | cut -d= -f2)
[ "${r:-0}" -gt 0 ] || fail "guest 1 was never held to its mint rate: $flood_out"
