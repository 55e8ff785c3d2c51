/*
 * upstream.c - dial what the policy approved.
 *
 * A guest must not be able to name an allowed host and have the gateway
 * carry its bytes to an address of the guest's choosing: for a name, the
 * gateway resolves it itself and dials the original destination only if
 * it is among the answers, else the first answer that may be dialled.
 * Every address is judged before connect() as the packet filter would
 * judge a guest's packet to it, and more (dialpolicy.h: internal ranges,
 * the group's egress list, the policy rules with the address known): the
 * guest picks the name, never the address.  Own connections carry
 * SO_MARK so the capture rules never take them again.
 *
 * The upstream side runs its own phases (resolve, connect, TLS) beside
 * the guest side's state, so that a bumped flow can dial and verify the
 * real server while the guest's handshake and first request are still on
 * their way; the guest side waits in CONN_WAIT_UP only if it gets there
 * first.  A failure is kept (status and reason) and answered when the
 * guest side asks: nothing is ever forwarded on a failed verification.
 */
#include "conn.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dialpolicy.h"
#include "log.h"
#include "resolver.h"
#include "runtime.h"
#include "sockbio.h"
#include "tls.h"
#include "worker.h"

struct resolve_job {
	struct conn		*conn;
	uint64_t		seq;
	struct resolve_result	res;
};

static void dial(struct conn *c);

/* Below this much idleness a server has not closed a kept-alive
 * connection (keep-alive timeouts are seconds), and the resend-once rule
 * covers the rare exception: skip the check and its syscall. */
#define IDLE_CHECK_MS	1000

bool
upstream_idle_alive(struct conn *c, uint64_t now)
{
	char byte;
	ssize_t n;

	if (c->up.eof || buf_len(&c->u_in) > 0)
		return false;
	if (c->up.ssl != NULL && SSL_pending(c->up.ssl) > 0)
		return false;
	if (now < c->up_last_used + IDLE_CHECK_MS)
		return true;
	/* An idle upstream has nothing to say: EOF or stray bytes mean it
	 * is closing or out of step, so it must not carry a new request. */
	n = recv(c->up.io.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void
upstream_close(struct conn *c)
{
	ep_close(c, &c->up);
	c->up_phase = UPH_IDLE;
	c->up_reusable = false;
	c->up_used = false;
	c->up_writable = false;
	c->resolve_seq++;	/* a lookup in flight is now stale */
	buf_clear(&c->u_in);
	conn_buf_release(c, &c->u_in);
}

/* Record why the upstream failed; answered by conn_wait_upstream(). */
static void PRINTF(4, 5)
fail(struct conn *c, int status, const char *reason, const char *fmt, ...)
{
	va_list ap;

	ep_close(c, &c->up);
	c->up_phase = UPH_FAILED;
	c->up_fail_status = status;
	c->up_fail_reason = reason;
	va_start(ap, fmt);
	vsnprintf(c->up_fail_detail, sizeof(c->up_fail_detail), fmt, ap);
	va_end(ap);
}

bool
upstream_matches(const struct conn *c, enum up_purpose purpose,
    const char *host, const struct addr *ip, uint16_t port)
{
	if (c->up_phase == UPH_IDLE || c->up_purpose != purpose ||
	    c->up_port != port)
		return false;
	if (host != NULL)
		return strcmp(c->up_host, host) == 0;
	return c->up_host[0] == '\0' && ip != NULL &&
	    addr_equal(&c->up_addr, ip);
}

/*
 * What is known of the flow when an address is judged: the request that
 * waits for this upstream (its path and method count), or, dialled ahead
 * of any request or for a splice, the connection stage.
 */
static void
dial_query(const struct conn *c, struct policy_query *q)
{
	memset(q, 0, sizeof(*q));
	q->host = c->up_host[0] ? c->up_host : NULL;
	q->port = c->up_port;
	if (c->up_purpose != UP_SPLICE && c->x.active && c->x.url != NULL) {
		q->request = true;
		q->path = c->x.url + c->x.path_off;
		q->method = c->x.method_bit;
	}
	conn_vm_query(c, q);
}

static bool
judge(const struct conn *c, const struct addr *a, struct dial_verdict *dv)
{
	struct policy_query q;

	dial_query(c, &q);
	return dial_judge(c->grp->cfg, &q, a, dv);
}

/* Keep a 403 for address a, named by the refusal (the audit's rule). */
static void
refuse_addr(struct conn *c, const struct addr *a,
    const struct dial_verdict *dv)
{
	char abuf[ADDR_STRLEN], why[160];

	dial_label(dv, c->up_fail_rule, sizeof(c->up_fail_rule));
	dial_explain(dv, why, sizeof(why));
	addr_ntop(a, abuf, sizeof(abuf));
	if (c->up_host[0] != '\0')
		fail(c, 403, "destination refused", "%s resolves to %s, "
		    "which is %s.", c->up_host, abuf, why);
	else
		fail(c, 403, "destination refused", "%s is %s.", abuf, why);
}

static void
pick_address(struct conn *c, const struct resolve_result *res)
{
	struct dial_verdict dv, first = { 0 };
	size_t i, nrefused = 0;

	/* The original destination, if the name really points there. */
	for (i = 0; i < res->naddrs; i++) {
		if (addr_equal(&res->addrs[i], &c->dst) &&
		    judge(c, &res->addrs[i], &dv)) {
			c->up_addr = res->addrs[i];
			dial(c);
			return;
		}
	}
	for (i = 0; i < res->naddrs; i++) {
		if (judge(c, &res->addrs[i], &dv)) {
			c->up_addr = res->addrs[i];
			dial(c);
			return;
		}
		if (nrefused++ == 0)
			first = dv;
	}
	if (res->naddrs == 0) {
		fail(c, 502, "name resolution failed", "%s resolves to no "
		    "address", c->up_host);
		return;
	}
	/* Every answer refused: the first one's reason. */
	refuse_addr(c, &res->addrs[0], &first);
}

int
upstream_recheck(struct conn *c)
{
	struct dial_verdict dv;

	/* Still resolving: the address is judged with the request when it
	 * is picked.  Failed: answered as it is. */
	if (c->up_phase != UPH_CONNECT && c->up_phase != UPH_TLS &&
	    c->up_phase != UPH_READY)
		return 0;
	if (judge(c, &c->up_addr, &dv))
		return 0;
	refuse_addr(c, &c->up_addr, &dv);
	return -1;
}

static void
resolved(struct conn *c, const struct resolve_result *res)
{
	if (res->error != 0)
		fail(c, 502, "name resolution failed", "cannot resolve %s: %s",
		    c->up_host, resolver_strerror(res->error));
	else
		pick_address(c, res);
}

static void
resolve_done_cb(struct loop *loop, void *arg)
{
	struct resolve_job *job = arg;
	struct conn *c = job->conn;

	if (c->state != CONN_CLOSED && c->up_phase == UPH_RESOLVE &&
	    job->seq == c->resolve_seq) {
		resolved(c, &job->res);
		conn_progress(c);
	}
	conn_release(c);
	free(job);
}

/* Resolver thread: hand the answer to the connection's own loop. */
static void
resolve_cb(void *arg, const struct resolve_result *res)
{
	struct resolve_job *job = arg;

	job->res = *res;
	loop_post(job->conn->worker->loop, resolve_done_cb, job);
}

void
upstream_start(struct conn *c, enum up_purpose purpose, const char *host,
    uint16_t port)
{
	struct gw *gw = c->worker->gw;
	struct resolve_result res;
	struct resolve_job *job;
	struct dial_verdict dv;

	c->up_purpose = purpose;
	c->up_port = port;
	c->up_used = false;
	c->up_verify_error[0] = '\0';
	c->up_fail_rule[0] = '\0';
	util_strlcpy(c->up_host, host ? host : "", sizeof(c->up_host));
	c->up_deadline = loop_now(c->worker->loop) +
	    c->rt->cfg->limits.connect_timeout_ms;
	if (host == NULL) {
		/* An address: HTTP set up_addr from the literal, TLS dials
		 * the original destination. */
		if (purpose != UP_HTTP)
			c->up_addr = c->dst;
		if (!judge(c, &c->up_addr, &dv)) {
			refuse_addr(c, &c->up_addr, &dv);
			return;
		}
		dial(c);
		return;
	}
	c->up_phase = UPH_RESOLVE;
	job = xcalloc(1, sizeof(*job));
	job->conn = c;
	job->seq = ++c->resolve_seq;
	c->holds++;
	switch (resolver_lookup(gw->resolver, &c->src,
	    c->rt->cfg->limits.lookups_per_guest, host, &res, resolve_cb,
	    job)) {
	case RESOLVE_QUEUED:
		stats_inc(c->worker->stats, ST_RESOLVE_QUEUED);
		return;
	case RESOLVE_CACHED:
		stats_inc(c->worker->stats, ST_RESOLVE_CACHED);
		c->holds--;
		free(job);
		resolved(c, &res);
		return;
	case RESOLVE_OVER_QUOTA:
		stats_inc(c->worker->stats, ST_RESOLVE_OVER_QUOTA);
		c->holds--;
		free(job);
		fail(c, 503, "too many name lookups", "this guest already has "
		    "%u name lookups waiting (limits.lookups_per_guest)",
		    c->rt->cfg->limits.lookups_per_guest);
		return;
	}
}

static void
dial(struct conn *c)
{
	const struct gw_config *cfg = c->rt->cfg;
	struct sockaddr_storage ss;
	char abuf[ADDR_STRLEN];
	socklen_t sl;
	int fd, mark = (int)cfg->upstream_mark;

	c->up_addr.port = c->up_port;
	fd = socket(c->up_addr.family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto err;
	/* Never captured again by our own rules. */
	if (mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark,
	    sizeof(mark)) != 0)
		goto err;
	sl = addr_to_sockaddr(&c->up_addr, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 &&
	    errno != EINPROGRESS)
		goto err;
	if (conn_ep_open(c, &c->up, fd) != 0) {
		close(fd);
		fail(c, 502, "upstream connect failed", "cannot register the "
		    "upstream socket");
		return;
	}
	c->up_writable = false;
	c->up_phase = UPH_CONNECT;
	c->t_dial = loop_now_us(c->worker->loop);
	return;
err:
	fail(c, 502, "upstream connect failed", "connect to %s failed: %s",
	    addr_ntop_port(&c->up_addr, abuf, sizeof(abuf)), strerror(errno));
	if (fd != -1)
		close(fd);
}

static void
connect_step(struct conn *c)
{
	char abuf[ADDR_STRLEN], err[200];
	socklen_t sl = sizeof(int);
	int soerr = 0;
	BIO *bio;

	if (!c->up_writable)
		return;
	if (getsockopt(c->up.io.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr != 0) {
		fail(c, 502, "upstream connect failed", "connect to %s "
		    "failed: %s", addr_ntop_port(&c->up_addr, abuf,
		    sizeof(abuf)), strerror(soerr));
		return;
	}
	c->up.connected = true;
	c->t_tls = stats_since(c->worker->stats, SH_UP_CONNECT, c->t_dial,
	    loop_now_us(c->worker->loop));
	if (c->up_purpose != UP_HTTPS) {
		c->up_phase = UPH_READY;
		return;
	}
	bio = sockbio_new(c->up.io.fd, &c->up.rd_ready, &c->up.wr_ready);
	c->up.ssl = bio == NULL ? NULL : tls_upstream_new(c->rt->client_ctx,
	    bio, c->up_host[0] ? c->up_host : NULL, &c->up_addr, c->up_port,
	    err, sizeof(err));
	if (c->up.ssl == NULL) {
		fail(c, 502, "upstream TLS set-up failed", "%s",
		    bio == NULL ? "out of memory" : err);
		return;
	}
	tls_upstream_alpn(c->up.ssl, c->alpn_h2, c->alpn_http11);
	SSL_set_connect_state(c->up.ssl);
	c->up_phase = UPH_TLS;
}

static void
tls_step(struct conn *c)
{
	char why[200];
	long vr;
	int r, err;

	ERR_clear_error();
	r = SSL_do_handshake(c->up.ssl);
	if (r == 1) {
		(void)stats_since(c->worker->stats, SH_UP_TLS, c->t_tls,
		    loop_now_us(c->worker->loop));
		c->up_phase = UPH_READY;
		return;
	}
	err = SSL_get_error(c->up.ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return;
	tls_upstream_failure(c->up.ssl, why, sizeof(why));
	vr = SSL_get_verify_result(c->up.ssl);
	if (vr != X509_V_OK) {
		util_strlcpy(c->up_verify_error,
		    X509_verify_cert_error_string(vr),
		    sizeof(c->up_verify_error));
	}
	fail(c, 502, "upstream TLS verification failed", "The gateway did "
	    "not forward the request: the TLS connection to %s could not be "
	    "verified (%s).", c->up_host[0] ? c->up_host : "the destination",
	    why);
}

void
upstream_step(struct conn *c)
{
	if (c->up_phase == UPH_CONNECT)
		connect_step(c);
	if (c->up_phase == UPH_TLS)
		tls_step(c);
}

void
upstream_check_timeout(struct conn *c, uint64_t now)
{
	if ((c->up_phase == UPH_RESOLVE || c->up_phase == UPH_CONNECT ||
	    c->up_phase == UPH_TLS) && now >= c->up_deadline) {
		c->resolve_seq++;
		fail(c, 504, "upstream connect timeout", "The gateway could "
		    "not reach %s in time.", c->up_host[0] ? c->up_host :
		    "the destination");
		/* a guest handshake waits for it too (ALPN mirroring) */
		if (c->state == CONN_WAIT_UP || c->state == CONN_TLS_ACCEPT)
			conn_progress(c);
	}
}

/* Answer the guest for a failed upstream: a reply, or an alert. */
static int
refuse(struct conn *c)
{
	struct exchange *x = &c->x;
	int status = c->up_fail_status;

	if (c->up_purpose == UP_SPLICE) {
		util_strlcpy(x->reason, c->up_fail_detail, sizeof(x->reason));
		conn_tls_refuse(c, c->up_fail_reason);
		return -1;
	}
	if (status == 502 || status == 504)
		stats_inc(c->worker->stats, ST_UPSTREAM_FAILED);
	c->must_close = true;
	if (status == 403) {
		x->action = "TCP_DENIED";
		if (c->up_fail_rule[0] != '\0')
			x->rule = c->up_fail_rule;
	}
	util_strlcpy(x->reason, c->up_fail_detail, sizeof(x->reason));
	util_strlcpy(x->verify_error, c->up_verify_error,
	    sizeof(x->verify_error));
	buf_free(&c->to_up);	/* nothing of the request was sent */
	c->up_phase = UPH_IDLE;
	conn_reply(c, status, c->up_fail_reason, "%s\n", c->up_fail_detail);
	return 1;
}

int
conn_wait_upstream(struct conn *c)
{
	switch (c->up_phase) {
	case UPH_READY:
		break;
	case UPH_FAILED:
		return refuse(c);
	case UPH_IDLE:
		WRONG("waiting for an upstream that was never started");
	default:
		return 0;
	}
	conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
	if (c->up_purpose == UP_SPLICE) {
		conn_set_state(c, CONN_TUNNEL);
		return 1;
	}
	c->up_used = true;
	c->up_reusable = true;
	conn_set_state(c, CONN_EXCHANGE);
	return 1;
}
