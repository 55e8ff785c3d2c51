#!/bin/bash
# harness-child.sh - a test that t-harness-cleanup.sh runs and ends in
# different ways (CHILD_MODE), to check that the harness leaves nothing
# behind.  Not registered in meson.  Writes what it made to $CHILD_STATE.*
#   pass | fail | skip | fakeskip (exit 77 without skip) | wait (until killed)
. "$(dirname "$0")/lib.sh"

topo_up isolated --guests 1
nginx_start
upstream_start
start_bg sleeper "${GUEST_NS[1]}" sleep 120
# a grandchild the harness never heard of: found by `ip netns pids`
start_bg forker "$NS_GW" sh -c "sleep 120 & echo \$! >'$T_DIR/orphan.pid'; wait"
wait_for 5 test -s "$T_DIR/orphan.pid" || error "no orphan pid"

echo "${T_NAMESPACES[*]}" >"$CHILD_STATE.ns"
echo "${T_PIDS[*]} $(cat "$T_DIR/orphan.pid")" >"$CHILD_STATE.pids"
echo "$T_DIR" >"$CHILD_STATE.dir"
guest_code "http://example.com/" >"$CHILD_STATE.code"

case ${CHILD_MODE:-pass} in
pass) ;;
fail) fail "failing on purpose" ;;
skip) skip "skipping on purpose" ;;
fakeskip) exit 77 ;;
wait)
	echo ready >"$CHILD_STATE.ready"
	for ((i = 0; i < 600; i++)); do sleep 0.05; done
	fail "was not killed within 30 s"
	;;
esac
