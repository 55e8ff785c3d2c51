/*
 * pkt.c - IPv4/IPv6 header parser for queued packets.  See pkt.h.
 *
 * This module reads headers only: it does not verify checksums (the
 * kernel has, or will), reassemble fragments (conntrack defragments
 * before the queue hook) or look at payloads.  RFC 791 (IPv4), RFC 8200
 * (IPv6 and its extension headers), RFC 4302 (AH length unit), RFC 9293
 * (TCP), RFC 768 (UDP), RFC 792 / RFC 4443 (ICMP, ICMPv6).
 */
#include "pkt.h"

#include <stdio.h>

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
parse_l4(const uint8_t *buf, size_t len, struct pkt_info *out)
{
	const uint8_t *l4 = buf + out->l4_off;
	size_t avail = len - out->l4_off;

	switch (out->proto) {
	case IPPROTO_TCP:
		if (avail >= 14)
			out->tcp_flags = l4[13];
		/* FALLTHROUGH */
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		if (avail < 4)
			return;
		out->src.port = rd16(l4);
		out->dst.port = rd16(l4 + 2);
		out->have_l4 = true;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (avail < 2)
			return;
		out->icmp_type = l4[0];
		out->icmp_code = l4[1];
		out->have_l4 = true;
		break;
	default:
		break;
	}
}

static int
parse_v4(const uint8_t *buf, size_t len, struct pkt_info *out)
{
	size_t ihl;
	uint16_t frag;

	if (len < 20)
		return -1;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	out->ip_len = rd16(buf + 2);
	/* tot_len 0: a GSO super-packet (BIG TCP) larger than 64 KiB. */
	if (ihl < 20 || ihl > len || (out->ip_len != 0 && out->ip_len < ihl))
		return -1;
	frag = rd16(buf + 6);
	out->fragment = (frag & 0x1fff) != 0;
	out->proto = buf[9];
	out->src.family = out->dst.family = AF_INET;
	memcpy(&out->src.u.v4, buf + 12, 4);
	memcpy(&out->dst.u.v4, buf + 16, 4);
	out->l4_off = (uint16_t)ihl;
	return 0;
}

static int
parse_v6(const uint8_t *buf, size_t len, struct pkt_info *out)
{
	size_t off = 40;
	uint8_t next;
	int n;

	if (len < 40)
		return -1;
	out->ip_len = 40u + rd16(buf + 4);
	out->src.family = out->dst.family = AF_INET6;
	memcpy(&out->src.u.v6, buf + 8, 16);
	memcpy(&out->dst.u.v6, buf + 24, 16);
	next = buf[6];
	for (n = 0; ; n++) {
		size_t hlen;

		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case 135:	/* Mobility */
		case 139:	/* HIP */
		case 140:	/* Shim6 */
			if (off + 2 > len)
				return -1;
			hlen = ((size_t)buf[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (off + 2 > len)
				return -1;
			hlen = ((size_t)buf[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (off + 8 > len)
				return -1;
			hlen = 8;
			if ((rd16(buf + off + 2) & 0xfff8) != 0)
				out->fragment = true;
			break;
		default:
			/* Transport, ESP, No Next Header (59), unknown. */
			out->proto = next;
			out->l4_off = (uint16_t)off;
			return 0;
		}
		if (n >= PKT_MAX_EXT_HDRS || off + hlen > len)
			return -1;
		next = buf[off];
		off += hlen;
	}
}

int
pkt_parse(const uint8_t *buf, size_t len, struct pkt_info *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return -1;
	out->ipver = buf[0] >> 4;
	if (out->ipver == 4)
		r = parse_v4(buf, len, out);
	else if (out->ipver == 6)
		r = parse_v6(buf, len, out);
	else
		r = -1;
	if (r != 0)
		return -1;
	if (!out->fragment)
		parse_l4(buf, len, out);
	return 0;
}

const char *
pkt_proto_str(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP:
		util_strlcpy(buf, "tcp", len);
		break;
	case IPPROTO_UDP:
		util_strlcpy(buf, "udp", len);
		break;
	case IPPROTO_ICMP:
		util_strlcpy(buf, "icmp", len);
		break;
	case IPPROTO_ICMPV6:
		util_strlcpy(buf, "icmpv6", len);
		break;
	default:
		snprintf(buf, len, "ip-%u", proto);
		break;
	}
	return buf;
}
