/*
 * headrw.h - rewriting message heads (pure, no I/O): the request head the
 * gateway sends upstream for a judged request, and the response head it
 * sends the guest.  tests/fuzz/fuzz_headrw.c checks that a rewritten
 * request reparses, with the strict parser, as exactly one well-framed
 * request equal to the one judged.
 */
#ifndef GW_HEADRW_H
#define GW_HEADRW_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"

struct headrw_req {
	const char	*host;		/* the judged host (name or IP text) */
	uint16_t	port;
	bool		tls;		/* default port 443, else 80 */
	const char	*drop;		/* header whose copies are dropped (an
					 * injected credential's), or NULL */
	const char	*extra;		/* "Name: value\r\n" to add, or NULL */
	size_t		extra_len;
	bool		upgrade;	/* ask for the request's Upgrade */
};

/* Append the upstream request head for req to b. */
void headrw_request(struct buf *b, const struct http_request *req,
    const struct headrw_req *o);

struct headrw_resp {
	bool		dechunk;	/* chunked to an HTTP/1.0 guest: no
					 * Transfer-Encoding, close-delimited */
	bool		http10;		/* the guest spoke HTTP/1.0 */
	bool		close_after;	/* Connection: close */
	const struct http_slice *upgrade; /* a 101's chosen protocol */
};

/* Append the guest response head for resp to b. */
void headrw_response(struct buf *b, const struct http_response *resp,
    const struct headrw_resp *o);

/* Append "Name: value\r\n" to b. */
void headrw_header(struct buf *b, const struct http_header *h);
/* Append "Content-Length: N" when has_length: the length of a forwarded
 * body is the gateway's own, never a copy of the sender's field. */
void headrw_length(struct buf *b, bool has_length, uint64_t length);
/*
 * Append the message's transfer codings as its sender listed them (every
 * Transfer-Encoding field of h, in order, as one field): the body is
 * coded so, and a proxy forwards them (RFC 9112 section 6.1), not just
 * the final chunked.  Nothing when there is none.
 */
void headrw_codings(struct buf *b, const struct http_header *h, size_t n);

#endif
