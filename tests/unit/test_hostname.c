/*
 * test_hostname.c - host name normalisation, IP literals, authority
 * splitting and pattern matching.
 */
#include <stdio.h>
#include <string.h>

#include "hostname.h"
#include "tap.h"

static const char *
norm(const char *in)
{
	static char out[HOST_MAX + 1];

	return host_normalize(in, strlen(in), out) == 0 ? out : NULL;
}

static void
test_normalize(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "example.com", "example.com" },
		{ "Example.COM", "example.com" },
		{ "example.com.", "example.com" },
		{ "localhost", "localhost" },
		{ "a-b.c_d.example", "a-b.c_d.example" },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
		{ "1password.com", "1password.com" },
		{ "123.example.com", "123.example.com" },
		{ "", NULL },
		{ ".", NULL },
		{ "example.com..", NULL },
		{ ".example.com", NULL },
		{ "a..b", NULL },
		{ "-a.com", NULL },
		{ "a-.com", NULL },
		{ "a.-b.com", NULL },
		{ "exa mple.com", NULL },
		{ "ex\tample.com", NULL },
		{ "b\xc3\xbc" "cher.example", NULL },
		{ "example.com:443", NULL },
		{ "user@example.com", NULL },
		{ "*.example.com", NULL },
		{ "1.2.3.4", NULL },
		{ "1.2.3.4.", NULL },
		{ "::1", NULL },
		{ "[::1]", NULL },
		{ "127.1", NULL },
		{ "0x7f.1", NULL },
		{ "2130706433", NULL },
		{ "a.0x1F", NULL },
	};
	char label64[80], name254[300], out[HOST_MAX + 1];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		is_str(norm(cases[i].in), cases[i].out, "normalize \"%s\"",
		    cases[i].in);

	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".com");
	is_str(norm(label64), NULL, "64-byte label refused");
	memset(label64, 'a', 63);
	strcpy(label64 + 63, ".com");
	ok(norm(label64) != NULL, "63-byte label accepted");

	/* 253 bytes: 63.63.63.61 */
	memset(name254, 'a', sizeof(name254));
	name254[63] = name254[127] = name254[191] = '.';
	name254[253] = '\0';
	ok(host_normalize(name254, 253, out) == 0, "253-byte name accepted");
	name254[253] = '.';
	name254[254] = '\0';
	ok(host_normalize(name254, 254, out) == 0,
	    "253-byte name with trailing dot accepted");
	name254[253] = 'a';
	ok(host_normalize(name254, 254, out) != 0, "254-byte name refused");

	/* not NUL-terminated input: only len bytes are read */
	ok(host_normalize("example.comXYZ", 11, out) == 0 &&
	    strcmp(out, "example.com") == 0, "length-bounded input");
	ok(host_normalize("exa\0mple.com", 11, out) != 0, "embedded NUL");
}

static void
test_ip_literal(void)
{
	static const struct {
		const char *in;
		bool lit;
	} cases[] = {
		{ "1.2.3.4", true },
		{ "255.255.255.255", true },
		{ "::1", true },
		{ "[::1]", true },
		{ "[2001:db8::1]", true },
		{ "::ffff:1.2.3.4", true },
		{ "1.2.3", false },
		{ "1.2.3.256", false },
		{ "example.com", false },
		{ "[example.com]", false },
		{ "[1.2.3.4]", false },
		{ "[]", false },
		{ "", false },
		{ "[::1", false },
		{ "fe80::1%eth0", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		is(host_is_ip_literal(cases[i].in, strlen(cases[i].in)),
		    cases[i].lit, "ip literal \"%s\"", cases[i].in);
}

static void
test_authority(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *host;
		uint16_t port;
	} cases[] = {
		{ "example.com", 0, "example.com", 0 },
		{ "example.com:443", 0, "example.com", 443 },
		{ "example.com:1", 0, "example.com", 1 },
		{ "example.com:65535", 0, "example.com", 65535 },
		{ "1.2.3.4:80", 0, "1.2.3.4", 80 },
		{ "[::1]", 0, "::1", 0 },
		{ "[2001:db8::1]:8443", 0, "2001:db8::1", 8443 },
		{ "example.com:0", -1, NULL, 0 },
		{ "example.com:65536", -1, NULL, 0 },
		{ "example.com:99999999", -1, NULL, 0 },
		{ "example.com:", -1, NULL, 0 },
		{ "example.com:+80", -1, NULL, 0 },
		{ "example.com:80x", -1, NULL, 0 },
		{ "example.com: 80", -1, NULL, 0 },
		{ ":80", -1, NULL, 0 },
		{ "", -1, NULL, 0 },
		{ "::1", -1, NULL, 0 },
		{ "[::1]80", -1, NULL, 0 },
		{ "[::1]:", -1, NULL, 0 },
		{ "[]:80", -1, NULL, 0 },
		{ "[example.com]:80", -1, NULL, 0 },
		{ "[::1", -1, NULL, 0 },
		{ "user@example.com", -1, NULL, 0 },
		{ "a.com:80:80", -1, NULL, 0 },
		{ "a.com/x", -1, NULL, 0 },
	};
	const char *host;
	size_t hostlen, i;
	uint16_t port;
	char buf[300];
	int rc;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		host = NULL;
		port = 7;
		rc = host_split_authority(cases[i].in, strlen(cases[i].in),
		    &host, &hostlen, &port);
		is(rc, cases[i].rc, "authority \"%s\" rc", cases[i].in);
		if (rc != 0 || cases[i].rc != 0)
			continue;
		snprintf(buf, sizeof(buf), "%.*s", (int)hostlen, host);
		is_str(buf, cases[i].host, "authority \"%s\" host",
		    cases[i].in);
		is(port, cases[i].port, "authority \"%s\" port", cases[i].in);
	}
}

static void
test_match(void)
{
	static const struct {
		const char *pat;
		bool suffix;
		const char *name;
		bool match;
	} cases[] = {
		{ "example.com", false, "example.com", true },
		{ "example.com", false, "a.example.com", false },
		{ "example.com", false, "badexample.com", false },
		{ "example.com", true, "example.com", true },
		{ "example.com", true, "a.example.com", true },
		{ "example.com", true, "a.b.example.com", true },
		{ "example.com", true, "badexample.com", false },
		{ "example.com", true, "example.com.evil", false },
		{ "example.com", true, "com", false },
		{ "example.com", true, ".example.com", false },
		{ ".example.com", false, "a.example.com", true },
		{ ".example.com", false, "example.com", true },
		{ ".example.com", false, "xexample.com", false },
		{ "api.github.com", false, "api.github.com.evil.example",
		    false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		is(host_match(cases[i].pat, cases[i].suffix, cases[i].name),
		    cases[i].match, "match %s%s vs %s",
		    cases[i].suffix ? "(suffix) " : "", cases[i].pat,
		    cases[i].name);
}

int
main(void)
{
	test_normalize();
	test_ip_literal();
	test_authority();
	test_match();
	return tap_done();
}
