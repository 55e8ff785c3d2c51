#!/bin/bash
# t-differential: what the upstream receives is what the gateway judged.
#
# diffgen.py, in a guest with no proxy settings, sends heads and bodies
# mutated around the request-smuggling vectors (framing headers,
# Connection nominations, Upgrade and Expect with bodies, chunk sizes,
# extensions and trailers, obs-fold, bare CR/LF, absolute-form, pipelining,
# HTTP/1.0, keep-alive) over plain HTTP and TLS, to a host with a secret
# rule (echo.test, path /s/) and one without (other.test).  recorder.py is
# the upstream: h11, a strict parser of its own, logs every request it
# sees.  diffcheck.py joins that log with the gateway's JSON audit log:
# every request upstream must be one the gateway judged and logged (same
# method, target, host, in order per connection), and the real secret
# only in requests whose audit record names the secret.
#
# Budget: DIFF_COUNT requests (default 2000), DIFF_TIME seconds (default
# 40), DIFF_SEED (default 1), DIFF_VECTORS (comma-separated names, default
# every vector; see diffgen.py).  The long run is in docs/testing.md.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool
"$PY" -c 'import h11' 2>/dev/null || skip "python3-h11 is not installed"

topo_up isolated --guests 1
pki_ensure
ca_generate agents
REAL=diffREALSECRET0123456789abcdef
REC_LOG=$T_DIR/recorder.jsonl	# not *.log: a failure dumps the report, not this
start_bg recorder "$NS_INET" env RECORDER_SECRET="$REAL" "$PY" \
    "$T_LIB_DIR/recorder.py" --listen "$INET_ECHO_IP:80" \
    --listen "$INET_ECHO_IP:443:tls" --cert "$PKI/echo.chain.pem" \
    --key "$PKI/echo.key" --secret-env RECORDER_SECRET --log "$REC_LOG"
wait_bg_port recorder "$NS_INET" 443 "$INET_ECHO_IP"
wait_bg_port recorder "$NS_INET" 80 "$INET_ECHO_IP"

cat >"$T_DIR/gw.conf" <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$T_DIR/control.sock";
audit = { path = "$T_AUDIT"; format = "json"; };
limits = { header_timeout = "2s"; idle_timeout = "3s";
  upstream_idle_timeout = "2s"; connect_timeout = "3s"; drain_timeout = "3s"; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  policy = { default = "allow"; };
  secrets = (
    { name = "echo"; host = "echo.test"; path = "/s/"; header = "X-Api-Key";
      format = "%s"; env = "GW_DIFF_SECRET"; }
  ); } );
EOF
rules_apply "$T_DIR/gw.conf" >/dev/null
GW_DIFF_SECRET=$REAL gw_start "$T_DIR/gw.conf"

SENT=$T_DIR/sent.jsonl
in_guest timeout 150 "$PY" "$T_LIB_DIR/diffgen.py" --addr "$INET_ECHO_IP" \
    --ca "$T_CA_CRT" --seed "${DIFF_SEED:-1}" --count "${DIFF_COUNT:-2000}" \
    --time "${DIFF_TIME:-40}" --vectors "${DIFF_VECTORS:-}" \
    --out "$SENT" ${DIFF_CORPUS:+--corpus "$DIFF_CORPUS"} >"$T_DIR/diffgen.out" 2>&1 ||
    { cat "$T_DIR/diffgen.out" >&2; fail "diffgen.py failed"; }
cat "$T_DIR/diffgen.out" >&2

# Every exchange is logged when it ends: stop the gateway (it drains and
# flushes its audit log), then the upstream.
gw_stop || fail "gatewayd exited with status $GW_RC"
stop_bg recorder || true

rc=0
"$PY" "$T_LIB_DIR/diffcheck.py" --recorder "$REC_LOG" --audit "$T_AUDIT" \
    --sent "$SENT" --examples "${DIFF_EXAMPLES:-3}" >"$T_DIR/diffcheck.txt" 2>&1 || rc=$?
cat "$T_DIR/diffcheck.txt" >&2
[ "$(grep -c '"method"' "$REC_LOG")" -gt 0 ] || fail "the upstream received nothing"
# The check is not vacuous: one forged upstream record, a request nobody
# judged that carries the secret, must make it fail.
cp "$REC_LOG" "$T_DIR/forged.jsonl"
printf '%s\n' '{"conn": 999999, "seq": 1, "tls": true, "method": "GET", "target": "/h/forged", "host": "echo.test", "secret": true, "complete": true}' \
    >>"$T_DIR/forged.jsonl"
"$PY" "$T_LIB_DIR/diffcheck.py" --recorder "$T_DIR/forged.jsonl" \
    --audit "$T_AUDIT" --sent "$SENT" >"$T_DIR/forged.txt" 2>&1 &&
    fail "diffcheck.py passed a forged unlogged request"
grep -q 'unlogged=[1-9].* leaks=[1-9]' "$T_DIR/forged.txt" ||
    { cat "$T_DIR/forged.txt" >&2; fail "diffcheck.py missed the forged request"; }
[ "$rc" = 0 ] || fail "the upstream received what the gateway did not judge (see above)"
# the real value is in no log the gateway writes
assert_no_match "$T_AUDIT" "$REAL" "the audit log holds the secret"
assert_no_match "$GW_LOG" "$REAL" "the gateway's log holds the secret"
