/*
 * dns.c - DNS wire-format parser and builder.  See dns.h.
 *
 * What it is: the pure half of the resolver proxy.  It reads one question
 * from a query, reads the answer section of a response (addresses of the
 * question's name and its CNAME chain, SVCB/HTTPS parameters), builds
 * error replies and rewrites responses without SVCB/HTTPS records that
 * would let a client bypass the gateway (ECH, HTTP/3).
 * What it is not: a resolver, a cache or a DNSSEC validator; it never
 * allocates and never looks at anything it does not need.
 *
 * Names are handled in two forms: "canonical wire" (uncompressed labels,
 * ASCII lower-cased, at most 255 bytes, used for comparisons) and text
 * (for policy and logs).  RFC 1035 4.1.4: a compression pointer must
 * point before itself; we also cap the pointers followed per name and the
 * decoded length, so no input can make a walk loop.
 */
#include "dns.h"

#include <stdio.h>

#define NAME_WIRE_MAX	255

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/*
 * Decode the name at off into wire (uncompressed labels incl. the root
 * label, original case).  *next gets the offset just past the name as it
 * sits in the message (after the first pointer, if any).  0 or -1.
 */
static int
name_decode(const uint8_t *msg, size_t len, size_t off, size_t *next,
    uint8_t *wire, size_t *wlen)
{
	size_t pos = off, n = 0;
	unsigned ptrs = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -1;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len || ++ptrs > DNS_MAX_PTRS)
				return -1;
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			/* Backwards only, and never into the header: a name
			 * there changes meaning when the header does. */
			if (target >= pos || target < DNS_HDR_LEN)
				return -1;
			if (!jumped)
				*next = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if ((l & 0xc0) != 0)
			return -1;	/* 0x40/0x80: obsolete label types */
		if (pos + 1 + l > len || n + 1 + l > NAME_WIRE_MAX)
			return -1;
		memcpy(wire + n, msg + pos, (size_t)l + 1);
		n += (size_t)l + 1;
		pos += (size_t)l + 1;
		if (l == 0)
			break;
	}
	if (!jumped)
		*next = pos;
	*wlen = n;
	return 0;
}

/* Walk an uncompressed name (SVCB TargetName) in [off, end).  0 or -1. */
static int
name_skip_plain(const uint8_t *msg, size_t end, size_t *off)
{
	size_t pos = *off, n = 0;

	for (;;) {
		uint8_t l;

		if (pos >= end)
			return -1;
		l = msg[pos];
		if ((l & 0xc0) != 0 || pos + 1 + l > end ||
		    (n += (size_t)l + 1) > NAME_WIRE_MAX)
			return -1;
		pos += (size_t)l + 1;
		if (l == 0)
			break;
	}
	*off = pos;
	return 0;
}

static void
canon(uint8_t *wire, size_t wlen)
{
	size_t i;

	for (i = 0; i < wlen; i++)
		wire[i] = lower(wire[i]);
}

static bool
ldh_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/* Canonical wire name to text (see struct dns_question). */
static void
name_text(const uint8_t *wire, struct dns_question *q)
{
	size_t i = 0, o = 0;

	q->nlabels = 0;
	q->max_label = 0;
	q->ldh = true;
	while (wire[i] != 0) {
		uint8_t l = wire[i++], j;

		if (q->nlabels++ > 0)
			q->name[o++] = '.';
		q->max_label = MAX(q->max_label, l);
		for (j = 0; j < l; j++) {
			uint8_t c = wire[i++];

			if (ldh_byte(c)) {
				q->name[o++] = (char)c;
				continue;
			}
			q->ldh = false;
			if (c == '.' || c == '\\') {
				q->name[o++] = '\\';
				q->name[o++] = (char)c;
			} else {
				o += (size_t)snprintf(q->name + o, 5, "\\%03u",
				    c);
			}
		}
	}
	q->name[o] = '\0';
}

int
dns_parse_header(const uint8_t *msg, size_t len, struct dns_header *h)
{
	if (msg == NULL || len < DNS_HDR_LEN)
		return -1;
	h->id = rd16(msg);
	h->flags = rd16(msg + 2);
	h->qdcount = rd16(msg + 4);
	h->ancount = rd16(msg + 6);
	h->nscount = rd16(msg + 8);
	h->arcount = rd16(msg + 10);
	return 0;
}

/* Parse the question at DNS_HDR_LEN into q; canonical wire into qwire. */
static int
parse_question(const uint8_t *msg, size_t len, struct dns_question *q,
    uint8_t *qwire)
{
	size_t next;

	if (name_decode(msg, len, DNS_HDR_LEN, &next, qwire, &q->wire_len) != 0)
		return -1;
	if (next + 4 > len)
		return -1;
	canon(qwire, q->wire_len);
	name_text(qwire, q);
	q->qtype = rd16(msg + next);
	q->qclass = rd16(msg + next + 2);
	q->end = next + 4;
	return 0;
}

/* One resource record's fixed parts. */
struct rr {
	size_t		owner;		/* offset of the owner name */
	uint16_t	type, class;
	uint32_t	ttl;
	size_t		rdata, rdlen;
	size_t		end;
};

static int
parse_rr(const uint8_t *msg, size_t len, size_t off, struct rr *rr)
{
	uint8_t wire[NAME_WIRE_MAX];
	size_t next, wlen;

	if (name_decode(msg, len, off, &next, wire, &wlen) != 0)
		return -1;
	if (next + 10 > len)
		return -1;
	rr->owner = off;
	rr->type = rd16(msg + next);
	rr->class = rd16(msg + next + 2);
	rr->ttl = rd32(msg + next + 4);
	rr->rdlen = rd16(msg + next + 8);
	rr->rdata = next + 10;
	if (rr->rdata + rr->rdlen > len)
		return -1;
	rr->end = rr->rdata + rr->rdlen;
	return 0;
}

/* Does this SVCB/HTTPS rdata carry ech or an h3 ALPN?  Sets flags. */
static int
svcb_check(const uint8_t *msg, const struct rr *rr, bool *ech, bool *h3)
{
	size_t end = rr->end, pos = rr->rdata + 2;
	int lastkey = -1;

	*ech = *h3 = false;
	if (rr->rdlen < 3 || name_skip_plain(msg, end, &pos) != 0)
		return -1;
	while (pos < end) {
		uint16_t key, vlen;
		size_t v;

		if (pos + 4 > end)
			return -1;
		key = rd16(msg + pos);
		vlen = rd16(msg + pos + 2);
		pos += 4;
		if (pos + vlen > end || (int)key <= lastkey)
			return -1;	/* RFC 9460 2.2: strictly increasing */
		lastkey = key;
		if (key == DNS_SVC_ECH)
			*ech = true;
		for (v = pos; key == DNS_SVC_ALPN && v < pos + vlen; ) {
			uint8_t l = msg[v];

			if (l == 0 || v + 1 + l > pos + vlen)
				return -1;
			if ((l == 2 || (l > 2 && msg[v + 3] == '-')) &&
			    lower(msg[v + 1]) == 'h' && msg[v + 2] == '3')
				*h3 = true;
			v += (size_t)l + 1;
		}
		pos += vlen;
	}
	return 0;
}

static bool
is_svcb(const struct rr *rr)
{
	return rr->type == DNS_T_SVCB || rr->type == DNS_T_HTTPS;
}

/*
 * Index the records of all sections: offsets into offs (at most
 * DNS_MAX_RRS).  Returns the count, or -1 if malformed or too many.
 */
static int
index_rrs(const uint8_t *msg, size_t len, const struct dns_header *h,
    size_t start, struct rr *rrs)
{
	size_t total = (size_t)h->ancount + h->nscount + h->arcount, i;
	size_t off = start;

	if (total > DNS_MAX_RRS)
		return -1;
	for (i = 0; i < total; i++) {
		if (parse_rr(msg, len, off, &rrs[i]) != 0)
			return -1;
		off = rrs[i].end;
	}
	return (int)total;
}

int
dns_parse_query(const uint8_t *msg, size_t len, struct dns_header *h,
    struct dns_question *q)
{
	uint8_t qwire[NAME_WIRE_MAX];
	struct rr rrs[DNS_MAX_RRS];
	int n, i;

	memset(q, 0, sizeof(*q));
	if (dns_parse_header(msg, len, h) != 0)
		return -1;
	if ((h->flags & DNS_F_QR) != 0 || h->qdcount != 1)
		return -1;
	if (parse_question(msg, len, q, qwire) != 0 ||
	    (n = index_rrs(msg, len, h, q->end, rrs)) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (rrs[i].type == DNS_T_OPT)
			q->edns_udp = MAX(rrs[i].class, DNS_UDP_MIN);
	return 0;
}

static bool
owner_is(const uint8_t *msg, size_t len, const struct rr *rr,
    const uint8_t *wire, size_t wlen)
{
	uint8_t w[NAME_WIRE_MAX];
	size_t next, n;

	if (name_decode(msg, len, rr->owner, &next, w, &n) != 0 || n != wlen)
		return false;
	canon(w, n);
	return memcmp(w, wire, n) == 0;
}

int
dns_parse_response(const uint8_t *msg, size_t len,
    const struct dns_question *q, struct dns_answers *out)
{
	struct dns_header h;
	struct dns_question rq;
	struct rr rrs[DNS_MAX_RRS];
	uint8_t chain[DNS_MAX_CHAIN + 1][NAME_WIRE_MAX];
	size_t chainlen[DNS_MAX_CHAIN + 1];
	int n, i;
	unsigned c;

	memset(out, 0, sizeof(*out));
	if (dns_parse_header(msg, len, &h) != 0 || (h.flags & DNS_F_QR) == 0 ||
	    h.qdcount != 1)
		return -1;
	if (parse_question(msg, len, &rq, chain[0]) != 0 ||
	    rq.qtype != q->qtype || rq.qclass != q->qclass ||
	    strcmp(rq.name, q->name) != 0)
		return -1;
	chainlen[0] = rq.wire_len;
	out->rcode = h.flags & DNS_F_RCODE;
	out->truncated = (h.flags & DNS_F_TC) != 0;
	if ((n = index_rrs(msg, len, &h, rq.end, rrs)) < 0)
		return -1;

	/* Follow the CNAME chain from the question name, in any order. */
	for (c = 0; c < DNS_MAX_CHAIN; c++) {
		for (i = 0; i < h.ancount; i++) {
			size_t next;

			if (rrs[i].type != DNS_T_CNAME ||
			    rrs[i].class != DNS_C_IN ||
			    !owner_is(msg, len, &rrs[i], chain[c], chainlen[c]))
				continue;
			if (name_decode(msg, rrs[i].end, rrs[i].rdata, &next,
			    chain[c + 1], &chainlen[c + 1]) != 0 ||
			    next != rrs[i].end)
				return -1;
			canon(chain[c + 1], chainlen[c + 1]);
			break;
		}
		if (i == h.ancount)
			break;
	}
	out->ncnames = c;

	for (i = 0; i < n; i++) {
		const struct rr *rr = &rrs[i];
		bool ech, h3;
		unsigned k;

		if (is_svcb(rr)) {
			out->nsvcb++;
			if (svcb_check(msg, rr, &ech, &h3) != 0)
				out->svcb_bad = true;
			out->svcb_ech |= ech;
			out->svcb_h3 |= h3;
			continue;
		}
		if (i >= h.ancount || rr->class != DNS_C_IN ||
		    out->naddrs == DNS_MAX_ADDRS)
			continue;
		if (!(rr->type == DNS_T_A && rr->rdlen == 4) &&
		    !(rr->type == DNS_T_AAAA && rr->rdlen == 16))
			continue;
		for (k = 0; k <= c; k++)
			if (owner_is(msg, len, rr, chain[k], chainlen[k]))
				break;
		if (k > c)
			continue;
		{
			struct dns_answer_addr *a = &out->addrs[out->naddrs++];

			memset(&a->addr, 0, sizeof(a->addr));
			a->addr.family = rr->type == DNS_T_A ? AF_INET :
			    AF_INET6;
			memcpy(a->addr.u.bytes, msg + rr->rdata, rr->rdlen);
			a->ttl = rr->ttl > INT32_MAX ? 0 : rr->ttl; /* 2181 8 */
		}
	}
	return 0;
}

size_t
dns_build_error(const uint8_t *query, size_t qlen,
    const struct dns_question *q, uint16_t rcode, uint8_t *out, size_t cap)
{
	size_t n = DNS_HDR_LEN;
	uint16_t flags;

	if (qlen < 2 || cap < DNS_HDR_LEN)
		return 0;
	flags = qlen >= 4 ? rd16(query + 2) : 0;
	flags = (uint16_t)(DNS_F_QR | (flags & (DNS_F_OPCODE | DNS_F_RD)) |
	    DNS_F_RA | (rcode & DNS_F_RCODE));
	memset(out, 0, DNS_HDR_LEN);
	memcpy(out, query, 2);
	wr16(out + 2, flags);
	if (q != NULL && q->end <= qlen && q->end > DNS_HDR_LEN) {
		uint8_t wire[NAME_WIRE_MAX];
		size_t next, wlen;

		/* The question written out uncompressed: a pointer in the
		 * client's may reach bytes after it, which are not copied. */
		if (name_decode(query, qlen, DNS_HDR_LEN, &next, wire,
		    &wlen) != 0 || next + 4 > qlen ||
		    DNS_HDR_LEN + wlen + 4 > cap)
			return 0;
		memcpy(out + DNS_HDR_LEN, wire, wlen);
		memcpy(out + DNS_HDR_LEN + wlen, query + next, 4);
		wr16(out + 4, 1);
		n = DNS_HDR_LEN + wlen + 4;
	}
	return n;
}

/* Output buffer with a hard limit; overflow sets a flag, never writes. */
struct wbuf {
	uint8_t		*p;
	size_t		n, cap;
	bool		full;
};

static void
put(struct wbuf *w, const void *src, size_t len)
{
	if (w->full || len > w->cap - w->n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->n, src, len);
	w->n += len;
}

/* Write the name at off uncompressed, or as a pointer to the question. */
static int
put_name(struct wbuf *w, const uint8_t *msg, size_t len, size_t off,
    size_t *next, const uint8_t *qwire, size_t qwlen)
{
	uint8_t wire[NAME_WIRE_MAX], cw[NAME_WIRE_MAX];
	size_t wlen;

	if (name_decode(msg, len, off, next, wire, &wlen) != 0)
		return -1;
	memcpy(cw, wire, wlen);
	canon(cw, wlen);
	if (qwire != NULL && wlen == qwlen && memcmp(cw, qwire, wlen) == 0 &&
	    wlen > 1)
		put(w, "\xc0\x0c", 2);
	else
		put(w, wire, wlen);
	return 0;
}

/*
 * Copy rdata, decompressing the names of the RFC 1035 types that may be
 * compressed (RFC 3597 4); other types are copied as they are.
 */
static int
put_rdata(struct wbuf *w, const uint8_t *msg, const struct rr *rr)
{
	size_t pos = rr->rdata, next, start = w->n;
	int names = 0, i;
	size_t pre = 0, post = 0;

	switch (rr->type) {
	case DNS_T_NS: case DNS_T_CNAME: case DNS_T_PTR:
	case 3: case 4: case 7: case 8: case 9:	/* MD MF MB MG MR */
		names = 1;
		break;
	case DNS_T_MX:
		pre = 2;
		names = 1;
		break;
	case DNS_T_SOA:
		names = 2;
		post = 20;
		break;
	case 14:				/* MINFO */
		names = 2;
		break;
	default:
		put(w, msg + rr->rdata, rr->rdlen);
		return 0;
	}
	if (pre > rr->rdlen)
		return -1;
	put(w, msg + pos, pre);
	pos += pre;
	for (i = 0; i < names; i++) {
		if (put_name(w, msg, rr->end, pos, &next, NULL, 0) != 0)
			return -1;
		pos = next;
	}
	if (pos + post != rr->end)
		return -1;
	put(w, msg + pos, post);
	if (!w->full && w->n - start > UINT16_MAX)
		return -1;
	return 0;
}

int
dns_strip_svcb(const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
    size_t maxlen, size_t *outlen)
{
	struct dns_header h;
	struct dns_question q;
	struct rr rrs[DNS_MAX_RRS];
	uint8_t qwire[NAME_WIRE_MAX];
	uint16_t counts[3];
	struct wbuf w;
	int n, i, dropped = 0;
	bool drop[DNS_MAX_RRS];

	*outlen = 0;
	if (dns_parse_header(msg, len, &h) != 0 || h.qdcount != 1 ||
	    parse_question(msg, len, &q, qwire) != 0 ||
	    (n = index_rrs(msg, len, &h, q.end, rrs)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		bool ech, h3;

		drop[i] = is_svcb(&rrs[i]) &&
		    (svcb_check(msg, &rrs[i], &ech, &h3) != 0 || ech || h3);
		dropped += drop[i];
	}
	if (dropped == 0)
		return 0;

	w.p = out;
	w.cap = MIN(cap, maxlen);
	w.n = 0;
	w.full = false;
	put(&w, msg, DNS_HDR_LEN);
	{
		size_t next;

		if (put_name(&w, msg, len, DNS_HDR_LEN, &next, NULL, 0) != 0)
			return -1;
		put(&w, msg + next, 4);
	}
	if (w.full)
		return -1;
	counts[0] = h.ancount;
	counts[1] = h.nscount;
	counts[2] = h.arcount;
	for (i = 0; i < n; i++) {
		const struct rr *rr = &rrs[i];
		size_t next, lenpos;
		int sect = i < h.ancount ? 0 :
		    i < h.ancount + h.nscount ? 1 : 2;

		if (drop[i]) {
			counts[sect]--;
			continue;
		}
		if (put_name(&w, msg, len, rr->owner, &next, qwire,
		    q.wire_len) != 0)
			return -1;
		put(&w, msg + next, 8);		/* type, class, ttl */
		lenpos = w.n;
		put(&w, "\0\0", 2);
		if (put_rdata(&w, msg, rr) != 0)
			return -1;
		if (!w.full)
			wr16(out + lenpos, (uint16_t)(w.n - lenpos - 2));
	}
	if (w.full) {
		/* Header and question only, TC set: the client retries
		 * over TCP (RFC 1035 4.2.1, RFC 7766). */
		size_t next;

		w.full = false;
		w.n = 0;
		put(&w, msg, DNS_HDR_LEN);
		if (put_name(&w, msg, len, DNS_HDR_LEN, &next, NULL, 0) != 0)
			return -1;
		put(&w, msg + next, 4);
		if (w.full)
			return -1;
		wr16(out + 2, (uint16_t)(h.flags | DNS_F_TC));
		counts[0] = counts[1] = counts[2] = 0;
	}
	wr16(out + 6, counts[0]);
	wr16(out + 8, counts[1]);
	wr16(out + 10, counts[2]);
	*outlen = w.n;
	return dropped;
}

size_t
dns_build_query(uint16_t id, const char *name, uint16_t qtype,
    uint8_t *out, size_t cap)
{
	size_t n = DNS_HDR_LEN, wl = 0;
	const char *p = name;

	if (cap < DNS_HDR_LEN + 1 + 4)
		return 0;
	memset(out, 0, DNS_HDR_LEN);
	wr16(out, id);
	wr16(out + 2, DNS_F_RD);
	wr16(out + 4, 1);
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || (wl += l + 1) > NAME_WIRE_MAX - 1 ||
		    n + 1 + l + 5 > cap)
			return 0;
		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	wr16(out + n, qtype);
	wr16(out + n + 2, DNS_C_IN);
	return n + 4;
}

const char *
dns_type_str(uint16_t type, char *buf, size_t len)
{
	static const struct {
		uint16_t type;
		const char *name;
	} tbl[] = {
		{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" },
		{ DNS_T_SOA, "SOA" }, { DNS_T_PTR, "PTR" }, { DNS_T_MX, "MX" },
		{ DNS_T_TXT, "TXT" }, { DNS_T_AAAA, "AAAA" },
		{ 33, "SRV" }, { DNS_T_OPT, "OPT" }, { DNS_T_SVCB, "SVCB" },
		{ DNS_T_HTTPS, "HTTPS" }, { DNS_T_ANY, "ANY" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tbl); i++) {
		if (tbl[i].type == type) {
			util_strlcpy(buf, tbl[i].name, len);
			return buf;
		}
	}
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

const char *
dns_rcode_str(uint16_t rcode, char *buf, size_t len)
{
	static const char *names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED",
	};

	if (rcode < ARRAY_SIZE(names))
		util_strlcpy(buf, names[rcode], len);
	else
		snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}
