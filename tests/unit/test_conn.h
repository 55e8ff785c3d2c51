/*
 * test_conn.h - a harness for the connection state machine tests
 * (test_conn.c, test_conn_timeout.c): one worker's loop driven step by
 * step on a fake clock, the guest on a socketpair, a fake resolver, an
 * upstream server on a loopback listener that the test plays by hand.
 *
 * Nothing waits on the wall clock: time moves only when a test calls
 * advance(), and every wait is a bounded number of loop wake-ups of at
 * most WAKE_MS each (events arrive at once on loopback; the bound only
 * turns a hang into a failure).
 *
 * Teardown reasons are read from the debug log (stderr is captured into
 * a file): the "conn ID SRC -> DST: closed in STATE after N requests:
 * REASON" line that conn_close() writes.
 */
#ifndef GW_TEST_CONN_H
#define GW_TEST_CONN_H

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alog.h"
#include "config.h"
#include "conn_dispatch.h"
#include "log.h"
#include "resolver.h"
#include "runtime.h"
#include "stats.h"
#include "worker.h"
#include "tap.h"

#define WAKE_MS		20
#define MAX_WAKES	250

static struct {
	struct loop	*loop;
	struct gw	gw;
	struct worker	w;
	struct runtime	*rt;
	int		up_lfd;		/* upstream listener */
	uint16_t	up_port;
	uint16_t	closed_port;	/* nothing listens there */
	FILE		*log;		/* captured stderr */
	char		audit[64];	/* the audit log (JSON) */
	atomic_bool	release_hang;
} H;

static _Atomic uint64_t fake_now = 1000000;

static UNUSED uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return atomic_load(&fake_now);
}

/*
 * The fake resolver: svc.test, denied.test and tun.test (spliced) name
 * 127.0.0.1, inner.test an internal address the group may not dial,
 * nx.test nothing, and hang.test answers only when the test lets it.
 */
static UNUSED void
fake_lookup(void *arg, const char *name, struct resolve_result *out)
{
	const char *a = NULL;
	int i;

	(void)arg;
	memset(out, 0, sizeof(*out));
	if (strcmp(name, "hang.test") == 0) {
		for (i = 0; i < 5000 && !atomic_load(&H.release_hang); i++)
			usleep(1000);
		out->error = EAI_AGAIN;
		return;
	}
	if (strcmp(name, "svc.test") == 0 || strcmp(name, "denied.test") == 0 ||
	    strcmp(name, "tun.test") == 0)
		a = "127.0.0.1";
	else if (strcmp(name, "inner.test") == 0)
		a = "10.99.0.1";
	if (a == NULL || addr_parse(a, &out->addrs[0]) != 0) {
		out->error = EAI_NONAME;
		return;
	}
	out->naddrs = 1;
}

static UNUSED int
listen_loopback(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		printf("Bail out! loopback listener: %s\n", strerror(errno));
		exit(1);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static UNUSED void
harness_init(void)
{
	static const char conf[] =
	    "groups = ( { name = \"t\"; guests = [\"10.0.0.0/8\"];\n"
	    "  ca_dir = \"/nonexistent/test-conn\";\n"
	    "  capture = { http_port = 3128; https_port = 3129; };\n"
	    "  policy = { default = \"allow\";\n"
	    "    internal_allow = [ \"127.0.0.0/8\" ];\n"
	    "    rules = ( { action = \"deny\"; host = \"denied.test\"; },\n"
	    "      { action = \"splice\"; host = \"tun.test\"; }"
	    " ); }; } );\n";
	struct resolver_hooks hooks = { fake_lookup, fake_clock, NULL };
	struct gw_config *cfg;
	char err[256];
	FILE *errs = tmpfile();
	int lfd;

	H.log = tmpfile();
	if (H.log == NULL || errs == NULL || dup2(fileno(H.log), 2) == -1) {
		printf("Bail out! cannot capture the log\n");
		exit(1);
	}
	log_init("test", LOG_LVL_DEBUG, 0);
	cfg = config_load_string(conf, "t.conf", errs);
	if (cfg == NULL) {
		printf("Bail out! config does not load\n");
		exit(1);
	}
	H.rt = runtime_new(cfg, 1, err, sizeof(err));
	config_unref(cfg);
	if (H.rt == NULL) {
		printf("Bail out! runtime: %s\n", err);
		exit(1);
	}
	fclose(errs);
	gw_init(&H.gw);
	H.gw.resolver = resolver_new(2, 30000, 5000, 64, &hooks);
	H.loop = loop_new();
	if (H.gw.resolver == NULL || H.loop == NULL) {
		printf("Bail out! resolver or loop\n");
		exit(1);
	}
	loop_set_clock(H.loop, fake_clock, NULL);
	snprintf(H.audit, sizeof(H.audit), "/tmp/test_conn.%ld.audit",
	    (long)getpid());
	H.gw.alog = alog_open(H.audit, LOGFMT_JSON, err, sizeof(err));
	if (H.gw.alog == NULL) {
		printf("Bail out! audit log: %s\n", err);
		exit(1);
	}
	H.w.gw = &H.gw;
	H.w.loop = H.loop;
	H.w.stats = stats_shard_new(H.gw.stats);
	bufpool_init(&H.w.bufs, WORKER_IOBUF, 8);
	H.up_lfd = listen_loopback(&H.up_port);
	lfd = listen_loopback(&H.closed_port);
	close(lfd);
}

static UNUSED void
harness_fini(void)
{
	while (H.w.conns != NULL)
		conn_close(H.w.conns, CONN_END_SHUTDOWN);
	atomic_store(&H.release_hang, true);
	alog_close(H.gw.alog);
	H.gw.alog = NULL;
	unlink(H.audit);
	resolver_free(H.gw.resolver);
	loop_free(H.loop);
	bufpool_fini(&H.w.bufs);
	runtime_unref(H.rt);
	gw_fini(&H.gw);
	close(H.up_lfd);
	fclose(H.log);
}

/* One wake-up of the loop, at most WAKE_MS. */
static UNUSED void
wake(void)
{
	(void)loop_run_once(H.loop, WAKE_MS);
}

/* Move the fake clock and let the loop run what is due (timers). */
static UNUSED void
advance(uint64_t ms)
{
	atomic_fetch_add(&fake_now, ms);
	(void)loop_run_once(H.loop, 0);
	(void)loop_run_once(H.loop, 0);
}

static UNUSED struct conn *
find_conn(uint64_t id)
{
	struct conn *c;

	for (c = H.w.conns; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* A guest connection to dst_port; *gfd is the guest's end. */
static UNUSED uint64_t
guest_open(bool tls_port, uint16_t dst_port, int *gfd)
{
	struct addr src, dst;
	struct conn *c;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0 ||
	    addr_parse("10.0.0.2", &src) != 0 ||
	    addr_parse("127.0.0.1", &dst) != 0) {
		printf("Bail out! socketpair\n");
		exit(1);
	}
	src.port = 40000;
	dst.port = dst_port;
	c = conn_new(&H.w, H.rt, &H.rt->groups[0], sv[0], &src, &dst,
	    tls_port);
	*gfd = sv[1];
	return c != NULL ? c->id : 0;
}

static UNUSED void
send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w > 0) {
			s += w;
			n -= (size_t)w;
		} else if (w == -1 && errno == EAGAIN) {
			wake();
		} else {
			return;
		}
	}
}

static UNUSED void
send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/*
 * Read what fd receives into buf (NUL-terminated) until it holds needle
 * (NULL: until EOF).  Returns 1 if found (or EOF seen), 0 on the bound.
 */
static UNUSED int
recv_until(int fd, char *buf, size_t size, size_t *len, const char *needle,
    bool *eof)
{
	int i;

	*eof = false;
	for (i = 0; i < MAX_WAKES; i++) {
		ssize_t n = recv(fd, buf + *len, size - 1 - *len, 0);

		if (n > 0) {
			*len += (size_t)n;
			buf[*len] = '\0';
			if (needle != NULL && strstr(buf, needle) != NULL)
				return 1;
			continue;
		}
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			*eof = true;
			return needle == NULL || strstr(buf, needle) != NULL;
		}
		if (needle != NULL && strstr(buf, needle) != NULL)
			return 1;
		wake();
	}
	return 0;
}

/* What fd receives until needle (or EOF), as a string; the buffer is
 * reused by the next call. */
static UNUSED char *
guest_read(int gfd, const char *needle, bool *eof)
{
	static char buf[65536];
	size_t len = 0;

	buf[0] = '\0';
	(void)recv_until(gfd, buf, sizeof(buf), &len, needle, eof);
	return buf;
}

/* The upstream server accepts the gateway's connection (or -1). */
static UNUSED int
server_accept(void)
{
	int i, fd;

	for (i = 0; i < MAX_WAKES; i++) {
		fd = accept4(H.up_lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd != -1)
			return fd;
		wake();
	}
	return -1;
}

/* Did anything connect to the upstream listener (after a few wakes)? */
static UNUSED bool
server_has_pending(void)
{
	int i, fd;

	for (i = 0; i < 5; i++)
		wake();
	fd = accept4(H.up_lfd, NULL, NULL, SOCK_NONBLOCK);
	if (fd == -1)
		return false;
	close(fd);
	return true;
}

/* What the upstream receives until needle (the same reader). */
#define server_read(fd, needle, eof)	guest_read(fd, needle, eof)

/* Does the upstream receive exactly these n bytes first? */
static UNUSED bool
server_read_n(int sfd, const unsigned char *want, size_t n)
{
	unsigned char buf[8192];
	size_t len = 0;
	int i;

	for (i = 0; i < MAX_WAKES && len < n && n <= sizeof(buf); i++) {
		ssize_t r = recv(sfd, buf + len, n - len, 0);

		if (r > 0)
			len += (size_t)r;
		else if (r == 0 || errno != EAGAIN)
			break;
		else
			wake();
	}
	return len == n && memcmp(buf, want, n) == 0;
}

/* Pump the loop a few times (let queued work happen). */
static UNUSED void
settle(void)
{
	int i;

	for (i = 0; i < 5; i++)
		wake();
}

/* The log's "conn ID ...: closed in ..." line for id, from the state on. */
static UNUSED const char *
close_line(uint64_t id)
{
	static char line[1024];
	char want[64];
	const char *p = NULL;

	fflush(stderr);
	snprintf(want, sizeof(want), "conn %llu ", (unsigned long long)id);
	rewind(H.log);
	while (p == NULL && fgets(line, sizeof(line), H.log) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		p = strstr(line, want);
		p = p != NULL ? strstr(p, ": closed in ") : NULL;
	}
	fseek(H.log, 0, SEEK_END);
	return p != NULL ? p + strlen(": closed in ") : NULL;
}

/* The last audit line holding needle (written out first), or NULL. */
static UNUSED const char *
audit_line(const char *needle)
{
	static char line[4096];
	char buf[4096];
	FILE *f;
	bool found = false;

	if (alog_flush(H.gw.alog, 2000) != 0 ||
	    (f = fopen(H.audit, "r")) == NULL)
		return NULL;
	while (fgets(buf, sizeof(buf), f) != NULL)
		if (strstr(buf, needle) != NULL) {
			buf[strcspn(buf, "\n")] = '\0';
			memcpy(line, buf, sizeof(line));
			found = true;
		}
	fclose(f);
	return found ? line : NULL;
}

/* The teardown reason the log gave for conn id, or NULL. */
static UNUSED const char *
close_reason(uint64_t id)
{
	const char *p = close_line(id);

	p = p != NULL ? strstr(p, " requests: ") : NULL;
	return p != NULL ? p + strlen(" requests: ") : NULL;
}

/* The state a conn closed in, from the same log line. */
static UNUSED const char *
close_state(uint64_t id)
{
	static char state[32];
	const char *p = close_line(id);

	if (p == NULL)
		return NULL;
	snprintf(state, sizeof(state), "%.*s", (int)strcspn(p, " "), p);
	return state;
}

/* The request head a guest sends to name:port. */
static UNUSED const char *
req_for(const char *name, uint16_t port, const char *extra)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "GET /p?q=1 HTTP/1.1\r\nHost: %s:%u\r\n"
	    "User-Agent: t\r\n%s\r\n", name, port, extra ? extra : "");
	return buf;
}

/* A real ClientHello for sni, from an OpenSSL client into memory. */
static UNUSED size_t
client_hello(const char *sni, unsigned char *out, size_t size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	BIO *inner = NULL, *net = NULL;
	int r = 0;

	if (ssl != NULL && BIO_new_bio_pair(&inner, 0, &net, 0) == 1) {
		SSL_set_bio(ssl, inner, inner);
		SSL_set_connect_state(ssl);
		(void)SSL_set_tlsext_host_name(ssl, sni);
		(void)SSL_do_handshake(ssl);
		r = BIO_read(net, out, (int)size);
	}
	ERR_clear_error();
	SSL_free(ssl);
	BIO_free(net);
	SSL_CTX_free(ctx);
	return r > 0 ? (size_t)r : 0;
}

#endif
