#!/bin/bash
# tests/bench/h2.sh - HTTP/2 figures for docs/performance.md ("HTTP/2"):
#   1. what a first request to a never-seen name costs, and what ALPN
#      mirroring adds to it: curl from the guest through gatewayd to an
#      nginx that speaks h2, offering http/1.1 only (no wait) and h2 (the
#      ServerHello waits for the upstream handshake); for each of FIRST_N
#      names per protocol, a first request on a new connection, then a
#      second new connection to the same name (paired: first - second is
#      what the new name adds); once with the upstream next door and once
#      with DELAY_MS of round trip (delayrelay.py in front of nginx: this
#      kernel has no sch_netem); firstreq.py prints the table
#   2. h2load (nghttp2-client) through gatewayd and direct (from the
#      gateway namespace, not captured): requests/s, mean and max request
#      time, gatewayd CPU per request; and h2load --h1 through gatewayd.
#   3. gRPC unary calls/s (python3-grpcio, grpc_calls.py, against the
#      server of tests/integration/grpc_test.py): from the guest through
#      gatewayd and from the gateway namespace direct, on one channel and
#      on GRPC_CHANNELS channels; gatewayd CPU per call.
#   4. the same h2load with REQS_MITM requests (mitmproxy is slow) through
#      gatewayd and through mitmproxy (mitmdump --mode transparent, started
#      as modes.sh starts it, behind the same kind of nat redirect, after
#      gatewayd is stopped and its rules removed); the proxy's CPU per
#      request (/proc/PID/stat utime + stime, all threads).
# Then markdown tables with the ratios.
# Not part of meson test.  As root: tests/bench/h2.sh
# Knobs: FIRST_N=100 names per protocol and delay, DELAY_MS=20, REQS=20000,
# REQS_MITM=2000, CLIENTS=10, STREAMS=10, CALLS=5000, GRPC_CHANNELS=4,
# GW_BASE_BIN=path (GW_BASE_REV=label): after this build's cells, the
# first-request test and the two gatewayd h2load cells again with that
# other gatewayd binary (say, main), same configuration, same run.
# BUILD_DIR (default build), FIRST_ONLY=1 (only the first-request test),
# PROFILE=perf PROFILE_OUT=DIR: gatewayd sampled by perf during the
# REQS-request h2load cell and the 1-channel gRPC cell (DIR/h2.perf*.txt,
# DIR/grpc1.perf*.txt: flat and inclusive profiles, as measure.sh makes;
# default BUILD_DIR/h2-profile), GW_LOG_LEVEL=debug (gatewayd's log_level)
# with KEEP_LOG=FILE (FIRST_ONLY: its output copied there), BUILD_DIR as
# an absolute path.  H2_ONLY=1: only the REQS-request h2 cells (this
# build, direct, GW_BASE_BIN): no first requests, --h1, gRPC or mitmproxy.
set -eu
: "${SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BUILD_DIR:=$SOURCE_DIR/build}"
export SOURCE_DIR BUILD_DIR
T_NAME=bench-h2
. "$SOURCE_DIR/tests/integration/lib.sh"
. "$SOURCE_DIR/tests/bench/modes.sh"
. "$SOURCE_DIR/tests/bench/measure.sh"	# profile_stop
need_gatewayd
need_ca_tool
need_cmd h2load
need_cmd mitmdump
"$PY" -c 'import grpc' 2>/dev/null || error "python3-grpcio is missing"
FIRST_N=${FIRST_N:-100}
FIRST_ONLY=${FIRST_ONLY:-0}
H2_ONLY=${H2_ONLY:-0}
PROFILE_OUT=${PROFILE_OUT:-$BUILD_DIR/h2-profile}
DELAY_MS=${DELAY_MS:-20}
REQS=${REQS:-20000}
REQS_MITM=${REQS_MITM:-2000}
CLIENTS=${CLIENTS:-10}
STREAMS=${STREAMS:-10}
CALLS=${CALLS:-5000}
GRPC_CHANNELS=${GRPC_CHANNELS:-4}

log "load average (1, 5, 15 min) before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
topo_up isolated --guests 1
pki_ensure
www_ensure
H2_IP=198.18.0.40
GRPC_IP=198.18.0.41
RELAY_IP=198.18.0.42
ip -n "$NS_INET" addr add "$H2_IP/24" dev inet0
ip -n "$NS_INET" addr add "$GRPC_IP/24" dev inet0
ip -n "$NS_INET" addr add "$RELAY_IP/24" dev inet0
# never-seen names for the first-request test: TAG-PROTO-I.h2b.test, TAG
# d0 on nginx itself and dDELAY_MS behind the delaying relay (b0, bDELAY_MS:
# the same for GW_BASE_BIN); one hosts line per name (getaddrinfo scans
# lines, not aliases)
FIRST_TAGS="d0 d$DELAY_MS"
[ -z "${GW_BASE_BIN:-}" ] || FIRST_TAGS="$FIRST_TAGS b0 b$DELAY_MS"
: >"$T_DIR/first.hosts"
for tag in $FIRST_TAGS; do
	ip=$RELAY_IP
	[ "${tag:1}" = 0 ] && ip=$H2_IP
	for ((i = 1; i <= FIRST_N; i++)); do
		echo "$ip $tag-h1-$i.h2b.test"
		echo "$ip $tag-h2-$i.h2b.test"
	done
done >>"$T_DIR/first.hosts"
for ns in "$NS_GW" "${GUEST_NS[1]}"; do
	hosts_lines "$H2_IP" h2b.test >>"/etc/netns/$ns/hosts"
	hosts_lines "$GRPC_IP" grpcb.test >>"/etc/netns/$ns/hosts"
	cat "$T_DIR/first.hosts" >>"/etc/netns/$ns/hosts"
done
(cd "$T_DIR" && cp "$PKI/public-int.crt" "$PKI/public-int.key" . &&
    pki_leaf h2b public-int h2b.test "DNS:h2b.test,DNS:*.h2b.test" &&
    pki_leaf grpcb public-int grpcb.test "DNS:grpcb.test")
mkdir -p "$T_DIR/ngx/tmp"
cat >"$T_DIR/ngx/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $T_DIR/ngx/nginx.pid;
error_log $T_DIR/ngx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $T_DIR/ngx/tmp;
    keepalive_requests 1000000;
    server {
        listen $H2_IP:443 ssl http2;
        server_name h2b.test;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $T_DIR/h2b.chain.pem;
        ssl_certificate_key $T_DIR/h2b.key;
        root $WWW;
    }
}
EOF
start_bg nginx "$NS_INET" nginx -p "$T_DIR/ngx" -c "$T_DIR/ngx/nginx.conf"
wait_bg_port nginx "$NS_INET" 443 "$H2_IP"
start_bg relay "$NS_INET" "$PY" "$SOURCE_DIR/tests/bench/delayrelay.py" \
    "$RELAY_IP:443" "$H2_IP:443" "$DELAY_MS"
wait_bg_port relay "$NS_INET" 443 "$RELAY_IP"
# the server writes one line per call: to /dev/null, so that it costs less
start_bg grpcsrv "$NS_INET" "$PY" "$T_LIB_DIR/grpc_test.py" server \
    --listen "$GRPC_IP:443" --cert "$T_DIR/grpcb.chain.pem" \
    --key "$T_DIR/grpcb.key" --log /dev/null
wait_bg_port grpcsrv "$NS_INET" 443 "$GRPC_IP"
ca_generate agents
cat >"$T_DIR/gw.conf" <<EOF
log_level = "${GW_LOG_LEVEL:-info}";
trust_file = "$PKI/public-root.crt";
audit = { path = "$T_DIR/audit.log"; format = "json"; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "redirect"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  policy = { default = "allow"; }; } );
EOF
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# first TAG: for each of FIRST_N names per protocol (TAG-PROTO-I.h2b.test,
# never seen by gatewayd), a first request on a new connection and then a
# second new connection to the same name, from one loop in the guest; the
# two protocols alternate which goes first.  Appends one line per name and
# protocol to first.txt (firstreq.py reads them).
first() {
	local w='%{http_version} %{time_connect} %{time_appconnect} %{time_starttransfer}'
	local run=in_guest ca=$T_GUEST_CA tag=$1
	if [ "${2:-}" = direct ]; then
		run=in_gw ca=$PKI/public-root.crt tag=direct-$1
	fi
	$run bash -c '
		tag=$1 n=$2 ca=$3 w=$4
		get() { curl -q -sS --noproxy "*" --connect-timeout 5 \
		    --max-time 20 --cacert "$ca" --capath /nonexistent \
		    -o /dev/null -w "$w" "--$1" "https://$2/1k" 2>/dev/null ||
		    echo "failed"; }
		for ((i = 1; i <= n; i++)); do
			order="http1.1 http2"
			[ $((i % 2)) = 0 ] && order="http2 http1.1"
			for p in $order; do
				name=${tag#direct-}-h${p#http}-$i.h2b.test
				name=${name/h1.1-/h1-}
				a=$(get "$p" "$name")
				b=$(get "$p" "$name")
				set -- $a
				v1=$1; shift
				set -- $b
				v2=$1; shift
				echo "$tag ${p/http2/h2} $v1 $v2 ${a#* } ${b#* }"
			done
		done' first "$tag" "$FIRST_N" "$ca" "$w" >>"$T_DIR/first.txt"
}
# prof_start NAME / prof_stop: with PROFILE=perf, sample gatewayd meanwhile
# into $PROFILE_OUT/NAME.perf.data, then profile_stop (measure.sh) writes
# the reports beside it.
PROF_PID= PROF_BASE=
prof_start() {
	[ "${PROFILE:-}" = perf ] || return 0
	mkdir -p "$PROFILE_OUT"
	PROF_BASE=$PROFILE_OUT/$1
	perf record -q -e cpu-clock -F 1999 --call-graph dwarf,16384 \
	    -p "$(gw_pid)" -o "$PROF_BASE.perf.data" >/dev/null 2>&1 &
	PROF_PID=$!
	sleep 0.5	# perf attached
}
prof_stop() {
	[ -n "$PROF_PID" ] || return 0
	kill -INT "$PROF_PID" 2>/dev/null || true
	PERF_PID=$PROF_PID PROF_PID=
	profile_stop "$PROF_BASE"
}
# cpu_ticks PID: the process's user + system CPU in clock ticks (all threads)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# load WHERE TAG PID N ARGS...: h2load ARGS (N requests) from WHERE (guest
# or gw); prints "req/s mean max CPU-us-per-request-of-PID succeeded/N"
# (PID "-": no proxy on the path, CPU "-").  CPU is counted in clock
# ticks (10 ms): coarse for a short cell.
load() {
	local where=$1 out=$T_DIR/h2load.$2 pid=$3 n=$4 c0=0 c1=0 hz run=in_gw
	shift 4
	hz=$(getconf CLK_TCK)
	[ "$where" = guest ] && run=in_guest
	[ "$pid" = - ] || c0=$(cpu_ticks "$pid")
	$run timeout 120 h2load "$@" >"$out" 2>&1 || true
	[ "$pid" = - ] || c1=$(cpu_ticks "$pid")
	awk -v c="$((c1 - c0))" -v hz="$hz" -v n="$n" -v p="$pid" '
	    /finished in/ { rps = $4 }
	    /^requests:/ { ok = $8 }
	    /^time for request:/ { mean = $6; max = $5 }
	    END { printf "%s %s %s %s %d/%d\n", rps ? rps : "-", mean ? mean : "-",
	        max ? max : "-", p == "-" ? "-" : sprintf("%.1f", c * 1000000 / hz / n),
	        ok, n }' "$out"
}
# grpc WHERE CA CHANNELS: "calls/s gatewayd-CPU-us-per-call" of CALLS
# unary calls (grpc_calls.py) from WHERE (guest or gw); "- -" if it failed
grpc() {
	local out=$T_DIR/grpc.$1.$3 pid c0 c1 hz run=in_gw
	hz=$(getconf CLK_TCK)
	[ "$1" = guest ] && run=in_guest
	pid=$(gw_pid)
	c0=$(cpu_ticks "$pid")
	if ! $run env GRPC_DNS_RESOLVER=native timeout 300 "$PY" \
	    "$SOURCE_DIR/tests/bench/grpc_calls.py" --target grpcb.test:443 \
	    --cafile "$2" --calls "$CALLS" --channels "$3" >"$out" 2>&1; then
		log "grpc from $1, $3 channels, failed: $(tail -n 1 "$out")"
		echo "- -"
		return
	fi
	c1=$(cpu_ticks "$pid")
	awk -v c="$((c1 - c0))" -v hz="$hz" \
	    '{ printf "%s %.1f\n", $3, c * 1000000 / hz / $1 }' "$out"
}
# ratio A B: A / B to two decimals, "-" unless both are positive numbers
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0)
	    printf "%.2f", a / b; else printf "-" }'
}
# field K "A B C ...": the K-th word
field() { awk -v k="$1" '{ print $k }' <<<"$2"; }
# row LABEL REQUESTS RESULT: a table row of a load() result
row() {
	local rps mean max cpu ok
	read -r rps mean max cpu ok <<<"$3"
	echo "| $1 | $2 | $rps | $mean | $max | $cpu | $ok |"
}

: >"$T_DIR/first.txt"
# firsts T: the first-request test with tags T0 and T$DELAY_MS
firsts() {
	[ "$H2_ONLY" = 1 ] && return 0
	log "first requests to $FIRST_N new names per protocol, no delay"
	first "${1}0"
	log "first requests to $FIRST_N new names per protocol, ${DELAY_MS} ms upstream round trip"
	first "$1$DELAY_MS"
}
# base_cells: GW_BASE_BIN in place of gatewayd (stopped), then stopped
h2b="- - - - 0/$REQS" h1b="- - - - 0/$REQS"
base_cells() {
	[ -n "${GW_BASE_BIN:-}" ] || return 0
	gw_stop || true
	GW_BIN=$GW_BASE_BIN gw_start "$T_DIR/gw.conf"
	log "GW_BASE_BIN ${GW_BASE_REV:-}: $GW_BASE_BIN"
	firsts b
	[ "$FIRST_ONLY" = 1 ] && return 0
	h2b=$(load guest h2-base "$(gw_pid)" "$REQS" -n "$REQS" "${h2[@]}")
	[ "$H2_ONLY" = 1 ] && return 0
	h1b=$(load guest h1-base "$(gw_pid)" "$REQS" --h1 -n "$REQS" -c "$CLIENTS" "$url")
}
url=https://h2b.test/1k
h2=(-c "$CLIENTS" -m "$STREAMS" "$url")
firsts d
if [ "$H2_ONLY" != 1 ]; then
	log "the same names, direct from the gateway namespace"
	first d0 direct
	first "d$DELAY_MS" direct
fi
if [ "$FIRST_ONLY" = 1 ]; then
	base_cells
	"$PY" "$SOURCE_DIR/tests/bench/firstreq.py" "$T_DIR/first.txt"
	[ -z "${KEEP_LOG:-}" ] || cp "$GW_LOG" "$KEEP_LOG"
	exit 0
fi
gpid=$(gw_pid)
log "h2load, $REQS requests"
prof_start h2
h2g=$(load guest h2 "$gpid" "$REQS" -n "$REQS" "${h2[@]}")
prof_stop
h2d=$(load gw h2d - "$REQS" -n "$REQS" "${h2[@]}")
if [ "$H2_ONLY" = 1 ]; then
	base_cells
	gw_stop || true
	echo "h2load -c $CLIENTS -m $STREAMS, $REQS requests, GET 1 KiB:"
	echo "| path | req/s | mean | max | gatewayd CPU us/request | succeeded |"
	echo "| direct | $h2d |"
	echo "| gatewayd | $h2g |"
	[ -z "${GW_BASE_BIN:-}" ] || echo "| GW_BASE_BIN ${GW_BASE_REV:-} | $h2b |"
	echo "ratio gatewayd/direct $(ratio "$(field 1 "$h2g")" "$(field 1 "$h2d")")"
	[ -z "${GW_BASE_BIN:-}" ] || echo "ratio base/direct $(ratio "$(field 1 "$h2b")" "$(field 1 "$h2d")")"
	exit 0
fi
h1g=$(load guest h1 "$gpid" "$REQS" --h1 -n "$REQS" -c "$CLIENTS" "$url")
h2gm=$(load guest h2-small "$gpid" "$REQS_MITM" -n "$REQS_MITM" "${h2[@]}")
log "gRPC unary, $CALLS calls per cell"
prof_start grpc1
g1g=$(grpc guest "$T_GUEST_CA" 1)
prof_stop
g1d=$(grpc gw "$PKI/public-root.crt" 1)
gNg=$(grpc guest "$T_GUEST_CA" "$GRPC_CHANNELS")
gNd=$(grpc gw "$PKI/public-root.crt" "$GRPC_CHANNELS")
base_cells
firsttab=$("$PY" "$SOURCE_DIR/tests/bench/firstreq.py" "$T_DIR/first.txt")
gw_stop || true
rules_remove "$T_DIR/gw.conf" >/dev/null || true

# mitmproxy signs with the same group CA (key and certificate in one file)
log "h2load through $(mode_version mitmproxy), $REQS_MITM requests"
B_RUN=$T_DIR B_CA_DIR=$T_DIR/mitm-ca B_PUBLIC_ROOT=$PKI/public-root.crt
mkdir -p "$B_CA_DIR"
cp "$T_CA_DIR/ca.crt" "$B_CA_DIR/ca.crt"
cat "$T_CA_DIR/ca.key" "$T_CA_DIR/ca.crt" >"$B_CA_DIR/ca.pem"
h2m="- - - 0 0/$REQS_MITM"
if start_mitmproxy; then
	h2m=$(load guest h2-mitm "$(pid_of mode-mitmproxy)" "$REQS_MITM" \
	    -n "$REQS_MITM" "${h2[@]}")
else
	log "mitmdump did not start"
fi
mode_stop mitmproxy || true
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

cat <<EOF
First requests (tag d: this build, b: GW_BASE_BIN ${GW_BASE_REV:-}, direct-d: no proxy; the number: the upstream round trip in ms added by delayrelay.py):

$firsttab

h2load -c $CLIENTS -m $STREAMS, GET 1 KiB; CPU is the proxy's, per request:

| path | requests | req/s | request time mean | max | proxy CPU us/request | succeeded |
|---|---|---|---|---|---|---|
$(row "direct (gateway ns), h2" "$REQS" "$h2d")
$(row "gatewayd, h2 both sides" "$REQS" "$h2g")
$(row "gatewayd, --h1 keep-alive" "$REQS" "$h1g")
$([ -z "${GW_BASE_BIN:-}" ] || row "GW_BASE_BIN ${GW_BASE_REV:-}, h2 both sides" "$REQS" "$h2b")
$([ -z "${GW_BASE_BIN:-}" ] || row "GW_BASE_BIN ${GW_BASE_REV:-}, --h1 keep-alive" "$REQS" "$h1b")
$(row "gatewayd, h2 both sides" "$REQS_MITM" "$h2gm")
$(row "mitmproxy, h2 both sides" "$REQS_MITM" "$h2m")

gRPC unary calls, $CALLS per cell (python3-grpcio client and server):

| path | calls/s, 1 channel | gatewayd CPU us/call | calls/s, $GRPC_CHANNELS channels | gatewayd CPU us/call |
|---|---|---|---|---|
| direct (gateway ns) | ${g1d% *} | - | ${gNd% *} | - |
| gatewayd | ${g1g% *} | ${g1g#* } | ${gNg% *} | ${gNg#* } |

| ratio | value |
|---|---|
| h2load req/s, gatewayd / direct ($REQS requests) | $(ratio "$(field 1 "$h2g")" "$(field 1 "$h2d")") |
| h2load req/s, gatewayd / mitmproxy ($REQS_MITM requests) | $(ratio "$(field 1 "$h2gm")" "$(field 1 "$h2m")") |
| proxy CPU per request, mitmproxy / gatewayd ($REQS_MITM requests) | $(ratio "$(field 4 "$h2m")" "$(field 4 "$h2gm")") |
| gRPC calls/s, gatewayd / direct, 1 channel | $(ratio "${g1g% *}" "${g1d% *}") |
| gRPC calls/s, gatewayd / direct, $GRPC_CHANNELS channels | $(ratio "${gNg% *}" "${gNd% *}") |
EOF
for f in "$T_DIR"/h2load.*; do
	echo "--- $(basename "$f")"
	grep -E 'finished in|requests:|time for request|status codes' "$f"
done
