/*
 * fuzz_metrics.c - a scraper's bytes through metrics_parse_request().
 *
 * Input: what a client sends to the metrics listener.  Invariants: the
 * verdict is one of the enum; every prefix that is NEED_MORE stays
 * NEED_MORE or becomes final as bytes are added, and a final verdict
 * never changes when more bytes follow (the server answers as soon as
 * it has one); input of METRICS_REQ_MAX bytes or more is never
 * NEED_MORE; and the answer's head is well formed for the verdict.
 *
 * Fuzzing for real (-Dfuzzing=true build):
 *   build/tests/fuzz_metrics -max_len=5000 DIR
 * with DIR a copy of tests/fuzz/corpus/metrics.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	enum metrics_req r, first = MREQ_NEED_MORE;
	struct buf head = { 0 };
	struct metrics_head h;
	size_t i, step = size > 64 ? size / 64 : 1;

	for (i = 0; i <= size; i += step) {
		r = metrics_parse_request(p, i, &h);
		if (h.len > i)
			abort();	/* a head longer than the bytes */
		if (h.keep_alive && r != MREQ_METRICS && r != MREQ_NOT_FOUND)
			abort();	/* kept open after a 400 or 405 */
		if (r > MREQ_BAD)
			abort();
		if (first != MREQ_NEED_MORE && r != first)
			abort();	/* a final verdict changed */
		if (first == MREQ_NEED_MORE)
			first = r;
	}
	r = metrics_parse_request(p, size, &h);
	if (first != MREQ_NEED_MORE && r != first)
		abort();
	if (size >= METRICS_REQ_MAX && r == MREQ_NEED_MORE)
		abort();
	metrics_response_head(r, size, h.keep_alive, &head);
	if (buf_len(&head) < 17 || memcmp(buf_head(&head), "HTTP/1.1 ", 9) != 0)
		abort();
	buf_free(&head);
	return 0;
}
