/*
 * h2.h - one HTTP/2 session (RFC 9113) over libnghttp2, bounded.
 *
 * A thin owner of an nghttp2_session that does no I/O itself: the caller
 * feeds received bytes to h2_recv() and drains frames to send with
 * h2_send() into a buffer it writes out.  Header blocks are collected and
 * handed over whole (nghttp2 gives them one field at a time), so the
 * header-list limit is the gateway's own.  What nghttp2 1.52 (Debian,
 * with its security backports) enforces is configured; what it does not
 * is enforced here (see h2.c for the table).  A limit that is crossed by
 * the peer ends the connection with GOAWAY ENHANCE_YOUR_CALM; a stream
 * the peer got wrong is reset (nghttp2's RFC 9113 section 8 checks).
 *
 * Flow control is manual: received DATA is not acknowledged to the peer
 * (WINDOW_UPDATE) until the caller says it was consumed (h2_consume), so
 * the peer can never have more in flight than the advertised windows:
 * H2_STREAM_WINDOW per stream, H2_CONN_WINDOW per connection.
 *
 * Not thread-safe: a session belongs to one connection on one worker.
 */
#ifndef GW_H2_H
#define GW_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "util.h"

#define H2_MAX_STREAMS		100		/* concurrent, per session */
#define H2_STREAM_WINDOW	(256 * 1024)	/* receive window per stream */
#define H2_CONN_WINDOW		(1024 * 1024)	/* receive window in all */
#define H2_MAX_FIELDS		128		/* fields per header block */
#define H2_MAX_CONTINUATIONS	8		/* per header block */
#define H2_OUT_HIGH		(64 * 1024)	/* h2_send stops above this */
/* Frames that cost the receiver work and carry no request: SETTINGS,
 * PING, PRIORITY, empty DATA, and streams the peer made us reset (the
 * "MadeYouReset" attack): a token bucket of this burst and refill. */
#define H2_CTRL_BURST		200
#define H2_CTRL_RATE		50		/* per second */
/* RST_STREAM from a client (rapid reset, CVE-2023-44487): nghttp2's own
 * token bucket, tighter than its default of 1000 / 33 per second. */
#define H2_RST_BURST		200
#define H2_RST_RATE		33

/* HTTP/2 error codes used by callers (RFC 9113 section 7). */
#define H2_NO_ERROR		0x0
#define H2_PROTOCOL_ERROR	0x1
#define H2_INTERNAL_ERROR	0x2
#define H2_REFUSED_STREAM	0x7
#define H2_CANCEL		0x8
#define H2_ENHANCE_YOUR_CALM	0xb

enum h2_role {
	H2_SERVER = 0,		/* facing the guest */
	H2_CLIENT,		/* facing the upstream */
};

enum h2_block_kind {
	H2_BLOCK_REQUEST = 0,	/* has :method */
	H2_BLOCK_RESPONSE,	/* final :status */
	H2_BLOCK_INFO,		/* 1xx :status */
	H2_BLOCK_TRAILERS,	/* no pseudo-header */
};

#define H2_F_NO_INDEX	0x1	/* never indexed (HPACK): credentials */

/* One header field.  Names are lower case (RFC 9113 section 8.2.1). */
struct h2_field {
	const char	*name;
	size_t		namelen;
	const char	*value;
	size_t		valuelen;
	unsigned	flags;		/* H2_F_* (sending only) */
};

/* f names name = v (vl bytes), no flags: the fields the gateway makes. */
static inline void
h2_field_set(struct h2_field *f, const char *name, const char *v, size_t vl)
{
	f->name = name;
	f->namelen = strlen(name);
	f->value = v;
	f->valuelen = vl;
	f->flags = 0;
}

/* A complete received header block.  Fields point into the session's
 * scratch space and are valid only during the callback. */
struct h2_block {
	enum h2_block_kind	kind;
	const struct h2_field	*f;
	size_t			n;
	bool			end_stream;
	bool			too_large;	/* over max_header_bytes or
						 * H2_MAX_FIELDS: fields
						 * dropped, n == 0 */
	size_t			list_bytes;	/* RFC 9113 6.5.2 size */
};

/* What a body source says after filling a DATA frame. */
enum h2_eof {
	H2_MORE = 0,		/* more to come */
	H2_END,			/* the body ends here (END_STREAM) */
	H2_END_TRAILERS,	/* ends; the callee called h2_submit_trailers */
};

#define H2_DEFER	(-1)	/* read_body: nothing yet; h2_resume later */
#define H2_FAIL		(-2)	/* read_body: reset the stream */

struct h2_cbs {
	/* A whole header block on stream sid.  Returns 0, or an error code
	 * (> 0) to reset the stream with. */
	uint32_t (*on_block)(void *arg, int32_t sid, const struct h2_block *b);
	/*
	 * DATA bytes of stream sid (n may be 0 when only end is set).
	 * Returns true if the caller keeps them (and calls h2_consume once
	 * they moved on), false if they are dropped (consumed at once).
	 */
	bool (*on_data)(void *arg, int32_t sid, const uint8_t *p, size_t n,
	    bool end);
	/* The stream is gone; code is the error that ended it, 0 if none. */
	void (*on_close)(void *arg, int32_t sid, uint32_t code);
	/* A body submitted with has_body: fill up to len bytes.  Returns the
	 * bytes written, H2_DEFER or H2_FAIL; *eof says if it ended. */
	ssize_t (*read_body)(void *arg, int32_t sid, uint8_t *p, size_t len,
	    enum h2_eof *eof);
	/* A HEADERS frame of stream sid left the session (optional): the
	 * values it referenced without a copy may be wiped now. */
	void (*on_headers_sent)(void *arg, int32_t sid);
};

struct h2_limits {
	size_t		max_header_bytes;	/* per block, RFC 9113 6.5.2
						 * accounting (name+value+32) */
};

struct h2;

/*
 * A new session.  A server expects the client preface first; a client
 * queues its own (and SETTINGS) for the first h2_send().  cbs and arg are
 * kept.  Never NULL (aborts on OOM like xmalloc).
 */
struct h2 *h2_new(enum h2_role role, const struct h2_limits *lim,
    const struct h2_cbs *cbs, void *arg) NONNULL(2, 3);
void h2_free(struct h2 *h);

/*
 * Feed n received bytes (now: the caller's clock in ms, for the rate
 * limits).  Returns 0, or -1 when the connection must end: h2_error()
 * says why, and h2_send() still yields the GOAWAY to write first.
 */
int h2_recv(struct h2 *h, uint64_t now, const uint8_t *p, size_t n)
    NONNULL(1);
/*
 * Append frames to send to out until it holds H2_OUT_HIGH bytes or
 * nothing is pending.  Returns 0, or -1 when the session failed.
 */
int h2_send(struct h2 *h, struct buf *out) NONNULL(1, 2);
/* Frames are pending (h2_send would add some). */
bool h2_want_write(const struct h2 *h) NONNULL(1);
/* Neither side has anything more to say: close the connection once the
 * output is written. */
bool h2_done(const struct h2 *h) NONNULL(1);
/* Why the session ended or failed, or NULL. */
const char *h2_error(const struct h2 *h) NONNULL(1);

/*
 * Client: open a stream with a request; has_body: the body comes from
 * read_body, else the HEADERS frame ends the stream.  Returns the stream
 * id, or -1 (no more streams: GOAWAY received, or ids exhausted).
 * Values flagged H2_F_NO_INDEX are not copied: they must stay valid
 * until on_headers_sent or on_close for the stream.
 */
int32_t h2_submit_request(struct h2 *h, const struct h2_field *f, size_t n,
    bool has_body) NONNULL(1, 2);
/* Server: the response head of stream sid.  0 or -1. */
int h2_submit_response(struct h2 *h, int32_t sid, const struct h2_field *f,
    size_t n, bool has_body) NONNULL(1, 3);
/* A non-final (1xx) head.  0 or -1. */
int h2_submit_info(struct h2 *h, int32_t sid, const struct h2_field *f,
    size_t n) NONNULL(1, 3);
/* Trailers ending stream sid (call from read_body before H2_END_TRAILERS,
 * or after the body ended without END_STREAM).  0 or -1. */
int h2_submit_trailers(struct h2 *h, int32_t sid, const struct h2_field *f,
    size_t n) NONNULL(1, 3);
/* A deferred body has more bytes (or its end). */
void h2_resume(struct h2 *h, int32_t sid) NONNULL(1);
/* n bytes of stream sid's DATA moved on: reopen the peer's window. */
void h2_consume(struct h2 *h, int32_t sid, size_t n) NONNULL(1);
/* Reset a stream (RST_STREAM code). */
void h2_reset(struct h2 *h, int32_t sid, uint32_t code) NONNULL(1);
/* Graceful end: GOAWAY with the last stream processed; streams in
 * progress finish. */
void h2_goaway(struct h2 *h, uint32_t code) NONNULL(1);

/* A GOAWAY frame (RFC 9113 6.8) appended to out, debug text optional. */
void h2_goaway_frame(struct buf *out, uint32_t last_sid, uint32_t code,
    const char *debug) NONNULL(1);
/* Do these bytes (at least 14) start like the HTTP/2 client preface? */
bool h2_is_preface(const char *p, size_t len);
#define H2_HTTP_1_1_REQUIRED	0xd

/* Does an Upgrade value (a token list, RFC 9110 7.8) name h2c?  Pure. */
bool h2_upgrade_is_h2c(const char *p, size_t len);

/* The protocol id for ALPN ("h2"), and the wire list "\x02h2\x08http/1.1". */
#define H2_ALPN		"h2"
extern const unsigned char h2_alpn_wire[];
extern const size_t h2_alpn_wire_len;

#endif
