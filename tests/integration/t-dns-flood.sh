#!/bin/bash
# t-dns-flood: one guest cannot starve the others.  Guest 1 floods for
# FLOOD_SECS: it holds DNS-over-TCP connections open a byte at a time,
# sends UDP queries (one name over and over, and fresh names) whose
# upstream never answers, and sends HTTP requests for fresh names whose
# lookups never finish.  Meanwhile guest 2's UDP and TCP lookups and its
# HTTP requests (fresh names every time, so nothing is cached) all
# succeed quickly; its latencies are logged (docs/performance.md).
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_cmd nft

FLOOD=$T_LIB_DIR/flood-tool.py
FLOOD_SECS=${FLOOD_SECS:-40}	# an upper bound: stopped after the probe
PROBES=${PROBES:-20}

topo_up isolated --guests 2 --no-guest-hosts
# The upstream resolver of both the DNS proxy and the gateway's own
# lookups: fast.test answers at once, a name under slow.test never does.
flood_dns_start
upstream_start
cat >"$T_DIR/gw.conf" <<CONF
audit = { path = "$T_AUDIT"; format = "json"; };
control_socket = "$T_DIR/control.sock";
groups = ( {
    name = "agents";
    guests = [ "$T_GUEST_NET" ];
    interfaces = [ "$T_GUEST_IFACE" ];
    capture = { mode = "redirect"; http_port = 3128; https_port = 3129; };
    policy = { default = "deny"; rules = (
      { action = "allow"; host = ".fast.test"; },
      { action = "allow"; host = ".slow.test"; }
    ); };
    dns = { mode = "gateway"; upstream = "$DNS2_IP"; listen_port = 5300;
      default = "allow"; max_unique_subdomains = 0; };
} );
CONF
rules_apply "$T_DIR/gw.conf" >"$T_DIR/rules.out" 2>&1 ||
    { cat "$T_DIR/rules.out" >&2; fail "rules apply failed"; }
gw_start "$T_DIR/gw.conf"

probe() { on_guest 2 "$PY" "$FLOOD" probe "${GUEST_GW[2]}" "$INET_ECHO_IP" "$@"; }

out=$(probe "$PROBES" quiet)
log "guest 2, no flood: $out"
echo "# dns flood: guest 2 without a flood ($PROBES of each): $out"

# flood_start KIND: guest 1 starts one flood (stopped by flood_stop).
flood_start() {
	case $1 in
	tcp) start_bg flood-tcp "${GUEST_NS[1]}" "$PY" "$FLOOD" tcp-hold \
	    "${GUEST_GW[1]}" 200 "$FLOOD_SECS" ;;
	udp) start_bg flood-udp "${GUEST_NS[1]}" "$PY" "$FLOOD" udp-flood \
	    "${GUEST_GW[1]}" "$FLOOD_SECS" 1500 ;;
	http) start_bg flood-http "${GUEST_NS[1]}" "$PY" "$FLOOD" http-flood \
	    "$INET_ECHO_IP" "$FLOOD_SECS" 200 ;;
	esac
}
# flood_stop KIND: stop it (it must still be running) and log its summary.
flood_stop() {
	pid_alive "$(pid_of "flood-$1")" ||
	    fail "guest 1's $1 flood ended before guest 2's probe did"
	stop_bg "flood-$1" || true
	log "guest 1's $1 flood: $(cat "$T_DIR/flood-$1.out")"
}

# phase NAME KIND...: guest 1 floods with each KIND, guest 2 probes; every
# lookup and request of guest 2 succeeds, p99 under a second.
phase() {
	local name=$1 k p99
	shift
	for k; do flood_start "$k"; done
	# Let the flood fill whatever it can fill before guest 2 asks.
	sleep 2
	out=$(probe "$PROBES" "$name")
	log "guest 2 during guest 1's $name flood ($PROBES of each): $out"
	echo "# dns flood: guest 2 during guest 1's $name flood ($PROBES of each): $out"
	for k; do flood_stop "$k"; done
	for k in udp tcp http; do
		case $out in
		*"$k ok=$PROBES fail=0 "*) ;;
		*) fail "guest 2's $k lookups during guest 1's $name flood: $out" ;;
		esac
	done
	for p99 in $(grep -oE 'p99=[0-9.]+' <<<"$out" | cut -d= -f2); do
		awk -v v="$p99" 'BEGIN { exit !(v < 1000) }' ||
		    fail "guest 2's p99 latency ${p99}ms during the $name flood: $out"
	done
}

phase tcp tcp
phase udp udp
# One name asked over and over is asked upstream once at a time: the
# repeats join the query in flight rather than take slots (none of them
# was refused for the guest's quota), while the distinct names were.
audit_n() { "$PY" "$T_LIB_DIR/audit-match.py" "$T_AUDIT" "$@"; }
wait_for 5 eval '[ "$(audit_n rule=guest-over-quota)" -gt 0 ]' || true
n_same=$(audit_n host=same.slow.test rule=guest-over-quota)
n_uniq=$(audit_n proto=dns/udp rule=guest-over-quota)
log "refused for guest 1's quota: $n_uniq queries, $n_same of them the repeated name"
[ "$n_uniq" -gt 0 ] || fail "the distinct names never met guest 1's quota"
[ "$n_same" = 0 ] || fail "$n_same repeats of one name were refused instead of joined"
phase http http

# One connection fed a byte every 0.5 s: closed when its whole query is
# overdue (5 s after the accept), however often bytes arrive.
out=$(on_guest 1 "$PY" "$FLOOD" tcp-hold "${GUEST_GW[1]}" 1 8)
log "a query dripped a byte at a time: $out"
case $out in
*" closed_by_gateway=1 "*" longest="[56].*) ;;
*) fail "a dripped DNS-over-TCP query was not cut at its deadline: $out" ;;
esac
