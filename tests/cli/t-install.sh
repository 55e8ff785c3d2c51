#!/bin/bash
# tests/cli/t-install.sh - `meson install` into a DESTDIR, then check what
# it put there: every file present, the systemd units valid for
# systemd-analyze verify (nothing said at all, since it only warns about
# unknown keys), the man pages rendering without a groff warning and
# naming every command, option and configuration key, the logrotate
# snippet rotating a log and signalling the daemon.
#
# usage: t-install.sh BUILD_DIR SOURCE_DIR      (TAP on stdout)
# Needs systemd-analyze, man, groff and logrotate (scripts/deps.sh); a
# missing one fails the checks that use it.
set -u

B=${1:?usage: t-install.sh BUILD_DIR SOURCE_DIR}
S=${2:?usage: t-install.sh BUILD_DIR SOURCE_DIR}
TMP=$(mktemp -d /tmp/t-install.XXXXXX)
trap 'rm -rf -- "$TMP"' EXIT
. "$S/tests/cli/lib.sh"
PY=/usr/bin/python3
D=$TMP/dest
need() { command -v "$1" >/dev/null || { echo "# $1 is missing (scripts/deps.sh)"; return 1; }; }
silent() {	# silent COMMAND...: exit 0 and not a word on stdout or stderr
	"$@" >"$TMP/said" 2>&1 && [ ! -s "$TMP/said" ] || { diag "$TMP/said"; return 1; }
}

ok "meson install --destdir" quiet env DESTDIR="$D" meson install -C "$B" \
    --no-rebuild --quiet
# Where meson says each file goes (absolute, without DESTDIR).
$PY - "$B" >"$TMP/installed" <<'EOP'
import json, subprocess, sys
d = json.loads(subprocess.check_output(["meson", "introspect", sys.argv[1], "--installed"]))
for dst in sorted(d.values()):
    print(dst)
EOP
path_of() {	# path_of SUFFIX: the installed path ending in /SUFFIX
	grep -m1 -- "/$1\$" "$TMP/installed"
}
for f in bin/gatewayd bin/ca-tool man8/gatewayd.8 man5/gatewayd.conf.5 \
    man8/ca-tool.8 system/gatewayd.service system/ca-tool-rotate@.service \
    system/ca-tool-rotate@.timer sysusers.d/gatewayd.conf \
    logrotate.d/gatewayd gatewayd/gatewayd.conf.example; do
	p=$(path_of "$f")
	ok "installs $f${p:+ ($p)}" test -n "$p" -a -s "$D$p"
done
ok "  binaries executable" test -x "$D$(path_of bin/gatewayd)" -a \
    -x "$D$(path_of bin/ca-tool)"
bindir=$(dirname "$(path_of bin/gatewayd)")
unitdir=$(dirname "$(path_of system/gatewayd.service)")
mandir=$(dirname "$(dirname "$(path_of man8/gatewayd.8)")")
# The units' WorkingDirectory: created empty (and never overwritten).
wd=$(sed -n 's/^WorkingDirectory=//p' "$D$unitdir/gatewayd.service")
ok "WorkingDirectory $wd installed" test -n "$wd" -a -d "$D$wd"

# ---- systemd units --------------------------------------------------------
# verify wants the Exec binaries to exist: check copies whose bindir points
# into DESTDIR, with MANPATH there so Documentation= man: links resolve.
need systemd-analyze
mkdir "$TMP/units"
for u in "$D$unitdir"/*; do
	sed "s|$bindir/|$D$bindir/|g" "$u" >"$TMP/units/${u##*/}"
done
ln -s "ca-tool-rotate@.service" "$TMP/units/ca-tool-rotate@agents.service"
ln -s "ca-tool-rotate@.timer" "$TMP/units/ca-tool-rotate@agents.timer"
for u in gatewayd.service ca-tool-rotate@agents.service \
    ca-tool-rotate@agents.timer; do
	ok "systemd-analyze verify $u" silent env MANPATH="$D$mandir" \
	    systemd-analyze verify "$TMP/units/$u"
done
G=$D$unitdir/gatewayd.service
has() { grep -qx -- "$2" "$1" || { echo "# no line \"$2\" in ${1##*/}"; return 1; }; }
conf=$(sed -n 's/^ExecStart=.* -c //p' "$G")
ok "gatewayd.service: ExecStart runs the installed binary" \
    has "$G" "ExecStart=$bindir/gatewayd -c $conf"
ok "  checks the config first" has "$G" "ExecStartPre=$bindir/gatewayd -t -c $conf"
ok "  applies the rules as root" has "$G" "ExecStartPre=+$bindir/gatewayd rules apply -c $conf"
ok "  reloads with SIGHUP" has "$G" 'ExecReload=/bin/kill -HUP $MAINPID'
for l in Type=notify User=gatewayd NoNewPrivileges=yes ProtectSystem=strict \
    ProtectHome=yes PrivateTmp=yes SystemCallArchitectures=native \
    "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" \
    "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK" \
    LogsDirectory=gatewayd StateDirectory=gatewayd RuntimeDirectory=gatewayd; do
	ok "  $l" has "$G" "$l"
done
R=$D$unitdir/ca-tool-rotate@.service
ok "ca-tool-rotate@.service runs ca-tool rotate %i" \
    has "$R" "ExecStart=$bindir/ca-tool rotate %i --quiet --key-group gatewayd"
ok "  in the gateway's WorkingDirectory" has "$R" "WorkingDirectory=$wd"
ok "  may write there only" has "$R" "ReadWritePaths=$wd"
ok "ca-tool-rotate@.timer: daily" has "$D$unitdir/ca-tool-rotate@.timer" \
    "OnCalendar=daily"

# The user the unit runs as, from the sysusers.d entry, in an empty root.
mkdir -p "$TMP/sysroot/etc"
ok "sysusers.d entry creates the user and group gatewayd" bash -c \
    "systemd-sysusers --root='$TMP/sysroot' '$D$(path_of sysusers.d/gatewayd.conf)' \
    >/dev/null 2>&1 && grep -q '^gatewayd:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin\$' \
    '$TMP/sysroot/etc/passwd' && grep -q '^gatewayd:' '$TMP/sysroot/etc/group'"

# ---- man pages ------------------------------------------------------------
need groff
need man
for m in man8/gatewayd.8 man5/gatewayd.conf.5 man8/ca-tool.8; do
	p=$D$(path_of "$m")
	ok "$m: groff -mandoc -ww, no warning" silent groff -mandoc -Tutf8 -ww -z "$p"
	ok "  man -l renders it, no warning" bash -c "MANROFFOPT=-ww MANWIDTH=80 \
	    man -l '$p' 2>'$TMP/manerr' >'$TMP/man.txt' && [ ! -s '$TMP/manerr' ] &&
	    grep -q '^NAME' '$TMP/man.txt' && grep -q '^SEE ALSO' '$TMP/man.txt'"
	ok "  no @VARIABLE@ left" bash -c "! grep -n '@[A-Z]*@' '$p'"
done
# Accuracy: every key of the config tables is an entry of gatewayd.conf(5),
# every command and option of the usage texts is in the pages.
P5=$D$(path_of man5/gatewayd.conf.5)
sed -n 's/.*K_[A-Z0-9_]*("\([a-z_0-9]*\)".*/\1/p' "$S"/gatewayd/config*.c |
    sort -u >"$TMP/keys"
missing=$(while read -r k; do
	grep -q "^\.\(It Cm\|Ss\|Cm\) $k\b" "$P5" || echo "$k"; done <"$TMP/keys" |
	tr '\n' ' ')
ok "gatewayd.conf(5) has every key ($(wc -l <"$TMP/keys") keys)${missing:+, missing: $missing}" \
    test -s "$TMP/keys" -a -z "$missing"
# The first word of each entry of a usage text ("  run ...", "  -c FILE",
# "  --dir DIR"); every word and option of gatewayd's command synopses.
entries() { sed -n 's/^  \(-*[a-z][a-z-]*\).*/\1/p'; }
synopsis_words() { grep '^  [a-z]' | tr -s ' |[],' '\n' | grep -x -- '-*[a-z][a-z-]*'; }
unmentioned() {	# unmentioned PAGE < words: those the page's source lacks
	sort -u | while read -r w; do
		case $w in
		-*)	grep -qE -- "Fl (\\\\-)?${w#"${w%%[!-]*}"}\b" "$1" ||
			    echo "$w" ;;
		*)	grep -qw -- "$w" "$1" || echo "$w" ;;
		esac
	done
}
P8=$D$(path_of man8/gatewayd.8)
"$D$bindir/gatewayd" --help >"$TMP/help"
missing=$({ entries <"$TMP/help"; synopsis_words <"$TMP/help"; } | unmentioned "$P8" |
	tr '\n' ' ')
ok "gatewayd(8) has every command and option of gatewayd --help${missing:+, missing: $missing}" \
    test -z "$missing"
PC=$D$(path_of man8/ca-tool.8)
missing=$("$D$bindir/ca-tool" --help | entries | unmentioned "$PC" | tr '\n' ' ')
ok "ca-tool(8) has every command and option of ca-tool --help${missing:+, missing: $missing}" \
    test -z "$missing"
sed -n '/^\.Sh EXAMPLES/,/^\.Ed/p' "$P5" | sed '1,2d;$d' >"$TMP/example.conf"
ok "gatewayd.conf(5)'s example passes gatewayd -t" quiet \
    "$D$bindir/gatewayd" -t -c "$TMP/example.conf"

# ---- logrotate --------------------------------------------------------------
# The snippet as installed, but on a log in TMP, as this user, with a
# systemctl that records how it was called.
need logrotate
L=$D$(path_of logrotate.d/gatewayd)
mkdir "$TMP/log" "$TMP/bin"
printf 'line\n' >"$TMP/log/audit.log"
printf '#!/bin/sh\necho "$*" >>%s\n' "$TMP/systemctl.args" >"$TMP/bin/systemctl"
chmod +x "$TMP/bin/systemctl"
sed "s|/var/log/gatewayd/|$TMP/log/|; s|su gatewayd gatewayd|su $(id -un) $(id -gn)|" \
    "$L" >"$TMP/logrotate.conf"
ok "logrotate snippet: names /var/log/gatewayd/*.log" grep -q '^/var/log/gatewayd/\*\.log {' "$L"
ok "  logrotate -d: no error" bash -c "logrotate -d -s '$TMP/state' '$TMP/logrotate.conf' 2>&1 |
    { ! grep -i '^error'; }"
ok "  logrotate -f rotates the log" bash -c "PATH='$TMP/bin':\$PATH logrotate -f \
    -s '$TMP/state' '$TMP/logrotate.conf' && [ -s '$TMP/log/audit.log.1' ] &&
    [ ! -e '$TMP/log/audit.log' ]"
ok "  and sends SIGUSR1 to gatewayd.service's main process" grep -qx \
    "kill --kill-whom=main --signal=SIGUSR1 gatewayd.service" "$TMP/systemctl.args"

tap_done
