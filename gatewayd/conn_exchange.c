/*
 * conn_exchange.c - stream one HTTP exchange: the request head and body
 * up, the response head (rewritten) and body down, each framed by the
 * parser's rules (Content-Length, chunked, or until close) and never
 * buffered whole.  Transfer codings go to the guest as the upstream
 * listed them; an HTTP/1.0 guest, who may not be sent any, gets a chunked
 * body de-chunked and delimited by the close, and a 502 for any other
 * coding.  1xx responses pass through; a 101 to an allowed Upgrade turns
 * the connection into an opaque tunnel.
 */
#include "conn_exchange.h"
#include "conn_audit.h"
#include "conn_http.h"
#include "conn_secrets.h"

#include <stdio.h>

#include "headrw.h"
#include "log.h"
#include "reply.h"
#include "runtime.h"
#include "worker.h"

#define RESP_HEAD_MAX	65536

/* stream_body(): a write error is the receiver's failure, any other
 * error (framing, a read, an early end) the sender's. */
enum body_result {
	BODY_WRITE_ERR = -2,
	BODY_ERR = -1,
	BODY_OPEN = 0,
	BODY_DONE = 1,
};

/*
 * De-chunking: drop the chunk framing at the head of b; the data run
 * that follows it (the count returned) is the body's next bytes.
 */
static ssize_t
chunk_data(struct buf *b, struct http_chunk_state *cs, bool *done,
    const char **why)
{
	struct http_error err;
	size_t used, data;
	int r;

	r = http_chunk_data(cs, buf_head(b), buf_len(b), &used, &data, &err);
	if (r == HTTP_ERR) {
		*why = err.reason;
		return -1;
	}
	buf_consume(b, used - data);
	*done = r == HTTP_CHUNK_DONE;
	return (ssize_t)data;
}

/*
 * How many bytes at the head of b belong to the body being streamed,
 * given its framing state.  Sets *done when they complete the body.
 * With dechunk, a chunked body's framing is dropped from b on the way.
 * Returns -1 on bad chunked framing.
 */
static ssize_t
body_bytes(struct buf *b, enum http_body kind, bool dechunk, uint64_t *left,
    struct http_chunk_state *cs, bool *done, const char **why)
{
	size_t len = buf_len(b), take;
	struct http_error err;
	int r;

	*done = false;
	switch (kind) {
	case HTTP_BODY_NONE:
		*done = true;
		return 0;
	case HTTP_BODY_LENGTH:
		take = (size_t)MIN((uint64_t)len, *left);
		*left -= take;
		*done = *left == 0;
		return (ssize_t)take;
	case HTTP_BODY_CHUNKED:
		if (dechunk)
			return chunk_data(b, cs, done, why);
		r = http_chunk_scan(cs, buf_head(b), len, &take, &err);
		if (r == HTTP_ERR) {
			*why = err.reason;
			return -1;
		}
		*done = r == HTTP_CHUNK_DONE;
		return (ssize_t)take;
	case HTTP_BODY_CLOSE:
	default:
		return (ssize_t)len;
	}
}

/*
 * Forward body bytes from `from` (through b) to `to`.  pending counts
 * bytes at the head of b already framed as body but not yet written.
 */
static enum body_result
stream_body(struct conn *c, struct endpoint *from, struct endpoint *to,
    struct buf *b, enum http_body kind, bool dechunk, uint64_t *left,
    struct http_chunk_state *cs,
    size_t *pending, bool *framed_done, uint64_t *count, const char **why)
{
	for (;;) {
		ssize_t n;

		if (*pending == 0 && !*framed_done && buf_len(b) > 0) {
			bool done;

			n = body_bytes(b, kind, dechunk, left, cs, &done,
			    why);
			if (n < 0)
				return BODY_ERR;
			*pending = (size_t)n;
			*framed_done = done;
		}
		while (*pending > 0) {
			ssize_t w = ep_write(to, buf_head(b), *pending);

			if (w == EP_AGAIN)
				return BODY_OPEN;
			if (w < 0) {
				*why = "write error";
				return BODY_WRITE_ERR;
			}
			buf_consume(b, (size_t)w);
			*pending -= (size_t)w;
			*count += (uint64_t)w;
		}
		if (*framed_done || kind == HTTP_BODY_NONE) {
			*framed_done = true;
			return BODY_DONE;
		}
		if (dechunk && buf_len(b) > 0)
			continue;	/* de-chunking: a run at a time */
		if (from->eof) {
			if (kind == HTTP_BODY_CLOSE)
				return BODY_DONE;
			*why = "peer closed in the middle of the body";
			return BODY_ERR;
		}
		if (ep_in_prepare(from, WORKER_IOBUF) == 0)
			return BODY_OPEN;	/* full of the next message */
		n = ep_read(from, buf_tail(b), ep_in_prepare(from, WORKER_IOBUF));
		if (n == EP_AGAIN)
			return BODY_OPEN;
		if (n == EP_ERR) {
			*why = "read error";
			return BODY_ERR;
		}
		buf_produce(b, (size_t)n);
	}
}

/*
 * Does the response use a transfer coding other than a lone chunked?
 * Such a body cannot go to an HTTP/1.0 guest, who may not be sent
 * Transfer-Encoding (RFC 9112 section 6.1); chunked alone is undone.
 */
static bool
codings_beyond_chunked(const struct http_response *resp)
{
	size_t i, n = 0;
	bool chunked = false;

	for (i = 0; i < resp->nheaders; i++) {
		const struct http_header *h = &resp->headers[i];

		if (!http_name_is(&h->name, "transfer-encoding"))
			continue;
		n++;
		chunked = http_name_is(&h->value, "chunked");
	}
	return n > 1 || (n == 1 && !chunked);
}

/* The response head for the guest into c->to_client (headrw.c). */
static void
build_client_head(struct conn *c, const struct http_response *resp,
    bool close_after, const struct http_slice *upgrade)
{
	struct headrw_resp o = {
		.dechunk = c->x.resp_dechunk,
		.http10 = c->x.http10,
		.close_after = close_after,
		.upgrade = upgrade,
	};

	headrw_response(&c->to_client, resp, &o);
}

/*
 * A body-less request sent on a kept-alive upstream connection that the
 * server closed as the request arrived (nothing of a response came back)
 * is sent again, once, on a new connection, as browsers and Squid do.
 */
/*
 * What an inner helper of the exchange step did; exchange_step() turns
 * it into an enum step for the dispatcher.
 */
enum xstep {
	X_BLOCKED,	/* nothing more until an event */
	X_DONE,		/* its part is finished (or moved on: run it again) */
	X_CLOSED,	/* it closed the connection */
	X_MOVED,	/* c left CONN_EXCHANGE: a reply queued, or the
			 * request resent on a fresh upstream */
};

static bool
can_retry(const struct conn *c)
{
	const struct exchange *x = &c->x;

	return x->reused && !x->retried && !x->resp_head_done &&
	    x->status == 0 && buf_len(&c->up.in) == 0 &&
	    buf_len(&c->retry_head) > 0 && buf_len(&c->to_client) == 0;
}

static enum xstep
retry_fresh(struct conn *c)
{
	struct exchange *x = &c->x;
	struct buf head = c->retry_head;

	upstream_close(&c->upstream);
	c->retry_head = c->to_up;	/* swap storage, no allocation */
	c->to_up = head;
	buf_free(&c->retry_head);	/* wiped: resent once only */
	x->retried = true;
	x->reused = false;
	x->req_done = false;
	x->bytes_up = 0;
	upstream_start(&c->upstream, c->upstream.purpose, c->upstream.host,
	    c->upstream.port);
	conn_set_state(c, CONN_WAIT_UP);
	c->deadline = 0;	/* up_deadline bounds the wait */
	return X_MOVED;
}

/* 502 or 504 while nothing of the response has reached the guest (or
 * the request resent once); after that, the connection is closed. */
static enum xstep
upstream_failed(struct conn *c, int status, const char *what)
{
	if (c->x.resp_head_done || c->x.status == 101) {
		conn_log(c, LOG_LVL_DEBUG, "upstream: %s", what);
		conn_close(c, CONN_END_UPSTREAM_BROKEN);
		return X_CLOSED;
	}
	if (can_retry(c))
		return retry_fresh(c);
	stats_inc(c->worker->stats, ST_UPSTREAM_FAILED);
	upstream_close(&c->upstream);
	c->must_close = true;
	reply_send(c, status, what, "The gateway could not complete the "
	    "request to %s: %s.\n", c->upstream.host ? c->upstream.host :
	    "the destination", what);
	return X_MOVED;
}

static void
content_type(struct exchange *x, const struct http_response *resp)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++) {
		if (!http_name_is(&resp->headers[i].name, "content-type"))
			continue;
		exchange_set_content_type(x, resp->headers[i].value.p,
		    resp->headers[i].value.len);
		return;
	}
}

/*
 * Body bytes that came with the response head go out with it, in one
 * write (one TLS record, one syscall) when they are few: most API
 * responses are a head and a small body.
 */
#define COALESCE_MAX	16384

static void
coalesce_body(struct conn *c)
{
	struct exchange *x = &c->x;
	struct http_chunk_state saved_chunk = x->resp_chunk;
	uint64_t saved_left = x->resp_left;
	const char *why = NULL;
	bool done;
	ssize_t n;

	if (buf_len(&c->up.in) == 0 || x->resp_body == HTTP_BODY_CLOSE ||
	    buf_len(&c->up.in) > COALESCE_MAX || x->resp_dechunk)
		return;
	n = body_bytes(&c->up.in, x->resp_body, false, &x->resp_left,
	    &x->resp_chunk, &done, &why);
	if (n < 0) {
		/* Bad framing: rewind, and let stream_body() meet and
		 * report the same error. */
		x->resp_chunk = saved_chunk;
		x->resp_left = saved_left;
		return;
	}
	buf_append(&c->to_client, buf_head(&c->up.in), (size_t)n);
	buf_consume(&c->up.in, (size_t)n);
	c->resp_framed = done;
}

/*
 * A 101 to the Upgrade the guest asked for: passed on with the protocol
 * it chose, and the connection becomes a tunnel.  Any other 101 is a 502
 * while nothing has gone to the guest yet (x->status is set only once it
 * is accepted: upstream_failed() closes on a 101 that went out).
 */
static enum xstep
switch_head(struct conn *c, const struct http_response *resp, size_t len)
{
	struct exchange *x = &c->x;
	struct http_slice offered = { x->upgrade_proto ? x->upgrade_proto :
	    "", x->upgrade_proto ? strlen(x->upgrade_proto) : 0 }, chosen;

	if (!x->upgrade)
		return upstream_failed(c, 502, "unexpected 101");
	if (!http_upgrade_chosen(resp, &offered, &chosen))
		return upstream_failed(c, 502, "101 to a protocol that was "
		    "not asked for");
	x->status = 101;
	content_type(x, resp);
	build_client_head(c, resp, false, &chosen);
	buf_consume(&c->up.in, len);
	x->action = XA_TUNNEL;
	x->resp_head_done = true;
	return X_DONE;
}

/* Parse the response head in c->up.in: X_DONE once a head (interim or
 * final) was handled, X_BLOCKED while it is incomplete. */
static enum xstep
response_head(struct conn *c)
{
	struct exchange *x = &c->x;
	struct http_response resp;
	struct http_error herr;
	ssize_t r;
	bool close_after;

	r = http_scan_response(buf_head(&c->up.in), buf_len(&c->up.in),
	    &x->resp_scan, x->head_request, &resp, &herr);
	if (r == HTTP_NEED_MORE) {
		if (buf_len(&c->up.in) >= RESP_HEAD_MAX)
			return upstream_failed(c, 502,
			    "response head too large");
		if (c->up.eof)
			return upstream_failed(c, 502, "upstream closed "
			    "without a response");
		return X_BLOCKED;
	}
	if (r == HTTP_ERR)
		return upstream_failed(c, 502, "invalid response from "
		    "upstream");
	if (resp.status >= 100 && resp.status < 200 && resp.status != 101) {
		/* Interim (100 Continue...): pass it on, wait for more; an
		 * HTTP/1.0 guest may not be sent one (RFC 9110 15.2). */
		if (!x->http10)
			build_client_head(c, &resp, false, NULL);
		buf_consume(&c->up.in, (size_t)r);
		http_head_scan_init(&x->resp_scan);
		x->resp_head_first = buf_len(&c->up.in) ?
		    loop_now(c->worker->loop) : 0;
		return X_DONE;
	}
	if (resp.status == 101)
		return switch_head(c, &resp, (size_t)r);
	if (x->http10 && resp.body != HTTP_BODY_NONE &&
	    codings_beyond_chunked(&resp))
		return upstream_failed(c, 502, "transfer coding that an "
		    "HTTP/1.0 guest cannot be sent");
	x->resp_dechunk = x->http10 && resp.body == HTTP_BODY_CHUNKED;
	x->status = resp.status;
	/* A response has begun: the request will not be resent, and its
	 * copy (which may hold a credential) is wiped now, not at the next
	 * request after an idle keep-alive. */
	buf_free(&c->retry_head);
	content_type(x, &resp);
	x->resp_body = resp.body;
	x->resp_left = resp.content_length;
	http_chunk_init(&x->resp_chunk);
	x->resp_keep_alive = resp.keep_alive && resp.body != HTTP_BODY_CLOSE;
	if (!x->resp_keep_alive)
		c->upstream.reusable = false;
	close_after = !x->req_keep_alive || c->must_close ||
	    resp.body == HTTP_BODY_CLOSE || x->resp_dechunk;
	if (close_after)
		c->must_close = true;
	/* Room for the head and the body bytes coalesce_body() may add, at
	 * once: one allocation, not a few reallocations as it grows. */
	(void)buf_prepare(&c->to_client, buf_len(&c->to_client) + (size_t)r +
	    MIN(buf_len(&c->up.in) - (size_t)r, (size_t)COALESCE_MAX) + 128);
	build_client_head(c, &resp, close_after, NULL);
	buf_consume(&c->up.in, (size_t)r);
	x->resp_head_done = true;
	coalesce_body(c);
	return X_DONE;
}

/* Write generated head bytes to the guest, counting them. */
static enum ep_flush
flush_client(struct conn *c)
{
	size_t before = buf_len(&c->to_client);
	enum ep_flush f = ep_flush(&c->client, &c->to_client);

	c->x.bytes_down += before - buf_len(&c->to_client);
	return f;
}

/* Request head and body upstream: X_DONE once all of it is sent. */
static enum xstep
request_up(struct conn *c)
{
	struct exchange *x = &c->x;
	const char *why = NULL;
	enum ep_flush f;
	enum body_result b;

	if (buf_len(&c->to_up) > 0) {
		size_t len = buf_len(&c->to_up);

		f = ep_flush(&c->up, &c->to_up);
		x->bytes_up += len - buf_len(&c->to_up);
		if (f == EP_FLUSH_ERR)
			return upstream_failed(c, 502, "upstream write error");
		if (f == EP_FLUSH_BLOCKED)
			return X_BLOCKED;
		buf_free(&c->to_up);
	}
	/* Nothing more moves before the 101; the parser refused an Upgrade
	 * with a body, so no byte of this request is left unsent. */
	if (x->upgrade)
		return X_DONE;
	b = stream_body(c, &c->client, &c->up, &c->client.in, x->req_body, false,
	    &x->req_left, &x->req_chunk, &c->req_pending, &c->req_framed,
	    &x->bytes_up, &why);
	if (b == BODY_WRITE_ERR)
		return upstream_failed(c, 502, "upstream write error");
	if (b == BODY_ERR) {
		if (c->client.eof || c->x.resp_head_done) {
			conn_close(c, CONN_END_REQ_BODY);
			return X_CLOSED;
		}
		/* Bad chunk framing: the upstream connection is dropped (it
		 * saw a truncated request) and the guest is told why. */
		stats_inc(c->worker->stats, ST_BAD_REQUESTS);
		upstream_close(&c->upstream);
		c->must_close = true;
		reply_send(c, 400, why ? why : "invalid request body",
		    "Bad Request: %s\n", why ? why : "invalid request body");
		return X_MOVED;
	}
	return b == BODY_DONE ? X_DONE : X_BLOCKED;
}

/*
 * The deadline of what the exchange waits for; a response head that has
 * begun must also end within response_head_timeout of its first byte,
 * however slowly it trickles in.
 */
static void
exchange_set_timeout(struct conn *c)
{
	const struct limits_config *lim = &c->rt->cfg->limits;
	uint64_t end = c->x.resp_head_first + lim->response_head_timeout_ms;

	conn_set_timeout(c, conn_exchange_timeout(lim, &c->x));
	if (c->x.resp_head_first != 0 && !c->x.resp_head_done &&
	    (c->deadline == 0 || c->deadline > end))
		c->deadline = end;
}

/* Read and handle the response head: X_DONE once it went out whole. */
static enum xstep
response_head_step(struct conn *c)
{
	ssize_t n;
	enum xstep h;

	for (;;) {
		enum ep_flush f = flush_client(c);

		if (f == EP_FLUSH_ERR) {
			conn_close(c, CONN_END_GUEST_WRITE);
			return X_CLOSED;
		}
		if (f == EP_FLUSH_BLOCKED)
			return X_BLOCKED;
		if (c->x.resp_head_done)
			return X_DONE;
		if (buf_len(&c->up.in) > 0) {
			h = response_head(c);
			if (h == X_CLOSED)
				return X_CLOSED;
			if (h == X_MOVED || c->state != CONN_EXCHANGE)
				return X_MOVED;
			if (h == X_DONE)
				continue;
		}
		if (ep_in_prepare(&c->up, WORKER_IOBUF) == 0)
			return upstream_failed(c, 502,
			    "response head too large");
		n = ep_read(&c->up, buf_tail(&c->up.in),
		    ep_in_prepare(&c->up, WORKER_IOBUF));
		if (n == EP_AGAIN)
			return X_BLOCKED;
		if (n == EP_ERR)
			return upstream_failed(c, 502, "upstream read error");
		buf_produce(&c->up.in, (size_t)n);
		if (n == 0 && buf_len(&c->up.in) == 0)
			return upstream_failed(c, 502, "upstream closed "
			    "without a response");
		if (c->x.resp_head_first == 0)
			c->x.resp_head_first = loop_now(c->worker->loop);
		stats_once(c->worker->stats, SH_TTFB, &c->x.t_ttfb,
		    loop_now_us(c->worker->loop));
		exchange_set_timeout(c);
	}
}

static enum step
exchange_step(struct conn *c)
{
	struct exchange *x = &c->x;
	const char *why = NULL;
	enum xstep r;
	enum body_result b;

	if (!x->req_done) {
		r = request_up(c);
		if (r == X_CLOSED)
			return STEP_CLOSED;
		if (r == X_MOVED)
			return STEP_PROGRESS;
		if (r == X_DONE)
			x->req_done = true;
	}
	r = response_head_step(c);
	if (r == X_CLOSED)
		return STEP_CLOSED;
	if (r == X_MOVED)
		return STEP_PROGRESS;
	if (r == X_BLOCKED)
		return STEP_BLOCKED;
	if (x->status == 101) {
		/* Upgrade allowed by policy and accepted upstream.  The
		 * exchange stays open through the tunnel and is audited once,
		 * by conn_close() when the tunnel ends (as Squid logs a
		 * tunnel), with the tunnel's bytes and time; its credential
		 * line is no longer needed. */
		conn_secrets_clear(x);
		conn_set_state(c, CONN_TUNNEL);
		conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
		return STEP_PROGRESS;
	}
	b = stream_body(c, &c->up, &c->client, &c->up.in, x->resp_body,
	    x->resp_dechunk, &x->resp_left, &x->resp_chunk, &c->resp_pending,
	    &c->resp_framed, &x->bytes_down, &why);
	if (b == BODY_ERR || b == BODY_WRITE_ERR) {
		conn_close(c, CONN_END_RESP_BODY);
		return STEP_CLOSED;
	}
	if (b == BODY_OPEN)
		return STEP_BLOCKED;
	x->resp_done = true;
	if (x->resp_body == HTTP_BODY_CLOSE || buf_len(&c->up.in) > 0)
		c->upstream.reusable = false;	/* extra bytes: do not trust it */
	if (!x->req_done) {
		/* The server answered before the whole request: finish
		 * this one and do not reuse either side. */
		c->must_close = true;
		c->upstream.reusable = false;
	}
	if (!c->upstream.reusable)
		upstream_close(&c->upstream);
	conn_exchange_end(c);
	return c->state == CONN_CLOSED ? STEP_CLOSED : STEP_PROGRESS;
}

/*
 * One step of the exchange; its deadline restarts whenever bytes moved
 * (or the request was all sent), with the timeout of what it now waits
 * for, so that a stream runs as long as it keeps sending.
 */
enum step
conn_http_exchange(struct conn *c)
{
	struct exchange *x = &c->x;
	uint64_t before = x->bytes_up + x->bytes_down;
	bool req_done = x->req_done;
	enum step r;

	r = exchange_step(c);
	if (r != STEP_CLOSED && c->state == CONN_EXCHANGE && (req_done != x->req_done ||
	    x->bytes_up + x->bytes_down != before))
		exchange_set_timeout(c);
	return r;
}
