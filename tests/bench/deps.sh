#!/bin/bash
# tests/bench/deps.sh - the packages only the benchmark needs (Debian 12),
# on top of scripts/deps.sh.  The peers' system services are never started
# in the root namespace: a policy-rc.d forbids service starts while
# installing (removed again if this script made it).  Idempotent: returns
# at once when everything is there.
set -eu

PKGS=(squid-openssl sslsplit mitmproxy wrk nginx-light nftables iproute2
      python3 openssl curl gcc libc6-dev libssl-dev meson ninja-build)

missing=()
for p in "${PKGS[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "bench deps: run as root" >&2; exit 1; }

echo "bench deps: installing ${missing[*]}" >&2
made=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\n# tests/bench/deps.sh: no service starts\nexit 101\n' \
	    >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made=1
fi
trap '[ "$made" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
