/*
 * http.h - strict, incremental HTTP/1.1 message-head parsing (RFC 9112)
 * and a chunked-body scanner.
 *
 * Pure: the parsers work on the caller's buffer, never allocate, keep no
 * hidden state and are safe on any thread.  Slices point into the
 * caller's buffer and are valid as long as it is.
 *
 * Return convention of the head parsers (picohttpparser's contract):
 *   > 0            the head is complete; that many bytes were consumed
 *                  (request line/status line, headers and the empty line);
 *   HTTP_NEED_MORE the buffer holds a valid prefix of a head;
 *   HTTP_ERR       the bytes are not acceptable; err gets the status the
 *                  gateway should answer (400, 414, 431, 501, 505) and a
 *                  short reason for the log.
 * The caller enforces its own limit on head size (pass len capped; a
 * NEED_MORE with len >= limit means 431).
 *
 * Smuggling defences (RFC 9112 sections 2.2, 5, 6.1, 6.3): bare LF or CR
 * anywhere in the head, whitespace between a field name and its colon,
 * obs-fold, a field name with non-token bytes, control bytes in values,
 * Content-Length with Transfer-Encoding, several differing Content-Length
 * values (identical repeated values are folded), a non-numeric or
 * overflowing Content-Length, Transfer-Encoding other than a final
 * "chunked" (501 for unknown codings), more than one Host, a missing Host
 * in HTTP/1.1, HTTP/1.0 with Transfer-Encoding, a Connection option
 * naming Content-Length, Transfer-Encoding or Host, an HTTP/1.1 Upgrade
 * request with a body (Content-Length > 0 or chunked): all are errors.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "util.h"

#define HTTP_NEED_MORE	(-2)
#define HTTP_ERR	(-1)
#define HTTP_MAX_HEADERS 100

struct http_slice {
	const char	*p;
	size_t		len;
};

struct http_header {
	struct http_slice	name;
	struct http_slice	value;	/* OWS trimmed at both ends */
};

struct http_error {
	int		status;		/* 400, 414, 431, 501, 505; 502 for
					 * every error in a response */
	const char	*reason;	/* static string, for logs */
};

/* Body framing derived from the head (RFC 9112 section 6.3). */
enum http_body {
	HTTP_BODY_NONE = 0,	/* no body */
	HTTP_BODY_LENGTH,	/* content_length (> 0) bytes */
	HTTP_BODY_CHUNKED,	/* chunked; use http_chunk_scan() */
	HTTP_BODY_CLOSE,	/* response only: until the connection closes */
};

struct http_request {
	struct http_slice	method;
	struct http_slice	target;		/* as sent */
	int			minor;		/* HTTP/1.<minor>: 0 or 1 */
	bool			absolute;	/* absolute-form target */
	struct http_slice	scheme;		/* absolute-form only */
	struct http_slice	authority;	/* absolute-form, and the whole
						 * target of CONNECT */
	struct http_slice	path;		/* origin-form path+query ("/" if
						 * absolute-form had none) */
	struct http_slice	host;		/* Host header value; len 0 if absent */
	struct http_header	headers[HTTP_MAX_HEADERS];
	size_t			nheaders;
	enum http_body		body;
	uint64_t		content_length;
	bool			has_content_length; /* even "0" */
	bool			keep_alive;	/* per version and Connection */
	bool			expect_continue;
	bool			upgrade;	/* Connection: upgrade + Upgrade */
	struct http_slice	upgrade_proto;	/* Upgrade header value */
};

struct http_response {
	int			status;
	int			minor;
	struct http_slice	reason;
	struct http_header	headers[HTTP_MAX_HEADERS];
	size_t			nheaders;
	enum http_body		body;
	uint64_t		content_length;
	bool			has_content_length;
	bool			keep_alive;
};

/* Parse a request head.  See the return convention above. */
ssize_t http_parse_request(const char *buf, size_t len,
    struct http_request *req, struct http_error *err) NONNULL(1, 3, 4);

/*
 * Parse a response head.  request_method_head tells that the request was
 * HEAD (no body whatever the headers say); 1xx, 204 and 304 have no body.
 * A response with neither length nor chunked has HTTP_BODY_CLOSE.
 */
ssize_t http_parse_response(const char *buf, size_t len,
    bool request_method_head, struct http_response *resp,
    struct http_error *err) NONNULL(1, 4, 5);

/*
 * The same parsers for a head that arrives in pieces: s (zeroed, or
 * http_head_scan_init()) remembers how far the previous calls got, so
 * each call checks only the bytes added since, and a head read one byte
 * at a time costs O(n), not O(n^2).  Same results as the one-shot
 * parser on the same bytes (return value and err; on HTTP_NEED_MORE or
 * HTTP_ERR the contents of *req / *resp are unspecified).  buf must hold
 * the same head as in the previous call, possibly longer: reset s
 * whenever bytes are taken from its start (a consumed head, a cleared
 * buffer).
 */
struct http_head_scan {
	size_t		pos;		/* private: first unfinished line */
	size_t		scanned;	/* private: its bytes checked */
	size_t		nheaders;	/* private: field lines checked */
	int		phase;		/* private */
	int		request;	/* private */
};

void http_head_scan_init(struct http_head_scan *s) NONNULL(1);
ssize_t http_scan_request(const char *buf, size_t len,
    struct http_head_scan *s, struct http_request *req,
    struct http_error *err) NONNULL(1, 3, 4, 5);
ssize_t http_scan_response(const char *buf, size_t len,
    struct http_head_scan *s, bool request_method_head,
    struct http_response *resp, struct http_error *err)
    NONNULL(1, 3, 5, 6);

/*
 * Is this header one of the hop-by-hop headers that a proxy removes
 * (Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate,
 * Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade), or named
 * in one of the message's Connection header values?
 */
bool http_is_hop_by_hop(const struct http_header *h,
    const struct http_header *all, size_t nall);

/*
 * Content-Length or Transfer-Encoding: never copied into a forwarded
 * head, which carries the framing the gateway computed instead.
 */
bool http_is_framing(const struct http_slice *name);

/*
 * The protocol a 101 switches to (RFC 9110 section 7.8): the response's
 * Upgrade field, into *chosen.  False when it is missing, empty,
 * repeated, or names a protocol that is not in offered (the request's
 * Upgrade value; names compared case-insensitively).
 */
bool http_upgrade_chosen(const struct http_response *resp,
    const struct http_slice *offered, struct http_slice *chosen);

/*
 * Case-insensitive comparison of a slice with the n bytes at p.  Inline,
 * as the helpers below: called for every field of every head.  The
 * first byte is compared with its case bit set first: a filter that
 * never turns away an equal name, and spares most of the calls.
 */
static inline bool
http_slice_caseeq(const struct http_slice *a, const char *p, size_t n)
{
	return a->len == n && (n == 0 || ((unsigned char)a->p[0] | 0x20) ==
	    ((unsigned char)p[0] | 0x20)) && util_ascii_caseeq(a->p, p, n);
}

/* Case-insensitive comparison of a header name with a C string (mostly
 * a literal, whose length the compiler then knows). */
static inline bool
http_name_is(const struct http_slice *name, const char *s)
{
	return http_slice_caseeq(name, s, strlen(s));
}

/* tchar of RFC 9110 section 5.6.2 (field names, methods, tokens). */
extern const bool http_tchar[256];

static inline bool
http_is_tchar(unsigned char c)
{
	return http_tchar[c];
}

/* A byte allowed in a field value: HTAB, SP, VCHAR, obs-text. */
static inline bool
http_is_field_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Incremental chunked-body scanner (RFC 9112 section 7.1). */
struct http_chunk_state {
	int		state;		/* private */
	uint64_t	remaining;	/* private: data bytes left in chunk */
	unsigned	line_len;	/* private: bytes in current size or
					 * trailer line, bounded */
	unsigned	trailer_bytes;	/* private: bound on trailers */
};

#define HTTP_CHUNK_DONE	0

void http_chunk_init(struct http_chunk_state *s);

/*
 * Scan len bytes of a chunked body.  *consumed gets the number of bytes
 * that belong to the body (to be forwarded as they are).  Returns
 * HTTP_CHUNK_DONE when the last-chunk and trailer section ended within
 * those bytes, HTTP_NEED_MORE when all len bytes were consumed and the
 * body goes on, HTTP_ERR on an invalid size line (non-hex, overflow past
 * 2^60, chunk-ext with bare LF, bad CRLF after data) with err set.
 */
int http_chunk_scan(struct http_chunk_state *s, const char *buf,
    size_t len, size_t *consumed, struct http_error *err) NONNULL(1, 4, 5);

/*
 * The same scanner, for de-chunking: consumes the framing at the start
 * of buf and then at most one run of chunk data, which is the last
 * *data bytes of the *consumed ones.  Returns as http_chunk_scan(); a
 * call that returns data always returns HTTP_NEED_MORE (the end, if it
 * is in buf, is found by the next call).
 */
int http_chunk_data(struct http_chunk_state *s, const char *buf,
    size_t len, size_t *consumed, size_t *data, struct http_error *err)
    NONNULL(1, 4, 5, 6);

#endif
