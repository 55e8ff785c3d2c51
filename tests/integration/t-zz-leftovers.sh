#!/bin/bash
# t-zz-leftovers: runs last in the integration suite.  No test that ran
# before may have left a namespace, an /etc/netns dir or a process behind
# (see leftovers in lib.sh).  Sweeps what it found, so the next run starts
# clean, but fails so that the leak gets fixed.
T_NO_SWEEP=1
. "$(dirname "$0")/lib.sh"

left=$(leftovers)
if [ -n "$left" ]; then
	echo "$left" >&2
	sweep_stale
	fail "earlier tests left $(echo "$left" | wc -l) thing(s) behind"
fi
