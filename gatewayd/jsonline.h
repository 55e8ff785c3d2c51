/*
 * jsonline.h - one flat JSON object, as the audit log writes a line.
 *
 * The audit log carries guest-chosen bytes (URLs, hosts, methods), so a
 * tool that reads it back parses it as hostile input: RFC 8259 strings
 * (every escape, surrogate pairs checked), numbers, true/false/null; no
 * nesting (the audit format has none, so an array or object is an error,
 * not something to skip).  No allocation: string values are unescaped in
 * place into the line's own bytes, which the fields then point into.
 *
 * Ownership: the fields borrow the line; they live as long as it does.
 */
#ifndef GW_JSONLINE_H
#define GW_JSONLINE_H

#include <stdbool.h>
#include <stddef.h>

#define JL_MAX_FIELDS	48

struct jl_field {
	const char	*key, *val;	/* not NUL-terminated */
	size_t		klen, vlen;
	bool		is_str;		/* else number, true, false, null */
	bool		is_arr;		/* an array of strings */
};

struct jl_obj {
	struct jl_field	f[JL_MAX_FIELDS];
	size_t		n;
};

/*
 * Parse line[0..len) (no newline needed; whitespace around tokens is
 * allowed).  Modifies the line.  0, or -1 when it is not exactly one flat
 * object: a syntax error, a nested value other than an array of strings
 * (the audit log's "tags"; is_arr, not unescaped usefully), a bad escape or UTF-16
 * surrogate, a NUL in a string, more than JL_MAX_FIELDS fields, bytes
 * after the object.
 */
int jl_parse(char *line, size_t len, struct jl_obj *o);

/*
 * The string value of key (the first, if repeated) as a NUL-terminated
 * copy in buf; NULL when absent, not a string, or longer than len - 1.
 */
const char *jl_str(const struct jl_obj *o, const char *key, char *buf,
    size_t len);

/*
 * The token readers, for other bounded JSON readers (slicer.c): a cursor
 * over [p, end).  jl_string() expects the opening quote at c->p and
 * unescapes in place (the result borrows the buffer, not NUL-terminated;
 * no NUL, no lone surrogate); jl_scalar() reads a number, true, false or
 * null.  Both return 0 or -1 and leave c->p after the token.
 */
struct jl_cur {
	char	*p, *end;
};
void jl_ws(struct jl_cur *c);
int jl_string(struct jl_cur *c, const char **s, size_t *len);
int jl_scalar(struct jl_cur *c, const char **s, size_t *len);

#endif
