/*
 * test_conn_timeout.c - every deadline of a connection on the fake
 * clock: no request head (none, or a partial one), the idle keep-alive,
 * the kept-alive upstream's own idle timeout, a request body that stops,
 * the upstream's response, the upstream's connect phases, the TLS
 * ClientHello, a tunnel, and the linger after a final reply.  Each is
 * checked just before (nothing happens) and just after it is due.
 */
#include "test_conn.h"

static const struct limits_config *
lim(void)
{
	return &H.rt->cfg->limits;
}

static void
test_header_timeouts(void)
{
	int gfd;
	bool eof;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	const char *got;

	advance(lim()->header_timeout_ms - 300);
	ok(find_conn(id) != NULL, "header timeout: not before it is due");
	advance(301);
	ok(find_conn(id) == NULL, "header timeout: closed when due");
	is_str(close_reason(id), "no request before the timeout",
	    "teardown: no request before the timeout");
	close(gfd);

	id = guest_open(false, H.up_port, &gfd);
	send_str(gfd, "GET / HTTP/1.1\r\n");
	settle();
	advance(lim()->header_timeout_ms + 1);
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "HTTP/1.1 408 ", 13) == 0 &&
	    strstr(got, "Connection: close\r\n") != NULL,
	    "partial head: 408 and close");
	close(gfd);
	settle();
	is_str(close_reason(id), "request asked for close",
	    "partial head: teardown after the 408");
}

/* One request answered; returns the upstream's socket. */
static int
one_request(int gfd, const char *extra)
{
	int sfd;
	bool eof;

	send_str(gfd, req_for("svc.test", H.up_port, extra));
	sfd = server_accept();
	(void)server_read(sfd, "\r\n\r\n", &eof);
	send_str(sfd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	(void)guest_read(gfd, "\r\n\r\nok", &eof);
	settle();
	return sfd;
}

static void
test_idle_timeouts(void)
{
	int gfd, sfd;
	bool eof;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	const char *got;
	struct conn *c;

	sfd = one_request(gfd, NULL);
	advance(lim()->upstream_idle_timeout_ms + 300);
	got = server_read(sfd, NULL, &eof);
	ok(eof && got[0] == '\0',
	    "upstream idle timeout: the kept-alive upstream is closed");
	c = find_conn(id);
	ok(c != NULL && c->state == CONN_REQ_HEAD && c->up.io.fd == -1,
	    "upstream idle timeout: the guest side stays");
	close(sfd);
	advance(lim()->idle_timeout_ms - lim()->upstream_idle_timeout_ms -
	    600);
	ok(find_conn(id) != NULL, "idle keep-alive: not before it is due");
	advance(600);
	ok(find_conn(id) == NULL, "idle keep-alive: closed when due");
	is_str(close_reason(id), "idle keep-alive timeout",
	    "teardown: idle keep-alive timeout");
	got = guest_read(gfd, NULL, &eof);
	ok(eof, "idle keep-alive: the guest sees the end");
	close(gfd);
}

static void
test_exchange_timeouts(void)
{
	int gfd, sfd;
	bool eof;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	const char *got;

	/* the request body stops coming */
	send_str(gfd, "POST / HTTP/1.1\r\nHost: svc.test\r\n"
	    "Content-Length: 10\r\n\r\nabc");
	sfd = server_accept();
	got = server_read(sfd, "abc", &eof);
	ok(strstr(got, "\r\n\r\nabc") != NULL, "body: the first bytes go up");
	advance(lim()->idle_timeout_ms + 300);
	ok(find_conn(id) == NULL, "body stalled: closed after idle_timeout");
	is_str(close_reason(id), "idle timeout", "teardown: idle timeout");
	/* the exchange the teardown cut short says so in its audit line */
	got = audit_line("\"method\":\"POST\"");
	if (!ok(got != NULL && strstr(got, "\"reason\":\"idle timeout\","
	    "\"end\":\"idle\"") != NULL, "body stalled: the audit line has "
	    "the end's reason and code"))
		diag("%s", got != NULL ? got : "(no line)");
	close(sfd);
	close(gfd);

	/* the upstream takes the request and never answers */
	id = guest_open(false, H.up_port, &gfd);
	send_str(gfd, req_for("svc.test", H.up_port, NULL));
	sfd = server_accept();
	(void)server_read(sfd, "\r\n\r\n", &eof);
	advance(lim()->response_timeout_ms - 300);
	ok(find_conn(id) != NULL, "response timeout: not before it is due");
	advance(600);
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "HTTP/1.1 504 ", 13) == 0 && strstr(got,
	    "X-Gateway-Reason: upstream response timeout\r\n") != NULL,
	    "response timeout: 504");
	got = server_read(sfd, NULL, &eof);
	ok(eof, "response timeout: the upstream connection is dropped");
	close(sfd);
	close(gfd);
	settle();
	is_str(close_reason(id), "request asked for close",
	    "response timeout: teardown after the 504");

	/* a response begun, then silent */
	id = guest_open(false, H.up_port, &gfd);
	send_str(gfd, req_for("svc.test", H.up_port, NULL));
	sfd = server_accept();
	(void)server_read(sfd, "\r\n\r\n", &eof);
	send_str(sfd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
	(void)guest_read(gfd, "\r\n\r\nab", &eof);
	advance(lim()->response_timeout_ms + 300);
	ok(find_conn(id) == NULL, "response stalled: closed");
	is_str(close_reason(id), "response timeout",
	    "teardown: response timeout");
	close(sfd);
	close(gfd);
}

static void
test_connect_timeout(void)
{
	int gfd;
	bool eof;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	const char *got;

	send_str(gfd, req_for("hang.test", H.up_port, NULL));
	settle();
	advance(lim()->connect_timeout_ms - 300);
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(got[0] == '\0', "connect timeout: nothing before it is due");
	advance(600);
	got = guest_read(gfd, "\r\n\r\n", &eof);
	ok(strncmp(got, "HTTP/1.1 504 ", 13) == 0 && strstr(got,
	    "X-Gateway-Reason: upstream connect timeout\r\n") != NULL,
	    "connect timeout: 504 while resolving");
	atomic_store(&H.release_hang, true);
	close(gfd);
	settle();
	is_str(close_reason(id), "request asked for close",
	    "connect timeout: teardown after the 504");
}

static void
test_tls_and_tunnel_timeouts(void)
{
	const char *a;
	int gfd, sfd;
	bool eof;
	uint64_t id = guest_open(true, H.up_port, &gfd);

	advance(lim()->header_timeout_ms + 300);
	is_str(close_reason(id), "no TLS ClientHello before the timeout",
	    "teardown: no TLS ClientHello before the timeout");
	close(gfd);

	id = guest_open(false, H.up_port, &gfd);
	send_str(gfd, req_for("svc.test", H.up_port, "Connection: Upgrade\r\n"
	    "Upgrade: websocket\r\n"));
	sfd = server_accept();
	(void)server_read(sfd, "\r\n\r\n", &eof);
	send_str(sfd, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
	(void)guest_read(gfd, "\r\n\r\n", &eof);
	advance(lim()->idle_timeout_ms - 300);
	ok(find_conn(id) != NULL, "tunnel: open before idle_timeout");
	advance(600);
	ok(find_conn(id) == NULL, "tunnel: closed after idle_timeout");
	is_str(close_reason(id), "idle timeout", "tunnel: idle timeout");
	/* its one audit line says how it ended (it said allow, no reason) */
	a = audit_line("\"url\":\"http://svc.test:");
	ok(a != NULL && strstr(a, "\"kind\":\"tunnel\"") != NULL &&
	    strstr(a, "\"status\":101") != NULL, "tunnel: audited as one");
	if (!ok(a != NULL && strstr(a, "\"reason\":\"idle timeout\","
	    "\"end\":\"idle\"") != NULL, "tunnel: the audit line has the "
	    "end's reason and code"))
		diag("%s", a != NULL ? a : "(no line)");
	close(sfd);
	close(gfd);

	/* the linger after a final reply, when the guest does not close */
	id = guest_open(false, H.up_port, &gfd);
	sfd = one_request(gfd, "Connection: close\r\n");
	(void)guest_read(gfd, NULL, &eof);
	ok(eof, "linger: the guest is sent the end");
	ok(find_conn(id) != NULL && find_conn(id)->state == CONN_LINGER,
	    "linger: draining the guest");
	advance(2300);
	ok(find_conn(id) == NULL, "linger: bounded");
	is_str(close_state(id), "linger", "linger: closed while lingering");
	close(sfd);
	close(gfd);
}

int
main(void)
{
	harness_init();
	test_header_timeouts();
	test_idle_timeouts();
	test_exchange_timeouts();
	test_connect_timeout();
	test_tls_and_tunnel_timeouts();
	harness_fini();
	return tap_done();
}
