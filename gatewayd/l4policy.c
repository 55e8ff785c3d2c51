/*
 * l4policy.c - first-match L4 rule evaluation and audit formatting.  See
 * l4policy.h.
 *
 * What it is: the decision for one new flow from its 5-tuple and what
 * the guest learnt through DNS.  What it is not: packet parsing (pkt.c),
 * I/O or logging policy (callers choose the audit sink).
 */
#include "l4policy.h"

#include <stdio.h>

#include "log.h"

static bool
proto_matches(enum l4_proto want, uint8_t ipproto)
{
	switch (want) {
	case L4_ANY:
		return true;
	case L4_TCP:
		return ipproto == IPPROTO_TCP;
	case L4_UDP:
		return ipproto == IPPROTO_UDP;
	case L4_ICMP:
		return ipproto == IPPROTO_ICMP || ipproto == IPPROTO_ICMPV6;
	}
	return false;
}

static bool
has_ports(uint8_t ipproto)
{
	return ipproto == IPPROTO_TCP || ipproto == IPPROTO_UDP;
}

static bool
host_cb(void *arg, const char *name)
{
	const struct l4_rule *r = arg;

	return host_match(r->host, r->host_suffix, name);
}

static bool
rule_matches(const struct l4_rule *r, struct dnscache *dc,
    const struct l4_query *q, uint64_t now_ms, char *name)
{
	size_t i;

	if (!proto_matches(r->proto, q->ipproto))
		return false;
	if (r->port_lo != 0 || r->port_hi != 0) {
		if (!has_ports(q->ipproto) || q->dst->port < r->port_lo ||
		    q->dst->port > r->port_hi)
			return false;
	}
	if (r->ncidrs > 0) {
		for (i = 0; i < r->ncidrs; i++)
			if (cidr_contains(&r->cidrs[i], q->dst))
				break;
		if (i == r->ncidrs)
			return false;
	}
	if (r->host != NULL) {
		if (dc == NULL || !dnscache_find(dc, q->guest, q->dst, host_cb,
		    (void *)(uintptr_t)r, now_ms, name))
			return false;
	}
	return true;
}

void
l4policy_decide(const struct group_config *g, struct dnscache *dc,
    const struct l4_query *q, uint64_t now_ms, struct l4_verdict *out)
{
	struct addr dst = *q->dst;
	struct l4_query uq = *q;
	size_t i;

	memset(out, 0, sizeof(*out));
	addr_unmap(&dst);
	uq.dst = &dst;
	out->action = g->l4_default_allow ? EGRESS_ALLOW : EGRESS_DROP;
	for (i = 0; i < g->nl4; i++) {
		if (rule_matches(&g->l4[i], dc, &uq, now_ms, out->name)) {
			out->rule = &g->l4[i];
			out->action = out->rule->action;
			break;
		}
	}
	if (out->name[0] == '\0' && dc != NULL)
		(void)dnscache_find(dc, q->guest, &dst, NULL, NULL, now_ms,
		    out->name);
	out->reset = out->action == EGRESS_DROP && out->rule != NULL &&
	    out->rule->reset && q->ipproto == IPPROTO_TCP;
}

const char *
l4policy_rule_label(const struct l4_verdict *v, char *buf, size_t len)
{
	if (v->rule == NULL)
		util_strlcpy(buf, "default", len);
	else if (v->rule->label != NULL)
		util_strlcpy(buf, v->rule->label, len);
	else
		snprintf(buf, len, "line %d", v->rule->line);
	return buf;
}

/* Append key=value; quote values with spaces, quotes or controls. */
static void
kv(char *buf, size_t len, size_t *n, const char *key, const char *val)
{
	const char *p;
	bool quote = false;
	int r;

	if (val == NULL || *n >= len)
		return;
	for (p = val; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' ||
		    (unsigned char)*p >= 0x7f)
			quote = true;
	r = snprintf(buf + *n, len - *n, "%s%s=%s", *n ? " " : "", key,
	    quote ? "\"" : "");
	if (r < 0)
		return;
	*n = MIN(*n + (size_t)r, len - 1);
	for (p = val; *p != '\0' && *n + 5 < len; p++) {
		unsigned char c = (unsigned char)*p;

		if (quote && (c < ' ' || c >= 0x7f || c == '"' || c == '\\'))
			*n += (size_t)snprintf(buf + *n, len - *n, "\\x%02x", c);
		else
			buf[(*n)++] = (char)c;
	}
	if (quote && *n + 1 < len)
		buf[(*n)++] = '"';
	buf[*n] = '\0';
}

const char *
l4_audit_format(const struct l4_audit *a, char *buf, size_t len)
{
	char g[ADDR_STRLEN], d[ADDR_STRLEN];
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	kv(buf, len, &n, "kind", a->kind == L4_AUDIT_DNS ? "dns" : "flow");
	kv(buf, len, &n, "group", a->group ? a->group : "-");
	kv(buf, len, &n, "guest", a->guest ? addr_ntop(a->guest, g,
	    sizeof(g)) : "-");
	kv(buf, len, &n, "proto", a->proto);
	kv(buf, len, &n, "dst", a->dst ? addr_ntop_port(a->dst, d,
	    sizeof(d)) : NULL);
	kv(buf, len, &n, "name", a->name && *a->name ? a->name : "-");
	kv(buf, len, &n, "qtype", a->qtype);
	kv(buf, len, &n, "answers", a->answers);
	kv(buf, len, &n, "verdict", a->verdict);
	kv(buf, len, &n, "rule", a->rule);
	return buf;
}

void
l4_audit_log(void *arg, const struct l4_audit *a)
{
	char line[1536];

	log_info("audit %s", l4_audit_format(a, line, sizeof(line)));
}
