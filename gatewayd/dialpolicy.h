/*
 * dialpolicy.h - may the gateway connect() to this address for this flow?
 *
 * The packet filter judges the address a guest sends to; the gateway
 * chooses the address it dials itself (from the Host or SNI the guest
 * names), so a guest could otherwise name a host the packet filter drops
 * and send the request to any other address.  Every address the gateway
 * is about to dial (plain HTTP, bumped or spliced TLS) passes, in order:
 *   1. the internal ranges (addr_is_internal()), unless internal_allow
 *      covers the address;
 *   2. the group's IP-level egress list, as nftables would judge a TCP
 *      packet to that address and port: first match, drop refuses, allow
 *      ends the list; an IPv6 address that carries IPv4 (NAT64, 6to4,
 *      Teredo: addr_embedded_v4()) is also judged as that IPv4 address;
 *   3. the policy rules, decided again with the address known (a rule's
 *      cidr is matched against it): a deny refuses.
 *
 * Pure: reads the immutable config, no I/O, no allocation; thread-safe.
 */
#ifndef GW_DIALPOLICY_H
#define GW_DIALPOLICY_H

#include "config.h"

enum dial_refusal {
	DIAL_ALLOWED = 0,
	DIAL_INTERNAL,		/* internal range not in internal_allow */
	DIAL_EGRESS,		/* a drop entry of the egress list */
	DIAL_RULE,		/* a policy rule denies this address */
};

struct dial_verdict {
	enum dial_refusal	refusal;
	const char		*range;		/* DIAL_INTERNAL: range name */
	const struct egress_rule *egress;	/* DIAL_EGRESS: the entry */
	struct policy_verdict	policy;		/* DIAL_RULE: the decision */
};

/*
 * Judge address a (port a->port is not used: q->port is the port dialled)
 * for the flow or request q (q->dst is ignored: a takes its place).
 * Returns true if the gateway may dial it.
 */
bool dial_judge(const struct group_config *g, const struct policy_query *q,
    const struct addr *a, struct dial_verdict *out) NONNULL(1, 2, 3, 4);

/*
 * The refusal's name for the audit log's rule field: "internal-destination",
 * "egress drop, config line N" or the policy rule's label.  Returns buf.
 */
const char *dial_label(const struct dial_verdict *v, char *buf, size_t len)
    NONNULL(1, 2);

/* "a loopback address", "on the group's egress drop list" ...: completes
 * "<address> is ...". Returns buf. */
const char *dial_explain(const struct dial_verdict *v, char *buf, size_t len)
    NONNULL(1, 2);

#endif
