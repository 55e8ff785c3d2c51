/*
 * fuzz_dns.c - fuzz target for dns.c.
 *
 * The input is read as a query and as a response to its own question (or
 * to a fixed question when it is not a query), then rewritten by
 * dns_strip_svcb().  Invariants (abort on failure): text names are
 * NUL-terminated and bounded; a parsed query's end is within the input;
 * an error reply re-parses as a response to the same question; at most
 * DNS_MAX_ADDRS addresses; a rewritten response fits its limit, parses
 * as a response to the same question and has no SVCB/HTTPS with ech or
 * h3 left, and rewriting it again drops nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[DNS_MAX_MSG + 2], again[DNS_MAX_MSG + 2];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_header h;
	struct dns_question q;
	struct dns_answers a;
	uint8_t qbuf[300];
	size_t n, n2, maxlen;
	int r;

	if (dns_parse_query(data, size, &h, &q) == 0) {
		AN(q.end <= size && q.end > DNS_HDR_LEN);
		AN(strlen(q.name) < DNS_NAME_TEXT);
		n = dns_build_error(data, size, &q, DNS_R_REFUSED, out,
		    sizeof(out));
		AN(n == DNS_HDR_LEN + q.wire_len + 4 && n <= q.end + 253);
		AN(dns_parse_response(out, n, &q, &a) == 0);
		AN(a.rcode == DNS_R_REFUSED && a.naddrs == 0);
	} else {
		n = dns_build_query(1, "fuzz.example.com", DNS_T_HTTPS, qbuf,
		    sizeof(qbuf));
		AN(n > 0);
		AN(dns_parse_query(qbuf, n, &h, &q) == 0);
	}
	if (dns_parse_response(data, size, &q, &a) == 0)
		AN(a.naddrs <= DNS_MAX_ADDRS);
	maxlen = size > 0 ? 512 + data[0] * 16 : 512;
	r = dns_strip_svcb(data, size, out, sizeof(out), maxlen, &n);
	if (r > 0) {
		AN(n <= maxlen && n >= DNS_HDR_LEN);
		if (dns_parse_response(data, size, &q, &a) == 0) {
			AN(dns_parse_response(out, n, &q, &a) == 0);
			AN(!a.svcb_ech && !a.svcb_h3 && !a.svcb_bad);
		}
		AN(dns_strip_svcb(out, n, again, sizeof(again), maxlen,
		    &n2) == 0);
	}
	return 0;
}
