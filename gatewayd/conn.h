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
 * The work is split by concern:
 *   conn.c          life cycle, endpoints (plain or TLS I/O, readiness
 *                   flags), deadlines, the state dispatcher, raw tunnels
 *                   (splice, WebSocket), lingering close
 *   conn_tls.c      ClientHello peek, splice/bump decision, guest handshake
 *   conn_http.c     request heads: target, SNI binding, policy, head
 *                   rewriting, gateway-made replies
 *   conn_exchange.c streaming one exchange: bodies both ways, response
 *                   head, 1xx/101, resend-once on a closing upstream
 *   conn_secrets.c  credential injection hook
 *   conn_audit.c    audit records
 *   upstream.c      the upstream's own phases: resolve, dial the approved
 *                   address, verified TLS
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
#include "hostname.h"
#include "http.h"
#include "loop.h"
#include "peek.h"
#include "policy.h"

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

/* One side of the connection: a socket, maybe under TLS. */
struct endpoint {
	struct loop_io	io;		/* io.fd == -1 when closed */
	struct conn	*conn;
	SSL		*ssl;
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

/* The upstream side's own progress, beside the guest side's state. */
enum up_phase {
	UPH_IDLE = 0,		/* no upstream */
	UPH_RESOLVE,		/* name lookup on the resolver threads */
	UPH_CONNECT,		/* TCP connect in progress */
	UPH_TLS,		/* handshake and verification */
	UPH_READY,		/* usable */
	UPH_FAILED,		/* up_fail_* say why; answered on use */
};

/* Why the upstream is needed: what to dial once it is resolved. */
enum up_purpose {
	UP_HTTP = 0,		/* plain HTTP request */
	UP_HTTPS,		/* bumped: TLS to the real server */
	UP_SPLICE,		/* raw TCP for a spliced TLS flow */
};

/* The request/response pair in progress. */
struct exchange {
	bool		active;
	uint64_t	start_ms;	/* wall clock, for the audit log */
	uint64_t	start_mono;
	char		method[24];
	unsigned	method_bit;
	char		*url;		/* full URL for the log */
	size_t		path_off;	/* the request target in url */
	const char	*action;	/* "TCP_MISS", "TCP_DENIED"... */
	const char	*rule;		/* deciding rule label */
	bool		would_deny;	/* report mode let a DENY through */
	char		reason[300];	/* refusal / failure reason */
	const char	*code;		/* its static short form, for metrics */
	uint64_t	t_start, t_ttfb; /* util_now_us(); metrics timing */
	char		verify_error[160]; /* upstream certificate problem */
	char		content_type[64];  /* response Content-Type */
	const char	*secret;	/* injected secret name, or NULL */
	bool		via_sentinel;	/* ...swapped for a sentinel */
	int		status;
	uint64_t	bytes_up;	/* request bytes sent upstream */
	uint64_t	bytes_down;	/* response bytes sent to the guest */
	bool		h2;		/* a stream of an HTTP/2 connection */
	bool		head_request;
	bool		upgrade;
	/* the request's Upgrade value, which the 101 must choose from; a
	 * longer one is not kept, and no 101 then matches it */
	char		upgrade_proto[128];
	bool		req_keep_alive;
	bool		http10;		/* the guest spoke HTTP/1.0 */
	bool		reused;		/* on a kept-alive upstream */
	bool		retried;	/* already resent once */
	/* request body streaming */
	enum http_body	req_body;
	uint64_t	req_left;
	struct http_chunk_state req_chunk;
	bool		req_done;
	/* response */
	bool		resp_head_done;
	struct http_head_scan resp_scan; /* how far the head was checked */
	uint64_t	resp_head_first; /* loop_now() at its first byte */
	enum http_body	resp_body;
	uint64_t	resp_left;
	struct http_chunk_state resp_chunk;
	bool		resp_done;
	bool		resp_keep_alive;
	bool		resp_dechunk;	/* chunked to an HTTP/1.0 guest: sent
					 * de-chunked, delimited by the close */
};

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
	struct http_head_scan req_scan;	/* how far c_in's head was checked */
	uint64_t	up_idle_deadline; /* close the idle upstream then */
	uint64_t	up_last_used;	/* end of its last exchange */

	struct addr	src;		/* guest */
	struct slicer_vm *vm;		/* its VM from Slicer, referenced;
					 * NULL if unknown (slicer.h) */
	struct addr	dst;		/* original destination */
	struct endpoint	client;
	struct endpoint	up;

	/* TLS facts */
	bool		has_sni;
	char		sni[HOST_MAX + 1];	/* normalised */
	struct leaf	*leaf;		/* reference held while handshaking */
	struct policy_verdict conn_verdict;

	/* upstream target and progress */
	enum up_phase	up_phase;
	enum up_purpose	up_purpose;
	char		up_host[HOST_MAX + 1];	/* "" = IP literal */
	uint16_t	up_port;
	struct addr	up_addr;
	bool		up_reusable;	/* keep-alive to upstream possible */
	bool		up_used;	/* an exchange went over it */
	uint64_t	up_deadline;	/* connect_timeout for the phases */
	uint64_t	resolve_seq;	/* matches posted resolver results */
	int		up_fail_status;	/* 403, 502, 504 */
	const char	*up_fail_reason; /* short, static */
	char		up_fail_detail[400];
	char		up_fail_rule[64]; /* 403: refusal label, for the log */
	char		up_verify_error[160];

	/* buffers */
	struct buf	c_in;		/* from guest */
	struct buf	u_in;		/* from upstream */
	struct buf	to_up;		/* generated head for upstream */
	struct buf	to_client;	/* generated head or reply */
	struct buf	retry_head;	/* copy of a head sent on a reused
					 * upstream, to resend once */

	struct exchange	x;
	size_t		req_pending, resp_pending;	/* framed, unsent */
	bool		req_framed, resp_framed;	/* framing ended */
	uint64_t	tunnel_up, tunnel_down;	/* tunnel byte counts */
	unsigned	requests;	/* on this connection */
	const char	*close_reason;
	/* credential injection for the current request (conn_secrets.c) */
	const char	*secret_header;	/* header whose copies are dropped */
	char		*secret_line;	/* "Name: value\r\n", wiped on free */
	size_t		secret_line_len;
	unsigned	holds;		/* loop + pending resolver job */
	bool		up_writable;	/* epoll said the connect finished */
	uint64_t	t_dial, t_tls;	/* util_now_us(); metrics timing */
	bool		alpn_h2;	/* the guest offers h2: so does the
					 * upstream dial (conn_tls.c) */
	bool		alpn_http11;	/* ... and http/1.1 */
	struct h2conn	*h2;		/* CONN_H2 (conn_h2.h) */
};

/*
 * Take an accepted socket: dst is the original destination, already
 * recovered by the listener.  Takes a reference on rt.  On failure the
 * fd is closed and NULL returned (reason logged).
 */
struct conn *conn_new(struct worker *w, struct runtime *rt,
    const struct group_rt *grp, int fd, const struct addr *src,
    const struct addr *dst, bool tls_port);

/* Run the state machine until it blocks.  Safe to call at any time. */
void conn_progress(struct conn *c);

/* The single teardown.  reason is a static string for the log. */
void conn_close(struct conn *c, const char *reason);

void conn_set_state(struct conn *c, enum conn_state s);
const char *conn_state_str(enum conn_state s);

/* Called by the worker's tick: enforce deadlines. */
void conn_check_timeout(struct conn *c, uint64_t now);

/* Deadline helpers (ms from now on the worker's clock; 0 clears). */
void conn_set_timeout(struct conn *c, uint64_t ms);

/* Endpoint I/O.  > 0 bytes, 0 EOF, EP_AGAIN, EP_ERR. */
#define EP_AGAIN	(-1)
#define EP_ERR		(-2)
ssize_t ep_read(struct endpoint *e, char *p, size_t n);
ssize_t ep_write(struct endpoint *e, const char *p, size_t n);
/* Write from a buffer until empty or blocked; 1 empty, 0 blocked, -1 err. */
int ep_flush(struct endpoint *e, struct buf *b);
void ep_close(struct conn *c, struct endpoint *e);
/* An I/O buffer of c (c_in, u_in): storage from the worker's pool, at
 * least min bytes; returns the writable space. */
size_t conn_buf_prepare(struct conn *c, struct buf *b, size_t min);
/* Give an empty I/O buffer's storage back to the worker's pool. */
void conn_buf_release(struct conn *c, struct buf *b);

/* Register fd as endpoint e of c.  0 or -1 (fd left open). */
int conn_ep_open(struct conn *c, struct endpoint *e, int fd);
/* Half-close towards the guest and drain it briefly, then close. */
void conn_start_linger(struct conn *c, const char *reason);

/* Step functions of the other modules; each returns 1 if it made
 * progress, 0 if blocked, -1 after it closed the connection. */
int conn_tls_peek(struct conn *c);
int conn_tls_accept(struct conn *c);
int conn_http_request(struct conn *c);
int conn_http_exchange(struct conn *c);
int conn_http_reply(struct conn *c);
int conn_tunnel(struct conn *c);
int conn_linger(struct conn *c);

/* Gateway-made reply: queue status + body, then REPLY state. */
void conn_reply(struct conn *c, int status, const char *reason,
    const char *fmt, ...) PRINTF(4, 5);

/* Record a gateway-made answer in x (status, action, reason, the denied
 * count); shared by HTTP/1.1 replies and HTTP/2 streams. */
void conn_exchange_refusal(struct conn *c, struct exchange *x, int status,
    const char *reason);

/* Append "Name: value\r\n" to b (head rewriting). */
void conn_header_append(struct buf *b, const struct http_header *h);
/* Append "Content-Length: N" when has_length: the length of a forwarded
 * body is the gateway's own, never a copy of the sender's field. */
void conn_length_append(struct buf *b, bool has_length, uint64_t length);
/*
 * Append the message's transfer codings as its sender listed them (every
 * Transfer-Encoding field of h, in order, as one field): the body is
 * coded so, and a proxy forwards them (RFC 9112 section 6.1), not just
 * the final chunked.  Nothing when there is none.
 */
void conn_codings_append(struct buf *b, const struct http_header *h,
    size_t n);

/*
 * The deadline (ms from the last progress) of a connection in an
 * exchange: idle_timeout while it waits for the guest (the request body
 * is still coming and nothing of the response has), response_timeout
 * while it waits for the upstream (the response head, then each next
 * bytes of the response).  Pure.
 */
uint64_t conn_exchange_timeout(const struct limits_config *lim,
    const struct exchange *x);

/* Log the current exchange and reset it for the next request. */
void conn_exchange_end(struct conn *c);

/* conn_vm.c: the guest's VM (Slicer) in policy queries and audit lines. */
struct alog_record;
void conn_vm_query(const struct conn *c, struct policy_query *q);
void conn_vm_audit(const struct conn *c, struct alog_record *r);

/* conn_audit.c: one audit record per exchange / per tunnel. */
void conn_audit_exchange(struct conn *c);
void conn_audit_tunnel(struct conn *c, const char *reason);

/* Drop one hold; the last one frees c (only once it is CLOSED). */
void conn_release(struct conn *c);

/*
 * upstream.c: start dialling host (normalised name, or NULL: up_addr for
 * HTTP, the original destination otherwise) for purpose, in the
 * background: c->state is not changed.  Failures are kept in up_fail_*.
 */
void upstream_start(struct conn *c, enum up_purpose purpose,
    const char *host, uint16_t port);
/* Advance the connect and TLS phases; called on every wake-up. */
void upstream_step(struct conn *c);
/* Enforce connect_timeout on the phases (worker tick). */
void upstream_check_timeout(struct conn *c, uint64_t now);
/* Is the upstream (in progress, ready or failed) for this target? */
bool upstream_matches(const struct conn *c, enum up_purpose purpose,
    const char *host, const struct addr *ip, uint16_t port);
/*
 * A request is about to use an upstream dialled before it (ahead of it,
 * or kept alive): judge the request with the address that upstream has
 * (dialpolicy.h).  0, or -1 when refused (the failure is kept, answered
 * by conn_wait_upstream()).
 */
int upstream_recheck(struct conn *c);
/* CONN_WAIT_UP step: go on when the upstream is ready, answer a failure. */
int conn_wait_upstream(struct conn *c);
void upstream_close(struct conn *c);
/* May an idle upstream connection carry the next request? */
bool upstream_idle_alive(struct conn *c, uint64_t now);

/*
 * conn_secrets.c: decide credential injection for a bumped request to
 * host:port.  0 to go on (secret_header/secret_line set when a secret
 * applies), or 1 after queueing a 403 reply (credential refused).
 */
int conn_secrets_apply(struct conn *c, const struct http_request *req,
    const char *host, uint16_t port);
/* Wipe and free secret_line once the head carrying it is built. */
void conn_secrets_clear(struct conn *c);

/* conn_tls.c: a denied TLS flow that could not be bumped. */
void conn_tls_refuse(struct conn *c, const char *reason);

#endif
