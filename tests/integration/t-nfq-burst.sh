#!/bin/bash
# t-nfq-burst: the queue keeps up with a burst of new flows: NFQ_BURST
# (default 1000) concurrent TCP connects from one guest to an allowed port
# all connect, each has one audit line, and the counters (control socket
# STATS) agree.
. "$(dirname "$0")/lib.sh"
. "$T_LIB_DIR/lib-nfq.sh"

n=${NFQ_BURST:-1000}
nfq_up
in_inet sysctl -qw net.core.somaxconn=4096 || true
t0=$(date +%s%N)
out=$(nfq_tool burst "$INET_MAIN_IP" 7000 "$n" 20)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
log "burst of $n new flows: $out in ${ms} ms"
assert_eq "connected=$n refused=0 timeout=0 error=0" "$out" "burst result"
burst_lines() { audit_count dst="$INET_MAIN_IP:7000" verdict=accept; }
burst_logged() { [ "$(burst_lines)" -ge "$n" ]; }
wait_for 5 burst_logged ||
    fail "audit: $(burst_lines) accept lines for $n flows"
pk=$(nfq_stats nfq_packets)
ac=$(nfq_stats nfq_accepted)
log "stats: nfq_packets=$pk nfq_accepted=$ac nfq_batches=$(nfq_stats nfq_batches) nfq_overruns=$(nfq_stats nfq_overruns)"
[ "$ac" -ge "$n" ] || fail "nfq_accepted=$ac < $n"
[ "$pk" = "$ac" ] || fail "nfq_packets=$pk but nfq_accepted=$ac (SYN retransmits or drops)"
