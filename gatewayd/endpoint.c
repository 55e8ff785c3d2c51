/*
 * endpoint.c - one socket, plain or TLS: non-blocking I/O that skips the
 * futile syscall, readiness flags, pooled input storage.  See endpoint.h.
 */
#include "endpoint.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/*
 * Empty this thread's OpenSSL error queue before a call whose failure
 * SSL_get_error() classifies from it.  Asked on every TLS read and
 * write: ERR_clear_error() walks the whole queue each time, looking at
 * it costs a tenth of that, and an empty queue is the rule.
 */
static void
ssl_errors_clear(void)
{
	if (ERR_peek_error() != 0)
		ERR_clear_error();
}

void
ep_init(struct endpoint *e, struct bufpool *pool)
{
	memset(e, 0, sizeof(*e));
	e->io.fd = -1;
	e->pool = pool;
}

int
ep_open(struct endpoint *e, struct loop *loop, int fd, loop_io_cb cb)
{
	int one = 1;

	/* Heads and bodies go out in separate writes: no Nagle delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	e->io.fd = fd;
	e->io.cb = cb;
	e->ssl = NULL;
	e->eof = e->shut = e->rd_hup = false;
	/* Optimistic: a new socket may already hold data. */
	e->rd_ready = e->wr_ready = true;
	if (loop_io_add(loop, &e->io, false) != 0) {
		e->io.fd = -1;
		return -1;
	}
	e->loop = loop;
	return 0;
}

void
ep_events(struct endpoint *e, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		e->rd_ready = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		e->rd_hup = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		e->wr_ready = true;
}

void
ep_close(struct endpoint *e)
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
		loop_io_del(e->loop, &e->io);
		close(e->io.fd);
		e->io.fd = -1;
	}
	e->connected = false;
	buf_clear(&e->in);
	ep_in_release(e);
}

size_t
ep_in_prepare(struct endpoint *e, size_t min)
{
	if (min <= e->pool->size)
		return buf_prepare_pooled(&e->in, e->pool);
	return buf_prepare(&e->in, min);
}

void
ep_in_release(struct endpoint *e)
{
	buf_release_pooled(&e->in, e->pool);
}

void
ep_idle(struct endpoint *e)
{
	ep_in_release(e);
	/*
	 * SSL_MODE_RELEASE_BUFFERS frees OpenSSL's record buffers only when
	 * a read drains them; a last read that found no application data
	 * (a TLS 1.3 ticket, then WANT_READ) keeps a 17 KiB read buffer for
	 * as long as the connection idles.  SSL_free_buffers() refuses
	 * while a record is buffered or a write is pending: nothing is lost.
	 */
	if (e->ssl != NULL)
		(void)SSL_free_buffers(e->ssl);
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
		ssl_errors_clear();
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

		ssl_errors_clear();
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

enum ep_flush
ep_flush(struct endpoint *e, struct buf *b)
{
	while (buf_len(b) > 0) {
		ssize_t w = ep_write(e, buf_head(b), buf_len(b));

		if (w == EP_AGAIN)
			return EP_FLUSH_BLOCKED;
		if (w < 0)
			return EP_FLUSH_ERR;
		buf_consume(b, (size_t)w);
	}
	return EP_FLUSH_DONE;
}

void
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
