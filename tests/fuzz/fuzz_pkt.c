/*
 * fuzz_pkt.c - fuzz target for pkt.c (queued packet headers).
 *
 * Invariants (abort on failure): on success the version is 4 or 6, the
 * transport offset is within the input, have_l4 only when the transport
 * header bytes it needs are there, never for a fragment; parsing a
 * shorter prefix never reads more (checked by ASan) and never succeeds
 * with L4 data the prefix does not hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi;
	uint8_t *copy;
	size_t cut;

	/* An exact-size heap copy so ASan sees any over-read. */
	copy = malloc(size ? size : 1);
	AN(copy != NULL);
	memcpy(copy, data, size);
	if (pkt_parse(copy, size, &pi) == 0) {
		AN(pi.ipver == 4 || pi.ipver == 6);
		AN(pi.l4_off <= size);
		AN(!(pi.fragment && pi.have_l4));
		if (pi.have_l4)
			AN(size - pi.l4_off >= 2);
	}
	cut = size / 2;
	if (pkt_parse(copy, cut, &pi) == 0 && pi.have_l4)
		AN((size_t)pi.l4_off + 2 <= cut);
	free(copy);
	return 0;
}
