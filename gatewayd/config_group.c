/*
 * config_group.c - the host group sections of the config file: identity
 * (name, guests, interfaces), capture, HTTP/TLS policy rules, the
 * IP-level egress list and L4 (NFQUEUE) rules; DNS and secrets are in
 * config_dns_secret.c.
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
	char *const		*tags;
	size_t			ntags;
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
	/* a VM that b applies to carries b's tags: a's must be among them */
	return policy_tags_match(a->tags, a->ntags, b->tags, b->ntags);
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

/* Shadowing state for one list of rules. */
struct shadow {
	struct cond	*c;
	bool		*ok;
	size_t		n;
};

static void
shadow_init(struct shadow *sh, const config_setting_t *s)
{
	sh->n = (size_t)config_setting_length(s) + 1;
	sh->c = xcalloc(sh->n, sizeof(*sh->c));
	sh->ok = xcalloc(sh->n, sizeof(*sh->ok));
}

/* Record valid entry i (takes c->what) and report it if shadowed. */
static void
shadow_add(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    struct shadow *sh, size_t i, const struct cond *c)
{
	if (i >= sh->n)
		return;
	sh->c[i] = *c;
	check_shadow(x, e, path, sh->c, sh->ok, i);
	sh->ok[i] = true;
}

static void
shadow_free(struct shadow *sh)
{
	size_t i;

	for (i = 0; i < sh->n; i++)
		free((char *)sh->c[i].what);
	free(sh->c);
	free(sh->ok);
}

const struct cfg_enum cfg_allow_deny[] = {
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

#define SLICER_ISOLATED_NAME_MAX	15	/* "<group>-<N>", Slicer's docs */

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

static void
r_tags(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy_rule *r = base;

	(void)cfg_tags(x, s, path, &r->tags, &r->ntags);
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
	K_FUNC("tags", r_tags, 0),
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
rule_elem(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    size_t i, void *elem, bool clean, void *arg)
{
	struct policy_rule *r = elem;
	char label[64];

	r->line = (int)config_setting_source_line(e);
	if (!clean)
		return;
	if (r->host == NULL && r->cidrs == NULL && r->port_lo == 0 &&
	    r->path_prefix == NULL && r->methods == 0 && r->ntags == 0) {
		cfg_err(x, e, "%s: a rule needs a condition (host, cidr, port, "
		    "path, methods or tags); use policy.default for everything "
		    "else",
		    path);
		return;
	}
	if (r->action == POLICY_SPLICE &&
	    (r->path_prefix != NULL || r->methods != 0)) {
		cfg_err(x, e, "%s: a splice rule cannot have path or methods: "
		    "spliced TLS is never decrypted", path);
		return;
	}
	if (r->label == NULL) {
		snprintf(label, sizeof(label), "rule %zu (line %d)", i + 1,
		    r->line);
		r->label = xstrdup(label);
	}
	shadow_add(x, e, path, arg, i, &(struct cond){ .host = r->host,
	    .suffix = r->host_suffix, .cidrs = r->cidrs, .ncidrs = r->ncidrs,
	    .lo = r->port_lo, .hi = r->port_hi, .path = r->path_prefix,
	    .methods = r->methods, .tags = r->tags, .ntags = r->ntags,
	    .action = (int)r->action, .line = r->line,
	    .what = cond_text(policy_action_str(r->action), r->host,
	    r->host_suffix, r->cidrs, r->ncidrs) });
}

static void
p_rules(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct policy *p = base;
	struct shadow sh;

	shadow_init(&sh, s);
	p->rules = cfg_list(x, s, path, rule_keys, sizeof(*p->rules),
	    &p->nrules, rule_elem, &sh);
	shadow_free(&sh);
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

static const struct cfg_enum policy_modes[] = {
	{ "enforce", POLICY_ENFORCE }, { "report", POLICY_REPORT },
	{ NULL, 0 },
};

static const struct cfg_key policy_keys[] = {
	K_ENUM("mode", struct policy, mode, policy_modes, POLICY_ENFORCE, 0),
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
egress_elem(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    size_t i, void *elem, bool clean, void *arg)
{
	struct egress_rule *r = elem;

	r->line = (int)config_setting_source_line(e);
	if (!clean)
		return;
	if (r->port_lo != 0 && r->proto != L4_TCP && r->proto != L4_UDP) {
		cfg_err(x, e, "%s: ports need proto \"tcp\" or \"udp\"", path);
		return;
	}
	shadow_add(x, e, path, arg, i, &(struct cond){ .cidrs = &r->cidr,
	    .ncidrs = 1, .proto = (int)r->proto, .lo = r->port_lo,
	    .hi = r->port_hi, .action = (int)r->action, .line = r->line,
	    .what = cond_text(egress_action_str((int)r->action), NULL, false,
	    &r->cidr, 1) });
}

static void
g_egress(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;
	struct shadow sh;

	shadow_init(&sh, s);
	g->egress = cfg_list(x, s, path, egress_keys, sizeof(*g->egress),
	    &g->negress, egress_elem, &sh);
	shadow_free(&sh);
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
l4_elem(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    size_t i, void *elem, bool clean, void *arg)
{
	struct l4_rule *r = elem;
	char label[64];

	r->line = (int)config_setting_source_line(e);
	if (!clean)
		return;
	if (r->proto == L4_ANY && r->cidrs == NULL && r->host == NULL &&
	    r->port_lo == 0) {
		cfg_err(x, e, "%s: a rule needs a condition (proto, cidr, host "
		    "or ports); use l4.default for everything else", path);
		return;
	}
	if (r->port_lo != 0 && r->proto != L4_TCP && r->proto != L4_UDP) {
		cfg_err(x, e, "%s: ports need proto \"tcp\" or \"udp\"", path);
		return;
	}
	if (r->reset && (r->action != EGRESS_DROP || r->proto != L4_TCP)) {
		cfg_err(x, e, "%s: reset = true needs action \"deny\" and "
		    "proto \"tcp\"", path);
		return;
	}
	if (r->label == NULL) {
		snprintf(label, sizeof(label), "l4 rule %zu (line %d)", i + 1,
		    r->line);
		r->label = xstrdup(label);
	}
	shadow_add(x, e, path, arg, i, &(struct cond){ .host = r->host,
	    .suffix = r->host_suffix, .cidrs = r->cidrs, .ncidrs = r->ncidrs,
	    .proto = (int)r->proto, .lo = r->port_lo, .hi = r->port_hi,
	    .action = (int)r->action, .line = r->line,
	    .what = cond_text(egress_action_str((int)r->action), r->host,
	    r->host_suffix, r->cidrs, r->ncidrs) });
}

static void
l4_rules(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;
	struct shadow sh;

	shadow_init(&sh, s);
	g->l4 = cfg_list(x, s, path, l4_rule_keys, sizeof(*g->l4), &g->nl4,
	    l4_elem, &sh);
	shadow_free(&sh);
}

static const struct cfg_key l4_keys[] = {
	K_ENUM("default", struct group_config, l4_default_allow, cfg_allow_deny,
	    0, 0),
	K_FUNC("rules", l4_rules, 0),
	K_END
};

/* ---- the group ---- */

const struct cfg_key cfg_group_keys[] = {
	K_FUNC("name", g_name, CK_REQUIRED),
	K_FUNC("guests", g_guests, 0),
	K_FUNC("interfaces", g_interfaces, 0),
	K_STR("ca_dir", struct group_config, ca_dir, 1, NULL, 0),
	K_SECT("capture", 0, capture_keys, CK_REQUIRED | CK_RESTART),
	K_SECT("policy", offsetof(struct group_config, policy), policy_keys,
	    0),
	K_FUNC("egress", g_egress, 0),
	K_SECT("l4", 0, l4_keys, 0),
	K_SECT("dns", offsetof(struct group_config, dns), cfg_dns_keys, 0),
	K_FUNC("secrets", cfg_secrets, 0),
	K_END
};

/*
 * Slicer's isolated mode (veths "ve-*") names VMs "<group>-<N>" in at most
 * 15 characters.  gatewayd does not need the limit, but a group name that
 * leaves room for fewer than 99 VMs is most likely not the Slicer group it
 * is meant to mirror, or one Slicer cannot run: say so, do not refuse.
 */
static void
slicer_name_check(struct cfg_ctx *x, const config_setting_t *s,
    const struct group_config *g)
{
	size_t i, n = strlen(g->name);

	if (n <= SLICER_ISOLATED_NAME_MAX - 3)
		return;
	for (i = 0; i < g->ninterfaces; i++)
		if (strncmp(g->interfaces[i], "ve-", 3) == 0)
			break;
	if (i == g->ninterfaces)
		return;
	cfg_warn(x, s, "group \"%s\": Slicer's isolated mode limits VM "
	    "names \"%s-N\" to %d characters; this name leaves room for %s",
	    g->name, g->name, SLICER_ISOLATED_NAME_MAX,
	    n <= SLICER_ISOLATED_NAME_MAX - 2 ? "VMs 1-9 only" : "no VM");
}

void
cfg_group_finish(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, size_t i, void *elem, bool clean, void *arg)
{
	struct group_config *g = elem;
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
	slicer_name_check(x, s, g);
	if (g->ca_dir == NULL) {
		snprintf(buf, sizeof(buf), ".slicer/ca/%s", g->name);
		g->ca_dir = xstrdup(buf);
	}
	cfg_dns_finish(x, config_setting_get_member(s, "dns"), path, &g->dns);
}

unsigned
cfg_group_diff_restart(const struct group_config *a,
    const struct group_config *b, FILE *errs)
{
	char path[64];

	snprintf(path, sizeof(path), "group \"%s\"", a->name);
	return cfg_diff_restart(cfg_group_keys, a, b, path, false, errs);
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
		free_strv(g->policy.rules[i].tags, g->policy.rules[i].ntags);
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
		free_strv(g->secrets[i].tags, g->secrets[i].ntags);
	}
	free(g->secrets);
}
