/*
 * hostname.c - host name normalisation, IP literal detection, authority
 * splitting and rule pattern matching.  See hostname.h.
 *
 * This module is pure text handling on caller buffers: no allocation, no
 * DNS, no locale.  It does not convert Unicode names to A-labels (there is
 * no IDNA library here); raw UTF-8 is refused so that a name can never
 * reach a rule or a certificate in two spellings.
 */
#include "hostname.h"

#include <arpa/inet.h>
#include <stdint.h>

#define LABEL_MAX	63

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_xdigit(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * A final label that is all digits, or "0x" + hex, makes some resolvers
 * and URL parsers (inet_aton(), WHATWG URL) read the whole name as an
 * IPv4 address ("127.1", "0x7f.1"): no real TLD looks like that, so such
 * names are refused rather than compared as names.
 */
static bool
numeric_label(const char *l, size_t n)
{
	size_t i;

	if (n > 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (!is_xdigit((unsigned char)l[i]))
				return false;
		return true;
	}
	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)l[i]))
			return false;
	return true;
}

int
host_normalize(const char *in, size_t len, char *out)
{
	size_t i, label = 0, lstart = 0;

	if (len > 1 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > HOST_MAX)
		return -1;
	if (host_is_ip_literal(in, len))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0 || out[i - 1] == '-')
				return -1;
			label = 0;
			lstart = i + 1;
			out[i] = '.';
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' ||
		    c == '_'))
			return -1;
		if (c == '-' && label == 0)
			return -1;
		if (++label > LABEL_MAX)
			return -1;
		out[i] = (char)c;
	}
	if (label == 0 || out[len - 1] == '-')
		return -1;
	if (numeric_label(out + lstart, len - lstart))
		return -1;
	out[len] = '\0';
	return 0;
}

bool
host_is_ip_literal(const char *in, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char tmp[sizeof(struct in6_addr)];

	if (len >= 2 && in[0] == '[' && in[len - 1] == ']') {
		in++;
		len -= 2;
		if (len == 0 || len >= sizeof(buf))
			return false;
		memcpy(buf, in, len);
		buf[len] = '\0';
		return inet_pton(AF_INET6, buf, tmp) == 1;
	}
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, in, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, tmp) == 1 ||
	    inet_pton(AF_INET6, buf, tmp) == 1;
}

/* Decimal port 1..65535, digits only, no sign, no leading junk. */
static int
parse_port(const char *p, size_t n, uint16_t *port)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
host_split_authority(const char *in, size_t len, const char **host,
    size_t *hostlen, uint16_t *port)
{
	const char *end = in + len, *p, *colon = NULL;

	*port = 0;
	if (len == 0)
		return -1;
	if (in[0] == '[') {
		const char *rb = memchr(in, ']', len);

		if (rb == NULL || rb == in + 1 ||
		    !host_is_ip_literal(in, (size_t)(rb - in) + 1))
			return -1;
		*host = in + 1;
		*hostlen = (size_t)(rb - in) - 1;
		p = rb + 1;
		if (p == end)
			return 0;
		if (*p != ':')
			return -1;
		return parse_port(p + 1, (size_t)(end - p - 1), port);
	}
	for (p = in; p < end; p++) {
		/* userinfo, a second colon (bare IPv6) or controls: refuse */
		if (*p == '@' || (unsigned char)*p <= ' ' || *p == '/' ||
		    *p == '[' || *p == ']')
			return -1;
		if (*p == ':') {
			if (colon != NULL)
				return -1;
			colon = p;
		}
	}
	if (colon == in)
		return -1;
	*host = in;
	if (colon == NULL) {
		*hostlen = len;
		return 0;
	}
	*hostlen = (size_t)(colon - in);
	return parse_port(colon + 1, (size_t)(end - colon - 1), port);
}

bool
host_match(const char *pattern, bool suffix, const char *name)
{
	size_t plen, nlen;

	if (pattern[0] == '.') {
		/* tolerate the written form ".example.com" */
		pattern++;
		suffix = true;
	}
	if (strcmp(pattern, name) == 0)
		return true;
	if (!suffix)
		return false;
	plen = strlen(pattern);
	nlen = strlen(name);
	return nlen > plen + 1 && name[nlen - plen - 1] == '.' &&
	    memcmp(name + nlen - plen, pattern, plen) == 0;
}
