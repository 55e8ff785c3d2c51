#!/bin/bash
# deps.sh - install what is missing to build gatewayd and run its tests on
# Debian 12, as root.  Idempotent: when every package is present it only
# checks (dpkg-query) and returns in well under a second.
#
# Services that some packages ship (nginx, postgresql, dnsmasq...) are NOT
# started in the root namespace: while installing, a policy-rc.d that
# forbids service starts is put in place (and removed again if this script
# created it).  The tests run private instances of these servers inside
# their own network namespaces.  Nothing is stopped here.
#
# Usage: scripts/deps.sh [--check] [PKG...]
#   --check  list what is missing, exit 1 if anything is
#   PKG...   more packages to install the same way (tests/bench/deps.sh)
set -eu

check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi

PKGS=(
	# build
	build-essential gcc clang libclang-rt-14-dev llvm meson ninja-build
	pkg-config libssl-dev libconfig-dev libmnl-dev libnetfilter-queue-dev
	# network namespaces, rules, tools used by the tests
	nftables iproute2 iputils-ping procps util-linux curl openssl git
	python3 socat bind9-dnsutils wrk ca-certificates
	# strict real clients and parsers the tests drive the gateway with
	python3-h11 python3-h2 python3-websockets python3-grpcio nghttp2-client
	python3-requests
	nodejs libnghttp2-dev
	# meson install's check (tests/cli/t-install.sh): units, man pages,
	# the logrotate snippet
	systemd man-db groff-base logrotate
	# servers run inside the test "internet" namespace
	nginx-light fcgiwrap dnsmasq-base postgresql postgresql-client
	# the metrics test: promtool check metrics, a real Prometheus scraping
	prometheus
	"$@"
)
# Node's npm: Debian ships it as its own package; NodeSource's nodejs
# bundles it and conflicts with Debian's.  Ask for it only when missing.
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing+=("$p")
done

if [ "$check" = 1 ]; then
	[ ${#missing[@]} -eq 0 ] && { echo "deps: all present"; exit 0; }
	echo "deps: missing: ${missing[*]}"
	exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root to install them" >&2
	exit 1
fi

echo "deps: installing: ${missing[*]}"
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\n# scripts/deps.sh: no service starts while installing\nexit 101\n' \
	    >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
remove_policy() {
	if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap remove_policy EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done"
