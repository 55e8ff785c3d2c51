/*
 * conn.h - one intercepted guest connection and its state machine.
 *
 * A conn owns both sockets, both SSL objects, its buffers, its reference
 * to the runtime it started with, and the current HTTP exchange.  It
 * lives on one worker's loop for its whole life; nothing else touches it.
 * Every state change goes through conn_set_state() (traced at debug
 * level), and every end goes through conn_close(c, reason): the single
 * teardown, which writes the tunnel audit line and frees everything.
 *
 * The work is split by concern, each module with its own header, calls
 * running downward (docs/architecture.md, scripts/layers.txt):
 *   conn_dispatch   the top: events, the step table, timers, deadlines
 *   conn_tls        ClientHello peek, splice/bump decision, guest handshake
 *   conn_http       request heads: target, SNI binding, policy, head
 *                   rewriting; sending the gateway's replies
 *   conn_exchange   streaming one exchange: bodies both ways, response
 *                   head, 1xx/101, resend-once on a closing upstream
 *   conn_wait       waiting for the upstream, answering its failure
 *   conn_tunnel     raw tunnels (splice, WebSocket), the linger
 *   reply           the status pages (HTTP/1.1 and HTTP/2 alike)
 *   conn (this)     struct conn, the state setter, the teardown
 *   conn_secrets    credential injection for an exchange
 *   conn_audit      audit records
 *   exchange.h      one request and its response
 *   upstream.h      the upstream object: resolve, dial, verified TLS
 *   endpoint.h      one socket, plain or TLS
 *
 * Not thread-safe: a conn is touched only by its worker's thread (the
 * resolver's answer is posted back to that loop).
 */
#ifndef GW_CONN_H
#define GW_CONN_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "addr.h"
#include "buf.h"
#include "endpoint.h"
#include "exchange.h"
#include "hostname.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "peek.h"
#include "policy.h"
#include "timer.h"
#include "upstream.h"

struct worker;
struct runtime;
struct limits_config;
struct group_rt;
struct leaf;

#define CONN_MAGIC	0x636f6e6e	/* "conn" */

enum conn_state {
	CONN_PEEK = 0,		/* reading the ClientHello (MSG_PEEK) */
	CONN_TLS_ACCEPT,	/* guest handshake with a minted leaf */
	CONN_REQ_HEAD,		/* waiting for a request head */
	CONN_WAIT_UP,		/* waiting for the upstream (up_phase) */
	CONN_EXCHANGE,		/* request body up, response down */
	CONN_REPLY,		/* writing a reply the gateway made */
	CONN_TUNNEL,		/* opaque bytes both ways */
	CONN_LINGER,		/* reply sent, draining before close */
	CONN_H2,		/* HTTP/2 both ways (conn_h2.h) */
	CONN_CLOSED,
};

/*
 * Why a connection ended: the enum is what the code looks at (the audit
 * of a spliced flow, the linger); the code (its name in snake_case) is
 * the stable name the audit log's "end" and the metrics carry; the kind
 * says whether the end cut something short (a Squid result code's
 * _TIMEDOUT or _ABORTED); the text is for the log only.
 */
#define CONN_END_LIST(X) \
	X(NONE, "none", DONE, "(none)") \
	X(CLOSED, "closed", DONE, "closed") \
	X(SHUTDOWN, "shutdown", ABORTED, "gateway shutting down") \
	X(REGISTER, "register", ABORTED, "cannot register the socket") \
	X(NO_REQUEST, "no_request", TIMEDOUT, \
	    "no request before the timeout") \
	X(IDLE_KEEPALIVE, "idle_keepalive", TIMEDOUT, \
	    "idle keep-alive timeout") \
	X(IDLE, "idle", TIMEDOUT, "idle timeout") \
	X(RESPONSE_TIMEOUT, "response_timeout", TIMEDOUT, "response timeout") \
	X(NO_HELLO, "no_hello", TIMEDOUT, \
	    "no TLS ClientHello before the timeout") \
	X(HANDSHAKE_TIMEOUT, "handshake_timeout", TIMEDOUT, \
	    "guest TLS handshake timeout") \
	X(ASKED_CLOSE, "asked_close", DONE, "request asked for close") \
	X(GUEST_CLOSED, "guest_closed", DONE, "guest closed") \
	X(GUEST_CLOSED_MID, "guest_closed_mid", ABORTED, \
	    "guest closed mid-request") \
	X(GUEST_READ, "guest_read", ABORTED, "guest read error") \
	X(GUEST_WRITE, "guest_write", ABORTED, "guest write error") \
	X(REQ_BODY, "req_body", ABORTED, "request body aborted or malformed") \
	X(RESP_BODY, "resp_body", ABORTED, \
	    "response body aborted or malformed") \
	X(UPSTREAM_BROKEN, "upstream_broken", ABORTED, \
	    "upstream failed after the response began") \
	X(UPSTREAM_FAILED, "upstream_failed", ABORTED, "upstream failed") \
	X(CLOSED_BEFORE_HELLO, "closed_before_hello", ABORTED, \
	    "guest closed before its ClientHello") \
	X(SOCKET_BEFORE_HELLO, "socket_before_hello", ABORTED, \
	    "guest socket error before ClientHello") \
	X(HELLO_TOO_LARGE, "hello_too_large", ABORTED, \
	    "ClientHello too large") \
	X(NOT_TLS, "not_tls", ABORTED, "not TLS on the HTTPS port") \
	X(BAD_HELLO, "bad_hello", ABORTED, "malformed ClientHello") \
	X(BAD_SNI, "bad_sni", ABORTED, "invalid SNI") \
	X(DENIED, "denied", DONE, "denied by policy") \
	X(NO_CA, "no_ca", ABORTED, "no usable CA to intercept with") \
	X(LEAF, "leaf", ABORTED, "leaf minting failed") \
	X(LEAF_RATE, "leaf_rate", ABORTED, "guest over its leaf mint rate") \
	X(TLS_SETUP, "tls_setup", ABORTED, "guest TLS set-up failed") \
	X(HANDSHAKE, "handshake", ABORTED, "guest TLS handshake failed") \
	X(TUNNEL_GUEST_IO, "tunnel_guest_io", ABORTED, \
	    "tunnel: guest side I/O error") \
	X(TUNNEL_UP_IO, "tunnel_up_io", ABORTED, \
	    "tunnel: upstream side I/O error") \
	X(TUNNEL_CLOSED, "tunnel_closed", DONE, "tunnel closed") \
	X(H2_GUEST_ENDED, "h2_guest_ended", DONE, \
	    "h2: guest connection ended") \
	X(H2_GUEST_WRITE, "h2_guest_write", ABORTED, "h2: guest write error") \
	X(H2_FINISHED, "h2_finished", DONE, "h2: connection finished") \
	X(H2_UPSTREAM_IDLE, "h2_upstream_idle", TIMEDOUT, \
	    "h2: upstream idle timeout")

enum conn_end {
#define CONN_END_ENUM(name, code, kind, text)	CONN_END_##name,
	CONN_END_LIST(CONN_END_ENUM)
#undef CONN_END_ENUM
};

/* How an end left what was in progress. */
enum conn_end_kind {
	CONN_END_KIND_DONE = 0,		/* finished, or closed between requests */
	CONN_END_KIND_TIMEDOUT,		/* a deadline cut it */
	CONN_END_KIND_ABORTED,		/* an error, a refusal mid-way, a stop */
};

/* The text of a teardown reason (tables in the header: the audit, below
 * conn.c, names reasons too). */
static inline const char *
conn_end_str(enum conn_end why)
{
	static const char *const names[] = {
#define CONN_END_NAME(name, code, kind, text)	[CONN_END_##name] = text,
		CONN_END_LIST(CONN_END_NAME)
#undef CONN_END_NAME
	};

	return (size_t)why < ARRAY_SIZE(names) ? names[why] : "?";
}

/* The stable code of a teardown reason: "idle", "tunnel_up_io"... */
static inline const char *
conn_end_code(enum conn_end why)
{
	static const char *const codes[] = {
#define CONN_END_CODE(name, code, kind, text)	[CONN_END_##name] = code,
		CONN_END_LIST(CONN_END_CODE)
#undef CONN_END_CODE
	};

	return (size_t)why < ARRAY_SIZE(codes) ? codes[why] : "unknown";
}

static inline enum conn_end_kind
conn_end_kind(enum conn_end why)
{
	static const enum conn_end_kind kinds[] = {
#define CONN_END_KIND(name, code, kind, text)	\
	[CONN_END_##name] = CONN_END_KIND_##kind,
		CONN_END_LIST(CONN_END_KIND)
#undef CONN_END_KIND
	};

	return (size_t)why < ARRAY_SIZE(kinds) ? kinds[why] :
	    CONN_END_KIND_ABORTED;
}

struct slicer_vm;

struct conn {
	unsigned	magic;
	uint64_t	id;
	struct worker	*worker;
	struct runtime	*rt;		/* reference held */
	const struct group_rt *grp;	/* inside rt */
	struct conn	*prev, *next;	/* worker's list */
	enum conn_state	state;
	bool		tls_port;	/* accepted on the HTTPS port */
	bool		bumped;		/* guest side is TLS we terminate */
	bool		spliced;
	bool		must_close;	/* close after the current exchange */
	uint64_t	started_ms;	/* wall */
	uint64_t	deadline;	/* loop_now() ms; 0 = none */
	struct http_head_scan req_scan;	/* how far client.in's head was
					 * checked */
	struct timer	timer;		/* at the earliest deadline of c and
					 * its upstream (conn_dispatch.c) */

	struct addr	src;		/* guest */
	struct slicer_vm *vm;		/* its VM from Slicer, referenced;
					 * NULL if unknown (slicer.h) */
	struct addr	dst;		/* original destination */
	struct endpoint	client;		/* its in: from the guest */
	struct endpoint	up;		/* its in: from the upstream */

	/* TLS facts */
	bool		has_sni;
	char		*sni;		/* normalised, when has_sni */
	struct leaf	*leaf;		/* reference held while handshaking */
	struct policy_verdict conn_verdict;

	struct upstream	upstream;	/* its endpoint is up */

	/* buffers */
	struct buf	to_up;		/* generated head for upstream */
	struct buf	to_client;	/* generated head or reply */
	struct buf	retry_head;	/* copy of a head sent on a reused
					 * upstream, to resend once */

	struct exchange	x;
	size_t		req_pending, resp_pending;	/* framed, unsent */
	bool		req_framed, resp_framed;	/* framing ended */
	uint64_t	tunnel_up, tunnel_down;	/* tunnel byte counts */
	unsigned	requests;	/* on this connection */
	enum conn_end	end;		/* set by conn_close() (or the
					 * linger that leads to it) */
	bool		alpn_h2;	/* the guest offers h2: so does the
					 * upstream dial (conn_tls.c) */
	bool		alpn_http11;	/* ... and http/1.1 */
	struct h2conn	*h2;		/* CONN_H2 (conn_h2.h) */
	void		(*on_close)(struct conn *c); /* a carrier's own
					 * teardown (HTTP/2), run by
					 * conn_close() */
	bool		yield;		/* a step left work for the next
					 * round of the loop (conn_dispatch.c) */
	unsigned	holds;		/* loop + pending resolver job */
};

/* conn.c: a new connection in its first state, on w's list (no socket
 * yet).  Takes a reference on rt. */
struct conn *conn_alloc(struct worker *w, struct runtime *rt,
    const struct group_rt *grp, const struct addr *src,
    const struct addr *dst, bool tls_port);


/* conn_vm.c: the guest's VM (Slicer) in policy queries and audit lines. */
struct alog_record;
void conn_vm_query(const struct conn *c, struct policy_query *q);
void conn_vm_audit(const struct conn *c, struct alog_record *r);

/* The single teardown. */
void conn_close(struct conn *c, enum conn_end why);

void conn_set_state(struct conn *c, enum conn_state s);
/* A log line about c: "conn ID SRC -> DST: ..." (connlog.h). */
void conn_log(const struct conn *c, enum log_level level, const char *fmt,
    ...) PRINTF(3, 4);
const char *conn_state_str(enum conn_state s);


/* Deadline helpers (ms from now on the worker's clock; 0 clears). */
void conn_set_timeout(struct conn *c, uint64_t ms);

/* Half-close towards the guest and drain it briefly, then close. */
void conn_start_linger(struct conn *c, enum conn_end why);

/* What a step did (the dispatcher runs steps while they progress). */
enum step {
	STEP_CLOSED = -1,	/* it closed the connection */
	STEP_BLOCKED = 0,	/* nothing more until an event */
	STEP_PROGRESS = 1,	/* moved on: run the (new) state's step */
};



/* Drop one hold; the last one frees c (only once it is CLOSED). */
void conn_release(struct conn *c);



#endif
