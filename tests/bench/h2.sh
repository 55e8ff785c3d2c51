#!/bin/bash
# tests/bench/h2.sh - HTTP/2 figures for docs/performance.md ("HTTP/2"):
#   1. what ALPN mirroring costs the guest's handshake: curl from the
#      guest through gatewayd to an nginx that speaks h2, offering
#      http/1.1 only (no wait) and h2 (the ServerHello waits for the
#      upstream handshake); N new connections each, medians of the TLS
#      handshake as the guest sees it (time_appconnect - time_connect) and
#      of the first byte; with no added delay and with DELAY_MS on the
#      upstream side
#   2. h2load (nghttp2-client) through gatewayd and direct (from the
#      gateway namespace, not captured): requests/s, mean and max request
#      time,
#      gatewayd CPU per request; and h2load --h1 through gatewayd.
# Not part of meson test.  As root: tests/bench/h2.sh
# Knobs: N=30 connections per handshake cell, DELAY_MS=20, REQS=20000,
# CLIENTS=10, STREAMS=10, BUILD_DIR (default build).
set -eu
: "${SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BUILD_DIR:=$SOURCE_DIR/build}"
export SOURCE_DIR BUILD_DIR
T_NAME=bench-h2
. "$SOURCE_DIR/tests/integration/lib.sh"
need_gatewayd
need_ca_tool
need_cmd h2load
N=${N:-30}
DELAY_MS=${DELAY_MS:-20}
REQS=${REQS:-20000}
CLIENTS=${CLIENTS:-10}
STREAMS=${STREAMS:-10}

topo_up isolated --guests 1
pki_ensure
www_ensure
H2_IP=198.18.0.40
ip -n "$NS_INET" addr add "$H2_IP/24" dev inet0
for ns in "$NS_GW" "${GUEST_NS[1]}"; do
	hosts_lines "$H2_IP" h2b.test >>"/etc/netns/$ns/hosts"
done
(cd "$T_DIR" && cp "$PKI/public-int.crt" "$PKI/public-int.key" . &&
    pki_leaf h2b public-int h2b.test "DNS:h2b.test")
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
        ssl_certificate $T_DIR/h2b.chain.pem;
        ssl_certificate_key $T_DIR/h2b.key;
        root $WWW;
    }
}
EOF
start_bg nginx "$NS_INET" nginx -p "$T_DIR/ngx" -c "$T_DIR/ngx/nginx.conf"
wait_bg_port nginx "$NS_INET" 443 "$H2_IP"
ca_generate agents
cat >"$T_DIR/gw.conf" <<EOF
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
# handshake PROTO: "hs_ms ttfb_ms" medians over N new connections
handshake() {
	local i f=$T_DIR/hs.$1
	: >"$f"
	for i in $(seq 1 "$N"); do
		guest_curl "--$1" -o /dev/null -w '%{time_connect} %{time_appconnect} %{time_starttransfer}\n' \
		    "https://h2b.test/1k?n=$i" >>"$f"
	done
	echo "$(awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' "$f" | median)" \
	    "$(awk '{ printf "%.3f\n", $3 * 1000 }' "$f" | median)"
}
gw_cpu() { awk '{ print $14 + $15 }' "/proc/$(gw_pid)/stat"; }
# load WHERE ARGS: h2load's req/s and p99 (ms), gatewayd CPU ms/request
load() {
	local where=$1 out=$T_DIR/h2load.$2 c0 c1 hz
	shift 2
	hz=$(getconf CLK_TCK)
	c0=$(gw_cpu)
	if [ "$where" = guest ]; then
		in_guest timeout 120 h2load "$@" >"$out" 2>&1 || true
	else
		in_gw timeout 120 h2load "$@" >"$out" 2>&1 || true
	fi
	c1=$(gw_cpu)
	awk -v c="$((c1 - c0))" -v hz="$hz" -v n="$REQS" '
	    /finished in/ { rps = $4 }
	    /^time for request:/ { mean = $6; max = $5 }
	    END { printf "%s req/s, request time mean %s max %s, gatewayd " \
	        "%.1f us CPU/request", rps, mean, max, c * 1000000 / hz / n }' "$out"
	echo
}

log "handshake, no delay"
hs1=$(handshake http1.1)
hs2=$(handshake http2)
hs1d="n/a n/a" hs2d="n/a n/a"
if ip netns exec "$NS_INET" tc qdisc add dev inet0 root netem delay "${DELAY_MS}ms" 2>/dev/null; then
	log "handshake, ${DELAY_MS} ms upstream delay"
	hs1d=$(handshake http1.1)
	hs2d=$(handshake http2)
	ip netns exec "$NS_INET" tc qdisc del dev inet0 root
else
	log "no netem in this kernel: no delayed cells"
fi
url=https://h2b.test/1k
h2g=$(load guest h2 -n "$REQS" -c "$CLIENTS" -m "$STREAMS" "$url")
h2d=$(load gw h2d -n "$REQS" -c "$CLIENTS" -m "$STREAMS" "$url")
h1g=$(load guest h1 --h1 -n "$REQS" -c "$CLIENTS" "$url")
cat <<EOF
| measure | http/1.1 offered | h2 offered (mirrored) |
|---|---|---|
| guest TLS handshake, median ms (no delay) | ${hs1% *} | ${hs2% *} |
| first byte, median ms (no delay) | ${hs1#* } | ${hs2#* } |
| guest TLS handshake, median ms (${DELAY_MS} ms upstream) | ${hs1d% *} | ${hs2d% *} |
| first byte, median ms (${DELAY_MS} ms upstream) | ${hs1d#* } | ${hs2d#* } |

h2load -n $REQS -c $CLIENTS -m $STREAMS, 1 KiB body:
- through gatewayd (h2 both sides): $h2g
- direct from the gateway namespace: $h2d
- through gatewayd, --h1 (HTTP/1.1 keep-alive, -c $CLIENTS): $h1g
EOF
for f in "$T_DIR"/h2load.*; do
	echo "--- $(basename "$f")"
	grep -E 'finished in|requests:|time for request|status codes' "$f"
done
gw_stop || true
