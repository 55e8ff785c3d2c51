/*
 * conn.c - connection life cycle, endpoint I/O, deadlines, the state
 * dispatcher and raw tunnels.  See conn.h for the split of the work.
 *
 * Handlers are edge-triggered and every step runs until it blocks, so
 * conn_progress() can be called after any event on either socket: each
 * step looks at what it can do now and does all of it.
 */
#include "conn.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "leafcache.h"
#include "log.h"
#include "runtime.h"
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
};

const char *
conn_state_str(enum conn_state s)
{
	return (size_t)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

void
conn_set_state(struct conn *c, enum conn_state s)
{
	if (log_enabled(LOG_LVL_DEBUG))
		log_debug("conn %llu: %s -> %s", (unsigned long long)c->id,
		    conn_state_str(c->state), conn_state_str(s));
	c->state = s;
}

void
conn_set_timeout(struct conn *c, uint64_t ms)
{
	c->deadline = ms ? loop_now(c->worker->loop) + ms : 0;
}

static void
conn_io_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct endpoint *e = (struct endpoint *)io;
	struct conn *c = e->conn;

	AN(c->magic == CONN_MAGIC);
	if (c->state == CONN_CLOSED)
		return;		/* stale event in the same batch */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		e->rd_ready = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		e->rd_hup = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		e->wr_ready = true;
	if (e == &c->up && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		c->up_writable = true;
	conn_progress(c);
}

static int
ep_open(struct conn *c, struct endpoint *e, int fd)
{
	int one = 1;

	/* Heads and bodies go out in separate writes: no Nagle delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	e->io.fd = fd;
	e->io.cb = conn_io_cb;
	e->conn = c;
	e->ssl = NULL;
	e->eof = e->shut = e->rd_hup = false;
	/* Optimistic: a new socket may already hold data. */
	e->rd_ready = e->wr_ready = true;
	if (loop_io_add(c->worker->loop, &e->io, false) != 0) {
		log_warn("conn %llu: epoll add", (unsigned long long)c->id);
		e->io.fd = -1;
		return -1;
	}
	return 0;
}

size_t
conn_buf_prepare(struct conn *c, struct buf *b, size_t min)
{
	struct bufpool *p = &c->worker->bufs;

	if (min <= p->size)
		return buf_prepare_pooled(b, p);
	return buf_prepare(b, min);
}

void
conn_buf_release(struct conn *c, struct buf *b)
{
	buf_release_pooled(b, &c->worker->bufs);
}

int
conn_ep_open(struct conn *c, struct endpoint *e, int fd)
{
	return ep_open(c, e, fd);
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
conn_new(struct worker *w, struct runtime *rt, const struct group_rt *grp,
    int fd, const struct addr *src, const struct addr *dst, bool tls_port)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->magic = CONN_MAGIC;
	c->id = ((uint64_t)w->idx << 48) | ++w->next_id;
	c->worker = w;
	c->rt = runtime_ref(rt);
	c->grp = grp;
	c->src = *src;
	c->dst = *dst;
	c->tls_port = tls_port;
	c->started_ms = util_wall_ms();
	c->client.io.fd = -1;
	c->up.io.fd = -1;
	c->holds = 1;
	/* The upstream head and its resend copy carry an injected
	 * credential: no copy of them may outlive its use. */
	c->to_up.sensitive = true;
	c->retry_head.sensitive = true;
	c->state = tls_port ? CONN_PEEK : CONN_REQ_HEAD;
	atomic_fetch_add(&w->gw->active, 1);
	list_add(w, c);
	if (ep_open(c, &c->client, fd) != 0) {
		close(fd);
		conn_close(c, "cannot register the socket");
		return NULL;
	}
	conn_set_timeout(c, rt->cfg->limits.header_timeout_ms);
	if (log_enabled(LOG_LVL_DEBUG)) {
		char s[ADDR_STRLEN], d[ADDR_STRLEN];

		log_debug("conn %llu: %s -> %s group %s %s",
		    (unsigned long long)c->id,
		    addr_ntop_port(src, s, sizeof(s)),
		    addr_ntop_port(dst, d, sizeof(d)), grp->cfg->name,
		    tls_port ? "tls" : "http");
	}
	conn_progress(c);
	return c;
}

void
conn_progress(struct conn *c)
{
	int r;

	if (c->up_phase == UPH_CONNECT || c->up_phase == UPH_TLS)
		upstream_step(c);
	do {
		switch (c->state) {
		case CONN_PEEK:		r = conn_tls_peek(c); break;
		case CONN_TLS_ACCEPT:	r = conn_tls_accept(c); break;
		case CONN_REQ_HEAD:	r = conn_http_request(c); break;
		case CONN_WAIT_UP:	r = conn_wait_upstream(c); break;
		case CONN_EXCHANGE:	r = conn_http_exchange(c); break;
		case CONN_REPLY:	r = conn_http_reply(c); break;
		case CONN_TUNNEL:	r = conn_tunnel(c); break;
		case CONN_LINGER:	r = conn_linger(c); break;
		case CONN_CLOSED:
		default:		r = -1; break;
		}
	} while (r > 0 && c->state != CONN_CLOSED);
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
	free(c);
}

void
ep_close(struct conn *c, struct endpoint *e)
{
	if (e->ssl != NULL) {
		/* Best effort close_notify; never wait for the peer's. */
		if (e->io.fd != -1 && !e->shut && SSL_is_init_finished(e->ssl))
			(void)SSL_shutdown(e->ssl);
		SSL_free(e->ssl);
		e->ssl = NULL;
		ERR_clear_error();
	}
	if (e->io.fd != -1) {
		loop_io_del(c->worker->loop, &e->io);
		close(e->io.fd);
		e->io.fd = -1;
	}
	e->connected = false;
}

void
conn_close(struct conn *c, const char *reason)
{
	struct gw *gw = c->worker->gw;

	if (c->state == CONN_CLOSED)
		return;
	c->close_reason = reason;
	/* A request in flight is logged as such; a TLS flow that never
	 * reached HTTP (spliced, refused, failed handshake) as a tunnel. */
	if (c->x.active)
		conn_audit_exchange(c);
	else if (c->spliced || (c->tls_port && c->requests == 0))
		conn_audit_tunnel(c, reason);
	if (log_enabled(LOG_LVL_DEBUG))
		log_debug("conn %llu: closed in %s after %u requests: %s",
		    (unsigned long long)c->id, conn_state_str(c->state),
		    c->requests, reason);
	free(c->x.url);
	c->x.url = NULL;
	conn_secrets_clear(c);		/* wipes a credential line */
	if (c->leaf != NULL) {
		leaf_unref(c->leaf);
		c->leaf = NULL;
	}
	ep_close(c, &c->up);
	ep_close(c, &c->client);
	buf_clear(&c->c_in);
	buf_clear(&c->u_in);
	conn_buf_release(c, &c->c_in);
	conn_buf_release(c, &c->u_in);
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

void
conn_check_timeout(struct conn *c, uint64_t now)
{
	upstream_check_timeout(c, now);
	if (c->state == CONN_CLOSED)
		return;
	/* A kept-alive upstream waiting for the guest's next request is
	 * the heavier half of an idle connection: let it go early. */
	if (c->state == CONN_REQ_HEAD && c->up.io.fd != -1 &&
	    c->up_idle_deadline != 0 && now >= c->up_idle_deadline &&
	    buf_len(&c->c_in) == 0) {
		upstream_close(c);
		buf_free(&c->retry_head);
	}
	if (c->deadline == 0 || now < c->deadline)
		return;
	switch (c->state) {
	case CONN_REQ_HEAD:
		if (buf_len(&c->c_in) == 0) {
			conn_close(c, c->requests ? "idle keep-alive timeout" :
			    "no request before the timeout");
			return;
		}
		c->must_close = true;
		conn_reply(c, 408, "request head not received in time",
		    "The request was not received in time.\n");
		break;
	case CONN_EXCHANGE:
		if (!c->x.resp_head_done && c->x.req_done) {
			upstream_close(c);
			c->must_close = true;
			conn_reply(c, 504, "upstream response timeout",
			    "%s did not answer in time.\n",
			    c->up_host[0] ? c->up_host : "The destination");
			break;
		}
		conn_close(c, c->x.resp_head_done ? "response timeout" :
		    "idle timeout");
		return;
	default:
		conn_close(c, c->state == CONN_PEEK ? "no TLS ClientHello "
		    "before the timeout" : c->state == CONN_TLS_ACCEPT ?
		    "guest TLS handshake timeout" : "idle timeout");
		return;
	}
	conn_progress(c);
}

ssize_t
ep_read(struct endpoint *e, char *p, size_t n)
{
	ssize_t r;

	if (e->rd_hup)
		e->rd_ready = true;	/* data or the end: never EAGAIN */

	if (e->ssl != NULL) {
		int sr, err;

		/* Skip the try when neither the socket nor OpenSSL's own
		 * buffer can have anything. */
		if (!e->rd_ready && !SSL_has_pending(e->ssl))
			return EP_AGAIN;
		ERR_clear_error();
		sr = SSL_read(e->ssl, p, (int)MIN(n, (size_t)INT32_MAX));
		if (sr > 0)
			return sr;
		err = SSL_get_error(e->ssl, sr);
		switch (err) {
		case SSL_ERROR_WANT_READ:
			e->rd_ready = false;
			return EP_AGAIN;
		case SSL_ERROR_WANT_WRITE:
			e->wr_ready = false;
			return EP_AGAIN;
		case SSL_ERROR_ZERO_RETURN:
			e->eof = true;
			return 0;
		case SSL_ERROR_SYSCALL:
			if (ERR_peek_error() == 0 && (sr == 0 || errno == 0)) {
				e->eof = true;
				return 0;
			}
			return EP_ERR;
		default:
			return EP_ERR;
		}
	}
	if (!e->rd_ready)
		return EP_AGAIN;
	r = recv(e->io.fd, p, n, 0);
	if (r > 0) {
		/* A short read drained the socket: more data will raise a
		 * new edge, so skip the recv that would say EAGAIN. */
		if ((size_t)r < n)
			e->rd_ready = false;
		return r;
	}
	if (r == 0) {
		e->eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR) {
		e->rd_ready = errno == EINTR;
		return EP_AGAIN;
	}
	return EP_ERR;
}

ssize_t
ep_write(struct endpoint *e, const char *p, size_t n)
{
	ssize_t r;

	if (!e->wr_ready)
		return EP_AGAIN;
	if (e->ssl != NULL) {
		int sr, err;

		ERR_clear_error();
		sr = SSL_write(e->ssl, p, (int)MIN(n, (size_t)INT32_MAX));
		if (sr > 0)
			return sr;
		err = SSL_get_error(e->ssl, sr);
		if (err == SSL_ERROR_WANT_WRITE) {
			e->wr_ready = false;
			return EP_AGAIN;
		}
		if (err == SSL_ERROR_WANT_READ) {
			e->rd_ready = false;
			return EP_AGAIN;
		}
		return EP_ERR;
	}
	r = send(e->io.fd, p, n, MSG_NOSIGNAL);
	if (r >= 0) {
		if ((size_t)r < n)
			e->wr_ready = false;	/* the socket buffer is full */
		return r;
	}
	if (errno == EAGAIN || errno == EINTR) {
		e->wr_ready = errno == EINTR;
		return EP_AGAIN;
	}
	return EP_ERR;
}

int
ep_flush(struct endpoint *e, struct buf *b)
{
	while (buf_len(b) > 0) {
		ssize_t w = ep_write(e, buf_head(b), buf_len(b));

		if (w == EP_AGAIN)
			return 0;
		if (w < 0)
			return -1;
		buf_consume(b, (size_t)w);
	}
	return 1;
}

/* Half-close our sending side towards e. */
static void
ep_shutdown(struct endpoint *e)
{
	if (e->shut || e->io.fd == -1)
		return;
	e->shut = true;
	if (e->ssl != NULL)
		(void)SSL_shutdown(e->ssl);
	(void)shutdown(e->io.fd, SHUT_WR);
	ERR_clear_error();
}

/*
 * Move bytes from one endpoint to the other through b until blocked.
 * Returns 0 while the direction is open, 1 once it is finished (EOF
 * seen and everything written), -1 on an I/O error.
 */
static int
pump(struct conn *c, struct endpoint *from, struct endpoint *to,
    struct buf *b, uint64_t *count)
{
	for (;;) {
		ssize_t n;
		int f;

		if (buf_len(b) > 0) {
			size_t before = buf_len(b);

			f = ep_flush(to, b);
			*count += before - buf_len(b);
			if (f < 0)
				return -1;
			if (f == 0)
				return 0;
		}
		if (from->eof) {
			ep_shutdown(to);
			conn_buf_release(c, b);
			return 1;
		}
		if (conn_buf_prepare(c, b, WORKER_IOBUF) == 0)
			return 0;
		n = ep_read(from, buf_tail(b), conn_buf_prepare(c, b,
		    WORKER_IOBUF));
		if (n == EP_AGAIN) {
			conn_buf_release(c, b);
			return 0;
		}
		if (n < 0)
			return -1;
		buf_produce(b, (size_t)n);
	}
}

int
conn_tunnel(struct conn *c)
{
	uint64_t before = c->tunnel_up + c->tunnel_down;
	int a, b;

	a = pump(c, &c->client, &c->up, &c->c_in, &c->tunnel_up);
	if (a < 0) {
		conn_close(c, "tunnel: guest side I/O error");
		return -1;
	}
	b = pump(c, &c->up, &c->client, &c->u_in, &c->tunnel_down);
	if (b < 0) {
		conn_close(c, "tunnel: upstream side I/O error");
		return -1;
	}
	if (a == 1 && b == 1) {
		conn_close(c, "tunnel closed");
		return -1;
	}
	if (c->tunnel_up + c->tunnel_down != before)
		conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
	return 0;
}

int
conn_linger(struct conn *c)
{
	char sink[4096];
	ssize_t n;

	do {
		n = ep_read(&c->client, sink, sizeof(sink));
	} while (n > 0);
	if (n == 0 || n == EP_ERR) {
		conn_close(c, c->close_reason ? c->close_reason : "closed");
		return -1;
	}
	return 0;
}

/* Start a graceful close once the final reply has been written. */
void
conn_start_linger(struct conn *c, const char *reason)
{
	c->close_reason = reason;
	upstream_close(c);
	ep_shutdown(&c->client);
	conn_set_state(c, CONN_LINGER);
	conn_set_timeout(c, LINGER_MS);
}
