/*
 * policy.c - the egress decision: ordered rules, first match wins, then
 * the group default.  See policy.h for the two stages.
 *
 * This module is pure: it reads immutable rule tables and the caller's
 * query, allocates nothing and does no I/O.  It does not resolve names,
 * parse HTTP or know about connections; the caller normalises host names
 * (host_normalize()) and hands in the request target as sent.
 *
 * Three refusals exist besides the rules, each reported with a fixed rule
 * label so that the audit log says why:
 *  - "unknown-vm": the caller says the guest is not on Slicer's map and
 *    the configuration refuses such guests (slicer.unknown = "refuse").
 *  - "internal-destination": an IP-only query (no name) whose address is
 *    internal (addr_is_internal()) and not covered by internal_allow.
 *    Named queries are checked on each resolved address by the caller
 *    through policy_dial_allowed().
 *  - "ambiguous-path": a rule with a path condition cannot be judged on a
 *    path that urlpath_normalize() refuses, or where the rule's answer
 *    depends on whether %2F is a separator, because origin servers
 *    disagree on what such a path means ("/public/../admin", "//admin",
 *    "/;x/admin", "/..;/admin").  Prefixes are compared with the
 *    canonical form; the request goes upstream as sent.
 */
#include "policy.h"

#include "hostname.h"
#include "urlpath.h"

static const struct policy_rule internal_rule = {
	.action = POLICY_DENY,
	.label = (char *)"internal-destination",
};

static const struct policy_rule unknown_vm_rule = {
	.action = POLICY_DENY,
	.label = (char *)"unknown-vm",
};

static const struct policy_rule ambiguous_rule = {
	.action = POLICY_DENY,
	.label = (char *)"ambiguous-path",
};

static bool
cidrs_contain(const struct cidr *c, size_t n, const struct addr *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_contains(&c[i], a))
			return true;
	return false;
}

/* The conditions known at connection stage: host, address, port. */
static bool
conn_match(const struct policy_rule *r, const struct policy_query *q,
    const struct addr *dst)
{
	if (r->host != NULL &&
	    (q->host == NULL || !host_match(r->host, r->host_suffix, q->host)))
		return false;
	if (r->cidrs != NULL &&
	    (dst == NULL || !cidrs_contain(r->cidrs, r->ncidrs, dst)))
		return false;
	if (r->port_lo != 0 && (q->port < r->port_lo || q->port > r->port_hi))
		return false;
	return policy_tags_match(r->tags, r->ntags, q->tags, q->ntags);
}

bool
policy_tags_match(char *const *want, size_t nwant, char *const *have,
    size_t nhave)
{
	size_t i, j;

	for (i = 0; i < nwant; i++) {
		for (j = 0; j < nhave; j++)
			if (strcmp(want[i], have[j]) == 0)
				break;
		if (j == nhave)
			return false;
	}
	return true;
}

static void
decide(const struct policy *p, const struct policy_query *q,
    struct policy_verdict *out)
{
	struct addr dst, *dstp = NULL;
	enum urlpath_status why;
	enum urlpath_match m;
	struct urlpath_lazy lp;
	size_t i;

	lp.done = false;
	if (q->dst != NULL) {
		dst = *q->dst;
		addr_unmap(&dst);
		dstp = &dst;
	}
	out->action = p->dflt;
	out->rule = NULL;
	out->why = NULL;
	if (q->unknown_vm) {
		out->action = POLICY_DENY;
		out->rule = &unknown_vm_rule;
		return;
	}
	for (i = 0; i < p->nrules; i++) {
		const struct policy_rule *r = &p->rules[i];

		if (!conn_match(r, q, dstp))
			continue;
		if (r->path_prefix == NULL && r->methods == 0) {
			out->action = r->action;
			out->rule = r;
			break;
		}
		if (!q->request) {
			/* might match some request and not others */
			out->action = POLICY_INSPECT;
			out->rule = r;
			break;
		}
		if (r->methods != 0 && (r->methods & q->method) == 0)
			continue;
		if (r->path_prefix != NULL) {
			if (q->path == NULL)
				continue;
			m = urlpath_rule_match(&lp, q->path, strlen(q->path),
			    r->path_prefix, &why);
			if (m == URLPATH_UNSURE) {
				out->action = POLICY_DENY;
				out->rule = &ambiguous_rule;
				out->why = urlpath_status_str(why);
				return;
			}
			if (m == URLPATH_NO)
				continue;
		}
		out->action = r->action;
		out->rule = r;
		break;
	}
	if (q->request && out->action == POLICY_SPLICE)
		out->action = POLICY_ALLOW;
	if (q->host == NULL && dstp != NULL && out->action != POLICY_DENY &&
	    !policy_dial_allowed(p, dstp, NULL)) {
		out->action = POLICY_DENY;
		out->rule = &internal_rule;
	}
}

void
policy_decide(const struct policy *p, const struct policy_query *q,
    struct policy_verdict *out)
{
	struct addr dst;

	decide(p, q, out);
	out->would_deny = false;
	if (p->mode != POLICY_REPORT || out->action != POLICY_DENY ||
	    out->rule == &internal_rule)
		return;
	/* decide() skips the internal check once something denied: make
	 * it here, or report mode would open internal addresses. */
	if (q->host == NULL && q->dst != NULL) {
		dst = *q->dst;
		addr_unmap(&dst);
		if (!policy_dial_allowed(p, &dst, NULL)) {
			out->rule = &internal_rule;
			out->why = NULL;	/* the path is not the reason */
			return;
		}
	}
	out->action = q->request ? POLICY_ALLOW : POLICY_INSPECT;
	out->would_deny = true;
}

bool
policy_dial_allowed(const struct policy *p, const struct addr *a,
    const char **range_out)
{
	struct addr u = *a;
	const char *range = NULL;

	addr_unmap(&u);
	if (!addr_is_internal(&u, &range))
		return true;
	if (cidrs_contain(p->internal_allow, p->ninternal_allow, &u))
		return true;
	if (range_out != NULL)
		*range_out = range;
	return false;
}

static const struct {
	const char	*name;
	unsigned	bit;
} methods[] = {
	{ "GET",	METHOD_GET },
	{ "HEAD",	METHOD_HEAD },
	{ "POST",	METHOD_POST },
	{ "PUT",	METHOD_PUT },
	{ "DELETE",	METHOD_DELETE },
	{ "PATCH",	METHOD_PATCH },
	{ "OPTIONS",	METHOD_OPTIONS },
	{ "CONNECT",	METHOD_CONNECT },
	{ "TRACE",	METHOD_TRACE },
};

unsigned
policy_method_bit(const char *m, size_t len)
{
	size_t i;

	/* methods are case-sensitive (RFC 9110, 9.1) */
	for (i = 0; i < ARRAY_SIZE(methods); i++)
		if (strlen(methods[i].name) == len &&
		    memcmp(methods[i].name, m, len) == 0)
			return methods[i].bit;
	return METHOD_OTHER;
}

const char *
policy_action_str(enum policy_action a)
{
	switch (a) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_DENY:
		return "deny";
	case POLICY_SPLICE:
		return "splice";
	case POLICY_INSPECT:
		return "inspect";
	}
	return "?";
}

const char *
policy_verdict_label(const struct policy_verdict *v)
{
	if (v->rule == NULL)
		return "default";
	return v->rule->label != NULL ? v->rule->label : "rule";
}
