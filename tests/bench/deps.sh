#!/bin/bash
# tests/bench/deps.sh - the packages only the benchmark needs (Debian 12),
# installed by scripts/deps.sh together with everything the tests need
# (so the peers' services are never started in the root namespace either).
set -eu
exec bash "$(dirname "$0")/../../scripts/deps.sh" \
    squid-openssl sslsplit mitmproxy wrk gcc libc6-dev libc-ares-dev
