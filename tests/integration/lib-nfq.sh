# shellcheck shell=bash
# tests/integration/lib-nfq.sh - shared setup of the t-nfq-* scenarios
# (sourced after lib.sh): an isolated topology with two guests that must use
# DNS, dnsmasq upstream (with an HTTPS record advertising ech and h3), a
# TCP and a UDP server, optionally PostgreSQL, the group's rules
# (`gatewayd rules apply`) and gatewayd itself, whose NFQUEUE and DNS
# threads write JSON lines to the audit log $T_AUDIT.

NFQ_TOOL=$T_LIB_DIR/nfq-tool.py
NFQ_CONF=$T_DIR/gatewayd.conf
NFQ_CTL=$T_DIR/control.sock
NFQ_GROUP=agents
PG_IP2=$INET_ECHO_IP		# the second PostgreSQL address: echo.test

need_gatewayd
need_cmd nft
need_cmd dnsmasq

# NFQ_SLICER=1 (before nfq_up): Slicer's API (slicer_stub.py on
# 127.0.0.1:8080 in the gateway namespace) lists guest 1 as VM agents-1 of
# host group agents, tags team=ml; guest 2 is on no map.
NFQ_SLICER=${NFQ_SLICER:-0}

# nfq_slicer_conf: the slicer section, when NFQ_SLICER=1.
nfq_slicer_conf() {
	[ "$NFQ_SLICER" = 1 ] || return 0
	printf 'slicer = { url = "http://127.0.0.1:8080"; token_file = "%s"; refresh = "1s"; };\n' \
	    "$T_DIR/slicer-token"
}

# nfq_slicer_up: the stub, before gatewayd starts.
nfq_slicer_up() {
	printf 'nfq-slicer-token\n' >"$T_DIR/slicer-token"
	printf '[{"hostname":"agents-1","hostgroup":"agents","ip":"%s","ram_bytes":2147483648,"cpus":2,"created_at":"2026-01-02T03:04:05.1+00:00","tags":["team=ml"],"arch":"x86_64","status":"Running"}]\n' \
	    "${GUEST_IP[1]}" >"$T_DIR/nodes.json"
	start_bg slicer "$NS_GW" "$PY" "$T_LIB_DIR/slicer_stub.py" 127.0.0.1 8080 \
	    "$T_DIR/slicer-token" "$T_DIR/nodes.json"
	wait_bg_port slicer "$NS_GW" 8080 127.0.0.1
}

# nfq_slicer_wait: the first map is in use (a second poll began after the
# first was published).
nfq_slicer_wait() {
	wait_for 10 eval "[ \$(grep -c 'auth=ok status=200' '$T_DIR/slicer.out') -ge 2 ]" ||
	    { cat "$T_DIR/slicer.out" >&2; fail "gatewayd did not poll Slicer"; }
}

# nfq_config [FAIL_OPEN]: the test config, to $NFQ_CONF.
nfq_config() {
	cat >"$NFQ_CONF" <<CONF
$(nfq_slicer_conf)
audit = { path = "$T_AUDIT"; format = "json"; };
control_socket = "$NFQ_CTL";
nfqueue = { num = 4758; fail_open = ${1:-false}; };
groups = (
  {
    name = "$NFQ_GROUP";
    guests = [ "$T_GUEST_NET" ];
    interfaces = [ "$T_GUEST_IFACE" ];
    capture = { mode = "redirect"; http_port = 3128; https_port = 3129; };
    policy = { default = "deny"; };
    l4 = {
      default = "deny";
      rules = (
        { action = "allow"; proto = "tcp"; cidr = "$INET_DB_IP/32"; ports = "5432"; name = "pg-by-address"; },
        { action = "allow"; proto = "tcp"; host = "echo.test"; ports = "5432"; name = "pg-by-name"; },
        { action = "allow"; proto = "tcp"; cidr = "$INET_MAIN_IP/32"; ports = "7000"; name = "burst"; },
        { action = "deny";  proto = "tcp"; ports = "2222"; reset = true; name = "plain-tcp-reset"; },
        { action = "allow"; proto = "udp"; cidr = "$INET_ECHO_IP/32"; ports = "7001"; name = "udp-ok"; }
      );
    };
    dns = {
      mode = "gateway";
      upstream = "$INET_DNS_IP";
      listen_port = 5300;
      default = "allow";
      deny = [ ".blocked.test" ];
      max_label = 40;
      max_unique_subdomains = 20;
      window = "60s";
    };
  }
);
CONF
}

# guest_psql HOST: "select 42" from the guest; prints 42 or an error.
guest_psql() {
	in_guest env PGCONNECT_TIMEOUT=3 psql -w -h "$1" -p 5432 -U test \
	    -d postgres -Atc 'select 42' 2>&1 | tail -n 1
}

nfq_tool() { in_guest "$PY" "$NFQ_TOOL" "$@"; }

# nfq_rules: apply the group's rules (the template carries the reset rule
# for flows gatewayd refuses with reset = true).
nfq_rules() {
	rules_apply "$NFQ_CONF" >"$T_DIR/rules.out" 2>&1 ||
	    { cat "$T_DIR/rules.out" >&2; fail "rules apply failed"; }
}

nfq_start() { gw_start "$NFQ_CONF"; }
nfq_stop() { gw_stop || fail "gatewayd exited with status $GW_RC"; }

# nfq_stats KEY: one counter of `gatewayd sentinel stats` (control socket
# STATS), e.g. nfq_accepted.
nfq_stats() {
	gw_exec sentinel --socket "$NFQ_CTL" stats >"$T_DIR/stats.out" 2>&1 ||
	    { cat "$T_DIR/stats.out" >&2; fail "sentinel stats failed"; }
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { exit !f }' \
	    "$T_DIR/stats.out" || fail "no $1 in the STATS answer"
}

# audit_count COND...: JSON lines of $T_AUDIT with every COND (KEY=VALUE:
# that exact value; !KEY: no such key); see audit-match.py.
audit_count() { "$PY" "$T_LIB_DIR/audit-match.py" "$T_AUDIT" "$@"; }
audit_has() { [ "$(audit_count "$@")" -gt 0 ]; }
# audit_wait COND...: wait (5 s) for a matching line (the log is written
# asynchronously); audit_assert COND...: there is one now.
audit_wait() {
	wait_for 5 audit_has "$@" || audit_fail "$@"
}
audit_assert() { audit_has "$@" || audit_fail "$@"; }
audit_fail() {
	[ -f "$T_AUDIT" ] && tail -n 20 "$T_AUDIT" | sed 's/^/  | /' >&2
	fail "audit: no line with $*"
}

# nfq_up [FAIL_OPEN]: the whole setup without PostgreSQL.  dnsmasq gets an
# HTTPS record for example.com with alpn h2,h3 and an ech key, and one for
# other.test with alpn h2 only.
nfq_up() {
	topo_up isolated --guests 2 --no-guest-hosts
	nfq_config "${1:-false}"
	# priority 1, target ".", alpn=h2,h3 (key 1), ech (key 5, 4 bytes)
	dns_start \
	    --dns-rr=example.com,65,000100000100060268320268330005000400010203 \
	    --dns-rr=other.test,65,00010000010003026832
	start_bg tcpsrv "$NS_INET" "$PY" "$NFQ_TOOL" tcp-server "$INET_ECHO_IP" 2222
	start_bg tcpsrv7000 "$NS_INET" "$PY" "$NFQ_TOOL" tcp-server "$INET_MAIN_IP" 7000
	start_bg udpsrv "$NS_INET" "$PY" "$NFQ_TOOL" udp-server "$INET_ECHO_IP" 7001 "$T_DIR/udp7001.log"
	start_bg udpsrv2 "$NS_INET" "$PY" "$NFQ_TOOL" udp-server "$INET_ECHO_IP" 7002 "$T_DIR/udp7002.log"
	wait_bg_port tcpsrv "$NS_INET" 2222
	wait_bg_port tcpsrv7000 "$NS_INET" 7000
	wait_bg_port udpsrv "$NS_INET" 7001
	wait_bg_port udpsrv2 "$NS_INET" 7002
	nfq_rules
	[ "$NFQ_SLICER" = 1 ] && nfq_slicer_up
	nfq_start
	[ "$NFQ_SLICER" = 1 ] && nfq_slicer_wait
	return 0
}
