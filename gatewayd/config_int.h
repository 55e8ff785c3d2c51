/*
 * config_int.h - internals shared by config.c, config_walk.c and
 * config_group.c.  Not for other modules: they use config.h.
 *
 * Each section of the file is described by a key table (struct cfg_key,
 * redis static_configs[] style): name, type, bounds, default, where the
 * value lands in the target struct, and whether a change needs a restart.
 * cfg_section() walks a libconfig group against such a table: it applies
 * every default, parses each present key, reports unknown keys and
 * missing required ones, and keeps going after an error so that one run
 * reports every problem.
 */
#ifndef GW_CONFIG_INT_H
#define GW_CONFIG_INT_H

#include <libconfig.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* Stop printing (but keep counting) after this many messages. */
#define CFG_MAX_MESSAGES	100

struct cfg_ctx {
	const char	*name;		/* file name for messages */
	FILE		*errs;		/* may be NULL */
	unsigned	nerrs;
};

/* "name:line: message\n" to x->errs; counts the error.  s may be NULL. */
void cfg_err(struct cfg_ctx *x, const config_setting_t *s, const char *fmt,
    ...) PRINTF(3, 4);
/* "name:line: warning: message\n" to x->errs; not an error: the file loads. */
void cfg_warn(struct cfg_ctx *x, const config_setting_t *s, const char *fmt,
    ...) PRINTF(3, 4);

enum cfg_type {
	CT_STR = 0,	/* char *, xstrdup'd; min = minimum length */
	CT_UINT,	/* unsigned field of `size` bytes, min..max */
	CT_BOOL,	/* bool */
	CT_DURATION,	/* uint64_t ms from "10s"/"500ms" or int seconds */
	CT_ENUM,	/* field of `size` bytes from a name table */
	CT_SECTION,	/* nested group described by `sub`, at base + off */
	CT_FUNC,	/* custom parser fn */
};

/* Flags. */
#define CK_REQUIRED	0x1u	/* missing is an error */
#define CK_RESTART	0x2u	/* a change needs a restart, not a SIGHUP */

struct cfg_enum {
	const char	*name;
	int		value;
};

struct cfg_key;

typedef void cfg_fn(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, void *base);

struct cfg_key {
	const char		*name;		/* NULL ends a table */
	enum cfg_type		type;
	size_t			off, size;
	long long		min, max;
	long long		dflt;		/* CT_UINT, CT_BOOL, CT_ENUM, ms */
	const char		*dflt_str;	/* CT_STR */
	const struct cfg_enum	*enums;		/* CT_ENUM, NULL-terminated */
	const struct cfg_key	*sub;		/* CT_SECTION */
	cfg_fn			*fn;		/* CT_FUNC */
	unsigned		flags;
};

#define FSIZE(st, f)	sizeof(((st *)0)->f)
#define K_STR(n, st, f, minlen, d, fl) \
	{ .name = n, .type = CT_STR, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .min = minlen, .dflt_str = d, .flags = fl }
#define K_UINT(n, st, f, lo, hi, d, fl) \
	{ .name = n, .type = CT_UINT, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .min = lo, .max = hi, .dflt = d, .flags = fl }
#define K_BOOL(n, st, f, d, fl) \
	{ .name = n, .type = CT_BOOL, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .dflt = d, .flags = fl }
#define K_DUR(n, st, f, lo, hi, d, fl) \
	{ .name = n, .type = CT_DURATION, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .min = lo, .max = hi, .dflt = d, .flags = fl }
#define K_ENUM(n, st, f, tbl, d, fl) \
	{ .name = n, .type = CT_ENUM, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .enums = tbl, .dflt = d, .flags = fl }
#define K_SECT(n, o, tbl, fl) \
	{ .name = n, .type = CT_SECTION, .off = o, .sub = tbl, .flags = fl }
#define K_FUNC(n, f, fl) \
	{ .name = n, .type = CT_FUNC, .fn = f, .flags = fl }
#define K_END	{ .name = NULL }

/*
 * Walk group s (NULL: absent, defaults only) against keys, storing into
 * base.  path names the section in messages ("limits", "groups[0]").
 */
void cfg_section(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, const struct cfg_key *keys, void *base);

/* Element i of list/array s as "path[i]" into buf. */
const char *cfg_elem_path(char *buf, size_t len, const char *path, int i);

/* Value parsers; each reports its own errors and returns 0 or -1. */
int cfg_string(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, const char **out);
int cfg_port_range(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, uint16_t *lo, uint16_t *hi);
int cfg_cidr(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    const char *text, struct cidr *out);
int cfg_cidr_list(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, struct cidr **out, size_t *n);
int cfg_host_pattern(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, const char *text, char **host, bool *suffix);
int cfg_methods(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, unsigned *bits);
/* Slicer VM tags (policy rules, secrets): all given ones must match. */
int cfg_tags(struct cfg_ctx *x, const config_setting_t *s, const char *path,
    char ***tags, size_t *n);
int cfg_path_prefix(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, char **out);
int cfg_addr_port(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, uint16_t dflt_port, struct addr *out);

/*
 * Element iteration for "one string or a list/array of strings": calls
 * fn for each string element.  Returns the number of elements, or -1
 * when s has the wrong shape.
 */
typedef void cfg_each_fn(struct cfg_ctx *x, const config_setting_t *elem,
    const char *path, const char *text, void *arg);
int cfg_each_string(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, cfg_each_fn *fn, void *arg);

/*
 * Walk a list of groups "( { ... }, { ... } )" against keys into a new
 * zeroed array of list-length elements of size bytes, returned with *n
 * set to that length (so every element can be freed, parsed or not).
 * After each element, fn (if not NULL) runs the checks that span keys;
 * clean says the element parsed without error.  Returns NULL (and *n 0)
 * when s is not a list.
 */
typedef void cfg_elem_fn(struct cfg_ctx *x, const config_setting_t *e,
    const char *path, size_t i, void *elem, bool clean, void *arg);
void *cfg_list(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, const struct cfg_key *keys, size_t size, size_t *n,
    cfg_elem_fn *fn, void *arg);

/*
 * Compare the restart-only keys (CK_RESTART, or inside a CK_RESTART
 * section) of two structs described by keys; print "path: changed..."
 * to errs (may be NULL) for each difference.  CT_FUNC keys are skipped.
 * Returns the number of differences.
 */
unsigned cfg_diff_restart(const struct cfg_key *keys, const void *a,
    const void *b, const char *path, bool inherited, FILE *errs);

/* The dns and secrets sections (config_dns_secret.c). */
extern const struct cfg_enum cfg_allow_deny[];	/* "allow" 1, "deny" 0 */
extern const struct cfg_key cfg_dns_keys[];
void cfg_dns_finish(struct cfg_ctx *x, const config_setting_t *s,
    const char *path, struct dns_config *d);
cfg_fn cfg_secrets;

/* Groups (config_group.c). */
extern const struct cfg_key cfg_group_keys[];
cfg_elem_fn cfg_group_finish;
void cfg_group_free(struct group_config *g);
unsigned cfg_group_diff_restart(const struct group_config *a,
    const struct group_config *b, FILE *errs);

/* True if the two prefixes share at least one address. */
bool cfg_cidr_overlap(const struct cidr *a, const struct cidr *b);

#endif
