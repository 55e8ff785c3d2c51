/*
 * l4policy.h - the verdict for a guest's new non-HTTP flow, and the
 * audit record shared by the NFQUEUE and DNS proxy threads.
 *
 * A group's l4 rules (config.h struct l4_rule) are ordered; the first
 * rule whose every condition matches wins, else l4_default_allow (false,
 * deny, unless configured).  Conditions: protocol (L4_ANY, L4_TCP,
 * L4_UDP, L4_ICMP for ICMP and ICMPv6), destination port range (a rule
 * with a range never matches ICMP), destination CIDRs, and a host name:
 * a name rule matches an address only if this guest resolved a name the
 * rule covers to that address through the gateway's DNS proxy and the
 * answer's TTL (clamped, see dnscache.h) has not run out.
 *
 * Pure apart from the dnscache look-up (thread-safe); any thread may call
 * it while it holds a reference on the config.
 */
#ifndef GW_L4POLICY_H
#define GW_L4POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "dnscache.h"
#include "hostname.h"

struct l4_query {
	uint8_t			ipproto;	/* IPPROTO_TCP, _UDP, ... */
	const struct addr	*guest;		/* source of the flow */
	const struct addr	*dst;		/* destination, port set */
};

struct l4_verdict {
	enum egress_action	action;		/* ALLOW or DROP */
	const struct l4_rule	*rule;		/* NULL: the default decided */
	bool			reset;		/* DROP of TCP with reset */
	/* The name dst was resolved from: the one the rule matched, else
	 * the latest this guest resolved to dst; "" if unknown. */
	char			name[HOST_MAX + 1];
};

/*
 * Decide for query q in group g.  dc may be NULL (then name rules never
 * match).  now_ms is util_now_ms().  Never fails.
 */
void l4policy_decide(const struct group_config *g, struct dnscache *dc,
    const struct l4_query *q, uint64_t now_ms, struct l4_verdict *out)
    NONNULL(1, 3, 5);

/* The deciding rule's label, "line N" if it has none, or "default". */
const char *l4policy_rule_label(const struct l4_verdict *v, char *buf,
    size_t len) NONNULL(1, 2);

/* One audit record: a flow verdict or a DNS query. */
enum l4_audit_kind {
	L4_AUDIT_FLOW = 0,
	L4_AUDIT_DNS,
};

struct l4_audit {
	enum l4_audit_kind	kind;
	const char		*group;		/* "-" when no group matched */
	const struct addr	*guest;
	const char		*proto;		/* "tcp", "udp", "dns/udp"... */
	const struct addr	*dst;		/* with port; NULL if none */
	const char		*name;		/* resolved-from / qname; NULL */
	const char		*qtype;		/* DNS: "A", "HTTPS"...; NULL */
	const char		*answers;	/* DNS: "1.2.3.4 2001:2::1" */
	const char		*verdict;	/* accept drop reset / allow
						 * refused nxdomain servfail */
	const char		*rule;		/* rule label or reason */
};

/*
 * Where audit records go.  fn is called on the thread that decided, once
 * per record, and must be thread-safe; the record and its strings are
 * valid only during the call.  The lead connects this to alog.
 */
struct l4_audit_sink {
	void	(*fn)(void *arg, const struct l4_audit *a);
	void	*arg;
};

/*
 * Format a record as one line of key=value pairs, values that could
 * contain spaces quoted ("kind=flow group=agents guest=10.0.0.2
 * proto=tcp dst=198.18.0.10:5432 name=db.example.com verdict=accept
 * rule=..."), no newline.  Returns buf.
 */
const char *l4_audit_format(const struct l4_audit *a, char *buf, size_t len)
    NONNULL(1, 2);

/* A sink that writes l4_audit_format() lines with log_info(). */
void l4_audit_log(void *arg, const struct l4_audit *a);

#endif
