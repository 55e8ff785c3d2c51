/*
 * headrw.c - the heads the gateway sends: the request head for the
 * upstream, the response head for the guest.  Pure: slices in, bytes
 * out.  See headrw.h.
 *
 * Framing is the gateway's own, from the body it streams: its length, or
 * the codings the sender listed for a chunked body (forwarded as listed,
 * RFC 9112 section 6.1).  The sender's framing and hop-by-hop fields are
 * never copied by the header loops, so no header rule can drop or
 * duplicate them.
 */
#include "headrw.h"

#include <string.h>

/* "Name: value\r\n" without a format pass. */
void
headrw_header(struct buf *b, const struct http_header *h)
{
	buf_append(b, h->name.p, h->name.len);
	buf_append(b, ": ", 2);
	buf_append(b, h->value.p, h->value.len);
	buf_append(b, "\r\n", 2);
}

void
headrw_length(struct buf *b, bool has_length, uint64_t length)
{
	char digits[24];
	size_t i = sizeof(digits);

	if (!has_length)
		return;
	do {
		digits[--i] = (char)('0' + length % 10);
		length /= 10;
	} while (length > 0);
	buf_appends(b, "Content-Length: ");
	buf_append(b, digits + i, sizeof(digits) - i);
	buf_append(b, "\r\n", 2);
}

void
headrw_codings(struct buf *b, const struct http_header *h, size_t n)
{
	const char *sep = "Transfer-Encoding: ";
	size_t i;

	for (i = 0; i < n; i++) {
		if (!http_name_is(&h[i].name, "transfer-encoding"))
			continue;
		buf_appends(b, sep);
		buf_append(b, h[i].value.p, h[i].value.len);
		sep = ", ";
	}
	if (sep[0] == ',')
		buf_append(b, "\r\n", 2);
}

/*
 * The request head for the upstream.  Its framing
 * is the gateway's own, from the body it streams: its length, or the
 * codings the guest listed for a chunked body (forwarded as listed, RFC
 * 9112 section 6.1).  The guest's fields are never copied by the header
 * loop, so no header rule (hop-by-hop or otherwise) can drop or
 * duplicate them.
 */
void
headrw_request(struct buf *b, const struct http_request *req,
    const struct headrw_req *o)
{
	const char *host = o->host;
	const struct http_slice *path = &req->path;
	size_t i;
	bool v6 = strchr(host, ':') != NULL;

	/* The hot path of every request: no printf. */
	buf_append(b, req->method.p, req->method.len);
	buf_append(b, " ", 1);
	buf_append(b, path->p, path->len);
	buf_appends(b, req->minor == 0 ? " HTTP/1.0\r\nHost: " :
	    " HTTP/1.1\r\nHost: ");
	if (v6)
		buf_append(b, "[", 1);
	buf_appends(b, host);
	if (v6)
		buf_append(b, "]", 1);
	if (o->port != (o->tls ? 443 : 80))
		buf_appendf(b, ":%u", o->port);
	buf_append(b, "\r\n", 2);
	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (http_name_is(&h->name, "host") ||
		    http_is_framing(&h->name) ||
		    http_is_hop_by_hop(h, req->headers, req->nheaders))
			continue;
		if (o->drop != NULL && http_name_is(&h->name, o->drop))
			continue;
		headrw_header(b, h);
	}
	if (req->body == HTTP_BODY_CHUNKED)
		headrw_codings(b, req->headers, req->nheaders);
	else
		headrw_length(b, req->has_content_length,
		    req->content_length);
	if (o->upgrade)
		buf_appendf(b, "Connection: Upgrade\r\nUpgrade: %.*s\r\n",
		    (int)req->upgrade_proto.len, req->upgrade_proto.p);
	else if (req->minor == 0 && req->keep_alive)
		buf_appends(b, "Connection: keep-alive\r\n");
	if (o->extra != NULL)
		buf_append(b, o->extra, o->extra_len);
	buf_append(b, "\r\n", 2);
}

void
headrw_response(struct buf *b, const struct http_response *resp,
    const struct headrw_resp *o)
{
	char status[16];
	size_t i;

	/* No printf on the hot path: the parser took three digits. */
	memcpy(status, "HTTP/1.1 000 ", 13);
	status[9] = (char)('0' + resp->status / 100 % 10);
	status[10] = (char)('0' + resp->status / 10 % 10);
	status[11] = (char)('0' + resp->status % 10);
	buf_append(b, status, 13);
	buf_append(b, resp->reason.p, resp->reason.len);
	buf_append(b, "\r\n", 2);
	for (i = 0; i < resp->nheaders; i++) {
		const struct http_header *h = &resp->headers[i];

		if (http_is_framing(&h->name) ||
		    http_is_hop_by_hop(h, resp->headers, resp->nheaders))
			continue;
		headrw_header(b, h);
	}
	/* The framing the gateway streams by: the codings the upstream
	 * listed (RFC 9112 section 6.1; none for an HTTP/1.0 guest, which
	 * gets a chunked body de-chunked and close-delimited), else the
	 * length (a HEAD or 304 response keeps its Content-Length; 1xx and
	 * 204 may not carry one). */
	if (resp->body != HTTP_BODY_NONE && !o->dechunk)
		headrw_codings(b, resp->headers, resp->nheaders);
	if (resp->body != HTTP_BODY_CHUNKED)
		headrw_length(b, resp->has_content_length &&
		    resp->status >= 200 && resp->status != 204,
		    resp->content_length);
	if (o->upgrade != NULL) {
		/* Upgrade is hop-by-hop, but a 101 without it is no switch
		 * to any protocol (RFC 9110 section 15.2.2): strict clients
		 * (RFC 6455 ones) refuse it. */
		buf_appends(b, "Upgrade: ");
		buf_append(b, o->upgrade->p, o->upgrade->len);
		buf_appends(b, "\r\nConnection: Upgrade\r\n");
	}
	else if (o->close_after)
		buf_appends(b, "Connection: close\r\n");
	else if (o->http10)
		buf_appends(b, "Connection: keep-alive\r\n");
	buf_append(b, "\r\n", 2);
}
