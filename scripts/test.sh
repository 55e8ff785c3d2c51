#!/bin/bash
# test.sh - command 2 of the README, and what CI runs (.ci/run):
# install what is missing, build with warnings as errors, run every meson
# test suite (unit, fuzz corpus replay, integration), then build again with
# AddressSanitizer + UndefinedBehaviorSanitizer and run every suite again.
# Prints a summary; exits non-zero if anything failed.
#
# Run as root on Debian 12 (the integration suite needs network namespaces;
# without root it is skipped, and so reported).  Knobs (environment):
#   BUILD=build  SAN_BUILD=build-san   build directories
#   SANITIZE=0   skip the sanitizer pass
#   SUITES="unit fuzz"   only these suites (default: all)
set -u
cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
SAN_BUILD=${SAN_BUILD:-build-san}
SANITIZE=${SANITIZE:-1}
SUITES=${SUITES:-}
T0=$(date +%s)
summary=()
failed=0

say() { printf '\n=== %s\n' "$*"; }

# setup DIR OPTIONS...: configure DIR (fresh or existing) with OPTIONS.
setup() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

# pass NAME DIR MULTIPLIER OPTIONS...: configure, build, test one build.
pass() {
	local name=$1 dir=$2 mult=$3 t rc=0 log args=()
	shift 3
	t=$(date +%s)
	say "$name: configure + build ($dir: $*)"
	if ! setup "$dir" "$@" || ! ninja -C "$dir"; then
		summary+=("$(printf '%-10s BUILD FAILED' "$name")")
		failed=1
		return
	fi
	for s in $SUITES; do args+=(--suite "$s"); done
	say "$name: meson test ${args[*]}"
	log=$dir/meson-logs/test-summary.txt
	meson test -C "$dir" --print-errorlogs --timeout-multiplier "$mult" \
	    "${args[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	local ok fail skip tmo bad
	ok=$(awk '/^Ok:/ {print $2}' "$log")
	fail=$(awk '/^Fail:/ {print $2}' "$log")
	skip=$(awk '/^Skipped:/ {print $2}' "$log")
	tmo=$(awk '/^Timeout:/ {print $2}' "$log")
	bad=$(grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS) ' "$log" |
	    awk '{print $2 $3 $4}' | tr '\n' ' ')
	summary+=("$(printf '%-10s ok %-4s fail %-4s skipped %-4s timeout %-4s %4ss %s' \
	    "$name" "${ok:-?}" "${fail:-?}" "${skip:-?}" "${tmo:-?}" \
	    "$(($(date +%s) - t))" "${bad:+ failed: $bad}")")
	if [ "$rc" != 0 ]; then failed=1; fi
	local skipped
	skipped=$(grep -E '^ *[0-9]+/[0-9]+ .* SKIP ' "$log" | awk '{print $4}' |
	    tr '\n' ' ')
	if [ -n "$skipped" ]; then
		summary+=("           skipped: $skipped$([ "$(id -u)" = 0 ] ||
		    echo '(integration tests need root)')")
	fi
}

say "dependencies"
if ! bash scripts/deps.sh; then
	echo "test.sh: could not install the dependencies" >&2
	exit 1
fi

pass normal "$BUILD" 1 -Dwerror=true -Db_sanitize=none
if [ "$SANITIZE" = 1 ]; then
	pass sanitize "$SAN_BUILD" 2 -Dwerror=true \
	    -Db_sanitize=address,undefined -Db_lundef=false
fi

say "summary ($(($(date +%s) - T0)) s)"
printf '%s\n' "${summary[@]}"
if [ "$failed" != 0 ]; then
	echo "RESULT: FAILED"
	exit 1
fi
echo "RESULT: all passed"
