/*
 * dialpolicy.c - the checks every address passes before the gateway dials
 * it.  See dialpolicy.h.
 */
#include "dialpolicy.h"

#include <stdio.h>

/* Would nftables' egress entry e match a TCP packet to a? */
static bool
egress_match(const struct egress_rule *e, const struct addr *a,
    uint16_t port)
{
	if (e->proto != L4_ANY && e->proto != L4_TCP)
		return false;
	if (e->port_lo != 0 && (port < e->port_lo || port > e->port_hi))
		return false;
	return cidr_contains(&e->cidr, a);
}

/* The first egress entry that matches, or NULL. */
static const struct egress_rule *
egress_first(const struct group_config *g, const struct addr *a,
    uint16_t port)
{
	size_t i;

	for (i = 0; i < g->negress; i++)
		if (egress_match(&g->egress[i], a, port))
			return &g->egress[i];
	return NULL;
}

/*
 * The drop entry that refuses a, or NULL.  An IPv6 address that carries
 * IPv4 (NAT64, 6to4, Teredo...) is also judged as each IPv4 address it
 * carries, as the internal ranges are: a translator may deliver it there.
 */
static const struct egress_rule *
egress_drops(const struct group_config *g, const struct addr *a,
    uint16_t port)
{
	const struct egress_rule *e;
	struct addr v4[2];
	size_t i, n;

	e = egress_first(g, a, port);
	if (e != NULL && e->action == EGRESS_DROP)
		return e;
	n = addr_embedded_v4(a, v4, NULL);
	for (i = 0; i < n; i++) {
		e = egress_first(g, &v4[i], port);
		if (e != NULL && e->action == EGRESS_DROP)
			return e;
	}
	return NULL;
}

bool
dial_judge(const struct group_config *g, const struct policy_query *q,
    const struct addr *a, struct dial_verdict *out)
{
	const struct egress_rule *e;
	struct policy_query pq = *q;
	struct addr u = *a;

	memset(out, 0, sizeof(*out));
	addr_unmap(&u);		/* as the packet filter sees it */
	if (!policy_dial_allowed(&g->policy, &u, &out->range)) {
		out->refusal = DIAL_INTERNAL;
		return false;
	}
	if ((e = egress_drops(g, &u, q->port)) != NULL) {
		out->refusal = DIAL_EGRESS;
		out->egress = e;
		return false;
	}
	pq.dst = &u;
	policy_decide(&g->policy, &pq, &out->policy);
	if (out->policy.action == POLICY_DENY) {
		out->refusal = DIAL_RULE;
		return false;
	}
	return true;
}

const char *
dial_label(const struct dial_verdict *v, char *buf, size_t len)
{
	switch (v->refusal) {
	case DIAL_ALLOWED:
		util_strlcpy(buf, "-", len);
		break;
	case DIAL_INTERNAL:
		util_strlcpy(buf, "internal-destination", len);
		break;
	case DIAL_EGRESS:
		/* as the nftables rule's comment says */
		snprintf(buf, len, "egress drop, config line %d",
		    v->egress->line);
		break;
	case DIAL_RULE:
		util_strlcpy(buf, policy_verdict_label(&v->policy), len);
		break;
	}
	return buf;
}

const char *
dial_explain(const struct dial_verdict *v, char *buf, size_t len)
{
	switch (v->refusal) {
	case DIAL_ALLOWED:
		util_strlcpy(buf, "allowed", len);
		break;
	case DIAL_INTERNAL:
		snprintf(buf, len, "a %s address, which egress policy does "
		    "not allow", v->range != NULL ? v->range : "internal");
		break;
	case DIAL_EGRESS:
		snprintf(buf, len, "on the group's egress drop list (egress "
		    "drop, config line %d)", v->egress->line);
		break;
	case DIAL_RULE:
		snprintf(buf, len, "denied by egress policy (%s)",
		    policy_verdict_label(&v->policy));
		break;
	}
	return buf;
}
