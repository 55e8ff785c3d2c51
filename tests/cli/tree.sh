#!/bin/bash
# tree.sh SOURCE_DIR - the source tree holds no leftover merge conflict:
# no line of a source, script or document starts with a conflict marker
# ("<<<<<<< ", ">>>>>>> " or a lone "=======").  A re-created conflict
# once left markers in two documents that every other test read past.
set -u
. "$(dirname "$0")/lib.sh"
S=${1:?usage: tree.sh SOURCE_DIR}
TMP=$(mktemp -d /tmp/tree_test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

markers() {	# markers DIR: file:line of every marker under DIR
	grep -rnE --binary-files=without-match \
	    --exclude-dir=.git --exclude-dir='build*' --exclude-dir=corpus \
	    '^(<<<<<<< |>>>>>>> |=======$)' "$1"
}
# The check itself: a tree with a planted marker is caught.
mkdir -p "$TMP/t/docs"
printf 'a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n' >"$TMP/t/docs/x.md"
ok "a planted conflict is found" bash -c "$(declare -f markers); markers '$TMP/t' | grep -q x.md:2"
markers "$S" >"$TMP/found" || true
ok "no conflict markers in the tree" test ! -s "$TMP/found"
[ -s "$TMP/found" ] && diag "$TMP/found"
tap_done
