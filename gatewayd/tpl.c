/*
 * tpl.c - the line-based template engine behind the nftables renderer.
 *
 * It is a text substituter with conditionals and loops, nothing more: no
 * expressions, no escaping, no includes.  Directives are whole lines, so a
 * template stays readable as the file it renders (see tpl.h for the
 * syntax).  Errors are programming errors in a template that ships with
 * the binary, but they are reported, never asserted: a unit test renders
 * every shipped template.
 */
#include "tpl.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

enum tpl_kind {
	TPL_STR = 0,
	TPL_FLAG,
	TPL_LIST,
};

struct tpl_entry {
	char		*name;
	enum tpl_kind	kind;
	char		*str;
	bool		flag;
	struct tpl_vars	**items;
	size_t		nitems;
};

struct tpl_vars {
	const struct tpl_vars	*parent;
	struct tpl_entry	*e;
	size_t			n;
};

struct tpl_line {
	const char	*p;
	size_t		len;
};

struct tpl_run {
	const char	*name;
	struct tpl_line	*lines;
	size_t		nlines;
	FILE		*out;
	FILE		*errs;
	int		failed;
};

struct tpl_vars *
tpl_vars_new(void)
{
	return xcalloc(1, sizeof(struct tpl_vars));
}

void
tpl_vars_free(struct tpl_vars *v)
{
	size_t i, j;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		free(v->e[i].name);
		free(v->e[i].str);
		for (j = 0; j < v->e[i].nitems; j++)
			tpl_vars_free(v->e[i].items[j]);
		free(v->e[i].items);
	}
	free(v->e);
	free(v);
}

/* The entry name of this very scope (not its parents), created if absent. */
static struct tpl_entry *
entry(struct tpl_vars *v, const char *name, enum tpl_kind kind)
{
	struct tpl_entry *e;
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (strcmp(v->e[i].name, name) == 0) {
			e = &v->e[i];
			free(e->str);
			e->str = NULL;
			e->kind = kind;
			return e;
		}
	}
	v->e = xrealloc(v->e, (v->n + 1) * sizeof(*v->e));
	e = &v->e[v->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->kind = kind;
	return e;
}

void
tpl_set(struct tpl_vars *v, const char *name, const char *fmt, ...)
{
	struct tpl_entry *e;
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		WRONG("vasprintf");
	e = entry(v, name, TPL_STR);
	e->str = s;
}

void
tpl_flag(struct tpl_vars *v, const char *name, bool on)
{
	entry(v, name, TPL_FLAG)->flag = on;
}

void
tpl_list(struct tpl_vars *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->e[i].name, name) == 0 &&
		    v->e[i].kind == TPL_LIST)
			return;
	(void)entry(v, name, TPL_LIST);
}

struct tpl_vars *
tpl_item(struct tpl_vars *v, const char *name)
{
	struct tpl_entry *e = NULL;
	struct tpl_vars *it;
	size_t i;

	tpl_list(v, name);
	for (i = 0; i < v->n; i++)
		if (strcmp(v->e[i].name, name) == 0)
			e = &v->e[i];
	AN(e);
	it = tpl_vars_new();
	it->parent = v;
	e->items = xrealloc(e->items, (e->nitems + 1) * sizeof(*e->items));
	e->items[e->nitems++] = it;
	return it;
}

static const struct tpl_entry *
lookup(const struct tpl_vars *v, const char *name, size_t len)
{
	size_t i;

	for (; v != NULL; v = v->parent)
		for (i = 0; i < v->n; i++)
			if (strlen(v->e[i].name) == len &&
			    memcmp(v->e[i].name, name, len) == 0)
				return &v->e[i];
	return NULL;
}

static void
fail(struct tpl_run *r, size_t line, const char *fmt, const char *what,
    size_t len)
{
	if (r->errs != NULL && !r->failed) {
		fprintf(r->errs, "%s:%zu: ", r->name, line + 1);
		fprintf(r->errs, fmt, (int)len, what);
		fputc('\n', r->errs);
	}
	r->failed = 1;
}

/* Directive of a line: "if", "else", "end", "for", "#" or NULL. */
static const char *
directive(const struct tpl_line *l, const char **arg, size_t *arglen)
{
	static const char *const names[] = { "if", "else", "end", "for" };
	const char *p = l->p, *end = l->p + l->len;
	size_t i, n;

	if (l->len >= 3 && memcmp(p, "##@", 3) == 0)
		return "#";
	if (l->len < 2 || memcmp(p, "#@", 2) != 0)
		return NULL;
	p += 2;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		n = strlen(names[i]);
		if ((size_t)(end - p) >= n && memcmp(p, names[i], n) == 0 &&
		    (p + n == end || isspace((unsigned char)p[n]))) {
			p += n;
			while (p < end && isspace((unsigned char)*p))
				p++;
			*arg = p;
			while (end > p && isspace((unsigned char)end[-1]))
				end--;
			*arglen = (size_t)(end - p);
			return names[i];
		}
	}
	return "?";
}

/*
 * Find the #@end (and a same-level #@else) closing the block opened at
 * line open.  Returns the #@end index, or (size_t)-1.
 */
static size_t
match(struct tpl_run *r, size_t open, size_t to, size_t *else_at)
{
	const char *d, *arg;
	size_t i, depth = 0, alen;

	*else_at = (size_t)-1;
	for (i = open + 1; i < to; i++) {
		d = directive(&r->lines[i], &arg, &alen);
		if (d == NULL)
			continue;
		if (strcmp(d, "if") == 0 || strcmp(d, "for") == 0)
			depth++;
		else if (strcmp(d, "end") == 0 && depth-- == 0)
			return i;
		else if (strcmp(d, "else") == 0 && depth == 0)
			*else_at = i;
	}
	fail(r, open, "%.*s", "block is not closed by #@end", 29);
	return (size_t)-1;
}

static void
emit(struct tpl_run *r, size_t ln, const struct tpl_vars *v)
{
	const struct tpl_line *l = &r->lines[ln];
	const struct tpl_entry *e;
	const char *p = l->p, *end = l->p + l->len, *q;

	while (p < end) {
		if (*p != '@' || p + 1 >= end ||
		    !isupper((unsigned char)p[1])) {
			fputc(*p++, r->out);
			continue;
		}
		for (q = p + 1; q < end && (isupper((unsigned char)*q) ||
		    isdigit((unsigned char)*q) || *q == '_'); q++)
			;
		if (q >= end || *q != '@') {
			fputc(*p++, r->out);
			continue;
		}
		e = lookup(v, p + 1, (size_t)(q - p - 1));
		if (e == NULL || e->kind != TPL_STR)
			fail(r, ln, "unknown variable @%.*s@", p + 1,
			    (size_t)(q - p - 1));
		else
			fputs(e->str, r->out);
		p = q + 1;
	}
	fputc('\n', r->out);
}

static void
render(struct tpl_run *r, size_t from, size_t to, const struct tpl_vars *v)
{
	const struct tpl_entry *e;
	const char *d, *arg;
	size_t i, j, alen, end, else_at;
	bool neg, on;

	for (i = from; i < to && !r->failed; i++) {
		d = directive(&r->lines[i], &arg, &alen);
		if (d == NULL) {
			emit(r, i, v);
			continue;
		}
		if (strcmp(d, "#") == 0)
			continue;
		if (strcmp(d, "if") != 0 && strcmp(d, "for") != 0) {
			fail(r, i, "%.*s", "unexpected directive", 20);
			return;
		}
		if ((end = match(r, i, to, &else_at)) == (size_t)-1)
			return;
		if (strcmp(d, "for") == 0) {
			e = lookup(v, arg, alen);
			if (e == NULL || e->kind != TPL_LIST ||
			    else_at != (size_t)-1) {
				fail(r, i, "unknown list or #@else in #@for "
				    "%.*s", arg, alen);
				return;
			}
			for (j = 0; j < e->nitems; j++)
				render(r, i + 1, end, e->items[j]);
		} else {
			neg = alen > 0 && *arg == '!';
			e = lookup(v, arg + neg, alen - neg);
			if (e == NULL || e->kind != TPL_FLAG) {
				fail(r, i, "unknown flag %.*s", arg, alen);
				return;
			}
			on = e->flag != neg;
			if (on)
				render(r, i + 1, MIN(else_at, end), v);
			else if (else_at != (size_t)-1)
				render(r, else_at + 1, end, v);
		}
		i = end;
	}
}

int
tpl_render(const char *tpl, const char *tplname, const struct tpl_vars *v,
    FILE *out, FILE *errs)
{
	struct tpl_run r = { .name = tplname, .out = out, .errs = errs };
	const char *p = tpl, *nl;
	size_t cap = 0;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (r.nlines == cap) {
			cap = cap ? cap * 2 : 64;
			r.lines = xrealloc(r.lines, cap * sizeof(*r.lines));
		}
		r.lines[r.nlines].p = p;
		r.lines[r.nlines].len = nl ? (size_t)(nl - p) : strlen(p);
		r.nlines++;
		p = nl ? nl + 1 : p + strlen(p);
	}
	render(&r, 0, r.nlines, v);
	free(r.lines);
	return r.failed ? -1 : 0;
}
