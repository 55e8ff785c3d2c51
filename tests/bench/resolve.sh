#!/bin/bash
# tests/bench/resolve.sh - the resolver thread pool (gatewayd/resolver.c)
# against c-ares, by measurement (docs/performance.md).  As root: a
# namespace of its own with only loopback, tests/bench/dnsdelay.py on
# 127.0.0.1:53 (fast.test at once, slow.test after DELAY ms), its
# resolv.conf naming that server; then build/tests/bench_resolve in it for
# each mode, delay and number of guest A's slow names in flight.  Nothing
# leaves the namespace; it is deleted at the end.
#
# Knobs: DELAYS="200 2000" (ms), SLOW="0 32" (guest A's lookups in
# flight; 32 is limits.lookups_per_guest's default), SECS=5 per run,
# WINDOW=16 (guest B's lookups in flight), MODES="pool cares", RUNS=3,
# BUILD_DIR=build.
set -eu
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/tests/bench_resolve
[ -x "$BIN" ] || { echo "no $BIN: install libc-ares-dev (tests/bench/deps.sh) and rebuild" >&2; exit 1; }
DELAYS=${DELAYS:-200 2000}
SLOW=${SLOW:-0 32}
SECS=${SECS:-5}
RUNS=${RUNS:-3}
WINDOW=${WINDOW:-16}
MODES=${MODES:-pool cares}
NS=gwbench-dns-$$
SRV=

cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "/etc/netns/$NS"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "/etc/netns/$NS"
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:1\n' >"/etc/netns/$NS/resolv.conf"
printf '127.0.0.1 localhost\n' >"/etc/netns/$NS/hosts"

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); c-ares $(pkg-config --modversion libcares 2>/dev/null || echo ?)"
for d in $DELAYS; do
	ip netns exec "$NS" /usr/bin/python3 tests/bench/dnsdelay.py 127.0.0.1 "$d" &
	SRV=$!
	for i in $(seq 50); do
		ip netns exec "$NS" ss -lun | grep -q '127.0.0.1:53 ' && break
		sleep 0.1
	done
	for s in $SLOW; do
		for r in $(seq "$RUNS"); do
			for m in $MODES; do
				echo "delay_ms=$d run=$r $(timeout 90 ip netns exec "$NS" "$BIN" "$m" "$s" "$SECS" "$WINDOW")"
			done
		done
	done
	kill "$SRV"
	wait "$SRV" 2>/dev/null || true
	SRV=
done
