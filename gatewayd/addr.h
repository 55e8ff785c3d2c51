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
 * The IPv4 addresses an IPv6 address carries, by its form: IPv4-mapped
 * ::ffff:0:0/96, IPv4-compatible ::/96, IPv4-translated ::ffff:0:0:0/96,
 * NAT64 64:ff9b::/96 and the local-use 64:ff9b:1::/48 (RFC 8215; the
 * IPv4 address in the last 32 bits), 6to4 2002::/16 (bits 16..47) and
 * Teredo 2001::/32 (server in bits 32..63, client in the last 32 bits
 * XOR 0xffffffff).  Fills v4[] (family AF_INET, port 0) and returns how
 * many (0, 1, or 2 for Teredo); form_out, if not NULL, gets the form's
 * name ("ipv4-mapped", "6to4", "teredo"...).  0 for an IPv4 address.
 */
size_t addr_embedded_v4(const struct addr *a, struct addr v4[2],
    const char **form_out);

/*
 * True if a is not a globally routable unicast address: loopback,
 * RFC 1918, link-local (incl. 169.254.169.254 and Slicer's 169.254/16),
 * CGNAT 100.64/10, 0/8, multicast, broadcast, reserved, ULA fc00::/7,
 * fe80::/10, the deprecated site-local fec0::/10, ::, ::1, documentation
 * ranges, and an IPv6 address that carries (addr_embedded_v4()) an IPv4
 * address that is any of those: whatever the form, it is judged by its
 * IPv4 meaning, since a translator or relay on the path may deliver it
 * there.  198.18.0.0/15 (benchmarking) is not internal: the test
 * "internet" lives there.
 * name_out, if not NULL, receives a short label of the range (for an
 * embedded IPv4 address, its IPv4 range).
 */
bool addr_is_internal(const struct addr *a, const char **name_out);

#endif
