/*
 * config_walk.c - the key-table walker and the value parsers shared by
 * every config section (ports, CIDRs, host patterns, methods, paths).
 *
 * It turns libconfig settings into checked values and messages with
 * file:line; it knows nothing about what the sections mean (config.c and
 * config_group.c do).  Every string that comes out of here is free of
 * control characters.
 */
#include "config_int.h"

#include "slicer.h"

#include <stdarg.h>
#include <stdbool.h>

#include "hostname.h"

static void
cfg_vmsg(struct cfg_ctx *x, unsigned line, const char *kind, const char *fmt,
    va_list ap)
{
	if (line > 0)
		fprintf(x->errs, "%s:%u: %s", x->name, line, kind);
	else
		fprintf(x->errs, "%s: %s", x->name, kind);
	vfprintf(x->errs, fmt, ap);
	fputc('\n', x->errs);
}

void
cfg_err(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	unsigned line = s != NULL ? config_setting_source_line(s) : 0;
	va_list ap;

	x->nerrs++;
	if (x->errs == NULL || x->nerrs > CFG_MAX_MESSAGES + 1)
		return;
	if (x->nerrs == CFG_MAX_MESSAGES + 1) {
		fprintf(x->errs, "%s: too many errors, giving up\n", x->name);
		return;
	}
	va_start(ap, fmt);
	cfg_vmsg(x, line, "", fmt, ap);
	va_end(ap);
}

void
cfg_warn(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	unsigned line = s != NULL ? config_setting_source_line(s) : 0;
	va_list ap;

	if (x->errs == NULL)
		return;
	va_start(ap, fmt);
	cfg_vmsg(x, line, "warning: ", fmt, ap);
	va_end(ap);
}

const char *
cfg_elem_path(char *buf, size_t len, const char *path, int i)
{
	snprintf(buf, len, "%s[%d]", path, i);
	return buf;
}

static const char *
type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number with a fraction";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	}
	return "nothing";
}

int
cfg_string(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    const char **out)
{
	const char *v, *p;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_err(x, s, "%s: must be a string, not %s", path,
		    type_name(config_setting_type(s)));
		return -1;
	}
	v = config_setting_get_string(s);
	for (p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			cfg_err(x, s, "%s: control character in string", path);
			return -1;
		}
	}
	*out = v;
	return 0;
}

static void
store_uint(void *field, size_t size, unsigned long long v)
{
	switch (size) {
	case 1: {
		uint8_t u = (uint8_t)v;
		memcpy(field, &u, 1);
		break;
	}
	case 2: {
		uint16_t u = (uint16_t)v;
		memcpy(field, &u, 2);
		break;
	}
	case 4: {
		uint32_t u = (uint32_t)v;
		memcpy(field, &u, 4);
		break;
	}
	case 8: {
		uint64_t u = (uint64_t)v;
		memcpy(field, &u, 8);
		break;
	}
	default:
		WRONG("bad field size in config key table");
	}
}

static void
parse_enum(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    const struct cfg_key *k, void *field)
{
	char names[256] = "";
	const struct cfg_enum *e;
	const char *v;

	if (cfg_string(x, s, path, &v) != 0)
		return;
	for (e = k->enums; e->name != NULL; e++) {
		if (strcmp(e->name, v) == 0) {
			store_uint(field, k->size, (unsigned long long)e->value);
			return;
		}
		if (names[0] != '\0')
			strncat(names, ", ", sizeof(names) - strlen(names) - 1);
		strncat(names, e->name, sizeof(names) - strlen(names) - 1);
	}
	cfg_err(x, s, "%s: unknown value \"%s\" (expected one of: %s)", path,
	    v, names);
}

static void
parse_key(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    const struct cfg_key *k, void *base)
{
	void *field = (char *)base + k->off;
	const char *str;
	long long v;
	uint64_t ms;
	int t = config_setting_type(s);

	switch (k->type) {
	case CT_STR:
		if (cfg_string(x, s, path, &str) != 0)
			return;
		if ((long long)strlen(str) < k->min) {
			if (k->min <= 1)
				cfg_err(x, s, "%s: must not be empty", path);
			else
				cfg_err(x, s, "%s: must be at least %lld "
				    "characters", path, k->min);
			return;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(str);
		break;
	case CT_UINT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
			cfg_err(x, s, "%s: must be an integer, not %s", path,
			    type_name(t));
			return;
		}
		v = config_setting_get_int64(s);
		/* libconfig 1.5 reads 0x80000000..0xffffffff as negative */
		if (v < 0 && t == CONFIG_TYPE_INT &&
		    config_setting_get_format(s) == CONFIG_FORMAT_HEX)
			v &= 0xffffffffLL;
		if (v < k->min || v > k->max) {
			cfg_err(x, s, "%s: %lld is out of range %lld..%lld",
			    path, v, k->min, k->max);
			return;
		}
		store_uint(field, k->size, (unsigned long long)v);
		break;
	case CT_BOOL:
		if (t != CONFIG_TYPE_BOOL) {
			cfg_err(x, s, "%s: must be true or false, not %s",
			    path, type_name(t));
			return;
		}
		*(bool *)field = config_setting_get_bool(s) != 0;
		break;
	case CT_DURATION:
		if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
			v = config_setting_get_int64(s);
			if (v < 0 || v > k->max / 1000) {
				cfg_err(x, s, "%s: %lld seconds is out of range",
				    path, v);
				return;
			}
			ms = (uint64_t)v * 1000;
		} else if (t == CONFIG_TYPE_STRING) {
			str = config_setting_get_string(s);
			if (util_parse_duration_ms(str, &ms) != 0) {
				cfg_err(x, s, "%s: \"%s\" is not a duration "
				    "(e.g. \"500ms\", \"10s\", \"2m\", \"1h\")",
				    path, str);
				return;
			}
		} else {
			cfg_err(x, s, "%s: must be a duration string like "
			    "\"10s\", not %s", path, type_name(t));
			return;
		}
		if (ms < (uint64_t)k->min || ms > (uint64_t)k->max) {
			cfg_err(x, s, "%s: must be between %lldms and %lldms",
			    path, k->min, k->max);
			return;
		}
		*(uint64_t *)field = ms;
		break;
	case CT_ENUM:
		parse_enum(x, s, path, k, field);
		break;
	case CT_SECTION:
		cfg_section(x, s, path, k->sub, (char *)base + k->off);
		break;
	case CT_FUNC:
		k->fn(x, s, path, base);
		break;
	}
}

static void
apply_default(const struct cfg_key *k, void *base)
{
	void *field = (char *)base + k->off;

	switch (k->type) {
	case CT_STR:
		free(*(char **)field);
		*(char **)field = k->dflt_str ? xstrdup(k->dflt_str) : NULL;
		break;
	case CT_UINT:
	case CT_ENUM:
		store_uint(field, k->size, (unsigned long long)k->dflt);
		break;
	case CT_BOOL:
		*(bool *)field = k->dflt != 0;
		break;
	case CT_DURATION:
		*(uint64_t *)field = (uint64_t)k->dflt;
		break;
	case CT_SECTION:
		cfg_section(NULL, NULL, NULL, k->sub, (char *)base + k->off);
		break;
	case CT_FUNC:
		break;
	}
}

void
cfg_section(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    const struct cfg_key *keys, void *base)
{
	const struct cfg_key *k;
	char kpath[192];
	int i, n;

	for (k = keys; k->name != NULL; k++)
		apply_default(k, base);
	if (s == NULL)
		return;
	if (!config_setting_is_group(s)) {
		cfg_err(x, s, "%s: must be a group { ... }, not %s", path,
		    type_name(config_setting_type(s)));
		return;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(s, i);
		const char *name = config_setting_name(c);

		for (k = keys; k->name != NULL; k++)
			if (strcmp(k->name, name) == 0)
				break;
		if (path[0] != '\0')
			snprintf(kpath, sizeof(kpath), "%s.%s", path, name);
		else
			snprintf(kpath, sizeof(kpath), "%s", name);
		if (k->name == NULL) {
			cfg_err(x, c, "%s: unknown key", kpath);
			continue;
		}
		parse_key(x, c, kpath, k, base);
	}
	for (k = keys; k->name != NULL; k++) {
		if ((k->flags & CK_REQUIRED) &&
		    config_setting_get_member(s, k->name) == NULL)
			cfg_err(x, s, "%s%s%s: required key is missing", path,
			    path[0] != '\0' ? "." : "", k->name);
	}
}

void *
cfg_list(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    const struct cfg_key *keys, size_t size, size_t *n, cfg_elem_fn *fn,
    void *arg)
{
	char epath[192];
	char *v;
	size_t i;

	*n = 0;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		cfg_err(x, s, "%s: must be a list ( { ... }, ... ), not %s",
		    path, type_name(config_setting_type(s)));
		return NULL;
	}
	*n = (size_t)config_setting_length(s);
	v = xcalloc(*n + 1, size);
	for (i = 0; i < *n; i++) {
		const config_setting_t *e = config_setting_get_elem(s,
		    (unsigned)i);
		unsigned before = x->nerrs;

		cfg_elem_path(epath, sizeof(epath), path, (int)i);
		cfg_section(x, e, epath, keys, v + i * size);
		if (fn != NULL && config_setting_is_group(e))
			fn(x, e, epath, i, v + i * size, x->nerrs == before,
			    arg);
	}
	return v;
}

unsigned
cfg_diff_restart(const struct cfg_key *keys, const void *a, const void *b,
    const char *path, bool inherited, FILE *errs)
{
	const struct cfg_key *k;
	char kpath[192];
	unsigned n = 0;

	for (k = keys; k->name != NULL; k++) {
		const char *fa = (const char *)a + k->off;
		const char *fb = (const char *)b + k->off;
		bool restart = inherited || (k->flags & CK_RESTART);
		bool same;

		snprintf(kpath, sizeof(kpath), "%s%s%s", path,
		    path[0] != '\0' ? "." : "", k->name);
		switch (k->type) {
		case CT_SECTION:
			n += cfg_diff_restart(k->sub, fa, fb, kpath, restart,
			    errs);
			continue;
		case CT_FUNC:
			continue;
		case CT_STR: {
			const char *sa = *(char *const *)(const void *)fa;
			const char *sb = *(char *const *)(const void *)fb;

			same = (sa == NULL && sb == NULL) || (sa != NULL &&
			    sb != NULL && strcmp(sa, sb) == 0);
			break;
		}
		default:
			same = memcmp(fa, fb, k->size) == 0;
			break;
		}
		if (!restart || same)
			continue;
		n++;
		if (errs != NULL)
			fprintf(errs, "%s: changed; takes effect after a "
			    "restart\n", kpath);
	}
	return n;
}

int
cfg_each_string(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, cfg_each_fn *fn, void *arg)
{
	char epath[192];
	const char *v;
	int i, n, t = config_setting_type(s);

	if (t == CONFIG_TYPE_STRING) {
		if (cfg_string(x, s, path, &v) == 0)
			fn(x, s, path, v, arg);
		return 1;
	}
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		cfg_err(x, s, "%s: must be a string or an array of strings, "
		    "not %s", path, type_name(t));
		return -1;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		cfg_elem_path(epath, sizeof(epath), path, i);
		if (cfg_string(x, e, epath, &v) == 0)
			fn(x, e, epath, v, arg);
	}
	return n;
}

static int
parse_u16(const char *p, const char **end, uint16_t *out)
{
	unsigned long v = 0;
	const char *q = p;

	while (*q >= '0' && *q <= '9' && q - p < 6)
		v = v * 10 + (unsigned long)(*q++ - '0');
	if (q == p || v == 0 || v > 65535)
		return -1;
	*end = q;
	*out = (uint16_t)v;
	return 0;
}

int
cfg_port_range(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, uint16_t *lo, uint16_t *hi)
{
	const char *v, *end;
	long long n;
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
		n = config_setting_get_int64(s);
		if (n < 1 || n > 65535) {
			cfg_err(x, s, "%s: port %lld is out of range 1..65535",
			    path, n);
			return -1;
		}
		*lo = *hi = (uint16_t)n;
		return 0;
	}
	if (cfg_string(x, s, path, &v) != 0)
		return -1;
	if (parse_u16(v, &end, lo) != 0)
		goto bad;
	*hi = *lo;
	if (*end == '-' && parse_u16(end + 1, &end, hi) != 0)
		goto bad;
	if (*end != '\0')
		goto bad;
	if (*hi < *lo) {
		cfg_err(x, s, "%s: port range \"%s\" is backwards", path, v);
		return -1;
	}
	return 0;
bad:
	cfg_err(x, s, "%s: \"%s\" is not a port (1..65535) or a range "
	    "\"LOW-HIGH\"", path, v);
	return -1;
}

int
cfg_cidr(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    const char *text, struct cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], hint[INET6_ADDRSTRLEN + 8];
	const char *slash;
	struct addr a;
	char *end;
	unsigned long prefix;
	unsigned i, bits;

	if (cidr_parse(text, out) == 0)
		return 0;
	/* Say "host bits set" when that is the only problem. */
	slash = strchr(text, '/');
	if (slash != NULL && (size_t)(slash - text) < sizeof(buf)) {
		memcpy(buf, text, (size_t)(slash - text));
		buf[slash - text] = '\0';
		prefix = strtoul(slash + 1, &end, 10);
		if (addr_parse(buf, &a) == 0 && *end == '\0' &&
		    slash[1] >= '0' && slash[1] <= '9' &&
		    prefix <= (bits = a.family == AF_INET ? 32 : 128)) {
			for (i = (unsigned)prefix; i < bits; i++)
				a.u.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
			addr_ntop(&a, hint, sizeof(hint));
			cfg_err(x, s, "%s: \"%s\" has host bits set (did you "
			    "mean %s/%lu?)", path, text, hint, prefix);
			return -1;
		}
	}
	cfg_err(x, s, "%s: \"%s\" is not an address or CIDR prefix", path,
	    text);
	return -1;
}

struct cidr_acc {
	struct cidr	*v;
	size_t		n;
	int		bad;
};

static void
add_cidr(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    const char *text, void *arg)
{
	struct cidr_acc *acc = arg;

	if (cfg_cidr(x, e, path, text, &acc->v[acc->n]) == 0)
		acc->n++;
	else
		acc->bad = 1;
}

int
cfg_cidr_list(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, struct cidr **out, size_t *n)
{
	struct cidr_acc acc = { 0 };
	int len = config_setting_length(s);

	acc.v = xcalloc(len > 0 ? (size_t)len : 1, sizeof(*acc.v));
	if (cfg_each_string(x, s, path, add_cidr, &acc) == 0) {
		cfg_err(x, s, "%s: empty list", path);
		acc.bad = 1;
	}
	free(*out);
	*out = acc.v;
	*n = acc.n;
	return acc.bad ? -1 : 0;
}

int
cfg_host_pattern(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, const char *text, char **host, bool *suffix)
{
	char norm[HOST_MAX + 1];
	const char *p = text;
	size_t len = strlen(text);

	*suffix = false;
	if (p[0] == '*') {
		cfg_err(x, s, "%s: \"%s\": wildcards are not supported; write "
		    "\"%s\" for a domain and all its subdomains", path, text,
		    p[1] == '.' ? p + 1 : ".example.com");
		return -1;
	}
	if (p[0] == '.') {
		p++;
		len--;
		*suffix = true;
	}
	if (host_is_ip_literal(p, len)) {
		cfg_err(x, s, "%s: \"%s\" is an address; match addresses with "
		    "cidr, not host", path, text);
		return -1;
	}
	if (host_normalize(p, len, norm) != 0) {
		cfg_err(x, s, "%s: \"%s\" is not a valid host name (ASCII "
		    "letters, digits, '-', '_'; write IDNs as xn-- A-labels)",
		    path, text);
		return -1;
	}
	free(*host);
	*host = xstrdup(norm);
	return 0;
}

static void
add_method(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    const char *text, void *arg)
{
	unsigned *bits = arg, b;

	b = policy_method_bit(text, strlen(text));
	if (b == METHOD_OTHER) {
		cfg_err(x, e, "%s: unknown method \"%s\" (methods are "
		    "upper-case: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, "
		    "CONNECT, TRACE)", path, text);
		return;
	}
	*bits |= b;
}

struct tag_acc {
	char	***tags;
	size_t	*n;
};

static void
add_tag(struct cfg_ctx *x, const config_setting_t *e, const char *path,
    const char *text, void *arg)
{
	struct tag_acc *a = arg;
	size_t i, len = strlen(text);

	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			break;
	if (len == 0 || len > SLICER_MAX_STR || i < len) {
		cfg_err(x, e, "%s: \"%s\" is not a Slicer tag (1 to %d "
		    "printable bytes)", path, text, SLICER_MAX_STR);
		return;
	}
	for (i = 0; i < *a->n; i++)
		if (strcmp((*a->tags)[i], text) == 0) {
			cfg_err(x, e, "%s: tag \"%s\" given twice", path, text);
			return;
		}
	if (*a->n == SLICER_MAX_TAGS) {
		cfg_err(x, e, "%s: more than %d tags", path, SLICER_MAX_TAGS);
		return;
	}
	*a->tags = xrealloc(*a->tags, (*a->n + 1) * sizeof(**a->tags));
	(*a->tags)[(*a->n)++] = xstrdup(text);
}

int
cfg_tags(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    char ***tags, size_t *n)
{
	struct tag_acc a = { tags, n };
	unsigned before = x->nerrs;

	if (cfg_each_string(x, s, path, add_tag, &a) == 0)
		cfg_err(x, s, "%s: empty list (leave tags out to match every "
		    "guest)", path);
	return x->nerrs == before ? 0 : -1;
}

int
cfg_methods(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    unsigned *bits)
{
	unsigned before = x->nerrs;

	*bits = 0;
	if (cfg_each_string(x, s, path, add_method, bits) == 0)
		cfg_err(x, s, "%s: empty list (leave methods out to match "
		    "every method)", path);
	return x->nerrs == before ? 0 : -1;
}

/*
 * What in a rule prefix no canonical path (urlpath.h) can hold, or NULL.
 * Only complete segments count: "/a/." is a fine prefix of "/a/.well-known".
 */
static const char *
prefix_unmatchable(const char *v)
{
	size_t n = strcspn(v, "?"), i, start = 1, l;

	if (memchr(v, ';', n) != NULL)
		return "';' (paths with parameters are refused as ambiguous)";
	for (i = 1; i < n || (i == n && v[n] == '?'); i++) {
		if (i < n && v[i] != '/')
			continue;
		l = i - start;
		if (l == 0 && i < n)
			return "an empty segment (\"//\")";
		if ((l == 1 && v[start] == '.') ||
		    (l == 2 && v[start] == '.' && v[start + 1] == '.'))
			return "a \".\" or \"..\" segment";
		start = i + 1;
	}
	return NULL;
}

int
cfg_path_prefix(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, char **out)
{
	const char *v, *p, *why;

	if (cfg_string(x, s, path, &v) != 0)
		return -1;
	if (v[0] != '/') {
		cfg_err(x, s, "%s: \"%s\" must start with '/'", path, v);
		return -1;
	}
	for (p = v; *p != '\0'; p++) {
		if (*p == ' ' || *p == '#' || *p == '%' || *p == '\\' ||
		    (unsigned char)*p >= 0x7f) {
			cfg_err(x, s, "%s: \"%s\": '%c' is not allowed in a "
			    "path rule (write the path decoded, without "
			    "spaces, '#' or '\\')", path, v, *p);
			return -1;
		}
	}
	if ((why = prefix_unmatchable(v)) != NULL) {
		cfg_err(x, s, "%s: \"%s\" can never match: it holds %s, and "
		    "requests are judged on their canonical path", path, v,
		    why);
		return -1;
	}
	free(*out);
	*out = xstrdup(v);
	return 0;
}

int
cfg_addr_port(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    uint16_t dflt_port, struct addr *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *v, *host;
	size_t hostlen;
	uint16_t port;

	if (cfg_string(x, s, path, &v) != 0)
		return -1;
	if (addr_parse(v, out) == 0) {
		out->port = dflt_port;
		return 0;
	}
	if (host_split_authority(v, strlen(v), &host, &hostlen, &port) == 0 &&
	    hostlen < sizeof(buf)) {
		memcpy(buf, host, hostlen);
		buf[hostlen] = '\0';
		if (addr_parse(buf, out) == 0) {
			out->port = port != 0 ? port : dflt_port;
			return 0;
		}
	}
	cfg_err(x, s, "%s: \"%s\" is not an IP address (\"192.0.2.53\", "
	    "\"192.0.2.53:5353\", \"[2001:db8::53]:53\")", path, v);
	return -1;
}

bool
cfg_cidr_overlap(const struct cidr *a, const struct cidr *b)
{
	if (a->net.family != b->net.family)
		return false;
	return a->prefix <= b->prefix ? cidr_contains(a, &b->net) :
	    cidr_contains(b, &a->net);
}
