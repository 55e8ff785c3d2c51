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
#include "upstream.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "connlog.h"
#include "dialpolicy.h"
#include "log.h"
#include "resolver.h"
#include "runtime.h"
#include "sockbio.h"
#include "stats.h"
#include "tls.h"
#include "worker.h"

struct resolve_job {
	struct upstream		*up;
	uint64_t		seq;
	struct resolve_result	res;
};

static void dial(struct upstream *u);

static const char *const phase_names[] = {
	[UPH_IDLE]	= "idle",
	[UPH_RESOLVE]	= "resolve",
	[UPH_CONNECT]	= "connect",
	[UPH_TLS]	= "tls",
	[UPH_READY]	= "ready",
	[UPH_FAILED]	= "failed",
};

static const char *const fail_names[] = {
	[UPF_NONE]		= "no failure",
	[UPF_REFUSED]		= "destination refused",
	[UPF_RESOLVE]		= "name resolution failed",
	[UPF_LOOKUP_QUOTA]	= "too many name lookups",
	[UPF_CONNECT]		= "upstream connect failed",
	[UPF_TLS_SETUP]		= "upstream TLS set-up failed",
	[UPF_TLS_VERIFY]	= "upstream TLS verification failed",
	[UPF_TIMEOUT]		= "upstream connect timeout",
};

const char *
upstream_phase_str(enum up_phase p)
{
	return (size_t)p < ARRAY_SIZE(phase_names) ? phase_names[p] : "?";
}

const char *
upstream_fail_str(enum up_fail f)
{
	return (size_t)f < ARRAY_SIZE(fail_names) ? fail_names[f] : "?";
}

/* The one way the phase changes (traced at debug level). */
static void
set_phase(struct upstream *u, enum up_phase p)
{
	if (u->phase != p && log_enabled(LOG_LVL_DEBUG))
		log_conn(LOG_LVL_DEBUG, u->id, u->guest, u->dst,
		    "upstream %s -> %s (%s)", upstream_phase_str(u->phase),
		    upstream_phase_str(p), u->host ? u->host : "address");

	u->phase = p;
}

void
upstream_init(struct upstream *u, uint64_t id, struct loop *loop,
    struct endpoint *ep, loop_io_cb io_cb, const struct upstream_ops *ops,
    void *owner)
{
	memset(u, 0, sizeof(*u));
	u->id = id;
	u->loop = loop;
	u->ep = ep;
	u->io_cb = io_cb;
	u->ops = ops;
	u->owner = owner;
}

void
upstream_bind(struct upstream *u, struct gw *gw, struct stats_shard *stats,
    struct runtime *rt,
    const struct group_config *group, const struct addr *guest,
    const struct addr *dst)
{
	u->gw = gw;
	u->stats = stats;
	u->rt = rt;
	u->group = group;
	u->guest = guest;
	u->dst = dst;
}

void
upstream_failure_taken(struct upstream *u)
{
	set_phase(u, UPH_IDLE);
}

/* Below this much idleness a server has not closed a kept-alive
 * connection (keep-alive timeouts are seconds), and the resend-once rule
 * covers the rare exception: skip the check and its syscall. */
#define IDLE_CHECK_MS	1000

bool
upstream_idle_alive(struct upstream *u, uint64_t now)
{
	char byte;
	ssize_t n;

	if (u->ep->eof || buf_len(&u->ep->in) > 0)
		return false;
	if (u->ep->ssl != NULL && SSL_pending(u->ep->ssl) > 0)
		return false;
	if (now < u->last_used + IDLE_CHECK_MS)
		return true;
	/* An idle upstream has nothing to say: EOF or stray bytes mean it
	 * is closing or out of step, so it must not carry a new request. */
	n = recv(u->ep->io.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void
upstream_close(struct upstream *u)
{
	ep_close(u->ep);	/* unread input dropped with it */
	set_phase(u, UPH_IDLE);
	u->reusable = false;
	u->used = false;
	u->writable = false;
	u->resolve_seq++;	/* a lookup in flight is now stale */
	free(u->fail);
	u->fail = NULL;
}

void
upstream_fini(struct upstream *u)
{
	free(u->host);
	u->host = NULL;
	free(u->fail);
	u->fail = NULL;
}

/* The failure's account, made when the first fact of it is known. */
static struct up_failure *
failure(struct upstream *u)
{
	if (u->fail == NULL)
		u->fail = xcalloc(1, sizeof(*u->fail));
	return u->fail;
}

/* Record why the upstream failed; the owner answers it. */
static void PRINTF(4, 5)
fail(struct upstream *u, int status, enum up_fail reason, const char *fmt,
    ...)
{
	va_list ap;

	ep_close(u->ep);
	set_phase(u, UPH_FAILED);
	failure(u)->status = status;
	u->fail->reason = reason;
	va_start(ap, fmt);
	vsnprintf(u->fail->detail, sizeof(u->fail->detail), fmt, ap);
	va_end(ap);
	log_conn(LOG_LVL_DEBUG, u->id, u->guest, u->dst, "upstream failed: "
	    "%d %s: %s", status, upstream_fail_str(reason), u->fail->detail);
}

bool
upstream_matches(const struct upstream *u, enum up_purpose purpose,
    const char *host, const struct addr *ip, uint16_t port)
{
	if (u->phase == UPH_IDLE || u->purpose != purpose ||
	    u->port != port)
		return false;
	if (host != NULL)
		return u->host != NULL && strcmp(u->host, host) == 0;
	return u->host == NULL && ip != NULL &&
	    addr_equal(&u->addr, ip);
}

/*
 * What is known of the flow when an address is judged: the request that
 * waits for this upstream (its path and method count), or, dialled ahead
 * of any request or for a splice, the connection stage.
 */
static void
dial_query(const struct upstream *u, struct policy_query *q)
{
	memset(q, 0, sizeof(*q));
	q->host = u->host;
	q->port = u->port;
	u->ops->query(u->owner, q);
}

static bool
judge(const struct upstream *u, const struct addr *a, struct dial_verdict *dv)
{
	struct policy_query q;

	dial_query(u, &q);
	return dial_judge(u->group, &q, a, dv);
}

/* Keep a 403 for address a, named by the refusal (the audit's rule). */
static void
refuse_addr(struct upstream *u, const struct addr *a,
    const struct dial_verdict *dv)
{
	char abuf[ADDR_STRLEN], why[160];

	dial_label(dv, failure(u)->rule, sizeof(u->fail->rule));
	dial_explain(dv, why, sizeof(why));
	addr_ntop(a, abuf, sizeof(abuf));
	if (u->host != NULL)
		fail(u, 403, UPF_REFUSED, "%s resolves to %s, "
		    "which is %s.", u->host, abuf, why);
	else
		fail(u, 403, UPF_REFUSED, "%s is %s.", abuf, why);
}

static void
pick_address(struct upstream *u, const struct resolve_result *res)
{
	struct dial_verdict dv, first = { 0 };
	size_t i, nrefused = 0;

	/* The original destination, if the name really points there. */
	for (i = 0; i < res->naddrs; i++) {
		if (addr_equal(&res->addrs[i], u->dst) &&
		    judge(u, &res->addrs[i], &dv)) {
			u->addr = res->addrs[i];
			dial(u);
			return;
		}
	}
	for (i = 0; i < res->naddrs; i++) {
		if (judge(u, &res->addrs[i], &dv)) {
			u->addr = res->addrs[i];
			dial(u);
			return;
		}
		if (nrefused++ == 0)
			first = dv;
	}
	if (res->naddrs == 0) {
		fail(u, 502, UPF_RESOLVE, "%s resolves to no "
		    "address", u->host);
		return;
	}
	/* Every answer refused: the first one's reason. */
	refuse_addr(u, &res->addrs[0], &first);
}

bool
upstream_recheck(struct upstream *u)
{
	struct dial_verdict dv;

	/* Still resolving: the address is judged with the request when it
	 * is picked.  Failed: answered as it is. */
	if (u->phase != UPH_CONNECT && u->phase != UPH_TLS &&
	    u->phase != UPH_READY)
		return true;
	if (judge(u, &u->addr, &dv))
		return true;
	refuse_addr(u, &u->addr, &dv);
	return false;
}

static void
resolved(struct upstream *u, const struct resolve_result *res)
{
	if (res->error != 0)
		fail(u, 502, UPF_RESOLVE, "cannot resolve %s: %s",
		    u->host, resolver_strerror(res->error));
	else
		pick_address(u, res);
}

static void
resolve_done_cb(struct loop *loop, void *arg)
{
	struct resolve_job *job = arg;
	struct upstream *u = job->up;
	void *owner = u->owner;

	/* A closed or restarted upstream has a new resolve_seq. */
	if (u->phase == UPH_RESOLVE && job->seq == u->resolve_seq) {
		resolved(u, &job->res);
		u->ops->event(owner, UPSTREAM_EV_RESOLVED);
	}
	free(job);
	u->ops->release(owner);	/* may free u */
}

/* Resolver thread: hand the answer to the connection's own loop. */
static void
resolve_cb(void *arg, const struct resolve_result *res)
{
	struct resolve_job *job = arg;

	job->res = *res;
	loop_post(job->up->loop, resolve_done_cb, job);
}

void
upstream_start(struct upstream *u, enum up_purpose purpose, const char *host,
    uint16_t port)
{
	struct gw *gw = u->gw;
	struct resolve_result res;
	struct resolve_job *job;
	struct dial_verdict dv;

	u->purpose = purpose;
	u->port = port;
	u->used = false;
	free(u->fail);		/* a new attempt, a new account */
	u->fail = NULL;
	if (host != u->host) {	/* a retry passes the name it has */
		free(u->host);
		u->host = host ?
		    xstrndup(host, strnlen(host, HOST_MAX)) : NULL;
	}
	u->deadline = loop_now(u->loop) +
	    u->rt->cfg->limits.connect_timeout_ms;
	if (host == NULL) {
		/* An address: HTTP set up_addr from the literal, TLS dials
		 * the original destination. */
		if (purpose != UP_HTTP)
			u->addr = *u->dst;
		if (!judge(u, &u->addr, &dv)) {
			refuse_addr(u, &u->addr, &dv);
			return;
		}
		dial(u);
		return;
	}
	set_phase(u, UPH_RESOLVE);
	job = xcalloc(1, sizeof(*job));
	job->up = u;
	job->seq = ++u->resolve_seq;
	u->ops->hold(u->owner);
	switch (resolver_lookup(gw->resolver, u->guest,
	    u->rt->cfg->limits.lookups_per_guest, host, &res, resolve_cb,
	    job)) {
	case RESOLVE_QUEUED:
		stats_inc(u->stats, ST_RESOLVE_QUEUED);
		return;
	case RESOLVE_CACHED:
		stats_inc(u->stats, ST_RESOLVE_CACHED);
		free(job);
		u->ops->release(u->owner);
		resolved(u, &res);
		return;
	case RESOLVE_OVER_QUOTA:
		stats_inc(u->stats, ST_RESOLVE_OVER_QUOTA);
		free(job);
		u->ops->release(u->owner);
		fail(u, 503, UPF_LOOKUP_QUOTA, "this guest already has "
		    "%u name lookups waiting (limits.lookups_per_guest)",
		    u->rt->cfg->limits.lookups_per_guest);
		return;
	}
}

static void
dial(struct upstream *u)
{
	const struct gw_config *cfg = u->rt->cfg;
	struct sockaddr_storage ss;
	char abuf[ADDR_STRLEN];
	socklen_t sl;
	int fd, mark = (int)cfg->upstream_mark;

	u->addr.port = u->port;
	fd = socket(u->addr.family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto err;
	/* Never captured again by our own rules. */
	if (mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark,
	    sizeof(mark)) != 0)
		goto err;
	sl = addr_to_sockaddr(&u->addr, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 &&
	    errno != EINPROGRESS)
		goto err;
	if (ep_open(u->ep, u->loop, fd, u->io_cb) != 0) {
		close(fd);
		fail(u, 502, UPF_CONNECT, "cannot register the "
		    "upstream socket");
		return;
	}
	u->writable = false;
	set_phase(u, UPH_CONNECT);
	u->t_dial = loop_now_us(u->loop);
	return;
err:
	fail(u, 502, UPF_CONNECT, "connect to %s failed: %s",
	    addr_ntop_port(&u->addr, abuf, sizeof(abuf)), strerror(errno));
	if (fd != -1)
		close(fd);
}

static void
connect_step(struct upstream *u)
{
	char abuf[ADDR_STRLEN], err[200];
	socklen_t sl = sizeof(int);
	int soerr = 0;
	BIO *bio;

	if (!u->writable)
		return;
	if (getsockopt(u->ep->io.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr != 0) {
		fail(u, 502, UPF_CONNECT, "connect to %s "
		    "failed: %s", addr_ntop_port(&u->addr, abuf,
		    sizeof(abuf)), strerror(soerr));
		return;
	}
	u->ep->connected = true;
	u->t_tls = stats_since(u->stats, SH_UP_CONNECT, u->t_dial,
	    loop_now_us(u->loop));
	if (u->purpose != UP_HTTPS) {
		set_phase(u, UPH_READY);
		return;
	}
	bio = sockbio_new(u->ep->io.fd, &u->ep->rd_ready, &u->ep->wr_ready);
	u->ep->ssl = bio == NULL ? NULL : tls_upstream_new(u->rt->client_ctx,
	    bio, u->host, &u->addr, u->port,
	    err, sizeof(err));
	if (u->ep->ssl == NULL) {
		fail(u, 502, UPF_TLS_SETUP, "%s",
		    bio == NULL ? "out of memory" : err);
		return;
	}
	tls_upstream_alpn(u->ep->ssl, u->alpn_h2, u->alpn_http11);
	SSL_set_connect_state(u->ep->ssl);
	set_phase(u, UPH_TLS);
}

static void
tls_step(struct upstream *u)
{
	char why[200];
	long vr;
	int r, err;

	ERR_clear_error();
	r = SSL_do_handshake(u->ep->ssl);
	if (r == 1) {
		(void)stats_since(u->stats, SH_UP_TLS, u->t_tls,
		    loop_now_us(u->loop));
		set_phase(u, UPH_READY);
		return;
	}
	err = SSL_get_error(u->ep->ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return;
	tls_upstream_failure(u->ep->ssl, why, sizeof(why));
	vr = SSL_get_verify_result(u->ep->ssl);
	if (vr != X509_V_OK) {
		util_strlcpy(failure(u)->verify_error,
		    X509_verify_cert_error_string(vr),
		    sizeof(u->fail->verify_error));
	}
	fail(u, 502, UPF_TLS_VERIFY, "The gateway did "
	    "not forward the request: the TLS connection to %s could not be "
	    "verified (%s).", u->host ? u->host : "the destination",
	    why);
}

void
upstream_step(struct upstream *u)
{
	if (u->phase == UPH_CONNECT)
		connect_step(u);
	if (u->phase == UPH_TLS)
		tls_step(u);
}

void
upstream_check_timeout(struct upstream *u, uint64_t now)
{
	if ((u->phase == UPH_RESOLVE || u->phase == UPH_CONNECT ||
	    u->phase == UPH_TLS) && now >= u->deadline) {
		u->resolve_seq++;
		fail(u, 504, UPF_TIMEOUT, "The gateway could "
		    "not reach %s in time.", u->host ? u->host :
		    "the destination");
		u->ops->event(u->owner, UPSTREAM_EV_TIMEOUT);
	}
}
