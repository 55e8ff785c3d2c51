/*
 * exchange.h - one request and its response: the target (URL, method),
 * the policy decision, the injected secret, what the audit record says,
 * and the body framing both ways.
 *
 * Owned by what carries it: an HTTP/1.1 connection today (one at a time,
 * struct conn's x), an HTTP/2 stream next.  It holds no socket; the
 * carrier streams the bytes and the exchange keeps the account.
 */
#ifndef GW_EXCHANGE_H
#define GW_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"

struct limits_config;
struct loop;

/* What became of an exchange (Squid's result codes name the same). */
enum exchange_action {
	XA_UNSET = 0,
	XA_MISS,		/* forwarded (TCP_MISS) */
	XA_DENIED,		/* refused by policy or for a credential */
	XA_GATEWAY,		/* answered by the gateway otherwise (NONE) */
	XA_TUNNEL,		/* a 101 turned it into a tunnel */
};

/*
 * Why the gateway refused a request or a flow (an exchange_action of
 * XA_DENIED, a tunnel refused at its ClientHello or for its address): the
 * reason label of gatewayd_denials_total, as the code, the enum's name in
 * snake_case (docs/metrics.md).  The codes are stable; a new reason gets
 * a new one.
 */
#define DENY_REASON_LIST(X) \
	X(NONE, "none") \
	X(EGRESS_POLICY, "egress_policy") \
	X(CREDENTIAL_REFUSED, "credential_refused") \
	X(DESTINATION_REFUSED, "destination_refused")

enum deny_reason {
#define DENY_REASON_ENUM(name, code)	DENY_##name,
	DENY_REASON_LIST(DENY_REASON_ENUM)
#undef DENY_REASON_ENUM
};

/* Longest refusal / failure reason kept for the audit log. */
#define EXCHANGE_REASON_MAX	299
/* The response Content-Type kept for the audit log (longer: cut). */
#define EXCHANGE_CTYPE_MAX	63
/* Longest Upgrade value of a request that a 101 may answer. */
#define EXCHANGE_UPGRADE_MAX	127

/* The request/response pair in progress. */
struct exchange {
	bool		active;
	uint64_t	start_ms;	/* wall clock, for the audit log */
	uint64_t	start_mono;
	char		method[24];
	unsigned	method_bit;
	char		*url;		/* full URL for the log */
	size_t		path_off;	/* the request target in url */
	enum exchange_action action;
	const char	*rule;		/* deciding rule label */
	bool		would_deny;	/* report mode let a DENY through */
	char		*reason;	/* refusal / failure reason, or NULL
					 * (exchange_set_reason()) */
	enum deny_reason deny;		/* XA_DENIED: why (exchange_deny()) */
	uint64_t	t_start, t_ttfb; /* util_now_us(); metrics timing */
	const char	*verify_error;	/* upstream certificate problem, in
					 * the upstream's failure, or NULL */
	char		*content_type;	/* response Content-Type, or NULL
					 * (exchange_set_content_type()) */
	const char	*secret;	/* injected secret name, or NULL */
	bool		via_sentinel;	/* ...swapped for a sentinel */
	/* credential injection (conn_secrets.c): the header whose copies
	 * are dropped, and "Name: value\r\n", wiped on free */
	const char	*secret_header;
	char		*secret_line;
	size_t		secret_line_len;
	int		status;
	uint64_t	bytes_up;	/* request bytes sent upstream */
	uint64_t	bytes_down;	/* response bytes sent to the guest */
	bool		h2;		/* a stream of an HTTP/2 connection */
	bool		head_request;
	bool		upgrade;
	/* the request's Upgrade value, which the 101 must choose from; a
	 * longer one than EXCHANGE_UPGRADE_MAX is not kept, and no 101 then
	 * matches it; NULL when none */
	char		*upgrade_proto;
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

/* Free what x owns (URL, reason, Upgrade value) and clear it. */
void exchange_reset(struct exchange *x);
/* Reset x and start it now (the loop's clocks, the wall clock), as
 * forwarded (XA_MISS) with method "-" until the request says more. */
void exchange_begin(struct exchange *x, struct loop *l);
/* Refuse x (XA_DENIED) for why. */
void exchange_deny(struct exchange *x, enum deny_reason why);
/* The stable code of a deny reason: "egress_policy"... */
const char *deny_reason_code(enum deny_reason why);
/* Replace the reason (cut at EXCHANGE_REASON_MAX bytes); NULL clears. */
void exchange_set_reason(struct exchange *x, const char *reason);
/* The reason, or NULL when there is none. */
const char *exchange_reason(const struct exchange *x);
/* Keep the request's Upgrade value (nothing when it is too long). */
void exchange_set_upgrade(struct exchange *x, const char *p, size_t len);
/* Keep the response's Content-Type, its first EXCHANGE_CTYPE_MAX bytes;
 * an empty one is none. */
void exchange_set_content_type(struct exchange *x, const char *p,
    size_t len);

/*
 * The deadline (ms from the last progress) of a connection in an
 * exchange: idle_timeout while it waits for the guest (the request body
 * is still coming and nothing of the response has), response_timeout
 * while it waits for the upstream (the response head, then each next
 * bytes of the response).  Pure.
 */
uint64_t conn_exchange_timeout(const struct limits_config *lim,
    const struct exchange *x);

#endif
