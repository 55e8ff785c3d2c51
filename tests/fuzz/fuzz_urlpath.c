/*
 * fuzz_urlpath.c - guest-chosen request paths through urlpath_normalize()
 * and urlpath_prefix().
 *
 * Input: the raw path, as the bytes of a request target.  Invariants on
 * every canonical form: it is no longer than the input, starts with '/',
 * holds no NUL, control, space or non-ASCII byte, and its path part no
 * "//", "/./", "/../", trailing "/." or "/..", ';', '\', '#', and none of
 * those either when %2F is read as '/'; every '%' there starts an
 * upper-case escape of a byte that stays encoded; normalising it again
 * gives it back; and it matches its own path part as a rule prefix.
 * A refusal leaves an empty output and has a text.
 *
 * Fuzzing for real (-Dfuzzing=true build):
 *   build/tests/fuzz_urlpath -dict=tests/fuzz/urlpath.dict -max_len=128 DIR
 * with DIR a copy of tests/fuzz/corpus/urlpath.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "urlpath.h"

static char out[URLPATH_MAX + 1], again[URLPATH_MAX + 1];
static char slashed[URLPATH_MAX + 1];

static bool
is_upper_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* The segments of p[0..n) (a path starting with '/'): none empty but a
 * trailing one, none "." or "..". */
static void
check_segments(const char *p, size_t n)
{
	size_t i, start = 1, l;

	for (i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		l = i - start;
		if (l == 0 && i < n)
			abort();
		if ((l == 1 && p[start] == '.') ||
		    (l == 2 && p[start] == '.' && p[start + 1] == '.'))
			abort();
		start = i + 1;
	}
}

static void
check_path_part(const char *p, size_t n)
{
	size_t i, k = 0;
	int b;

	if (n == 0 || p[0] != '/')
		abort();
	for (i = 0; i < n; i++) {
		if (p[i] == ';' || p[i] == '\\' || p[i] == '#')
			abort();
		if (p[i] != '%') {
			slashed[k++] = p[i];
			continue;
		}
		if (i + 2 >= n || !is_upper_hex(p[i + 1]) ||
		    !is_upper_hex(p[i + 2]))
			abort();
		b = util_hexval((unsigned char)p[i + 1]) * 16 +
		    util_hexval((unsigned char)p[i + 2]);
		if (b != ' ' && b != '%' && b != '/' && b != '?' && b != '#' &&
		    b != ';' && b < 0x80)
			abort();	/* should have been decoded */
		if (b == '/')
			slashed[k++] = '/';
		else
			memcpy(slashed + k, p + i, 3), k += 3;
		i += 2;
	}
	check_segments(p, n);
	check_segments(slashed, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	enum urlpath_status st;
	size_t olen, alen, plen, i;
	char prefix[URLPATH_MAX + 1];

	st = urlpath_normalize(raw, size, out, sizeof(out), &olen);
	if (urlpath_status_str(st)[0] == '?')
		abort();
	if (st != URLPATH_OK) {
		if (olen != 0 || out[0] != '\0')
			abort();
		return 0;
	}
	if (olen > size || strlen(out) != olen)
		abort();		/* longer, or a NUL inside */
	for (i = 0; i < olen; i++)
		if ((unsigned char)out[i] <= 0x20 ||
		    (unsigned char)out[i] >= 0x7f)
			abort();
	plen = strcspn(out, "?");
	check_path_part(out, plen);
	st = urlpath_normalize(out, olen, again, sizeof(again), &alen);
	if (st != URLPATH_OK || alen != olen || memcmp(out, again, olen) != 0)
		abort();		/* not idempotent */
	/* the canonical path is a prefix of itself, query or not */
	memcpy(prefix, out, plen);
	prefix[plen] = '\0';
	if (urlpath_prefix(out, prefix) != URLPATH_YES ||
	    urlpath_prefix(out, out) != URLPATH_YES)
		abort();
	if (urlpath_prefix(out, "/") != URLPATH_YES)
		abort();
	return 0;
}
