/*
 * test_policy.c - decision tables for policy_decide(), the two stages,
 * internal destinations, method bits and names, VM tags and unknown-vm;
 * dial_judge() (every address the gateway dials).
 */
#include <stdio.h>
#include <string.h>

#include "dialpolicy.h"
#include "hostname.h"
#include "policy.h"
#include "tap.h"

/* Table rows leave the label out unless the fixed-rule column needs it. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define H(s)	((char *)(s))

static struct addr
A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) != 0)
		fprintf(stderr, "bad test address %s\n", s);
	return a;
}

static struct cidr
C(const char *s)
{
	struct cidr c;

	if (cidr_parse(s, &c) != 0)
		fprintf(stderr, "bad test cidr %s\n", s);
	return c;
}

/* Request stage when a method is given, else the connection stage. */
static void
set_request(struct policy_query *q, const char *method, const char *path)
{
	if (method == NULL)
		return;
	q->request = true;
	q->method = policy_method_bit(method, strlen(method));
	q->path = path;
}

/* One query and its expected verdict. */
struct tcase {
	const char		*host;
	const char		*dst;
	uint16_t		port;
	const char		*method;	/* NULL: connection stage */
	const char		*path;
	enum policy_action	want;
	int			rule;		/* index, -1 default, -2 fixed */
	const char		*label;		/* for rule -2 */
};

static void
run(const char *name, const struct policy *p, const struct tcase *t,
    size_t n)
{
	struct policy_verdict v;
	struct policy_query q;
	struct addr dst;
	char norm[HOST_MAX + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&q, 0, sizeof(q));
		if (t[i].host != NULL) {
			if (host_normalize(t[i].host, strlen(t[i].host),
			    norm) != 0) {
				ok(0, "%s: test host %s", name, t[i].host);
				continue;
			}
			q.host = norm;
		}
		if (t[i].dst != NULL) {
			dst = A(t[i].dst);
			q.dst = &dst;
		}
		q.port = t[i].port;
		set_request(&q, t[i].method, t[i].path);
		policy_decide(p, &q, &v);
		is_str(policy_action_str(v.action),
		    policy_action_str(t[i].want), "%s: %s %s %s%s action",
		    name, t[i].host ? t[i].host : t[i].dst,
		    t[i].method ? t[i].method : "(conn)",
		    t[i].path ? t[i].path : "", t[i].dst && t[i].host ?
		    " (with dst)" : "");
		if (t[i].rule >= 0)
			ok(v.rule == &p->rules[t[i].rule],
			    "%s: case %zu decided by rule %d (got %s)", name, i,
			    t[i].rule, policy_verdict_label(&v));
		else if (t[i].rule == -1)
			ok(v.rule == NULL, "%s: case %zu decided by default "
			    "(got %s)", name, i, policy_verdict_label(&v));
		else
			is_str(policy_verdict_label(&v), t[i].label,
			    "%s: case %zu label", name, i);
	}
}

static void
test_hosts(void)
{
	struct policy_rule rules[] = {
		{ .action = POLICY_DENY, .host = H("wikipedia.org"),
		  .host_suffix = true },
		{ .action = POLICY_SPLICE, .host = H("pinned.example.com") },
		{ .action = POLICY_DENY, .host = H("api.example.com"),
		  .port_lo = 80, .port_hi = 80 },
		{ .action = POLICY_ALLOW, .host = H("api.example.com") },
		{ .action = POLICY_DENY, .host = H("api.example.com") },
		{ .action = POLICY_DENY, .host = H("example.com"),
		  .host_suffix = true },
	};
	struct policy p = { .dflt = POLICY_ALLOW, .rules = rules,
	    .nrules = ARRAY_SIZE(rules) };
	static const struct tcase t[] = {
		{ "en.wikipedia.org", NULL, 443, NULL, NULL, POLICY_DENY, 0 },
		{ "wikipedia.org", NULL, 443, NULL, NULL, POLICY_DENY, 0 },
		{ "EN.WikiPedia.ORG.", NULL, 443, NULL, NULL, POLICY_DENY, 0 },
		{ "a.b.wikipedia.org", NULL, 443, NULL, NULL, POLICY_DENY, 0 },
		{ "badwikipedia.org", NULL, 443, NULL, NULL, POLICY_ALLOW, -1 },
		{ "wikipedia.org.evil", NULL, 443, NULL, NULL, POLICY_ALLOW,
		  -1 },
		{ "pinned.example.com", NULL, 443, NULL, NULL, POLICY_SPLICE,
		  1 },
		{ "x.pinned.example.com", NULL, 443, NULL, NULL, POLICY_DENY,
		  5 },
		/* splice acts as allow at request stage */
		{ "pinned.example.com", NULL, 443, "GET", "/", POLICY_ALLOW,
		  1 },
		/* port condition; first match wins */
		{ "api.example.com", NULL, 80, "GET", "/", POLICY_DENY, 2 },
		{ "api.example.com", NULL, 443, "GET", "/", POLICY_ALLOW, 3 },
		{ "api.example.com", NULL, 443, NULL, NULL, POLICY_ALLOW, 3 },
		{ "example.com", NULL, 443, NULL, NULL, POLICY_DENY, 5 },
		{ "other.test", NULL, 443, NULL, NULL, POLICY_ALLOW, -1 },
		/* an IP-only flow never matches host rules */
		{ NULL, "198.18.0.10", 443, NULL, NULL, POLICY_ALLOW, -1 },
	};

	run("hosts", &p, t, ARRAY_SIZE(t));
	p.dflt = POLICY_DENY;
	{
		static const struct tcase t2[] = {
			{ "other.test", NULL, 443, NULL, NULL, POLICY_DENY,
			  -1 },
			{ "other.test", NULL, 443, "GET", "/", POLICY_DENY,
			  -1 },
		};
		run("default deny", &p, t2, ARRAY_SIZE(t2));
	}
	p.nrules = 0;
	{
		static const struct tcase t3[] = {
			{ "en.wikipedia.org", NULL, 443, NULL, NULL,
			  POLICY_DENY, -1 },
		};
		run("no rules", &p, t3, ARRAY_SIZE(t3));
	}
}

static void
test_requests(void)
{
	struct policy_rule rules[] = {
		{ .action = POLICY_ALLOW, .host = H("api.github.com"),
		  .path_prefix = H("/repos/"),
		  .methods = METHOD_GET | METHOD_HEAD },
		{ .action = POLICY_DENY, .host = H("api.github.com"),
		  .port_lo = 8080, .port_hi = 8090 },
		{ .action = POLICY_SPLICE, .host = H("pinned.test") },
		{ .action = POLICY_DENY, .host = H("docs.test"),
		  .path_prefix = H("/admin") },
		{ .action = POLICY_ALLOW, .host = H("search.test"),
		  .path_prefix = H("/s?q=ok") },
	};
	struct policy p = { .dflt = POLICY_DENY, .rules = rules,
	    .nrules = ARRAY_SIZE(rules) };
	static const struct tcase t[] = {
		/* connection stage: conditional rule -> INSPECT */
		{ "api.github.com", NULL, 443, NULL, NULL, POLICY_INSPECT, 0 },
		{ "API.github.com", NULL, 443, NULL, NULL, POLICY_INSPECT, 0 },
		/* rules whose host does not match are skipped */
		{ "pinned.test", NULL, 443, NULL, NULL, POLICY_SPLICE, 2 },
		{ "nothing.test", NULL, 443, NULL, NULL, POLICY_DENY, -1 },
		{ "docs.test", NULL, 443, NULL, NULL, POLICY_INSPECT, 3 },
		/* request stage */
		{ "api.github.com", NULL, 443, "GET", "/repos/a/b",
		  POLICY_ALLOW, 0 },
		{ "api.github.com", NULL, 443, "HEAD", "/repos/a/b?x=1",
		  POLICY_ALLOW, 0 },
		{ "api.github.com", NULL, 443, "POST", "/repos/a/b",
		  POLICY_DENY, -1 },
		{ "api.github.com", NULL, 443, "get", "/repos/a/b",
		  POLICY_DENY, -1 },
		{ "api.github.com", NULL, 443, "GET", "/repos",
		  POLICY_DENY, -1 },
		{ "api.github.com", NULL, 443, "GET", "/user",
		  POLICY_DENY, -1 },
		{ "api.github.com", NULL, 443, "GET", "/Repos/a",
		  POLICY_DENY, -1 },
		{ "api.github.com", NULL, 443, "GET", "/re%70os/a",
		  POLICY_ALLOW, 0 },
		{ "api.github.com", NULL, 8080, "GET", "/user",
		  POLICY_DENY, 1 },
		/* ambiguous paths are refused when a path rule applies */
		{ "api.github.com", NULL, 443, "GET", "/repos/../admin",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "api.github.com", NULL, 443, "GET", "/repos/%2e%2e/admin",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "api.github.com", NULL, 443, "GET", "/repos/./x",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "api.github.com", NULL, 443, "GET", "//repos/x",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "api.github.com", NULL, 443, "GET", "/repos/..;/x",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "api.github.com", NULL, 443, "GET", "/repos\\x",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "api.github.com", NULL, 443, "GET", "/repos/%zz",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "api.github.com", NULL, 443, "GET", "/repos/%00",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "api.github.com", NULL, 443, "GET", "/repos/x/..",
		  POLICY_DENY, -2, "ambiguous-path" },
		/* dots inside names and after '?' are fine */
		{ "api.github.com", NULL, 443, "GET", "/repos/a.b/..c",
		  POLICY_ALLOW, 0 },
		{ "api.github.com", NULL, 443, "GET", "/repos/x?p=../..",
		  POLICY_ALLOW, 0 },
		/* method mismatch is judged before the path */
		{ "api.github.com", NULL, 443, "PUT", "/repos/../x",
		  POLICY_DENY, -1 },
		/* a deny path rule cannot be bypassed by encoding */
		{ "docs.test", NULL, 443, "GET", "/%61dmin", POLICY_DENY, 3 },
		{ "docs.test", NULL, 443, "GET", "/x/../admin", POLICY_DENY,
		  -2, "ambiguous-path" },
		{ "docs.test", NULL, 443, "GET", "/public", POLICY_DENY, -1 },
		/* query part compared as sent */
		{ "search.test", NULL, 443, "GET", "/s?q=ok&x", POLICY_ALLOW,
		  4 },
		{ "search.test", NULL, 443, "GET", "/s?q=no", POLICY_DENY,
		  -1 },
	};

	run("requests", &p, t, ARRAY_SIZE(t));
}

/*
 * A deny path rule under a default allow: every spelling a server reads
 * as "/admin" must be denied, by the rule or as ambiguous; others pass.
 */
static void
test_deny_bypass(void)
{
	struct policy_rule rules[] = {
		{ .action = POLICY_DENY, .host = H("docs.test"),
		  .path_prefix = H("/admin") },
		{ .action = POLICY_DENY, .host = H("docs.test"),
		  .path_prefix = H("/private/") },
	};
	struct policy p = { .dflt = POLICY_ALLOW, .rules = rules,
	    .nrules = ARRAY_SIZE(rules) };
	static const struct tcase t[] = {
		{ "docs.test", NULL, 443, "GET", "/admin", POLICY_DENY, 0 },
		{ "docs.test", NULL, 443, "GET", "/%61dmin", POLICY_DENY, 0 },
		{ "docs.test", NULL, 443, "GET", "/admin%2Fx", POLICY_DENY, 0 },
		/* Tomcat and Jetty serve these as /admin */
		{ "docs.test", NULL, 443, "GET", "/;x/admin", POLICY_DENY, -2,
		  "ambiguous-path" },
		{ "docs.test", NULL, 443, "GET", "/x/..;/admin", POLICY_DENY,
		  -2, "ambiguous-path" },
		{ "docs.test", NULL, 443, "GET", "/%3Bx/admin", POLICY_ALLOW,
		  -1 },
		/* nginx serves this as /private/x */
		{ "docs.test", NULL, 443, "GET", "/private%2Fx", POLICY_DENY,
		  -2, "ambiguous-path" },
		{ "docs.test", NULL, 443, "GET", "/public%2Fx", POLICY_ALLOW,
		  -1 },
		{ "docs.test", NULL, 443, "GET", "/%c0%ae%c0%ae/admin",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "docs.test", NULL, 443, "GET", "/a/%252e%252e/admin",
		  POLICY_DENY, -2, "ambiguous-path" },
		{ "docs.test", NULL, 443, "GET", "/public/x", POLICY_ALLOW, -1 },
		{ "docs.test", NULL, 443, "GET", "/public?/admin", POLICY_ALLOW,
		  -1 },
		/* OPTIONS * names no path: no path rule applies */
		{ "docs.test", NULL, 443, "OPTIONS", "*", POLICY_ALLOW, -1 },
		/* another host has no path rule: untouched */
		{ "other.test", NULL, 443, "GET", "/;x/..//admin", POLICY_ALLOW,
		  -1 },
	};

	struct policy_verdict v;
	struct policy_query q = { .host = "docs.test", .port = 443,
	    .path = "/;x/admin", .method = METHOD_GET, .request = true };

	run("deny bypass", &p, t, ARRAY_SIZE(t));
	policy_decide(&p, &q, &v);
	is_str(v.why, "';' path parameter", "the verdict says what is "
	    "ambiguous");
	q.path = "/private%2Fx";
	policy_decide(&p, &q, &v);
	is_str(v.why, "encoded slash (%2F) where the rule has '/'",
	    "%2F against a rule's '/'");
	q.path = "/admin";
	policy_decide(&p, &q, &v);
	ok(v.why == NULL, "a rule's verdict has no why");
}

static void
test_inspect_order(void)
{
	struct policy_rule rules[] = {
		{ .action = POLICY_DENY, .host = H("a.test"), .port_lo = 80,
		  .port_hi = 80 },
		{ .action = POLICY_ALLOW, .host = H("a.test"),
		  .path_prefix = H("/x") },
		{ .action = POLICY_SPLICE, .host = H("a.test") },
	};
	struct policy p = { .dflt = POLICY_ALLOW, .rules = rules,
	    .nrules = ARRAY_SIZE(rules) };
	static const struct tcase t[] = {
		{ "a.test", NULL, 80, NULL, NULL, POLICY_DENY, 0 },
		{ "a.test", NULL, 443, NULL, NULL, POLICY_INSPECT, 1 },
		{ "a.test", NULL, 443, "GET", "/y", POLICY_ALLOW, 2 },
		{ "a.test", NULL, 443, "GET", "/x", POLICY_ALLOW, 1 },
	};

	run("inspect order", &p, t, ARRAY_SIZE(t));
}

static void
test_cidrs(void)
{
	struct cidr c1[] = { C("198.18.5.0/24"), C("2001:2::/48") };
	struct cidr c2[] = { C("198.18.0.0/15") };
	struct cidr internal[] = { C("192.168.137.1/32") };
	struct policy_rule rules[] = {
		{ .action = POLICY_ALLOW, .cidrs = c1, .ncidrs = 2 },
		{ .action = POLICY_DENY, .cidrs = c2, .ncidrs = 1,
		  .port_lo = 1000, .port_hi = 2000 },
		{ .action = POLICY_ALLOW, .cidrs = internal, .ncidrs = 1 },
	};
	struct policy p = { .dflt = POLICY_ALLOW, .rules = rules,
	    .nrules = ARRAY_SIZE(rules) };
	static const struct tcase t[] = {
		{ NULL, "198.18.5.7", 443, NULL, NULL, POLICY_ALLOW, 0 },
		{ NULL, "::ffff:198.18.5.7", 443, NULL, NULL, POLICY_ALLOW,
		  0 },
		{ NULL, "2001:2::99", 443, NULL, NULL, POLICY_ALLOW, 0 },
		{ NULL, "198.18.6.1", 1500, NULL, NULL, POLICY_DENY, 1 },
		{ NULL, "198.18.6.1", 443, NULL, NULL, POLICY_ALLOW, -1 },
		{ "named.test", "198.18.6.1", 1500, NULL, NULL, POLICY_DENY,
		  1 },
		{ "named.test", NULL, 1500, NULL, NULL, POLICY_ALLOW, -1 },
		/* internal destinations without a name */
		{ NULL, "10.1.2.3", 443, NULL, NULL, POLICY_DENY, -2,
		  "internal-destination" },
		{ NULL, "169.254.169.254", 80, "GET", "/", POLICY_DENY, -2,
		  "internal-destination" },
		{ NULL, "::ffff:127.0.0.1", 80, NULL, NULL, POLICY_DENY, -2,
		  "internal-destination" },
		{ NULL, "fd00::1", 80, NULL, NULL, POLICY_DENY, -2,
		  "internal-destination" },
		/* a rule alone does not open an internal range ... */
		{ NULL, "192.168.137.1", 5432, NULL, NULL, POLICY_DENY, -2,
		  "internal-destination" },
		/* named: the caller checks the resolved addresses */
		{ "db.test", "10.1.2.3", 443, NULL, NULL, POLICY_ALLOW, -1 },
	};
	const char *range;
	struct addr a;

	run("cidrs", &p, t, ARRAY_SIZE(t));

	/* ... internal_allow does */
	p.internal_allow = internal;
	p.ninternal_allow = 1;
	{
		static const struct tcase t2[] = {
			{ NULL, "192.168.137.1", 5432, NULL, NULL,
			  POLICY_ALLOW, 2 },
			{ NULL, "192.168.137.2", 5432, NULL, NULL,
			  POLICY_DENY, -2, "internal-destination" },
		};
		run("internal_allow", &p, t2, ARRAY_SIZE(t2));
	}

	a = A("192.168.137.1");
	ok(policy_dial_allowed(&p, &a, NULL), "dial internal_allow");
	a = A("192.168.137.2");
	range = NULL;
	ok(!policy_dial_allowed(&p, &a, &range), "dial private refused");
	is_str(range, "private", "range name");
	a = A("169.254.169.254");
	ok(!policy_dial_allowed(&p, &a, &range), "dial metadata refused");
	a = A("::ffff:10.0.0.1");
	ok(!policy_dial_allowed(&p, &a, &range), "dial mapped v4 refused");
	a = A("::1");
	ok(!policy_dial_allowed(&p, &a, &range), "dial ::1 refused");
	a = A("198.18.0.1");
	ok(policy_dial_allowed(&p, &a, &range), "dial 198.18/15 allowed");
	a = A("2001:2::1");
	ok(policy_dial_allowed(&p, &a, &range), "dial 2001:2::1 allowed");
}

/* One address the gateway is about to dial, and the expected judgement. */
struct dcase {
	const char		*host;
	const char		*addr;
	uint16_t		port;
	const char		*method;	/* NULL: connection stage */
	const char		*path;
	enum dial_refusal	want;
	const char		*label;
};

static void
test_dial(void)
{
	struct cidr admin[] = { C("198.18.5.0/24") };
	struct cidr six[] = { C("198.18.6.0/24") };
	struct policy_rule rules[] = {
		{ .action = POLICY_DENY, .cidrs = admin, .ncidrs = 1,
		  .path_prefix = H("/admin"), .label = H("no-admin") },
		{ .action = POLICY_DENY, .cidrs = six, .ncidrs = 1,
		  .label = H("no-six") },
		{ .action = POLICY_ALLOW, .host = H("a.test") },
	};
	struct egress_rule egress[] = {
		{ .action = EGRESS_ALLOW, .cidr = C("198.18.9.0/24"),
		  .proto = L4_TCP, .port_lo = 5432, .port_hi = 5432,
		  .line = 10 },
		{ .action = EGRESS_DROP, .cidr = C("198.18.9.0/24"),
		  .line = 11 },
		{ .action = EGRESS_DROP, .cidr = C("198.18.0.77/32"),
		  .proto = L4_UDP, .line = 12 },
		{ .action = EGRESS_DROP, .cidr = C("2001:2::/64"),
		  .proto = L4_TCP, .port_lo = 443, .port_hi = 443,
		  .line = 13 },
		{ .action = EGRESS_DROP, .cidr = C("198.18.0.78/32"),
		  .line = 14 },
	};
	struct group_config g = { .name = H("agents"),
	    .policy = { .dflt = POLICY_ALLOW, .rules = rules,
	    .nrules = ARRAY_SIZE(rules) },
	    .egress = egress, .negress = ARRAY_SIZE(egress) };
	static const struct dcase t[] = {
		{ "a.test", "198.18.1.1", 443, NULL, NULL, DIAL_ALLOWED, "-" },
		/* the egress list, as nftables judges a TCP packet */
		{ "a.test", "198.18.0.78", 80, NULL, NULL, DIAL_EGRESS,
		  "egress drop, config line 14" },
		{ NULL, "198.18.0.78", 443, NULL, NULL, DIAL_EGRESS,
		  "egress drop, config line 14" },
		{ "a.test", "::ffff:198.18.0.78", 443, NULL, NULL, DIAL_EGRESS,
		  "egress drop, config line 14" },
		{ "a.test", "64:ff9b::198.18.0.78", 443, NULL, NULL,
		  DIAL_EGRESS, "egress drop, config line 14" },
		{ "a.test", "2002:c612:4e::1", 443, NULL, NULL, DIAL_EGRESS,
		  "egress drop, config line 14" },
		{ "a.test", "64:ff9b::198.18.0.79", 443, NULL, NULL,
		  DIAL_ALLOWED, "-" },
		{ "a.test", "198.18.0.77", 443, NULL, NULL, DIAL_ALLOWED, "-" },
		{ "db.test", "198.18.9.1", 5432, NULL, NULL, DIAL_ALLOWED,
		  "-" },
		{ "db.test", "198.18.9.1", 443, NULL, NULL, DIAL_EGRESS,
		  "egress drop, config line 11" },
		{ "a.test", "2001:2::5", 443, "GET", "/", DIAL_EGRESS,
		  "egress drop, config line 13" },
		{ "a.test", "2001:2::5", 80, "GET", "/", DIAL_ALLOWED, "-" },
		/* policy rules, with the address known: a name does not
		 * escape a cidr rule, even one after a host rule's place */
		{ "x.test", "198.18.6.1", 443, NULL, NULL, DIAL_RULE,
		  "no-six" },
		{ "a.test", "198.18.6.1", 443, "GET", "/", DIAL_RULE,
		  "no-six" },
		{ "x.test", "198.18.5.1", 443, NULL, NULL, DIAL_ALLOWED, "-" },
		{ "x.test", "198.18.5.1", 443, "GET", "/admin/x", DIAL_RULE,
		  "no-admin" },
		{ "x.test", "198.18.5.1", 443, "GET", "/public", DIAL_ALLOWED,
		  "-" },
		/* internal ranges first */
		{ "a.test", "10.1.2.3", 443, NULL, NULL, DIAL_INTERNAL,
		  "internal-destination" },
		{ "a.test", "::1", 443, NULL, NULL, DIAL_INTERNAL,
		  "internal-destination" },
	};
	struct dial_verdict v;
	struct policy_query q;
	char label[64], why[160];
	struct addr a;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		memset(&q, 0, sizeof(q));
		q.host = t[i].host;
		q.port = t[i].port;
		set_request(&q, t[i].method, t[i].path);
		a = A(t[i].addr);
		is(dial_judge(&g, &q, &a, &v), t[i].want == DIAL_ALLOWED,
		    "dial %s %s:%u %s", t[i].host ? t[i].host : "(ip)",
		    t[i].addr, t[i].port, t[i].path ? t[i].path : "");
		is(v.refusal, t[i].want, "  refusal kind");
		is_str(dial_label(&v, label, sizeof(label)), t[i].label,
		    "  label");
	}
	a = A("10.1.2.3");
	memset(&q, 0, sizeof(q));
	(void)dial_judge(&g, &q, &a, &v);
	is_str(dial_explain(&v, why, sizeof(why)), "a private address, which "
	    "egress policy does not allow", "explain internal");
	a = A("198.18.0.78");
	(void)dial_judge(&g, &q, &a, &v);
	is_str(dial_explain(&v, why, sizeof(why)), "on the group's egress "
	    "drop list (egress drop, config line 14)", "explain egress");
	a = A("198.18.6.9");
	(void)dial_judge(&g, &q, &a, &v);
	is_str(dial_explain(&v, why, sizeof(why)), "denied by egress policy "
	    "(no-six)", "explain rule");
}

static void
test_methods_and_names(void)
{
	struct policy_verdict v = { .action = POLICY_DENY, .rule = NULL };
	struct policy_rule r = { .label = H("github-read") };

	is(policy_method_bit("GET", 3), METHOD_GET, "GET");
	is(policy_method_bit("HEAD", 4), METHOD_HEAD, "HEAD");
	is(policy_method_bit("POST", 4), METHOD_POST, "POST");
	is(policy_method_bit("PUT", 3), METHOD_PUT, "PUT");
	is(policy_method_bit("DELETE", 6), METHOD_DELETE, "DELETE");
	is(policy_method_bit("PATCH", 5), METHOD_PATCH, "PATCH");
	is(policy_method_bit("OPTIONS", 7), METHOD_OPTIONS, "OPTIONS");
	is(policy_method_bit("CONNECT", 7), METHOD_CONNECT, "CONNECT");
	is(policy_method_bit("TRACE", 5), METHOD_TRACE, "TRACE");
	is(policy_method_bit("get", 3), METHOD_OTHER, "methods are "
	    "case-sensitive");
	is(policy_method_bit("GETX", 4), METHOD_OTHER, "GETX");
	is(policy_method_bit("GETX", 3), METHOD_GET, "length-bounded");
	is(policy_method_bit("PROPFIND", 8), METHOD_OTHER, "PROPFIND");
	is(policy_method_bit("", 0), METHOD_OTHER, "empty");

	is_str(policy_action_str(POLICY_ALLOW), "allow", "allow str");
	is_str(policy_action_str(POLICY_DENY), "deny", "deny str");
	is_str(policy_action_str(POLICY_SPLICE), "splice", "splice str");
	is_str(policy_action_str(POLICY_INSPECT), "inspect", "inspect str");
	is_str(policy_verdict_label(&v), "default", "default label");
	v.rule = &r;
	is_str(policy_verdict_label(&v), "github-read", "rule label");
}

/*
 * Report mode: each DENY becomes ALLOW (request) or INSPECT (connection,
 * so each request is judged) with would_deny and the deciding rule kept;
 * an internal destination is never let through; ALLOW stays plain.
 */
static void
test_report_mode(void)
{
	struct policy_rule rules[] = {
		{ .action = POLICY_DENY, .host = H("wikipedia.org"),
		  .host_suffix = true, .label = H("no-wikipedia") },
		{ .action = POLICY_ALLOW, .host = H("api.example.com"),
		  .path_prefix = H("/repos/") },
	};
	struct cidr internal_none[1];
	struct policy p = { .mode = POLICY_REPORT, .dflt = POLICY_DENY,
	    .rules = rules, .nrules = ARRAY_SIZE(rules),
	    .internal_allow = internal_none, .ninternal_allow = 0 };
	static const struct {
		const char		*host, *dst, *method, *path;
		enum policy_action	want;
		bool			would;
		const char		*label;
	} t[] = {
		{ "en.wikipedia.org", NULL, NULL, NULL, POLICY_INSPECT, true,
		  "no-wikipedia" },
		{ "en.wikipedia.org", NULL, "GET", "/wiki/", POLICY_ALLOW,
		  true, "no-wikipedia" },
		{ "api.example.com", NULL, "GET", "/repos/x", POLICY_ALLOW,
		  false, NULL },
		{ "api.example.com", NULL, "GET", "/admin", POLICY_ALLOW,
		  true, "default" },
		{ "other.test", NULL, "POST", "/", POLICY_ALLOW, true,
		  "default" },
		/* never relaxed: an internal address */
		{ NULL, "10.1.2.3", "GET", "/", POLICY_DENY, false,
		  "internal-destination" },
		{ NULL, "169.254.169.254", NULL, NULL, POLICY_DENY, false,
		  "internal-destination" },
	};
	struct policy_verdict v;
	struct policy_query q;
	struct addr dst;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		memset(&q, 0, sizeof(q));
		q.host = t[i].host;
		if (t[i].dst != NULL) {
			dst = A(t[i].dst);
			q.dst = &dst;
		}
		q.port = 443;
		if (t[i].method != NULL) {
			q.request = true;
			q.method = policy_method_bit(t[i].method,
			    strlen(t[i].method));
			q.path = t[i].path;
		}
		policy_decide(&p, &q, &v);
		is_str(policy_action_str(v.action),
		    policy_action_str(t[i].want), "report: case %zu action", i);
		ok(v.would_deny == t[i].would, "report: case %zu would_deny "
		    "%d", i, t[i].would);
		if (t[i].label != NULL)
			is_str(policy_verdict_label(&v), t[i].label,
			    "report: case %zu rule kept", i);
	}
	p.mode = POLICY_ENFORCE;
	q.host = "en.wikipedia.org";
	q.dst = NULL;
	policy_decide(&p, &q, &v);
	ok(v.action == POLICY_DENY && !v.would_deny, "enforce: plain deny");
}

/* Tag-scoped rules (Slicer VM tags) and the unknown-vm refusal. */
static void
test_tags(void)
{
	char *ci[] = { H("ci") }, *both[] = { H("ci"), H("user=alice") };
	struct policy_rule rules[] = {
		{ .action = POLICY_ALLOW, .host = H("pypi.org"), .tags = ci,
		  .ntags = 1, .label = H("ci-pypi") },
		{ .action = POLICY_DENY, .tags = both, .ntags = 2,
		  .label = H("alice-ci-nothing-else") },
		{ .action = POLICY_ALLOW, .host = H("example.com"),
		  .label = H("everyone") },
	};
	struct cidr none[1];
	struct policy p = { .dflt = POLICY_DENY, .rules = rules,
	    .nrules = ARRAY_SIZE(rules), .internal_allow = none };
	char *t_ci[] = { H("ci") }, *t_alice[] = { H("user=alice"), H("ci") },
	    *t_other[] = { H("cix"), H("CI") };
	static const struct {
		const char		*host;
		int			vm;	/* 0 none, 1 ci, 2 alice, 3 other */
		bool			unknown;
		enum policy_action	want;
		const char		*label;
	} t[] = {
		{ "pypi.org", 1, false, POLICY_ALLOW, "ci-pypi" },
		{ "pypi.org", 2, false, POLICY_ALLOW, "ci-pypi" },
		{ "pypi.org", 0, false, POLICY_DENY, "default" },
		{ "pypi.org", 3, false, POLICY_DENY, "default" },
		{ "example.com", 2, false, POLICY_DENY,
		  "alice-ci-nothing-else" },
		{ "example.com", 1, false, POLICY_ALLOW, "everyone" },
		{ "example.com", 0, false, POLICY_ALLOW, "everyone" },
		{ "example.com", 0, true, POLICY_DENY, "unknown-vm" },
	};
	struct { char **v; size_t n; } vms[] = { { NULL, 0 }, { t_ci, 1 },
	    { t_alice, 2 }, { t_other, 2 } };
	struct policy_verdict v;
	struct policy_query q;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		memset(&q, 0, sizeof(q));
		q.host = t[i].host;
		q.port = 443;
		q.tags = vms[t[i].vm].v;
		q.ntags = vms[t[i].vm].n;
		q.unknown_vm = t[i].unknown;
		policy_decide(&p, &q, &v);
		ok(v.action == t[i].want && strcmp(policy_verdict_label(&v),
		    t[i].label) == 0, "tags: case %zu: %s by %s", i,
		    policy_action_str(v.action), policy_verdict_label(&v));
	}
	p.mode = POLICY_REPORT;
	memset(&q, 0, sizeof(q));
	q.host = "example.com";
	q.unknown_vm = true;
	q.request = true;
	q.method = METHOD_GET;
	q.path = "/";
	policy_decide(&p, &q, &v);
	ok(v.action == POLICY_ALLOW && v.would_deny &&
	    strcmp(policy_verdict_label(&v), "unknown-vm") == 0,
	    "report mode reports unknown-vm");
	ok(policy_tags_match(NULL, 0, NULL, 0), "no tags asked: any guest");
	ok(!policy_tags_match(ci, 1, NULL, 0), "a tag asked: not a guest "
	    "without tags");
}

int
main(void)
{
	test_hosts();
	test_tags();
	test_report_mode();
	test_requests();
	test_deny_bypass();
	test_inspect_order();
	test_cidrs();
	test_dial();
	test_methods_and_names();
	return tap_done();
}
