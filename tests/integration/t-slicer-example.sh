#!/bin/bash
# t-slicer-example: the worked example of docs/slicer.md, as written.
# Slicer's isolated layout with the example's range 169.254.60.0/22 (VMs
# .2 and .6), docs/examples/slicer-agents.conf unchanged, run from a
# directory that plays Slicer's working directory (its relative ca_dir is
# where `ca-tool generate agents` writes), the rules it renders, and every
# row of the table "What a VM of the group gets".  The only thing the test
# supplies is the host's trust store for upstream verification
# (SSL_CERT_FILE: the test internet's root), as a real host has its own.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool
need_cmd nft
need_cmd dig

EXAMPLE=$SOURCE_DIR/docs/examples/slicer-agents.conf
PROBE=$T_LIB_DIR/nft_probe.py
probe() { local n=$1; shift; on_guest "$n" "$PY" "$PROBE" "$@" 2>&1; }
# blocked WHAT PROTO ADDR PORT: from VM 1, the probe gets no answer.
blocked() {
	local what=$1 out
	shift
	out=$(probe 1 "$@") || true
	case $out in
	tcp\ * | udp\ *) fail "$what: VM 1 reached $2:$3 ($out)" ;;
	esac
	log "ok: $what dropped"
}

# The docs' table names these guest addresses: keep them in step.
topo_up isolated --guests 2 --ipv6 --isolated-net 169.254.60.0/22
assert_eq 169.254.60.2 "${GUEST_IP[1]}" "first VM of the example"
assert_eq 169.254.60.6 "${GUEST_IP[2]}" "second VM of the example"
grep -q '169.254.60.6' "$SOURCE_DIR/docs/slicer.md" ||
    fail "docs/slicer.md no longer names the second VM 169.254.60.6"

# Destinations on the example's drop list, reachable beyond the gateway
# when nothing drops them: a LAN host and the metadata address.
LAN_IP=192.168.77.10
META_IP=169.254.169.254
for a in "$LAN_IP" "$META_IP"; do
	ip -n "$NS_INET" addr add "$a/32" dev inet0
	ip -n "$NS_GW" route add "$a/32" via "$INET_MAIN_IP"
done

inet_up
dns_start
start_bg inetprobe "$NS_INET" "$PY" "$PROBE" serve "tcp:$LAN_IP:80" \
    "tcp:$META_IP:80" "tcp:$INET_DNS_IP:853" "udp:$INET_MAIN_IP:443" \
    "tcp:$INET_DB_IP:5432"
start_bg gwprobe "$NS_GW" "$PY" "$PROBE" serve "tcp:${GUEST_GW[1]}:2222"
start_bg vm2probe "${GUEST_NS[2]}" "$PY" "$PROBE" serve "tcp:${GUEST_IP[2]}:22"
wait_bg_port inetprobe "$NS_INET" 5432 "$INET_DB_IP"
wait_bg_port gwprobe "$NS_GW" 2222
wait_bg_port vm2probe "${GUEST_NS[2]}" 22
# each listener answers when nothing is in the way (else "dropped" below
# would prove nothing)
assert_eq "tcp $LAN_IP:80" "$(in_gw "$PY" "$PROBE" tcp "$LAN_IP" 80)" "LAN host listens"
assert_eq "tcp $META_IP:80" "$(in_gw "$PY" "$PROBE" tcp "$META_IP" 80)" "metadata host listens"
assert_eq "tcp ${GUEST_IP[2]}:22" "$(in_gw "$PY" "$PROBE" tcp "${GUEST_IP[2]}" 22)" "VM 2 listens"

hits_before() { grep -c '^hit' "$T_DIR/$1.out" || true; }
H_INET=$(hits_before inetprobe) H_VM2=$(hits_before vm2probe)
H_GW=$(hits_before gwprobe)

# Slicer's working directory: the CA where Slicer and the example look.
SLICER_DIR=$T_DIR/slicer
mkdir -p "$SLICER_DIR"
(cd "$SLICER_DIR" && "$CA_TOOL" generate agents --quiet) ||
    fail "ca-tool generate agents in Slicer's working directory"
T_GUEST_CA=$SLICER_DIR/.slicer/ca/agents/ca.crt
[ -s "$T_GUEST_CA" ] || fail "no CA at .slicer/ca/agents/ca.crt"

# The example keeps the default control socket, /run/gatewayd/control.sock:
# this gatewayd gets a /run/gatewayd of its own (a mount namespace with
# $T_DIR/run there), or it would meet any other gatewayd on the machine
# ("another gatewayd is listening") and leave its socket behind.
mkdir -p /run/gatewayd "$T_DIR/run"
REAL_GW=$GW_BIN
GW_BIN=$T_DIR/gatewayd-own-run
cat >"$GW_BIN" <<SH
#!/bin/sh
exec unshare --mount --propagation private -- sh -c \
    'mount --bind "$T_DIR/run" /run/gatewayd && exec "\$0" "\$@"' "$REAL_GW" "\$@"
SH
chmod 755 "$GW_BIN"
cd "$SLICER_DIR"
out=$(gw_exec -t -c "$EXAMPLE" 2>&1) || fail "gatewayd -t: $out"
rules_apply "$EXAMPLE" >/dev/null
SSL_CERT_FILE=$PKI/public-root.crt
export SSL_CERT_FILE
gw_start "$EXAMPLE"
cd "$T_DIR"
OUT=$T_DIR/gatewayd.out

# curl https://example.com/: captured on 3129, leaf from the group CA
assert_eq 200 "$(guest_code https://example.com/)" "https example.com"
wait_match "$OUT" '"url":"https://example.com/"'
# curl https://en.wikipedia.org/: 403, the audit line names the rule
assert_eq 403 "$(guest_code https://en.wikipedia.org/)" "https wikipedia"
wait_match "$OUT" '"url":"https://en.wikipedia.org/".*no-wikipedia'
# curl http://example.com/: captured on 3128
assert_eq 200 "$(guest_code http://example.com/)" "http example.com"
wait_match "$OUT" '"url":"http://example.com/"'

# a DNS query to any server is answered by gatewayd (logged), not by the
# server it was addressed to (8.8.8.8 does not exist here)
a=$(in_guest dig +short +time=2 +tries=1 @8.8.8.8 example.com A 2>&1)
assert_eq "$INET_MAIN_IP" "$a" "DNS to 8.8.8.8 answered"
wait_match "$OUT" '"kind":"dns".*"url":"example.com"'

# DoT, QUIC: dropped
blocked "DoT" tcp "$INET_DNS_IP" 853
blocked "QUIC" udp "$INET_MAIN_IP" 443
# the drop list: LAN and metadata
blocked "LAN host" tcp "$LAN_IP" 80
blocked "metadata address" tcp "$META_IP" 80
# another VM, the host on another port
blocked "another VM" tcp "${GUEST_IP[2]}" 22
blocked "host port 2222" tcp "${GUEST_GW[1]}" 2222
# IPv6 (the group has no IPv6 prefix)
code=$(guest_code "http://[$INET_MAIN_IP6]/" -H 'Host: example.com')
assert_eq 000 "$code" "IPv6"
# a non-HTTP flow: l4 default deny, judged over NFQUEUE
blocked "non-HTTP flow" tcp "$INET_DB_IP" 5432
wait_match "$OUT" '"kind":"flow".*"dst":"198.18.0.20:5432".*"verdict":"drop"'

# none of the dropped flows reached its listener
assert_eq "$H_INET" "$(hits_before inetprobe)" "hits on internet listeners"
assert_eq "$H_VM2" "$(hits_before vm2probe)" "hits on VM 2"
assert_eq "$H_GW" "$(hits_before gwprobe)" "hits on the host"

# the counters say what was blocked
in_gw nft list table inet gatewayd_agents >"$T_DIR/nft.out"
assert_match "$T_DIR/nft.out" 'counter packets [1-9]' "drop counters moved"
rules_remove "$EXAMPLE" >/dev/null
[ -S "$T_DIR/run/control.sock" ] || fail "the control socket is not in the test's own /run/gatewayd"
log "worked example of docs/slicer.md holds"
