#!/bin/bash
# t-nfq-flows: new non-HTTP flows judged through NFQUEUE.  PostgreSQL is
# reachable with psql only where a rule allows it: by address at once, by
# name only after the guest resolved the name through the gateway (and only
# for that guest).  A plain TCP server on a refused port answers with a
# reset; UDP to a refused port is dropped, to an allowed one passes.  Every
# decision is one audit line.
. "$(dirname "$0")/lib.sh"
# Guest 1 is a VM on Slicer's map: its flows carry the VM's name and host
# group; guest 2's, on no map, none.
. "$T_LIB_DIR/lib-nfq.sh"

need_cmd psql
NFQ_SLICER=1
nfq_up
pg_start "$PG_IP2"
g1=${GUEST_IP[1]}

out=$(guest_psql "$INET_DB_IP")
assert_eq 42 "$out" "psql by address ($INET_DB_IP)"
audit_wait kind=flow group="$NFQ_GROUP" client="$g1" proto=tcp \
    dst="$INET_DB_IP:5432" '!host' verdict=accept rule=pg-by-address \
    vm=agents-1 vm_group=agents

# The name rule does not open echo.test's address before it was resolved.
out=$(guest_psql "$PG_IP2")
assert_ne 42 "$out" "psql to $PG_IP2 before resolving echo.test"
audit_wait client="$g1" proto=tcp dst="$PG_IP2:5432" '!host' \
    verdict=drop rule=default

# Resolving it through the gateway opens it, for this guest only.
out=$(guest_psql echo.test)
assert_eq 42 "$out" "psql by name (echo.test)"
audit_wait client="$g1" proto=tcp dst="$PG_IP2:5432" host=echo.test \
    verdict=accept rule=pg-by-name
out=$(T_GUEST=2 guest_psql "$PG_IP2")
assert_ne 42 "$out" "guest 2 by address after guest 1 resolved"
audit_wait client="${GUEST_IP[2]}" proto=tcp dst="$PG_IP2:5432" \
    verdict=drop '!vm' '!vm_group' '!tags'

# A refused TCP port gets a reset, at once.
out=$(nfq_tool tcp "$INET_ECHO_IP" 2222 5)
log "tcp 2222: $out"
case $out in "refused "*) ;; *) fail "plain TCP to a reset rule: $out" ;; esac
[ "${out#refused }" -lt 2000 ] || fail "reset took ${out#refused } ms"
audit_wait dst="$INET_ECHO_IP:2222" host=echo.test verdict=reset \
    rule=plain-tcp-reset
# A port with no rule: dropped (default deny), so the connect times out.
out=$(nfq_tool tcp "$INET_ECHO_IP" 7002 2)
case $out in "timeout "*) ;; *) fail "TCP to a default-deny port: $out" ;; esac

# UDP: the allowed port answers, the refused one never sees the datagram.
assert_eq reply "$(nfq_tool udp "$INET_ECHO_IP" 7001 2)" "UDP to an allowed port"
assert_eq timeout "$(nfq_tool udp "$INET_ECHO_IP" 7002 2)" "UDP to a refused port"
assert_no_match "$T_DIR/udp7002.log" . "the refused UDP server got a datagram"
audit_wait proto=udp dst="$INET_ECHO_IP:7002" verdict=drop rule=default
audit_assert proto=udp dst="$INET_ECHO_IP:7001" verdict=accept rule=udp-ok
log "audit lines: $(audit_count kind=flow) flows"
