/* Unit tests for addr.c: parsing, CIDR matching, internal ranges. */
#include "addr.h"
#include "tap.h"

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
