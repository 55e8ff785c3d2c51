/*
 * addr.c - address and CIDR helpers.  See addr.h.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

int
addr_parse(const char *s, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->u.v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->u.v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

static unsigned
addr_bits(const struct addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

static bool
prefix_match(const uint8_t *x, const uint8_t *y, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(x, y, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((x[full] ^ y[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int
cidr_parse(const char *s, struct cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix;
	char *end;
	struct addr masked;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (addr_parse(buf, &out->net) != 0)
		return -1;
	if (slash == NULL) {
		out->prefix = (uint8_t)addr_bits(&out->net);
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	prefix = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || prefix > addr_bits(&out->net) ||
	    (slash[1] == '0' && slash[2] != '\0'))
		return -1;
	out->prefix = (uint8_t)prefix;
	/* Reject host bits below the prefix, as nft does. */
	masked = out->net;
	{
		unsigned i;

		for (i = prefix; i < addr_bits(&masked); i++)
			masked.u.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	}
	if (memcmp(masked.u.bytes, out->net.u.bytes, 16) != 0)
		return -1;
	return 0;
}

bool
cidr_contains(const struct cidr *c, const struct addr *a)
{
	if (c->net.family != a->family)
		return false;
	return prefix_match(c->net.u.bytes, a->u.bytes, c->prefix);
}

void
addr_from_sockaddr(struct addr *out, const struct sockaddr *sa)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		out->family = AF_INET;
		out->u.v4 = sin->sin_addr;
		out->port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		out->family = AF_INET6;
		out->u.v6 = sin6->sin6_addr;
		out->port = ntohs(sin6->sin6_port);
	}
}

socklen_t
addr_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = a->u.v4;
		sin->sin_port = htons(a->port);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a->u.v6;
		sin6->sin6_port = htons(a->port);
		return sizeof(*sin6);
	}
}

void
addr_unmap(struct addr *a)
{
	if (a->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->u.v6)) {
		struct in_addr v4;

		memcpy(&v4, &a->u.v6.s6_addr[12], 4);
		memset(&a->u, 0, sizeof(a->u));
		a->u.v4 = v4;
		a->family = AF_INET;
	}
}

bool
addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->u.bytes, b->u.bytes, a->family == AF_INET ? 4 : 16) == 0;
}

const char *
addr_ntop(const struct addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->u.bytes, buf, (socklen_t)len) == NULL)
		util_strlcpy(buf, "?", len);
	return buf;
}

const char *
addr_ntop_port(const struct addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	addr_ntop(a, host, sizeof(host));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, a->port);
	else
		snprintf(buf, len, "%s:%u", host, a->port);
	return buf;
}

const char *
cidr_ntop(const struct cidr *c, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", addr_ntop(&c->net, host, sizeof(host)),
	    c->prefix);
	return buf;
}

struct internal_range {
	const char	*cidr;
	const char	*name;
};

static const struct internal_range internal_ranges[] = {
	{ "0.0.0.0/8",		"this-network" },
	{ "10.0.0.0/8",		"private" },
	{ "100.64.0.0/10",	"cgnat" },
	{ "127.0.0.0/8",	"loopback" },
	{ "169.254.0.0/16",	"link-local" },
	{ "172.16.0.0/12",	"private" },
	{ "192.0.0.0/24",	"ietf-protocol" },
	{ "192.0.2.0/24",	"documentation" },
	{ "192.168.0.0/16",	"private" },
	{ "198.51.100.0/24",	"documentation" },
	{ "203.0.113.0/24",	"documentation" },
	{ "224.0.0.0/4",	"multicast" },
	{ "240.0.0.0/4",	"reserved" },
	{ "::/128",		"unspecified" },
	{ "::1/128",		"loopback" },
	{ "100::/64",		"discard" },
	{ "2001:db8::/32",	"documentation" },
	{ "fc00::/7",		"unique-local" },
	{ "fe80::/10",		"link-local" },
	{ "ff00::/8",		"multicast" },
};

bool
addr_is_internal(const struct addr *in, const char **name_out)
{
	struct addr a = *in;
	size_t i;

	addr_unmap(&a);
	/* NAT64 well-known prefix: judge the embedded IPv4 address. */
	if (a.family == AF_INET6 && memcmp(a.u.bytes,
	    "\x00\x64\xff\x9b\x00\x00\x00\x00\x00\x00\x00\x00", 12) == 0) {
		struct in_addr v4;

		memcpy(&v4, &a.u.bytes[12], 4);
		memset(&a.u, 0, sizeof(a.u));
		a.family = AF_INET;
		a.u.v4 = v4;
	}
	for (i = 0; i < ARRAY_SIZE(internal_ranges); i++) {
		struct cidr c;

		if (cidr_parse(internal_ranges[i].cidr, &c) != 0)
			WRONG("bad built-in range");
		if (!cidr_contains(&c, &a))
			continue;
		if (name_out != NULL)
			*name_out = internal_ranges[i].name;
		return true;
	}
	if (a.family == AF_INET && a.u.v4.s_addr == INADDR_BROADCAST) {
		if (name_out != NULL)
			*name_out = "broadcast";
		return true;
	}
	return false;
}
