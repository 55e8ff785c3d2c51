# shellcheck shell=bash
# tests/integration/lib.sh - the namespace test harness.
#
# Sourced by every scenario file tests/integration/t-*.sh (and by
# scripts/demo.sh).  It gives each test, hitch-style:
#   - a temp dir ($T_DIR) and unique namespace names (gt<pid>-gw, -in, -g1..);
#   - a topology: guest namespace(s) -> gateway namespace -> "internet"
#     namespace, in Slicer's bridge or isolated (veth per guest) variant,
#     IPv4 and optionally IPv6, linked only to each other, never to the root
#     namespace; /etc/netns/<ns>/{hosts,resolv.conf} so names resolve locally;
#   - a test PKI (openssl CLI, EC P-256, cached per build dir) with good and
#     bad upstream certificates, and the group CA made by ca-tool;
#   - upstream servers in the internet namespace, started and stopped by
#     PID: nginx (sites, bodies, git smart HTTP), upstream.py (echo,
#     uploads, WebSocket, TCP/UDP), dnsmasq;
#   - helpers to run gatewayd and its rules in the gateway namespace, to run
#     clients in a guest, and assertions;
#   - fail / skip / error (exit 1 / 77 / 99) and a cleanup trap that stops
#     every process the test started (by PID), deletes its namespaces and
#     dumps the logs of a failed test.
# It does not build anything and never touches the root namespace's network.
#
# Contract with gatewayd (checked by the tests that use it):
#   gatewayd -c FILE             foreground; listens on the ports named
#                                *_port = N in FILE
#   gatewayd rules apply|show|remove -c FILE
#   SIGHUP logs one line containing "reload" (success or failure) on stderr;
#   SIGTERM makes it exit (after draining), status 0.

set -eu
set -E

: "${SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD_DIR:=$SOURCE_DIR/build}"
export SOURCE_DIR BUILD_DIR
T_LIB_DIR=$SOURCE_DIR/tests/integration
T_NAME=${T_NAME:-$(basename "$0" .sh)}
PY=/usr/bin/python3		# Debian's python, never a user shim
GW_BIN=$BUILD_DIR/gatewayd/gatewayd
CA_TOOL=$BUILD_DIR/ca-tool/ca-tool
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# ------------------------------------------------------------ addresses
GW_UP_IP=198.18.0.1		# gw-up in the gateway namespace
INET_MAIN_IP=198.18.0.10	# nginx: the real sites (example.com ...)
INET_BAD_IP=198.18.0.11		# nginx: bad/expired/wrongname/selfsigned
INET_ECHO_IP=198.18.0.12	# upstream.py: echo, uploads, WebSocket
INET_DB_IP=198.18.0.20		# PostgreSQL (pg_start), db.test
INET_DNS_IP=198.18.0.53		# dnsmasq
INET_PRIV_IP=172.16.99.10	# a "private range" host beyond the gateway
GW_UP_IP6=2001:2::1
INET_MAIN_IP6=2001:2::10
INET_BAD_IP6=2001:2::11
INET_ECHO_IP6=2001:2::12
INET_DB_IP6=2001:2::20
INET_DNS_IP6=2001:2::53
BRIDGE_NET=10.66.0.0/24
BRIDGE_NET6=fd00:66::/64
ISOLATED_NET=10.67.0.0/22
ISOLATED_NET6=fd00:67::/48

NAMES_MAIN="example.com news.ycombinator.com en.wikipedia.org site-a.test api.github.com git.test pinned.test"
NAMES_BAD="bad.test expired.test wrongname.test selfsigned.test"
NAMES_ECHO="echo.test ws.test other.test api.github.com.evil.example"

# ------------------------------------------------------------ per test state
T_PREFIX=gt$$
NS_GW=$T_PREFIX-gw
NS_INET=$T_PREFIX-in
T_NAMESPACES=()		# every namespace this test created
T_PIDS=()		# every process this test started (start_bg)
T_PIDNAMES=()
T_GUESTS=0
T_VARIANT=
T_IPV6=0
T_GUEST=${T_GUEST:-1}	# the guest in_guest/guest_curl use
T_GUEST_CA=${T_GUEST_CA:-}
T_SKIPPED=0
T_ERRORED=0
T_KEEP=${T_KEEP:-0}
T_START=$(date +%s.%N)

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S.%3N)" "$T_NAME" "$*" >&2; }

# fail MSG / skip MSG / error MSG: end the test as failed (1), skipped (77)
# or broken (99: the harness or the machine, not the code under test).
fail() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; T_SKIPPED=1; exit 77; }
error() { log "ERROR: $*"; T_ERRORED=1; exit 99; }

t_on_err() {
	log "command failed (rc=$1) at ${BASH_SOURCE[2]:-?}:${BASH_LINENO[1]:-?}: $2"
}
trap 't_on_err $? "$BASH_COMMAND"' ERR

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "iproute2 is not installed"
ip netns list >/dev/null 2>&1 || skip "ip netns is not available"

# The test's PID is in the name so that leftovers can tell a live test's
# files and processes from those of a dead one.
T_DIR=$(mktemp -d "/tmp/gwtest.$T_NAME.$$.XXXXXX")
chmod 755 "$T_DIR"
mkdir "$T_DIR/home"
# Shared, slow-to-make data (PKI, bodies): once per build directory.
if [ -w "$BUILD_DIR" ] || mkdir -p "$BUILD_DIR" 2>/dev/null; then
	T_CACHE=$BUILD_DIR/tests-cache
else
	T_CACHE=/tmp/gwtest-cache
fi
mkdir -p "$T_CACHE"
PKI=$T_CACHE/pki
WWW=$T_CACHE/www
T_AUDIT=$T_DIR/audit.log	# a path for the test's gatewayd audit log

# ------------------------------------------------------------ processes
# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
	local st
	[ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st:0:1}" != Z ]
}

# start_bg NAME NS CMD...: run CMD in namespace NS in the background,
# stdout+stderr to $T_DIR/NAME.out, PID in $T_DIR/NAME.pid (and $BG_PID).
start_bg() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >"$T_DIR/$name.out" 2>&1 </dev/null &
	BG_PID=$!
	echo "$BG_PID" >"$T_DIR/$name.pid"
	T_PIDS+=("$BG_PID")
	T_PIDNAMES+=("$name")
}

# pid_of NAME: the PID start_bg recorded for NAME.
pid_of() { cat "$T_DIR/$1.pid" 2>/dev/null; }

# stop_pid PID [SIGNAL [TIMEOUT_S]]: signal, wait (bounded), then SIGKILL.
# Returns the process's exit status when it was our child (else 0).
stop_pid() {
	local pid=$1 sig=${2:-TERM} t=${3:-5} i rc=0
	if pid_alive "$pid"; then
		kill "-$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < t * 20; i++)); do
			pid_alive "$pid" || break
			sleep 0.05
		done
		if pid_alive "$pid"; then
			log "pid $pid ignored SIG$sig for ${t}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# stop_bg NAME [SIGNAL]: stop the process start_bg started as NAME.
stop_bg() {
	local pid
	pid=$(pid_of "$1") || return 0
	rm -f "$T_DIR/$1.pid"
	stop_pid "$pid" "${2:-TERM}"
}

# wait_for TIMEOUT_S CMD...: poll CMD every 50 ms until it succeeds.
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

port_listening() { # NS PORT [ADDR]
	local f="sport = :$2"
	[ -n "${3:-}" ] && f="src [$3]:$2"
	ip netns exec "$1" ss -Hln "( $f )" 2>/dev/null | grep -q .
}

# wait_port NS PORT [TIMEOUT_S [ADDR]]: wait until something listens on
# PORT (TCP or UDP) in NS, optionally on ADDR only.
wait_port() {
	wait_for "${3:-10}" port_listening "$1" "$2" "${4:-}" ||
	    fail "nothing listens on ${4:+$4 }port $2 in $1 after ${3:-10}s"
}

# wait_bg_port NAME NS PORT [ADDR [TIMEOUT_S]]: like wait_port for a
# process started as NAME; fails at once (with its output) if it exits.
wait_bg_port() {
	local pid i t=${5:-10}
	pid=$(pid_of "$1")
	for ((i = 0; i < t * 20; i++)); do
		port_listening "$2" "$3" "${4:-}" && return 0
		pid_alive "$pid" || { tail -n 20 "$T_DIR/$1.out" >&2;
		    fail "$1 exited before listening on ${4:+$4 }port $3"; }
		sleep 0.05
	done
	fail "$1: nothing listens on ${4:+$4 }port $3 in $2 after ${t}s"
}

# ------------------------------------------------------------ cleanup
ns_delete() {
	local ns=$1 pid
	[ -e "/run/netns/$ns" ] || { rm -rf "/etc/netns/$ns"; return 0; }
	# Only processes this test started can live in its namespaces; any
	# still there (children of what we started) are stopped by PID.
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		wait_for 2 eval "! pid_alive $pid" || kill -KILL "$pid" 2>/dev/null || true
	done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "/etc/netns/$ns"
}

# Namespaces of earlier runs whose test process is gone (a test killed by
# SIGKILL cannot clean up): gt<pid>-* with <pid> no longer alive.
sweep_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^gt([0-9]+)-(gw|in|g[0-9]+)$ ]] || continue
		pid=${BASH_REMATCH[1]}
		pid_alive "$pid" && continue
		log "removing stale namespace $ns"
		ns_delete "$ns"
	done
}

# leftovers: print what dead tests left behind (one line each): their
# namespaces (gt<pid>-*), /etc/netns dirs, and processes whose command line
# names a /tmp/gwtest.<name>.<pid>.* dir of a test that no longer runs.
leftovers() {
	local ns pid args d
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^gt([0-9]+)- ]] && ! pid_alive "${BASH_REMATCH[1]}" &&
		    echo "namespace $ns"
	done
	for d in /etc/netns/gt*; do
		[ -e "$d" ] || continue
		[[ ${d##*/} =~ ^gt([0-9]+)- ]] && ! pid_alive "${BASH_REMATCH[1]}" &&
		    echo "directory $d"
	done
	while read -r pid args; do
		[[ $args =~ /tmp/gwtest\.[^./]+\.([0-9]+)\. ]] || continue
		pid_alive "${BASH_REMATCH[1]}" || echo "process $pid $args"
	done < <(ps -eo pid=,args=)
}

dump_logs() {
	local f
	log "logs of $T_DIR:"
	while IFS= read -r f; do
		[ -s "$f" ] || continue
		printf '\n----- %s (last 80 lines)\n' "${f#"$T_DIR"/}" >&2
		tail -n 80 "$f" | cut -c1-400 >&2
	done < <(find "$T_DIR" -maxdepth 3 -type f \
	    \( -name '*.out' -o -name '*.log' -o -name '*.err' \) | sort)
}

t_cleanup() {
	local rc=$? i f
	set +eE
	trap - ERR EXIT INT TERM
	# exit codes 77/99 mean skip/error only when skip/error said so
	{ [ "$rc" = 77 ] && [ "$T_SKIPPED" = 0 ]; } && rc=1
	{ [ "$rc" = 99 ] && [ "$T_ERRORED" = 0 ]; } && rc=1
	for ((i = ${#T_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${T_PIDS[$i]}" TERM 3 >/dev/null 2>&1
	done
	for ((i = ${#T_NAMESPACES[@]} - 1; i >= 0; i--)); do
		ns_delete "${T_NAMESPACES[$i]}"
	done
	if [ -n "${T_DIR:-}" ] && [ -d "$T_DIR" ]; then
		f=$(grep -lE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' \
		    "$T_DIR"/*.out 2>/dev/null | head -n 3)
		if [ -n "$f" ]; then
			log "FAIL: sanitizer report in: $f"
			[ "$rc" = 0 ] && rc=1
		fi
		if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
			dump_logs
			log "kept $T_DIR"
		elif [ "$T_KEEP" = 1 ]; then
			log "kept $T_DIR"
		else
			rm -rf "$T_DIR"
		fi
	fi
	log "$(case $rc in 0) echo PASS ;; 77) echo SKIP ;; *) echo "FAIL (rc=$rc)" ;; esac)" \
	    "in $(awk -v s="$T_START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')s"
	exit "$rc"
}
trap t_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

[ "${T_NO_SWEEP:-0}" = 1 ] || sweep_stale

# ------------------------------------------------------------ topology
ns_add() {
	local ns=$1
	ip netns add "$ns"
	T_NAMESPACES+=("$ns")
	mkdir -p "/etc/netns/$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0 \
	    net.ipv6.conf.default.accept_ra=0 >/dev/null
	if [ "$T_IPV6" = 0 ]; then
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		    net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	fi
}

# guest_ns N: namespace name of guest N (1-based).
guest_ns() { echo "$T_PREFIX-g$1"; }

hosts_lines() { # ADDR NAMES...
	local a=$1
	shift
	printf '%s %s\n' "$a" "$*"
}

write_hosts() { # FILE [with-sites]
	{
		echo "127.0.0.1 localhost"
		echo "::1 localhost ip6-localhost ip6-loopback"
		if [ "${2:-1}" = 1 ]; then
			hosts_lines "$INET_MAIN_IP" $NAMES_MAIN
			hosts_lines "$INET_BAD_IP" $NAMES_BAD
			hosts_lines "$INET_ECHO_IP" $NAMES_ECHO
			hosts_lines "$INET_DB_IP" db.test
			hosts_lines "$INET_DNS_IP" dns.test
			hosts_lines "$INET_PRIV_IP" internal.test
			if [ "$T_IPV6" = 1 ]; then
				hosts_lines "$INET_MAIN_IP6" $NAMES_MAIN
				hosts_lines "$INET_BAD_IP6" $NAMES_BAD
				hosts_lines "$INET_ECHO_IP6" $NAMES_ECHO
				hosts_lines "$INET_DB_IP6" db.test
			fi
		fi
	} >"$1"
	chmod 644 "$1"
}

write_resolv() { # NS NAMESERVER
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$2" \
	    >"/etc/netns/$1/resolv.conf"
	chmod 644 "/etc/netns/$1/resolv.conf"
}

# topo_up [bridge|isolated] [--guests N] [--ipv6] [--no-guest-hosts]
#         [--isolated-net A.B.C.0/22]
#
# Builds the namespaces and sets, for guest i (1-based):
#   GUEST_NS[i] GUEST_IP[i] GUEST_GW[i] (its next hop) GUEST_IF[i] (the
#   gateway-side interface) and with --ipv6 GUEST_IP6[i] GUEST_GW6[i];
# and T_GUEST_NET (CIDR of all guests), T_GUEST_NET6, T_GUEST_IFACE (the
# interface pattern a group config matches: "br-agents" or "ve-*").
# --no-guest-hosts leaves the site names out of the guests' hosts file, so
# guests must use DNS (their resolv.conf names their next hop).
# --isolated-net: the isolated variant's /22 (default $ISOLATED_NET), e.g.
# a Slicer range out of 169.254.0.0/16 for a worked example.
topo_up() {
	local variant=${1:-bridge} n=2 guest_hosts=1 i ns a gw
	local iso_net=$ISOLATED_NET iso_b
	[ $# -gt 0 ] && shift
	while [ $# -gt 0 ]; do
		case $1 in
		--guests) n=$2; shift ;;
		--ipv6) T_IPV6=1 ;;
		--no-guest-hosts) guest_hosts=0 ;;
		--isolated-net) iso_net=$2; shift ;;
		*) error "topo_up: unknown option $1" ;;
		esac
		shift
	done
	case $variant in bridge | isolated) ;; *) error "topo_up: variant $variant" ;; esac
	[ "$n" -ge 1 ] && [ "$n" -le 8 ] || error "topo_up: 1..8 guests"
	[ -z "$T_VARIANT" ] || error "topo_up called twice"
	T_VARIANT=$variant
	T_GUESTS=$n
	GUEST_NS=() GUEST_IP=() GUEST_GW=() GUEST_IF=() GUEST_IP6=() GUEST_GW6=()

	ns_add "$NS_GW"
	ns_add "$NS_INET"
	for ((i = 1; i <= n; i++)); do
		ns_add "$(guest_ns "$i")"
	done

	# gateway <-> internet
	ip -n "$NS_GW" link add gw-up type veth peer name inet0 netns "$NS_INET"
	ip -n "$NS_GW" addr add "$GW_UP_IP/24" dev gw-up
	ip -n "$NS_GW" link set gw-up up
	for a in "$INET_MAIN_IP" "$INET_BAD_IP" "$INET_ECHO_IP" "$INET_DB_IP" \
	    "$INET_DNS_IP"; do
		ip -n "$NS_INET" addr add "$a/24" dev inet0
	done
	ip -n "$NS_INET" addr add "$INET_PRIV_IP/32" dev inet0
	ip -n "$NS_INET" link set inet0 up
	ip -n "$NS_GW" route add "$INET_PRIV_IP/32" via "$INET_MAIN_IP"
	ip netns exec "$NS_GW" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	if [ "$T_IPV6" = 1 ]; then
		ip -n "$NS_GW" addr add "$GW_UP_IP6/64" dev gw-up nodad
		for a in "$INET_MAIN_IP6" "$INET_BAD_IP6" "$INET_ECHO_IP6" \
		    "$INET_DB_IP6" "$INET_DNS_IP6"; do
			ip -n "$NS_INET" addr add "$a/64" dev inet0 nodad
		done
		ip netns exec "$NS_GW" sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null
	fi

	if [ "$variant" = bridge ]; then
		T_GUEST_NET=$BRIDGE_NET T_GUEST_NET6=$BRIDGE_NET6
		T_GUEST_IFACE=br-agents
		ip -n "$NS_GW" link add br-agents type bridge
		# br_netfilter (on here, per namespace) would run the inet hooks
		# in bridge context, where a TPROXY socket assignment is lost
		# (the SYN gets a RST).  Bridged guest-to-guest frames are for
		# the bridge family; routed traffic is seen on br-agents.
		ip netns exec "$NS_GW" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		    net.bridge.bridge-nf-call-ip6tables=0 \
		    net.bridge.bridge-nf-call-arptables=0 >/dev/null 2>&1 || true
		ip -n "$NS_GW" addr add 10.66.0.1/24 dev br-agents
		[ "$T_IPV6" = 1 ] && ip -n "$NS_GW" addr add fd00:66::1/64 dev br-agents nodad
		ip -n "$NS_GW" link set br-agents up
	else
		T_GUEST_NET=$iso_net T_GUEST_NET6=$ISOLATED_NET6
		T_GUEST_IFACE='ve-*'
		[[ $iso_net =~ ^([0-9]+\.[0-9]+)\.([0-9]+)\.0/22$ ]] ||
		    error "topo_up: --isolated-net $iso_net is not an A.B.C.0/22"
		iso_b=${BASH_REMATCH[1]}
		a=${BASH_REMATCH[2]}
		[ $((a % 4)) = 0 ] || error "topo_up: $iso_net: host bits set"
	fi
	ip -n "$NS_INET" route add "$T_GUEST_NET" via "$GW_UP_IP"
	[ "$T_IPV6" = 1 ] && ip -n "$NS_INET" route add "$T_GUEST_NET6" via "$GW_UP_IP6"

	for ((i = 1; i <= n; i++)); do
		ns=$(guest_ns "$i")
		GUEST_NS[i]=$ns
		if [ "$variant" = bridge ]; then
			GUEST_IF[i]=vb-g$i
			GUEST_IP[i]=10.66.0.$((1 + i)) GUEST_GW[i]=10.66.0.1
			GUEST_IP6[i]=fd00:66::$((1 + i)) GUEST_GW6[i]=fd00:66::1
			ip -n "$NS_GW" link add "${GUEST_IF[i]}" type veth peer name eth0 netns "$ns"
			ip -n "$NS_GW" link set "${GUEST_IF[i]}" master br-agents up
			ip -n "$ns" addr add "${GUEST_IP[i]}/24" dev eth0
			[ "$T_IPV6" = 1 ] && ip -n "$ns" addr add "${GUEST_IP6[i]}/64" dev eth0 nodad
		else
			# Slicer's isolated mode: a /30 per guest, guest .2, gw .1
			a=$((4 * (i - 1)))
			gw=${iso_net#*.*.}
			gw=$((${gw%%.*} + a / 256))
			GUEST_IF[i]=ve-g$i
			GUEST_IP[i]=$iso_b.$gw.$((a % 256 + 2))
			GUEST_GW[i]=$iso_b.$gw.$((a % 256 + 1))
			GUEST_IP6[i]=fd00:67:0:$i::2 GUEST_GW6[i]=fd00:67:0:$i::1
			ip -n "$NS_GW" link add "${GUEST_IF[i]}" type veth peer name eth0 netns "$ns"
			ip -n "$NS_GW" addr add "${GUEST_GW[i]}/30" dev "${GUEST_IF[i]}"
			[ "$T_IPV6" = 1 ] && ip -n "$NS_GW" addr add "${GUEST_GW6[i]}/64" dev "${GUEST_IF[i]}" nodad
			ip -n "$NS_GW" link set "${GUEST_IF[i]}" up
			ip -n "$ns" addr add "${GUEST_IP[i]}/30" dev eth0
			[ "$T_IPV6" = 1 ] && ip -n "$ns" addr add "${GUEST_IP6[i]}/64" dev eth0 nodad
		fi
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via "${GUEST_GW[i]}"
		[ "$T_IPV6" = 1 ] && ip -n "$ns" -6 route add default via "${GUEST_GW6[i]}"
		write_hosts "/etc/netns/$ns/hosts" "$guest_hosts"
		write_resolv "$ns" "${GUEST_GW[i]}"
	done
	for ns in "$NS_GW" "$NS_INET"; do
		write_hosts "/etc/netns/$ns/hosts"
		write_resolv "$ns" "$INET_DNS_IP"
	done
	log "topology $variant: $n guest(s)$([ "$T_IPV6" = 1 ] && echo ", IPv6")," \
	    "gw $NS_GW, internet $NS_INET"
}

# topo_down: stop every process the test started so far and delete its
# namespaces (cleanup does this anyway; for tests that build two topologies).
topo_down() {
	local i
	for ((i = ${#T_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${T_PIDS[$i]}" TERM 3 || true
		rm -f "$T_DIR/${T_PIDNAMES[$i]}.pid"
	done
	for ((i = ${#T_NAMESPACES[@]} - 1; i >= 0; i--)); do
		ns_delete "${T_NAMESPACES[$i]}"
	done
	T_PIDS=() T_PIDNAMES=() T_NAMESPACES=() T_VARIANT='' T_GUESTS=0 T_IPV6=0
}

# ------------------------------------------------------------ running things
# in_ns NS CMD...: run CMD in namespace NS.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
in_gw() { ip netns exec "$NS_GW" "$@"; }
in_inet() { ip netns exec "$NS_INET" "$@"; }
# in_guest CMD...: run CMD in guest $T_GUEST (default 1) with a clean
# environment, as a VM would: no proxy variables at all, and an empty HOME
# (no host ~/.curlrc, ~/.gitconfig... can change what a client does).
in_guest() {
	ip netns exec "${GUEST_NS[$T_GUEST]:?no topology}" env -i \
	    PATH="$PATH" HOME="$T_DIR/home" LANG=C.UTF-8 "$@"
}
# on_guest N CMD...: the same in guest N.
on_guest() { local T_GUEST=$1; shift; in_guest "$@"; }

# guest_curl ARGS...: curl from the guest trusting only $T_GUEST_CA (the
# group CA once ca_generate ran), bounded by timeouts.  No proxy, ever.
guest_curl() {
	local ca=()
	[ -n "$T_GUEST_CA" ] && ca=(--cacert "$T_GUEST_CA" --capath /nonexistent)
	in_guest curl -q -sS --noproxy '*' --connect-timeout 5 \
	    --max-time "${T_CURL_TIMEOUT:-20}" "${ca[@]}" "$@"
}

# guest_code URL [ARGS...]: print the HTTP status the guest gets (000 when
# the request failed); never fails itself.
guest_code() {
	local url=$1
	shift
	guest_curl -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null || true
}

# guest_py ARGS...: Debian's python3 in the guest.
guest_py() { in_guest "$PY" "$@"; }
# guest_client CMD ARGS...: tests/integration/client.py in the guest,
# trusting only $T_GUEST_CA (see client.py for get, ws, raw, tls-split).
guest_client() {
	local ca=()
	[ -n "$T_GUEST_CA" ] && ca=(--cafile "$T_GUEST_CA")
	in_guest "$PY" "$T_LIB_DIR/client.py" "$1" "${ca[@]}" "${@:2}"
}

# node_modules_ensure: the npm packages of tests/integration/node (its
# package-lock.json, exactly) in $T_CACHE/node, installed once per build
# dir and again when the lock changes; never in the source tree.  Skips
# without node or npm; an install that fails is an error (not a skip).
NODE_DIR=$T_CACHE/node
node_modules_ensure() {
	local src=$T_LIB_DIR/node stamp
	need_cmd node
	need_cmd npm
	stamp=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
	[ "$(cat "$NODE_DIR/.ready" 2>/dev/null)" = "$stamp" ] && return 0
	mkdir -p "$NODE_DIR"
	(
		flock -w 120 9 || exit 1
		[ "$(cat "$NODE_DIR/.ready" 2>/dev/null)" = "$stamp" ] && exit 0
		cp "$src/package.json" "$src/package-lock.json" "$NODE_DIR/" &&
		    timeout 120 npm ci --prefix "$NODE_DIR" --no-audit --no-fund \
		    >"$NODE_DIR/npm.log" 2>&1 &&
		    echo "$stamp" >"$NODE_DIR/.ready"
	) 9>"$T_CACHE/node.lock" || error "npm ci failed: see $NODE_DIR/npm.log"
}

# ws_strict_echo BASE-URL: a WebSocket echo through the gateway with the
# strict RFC 6455 clients, python3-websockets and Node's ws (they check
# the 101's Upgrade, Connection and Sec-WebSocket-Accept); BASE-URL is
# ws://host or wss://host (then trusting only $T_GUEST_CA).
ws_strict_echo() {
	local ca=()
	[ -n "$T_GUEST_CA" ] && ca=(--cafile "$T_GUEST_CA")
	node_modules_ensure
	in_guest "$PY" "$T_LIB_DIR/ws_echo.py" "$1/py" "${ca[@]}" \
	    --msg "from python" --msg "ünïcode" >"$T_DIR/ws-py.json" ||
	    { cat "$T_DIR/ws-py.json" >&2; fail "python3-websockets to $1"; }
	assert_match "$T_DIR/ws-py.json" '"echoes": \["from python", ' "python3-websockets echo"
	guest_node ws-echo.js "$1/node" "${ca[@]}" --msg "from node" --msg two \
	    >"$T_DIR/ws-node.json" ||
	    { cat "$T_DIR/ws-node.json" >&2; fail "Node ws to $1"; }
	assert_match "$T_DIR/ws-node.json" '"echoes":\["from node","two"\]' "Node ws echo"
}

# guest_node SCRIPT ARGS...: node in the guest running
# tests/integration/node/SCRIPT with the packages of node_modules_ensure.
guest_node() {
	in_guest env NODE_PATH="$NODE_DIR/node_modules" node "$T_LIB_DIR/node/$1" "${@:2}"
}

# ------------------------------------------------------------ assertions
assert_eq() { # EXPECTED ACTUAL [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}
assert_ne() { # UNEXPECTED ACTUAL [WHAT]
	[ "$1" != "$2" ] || fail "${3:-value}: got '$2', which it must not be"
}
# assert_match FILE ERE [WHAT]: some line of FILE matches.
assert_match() {
	[ -f "$1" ] || fail "${3:-$1}: no such file $1"
	grep -Eq -- "$2" "$1" || {
		tail -n 20 "$1" | sed 's/^/  | /' >&2
		fail "${3:-$1}: no line matches /$2/"
	}
}
# assert_no_match FILE ERE [WHAT]: no line of FILE matches (a missing
# file matches nothing).
assert_no_match() {
	[ -f "$1" ] || return 0
	! grep -Eq -- "$2" "$1" || {
		grep -En -- "$2" "$1" | head -n 5 | sed 's/^/  | /' >&2
		fail "${3:-$1}: a line matches /$2/"
	}
}
# count_match FILE ERE: number of matching lines (0 if no file).
count_match() { grep -Ec -- "$2" "$1" 2>/dev/null || true; }
# wait_match FILE ERE [TIMEOUT_S]: wait until a line matches (async logs).
wait_match() {
	wait_for "${3:-5}" grep -Eq -- "$2" "$1" ||
	    { [ -f "$1" ] && tail -n 20 "$1" | sed 's/^/  | /' >&2;
	      fail "$1: no line matched /$2/ within ${3:-5}s"; }
}
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
# www_sha NAME: the sha256 of the served body NAME (1k, 64k, 10m).
www_sha() { awk -v n="$1" '$2 == n { print $1 }' "$WWW/SHA256SUMS"; }

. "$T_LIB_DIR/lib-pki.sh"
. "$T_LIB_DIR/lib-servers.sh"
. "$T_LIB_DIR/lib-gw.sh"
