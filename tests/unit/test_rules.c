/*
 * Unit tests for rules.c and tpl.c: the template engine, the validation
 * of bad configs, and the rendered rules of a few configs against the
 * golden files tests/nft/<case>.nft (GW_REGEN=1 rewrites them; review the
 * diff).  The configs are built in C here so the test does not depend on
 * the config parser; tests/nft/check.sh loads the golden files into nft.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "tap.h"
#include "tpl.h"

static char *
render_tpl(const char *tpl, const struct tpl_vars *v, int *rc, char **errs)
{
	char *buf = NULL, *ebuf = NULL;
	size_t len = 0, elen = 0;
	FILE *out = open_memstream(&buf, &len);
	FILE *err = open_memstream(&ebuf, &elen);

	*rc = tpl_render(tpl, "t", v, out, err);
	fclose(out);
	fclose(err);
	if (errs != NULL)
		*errs = ebuf;
	else
		free(ebuf);
	return buf;
}

static void
test_tpl(void)
{
	struct tpl_vars *v = tpl_vars_new(), *it;
	char *s, *e;
	int rc;

	tpl_set(v, "A", "x%d", 1);
	tpl_flag(v, "yes", true);
	tpl_flag(v, "no", false);
	it = tpl_item(v, "l");
	tpl_set(it, "A", "i1");
	tpl_flag(it, "yes", false);
	it = tpl_item(v, "l");
	tpl_set(it, "B", "i2");
	tpl_list(v, "empty");

	s = render_tpl("a @A@ @set @A b@\n##@ gone\n#@if yes\ny\n#@else\n"
	    "n\n#@end\n#@if !no\nnot-no\n#@end\n", v, &rc, NULL);
	is(rc, 0, "tpl: renders");
	is_str(s, "a x1 @set @A b@\ny\nnot-no\n", "tpl: vars, flags, "
	    "literal @");
	free(s);
	s = render_tpl("#@for l\n[@A@]\n#@if yes\nY\n#@end\n#@end\n"
	    "#@for empty\nnever\n#@end\n", v, &rc, NULL);
	is_str(s, "[i1]\n[x1]\nY\n", "tpl: loop items shadow, fall back");
	free(s);

	s = render_tpl("@NOPE@\n", v, &rc, &e);
	is(rc, -1, "tpl: unknown variable fails");
	if (!ok(strstr(e, "t:1: unknown variable @NOPE@") != NULL, "tpl: named "
	    "in message"))
		diag("%s", e);
	free(s);
	free(e);
	s = render_tpl("x\n#@if yes\ny\n", v, &rc, &e);
	is(rc, -1, "tpl: unclosed #@if fails");
	ok(strstr(e, "t:2:") != NULL, "tpl: unclosed names its line");
	free(s);
	free(e);
	s = render_tpl("#@end\n", v, &rc, NULL);
	is(rc, -1, "tpl: stray #@end fails");
	free(s);
	s = render_tpl("#@if nosuch\n#@end\n", v, &rc, NULL);
	is(rc, -1, "tpl: unknown flag fails");
	free(s);
	s = render_tpl("#@for A\n#@end\n", v, &rc, NULL);
	is(rc, -1, "tpl: #@for over a variable fails");
	free(s);
	tpl_vars_free(v);
}

/* ---- configs built in C ---- */

static struct cidr *
cidrs(size_t *n, ...)
{
	struct cidr *v = NULL;
	const char *s;
	va_list ap;

	*n = 0;
	va_start(ap, n);
	while ((s = va_arg(ap, const char *)) != NULL) {
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		if (cidr_parse(s, &v[*n]) != 0)
			abort();
		(*n)++;
	}
	va_end(ap);
	return v;
}

static void
add_egress(struct group_config *g, enum egress_action a, const char *cidr,
    enum l4_proto p, uint16_t lo, uint16_t hi, int line)
{
	struct egress_rule *e;

	g->egress = xrealloc(g->egress, (g->negress + 1) * sizeof(*e));
	e = &g->egress[g->negress++];
	memset(e, 0, sizeof(*e));
	e->action = a;
	if (cidr_parse(cidr, &e->cidr) != 0)
		abort();
	e->proto = p;
	e->port_lo = lo;
	e->port_hi = hi;
	e->line = line;
}

static struct group_config *
add_group(struct gw_config *c, const char *name, int line,
    enum capture_mode mode, uint16_t http, const char *if1, const char *if2)
{
	struct group_config *g;

	c->groups = xrealloc(c->groups, (c->ngroups + 1) * sizeof(*g));
	g = &c->groups[c->ngroups++];
	memset(g, 0, sizeof(*g));
	g->name = (char *)name;
	g->line = line;
	g->mode = mode;
	g->http_port = http;
	g->https_port = http + 1;
	g->interfaces = xcalloc(2, sizeof(char *));
	g->interfaces[g->ninterfaces++] = (char *)if1;
	if (if2 != NULL)
		g->interfaces[g->ninterfaces++] = (char *)if2;
	g->dns.mode = DNS_GATEWAY;
	g->dns.listen_port = 5353;
	return g;
}

static void
base(struct gw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->path = (char *)"test.conf";
	c->upstream_mark = 0x4757;
	c->tproxy_mark = 0x4758;
	c->tproxy_table = 4758 % 250;
	c->nfqueue_num = 7;
}

static void
free_cfg(struct gw_config *c)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++) {
		free(c->groups[i].interfaces);
		free(c->groups[i].guests);
		free(c->groups[i].egress);
		free(c->groups[i].dns.servers);
	}
	free(c->groups);
}

/* Slicer isolated mode: tproxy, ve-* veths, IPv4 guests, fail closed. */
static void
cfg_tproxy_veth(struct gw_config *c)
{
	struct group_config *g;

	base(c);
	g = add_group(c, "agents", 12, CAPTURE_TPROXY, 3128, "ve-*", NULL);
	g->guests = cidrs(&g->nguests, "169.254.60.0/22", NULL);
	add_egress(g, EGRESS_ALLOW, "192.168.137.1/32", L4_ANY, 0, 0, 20);
	add_egress(g, EGRESS_ALLOW, "10.20.0.0/16", L4_TCP, 5432, 5432, 21);
	add_egress(g, EGRESS_DROP, "10.0.0.0/8", L4_ANY, 0, 0, 22);
	add_egress(g, EGRESS_DROP, "192.168.0.0/16", L4_ANY, 0, 0, 23);
	add_egress(g, EGRESS_DROP, "169.254.169.254/32", L4_ANY, 0, 0, 24);
}

/* A bridge, redirect, IPv4+IPv6 guests, DNS to named servers, fail open. */
static void
cfg_redirect_bridge(struct gw_config *c)
{
	struct group_config *g;

	base(c);
	c->nfqueue_fail_open = true;
	g = add_group(c, "builders", 30, CAPTURE_REDIRECT, 3140, "br-build",
	    NULL);
	g->guests = cidrs(&g->nguests, "10.88.0.0/24", "fd88::/64", NULL);
	g->dns.mode = DNS_SERVER;
	g->dns.servers = xcalloc(2, sizeof(struct addr));
	g->dns.nservers = 2;
	if (addr_parse("198.18.0.53", &g->dns.servers[0]) != 0 ||
	    addr_parse("2001:2::53", &g->dns.servers[1]) != 0)
		abort();
	add_egress(g, EGRESS_DROP, "fd00::/8", L4_ANY, 0, 0, 40);
	add_egress(g, EGRESS_ALLOW, "198.18.5.0/24", L4_UDP, 1000, 2000, 41);
	add_egress(g, EGRESS_DROP, "198.18.0.0/15", L4_ICMP, 0, 0, 42);
}

/* Two groups: DNS dropped / interface-only; the xtables queue fallback. */
static void
cfg_dns_modes(struct gw_config *c)
{
	struct group_config *g;

	base(c);
	g = add_group(c, "nodns", 50, CAPTURE_TPROXY, 3150, "vm-a*", "tap-a*");
	g->dns.mode = DNS_DROP;
	g->guests = cidrs(&g->nguests, "fd50::/64", NULL);
	g = add_group(c, "anyaddr", 60, CAPTURE_REDIRECT, 3160, "vm-b*", NULL);
}

static char *
slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f = fopen(path, "r"), *out;
	char tmp[4096];

	if (f == NULL)
		return NULL;
	out = open_memstream(&buf, &len);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		fwrite(tmp, 1, n, out);
	fclose(f);
	fclose(out);
	return buf;
}

static const char *
srcdir(void)
{
	static char dir[1024];
	const char *env = getenv("GW_SOURCE_ROOT");
	char *p;

	if (env != NULL)
		return env;
	util_strlcpy(dir, __FILE__, sizeof(dir));
	if ((p = strstr(dir, "tests/unit/test_rules.c")) == NULL)
		return ".";
	if (p == dir)
		return ".";
	p[-1] = '\0';
	return dir;
}

static void
golden(const char *name, void (*make)(struct gw_config *), bool nft_queue)
{
	struct rules_opts o = { .nft_queue = nft_queue };
	struct gw_config c;
	char path[1200], *buf = NULL, *want;
	size_t len = 0;
	FILE *out, *f;
	int rc;

	make(&c);
	out = open_memstream(&buf, &len);
	rc = rules_render(&c, &o, out, stdout);
	fclose(out);
	is(rc, 0, "%s: renders", name);
	snprintf(path, sizeof(path), "%s/tests/nft/%s.nft", srcdir(), name);
	if (getenv("GW_REGEN") != NULL && (f = fopen(path, "w")) != NULL) {
		fputs(buf, f);
		fclose(f);
	}
	want = slurp(path);
	ok(want != NULL, "%s: golden file %s exists", name, path);
	ok(want != NULL && strcmp(buf, want) == 0, "%s: matches golden "
	    "(GW_REGEN=1 to rewrite, then review the diff)", name);
	if (want != NULL && strcmp(buf, want) != 0)
		diag("got:\n%s", buf);
	free(want);
	free(buf);
	free_cfg(&c);
}

/* Validate c; the messages must contain each expected fragment. */
static void
bad(const char *what, struct gw_config *c, const char *frag)
{
	struct rules_opts o = { .nft_queue = true };
	char *buf = NULL, *ebuf = NULL;
	size_t len = 0, elen = 0;
	FILE *out = open_memstream(&buf, &len);
	FILE *err = open_memstream(&ebuf, &elen);
	int rc = rules_render(c, &o, out, err);

	fclose(out);
	fclose(err);
	is(rc, -1, "bad %s: refused", what);
	ok(strstr(ebuf, frag) != NULL, "bad %s: says \"%s\"", what, frag);
	if (strstr(ebuf, frag) == NULL)
		diag("messages: %s", ebuf);
	free(buf);
	free(ebuf);
	free_cfg(c);
}

static void
test_bad(void)
{
	struct gw_config c;
	struct group_config *g;

	cfg_tproxy_veth(&c);
	c.groups[0].interfaces[0] = (char *)"ve-?x";
	bad("ifname ?", &c, "test.conf:12: group \"agents\": interface "
	    "pattern \"ve-?x\" has a wildcard");
	cfg_tproxy_veth(&c);
	c.groups[0].interfaces[0] = (char *)"ve\"; drop";
	bad("ifname injection", &c, "has a character other than");
	cfg_tproxy_veth(&c);
	c.groups[0].interfaces[0] = (char *)"*";
	bad("ifname *", &c, "matches every interface");
	cfg_tproxy_veth(&c);
	c.groups[0].name = (char *)"a b";
	bad("group name", &c, "name must be");
	cfg_tproxy_veth(&c);
	c.groups[0].ninterfaces = 0;
	bad("no interfaces", &c, "needs interfaces");
	cfg_tproxy_veth(&c);
	add_egress(&c.groups[0], EGRESS_ALLOW, "10.1.0.0/16", L4_ANY, 0, 0, 25);
	bad("shadowed entry", &c, "test.conf:25: egress entry is never "
	    "reached: line 22 (drop) already matches all of it with the "
	    "opposite action");
	cfg_tproxy_veth(&c);
	add_egress(&c.groups[0], EGRESS_ALLOW, "10.20.0.0/16", L4_TCP, 5432,
	    5432, 26);
	bad("duplicate entry", &c, "test.conf:26: egress entry is never "
	    "reached: line 21");
	cfg_tproxy_veth(&c);
	add_egress(&c.groups[0], EGRESS_DROP, "198.18.0.0/15", L4_ICMP, 1, 2,
	    27);
	bad("icmp ports", &c, "test.conf:27: egress entry: ICMP has no ports");
	cfg_tproxy_veth(&c);
	add_egress(&c.groups[0], EGRESS_DROP, "198.18.0.0/15", L4_TCP, 9, 2,
	    28);
	bad("reversed ports", &c, "port range 9-2 is reversed");
	cfg_tproxy_veth(&c);
	c.upstream_mark = 0;
	bad("zero mark", &c, "upstream_mark must not be 0");
	cfg_tproxy_veth(&c);
	c.tproxy_mark = c.upstream_mark;
	bad("same marks", &c, "must differ");
	cfg_tproxy_veth(&c);
	c.tproxy_table = 254;
	bad("main table", &c, "tproxy_table 254 is reserved");
	cfg_tproxy_veth(&c);
	g = add_group(&c, "other", 70, CAPTURE_REDIRECT, 4000, "ve-1*", NULL);
	bad("overlapping patterns", &c, "test.conf:70: group \"other\": "
	    "interface pattern \"ve-1*\" overlaps \"ve-*\" of group "
	    "\"agents\" (line 12)");
	cfg_redirect_bridge(&c);
	c.groups[0].dns.nservers = 0;
	bad("dns server none", &c, "with no servers");
	cfg_redirect_bridge(&c);
	c.groups[0].https_port = c.groups[0].http_port;
	bad("same ports", &c, "two distinct");
	(void)g;
}

int
main(void)
{
	struct gw_config c;

	test_tpl();
	golden("tproxy-veth", cfg_tproxy_veth, true);
	golden("redirect-bridge", cfg_redirect_bridge, true);
	golden("dns-modes-xt", cfg_dns_modes, false);
	test_bad();

	cfg_tproxy_veth(&c);
	is(rules_validate(&c, NULL), 0, "good config validates");
	ok(rules_uses_tproxy(&c), "tproxy detected");
	free_cfg(&c);
	cfg_redirect_bridge(&c);
	ok(!rules_uses_tproxy(&c), "redirect-only has no tproxy");
	free_cfg(&c);
	return tap_done();
}
