/*
 * conn_h2.c - an intercepted HTTP/2 connection: the two sessions, their
 * I/O, the streams between them, per-stream deadlines and audit.  The
 * judgement of each request is conn_h2_req.c's.  See conn_h2.h.
 *
 * Deadlines: each stream has a timer on the worker's heap, the one the
 * connections' timers are on.  Progress (a frame either way) only moves
 * s->last_ms; the timer is moved when it comes due and finds progress
 * since (so a DATA frame costs no heap operation), and at once when
 * what the stream waits for changes (conn_h2_stream_arm), since that
 * may bring its deadline nearer.  The heap entry is therefore never
 * later than the deadline.  With no stream open, the connection's own
 * deadline (c->deadline, on the connection's timer) takes over.
 *
 * Relaying: a DATA chunk from one side is appended to the stream's queue
 * and the other session is told the body has more (h2_resume); when that
 * session packs the bytes into its own frames (read_body), the first
 * side is told they were consumed, which reopens its window.  A queue
 * thus never holds more than the window the gateway advertised, and
 * nothing is buffered whole.  Trailers follow the body in order.
 *
 * Not here: the ALPN choice (conn_tls.c, tls.c), HTTP/1.1 (conn_http.c).
 */
#include "conn_h2.h"

#include <stddef.h>
#include <stdio.h>

#include "conn_audit.h"
#include "conn_secrets.h"
#include "log.h"
#include "runtime.h"
#include "stats.h"
#include "worker.h"

#define H2_READ_CHUNK	16384
/* Rounds of read/write per wake-up: bounded, the rest on the next. */
#define H2_ROUNDS	64

static struct h2_stream *
by_gsid(struct h2conn *hc, int32_t sid)
{
	struct h2_stream *s;

	for (s = hc->streams; s != NULL; s = s->next)
		if (s->gsid == sid && s->g_open)
			return s;
	return NULL;
}

static struct h2_stream *
by_usid(struct h2conn *hc, int32_t sid)
{
	struct h2_stream *s;

	for (s = hc->streams; s != NULL && sid != 0; s = s->next)
		if (s->usid == sid && s->u_open)
			return s;
	return NULL;
}

void
h2_kept_set(struct h2_kept *k, const struct h2_field *f, size_t n,
    bool skip_pseudo)
{
	size_t i;

	buf_free(&k->b);
	k->n = 0;
	for (i = 0; i < n; i++) {
		if (skip_pseudo && f[i].namelen > 0 && f[i].name[0] == ':')
			continue;
		buf_append(&k->b, f[i].name, f[i].namelen + 1);
		buf_append(&k->b, f[i].value, f[i].valuelen + 1);
		k->n++;
	}
}

size_t
h2_kept_fields(const struct h2_kept *k, struct h2_field *f, size_t max)
{
	const char *p = buf_head(&k->b);
	size_t i;

	for (i = 0; i < k->n && i < max; i++) {
		f[i].name = p;
		f[i].namelen = strlen(p);
		p += f[i].namelen + 1;
		f[i].value = p;
		f[i].valuelen = strlen(p);
		p += f[i].valuelen + 1;
		f[i].flags = 0;
	}
	return i;
}

static void
wipe_secret(struct h2_stream *s)
{
	if (s->secret_value == NULL)
		return;
	util_wipe(s->secret_value, s->secret_len);
	free(s->secret_value);
	s->secret_value = NULL;
	s->secret_len = 0;
}

static void
audit_stream(struct h2conn *hc, struct h2_stream *s)
{
	struct conn *c = hc->c;

	if (!s->x.active)
		return;
	conn_audit_exchange(c, &s->x);
	s->x.active = false;
}

/* --- deadlines --- */

/*
 * The stream's deadline passed: only this stream ends, as an HTTP/1.1
 * exchange would (504 before the response head, a reset after it).  A
 * stream still not closed a deadline after that means the guest reads
 * nothing of its connection: that ends it, as idle HTTP/1.1 would.
 * false when the connection was closed.
 */
static bool
stream_expire(struct h2conn *hc, struct h2_stream *s, uint64_t now)
{
	struct conn *c = hc->c;
	bool up = conn_h2_up_turn(s);

	if (s->expired) {
		exchange_set_reason(&c->x, "guest reads nothing");
		conn_close(c, CONN_END_IDLE);
		return false;
	}
	s->expired = true;
	s->last_ms = now;
	if (up && !s->x.resp_head_done) {
		conn_h2_reply(hc, s, 504, "upstream response timeout",
		    "%s did not answer in time.\n", c->upstream.host ?
		    c->upstream.host : "The destination");
		return true;
	}
	exchange_set_reason(&s->x, up ? "response timeout" : "idle timeout");
	if (s->u_open && !hc->up_dead)
		h2_reset(hc->u, s->usid, H2_CANCEL);
	s->u_open = false;
	h2_reset(hc->g, s->gsid, H2_CANCEL);
	conn_h2_stream_arm(hc, s);	/* until the reset is out */
	return true;
}

static void
stream_timer(struct timer *t, uint64_t now)
{
	struct h2_stream *s = (struct h2_stream *)((char *)t -
	    offsetof(struct h2_stream, timer));
	struct h2conn *hc = s->hc;
	uint64_t when = conn_h2_stream_deadline(hc, s);

	if (when == 0)
		return;
	if (when > now) {
		/* progress since it was armed */
		loop_timer_set(hc->c->worker->loop, t, when);
		return;
	}
	if (!stream_expire(hc, s, now))
		return;
	/* The frames just queued are written by the connection's step,
	 * which the dispatcher runs from the connection's timer: due now,
	 * it runs in this same pass of the heap. */
	loop_timer_set(hc->c->worker->loop, &hc->c->timer, now);
}

/*
 * With no stream open: the upstream connection is the heavier half of an
 * idle connection and goes after upstream_idle_timeout (the guest is told
 * with GOAWAY, so that its next request opens a new connection with a new
 * upstream); without one, the guest connection goes after idle_timeout.
 */
static uint64_t
idle_limit(const struct h2conn *hc)
{
	const struct limits_config *lim = &hc->c->rt->cfg->limits;

	if (hc->up_dead)
		return lim->idle_timeout_ms;
	return MIN(lim->idle_timeout_ms, lim->upstream_idle_timeout_ms);
}

static void
stream_free(struct h2conn *hc, struct h2_stream *s)
{
	struct h2_stream **pp;

	for (pp = &hc->streams; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	audit_stream(hc, s);
	/* response bytes the guest will never read: the upstream
	 * connection's window must not keep them */
	if (s->usid != 0 && !hc->up_dead)
		h2_consume(hc->u, s->usid, buf_len(&s->resp.q));
	exchange_reset(&s->x);
	wipe_secret(s);
	buf_free(&s->req.q);
	buf_free(&s->resp.q);
	buf_free(&s->req.trailers.b);
	buf_free(&s->resp.trailers.b);
	loop_timer_cancel(hc->c->worker->loop, &s->timer);
	free(s);
	if (--hc->nstreams == 0)
		conn_set_timeout(hc->c, idle_limit(hc));
}

static void
maybe_free(struct h2conn *hc, struct h2_stream *s)
{
	if (!s->g_open && !s->u_open)
		stream_free(hc, s);
}

/* --- the guest side: a server session --- */

static uint32_t
g_on_block(void *arg, int32_t sid, const struct h2_block *b)
{
	struct h2conn *hc = arg;
	struct h2_stream *s = by_gsid(hc, sid);

	if (b->kind == H2_BLOCK_REQUEST && s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->hc = hc;
		s->gsid = sid;
		s->g_open = true;
		s->last_ms = loop_now(hc->c->worker->loop);
		timer_init(&s->timer, stream_timer);
		s->next = hc->streams;
		hc->streams = s;
		hc->nstreams++;
		hc->c->deadline = 0;	/* the streams' timers now */
		s->req.end = b->end_stream;
		conn_h2_request(hc, s, b);
		conn_h2_stream_arm(hc, s);
		return 0;
	}
	if (s == NULL || b->kind != H2_BLOCK_TRAILERS)
		return H2_PROTOCOL_ERROR;
	/* request trailers: after the body, upstream */
	s->req.end = true;
	if (s->usid != 0 && s->u_open) {
		if (b->too_large) {
			h2_reset(hc->u, s->usid, H2_CANCEL);
			return H2_ENHANCE_YOUR_CALM;
		}
		h2_kept_set(&s->req.trailers, b->f, b->n, true);
		h2_resume(hc->u, s->usid);
	}
	conn_h2_stream_arm(hc, s);
	return 0;
}

static bool
g_on_data(void *arg, int32_t sid, const uint8_t *p, size_t n, bool end)
{
	struct h2conn *hc = arg;
	struct h2_stream *s = by_gsid(hc, sid);

	if (s == NULL)
		return false;
	s->last_ms = loop_now(hc->c->worker->loop);
	if (end && !s->req.end) {
		s->req.end = true;
		conn_h2_stream_arm(hc, s);
	}
	if (s->usid == 0 || !s->u_open)
		return false;		/* answered already: dropped */
	if (n > 0)
		buf_append(&s->req.q, p, n);
	h2_resume(hc->u, s->usid);
	return true;
}

static void
g_on_close(void *arg, int32_t sid, uint32_t code)
{
	struct h2conn *hc = arg;
	struct h2_stream *s = by_gsid(hc, sid);

	if (s == NULL)
		return;
	s->g_open = false;
	loop_timer_cancel(hc->c->worker->loop, &s->timer);
	if (code != H2_NO_ERROR && s->x.active &&
	    exchange_reason(&s->x) == NULL)
		exchange_set_reason(&s->x, code == H2_CANCEL ? "stream reset: "
		    "cancelled by the guest" : "stream reset: protocol error");
	if (s->u_open && !hc->up_dead)
		h2_reset(hc->u, s->usid, H2_CANCEL);
	/* what the guest sent and nobody will read: give the window back */
	if (s->usid != 0)
		h2_consume(hc->g, sid, buf_len(&s->req.q));
	buf_free(&s->req.q);
	audit_stream(hc, s);
	maybe_free(hc, s);
}

/*
 * Fill a DATA frame of session self, stream sid, from d; the bytes taken
 * reopen the window of the session they came from (from, its stream
 * from_sid; NULL when none, as for the gateway's own replies).  At the
 * end, the trailers follow.  read_body's contract (h2.h).
 */
static ssize_t
relay(struct h2conn *hc, struct h2_dir *d, struct h2 *self, int32_t sid,
    struct h2 *from, int32_t from_sid, uint8_t *p, size_t len,
    enum h2_eof *eof)
{
	size_t n = MIN(len, buf_len(&d->q));

	if (n > 0)
		memcpy(p, buf_head(&d->q), n);
	buf_consume(&d->q, n);
	if (from != NULL)
		h2_consume(from, from_sid, n);
	if (buf_len(&d->q) > 0)
		return (ssize_t)n;
	buf_release_pooled(&d->q, &hc->c->worker->bufs);
	if (!d->end)
		return n > 0 ? (ssize_t)n : H2_DEFER;
	*eof = H2_END;
	if (d->trailers.n > 0) {
		struct h2_field f[H2_MAX_FIELDS];

		(void)h2_submit_trailers(self, sid, f, h2_kept_fields(
		    &d->trailers, f, H2_MAX_FIELDS));
		*eof = H2_END_TRAILERS;
	}
	return (ssize_t)n;
}

/* The response body (or the gateway's reply) towards the guest. */
static ssize_t
g_read_body(void *arg, int32_t sid, uint8_t *p, size_t len,
    enum h2_eof *eof)
{
	struct h2conn *hc = arg;
	struct h2_stream *s = by_gsid(hc, sid);
	ssize_t n;

	if (s == NULL)
		return H2_FAIL;
	/* consumed even once the upstream stream closed: its bytes still
	 * hold the upstream connection's window */
	n = relay(hc, &s->resp, hc->g, sid, s->usid != 0 && !hc->up_dead ?
	    hc->u : NULL, s->usid, p, len, eof);
	if (n > 0) {
		s->x.bytes_down += (uint64_t)n;
		s->last_ms = loop_now(hc->c->worker->loop);
	}
	return n;
}

static const struct h2_cbs guest_cbs = {
	.on_block = g_on_block,
	.on_data = g_on_data,
	.on_close = g_on_close,
	.read_body = g_read_body,
};

/* --- the upstream side: a client session --- */

static void
forward_response(struct h2conn *hc, struct h2_stream *s,
    const struct h2_block *b)
{
	struct h2_field f[H2_MAX_FIELDS];
	size_t i, n = 0;

	for (i = 0; i < b->n; i++) {
		if (b->f[i].namelen == 7 && memcmp(b->f[i].name, ":status",
		    7) == 0)
			s->x.status = atoi(b->f[i].value);
		if (b->f[i].namelen == 12 && memcmp(b->f[i].name,
		    "content-type", 12) == 0)
			exchange_set_content_type(&s->x, b->f[i].value,
			    strnlen(b->f[i].value, EXCHANGE_CTYPE_MAX));
		f[n++] = b->f[i];
	}
	s->x.resp_head_done = true;
	stats_once(hc->c->worker->stats, SH_TTFB, &s->x.t_ttfb,
	    loop_now_us(hc->c->worker->loop));
	s->resp.end = b->end_stream;
	if (h2_submit_response(hc->g, s->gsid, f, n, !b->end_stream) != 0)
		h2_reset(hc->g, s->gsid, H2_INTERNAL_ERROR);
}

static uint32_t
u_on_block(void *arg, int32_t sid, const struct h2_block *b)
{
	struct h2conn *hc = arg;
	struct h2_stream *s = by_usid(hc, sid);

	if (s == NULL || !s->g_open)
		return H2_CANCEL;
	s->last_ms = loop_now(hc->c->worker->loop);
	if (b->too_large) {
		conn_h2_reply(hc, s, 502, "upstream response head too large",
		    "The response head of the upstream is over the limit.\n");
		return H2_CANCEL;
	}
	switch (b->kind) {
	case H2_BLOCK_INFO:
		if (!s->x.resp_head_done)
			(void)h2_submit_info(hc->g, s->gsid, b->f, b->n);
		return 0;
	case H2_BLOCK_RESPONSE:
		if (s->x.resp_head_done)
			return H2_PROTOCOL_ERROR;
		forward_response(hc, s, b);
		return 0;
	case H2_BLOCK_TRAILERS:
		if (!s->x.resp_head_done)
			return H2_PROTOCOL_ERROR;
		h2_kept_set(&s->resp.trailers, b->f, b->n, true);
		s->resp.end = true;
		h2_resume(hc->g, s->gsid);
		return 0;
	default:
		return H2_PROTOCOL_ERROR;
	}
}

static bool
u_on_data(void *arg, int32_t sid, const uint8_t *p, size_t n, bool end)
{
	struct h2conn *hc = arg;
	struct h2_stream *s = by_usid(hc, sid);

	if (s == NULL || !s->g_open || !s->x.resp_head_done)
		return false;
	s->last_ms = loop_now(hc->c->worker->loop);
	if (end)
		s->resp.end = true;
	if (n > 0)
		buf_append(&s->resp.q, p, n);
	h2_resume(hc->g, s->gsid);
	return true;
}

static void
u_on_close(void *arg, int32_t sid, uint32_t code)
{
	struct h2conn *hc = arg;
	struct h2_stream *s = by_usid(hc, sid);

	if (s == NULL)
		return;
	s->u_open = false;
	wipe_secret(s);
	if (s->g_open && code != H2_NO_ERROR) {
		exchange_set_reason(&s->x, "upstream reset the stream");
		if (!s->x.resp_head_done)
			conn_h2_reply(hc, s, 502, "upstream reset the stream",
			    "The upstream reset the stream before its "
			    "response.\n");
		else
			h2_reset(hc->g, s->gsid, code == H2_REFUSED_STREAM ?
			    H2_REFUSED_STREAM : H2_CANCEL);
	} else if (s->g_open && !s->resp.end) {
		/* closed without END_STREAM from it: the guest must not take
		 * a cut body for a whole one */
		h2_reset(hc->g, s->gsid, H2_INTERNAL_ERROR);
	}
	/* queued response bytes not sent yet are the guest's to read;
	 * the upstream window does not matter any more */
	conn_h2_stream_arm(hc, s);
	maybe_free(hc, s);
}

/* The request body towards the upstream. */
static ssize_t
u_read_body(void *arg, int32_t sid, uint8_t *p, size_t len,
    enum h2_eof *eof)
{
	struct h2conn *hc = arg;
	struct h2_stream *s = by_usid(hc, sid);
	ssize_t n;

	if (s == NULL)
		return H2_FAIL;
	n = relay(hc, &s->req, hc->u, sid, s->g_open ? hc->g : NULL, s->gsid,
	    p, len, eof);
	if (n > 0)
		s->x.bytes_up += (uint64_t)n;
	if (*eof != H2_MORE)
		s->x.req_done = true;
	return n;
}

static void
u_on_headers_sent(void *arg, int32_t sid)
{
	struct h2_stream *s = by_usid(arg, sid);

	if (s != NULL)
		wipe_secret(s);
}

static const struct h2_cbs up_cbs = {
	.on_block = u_on_block,
	.on_data = u_on_data,
	.on_close = u_on_close,
	.read_body = u_read_body,
	.on_headers_sent = u_on_headers_sent,
};

/* --- life cycle and I/O --- */

bool
conn_h2_selected(SSL *ssl)
{
	const unsigned char *p = NULL;
	unsigned len = 0;

	if (ssl == NULL)
		return false;
	SSL_get0_alpn_selected(ssl, &p, &len);
	return len == 2 && memcmp(p, H2_ALPN, 2) == 0;
}

void
conn_h2_start(struct conn *c)
{
	struct h2_limits lim = {
		.max_header_bytes = c->rt->cfg->limits.max_header_bytes,
	};
	struct h2conn *hc = xcalloc(1, sizeof(*hc));

	hc->c = c;
	hc->g = h2_new(H2_SERVER, &lim, &guest_cbs, hc);
	hc->u = h2_new(H2_CLIENT, &lim, &up_cbs, hc);
	/* frames may carry a credential (HPACK literal, never indexed) */
	hc->u_out.sensitive = true;
	/* denied at the TLS stage: no upstream, every stream is answered
	 * by the gateway */
	hc->up_dead = c->upstream.phase != UPH_READY;
	c->h2 = hc;
	c->on_close = conn_h2_free;	/* conn_close() calls it */
	c->upstream.used = true;
	conn_set_state(c, CONN_H2);
	conn_set_timeout(c, idle_limit(hc));	/* no stream yet */
}

/* Every stream still waiting on the upstream learns it is gone. */
static void
upstream_gone(struct h2conn *hc, const char *why)
{
	struct h2_stream *s, *next;

	if (hc->up_dead)
		return;
	hc->up_dead = true;
	log_info("conn %llu: h2 upstream ended: %s",
	    (unsigned long long)hc->c->id, why);
	for (s = hc->streams; s != NULL; s = next) {
		next = s->next;
		if (!s->u_open)
			continue;
		s->u_open = false;
		if (s->g_open && !s->x.resp_head_done)
			conn_h2_reply(hc, s, 502, "upstream connection ended",
			    "The upstream connection ended: %s.\n", why);
		else if (s->g_open && !s->resp.end)
			h2_reset(hc->g, s->gsid, H2_INTERNAL_ERROR);
		conn_h2_stream_arm(hc, s);
		maybe_free(hc, s);
	}
	/* no new streams: the guest reconnects for a fresh upstream */
	h2_goaway(hc->g, H2_NO_ERROR);
}

/* What a pull or a push did on one side. */
enum h2io {
	H2IO_IDLE,	/* nothing moved */
	H2IO_MOVED,	/* bytes were read or written */
	H2IO_ENDED,	/* that side ended (closed, an error) */
};

/* Read what one side has and feed it to its session. */
static enum h2io
pull(struct conn *c, struct endpoint *e, struct h2 *h, const char **why)
{
	uint8_t tmp[H2_READ_CHUNK];
	ssize_t n;
	enum h2io moved = H2IO_IDLE;
	int i;

	for (i = 0; i < 8; i++) {
		n = ep_read(e, (char *)tmp, sizeof(tmp));
		if (n == EP_AGAIN)
			return moved;
		if (n <= 0) {
			*why = n == 0 ? "closed" : "read error";
			return H2IO_ENDED;
		}
		if (h2_recv(h, loop_now(c->worker->loop), tmp,
		    (size_t)n) != 0) {
			*why = h2_error(h) ? h2_error(h) : "protocol error";
			return H2IO_ENDED;
		}
		moved = H2IO_MOVED;
	}
	return H2IO_MOVED;
}

/* Pack and write one side's frames.  H2IO_IDLE if nothing was written
 * (nothing to send, or the socket is full: its EPOLLOUT wakes us). */
static enum h2io
push(struct endpoint *e, struct h2 *h, struct buf *out)
{
	enum h2io moved = H2IO_IDLE;
	enum ep_flush f;

	for (;;) {
		size_t before;

		if (buf_len(out) < H2_OUT_HIGH)
			(void)h2_send(h, out);
		if (buf_len(out) == 0)
			return moved;
		before = buf_len(out);
		f = ep_flush(e, out);
		if (f == EP_FLUSH_ERR)
			return H2IO_ENDED;
		if (buf_len(out) != before)
			moved = H2IO_MOVED;
		if (f == EP_FLUSH_BLOCKED)
			return moved;
	}
}

static void
guest_failed(struct conn *c, struct h2conn *hc, const char *why)
{
	log_info("conn %llu: h2 guest connection: %s",
	    (unsigned long long)c->id, why);
	exchange_set_reason(&c->x, why);
	/* the GOAWAY made for a violation is written before closing */
	(void)push(&c->client, hc->g, &hc->g_out);
}

enum step
conn_h2_step(struct conn *c)
{
	struct h2conn *hc = c->h2;
	const char *why = NULL;
	enum h2io r;
	bool moved;
	int i;

	for (i = 0; i < H2_ROUNDS; i++) {
		r = pull(c, &c->client, hc->g, &why);
		if (r == H2IO_ENDED) {
			guest_failed(c, hc, why);
			conn_close(c, CONN_END_H2_GUEST_ENDED);
			return STEP_CLOSED;
		}
		moved = r == H2IO_MOVED;
		if (!hc->up_dead) {
			r = pull(c, &c->up, hc->u, &why);
			if (r == H2IO_ENDED)
				upstream_gone(hc, why);
			moved |= r == H2IO_MOVED;
		}
		r = push(&c->client, hc->g, &hc->g_out);
		if (r == H2IO_ENDED) {
			conn_close(c, CONN_END_H2_GUEST_WRITE);
			return STEP_CLOSED;
		}
		moved |= r == H2IO_MOVED;
		if (!hc->up_dead) {
			r = push(&c->up, hc->u, &hc->u_out);
			if (r == H2IO_ENDED)
				upstream_gone(hc, "write error");
			moved |= r == H2IO_MOVED;
		}
		if (h2_done(hc->g) && buf_len(&hc->g_out) == 0) {
			/* a connection error nghttp2 answered itself (its
			 * GOAWAY is out) is the guest's failure, not an end */
			why = h2_error(hc->g);
			if (why != NULL) {
				guest_failed(c, hc, why);
				conn_close(c, CONN_END_H2_GUEST_ENDED);
			} else
				conn_close(c, hc->idle_goaway ? hc->idle_end :
				    CONN_END_H2_FINISHED);
			return STEP_CLOSED;
		}
		if (!moved)
			return STEP_BLOCKED;
	}
	/* More work than one wake-up's share: the dispatcher goes on from
	 * the loop, after the other connections' events, since no new
	 * edge may come. */
	c->yield = true;
	return STEP_BLOCKED;
}

void
conn_h2_timeout(struct conn *c, uint64_t now)
{
	struct h2conn *hc = c->h2;

	if (hc == NULL || hc->nstreams > 0 || c->deadline == 0 ||
	    now < c->deadline)
		return;
	if (hc->idle_goaway) {
		/* its GOAWAY did not get out in time */
		conn_close(c, hc->idle_end);
		return;
	}
	/* Say so first (GOAWAY): the guest opens no stream into a
	 * connection about to close.  Closed once it is written (the step
	 * sees the session done), or after one more idle_timeout. */
	hc->idle_goaway = true;
	hc->idle_end = CONN_END_IDLE_KEEPALIVE;
	if (!hc->up_dead) {
		if (c->rt->cfg->limits.upstream_idle_timeout_ms <
		    c->rt->cfg->limits.idle_timeout_ms)
			hc->idle_end = CONN_END_H2_UPSTREAM_IDLE;
		h2_goaway(hc->u, H2_NO_ERROR);
		(void)push(&c->up, hc->u, &hc->u_out);	/* best effort */
		hc->up_dead = true;
		upstream_close(&c->upstream);
	}
	h2_goaway(hc->g, H2_NO_ERROR);
	conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
	/* the dispatcher runs the step next (the GOAWAY to write) */
}

void
conn_h2_free(struct conn *c)
{
	struct h2conn *hc = c->h2;

	if (hc == NULL)
		return;
	while (hc->streams != NULL) {
		struct h2_stream *s = hc->streams;

		if (s->x.active && exchange_reason(&s->x) == NULL)
			exchange_set_reason(&s->x, exchange_reason(&c->x) ?
			    exchange_reason(&c->x) : "connection ended");
		stream_free(hc, s);
	}
	conn_secrets_clear(&c->x);
	exchange_reset(&c->x);
	h2_free(hc->g);
	h2_free(hc->u);
	buf_free(&hc->g_out);
	buf_free(&hc->u_out);
	free(hc);
	c->h2 = NULL;
}
