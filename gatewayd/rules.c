/*
 * rules.c - validate a config for nftables and render the host groups'
 * rules from the embedded template nftables/group.nft.in.
 *
 * This module is pure text generation: it never runs nft, never reads the
 * kernel's state and never writes a file (rules_cmd.c does, and
 * rules_nfq.c talks netlink).  Every value that reaches the template is
 * checked here first, so nothing from a config file can inject nft
 * syntax: names and interface patterns are restricted to a safe
 * alphabet, addresses are printed by addr.c, numbers by printf.
 */
#include "nfq.h"
#include "rules.h"

#include <ctype.h>
#include <string.h>

#include "nft_template.h"
#include "tpl.h"

#define GROUP_NAME_MAX	64
#define IFNAME_MAX	15	/* IFNAMSIZ - 1 */

static const char *
cfgname(const struct gw_config *c)
{
	return c->path != NULL ? c->path : "config";
}

static bool
name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return false;
	return true;
}

/*
 * nft matches interface names exactly, or by prefix with one trailing
 * '*'; "*" alone would match the uplink and lo as well.
 */
static const char *
ifpattern_problem(const char *p)
{
	size_t n = strlen(p), i;

	if (n == 0)
		return "is empty";
	if (n > IFNAME_MAX)
		return "is longer than an interface name (15)";
	if (strcmp(p, "*") == 0)
		return "matches every interface, the uplink and lo included";
	for (i = 0; i < n; i++) {
		if (p[i] == '*' && i == n - 1)
			break;
		if (p[i] == '*' || p[i] == '?' || p[i] == '[')
			return "has a wildcard that nftables cannot match "
			    "(only one trailing '*' is supported)";
		if (!isalnum((unsigned char)p[i]) && p[i] != '_' &&
		    p[i] != '-' && p[i] != '.')
			return "has a character other than letters, digits, "
			    "'-', '_', '.' and a trailing '*'";
	}
	return NULL;
}

/* Can some interface name match both patterns (both already valid)? */
static bool
ifpattern_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	bool wa = a[la - 1] == '*', wb = b[lb - 1] == '*';

	if (wa)
		la--;
	if (wb)
		lb--;
	if (wa && wb)
		return strncmp(a, b, MIN(la, lb)) == 0;
	if (wa)
		return lb >= la && strncmp(a, b, la) == 0;
	if (wb)
		return la >= lb && strncmp(a, b, lb) == 0;
	return strcmp(a, b) == 0;
}

/* Does egress entry e match every packet that entry f matches? */
static bool
egress_covers(const struct egress_rule *e, const struct egress_rule *f)
{
	if (e->cidr.net.family != f->cidr.net.family ||
	    e->cidr.prefix > f->cidr.prefix ||
	    !cidr_contains(&e->cidr, &f->cidr.net))
		return false;
	if (e->proto != L4_ANY && e->proto != f->proto)
		return false;
	if (e->port_lo == 0 && e->port_hi == 0)
		return true;
	return (f->port_lo != 0 || f->port_hi != 0) &&
	    e->port_lo <= f->port_lo && f->port_hi <= e->port_hi;
}

static int
validate_egress(const struct gw_config *c, const struct group_config *g,
    FILE *errs)
{
	const struct egress_rule *e, *f;
	int n = 0;
	size_t i, j;

	for (i = 0; i < g->negress; i++) {
		e = &g->egress[i];
		if (e->cidr.net.family != AF_INET &&
		    e->cidr.net.family != AF_INET6) {
			if (errs)
				fprintf(errs, "%s:%d: egress entry has no "
				    "address family\n", cfgname(c), e->line);
			n++;
		}
		if (e->port_lo > e->port_hi) {
			if (errs)
				fprintf(errs, "%s:%d: egress port range "
				    "%u-%u is reversed\n", cfgname(c), e->line,
				    e->port_lo, e->port_hi);
			n++;
		}
		if (e->proto == L4_ICMP && (e->port_lo || e->port_hi)) {
			if (errs)
				fprintf(errs, "%s:%d: egress entry: ICMP has "
				    "no ports\n", cfgname(c), e->line);
			n++;
		}
		for (j = 0; j < i; j++) {
			f = &g->egress[j];
			if (!egress_covers(f, e))
				continue;
			if (errs)
				fprintf(errs, "%s:%d: egress entry is never "
				    "reached: line %d (%s) already matches "
				    "all of it%s\n", cfgname(c), e->line,
				    f->line, f->action == EGRESS_ALLOW ?
				    "allow" : "drop", f->action != e->action ?
				    " with the opposite action" : "");
			n++;
			break;
		}
	}
	return n;
}

static int
validate_group(const struct gw_config *c, size_t gi, FILE *errs)
{
	const struct group_config *g = &c->groups[gi], *h;
	const char *why;
	int n = 0;
	size_t i, j, k;

#define PROBLEM(line, ...) do {						\
	if (errs) {							\
		fprintf(errs, "%s:%d: group \"%s\": ", cfgname(c),	\
		    (line), g->name ? g->name : "?");			\
		fprintf(errs, __VA_ARGS__);				\
		fputc('\n', errs);					\
	}								\
	n++;								\
} while (0)

	if (g->name == NULL || !name_ok(g->name, GROUP_NAME_MAX)) {
		PROBLEM(g->line, "name must be 1-%d letters, digits, '-' or "
		    "'_' to name its nftables table", GROUP_NAME_MAX);
		return n;
	}
	if (g->ninterfaces == 0)
		PROBLEM(g->line, "the nftables policy needs interfaces "
		    "(e.g. [\"ve-*\"] or a bridge): source addresses alone "
		    "can be forged and do not cover IPv6");
	for (i = 0; i < g->ninterfaces; i++) {
		if ((why = ifpattern_problem(g->interfaces[i])) != NULL) {
			PROBLEM(g->line, "interface pattern \"%.32s\" %s",
			    g->interfaces[i], why);
			continue;
		}
		for (j = 0; j < gi; j++) {
			h = &c->groups[j];
			for (k = 0; k < h->ninterfaces; k++)
				if (ifpattern_problem(h->interfaces[k]) ==
				    NULL && ifpattern_overlap(h->interfaces[k],
				    g->interfaces[i]))
					PROBLEM(g->line, "interface pattern "
					    "\"%s\" overlaps \"%s\" of group "
					    "\"%s\" (line %d)",
					    g->interfaces[i],
					    h->interfaces[k], h->name,
					    h->line);
		}
	}
	if (g->http_port == 0 || g->https_port == 0 ||
	    g->http_port == g->https_port)
		PROBLEM(g->line, "capture needs two distinct, non-zero "
		    "ports (http_port %u, https_port %u)", g->http_port,
		    g->https_port);
	if (g->dns.mode == DNS_GATEWAY && g->dns.listen_port == 0)
		PROBLEM(g->line, "dns mode \"gateway\" needs a listen port");
	if (g->dns.mode == DNS_SERVER && g->dns.nservers == 0)
		PROBLEM(g->line, "dns mode \"server\" with no servers "
		    "(use mode \"drop\" to disable DNS)");
	for (i = 0; i < g->dns.nservers; i++)
		if (g->dns.servers[i].family != AF_INET &&
		    g->dns.servers[i].family != AF_INET6)
			PROBLEM(g->line, "dns server %zu has no address "
			    "family", i + 1);
	for (i = 0; i < g->nguests; i++)
		if (g->guests[i].net.family != AF_INET &&
		    g->guests[i].net.family != AF_INET6)
			PROBLEM(g->line, "guest prefix %zu has no address "
			    "family", i + 1);
	if (g->mode == CAPTURE_TPROXY && c->tproxy_mark == 0)
		PROBLEM(g->line, "tproxy capture needs a non-zero "
		    "tproxy_mark");
#undef PROBLEM
	return n + validate_egress(c, g, errs);
}

int
rules_validate(const struct gw_config *c, FILE *errs)
{
	int n = 0;
	size_t i;

	/* A zero mark would make "meta mark 0 accept" match every packet. */
	if (c->upstream_mark == 0) {
		if (errs)
			fprintf(errs, "%s: upstream_mark must not be 0\n",
			    cfgname(c));
		n++;
	}
	if (rules_uses_tproxy(c)) {
		if (c->tproxy_mark == c->upstream_mark) {
			if (errs)
				fprintf(errs, "%s: tproxy_mark and "
				    "upstream_mark must differ\n", cfgname(c));
			n++;
		}
		if (c->tproxy_table == 0 ||
		    (c->tproxy_table >= 253 && c->tproxy_table <= 255)) {
			if (errs)
				fprintf(errs, "%s: tproxy_table %u is reserved "
				    "(0, 253-255)\n", cfgname(c),
				    c->tproxy_table);
			n++;
		}
	}
	if (c->ngroups == 0) {
		if (errs)
			fprintf(errs, "%s: no host groups\n", cfgname(c));
		n++;
	}
	for (i = 0; i < c->ngroups; i++)
		n += validate_group(c, i, errs);
	return n;
}

bool
rules_uses_tproxy(const struct gw_config *c)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].mode == CAPTURE_TPROXY)
			return true;
	return false;
}

/* Append s to a ", "-joined list held in a malloc'd string. */
static void
join(char **list, const char *s)
{
	size_t a = *list ? strlen(*list) : 0, b = strlen(s);
	char *p = xrealloc(*list, a + b + 3);

	if (a > 0)
		memcpy(p + a, ", ", 2), a += 2;
	memcpy(p + a, s, b + 1);
	*list = p;
}

static void
egress_match(const struct egress_rule *e, char *buf, size_t len)
{
	char net[ADDR_STRLEN + 4];
	const char *proto = "";
	int off;
	bool v6 = e->cidr.net.family == AF_INET6;

	switch (e->proto) {
	case L4_TCP:
		proto = " meta l4proto tcp";
		break;
	case L4_UDP:
		proto = " meta l4proto udp";
		break;
	case L4_ICMP:
		proto = v6 ? " meta l4proto ipv6-icmp" : " meta l4proto icmp";
		break;
	case L4_ANY:
		if (e->port_lo || e->port_hi)
			proto = " meta l4proto { tcp, udp }";
		break;
	}
	off = snprintf(buf, len, "%s daddr %s%s", v6 ? "ip6" : "ip",
	    cidr_ntop(&e->cidr, net, sizeof(net)), proto);
	if (off < 0 || (size_t)off >= len || (!e->port_lo && !e->port_hi))
		return;
	if (e->port_lo == e->port_hi)
		snprintf(buf + off, len - off, " th dport %u", e->port_lo);
	else
		snprintf(buf + off, len - off, " th dport %u-%u", e->port_lo,
		    e->port_hi);
}

static void
group_vars(const struct gw_config *c, const struct group_config *g,
    const struct rules_opts *o, struct tpl_vars *v)
{
	char *g4 = NULL, *g6 = NULL, *d4 = NULL, *d6 = NULL;
	char buf[ADDR_STRLEN + 128];
	struct tpl_vars *it;
	size_t i;

	tpl_set(v, "GROUP", "%s", g->name);
	tpl_set(v, "LINE", "%d", g->line);
	tpl_set(v, "UPSTREAM_MARK", "0x%x", c->upstream_mark);
	tpl_set(v, "TPROXY_MARK", "0x%x", c->tproxy_mark);
	tpl_set(v, "HTTP_PORT", "%u", g->http_port);
	tpl_set(v, "HTTPS_PORT", "%u", g->https_port);
	tpl_set(v, "DNS_PORT", "%u", g->dns.listen_port);
	tpl_set(v, "NFQUEUE_NUM", "%u", c->nfqueue_num);
	tpl_set(v, "REJECT_MARK", "0x%x", NFQ_REJECT_MARK);
	tpl_set(v, "REJECT_MASK", "0x%x", NFQ_REJECT_MASK);

	for (i = 0; i < g->nguests; i++)
		join(g->guests[i].net.family == AF_INET6 ? &g6 : &g4,
		    cidr_ntop(&g->guests[i], buf, sizeof(buf)));
	for (i = 0; i < g->dns.nservers; i++)
		join(g->dns.servers[i].family == AF_INET6 ? &d6 : &d4,
		    addr_ntop(&g->dns.servers[i], buf, sizeof(buf)));
	tpl_set(v, "GUEST4", "%s", g4 ? g4 : "");
	tpl_set(v, "GUEST6", "%s", g6 ? g6 : "");
	tpl_set(v, "DNS4", "%s", d4 ? d4 : "");
	tpl_set(v, "DNS6", "%s", d6 ? d6 : "");
	tpl_flag(v, "has_guest4", g4 != NULL);
	tpl_flag(v, "has_guest6", g6 != NULL);
	tpl_flag(v, "drop_v4", g->nguests > 0 && g4 == NULL);
	tpl_flag(v, "drop_v6", g->nguests > 0 && g6 == NULL);
	tpl_flag(v, "has_dns4", d4 != NULL);
	tpl_flag(v, "has_dns6", d6 != NULL);
	free(g4);
	free(g6);
	free(d4);
	free(d6);

	tpl_flag(v, "tproxy", g->mode == CAPTURE_TPROXY);
	tpl_flag(v, "redirect", g->mode == CAPTURE_REDIRECT);
	tpl_flag(v, "dns_gateway", g->dns.mode == DNS_GATEWAY);
	tpl_flag(v, "dns_server", g->dns.mode == DNS_SERVER);
	tpl_flag(v, "dns_drop", g->dns.mode == DNS_DROP);
	tpl_flag(v, "nat", g->mode == CAPTURE_REDIRECT ||
	    g->dns.mode == DNS_GATEWAY);
	tpl_flag(v, "nft_queue", o->nft_queue);
	tpl_flag(v, "fail_open", c->nfqueue_fail_open);

	tpl_list(v, "iface");
	for (i = 0; i < g->ninterfaces; i++)
		tpl_set(tpl_item(v, "iface"), "IFACE", "%s",
		    g->interfaces[i]);
	tpl_list(v, "egress");
	for (i = 0; i < g->negress; i++) {
		it = tpl_item(v, "egress");
		egress_match(&g->egress[i], buf, sizeof(buf));
		tpl_set(it, "MATCH", "%s", buf);
		tpl_set(it, "ELINE", "%d", g->egress[i].line);
		tpl_flag(it, "allow", g->egress[i].action == EGRESS_ALLOW);
	}
}

int
rules_render(const struct gw_config *c, const struct rules_opts *o,
    FILE *out, FILE *errs)
{
	struct tpl_vars *v;
	size_t i;
	int rc = 0;

	if (rules_validate(c, errs) != 0)
		return -1;
	fprintf(out, "# gatewayd host group policy: %zu group(s); "
	    "nftables/README.md explains each chain.\n", c->ngroups);
	for (i = 0; i < c->ngroups && rc == 0; i++) {
		v = tpl_vars_new();
		group_vars(c, &c->groups[i], o, v);
		rc = tpl_render(nft_group_template, "nftables/group.nft.in",
		    v, out, errs);
		tpl_vars_free(v);
	}
	return rc;
}
