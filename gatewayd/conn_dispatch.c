/*
 * conn_dispatch.c - the top of a connection: its events, the step table
 * run until the connection blocks, and the deadlines enforced.
 *
 * Handlers are edge-triggered and every step runs until it blocks, so
 * conn_progress() can be called after any event on either socket: each
 * step looks at what it can do now and does all of it.  The steps below
 * never call back up here: they change the state and return.
 */
#include "conn_dispatch.h"
#include "conn_exchange.h"
#include "conn_h2.h"
#include "conn_http.h"
#include "conn_tls.h"
#include "conn_tunnel.h"
#include "conn_wait.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "reply.h"
#include "runtime.h"
#include "worker.h"

static void
io_event(struct conn *c, struct endpoint *e, uint32_t events)
{
	AN(c->magic == CONN_MAGIC);
	if (c->state == CONN_CLOSED)
		return;		/* stale event in the same batch */
	ep_events(e, events);
	if (e == &c->up && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		c->upstream.writable = true;
	conn_progress(c);
}

static void
client_io_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct conn *c = (struct conn *)((char *)io -
	    offsetof(struct conn, client));

	io_event(c, &c->client, events);
}

static void
up_io_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct conn *c = (struct conn *)((char *)io -
	    offsetof(struct conn, up));

	io_event(c, &c->up, events);
}

static int
ep_register(struct conn *c, struct endpoint *e, int fd)
{
	if (ep_open(e, c->worker->loop, fd, e == &c->up ? up_io_cb :
	    client_io_cb) == 0)
		return 0;
	conn_log(c, LOG_LVL_WARN, "epoll add: %s", strerror(errno));
	return -1;
}

/*
 * A deadline that came and changed nothing (a reply still blocked on the
 * guest) is looked at again this much later, not at once.
 */
#define RECHECK_MS	250

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return a == 0 ? b : b == 0 ? a : MIN(a, b);
}

/*
 * Keep c's timer at its earliest deadline (after every step).  A deadline
 * already past is left for this wake-up's timers to run, unless it just
 * ran (recheck: from the timer itself), then it waits RECHECK_MS.
 */
static void
timer_update(struct conn *c, bool recheck)
{
	const struct upstream *u = &c->upstream;
	uint64_t now = loop_now(c->worker->loop), when = c->deadline;

	if (u->phase == UPH_RESOLVE || u->phase == UPH_CONNECT ||
	    u->phase == UPH_TLS)
		when = earliest(when, u->deadline);
	if (c->state == CONN_REQ_HEAD && c->up.io.fd != -1)
		when = earliest(when, u->idle_deadline);
	if (recheck && when != 0 && when <= now)
		when = now + RECHECK_MS;
	loop_timer_set(c->worker->loop, &c->timer, when);
}

static void
timer_cb(struct timer *t, uint64_t now)
{
	struct conn *c = (struct conn *)((char *)t -
	    offsetof(struct conn, timer));

	AN(c->magic == CONN_MAGIC);
	conn_check_timeout(c, now);
	if (c->state != CONN_CLOSED)
		timer_update(c, true);
}

/* The upstream's news: a lookup answered, its phases timed out. */
static void
up_event(void *owner, enum upstream_event ev)
{
	struct conn *c = owner;

	if (c->state == CONN_CLOSED)
		return;
	/* a guest handshake waits for it too (ALPN mirroring) */
	if (ev == UPSTREAM_EV_TIMEOUT && c->state != CONN_WAIT_UP &&
	    c->state != CONN_TLS_ACCEPT)
		return;		/* answered when the guest side needs it */
	conn_progress(c);
}

static void
up_hold(void *owner)
{
	((struct conn *)owner)->holds++;
}

static void
up_release(void *owner)
{
	conn_release(owner);
}

/* The request an address is judged with, if one waits for it. */
static void
up_query(void *owner, struct policy_query *q)
{
	const struct conn *c = owner;

	if (c->upstream.purpose != UP_SPLICE && c->x.active &&
	    c->x.url != NULL) {
		q->request = true;
		q->path = c->x.url + c->x.path_off;
		q->method = c->x.method_bit;
	}
	conn_vm_query(c, q);
}

static const struct upstream_ops up_ops = {
	.event = up_event,
	.hold = up_hold,
	.release = up_release,
	.query = up_query,
};

struct conn *
conn_new(struct worker *w, struct runtime *rt, const struct group_rt *grp,
    int fd, const struct addr *src, const struct addr *dst, bool tls_port)
{
	struct conn *c = conn_alloc(w, rt, grp, src, dst, tls_port);

	timer_init(&c->timer, timer_cb);

	upstream_init(&c->upstream, c->id, w->loop, &c->up, up_io_cb, &up_ops,
	    c);
	upstream_bind(&c->upstream, w->gw, w->stats, c->rt, grp->cfg, &c->src,
	    &c->dst);
	if (ep_register(c, &c->client, fd) != 0) {
		close(fd);
		conn_close(c, CONN_END_REGISTER);
		return NULL;
	}
	conn_set_timeout(c, rt->cfg->limits.header_timeout_ms);
	conn_log(c, LOG_LVL_DEBUG, "new, group %s %s", grp->cfg->name,
	    tls_port ? "tls" : "http");
	conn_progress(c);
	return c;
}

/* A step yielded: go on after the other connections' events. */
static void
resume_cb(struct loop *loop, void *arg)
{
	struct conn *c = arg;

	if (c->state != CONN_CLOSED)
		conn_progress(c);
	conn_release(c);
}

/* The step of each state (CONN_CLOSED has none). */
static enum step (*const steps[])(struct conn *) = {
	[CONN_PEEK]		= conn_tls_peek,
	[CONN_TLS_ACCEPT]	= conn_tls_accept,
	[CONN_REQ_HEAD]		= conn_http_request,
	[CONN_WAIT_UP]		= conn_wait_upstream,
	[CONN_EXCHANGE]		= conn_http_exchange,
	[CONN_REPLY]		= conn_http_reply,
	[CONN_TUNNEL]		= conn_tunnel,
	[CONN_LINGER]		= conn_linger,
	[CONN_H2]		= conn_h2_step,
};

void
conn_progress(struct conn *c)
{
	enum step r;

	if (c->upstream.phase == UPH_CONNECT || c->upstream.phase == UPH_TLS)
		upstream_step(&c->upstream);
	do {
		if ((size_t)c->state >= ARRAY_SIZE(steps) ||
		    steps[c->state] == NULL)
			break;		/* closed */
		r = steps[c->state](c);
	} while (r == STEP_PROGRESS && c->state != CONN_CLOSED);
	if (c->state != CONN_CLOSED)
		timer_update(c, false);
	if (c->yield && c->state != CONN_CLOSED) {
		c->yield = false;
		c->holds++;
		loop_post(c->worker->loop, resume_cb, c);
	}
}

void
conn_check_timeout(struct conn *c, uint64_t now)
{
	upstream_check_timeout(&c->upstream, now);
	if (c->state == CONN_CLOSED)
		return;
	/* A kept-alive upstream waiting for the guest's next request is
	 * the heavier half of an idle connection: let it go early. */
	if (c->state == CONN_REQ_HEAD && c->up.io.fd != -1 &&
	    c->upstream.idle_deadline != 0 && now >= c->upstream.idle_deadline &&
	    buf_len(&c->client.in) == 0) {
		upstream_close(&c->upstream);
		buf_free(&c->retry_head);
	}
	if (c->state == CONN_H2) {
		/* its own deadline; the streams have timers of their own,
		 * which run this to write what they queued */
		conn_h2_timeout(c, now);
		if (c->state != CONN_CLOSED)
			conn_progress(c);
		return;
	}
	if (c->deadline == 0 || now < c->deadline)
		return;
	switch (c->state) {
	case CONN_REQ_HEAD:
		if (buf_len(&c->client.in) == 0) {
			conn_close(c, c->requests ? CONN_END_IDLE_KEEPALIVE :
			    CONN_END_NO_REQUEST);
			return;
		}
		c->must_close = true;
		reply_send(c, 408, "request head not received in time",
		    "The request was not received in time.\n");
		break;
	case CONN_EXCHANGE:
		if (!c->x.resp_head_done && c->x.req_done) {
			upstream_close(&c->upstream);
			c->must_close = true;
			reply_send(c, 504, "upstream response timeout",
			    "%s did not answer in time.\n",
			    c->upstream.host ? c->upstream.host : "The destination");
			break;
		}
		conn_close(c, c->x.resp_head_done ? CONN_END_RESPONSE_TIMEOUT :
		    CONN_END_IDLE);
		return;
	default:
		conn_close(c, c->state == CONN_PEEK ? CONN_END_NO_HELLO :
		    c->state == CONN_TLS_ACCEPT ? CONN_END_HANDSHAKE_TIMEOUT :
		    CONN_END_IDLE);
		return;
	}
	conn_progress(c);
}
