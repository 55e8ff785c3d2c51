#!/bin/sh
# Load every golden ruleset tests/nft/*.nft into nft in a throwaway network
# namespace: `nft -c`, then apply twice and check the second apply leaves
# the same ruleset (the create/delete/define pattern is idempotent), then
# delete the tables and check nothing is left.
# On a kernel without the nft "queue" expression (CONFIG_NFT_QUEUE), the
# queue statements are replaced by "accept" so the rest is still checked.
# Exit 77 (skip) without nft or namespaces.
set -eu
dir=$(dirname "$0")
command -v nft >/dev/null 2>&1 || { echo "nft not installed"; exit 77; }
if [ "${GW_IN_NETNS:-}" != 1 ]; then
	unshare -n true 2>/dev/null || { echo "no network namespaces"; exit 77; }
	GW_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
queue=yes
printf 'table inet gw_probe { chain c { type filter hook forward priority 0; queue num 0; }; }\n' >"$tmp/probe.nft"
nft -c -f "$tmp/probe.nft" 2>/dev/null || queue=no
echo "# kernel nft queue expression: $queue"
fail=0
for f in "$dir"/*.nft; do
	name=$(basename "$f" .nft)
	if [ $queue = no ]; then
		sed 's/^\(\t*\)queue num [0-9]*\( bypass\)\?/\1accept/' "$f" >"$tmp/in.nft"
	else
		cp "$f" "$tmp/in.nft"
	fi
	if ! nft -c -f "$tmp/in.nft" >"$tmp/err" 2>&1; then
		echo "not ok - $name: nft -c"; sed 's/^/# /' "$tmp/err"; fail=1; continue
	fi
	nft -f "$tmp/in.nft" && nft list ruleset >"$tmp/one"
	nft -f "$tmp/in.nft" && nft list ruleset >"$tmp/two"
	if ! cmp -s "$tmp/one" "$tmp/two"; then
		echo "not ok - $name: second apply differs"; diff "$tmp/one" "$tmp/two" | sed 's/^/# /'; fail=1
	fi
	nft list tables | while read -r _ fam tab; do nft delete table "$fam" "$tab"; done
	if [ -n "$(nft list ruleset)" ]; then
		echo "not ok - $name: tables left"; fail=1
	fi
	[ $fail = 1 ] || echo "ok - $name"
done
exit $fail
