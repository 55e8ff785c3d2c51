/*
 * conn.c - the connection's life cycle: allocation, the one state setter,
 * the deadline setter, the single teardown conn_close(c, why) and the
 * lingering close.  See conn.h for the split of the work.
 */
#include "conn.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "conn_audit.h"
#include "conn_secrets.h"
#include "connlog.h"
#include "leafcache.h"
#include "log.h"
#include "runtime.h"
#include "slicer.h"
#include "worker.h"

#define LINGER_MS	2000

static const char *const state_names[] = {
	[CONN_PEEK]		= "peek",
	[CONN_TLS_ACCEPT]	= "tls-accept",
	[CONN_REQ_HEAD]		= "request-head",
	[CONN_WAIT_UP]		= "wait-upstream",
	[CONN_EXCHANGE]		= "exchange",
	[CONN_REPLY]		= "reply",
	[CONN_TUNNEL]		= "tunnel",
	[CONN_LINGER]		= "linger",
	[CONN_CLOSED]		= "closed",
	[CONN_H2]		= "h2",
};

void
conn_log(const struct conn *c, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_connv(level, c->id, &c->src, &c->dst, fmt, ap);
	va_end(ap);
}

const char *
conn_state_str(enum conn_state s)
{
	return (size_t)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

void
conn_set_state(struct conn *c, enum conn_state s)
{
	if (log_enabled(LOG_LVL_DEBUG))
		conn_log(c, LOG_LVL_DEBUG, "%s -> %s",
		    conn_state_str(c->state), conn_state_str(s));
	c->state = s;
}

void
conn_set_timeout(struct conn *c, uint64_t ms)
{
	c->deadline = ms ? loop_now(c->worker->loop) + ms : 0;
}

/* The worker's list of its connections (for shutdown and the sweep). */
static void
list_add(struct worker *w, struct conn *c)
{
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
}

static void
list_remove(struct worker *w, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->nconns--;
}

struct conn *
conn_alloc(struct worker *w, struct runtime *rt, const struct group_rt *grp,
    const struct addr *src, const struct addr *dst, bool tls_port)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->magic = CONN_MAGIC;
	c->id = ((uint64_t)w->idx << 48) | ++w->next_id;
	c->worker = w;
	c->rt = runtime_ref(rt);
	c->grp = grp;
	c->src = *src;
	c->vm = slicer_lookup(src);	/* NULL: no Slicer, or not on its map */
	c->dst = *dst;
	c->tls_port = tls_port;
	c->started_ms = util_wall_ms();
	ep_init(&c->client, &w->bufs);
	ep_init(&c->up, &w->bufs);
	c->holds = 1;
	/* The upstream head and its resend copy carry an injected
	 * credential: no copy of them may outlive its use. */
	c->to_up.sensitive = true;
	c->retry_head.sensitive = true;
	c->state = tls_port ? CONN_PEEK : CONN_REQ_HEAD;
	atomic_fetch_add(&w->gw->active, 1);
	list_add(w, c);
	return c;
}

static void
free_cb(struct loop *loop, void *arg)
{
	conn_release(arg);
}

void
conn_release(struct conn *c)
{
	AN(c->holds > 0);
	if (--c->holds > 0)
		return;
	AN(c->state == CONN_CLOSED);
	c->magic = 0;
	slicer_vm_unref(c->vm);
	upstream_fini(&c->upstream);
	free(c->sni);
	free(c);
}

void
conn_close(struct conn *c, enum conn_end why)
{
	struct gw *gw = c->worker->gw;

	if (c->state == CONN_CLOSED)
		return;
	c->end = why;
	/* A request in flight is logged as such (one a 101 upgraded, at its
	 * tunnel's end, with the tunnel's bytes); a TLS flow that never
	 * reached HTTP (spliced, refused, failed handshake) as a tunnel. */
	if (c->x.active)
		conn_audit_exchange(c, &c->x);
	else if (c->spliced || (c->tls_port && c->requests == 0))
		conn_audit_tunnel(c, why);
	if (log_enabled(LOG_LVL_DEBUG))
		conn_log(c, LOG_LVL_DEBUG, "closed in %s after %u requests: "
		    "%s%s%s", conn_state_str(c->state),
		    c->requests, conn_end_str(why),
		    why == CONN_END_UPSTREAM_FAILED ? ": " : "",
		    why == CONN_END_UPSTREAM_FAILED ?
		    upstream_fail_str(c->upstream.fail->reason) : "");
	if (c->on_close != NULL)
		c->on_close(c);		/* HTTP/2: audits its open streams */
	conn_secrets_clear(&c->x);	/* wipes a credential line */
	exchange_reset(&c->x);
	if (c->leaf != NULL) {
		leaf_unref(c->leaf);
		c->leaf = NULL;
	}
	loop_timer_cancel(c->worker->loop, &c->timer);
	upstream_close(&c->upstream);	/* a lookup in flight goes stale */
	ep_close(&c->client);
	buf_free(&c->to_up);
	buf_free(&c->to_client);
	buf_free(&c->retry_head);
	gw_guest_release(gw, &c->src);
	atomic_fetch_sub(&gw->active, 1);
	list_remove(c->worker, c);
	conn_set_state(c, CONN_CLOSED);
	runtime_unref(c->rt);
	c->rt = NULL;
	c->grp = NULL;
	/* Other events of this batch may still point at c: free later. */
	loop_post(c->worker->loop, free_cb, c);
}

/* Start a graceful close once the final reply has been written. */
void
conn_start_linger(struct conn *c, enum conn_end why)
{
	c->end = why;
	upstream_close(&c->upstream);
	ep_shutdown(&c->client);
	conn_set_state(c, CONN_LINGER);
	conn_set_timeout(c, LINGER_MS);
}
