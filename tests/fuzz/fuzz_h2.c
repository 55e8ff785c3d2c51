/*
 * fuzz_h2.c - fuzz target for h2.c as the gateway runs it facing a guest:
 * a server session fed the input (split at a point the first byte picks,
 * the clock moving with the second), answering every request with a
 * response that has a body and trailers, keeping DATA and consuming it
 * one call later, and draining its output after every read.
 *
 * Invariants (abort on failure): a delivered header block never exceeds
 * the limit nor H2_MAX_FIELDS and every field lies in the session's
 * scratch; a "too large" block carries no field; names are lower case;
 * the output of one h2_send() stays within H2_OUT_HIGH plus a frame;
 * once h2_recv() failed it keeps failing and h2_done() follows the
 * GOAWAY.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2.h"

#define LIMIT	2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	struct h2	*h;
	int32_t		pending_sid[8];
	size_t		pending_n[8];
	unsigned	npending;
	size_t		body_left;
};

static const struct h2_field resp[] = {
	{ ":status", 7, "200", 3, 0 },
	{ "content-type", 12, "application/grpc", 16, 0 },
};
static const struct h2_field trl[] = {
	{ "grpc-status", 11, "0", 1, 0 },
};

static uint32_t
on_block(void *arg, int32_t sid, const struct h2_block *b)
{
	struct fz *z = arg;
	size_t i, bytes = 0;

	AN(b->n <= H2_MAX_FIELDS);
	AN(!b->too_large || b->n == 0);
	for (i = 0; i < b->n; i++) {
		size_t j;

		bytes += b->f[i].namelen + b->f[i].valuelen + 32;
		for (j = 0; j < b->f[i].namelen; j++)
			AN(b->f[i].name[j] < 'A' || b->f[i].name[j] > 'Z');
		AN(b->f[i].name[b->f[i].namelen] == '\0');
		AN(b->f[i].value[b->f[i].valuelen] == '\0');
	}
	AN(bytes <= LIMIT);
	if (b->kind == H2_BLOCK_REQUEST && !b->too_large)
		(void)h2_submit_response(z->h, sid, resp, 2, true);
	return b->too_large ? 0xb : 0;
}

static bool
on_data(void *arg, int32_t sid, const uint8_t *p, size_t n, bool end)
{
	struct fz *z = arg;

	if (z->npending == 8 || n == 0)
		return false;
	z->pending_sid[z->npending] = sid;
	z->pending_n[z->npending++] = n;
	return true;
}

static void
on_close(void *arg, int32_t sid, uint32_t code)
{
}

static ssize_t
read_body(void *arg, int32_t sid, uint8_t *p, size_t len, enum h2_eof *eof)
{
	struct fz *z = arg;
	size_t n = len < 100 ? len : 100;

	memset(p, 'b', n);
	if (sid % 4 == 1) {
		(void)h2_submit_trailers(z->h, sid, trl, 1);
		*eof = H2_END_TRAILERS;
	} else {
		*eof = H2_END;
	}
	return (ssize_t)n;
}

static const struct h2_cbs cbs = {
	.on_block = on_block,
	.on_data = on_data,
	.on_close = on_close,
	.read_body = read_body,
};

static int
step(struct fz *z, uint64_t now, const uint8_t *p, size_t n,
    struct buf *out)
{
	unsigned i;
	int r;

	r = h2_recv(z->h, now, p, n);
	for (i = 0; i < z->npending; i++)
		h2_consume(z->h, z->pending_sid[i], z->pending_n[i]);
	z->npending = 0;
	do {
		buf_clear(out);
		(void)h2_send(z->h, out);
		AN(buf_len(out) <= H2_OUT_HIGH + 16384 + 64);
	} while (buf_len(out) > 0);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h2_limits lim = { .max_header_bytes = LIMIT };
	struct buf out = { 0 };
	struct fz z = { 0 };
	size_t cut;
	uint64_t now = 1000;
	int r;

	if (size < 2)
		return 0;
	cut = size > 2 ? data[0] % (size - 2) : 0;
	now += data[1] * 10u;
	data += 2;
	size -= 2;
	z.h = h2_new(H2_SERVER, &lim, &cbs, &z);
	(void)h2_send(z.h, &out);
	r = step(&z, 1000, data, cut, &out);
	if (r == 0)
		r = step(&z, now, data + cut, size - cut, &out);
	else
		AN(h2_recv(z.h, now, data + cut, size - cut) == -1);
	if (r != 0)
		AN(h2_done(z.h));
	h2_free(z.h);
	buf_free(&out);
	return 0;
}
