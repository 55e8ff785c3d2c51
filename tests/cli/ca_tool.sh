#!/bin/bash
# tests/cli/ca_tool.sh - ca-tool end to end, checked with the openssl CLI.
#
# usage: ca_tool.sh /path/to/ca-tool      (TAP on stdout)
#
# Time is moved with CA_TOOL_NOW (see docs/ca-tool.md), so the rotation
# window is tested on both sides of its edge without waiting.  Everything
# happens in a private temporary directory removed at exit.
set -u

T=${1:?usage: ca_tool.sh CA_TOOL}
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "1..0 # SKIP no openssl"; exit 0; }
# python3 parses the --json output (scripts/deps.sh installs it).  Without
# it the JSON cannot be checked: stop the whole run, loudly, rather than
# pass those checks.  PY may name another interpreter (or a missing one, to
# see this bail out).
PY=${PY:-/usr/bin/python3}
"$PY" -c 'import json' 2>/dev/null ||
    { echo "Bail out! $PY cannot run (scripts/deps.sh installs python3)"; exit 1; }

TMP=$(mktemp -d /tmp/ca_tool_test.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf -- "$TMP"
}
trap cleanup EXIT
export CA_TOOL_DIR=$TMP/ca
unset CA_TOOL_NOW
NOW=$(date +%s)
DAY=86400
at() {	# at UNIXTIME EXPECTED_RC args...
	local t=$1
	shift
	CA_TOOL_NOW=$t run "$@"
}
g() { echo "$CA_TOOL_DIR/$1"; }
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'; }
mode() { stat -c %a "$1"; }
grp() { stat -c %G "$1"; }
pubmatch() {	# pubmatch CRT KEY
	[ "$(openssl x509 -noout -pubkey -in "$1")" = \
	    "$(openssl pkey -pubout -in "$2" 2>/dev/null)" ]
}
snap() {	# content, modes and names of every file below the base dir
	(cd "$CA_TOOL_DIR" 2>/dev/null && find . -printf '%p %m %s\n' |
	    sort && find . -type f -exec sha256sum {} + | sort) 
}
unchanged() {	# unchanged BEFORE-FILE
	snap >"$TMP/snap.after"
	cmp -s "$1" "$TMP/snap.after" || {
		diff "$1" "$TMP/snap.after" | diag
		return 1
	}
}
text() { openssl x509 -noout -text -in "$1"; }

# ---- help --------------------------------------------------------------
for h in --help -h help; do
	ok "$h: exit 0" run 0 "$h"
	ok "  usage on stdout, nothing on stderr" bash -c \
	    "grep -q '^usage: ca-tool' '$TMP/out' && [ ! -s '$TMP/err' ]"
done
for w in generate rotate status import --dir --cn --key-type --days \
    --key-group --force --quiet --json --window --stage --reload-pidfile \
    --cert --key; do
	ok "  --help mentions $w" out_has "^  $w "
done
ok "rotate --help: exit 0" run 0 rotate --help
ok "  its options" out_has "--window DAYS"
ok "unknown option: exit 2" run 2 --bogus
ok "  short message on stderr only" bash -c \
    "grep -q bogus '$TMP/err' && [ \$(wc -l <'$TMP/err') -le 3 ] && [ ! -s '$TMP/out' ]"

# ---- generate ---------------------------------------------------------
ok "generate agents" run 0 generate agents
A=$(g agents)
ok "ca.crt 0644" test "$(mode "$A/ca.crt")" = 644
ok "ca.key 0600" test "$(mode "$A/ca.key")" = 600
ok "group directory 0700" test "$(mode "$A")" = 700
ok "openssl verify: self-signed CA" quiet openssl verify -CAfile "$A/ca.crt" "$A/ca.crt"
text "$A/ca.crt" >"$TMP/text"
ok "X.509 v3" grep -q "Version: 3" "$TMP/text"
ok "basicConstraints critical CA:TRUE pathlen 0" \
    grep -A1 -q "Basic Constraints: critical" "$TMP/text"
ok "CA:TRUE, pathlen:0" grep -q "CA:TRUE, pathlen:0" "$TMP/text"
ok "keyUsage critical keyCertSign+cRLSign" bash -c \
    "grep -A1 'Key Usage: critical' '$TMP/text' | grep -q 'Certificate Sign, CRL Sign'"
ok "SKI and AKI present" bash -c "grep -q 'Subject Key Identifier' $TMP/text && grep -q 'Authority Key Identifier' $TMP/text"
ok "EC P-256 key" grep -q "NIST CURVE: P-256" "$TMP/text"
ok "subject CN=agents egress CA" grep -q "Subject: CN = agents egress CA" "$TMP/text"
serial=$(openssl x509 -noout -serial -in "$A/ca.crt" | sed 's/serial=//')
ok "128-bit serial (32 hex digits)" test ${#serial} -eq 32
ok "valid for 3 years (checkend)" bash -c \
    "openssl x509 -noout -checkend $((1094 * DAY)) -in $A/ca.crt >/dev/null && ! openssl x509 -noout -checkend $((1096 * DAY)) -in $A/ca.crt >/dev/null"
ok "key matches certificate" pubmatch "$A/ca.crt" "$A/ca.key"
ok "bundle = current" cmp -s "$A/ca.crt" "$A/ca.bundle.crt"

snap >"$TMP/before"
ok "generate again refused" run 1 generate agents
ok "  says --force" stderr_has "--force"
ok "  files untouched" unchanged "$TMP/before"
old=$(fp "$A/ca.crt")
ok "generate --force" run 0 generate agents --force
ok "  new CA" test "$(fp "$A/ca.crt")" != "$old"
ok "  previous kept as ca.prev" test "$(fp "$A/ca.prev.crt")" = "$old"
ok "  ca.prev pair matches" pubmatch "$A/ca.prev.crt" "$A/ca.prev.key"

for kt in p384:"NIST CURVE: P-384" rsa2048:"Public-Key: (2048 bit)" \
    rsa3072:"Public-Key: (3072 bit)"; do
	ok "generate --key-type ${kt%%:*}" run 0 generate "k${kt%%:*}" --key-type "${kt%%:*}"
	ok "  ${kt#*:}" bash -c "openssl x509 -noout -text -in $(g "k${kt%%:*}")/ca.crt | grep -q '${kt#*:}'"
done
ok "--cn and --days" run 0 generate custom --cn "Custom Test CA" --days 30
ok "  subject" bash -c "openssl x509 -noout -subject -in $(g custom)/ca.crt | grep -q 'CN = Custom Test CA'"
ok "  30 days" bash -c "! openssl x509 -noout -checkend $((31 * DAY)) -in $(g custom)/ca.crt >/dev/null"

# ---- status ------------------------------------------------------------
ok "status: exit 0 when fine" run 0 status agents
ok "  text names the key type" out_has "EC P-256"
ok "status --json" run 0 status agents --json
json() { "$PY" "$@"; }	# json ARGS... < script
ok "  JSON fields" json - "$TMP/out" "$(fp "$A/ca.crt")" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["current"]
assert d["needs_rotation"] is False and d["in_window"] is False, d
assert c["state"] == "ok" and c["key_type"] == "EC P-256", c
assert c["fingerprint_sha256"] == sys.argv[2], (c, sys.argv[2])
assert c["days_left"] in (1094, 1095) and d["key_mode"] == "0600", c
assert d["previous"]["state"] == "ok" and d["next"]["state"] == "missing"
EOF
ok "status of a missing group: exit 3" run 3 status nosuch
ok "  and creates nothing" test ! -e "$(g nosuch)"

# ---- the rotation window, both sides of its edge -----------------------
at "$NOW" 0 generate edge --days 30
E=$(g edge)
NA=$((NOW + 30 * DAY))
old=$(fp "$E/ca.crt")
snap >"$TMP/before"
ok "1 s before the window: status 0" at $((NA - 7 * DAY - 1)) 0 status edge
ok "1 s before the window: rotate does nothing" at $((NA - 7 * DAY - 1)) 0 rotate edge
ok "  says so" out_has "nothing to do"
ok "  files untouched" unchanged "$TMP/before"
ok "--quiet: no output when nothing to do" bash -c \
    "CA_TOOL_NOW=$((NA - 7 * DAY - 1)) $T rotate edge --quiet >$TMP/q && test ! -s $TMP/q"
ok "--window 8 moves the edge: status 3" at $((NA - 7 * DAY - 1)) 3 status edge --window 8
ok "at the window edge: status 3" at $((NA - 7 * DAY)) 3 status edge
ok "at the window edge: rotate rotates" at $((NA - 7 * DAY)) 0 rotate edge --quiet
ok "  one line of output" test "$(wc -l <"$TMP/out")" -eq 1
ok "  new CA, old one kept as prev" bash -c \
    "test \"\$(openssl x509 -noout -fingerprint -sha256 -in $E/ca.crt)\" != \"\$(openssl x509 -noout -fingerprint -sha256 -in $E/ca.prev.crt)\" && test \"$old\" = \"\$(openssl x509 -noout -fingerprint -sha256 -in $E/ca.prev.crt | sed 's/.*=//')\""
ok "  new pair matches" pubmatch "$E/ca.crt" "$E/ca.key"
ok "  rotating again does nothing" at $((NA - 7 * DAY)) 0 rotate edge
ok "  says so" out_has "nothing to do"

ok "rotate with no CA creates one" run 0 rotate fresh
ok "  valid" quiet openssl verify -CAfile "$(g fresh)/ca.crt" "$(g fresh)/ca.crt"
F=$(g fresh)
cp "$F/ca.crt" "$TMP/fresh.crt"
echo garbage >"$F/ca.crt"
ok "status of a corrupt CA: exit 3" run 3 status fresh
ok "rotate replaces a corrupt CA" run 0 rotate fresh
ok "  says why" out_has "not a PEM certificate"
ok "  garbage not kept as prev" test ! -e "$F/ca.prev.crt"
ok "expired CA: status 3, rotate replaces it" bash -c \
    "CA_TOOL_NOW=$((NOW + 2000 * DAY)) $T status fresh >/dev/null; test \$? -eq 3 && CA_TOOL_NOW=$((NOW + 2000 * DAY)) $T rotate fresh | grep -q expired"

# ---- pre-publication ------------------------------------------------------
at "$NOW" 0 generate stg --days 60
S=$(g stg)
NA=$((NOW + 60 * DAY))
cur=$(fp "$S/ca.crt")
# A VM created now trusts only the current CA.
cp "$S/ca.bundle.crt" "$TMP/vm_old.pem"
ok "stage 10: nothing 1 s before window+stage" at $((NA - 17 * DAY - 1)) 0 rotate stg --stage 10
ok "  no ca.next" test ! -e "$S/ca.next.crt"
ok "stage 10: staged at window+stage" at $((NA - 17 * DAY)) 0 rotate stg --stage 10
ok "  says staged" out_has "staged"
ok "  ca.next pair written and valid" pubmatch "$S/ca.next.crt" "$S/ca.next.key"
ok "  ca.next.key 0600" test "$(mode "$S/ca.next.key")" = 600
ok "  current unchanged" test "$(fp "$S/ca.crt")" = "$cur"
nxt=$(fp "$S/ca.next.crt")
ok "  bundle = current + next" bash -c \
    "test \$(grep -c 'BEGIN CERTIFICATE' $S/ca.bundle.crt) -eq 2 && cat $S/ca.crt $S/ca.next.crt | cmp -s - $S/ca.bundle.crt"
ok "  status shows the staged next" bash -c \
    "CA_TOOL_NOW=$((NA - 17 * DAY)) $T status stg --json | { $PY -c 'import json,sys; d=json.load(sys.stdin); assert d[\"next\"][\"state\"]==\"ok\"'; }"
cp "$S/ca.bundle.crt" "$TMP/vm_new.pem"
ok "  second run: nothing to do" at $((NA - 17 * DAY)) 0 rotate stg --stage 10
ok "  says next staged" out_has "next CA staged"
# A leaf the gateway would sign after the switch (made here with openssl).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TMP/leaf.key" -subj /CN=example.com -out "$TMP/leaf.csr" 2>/dev/null
# Both CAs share their subject; like the gateway's leaves, this one names
# its issuer by key identifier (AKI), which is how verifiers pick the anchor.
printf 'authorityKeyIdentifier=keyid:always\nbasicConstraints=CA:FALSE\n' >"$TMP/leaf.ext"
openssl x509 -req -in "$TMP/leaf.csr" -CA "$S/ca.next.crt" -CAkey "$S/ca.next.key" \
    -CAcreateserial -days 90 -extfile "$TMP/leaf.ext" -out "$TMP/leaf.crt" 2>/dev/null
ok "switch at the window edge" at $((NA - 7 * DAY)) 0 rotate stg --stage 10
ok "  says switched" out_has "switched to the staged CA"
ok "  next became current" test "$(fp "$S/ca.crt")" = "$nxt"
ok "  current became prev" test "$(fp "$S/ca.prev.crt")" = "$cur"
ok "  no ca.next left" test ! -e "$S/ca.next.crt" -a ! -e "$S/ca.next.key"
ok "  bundle = new current only" cmp -s "$S/ca.crt" "$S/ca.bundle.crt"
ok "  VM created after staging trusts the new CA's leaf" \
    quiet openssl verify -attime $((NA - 7 * DAY)) -CAfile "$TMP/vm_new.pem" "$TMP/leaf.crt"
ok "  VM created before staging does not" bash -c \
    "! openssl verify -attime $((NA - 7 * DAY)) -CAfile $TMP/vm_old.pem $TMP/leaf.crt >/dev/null 2>&1"

# ---- concurrency ------------------------------------------------------
for round in 1 2 3; do
	at "$NOW" 0 generate "conc$round" --days 30
	C=$(g "conc$round")
	for i in 1 2 3 4; do
		CA_TOOL_NOW=$((NOW + 25 * DAY)) "$T" rotate "conc$round" \
		    >"$TMP/c$i.out" 2>"$TMP/c$i.err" &
		PIDS+=($!)
	done
	rcs=0
	for p in "${PIDS[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
	PIDS=()
	ok "round $round: 4 concurrent rotates all exit 0" test $rcs -eq 0
	ok "  exactly one rotated" test "$(cat "$TMP"/c?.out | grep -c rotated)" -eq 1
	ok "  the others found nothing to do" test "$(cat "$TMP"/c?.out | grep -c 'nothing to do')" -eq 3
	ok "  pair consistent" pubmatch "$C/ca.crt" "$C/ca.key"
	ok "  no temporary files left" test -z "$(find "$C" -name '*.tmp.*' -o -name '*.lnk.*' -o -name '*pending*')"
done

# ---- import -------------------------------------------------------------
mkca() {	# mkca NAME EXTRA-OPENSSL-ARGS...
	local name=$1
	shift
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$TMP/$name.key" -out "$TMP/$name.crt" -subj "/CN=$name" \
	    -days 365 "$@" 2>/dev/null
}
mkca byo -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
mkca noca -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature"
mkca nokcs -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature"
openssl pkey -in "$TMP/byo.key" -aes256 -passout pass:secret -out "$TMP/enc.key"
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/other.key" 2>/dev/null
echo "-----BEGIN CERTIFICATE-----
not base64 at all
-----END CERTIFICATE-----" >"$TMP/corrupt.crt"
ok "import a CA made by openssl" run 0 import agents --cert "$TMP/byo.crt" --key "$TMP/byo.key"
ok "  it is current" test "$(fp "$A/ca.crt")" = "$(fp "$TMP/byo.crt")"
ok "  key re-encoded and matching" pubmatch "$A/ca.crt" "$A/ca.key"
ok "  modes" test "$(mode "$A/ca.key")" = 600 -a "$(mode "$A/ca.crt")" = 644
ok "  importing it again: nothing to do" run 0 import agents --cert "$TMP/byo.crt" --key "$TMP/byo.key"

snap >"$TMP/before"
bad() {	# bad DESCRIPTION EXPECTED-STDERR RC args...
	local d=$1 msg=$2 rc=$3
	shift 3
	ok "$d: exit $rc" run "$rc" "$@"
	ok "  message: $msg" stderr_has "$msg"
	ok "  nothing on disk changed" unchanged "$TMP/before"
}
bad "import corrupt PEM" "not a PEM certificate" 1 import agents --cert "$TMP/corrupt.crt" --key "$TMP/byo.key"
bad "import encrypted key" "encrypted" 1 import agents --cert "$TMP/byo.crt" --key "$TMP/enc.key"
bad "import mismatched key" "does not match" 1 import agents --cert "$TMP/byo.crt" --key "$TMP/other.key"
bad "import a non-CA certificate" "not a CA" 1 import agents --cert "$TMP/noca.crt" --key "$TMP/noca.key"
bad "import a CA without keyCertSign" "keyCertSign" 1 import agents --cert "$TMP/nokcs.crt" --key "$TMP/nokcs.key"
ok "import an expired CA (now moved past it)" bash -c \
    "CA_TOOL_NOW=$((NOW + 400 * DAY)) $T import agents --cert $TMP/byo.crt --key $TMP/byo.key 2>$TMP/err; test \$? -eq 1 && grep -q expired $TMP/err"
ok "  nothing on disk changed" unchanged "$TMP/before"
bad "import a missing file" "No such file" 1 import agents --cert "$TMP/nope.crt" --key "$TMP/byo.key"
bad "import without --key" "--key are required" 2 import agents --cert "$TMP/byo.crt"
bad "group ../escape" "invalid group name" 2 generate ../escape
bad "group a/b" "invalid group name" 2 generate a/b
bad "group .." "invalid group name" 2 rotate ..
bad "group .hidden" "invalid group name" 2 rotate .hidden
bad "group with a tab" "invalid group name" 2 rotate "$(printf 'a\tb')"
bad "group of 65 bytes" "invalid group name" 2 rotate "$(printf 'g%.0s' $(seq 65))"
bad "empty group" "invalid group name" 2 status ""
bad "no group" "expected one group" 2 rotate
bad "unknown option" "unknown option" 2 rotate agents --frobnicate
bad "bad --key-type" "invalid --key-type" 2 generate k2 --key-type rsa1024
bad "bad --days" "invalid --days" 2 generate k2 --days 0
bad "bad --window" "invalid --window" 2 rotate agents --window -1
bad "bad --key-group name" "invalid --key-group" 2 generate k2 --key-group ../x
bad "unknown --key-group" "no such group" 1 generate k2 --key-group nosuchgroupxyz
CA_TOOL_NOW=yesterday bad "bad CA_TOOL_NOW" "CA_TOOL_NOW" 2 status agents
# Slicer's isolated mode: "<group>-<N>" fits in 15 characters
ok "13-character group: generated" run 0 generate agents-sandbx
ok "  warns about Slicer's isolated-mode limit" stderr_has "warning: group name \"agents-sandbx\" is longer than 12"
ok "12-character group: no warning" run 0 generate agents-sandb
ok "  stderr empty" test ! -s "$TMP/err"
ok "--quiet: no warning" run 0 generate agents-quiet1 --quiet
ok "  stderr empty" test ! -s "$TMP/err"
snap >"$TMP/before"
# env: the trust-store kit
ok "env: exit 0" run 0 env agents
ok "  Node gets the CA alone" out_has 'export NODE_EXTRA_CA_CERTS="$GATEWAYD_CA"'
ok "  requests gets the merged bundle" out_has 'export REQUESTS_CA_BUNDLE="$GATEWAYD_BUNDLE"'
ok "  Slicer's path by default" out_has 'GATEWAYD_CA="/runner/ca.crt"'
ok "  valid sh" sh -n "$TMP/out"
ok "  no key material" sh -c "! grep -q PRIVATE '$TMP/out'"
ok "env --json: exit 0" run 0 env agents --json --guest-ca /opt/ca.pem
ok "  JSON names the guest CA" json - "$TMP/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["guest_ca"] == "/opt/ca.pem", d
EOF
bad "env: no CA" "no valid CA" 1 env nosuchgroup
bad "env: --bundle with shell syntax" "invalid --bundle" 2 env agents --bundle '/tmp/$(reboot)'
bad "env: relative --guest-ca" "invalid --guest-ca" 2 env agents --guest-ca ca.crt
bad "env: --guest-ca with .." "invalid --guest-ca" 2 env agents --guest-ca /a/../etc/x
touch "$TMP/afile"
ok "unwritable directory: exit 1" run 1 generate agents --dir "$TMP/afile/sub"
ok "  message" stderr_has "Not a directory"
ok "  nothing created" test ! -e "$TMP/afile/sub"

# ---- key group, reload signal, crash recovery ----------------------------
if getent group nogroup >/dev/null; then
	ok "--key-group nogroup" run 0 generate kg --key-group nogroup
	K=$(g kg)
	ok "  ca.key 0640 group nogroup" test "$(mode "$K/ca.key")" = 640 -a "$(grp "$K/ca.key")" = nogroup
	ok "  directory 0750 group nogroup" test "$(mode "$K")" = 750 -a "$(grp "$K")" = nogroup
	ok "  rotation keeps the key group" at $((NOW + 1090 * DAY)) 0 rotate kg
	ok "  new ca.key 0640 nogroup" test "$(mode "$K/ca.key")" = 640 -a "$(grp "$K/ca.key")" = nogroup
fi

bash -c "sleep 20 & trap 'echo hup >$TMP/hup; kill \$!; exit 0' HUP; wait" &
HP=$!
PIDS+=($HP)
echo "$HP" >"$TMP/gw.pid"
sleep 0.2
ok "rotate with nothing to do sends no signal" run 0 rotate agents --reload-pidfile "$TMP/gw.pid"
sleep 0.2
ok "  no SIGHUP" test ! -e "$TMP/hup"
ok "rotate that rotates signals the gateway" at $((NOW + 400 * DAY)) 0 rotate agents --reload-pidfile "$TMP/gw.pid"
for i in $(seq 20); do [ -e "$TMP/hup" ] && break; sleep 0.1; done
ok "  SIGHUP received" test -e "$TMP/hup"
echo "not a pid" >"$TMP/bad.pid"
ok "bad pidfile: exit 1" at $((NOW + 2000 * DAY)) 1 rotate agents --reload-pidfile "$TMP/bad.pid"
ok "  message" stderr_has "no valid pid"

at "$NOW" 0 generate crash
X=$(g crash)
at "$NOW" 0 generate donor
D=$(g donor)
cp "$D/ca.key" "$X/ca.pending.key"
cp "$D/ca.crt" "$X/ca.pending.crt"
old=$(fp "$X/ca.crt")
ok "interrupted install (both pending): status still sees the old CA" bash -c \
    "$T status crash --json | grep -q '$old'"
ok "  next run finishes it" run 0 rotate crash
ok "  reported" stderr_has "interrupted install"
ok "  pending pair is current, old kept as prev" test "$(fp "$X/ca.crt")" = "$(fp "$D/ca.crt")" -a "$(fp "$X/ca.prev.crt")" = "$old"
ok "  consistent" pubmatch "$X/ca.crt" "$X/ca.key"
at "$NOW" 0 generate --force donor
cp "$D/ca.key" "$X/ca.key"
cp "$D/ca.crt" "$X/ca.pending.crt"
ok "half-renamed install (key moved, cert pending): mismatch seen" run 3 status crash
ok "  next run completes it" run 0 rotate crash
ok "  consistent and current" test "$(fp "$X/ca.crt")" = "$(fp "$D/ca.crt")"
cp "$D/ca.key" "$X/ca.pending.key"
before=$(fp "$X/ca.crt")
ok "half-written pending key is dropped" run 0 rotate crash
ok "  current untouched, no pending left" test "$(fp "$X/ca.crt")" = "$before" -a ! -e "$X/ca.pending.key"

tap_done
