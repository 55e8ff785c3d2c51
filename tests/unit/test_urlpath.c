/*
 * test_urlpath.c - the canonical reading of request paths: a table of
 * raw path -> canonical form or refusal, each canonical form normalised
 * again (it must come back unchanged), and prefix matching with %2F.
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "urlpath.h"

#define OK	URLPATH_OK

struct row {
	const char		*raw;
	size_t			len;	/* 0: strlen(raw) */
	enum urlpath_status	want;
	const char		*canon;	/* for OK */
};

static const struct row rows[] = {
	/* plain paths pass as they are */
	{ "/", 0, OK, "/" },
	{ "/repos/a/b", 0, OK, "/repos/a/b" },
	{ "/repos/a/", 0, OK, "/repos/a/" },
	{ "/a.b/..c/...", 0, OK, "/a.b/..c/..." },
	{ "/.well-known/x", 0, OK, "/.well-known/x" },
	{ "/a:b@c!$&'()*+,=", 0, OK, "/a:b@c!$&'()*+,=" },
	{ "/{x}|^`\"<>[]", 0, OK, "/{x}|^`\"<>[]" },
	/* unreserved and other printable escapes are decoded */
	{ "/re%70os/x", 0, OK, "/repos/x" },
	{ "/%61dmin", 0, OK, "/admin" },
	{ "/%41%7a%30%2d%5F%7E%2E", 0, OK, "/Az0-_~." },
	{ "/a%3Ab%40c%2B", 0, OK, "/a:b@c+" },
	{ "/%7b%7D", 0, OK, "/{}" },
	/* structural or unprintable bytes keep their escape, in upper case */
	{ "/a%2fb", 0, OK, "/a%2Fb" },
	{ "/api/v4/projects/g%2Fp/files/src%2fmain.c", 0, OK,
	  "/api/v4/projects/g%2Fp/files/src%2Fmain.c" },
	{ "/a%2F", 0, OK, "/a%2F" },
	{ "/a%3fb", 0, OK, "/a%3Fb" },
	{ "/a%23b", 0, OK, "/a%23b" },
	{ "/a%3bb", 0, OK, "/a%3Bb" },
	{ "/my%20file", 0, OK, "/my%20file" },
	{ "/100%25", 0, OK, "/100%25" },
	{ "/%25zz", 0, OK, "/%25zz" },
	{ "/caf%c3%a9", 0, OK, "/caf%C3%A9" },
	{ "/%e0%a4%85", 0, OK, "/%E0%A4%85" },
	{ "/%f0%9f%98%80", 0, OK, "/%F0%9F%98%80" },
	/* the query is copied as sent */
	{ "/s?q=ok", 0, OK, "/s?q=ok" },
	{ "/re%70os/?p=../..//%2e;\\", 0, OK, "/repos/?p=../..//%2e;\\" },
	{ "/a/?", 0, OK, "/a/?" },
	{ "/?%zz", 0, OK, "/?%zz" },
	/* dot segments, raw or encoded */
	{ "/repos/../admin", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/repos/./x", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/repos/x/..", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/repos/x/.", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/..", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/repos/%2e%2e/admin", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/repos/.%2E/admin", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/repos/%2e/x", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/x/..?q", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/repos%2F..%2Fadmin", 0, URLPATH_DOT_SEGMENT, NULL },
	{ "/a/.%2Fb", 0, URLPATH_DOT_SEGMENT, NULL },
	/* empty segments */
	{ "//repos/x", 0, URLPATH_EMPTY_SEGMENT, NULL },
	{ "/repos//x", 0, URLPATH_EMPTY_SEGMENT, NULL },
	{ "/repos/x//", 0, URLPATH_EMPTY_SEGMENT, NULL },
	{ "/%2Fadmin", 0, URLPATH_EMPTY_SEGMENT, NULL },
	{ "/a%2F%2Fb", 0, URLPATH_EMPTY_SEGMENT, NULL },
	{ "/a/%2fb", 0, URLPATH_EMPTY_SEGMENT, NULL },
	/* path parameters, in any segment */
	{ "/;x/admin", 0, URLPATH_PARAM, NULL },
	{ "/admin;jsessionid=1", 0, URLPATH_PARAM, NULL },
	{ "/repos/..;/admin", 0, URLPATH_PARAM, NULL },
	{ "/a/;/b", 0, URLPATH_PARAM, NULL },
	/* backslashes */
	{ "/repos\\x", 0, URLPATH_BACKSLASH, NULL },
	{ "/repos/%5c..%5cadmin", 0, URLPATH_BACKSLASH, NULL },
	/* NUL and control bytes, raw or encoded */
	{ "/repos/%00", 0, URLPATH_NUL, NULL },
	{ "/admin%00.json", 0, URLPATH_NUL, NULL },
	{ "/a\0b", 4, URLPATH_NUL, NULL },
	{ "/a%0d%0aX:1", 0, URLPATH_CONTROL, NULL },
	{ "/a%09", 0, URLPATH_CONTROL, NULL },
	{ "/a%7f", 0, URLPATH_CONTROL, NULL },
	{ "/a b", 0, URLPATH_CONTROL, NULL },
	{ "/a\tb", 0, URLPATH_CONTROL, NULL },
	{ "/a?b c", 0, URLPATH_CONTROL, NULL },
	{ "/a?b\0", 5, URLPATH_NUL, NULL },
	/* raw non-ASCII */
	{ "/caf\xc3\xa9", 0, URLPATH_NON_ASCII, NULL },
	{ "/a?\xff", 0, URLPATH_NON_ASCII, NULL },
	/* broken, double-encoded and overlong escapes */
	{ "/repos/%zz", 0, URLPATH_BAD_ESCAPE, NULL },
	{ "/repos/%2", 0, URLPATH_BAD_ESCAPE, NULL },
	{ "/repos/%", 0, URLPATH_BAD_ESCAPE, NULL },
	{ "/%u002e%u002e/admin", 0, URLPATH_BAD_ESCAPE, NULL },
	{ "/%%32%65", 0, URLPATH_BAD_ESCAPE, NULL },
	{ "/a/%252e%252e/admin", 0, URLPATH_DOUBLE_ESCAPE, NULL },
	{ "/a%25%32%65", 0, URLPATH_DOUBLE_ESCAPE, NULL },
	{ "/%c0%ae%c0%ae/admin", 0, URLPATH_OVERLONG, NULL },
	{ "/a%c0%afb", 0, URLPATH_OVERLONG, NULL },
	{ "/a%C1%9C", 0, URLPATH_OVERLONG, NULL },
	{ "/a%e0%80%ae", 0, URLPATH_OVERLONG, NULL },
	{ "/a%f0%80%80%ae", 0, URLPATH_OVERLONG, NULL },
	/* fragments are never sent */
	{ "/a#b", 0, URLPATH_FRAGMENT, NULL },
	{ "/a?q#b", 0, URLPATH_FRAGMENT, NULL },
	/* not a path at all */
	{ "*", 0, URLPATH_NOT_ORIGIN, NULL },
	{ "", 0, URLPATH_NOT_ORIGIN, NULL },
	{ "admin", 0, URLPATH_NOT_ORIGIN, NULL },
	{ "%2Fadmin", 0, URLPATH_NOT_ORIGIN, NULL },
};

/* The raw path for a TAP line: bytes outside printable ASCII, and the
 * TAP directive mark "#", as \xNN. */
static const char *
shown(const char *p, size_t len)
{
	static char buf[512];
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)p[i];

		if (c > 0x20 && c < 0x7f && c != '#')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

static void
test_table(void)
{
	char out[256], again[256];
	size_t i, len, olen, alen;
	enum urlpath_status st;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		const char *name;

		len = r->len ? r->len : strlen(r->raw);
		name = shown(r->raw, len);
		st = urlpath_normalize(r->raw, len, out, sizeof(out), &olen);
		if (!ok(st == r->want, "%s: %s", name,
		    urlpath_status_str(r->want)))
			diag("  got %s", urlpath_status_str(st));
		if (r->want != OK) {
			ok(olen == 0 && out[0] == '\0', "%s: no output", name);
			continue;
		}
		is_str(out, r->canon, "%s: canonical", name);
		is(olen, strlen(r->canon), "%s: length", name);
		st = urlpath_normalize(out, olen, again, sizeof(again), &alen);
		ok(st == OK && strcmp(again, out) == 0,
		    "%s: canonical form is stable", name);
	}
}

static void
test_limits(void)
{
	static char big[URLPATH_MAX + 2], out[URLPATH_MAX + 2];
	size_t olen;

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	is(urlpath_normalize(big, URLPATH_MAX, out, sizeof(out), &olen), OK,
	    "URLPATH_MAX bytes: fine");
	is(olen, URLPATH_MAX, "URLPATH_MAX bytes: all of it");
	is(urlpath_normalize(big, URLPATH_MAX + 1, out, sizeof(out), &olen),
	    URLPATH_TOO_LONG, "one more: too long");
	is(urlpath_normalize("/abc", 4, out, 4, &olen), URLPATH_TOO_LONG,
	    "out must hold len + 1");
	is(urlpath_normalize("/abc", 4, out, 5, &olen), OK, "len + 1: fine");
	/* len bounds the read: what follows is not looked at */
	is(urlpath_normalize("/a%2", 3, out, sizeof(out), &olen),
	    URLPATH_BAD_ESCAPE, "escape cut by len");
	is(urlpath_normalize("/a/..", 3, out, sizeof(out), &olen), OK,
	    "dots past len unseen");
}

static void
test_prefix(void)
{
	static const struct {
		const char		*canon;
		const char		*prefix;
		enum urlpath_match	want;
	} t[] = {
		{ "/repos/a", "/repos/", URLPATH_YES },
		{ "/repos", "/repos/", URLPATH_NO },
		{ "/Repos/a", "/repos/", URLPATH_NO },
		{ "/s?q=ok&x", "/s?q=ok", URLPATH_YES },
		{ "/s?q=no", "/s?q=ok", URLPATH_NO },
		{ "/s%3Fq=ok", "/s?q=ok", URLPATH_NO },
		{ "/admin", "/admin", URLPATH_YES },
		{ "/admin%2Fx", "/admin", URLPATH_YES },
		/* %2F where the rule has '/': depends on the server */
		{ "/admin%2Fx", "/admin/", URLPATH_UNSURE },
		{ "/a%2Fb%2Fc", "/a/b/c", URLPATH_UNSURE },
		{ "/repos%2Fx", "/repos/x", URLPATH_UNSURE },
		/* ... unless neither reading matches */
		{ "/x%2Fother", "/x/admin", URLPATH_NO },
		{ "/x%2Fy", "/x-", URLPATH_NO },
		/* the prefix ends before the %2F: both readings match */
		{ "/api/v4/projects/g%2Fp", "/api/v4/", URLPATH_YES },
		/* in the query, bytes are bytes */
		{ "/s?u=%2Fx", "/s?u=/x", URLPATH_NO },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		is(urlpath_prefix(t[i].canon, t[i].prefix), t[i].want,
		    "prefix %s on %s", t[i].prefix, t[i].canon);
}

static void
test_rule_match(void)
{
	static struct urlpath_lazy lp;
	enum urlpath_status why = URLPATH_OK;

	lp.done = false;
	is(urlpath_rule_match(&lp, "/re%70os/a", 10, "/repos/", &why),
	    URLPATH_YES, "rule match on the canonical form");
	ok(lp.done && strcmp(lp.buf, "/repos/a") == 0, "normalised once");
	is(urlpath_rule_match(&lp, "/other", 6, "/re", &why), URLPATH_YES,
	    "later calls judge the path of the first");
	is(why, URLPATH_OK, "why untouched on YES");
	lp.done = false;
	is(urlpath_rule_match(&lp, "/;x/admin", 9, "/admin", &why),
	    URLPATH_UNSURE, "no single reading: unsure");
	is(why, URLPATH_PARAM, "... because of the parameter");
	lp.done = false;
	is(urlpath_rule_match(&lp, "/a%2Fb", 6, "/a/", &why), URLPATH_UNSURE,
	    "%2F against '/': unsure");
	is(why, URLPATH_ENCODED_SLASH, "... because of %2F");
	lp.done = false;
	is(urlpath_rule_match(&lp, "*", 1, "/", &why), URLPATH_NO,
	    "\"*\" matches no prefix");
}

static void
test_strings(void)
{
	int s;

	for (s = URLPATH_OK; s <= URLPATH_ENCODED_SLASH; s++)
		ok(strcmp(urlpath_status_str((enum urlpath_status)s), "?") != 0,
		    "status %d has a text", s);
}

int
main(void)
{
	test_table();
	test_limits();
	test_prefix();
	test_rule_match();
	test_strings();
	return tap_done();
}
