#!/bin/bash
# t-guest-trust: the trust-store kit (`ca-tool env`).  Through TLS
# interception, curl, git, Python requests and Node each fail in a guest
# whose only change is the CA file Slicer writes (/runner/ca.crt, here a
# file in the test directory: the guest shares the host's system store,
# which does not hold the group CA, as a runtime that ignores the store
# would see it), and each succeeds once the guest sources the kit.  The
# kit's merged bundle holds the system roots as well as the group CA.
. "$(dirname "$0")/lib.sh"
need_gatewayd
need_ca_tool
need_cmd git
need_cmd node
"$PY" -c 'import requests' 2>/dev/null || skip "python3-requests is not installed"

topo_up isolated --guests 1
inet_up
git_start
ca_generate agents
gw_conf_tproxy "$T_DIR/gw.conf"
rules_apply "$T_DIR/gw.conf" >/dev/null
gw_start "$T_DIR/gw.conf"

# The guest's view: the CA where Slicer puts it, a home, the kit.
RUNNER=$T_DIR/runner
mkdir -p "$RUNNER" "$T_DIR/home"
cp "$T_CA_CRT" "$RUNNER/ca.crt"
ca_tool env agents --dir "$T_DIR/ca" --guest-ca "$RUNNER/ca.crt" >"$T_DIR/kit.sh" ||
    fail "ca-tool env"
ca_tool env agents --dir "$T_DIR/ca" --guest-ca "$RUNNER/ca.crt" --json >"$T_DIR/kit.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["env"]["NODE_EXTRA_CA_CERTS"]==sys.argv[2], d' \
    "$T_DIR/kit.json" "$RUNNER/ca.crt" || fail "ca-tool env --json"
sh -n "$T_DIR/kit.sh" || fail "the kit is not valid sh"

cat >"$T_DIR/clients.sh" <<'EOF'
# clients.sh WHICH: one client fetches through the gateway; exit status is
# the client's.  Bounded: every client has a timeout.
case $1 in
curl) curl -q -sS --max-time 15 -o /dev/null https://example.com/ ;;
git) rm -rf "$T_DIR/clone"
     timeout 20 git clone -q https://git.test/repo.git "$T_DIR/clone" ;;
requests) /usr/bin/python3 -c 'import requests; r = requests.get("https://example.com/", timeout=15); r.raise_for_status()' ;;
node) timeout 15 node -e 'require("https").get("https://example.com/", r => { process.exit(r.statusCode === 200 ? 0 : 3); }).on("error", e => { console.error(e.message); process.exit(2); });' ;;
esac
EOF
run_client() { # KIT(0|1) CLIENT
	local kit=$1 c=$2
	in_guest env T_DIR="$T_DIR" sh -c \
	    "$([ "$kit" = 1 ] && echo ". '$T_DIR/kit.sh' && ")sh '$T_DIR/clients.sh' $c" \
	    >"$T_DIR/$c.$kit.out" 2>&1
}

for c in curl git requests node; do
	if run_client 0 "$c"; then
		fail "$c trusted the gateway's leaf without the kit"
	fi
	# refused for the certificate, not for want of a network
	assert_match "$T_DIR/$c.0.out" '[Cc]ertificate|CERTIFICATE' "$c without the kit"
	log "ok: $c refuses the leaf without the kit"
	run_client 1 "$c" || { cat "$T_DIR/$c.1.out" >&2; fail "$c with the kit"; }
	log "ok: $c trusts the gateway with the kit"
done
assert_eq "hello from git.test" "$(cat "$T_DIR/clone/README")" "cloned through the kit"

# the merged bundle: every system root plus the group CA, not the CA alone
B=$T_DIR/home/.gatewayd/agents-bundle.pem
[ -s "$B" ] || fail "the kit made no bundle at $B"
n_sys=$(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt)
n_b=$(grep -c 'BEGIN CERTIFICATE' "$B")
assert_eq $((n_sys + 1)) "$n_b" "bundle = system roots + group CA"
wait_match "$T_AUDIT" '"url":"https://example.com/".*"status":200'
