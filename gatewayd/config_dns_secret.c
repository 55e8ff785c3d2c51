/*
 * config_dns_secret.c - the "dns" and "secrets" sections of a host group
 * (see config_group.c for the rest of the group and config_int.h for the
 * key tables).
 *
 * Validation only: it does not resolve, listen, or read secret values
 * (secrets.c loads and protects those).
 */
#include "config_int.h"

#include <stdbool.h>

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

const struct cfg_key cfg_dns_keys[] = {
	K_ENUM("mode", struct dns_config, mode, dns_modes, DNS_GATEWAY,
	    CK_RESTART),
	K_FUNC("upstream", d_upstream, 0),
	K_FUNC("servers", d_servers, 0),
	K_UINT("listen_port", struct dns_config, listen_port, 1, 65535, 5300,
	    CK_RESTART),
	K_FUNC("allow", d_allow, 0),
	K_FUNC("deny", d_deny, 0),
	K_ENUM("default", struct dns_config, names_default_allow, cfg_allow_deny,
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

void
cfg_dns_finish(struct cfg_ctx *x, const config_setting_t *s, const char *path,
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

static void
s_tags(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct secret_config *sc = base;

	(void)cfg_tags(x, s, path, &sc->tags, &sc->ntags);
}

static const struct cfg_key secret_keys[] = {
	K_STR("name", struct secret_config, name, 1, NULL, CK_REQUIRED),
	K_FUNC("host", s_host, CK_REQUIRED),
	K_UINT("port", struct secret_config, port, 1, 65535, 0, 0),
	K_FUNC("path", s_path, 0),
	K_FUNC("methods", s_methods, 0),
	K_FUNC("tags", s_tags, 0),
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
secret_elem(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    size_t i, void *elem, bool clean, void *arg)
{
	struct secret_config *sc = elem, *all = sc - i;
	size_t j;

	sc->line = (int)config_setting_source_line(e);
	if (!clean)
		return;
	if (sc->source_ref == NULL)
		cfg_err(x, e, "%s: say where the value comes from: file = "
		    "\"...\" or env = \"...\"", path);
	if (sc->header == NULL)
		sc->header = xstrdup("Authorization");
	if (sc->format == NULL)
		sc->format = xstrdup("Bearer %s");
	for (j = 0; j < i; j++)
		if (all[j].name != NULL && strcmp(all[j].name, sc->name) == 0)
			cfg_err(x, e, "%s: duplicate secret name \"%s\" (first "
			    "at line %d)", path, sc->name, all[j].line);
}

void
cfg_secrets(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct group_config *g = base;

	g->secrets = cfg_list(x, s, path, secret_keys, sizeof(*g->secrets),
	    &g->nsecrets, secret_elem, NULL);
}
