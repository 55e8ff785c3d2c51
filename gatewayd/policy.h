/*
 * policy.h - the egress decision for one flow or one HTTP request.
 *
 * Pure: no I/O, no allocation, no locks; the rule tables are immutable
 * once a config is loaded, so any thread may call these concurrently.
 *
 * Rules are ordered; the first match wins, else the group default.  A rule
 * matches on host (exact "example.com", or ".example.com" for it and every
 * subdomain, as Squid's dstdomain; names are compared after
 * host_normalize()), destination CIDRs, port range, path prefix and
 * methods, and the tags of the guest's VM (Slicer, slicer.h); every
 * condition present must match.
 *
 * Two stages:
 *  - connection stage (TLS ClientHello, or a flow with no HTTP yet): only
 *    host/SNI, address and port are known.  A rule that matches on those
 *    but also has a path or method condition cannot be decided yet: the
 *    result is POLICY_INSPECT (bump and judge each request).
 *  - request stage: every condition is known; the result is ALLOW or DENY
 *    (a SPLICE rule matching a request acts as ALLOW: the flow was
 *    already bumped or is plain HTTP).
 */
#ifndef GW_POLICY_H
#define GW_POLICY_H

#include <stdbool.h>

#include "addr.h"

enum policy_action {
	POLICY_ALLOW = 0,	/* forward (HTTPS: bump and forward) */
	POLICY_DENY,		/* 403 (or TLS alert / drop when no bump) */
	POLICY_SPLICE,		/* TLS only: pass the bytes through untouched */
	POLICY_INSPECT,		/* connection stage only: decide per request */
};

/* HTTP methods as bits, for rule method sets. */
enum http_method_bit {
	METHOD_GET	= 1u << 0,
	METHOD_HEAD	= 1u << 1,
	METHOD_POST	= 1u << 2,
	METHOD_PUT	= 1u << 3,
	METHOD_DELETE	= 1u << 4,
	METHOD_PATCH	= 1u << 5,
	METHOD_OPTIONS	= 1u << 6,
	METHOD_CONNECT	= 1u << 7,
	METHOD_TRACE	= 1u << 8,
	METHOD_OTHER	= 1u << 9,	/* any extension method */
};

struct policy_rule {
	enum policy_action	action;		/* ALLOW, DENY or SPLICE */
	char			*host;		/* normalised; NULL = any */
	bool			host_suffix;	/* written ".example.com" */
	struct cidr		*cidrs;		/* destination; NULL = any */
	size_t			ncidrs;
	uint16_t		port_lo, port_hi; /* 0,0 = any */
	char			*path_prefix;	/* NULL = any */
	unsigned		methods;	/* METHOD_* bits; 0 = any */
	char			**tags;		/* the VM must carry all of
						 * them; NULL = any guest */
	size_t			ntags;
	int			line;		/* config line, for logs */
	char			*label;		/* "rule 3 (line 42)" or name */
};

/*
 * Report mode lets an operator learn what agents need before enforcing:
 * what would be denied is let through, and the verdict says so
 * (would_deny) so that the audit line carries the decision and the rule.
 * Never relaxed by it: the internal-destination refusal here, and, outside
 * this module, upstream verification and the group's egress drop list.
 */
enum policy_mode {
	POLICY_ENFORCE = 0,
	POLICY_REPORT,
};

struct policy {
	enum policy_mode	mode;
	enum policy_action	dflt;		/* ALLOW or DENY */
	struct policy_rule	*rules;
	size_t			nrules;
	/*
	 * Internal destinations (addr_is_internal()) are refused unless one
	 * of these CIDRs allows them explicitly.
	 */
	struct cidr		*internal_allow;
	size_t			ninternal_allow;
};

/* What is known about the flow or request being judged. */
struct policy_query {
	const char	*host;		/* normalised name, or NULL (IP only) */
	const struct addr *dst;		/* destination address; may be NULL */
	uint16_t	port;
	const char	*path;		/* request stage: path incl. query */
	unsigned	method;		/* request stage: one METHOD_* bit */
	bool		request;	/* true at request stage */
	char *const	*tags;		/* the guest VM's tags; NULL = none
					 * (no Slicer, or not on its map) */
	size_t		ntags;
	bool		unknown_vm;	/* slicer.unknown = "refuse" and the
					 * guest is not on Slicer's map */
};

struct policy_verdict {
	enum policy_action	action;
	const struct policy_rule *rule;	/* NULL when the default decided */
	const char		*why;	/* "ambiguous-path": what is ambiguous
					 * (static text), else NULL */
	bool			would_deny;	/* report mode: DENY let through
						 * as ALLOW (request stage) or
						 * INSPECT (connection stage) */
};

/*
 * Decide.  See the stage rules above.  Never fails.  Besides the rules,
 * three fixed refusals exist (verdict rule labels): "unknown-vm" when
 * q->unknown_vm (before any rule), "internal-destination"
 * for an IP-only query (host NULL) to an internal address not covered by
 * internal_allow (named queries: the caller checks each resolved address
 * with policy_dial_allowed()), and "ambiguous-path" when a rule with a
 * path condition meets a path that has no single reading (urlpath.h:
 * dot or empty segments, ';', '\\', %00, broken escapes, ...; out->why
 * says which).  Path prefixes compare against the canonical path of
 * urlpath_normalize() (the query after '?' as sent), case-sensitive;
 * "*" matches no path prefix.  Rule CIDRs match q->dst (IPv4-mapped IPv6
 * folded to IPv4).  In report mode a DENY
 * other than "internal-destination" becomes ALLOW (INSPECT at the
 * connection stage, so that each request is judged and logged) with
 * would_deny set and the deciding rule kept.
 */
void policy_decide(const struct policy *p, const struct policy_query *q,
    struct policy_verdict *out) NONNULL(1, 2, 3);

/*
 * May the gateway connect to address a for this group?  False for an
 * internal address (addr_is_internal()) not covered by internal_allow.
 * range_out gets the name of the offending range.
 */
bool policy_dial_allowed(const struct policy *p, const struct addr *a,
    const char **range_out) NONNULL(1, 2);

/*
 * Tag condition of a rule or a secret: does have[0..nhave) hold every
 * one of want[0..nwant)?  Exact, case-sensitive ("user=alice").  True
 * when nwant is 0.
 */
bool policy_tags_match(char *const *want, size_t nwant, char *const *have,
    size_t nhave);

/* METHOD_* bit for a method token (not NUL-terminated), METHOD_OTHER else. */
unsigned policy_method_bit(const char *m, size_t len);

const char *policy_action_str(enum policy_action a);

/* Rule label for logs: the rule's label, or "default". */
const char *policy_verdict_label(const struct policy_verdict *v);

#endif
