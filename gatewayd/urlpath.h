/*
 * urlpath.h - one reading of a request path, for every rule that judges
 * a path (policy path rules, path-scoped secrets).
 *
 * Origin servers disagree on what some paths mean: "/a/../b" is "/b" to
 * most servers and a literal key to S3; "/;x/admin" is "/admin" to Tomcat
 * and Jetty; "/a%2Fb" is "/a/b" to nginx and one segment elsewhere;
 * "\" is "/" on IIS.  A prefix rule judged on the bytes as sent can then
 * be walked around.  urlpath_normalize() turns the path the guest sent
 * into one canonical form when every server reads it the same way, and
 * refuses it (a reason, never a guess) when they do not.  The request is
 * still forwarded as the guest sent it: the canonical form is only what
 * rules are compared with.
 *
 * Pure: no allocation, no I/O, no state; any thread may call it.
 */
#ifndef GW_URLPATH_H
#define GW_URLPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Longest raw path (query included) judged; longer is URLPATH_TOO_LONG.
 * The HTTP parser already answers 414 above this. */
#define URLPATH_MAX	8192

enum urlpath_status {
	URLPATH_OK = 0,
	URLPATH_NOT_ORIGIN,	/* empty, or not starting with '/' ("*");
				 * names no path, so no prefix matches it */
	URLPATH_TOO_LONG,	/* over URLPATH_MAX, or out too small */
	URLPATH_BAD_ESCAPE,	/* '%' not followed by two hex digits */
	URLPATH_DOUBLE_ESCAPE,	/* "%25" followed by two hex digits */
	URLPATH_NUL,		/* %00 */
	URLPATH_CONTROL,	/* a control byte (raw or encoded) or a raw
				 * space (%20 is fine: it stays encoded) */
	URLPATH_NON_ASCII,	/* a raw byte >= 0x80 (encoded is fine) */
	URLPATH_OVERLONG,	/* an overlong UTF-8 lead (%C0, %C1, %E0%80..
				 * %E0%9F, %F0%80..%F0%8F): spells ASCII */
	URLPATH_BACKSLASH,	/* '\' or %5C */
	URLPATH_PARAM,		/* ';' (a path parameter) in any segment */
	URLPATH_FRAGMENT,	/* '#' */
	URLPATH_EMPTY_SEGMENT,	/* "//" (also with %2F), except a trailing
				 * "/" */
	URLPATH_DOT_SEGMENT,	/* a segment "." or "..", also "%2e" */
	URLPATH_ENCODED_SLASH,	/* only from urlpath_prefix(): a '/' of the
				 * rule met %2F in the path */
};

/*
 * Normalise the raw path of a request target (origin-form path, then
 * optionally "?query"; len bytes, NUL not needed) into out, outsize bytes
 * (at least len + 1: the canonical form is never longer than the raw).
 *
 * The canonical path part:
 *  - percent-escapes of printable ASCII are decoded ("%61" is "a", "%2E"
 *    is "."), except the ones whose decoding would change the structure
 *    or that cannot appear raw: %2F, %3F, %23, %25, %3B and %20 stay
 *    encoded with upper-case hex, as do bytes >= 0x80;
 *  - it starts with '/', and holds no "//", no "." or ".." segment (also
 *    counting %2F as a separator), no ';', '\\', '#', NUL, control byte
 *    or raw non-ASCII byte.
 * The query (from the first raw '?') is copied as sent: rules compare it
 * byte for byte.  It may hold no '#', control or non-ASCII byte.
 *
 * Returns URLPATH_OK with out NUL-terminated and *outlen its length, or
 * the reason the path has no single reading (out is then "", *outlen 0).
 * Normalising a canonical form again gives it back unchanged.
 */
enum urlpath_status urlpath_normalize(const char *raw, size_t len, char *out,
    size_t outsize, size_t *outlen) NONNULL(3, 5);

enum urlpath_match {
	URLPATH_NO = 0,
	URLPATH_YES,
	URLPATH_UNSURE,		/* servers disagree: refuse */
};

/*
 * Does the rule prefix (decoded text, as written in the config; it may
 * hold "?query") match the canonical form canon?  Byte for byte, case
 * sensitive.  %2F in the path is one byte to some servers and a '/' to
 * others: when the answer depends on which, URLPATH_UNSURE.
 */
enum urlpath_match urlpath_prefix(const char *canon, const char *prefix)
    NONNULL(1, 2);

/*
 * A request path normalised once, when the first rule needs it, and then
 * judged against any number of rules.  Zero .done before first use; the
 * buffer makes it large: keep it on the stack of one decision.
 */
struct urlpath_lazy {
	bool			done;
	enum urlpath_status	st;
	char			buf[URLPATH_MAX + 1];
};

/*
 * Does the rule prefix match the raw path (len bytes, as for
 * urlpath_normalize())?  NO for a target that names no path ("*");
 * UNSURE when the path has no single reading or the answer depends on
 * %2F, with *why saying which (unchanged otherwise).
 */
enum urlpath_match urlpath_rule_match(struct urlpath_lazy *lp,
    const char *raw, size_t len, const char *prefix,
    enum urlpath_status *why) NONNULL(1, 2, 4, 5);

/* Readable text for a status ("a dot segment (. or ..)"); static. */
const char *urlpath_status_str(enum urlpath_status s);

#endif
