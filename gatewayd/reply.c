/*
 * reply.c - the status pages.  See reply.h.
 *
 * One page serves both carriers: an HTTP/1.1 reply and an HTTP/2 stream
 * say the same words with the same headers, so a guest reads the same
 * reason whichever protocol its client chose.
 */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conn.h"
#include "exchange.h"
#include "secrets.h"
#include "worker.h"

const char *
reply_status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:  return "Error";
	}
}

void
reply_vpage(struct reply_page *p, int status, const char *reason,
    const char *fmt, va_list ap)
{
	int n = vsnprintf(p->body, sizeof(p->body), fmt, ap);

	p->status = status;
	p->reason = reason;
	p->len = n < 0 ? 0 : MIN((size_t)n, sizeof(p->body) - 1);
}

void
reply_page(struct reply_page *p, int status, const char *reason,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_vpage(p, status, reason, fmt, ap);
	va_end(ap);
}

void
reply_page_denied(struct reply_page *p, const struct exchange *x,
    const char *group, const char *why)
{
	/* The URL without its query: a query may carry a credential, and
	 * error pages never echo one. */
	reply_page(p, 403, "denied by egress policy",
	    "Blocked by egress policy: %.*s\n"
	    "The gateway of host group \"%s\" does not allow this "
	    "request (%s%s%s, %s).\n%s", (int)strcspn(x->url, "?"),
	    x->url, group, x->rule, why ? ": " : "", why ? why : "",
	    x->method, why ? "Servers read this path in different ways, so "
	    "a path rule cannot judge it; send it in its plain form.\n" :
	    "Retrying will not help; ask for the policy to be changed.\n");
}

void
reply_page_credential(struct reply_page *p, const struct secrets_result *res,
    const char *host, bool too_large)
{
	if (too_large) {
		reply_page(p, 500, "credential too large", "The gateway could "
		    "not build the credential for this request.\n");
		return;
	}
	reply_page(p, 403, "credential refused", "Credential refused by the "
	    "gateway: %s%s%s%s.\nThe request to %s was not sent.\n",
	    res->reason ? res->reason : "not valid here",
	    res->detail ? " (" : "", res->detail ? res->detail : "",
	    res->detail ? ")" : "", host);
}

void
reply_record(struct exchange *x, int status, const char *reason)
{
	x->status = status;
	if (x->action == XA_UNSET || x->action == XA_MISS)
		x->action = status == 403 ? XA_DENIED : XA_GATEWAY;
	if (reason != NULL && exchange_reason(x) == NULL)
		exchange_set_reason(x, reason);
}

static const char *
header_reason(const struct reply_page *p)
{
	return p->reason ? p->reason : reply_status_text(p->status);
}

void
reply_h1(struct buf *b, const struct reply_page *p, bool close)
{
	buf_appendf(b, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Gateway-Reason: %s\r\n"
	    "%s\r\n", p->status, reply_status_text(p->status), p->len,
	    header_reason(p), close ? "Connection: close\r\n" : "");
	buf_append(b, p->body, p->len);
}

void
reply_send_page(struct conn *c, const struct reply_page *p)
{
	struct exchange *x = &c->x;

	if (!x->active) {
		exchange_begin(x, c->worker->loop);
		c->requests++;
	}
	reply_record(x, p->status, p->reason);
	buf_free(&c->to_client);
	reply_h1(&c->to_client, p, c->must_close);
	x->bytes_down += buf_len(&c->to_client);
	x->req_done = x->resp_done = true;
	conn_set_state(c, CONN_REPLY);
}

void
reply_send(struct conn *c, int status, const char *reason,
    const char *fmt, ...)
{
	struct reply_page p;
	va_list ap;

	va_start(ap, fmt);
	reply_vpage(&p, status, reason, fmt, ap);
	va_end(ap);
	reply_send_page(c, &p);
}

void
reply_h2_fields(struct reply_h2 *o, const struct reply_page *p)
{
	static const char type[] = "text/plain; charset=utf-8";
	const char *why = header_reason(p);

	snprintf(o->status, sizeof(o->status), "%d", p->status);
	snprintf(o->length, sizeof(o->length), "%zu", p->len);
	h2_field_set(&o->f[0], ":status", o->status, strlen(o->status));
	h2_field_set(&o->f[1], "content-type", type, sizeof(type) - 1);
	h2_field_set(&o->f[2], "content-length", o->length, strlen(o->length));
	h2_field_set(&o->f[3], "cache-control", "no-store", 8);
	h2_field_set(&o->f[4], "x-content-type-options", "nosniff", 7);
	h2_field_set(&o->f[5], "x-gateway-reason", why, strlen(why));
}
