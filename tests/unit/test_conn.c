/*
 * test_conn.c - the connection state machine on one worker loop: a
 * request, keep-alive on the same upstream, a denied request, an
 * upstream failure at each phase (resolve, address refused, connect,
 * response), an Upgrade turning into a tunnel, a spliced TLS flow, and
 * the teardown reason of each end.  Timeouts: test_conn_timeout.c.
 */
#include "test_conn.h"

static const char resp_hello[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/* A request through to the upstream and its answer back. */
static void
test_request_keepalive(void)
{
	int gfd, sfd;
	bool eof;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	const char *got;
	struct conn *c;

	send_str(gfd, req_for("svc.test", H.up_port, "Connection: x-drop\r\n"
	    "X-Drop: 1\r\n"));
	sfd = server_accept();
	ok(sfd != -1, "request: the upstream is dialled");
	got = server_read(sfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "GET /p?q=1 HTTP/1.1\r\nHost: svc.test:", 36) == 0,
	    "request: the head goes upstream with its target and Host");
	ok(strstr(got, "User-Agent: t\r\n") != NULL,
	    "request: end-to-end headers are forwarded");
	ok(strstr(got, "X-Drop") == NULL && strstr(got, "x-drop") == NULL,
	    "request: hop-by-hop headers named by Connection are dropped");
	send_str(sfd, resp_hello);
	got = guest_read(gfd, "hello", &eof);
	ok(strncmp(got, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
	    strstr(got, "\r\n\r\nhello") != NULL,
	    "request: the guest gets the response");
	settle();
	c = find_conn(id);
	ok(c != NULL && c->state == CONN_REQ_HEAD && c->requests == 1,
	    "keep-alive: back to waiting for a request head");

	/* The second request goes over the same upstream connection. */
	send_str(gfd, req_for("svc.test", H.up_port, NULL));
	got = server_read(sfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "GET /p?q=1 HTTP/1.1\r\n", 21) == 0,
	    "keep-alive: the next request reuses the upstream connection");
	ok(!server_has_pending(), "keep-alive: no second dial");
	send_str(sfd, resp_hello);
	got = guest_read(gfd, "hello", &eof);
	ok(strstr(got, "hello") != NULL, "keep-alive: second response");
	settle();
	c = find_conn(id);
	ok(c != NULL && c->requests == 2, "keep-alive: two requests counted");

	close(gfd);
	settle();
	ok(find_conn(id) == NULL, "guest close: the connection ends");
	is_str(close_reason(id), "guest closed", "teardown: guest closed");
	got = server_read(sfd, NULL, &eof);
	ok(eof, "guest close: the upstream connection is closed too");
	close(sfd);
}

/* gatewayd_denials_total for one reason label, summed over the rules. */
static uint64_t
denials(const char *reason)
{
	struct stats_snapshot snap;
	uint64_t n = 0;
	size_t i;

	stats_snapshot(H.gw.stats, &snap);
	for (i = 0; i < snap.nseries; i++)
		if (snap.series[i].family == SF_DENIALS &&
		    strcmp(snap.series[i].label[1], reason) == 0)
			n += snap.series[i].value;
	stats_snapshot_fini(&snap);
	return n;
}

static void
test_deny(void)
{
	int gfd;
	bool eof;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	const char *got;
	struct conn *c;

	send_str(gfd, req_for("denied.test", H.up_port, NULL));
	got = guest_read(gfd, "ask for the policy to be changed", &eof);
	ok(strncmp(got, "HTTP/1.1 403 Forbidden\r\n", 24) == 0,
	    "deny: 403 for a denied host");
	ok(strstr(got, "X-Gateway-Reason: denied by egress policy\r\n") !=
	    NULL, "deny: the reason is named");
	ok(strstr(got, "Blocked by egress policy: http://denied.test:") !=
	    NULL && strstr(got, "?q=1") == NULL,
	    "deny: the page names the URL without its query");
	ok(!server_has_pending(), "deny: nothing is dialled");
	settle();
	is(denials("egress_policy"), 1, "deny: counted by its reason's code");
	c = find_conn(id);
	ok(c != NULL && c->state == CONN_REQ_HEAD,
	    "deny: a body-less request keeps the connection");
	close(gfd);
	settle();
	is_str(close_reason(id), "guest closed", "deny: then the guest closes");
}

/*
 * A failure of the upstream answered to the guest: status line and
 * X-Gateway-Reason, then the connection lingers and ends when the guest
 * closes (with the reason of the linger).
 */
static void
expect_failure(const char *name, uint16_t port, const char *status,
    const char *reason, const char *what)
{
	int gfd;
	bool eof;
	uint64_t id = guest_open(false, port, &gfd);
	char hdr[160];
	const char *got;

	send_str(gfd, req_for(name, port, NULL));
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(strncmp(got, status, strlen(status)) == 0, "%s: %s", what, status);
	snprintf(hdr, sizeof(hdr), "X-Gateway-Reason: %s\r\n", reason);
	ok(strstr(got, hdr) != NULL, "%s: reason \"%s\"", what, reason);
	ok(strstr(got, "Connection: close\r\n") != NULL,
	    "%s: the connection is closed after it", what);
	got = guest_read(gfd, NULL, &eof);
	ok(eof, "%s: the guest sees the end", what);
	close(gfd);
	settle();
	ok(find_conn(id) == NULL, "%s: the connection ends", what);
	is_str(close_reason(id), "request asked for close",
	    "%s: teardown after the reply", what);
}

static void
test_upstream_failures(void)
{
	int gfd, sfd;
	bool eof;
	uint64_t id;
	const char *got;

	expect_failure("nx.test", H.up_port, "HTTP/1.1 502 ",
	    "name resolution failed", "resolve phase");
	expect_failure("inner.test", H.up_port, "HTTP/1.1 403 ",
	    "destination refused", "address refused");
	ok(!server_has_pending(), "address refused: nothing dialled");
	is(denials("destination_refused"), 1, "address refused: counted by "
	    "its reason's code");
	expect_failure("svc.test", H.closed_port, "HTTP/1.1 502 ",
	    "upstream connect failed", "connect phase");

	/* response phase: the server takes the request and closes */
	id = guest_open(false, H.up_port, &gfd);
	send_str(gfd, req_for("svc.test", H.up_port, NULL));
	sfd = server_accept();
	(void)server_read(sfd, "\r\n\r\n", &eof);
	close(sfd);
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "HTTP/1.1 502 ", 13) == 0 && strstr(got,
	    "X-Gateway-Reason: upstream closed without a response\r\n"),
	    "response phase: 502 when the upstream closes without a response");
	close(gfd);
	settle();
	is_str(close_reason(id), "request asked for close",
	    "response phase: teardown when the guest closes while lingering");

	/* response phase: a response that does not parse */
	id = guest_open(false, H.up_port, &gfd);
	send_str(gfd, req_for("svc.test", H.up_port, NULL));
	sfd = server_accept();
	(void)server_read(sfd, "\r\n\r\n", &eof);
	send_str(sfd, "HTTP/9 nonsense\r\n\r\n");
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "HTTP/1.1 502 ", 13) == 0 && strstr(got,
	    "X-Gateway-Reason: invalid response from upstream\r\n"),
	    "response phase: 502 for an invalid response");
	got = server_read(sfd, NULL, &eof);
	ok(eof, "response phase: that upstream connection is dropped");
	close(sfd);
	close(gfd);
	settle();
	ok(find_conn(id) == NULL, "response phase: the connection ends");

	/* the body of a response cut short */
	id = guest_open(false, H.up_port, &gfd);
	send_str(gfd, req_for("svc.test", H.up_port, NULL));
	sfd = server_accept();
	(void)server_read(sfd, "\r\n\r\n", &eof);
	send_str(sfd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal");
	(void)guest_read(gfd, "hal", &eof);
	close(sfd);
	got = guest_read(gfd, NULL, &eof);
	ok(eof, "body phase: the guest sees the cut");
	settle();
	is_str(close_reason(id), "response body aborted or malformed",
	    "teardown: response body aborted");
	close(gfd);
}

static void
test_bad_request(void)
{
	int gfd;
	bool eof;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	const char *got;

	send_str(gfd, "GET / HTTP/1.1\r\nHost: svc.test:1\r\n\r\n");
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "HTTP/1.1 421 ", 13) == 0,
	    "bad request: 421 for a port other than the connection's");
	close(gfd);
	settle();
	is_str(close_reason(id), "request asked for close",
	    "bad request: teardown after the lingering reply");

	id = guest_open(false, H.up_port, &gfd);
	send_str(gfd, "GET / HTTP/1.1\r\nHost: svc");
	settle();
	close(gfd);
	settle();
	is_str(close_reason(id), "guest closed mid-request",
	    "teardown: guest closed mid-request");
}

/* An Upgrade the upstream accepts: a tunnel until both sides end. */
static void
test_upgrade_tunnel(void)
{
	int gfd, sfd;
	bool eof;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	const char *got;
	struct conn *c;

	send_str(gfd, req_for("svc.test", H.up_port, "Connection: Upgrade\r\n"
	    "Upgrade: websocket\r\n"));
	sfd = server_accept();
	got = server_read(sfd, "\r\n\r\n", &eof);
	ok(strstr(got, "Upgrade: websocket\r\n") != NULL,
	    "upgrade: the Upgrade goes upstream");
	send_str(sfd, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "HTTP/1.1 101 ", 13) == 0, "upgrade: 101 passed on");
	settle();
	c = find_conn(id);
	ok(c != NULL && c->state == CONN_TUNNEL, "upgrade: now a tunnel");
	/* audited once, at the tunnel's end (conn_close), not at the 101 */
	ok(c != NULL && c->x.active && c->x.status == 101,
	    "upgrade: the exchange stays open for its audit line");
	send_str(gfd, "ping");
	got = server_read(sfd, "ping", &eof);
	ok(strcmp(got, "ping") == 0, "tunnel: guest bytes reach upstream");
	send_str(sfd, "pong");
	got = guest_read(gfd, "pong", &eof);
	ok(strcmp(got, "pong") == 0, "tunnel: upstream bytes reach guest");
	c = find_conn(id);
	ok(c != NULL && c->tunnel_up == 4 && c->tunnel_down == 4,
	    "tunnel: its bytes counted for the exchange's line");
	close(sfd);
	got = guest_read(gfd, NULL, &eof);
	ok(eof, "tunnel: the upstream's end is passed on");
	close(gfd);
	settle();
	is_str(close_reason(id), "tunnel closed", "teardown: tunnel closed");
}

/* A TLS flow the policy splices: bytes untouched, both ways. */
static void
test_splice(void)
{
	unsigned char hello[4096];
	size_t n = client_hello("tun.test", hello, sizeof(hello));
	int gfd, sfd;
	bool eof;
	uint64_t id;
	const char *got;

	ok(n > 0, "splice: a ClientHello to send");
	id = guest_open(true, H.up_port, &gfd);
	send_all(gfd, (const char *)hello, n);
	sfd = server_accept();
	ok(sfd != -1, "splice: the real server is dialled");
	ok(server_read_n(sfd, hello, n), "splice: the ClientHello arrives "
	    "untouched");
	send_str(sfd, "server-bytes");
	got = guest_read(gfd, "server-bytes", &eof);
	ok(strcmp(got, "server-bytes") == 0, "splice: server bytes passed");
	close(sfd);
	shutdown(gfd, SHUT_WR);
	settle();
	is_str(close_reason(id), "tunnel closed", "splice: teardown");
	close(gfd);

	/* not TLS at all on the HTTPS port */
	id = guest_open(true, H.up_port, &gfd);
	send_str(gfd, "GET / HTTP/1.1\r\n\r\n");
	settle();
	is_str(close_reason(id), "not TLS on the HTTPS port",
	    "teardown: not TLS on the HTTPS port");
	close(gfd);

	/* to be intercepted, but the group has no usable CA */
	n = client_hello("inner.test", hello, sizeof(hello));
	id = guest_open(true, H.up_port, &gfd);
	send_all(gfd, (const char *)hello, n);
	settle();
	ok(find_conn(id) == NULL, "bump without a CA: the flow is refused");
	is_str(close_reason(id), "no usable CA to intercept with",
	    "teardown: no usable CA");
	got = guest_read(gfd, NULL, &eof);
	ok(eof && got[0] == 0x15, "refused TLS flow: a TLS alert, then EOF");
	close(gfd);
}

int
main(void)
{
	harness_init();
	test_request_keepalive();
	test_deny();
	test_upstream_failures();
	test_bad_request();
	test_upgrade_tunnel();
	test_splice();
	harness_fini();
	return tap_done();
}
