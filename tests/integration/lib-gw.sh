# shellcheck shell=bash
# tests/integration/lib-gw.sh - the project's programs in the harness
# (sourced by lib.sh): the group CA by ca-tool, gatewayd and its rules in
# the gateway namespace.  The binaries come from $BUILD_DIR; tests that need
# one that is not built yet call need_gatewayd / need_ca_tool and skip.

GW_CONFIG=
GW_LOG=$T_DIR/gatewayd.out	# gatewayd's stderr + stdout
GW_RC=

need_gatewayd() { [ -x "$GW_BIN" ] || skip "gatewayd is not built ($GW_BIN)"; }
need_ca_tool() { [ -x "$CA_TOOL" ] || skip "ca-tool is not built ($CA_TOOL)"; }
need_cmd() { command -v "$1" >/dev/null || skip "$1 is not installed"; }

# ca_tool ARGS...: run ca-tool (in the root namespace: it touches only files).
ca_tool() { "$CA_TOOL" "$@"; }

# ca_generate [GROUP]: the group CA by ca-tool in $T_DIR/ca/GROUP (default
# "agents").  Sets T_CA_DIR (for the gatewayd config's ca_dir), T_CA_CRT,
# T_CA_KEY, and makes the guests trust only that CA (T_GUEST_CA), as a
# Slicer VM does.  Returns 1 without ca-tool (need_ca_tool skips instead).
ca_generate() {
	local group=${1:-agents}
	[ -x "$CA_TOOL" ] || return 1
	ca_tool generate "$group" --dir "$T_DIR/ca" >"$T_DIR/ca-tool.out" 2>&1 ||
	    { cat "$T_DIR/ca-tool.out" >&2; fail "ca-tool generate $group failed"; }
	T_CA_DIR=$T_DIR/ca/$group
	T_CA_CRT=$T_CA_DIR/ca.crt
	T_CA_KEY=$T_CA_DIR/ca.key
	T_GUEST_CA=$T_CA_CRT
	[ -s "$T_CA_CRT" ] && [ -s "$T_CA_KEY" ] || fail "ca-tool made no CA in $T_CA_DIR"
}

# gw_conf_tproxy FILE [POLICY [GROUP_KEYS [TOP_KEYS]]]: the usual one-group config
# (group "agents", guest net and interface of topo_up, the CA of
# ca_generate, tproxy capture on 3128/3129, DNS to $INET_DNS_IP, JSON
# audit to $T_AUDIT, control socket $T_DIR/control.sock) with POLICY as
# the body of its policy (default: default = "allow";) and GROUP_KEYS
# (libconfig text) added to the group, TOP_KEYS to the top level.
gw_conf_tproxy() {
	local policy='default = "allow";' keys=${3:-}
	[ -n "${2:-}" ] && policy=$2
	cat >"$1" <<EOF
trust_file = "$PKI/public-root.crt";
control_socket = "$T_DIR/control.sock";
audit = { path = "$T_AUDIT"; format = "json"; };
${4:-}
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  dns = { mode = "server"; servers = [ "$INET_DNS_IP" ]; };
  policy = { $policy }; $keys } );
EOF
}

# gw_exec ARGS...: run gatewayd ARGS in the gateway namespace, foreground.
gw_exec() { ip netns exec "$NS_GW" "$GW_BIN" "$@"; }

# rules_apply|rules_show|rules_remove CONFIG: `gatewayd rules ... -c CONFIG`
# in the gateway namespace; output to stdout, status returned.
rules_apply() { gw_exec rules apply -c "$1"; }
rules_show() { gw_exec rules show -c "$1"; }
rules_remove() { gw_exec rules remove -c "$1"; }

# gw_ports CONFIG: the ports gatewayd's listeners use: $GW_PORTS if set,
# else every "<word>_port = N" of CONFIG outside comments.
gw_ports() {
	if [ -n "${GW_PORTS:-}" ]; then
		printf '%s\n' $GW_PORTS
		return
	fi
	sed -e 's/#.*//' -e 's://.*::' "$1" |
	    grep -oE '\b[a-z0-9]+_port[[:space:]]*[=:][[:space:]]*[0-9]+' |
	    grep -oE '[0-9]+$' | sort -u
}

# gw_start CONFIG [ARGS...]: start `gatewayd -c CONFIG ARGS` in the gateway
# namespace (stderr/stdout to $GW_LOG) and wait until each port of
# gw_ports listens.  Fails with the log if gatewayd exits or does not get ready in
# ${GW_START_TIMEOUT:-10} s.
gw_start() {
	local conf=$1 p i t=${GW_START_TIMEOUT:-10} ready
	shift
	need_gatewayd
	[ -z "$(pid_of gatewayd)" ] || error "gw_start: gatewayd already runs"
	GW_CONFIG=$conf
	start_bg gatewayd "$NS_GW" "$GW_BIN" -c "$conf" "$@"
	# with no port to wait for, it must at least survive a moment
	[ -n "$(gw_ports "$conf")" ] || sleep 0.3
	for ((i = 0; i < t * 20; i++)); do
		pid_alive "$BG_PID" ||
		    { wait "$BG_PID" || GW_RC=$?; rm -f "$T_DIR/gatewayd.pid";
		      fail "gatewayd exited at start (status ${GW_RC:-0})"; }
		ready=1
		for p in $(gw_ports "$conf"); do
			port_listening "$NS_GW" "$p" || { ready=0; break; }
		done
		[ "$ready" = 1 ] && return 0
		sleep 0.05
	done
	fail "gatewayd did not listen on $(gw_ports "$conf" | tr '\n' ' ')within ${t}s"
}

# gw_pid: the running gatewayd's PID (empty if none).
gw_pid() { pid_of gatewayd || true; }

# gw_stop [SIGNAL [TIMEOUT_S]]: stop gatewayd (default SIGTERM, 10 s, then
# SIGKILL); its exit status is in GW_RC and returned.
gw_stop() {
	local pid
	pid=$(gw_pid)
	[ -n "$pid" ] || { GW_RC=; return 0; }
	rm -f "$T_DIR/gatewayd.pid"
	GW_RC=0
	stop_pid "$pid" "${1:-TERM}" "${2:-10}" || GW_RC=$?
	return "$GW_RC"
}

# gw_reload [TIMEOUT_S]: SIGHUP gatewayd and wait for its next log line
# that mentions "reload" (it says whether the new config was taken).
# Prints that line.
gw_reload() {
	local pid n
	pid=$(gw_pid)
	[ -n "$pid" ] || fail "gw_reload: gatewayd is not running"
	n=$(wc -l <"$GW_LOG")
	kill -HUP "$pid"
	wait_for "${1:-5}" eval "tail -n +$((n + 1)) '$GW_LOG' | grep -qi reload" ||
	    fail "gatewayd logged no reload line within ${1:-5}s of SIGHUP"
	tail -n +$((n + 1)) "$GW_LOG" | grep -i reload | head -n 1
}

# gw_signal SIGNAL: send SIGNAL to the running gatewayd.
gw_signal() { kill "-$1" "$(gw_pid)"; }
