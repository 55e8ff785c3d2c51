/*
 * endpoint.h - one socket of a connection, plain or under TLS: its
 * readiness as epoll last told it, its input buffer (storage from the
 * worker's pool while it holds bytes), and I/O that never blocks.
 *
 * An endpoint knows nothing of connections: its owner embeds it, sets the
 * event callback, and is told of readiness through it.  Owned by the
 * thread of the loop it is registered on.
 */
#ifndef GW_ENDPOINT_H
#define GW_ENDPOINT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "loop.h"

struct endpoint {
	struct loop_io	io;		/* io.fd == -1 when closed */
	struct loop	*loop;		/* registered on, while open */
	struct bufpool	*pool;		/* storage of in */
	SSL		*ssl;
	struct buf	in;		/* read from the peer, not yet used */
	bool		eof;		/* peer finished sending */
	bool		shut;		/* we finished sending */
	bool		connected;	/* upstream: TCP connect done */
	/*
	 * Edge-triggered readiness, as epoll last told it: set by an event,
	 * cleared when the kernel says EAGAIN.  I/O is not attempted while
	 * clear, which saves the syscalls of every futile try.
	 */
	bool		rd_ready;
	bool		wr_ready;
	/*
	 * epoll reported the peer's FIN (RDHUP/HUP).  Reads never block
	 * again, so rd_ready stays set: a short read must not clear it, or
	 * an end that came in the same batch as the last data (a
	 * close-delimited body) is never read, and no new edge comes.
	 */
	bool		rd_hup;
};

/* A closed endpoint whose input buffer draws on pool. */
void ep_init(struct endpoint *e, struct bufpool *pool);

/*
 * Register fd (non-blocking) on loop with the owner's callback (which
 * calls ep_events() first).  0, or -1 with fd left open.
 */
int ep_open(struct endpoint *e, struct loop *loop, int fd, loop_io_cb cb);
/* Note what epoll reported (readiness flags). */
void ep_events(struct endpoint *e, uint32_t events);
/* Close the socket and the TLS state (a best-effort close_notify), and
 * drop unread input.  Idempotent. */
void ep_close(struct endpoint *e);

/* I/O.  > 0 bytes, 0 EOF, EP_AGAIN, EP_ERR. */
#define EP_AGAIN	(-1)
#define EP_ERR		(-2)
ssize_t ep_read(struct endpoint *e, char *p, size_t n);
ssize_t ep_write(struct endpoint *e, const char *p, size_t n);

enum ep_flush {
	EP_FLUSH_ERR = -1,
	EP_FLUSH_BLOCKED = 0,
	EP_FLUSH_DONE = 1,
};
/* Write from b until it is empty or the socket blocks. */
enum ep_flush ep_flush(struct endpoint *e, struct buf *b);
/* Half-close our sending side. */
void ep_shutdown(struct endpoint *e);

/* Storage for e->in (from the pool when min fits), returning the
 * writable space; ep_in_release gives an empty buffer's storage back. */
size_t ep_in_prepare(struct endpoint *e, size_t min);
void ep_in_release(struct endpoint *e);
/* The peer went quiet (between requests): give back the input storage
 * and OpenSSL's record buffers, unless they still hold bytes. */
void ep_idle(struct endpoint *e);

#endif
