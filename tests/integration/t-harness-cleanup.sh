#!/bin/bash
# t-harness-cleanup: however a test ends (pass, fail, skip, a stray exit 77,
# SIGTERM, SIGKILL), it leaves no namespace, no /etc/netns dir and no
# process behind: the EXIT trap stops what it started by PID, and a test
# killed outright is swept by the next test that sources lib.sh.
. "$(dirname "$0")/lib.sh"

child="$T_LIB_DIR/harness-child.sh"

gone() { # STATE: every namespace and process the child recorded is gone
	local ns p
	for ns in $(cat "$1.ns"); do
		[ ! -e "/run/netns/$ns" ] || fail "$1: namespace $ns left"
		[ ! -e "/etc/netns/$ns" ] || fail "$1: /etc/netns/$ns left"
	done
	for p in $(cat "$1.pids"); do
		wait_for 3 eval "! pid_alive $p" || fail "$1: process $p left: $(ps -o args= -p "$p")"
	done
}

run_child() { # MODE EXPECTED_RC
	local st=$T_DIR/$1 rc=0
	CHILD_MODE=$1 CHILD_STATE=$st T_NAME=child-$1 T_KEEP=0 bash "$child" \
	    >"$st.stdout" 2>"$st.stderr" || rc=$?
	assert_eq "$2" "$rc" "exit status of a child that ends with '$1'"
	assert_eq 200 "$(cat "$st.code")" "child $1 reached the internet"
	gone "$st"
	case $1 in
	pass | skip) [ ! -e "$(cat "$st.dir")" ] || fail "$1: temp dir kept" ;;
	*) [ -d "$(cat "$st.dir")" ] || fail "$1: temp dir not kept"
	   rm -rf "$(cat "$st.dir")" ;;
	esac
}

run_child pass 0
run_child skip 77
run_child fail 1
assert_match "$T_DIR/fail.stderr" 'FAIL: failing on purpose'
assert_match "$T_DIR/fail.stderr" '^----- nginx/error.log|^----- upstream.out' "log dump"
run_child fakeskip 1

# killed: SIGTERM runs the cleanup; SIGKILL cannot, the next test sweeps
for sig in TERM KILL; do
	st=$T_DIR/wait-$sig
	CHILD_MODE=wait CHILD_STATE=$st T_NAME=child-wait T_KEEP=0 bash "$child" \
	    >"$st.stdout" 2>"$st.stderr" &
	cpid=$!
	wait_for 20 test -e "$st.ready" || fail "child did not get ready"
	kill "-$sig" "$cpid"
	rc=0
	wait "$cpid" || rc=$?
	assert_ne 0 "$rc" "status of a child killed by SIG$sig"
	if [ "$sig" = KILL ]; then
		[ -n "$(leftovers)" ] || fail "SIGKILL left nothing to sweep?"
		for ns in $(cat "$st.ns"); do
			[ -e "/run/netns/$ns" ] || fail "SIGKILL: $ns already gone"
		done
		sweep_stale
	fi
	gone "$st"
	rm -rf "$(cat "$st.dir")"	# kept: the child did not pass
done
assert_eq "" "$(leftovers)" "leftovers of dead tests"
