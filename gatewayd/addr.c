/*
 * addr.c - address and CIDR helpers.  See addr.h.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <pthread.h>
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
	if (a->family == AF_INET) {
		/* inet_ntop's text without its sprintf: every audit line
		 * has one or two of these */
		char t[INET_ADDRSTRLEN];
		size_t n = 0;
		int i;

		for (i = 0; i < 4; i++) {
			unsigned v = a->u.bytes[i];

			if (i > 0)
				t[n++] = '.';
			if (v >= 100)
				t[n++] = (char)('0' + v / 100);
			if (v >= 10)
				t[n++] = (char)('0' + v / 10 % 10);
			t[n++] = (char)('0' + v % 10);
		}
		t[n] = '\0';
		if (n < len)
			memcpy(buf, t, n + 1);
		else
			util_strlcpy(buf, "?", len);
		return buf;
	}
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
	{ "255.255.255.255/32",	"broadcast" },	/* before the /4 below */
	{ "240.0.0.0/4",	"reserved" },
	{ "::/128",		"unspecified" },
	{ "::1/128",		"loopback" },
	{ "100::/64",		"discard" },
	{ "2001:db8::/32",	"documentation" },
	{ "fc00::/7",		"unique-local" },
	{ "fe80::/10",		"link-local" },
	{ "fec0::/10",		"site-local" },	/* deprecated, RFC 3879 */
	{ "ff00::/8",		"multicast" },
};

/*
 * IPv6 forms that carry an IPv4 address: the prefix, where the address
 * sits (byte offset), and whether it is stored inverted.  Teredo has two
 * rows (server, then client).
 */
static const struct {
	const char	*cidr;
	const char	*name;
	uint8_t		off;
	bool		inverted;
} embed_forms[] = {
	{ "::ffff:0:0/96",	"ipv4-mapped",		12, false },
	{ "::/96",		"ipv4-compatible",	12, false },
	{ "::ffff:0:0:0/96",	"ipv4-translated",	12, false },
	{ "64:ff9b::/96",	"nat64",		12, false },
	{ "64:ff9b:1::/48",	"nat64-local",		12, false },
	{ "2002::/16",		"6to4",			2, false },
	{ "2001::/32",		"teredo",		4, false },
	{ "2001::/32",		"teredo",		12, true },
};

/*
 * The built-in tables, parsed once: every address the gateway dials is
 * judged against them, and parsing 30 strings per judgement cost ~5% of
 * the CPU of a plain HTTP request (perf, tests/bench PROFILE=perf).
 */
static struct cidr internal_cidrs[ARRAY_SIZE(internal_ranges)];
static struct cidr embed_cidrs[ARRAY_SIZE(embed_forms)];
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void
builtin_parse(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(internal_ranges); i++)
		if (cidr_parse(internal_ranges[i].cidr, &internal_cidrs[i]) != 0)
			WRONG("bad built-in range");
	for (i = 0; i < ARRAY_SIZE(embed_forms); i++)
		if (cidr_parse(embed_forms[i].cidr, &embed_cidrs[i]) != 0)
			WRONG("bad built-in range");
}

static void
builtin_init(void)
{
	(void)pthread_once(&builtin_once, builtin_parse);
}

size_t
addr_embedded_v4(const struct addr *a, struct addr v4[2],
    const char **form_out)
{
	size_t i, n = 0;

	if (a->family != AF_INET6)
		return 0;
	builtin_init();
	for (i = 0; i < ARRAY_SIZE(embed_forms) && n < 2; i++) {
		unsigned j;

		/* The prefixes are disjoint: only Teredo's two rows both
		 * match one address. */
		if (!cidr_contains(&embed_cidrs[i], a))
			continue;
		memset(&v4[n], 0, sizeof(v4[n]));
		v4[n].family = AF_INET;
		for (j = 0; j < 4; j++)
			v4[n].u.bytes[j] = a->u.bytes[embed_forms[i].off + j] ^
			    (embed_forms[i].inverted ? 0xff : 0);
		if (form_out != NULL)
			*form_out = embed_forms[i].name;
		n++;
	}
	return n;
}

/* The built-in range a falls in, by a's own family; NULL if none. */
static const char *
internal_range_of(const struct addr *a)
{
	size_t i;

	builtin_init();
	for (i = 0; i < ARRAY_SIZE(internal_ranges); i++)
		if (cidr_contains(&internal_cidrs[i], a))
			return internal_ranges[i].name;
	return NULL;
}

bool
addr_is_internal(const struct addr *a, const char **name_out)
{
	struct addr v4[2];
	const char *range, *form = NULL;
	size_t i, n;

	range = internal_range_of(a);
	/* A form that carries IPv4: judged by what it carries. */
	n = addr_embedded_v4(a, v4, &form);
	for (i = 0; range == NULL && i < n; i++)
		range = internal_range_of(&v4[i]);
	if (range == NULL)
		return false;
	if (name_out != NULL)
		*name_out = range;
	return true;
}
