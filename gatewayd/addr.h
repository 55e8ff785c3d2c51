/*
 * addr.h - socket addresses and CIDR prefixes, IPv4 and IPv6.
 *
 * Pure functions, no allocation, thread-safe.
 */
#ifndef GW_ADDR_H
#define GW_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "util.h"

/* An address of either family; port in host order (0 when unused). */
struct addr {
	sa_family_t	family;		/* AF_INET or AF_INET6 */
	uint16_t	port;
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
		uint8_t		bytes[16];
	} u;
};

struct cidr {
	struct addr	net;		/* host bits cleared */
	uint8_t		prefix;		/* 0..32 or 0..128 */
};

/* Longest text form of "[v6]:port" plus NUL. */
#define ADDR_STRLEN	(INET6_ADDRSTRLEN + 9)

/* Parse a literal IPv4 or IPv6 address (no port, no brackets). 0 or -1. */
int addr_parse(const char *s, struct addr *out) WUNRES;

/*
 * Parse "a.b.c.d/n", "v6/n", or a bare address (full-length prefix).
 * Host bits set below the prefix are an error, as nft would reject them.
 * Returns 0 or -1.
 */
int cidr_parse(const char *s, struct cidr *out) WUNRES;

bool cidr_contains(const struct cidr *c, const struct addr *a);

/* Convert between struct addr and sockaddr_storage (port included). */
void addr_from_sockaddr(struct addr *out, const struct sockaddr *sa);
socklen_t addr_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss);

/*
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is folded to IPv4, so that a dual-stack
 * socket and the rules see the same address.
 */
void addr_unmap(struct addr *a);

bool addr_equal(const struct addr *a, const struct addr *b);	/* ignores port */

/* "1.2.3.4" / "2001:db8::1" (no port). Returns buf. */
const char *addr_ntop(const struct addr *a, char *buf, size_t len);
/* "1.2.3.4:80" / "[2001:db8::1]:443". Returns buf. */
const char *addr_ntop_port(const struct addr *a, char *buf, size_t len);
const char *cidr_ntop(const struct cidr *c, char *buf, size_t len);

/*
 * True if a is not a globally routable unicast address: loopback,
 * RFC 1918, link-local (incl. 169.254.169.254 and Slicer's 169.254/16),
 * CGNAT 100.64/10, 0/8, multicast, broadcast, reserved, ULA fc00::/7,
 * fe80::/10, ::, ::1, documentation ranges, and a NAT64 well-known
 * prefix address embedding any of those.  198.18.0.0/15 (benchmarking)
 * is not internal: the test "internet" lives there.
 * name_out, if not NULL, receives a short label of the range.
 */
bool addr_is_internal(const struct addr *a, const char **name_out);

#endif
