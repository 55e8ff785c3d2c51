# shellcheck shell=bash
# tests/bench/measure.sh - load tests and /proc readings (sourced by run.sh).
#
# A "cell" is one test of one mode run once; it writes $B_OUT/<mode>/
# <test>.<run>.txt as key=value lines (wrk's BENCH line, the proxy's CPU,
# RSS, stalled connections, CLOSE-WAIT sockets) which report.py reads.
# The proxy's processes are every process in the gateway namespace (only
# the mode's program and its helpers run there), read from /proc.

CLK_TCK=$(getconf CLK_TCK)

# gw_pids: the processes in the gateway namespace.
gw_pids() { ip netns pids "$NS_GW" 2>/dev/null || true; }

# ns_cpu_ticks NS: utime+stime (+ reaped children's) of the processes in
# namespace NS, in clock ticks.  gw_cpu_ticks: the gateway's.
# gw_user_ticks: the gateway's user time alone, which, unlike the system
# time, does not take in other processes' packets handled in softirq while
# it runs (a loaded machine inflates that share).
gw_cpu_ticks() { ns_cpu_ticks "$NS_GW"; }
gw_user_ticks() { ns_cpu_ticks "$NS_GW" user; }
ns_cpu_ticks() {
	local p sum=0 st f
	for p in $(ip netns pids "$1" 2>/dev/null); do
		st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		read -r -a f <<<"${st##*) }"
		# after "comm)": state=0 ... utime=11 stime=12 cutime=13 cstime=14
		if [ "${2:-}" = user ]; then
			sum=$((sum + f[11] + f[13]))
		else
			sum=$((sum + f[11] + f[12] + f[13] + f[14]))
		fi
	done
	echo "$sum"
}

# gw_rss_kb: summed VmRSS of the gateway's processes.
gw_rss_kb() {
	local p sum=0 v
	for p in $(gw_pids); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# rss_sampler FILE SECONDS: write the peak gateway RSS seen into FILE,
# sampling every 0.25 s for at most SECONDS (bounded), until FILE.stop.
rss_sampler() {
	local out=$1 n=$(($2 * 4)) i peak=0 v
	for ((i = 0; i < n; i++)); do
		[ -e "$out.stop" ] && break
		v=$(gw_rss_kb)
		[ "$v" -gt "$peak" ] && peak=$v && echo "$peak" >"$out"
		sleep 0.25
	done
}

# guest_stalled PORT: "conns=N stalled=M": the guest's established
# connections to PORT and how many of them never received a byte.
guest_stalled() {
	in_guest ss -Htin state established "( dport = :$1 )" 2>/dev/null | awk '
	    /^[ \t]/ { if (/bytes_received:[1-9]/) got[n] = 1; next }
	    { n++ }
	    END { s = 0; for (i = 1; i <= n; i++) if (!got[i]) s++
	          printf "conns=%d stalled=%d\n", n, s }'
}

# gw_closewait: sockets of the gateway namespace in CLOSE-WAIT.
gw_closewait() {
	in_gw ss -Htan state close-wait 2>/dev/null | wc -l
}

# profile_start MODE RUN BASE / profile_stop BASE: with PROFILE=perf, the
# first run of each gatewayd cell is sampled by perf (cpu-clock, DWARF call
# graphs; flat and inclusive profiles in BASE.perf*.txt); with
# PROFILE=strace its system calls are counted (BASE.strace.txt).
PERF_PID=
profile_start() {
	local gw
	PERF_PID=
	[ -n "${PROFILE:-}" ] && [ "$2" = 1 ] || return 0
	case $1 in gatewayd|gwbase) ;; *) return 0 ;; esac
	gw=$(pid_of "mode-$1")
	case $PROFILE in
	perf) perf record -q -e cpu-clock -F 1999 --call-graph dwarf,16384 \
	    -p "$gw" -o "$3.perf.data" -- sleep "$DUR" >/dev/null 2>&1 & ;;
	strace) timeout -s INT "$DUR" strace -c -f -p "$gw" -o "$3.strace.txt" \
	    >/dev/null 2>&1 & ;;
	*) return 0 ;;
	esac
	PERF_PID=$!
}

profile_stop() {
	[ -n "$PERF_PID" ] || return 0
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
	[ -f "$1.perf.data" ] || return 0
	perf report -i "$1.perf.data" --stdio --no-children --percent-limit 0.7 \
	    --sort symbol,dso -g none 2>/dev/null | grep -v '^$' >"$1.perf.txt" || true
	perf report -i "$1.perf.data" --stdio --children --percent-limit 3 \
	    --sort symbol -g none 2>/dev/null | grep -v '^$' >"$1.perf-incl.txt" || true
}

# test_args TEST: sets T_URL T_CONNS T_HDR T_PORT W_KEEP (may wrk resume?)
test_args() {
	T_HDR=() W_KEEP=1 T_PORT=443
	case $1 in
	ka) T_URL=https://$BENCH_HOST/1k T_CONNS=$CONNS ;;
	full) T_URL=https://$BENCH_HOST/1k T_CONNS=$CONNS W_KEEP=0
		T_HDR=(-H "Connection: close") ;;
	bulk) T_URL=https://$BENCH_HOST/10m T_CONNS=$BULK_CONNS ;;
	http) T_URL=http://$BENCH_HOST/1k T_CONNS=$CONNS T_PORT=80 ;;
	*) error "unknown test $1" ;;
	esac
}

# run_cell MODE TEST RUN
run_cell() {
	local mode=$1 test=$2 run=$3 base c0 c1 u0 u1 n0 n1 w0 w1 wpid rc=0 snap=
	base=$B_OUT/$mode/$test.$run
	test_args "$test"
	rm -f "$base.rss" "$base.rss.stop"
	rss_sampler "$base.rss" $((DUR + 40)) &
	local spid=$!
	profile_start "$mode" "$run" "$base"
	c0=$(gw_cpu_ticks)
	u0=$(gw_user_ticks)
	n0=$(ns_cpu_ticks "$NS_INET")
	w0=$(date +%s.%N)
	timeout $((DUR + 30)) ip netns exec "${GUEST_NS[1]}" env \
	    LD_PRELOAD="$B_RUN/noresume.so" NORESUME_KEEP="$W_KEEP" \
	    NORESUME_OUT="$base.tls" \
	    wrk -t"$THREADS" -c"$T_CONNS" -d"${DUR}s" --timeout 5s \
	    -s "$B_DIR/report.lua" "${T_HDR[@]}" "$T_URL" >"$base.wrk" 2>&1 &
	wpid=$!
	# Persistent connections: a second before the end, count the ones
	# that never got a byte (an accepted connection nobody serves).
	if [ "$test" != full ] && [ "$DUR" -ge 3 ]; then
		sleep $((DUR - 1))
		snap=$(guest_stalled "$T_PORT")
	fi
	wait "$wpid" || rc=$?
	w1=$(date +%s.%N)
	c1=$(gw_cpu_ticks)
	u1=$(gw_user_ticks)
	n1=$(ns_cpu_ticks "$NS_INET")
	touch "$base.rss.stop"
	wait "$spid" 2>/dev/null || true
	profile_stop "$base"
	sleep 1.5	# nginx flushes its connection log every second
	{
		echo "mode=$mode test=$test run=$run url=$T_URL conns=$T_CONNS"
		echo "dur=$DUR wrk_rc=$rc wall_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')"
		echo "proxy_cpu_s=$(awk -v t=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN { print t / h }')"
		echo "proxy_user_s=$(awk -v t=$((u1 - u0)) -v h="$CLK_TCK" 'BEGIN { print t / h }')"
		echo "nginx_cpu_s=$(awk -v t=$((n1 - n0)) -v h="$CLK_TCK" 'BEGIN { print t / h }')"
		echo "peak_rss_kb=$(cat "$base.rss" 2>/dev/null || echo 0)"
		echo "${snap:-conns=na stalled=na}"
		echo "closewait=$(gw_closewait)"
		# upstream view: connections nginx accepted in the window, and
		# how many of the TLS ones were resumed handshakes
		awk -v a="$w0" -v b="$w1" '$1 >= a && $1 <= b {
			n++; if ($2 == "r") r++ }
		    END { printf "up_conns=%d up_resumed=%d\n", n, r }' \
		    "$BENCH_NGINX_CONNLOG" 2>/dev/null || true
		grep -h '^BENCH ' "$base.wrk" | sed 's/^BENCH //' || echo "requests=0"
		sed 's/^/tls_/' "$base.tls" 2>/dev/null || true
	} | tr ' ' '\n' | grep = >"$base.txt"
	rm -f "$base.rss" "$base.rss.stop"
	log "  $mode $test #$run: $(grep -E '^(requests|p99_us|proxy_cpu_s|stalled|closewait|tls_resumed|up_conns|up_resumed)=' "$base.txt" | tr '\n' ' ')"
}

# hold_test MODE N NAME [SETTLE_S]: N idle verified TLS connections from
# the guest; the gateway's RSS before and while they are open (peak over
# 1.5 s right after opening) and, with SETTLE_S, once more after they sat
# idle that long (a gateway may release per-connection state of idle
# connections, e.g. kept-alive upstreams); then each must still answer a
# second request.  Writes NAME.txt.
hold_test() {
	local mode=$1 n=$2 name=$3 settle=${4:-0} base ready= before peak=0 v i pid
	local hold=$((HOLD_S + settle)) settled=
	base=$B_OUT/$mode/$name
	sleep 1
	before=$(gw_rss_kb)
	start_bg "$name-$mode" "${GUEST_NS[1]}" "$PY" "$B_DIR/conns.py" hold \
	    -n "$n" --host "$BENCH_HOST" --ca "$(mode_ca "$mode")" \
	    --conc 100 --hold "$hold" --deadline "$HOLD_DEADLINE"
	pid=$BG_PID
	for ((i = 0; i < HOLD_DEADLINE * 10; i++)); do
		ready=$(grep -m1 -E '^(READY|TIMEOUT)' "$T_DIR/$name-$mode.out" \
		    2>/dev/null || true)
		[ -n "$ready" ] && break
		pid_alive "$pid" || break
		sleep 0.1
	done
	if [[ $ready == READY* ]]; then
		sleep 1
		for ((i = 0; i < 6; i++)); do
			v=$(gw_rss_kb)
			[ "$v" -gt "$peak" ] && peak=$v
			sleep 0.25
		done
		if [ "$settle" -gt 0 ]; then
			sleep "$settle"
			settled=$(gw_rss_kb)
		fi
	fi
	for ((i = 0; i < (hold + HOLD_DEADLINE) * 10; i++)); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	stop_bg "$name-$mode" || true
	cp "$T_DIR/$name-$mode.out" "$base.out"
	{
		echo "n=$n rss_before_kb=$before rss_held_kb=$peak${settled:+ rss_settled_kb=$settled}"
		grep -hE '^(READY|DONE|TIMEOUT)' "$base.out" | sed 's/errors=.*//' || true
	} | tr ' ' '\n' | grep = >"$base.txt"
	log "  $mode $name: $(tr '\n' ' ' <"$base.txt")"
}

# sni_test MODE: first requests to SNI_N never-seen names vs. a second
# request to each (see conns.py sni).  Writes sni.txt.
sni_test() {
	local mode=$1 base=$B_OUT/$1/sni
	profile_start "$mode" 1 "$base"
	timeout 200 ip netns exec "${GUEST_NS[1]}" "$PY" "$B_DIR/conns.py" sni \
	    --names "$B_RUN/sni-$mode.names" --ca "$(mode_ca "$mode")" \
	    --deadline 120 >"$base.out" 2>&1 || true
	profile_stop "$base"
	grep -h '^SNI ' "$base.out" | sed 's/^SNI //' | tr ' ' '\n' >"$base.txt" || true
	log "  $mode sni: $(tr '\n' ' ' <"$base.txt")"
}
