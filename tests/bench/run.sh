#!/bin/bash
# tests/bench/run.sh - gatewayd against Squid, sslsplit and mitmproxy, side
# by side, on this machine, in one run (issue 8).  Not a test: it prints
# figures.
#
# As root (or through sudo):
#   tests/bench/run.sh                 # everything, ~9 min on 2 cores
#   DUR=5 RUNS=2 MODES="direct gatewayd" tests/bench/run.sh
#
# Topology (the integration harness, tests/integration/lib.sh, isolated
# variant): guest namespace -> gateway namespace (the same nftables capture
# for every interceptor, the interceptor itself) -> "internet" namespace
# (nginx: /1k /64k /10m over HTTP and HTTPS, *.bench.test, EC P-256 from a
# local public root).  Nothing touches the root namespace's network; every
# process is started and stopped by PID; every loop is bounded.
#
# Per mode (one at a time): start, functional checks from the guest, then
# RUNS x DUR seconds of each of TESTS with wrk from the guest:
#   ka    HTTPS keep-alive GET /1k, CONNS connections
#   full  HTTPS new connection per request (Connection: close), the client
#         never resumes (noresume.so), CONNS connections
#   bulk  HTTPS keep-alive GET /10m, BULK_CONNS connections
#   http  plain HTTP keep-alive GET /1k, CONNS connections
# then SNI_N first requests to never-seen names, IDLE idle connections held
# (RSS per connection), and for the modes in HOLD_MODES, HOLD connections
# held at once.  report.py prints the table and writes DOC.
#
# Knobs: DUR=8 RUNS=2 CONNS=50 BULK_CONNS=4 THREADS=1 SNI_N=300 IDLE=1000
# HOLD=10000 HOLD_MODES=gatewayd MODES="direct gatewayd sslsplit squid
# mitmproxy" TESTS="ka full bulk http" DOC=docs/performance.md (empty: do
# not write) NO_DEPS=1 (do not apt-get) B_OUT=dir (results, kept)
# PROFILE=perf|strace (samples gatewayd in the first run of each test)
# GW_WRAP="valgrind --tool=callgrind ..." (runs gatewayd under it).
# GW_BASE_BIN=path (GW_BASE_REV=label): add mode gwbase to MODES to run
# that other gatewayd binary (say, the commit before a change) with the
# same configuration: before and after side by side in one run.
# BUILD_DIR (default build-bench, made with meson if missing).

B_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SOURCE_DIR:=$(cd "$B_DIR/../.." && pwd)}"
: "${BUILD_DIR:=$SOURCE_DIR/build-bench}"
T_NAME=bench
export SOURCE_DIR BUILD_DIR

DUR=${DUR:-8}
RUNS=${RUNS:-2}
CONNS=${CONNS:-50}
BULK_CONNS=${BULK_CONNS:-4}
THREADS=${THREADS:-1}
SNI_N=${SNI_N:-300}
IDLE=${IDLE:-1000}
HOLD=${HOLD:-10000}
HOLD_MODES=${HOLD_MODES:-gatewayd}
HOLD_S=${HOLD_S:-3}
# idle test: RSS again after the connections sat idle this long (gatewayd
# closes a kept-alive upstream after limits.upstream_idle_timeout, 5 s)
IDLE_SETTLE_S=${IDLE_SETTLE_S:-12}
export IDLE_SETTLE_S
HOLD_DEADLINE=${HOLD_DEADLINE:-150}
MODES=${MODES:-direct gatewayd sslsplit squid mitmproxy}
TESTS=${TESTS:-ka full bulk http}
DOC=${DOC-docs/performance.md}
CMDLINE="$(printf '%q ' "$0" "$@")"

if [ "$(id -u)" != 0 ]; then
	echo "run.sh: needs root (network namespaces): run it as root" \
	    "(or: sudo $0)" >&2
	exit 1
fi
for v in DUR RUNS CONNS BULK_CONNS THREADS SNI_N IDLE HOLD; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "$v must be a number" >&2; exit 2; }
done
[ "$DUR" -ge 2 ] && [ "$DUR" -le 60 ] || { echo "DUR: 2..60" >&2; exit 2; }
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 5 ] || { echo "RUNS: 1..5" >&2; exit 2; }
[ "$CONNS" -le 2000 ] && [ "$BULK_CONNS" -le 100 ] && [ "$THREADS" -le 8 ] ||
    { echo "CONNS <= 2000, BULK_CONNS <= 100, THREADS <= 8" >&2; exit 2; }
[ "$SNI_N" -le 5000 ] && [ "$IDLE" -le 5000 ] && [ "$HOLD" -le 20000 ] ||
    { echo "SNI_N <= 5000, IDLE <= 5000, HOLD <= 20000" >&2; exit 2; }

[ "${NO_DEPS:-0}" = 1 ] || "$B_DIR/deps.sh" || exit 1

# gatewayd, built as it ships (debugoptimized: -O2 -g)
if [ ! -x "$BUILD_DIR/gatewayd/gatewayd" ]; then
	meson setup "$BUILD_DIR" "$SOURCE_DIR" -Dbuildtype=debugoptimized \
	    >/dev/null || exit 1
fi
ninja -C "$BUILD_DIR" gatewayd/gatewayd >/dev/null || exit 1

# 10,000 connections: 2 descriptors each in the proxy, one in the client
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"

# Each held connection costs the proxy two descriptors: cap HOLD to what
# this machine's hard limit allows (said in the results).
HOLD_CAP=$((($(ulimit -Hn) - 200) / 2))
if [ "$HOLD" -gt "$HOLD_CAP" ]; then
	echo "run.sh: HOLD=$HOLD needs $((2 * HOLD)) descriptors in the proxy;" \
	    "the hard limit is $(ulimit -Hn): HOLD=$HOLD_CAP" >&2
	HOLD=$HOLD_CAP
fi

. "$SOURCE_DIR/tests/integration/lib.sh"
. "$B_DIR/modes.sh"
. "$B_DIR/measure.sh"

for m in $MODES; do
	b=$(mode_binary "$m") || error "unknown mode $m"
	command -v "$b" >/dev/null || error "$m needs $b"
done
command -v wrk >/dev/null || error "wrk is not installed"

B_RUN=$T_DIR
: "${B_OUT:=/tmp/gwbench.$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$B_OUT"
gcc -O2 -Wall -shared -fPIC -o "$B_RUN/noresume.so" "$B_DIR/noresume.c" \
    -ldl -lssl || error "cannot build noresume.so"

bench_pki
topo_up isolated --guests 1
for ns in "$NS_GW" "$NS_INET" "${GUEST_NS[1]}"; do bench_tune "$ns"; done
bench_names
nginx_bench_start

{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "command=$CMDLINE"
	echo "knobs=DUR=$DUR RUNS=$RUNS CONNS=$CONNS BULK_CONNS=$BULK_CONNS THREADS=$THREADS SNI_N=$SNI_N IDLE=$IDLE HOLD=$HOLD HOLD_MODES=$HOLD_MODES"
	echo "modes=$MODES"
	echo "tests=$TESTS"
	echo "cpu=$(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "ram=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "openssl=$(openssl version)"
	echo "nginx=$(nginx -v 2>&1 | sed 's/^.*: //')"
	echo "wrk=wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null)"
	echo "python=$($PY --version 2>&1)"
	for m in $MODES; do echo "version_$m=$(mode_version "$m")"; done
	echo "nofile=$(ulimit -Hn)"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$B_OUT/meta.txt"

for mode in $MODES; do
	mkdir -p "$B_OUT/$mode"
	log "== $mode"
	if ! "start_$mode" >"$B_OUT/$mode/start.out" 2>&1; then
		log "$mode did not start: $(tail -n 5 "$B_OUT/$mode/start.out")"
		echo "status=did not start" >"$B_OUT/$mode/status.txt"
		mode_stop "$mode"
		continue
	fi
	if ! mode_check "$mode" >"$B_OUT/$mode/check.out" 2>&1; then
		log "$mode failed its checks: $(tail -n 3 "$B_OUT/$mode/check.out")"
		echo "status=failed the functional checks" >"$B_OUT/$mode/status.txt"
		mode_stop "$mode"
		continue
	fi
	for test in $TESTS; do
		for ((run = 1; run <= RUNS; run++)); do
			run_cell "$mode" "$test" "$run"
		done
	done
	sni_test "$mode"
	if [ "$mode" != direct ] && [ "$IDLE" -gt 0 ]; then
		hold_test "$mode" "$IDLE" idle "$IDLE_SETTLE_S"
	fi
	if [ "$HOLD" -gt 0 ] && [[ " $HOLD_MODES " == *" $mode "* ]]; then
		hold_test "$mode" "$HOLD" hold
	fi
	sleep 1
	echo "closewait_end=$(gw_closewait)" >"$B_OUT/$mode/end.txt"
	st=ok
	if [ "$mode" != direct ] && ! pid_alive "$(pid_of "mode-$mode")"; then
		st="died during the run"
	fi
	echo "status=$st" >"$B_OUT/$mode/status.txt"
	for f in "$B_RUN/$mode"/*.conf "$T_DIR/mode-$mode.out"; do
		[ -f "$f" ] && tail -n 200 "$f" >"$B_OUT/$mode/${f##*/}"
	done
	mode_stop "$mode"
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$B_OUT/meta.txt"

doc=()
[ -n "$DOC" ] && doc=(--doc "$SOURCE_DIR/$DOC")
"$PY" "$B_DIR/report.py" "$B_OUT" "${doc[@]}"
log "results in $B_OUT"
