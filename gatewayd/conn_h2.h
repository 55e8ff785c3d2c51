/*
 * conn_h2.h - an intercepted HTTP/2 connection (conn_h2.c, conn_h2_req.c).
 *
 * When the guest and the upstream both chose h2 in ALPN (the guest is
 * answered with what the upstream selected, see conn_tls.c), the
 * connection leaves the HTTP/1.1 state machine for CONN_H2: a server
 * session faces the guest, a client session faces this guest's own
 * upstream connection (never shared), and every guest stream is an
 * exchange of its own: judged by policy with its full URL, bound to the
 * SNI, given its secret, logged on one audit line.  DATA is relayed as
 * it comes, and a side's receive window reopens only when the other
 * side's session took the bytes (see h2.h), so memory per connection is
 * bounded by the two connection windows plus the output buffers.
 *
 * Owned by the conn (c->h2); touched only by its worker.
 */
#ifndef GW_CONN_H2_H
#define GW_CONN_H2_H

#include "conn.h"
#include "h2.h"

struct h2conn;
struct reply_page;

/* Both sides chose h2 and the guest handshake is done: set up the
 * sessions and enter CONN_H2. */
void conn_h2_start(struct conn *c);
/* CONN_H2 step (the dispatcher's table). */
enum step conn_h2_step(struct conn *c);
/* The connection's own deadline (c->deadline, set only while no stream
 * is open): idle_timeout, and upstream_idle_timeout while the upstream
 * connection is up.  Each stream's deadlines run on a timer of its own. */
void conn_h2_timeout(struct conn *c, uint64_t now);
/* Teardown part of conn_close() (its on_close hook): audit the streams
 * still open, free. */
void conn_h2_free(struct conn *c);

/* Is "h2" what this TLS connection's ALPN selected? */
bool conn_h2_selected(SSL *ssl);

/* --- between conn_h2.c and conn_h2_req.c --- */

/* Trailers or a head kept between the sessions: packed name\0value\0. */
struct h2_kept {
	struct buf	b;
	size_t		n;
};

/* One direction of a stream: bytes taken from one session, not yet
 * packed by the other, then trailers. */
struct h2_dir {
	struct buf	q;
	bool		end;		/* the sender ended its body */
	struct h2_kept	trailers;
};

struct h2_stream {
	struct h2conn	*hc;
	struct h2_stream *next;
	int32_t		gsid;		/* guest-side id */
	int32_t		usid;		/* upstream id; 0 = none (replied by
					 * the gateway, or upstream gone) */
	bool		g_open;		/* guest side not closed yet */
	bool		u_open;
	bool		expired;	/* a deadline of its passed: the
					 * next one ends the connection */
	struct exchange	x;		/* this stream's record */
	uint64_t	last_ms;	/* loop clock of the last progress */
	struct timer	timer;		/* on the worker's heap, at or before
					 * the stream's deadline (re-armed
					 * lazily, see conn_h2.c) */
	struct h2_dir	req;		/* guest -> upstream */
	struct h2_dir	resp;		/* upstream (or gateway) -> guest */
	/* the injected value, sent without copy and never indexed; wiped
	 * once the HEADERS frame has left */
	char		*secret_value;
	size_t		secret_len;
};

struct h2conn {
	struct conn	*c;
	struct h2	*g;		/* server session, facing the guest */
	struct h2	*u;		/* client session, facing upstream */
	struct buf	g_out, u_out;	/* frames to write */
	struct h2_stream *streams;
	unsigned	nstreams;
	bool		up_dead;	/* upstream session ended */
	bool		idle_goaway;	/* GOAWAY sent for idleness */
	enum conn_end	idle_end;	/* why, once idle_goaway is set */
};

/* conn_h2_req.c: judge a request block on stream s and either submit it
 * upstream (s->usid set) or queue the gateway's answer. */
void conn_h2_request(struct h2conn *hc, struct h2_stream *s,
    const struct h2_block *b);
/* A gateway-made response on s: status, reason (for the log and the
 * X-Gateway-Reason field) and a plain-text body, a page of reply.h. */
void conn_h2_reply(struct h2conn *hc, struct h2_stream *s, int status,
    const char *reason, const char *fmt, ...) PRINTF(5, 6);
void conn_h2_reply_page(struct h2conn *hc, struct h2_stream *s,
    const struct reply_page *p);
/* What s waits for changed (its request ended, its upstream side
 * closed): move its timer to the deadline that now applies. */
void conn_h2_stream_arm(struct h2conn *hc, struct h2_stream *s);
/* The upstream has s's turn (response_timeout applies, not idle). */
bool conn_h2_up_turn(const struct h2_stream *s);
/* When s times out (0: it has no deadline, the guest side closed). */
uint64_t conn_h2_stream_deadline(const struct h2conn *hc,
    const struct h2_stream *s);

/* Copy the fields of a block (no pseudo-headers when skip_pseudo). */
void h2_kept_set(struct h2_kept *k, const struct h2_field *f, size_t n,
    bool skip_pseudo);
/* Unpack into f (at most max fields).  Returns the count. */
size_t h2_kept_fields(const struct h2_kept *k, struct h2_field *f,
    size_t max);

#endif
