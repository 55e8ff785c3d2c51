/*
 * jsonline.c - one flat JSON object per line; see jsonline.h.
 *
 * A cursor over [p, end) and one function per token, each returning -1 on
 * anything RFC 8259 does not allow; no recursion (nothing nests but an
 * array of strings).  The token functions are shared with slicer.c.
 */
#include <string.h>

#include "jsonline.h"

#define cur jl_cur

void
jl_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	    *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

static int
hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char ch = s[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (unsigned)(ch - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* UTF-8 of code point u at w (4 bytes at most); returns the length. */
static size_t
put_utf8(char *w, unsigned u)
{
	if (u < 0x80) {
		w[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		w[0] = (char)(0xc0 | (u >> 6));
		w[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		w[0] = (char)(0xe0 | (u >> 12));
		w[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		w[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	w[0] = (char)(0xf0 | (u >> 18));
	w[1] = (char)(0x80 | ((u >> 12) & 0x3f));
	w[2] = (char)(0x80 | ((u >> 6) & 0x3f));
	w[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

/* \uXXXX (and its low surrogate) at c->p, just after the 'u'. */
static int
unicode_escape(struct cur *c, unsigned *out)
{
	unsigned hi, lo;

	if (c->end - c->p < 4 || hex4(c->p, &hi) != 0)
		return -1;
	c->p += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return -1;		/* a lone low surrogate */
	if (hi < 0xd800 || hi > 0xdbff) {
		*out = hi;
		return hi == 0 ? -1 : 0;	/* no NUL in a value */
	}
	if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
	    hex4(c->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
		return -1;
	c->p += 6;
	*out = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/*
 * A string at c->p (on its opening quote), unescaped in place: the
 * output never outruns the input (every escape is at least as long as
 * what it stands for).
 */
int
jl_string(struct cur *c, const char **s, size_t *len)
{
	char *w;
	unsigned u;

	if (c->p >= c->end || *c->p != '"')
		return -1;
	w = ++c->p;
	*s = w;
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p++;

		if (ch < 0x20)
			return -1;
		if (ch != '\\') {
			*w++ = (char)ch;
			continue;
		}
		if (c->p >= c->end)
			return -1;
		switch (*c->p++) {
		case '"':  *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '/':  *w++ = '/'; break;
		case 'b':  *w++ = '\b'; break;
		case 'f':  *w++ = '\f'; break;
		case 'n':  *w++ = '\n'; break;
		case 'r':  *w++ = '\r'; break;
		case 't':  *w++ = '\t'; break;
		case 'u':
			if (unicode_escape(c, &u) != 0)
				return -1;
			w += put_utf8(w, u);
			break;
		default:
			return -1;
		}
	}
	if (c->p >= c->end)
		return -1;
	*len = (size_t)(w - *s);
	c->p++;			/* the closing quote */
	return 0;
}

static int
digits(struct cur *c)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > start ? 0 : -1;
}

/* A number, true, false or null. */
int
jl_scalar(struct cur *c, const char **s, size_t *len)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t i, n;

	*s = c->p;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		n = strlen(words[i]);
		if ((size_t)(c->end - c->p) >= n &&
		    memcmp(c->p, words[i], n) == 0) {
			c->p += n;
			*len = n;
			return 0;
		}
	}
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (digits(c) != 0)
		return -1;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (digits(c) != 0)
			return -1;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (digits(c) != 0)
			return -1;
	}
	*len = (size_t)(c->p - *s);
	return 0;
}

/* An array of strings (the audit log's "tags"): checked, then skipped. */
static int
str_array(struct cur *c, struct jl_field *f)
{
	const char *s;
	size_t n;

	f->is_arr = true;
	f->val = c->p++;
	jl_ws(c);
	if (c->p < c->end && *c->p == ']')
		goto out;
	for (;;) {
		jl_ws(c);
		if (jl_string(c, &s, &n) != 0)
			return -1;
		jl_ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == ']')
			break;
		if (*c->p++ != ',')
			return -1;
	}
out:
	c->p++;
	f->vlen = (size_t)(c->p - f->val);
	return 0;
}

static int
member(struct cur *c, struct jl_field *f)
{
	jl_ws(c);
	if (jl_string(c, &f->key, &f->klen) != 0)
		return -1;
	jl_ws(c);
	if (c->p >= c->end || *c->p++ != ':')
		return -1;
	jl_ws(c);
	if (c->p < c->end && *c->p == '"') {
		f->is_str = true;
		return jl_string(c, &f->val, &f->vlen);
	}
	f->is_str = false;
	f->is_arr = false;
	if (c->p < c->end && *c->p == '[')
		return str_array(c, f);
	return jl_scalar(c, &f->val, &f->vlen);
}

int
jl_parse(char *line, size_t len, struct jl_obj *o)
{
	struct cur c = { line, line + len };

	o->n = 0;
	jl_ws(&c);
	if (c.p >= c.end || *c.p++ != '{')
		return -1;
	jl_ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
	} else {
		for (;;) {
			if (o->n == JL_MAX_FIELDS ||
			    member(&c, &o->f[o->n]) != 0)
				return -1;
			o->n++;
			jl_ws(&c);
			if (c.p >= c.end)
				return -1;
			if (*c.p == '}') {
				c.p++;
				break;
			}
			if (*c.p++ != ',')
				return -1;
		}
	}
	jl_ws(&c);
	return c.p == c.end ? 0 : -1;
}

const char *
jl_str(const struct jl_obj *o, const char *key, char *buf, size_t len)
{
	size_t i, klen = strlen(key);

	for (i = 0; i < o->n; i++) {
		const struct jl_field *f = &o->f[i];

		if (f->klen != klen || memcmp(f->key, key, klen) != 0)
			continue;
		if (!f->is_str || f->vlen >= len)
			return NULL;
		memcpy(buf, f->val, f->vlen);
		buf[f->vlen] = '\0';
		return buf;
	}
	return NULL;
}
