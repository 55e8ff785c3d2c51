#!/bin/bash
# t-service-caps: gatewayd as dist/gatewayd.service starts it: not root,
# with the unit's CapabilityBoundingSet and AmbientCapabilities only, and
# no new privileges (setpriv stands in for systemd, which is not PID 1
# here).  Everything that needs a capability works that way: tproxy
# (IP_TRANSPARENT) and interception with SO_MARK upstream, NFQUEUE
# verdicts, the DNS proxy on port 53; the CA key is read through its group
# (ca-tool --key-group), the audit log and control socket live in
# directories the user owns, root reaches the control socket, SIGUSR1 and
# SIGHUP work.  Then each capability is taken away in turn: without any
# one of them gatewayd must refuse to start (so the unit holds none it
# does not need; CAP_NET_RAW is not among them, the kernel takes
# CAP_NET_ADMIN for IP_TRANSPARENT).  Last, ca-tool-rotate@.service's
# ExecStart as root with only that unit's bounding set: it rotates, and
# without any one capability of the set it cannot.
. "$(dirname "$0")/lib.sh"
. "$T_LIB_DIR/lib-nfq.sh"
need_ca_tool
need_cmd setpriv

UNIT=$SOURCE_DIR/dist/gatewayd.service.in
RUN_USER=nobody
RUN_GROUP=$(id -gn nobody)
# "CAP_NET_ADMIN CAP_NET_RAW" -> "net_admin net_raw"
unit_caps() {
	sed -n "s/^$1=//p" "$UNIT" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_//p'
}
CAPS=$(unit_caps CapabilityBoundingSet)
[ -n "$CAPS" ] || fail "no CapabilityBoundingSet= in $UNIT"
[ "$CAPS" = "$(unit_caps AmbientCapabilities)" ] ||
    fail "the unit's ambient and bounding capabilities differ"
grep -qx NoNewPrivileges=yes "$UNIT" || fail "the unit lacks NoNewPrivileges=yes"
log "unit capabilities: $(echo $CAPS)"

# as_service CAP...: a gatewayd that runs as RUN_USER with only CAP...
as_service() {
	local set="-all" c
	for c in "$@"; do set="$set,+$c"; done
	cat >"$T_DIR/gatewayd-as-service" <<SH
#!/bin/sh
exec setpriv --reuid=$RUN_USER --regid=$RUN_GROUP --clear-groups \\
    --inh-caps=$set --ambient-caps=$set --bounding-set=$set \\
    --no-new-privs -- "$REAL_GW" "\$@"
SH
	chmod 755 "$T_DIR/gatewayd-as-service"
}
REAL_GW=$GW_BIN

topo_up isolated --guests 1 --no-guest-hosts
inet_up
upstream_start
dns_start
start_bg udpsrv "$NS_INET" "$PY" "$NFQ_TOOL" udp-server "$INET_ECHO_IP" 7001 "$T_DIR/udp7001.log"
wait_bg_port udpsrv "$NS_INET" 7001
# What the unit's directories are: owned by the user, 0700/0750.
S=$T_DIR/svc
mkdir -p "$S/run" "$S/state" "$S/log"
chown "$RUN_USER:$RUN_GROUP" "$S/run" "$S/state" "$S/log"
chmod 700 "$S/run" "$S/state"
chmod 750 "$S/log"
cp "$PKI/public-root.crt" "$S/public-root.crt"
chmod 644 "$S/public-root.crt"
ca_tool generate agents --dir "$T_DIR/ca" --key-group "$RUN_GROUP" >/dev/null
T_CA_DIR=$T_DIR/ca/agents
T_CA_CRT=$T_CA_DIR/ca.crt
T_GUEST_CA=$T_CA_CRT
AUDIT=$S/log/audit.log
cat >"$T_DIR/gw.conf" <<CONF
trust_file = "$S/public-root.crt";
control_socket = "$S/run/control.sock";
state_file = "$S/state/sentinels";
audit = { path = "$AUDIT"; format = "json"; };
nfqueue = { num = 4758; };
groups = ( { name = "agents"; guests = [ "$T_GUEST_NET" ];
  interfaces = [ "$T_GUEST_IFACE" ]; ca_dir = "$T_CA_DIR";
  capture = { mode = "tproxy"; http_port = 3128; https_port = 3129; };
  policy = { default = "allow"; };
  l4 = { default = "deny"; rules = (
    { action = "allow"; proto = "udp"; cidr = "$INET_ECHO_IP/32"; ports = "7001"; name = "udp-ok"; } ); };
  dns = { mode = "gateway"; upstream = "$INET_DNS_IP"; listen_port = 53; }; } );
CONF
chmod 644 "$T_DIR/gw.conf"
rules_apply "$T_DIR/gw.conf" >"$T_DIR/rules.out" 2>&1 ||
    { cat "$T_DIR/rules.out" >&2; fail "rules apply failed"; }

# ---- with the unit's capabilities: everything works -----------------------
as_service $CAPS
# ExecStartPre's check runs as the user too
"$T_DIR/gatewayd-as-service" -t -c "$T_DIR/gw.conf" >"$T_DIR/check.out" 2>&1 ||
    { cat "$T_DIR/check.out" >&2; fail "gatewayd -t as $RUN_USER"; }
GW_BIN=$T_DIR/gatewayd-as-service
gw_start "$T_DIR/gw.conf"
GW_BIN=$REAL_GW
pid=$(gw_pid)
assert_eq "$(id -u $RUN_USER)" "$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)" \
    "gatewayd's uid"
want=$(setpriv --bounding-set=-all$(printf ',+%s' $CAPS) -- \
    awk '/^CapBnd:/ { print $2 }' /proc/self/status)
assert_eq "$want" "$(awk '/^CapEff:/ { print $2 }' /proc/$pid/status)" \
    "gatewayd's effective capabilities are the unit's"
assert_eq 1 "$(awk '/^NoNewPrivs:/ { print $2 }' /proc/$pid/status)" "NoNewPrivs"

assert_eq 200 "$(guest_code https://example.com/)" "HTTPS, intercepted (tproxy, SO_MARK)"
assert_eq 200 "$(guest_code http://example.com/)" "HTTP"
out=$(nfq_tool dns "${GUEST_GW[1]}" echo.test A)
case $out in "rcode=NOERROR n=1 addrs=$INET_ECHO_IP "*) ;;
*) fail "DNS through gatewayd on port 53: $out" ;; esac
assert_eq reply "$(nfq_tool udp "$INET_ECHO_IP" 7001 2)" "UDP allowed through NFQUEUE"
T_AUDIT=$AUDIT audit_wait kind=flow proto=udp dst="$INET_ECHO_IP:7001" verdict=accept
T_AUDIT=$AUDIT audit_wait kind=http host=example.com status=200
gw_exec stats -c "$T_DIR/gw.conf" >"$T_DIR/stats.out" 2>&1 ||
    { cat "$T_DIR/stats.out" >&2; fail "root could not reach the control socket"; }
assert_match "$T_DIR/stats.out" '^nfq_accepted [1-9]'
mv "$AUDIT" "$AUDIT.1"
gw_signal USR1
wait_for 5 test -e "$AUDIT" || fail "SIGUSR1 did not reopen the audit log"
assert_eq 200 "$(guest_code https://example.com/after-reopen)" "HTTPS after SIGUSR1"
T_AUDIT=$AUDIT audit_wait kind=http url=https://example.com/after-reopen
line=$(gw_reload)
echo "$line" | grep -q "in effect" || fail "reload as $RUN_USER: $line"
gw_stop || fail "gatewayd exited with status $GW_RC"

# ---- each capability taken away: what needs it ----------------------------
# without_cap CAP: start with the unit's set minus CAP; prints "starts" or
# "refused: <first error line>".
without_cap() {
	local c rc rest=()
	for c in $CAPS; do [ "$c" = "$1" ] || rest+=("$c"); done
	as_service "${rest[@]}"
	ip netns exec "$NS_GW" timeout 3 "$T_DIR/gatewayd-as-service" \
	    -c "$T_DIR/gw.conf" >"$GW_LOG" 2>&1 && rc=0 || rc=$?
	case $rc in
	124) echo starts ;;
	*) echo "refused: $(grep -m1 -iE 'fail|cannot|denied|not permitted|error' "$GW_LOG")" ;;
	esac
}
for c in $CAPS; do
	r=$(without_cap "$c")
	log "without $c: $r"
	case $r in
	refused*) ;;
	*) fail "without $c gatewayd $r: the unit would not need it" ;;
	esac
done
# ---- ca-tool-rotate@.service: its bounding set is enough ------------------
# Root without CAP_DAC_OVERRIDE & co.: the unit's ExecStart in its
# WorkingDirectory, on a missing CA, makes a new key readable by the group.
RUNIT=$SOURCE_DIR/dist/ca-tool-rotate@.service.in
UNIT=$RUNIT
rcaps=$(unit_caps CapabilityBoundingSet)
cmd=$(sed -n 's/^ExecStart=//p' "$RUNIT" | sed "s|@BINDIR@/ca-tool|$CA_TOOL|; s|%i|agents|; s|gatewayd\$|$RUN_GROUP|")
log "ca-tool-rotate@agents: $cmd with only: $(echo $rcaps)"
mkdir -m 755 "$T_DIR/etc"
set="-all$(printf ',+%s' $rcaps)"
(cd "$T_DIR/etc" && setpriv --inh-caps=-all --bounding-set="$set" \
    --no-new-privs -- $cmd) >"$T_DIR/rotate.out" 2>&1 ||
    { cat "$T_DIR/rotate.out" >&2; fail "ca-tool rotate under the unit's bounding set"; }
K=$T_DIR/etc/.slicer/ca/agents/ca.key
assert_eq "640 $RUN_GROUP" "$(stat -c '%a %G' "$K")" "the rotated key, group-readable"
# and without any one of them it cannot
for c in $rcaps; do
	set=-all
	for r in $rcaps; do [ "$r" = "$c" ] || set="$set,+$r"; done
	rm -rf "$T_DIR/etc/.slicer"
	if (cd "$T_DIR/etc" && setpriv --inh-caps=-all --bounding-set="$set" \
	    --no-new-privs -- $cmd) >"$T_DIR/rotate.out" 2>&1; then
		fail "ca-tool rotate without $c works: the unit would not need it"
	fi
	log "rotate without $c: $(head -n 1 "$T_DIR/rotate.out")"
done
log "ok"
