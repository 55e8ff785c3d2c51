#!/bin/bash
# t-head-drip: an upstream that drips its response head one byte a second,
# forever, cannot hold an exchange open: from the head's first byte the
# whole head must arrive within limits.response_head_timeout (3 s here),
# or the guest gets a 504.  Guest 1 asks for such heads on several
# connections at once; guest 2's requests are all served meanwhile (its
# latencies with and without the drip are printed as "# " lines,
# docs/performance.md).  response_timeout stays long: it restarts with
# every byte and is not what ends the drip.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_cmd curl

FLOOD=$T_LIB_DIR/flood-tool.py
DRIPS=${DRIPS:-8}
PROBES=${PROBES:-20}
DRIP_IP=198.18.0.55

topo_up isolated --guests 2
ip -n "$NS_INET" addr add "$DRIP_IP/24" dev inet0
hosts_lines "$DRIP_IP" drip.test >>"/etc/netns/$NS_GW/hosts"
start_bg drip "$NS_INET" "$PY" "$FLOOD" drip-server "$DRIP_IP" 80
wait_bg_port drip "$NS_INET" 80 "$DRIP_IP"
upstream_start
cat >"$T_DIR/gw.conf" <<CONF
audit = { path = "$T_AUDIT"; format = "json"; };
control_socket = "$T_DIR/control.sock";
limits = { response_head_timeout = "3s"; response_timeout = "60s"; };
groups = ( {
    name = "agents";
    guests = [ "$T_GUEST_NET" ];
    interfaces = [ "$T_GUEST_IFACE" ];
    capture = { mode = "redirect"; http_port = 3128; https_port = 3129; };
    policy = { default = "deny"; rules = (
      { action = "allow"; host = "drip.test"; },
      { action = "allow"; host = "echo.test"; }
    ); };
} );
CONF
rules_apply "$T_DIR/gw.conf" >"$T_DIR/rules.out" 2>&1 ||
    { cat "$T_DIR/rules.out" >&2; fail "rules apply failed"; }
gw_start "$T_DIR/gw.conf"

# probe: guest 2's PROBES plain-HTTP requests, one connection each.
probe() { on_guest 2 "$PY" "$FLOOD" http-probe "$INET_ECHO_IP" echo.test "$PROBES"; }

out=$(probe)
log "guest 2, no drip: $out"
echo "# head drip: guest 2 without a drip: $out"
case $out in "http ok=$PROBES fail=0 "*) ;; *) fail "guest 2 without a drip: $out" ;; esac

# Guest 1: DRIPS heads dripped at once, each timed by curl.
for ((i = 1; i <= DRIPS; i++)); do
	start_bg "drip-$i" "${GUEST_NS[1]}" curl -q -sS --noproxy '*' \
	    --max-time 20 --resolve "drip.test:80:$DRIP_IP" -o /dev/null \
	    -w '%{http_code} %{time_total}\n' \
	    "http://drip.test/drip$i"
done
sleep 1
out=$(probe)
log "guest 2 during guest 1's $DRIPS dripped heads: $out"
echo "# head drip: guest 2 during $DRIPS dripped heads: $out"
case $out in
"http ok=$PROBES fail=0 "*) ;;
*) fail "guest 2's requests during guest 1's dripped heads: $out" ;;
esac
for ((i = 1; i <= DRIPS; i++)); do
	wait_for 25 eval "! pid_alive \$(pid_of drip-$i)" || true
	r=$(cat "$T_DIR/drip-$i.out" 2>/dev/null)
	log "guest 1's dripped head $i: ${r:-nothing}"
	case $r in
	"504 "*) awk -v t="${r#* }" 'BEGIN { exit !(t >= 2.5 && t < 6) }' ||
	    fail "dripped head $i: 504 after ${r#* } s, not the 3 s deadline" ;;
	*) fail "dripped head $i: no 504 within the 3 s head deadline: ${r:-nothing}" ;;
	esac
done
wait_match "$T_AUDIT" '"url":"http://drip.test/drip1".*"status":504'
