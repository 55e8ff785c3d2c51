#!/bin/bash
# t-nfq-failclosed: with gatewayd stopped, queued new flows are dropped
# (fail closed, the default); flows come back when it restarts; with
# nfqueue.fail_open = true they pass while it is down.
. "$(dirname "$0")/lib.sh"
. "$T_LIB_DIR/lib-nfq.sh"

nfq_up
out=$(nfq_tool tcp "$INET_MAIN_IP" 7000 3)
case $out in "connected "*) ;; *) fail "allowed flow with gatewayd up: $out" ;; esac

nfq_stop
out=$(nfq_tool tcp "$INET_MAIN_IP" 7000 2)
case $out in "timeout "*) ;; *) fail "fail-closed: allowed port with gatewayd down: $out" ;; esac
out=$(nfq_tool tcp "$INET_ECHO_IP" 7002 2)
case $out in "timeout "*) ;; *) fail "fail-closed: other port with gatewayd down: $out" ;; esac

nfq_start
out=$(nfq_tool tcp "$INET_MAIN_IP" 7000 3)
case $out in "connected "*) ;; *) fail "allowed flow after restart: $out" ;; esac
audit_wait dst="$INET_MAIN_IP:7000" verdict=accept rule=burst

# fail_open: the queue rule gets "bypass"; with nothing reading the queue
# the kernel accepts, so the internet host itself answers (RST: no server).
nfq_stop
nfq_config true
nfq_rules
out=$(nfq_tool tcp "$INET_ECHO_IP" 7002 3)
case $out in "refused "*) ;; *) fail "fail-open: flow with gatewayd down: $out" ;; esac
nfq_start
out=$(nfq_tool tcp "$INET_ECHO_IP" 7002 2)
case $out in "timeout "*) ;; *) fail "fail-open, gatewayd up: default deny: $out" ;; esac
audit_wait dst="$INET_ECHO_IP:7002" verdict=drop rule=default
nfq_stop
