/*
 * config.c - load, validate, reference-count and query the gateway's
 * configuration (see config.h and docs/configuration.md).
 *
 * Loading reads the whole file into memory (bounded), refuses @include
 * (a config names every file it depends on itself, and a fuzzer or a
 * typo must not make the loader read /dev/zero), lets libconfig parse
 * it, then walks the settings against the key tables of this file
 * (global sections) and config_group.c (host groups).  Every problem is
 * reported as "file:line: message"; nothing is applied anywhere.  This
 * module does not open sockets, read CA or secret files, or talk to
 * nftables: those modules read the struct this one builds.
 */
#include "config_int.h"

#include "slicer.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config file is small; anything bigger is a mistake or an attack. */
#define CONFIG_MAX_BYTES	(1024 * 1024)

static const struct cfg_key limits_keys[] = {
	K_UINT("max_conns", struct limits_config, max_conns, 1, 1000000,
	    16384, 0),
	K_UINT("max_conns_per_guest", struct limits_config,
	    max_conns_per_guest, 1, 1000000, 512, 0),
	K_UINT("max_header_bytes", struct limits_config, max_header_bytes,
	    1024, 1048576, 32768, 0),
	K_DUR("header_timeout", struct limits_config, header_timeout_ms, 100,
	    3600000, 10000, 0),
	K_DUR("idle_timeout", struct limits_config, idle_timeout_ms, 1000,
	    86400000, 120000, 0),
	K_DUR("response_timeout", struct limits_config, response_timeout_ms,
	    1000, 86400000, 900000, 0),
	K_DUR("upstream_idle_timeout", struct limits_config,
	    upstream_idle_timeout_ms, 100, 86400000, 5000, 0),
	K_DUR("connect_timeout", struct limits_config, connect_timeout_ms,
	    100, 600000, 10000, 0),
	K_DUR("drain_timeout", struct limits_config, drain_timeout_ms, 0,
	    3600000, 10000, 0),
	K_UINT("leaf_cache_size", struct limits_config, leaf_cache_size, 16,
	    1000000, 1024, CK_RESTART),
	K_UINT("leaf_mints_per_guest", struct limits_config,
	    leaf_mints_per_guest, 1, 1000000, 200, 0),
	K_DUR("response_head_timeout", struct limits_config,
	    response_head_timeout_ms, 100, 86400000, 60000, 0),
	K_UINT("lookups_per_guest", struct limits_config, lookups_per_guest,
	    1, 1000000, 32, 0),
	K_UINT("dns_tcp_per_guest", struct limits_config, dns_tcp_per_guest,
	    1, 1000000, 8, 0),
	K_UINT("dns_pending_per_guest", struct limits_config,
	    dns_pending_per_guest, 1, 1000000, 64, 0),
	K_END
};

static const struct cfg_enum log_formats[] = {
	{ "squid", LOGFMT_SQUID }, { "json", LOGFMT_JSON }, { NULL, 0 },
};

static const struct cfg_key audit_keys[] = {
	K_STR("path", struct gw_config, audit_path, 1, "-", 0),
	K_ENUM("format", struct gw_config, audit_format, log_formats,
	    LOGFMT_SQUID, 0),
	K_BOOL("redact_query", struct gw_config, audit_redact_query, 0, 0),
	K_END
};

static const struct cfg_key nfqueue_keys[] = {
	K_UINT("num", struct gw_config, nfqueue_num, 0, 65535, 4758,
	    CK_RESTART),
	K_BOOL("fail_open", struct gw_config, nfqueue_fail_open, 0,
	    CK_RESTART),
	K_END
};

/* Restart-only: the listener is bound once, at start-up. */
static const struct cfg_key metrics_keys[] = {
	K_STR("listen", struct gw_config, metrics_listen, 1, NULL, 0),
	K_END
};

static const struct cfg_enum slicer_unknowns[] = {
	{ "allow", SLICER_UNKNOWN_ALLOW }, { "refuse", SLICER_UNKNOWN_REFUSE },
	{ NULL, 0 },
};

/* The poller starts once: its keys need a restart; `unknown` is live. */
static const struct cfg_key slicer_keys[] = {
	K_STR("url", struct slicer_config, url, 8, NULL, CK_RESTART),
	K_STR("token_file", struct slicer_config, token_file, 1, NULL,
	    CK_RESTART),
	K_DUR("refresh", struct slicer_config, refresh_ms, 1000, 3600000,
	    10000, CK_RESTART),
	K_ENUM("unknown", struct slicer_config, unknown, slicer_unknowns,
	    SLICER_UNKNOWN_ALLOW, 0),
	K_END
};

static void parse_groups(struct cfg_ctx *, const config_setting_t *,
    const char *, void *);

static const struct cfg_key global_keys[] = {
	K_UINT("workers", struct gw_config, workers, 0, 256, 0, CK_RESTART),
	K_STR("user", struct gw_config, user, 1, NULL, CK_RESTART),
	K_STR("control_socket", struct gw_config, control_socket, 1,
	    "/run/gatewayd/control.sock", CK_RESTART),
	K_STR("state_file", struct gw_config, state_file, 1, NULL,
	    CK_RESTART),
	K_UINT("upstream_mark", struct gw_config, upstream_mark, 1,
	    0xffffffffLL, 0x4757, CK_RESTART),
	K_UINT("tproxy_mark", struct gw_config, tproxy_mark, 1, 0xffffffffLL,
	    0x4758, CK_RESTART),
	K_UINT("tproxy_table", struct gw_config, tproxy_table, 1, 0x7fffffffLL,
	    4758, CK_RESTART),
	K_STR("trust_file", struct gw_config, trust_file, 1, NULL, 0),
	K_STR("trust_dir", struct gw_config, trust_dir, 1, NULL, 0),
	K_STR("log_level", struct gw_config, log_level, 1, "info", 0),
	K_SECT("nfqueue", 0, nfqueue_keys, CK_RESTART),
	K_SECT("limits", offsetof(struct gw_config, limits), limits_keys, 0),
	K_SECT("audit", 0, audit_keys, 0),
	K_SECT("metrics", 0, metrics_keys, CK_RESTART),
	K_SECT("slicer", offsetof(struct gw_config, slicer), slicer_keys, 0),
	K_FUNC("groups", parse_groups, CK_REQUIRED),
	K_END
};

static void
parse_groups(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    void *base)
{
	struct gw_config *c = base;

	c->groups = cfg_list(x, s, path, cfg_group_keys, sizeof(*c->groups),
	    &c->ngroups, cfg_group_finish, NULL);
	if (c->groups != NULL && c->ngroups == 0)
		cfg_err(x, s, "%s: at least one group is needed", path);
}

/* metrics.listen: an address with a port ("127.0.0.1:9477"). */
static void
check_metrics(struct cfg_ctx *x, const config_setting_t *root,
    struct gw_config *c)
{
	const config_setting_t *s = config_setting_get_member(root,
	    "metrics");

	s = s != NULL ? config_setting_get_member(s, "listen") : NULL;
	if (s == NULL || c->metrics_listen == NULL)
		return;
	if (cfg_addr_port(x, s, "metrics.listen", 0, &c->metrics_addr) == 0 &&
	    c->metrics_addr.port == 0)
		cfg_err(x, s, "metrics.listen: \"%s\" needs a port "
		    "(\"127.0.0.1:9477\")", c->metrics_listen);
}

/* Tags come from Slicer: without it a tag rule would silently never match. */
static void
check_tags_need_slicer(struct cfg_ctx *x, const config_setting_t *root,
    const struct gw_config *c)
{
	const config_setting_t *gs = config_setting_get_member(root, "groups");
	size_t i, j;

	for (i = 0; i < c->ngroups; i++) {
		const struct group_config *g = &c->groups[i];
		const config_setting_t *gi = config_setting_get_elem(gs,
		    (unsigned)i);

		for (j = 0; j < g->policy.nrules; j++)
			if (g->policy.rules[j].ntags > 0)
				cfg_err(x, gi, "group \"%s\": the rule at line "
				    "%d has tags, which need a slicer section",
				    g->name, g->policy.rules[j].line);
		for (j = 0; j < g->nsecrets; j++)
			if (g->secrets[j].ntags > 0)
				cfg_err(x, gi, "group \"%s\": the secret at "
				    "line %d has tags, which need a slicer "
				    "section", g->name, g->secrets[j].line);
	}
}

static void
check_slicer(struct cfg_ctx *x, const config_setting_t *root,
    const struct gw_config *c)
{
	const config_setting_t *s = config_setting_get_member(root, "slicer");
	const struct slicer_config *sc = &c->slicer;
	struct slicer_url u;
	const char *why;

	if (s == NULL) {
		check_tags_need_slicer(x, root, c);
		return;
	}
	if (sc->url == NULL)
		cfg_err(x, s, "slicer.url: missing (the API, "
		    "\"http://127.0.0.1:8080\")");
	else if (slicer_url_parse(sc->url, &u, &why) != 0)
		cfg_err(x, config_setting_get_member(s, "url"),
		    "slicer.url: %s", why);
	if (sc->token_file != NULL && sc->token_file[0] != '/')
		cfg_err(x, config_setting_get_member(s, "token_file"),
		    "slicer.token_file: must be an absolute path");
}

/* Problems that span groups, and global cross-checks. */
static void
check_global(struct cfg_ctx *x, const config_setting_t *root,
    struct gw_config *c)
{
	static const char *const levels[] = { "err", "warn", "info",
	    "debug" };
	const config_setting_t *gs = config_setting_get_member(root, "groups");
	char a[ADDR_STRLEN + 4], b[ADDR_STRLEN + 4];
	size_t i, j, k, l;

	for (i = 0; i < ARRAY_SIZE(levels); i++)
		if (c->log_level != NULL && strcmp(c->log_level, levels[i]) == 0)
			break;
	if (i == ARRAY_SIZE(levels))
		cfg_err(x, config_setting_get_member(root, "log_level"),
		    "log_level: expected one of err, warn, info, debug");
	if (c->upstream_mark == c->tproxy_mark)
		cfg_err(x, config_setting_get_member(root, "tproxy_mark"),
		    "upstream_mark and tproxy_mark must differ");
	if (c->tproxy_table >= 253 && c->tproxy_table <= 255)
		cfg_err(x, config_setting_get_member(root, "tproxy_table"),
		    "tproxy_table: %u is a reserved table (default, main, "
		    "local)", c->tproxy_table);
	check_metrics(x, root, c);
	if (c->control_socket != NULL && c->control_socket[0] != '/')
		cfg_err(x, config_setting_get_member(root, "control_socket"),
		    "control_socket: must be an absolute path");
	check_slicer(x, root, c);
	for (i = 0; i < c->ngroups; i++) {
		struct group_config *g = &c->groups[i];
		const config_setting_t *gi = config_setting_get_elem(gs,
		    (unsigned)i);

		for (j = 0; j < i; j++) {
			struct group_config *h = &c->groups[j];

			if (g->name != NULL && h->name != NULL &&
			    strcmp(g->name, h->name) == 0)
				cfg_err(x, gi, "group \"%s\": name already used "
				    "at line %d", g->name, h->line);
			if (g->http_port != 0 &&
			    (g->http_port == h->http_port ||
			    g->http_port == h->https_port))
				cfg_err(x, gi, "group \"%s\": http_port %u is "
				    "already used by the group at line %d",
				    g->name, g->http_port, h->line);
			if (g->https_port != 0 &&
			    (g->https_port == h->http_port ||
			    g->https_port == h->https_port))
				cfg_err(x, gi, "group \"%s\": https_port %u is "
				    "already used by the group at line %d",
				    g->name, g->https_port, h->line);
			for (k = 0; k < g->nguests; k++)
				for (l = 0; l < h->nguests; l++)
					if (cfg_cidr_overlap(&g->guests[k],
					    &h->guests[l]))
						cfg_err(x, gi, "group \"%s\": "
						    "guests %s overlaps %s of "
						    "the group at line %d",
						    g->name, cidr_ntop(
						    &g->guests[k], a, sizeof(a)),
						    cidr_ntop(&h->guests[l], b,
						    sizeof(b)), h->line);
		}
		for (j = 0; j < c->ngroups; j++) {
			struct group_config *h = &c->groups[j];

			if (g->dns.mode == DNS_GATEWAY &&
			    (g->dns.listen_port == h->http_port ||
			    g->dns.listen_port == h->https_port))
				cfg_err(x, gi, "group \"%s\": dns.listen_port "
				    "%u is a capture port of the group at "
				    "line %d", g->name, g->dns.listen_port,
				    h->line);
		}
	}
}

/* Lines starting with @include, as libconfig's scanner sees them. */
static void
check_includes(struct cfg_ctx *x, const char *text)
{
	const char *p = text;
	unsigned line = 1;

	while (*p != '\0') {
		const char *q = p;

		while (*q == ' ' || *q == '\t')
			q++;
		if (strncmp(q, "@include", 8) == 0) {
			x->nerrs++;
			if (x->errs != NULL)
				fprintf(x->errs, "%s:%u: @include is not "
				    "supported; keep the configuration in one "
				    "file\n", x->name, line);
		}
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
		line++;
	}
}

/*
 * libconfig 1.5 leaks the value of a string token that arrives where its
 * grammar wants a setting name ("a = 1; \"x\"").  Such text is a syntax
 * error anyway, so find it first with a small scanner that knows only
 * strings, comments and brackets, and refuse it before libconfig runs.
 */
#define SCAN_DEPTH	64

static void
check_strings(struct cfg_ctx *x, const char *p)
{
	char stack[SCAN_DEPTH], prev = ';';
	unsigned line = 1, depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '\n')
			line++;
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (p[1] != '\0' && p[1] != '\n')
				p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/');
			    p++)
				if (*p == '\n')
					line++;
			if (*p == '\0')
				return;
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
		    *p == '\f')
			continue;
		if (*p == '"') {
			bool inlist = depth > 0 && stack[depth - 1] != '{';

			if (!(prev == '=' || prev == ':' || prev == 'S' ||
			    prev == '[' || prev == '(' ||
			    (prev == ',' && inlist)))
				goto bad;
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\n')
					line++;
				if (*p == '\\' && p[1] != '\0')
					p++;
			}
			if (*p == '\0')
				return;
			prev = 'S';
			continue;
		}
		if (*p == '[' || *p == '(' || *p == '{') {
			if (depth == SCAN_DEPTH)
				goto deep;
			stack[depth++] = *p;
		} else if ((*p == ']' || *p == ')' || *p == '}') && depth > 0) {
			depth--;
		}
		prev = strchr("=:[({,;])}", *p) != NULL ? *p : 'W';
	}
	return;
bad:
	x->nerrs++;
	if (x->errs != NULL)
		fprintf(x->errs, "%s:%u: syntax error (a string where a setting "
		    "name should be)\n", x->name, line);
	return;
deep:
	x->nerrs++;
	if (x->errs != NULL)
		fprintf(x->errs, "%s:%u: nested deeper than %d levels\n",
		    x->name, line, SCAN_DEPTH);
}

static void
config_free(struct gw_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->user);
	free(c->control_socket);
	free(c->state_file);
	free(c->trust_file);
	free(c->trust_dir);
	free(c->audit_path);
	free(c->log_level);
	free(c->metrics_listen);
	free(c->slicer.url);
	free(c->slicer.token_file);
	for (i = 0; i < c->ngroups; i++)
		cfg_group_free(&c->groups[i]);
	free(c->groups);
	free(c);
}

/* SHA-256 of the file as read: `sha256sum` of it gives the same. */
static void
hash_text(const char *text, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0, i;

	out[0] = '\0';
	if (EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) != 1)
		return;
	for (i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct gw_config *
config_load_string(const char *text, const char *name, FILE *errs)
{
	struct cfg_ctx x = { .name = name, .errs = errs };
	struct gw_config *c = NULL;
	config_t cf;

	config_init(&cf);
	check_includes(&x, text);
	if (x.nerrs == 0)
		check_strings(&x, text);
	if (x.nerrs != 0)
		goto out;
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		x.nerrs++;
		if (errs != NULL)
			fprintf(errs, "%s:%d: %s\n", name,
			    config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(name);
	c->refs = 1;
	hash_text(text, c->hash);
	cfg_section(&x, config_root_setting(&cf), "", global_keys, c);
	check_global(&x, config_root_setting(&cf), c);
out:
	config_destroy(&cf);
	if (x.nerrs != 0) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct gw_config *
config_load(const char *path, FILE *errs)
{
	struct gw_config *c = NULL;
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errs != NULL)
			fprintf(errs, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_MAX_BYTES) {
		if (errs != NULL)
			fprintf(errs, "%s: not a regular file of at most %d "
			    "bytes\n", path, CONFIG_MAX_BYTES);
		goto out;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, text + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (errs != NULL)
				fprintf(errs, "%s: read: %s\n", path,
				    r == 0 ? "short read" : strerror(errno));
			goto out;
		}
		got += (size_t)r;
	}
	text[got] = '\0';
	if (strlen(text) != got) {
		if (errs != NULL)
			fprintf(errs, "%s: contains a NUL byte\n", path);
		goto out;
	}
	c = config_load_string(text, path, errs);
out:
	free(text);
	close(fd);
	return c;
}

struct gw_config *
config_ref(struct gw_config *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void
config_unref(struct gw_config *c)
{
	if (c == NULL)
		return;
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}

unsigned
config_restart_needed(const struct gw_config *old,
    const struct gw_config *new, FILE *errs)
{
	const struct group_config *o;
	unsigned n;
	size_t i;

	n = cfg_diff_restart(global_keys, old, new, "", false, errs);
	for (i = 0; i < new->ngroups; i++) {
		o = config_group(old, new->groups[i].name);
		if (o == NULL) {
			n++;
			if (errs != NULL)
				fprintf(errs, "group \"%s\": added; takes "
				    "effect after a restart\n",
				    new->groups[i].name);
			continue;
		}
		n += cfg_group_diff_restart(o, &new->groups[i], errs);
	}
	for (i = 0; i < old->ngroups; i++) {
		if (config_group(new, old->groups[i].name) != NULL)
			continue;
		n++;
		if (errs != NULL)
			fprintf(errs, "group \"%s\": removed; takes effect "
			    "after a restart\n", old->groups[i].name);
	}
	return n;
}

const struct group_config *
config_group(const struct gw_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

const struct group_config *
config_match_group(const struct gw_config *c, const struct addr *src,
    const char *ifname)
{
	struct addr a;
	size_t i, j;

	if (src != NULL) {
		a = *src;
		addr_unmap(&a);
	}
	for (i = 0; i < c->ngroups; i++) {
		const struct group_config *g = &c->groups[i];

		if (g->nguests > 0) {
			if (src == NULL)
				continue;
			for (j = 0; j < g->nguests; j++)
				if (cidr_contains(&g->guests[j], &a))
					break;
			if (j == g->nguests)
				continue;
		}
		if (g->ninterfaces > 0 && (ifname == NULL || ifname[0] == '\0')) {
			/* an interface-only group never matches by default */
			if (g->nguests == 0)
				continue;
		} else if (g->ninterfaces > 0) {
			for (j = 0; j < g->ninterfaces; j++)
				if (config_ifname_match(g->interfaces[j],
				    ifname))
					break;
			if (j == g->ninterfaces)
				continue;
		}
		return g;
	}
	return NULL;
}

bool
config_ifname_match(const char *pattern, const char *ifname)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, ifname, n - 1) == 0;
	return strcmp(pattern, ifname) == 0;
}
