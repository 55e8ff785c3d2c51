/*
 * reply.h - the gateway's own answers, the status pages (400, 403, 405,
 * 408, 421, 431, 500, 502, 504...): a plain-text body saying why, and
 * the reason again in X-Gateway-Reason.
 *
 * Owns: the status texts, the page bodies, the wording that HTTP/1.1 and
 * HTTP/2 share (a policy denial, a refused credential), the record of a
 * gateway answer in its exchange, the HTTP/1.1 reply (head and body
 * queued on the connection, then CONN_REPLY) and the HTTP/2 response
 * fields.  It does not send: conn_http.c flushes CONN_REPLY, conn_h2.c
 * submits a stream's response.  Callers are the steps and the
 * dispatcher, above; reply calls only the connection core below.
 */
#ifndef GW_REPLY_H
#define GW_REPLY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "h2.h"
#include "util.h"

struct buf;
struct conn;
struct exchange;
struct secrets_result;

/* Longest page body (a longer text is cut). */
#define REPLY_BODY_MAX	1024

/* One page, the same for both carriers. */
struct reply_page {
	int		status;
	const char	*reason;	/* static or outliving the page; the
					 * log's reason and X-Gateway-Reason
					 * (NULL: the status text) */
	char		body[REPLY_BODY_MAX];
	size_t		len;
};

/* "Forbidden" for 403; "Error" for a status without a text here. */
const char *reply_status_text(int status);

/* A page whose body is printf-formatted. */
void reply_page(struct reply_page *p, int status, const char *reason,
    const char *fmt, ...) PRINTF(4, 5);
void reply_vpage(struct reply_page *p, int status, const char *reason,
    const char *fmt, va_list ap) PRINTF(4, 0);
/* The policy's 403 for x (its URL without the query, rule, method);
 * why is the verdict's "ambiguous path" note, or NULL. */
void reply_page_denied(struct reply_page *p, const struct exchange *x,
    const char *group, const char *why);
/* A refused credential (403) or one too large to build (500); the
 * page names the host, never the URL (it could carry the sentinel). */
void reply_page_credential(struct reply_page *p,
    const struct secrets_result *res, const char *host, bool too_large);

/* Record a gateway answer in x: status, action (denied for a 403 unless
 * the caller refused it with its reason first, else gateway) and reason;
 * the first reason given is kept. */
void reply_record(struct exchange *x, int status, const char *reason);

/* HTTP/1.1: append p as a whole response to b (pure). */
void reply_h1(struct buf *b, const struct reply_page *p, bool close);
/* HTTP/1.1: record the page in the connection's exchange (begun if none
 * is), queue it in to_client (Connection: close if c->must_close) and
 * enter CONN_REPLY. */
void reply_send_page(struct conn *c, const struct reply_page *p);
void reply_send(struct conn *c, int status, const char *reason,
    const char *fmt, ...) PRINTF(4, 5);

/* HTTP/2: the response fields of p; they point into p and into o. */
#define REPLY_H2_FIELDS	6
struct reply_h2 {
	struct h2_field	f[REPLY_H2_FIELDS];
	char		status[8], length[24];
};
void reply_h2_fields(struct reply_h2 *o, const struct reply_page *p);

#endif
