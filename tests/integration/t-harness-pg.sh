#!/bin/bash
# t-harness-pg: PostgreSQL in the internet namespace answers psql from a
# guest through the (plain forwarding) gateway, by name, IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
need_cmd psql

topo_up bridge --guests 1 --ipv6
pg_start
out=$(in_guest psql -h db.test -U test -d postgres -Atc 'select 6 * 7')
assert_eq 42 "$out" "psql over IPv4"
out=$(in_guest psql -h "$INET_DB_IP6" -U test -d postgres -Atc \
    'select inet_client_addr()')
assert_eq "${GUEST_IP6[1]}" "$out" "psql over IPv6 sees the guest's address"
assert_match "$T_DIR/postgres.out" "connection received: host=${GUEST_IP[1]}"
