/*
 * upstream.c - dial what the policy approved.
 *
 * A guest must not be able to name an allowed host and have the gateway
 * carry its bytes to an address of the guest's choosing: for a name, the
 * gateway resolves it itself and dials the original destination only if
 * it is among the answers, else the first answer; every address is
 * checked against the internal ranges (policy_dial_allowed()).  Own
 * connections carry SO_MARK so the capture rules never take them again.
 * Connect and the upstream TLS handshake are non-blocking with the
 * connection's deadline; a failed verification forwards nothing.
 */
#include "conn.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "resolver.h"
#include "sockbio.h"
#include "runtime.h"
#include "tls.h"
#include "worker.h"

struct resolve_job {
	struct conn		*conn;
	uint64_t		seq;
	struct resolve_result	res;
};

static int dial(struct conn *c);

bool
upstream_idle_alive(struct conn *c)
{
	char byte;
	ssize_t n;

	if (c->up.eof || buf_len(&c->u_in) > 0)
		return false;
	if (c->up.ssl != NULL && SSL_pending(c->up.ssl) > 0)
		return false;
	/* An idle upstream has nothing to say: EOF or stray bytes mean it
	 * is closing or out of step, so it must not carry a new request. */
	n = recv(c->up.io.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void
upstream_close(struct conn *c)
{
	ep_close(c, &c->up);
	c->up_reusable = false;
	c->up_writable = false;
	buf_clear(&c->u_in);
	conn_buf_release(c, &c->u_in);
}

/* Refuse the flow: a reply for HTTP, a TLS alert for a spliced flow. */
static int
refuse(struct conn *c, int status, const char *reason, const char *detail)
{
	if (c->up_purpose == UP_SPLICE) {
		util_strlcpy(c->x.reason, detail, sizeof(c->x.reason));
		conn_tls_refuse(c, reason);
		return -1;
	}
	if (status == 502 || status == 504)
		atomic_fetch_add(&c->worker->gw->stats.upstream_failed, 1);
	c->must_close = true;
	if (status == 403)
		c->x.action = "TCP_DENIED";
	util_strlcpy(c->x.reason, detail, sizeof(c->x.reason));
	conn_reply(c, status, reason, "%s\n", detail);
	return 1;
}

static int
pick_address(struct conn *c, const struct resolve_result *res)
{
	const struct policy *pol = &c->grp->cfg->policy;
	const char *range = NULL;
	char abuf[ADDR_STRLEN], detail[400];
	size_t i;

	/* The original destination, if the name really points there. */
	for (i = 0; i < res->naddrs; i++) {
		if (addr_equal(&res->addrs[i], &c->dst) &&
		    policy_dial_allowed(pol, &res->addrs[i], &range)) {
			c->up_addr = res->addrs[i];
			return 0;
		}
	}
	for (i = 0; i < res->naddrs; i++) {
		if (policy_dial_allowed(pol, &res->addrs[i], &range)) {
			c->up_addr = res->addrs[i];
			return 0;
		}
	}
	snprintf(detail, sizeof(detail), "%s resolves to %s, a %s address, "
	    "which egress policy does not allow", c->up_host,
	    res->naddrs ? addr_ntop(&res->addrs[0], abuf, sizeof(abuf)) :
	    "nothing", range ? range : "refused");
	return refuse(c, 403, "internal destination refused", detail);
}

static void
resolve_done_cb(struct loop *loop, void *arg)
{
	struct resolve_job *job = arg;
	struct conn *c = job->conn;

	if (c->state == CONN_RESOLVE && job->seq == c->resolve_seq) {
		if (job->res.error != 0) {
			char detail[300];

			snprintf(detail, sizeof(detail), "cannot resolve "
			    "%s: %s", c->up_host,
			    resolver_strerror(job->res.error));
			if (refuse(c, 502, "name resolution failed",
			    detail) > 0)
				conn_progress(c);
		} else {
			int r = pick_address(c, &job->res);

			if (r == 0)
				r = dial(c);
			if (r >= 0 && c->state != CONN_CLOSED)
				conn_progress(c);
		}
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

int
upstream_start(struct conn *c, enum up_purpose purpose, const char *host,
    uint16_t port)
{
	struct gw *gw = c->worker->gw;
	struct resolve_result res;
	struct resolve_job *job;
	const char *range = NULL;

	c->up_purpose = purpose;
	c->up_port = port;
	util_strlcpy(c->up_host, host ? host : "", sizeof(c->up_host));
	conn_set_timeout(c, c->rt->cfg->limits.connect_timeout_ms);
	if (host == NULL) {
		char abuf[ADDR_STRLEN], detail[200];

		/* An address: HTTP set up_addr from the literal, TLS dials
		 * the original destination. */
		if (purpose != UP_HTTP)
			c->up_addr = c->dst;
		if (!policy_dial_allowed(&c->grp->cfg->policy, &c->up_addr,
		    &range)) {
			snprintf(detail, sizeof(detail), "%s is a %s address, "
			    "which egress policy does not allow",
			    addr_ntop(&c->up_addr, abuf, sizeof(abuf)),
			    range ? range : "refused");
			return refuse(c, 403, "internal destination refused",
			    detail);
		}
		return dial(c);
	}
	job = xcalloc(1, sizeof(*job));
	job->conn = c;
	job->seq = ++c->resolve_seq;
	conn_set_state(c, CONN_RESOLVE);
	c->holds++;
	if (resolver_lookup(gw->resolver, host, &res, resolve_cb, job) == 0)
		return 0;
	/* Answered from the cache. */
	c->holds--;
	free(job);
	if (res.error != 0) {
		char detail[300];

		snprintf(detail, sizeof(detail), "cannot resolve %s: %s", host,
		    resolver_strerror(res.error));
		return refuse(c, 502, "name resolution failed", detail);
	}
	if (pick_address(c, &res) != 0)
		return c->state == CONN_CLOSED ? -1 : 1;
	return dial(c);
}

static int
dial(struct conn *c)
{
	const struct gw_config *cfg = c->rt->cfg;
	struct sockaddr_storage ss;
	char detail[300], abuf[ADDR_STRLEN];
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
		conn_close(c, "cannot register the upstream socket");
		return -1;
	}
	c->up_writable = false;
	conn_set_state(c, CONN_CONNECT);
	return 1;
err:
	snprintf(detail, sizeof(detail), "connect to %s failed: %s",
	    addr_ntop_port(&c->up_addr, abuf, sizeof(abuf)), strerror(errno));
	if (fd != -1)
		close(fd);
	return refuse(c, 502, "upstream connect failed", detail);
}

int
upstream_connect_step(struct conn *c)
{
	char detail[300], abuf[ADDR_STRLEN], err[200];
	socklen_t sl = sizeof(int);
	int soerr = 0;
	BIO *bio;

	if (!c->up_writable)
		return 0;
	if (getsockopt(c->up.io.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr != 0) {
		snprintf(detail, sizeof(detail), "connect to %s failed: %s",
		    addr_ntop_port(&c->up_addr, abuf, sizeof(abuf)),
		    strerror(soerr));
		upstream_close(c);
		return refuse(c, 502, "upstream connect failed", detail);
	}
	c->up.connected = true;
	switch (c->up_purpose) {
	case UP_SPLICE:
		conn_set_state(c, CONN_TUNNEL);
		conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
		return 1;
	case UP_HTTP:
		c->up_reusable = true;
		conn_set_state(c, CONN_EXCHANGE);
		conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
		return 1;
	case UP_HTTPS:
		bio = sockbio_new(c->up.io.fd, &c->up.rd_ready,
		    &c->up.wr_ready);
		if (bio == NULL) {
			upstream_close(c);
			return refuse(c, 502, "upstream TLS set-up failed",
			    "out of memory");
		}
		c->up.ssl = tls_upstream_new(c->rt->client_ctx, bio,
		    c->up_host[0] ? c->up_host : NULL, &c->up_addr,
		    c->up_port, err, sizeof(err));
		if (c->up.ssl == NULL) {
			upstream_close(c);
			return refuse(c, 502, "upstream TLS set-up failed",
			    err);
		}
		SSL_set_connect_state(c->up.ssl);
		conn_set_state(c, CONN_TLS_CONNECT);
		return 1;
	}
	return 0;
}

int
upstream_tls_step(struct conn *c)
{
	char why[200], detail[600];
	int r, err;

	ERR_clear_error();
	r = SSL_do_handshake(c->up.ssl);
	if (r == 1) {
		c->up_reusable = true;
		conn_set_state(c, CONN_EXCHANGE);
		conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
		return 1;
	}
	err = SSL_get_error(c->up.ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return 0;
	tls_upstream_failure(c->up.ssl, why, sizeof(why));
	if (SSL_get_verify_result(c->up.ssl) != X509_V_OK) {
		atomic_fetch_add(&c->worker->gw->stats.upstream_verify_failed,
		    1);
		util_strlcpy(c->x.verify_error, X509_verify_cert_error_string(
		    SSL_get_verify_result(c->up.ssl)),
		    sizeof(c->x.verify_error));
	}
	snprintf(detail, sizeof(detail), "The gateway did not forward the "
	    "request: the TLS connection to %s could not be verified (%s).",
	    c->up_host[0] ? c->up_host : "the destination", why);
	upstream_close(c);
	/* Nothing of the request was sent: it sits in to_up. */
	buf_free(&c->to_up);
	return refuse(c, 502, "upstream TLS verification failed", detail);
}
