/*
 * suggest.c - rules that would allow what an audit log denied; see
 * suggest.h.
 *
 * One entry per (group, host, path prefix) with the methods seen; the
 * prefix is the first path segment ("/wiki/Main" -> "/wiki/", "/item" ->
 * "/item"), which is what an operator would write by hand.  A host with
 * more than SUGGEST_PREFIXES distinct prefixes gets one rule for the whole
 * host instead of a long list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "addr.h"
#include "config.h"
#include "hostname.h"
#include "jsonline.h"
#include "policy.h"
#include "suggest.h"
#include "util.h"

#define SUGGEST_PREFIXES	8	/* per host, then the whole host */
#define SUGGEST_MAX_ENTRIES	65536	/* bounded memory whatever the log */
#define PREFIX_MAX		128
#define LINE_MAX_BYTES		65536

struct entry {
	char		group[40];
	char		host[HOST_MAX + 1];	/* name, or address for cidr */
	bool		is_ip;
	char		prefix[PREFIX_MAX];	/* "" = whole host */
	unsigned	methods;		/* METHOD_* bits */
	bool		any_method;		/* an extension method was seen */
	unsigned	count;
	char		rule[64];		/* first deciding rule seen */
};

struct suggest {
	const struct gw_config *cfg;	/* borrowed; may be NULL */
	struct entry	*e;
	size_t		n, cap;
	unsigned	lines, used, malformed, too_long, dropped;
};

struct suggest *
suggest_new(void)
{
	return xcalloc(1, sizeof(struct suggest));
}

void
suggest_free(struct suggest *s)
{
	if (s == NULL)
		return;
	free(s->e);
	free(s);
}

/* Letters, digits, '_' and '-', as config group names; else "?". */
static void
copy_group(char *dst, size_t len, const char *g)
{
	size_t i;

	for (i = 0; g[i] != '\0'; i++)
		if (!(g[i] >= 'a' && g[i] <= 'z') && !(g[i] >= 'A' &&
		    g[i] <= 'Z') && !(g[i] >= '0' && g[i] <= '9') &&
		    g[i] != '_' && g[i] != '-')
			break;
	util_strlcpy(dst, g[i] == '\0' && i > 0 ? g : "?", len);
}

/* A label that came from the config: printable, no quote or backslash. */
static void
copy_rule(char *dst, size_t len, const char *r)
{
	size_t i;

	for (i = 0; r[i] != '\0'; i++)
		if (r[i] < 0x20 || r[i] > 0x7e || r[i] == '"' || r[i] == '\\')
			break;
	util_strlcpy(dst, r[i] == '\0' ? r : "?", len);
}

/*
 * The first path segment of path (up to '?'), as a rule's path prefix:
 * only the bytes a prefix may hold (cfg_path_prefix()), else "".
 */
static void
first_segment(const char *path, char *out, size_t len)
{
	size_t n = 1, i;

	out[0] = '\0';
	if (path[0] != '/')
		return;
	while (path[n] != '\0' && path[n] != '/' && path[n] != '?' &&
	    path[n] != '#')
		n++;
	if (n == 1)
		return;			/* "/" or "/?q": the whole host */
	if (path[n] == '/')
		n++;			/* "/wiki/": the directory */
	if (n >= len)
		return;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c <= 0x20 || c >= 0x7f || c == '%' || c == '\\' ||
		    c == '"' || c == '#' || c == ';')
			return;
	}
	memcpy(out, path, n);
	out[n] = '\0';
}

/*
 * Split an audit URL: "scheme://authority/path" or a tunnel's
 * "host:port".  host gets the normalised name or the address; path
 * points into url ("" for a tunnel).
 */
static int
split_url(const char *url, char *host, bool *is_ip, const char **path)
{
	const char *a = strstr(url, "://"), *end, *colon;
	struct addr ad;
	char tmp[HOST_MAX + 3];
	size_t n;

	a = a != NULL ? a + 3 : url;
	end = a + strcspn(a, "/?#");
	*path = *end == '/' ? end : "";
	if (*a == '[') {			/* [v6]:port */
		colon = memchr(a, ']', (size_t)(end - a));
		if (colon == NULL)
			return -1;
		a++;
		n = (size_t)(colon - a);
	} else {
		colon = memchr(a, ':', (size_t)(end - a));
		n = (size_t)((colon != NULL ? colon : end) - a);
	}
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, a, n);
	tmp[n] = '\0';
	*is_ip = addr_parse(tmp, &ad) == 0;
	if (*is_ip)
		return addr_ntop(&ad, host, HOST_MAX + 1) != NULL ? 0 : -1;
	return host_normalize(tmp, n, host);
}

static struct entry *
find_or_add(struct suggest *s, const struct entry *k)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->e[i].group, k->group) == 0 &&
		    strcmp(s->e[i].host, k->host) == 0 &&
		    strcmp(s->e[i].prefix, k->prefix) == 0)
			return &s->e[i];
	if (s->n == SUGGEST_MAX_ENTRIES)
		return NULL;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->e = xrealloc(s->e, s->cap * sizeof(*s->e));
	}
	s->e[s->n] = *k;
	return &s->e[s->n++];
}

/* Was this line denied, or would it have been, by a rule one may relax? */
static bool
relaxable(const struct jl_obj *o)
{
	char kind[16], action[16], would[16], rule[64];

	if (jl_str(o, "kind", kind, sizeof(kind)) == NULL ||
	    (strcmp(kind, "http") != 0 && strcmp(kind, "tunnel") != 0))
		return false;
	if (jl_str(o, "rule", rule, sizeof(rule)) != NULL &&
	    (strcmp(rule, "internal-destination") == 0 ||
	    strcmp(rule, "ambiguous-path") == 0 ||
	    strcmp(rule, "unknown-vm") == 0))
		return false;
	if (jl_str(o, "would", would, sizeof(would)) != NULL &&
	    strcmp(would, "deny") == 0)
		return true;
	return jl_str(o, "action", action, sizeof(action)) != NULL &&
	    strcmp(action, "deny") == 0;
}

void
suggest_line(struct suggest *s, char *line, size_t len)
{
	struct jl_obj o;
	struct entry k = { 0 }, *e;
	char url[4096], group[64], method[32], rule[64];
	const char *path;
	unsigned bit;

	s->lines++;
	if (len > LINE_MAX_BYTES) {
		s->too_long++;
		return;
	}
	if (jl_parse(line, len, &o) != 0) {
		s->malformed++;
		return;
	}
	if (!relaxable(&o) || jl_str(&o, "url", url, sizeof(url)) == NULL)
		return;
	if (split_url(url, k.host, &k.is_ip, &path) != 0) {
		s->malformed++;
		return;
	}
	copy_group(k.group, sizeof(k.group),
	    jl_str(&o, "group", group, sizeof(group)) ? group : "");
	first_segment(path, k.prefix, sizeof(k.prefix));
	if ((e = find_or_add(s, &k)) == NULL) {
		s->dropped++;
		return;
	}
	if (jl_str(&o, "method", method, sizeof(method)) != NULL &&
	    (bit = policy_method_bit(method, strlen(method))) !=
	    METHOD_OTHER && bit != METHOD_CONNECT)
		e->methods |= bit;
	else
		e->any_method = true;	/* tunnels, extension methods */
	if (e->count++ == 0 && jl_str(&o, "rule", rule, sizeof(rule)))
		copy_rule(e->rule, sizeof(e->rule), rule);
	s->used++;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->group, y->group)) != 0)
		return c;
	if ((c = strcmp(x->host, y->host)) != 0)
		return c;
	return strcmp(x->prefix, y->prefix);
}

static bool
same_host(const struct entry *a, const struct entry *b)
{
	return strcmp(a->group, b->group) == 0 && strcmp(a->host, b->host) == 0;
}

static void
merge(struct entry *into, const struct entry *e)
{
	into->methods |= e->methods;
	into->any_method |= e->any_method;
	into->count += e->count;
}

/*
 * Per host (entries sorted by prefix): fold an entry into the one before
 * it when that one's prefix is a string prefix of its own ("/item" takes
 * "/items/", "" takes everything), as the config refuses a rule an
 * earlier one already covers; then a host with too many prefixes gets one
 * rule for the whole host.
 */
static void
collapse(struct suggest *s)
{
	size_t i = 0, j, k, w = 0, start;

	while (i < s->n) {
		for (j = i; j < s->n && same_host(&s->e[j], &s->e[i]); j++)
			;
		start = w;
		for (k = i; k < j; k++) {
			if (w > start && strncmp(s->e[k].prefix,
			    s->e[w - 1].prefix, strlen(s->e[w - 1].prefix)) == 0)
				merge(&s->e[w - 1], &s->e[k]);
			else
				s->e[w++] = s->e[k];
		}
		if (w - start > SUGGEST_PREFIXES) {
			for (k = start + 1; k < w; k++)
				merge(&s->e[start], &s->e[k]);
			s->e[start].prefix[0] = '\0';
			w = start + 1;
		}
		i = j;
	}
	s->n = w;
}

static void
print_entry(FILE *out, const struct entry *e, bool last)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT",
	    "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE" };
	size_t i;
	bool first = true;

	fprintf(out, "  # %u request%s%s%s%s\n", e->count,
	    e->count == 1 ? "" : "s", e->rule[0] ? " (rule \"" : "",
	    e->rule, e->rule[0] ? "\")" : "");
	fprintf(out, "  { action = \"allow\"; ");
	if (e->is_ip)
		fprintf(out, "cidr = \"%s/%d\"; ", e->host,
		    strchr(e->host, ':') ? 128 : 32);
	else
		fprintf(out, "host = \"%s\"; ", e->host);
	if (e->prefix[0] != '\0')
		fprintf(out, "path = \"%s\"; ", e->prefix);
	if (!e->any_method && e->methods != 0) {
		fprintf(out, "methods = [");
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (e->methods & (1u << i)) {
				fprintf(out, "%s \"%s\"", first ? "" : ",",
				    names[i]);
				first = false;
			}
		fprintf(out, " ]; ");
	}
	fprintf(out, "}%s\n", last ? "" : ",");
}

void
suggest_print(struct suggest *s, FILE *out, const char *source)
{
	size_t i;

	if (s->n > 0)
		qsort(s->e, s->n, sizeof(*s->e), cmp_entry);
	collapse(s);
	fprintf(out, "# gatewayd suggest: rules that would allow what %s "
	    "shows denied or would deny\n# %u lines read, %u to allow, %u "
	    "malformed, %u too long, %u beyond %d entries\n", source,
	    s->lines, s->used, s->malformed, s->too_long, s->dropped,
	    SUGGEST_MAX_ENTRIES);
	for (i = 0; i < s->n; i++) {
		if (i == 0 || strcmp(s->e[i].group, s->e[i - 1].group) != 0)
			fprintf(out, "\n# group \"%s\"%s: paste into its "
			    "policy.rules, before the rules that deny\n",
			    s->e[i].group, s->cfg == NULL ||
			    config_group(s->cfg, s->e[i].group) != NULL ? "" :
			    " (not in the configuration)");
		print_entry(out, &s->e[i], i + 1 == s->n ||
		    strcmp(s->e[i].group, s->e[i + 1].group) != 0);
	}
}

static int
usage(FILE *f)
{
	fprintf(f, "usage: gatewayd suggest -c FILE AUDIT.json\n"
	    "  prints policy rules that would allow what the JSON audit log "
	    "AUDIT.json\n  (\"-\": standard input) shows denied, or would "
	    "deny in report mode\n");
	return f == stdout ? 0 : 2;
}

int
suggest_main(int argc, char **argv)
{
	struct gw_config *cfg;
	struct suggest *s;
	const char *conf = NULL, *src;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *in;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return usage(stdout);
		if (strcmp(argv[i], "-c") != 0 || i + 1 == argc)
			return usage(stderr);
		conf = argv[++i];
	}
	if (conf == NULL || i + 1 != argc)
		return usage(stderr);
	src = argv[i];
	if ((cfg = config_load(conf, stderr)) == NULL) {
		fprintf(stderr, "gatewayd suggest: %s: configuration is "
		    "invalid\n", conf);
		return 1;
	}
	in = strcmp(src, "-") == 0 ? stdin : fopen(src, "re");
	if (in == NULL) {
		fprintf(stderr, "gatewayd suggest: %s: %s\n", src,
		    strerror(errno));
		config_unref(cfg);
		return 1;
	}
	s = suggest_new();
	s->cfg = cfg;
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		suggest_line(s, line, (size_t)n);
	}
	free(line);
	if (in != stdin)
		fclose(in);
	suggest_print(s, stdout, src);
	suggest_free(s);
	config_unref(cfg);
	return 0;
}
