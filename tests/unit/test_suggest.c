/*
 * test_suggest.c - jl_parse() on the JSON the audit log writes and on what
 * it must refuse; suggest_line()/suggest_print() from hostile lines to
 * rules, folded as the config's shadowing check requires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonline.h"
#include "suggest.h"
#include "tap.h"
#include "util.h"

static void
test_jl_parse(void)
{
	static const struct {
		const char	*in;
		int		rc;
		size_t		n;
	} t[] = {
		{ "{}", 0, 0 },
		{ " { \"a\" : \"b\" } ", 0, 1 },
		{ "{\"a\":1,\"b\":-2.5e+3,\"c\":true,\"d\":null,\"e\":false}", 0, 5 },
		{ "{\"a\":\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\"}", 0, 1 },
		{ "", -1, 0 },
		{ "[]", -1, 0 },
		{ "{\"a\":{}}", -1, 0 },		/* nested */
		{ "{\"a\":[1]}", -1, 0 },
		{ "{\"tags\":[\"a\", \"b=c\"],\"x\":\"y\"}", 0, 2 },
		{ "{\"tags\":[]}", 0, 1 },
		{ "{\"tags\":[\"a\",]}", -1, 0 },
		{ "{\"tags\":[\"a\"}", -1, 0 },
		{ "{\"tags\":[[\"a\"]]}", -1, 0 },
		{ "{\"a\":\"b\"}x", -1, 0 },		/* trailing bytes */
		{ "{\"a\":\"b\",}", -1, 0 },
		{ "{\"a\" \"b\"}", -1, 0 },
		{ "{\"a\":\"b\"", -1, 0 },
		{ "{\"a\":\"\\x\"}", -1, 0 },		/* bad escape */
		{ "{\"a\":\"\\u00\"}", -1, 0 },
		{ "{\"a\":\"\\u0000\"}", -1, 0 },	/* NUL */
		{ "{\"a\":\"\\udc00\"}", -1, 0 },	/* lone low surrogate */
		{ "{\"a\":\"\\ud800x\"}", -1, 0 },	/* unpaired high */
		{ "{\"a\":\"\x01\"}", -1, 0 },		/* raw control byte */
		{ "{\"a\":01}", -1, 0 },
		{ "{\"a\":1.}", -1, 0 },
		{ "{\"a\":tru}", -1, 0 },
	};
	struct jl_obj o;
	char line[256], buf[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		snprintf(line, sizeof(line), "%s", t[i].in);
		ok(jl_parse(line, strlen(line), &o) == t[i].rc &&
		    (t[i].rc != 0 || o.n == t[i].n), "jl_parse case %zu: %s",
		    i, t[i].rc == 0 ? "parsed" : "refused");
	}
	snprintf(line, sizeof(line), "%s", t[3].in);
	(void)jl_parse(line, strlen(line), &o);
	is_str(jl_str(&o, "a", buf, sizeof(buf)), "\xc3\xa9\xf0\x9f\x98\x80\n\"\\/",
	    "escapes and a surrogate pair unescaped");
	snprintf(line, sizeof(line), "{\"n\":1,\"s\":\"xyz\"}");
	(void)jl_parse(line, strlen(line), &o);
	ok(jl_str(&o, "n", buf, sizeof(buf)) == NULL, "a number is no string");
	ok(jl_str(&o, "s", buf, 3) == NULL, "too long for the buffer");
	ok(jl_str(&o, "t", buf, sizeof(buf)) == NULL, "absent");
}

static char *
run(const char *const *lines, size_t n)
{
	struct suggest *s = suggest_new();
	char *out = NULL, buf[2048];
	size_t len, i;
	FILE *f = open_memstream(&out, &len);

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s", lines[i]);
		suggest_line(s, buf, strlen(buf));
	}
	suggest_print(s, f, "t.json");
	fclose(f);
	suggest_free(s);
	return out;
}

#define L(kind, url, method, extra) \
	"{\"kind\":\"" kind "\",\"group\":\"agents\",\"method\":\"" method \
	"\",\"url\":\"" url "\"," extra "}"

static void
test_suggest(void)
{
	static const char *const lines[] = {
		L("http", "https://en.wikipedia.org/wiki/A?x=1", "GET",
		  "\"action\":\"allow\",\"would\":\"deny\",\"rule\":\"no-wiki\""),
		L("http", "https://en.wikipedia.org/wiki/B", "HEAD",
		  "\"action\":\"allow\",\"would\":\"deny\",\"rule\":\"no-wiki\""),
		/* allowed: nothing to suggest */
		L("http", "https://example.com/", "GET", "\"action\":\"allow\""),
		/* fixed refusals are never suggested */
		L("http", "http://10.0.0.1/", "GET",
		  "\"action\":\"deny\",\"rule\":\"internal-destination\""),
		L("http", "http://a.test/%2e%2e/x", "GET",
		  "\"action\":\"deny\",\"rule\":\"ambiguous-path\""),
		/* "/item" covers "/items/": one rule, methods merged */
		L("http", "http://news.test/items/1", "PUT",
		  "\"action\":\"deny\",\"rule\":\"default\""),
		L("http", "http://news.test/item", "POST",
		  "\"action\":\"deny\",\"rule\":\"default\""),
		/* hostile bytes never reach the output as they came */
		L("http", "http://evil.test/a\\\"b/c", "GET",
		  "\"action\":\"deny\",\"rule\":\"x\\ny\""),
		L("http", "http://bad host/", "GET", "\"action\":\"deny\""),
		/* a tunnel: host only, any method */
		"{\"kind\":\"tunnel\",\"group\":\"agents\",\"url\":"
		"\"pinned.test:443\",\"action\":\"deny\",\"rule\":\"default\"}",
		"not json",
	};
	char *out = run(lines, ARRAY_SIZE(lines));

	ok(strstr(out, "{ action = \"allow\"; host = \"en.wikipedia.org\"; "
	    "path = \"/wiki/\"; methods = [ \"GET\", \"HEAD\" ]; },") != NULL,
	    "two requests, one rule with both methods");
	ok(strstr(out, "2 requests (rule \"no-wiki\")") != NULL, "counted");
	ok(strstr(out, "host = \"news.test\"; path = \"/item\"; methods = "
	    "[ \"POST\", \"PUT\" ]; }") != NULL, "/items/ folded into /item");
	ok(strstr(out, "/items/") == NULL, "no redundant rule");
	ok(strstr(out, "example.com") == NULL, "allowed request left out");
	ok(strstr(out, "10.0.0.1") == NULL, "internal destination left out");
	ok(strstr(out, "a.test") == NULL, "ambiguous path left out");
	ok(strstr(out, "host = \"evil.test\"; methods") != NULL,
	    "a prefix with a quote is dropped, the host kept");
	ok(strstr(out, "x\ny") == NULL && strstr(out, "(rule \"?\")"),
	    "a rule label with a newline is not printed");
	ok(strstr(out, "bad host") == NULL, "a host that does not normalise");
	ok(strstr(out, "host = \"pinned.test\"; }") != NULL,
	    "a tunnel: the host, any method");
	ok(strstr(out, "2 malformed") != NULL, "malformed lines counted");
	if (!ok(strstr(out, "  { action = \"allow\"; host = \"pinned.test\"; }\n")
	    != NULL, "the group's last rule has no comma"))
		diag("%s", out);
	free(out);
}

static void
test_many_prefixes(void)
{
	const char *lines[12];
	char store[12][200];
	char *out;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		snprintf(store[i], sizeof(store[i]), L("http",
		    "https://api.test/p%zu/x", "GET", "\"action\":\"deny\""), i);
		lines[i] = store[i];
	}
	out = run(lines, ARRAY_SIZE(lines));
	ok(strstr(out, "12 requests") != NULL && strstr(out, "/p1") == NULL,
	    "more than 8 prefixes: one rule for the host");
	free(out);
}

int
main(void)
{
	test_jl_parse();
	test_suggest();
	test_many_prefixes();
	return tap_done();
}
