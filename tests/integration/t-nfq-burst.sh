#!/bin/bash
# t-nfq-burst: the queue keeps up with a burst of new flows: NFQ_BURST
# (default 1000) concurrent TCP connects from one guest to an allowed port
# all connect, each has one audit line, and the counters agree.
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
wait_for 5 test "$(count_match "$NFQ_AUDIT" "dst=$INET_MAIN_IP:7000 .*verdict=accept")" -ge "$n" ||
    fail "audit: $(count_match "$NFQ_AUDIT" "dst=$INET_MAIN_IP:7000") lines for $n flows"
kill -USR1 "$(pid_of nfq)"
wait_match "$T_DIR/nfq.out" "stats nfq packets="
line=$(grep "stats nfq" "$T_DIR/nfq.out" | tail -n 1)
log "$line"
pk=$(sed -E 's/.*packets=([0-9]+).*/\1/' <<<"$line")
ac=$(sed -E 's/.*accepted=([0-9]+).*/\1/' <<<"$line")
[ "$ac" -ge "$n" ] || fail "accepted=$ac < $n"
[ "$pk" = "$ac" ] || fail "packets=$pk but accepted=$ac (SYN retransmits or drops)"
