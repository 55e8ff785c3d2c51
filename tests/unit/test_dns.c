/*
 * test_dns.c - DNS parser/builder vectors: queries, compression (and
 * loops), truncation, CNAME chains, HTTPS records with ech/alpn, error
 * replies and the SVCB strip.
 */
#include <arpa/inet.h>

#include "dns.h"
#include "tap.h"

/* A small message writer for building vectors. */
struct mb {
	uint8_t	b[2048];
	size_t	n;
};

static void
b8(struct mb *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void
b16(struct mb *m, unsigned v)
{
	b8(m, v >> 8);
	b8(m, v & 0xff);
}

static void
b32(struct mb *m, uint32_t v)
{
	b16(m, v >> 16);
	b16(m, v & 0xffff);
}

static void
bname(struct mb *m, const char *s)
{
	while (*s) {
		const char *d = strchr(s, '.');
		size_t l = d ? (size_t)(d - s) : strlen(s);

		b8(m, (unsigned)l);
		memcpy(m->b + m->n, s, l);
		m->n += l;
		s += l + (d != NULL);
	}
	b8(m, 0);
}

static void
bq(struct mb *m, const char *name, unsigned type)
{
	bname(m, name);
	b16(m, type);
	b16(m, DNS_C_IN);
}

static void
bhdr(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	m->n = 0;
	b16(m, id);
	b16(m, flags);
	b16(m, qd);
	b16(m, an);
	b16(m, ns);
	b16(m, ar);
}

/* RR header with the owner a pointer to offset ptr; rdlen follows. */
static void
brr(struct mb *m, unsigned ptr, unsigned type, uint32_t ttl, unsigned rdlen)
{
	b16(m, 0xc000 | ptr);
	b16(m, type);
	b16(m, DNS_C_IN);
	b32(m, ttl);
	b16(m, rdlen);
}

/* HTTPS rdata: priority 1, target ".", alpn list, optional ech. */
static size_t
bhttps(struct mb *m, unsigned ptr, const char *alpn, int ech)
{
	size_t start, lenpos, alen = strlen(alpn);
	const char *p;

	brr(m, ptr, DNS_T_HTTPS, 300, 0);
	lenpos = m->n - 2;
	start = m->n;
	b16(m, 1);
	b8(m, 0);
	if (alen > 0) {
		size_t lp;

		b16(m, DNS_SVC_ALPN);
		lp = m->n;
		b16(m, 0);
		for (p = alpn; *p; ) {
			const char *c = strchr(p, ',');
			size_t l = c ? (size_t)(c - p) : strlen(p);

			b8(m, (unsigned)l);
			memcpy(m->b + m->n, p, l);
			m->n += l;
			p += l + (c != NULL);
		}
		m->b[lp] = (uint8_t)((m->n - lp - 2) >> 8);
		m->b[lp + 1] = (uint8_t)(m->n - lp - 2);
	}
	if (ech) {
		b16(m, DNS_SVC_ECH);
		b16(m, 4);
		b32(m, 0xfe0d0001);
	}
	m->b[lenpos] = (uint8_t)((m->n - start) >> 8);
	m->b[lenpos + 1] = (uint8_t)(m->n - start);
	return m->n;
}

static void
test_query(void)
{
	struct mb m;
	struct dns_header h;
	struct dns_question q;
	uint8_t out[600];
	size_t n;

	bhdr(&m, 0x1234, DNS_F_RD, 1, 0, 0, 0);
	bq(&m, "DB.Example.com", DNS_T_A);
	ok(dns_parse_query(m.b, m.n, &h, &q) == 0, "query parses");
	is(h.id, 0x1234, "id");
	is_str(q.name, "db.example.com", "name lower-cased");
	is(q.qtype, DNS_T_A, "qtype");
	is(q.nlabels, 3, "labels");
	is(q.max_label, 7, "longest label");
	ok(q.ldh, "ldh");
	is(q.end, m.n, "end offset");
	is(q.wire_len, 16, "wire length");

	ok(dns_parse_query(m.b, m.n - 1, &h, &q) == -1, "truncated qclass");
	ok(dns_parse_query(m.b, 14, &h, &q) == -1, "truncated name");
	ok(dns_parse_query(m.b, 11, &h, &q) == -1, "truncated header");
	m.b[2] |= 0x80;
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1, "QR set refused");
	m.b[2] &= 0x7f;
	m.b[5] = 2;
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1, "qdcount 2 refused");
	m.b[5] = 1;
	AZ(dns_parse_query(m.b, m.n, &h, &q));

	n = dns_build_error(m.b, m.n, &q, DNS_R_REFUSED, out, sizeof(out));
	is(n, m.n, "refused reply length");
	is(out[0] << 8 | out[1], 0x1234, "reply id");
	is(out[3] & 0x0f, DNS_R_REFUSED, "rcode");
	ok((out[2] & 0x80) && (out[2] & 0x01), "QR and RD");
	ok(memcmp(out + 12, m.b + 12, m.n - 12) == 0, "question echoed");
	is(dns_build_error(m.b, m.n, &q, 3, out, 20), 0, "small cap: 0");
	n = dns_build_error(m.b, 5, NULL, DNS_R_FORMERR, out, sizeof(out));
	ok(n == 12 && out[5] == 0 && (out[3] & 0xf) == 1, "formerr no q");

	/* Odd bytes are escaped and flag the name as non-LDH. */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	b8(&m, 3);
	b8(&m, 'a');
	b8(&m, '.');
	b8(&m, 0xff);
	b8(&m, 0);
	b16(&m, 16);
	b16(&m, 1);
	ok(dns_parse_query(m.b, m.n, &h, &q) == 0 && !q.ldh, "binary label");
	is_str(q.name, "a\\.\\255", "escaped text");

	/* Root name. */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	b8(&m, 0);
	b16(&m, 2);
	b16(&m, 1);
	ok(dns_parse_query(m.b, m.n, &h, &q) == 0 && q.name[0] == '\0' &&
	    q.nlabels == 0, "root query");

	/* 64-byte label: invalid label type bits. */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	b8(&m, 64);
	memset(m.b + m.n, 'a', 64);
	m.n += 64;
	b8(&m, 0);
	b16(&m, 1);
	b16(&m, 1);
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1, "label length 64");

	/* Name longer than 255 bytes. */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	for (n = 0; n < 5; n++) {
		b8(&m, 60);
		memset(m.b + m.n, 'a', 60);
		m.n += 60;
	}
	b8(&m, 0);
	b16(&m, 1);
	b16(&m, 1);
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1, "name > 255 bytes");

	n = dns_build_query(7, "www.example.org", DNS_T_AAAA, out,
	    sizeof(out));
	ok(n > 0 && dns_parse_query(out, n, &h, &q) == 0 &&
	    strcmp(q.name, "www.example.org") == 0 && q.qtype == DNS_T_AAAA,
	    "built query round-trips");
	is(dns_build_query(7, "a..b", 1, out, sizeof(out)), 0, "empty label");
}

static void
test_loops(void)
{
	struct mb m;
	struct dns_header h;
	struct dns_question q;

	/* Pointer to itself. */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	b16(&m, 0xc00c);
	b16(&m, 1);
	b16(&m, 1);
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1, "self pointer");

	/* Forward pointer. */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	b16(&m, 0xc010);
	b16(&m, 1);
	b16(&m, 1);
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1, "forward pointer");

	/* Label then a pointer back to it: an endless name. */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	b8(&m, 1);
	b8(&m, 'a');
	b16(&m, 0xc00c);
	b16(&m, 1);
	b16(&m, 1);
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1, "label+pointer loop");

	/* Pointer out of the message. */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	b8(&m, 0xc0);
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1, "half pointer");

	/* A pointer into the header: refused (found by fuzz_dns). */
	bhdr(&m, 1, 0, 1, 0, 0, 0);
	b16(&m, 0xc00b);	/* byte 11 = 0: the root */
	b16(&m, 1);
	b16(&m, 1);
	ok(dns_parse_query(m.b, m.n, &h, &q) == -1,
	    "pointer into the header");
}

/* Response: db.example.com CNAME x.cloud.net, x.cloud.net A, junk A. */
static size_t
make_response(struct mb *m, int order_swapped)
{
	size_t cname_off;

	bhdr(m, 0x1234, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 4, 0, 0);
	bq(m, "db.example.com", DNS_T_A);
	if (order_swapped) {
		/* A before its CNAME; its owner written out in full. */
		bq(m, "x.cloud.NET", DNS_T_A);
		b32(m, 60);
		b16(m, 4);
		b32(m, 0xc612000a);
	}
	brr(m, 12, DNS_T_CNAME, 300, 0);
	cname_off = m->n;
	bname(m, "x.cloud.net");
	m->b[cname_off - 1] = (uint8_t)(m->n - cname_off);
	if (!order_swapped) {
		brr(m, (unsigned)cname_off, DNS_T_A, 60, 4);
		b32(m, 0xc612000a);	/* 198.18.0.10 */
	}
	brr(m, (unsigned)cname_off, DNS_T_AAAA, 0x80000000u, 16);
	b32(m, 0x20010002);
	b32(m, 0);
	b32(m, 0);
	b32(m, 0x10);
	/* An A for another name must not count. */
	bq(m, "evil.test", DNS_T_A);
	b32(m, 60);
	b16(m, 4);
	b32(m, 0x01010101);
	return m->n;
}

static void
test_response(void)
{
	struct mb m, qm;
	struct dns_header h;
	struct dns_question q;
	struct dns_answers a;
	char s[64];
	int swapped;

	bhdr(&qm, 0x1234, DNS_F_RD, 1, 0, 0, 0);
	bq(&qm, "db.example.com", DNS_T_A);
	AZ(dns_parse_query(qm.b, qm.n, &h, &q));

	for (swapped = 0; swapped < 2; swapped++) {
		make_response(&m, swapped);
		ok(dns_parse_response(m.b, m.n, &q, &a) == 0,
		    "response parses (swapped %d)", swapped);
		is(a.rcode, 0, "noerror");
		is(a.ncnames, 1, "one cname hop");
		is(a.naddrs, 2, "two chain addresses, junk skipped");
		is_str(addr_ntop(&a.addrs[swapped ? 0 : 0].addr, s,
		    sizeof(s)), swapped ? "198.18.0.10" : "198.18.0.10",
		    "A address");
		is(a.addrs[0].ttl, 60, "A ttl");
		is_str(addr_ntop(&a.addrs[1].addr, s, sizeof(s)), "2001:2::10",
		    "AAAA address");
		is(a.addrs[1].ttl, 0, "TTL with the top bit set reads as 0");
	}
	make_response(&m, 0);
	ok(dns_parse_response(m.b, m.n - 1, &q, &a) == -1, "truncated rdata");
	ok(dns_parse_response(m.b, 40, &q, &a) == -1, "truncated rr");
	m.b[2] &= 0x7f;
	ok(dns_parse_response(m.b, m.n, &q, &a) == -1, "QR clear refused");
	make_response(&m, 0);
	m.b[13] = 'x';
	ok(dns_parse_response(m.b, m.n, &q, &a) == -1, "other question");

	/* CNAME loop a -> a: bounded, no addresses. */
	bhdr(&m, 1, DNS_F_QR, 1, 1, 0, 0);
	bq(&m, "db.example.com", DNS_T_A);
	brr(&m, 12, DNS_T_CNAME, 60, 2);
	b16(&m, 0xc00c);
	ok(dns_parse_response(m.b, m.n, &q, &a) == 0 && a.naddrs == 0 &&
	    a.ncnames == DNS_MAX_CHAIN, "cname loop bounded");

	/* NXDOMAIN. */
	bhdr(&m, 0x1234, DNS_F_QR | DNS_R_NXDOMAIN, 1, 0, 0, 0);
	bq(&m, "db.example.com", DNS_T_A);
	ok(dns_parse_response(m.b, m.n, &q, &a) == 0 &&
	    a.rcode == DNS_R_NXDOMAIN && a.naddrs == 0, "nxdomain");
}

static void
test_https(void)
{
	struct mb m, qm;
	struct dns_header h;
	struct dns_question q;
	struct dns_answers a;
	uint8_t out[4096];
	size_t n;
	int r;

	bhdr(&qm, 9, DNS_F_RD, 1, 0, 0, 0);
	bq(&qm, "example.com", DNS_T_HTTPS);
	AZ(dns_parse_query(qm.b, qm.n, &h, &q));

	/* Three HTTPS records: h2 only; h2,h3 + ech; h3-29. */
	bhdr(&m, 9, DNS_F_QR | DNS_F_RD, 1, 3, 0, 1);
	bq(&m, "example.com", DNS_T_HTTPS);
	bhttps(&m, 12, "h2", 0);
	bhttps(&m, 12, "h2,h3", 1);
	bhttps(&m, 12, "h3-29", 0);
	/* OPT in the additional section. */
	b8(&m, 0);
	b16(&m, DNS_T_OPT);
	b16(&m, 1232);
	b32(&m, 0);
	b16(&m, 0);
	ok(dns_parse_response(m.b, m.n, &q, &a) == 0, "https parses");
	is(a.nsvcb, 3, "three svcb");
	ok(a.svcb_ech, "ech seen");
	ok(a.svcb_h3, "h3 seen");
	ok(!a.svcb_bad, "well formed");

	r = dns_strip_svcb(m.b, m.n, out, sizeof(out), sizeof(out), &n);
	is(r, 2, "two records dropped");
	ok(dns_parse_header(out, n, &h) == 0 && h.ancount == 1 &&
	    h.arcount == 1, "counts fixed");
	ok(dns_parse_response(out, n, &q, &a) == 0 && a.nsvcb == 1 &&
	    !a.svcb_ech && !a.svcb_h3, "rewritten: only h2 left");
	is(out[1], 9, "id kept");

	/* Nothing to drop: left alone. */
	bhdr(&m, 9, DNS_F_QR, 1, 1, 0, 0);
	bq(&m, "example.com", DNS_T_HTTPS);
	bhttps(&m, 12, "h2,http/1.1", 0);
	is(dns_strip_svcb(m.b, m.n, out, sizeof(out), 512, &n), 0,
	    "clean response not rebuilt");
	ok(dns_parse_response(m.b, m.n, &q, &a) == 0 && !a.svcb_h3,
	    "h2/http1.1 is not h3");

	/* Keys out of order: malformed, dropped. */
	bhdr(&m, 9, DNS_F_QR, 1, 1, 0, 0);
	bq(&m, "example.com", DNS_T_HTTPS);
	brr(&m, 12, DNS_T_HTTPS, 60, 11);
	b16(&m, 1);
	b8(&m, 0);
	b16(&m, DNS_SVC_ECH);
	b16(&m, 0);
	b16(&m, DNS_SVC_ALPN);
	b16(&m, 0);
	ok(dns_parse_response(m.b, m.n, &q, &a) == 0 && a.svcb_bad,
	    "out-of-order keys flagged");
	is(dns_strip_svcb(m.b, m.n, out, sizeof(out), 512, &n), 1,
	    "malformed svcb dropped");

	/* Result over the client's limit: TC with the question only. */
	bhdr(&m, 9, DNS_F_QR, 1, 2, 0, 0);
	bq(&m, "example.com", DNS_T_HTTPS);
	bhttps(&m, 12, "h3", 1);
	brr(&m, 12, DNS_T_TXT, 60, 400);
	memset(m.b + m.n, 'x', 400);
	m.n += 400;
	r = dns_strip_svcb(m.b, m.n, out, sizeof(out), 300, &n);
	ok(r == 1 && dns_parse_header(out, n, &h) == 0 &&
	    (h.flags & DNS_F_TC) && h.ancount == 0 && n == 12 + 13 + 4,
	    "over the limit: TC and question only");
	ok(dns_strip_svcb(m.b, 20, out, sizeof(out), 512, &n) == -1,
	    "truncated input refused");
}

int
main(void)
{
	test_query();
	test_loops();
	test_response();
	test_https();
	return tap_done();
}
