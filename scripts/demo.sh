#!/bin/bash
# demo.sh - command 1 of the README: install what is missing, build, and
# run the demo on its embedded defaults.
#
#   1. the host group CA's lifecycle with ca-tool, as Slicer and a cron job
#      see it: generate, status, rotate (nothing to do), rotate inside the
#      renewal window (a new pair; the old one kept as ca.prev.*);
#   2. when gatewayd is built: the walkthrough in network namespaces (a
#      guest whose only way out is the gateway, a local "internet" with real
#      HTTPS sites), allowed and denied requests with no proxy settings in
#      the guest, a secret injected (the VM sends a placeholder, the
#      upstream's log shows the real token), a metrics scrape, then the
#      audit log lines.
#
# The demo runs on the integration test harness (tests/integration/lib.sh):
# the same namespaces, servers, PKI and clean-up as the tests.  Everything
# it creates is removed when it ends; DEMO_KEEP=1 keeps its files.
# Run as root on Debian 12.  BUILD=build picks the build directory.
set -eu
cd "$(dirname "$0")/.."

if [ "${DEMO_NO_BUILD:-0}" != 1 ]; then
	bash scripts/deps.sh
	BUILD=${BUILD:-build}
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
	ninja -C "$BUILD" >/dev/null
	export BUILD_DIR=$PWD/$BUILD
fi

T_NAME=demo T_KEEP=${DEMO_KEEP:-0}
. tests/integration/lib.sh

B=$'\e[1m' N=$'\e[0m'
[ -t 1 ] || B='' N=''
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
show() { printf '%s$ %s%s\n' "$B" "$*" "$N"; "$@"; }
# show_rc CMD...: like show, and prints the exit status (monitoring uses it)
show_rc() { local rc=0; show "$@" || rc=$?; echo "(exit status $rc)"; }

demo_ca() {
	local dir=$T_DIR/.slicer/ca
	step "1. The host group CA (ca-tool), as Slicer reads it: .slicer/ca/<group>/ca.{crt,key}"
	if [ ! -x "$CA_TOOL" ]; then
		echo "ca-tool is not built yet ($CA_TOOL): nothing to show"
		return 0
	fi
	cd "$T_DIR"
	show "$CA_TOOL" generate agents --dir .slicer/ca
	show ls -l .slicer/ca/agents
	show_rc "$CA_TOOL" status agents --dir .slicer/ca
	step "cron: 'ca-tool rotate agents' far from expiry does nothing"
	show_rc "$CA_TOOL" rotate agents --dir .slicer/ca
	step "inside the renewal window (--window 1200 days > the 3-year validity): a new pair"
	show_rc "$CA_TOOL" status agents --dir .slicer/ca --window 1200
	show_rc "$CA_TOOL" rotate agents --dir .slicer/ca --window 1200
	show ls -l .slicer/ca/agents
	show openssl x509 -in .slicer/ca/agents/ca.crt -noout -subject -enddate -fingerprint -sha256
	show openssl x509 -in .slicer/ca/agents/ca.prev.crt -noout -fingerprint -sha256
	show_rc "$CA_TOOL" status agents --dir .slicer/ca --json
	cd - >/dev/null
	[ -d "$dir/agents" ]
}

# The seed's walkthrough, in namespaces: a guest with no proxy settings
# that trusts only the group CA (as a Slicer VM does), the project's own
# rules, gatewayd, and a local "internet" serving the sites by name.
demo_gateway() {
	step "2. The gateway in network namespaces"
	if [ ! -x "$GW_BIN" ] || [ ! -x "$CA_TOOL" ]; then
		echo "gatewayd is not built ($GW_BIN)"
		return 1
	fi
	topo_up isolated --guests 1
	inet_up
	ca_generate agents
	local conf=$T_DIR/gatewayd.conf
	( umask 077; echo "ghp_demo_real_token_$RANDOM$RANDOM" >"$T_DIR/github.token" )
	cat >"$conf" <<EOF
# demo configuration (scripts/demo.sh); every key: docs/configuration.md
trust_file = "$PKI/public-root.crt";   # the demo internet's public root
control_socket = "$T_DIR/control.sock";
metrics = { listen = "127.0.0.1:9477"; };   # Prometheus, gateway side only
audit = { path = "$T_AUDIT"; format = "squid"; };
groups = ( {
    name = "agents";
    guests = [ "$T_GUEST_NET" ];
    interfaces = [ "$T_GUEST_IFACE" ];
    ca_dir = "$T_CA_DIR";
    capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
    dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
    policy = { default = "allow";
               rules = ( { action = "deny"; host = ".wikipedia.org"; } ); };
    # the VM holds only a placeholder; the real token is swapped in for
    # this host and path, and never logged
    secrets = ( { name = "github"; host = "api.github.com"; path = "/repos/";
                  format = "Bearer %s"; file = "$T_DIR/github.token";
                  placeholder = "GITHUB_PLACEHOLDER"; } );
} );
EOF
	show cat "$conf"
	step "the project's nftables rules for the group, installed atomically"
	show rules_apply "$conf"
	gw_start "$conf"
	step "the guest has no proxy settings and trusts only the group CA"
	show in_guest env
	local url
	for url in https://example.com/ https://news.ycombinator.com/ \
	    https://en.wikipedia.org/wiki/Main_Page http://example.com/1k; do
		printf '%s$ curl %s%s -> HTTP ' "$B" "$url" "$N"
		guest_code "$url"
		echo
	done
	step "what the guest reads when policy says no (a normal HTTP answer)"
	show guest_curl -i https://en.wikipedia.org/wiki/Main_Page || true
	step "the certificate the guest sees: minted for the name by the group CA"
	in_guest openssl s_client -connect example.com:443 \
	    -servername example.com -CAfile "$T_CA_CRT" </dev/null 2>/dev/null |
	    grep -E '^(subject|issuer)=|Verify return code'
	step "an upstream whose certificate cannot be verified: nothing is forwarded"
	show guest_curl -i https://expired.test/ || true
	step "a secret: the VM sends a placeholder, the upstream receives the real token"
	show guest_curl -s -o /dev/null -w '%{http_code}\n' \
	    -H 'Authorization: Bearer GITHUB_PLACEHOLDER' https://api.github.com/repos/o/r
	step "what the upstream (nginx in the \"internet\") logged for it"
	wait_for 3 grep -q 'uri="/repos/o/r"' "$NGINX_LOG" || true
	show grep 'uri="/repos/o/r"' "$NGINX_LOG"
	step "Prometheus metrics (metrics.listen; every metric: docs/metrics.md)"
	in_gw curl -sS --max-time 5 http://127.0.0.1:9477/metrics |
	    grep -E '^gatewayd_(requests|denials|secrets_injected|connections)[a-z_]*_total' || true
	step "the audit log (Squid native format; format = \"json\" for JSON)"
	wait_for 3 grep -q expired.test "$T_AUDIT" || true
	show cat "$T_AUDIT"
	gw_stop || fail "gatewayd exited with status $GW_RC"
}

demo_ca
demo_gateway
step "done (everything the demo created is removed now)"
