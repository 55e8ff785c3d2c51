/*
 * test_pkt.c - IPv4/IPv6 header parser vectors.
 */
#include <arpa/inet.h>

#include "pkt.h"
#include "tap.h"

/* IPv4 TCP SYN 10.0.0.2:40000 -> 198.18.0.10:5432. */
static const uint8_t v4_syn[] = {
	0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0, 0,
	10, 0, 0, 2, 198, 18, 0, 10,
	0x9c, 0x40, 0x15, 0x38, 0, 0, 0, 1, 0, 0, 0, 0,
	0xa0, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
};

/* IPv6 UDP with hop-by-hop + destination options, 2001:2::2 -> ::53. */
static const uint8_t v6_udp[] = {
	0x60, 0, 0, 0, 0, 32, 0, 64,
	0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
	/* hop-by-hop: next = dstopts (60), len 0 (8 bytes) */
	60, 0, 1, 4, 0, 0, 0, 0,
	/* dstopts: next = UDP, len 0 */
	17, 0, 1, 4, 0, 0, 0, 0,
	/* UDP 5353 -> 53 */
	0x14, 0xe9, 0x00, 0x35, 0, 16, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
};

int
main(void)
{
	struct pkt_info pi;
	uint8_t buf[128];
	char s[64];
	size_t i;

	ok(pkt_parse(v4_syn, sizeof(v4_syn), &pi) == 0, "v4 syn parses");
	is(pi.ipver, 4, "version 4");
	is(pi.proto, IPPROTO_TCP, "tcp");
	ok(pi.have_l4, "l4 read");
	is(pi.src.port, 40000, "sport");
	is(pi.dst.port, 5432, "dport");
	is(pi.tcp_flags, PKT_TCP_SYN, "syn flag");
	is_str(addr_ntop(&pi.dst, s, sizeof(s)), "198.18.0.10", "dst addr");
	is_str(addr_ntop(&pi.src, s, sizeof(s)), "10.0.0.2", "src addr");
	is(pi.l4_off, 20, "l4 offset");

	/* Copy range shorter than the TCP header: ports yes, flags no. */
	ok(pkt_parse(v4_syn, 24, &pi) == 0 && pi.have_l4 &&
	    pi.dst.port == 5432, "ports from a 24-byte copy");
	ok(pkt_parse(v4_syn, 22, &pi) == 0 && !pi.have_l4, "22 bytes: no l4");
	ok(pkt_parse(v4_syn, 19, &pi) == -1, "truncated v4 header");
	ok(pkt_parse(v4_syn, 0, &pi) == -1, "empty");

	memcpy(buf, v4_syn, sizeof(v4_syn));
	buf[0] = 0x44;
	ok(pkt_parse(buf, sizeof(v4_syn), &pi) == -1, "ihl 4 refused");
	buf[0] = 0x4f;
	ok(pkt_parse(buf, sizeof(v4_syn), &pi) == -1, "ihl beyond data");
	buf[0] = 0x55;
	ok(pkt_parse(buf, sizeof(v4_syn), &pi) == -1, "version 5 refused");
	buf[0] = 0x45;
	buf[6] = 0x00;
	buf[7] = 0x10;
	ok(pkt_parse(buf, sizeof(v4_syn), &pi) == 0 && pi.fragment &&
	    !pi.have_l4, "non-first fragment: no ports");
	buf[7] = 0;
	buf[9] = IPPROTO_ICMP;
	buf[20] = 8;
	buf[21] = 0;
	ok(pkt_parse(buf, sizeof(v4_syn), &pi) == 0 && pi.have_l4 &&
	    pi.icmp_type == 8, "icmp echo");
	is_str(pkt_proto_str(pi.proto, s, sizeof(s)), "icmp", "proto name");
	is_str(pkt_proto_str(47, s, sizeof(s)), "ip-47", "unknown proto");

	ok(pkt_parse(v6_udp, sizeof(v6_udp), &pi) == 0, "v6 ext hdrs parse");
	is(pi.ipver, 6, "version 6");
	is(pi.proto, IPPROTO_UDP, "udp after two ext hdrs");
	is(pi.l4_off, 56, "l4 offset after ext hdrs");
	is(pi.dst.port, 53, "v6 dport");
	is_str(addr_ntop(&pi.dst, s, sizeof(s)), "2001:2::53", "v6 dst");
	ok(pkt_parse(v6_udp, 50, &pi) == -1, "cut in an ext hdr");
	ok(pkt_parse(v6_udp, 39, &pi) == -1, "cut in the v6 header");

	/* Nine hop-by-hop headers in a row exceed PKT_MAX_EXT_HDRS. */
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x60;
	buf[6] = 0;
	for (i = 0; i < 10; i++)
		buf[40 + i * 8] = 0;
	ok(pkt_parse(buf, 40 + 10 * 8 > sizeof(buf) ? sizeof(buf) :
	    40 + 10 * 8, &pi) == -1, "ext header chain bounded");

	/* Fragment header with offset 0: first fragment, ports readable. */
	memcpy(buf, v6_udp, 40);
	buf[6] = IPPROTO_FRAGMENT;
	memset(buf + 40, 0, 8);
	buf[40] = IPPROTO_TCP;
	buf[43] = 1;			/* M flag */
	memcpy(buf + 48, v4_syn + 20, 20);
	ok(pkt_parse(buf, 68, &pi) == 0 && !pi.fragment && pi.have_l4 &&
	    pi.dst.port == 5432 && pi.tcp_flags == PKT_TCP_SYN,
	    "first v6 fragment has ports");
	buf[42] = 0x01;			/* offset 32 */
	ok(pkt_parse(buf, 68, &pi) == 0 && pi.fragment && !pi.have_l4,
	    "later v6 fragment has none");
	return tap_done();
}
