/*
 * fuzz_headrw.c - fuzz target for headrw.c, the request head the gateway
 * sends upstream.
 *
 * The bytes are parsed as a guest's request head; an accepted one (other
 * than CONNECT, which the gateway refuses) is rewritten as the gateway
 * would for host example.com (port 80, or 8080 when the size is odd, when
 * a credential header is also dropped and one injected), and the result
 * is parsed again with the same strict parser.  Invariants (abort on
 * failure): it is exactly one complete head, nothing before or after; the
 * method, path, version, body framing (kind and length) and Upgrade are
 * those of the request judged; Host is the judged host; the dropped
 * header appears only as the injected line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "headrw.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
slice_eq(const struct http_slice *a, const struct http_slice *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p,
	    a->len) == 0);
}

static bool
slice_is(const struct http_slice *a, const char *s)
{
	return a->len == strlen(s) && memcmp(a->p, s, a->len) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cred[] = "Authorization: Bearer injected\r\n";
	static struct http_request req, again;
	struct http_error err;
	struct headrw_req o = { .host = "example.com", .port = 80 };
	struct buf b = { 0 };
	size_t i, ndrop = 0;
	ssize_t r;

	r = http_parse_request((const char *)data, size, &req, &err);
	if (r <= 0 || policy_method_bit(req.method.p, req.method.len) ==
	    METHOD_CONNECT)
		return 0;
	if (size % 2 == 1) {
		o.port = 8080;
		o.drop = "authorization";
		o.extra = cred;
		o.extra_len = sizeof(cred) - 1;
	}
	o.upgrade = req.upgrade;
	headrw_request(&b, &req, &o);
	r = http_parse_request(buf_head(&b), buf_len(&b), &again, &err);
	AN(r > 0 && (size_t)r == buf_len(&b));
	AN(slice_eq(&again.method, &req.method));
	AN(!again.absolute && slice_eq(&again.path, &req.path));
	AN(again.minor == req.minor);
	AN(again.body == req.body);
	AN(req.body != HTTP_BODY_LENGTH ||
	    again.content_length == req.content_length);
	AN(again.upgrade == req.upgrade);
	AN(!req.upgrade || slice_eq(&again.upgrade_proto, &req.upgrade_proto));
	AN(slice_is(&again.host, o.port == 80 ? "example.com" :
	    "example.com:8080"));
	for (i = 0; i < again.nheaders; i++)
		if (o.drop != NULL && http_name_is(&again.headers[i].name,
		    o.drop))
			ndrop++;
	AN(ndrop == (o.drop != NULL ? 1u : 0u));
	buf_free(&b);
	return 0;
}
