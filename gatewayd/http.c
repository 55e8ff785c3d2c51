/*
 * http.c - strict HTTP/1.x message-head parser (RFC 9112, RFC 9110).
 *
 * What it is: a pure function from the bytes a guest (or an upstream)
 * sent so far to either "need more", "error with the status to answer",
 * or a parsed head whose slices point into the caller's buffer, plus the
 * framing of the body that follows (RFC 9112 section 6.3).  It is called
 * again on the grown buffer after each read, picohttpparser-style; a
 * caller that reads a head in many small pieces uses the resumable
 * front end of http_scan.c instead, which checks each line once and
 * calls these on the whole head when its end has arrived.
 *
 * What it is not: it neither reads nor writes sockets, does not decode
 * bodies (see http_chunk.c for the chunked scanner), does not validate
 * host names (hostname.c does) and does not decide policy.
 *
 * It is deliberately stricter than RFC 9112 allows where leniency would
 * let two parsers disagree about where a message ends: see the list in
 * http.h.  Other choices: leading empty lines (CRLF only) before a
 * request line are skipped (RFC 9112 section 2.2); an absolute-form
 * target with a query but no path ("http://h?q") is refused because the
 * path slice could not carry the "/" it implies; userinfo in an
 * absolute-form authority is refused (RFC 9110 section 4.2.4); a Host
 * value must look like an authority and contain no comma.
 */
#include "http.h"
#include "http_int.h"

#include <string.h>

#define HTTP_MAX_TARGET		8192		/* longer: 414 */
#define HTTP_MAX_LENGTH		(UINT64_C(1) << 60)

#define RESP_ERR_STATUS		502

static const struct http_slice slash = { "/", 1 };

static int
fail(struct http_error *err, int status, const char *reason)
{
	err->status = status;
	err->reason = reason;
	return HTTP_ERR;
}

/* tchar, RFC 9110 section 5.6.2: a table, looked up for every byte of
 * every field name. */
#define TCHAR_ALNUM(b) \
	[b + 0] = true, [b + 1] = true, [b + 2] = true, [b + 3] = true, \
	[b + 4] = true, [b + 5] = true, [b + 6] = true, [b + 7] = true, \
	[b + 8] = true, [b + 9] = true
const bool http_tchar[256] = {
	TCHAR_ALNUM('0'),
	TCHAR_ALNUM('A'), TCHAR_ALNUM('A' + 10), ['U'] = true, ['V'] = true,
	['W'] = true, ['X'] = true, ['Y'] = true, ['Z'] = true,
	TCHAR_ALNUM('a'), TCHAR_ALNUM('a' + 10), ['u'] = true, ['v'] = true,
	['w'] = true, ['x'] = true, ['y'] = true, ['z'] = true,
	['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true,
	['\''] = true, ['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true,
	['^'] = true, ['_'] = true, ['`'] = true, ['|'] = true, ['~'] = true,
};
#undef TCHAR_ALNUM

/* Characters of an authority: unreserved, sub-delims, ':', '[', ']', '%'. */
static bool
is_authority_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=:[]%", c) != NULL;
}

static bool
slice_eq(const struct http_slice *s, const char *lit)
{
	return http_name_is(s, lit);
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static struct http_slice
trim_ows(const char *p, size_t len)
{
	struct http_slice s;

	while (len > 0 && is_ows(p[0])) {
		p++;
		len--;
	}
	while (len > 0 && is_ows(p[len - 1]))
		len--;
	s.p = p;
	s.len = len;
	return s;
}

/*
 * Next element of a comma-separated list (RFC 9110 section 5.6.1),
 * OWS trimmed, empty elements skipped.  Returns false at the end.
 */
static bool
list_next(const struct http_slice *v, size_t *pos, struct http_slice *elem)
{
	while (*pos < v->len) {
		const char *start = v->p + *pos;
		const char *comma = memchr(start, ',', v->len - *pos);
		size_t n = comma ? (size_t)(comma - start) : v->len - *pos;

		*pos += n + (comma ? 1 : 0);
		*elem = trim_ows(start, n);
		if (elem->len > 0)
			return true;
	}
	return false;
}

/* Does any header called name have token among its list elements? */
static bool
headers_list_has(const struct http_header *h, size_t n, const char *name,
    const char *token)
{
	struct http_slice e;
	size_t i, pos;

	for (i = 0; i < n; i++) {
		if (!http_name_is(&h[i].name, name))
			continue;
		pos = 0;
		while (list_next(&h[i].value, &pos, &e))
			if (slice_eq(&e, token))
				return true;
	}
	return false;
}

/*
 * Find the end of the line that starts at pos: *eol gets the offset of
 * its CR.  Returns 1 for a complete line, HTTP_NEED_MORE or HTTP_ERR.
 * A partial line is checked for bytes no head line may hold, so that an
 * obviously bad head fails before the caller's size limit.
 */
int
http_find_line(const char *buf, size_t len, size_t pos, size_t *eol,
    struct http_error *err)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones * 0x80;
	size_t i;

	for (i = pos; i < len; i++) {
		unsigned char c;

		/* Eight bytes at a time while none of them is below 0x20 (CR,
		 * LF, HTAB, a control byte) or DEL: those end the line, or
		 * fail it, or need the byte loop below.  Any such byte sets
		 * its high bit in one of the two words (the classic "has a
		 * byte less than n" test, exact for n <= 0x80). */
		while (len - i >= 8) {
			uint64_t w;

			memcpy(&w, buf + i, 8);
			if ((((w - ones * 0x20) & ~w) |
			    (((w ^ ones * 0x7f) - ones) & ~(w ^ ones * 0x7f))) &
			    highs)
				break;
			i += 8;
		}
		if (i == len)
			break;
		c = (unsigned char)buf[i];
		if (c == '\r') {
			if (i + 1 == len)
				return HTTP_NEED_MORE;
			if (buf[i + 1] != '\n')
				return fail(err, 400, "bare CR");
			*eol = i;
			return 1;
		}
		if (c == '\n')
			return fail(err, 400, "bare LF");
		if (!http_is_field_byte(c))
			return fail(err, 400, "control byte in head");
	}
	return HTTP_NEED_MORE;
}

/* One field line [s, e) (RFC 9112 section 5). */
int
http_parse_field(const char *buf, size_t s, size_t e, struct http_header *h,
    struct http_error *err)
{
	size_t i = s;

	if (is_ows(buf[s]))
		return fail(err, 400, "obs-fold or leading whitespace");
	while (i < e && http_is_tchar((unsigned char)buf[i]))
		i++;
	if (i == e)
		return fail(err, 400, "field line without colon");
	if (buf[i] != ':')
		return fail(err, 400, is_ows(buf[i]) ?
		    "whitespace before colon" : "bad byte in field name");
	if (i == s)
		return fail(err, 400, "empty field name");
	h->name.p = buf + s;
	h->name.len = i - s;
	/* http_find_line() has checked the value bytes already. */
	h->value = trim_ows(buf + i + 1, e - i - 1);
	return 0;
}

/*
 * Parse the field lines from pos to the empty line.  Returns the offset
 * after the empty line, HTTP_NEED_MORE or HTTP_ERR.
 */
static ssize_t
parse_fields(const char *buf, size_t len, size_t pos,
    struct http_header *headers, size_t *nheaders, struct http_error *err)
{
	size_t eol;
	int r;

	*nheaders = 0;
	for (;;) {
		r = http_find_line(buf, len, pos, &eol, err);
		if (r != 1)
			return r;
		if (eol == pos)
			return (ssize_t)(eol + 2);
		if (*nheaders == HTTP_MAX_HEADERS)
			return fail(err, 431, "too many header fields");
		if (http_parse_field(buf, pos, eol, &headers[*nheaders], err) != 0)
			return HTTP_ERR;
		(*nheaders)++;
		pos = eol + 2;
	}
}

/* "HTTP/1.0" or "HTTP/1.1" in [p, p+n); 0 or 1, or -400 / -505. */
static int
parse_version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -400;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return -505;
	return p[7] - '0';
}

/* Authority syntax (no userinfo): non-empty, authority bytes only. */
static bool
authority_ok(const struct http_slice *a)
{
	size_t i;

	if (a->len == 0)
		return false;
	for (i = 0; i < a->len; i++)
		if (!is_authority_char((unsigned char)a->p[i]))
			return false;
	return true;
}

/* Absolute-form, RFC 9112 section 3.2.2: http or https only. */
static int
parse_absolute(struct http_request *req, struct http_error *err)
{
	const char *t = req->target.p, *sep;
	size_t n = req->target.len, i;

	sep = memchr(t, ':', n);
	if (sep == NULL)
		return fail(err, 400, "bad request-target");
	req->scheme.p = t;
	req->scheme.len = (size_t)(sep - t);
	if (!slice_eq(&req->scheme, "http") && !slice_eq(&req->scheme, "https"))
		return fail(err, 400, "unsupported URI scheme");
	i = req->scheme.len;
	if (n - i < 3 || memcmp(t + i, "://", 3) != 0)
		return fail(err, 400, "bad absolute-form target");
	i += 3;
	req->authority.p = t + i;
	while (i < n && t[i] != '/' && t[i] != '?')
		i++;
	req->authority.len = (size_t)(t + i - req->authority.p);
	if (memchr(req->authority.p, '@', req->authority.len) != NULL)
		return fail(err, 400, "userinfo in request-target");
	if (!authority_ok(&req->authority))
		return fail(err, 400, "bad authority in request-target");
	if (i == n) {
		req->path = slash;
	} else if (t[i] == '?') {
		return fail(err, 400, "query without path in request-target");
	} else {
		req->path.p = t + i;
		req->path.len = n - i;
	}
	req->absolute = true;
	return 0;
}

/* Authority-form (CONNECT): host ":" port, RFC 9112 section 3.2.3. */
static int
parse_authority_form(struct http_request *req, struct http_error *err)
{
	const struct http_slice *t = &req->target;
	const char *colon;
	size_t i, portlen;

	colon = memrchr(t->p, ':', t->len);
	if (colon == NULL || memchr(t->p, '@', t->len) != NULL ||
	    !authority_ok(t))
		return fail(err, 400, "bad CONNECT target");
	portlen = t->len - (size_t)(colon - t->p) - 1;
	if (colon == t->p || portlen == 0 || portlen > 5)
		return fail(err, 400, "bad CONNECT target");
	for (i = 1; i <= portlen; i++)
		if (colon[i] < '0' || colon[i] > '9')
			return fail(err, 400, "bad CONNECT port");
	req->authority = *t;
	return 0;
}

/* Methods are case-sensitive (RFC 9110 section 9.1). */
static bool
method_is(const struct http_request *req, const char *m)
{
	return req->method.len == strlen(m) &&
	    memcmp(req->method.p, m, req->method.len) == 0;
}

static int
parse_target(struct http_request *req, struct http_error *err)
{
	const struct http_slice *t = &req->target;
	size_t i;

	for (i = 0; i < t->len; i++) {
		unsigned char c = t->p[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return fail(err, 400, "bad byte in request-target");
	}
	if (method_is(req, "CONNECT"))
		return parse_authority_form(req, err);
	if (t->p[0] == '/') {
		req->path = *t;
		return 0;
	}
	if (t->len == 1 && t->p[0] == '*') {
		if (!method_is(req, "OPTIONS"))
			return fail(err, 400, "asterisk-form outside OPTIONS");
		req->path = *t;
		return 0;
	}
	return parse_absolute(req, err);
}

/* request-line = method SP request-target SP HTTP-version */
int
http_parse_request_line(const char *buf, size_t s, size_t e,
    struct http_request *req, struct http_error *err)
{
	const char *p = buf + s, *end = buf + e, *sp1, *sp2;
	int v;

	sp1 = memchr(p, ' ', (size_t)(end - p));
	if (sp1 == NULL || sp1 == p)
		return fail(err, 400, "bad request-line");
	req->method.p = p;
	req->method.len = (size_t)(sp1 - p);
	for (; p < sp1; p++)
		if (!http_is_tchar((unsigned char)*p))
			return fail(err, 400, "bad method");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (sp2 == NULL)
		return fail(err, 400, "bad request-line");
	req->target.p = sp1 + 1;
	req->target.len = (size_t)(sp2 - sp1 - 1);
	if (req->target.len == 0)
		return fail(err, 400, "empty request-target");
	if (req->target.len > HTTP_MAX_TARGET)
		return fail(err, 414, "request-target too long");
	v = parse_version(sp2 + 1, (size_t)(end - sp2 - 1));
	if (v < 0)
		return fail(err, -v, v == -505 ?
		    "unsupported HTTP version" : "bad HTTP version");
	req->minor = v;
	return parse_target(req, err);
}

/*
 * Content-Length (RFC 9110 section 8.6, RFC 9112 section 6.3): every
 * value, in every field and list element, must be 1*DIGIT and all must
 * be equal.  *present tells whether there was any.  0 or -1.
 */
static int
content_length(const struct http_header *h, size_t n, bool *present,
    uint64_t *out)
{
	struct http_slice e;
	size_t i, j, pos;
	uint64_t v;

	*present = false;
	*out = 0;
	for (i = 0; i < n; i++) {
		if (!http_name_is(&h[i].name, "content-length"))
			continue;
		pos = 0;
		if (!list_next(&h[i].value, &pos, &e))
			return -1;
		do {
			v = 0;
			for (j = 0; j < e.len; j++) {
				if (e.p[j] < '0' || e.p[j] > '9')
					return -1;
				v = v * 10 + (uint64_t)(e.p[j] - '0');
				if (v > HTTP_MAX_LENGTH)
					return -1;
			}
			if (*present && v != *out)
				return -1;
			*present = true;
			*out = v;
		} while (list_next(&h[i].value, &pos, &e));
	}
	return 0;
}

enum te_kind {
	TE_NONE = 0,		/* no Transfer-Encoding */
	TE_CHUNKED,		/* known codings, chunked once and final */
	TE_NOT_FINAL,		/* chunked missing or not final */
	TE_UNKNOWN,		/* a coding this gateway does not know */
	TE_BAD,			/* syntax error or chunked twice */
};

/* Transfer-Encoding, RFC 9112 section 6.1, across all its fields. */
static enum te_kind
transfer_encoding(const struct http_header *h, size_t n)
{
	static const char *known[] = {
		"gzip", "x-gzip", "deflate", "compress", "x-compress",
	};
	struct http_slice e;
	size_t i, j, k, pos;
	bool any = false, last_chunked = false, chunked = false;
	bool unknown = false, is_known;

	for (i = 0; i < n; i++) {
		if (!http_name_is(&h[i].name, "transfer-encoding"))
			continue;
		pos = 0;
		if (!list_next(&h[i].value, &pos, &e))
			return TE_BAD;
		do {
			for (j = 0; j < e.len; j++)
				if (!http_is_tchar((unsigned char)e.p[j]))
					return TE_BAD;
			any = true;
			last_chunked = slice_eq(&e, "chunked");
			if (last_chunked && chunked)
				return TE_BAD;
			chunked |= last_chunked;
			is_known = last_chunked;
			for (k = 0; k < ARRAY_SIZE(known); k++)
				is_known |= slice_eq(&e, known[k]);
			unknown |= !is_known;
		} while (list_next(&h[i].value, &pos, &e));
	}
	if (!any)
		return TE_NONE;
	if (!last_chunked)
		return TE_NOT_FINAL;
	return unknown ? TE_UNKNOWN : TE_CHUNKED;
}

/* keep-alive from the version and Connection (RFC 9112 section 9.3). */
static bool
keep_alive(const struct http_header *h, size_t n, int minor)
{
	if (headers_list_has(h, n, "connection", "close"))
		return false;
	return minor == 1 || headers_list_has(h, n, "connection", "keep-alive");
}

/* An authority without the scheme's default port (":80", ":443"). */
static struct http_slice
without_default_port(struct http_slice a, bool https)
{
	const char *port = https ? ":443" : ":80";
	size_t n = strlen(port);

	if (a.len > n && memcmp(a.p + a.len - n, port, n) == 0)
		a.len -= n;
	return a;
}

/*
 * Host: exactly one in 1.1, at most one in 1.0, authority syntax.  With
 * an absolute-form target, RFC 9112 3.2.2 has the recipient ignore Host;
 * a gateway that judged one name while the origin used the other would be
 * bypassed, so the two must name the same host and port.
 */
static int
request_host(struct http_request *req, struct http_error *err)
{
	size_t i, count = 0;

	for (i = 0; i < req->nheaders; i++) {
		if (!http_name_is(&req->headers[i].name, "host"))
			continue;
		if (++count > 1)
			return fail(err, 400, "several Host fields");
		req->host = req->headers[i].value;
	}
	if (count == 0 && req->minor == 1)
		return fail(err, 400, "missing Host");
	if (count == 1 && (!authority_ok(&req->host) ||
	    memchr(req->host.p, ',', req->host.len) != NULL ||
	    memchr(req->host.p, '@', req->host.len) != NULL))
		return fail(err, 400, "bad Host");
	if (req->absolute && count == 1) {
		bool https = slice_eq(&req->scheme, "https");
		struct http_slice a, h;

		a = without_default_port(req->authority, https);
		h = without_default_port(req->host, https);
		if (a.len != h.len || !util_ascii_caseeq(a.p, h.p, a.len))
			return fail(err, 400,
			    "Host differs from the request-target");
	}
	return 0;
}

/*
 * Headers a Connection option may not nominate (RFC 9110 7.6.1 lets a
 * sender make any field hop-by-hop): the gateway frames the body by
 * Content-Length and Transfer-Encoding and judges by Host, so a Connection
 * that drops one of them from the forwarded head while the gateway still
 * acts on it would make the upstream read the message differently.
 * Upgrade and TE are hop-by-hop anyway; nominating them is normal.
 */
static bool
connection_nominates_framing(const struct http_header *h, size_t n)
{
	return headers_list_has(h, n, "connection", "content-length") ||
	    headers_list_has(h, n, "connection", "transfer-encoding") ||
	    headers_list_has(h, n, "connection", "host");
}

static int
request_semantics(struct http_request *req, struct http_error *err)
{
	const struct http_header *h = req->headers;
	size_t n = req->nheaders, i;
	bool has_cl;
	enum te_kind te;

	if (request_host(req, err) != 0)
		return HTTP_ERR;
	if (connection_nominates_framing(h, n))
		return fail(err, 400, "Connection names a framing header");
	if (content_length(h, n, &has_cl, &req->content_length) != 0)
		return fail(err, 400, "bad Content-Length");
	req->has_content_length = has_cl;
	te = transfer_encoding(h, n);
	if (te != TE_NONE && has_cl)
		return fail(err, 400, "Content-Length with Transfer-Encoding");
	if (te != TE_NONE && req->minor == 0)
		return fail(err, 400, "Transfer-Encoding in HTTP/1.0");
	switch (te) {
	case TE_NONE:
		req->body = req->content_length > 0 ?
		    HTTP_BODY_LENGTH : HTTP_BODY_NONE;
		break;
	case TE_CHUNKED:
		req->body = HTTP_BODY_CHUNKED;
		break;
	case TE_UNKNOWN:
		return fail(err, 501, "unknown transfer coding");
	case TE_NOT_FINAL:
		return fail(err, 400, "chunked is not the final coding");
	case TE_BAD:
	default:
		return fail(err, 400, "bad Transfer-Encoding");
	}
	req->keep_alive = keep_alive(h, n, req->minor);
	/* RFC 9110 10.1.1 and 7.8: both are ignored in HTTP/1.0. */
	if (req->minor == 1) {
		req->expect_continue = headers_list_has(h, n, "expect",
		    "100-continue");
		for (i = 0; i < n; i++) {
			if (!http_name_is(&h[i].name, "upgrade"))
				continue;
			if (req->upgrade_proto.p != NULL)
				return fail(err, 400, "several Upgrade fields");
			req->upgrade_proto = h[i].value;
		}
		req->upgrade = req->upgrade_proto.len > 0 &&
		    headers_list_has(h, n, "connection", "upgrade");
		/* Nothing moves before the 101, so a body would stay unsent
		 * and the upstream would read what follows as it. */
		if (req->upgrade && req->body != HTTP_BODY_NONE)
			return fail(err, 400, "Upgrade request with a body");
	}
	return 0;
}

void
http_request_reset(struct http_request *req, struct http_error *err)
{
	memset(req, 0, offsetof(struct http_request, headers));
	req->nheaders = 0;
	req->body = HTTP_BODY_NONE;
	req->content_length = 0;
	req->has_content_length = false;
	req->keep_alive = false;
	req->expect_continue = false;
	req->upgrade = false;
	req->upgrade_proto.p = NULL;
	req->upgrade_proto.len = 0;
	err->status = 0;
	err->reason = NULL;
}

ssize_t
http_parse_request(const char *buf, size_t len, struct http_request *req,
    struct http_error *err)
{
	size_t pos = 0, eol;
	ssize_t end;
	int r;

	http_request_reset(req, err);

	/* RFC 9112 2.2: ignore empty lines before the request-line. */
	while (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
		pos += 2;
	r = http_find_line(buf, len, pos, &eol, err);
	if (r != 1)
		return r;
	if (http_parse_request_line(buf, pos, eol, req, err) != 0)
		return HTTP_ERR;
	end = parse_fields(buf, len, eol + 2, req->headers, &req->nheaders,
	    err);
	if (end < 0)
		return end;
	if (request_semantics(req, err) != 0)
		return HTTP_ERR;
	return end;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] */
int
http_parse_status_line(const char *buf, size_t s, size_t e,
    struct http_response *resp, struct http_error *err)
{
	const char *p = buf + s;
	size_t n = e - s;
	int v;

	if (n < 12 || p[8] != ' ')
		return fail(err, RESP_ERR_STATUS, "bad status-line");
	v = parse_version(p, 8);
	if (v < 0)
		return fail(err, RESP_ERR_STATUS, "bad response version");
	resp->minor = v;
	if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9')
		return fail(err, RESP_ERR_STATUS, "bad status code");
	resp->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + p[11] - '0';
	/* Tolerate a missing SP before an empty reason ("HTTP/1.1 200"). */
	if (n > 12 && p[12] != ' ')
		return fail(err, RESP_ERR_STATUS, "bad status-line");
	resp->reason.p = n > 12 ? p + 13 : p + 12;
	resp->reason.len = n > 12 ? n - 13 : 0;
	return 0;
}

static int
response_semantics(struct http_response *resp, bool head,
    struct http_error *err)
{
	const struct http_header *h = resp->headers;
	size_t n = resp->nheaders;
	bool has_cl;
	enum te_kind te;

	if (content_length(h, n, &has_cl, &resp->content_length) != 0)
		return fail(err, RESP_ERR_STATUS, "bad Content-Length");
	resp->has_content_length = has_cl;
	te = transfer_encoding(h, n);
	if (te == TE_BAD)
		return fail(err, RESP_ERR_STATUS, "bad Transfer-Encoding");
	if (te != TE_NONE && has_cl)
		return fail(err, RESP_ERR_STATUS,
		    "Content-Length with Transfer-Encoding");
	if (te != TE_NONE && resp->minor == 0)
		return fail(err, RESP_ERR_STATUS,
		    "Transfer-Encoding in HTTP/1.0");
	resp->keep_alive = keep_alive(h, n, resp->minor);
	/* RFC 9112 6.3, in its order. */
	if (head || resp->status < 200 || resp->status == 204 ||
	    resp->status == 304)
		resp->body = HTTP_BODY_NONE;
	else if (te == TE_CHUNKED || te == TE_UNKNOWN)
		resp->body = HTTP_BODY_CHUNKED;
	else if (te == TE_NOT_FINAL)
		resp->body = HTTP_BODY_CLOSE;
	else if (has_cl)
		resp->body = resp->content_length > 0 ?
		    HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	else
		resp->body = HTTP_BODY_CLOSE;
	if (resp->body == HTTP_BODY_CLOSE)
		resp->keep_alive = false;
	return 0;
}

void
http_response_reset(struct http_response *resp, struct http_error *err)
{
	resp->status = 0;
	resp->minor = 0;
	resp->reason.p = NULL;
	resp->reason.len = 0;
	resp->nheaders = 0;
	resp->body = HTTP_BODY_NONE;
	resp->content_length = 0;
	resp->has_content_length = false;
	resp->keep_alive = false;
	err->status = 0;
	err->reason = NULL;
}

ssize_t
http_parse_response(const char *buf, size_t len, bool request_method_head,
    struct http_response *resp, struct http_error *err)
{
	size_t eol;
	ssize_t end;
	int r;

	http_response_reset(resp, err);

	r = http_find_line(buf, len, 0, &eol, err);
	if (r != 1) {
		if (r == HTTP_ERR)
			err->status = RESP_ERR_STATUS;
		return r;
	}
	if (http_parse_status_line(buf, 0, eol, resp, err) != 0)
		return HTTP_ERR;
	end = parse_fields(buf, len, eol + 2, resp->headers, &resp->nheaders,
	    err);
	if (end == HTTP_ERR)
		err->status = RESP_ERR_STATUS;
	if (end < 0)
		return end;
	if (response_semantics(resp, request_method_head, err) != 0)
		return HTTP_ERR;
	return end;
}

bool
http_is_hop_by_hop(const struct http_header *h, const struct http_header *all,
    size_t nall)
{
	/* with their lengths: no strlen() for every field of every head */
#define HOP(s)	{ s, sizeof(s) - 1 }
	static const struct http_slice hop[] = {
		HOP("connection"), HOP("keep-alive"), HOP("proxy-connection"),
		HOP("proxy-authenticate"), HOP("proxy-authorization"),
		HOP("te"), HOP("trailer"), HOP("transfer-encoding"),
		HOP("upgrade"),
	};
#undef HOP
	struct http_slice e;
	size_t i, pos;

	for (i = 0; i < ARRAY_SIZE(hop); i++)
		if (http_slice_caseeq(&h->name, hop[i].p, hop[i].len))
			return true;
	for (i = 0; i < nall; i++) {
		if (!http_name_is(&all[i].name, "connection"))
			continue;
		pos = 0;
		while (list_next(&all[i].value, &pos, &e))
			if (http_slice_caseeq(&e, h->name.p, h->name.len))
				return true;
	}
	return false;
}

bool
http_is_framing(const struct http_slice *name)
{
	return http_name_is(name, "content-length") ||
	    http_name_is(name, "transfer-encoding");
}

bool
http_upgrade_chosen(const struct http_response *resp,
    const struct http_slice *offered, struct http_slice *chosen)
{
	struct http_slice e, o;
	size_t i, pos, opos;
	bool found;

	chosen->p = NULL;
	chosen->len = 0;
	for (i = 0; i < resp->nheaders; i++) {
		if (!http_name_is(&resp->headers[i].name, "upgrade"))
			continue;
		if (chosen->p != NULL)
			return false;	/* several: ambiguous */
		*chosen = resp->headers[i].value;
	}
	if (chosen->len == 0)
		return false;
	pos = 0;
	while (list_next(chosen, &pos, &e)) {
		found = false;
		opos = 0;
		while (!found && list_next(offered, &opos, &o))
			found = o.len == e.len &&
			    util_ascii_caseeq(o.p, e.p, e.len);
		if (!found)
			return false;
	}
	return true;
}
