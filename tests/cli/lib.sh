# tests/cli/lib.sh - TAP helpers shared by the CLI tests (sourced).
#
# The sourcing script sets T (the program under test) and TMP (a private
# directory it removes at exit), then calls ok ... and finally tap_done.

n=0
failed=0

ok() {	# ok DESCRIPTION COMMAND...
	# One TAP line.  What the command prints goes to $TMP/ok.out and is
	# shown, as "# " lines, only when it fails: TAP output stays clean.
	# A description with a line break is a bug of the test: not ok.
	local d=$1 rc
	shift
	n=$((n + 1))
	"$@" >"$TMP/ok.out" 2>&1
	rc=$?
	case $d in *[$'\n\r']*)
		d=${d//[$'\n\r']/ }
		echo "the description has a line break" >>"$TMP/ok.out"
		rc=1 ;;
	esac
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $d"
	else
		echo "not ok $n - $d"
		failed=$((failed + 1))
		diag "$TMP/ok.out"
	fi
}
diag() { sed 's/^/# /' "$@"; }
quiet() { "$@" >/dev/null 2>&1; }

run() {	# run EXPECTED_RC args...  (stdout -> $TMP/out, stderr -> $TMP/err)
	local want=$1 rc
	shift
	"$T" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "#   ${T##*/} $*: exit $rc, expected $want"
		diag "$TMP/out" "$TMP/err"
		return 1
	fi
	return 0
}
stderr_has() { grep -q -- "$1" "$TMP/err" || { diag "$TMP/err"; return 1; }; }
out_has() { grep -q -- "$1" "$TMP/out" || { diag "$TMP/out"; return 1; }; }
# the word as a whole (options too: "-c", "--socket")
out_word() { grep -qwF -- "$1" "$TMP/out" || { diag "$TMP/out"; return 1; }; }
empty() { [ ! -s "$TMP/$1" ] || { diag "$TMP/$1"; return 1; }; }

tap_done() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
