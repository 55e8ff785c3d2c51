/*
 * dns.h - DNS message parser and builder for the gateway's resolver
 * proxy: RFC 1035 (messages, names, compression), RFC 3596 (AAAA),
 * RFC 9460 (SVCB and HTTPS), RFC 6891 (the OPT pseudo-RR is skipped as
 * any other RR).
 *
 * Pure: no allocation, no I/O, bounded work on any input (a name walk
 * follows at most DNS_MAX_PTRS compression pointers, a message at most
 * DNS_MAX_RRS records); any thread may call it.  Every function that
 * takes wire bytes treats them as hostile.
 */
#ifndef GW_DNS_H
#define GW_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DNS_HDR_LEN	12
#define DNS_MAX_MSG	65535
#define DNS_UDP_MIN	512		/* RFC 1035 4.2.1 limit without EDNS */
#define DNS_MAX_PTRS	32		/* compression pointers per name */
#define DNS_MAX_RRS	256		/* records examined per message */
#define DNS_MAX_ADDRS	32		/* addresses reported per answer */
#define DNS_MAX_CHAIN	8		/* CNAME hops followed */
/* Text form of a name: 255 wire bytes, each escaped as \DDD at worst. */
#define DNS_NAME_TEXT	1024

/* Types and classes used here. */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_OPT	41
#define DNS_T_SVCB	64
#define DNS_T_HTTPS	65
#define DNS_T_ANY	255
#define DNS_C_IN	1

/* Header flag bits and response codes (RFC 1035 4.1.1). */
#define DNS_F_QR	0x8000
#define DNS_F_OPCODE	0x7800
#define DNS_F_AA	0x0400
#define DNS_F_TC	0x0200
#define DNS_F_RD	0x0100
#define DNS_F_RA	0x0080
#define DNS_F_RCODE	0x000f

#define DNS_R_NOERROR	0
#define DNS_R_FORMERR	1
#define DNS_R_SERVFAIL	2
#define DNS_R_NXDOMAIN	3
#define DNS_R_NOTIMP	4
#define DNS_R_REFUSED	5

/* SvcParamKeys (RFC 9460 14.3.2). */
#define DNS_SVC_ALPN	1
#define DNS_SVC_ECH	5

struct dns_header {
	uint16_t	id, flags;
	uint16_t	qdcount, ancount, nscount, arcount;
};

struct dns_question {
	/* Lower-case text, labels joined by '.', no trailing dot; bytes
	 * outside [a-z0-9-_] escaped as \DDD and a '.' inside a label as
	 * \. ; the root is "".  Always NUL-terminated. */
	char		name[DNS_NAME_TEXT];
	size_t		wire_len;	/* encoded length incl. root label */
	unsigned	nlabels;
	unsigned	max_label;	/* longest label, bytes */
	bool		ldh;		/* only [A-Za-z0-9-_] bytes */
	uint16_t	qtype, qclass;
	size_t		end;		/* offset just past the question */
	uint16_t	edns_udp;	/* query: OPT's UDP size, 0 if none */
};

struct dns_answer_addr {
	struct addr	addr;
	uint32_t	ttl;
};

/* What a response says about the question (answer section only). */
struct dns_answers {
	uint16_t	rcode;
	bool		truncated;		/* TC bit */
	size_t		naddrs;			/* A/AAAA of the chain */
	struct dns_answer_addr addrs[DNS_MAX_ADDRS];
	unsigned	ncnames;		/* CNAME hops followed */
	unsigned	nsvcb;			/* SVCB/HTTPS RRs, any section */
	bool		svcb_ech;		/* some SVCB/HTTPS has ech */
	bool		svcb_h3;		/* some alpn lists h3 or h3-* */
	bool		svcb_bad;		/* malformed SvcParams seen */
};

/* Read the 12-byte header.  0, or -1 if len < 12. */
int dns_parse_header(const uint8_t *msg, size_t len, struct dns_header *h)
    WUNRES NONNULL(3);

/*
 * Parse a query: header, then exactly the first question (QDCOUNT must be
 * 1, QR must be 0).  The name's compression pointers may only point
 * backwards and at most DNS_MAX_PTRS are followed.  The records after
 * the question must be well formed too; an OPT record's UDP size goes
 * to q->edns_udp (RFC 6891 6.2.3).  Returns 0, or -1 when malformed,
 * truncated or not a single-question query.
 */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_header *h,
    struct dns_question *q) WUNRES NONNULL(3, 4);

/*
 * Parse a response to question q: the header must have QR set and the
 * same single question (name case-insensitively, type, class).  Fills
 * out with the rcode, the A/AAAA records of q's name and of the CNAME
 * chain from it (at most DNS_MAX_CHAIN hops), with their TTLs, and what
 * SVCB/HTTPS records in any section advertise.  Returns 0, or -1 when
 * malformed or not an answer to q.
 */
int dns_parse_response(const uint8_t *msg, size_t len,
    const struct dns_question *q, struct dns_answers *out)
    WUNRES NONNULL(3, 4);

/*
 * Build an error reply (rcode, e.g. DNS_R_REFUSED) to the query at
 * query/qlen whose question q was parsed by dns_parse_query(): same id,
 * opcode and RD, QR and RA set, the question copied (uncompressed), no
 * records.
 * Returns the length written to out, or 0 if cap is too small.  When
 * the query could not be parsed, pass q = NULL: the reply then carries
 * the id and no question (FORMERR style).
 */
size_t dns_build_error(const uint8_t *query, size_t qlen,
    const struct dns_question *q, uint16_t rcode, uint8_t *out, size_t cap)
    NONNULL(1, 5);

/*
 * Copy response msg into out without the SVCB/HTTPS records that
 * advertise ECH or an h3 ALPN, or are malformed (in any section), fixing
 * the counts.  Removing a record whole keeps the rest of the record set
 * valid, and a client that sees no HTTPS record falls back to A/AAAA and
 * TCP+TLS, which the gateway can inspect; stripping keys inside a record
 * would need "mandatory" bookkeeping for little gain.  Names are written
 * uncompressed except references to the question name.  If the result
 * exceeds MIN(cap, maxlen) (maxlen: the client's UDP limit) the reply is
 * cut to header and question with TC set.  Only a response that has
 * something to drop is rebuilt: otherwise out is untouched, so rdata of
 * types this module does not know is never moved.
 * Returns the number of records dropped (*outlen set when > 0), or -1
 * on malformed input or cap smaller than header and question.
 */
int dns_strip_svcb(const uint8_t *msg, size_t len, uint8_t *out,
    size_t cap, size_t maxlen, size_t *outlen) WUNRES NONNULL(1, 3, 6);

/*
 * Build a standard query for name (text, dotted, no escapes) and type
 * with RD set (tests, and probes).  Returns length or 0 on error.
 */
size_t dns_build_query(uint16_t id, const char *name, uint16_t qtype,
    uint8_t *out, size_t cap) NONNULL(2, 4);

/* "A", "AAAA", "HTTPS", ... or "TYPE<n>" into buf; returns buf. */
const char *dns_type_str(uint16_t type, char *buf, size_t len);

/* "NOERROR", "REFUSED", ... or "RCODE<n>". */
const char *dns_rcode_str(uint16_t rcode, char *buf, size_t len);

#endif
