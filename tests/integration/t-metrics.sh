#!/bin/bash
# t-metrics: gatewayd's Prometheus endpoint.  Requests through the gateway
# (allowed, denied, one with a credential injected) move the counters by
# exactly what was sent; `gatewayd stats` reads the same numbers;
# `promtool check metrics` accepts the real output; only GET /metrics is
# served; a reload applied and one refused are counted; the config hash is
# the file's SHA-256; and a real Prometheus server, started here in the
# gateway namespace, scrapes gatewayd and its query API shows the request
# counter moving.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool
need_cmd promtool
need_cmd prometheus

topo_up isolated --guests 1
inet_up
upstream_start
ca_generate agents
umask 077
printf '%s\n' ghp_METRICSREAL0123456789 >"$T_DIR/github.token"
CTL=$T_DIR/control.sock
MX=127.0.0.1:9477
write_conf() { # EXTRA_RULE
	cat >"$T_DIR/gw.conf" <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$CTL";
audit = { path = "$T_AUDIT"; format = "json"; };
metrics = { listen = "$MX"; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  policy = { default = "allow";
    rules = ( { name = "no-hn"; action = "deny";
      host = "news.ycombinator.com"; }$1 ); };
  secrets = (
    { name = "github"; host = "api.github.com"; path = "/repos/";
      format = "Bearer %s"; file = "$T_DIR/github.token";
      placeholder = "GITHUB_PLACEHOLDER"; } ); } );
EOF
}
write_conf ""
rules_apply "$T_DIR/gw.conf" >/dev/null
GW_PORTS="3128 3129 9477" gw_start "$T_DIR/gw.conf"

scrape() { # FILE: the whole /metrics answer body
	in_gw curl -sS --max-time 5 -o "$1" -w '%{http_code}' "http://$MX/metrics" >"$1.code" ||
	    fail "scraping http://$MX/metrics failed"
	[ "$(cat "$1.code")" = 200 ] || fail "/metrics answered $(cat "$1.code")"
}
# val FILE SERIES: the value of one exact series line (0 when absent).
# (label values may hold spaces: the value is the last field)
val() {
	awk -v s="$2" '{ v = $NF; k = $0; sub(/ [^ ]*$/, "", k) }
	    k == s { r = v } END { print r + 0 }' "$1"
}
# delta SERIES: its value in after minus before.
delta() { echo $(($(val "$T_DIR/m1" "$1") - $(val "$T_DIR/m0" "$1"))); }
sum_of() { # FILE METRIC: the sum over every series of METRIC
	awk -v m="$2" 'index($0, m "{") == 1 || $1 == m { v += $NF } END { print v + 0 }' "$1"
}

scrape "$T_DIR/m0"
promtool check metrics <"$T_DIR/m0" >"$T_DIR/promtool0.out" 2>&1 ||
    { cat "$T_DIR/promtool0.out" >&2; fail "promtool check metrics refused the idle output"; }

# the file's SHA-256, as sha256sum prints it
sha=$(sha256sum "$T_DIR/gw.conf" | cut -d' ' -f1)
assert_match "$T_DIR/m0" "^gatewayd_config_info\\{hash=\"$sha\"\\} 1\$" "config hash"
assert_match "$T_DIR/m0" '^gatewayd_build_info\{version="[^"]+"\} 1$' "build info"

# three connections, one request each: allowed, denied, credential injected
c_allow=$(guest_code https://example.com/)
c_deny=$(guest_code https://news.ycombinator.com/x)
c_sec=$(guest_code https://api.github.com/repos/o/r -H 'Authorization: Bearer GITHUB_PLACEHOLDER')
assert_eq 200 "$c_allow" "allowed request"
assert_eq 403 "$c_deny" "denied request"
assert_match "$NGINX_LOG" 'uri="/repos/o/r" .*auth="Bearer ghp_METRICSREAL0123456789"' "secret injected"
wait_for 5 sh -c "[ \$(grep -c '\"url\"' '$T_AUDIT') -ge 3 ]" || fail "three audit lines not written"
# counted once the exchange is audited, which may trail curl's exit a bit
for ((i = 0; i < 50; i++)); do
	scrape "$T_DIR/m1"
	[ "$(sum_of "$T_DIR/m1" gatewayd_requests_total)" -ge 3 ] && break
	sleep 0.1
done

G='group="agents"'
assert_eq 3 "$(sum_of "$T_DIR/m1" gatewayd_requests_total)" "requests counted"
assert_eq 1 "$(delta "gatewayd_requests_total{$G,decision=\"deny\",status=\"4xx\"}")" \
    "denied 4xx +1"
# the allowed one and the injected one (nginx answers it 200)
assert_eq 200 "$c_sec" "request with a credential injected"
assert_eq 2 "$(delta "gatewayd_requests_total{$G,decision=\"allow\",status=\"2xx\"}")" \
    "allowed 2xx +2"
assert_eq 1 "$(delta "gatewayd_denials_total{$G,reason=\"egress_policy\",rule=\"no-hn\"}")" \
    "denial by reason and rule name"
assert_eq 1 "$(delta "gatewayd_secrets_injected_total{$G,secret=\"github\",via=\"placeholder\"}")" \
    "secret injected, by name"
assert_eq 3 "$(delta gatewayd_connections_total)" "connections +3"
assert_eq 3 "$(delta 'gatewayd_tls_connections_total{mode="bump"}')" "bumped +3"
assert_eq 0 "$(delta 'gatewayd_tls_connections_total{mode="splice"}')" "spliced +0"
assert_eq 3 "$(delta gatewayd_audit_lines_total)" "audit lines +3"
assert_eq 0 "$(val "$T_DIR/m1" gatewayd_audit_dropped_total)" "no audit drop"
assert_eq 3 "$(delta gatewayd_request_duration_seconds_count)" "request durations observed"
assert_eq 2 "$(delta gatewayd_time_to_first_byte_seconds_count)" "TTFB observed (the 403 is the gateway's own reply)"
n=$(delta gatewayd_upstream_tls_seconds_count)
[ "$n" -ge 2 ] || fail "upstream TLS time observed $n times, expected at least 2"
assert_eq 3 "$(($(delta gatewayd_leaf_cache_hits_total) + $(delta gatewayd_leaf_cache_misses_total)))" \
    "one leaf lookup per connection"
assert_eq "$(delta gatewayd_leaf_cache_misses_total)" "$(delta gatewayd_leaf_mint_seconds_count)" \
    "every miss minted and timed"
assert_eq 0 "$(val "$T_DIR/m1" gatewayd_metrics_series_overflow_total)" "no series overflow"
assert_no_match "$T_DIR/m1" 'example\.com|ycombinator|github\.com|10\.67\.|198\.18\.' \
    "a host or address in the metrics"
promtool check metrics <"$T_DIR/m1" >"$T_DIR/promtool1.out" 2>&1 ||
    { cat "$T_DIR/promtool1.out" >&2; fail "promtool check metrics refused the output"; }

# the example alerts of docs/metrics.md are valid rules
awk '/^```yaml$/ { y = 1; n++; next } /^```$/ { y = 0 } y && n == 2' \
    "$SOURCE_DIR/docs/metrics.md" >"$T_DIR/alerts.yml"
promtool check rules "$T_DIR/alerts.yml" >"$T_DIR/promtool-rules.out" 2>&1 ||
    { cat "$T_DIR/promtool-rules.out" >&2; fail "docs/metrics.md: the example alerts are invalid"; }

# `gatewayd stats` reads the same counters (nothing moved since m1)
gw_exec stats -c "$T_DIR/gw.conf" >"$T_DIR/stats.out" 2>&1 || fail "gatewayd stats failed"
scrape "$T_DIR/m2"
st() { awk -v k="$1" '$1 == k { print $2 }' "$T_DIR/stats.out"; }
assert_eq "$(sum_of "$T_DIR/m2" gatewayd_requests_total)" "$(st requests)" "stats requests = metrics"
assert_eq "$(val "$T_DIR/m2" gatewayd_connections_total)" "$(st accepted)" "stats accepted = metrics"
assert_eq "$(sum_of "$T_DIR/m2" gatewayd_denials_total)" "$(st denied)" "stats denied = metrics"
assert_eq "$(val "$T_DIR/m2" gatewayd_audit_lines_total)" "$(st audit_lines)" "stats audit_lines = metrics"
assert_eq 1 "$(st secrets_injected)" "stats secrets_injected"

# keep-alive: curl scrapes twice over one connection (num_connects 1, 0)
in_gw curl -sS --max-time 5 -o /dev/null -o /dev/null -w '%{num_connects}\n' \
    "http://$MX/metrics" "http://$MX/metrics" >"$T_DIR/reuse.out" ||
    fail "two scrapes with one curl failed"
assert_eq "1 0" "$(tr '\n' ' ' <"$T_DIR/reuse.out" | sed 's/ $//')" \
    "curl reuses the scrape connection"

# only GET /metrics is served
assert_eq 405 "$(in_gw curl -s -o /dev/null -w '%{http_code}' -X POST "http://$MX/metrics")" "POST /metrics"
assert_eq 404 "$(in_gw curl -s -o /dev/null -w '%{http_code}' "http://$MX/")" "GET /"
# the listener is not reachable from a guest (bound to the gateway's loopback)
in_guest curl -s --max-time 2 -o /dev/null "http://$GW_UP_IP:9477/metrics" &&
    fail "a guest reached the metrics listener"

# reloads: one applied, one refused
cp "$T_DIR/gw.conf" "$T_DIR/gw.conf.good"
write_conf ", { action = \"deny\"; host = \"site-a.test\"; }"
line=$(gw_reload)
echo "$line" | grep -q "generation" || fail "reload not applied: $line"
echo 'groups = ( { name = "broken"; } );' >"$T_DIR/gw.conf"
line=$(gw_reload)
echo "$line" | grep -q "keeping" || fail "broken reload not refused: $line"
scrape "$T_DIR/m3"
assert_eq 1 "$(val "$T_DIR/m3" 'gatewayd_reloads_total{result="applied"}')" "reload applied counted"
assert_eq 1 "$(val "$T_DIR/m3" 'gatewayd_reloads_total{result="refused"}')" "reload refused counted"
cp "$T_DIR/gw.conf.good" "$T_DIR/gw.conf"

# a real Prometheus scrapes gatewayd; its query API sees the counter move
mkdir -p "$T_DIR/prom"
cat >"$T_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gatewayd
    static_configs:
      - targets: [ "$MX" ]
EOF
promtool check config "$T_DIR/prometheus.yml" >"$T_DIR/promtool-config.out" 2>&1 ||
    { cat "$T_DIR/promtool-config.out" >&2; error "the test's prometheus.yml is invalid"; }
start_bg prometheus "$NS_GW" prometheus --config.file="$T_DIR/prometheus.yml" \
    --storage.tsdb.path="$T_DIR/prom" --web.listen-address=127.0.0.1:9090 \
    --storage.tsdb.retention.time=1h
wait_bg_port prometheus "$NS_GW" 9090 127.0.0.1 30
PQ="http://127.0.0.1:9090/api/v1/query?query=sum(gatewayd_requests_total)"
prom_requests() { # the value Prometheus has now, or "none"
	in_gw curl -sS --max-time 3 "$PQ" 2>/dev/null |
	    "$PY" -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")' 2>/dev/null || echo none
}
before=$(sum_of "$T_DIR/m3" gatewayd_requests_total)
wait_for 30 sh -c "[ \"\$(ip netns exec $NS_GW curl -s --max-time 3 '$PQ' | grep -o '\"[0-9]*\"]' )\" = '\"$before\"]' ]" ||
    fail "Prometheus never showed gatewayd_requests_total = $before (has: $(prom_requests))"
assert_eq 200 "$(guest_code https://example.com/again)" "one more request"
after=$((before + 1))
wait_for 30 sh -c "[ \"\$(ip netns exec $NS_GW curl -s --max-time 3 '$PQ' | grep -o '\"[0-9]*\"]' )\" = '\"$after\"]' ]" ||
    fail "Prometheus did not see the request counter move to $after (has: $(prom_requests))"
assert_eq "$after" "$(prom_requests)" "Prometheus query API: requests moved"
in_gw curl -sS --max-time 3 'http://127.0.0.1:9090/api/v1/targets' >"$T_DIR/targets.json"
assert_match "$T_DIR/targets.json" '"health":"up"' "the gatewayd target is up"
# ... and keeps one connection across its scrapes: the same peer before
# and after two more scrapes (Prometheus's last scrape time moved by 2 s)
scrapers() { ip netns exec "$NS_GW" ss -Htn state established '( sport = :9477 )' |
	awk '{ print $NF }' | sort | tr '\n' ' '; }
last_scrape() {
	in_gw curl -sS --max-time 3 'http://127.0.0.1:9090/api/v1/query?query=timestamp(up)' |
	    "$PY" -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(int(float(r[0]["value"][1])) if r else 0)' 2>/dev/null || echo 0
}
peer=$(scrapers)
t0=$(last_scrape)
scraped_since() { [ "$(last_scrape)" -ge "$1" ]; }
wait_for 15 scraped_since $((t0 + 2)) ||
    fail "Prometheus stopped scraping (last scrape at $(last_scrape), was $t0)"
case $peer in *' '*' '*) fail "Prometheus holds more than one scrape connection: $peer" ;; '') fail "no scrape connection open between scrapes" ;; esac
assert_eq "$peer" "$(scrapers)" "Prometheus reuses its scrape connection"
stop_bg prometheus

gw_stop || fail "gatewayd exited with status $GW_RC"
log "ok: counters, stats, promtool, reloads and a Prometheus scrape"
