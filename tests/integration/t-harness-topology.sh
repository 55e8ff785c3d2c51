#!/bin/bash
# t-harness-topology: the harness itself.  For both variants (bridge,
# isolated), with IPv6: with no rules and no gatewayd, the gateway namespace
# just forwards, so a guest reaches the internet's servers directly.  This
# proves the topology, the names, the PKI (good and bad upstream
# certificates), every upstream server, and that nothing links to the root
# namespace and nothing is left behind.
. "$(dirname "$0")/lib.sh"

root_links_before=$(ip -o link | wc -l)
pki_ensure
www_ensure
T_GUEST_CA=$PKI/public-root.crt	# direct: the guest trusts the web PKI

check_variant() {
	local v=$1 ns i out code

	topo_up "$v" --guests 2 --ipv6
	assert_eq "$root_links_before" "$(ip -o link | wc -l)" "links in the root namespace"
	assert_eq "" "$(in_gw ip route show default)" "gateway default route"
	assert_eq "" "$(in_gw ip -6 route show default)" "gateway v6 default route"
	nginx_start
	upstream_start --tcp "$INET_ECHO_IP:2222" --udp "$INET_ECHO_IP:5353"
	dns_start
	git_start

	for i in 1 2; do
		on_guest "$i" ping -c1 -W2 "${GUEST_GW[i]}" >/dev/null ||
		    fail "$v: guest $i cannot reach its gateway ${GUEST_GW[i]}"
		on_guest "$i" ping -c1 -W2 "$INET_MAIN_IP" >/dev/null ||
		    fail "$v: guest $i cannot reach $INET_MAIN_IP"
		on_guest "$i" ping -6 -c1 -W2 "$INET_MAIN_IP6" >/dev/null ||
		    fail "$v: guest $i cannot reach $INET_MAIN_IP6"
	done
	[ "$v" = isolated ] && assert_eq "10.67.0.6" "${GUEST_IP[2]}" "isolated guest 2 address"
	[ "$v" = isolated ] && assert_eq "ve-g2" "${GUEST_IF[2]}" "isolated guest 2 interface"

	# bodies over HTTPS and HTTP, IPv4 and IPv6, intact
	guest_curl -o "$T_DIR/10m" https://example.com/10m
	assert_eq "$(www_sha 10m)" "$(sha256_of "$T_DIR/10m")" "$v: 10m body over https"
	guest_curl -4 -o "$T_DIR/64k" http://site-a.test/64k
	assert_eq "$(www_sha 64k)" "$(sha256_of "$T_DIR/64k")" "$v: 64k body over http"
	out=$(guest_curl -6 https://en.wikipedia.org/wiki/Main_Page)
	assert_eq "site=en.wikipedia.org uri=/wiki/Main_Page" "$out" "$v: v6 site page"
	# nginx logs what upstream received, Authorization included
	guest_curl -o /dev/null -H 'Authorization: Bearer placeholder-123' \
	    https://api.github.com/user
	assert_match "$NGINX_LOG" 'sni="api.github.com" host="api.github.com" method="GET" uri="/user" status=200 .*auth="Bearer placeholder-123"'

	# the bad upstreams really are bad for a client that verifies
	for out in bad expired wrongname selfsigned; do
		code=0
		guest_curl -o /dev/null "https://$out.test/1k" 2>/dev/null || code=$?
		assert_eq 60 "$code" "$v: curl exit status for $out.test"
		# and the same name over plain HTTP works (its address serves)
		assert_eq 200 "$(guest_code "http://$out.test/1k")" "$v: http $out.test"
	done
	T_GUEST_CA=$PKI/untrusted-root.crt
	assert_eq 200 "$(guest_code https://bad.test/1k)" "$v: bad.test with its own root"
	T_GUEST_CA=$PKI/public-root.crt

	# the "private range" host beyond the gateway answers (upstream.py)
	assert_eq 200 "$(guest_code http://internal.test/priv)" "$v: internal.test"
	assert_match "$UPSTREAM_LOG" "\"listen\": \"$INET_PRIV_IP:80\".*\"target\": \"/priv\""

	# upstream.py: chunked upload, keep-alive, WebSocket, TCP, UDP
	head -c 300000 "$WWW/10m" >"$T_DIR/up.bin"
	out=$(guest_curl -H 'Transfer-Encoding: chunked' --data-binary "@$T_DIR/up.bin" \
	    https://echo.test/upload)
	echo "$out" | grep -q "\"body_sha256\": \"$(sha256_of "$T_DIR/up.bin")\"" ||
	    fail "$v: chunked upload digest: $out"
	echo "$out" | grep -q '"sni": "echo.test"' || fail "$v: upstream.py saw no SNI"
	out=$(guest_client get https://echo.test/ka --n 3)
	assert_eq 1 "$(echo "$out" | grep -o '"upstream_conn": "[0-9]*"' | sort -u | wc -l)" \
	    "$v: 3 requests on one connection"
	guest_client ws wss://ws.test/ws --msg hello --msg "second message" >"$T_DIR/ws.out" ||
	    fail "$v: websocket echo: $(cat "$T_DIR/ws.out")"
	wait_match "$UPSTREAM_LOG" '"kind": "ws".*"text": "second message"'
	out=$(printf 'ping\n' | guest_client raw "$INET_ECHO_IP" 2222 --timeout 1 --half-close)
	assert_eq "SSH-2.0-gwtest ping" "$(echo $out | tr -d '\r')" "$v: tcp echo"
	out=$(guest_client tls-split echo.test 443 --sni echo.test --split 64 --path /split)
	echo "$out" | grep -q '"status_line": "HTTP/1.1 200 OK"' || fail "$v: tls-split: $out"
	in_guest timeout 3 socat -T1 - "UDP:$INET_ECHO_IP:5353" <<<"udp-hello" >"$T_DIR/udp.out"
	assert_eq "udp-hello" "$(cat "$T_DIR/udp.out")" "$v: udp echo"

	# DNS: the internet's resolver knows the names, nothing else
	out=$(in_guest dig +short +time=2 +tries=1 "@$INET_DNS_IP" news.ycombinator.com A)
	assert_eq "$INET_MAIN_IP" "$out" "$v: dns A"
	out=$(in_guest dig +short +time=2 +tries=1 "@$INET_DNS_IP" example.com AAAA)
	assert_eq "$INET_MAIN_IP6" "$out" "$v: dns AAAA"
	out=$(in_guest dig +time=2 +tries=1 "@$INET_DNS_IP" nosuch.example.net A)
	echo "$out" | grep -q 'status: NXDOMAIN' || fail "$v: unknown name: $out"
	assert_match "$DNS_LOG" 'query\[A\] news.ycombinator.com from'

	# git smart HTTP over TLS: clone and push
	in_guest env GIT_SSL_CAINFO="$T_GUEST_CA" git clone -q https://git.test/repo.git \
	    "$T_DIR/clone-$v"
	assert_eq "hello from git.test" "$(cat "$T_DIR/clone-$v/README")" "$v: git clone"
	echo more >>"$T_DIR/clone-$v/README"
	git -C "$T_DIR/clone-$v" -c user.name=t -c user.email=t@t commit -qam more
	in_guest env GIT_SSL_CAINFO="$T_GUEST_CA" git -C "$T_DIR/clone-$v" push -q origin main
	assert_eq 2 "$(git -C "$GIT_ROOT/repo.git" rev-list --count main)" "$v: git push"

	# down: every process stopped, every namespace and /etc/netns dir gone
	local pids=("${T_PIDS[@]}") nss=("${T_NAMESPACES[@]}") p
	topo_down
	for p in "${pids[@]}"; do
		pid_alive "$p" && fail "$v: pid $p still alive after topo_down"
	done
	for ns in "${nss[@]}"; do
		[ -e "/run/netns/$ns" ] && fail "$v: namespace $ns left"
		[ -e "/etc/netns/$ns" ] && fail "$v: /etc/netns/$ns left"
	done
	log "$v: ok"
}

check_variant bridge
check_variant isolated
