/*
 * urlpath.c - the canonical reading of a request path (RFC 3986 section
 * 6.2.2 syntax-based normalisation, made strict), or the reason there is
 * none.  See urlpath.h for the form; the choices, case by case:
 *
 *  - unreserved and other printable ASCII escapes are decoded: servers
 *    route "/%61dmin" as "/admin", so rules must see it so;
 *  - %2F stays encoded: nginx decodes it into a separator, most others
 *    keep one segment.  Both readings must then have no "." ".." or
 *    empty segment, and urlpath_prefix() reports where a rule's answer
 *    depends on the reading (GitLab's "/projects/g%2Fp" stays usable);
 *  - a raw ';' starts path parameters that Tomcat, Jetty and Spring cut
 *    off every segment ("/;x/admin" is their "/admin", "/..;/" their
 *    "/../") and others keep as a name: refused.  %3B is data to all of
 *    them and stays encoded;
 *  - "." and ".." segments are refused, not resolved: clients resolve
 *    them before sending, and S3-like stores take them literally;
 *  - "//" is one slash to nginx (merge_slashes) and an empty segment to
 *    others: refused, except a trailing "/";
 *  - '\' and %5C are '/' to IIS and some frameworks: refused;
 *  - NUL and control bytes end or split strings in C back ends: refused;
 *  - "%25" + two hex digits is an escape again to a server that decodes
 *    twice: refused; a lone "%25" stays encoded;
 *  - overlong UTF-8 leads spell ASCII ("%C0%AE" is '.' to old decoders):
 *    refused; other encoded bytes >= 0x80 stay encoded;
 *  - '#' is never sent (RFC 9112 section 3.2): refused.
 */
#include "urlpath.h"

struct norm {
	const char	*raw;
	size_t		len;
	size_t		i;		/* next raw byte */
	char		*out;
	size_t		o;		/* bytes written */
	size_t		seg;		/* start of the current segment */
};

/* The segment out[seg..o) is over: no "." or "..", empty only last. */
static enum urlpath_status
seg_end(struct norm *n, bool last)
{
	const char *s = n->out + n->seg;
	size_t l = n->o - n->seg;

	if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
		return URLPATH_DOT_SEGMENT;
	if (l == 0 && !last)
		return URLPATH_EMPTY_SEGMENT;
	return URLPATH_OK;
}

/* Value of the escape at raw[i] ("%XX"), or -1 if there is none. */
static int
escape_at(const struct norm *n, size_t i)
{
	int hi, lo;

	if (i >= n->len || n->len - i < 3)
		return -1;
	if (n->raw[i] != '%' ||
	    (hi = util_hexval((unsigned char)n->raw[i + 1])) < 0 ||
	    (lo = util_hexval((unsigned char)n->raw[i + 2])) < 0)
		return -1;
	return hi * 16 + lo;
}

/* Bytes that keep their escape: decoding would change the structure, or
 * the byte cannot appear raw in a request target. */
static bool
keep_encoded(int b)
{
	return b == ' ' || b == '%' || b == '/' || b == '?' || b == '#' ||
	    b == ';' || b >= 0x80;
}

static enum urlpath_status
check_escape(const struct norm *n, int b)
{
	int next;

	if (b == 0)
		return URLPATH_NUL;
	if (b < 0x20 || b == 0x7f)
		return URLPATH_CONTROL;
	if (b == '\\')
		return URLPATH_BACKSLASH;
	if (b == 0xc0 || b == 0xc1)
		return URLPATH_OVERLONG;
	if (b == 0xe0 || b == 0xf0) {
		next = escape_at(n, n->i + 3);
		if (next >= 0x80 && next < (b == 0xe0 ? 0xa0 : 0x90))
			return URLPATH_OVERLONG;
	}
	return URLPATH_OK;
}

static void
put_escape(struct norm *n, int b)
{
	static const char hex[] = "0123456789ABCDEF";

	n->out[n->o++] = '%';
	n->out[n->o++] = hex[b >> 4];
	n->out[n->o++] = hex[b & 15];
}

/* One escape at raw[i]: decoded, kept (%2F also ends a segment), or not. */
static enum urlpath_status
escape(struct norm *n)
{
	enum urlpath_status st;
	int b;

	if ((b = escape_at(n, n->i)) < 0)
		return URLPATH_BAD_ESCAPE;
	if ((st = check_escape(n, b)) != URLPATH_OK)
		return st;
	n->i += 3;
	if (b == '/' && (st = seg_end(n, false)) != URLPATH_OK)
		return st;
	if (keep_encoded(b))
		put_escape(n, b);
	else
		n->out[n->o++] = (char)b;
	if (b == '/')
		n->seg = n->o;
	return URLPATH_OK;
}

/* A raw byte anywhere in the target: printable ASCII, no fragment. */
static enum urlpath_status
sent_byte(unsigned char c)
{
	if (c == 0)
		return URLPATH_NUL;
	if (c <= 0x20 || c == 0x7f)
		return URLPATH_CONTROL;
	if (c >= 0x80)
		return URLPATH_NON_ASCII;
	if (c == '#')
		return URLPATH_FRAGMENT;
	return URLPATH_OK;
}

/* A raw byte of the path part, other than '%' and '/'. */
static enum urlpath_status
raw_byte(unsigned char c)
{
	if (c == '\\')
		return URLPATH_BACKSLASH;
	if (c == ';')
		return URLPATH_PARAM;
	return sent_byte(c);
}

static enum urlpath_status
path_part(struct norm *n)
{
	enum urlpath_status st;
	unsigned char c;

	n->out[n->o++] = '/';
	n->seg = n->o;
	for (n->i = 1; n->i < n->len && n->raw[n->i] != '?';) {
		c = (unsigned char)n->raw[n->i];
		if (c == '%') {
			st = escape(n);
		} else if (c == '/') {
			if ((st = seg_end(n, false)) == URLPATH_OK) {
				n->out[n->o++] = '/';
				n->seg = n->o;
				n->i++;
			}
		} else if ((st = raw_byte(c)) == URLPATH_OK) {
			n->out[n->o++] = (char)c;
			n->i++;
		}
		if (st != URLPATH_OK)
			return st;
	}
	return seg_end(n, true);
}

/* A decoded "%25" right before two hex digits reads as an escape again. */
static bool
double_escaped(const char *p, size_t len)
{
	size_t j;

	for (j = 0; j + 4 < len; j++)
		if (p[j] == '%' && p[j + 1] == '2' && p[j + 2] == '5' &&
		    util_hexval((unsigned char)p[j + 3]) >= 0 &&
		    util_hexval((unsigned char)p[j + 4]) >= 0)
			return true;
	return false;
}

/* The query, from its '?', as sent. */
static enum urlpath_status
query_part(struct norm *n)
{
	enum urlpath_status st;

	for (; n->i < n->len; n->i++) {
		if ((st = sent_byte((unsigned char)n->raw[n->i])) != URLPATH_OK)
			return st;
		n->out[n->o++] = n->raw[n->i];
	}
	return URLPATH_OK;
}

enum urlpath_status
urlpath_normalize(const char *raw, size_t len, char *out, size_t outsize,
    size_t *outlen)
{
	struct norm n = { .raw = raw, .len = len, .out = out };
	enum urlpath_status st;

	*outlen = 0;
	if (outsize > 0)
		out[0] = '\0';
	if (len > URLPATH_MAX || outsize < len + 1)
		return URLPATH_TOO_LONG;
	if (len == 0 || raw[0] != '/')
		return URLPATH_NOT_ORIGIN;
	if ((st = path_part(&n)) == URLPATH_OK &&
	    double_escaped(out, n.o))
		st = URLPATH_DOUBLE_ESCAPE;
	if (st == URLPATH_OK)
		st = query_part(&n);
	if (st != URLPATH_OK) {
		out[0] = '\0';
		return st;
	}
	out[n.o] = '\0';
	*outlen = n.o;
	return URLPATH_OK;
}

enum urlpath_match
urlpath_prefix(const char *canon, const char *prefix)
{
	bool query = false, split = false;

	/* split: the rule went on only by reading %2F as '/'; the other
	 * reading already failed. */
	for (; *prefix != '\0'; prefix++) {
		if (!query && *prefix == '/' && canon[0] == '%' &&
		    canon[1] == '2' && canon[2] == 'F') {
			split = true;
			canon += 3;
			continue;
		}
		if (*canon != *prefix)
			return URLPATH_NO;
		query |= *canon == '?';
		canon++;
	}
	return split ? URLPATH_UNSURE : URLPATH_YES;
}

enum urlpath_match
urlpath_rule_match(struct urlpath_lazy *lp, const char *raw, size_t len,
    const char *prefix, enum urlpath_status *why)
{
	enum urlpath_match m;
	size_t clen;

	if (!lp->done) {
		lp->st = urlpath_normalize(raw, len, lp->buf, sizeof(lp->buf),
		    &clen);
		lp->done = true;
	}
	if (lp->st == URLPATH_NOT_ORIGIN)
		return URLPATH_NO;
	if (lp->st != URLPATH_OK) {
		*why = lp->st;
		return URLPATH_UNSURE;
	}
	if ((m = urlpath_prefix(lp->buf, prefix)) == URLPATH_UNSURE)
		*why = URLPATH_ENCODED_SLASH;
	return m;
}

const char *
urlpath_status_str(enum urlpath_status s)
{
	switch (s) {
	case URLPATH_OK:
		return "canonical";
	case URLPATH_NOT_ORIGIN:
		return "not a path";
	case URLPATH_TOO_LONG:
		return "path too long";
	case URLPATH_BAD_ESCAPE:
		return "broken percent escape";
	case URLPATH_DOUBLE_ESCAPE:
		return "double-encoded escape (%25XX)";
	case URLPATH_NUL:
		return "NUL byte (%00)";
	case URLPATH_CONTROL:
		return "control byte";
	case URLPATH_NON_ASCII:
		return "raw non-ASCII byte";
	case URLPATH_OVERLONG:
		return "overlong UTF-8 escape";
	case URLPATH_BACKSLASH:
		return "backslash";
	case URLPATH_PARAM:
		return "';' path parameter";
	case URLPATH_FRAGMENT:
		return "fragment";
	case URLPATH_EMPTY_SEGMENT:
		return "empty segment (//)";
	case URLPATH_DOT_SEGMENT:
		return "dot segment (. or ..)";
	case URLPATH_ENCODED_SLASH:
		return "encoded slash (%2F) where the rule has '/'";
	}
	return "?";
}
