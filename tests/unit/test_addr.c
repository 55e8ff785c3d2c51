/* Unit tests for addr.c: parsing, CIDR matching, internal ranges. */
#include <string.h>

#include "addr.h"
#include "tap.h"

/* An address, whether it is internal, and the range that says so. */
struct icase {
	const char	*addr;
	int		internal;
	const char	*range;		/* NULL when external */
};

/*
 * IPv6 forms that carry an IPv4 address are judged by that address; the
 * range named is the IPv4 one.
 */
static const struct icase icases[] = {
	/* IPv4 */
	{ "127.0.0.1",			1, "loopback" },
	{ "10.1.2.3",			1, "private" },
	{ "169.254.169.254",		1, "link-local" },
	{ "100.64.0.1",			1, "cgnat" },
	{ "0.1.2.3",			1, "this-network" },
	{ "255.255.255.255",		1, "broadcast" },
	{ "198.18.0.10",		0, NULL },	/* the test internet */
	{ "93.184.216.34",		0, NULL },
	/* plain IPv6 */
	{ "::",				1, "unspecified" },
	{ "::1",			1, "loopback" },
	{ "fd00::1",			1, "unique-local" },
	{ "fe80::1",			1, "link-local" },
	{ "fec0::1",			1, "site-local" },
	{ "feff:ffff::1",		1, "site-local" },
	{ "ff02::1",			1, "multicast" },
	{ "2001:db8::1",		1, "documentation" },
	{ "2606:2800:220:1::1",		0, NULL },
	{ "2001:2::10",			0, NULL },	/* the test internet */
	/* IPv4-mapped ::ffff:0:0/96 */
	{ "::ffff:127.0.0.1",		1, "loopback" },
	{ "::ffff:a9fe:a9fe",		1, "link-local" },
	{ "::ffff:198.18.0.10",		0, NULL },
	/* IPv4-compatible ::/96 (deprecated) */
	{ "::127.0.0.1",		1, "loopback" },
	{ "::10.0.0.1",			1, "private" },
	{ "::169.254.169.254",		1, "link-local" },
	{ "::8.8.8.8",			0, NULL },
	/* IPv4-translated ::ffff:0:0:0/96 (SIIT) */
	{ "::ffff:0:10.0.0.1",		1, "private" },
	{ "::ffff:0:8.8.8.8",		0, NULL },
	/* NAT64 well-known prefix 64:ff9b::/96 */
	{ "64:ff9b::a9fe:a9fe",		1, "link-local" },
	{ "64:ff9b::127.0.0.1",		1, "loopback" },
	{ "64:ff9b::8.8.8.8",		0, NULL },
	/* NAT64 local-use 64:ff9b:1::/48 (RFC 8215), IPv4 in the last 32 bits */
	{ "64:ff9b:1::10.0.0.1",	1, "private" },
	{ "64:ff9b:1:ffff::a9fe:a9fe",	1, "link-local" },
	{ "64:ff9b:1::8.8.8.8",		0, NULL },
	/* 6to4 2002::/16, IPv4 in bits 16..47 */
	{ "2002:7f00:1::",		1, "loopback" },
	{ "2002:a9fe:a9fe::1",		1, "link-local" },
	{ "2002:c0a8:101:1::1",		1, "private" },
	{ "2002:808:808::1",		0, NULL },
	/* Teredo 2001::/32: server IPv4 in bits 32..63, client IPv4 in the
	 * last 32 bits XOR 0xffffffff; internal if either is */
	{ "2001:0:a00:1::f7f7:f7f7",	1, "private" },		/* server */
	{ "2001:0:808:808::80ff:fffe",	1, "loopback" },	/* client
								 * 127.0.0.1 */
	{ "2001:0:808:808::5601:5656",	1, "link-local" },	/* client
								 * 169.254.169.169 */
	{ "2001:0:808:808::f7f7:f7f7",	0, NULL },		/* both
								 * 8.8.8.8 */
	{ "2001:1::1",			0, NULL },	/* not Teredo */
};

static void
test_internal_table(void)
{
	const char *range;
	struct addr a;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(icases); i++) {
		const struct icase *t = &icases[i];

		if (addr_parse(t->addr, &a) != 0) {
			ok(0, "test address %s parses", t->addr);
			continue;
		}
		range = NULL;
		is(addr_is_internal(&a, &range), t->internal, "%s is %s",
		    t->addr, t->internal ? "internal" : "external");
		if (t->internal)
			is_str(range, t->range, "  %s: range", t->addr);
	}
}

/* The IPv4 addresses an IPv6 form carries, and the form's name. */
static void
test_embedded(void)
{
	static const struct {
		const char	*addr;
		const char	*form;
		const char	*v4[2];
	} t[] = {
		{ "::ffff:10.0.0.1",		"ipv4-mapped",
		  { "10.0.0.1", NULL } },
		{ "::10.0.0.1",			"ipv4-compatible",
		  { "10.0.0.1", NULL } },
		{ "::ffff:0:10.0.0.1",		"ipv4-translated",
		  { "10.0.0.1", NULL } },
		{ "64:ff9b::10.0.0.1",		"nat64",
		  { "10.0.0.1", NULL } },
		{ "64:ff9b:1:2:3:4:a00:1",	"nat64-local",
		  { "10.0.0.1", NULL } },
		{ "2002:a00:1::",		"6to4",
		  { "10.0.0.1", NULL } },
		{ "2001:0:a00:1::80ff:fffe",	"teredo",
		  { "10.0.0.1", "127.0.0.1" } },
		{ "2606:2800:220:1::1",		NULL, { NULL, NULL } },
		{ "10.0.0.1",			NULL, { NULL, NULL } },
	};
	struct addr a, v4[2];
	char buf[ADDR_STRLEN];
	const char *form;
	size_t i, j, n, want;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (addr_parse(t[i].addr, &a) != 0) {
			ok(0, "test address %s parses", t[i].addr);
			continue;
		}
		form = NULL;
		n = addr_embedded_v4(&a, v4, &form);
		want = (t[i].v4[0] != NULL) + (t[i].v4[1] != NULL);
		is((int)n, (int)want, "%s carries %zu IPv4", t[i].addr, want);
		if (t[i].form != NULL)
			is_str(form, t[i].form, "  %s: form", t[i].addr);
		for (j = 0; j < n && j < want; j++) {
			is(v4[j].family, AF_INET, "  %s: IPv4 %zu family",
			    t[i].addr, j);
			is_str(addr_ntop(&v4[j], buf, sizeof(buf)),
			    t[i].v4[j], "  %s: IPv4 %zu", t[i].addr, j);
		}
	}
}

static int
contains(const char *cidr, const char *ip)
{
	struct cidr c;
	struct addr a;

	if (cidr_parse(cidr, &c) != 0 || addr_parse(ip, &a) != 0)
		return -1;
	return cidr_contains(&c, &a);
}

static int
internal(const char *ip)
{
	struct addr a;

	if (addr_parse(ip, &a) != 0)
		return -1;
	return addr_is_internal(&a, NULL);
}

int
main(void)
{
	struct cidr c;
	struct addr a;
	char buf[ADDR_STRLEN];

	ok(cidr_parse("10.0.0.0/8", &c) == 0, "v4 cidr parses");
	is(c.prefix, 8, "prefix 8");
	ok(cidr_parse("10.0.0.1/8", &c) != 0, "host bits set is refused");
	ok(cidr_parse("10.0.0.0/33", &c) != 0, "prefix too long");
	ok(cidr_parse("10.0.0.0/", &c) != 0, "empty prefix");
	ok(cidr_parse("10.0.0.0/08", &c) != 0, "leading zero prefix");
	ok(cidr_parse("/8", &c) != 0, "empty address");
	ok(cidr_parse("example.com/8", &c) != 0, "name refused");
	ok(cidr_parse("2001:db8::/32", &c) == 0, "v6 cidr parses");
	ok(cidr_parse("0.0.0.0/0", &c) == 0, "default route parses");
	is(contains("0.0.0.0/0", "8.8.8.8"), 1, "0/0 contains everything v4");
	is(contains("0.0.0.0/0", "::1"), 0, "0/0 does not contain v6");
	is(contains("192.168.137.1/32", "192.168.137.1"), 1, "/32 exact");
	is(contains("192.168.137.1/32", "192.168.137.2"), 0, "/32 other");
	is(contains("169.254.60.0/22", "169.254.63.255"), 1, "/22 upper edge");
	is(contains("169.254.60.0/22", "169.254.64.0"), 0, "/22 past edge");
	is(contains("2001:db8::/33", "2001:db8:7fff::1"), 1, "v6 odd prefix in");
	is(contains("2001:db8::/33", "2001:db8:8000::1"), 0, "v6 odd prefix out");

	is(internal("127.0.0.1"), 1, "loopback internal");
	is(internal("10.1.2.3"), 1, "rfc1918 internal");
	is(internal("169.254.169.254"), 1, "metadata internal");
	is(internal("100.64.0.1"), 1, "cgnat internal");
	is(internal("fd00::1"), 1, "ula internal");
	is(internal("::ffff:127.0.0.1"), 1, "v4-mapped loopback internal");
	is(internal("64:ff9b::a9fe:a9fe"), 1, "nat64 metadata internal");
	is(internal("198.18.0.10"), 0, "benchmark range is not internal");
	is(internal("93.184.216.34"), 0, "public v4");
	is(internal("2606:2800:220:1::1"), 0, "public v6");

	test_internal_table();
	test_embedded();

	ok(addr_parse("::ffff:10.0.0.1", &a) == 0, "mapped parses");
	addr_unmap(&a);
	is(a.family, AF_INET, "unmapped to v4");
	a.port = 443;
	is_str(addr_ntop_port(&a, buf, sizeof(buf)), "10.0.0.1:443", "v4 ntop");
	ok(addr_parse("2001:db8::1", &a) == 0, "v6 parses");
	a.port = 80;
	is_str(addr_ntop_port(&a, buf, sizeof(buf)), "[2001:db8::1]:80",
	    "v6 ntop brackets");
	return tap_done();
}
