# shellcheck shell=bash
# tests/integration/lib-nfq.sh - shared setup of the t-nfq-* scenarios
# (sourced after lib.sh): an isolated topology with two guests that must use
# DNS, dnsmasq upstream (with an HTTPS record advertising ech and h3), a
# TCP and a UDP server, optionally PostgreSQL, the group's rules
# (`gatewayd rules apply`), and the NFQUEUE + DNS proxy threads.
#
# Until gatewayd's main.c starts those threads, build/tests/gatewayd-nfq
# (tests/nfq_driver.c) runs them; its stdout is the audit log ($NFQ_AUDIT).

NFQ_BIN=$BUILD_DIR/tests/gatewayd-nfq
RULES_BIN=$BUILD_DIR/tests/gatewayd-rules
NFQ_TOOL=$T_LIB_DIR/nfq-tool.py
NFQ_CONF=$T_DIR/gatewayd.conf
NFQ_AUDIT=$T_DIR/nfq-audit.log
NFQ_GROUP=agents
PG_BIN=/usr/lib/postgresql/15/bin
PG_IP2=$INET_ECHO_IP		# the second PostgreSQL address: echo.test

[ -x "$NFQ_BIN" ] || skip "gatewayd-nfq is not built ($NFQ_BIN)"
[ -x "$RULES_BIN" ] || skip "gatewayd-rules is not built ($RULES_BIN)"
need_cmd nft
need_cmd dnsmasq

# nfq_config [FAIL_OPEN]: the test config, to $NFQ_CONF.
nfq_config() {
	cat >"$NFQ_CONF" <<CONF
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
        { action = "allow"; proto = "tcp"; cidr = "$INET_MAIN_IP/32"; ports = "5432"; name = "pg-by-address"; },
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

# nfq_dns_start: dnsmasq as dns_start (lib-servers.sh) plus an HTTPS record
# for example.com with alpn h2,h3 and an ech key, and one for other.test
# with alpn h2 only.
nfq_dns_start() {
	local d=$T_DIR/dns
	mkdir -p "$d"
	DNS_LOG=$d/dnsmasq.log
	write_hosts "$d/hosts"
	# priority 1, target ".", alpn=h2,h3 (key 1), ech (key 5, 4 bytes)
	start_bg dnsmasq "$NS_INET" dnsmasq --keep-in-foreground \
	    --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$d/hosts" \
	    --bind-interfaces --listen-address="$INET_DNS_IP" --user=root \
	    --group=root --pid-file="$d/dnsmasq.pid" --log-queries \
	    --log-facility="$DNS_LOG" --address=/#/ --local-ttl=60 --cache-size=0 \
	    --dns-rr=example.com,65,000100000100060268320268330005000400010203 \
	    --dns-rr=other.test,65,00010000010003026832
	wait_bg_port dnsmasq "$NS_INET" 53 "$INET_DNS_IP"
}

# pg_start: PostgreSQL (trust auth) on $INET_MAIN_IP and $PG_IP2, port 5432.
pg_start() {
	local d=$T_DIR/pg
	[ -x "$PG_BIN/initdb" ] || skip "PostgreSQL is not installed"
	need_cmd psql
	mkdir -p "$d"
	chown postgres: "$d"
	setpriv --reuid postgres --regid postgres --init-groups \
	    "$PG_BIN/initdb" -D "$d/data" --auth=trust -U postgres \
	    >"$T_DIR/initdb.out" 2>&1 || { cat "$T_DIR/initdb.out" >&2; error "initdb failed"; }
	echo "host all all 0.0.0.0/0 trust" >>"$d/data/pg_hba.conf"
	start_bg postgres "$NS_INET" setpriv --reuid postgres --regid postgres \
	    --init-groups "$PG_BIN/postgres" -D "$d/data" -p 5432 \
	    -c "listen_addresses=$INET_MAIN_IP,$PG_IP2" \
	    -c "unix_socket_directories=$d" -c fsync=off
	wait_bg_port postgres "$NS_INET" 5432 "$INET_MAIN_IP" 20
}

# guest_psql HOST: "select 42" from the guest; prints 42 or an error.
guest_psql() {
	in_guest env PGCONNECT_TIMEOUT=3 psql -w -h "$1" -p 5432 -U postgres \
	    -d postgres -Atc 'select 42' 2>&1 | tail -n 1
}

nfq_tool() { in_guest "$PY" "$NFQ_TOOL" "$@"; }

# nfq_rules: apply the group's rules, then the reset rule nfq.h asks for
# (until the nft template carries it): inserted at the head of "handoff",
# so above the NFQUEUE target that `rules apply` put there.
nfq_rules() {
	in_gw "$RULES_BIN" apply -c "$NFQ_CONF" >"$T_DIR/rules.out" 2>&1 ||
	    { cat "$T_DIR/rules.out" >&2; fail "rules apply failed"; }
	in_gw nft insert rule inet "gatewayd_$NFQ_GROUP" handoff \
	    meta mark and 0xffff0000 == 0x4e510000 meta l4proto tcp \
	    counter reject with tcp reset
}

# nfq_start: the NFQUEUE and DNS threads (driver) in the gateway namespace.
nfq_start() {
	start_bg nfq "$NS_GW" sh -c "exec '$NFQ_BIN' -c '$NFQ_CONF' >'$NFQ_AUDIT'"
	wait_bg_port nfq "$NS_GW" 5300
	wait_for 5 grep -q ready "$T_DIR/nfq.out" || fail "gatewayd-nfq not ready"
}

nfq_stop() { stop_bg nfq; }

# nfq_up [FAIL_OPEN]: the whole setup without PostgreSQL.
nfq_up() {
	topo_up isolated --guests 2 --no-guest-hosts
	nfq_config "${1:-false}"
	nfq_dns_start
	start_bg tcpsrv "$NS_INET" "$PY" "$NFQ_TOOL" tcp-server "$INET_ECHO_IP" 2222
	start_bg tcpsrv7000 "$NS_INET" "$PY" "$NFQ_TOOL" tcp-server "$INET_MAIN_IP" 7000
	start_bg udpsrv "$NS_INET" "$PY" "$NFQ_TOOL" udp-server "$INET_ECHO_IP" 7001 "$T_DIR/udp7001.log"
	start_bg udpsrv2 "$NS_INET" "$PY" "$NFQ_TOOL" udp-server "$INET_ECHO_IP" 7002 "$T_DIR/udp7002.log"
	wait_bg_port tcpsrv "$NS_INET" 2222
	wait_bg_port udpsrv2 "$NS_INET" 7002
	nfq_rules
	nfq_start
}
