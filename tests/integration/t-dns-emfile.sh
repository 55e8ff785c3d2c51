#!/bin/bash
# t-dns-emfile: the DNS proxy out of file descriptors.  With a low
# RLIMIT_NOFILE, a guest's held DNS-over-TCP connections use up the
# descriptors; accept(2) on the DNS listener then fails with EMFILE and
# the proxy must back off (not spin on its level-triggered listener: it
# shares the service loop with NFQUEUE and the control socket), keep the
# control socket answering, and serve DNS again once the held connections
# are gone (closed at their deadline).
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_cmd prlimit

FLOOD=$T_LIB_DIR/flood-tool.py
topo_up isolated --guests 1 --no-guest-hosts
flood_dns_start
upstream_start
cat >"$T_DIR/gw.conf" <<CONF
audit = { path = "$T_AUDIT"; format = "json"; };
control_socket = "$T_DIR/control.sock";
workers = 1;
limits = { dns_tcp_per_guest = 120; };
groups = ( {
    name = "agents";
    guests = [ "$T_GUEST_NET" ];
    interfaces = [ "$T_GUEST_IFACE" ];
    capture = { mode = "redirect"; http_port = 3128; https_port = 3129; };
    policy = { default = "deny"; rules = ( { action = "allow"; host = ".fast.test"; } ); };
    dns = { mode = "gateway"; upstream = "$DNS2_IP"; listen_port = 5300;
      default = "allow"; max_unique_subdomains = 0; };
} );
CONF
rules_apply "$T_DIR/gw.conf" >"$T_DIR/rules.out" 2>&1 ||
    { cat "$T_DIR/rules.out" >&2; fail "rules apply failed"; }
start_bg gatewayd "$NS_GW" prlimit --nofile=64:64 "$GW_BIN" -c "$T_DIR/gw.conf"
wait_port "$NS_GW" 3128 10 || fail "gatewayd did not start"
GW_LOG=$T_DIR/gatewayd.out
probe() { on_guest 1 "$PY" "$FLOOD" probe "${GUEST_GW[1]}" "$INET_ECHO_IP" "$@"; }

out=$(probe 3 before)
case $out in "udp ok=3 fail=0"*"tcp ok=3 fail=0"*) ;; *) fail "DNS before: $out" ;; esac

# 100 held connections for 3 s: more than the descriptors left.
start_bg hold "${GUEST_NS[1]}" "$PY" "$FLOOD" tcp-hold "${GUEST_GW[1]}" 100 3
P=$(pid_of gatewayd)
P=$(pgrep -P "$P" gatewayd || echo "$P")
wait_for 10 sh -c "[ \$(ls /proc/$P/fd | wc -l) -ge 63 ]" ||
    fail "descriptors never ran out ($(ls /proc/$P/fd | wc -l) open)"
# no busy loop while it cannot accept: CPU over 1 s stays low
c0=$(awk '{print $14+$15}' "/proc/$P/stat")
sleep 1
c1=$(awk '{print $14+$15}' "/proc/$P/stat")
log "CPU while out of descriptors: $((c1 - c0)) ticks in 1 s"
[ $((c1 - c0)) -lt 10 ] || fail "gatewayd used $((c1 - c0)) ticks in 1 s while out of descriptors"
assert_match "$GW_LOG" 'dnsproxy: accept on port 5300, pausing 100 ms: Too many open files'
# the holder stops after 3 s; its connections then close or expire
wait_for 10 sh -c "! kill -0 $(pid_of hold) 2>/dev/null" || fail "the holder did not stop"
log "holder: $(cat "$T_DIR/hold.out")"

# the control socket answers, and DNS is served again (bounded retries)
ip netns exec "$NS_GW" "$GW_BIN" stats --socket "$T_DIR/control.sock" >"$T_DIR/stats.out" ||
    fail "the control socket does not answer after EMFILE"
dns_ok() {
	out=$(probe 3 "after$1")
	case $out in "udp ok=3 fail=0"*"tcp ok=3 fail=0"*) return 0 ;; esac
	return 1
}
for i in $(seq 10); do dns_ok "$i" && break; sleep 0.5; done
dns_ok last || fail "DNS not served again after EMFILE: $out"
stop_bg gatewayd || fail "gatewayd exited with status $? after EMFILE"
