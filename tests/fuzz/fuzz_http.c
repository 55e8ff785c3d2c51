/*
 * fuzz_http.c - fuzz target for http.c and http_chunk.c.
 *
 * The same bytes are parsed as a request head, as a response head (the
 * HEAD flag is the low bit of the size) and as a chunked body, whole and
 * split at points taken from the data.  Invariants checked (abort on
 * failure): results are in range; consumed <= len; every slice lies in
 * the consumed bytes; an error carries a status the gateway can send;
 * a complete head is still complete when re-parsed alone and one byte
 * shorter it needs more; the chunk scanner gives the same answer however
 * the bytes are split; an accepted request has no Connection option
 * naming its Content-Length or Host, and an Upgrade without a body;
 * the resumable scanner (http_scan.c), fed the bytes in pieces sized
 * from the data, gives the one-shot parser's answer at every step.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
slice_in(const struct http_slice *s, const char *buf, size_t n)
{
	if (s->len == 0)
		return;
	AN(s->p != NULL);
	AN(s->p >= buf && s->len <= n &&
	    (size_t)(s->p - buf) <= n - s->len);
}

static void
headers_in(const struct http_header *h, size_t nh, const char *buf,
    size_t n)
{
	size_t i;

	AN(nh <= HTTP_MAX_HEADERS);
	for (i = 0; i < nh; i++) {
		AN(h[i].name.len > 0);
		slice_in(&h[i].name, buf, n);
		slice_in(&h[i].value, buf, n);
	}
}

/* Parse a heap copy of exactly n bytes (so an over-read is caught). */
static ssize_t
reparse(const char *buf, size_t n, int resp, bool head)
{
	struct http_request req;
	struct http_response rsp;
	struct http_error err;
	char *p = malloc(n ? n : 1);
	ssize_t r;

	AN(p != NULL);
	memcpy(p, buf, n);
	r = resp ? http_parse_response(p, n, head, &rsp, &err) :
	    http_parse_request(p, n, &req, &err);
	free(p);
	return r;
}

static void
check_complete(const char *buf, ssize_t r, int resp, bool head)
{
	AN(reparse(buf, (size_t)r, resp, head) == r);
	AN(reparse(buf, (size_t)r - 1, resp, head) == HTTP_NEED_MORE);
}

/* Scan buf whole, then in pieces; both must agree. */
static void
fuzz_chunks(const char *buf, size_t n, const uint8_t *splits, size_t nsplits)
{
	struct http_chunk_state a, b;
	struct http_error err;
	size_t used, used1, total = 0, off = 0, step, i = 0;
	int r1, r2 = HTTP_NEED_MORE;

	http_chunk_init(&a);
	r1 = http_chunk_scan(&a, buf, n, &used, &err);
	AN(r1 == HTTP_CHUNK_DONE || r1 == HTTP_NEED_MORE || r1 == HTTP_ERR);
	AN(used <= n);
	AN(r1 != HTTP_NEED_MORE || used == n);
	AN(r1 != HTTP_ERR || (err.status == 400 && err.reason != NULL));
	used1 = used;

	http_chunk_init(&b);
	while (off < n && r2 == HTTP_NEED_MORE) {
		step = nsplits ? (size_t)splits[i++ % nsplits] % 64 + 1 : n;
		step = MIN(step, n - off);
		r2 = http_chunk_scan(&b, buf + off, step, &used, &err);
		AN(used <= step);
		total += used;
		off += step;
	}
	AN(r1 == r2);
	AN(total == used1);
	if (r1 == HTTP_CHUNK_DONE) {
		/* Done means done: more input is left alone. */
		AN(http_chunk_scan(&b, buf, n, &used, &err) == HTTP_CHUNK_DONE);
		AN(used == 0);
	}
}

static void
fuzz_request(const char *buf, size_t n)
{
	struct http_request req;
	struct http_error err;
	ssize_t r;
	size_t i;

	r = http_parse_request(buf, n, &req, &err);
	AN(r == HTTP_NEED_MORE || r == HTTP_ERR || (r > 0 && (size_t)r <= n));
	if (r == HTTP_ERR) {
		AN(err.reason != NULL);
		AN(err.status == 400 || err.status == 414 ||
		    err.status == 431 || err.status == 501 ||
		    err.status == 505);
		return;
	}
	if (r <= 0)
		return;
	slice_in(&req.method, buf, (size_t)r);
	slice_in(&req.target, buf, (size_t)r);
	slice_in(&req.scheme, buf, (size_t)r);
	slice_in(&req.authority, buf, (size_t)r);
	if (req.path.len != 1 || req.path.p[0] != '/')
		slice_in(&req.path, buf, (size_t)r);
	slice_in(&req.host, buf, (size_t)r);
	slice_in(&req.upgrade_proto, buf, (size_t)r);
	headers_in(req.headers, req.nheaders, buf, (size_t)r);
	AN(req.method.len > 0 && req.target.len > 0);
	AN(req.minor == 0 || req.minor == 1);
	AN(req.minor == 0 || req.host.len > 0);
	AN(req.body != HTTP_BODY_CLOSE);
	AN((req.body == HTTP_BODY_LENGTH) == (req.content_length > 0));
	AN(req.body != HTTP_BODY_CHUNKED || req.minor == 1);
	AN(req.has_content_length || req.content_length == 0);
	/* An upgrade's body would never be sent. */
	AN(!req.upgrade || req.body == HTTP_BODY_NONE);
	/* No Connection option made a length or the Host hop-by-hop. */
	for (i = 0; i < req.nheaders; i++)
		if (http_name_is(&req.headers[i].name, "content-length") ||
		    http_name_is(&req.headers[i].name, "host"))
			AN(!http_is_hop_by_hop(&req.headers[i], req.headers,
			    req.nheaders));
	check_complete(buf, r, 0, false);
	if (req.body == HTTP_BODY_CHUNKED)
		fuzz_chunks(buf + r, n - (size_t)r, NULL, 0);
}

static void
fuzz_response(const char *buf, size_t n, bool head)
{
	struct http_response resp;
	struct http_error err;
	ssize_t r;

	r = http_parse_response(buf, n, head, &resp, &err);
	AN(r == HTTP_NEED_MORE || r == HTTP_ERR || (r > 0 && (size_t)r <= n));
	if (r == HTTP_ERR) {
		AN(err.reason != NULL && err.status == 502);
		return;
	}
	if (r <= 0)
		return;
	AN(resp.status >= 100 && resp.status <= 599);
	AN(resp.minor == 0 || resp.minor == 1);
	slice_in(&resp.reason, buf, (size_t)r);
	headers_in(resp.headers, resp.nheaders, buf, (size_t)r);
	if (head || resp.status < 200 || resp.status == 204 ||
	    resp.status == 304)
		AN(resp.body == HTTP_BODY_NONE);
	AN(resp.body != HTTP_BODY_CLOSE || !resp.keep_alive);
	check_complete(buf, r, 1, head);
}

/* Feed buf to the scanner in pieces; compare with the one-shot parser. */
static void
fuzz_scan(const char *buf, size_t n, int resp, bool head)
{
	static struct http_request r1, r2;
	static struct http_response p1, p2;
	struct http_head_scan st;
	struct http_error e1, e2;
	ssize_t a = HTTP_NEED_MORE, b;
	size_t k = 0, i = 0;

	http_head_scan_init(&st);
	while (k < n && a == HTTP_NEED_MORE) {
		size_t step = 1 + (size_t)((unsigned char)buf[i++ % n] % 8);

		k = MIN(n, k + step);	/* MIN evaluates twice: no i++ in it */
		a = resp ? http_parse_response(buf, k, head, &p1, &e1) :
		    http_parse_request(buf, k, &r1, &e1);
		b = resp ? http_scan_response(buf, k, &st, head, &p2, &e2) :
		    http_scan_request(buf, k, &st, &r2, &e2);
		AN(a == b);
		AN(a != HTTP_ERR || (e1.status == e2.status &&
		    strcmp(e1.reason, e2.reason) == 0));
		AN(a <= 0 || resp || (r1.nheaders == r2.nheaders &&
		    r1.body == r2.body));
		AN(a <= 0 || !resp || (p1.nheaders == p2.nheaders &&
		    p1.body == p2.body && p1.status == p2.status));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	fuzz_request(buf, size);
	fuzz_response(buf, size, (size & 1) != 0);
	fuzz_chunks(buf, size, data, size);
	fuzz_scan(buf, size, 0, false);
	fuzz_scan(buf, size, 1, (size & 1) != 0);
	return 0;
}
