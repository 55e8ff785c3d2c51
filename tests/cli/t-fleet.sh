#!/bin/bash
# tests/cli/t-fleet.sh - what docs/fleet.md ships that can be checked on one
# machine: the alert rules (promtool check rules, and promtool test rules:
# each alert fires on the series meant to raise it), the systemd units of
# the git + path-unit recipe (systemd-analyze verify), the YAML examples
# parse, and two hosts sharing one group CA through `ca-tool import`.
#
# usage: t-fleet.sh SOURCE_DIR GATEWAYD CA_TOOL MAN_DIR    (TAP on stdout)
# MAN_DIR holds the built gatewayd.8 and gatewayd.conf.5 (the units'
# Documentation= links must resolve).
set -u

S=${1:?usage: t-fleet.sh SOURCE_DIR GATEWAYD CA_TOOL MAN_DIR}
GW=$(realpath "${2:?}")
CA=$(realpath "${3:?}")
M=$(realpath "${4:?}")
E=$S/docs/examples/fleet
TMP=$(mktemp -d /tmp/t-fleet.XXXXXX)
trap 'rm -rf -- "$TMP"' EXIT
. "$S/tests/cli/lib.sh"

# a command that succeeds and says nothing (systemd-analyze only warns)
silent() {
	local out
	out=$("$@" 2>&1) && [ -z "$out" ] && return 0
	printf '%s\n' "$out" | sed 's/^/# /'
	return 1
}

if command -v promtool >/dev/null; then
	ok "promtool check rules gatewayd-alerts.yml" \
	    quiet promtool check rules "$E/gatewayd-alerts.yml"
	ok "promtool test rules: each alert fires when it should" \
	    bash -c "cd '$E' && promtool test rules gatewayd-alerts.test.yml >'$TMP/pt' 2>&1 || { sed 's/^/# /' '$TMP/pt'; exit 1; }"
else
	ok "promtool is installed (scripts/deps.sh: prometheus)" false
fi

# verify wants the Exec binaries to exist: point them at the build; and
# the man pages of Documentation=
mkdir -p "$TMP/units" "$TMP/man/man5" "$TMP/man/man8"
ln -s "$M/gatewayd.conf.5" "$TMP/man/man5/"
ln -s "$M/gatewayd.8" "$TMP/man/man8/"
export MANPATH=$TMP/man
for u in gatewayd-config.path gatewayd-config.service \
    gatewayd-config-pull.service gatewayd-config-pull.timer; do
	sed "s|/usr/sbin/gatewayd|$GW|g" "$E/$u" >"$TMP/units/$u"
done
# the reload unit names gatewayd.service: a stand-in beside it
printf '[Service]\nExecStart=%s -c /etc/gatewayd/gatewayd.conf\n' "$GW" \
    >"$TMP/units/gatewayd.service"
for u in gatewayd-config.path gatewayd-config.service \
    gatewayd-config-pull.service gatewayd-config-pull.timer; do
	ok "systemd-analyze verify $u" silent systemd-analyze verify "$TMP/units/$u"
done

for y in gatewayd-alerts.yml gatewayd-alerts.test.yml vector.yaml \
    ansible-gatewayd.yml; do
	ok "$y is YAML" /usr/bin/python3 -c \
	    'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$E/$y"
done

# two hosts, one CA: generate on host A, import on host B
fp() { "$CA" status agents --dir "$1" --json 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["current"]["fingerprint_sha256"])'; }
ok "host A: ca-tool generate agents" quiet "$CA" generate agents --dir "$TMP/a" --quiet
ok "host B: ca-tool import agents (host A's pair)" quiet "$CA" import agents \
    --dir "$TMP/b" --cert "$TMP/a/agents/ca.crt" --key "$TMP/a/agents/ca.key"
fa=$(fp "$TMP/a") fb=$(fp "$TMP/b")
echo "# host A $fa, host B $fb"
ok "  both hosts have the same CA" test -n "$fa" -a "$fa" = "$fb"
tap_done
