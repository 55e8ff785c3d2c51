/*
 * pkt.h - parse the headers of an IPv4 or IPv6 packet as NFQUEUE delivers
 * it (starting at the IP header, possibly cut short by the copy range).
 *
 * Pure: no allocation, no I/O, bounded work; any thread may call it.
 */
#ifndef GW_PKT_H
#define GW_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* IPv6 extension headers walked before giving up (RFC 8200 4.1). */
#define PKT_MAX_EXT_HDRS	8

/* TCP flag bits (RFC 9293 3.1). */
#define PKT_TCP_FIN	0x01
#define PKT_TCP_SYN	0x02
#define PKT_TCP_RST	0x04
#define PKT_TCP_PSH	0x08
#define PKT_TCP_ACK	0x10

struct pkt_info {
	uint8_t		ipver;		/* 4 or 6 */
	uint8_t		proto;		/* IPPROTO_* of the transport */
	struct addr	src, dst;	/* ports set for TCP and UDP */
	bool		have_l4;	/* ports/flags/type were read */
	bool		fragment;	/* a non-first fragment: no L4 */
	uint8_t		tcp_flags;	/* PKT_TCP_* */
	uint8_t		icmp_type, icmp_code;
	uint16_t	l4_off;		/* offset of the transport header */
	uint32_t	ip_len;		/* length the IP header claims */
};

/*
 * Parse len bytes at buf.  The IP header (with IPv6 extension headers)
 * must be complete; the transport header is read when present in full
 * enough (4 bytes for ports, 14 for TCP flags, 2 for ICMP type/code),
 * else have_l4 is false.  Returns 0, or -1 for a malformed or truncated
 * IP header, an unknown version, or too many extension headers.
 */
int pkt_parse(const uint8_t *buf, size_t len, struct pkt_info *out)
    WUNRES NONNULL(3);

/* "tcp", "udp", "icmp", "icmpv6" or "ip-<n>" into buf; returns buf. */
const char *pkt_proto_str(uint8_t proto, char *buf, size_t len);

#endif
