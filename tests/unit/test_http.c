/*
 * Unit tests for http.c and http_chunk.c: request and response heads
 * (every prefix of a valid head must ask for more), smuggling vectors,
 * body framing, pipelining, and the chunked scanner fed at every split.
 *
 * With "--write-corpus DIR" it writes its vectors as fuzz seeds instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tap.h"

#define OK_	0		/* expect a complete head */
#define MORE	1		/* expect HTTP_NEED_MORE */

/* A string literal and its length (the vectors may hold NULs). */
#define R(s)	s, sizeof(s) - 1

struct req_vec {
	const char	*name;
	const char	*raw;
	size_t		 len;
	int		 expect;	/* OK_, MORE or an error status */
	enum http_body	 body;
	uint64_t	 cl;
};

static const struct req_vec req_vecs[] = {
	{ "simple GET", R("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"), OK_,
	    HTTP_BODY_NONE, 0 },
	{ "absolute-form", R("GET http://a.example/x?y HTTP/1.1\r\n"
	    "Host: a.example\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "absolute-form no path", R("GET http://a.example:8080 HTTP/1.1\r\n"
	    "Host: a.example:8080\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "HTTPS scheme any case", R("GET HTTPS://a.example/ HTTP/1.1\r\n"
	    "Host: a.example\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "absolute-form default port", R("GET http://a.example:80/ HTTP/1.1\r\n"
	    "Host: A.example\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "CONNECT authority-form", R("CONNECT a.example:443 HTTP/1.1\r\n"
	    "Host: a.example:443\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "CONNECT IPv6", R("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n"
	    "Host: [2001:db8::1]:443\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "OPTIONS asterisk", R("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), OK_,
	    HTTP_BODY_NONE, 0 },
	{ "HTTP/1.0 without Host", R("GET / HTTP/1.0\r\n\r\n"), OK_,
	    HTTP_BODY_NONE, 0 },
	{ "leading empty lines", R("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	    OK_, HTTP_BODY_NONE, 0 },
	{ "lower-case method is a token", R("get / HTTP/1.1\r\nHost: a\r\n\r\n"),
	    OK_, HTTP_BODY_NONE, 0 },
	{ "POST with length", R("POST /u HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 5\r\n\r\nhello"), OK_, HTTP_BODY_LENGTH, 5 },
	{ "Content-Length 0", R("POST /u HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 0\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "identical repeated CL", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"), OK_,
	    HTTP_BODY_LENGTH, 5 },
	{ "identical CL list", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 5, 5\r\n\r\n"), OK_, HTTP_BODY_LENGTH, 5 },
	{ "CL at the limit", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 1152921504606846976\r\n\r\n"), OK_,
	    HTTP_BODY_LENGTH, UINT64_C(1) << 60 },
	{ "TE chunked", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), OK_, HTTP_BODY_CHUNKED, 0 },
	{ "TE Chunked any case", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: ChUnKeD\r\n\r\n"), OK_, HTTP_BODY_CHUNKED, 0 },
	{ "TE gzip, chunked", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n"), OK_,
	    HTTP_BODY_CHUNKED, 0 },
	{ "TE over two fields", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    OK_, HTTP_BODY_CHUNKED, 0 },
	{ "obs-text in value", R("GET / HTTP/1.1\r\nHost: a\r\n"
	    "X-Name: caf\xc3\xa9\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "empty value", R("GET / HTTP/1.1\r\nHost: a\r\nX-E:\r\n\r\n"), OK_,
	    HTTP_BODY_NONE, 0 },
	{ "Connection: Upgrade", R("GET /ws HTTP/1.1\r\nHost: a\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"), OK_,
	    HTTP_BODY_NONE, 0 },
	{ "Upgrade, Content-Length 0", R("GET /ws HTTP/1.1\r\nHost: a\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Content-Length: 0\r\n\r\n"), OK_, HTTP_BODY_NONE, 0 },
	{ "Upgrade ignored in 1.0", R("POST / HTTP/1.0\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Content-Length: 2\r\n\r\n"), OK_, HTTP_BODY_LENGTH, 2 },
	{ "Connection: TE", R("POST /rpc HTTP/1.1\r\nHost: a\r\n"
	    "Connection: TE\r\nTE: trailers\r\nContent-Length: 2\r\n\r\n"),
	    OK_, HTTP_BODY_LENGTH, 2 },
	{ "prefix of a head", R("GET / HTTP/1.1\r\nHost: a\r\n"), MORE, 0, 0 },
	{ "lone CR at the end", R("GET / HTTP/1.1\r"), MORE, 0, 0 },

	/* Smuggling and syntax errors. */
	{ "CL and TE", R("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400, 0, 0 },
	{ "TE and CL", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"),
	    400, 0, 0 },
	{ "two differing CL", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400, 0, 0 },
	{ "differing CL list", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 5, 6\r\n\r\n"), 400, 0, 0 },
	{ "CL +5", R("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"),
	    400, 0, 0 },
	{ "CL -1", R("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
	    400, 0, 0 },
	{ "CL hex", R("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"),
	    400, 0, 0 },
	{ "CL with inner space", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 5 5\r\n\r\n"), 400, 0, 0 },
	{ "CL empty", R("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"),
	    400, 0, 0 },
	{ "CL huge", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n"), 400, 0, 0 },
	{ "CL over the limit", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 1152921504606846977\r\n\r\n"), 400, 0, 0 },
	{ "TE chunked, gzip", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked, gzip\r\n\r\n"), 400, 0, 0 },
	{ "TE gzip only", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n"), 400, 0, 0 },
	{ "TE chunked twice", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    400, 0, 0 },
	{ "TE unknown coding", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: foo, chunked\r\n\r\n"), 501, 0, 0 },
	{ "TE with parameter", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked;x=1\r\n\r\n"), 400, 0, 0 },
	{ "TE empty", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: \r\n\r\n"), 400, 0, 0 },
	{ "TE xchunked", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: xchunked\r\n\r\n"), 400, 0, 0 },
	{ "TE in HTTP/1.0", R("POST / HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400, 0, 0 },
	{ "bare LF line ends", R("GET / HTTP/1.1\nHost: a\n\n"), 400, 0, 0 },
	{ "bare LF in field", R("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"),
	    400, 0, 0 },
	{ "bare CR in field", R("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"),
	    400, 0, 0 },
	{ "LF LF end", R("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400, 0, 0 },
	{ "space before colon", R("GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
	    400, 0, 0 },
	{ "tab before colon", R("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"),
	    400, 0, 0 },
	{ "obs-fold", R("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"),
	    400, 0, 0 },
	{ "leading whitespace field", R("GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
	    400, 0, 0 },
	{ "NUL in value", R("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"),
	    400, 0, 0 },
	{ "DEL in value", R("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"),
	    400, 0, 0 },
	{ "bad byte in name", R("GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n"),
	    400, 0, 0 },
	{ "empty name", R("GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n"), 400, 0, 0 },
	{ "no colon", R("GET / HTTP/1.1\r\nHost: a\r\nXY\r\n\r\n"), 400, 0, 0 },
	{ "missing Host", R("GET / HTTP/1.1\r\n\r\n"), 400, 0, 0 },
	{ "two Hosts", R("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
	    400, 0, 0 },
	{ "two Hosts in 1.0", R("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "Host list", R("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), 400, 0, 0 },
	{ "Host userinfo", R("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400, 0, 0 },
	{ "Host empty", R("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400, 0, 0 },
	{ "Host with space", R("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400, 0, 0 },
	{ "Host with slash", R("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400, 0, 0 },
	{ "HTTP/2.0", R("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505, 0, 0 },
	{ "h2 preface", R("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505, 0, 0 },
	{ "HTTP/0.9", R("GET / HTTP/0.9\r\n\r\n"), 505, 0, 0 },
	{ "HTTP/1.2", R("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505, 0, 0 },
	{ "lower-case version", R("GET / http/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "HTTP/1.10", R("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "no version", R("GET /\r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "double space", R("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "trailing space", R("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "space in target", R("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "fragment in target", R("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "UTF-8 in target", R("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "bad method", R("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "asterisk outside OPTIONS", R("GET * HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "CONNECT origin-form", R("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "CONNECT without port", R("CONNECT a.example HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "CONNECT absolute", R("CONNECT http://a:80/ HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "Host differs from target", R("GET http://a.example/ HTTP/1.1\r\n"
	    "Host: b.example\r\n\r\n"), 400, 0, 0 },
	{ "Host port differs", R("GET http://a.example:8080/ HTTP/1.1\r\n"
	    "Host: a.example\r\n\r\n"), 400, 0, 0 },
	{ "https port on http", R("GET http://a.example/ HTTP/1.1\r\n"
	    "Host: a.example:443\r\n\r\n"), 400, 0, 0 },
	{ "ftp scheme", R("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "userinfo in target", R("GET http://u:p@a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "query without path", R("GET http://a?x HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "empty authority", R("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400, 0, 0 },
	{ "relative target", R("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0 },
	{ "NUL in request line", R("GET /\0 HTTP/1.1\r\n"), 400, 0, 0 },
	{ "NUL early", R("GE\0"), 400, 0, 0 },
	/* An Upgrade request's body would never be sent (nothing moves
	 * before the 101): the upstream would read what follows as it. */
	{ "Upgrade with a length", R("GET /ws HTTP/1.1\r\nHost: a\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Content-Length: 5\r\n\r\nhello"), 400, 0, 0 },
	{ "Upgrade chunked", R("POST /ws HTTP/1.1\r\nHost: a\r\n"
	    "Connection: Upgrade\r\nUpgrade: h2c\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400, 0, 0 },
	/* A Connection header may not make a framing or judged header
	 * hop-by-hop: the forwarded head would lose it, the body not. */
	{ "Connection nominates CL", R("GET /a HTTP/1.1\r\nHost: a\r\n"
	    "Connection: Content-Length\r\nContent-Length: 5\r\n\r\n"),
	    400, 0, 0 },
	{ "Connection nominates CL, no CL", R("GET /a HTTP/1.1\r\nHost: a\r\n"
	    "Connection: keep-alive, content-length\r\n\r\n"), 400, 0, 0 },
	{ "Connection nominates TE", R("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "Connection: Transfer-Encoding\r\n\r\n"), 400, 0, 0 },
	{ "Connection nominates Host", R("GET / HTTP/1.1\r\nHost: a\r\n"
	    "Connection: close\r\nConnection: HOST\r\n\r\n"), 400, 0, 0 },
};

static char *
copy(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	memcpy(p, s, n);
	return p;
}

/* Parse exactly n bytes from a heap copy, so ASan sees any over-read. */
static ssize_t
preq(const char *s, size_t n, struct http_request *req,
    struct http_error *err)
{
	char *p = copy(s, n);
	ssize_t r = http_parse_request(p, n, req, err);

	free(p);
	return r;
}

static ssize_t
presp(const char *s, size_t n, bool head, struct http_response *resp,
    struct http_error *err)
{
	char *p = copy(s, n);
	ssize_t r = http_parse_response(p, n, head, resp, err);

	free(p);
	return r;
}

/* Length of a vector's head: up to and including the first CRLFCRLF. */
static size_t
head_len(const char *raw, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= n; i++)
		if (memcmp(raw + i, "\r\n\r\n", 4) == 0 &&
		    (i > 0 || raw[0] != '\r'))
			return i + 4;
	return n;
}

static void
test_request_vectors(void)
{
	struct http_request req;
	struct http_error err;
	size_t i, n, k, hl;
	ssize_t r;
	int bad;

	for (i = 0; i < ARRAY_SIZE(req_vecs); i++) {
		const struct req_vec *v = &req_vecs[i];

		n = v->len;
		r = preq(v->raw, n, &req, &err);
		if (v->expect == OK_) {
			hl = head_len(v->raw, n);
			is(r, (ssize_t)hl, "%s: consumed the head", v->name);
			is(req.body, v->body, "%s: body framing", v->name);
			is(req.content_length, v->cl, "%s: length", v->name);
			bad = 0;
			for (k = 0; k < hl; k++)
				if (preq(v->raw, k, &req, &err) !=
				    HTTP_NEED_MORE)
					bad++;
			is(bad, 0, "%s: every prefix needs more", v->name);
		} else if (v->expect == MORE) {
			is(r, HTTP_NEED_MORE, "%s: needs more", v->name);
		} else {
			is(r, HTTP_ERR, "%s: refused", v->name);
			is(err.status, v->expect, "%s: status (%s)", v->name,
			    err.reason ? err.reason : "-");
		}
	}
}

/* Parses in place: the slices must stay valid for the checks. */
static ssize_t
req_str(const char *s, struct http_request *req, struct http_error *err)
{
	return http_parse_request(s, strlen(s), req, err);
}

static bool
slice_is(const struct http_slice *s, const char *lit)
{
	return s->len == strlen(lit) && memcmp(s->p, lit, s->len) == 0;
}

static void
test_request_fields(void)
{
	struct http_request req;
	struct http_error err;
	const char *s;

	s = "GET http://a.example:8080 HTTP/1.1\r\nHost: a.example:8080\r\n\r\n";
	ok(req_str(s, &req, &err) > 0, "absolute parses");
	ok(req.absolute, "absolute flag");
	ok(slice_is(&req.scheme, "http"), "scheme");
	ok(slice_is(&req.authority, "a.example:8080"), "authority");
	ok(slice_is(&req.path, "/"), "path defaults to /");
	ok(slice_is(&req.method, "GET"), "method");
	ok(slice_is(&req.target, "http://a.example:8080"), "target as sent");
	ok(slice_is(&req.host, "a.example:8080"), "host header");
	is(req.minor, 1, "minor 1");
	ok(req.keep_alive, "1.1 keeps alive by default");

	s = "GET /p?q=1 HTTP/1.1\r\nHost:   a.example \t\r\n\r\n";
	ok(req_str(s, &req, &err) > 0, "origin parses");
	ok(!req.absolute, "not absolute");
	ok(slice_is(&req.path, "/p?q=1"), "origin path with query");
	ok(slice_is(&req.host, "a.example"), "OWS trimmed from Host");
	is(req.scheme.len, 0, "no scheme");

	s = "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 &&
	    slice_is(&req.authority, "a.example:443"), "CONNECT authority");

	s = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && slice_is(&req.path, "*"),
	    "asterisk path");

	s = "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && !req.keep_alive,
	    "Connection: close in a list");
	s = "GET / HTTP/1.0\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && !req.keep_alive && req.minor == 0,
	    "1.0 closes by default");
	s = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && req.keep_alive,
	    "1.0 keep-alive");
	s = "GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\n"
	    "Connection: close\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && !req.keep_alive,
	    "close in a second Connection field");

	s = "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
	    "Content-Length: 3\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && req.expect_continue,
	    "Expect: 100-continue");
	s = "PUT / HTTP/1.0\r\nExpect: 100-continue\r\n"
	    "Content-Length: 3\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && !req.expect_continue,
	    "Expect ignored in 1.0");
	s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && !req.expect_continue &&
	    !req.upgrade, "no expect, no upgrade");

	s = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && req.upgrade &&
	    slice_is(&req.upgrade_proto, "websocket"), "WebSocket upgrade");
	s = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && !req.upgrade,
	    "Upgrade without Connection: upgrade is not an upgrade");
	s = "GET /ws HTTP/1.0\r\nConnection: upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n";
	ok(req_str(s, &req, &err) > 0 && !req.upgrade,
	    "Upgrade ignored in 1.0");
	s = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
	    "Upgrade: websocket\r\nUpgrade: h2c\r\n\r\n";
	is(req_str(s, &req, &err), HTTP_ERR, "two Upgrade fields refused");
}

/* Many header fields and a long target. */
static void
test_request_limits(void)
{
	struct http_request req;
	struct http_error err;
	char buf[16384], *p;
	int i;

	p = buf + sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < HTTP_MAX_HEADERS; i++)
		p += sprintf(p, "X-%d: %d\r\n", i, i);
	strcpy(p, "\r\n");
	ok(req_str(buf, &req, &err) > 0, "HTTP_MAX_HEADERS fields pass");
	is(req.nheaders, HTTP_MAX_HEADERS, "all fields kept");
	strcpy(p, "X-last: 1\r\n\r\n");
	is(req_str(buf, &req, &err), HTTP_ERR, "one field more refused");
	is(err.status, 431, "with 431");

	p = buf + sprintf(buf, "GET /");
	memset(p, 'a', 8192);
	strcpy(p + 8192, " HTTP/1.1\r\nHost: a\r\n\r\n");
	is(req_str(buf, &req, &err), HTTP_ERR, "long target refused");
	is(err.status, 414, "with 414");
	strcpy(p + 8191, " HTTP/1.1\r\nHost: a\r\n\r\n");
	ok(req_str(buf, &req, &err) > 0, "8192-byte target passes");
}

static void
test_pipelining(void)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
	    "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody"
	    "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nbody\r\n0\r\n\r\n"
	    "GET /d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	struct http_request req;
	struct http_error err;
	struct http_chunk_state cs;
	size_t off = 0, n = strlen(s), used;
	ssize_t r;

	r = http_parse_request(s, n, &req, &err);
	ok(r > 0 && slice_is(&req.path, "/a"), "first pipelined request");
	off += (size_t)r;
	r = http_parse_request(s + off, n - off, &req, &err);
	ok(r > 0 && slice_is(&req.path, "/b") &&
	    req.body == HTTP_BODY_LENGTH, "second, with a body");
	off += (size_t)r + req.content_length;
	r = http_parse_request(s + off, n - off, &req, &err);
	ok(r > 0 && slice_is(&req.path, "/c") &&
	    req.body == HTTP_BODY_CHUNKED, "third, chunked");
	off += (size_t)r;
	http_chunk_init(&cs);
	is(http_chunk_scan(&cs, s + off, n - off, &used, &err),
	    HTTP_CHUNK_DONE, "chunked body ends");
	is(used, strlen("4\r\nbody\r\n0\r\n\r\n"), "exactly at its end");
	off += used;
	r = http_parse_request(s + off, n - off, &req, &err);
	ok(r > 0 && slice_is(&req.path, "/d") && !req.keep_alive,
	    "fourth, closing");
	is(off + (size_t)r, n, "all bytes accounted for");
}

struct resp_vec {
	const char	*name;
	const char	*raw;
	bool		 head;
	int		 expect;	/* OK_ or the error status */
	enum http_body	 body;
	bool		 keep_alive;
};

static const struct resp_vec resp_vecs[] = {
	{ "200 with length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
	    false, OK_, HTTP_BODY_LENGTH, true },
	{ "200 chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    false, OK_, HTTP_BODY_CHUNKED, true },
	{ "200 close-delimited", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n",
	    false, OK_, HTTP_BODY_CLOSE, false },
	{ "200 gzip not chunked", "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", false, OK_, HTTP_BODY_CLOSE,
	    false },
	{ "HEAD with length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
	    true, OK_, HTTP_BODY_NONE, true },
	{ "HEAD chunked", "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", true, OK_, HTTP_BODY_NONE,
	    true },
	{ "204", "HTTP/1.1 204 No Content\r\n\r\n", false, OK_,
	    HTTP_BODY_NONE, true },
	{ "304 with length", "HTTP/1.1 304 Not Modified\r\n"
	    "Content-Length: 100\r\n\r\n", false, OK_, HTTP_BODY_NONE, true },
	{ "100 continue", "HTTP/1.1 100 Continue\r\n\r\n", false, OK_,
	    HTTP_BODY_NONE, true },
	{ "101 switching", "HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n", false, OK_,
	    HTTP_BODY_NONE, true },
	{ "1.0 close-delimited", "HTTP/1.0 200 OK\r\n\r\n", false, OK_,
	    HTTP_BODY_CLOSE, false },
	{ "1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 2\r\n\r\n", false, OK_, HTTP_BODY_LENGTH, true },
	{ "Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\n"
	    "Content-Length: 2\r\n\r\n", false, OK_, HTTP_BODY_LENGTH, false },
	{ "no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	    false, OK_, HTTP_BODY_NONE, true },
	{ "empty reason phrase", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
	    false, OK_, HTTP_BODY_NONE, true },
	{ "CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false, 502, 0, false },
	{ "differing CL", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Content-Length: 7\r\n\r\n", false, 502, 0, false },
	{ "TE in 1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    false, 502, 0, false },
	{ "status 2000", "HTTP/1.1 2000 OK\r\n\r\n", false, 502, 0, false },
	{ "status 099", "HTTP/1.1 099 X\r\n\r\n", false, 502, 0, false },
	{ "status 600", "HTTP/1.1 600 X\r\n\r\n", false, 502, 0, false },
	{ "HTTP/2", "HTTP/2 200 OK\r\n\r\n", false, 502, 0, false },
	{ "bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", false, 502, 0,
	    false },
	{ "obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", false, 502, 0,
	    false },
};

static void
test_response_vectors(void)
{
	struct http_response resp;
	struct http_error err;
	size_t i, k, n;
	ssize_t r;
	int bad;

	for (i = 0; i < ARRAY_SIZE(resp_vecs); i++) {
		const struct resp_vec *v = &resp_vecs[i];

		n = strlen(v->raw);
		r = presp(v->raw, n, v->head, &resp, &err);
		if (v->expect != OK_) {
			is(r, HTTP_ERR, "response %s: refused", v->name);
			is(err.status, v->expect, "response %s: status (%s)",
			    v->name, err.reason ? err.reason : "-");
			continue;
		}
		is(r, (ssize_t)n, "response %s: consumed", v->name);
		is(resp.body, v->body, "response %s: framing", v->name);
		is(resp.keep_alive, v->keep_alive, "response %s: keep-alive",
		    v->name);
		bad = 0;
		for (k = 0; k < n; k++)
			if (presp(v->raw, k, v->head, &resp, &err) !=
			    HTTP_NEED_MORE)
				bad++;
		is(bad, 0, "response %s: every prefix needs more", v->name);
	}
	r = http_parse_response("HTTP/1.1 404 Not Found\r\n\r\n", 26, false,
	    &resp, &err);
	ok(r == 26 && resp.status == 404 && resp.minor == 1 &&
	    slice_is(&resp.reason, "Not Found"), "status and reason");
}

static void
test_hop_by_hop(void)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Foo, close\r\n"
	    "X-Foo: 1\r\nX-Bar: 2\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
	    "Proxy-Connection: x\r\n\r\n";
	struct http_request req;
	struct http_error err;
	struct http_slice name = { "Content-Length", 14 };
	size_t i;
	int hop = 0;

	ok(req_str(s, &req, &err) > 0, "hop-by-hop request parses");
	for (i = 0; i < req.nheaders; i++) {
		bool h = http_is_hop_by_hop(&req.headers[i], req.headers,
		    req.nheaders);

		if (http_name_is(&req.headers[i].name, "x-bar") ||
		    http_name_is(&req.headers[i].name, "host"))
			ok(!h, "%.*s is end-to-end",
			    (int)req.headers[i].name.len,
			    req.headers[i].name.p);
		else
			hop++, ok(h, "%.*s is hop-by-hop",
			    (int)req.headers[i].name.len,
			    req.headers[i].name.p);
	}
	is(hop, 5, "five hop-by-hop fields");
	ok(http_is_framing(&name), "Content-Length is framing");
	ok(!http_is_framing(&req.headers[0].name), "Host is not framing");
	ok(req_str("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	    "\r\n", &req, &err) > 0 && req.has_content_length &&
	    req.body == HTTP_BODY_NONE, "Content-Length: 0 is kept as present");
	ok(req_str("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &req, &err) > 0 &&
	    !req.has_content_length, "no Content-Length, none present");
	ok(http_name_is(&name, "content-length"), "name_is ignores case");
	ok(!http_name_is(&name, "content-lengt"), "name_is checks length");
	ok(!http_name_is(&name, "content-lengthx"), "name_is longer");
}

/* The protocol a 101 chose must be one the request offered. */
static void
test_upgrade_chosen(void)
{
	static const struct {
		const char	*offered;
		const char	*fields;	/* the 101's header lines */
		const char	*chosen;	/* NULL: refused */
	} v[] = {
		{ "websocket", "Upgrade: websocket\r\n", "websocket" },
		{ "websocket", "Upgrade: WebSocket\r\n", "WebSocket" },
		{ "h2c, websocket", "Upgrade: websocket\r\n", "websocket" },
		{ "websocket", "Upgrade: h2c\r\n", NULL },
		{ "websocket", "Upgrade: websocket, h2c\r\n", NULL },
		{ "websocket", "X-A: b\r\n", NULL },
		{ "websocket", "Upgrade: \r\n", NULL },
		{ "websocket", "Upgrade: websocket\r\nUpgrade: websocket\r\n",
		    NULL },
		{ "", "Upgrade: websocket\r\n", NULL },
		{ "websocketx", "Upgrade: websocket\r\n", NULL },
	};
	struct http_response resp;
	struct http_error err;
	struct http_slice offered, chosen;
	char head[256];
	size_t i;
	bool r;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		snprintf(head, sizeof(head), "HTTP/1.1 101 Switching Protocols"
		    "\r\nConnection: upgrade\r\n%s\r\n", v[i].fields);
		offered.p = v[i].offered;
		offered.len = strlen(v[i].offered);
		if (http_parse_response(head, strlen(head), false, &resp,
		    &err) <= 0) {
			ok(false, "upgrade vector %zu parses", i);
			continue;
		}
		r = http_upgrade_chosen(&resp, &offered, &chosen);
		if (v[i].chosen == NULL)
			ok(!r, "upgrade %zu (offered \"%s\"): refused", i,
			    v[i].offered);
		else
			ok(r && slice_is(&chosen, v[i].chosen),
			    "offered \"%s\": 101 chose %s", v[i].offered,
			    v[i].chosen);
	}
}

static int
scan_all(const char *s, size_t n, size_t split, size_t *used,
    struct http_error *err)
{
	struct http_chunk_state cs;
	size_t u1 = 0, u2 = 0;
	char *p = copy(s, n);
	int r;

	http_chunk_init(&cs);
	r = http_chunk_scan(&cs, p, split, &u1, err);
	if (r == HTTP_NEED_MORE) {
		if (u1 != split)
			r = 99;
		else
			r = http_chunk_scan(&cs, p + split, n - split, &u2,
			    err);
	}
	*used = u1 + u2;
	free(p);
	return r;
}

struct chunk_vec {
	const char	*name;
	const char	*raw;
	size_t		 len;
	int		 expect;	/* DONE, NEED_MORE or ERR */
	size_t		 body;		/* body length for DONE */
};

static const struct chunk_vec chunk_vecs[] = {
	{ "simple", R("5\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_DONE, 15 },
	{ "then next request", R("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n"),
	    HTTP_CHUNK_DONE, 15 },
	{ "empty body", R("0\r\n\r\n"), HTTP_CHUNK_DONE, 5 },
	{ "uppercase hex", R("A\r\n0123456789\r\n0\r\n\r\n"), HTTP_CHUNK_DONE,
	    20 },
	{ "lowercase hex", R("a\r\n0123456789\r\n00\r\n\r\n"), HTTP_CHUNK_DONE,
	    21 },
	{ "extensions", R("5;a=b;c=\"d e\"\r\nhello\r\n0;x\r\n\r\n"),
	    HTTP_CHUNK_DONE, 29 },
	{ "BWS before extension", R("5 \t;a\r\nhello\r\n0\r\n\r\n"),
	    HTTP_CHUNK_DONE, 19 },
	{ "trailers", R("1\r\nx\r\n0\r\nX-T: 1\r\nY:\r\n\r\nNEXT"),
	    HTTP_CHUNK_DONE, 23 },
	{ "16 digits", R("0000000000000001\r\nx\r\n0\r\n\r\n"), HTTP_CHUNK_DONE,
	    26 },
	{ "unfinished", R("5\r\nhel"), HTTP_NEED_MORE, 0 },
	{ "no final CRLF", R("0\r\n"), HTTP_NEED_MORE, 0 },
	{ "17 digits", R("00000000000000001\r\nx\r\n0\r\n\r\n"), HTTP_ERR, 0 },
	{ "over 2^60", R("1000000000000001\r\n"), HTTP_ERR, 0 },
	{ "2^64", R("10000000000000000\r\n"), HTTP_ERR, 0 },
	{ "missing CRLF after data", R("5\r\nhelloX\r\n0\r\n\r\n"), HTTP_ERR, 0 },
	{ "LF only after data", R("5\r\nhello\n0\r\n\r\n"), HTTP_ERR, 0 },
	{ "bare LF after size", R("5\nhello\r\n0\r\n\r\n"), HTTP_ERR, 0 },
	{ "bare CR after size", R("5\rhello\r\n0\r\n\r\n"), HTTP_ERR, 0 },
	{ "empty size", R("\r\nhello\r\n"), HTTP_ERR, 0 },
	{ "non-hex size", R("g\r\n"), HTTP_ERR, 0 },
	{ "negative size", R("-5\r\n"), HTTP_ERR, 0 },
	{ "0x prefix", R("0x5\r\nhello\r\n"), HTTP_ERR, 0 },
	{ "space after size", R("5 \r\nhello\r\n0\r\n\r\n"), HTTP_ERR, 0 },
	{ "leading space", R(" 5\r\nhello\r\n"), HTTP_ERR, 0 },
	{ "bare LF in extension", R("5;a\nb\r\n"), HTTP_ERR, 0 },
	{ "NUL in extension", R("5;a\0\r\n"), HTTP_ERR, 0 },
	{ "trailer obs-fold", R("0\r\nX: a\r\n b\r\n\r\n"), HTTP_ERR, 0 },
	{ "trailer space before colon", R("0\r\nX : a\r\n\r\n"), HTTP_ERR, 0 },
	{ "trailer bare LF", R("0\r\nX: a\n\r\n"), HTTP_ERR, 0 },
	{ "LF LF end", R("0\r\n\n"), HTTP_ERR, 0 },
};

static void
test_chunk_vectors(void)
{
	struct http_error err;
	size_t i, k, n, used;
	int r, bad;

	for (i = 0; i < ARRAY_SIZE(chunk_vecs); i++) {
		const struct chunk_vec *v = &chunk_vecs[i];

		n = v->len;
		r = scan_all(v->raw, n, 0, &used, &err);
		is(r, v->expect, "chunk %s: result", v->name);
		if (v->expect == HTTP_CHUNK_DONE)
			is(used, v->body, "chunk %s: ends exactly", v->name);
		if (v->expect == HTTP_ERR)
			is(err.status, 400, "chunk %s: 400 (%s)", v->name,
			    err.reason ? err.reason : "-");
		bad = 0;
		for (k = 0; k <= n; k++) {
			r = scan_all(v->raw, n, k, &used, &err);
			if (r != v->expect || (r == HTTP_CHUNK_DONE &&
			    used != v->body))
				bad++;
		}
		is(bad, 0, "chunk %s: same at every split", v->name);
	}
}

static void
test_chunk_bytewise(void)
{
	const char *s = "1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	    "3\r\nxyz\r\n0\r\nTrailer: v\r\n\r\nX";
	struct http_chunk_state cs;
	struct http_error err;
	size_t i, n = strlen(s) - 1, used, total = 0;
	int r = HTTP_NEED_MORE, more = 0;

	http_chunk_init(&cs);
	for (i = 0; i <= n && r == HTTP_NEED_MORE; i++) {
		r = http_chunk_scan(&cs, s + i, 1, &used, &err);
		total += used;
		more += r == HTTP_NEED_MORE;
	}
	is(r, HTTP_CHUNK_DONE, "byte by byte: done");
	is(total, n, "byte by byte: every body byte, nothing more");
	is(more, (int)n - 1, "byte by byte: need more until the end");
	r = http_chunk_scan(&cs, "X", 1, &used, &err);
	ok(r == HTTP_CHUNK_DONE && used == 0, "after the end: nothing taken");
}

/* De-chunking: only the data comes out, whatever the split. */
static void
test_chunk_data(void)
{
	const char *s = "1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	    "3\r\nxyz\r\n0\r\nTrailer: v\r\n\r\nX";
	const char *want = "abcdefghijklmnopqrstuvwxyzxyz";
	struct http_chunk_state cs;
	struct http_error err;
	size_t n = strlen(s) - 1, split, pos, end, used, data, outlen;
	char out[64];
	int r, bad = 0;

	for (split = 0; split <= n; split++) {
		http_chunk_init(&cs);
		pos = outlen = 0;
		r = HTTP_NEED_MORE;
		while (r == HTTP_NEED_MORE && pos <= n) {
			end = pos < split ? split : n + 1;
			r = http_chunk_data(&cs, s + pos, end - pos, &used,
			    &data, &err);
			if (data > sizeof(out) - outlen)
				break;
			memcpy(out + outlen, s + pos + used - data, data);
			outlen += data;
			pos += used;
			if (r == HTTP_NEED_MORE && used == 0)
				break;
		}
		bad += r != HTTP_CHUNK_DONE || pos != n ||
		    outlen != strlen(want) || memcmp(out, want, outlen) != 0;
	}
	is(bad, 0, "de-chunked at every split: the data, ending before X");
	http_chunk_init(&cs);
	r = http_chunk_data(&cs, "5\r\nhelloX", 9, &used, &data, &err);
	ok(r == HTTP_NEED_MORE && used == 8 && data == 5,
	    "de-chunking: the size line, then the data");
	r = http_chunk_data(&cs, "X", 1, &used, &data, &err);
	ok(r == HTTP_ERR && data == 0,
	    "de-chunking: no CRLF after the data is an error");
}

static void
test_chunk_trailer_limit(void)
{
	static char big[20000];
	struct http_error err;
	size_t used;

	memcpy(big, "0\r\n", 3);
	memset(big + 3, 'a', sizeof(big) - 3);
	big[4] = ':';
	is(scan_all(big, sizeof(big), 0, &used, &err), HTTP_ERR,
	    "huge trailer refused");
	memset(big, 0, sizeof(big));
	memcpy(big, "1;", 2);
	memset(big + 2, 'e', 5000);
	is(scan_all(big, 5002, 0, &used, &err), HTTP_ERR,
	    "huge chunk extension refused");
}

static int
write_corpus(const char *dir)
{
	char path[4096];
	FILE *f;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < ARRAY_SIZE(req_vecs) + ARRAY_SIZE(resp_vecs) +
	    ARRAY_SIZE(chunk_vecs); i++) {
		const char *raw;
		size_t n;

		if (i < ARRAY_SIZE(req_vecs)) {
			raw = req_vecs[i].raw;
			n = req_vecs[i].len;
			snprintf(path, sizeof(path), "%s/req-%03zu", dir, i);
		} else if (i < ARRAY_SIZE(req_vecs) + ARRAY_SIZE(resp_vecs)) {
			raw = resp_vecs[i - ARRAY_SIZE(req_vecs)].raw;
			n = strlen(raw);
			snprintf(path, sizeof(path), "%s/resp-%03zu", dir, i);
		} else {
			k = i - ARRAY_SIZE(req_vecs) - ARRAY_SIZE(resp_vecs);
			raw = chunk_vecs[k].raw;
			n = chunk_vecs[k].len;
			snprintf(path, sizeof(path), "%s/chunk-%03zu", dir, i);
		}
		f = fopen(path, "wb");
		if (f == NULL || fwrite(raw, 1, n, f) != n)
			rc = 1;
		if (f != NULL)
			fclose(f);
	}
	return rc;
}

/*
 * Incremental parsing: feed raw in pieces (sizes from step(), 0 = one
 * byte each) and compare every answer with the one-shot parser's on the
 * same prefix, each time from an exact-size heap copy (ASan sees any
 * read past the bytes given).  Returns the number of disagreements.
 */
static int
scan_agrees(const char *raw, size_t n, int resp, bool head, unsigned seed)
{
	struct http_head_scan st;
	struct http_request *r1 = malloc(sizeof(*r1)), *r2 = malloc(sizeof(*r2));
	struct http_response *p1 = malloc(sizeof(*p1)), *p2 = malloc(sizeof(*p2));
	struct http_error e1, e2;
	size_t k = 0;
	ssize_t a = HTTP_NEED_MORE, b;
	bool bytewise = seed == 0;
	int bad = 0;

	if (r1 == NULL || r2 == NULL || p1 == NULL || p2 == NULL)
		abort();
	http_head_scan_init(&st);
	while (k < n && a == HTTP_NEED_MORE) {
		char *buf;

		seed = seed * 1103515245u + 12345u;
		k += bytewise ? 1 : 1 + (seed >> 16) % 16;
		k = MIN(k, n);
		buf = copy(raw, k);
		a = resp ? http_parse_response(buf, k, head, p1, &e1) :
		    http_parse_request(buf, k, r1, &e1);
		b = resp ? http_scan_response(buf, k, &st, head, p2, &e2) :
		    http_scan_request(buf, k, &st, r2, &e2);
		if (a != b || (a == HTTP_ERR && (e1.status != e2.status ||
		    strcmp(e1.reason, e2.reason) != 0)))
			bad++;
		if (a > 0 && !resp && (r1->nheaders != r2->nheaders ||
		    r1->body != r2->body || r1->content_length !=
		    r2->content_length || r1->keep_alive != r2->keep_alive ||
		    r1->host.len != r2->host.len || r1->method.len !=
		    r2->method.len || r1->upgrade != r2->upgrade))
			bad++;
		if (a > 0 && resp && (p1->nheaders != p2->nheaders ||
		    p1->status != p2->status || p1->body != p2->body ||
		    p1->content_length != p2->content_length ||
		    p1->keep_alive != p2->keep_alive))
			bad++;
		free(buf);
	}
	free(r1);
	free(r2);
	free(p1);
	free(p2);
	return bad;
}

/* A head of about size bytes: 100-byte fields, then the empty line. */
static char *
big_head(size_t size, int resp, size_t *n)
{
	char *p = malloc(size + 256);
	size_t len;
	int i = 0;

	if (p == NULL)
		abort();
	len = (size_t)sprintf(p, resp ? "HTTP/1.1 200 OK\r\nContent-Length: "
	    "0\r\n" : "GET / HTTP/1.1\r\nHost: a.example\r\n");
	while (len + 100 < size && i < HTTP_MAX_HEADERS - 2)
	{
		len += (size_t)sprintf(p + len, "X-F%03d: %086d\r\n", i, i);
		i++;
	}
	memcpy(p + len, "\r\n", 2);
	*n = len + 2;
	return p;
}

static void
test_scan(void)
{
	size_t i, n;
	int bad_req = 0, bad_resp = 0, bad_split = 0;
	unsigned seed;
	char *h;

	for (i = 0; i < ARRAY_SIZE(req_vecs); i++)
		bad_req += scan_agrees(req_vecs[i].raw, req_vecs[i].len, 0,
		    false, 0);
	is(bad_req, 0, "scan: %zu request vectors fed byte by byte give the "
	    "one-shot answers at every byte", ARRAY_SIZE(req_vecs));
	for (i = 0; i < ARRAY_SIZE(resp_vecs); i++)
		bad_resp += scan_agrees(resp_vecs[i].raw,
		    strlen(resp_vecs[i].raw), 1, resp_vecs[i].head, 0);
	is(bad_resp, 0, "scan: %zu response vectors, byte by byte",
	    ARRAY_SIZE(resp_vecs));
	for (seed = 1; seed < 40; seed++) {
		for (i = 0; i < ARRAY_SIZE(req_vecs); i++)
			bad_split += scan_agrees(req_vecs[i].raw,
			    req_vecs[i].len, 0, false, seed);
		for (i = 0; i < ARRAY_SIZE(resp_vecs); i++)
			bad_split += scan_agrees(resp_vecs[i].raw,
			    strlen(resp_vecs[i].raw), 1, false, seed);
	}
	is(bad_split, 0, "scan: every vector in 39 seeded splits");
	h = big_head(9000, 0, &n);
	is(scan_agrees(h, n, 0, false, 0), 0, "scan: a %zu-byte request "
	    "head of 90 fields, byte by byte", n);
	free(h);
	h = big_head(9000, 1, &n);
	is(scan_agrees(h, n, 1, false, 0), 0, "scan: a %zu-byte response "
	    "head, byte by byte", n);
	h[40] = '\n';		/* a bare LF in the second field line */
	is(scan_agrees(h, n, 1, false, 0), 0, "scan: the same with a bare "
	    "LF fails at the same byte");
	free(h);
	{
		struct http_head_scan st;
		struct http_request req;
		struct http_error err;
		const char *a = "GET / HTTP/1.1\r\nHost: a\r\n";

		http_head_scan_init(&st);
		is(http_scan_request(a, strlen(a), &st, &req, &err),
		    HTTP_NEED_MORE, "scan: a prefix needs more");
		is(http_scan_request(a, 5, &st, &req, &err), HTTP_NEED_MORE,
		    "scan: a shorter buffer (misuse) starts again");
		a = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
		is(http_scan_request(a, strlen(a), &st, &req, &err),
		    (ssize_t)strlen(a), "scan: then completes");
	}
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	test_request_vectors();
	test_request_fields();
	test_request_limits();
	test_pipelining();
	test_response_vectors();
	test_scan();
	test_hop_by_hop();
	test_upgrade_chosen();
	test_chunk_vectors();
	test_chunk_bytewise();
	test_chunk_data();
	test_chunk_trailer_limit();
	return tap_done();
}
