/*
 * config_group.c - the host group sections of the config file: identity
 * (name, guests, interfaces), capture, HTTP/TLS policy rules, the
 * IP-level egress list, L4 (NFQUEUE) rules, DNS and secrets.
 *
 * It parses and validates one group at a time through key tables (see
 * config_int.h); checks that span groups (names, ports, overlapping
 * guests) live in config.c.  It does not read secret values, resolve
 * names or touch nftables.
 */
#include "config_int.h"

#include <stdbool.h>

#include "hostname.h"

/* What a rule matches, for the "never matches" (shadowing) check. */
struct cond {
	const char		*host;
	bool			suffix;
	const struct cidr	*cidrs;
	size_t			ncidrs;
	int			proto;		/* L4_ANY = any */
	uint16_t		lo, hi;		/* 0 = any */
	const char		*path;
	unsigned		methods;
	int			action;
	int			line;
	const char		*what;		/* "deny .wikipedia.org" */
};

static bool
host_covers(const struct cond *a, const struct cond *b)
{
	if (a->host == NULL)
		return true;
	if (b->host == NULL)
		return false;
	if (!b->suffix)
		return host_match(a->host, a->suffix, b->host);
	return a->suffix && host_match(a->host, true, b->host);
}

static bool
cidrs_cover(const struct cond *a, const struct cond *b)
{
	size_t i, j;

	if (a->cidrs == NULL)
		return true;
	if (b->cidrs == NULL)
		return false;
	for (i = 0; i < b->ncidrs; i++) {
		for (j = 0; j < a->ncidrs; j++)
			if (a->cidrs[j].prefix <= b->cidrs[i].prefix &&
			    cidr_contains(&a->cidrs[j], &b->cidrs[i].net))
				break;
		if (j == a->ncidrs)
			return false;
	}
	return true;
}

/* Does a match every flow or request b matches? */
static bool
cond_covers(const struct cond *a, const struct cond *b)
{
	if (!host_covers(a, b) || !cidrs_cover(a, b))
		return false;
	if (a->proto != L4_ANY && a->proto != b->proto)
		return false;
	if (a->lo != 0 && (b->lo == 0 || b->lo < a->lo || b->hi > a->hi))
		return false;
	if (a->path != NULL && (b->path == NULL ||
	    strncmp(b->path, a->path, strlen(a->path)) != 0))
		return false;
	if (a->methods != 0 && (b->methods == 0 || (b->methods & ~a->methods)))
		return false;
	return true;
}

/* Report entry i if an earlier valid entry already covers it. */
static void
check_shadow(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    const struct cond *c, const bool *ok, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++) {
		if (!ok[j] || !cond_covers(&c[j], &c[i]))
			continue;
		if (c[j].action != c[i].action && cond_covers(&c[i], &c[j]))
			cfg_err(x, s, "%s: contradicts the entry at line %d "
			    "(%s): same match, opposite action", path,
			    c[j].line, c[j].what);
		else if (c[j].action == c[i].action)
			cfg_err(x, s, "%s: redundant: the entry at line %d "
			    "(%s) already matches everything this one does",
			    path, c[j].line, c[j].what);
		else
			cfg_err(x, s, "%s: never matches: the entry at line %d "
			    "(%s) comes first and matches everything this one "
			    "does; put the more specific entry first", path,
			    c[j].line, c[j].what);
		return;
	}
}

static const struct cfg_enum allow_deny[] = {
	{ "allow", 1 }, { "deny", 0 }, { NULL, 0 },
};

static const struct cfg_enum egress_actions[] = {
	{ "allow", EGRESS_ALLOW }, { "drop", EGRESS_DROP },
	{ "deny", EGRESS_DROP }, { NULL, 0 },
};

static const struct cfg_enum protos[] = {
	{ "tcp", L4_TCP }, { "udp", L4_UDP }, { "icmp", L4_ICMP },
	{ NULL, 0 },
};

/* ---- identity ---- */

static void
g_name(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;
	const char *v, *p;

	if (cfg_string(x, s, path, &v) != 0)
		return;
	for (p = v; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (p > v && ((*p >= '0' && *p <= '9') || *p == '_' ||
		    *p == '-'))))
			break;
	if (*p != '\0' || p == v || p - v > 32) {
		cfg_err(x, s, "%s: \"%s\": a group name is 1-32 letters, "
		    "digits, '_' or '-', starting with a letter", path, v);
		return;
	}
	g->name = xstrdup(v);
}

static void
g_guests(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;

	(void)cfg_cidr_list(x, s, path, &g->guests, &g->nguests);
}

/*
 * nftables matches iifname "ve-*" as a prefix; it has no '?' and no '*'
 * inside a name, so those would silently mean something else in the
 * rendered ruleset.
 */
static void
add_ifname(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    const char *v, void *arg)
{
	struct group_config *g = arg;
	size_t i, len = strlen(v);

	for (i = 0; i < len; i++) {
		char c = v[i];

		if (c == '*' && i == len - 1)
			continue;
		if (c == '*' || c == '?') {
			cfg_err(x, e, "%s: \"%s\": only a trailing '*' is "
			    "supported (nftables iifname matches a prefix "
			    "written \"ve-*\"; '?' and inner '*' do not exist "
			    "there)", path, v);
			return;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '@' || c == '+')) {
			cfg_err(x, e, "%s: \"%s\": '%c' is not allowed in an "
			    "interface name", path, v, c);
			return;
		}
	}
	if (len == 0 || len - (v[len - 1] == '*') > 15) {
		cfg_err(x, e, "%s: \"%s\": an interface name is 1-15 "
		    "characters", path, v);
		return;
	}
	g->interfaces[g->ninterfaces++] = xstrdup(v);
}

static void
g_interfaces(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;
	int n = config_setting_length(s);

	g->interfaces = xcalloc(n > 0 ? (size_t)n : 1, sizeof(char *));
	if (cfg_each_string(x, s, path, add_ifname, g) == 0)
		cfg_err(x, s, "%s: empty list", path);
}

static const struct cfg_enum capture_modes[] = {
	{ "tproxy", CAPTURE_TPROXY }, { "redirect", CAPTURE_REDIRECT },
	{ NULL, 0 },
};

static const struct cfg_key capture_keys[] = {
	K_ENUM("mode", struct group_config, mode, capture_modes,
	    CAPTURE_TPROXY, CK_RESTART),
	K_UINT("http_port", struct group_config, http_port, 1, 65535, 0,
	    CK_REQUIRED | CK_RESTART),
	K_UINT("https_port", struct group_config, https_port, 1, 65535, 0,
	    CK_REQUIRED | CK_RESTART),
	K_END
};

/* ---- HTTP/TLS policy ---- */

static void
r_host(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy_rule *r = base;
	const char *v;

	if (cfg_string(x, s, path, &v) == 0)
		(void)cfg_host_pattern(x, s, path, v, &r->host,
		    &r->host_suffix);
}

static void
r_cidr(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy_rule *r = base;

	(void)cfg_cidr_list(x, s, path, &r->cidrs, &r->ncidrs);
}

static void
r_port(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy_rule *r = base;

	(void)cfg_port_range(x, s, path, &r->port_lo, &r->port_hi);
}

static void
r_path(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy_rule *r = base;

	(void)cfg_path_prefix(x, s, path, &r->path_prefix);
}

static void
r_methods(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy_rule *r = base;

	(void)cfg_methods(x, s, path, &r->methods);
}

static const struct cfg_enum rule_actions[] = {
	{ "allow", POLICY_ALLOW }, { "deny", POLICY_DENY },
	{ "splice", POLICY_SPLICE }, { NULL, 0 },
};

static const struct cfg_key rule_keys[] = {
	K_ENUM("action", struct policy_rule, action, rule_actions,
	    POLICY_DENY, CK_REQUIRED),
	K_STR("name", struct policy_rule, label, 1, NULL, 0),
	K_FUNC("host", r_host, 0),
	K_FUNC("cidr", r_cidr, 0),
	K_FUNC("port", r_port, 0),
	K_FUNC("path", r_path, 0),
	K_FUNC("methods", r_methods, 0),
	K_END
};

/* Short text for messages: "deny .example.com". */
static char *
cond_text(const char *action, const char *host, bool suffix,
    const struct cidr *cidrs, size_t ncidrs)
{
	char buf[HOST_MAX + 64], cb[ADDR_STRLEN + 4];

	if (host != NULL)
		snprintf(buf, sizeof(buf), "%s %s%s", action,
		    suffix ? "." : "", host);
	else if (ncidrs > 0)
		snprintf(buf, sizeof(buf), "%s %s%s", action,
		    cidr_ntop(&cidrs[0], cb, sizeof(cb)),
		    ncidrs > 1 ? ", ..." : "");
	else
		snprintf(buf, sizeof(buf), "%s", action);
	return xstrdup(buf);
}

static void
free_conds(struct cond *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((char *)c[i].what);
	free(c);
}

static const config_setting_t *
list_check(struct cfg_ctx *x, const config_setting_t *s, const char *path)
{
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		cfg_err(x, s, "%s: must be a list ( { ... }, ... )", path);
		return NULL;
	}
	return s;
}

static void
p_rules(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy *p = base;
	char epath[192], label[64];
	struct cond *c;
	bool *ok;
	size_t i, n;

	if (list_check(x, s, path) == NULL)
		return;
	n = (size_t)config_setting_length(s);
	p->rules = xcalloc(n + 1, sizeof(*p->rules));
	c = xcalloc(n + 1, sizeof(*c));
	ok = xcalloc(n + 1, sizeof(*ok));
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (int)i);
		struct policy_rule *r = &p->rules[i];
		unsigned before = x->nerrs;

		p->nrules++;
		cfg_elem_path(epath, sizeof(epath), path, (int)i);
		r->line = (int)config_setting_source_line(e);
		cfg_section(x, e, epath, rule_keys, r);
		if (x->nerrs != before)
			continue;
		if (r->host == NULL && r->cidrs == NULL && r->port_lo == 0 &&
		    r->path_prefix == NULL && r->methods == 0) {
			cfg_err(x, e, "%s: a rule needs a condition (host, "
			    "cidr, port, path or methods); use policy.default "
			    "for everything else", epath);
			continue;
		}
		if (r->action == POLICY_SPLICE &&
		    (r->path_prefix != NULL || r->methods != 0)) {
			cfg_err(x, e, "%s: a splice rule cannot have path or "
			    "methods: spliced TLS is never decrypted", epath);
			continue;
		}
		if (r->label == NULL) {
			snprintf(label, sizeof(label), "rule %zu (line %d)",
			    i + 1, r->line);
			r->label = xstrdup(label);
		}
		c[i] = (struct cond){ .host = r->host, .suffix = r->host_suffix,
		    .cidrs = r->cidrs, .ncidrs = r->ncidrs, .lo = r->port_lo,
		    .hi = r->port_hi, .path = r->path_prefix,
		    .methods = r->methods, .action = (int)r->action,
		    .line = r->line };
		c[i].what = cond_text(policy_action_str(r->action), r->host,
		    r->host_suffix, r->cidrs, r->ncidrs);
		check_shadow(x, e, epath, c, ok, i);
		ok[i] = true;
	}
	free_conds(c, n);
	free(ok);
}

static void
p_internal(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy *p = base;

	(void)cfg_cidr_list(x, s, path, &p->internal_allow,
	    &p->ninternal_allow);
}

static const struct cfg_enum policy_defaults[] = {
	{ "allow", POLICY_ALLOW }, { "deny", POLICY_DENY }, { NULL, 0 },
};

static const struct cfg_key policy_keys[] = {
	K_ENUM("default", struct policy, dflt, policy_defaults, POLICY_DENY,
	    0),
	K_FUNC("internal_allow", p_internal, 0),
	K_FUNC("rules", p_rules, 0),
	K_END
};

/* ---- IP-level egress list ---- */

static void
e_cidr(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct egress_rule *r = base;
	const char *v;

	if (cfg_string(x, s, path, &v) == 0)
		(void)cfg_cidr(x, s, path, v, &r->cidr);
}

static void
e_ports(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct egress_rule *r = base;

	(void)cfg_port_range(x, s, path, &r->port_lo, &r->port_hi);
}

static const struct cfg_key egress_keys[] = {
	K_ENUM("action", struct egress_rule, action, egress_actions,
	    EGRESS_DROP, CK_REQUIRED),
	K_FUNC("cidr", e_cidr, CK_REQUIRED),
	K_ENUM("proto", struct egress_rule, proto, protos, L4_ANY, 0),
	K_FUNC("ports", e_ports, 0),
	K_END
};

static const char *
egress_action_str(int a)
{
	return a == EGRESS_ALLOW ? "allow" : "drop";
}

static void
g_egress(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;
	char epath[192];
	struct cond *c;
	bool *ok;
	size_t i, n;

	if (list_check(x, s, path) == NULL)
		return;
	n = (size_t)config_setting_length(s);
	g->egress = xcalloc(n + 1, sizeof(*g->egress));
	c = xcalloc(n + 1, sizeof(*c));
	ok = xcalloc(n + 1, sizeof(*ok));
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (int)i);
		struct egress_rule *r = &g->egress[i];
		unsigned before = x->nerrs;

		g->negress++;
		cfg_elem_path(epath, sizeof(epath), path, (int)i);
		r->line = (int)config_setting_source_line(e);
		cfg_section(x, e, epath, egress_keys, r);
		if (x->nerrs != before)
			continue;
		if (r->port_lo != 0 && r->proto != L4_TCP &&
		    r->proto != L4_UDP) {
			cfg_err(x, e, "%s: ports need proto \"tcp\" or \"udp\"",
			    epath);
			continue;
		}
		c[i] = (struct cond){ .cidrs = &r->cidr, .ncidrs = 1,
		    .proto = (int)r->proto, .lo = r->port_lo, .hi = r->port_hi,
		    .action = (int)r->action, .line = r->line };
		c[i].what = cond_text(egress_action_str((int)r->action), NULL,
		    false, &r->cidr, 1);
		check_shadow(x, e, epath, c, ok, i);
		ok[i] = true;
	}
	free_conds(c, n);
	free(ok);
}

/* ---- L4 (NFQUEUE) rules ---- */

static void
l_cidr(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct l4_rule *r = base;

	(void)cfg_cidr_list(x, s, path, &r->cidrs, &r->ncidrs);
}

static void
l_host(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct l4_rule *r = base;
	const char *v;

	if (cfg_string(x, s, path, &v) == 0)
		(void)cfg_host_pattern(x, s, path, v, &r->host,
		    &r->host_suffix);
}

static void
l_ports(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct l4_rule *r = base;

	(void)cfg_port_range(x, s, path, &r->port_lo, &r->port_hi);
}

static const struct cfg_key l4_rule_keys[] = {
	K_ENUM("action", struct l4_rule, action, egress_actions, EGRESS_DROP,
	    CK_REQUIRED),
	K_STR("name", struct l4_rule, label, 1, NULL, 0),
	K_ENUM("proto", struct l4_rule, proto, protos, L4_ANY, 0),
	K_FUNC("cidr", l_cidr, 0),
	K_FUNC("host", l_host, 0),
	K_FUNC("ports", l_ports, 0),
	K_BOOL("reset", struct l4_rule, reset, 0, 0),
	K_END
};

static void
l4_rules(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;
	char epath[192], label[64];
	struct cond *c;
	bool *ok;
	size_t i, n;

	if (list_check(x, s, path) == NULL)
		return;
	n = (size_t)config_setting_length(s);
	g->l4 = xcalloc(n + 1, sizeof(*g->l4));
	c = xcalloc(n + 1, sizeof(*c));
	ok = xcalloc(n + 1, sizeof(*ok));
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (int)i);
		struct l4_rule *r = &g->l4[i];
		unsigned before = x->nerrs;

		g->nl4++;
		cfg_elem_path(epath, sizeof(epath), path, (int)i);
		r->line = (int)config_setting_source_line(e);
		cfg_section(x, e, epath, l4_rule_keys, r);
		if (x->nerrs != before)
			continue;
		if (r->proto == L4_ANY && r->cidrs == NULL && r->host == NULL &&
		    r->port_lo == 0) {
			cfg_err(x, e, "%s: a rule needs a condition (proto, "
			    "cidr, host or ports); use l4.default for "
			    "everything else", epath);
			continue;
		}
		if (r->port_lo != 0 && r->proto != L4_TCP &&
		    r->proto != L4_UDP) {
			cfg_err(x, e, "%s: ports need proto \"tcp\" or \"udp\"",
			    epath);
			continue;
		}
		if (r->reset && (r->action != EGRESS_DROP ||
		    r->proto != L4_TCP)) {
			cfg_err(x, e, "%s: reset = true needs action \"deny\" "
			    "and proto \"tcp\"", epath);
			continue;
		}
		if (r->label == NULL) {
			snprintf(label, sizeof(label), "l4 rule %zu (line %d)",
			    i + 1, r->line);
			r->label = xstrdup(label);
		}
		c[i] = (struct cond){ .host = r->host, .suffix = r->host_suffix,
		    .cidrs = r->cidrs, .ncidrs = r->ncidrs,
		    .proto = (int)r->proto, .lo = r->port_lo, .hi = r->port_hi,
		    .action = (int)r->action, .line = r->line };
		c[i].what = cond_text(egress_action_str((int)r->action),
		    r->host, r->host_suffix, r->cidrs, r->ncidrs);
		check_shadow(x, e, epath, c, ok, i);
		ok[i] = true;
	}
	free_conds(c, n);
	free(ok);
}

static const struct cfg_key l4_keys[] = {
	K_ENUM("default", struct group_config, l4_default_allow, allow_deny,
	    0, 0),
	K_FUNC("rules", l4_rules, 0),
	K_END
};

/* ---- DNS ---- */

static void
d_upstream(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct dns_config *d = base;

	(void)cfg_addr_port(x, s, path, 53, &d->upstream);
}

static void
add_server(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    const char *v, void *arg)
{
	struct dns_config *d = arg;

	if (cfg_addr_port(x, e, path, 53, &d->servers[d->nservers]) == 0)
		d->nservers++;
}

static void
d_servers(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct dns_config *d = base;
	int n = config_setting_length(s);

	d->servers = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*d->servers));
	if (cfg_each_string(x, s, path, add_server, d) == 0)
		cfg_err(x, s, "%s: empty list", path);
}

struct names_acc {
	char	**v;
	size_t	n;
};

static void
add_name(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    const char *v, void *arg)
{
	struct names_acc *acc = arg;
	char *host = NULL;
	bool suffix;

	if (cfg_host_pattern(x, e, path, v, &host, &suffix) != 0)
		return;
	if (suffix) {
		/* kept in the written form, see config.h */
		size_t len = strlen(host);
		char *dot = xmalloc(len + 2);

		dot[0] = '.';
		memcpy(dot + 1, host, len + 1);
		free(host);
		host = dot;
	}
	acc->v[acc->n++] = host;
}

static void
name_list(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    char ***out, size_t *nout)
{
	int n = config_setting_length(s);
	struct names_acc acc;

	acc.v = xcalloc(n > 0 ? (size_t)n : 1, sizeof(char *));
	acc.n = 0;
	(void)cfg_each_string(x, s, path, add_name, &acc);
	*out = acc.v;
	*nout = acc.n;
}

static void
d_allow(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct dns_config *d = base;

	name_list(x, s, path, &d->allow_names, &d->nallow_names);
}

static void
d_deny(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct dns_config *d = base;

	name_list(x, s, path, &d->deny_names, &d->ndeny_names);
}

static const struct cfg_enum dns_modes[] = {
	{ "gateway", DNS_GATEWAY }, { "server", DNS_SERVER },
	{ "drop", DNS_DROP }, { NULL, 0 },
};

static const struct cfg_enum dns_refusals[] = {
	{ "refused", 0 }, { "nxdomain", 1 }, { NULL, 0 },
};

static const struct cfg_key dns_keys[] = {
	K_ENUM("mode", struct dns_config, mode, dns_modes, DNS_GATEWAY,
	    CK_RESTART),
	K_FUNC("upstream", d_upstream, 0),
	K_FUNC("servers", d_servers, CK_RESTART),
	K_UINT("listen_port", struct dns_config, listen_port, 1, 65535, 5300,
	    CK_RESTART),
	K_FUNC("allow", d_allow, 0),
	K_FUNC("deny", d_deny, 0),
	K_ENUM("default", struct dns_config, names_default_allow, allow_deny,
	    1, 0),
	K_UINT("max_name", struct dns_config, max_name_len, 1, 253, 200, 0),
	K_UINT("max_label", struct dns_config, max_label_len, 1, 63, 63, 0),
	K_UINT("max_unique_subdomains", struct dns_config,
	    max_unique_subdomains, 0, 1000000, 100, 0),
	K_DUR("window", struct dns_config, unique_window_ms, 1000, 3600000,
	    10000, 0),
	K_ENUM("refuse_with", struct dns_config, refuse_nxdomain,
	    dns_refusals, 0, 0),
	K_END
};

static void
dns_finish(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    struct dns_config *d)
{
	static const char *const gateway_only[] = { "upstream", "allow",
	    "deny", "default", "listen_port" };
	const config_setting_t *k;
	size_t i;

	if (s == NULL)
		return;
	if (d->mode == DNS_SERVER && d->nservers == 0 &&
	    config_setting_get_member(s, "servers") == NULL)
		cfg_err(x, s, "%s.dns: mode \"server\" needs servers = "
		    "[ ... ]", path);
	if (d->mode != DNS_SERVER &&
	    (k = config_setting_get_member(s, "servers")) != NULL)
		cfg_err(x, k, "%s.dns.servers: only used with mode "
		    "\"server\"", path);
	for (i = 0; i < ARRAY_SIZE(gateway_only); i++)
		if (d->mode != DNS_GATEWAY && (k = config_setting_get_member(s,
		    gateway_only[i])) != NULL)
			cfg_err(x, k, "%s.dns.%s: only used with mode "
			    "\"gateway\"", path, gateway_only[i]);
	if (d->max_label_len > d->max_name_len)
		cfg_err(x, s, "%s.dns: max_label (%u) is larger than max_name "
		    "(%u)", path, d->max_label_len, d->max_name_len);
}

/* ---- secrets ---- */

static bool
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

static void
s_header(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	static const char *const forbidden[] = { "Host", "Connection",
	    "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
	    "Transfer-Encoding", "Upgrade", "Content-Length",
	    "Proxy-Authorization", "Proxy-Authenticate", "Expect" };
	struct secret_config *sc = base;
	const char *v, *p;
	size_t i;

	if (cfg_string(x, s, path, &v) != 0)
		return;
	for (p = v; *p != '\0' && is_tchar(*p); p++)
		continue;
	if (*p != '\0' || p == v) {
		cfg_err(x, s, "%s: \"%s\" is not a header field name", path, v);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(forbidden); i++) {
		if (strlen(forbidden[i]) == strlen(v) &&
		    util_ascii_caseeq(forbidden[i], v, strlen(v))) {
			cfg_err(x, s, "%s: \"%s\" is a hop-by-hop or framing "
			    "header and cannot carry a secret", path, v);
			return;
		}
	}
	sc->header = xstrdup(v);
}

static void
s_format(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct secret_config *sc = base;
	const char *v, *p;
	int n = 0;

	if (cfg_string(x, s, path, &v) != 0)
		return;
	for (p = v; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		if (p[1] != 's') {
			n = -1;
			break;
		}
		n++;
	}
	if (n != 1) {
		cfg_err(x, s, "%s: \"%s\" must contain exactly one %%s (and "
		    "no other %% except %%%%)", path, v);
		return;
	}
	sc->format = xstrdup(v);
}

static void
s_host(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct secret_config *sc = base;
	const char *v;

	if (cfg_string(x, s, path, &v) == 0)
		(void)cfg_host_pattern(x, s, path, v, &sc->host,
		    &sc->host_suffix);
}

static void
s_path(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	(void)cfg_path_prefix(x, s, path,
	    &((struct secret_config *)base)->path_prefix);
}

static void
s_methods(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	(void)cfg_methods(x, s, path, &((struct secret_config *)base)->methods);
}

static void
s_source(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base, enum secret_source src)
{
	struct secret_config *sc = base;
	const char *v, *p;

	if (cfg_string(x, s, path, &v) != 0)
		return;
	if (sc->source_ref != NULL) {
		cfg_err(x, s, "%s: give either file or env, not both", path);
		return;
	}
	if (v[0] == '\0') {
		cfg_err(x, s, "%s: must not be empty", path);
		return;
	}
	for (p = v; src == SECRET_ENV && *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    *p == '_' || (p > v && *p >= '0' && *p <= '9'))) {
			cfg_err(x, s, "%s: \"%s\" is not an environment "
			    "variable name", path, v);
			return;
		}
	}
	sc->source = src;
	sc->source_ref = xstrdup(v);
}

static void
s_file(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	s_source(x, s, path, base, SECRET_FILE);
}

static void
s_env(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	s_source(x, s, path, base, SECRET_ENV);
}

static const struct cfg_key secret_keys[] = {
	K_STR("name", struct secret_config, name, 1, NULL, CK_REQUIRED),
	K_FUNC("host", s_host, CK_REQUIRED),
	K_UINT("port", struct secret_config, port, 1, 65535, 0, 0),
	K_FUNC("path", s_path, 0),
	K_FUNC("methods", s_methods, 0),
	K_FUNC("header", s_header, 0),
	K_FUNC("format", s_format, 0),
	K_FUNC("file", s_file, 0),
	K_FUNC("env", s_env, 0),
	K_STR("placeholder", struct secret_config, placeholder, 8, NULL, 0),
	K_BOOL("require_sentinel", struct secret_config, require_sentinel, 0,
	    0),
	K_END
};

static void
g_secrets(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;
	char epath[192];
	size_t i, j, n;

	if (list_check(x, s, path) == NULL)
		return;
	n = (size_t)config_setting_length(s);
	g->secrets = xcalloc(n + 1, sizeof(*g->secrets));
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (int)i);
		struct secret_config *sc = &g->secrets[i];
		unsigned before = x->nerrs;

		g->nsecrets++;
		cfg_elem_path(epath, sizeof(epath), path, (int)i);
		sc->line = (int)config_setting_source_line(e);
		cfg_section(x, e, epath, secret_keys, sc);
		if (x->nerrs != before)
			continue;
		if (sc->source_ref == NULL)
			cfg_err(x, e, "%s: say where the value comes from: "
			    "file = \"...\" or env = \"...\"", epath);
		if (sc->header == NULL)
			sc->header = xstrdup("Authorization");
		if (sc->format == NULL)
			sc->format = xstrdup("Bearer %s");
		for (j = 0; j < i; j++)
			if (g->secrets[j].name != NULL &&
			    strcmp(g->secrets[j].name, sc->name) == 0)
				cfg_err(x, e, "%s: duplicate secret name \"%s\" "
				    "(first at line %d)", epath, sc->name,
				    g->secrets[j].line);
	}
}

/* ---- the group ---- */

const struct cfg_key cfg_group_keys[] = {
	K_FUNC("name", g_name, CK_REQUIRED),
	K_FUNC("guests", g_guests, CK_RESTART),
	K_FUNC("interfaces", g_interfaces, CK_RESTART),
	K_STR("ca_dir", struct group_config, ca_dir, 1, NULL, 0),
	K_SECT("capture", 0, capture_keys, CK_REQUIRED | CK_RESTART),
	K_SECT("policy", offsetof(struct group_config, policy), policy_keys,
	    0),
	K_FUNC("egress", g_egress, 0),
	K_SECT("l4", 0, l4_keys, 0),
	K_SECT("dns", offsetof(struct group_config, dns), dns_keys, 0),
	K_FUNC("secrets", g_secrets, 0),
	K_END
};

void
cfg_group_finish(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, struct group_config *g)
{
	char buf[64];

	g->line = (int)config_setting_source_line(s);
	if (g->name == NULL)
		return;
	if (config_setting_get_member(s, "guests") == NULL &&
	    config_setting_get_member(s, "interfaces") == NULL)
		cfg_err(x, s, "group \"%s\": give guests (source CIDRs), "
		    "interfaces, or both; a group cannot match everyone",
		    g->name);
	if (g->http_port != 0 && g->http_port == g->https_port)
		cfg_err(x, s, "group \"%s\": http_port and https_port are "
		    "both %u", g->name, g->http_port);
	if (g->ca_dir == NULL) {
		snprintf(buf, sizeof(buf), ".slicer/ca/%s", g->name);
		g->ca_dir = xstrdup(buf);
	}
	dns_finish(x, config_setting_get_member(s, "dns"), path, &g->dns);
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void
cfg_group_free(struct group_config *g)
{
	size_t i;

	free(g->name);
	free(g->guests);
	free_strv(g->interfaces, g->ninterfaces);
	free(g->ca_dir);
	for (i = 0; i < g->policy.nrules; i++) {
		free(g->policy.rules[i].host);
		free(g->policy.rules[i].cidrs);
		free(g->policy.rules[i].path_prefix);
		free(g->policy.rules[i].label);
	}
	free(g->policy.rules);
	free(g->policy.internal_allow);
	free(g->egress);
	for (i = 0; i < g->nl4; i++) {
		free(g->l4[i].cidrs);
		free(g->l4[i].host);
		free(g->l4[i].label);
	}
	free(g->l4);
	free(g->dns.servers);
	free_strv(g->dns.allow_names, g->dns.nallow_names);
	free_strv(g->dns.deny_names, g->dns.ndeny_names);
	for (i = 0; i < g->nsecrets; i++) {
		free(g->secrets[i].name);
		free(g->secrets[i].host);
		free(g->secrets[i].path_prefix);
		free(g->secrets[i].header);
		free(g->secrets[i].format);
		free(g->secrets[i].source_ref);
		free(g->secrets[i].placeholder);
	}
	free(g->secrets);
}
