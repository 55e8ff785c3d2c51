/*
 * test_l4policy.c - L4 rule table: order, protocols, ports, CIDRs, name
 * rules fed by the DNS cache, default, reset, audit formatting.
 */
#include <arpa/inet.h>

#include "l4policy.h"
#include "tap.h"

static struct addr
A(const char *s, uint16_t port)
{
	struct addr a;

	AZ(addr_parse(s, &a));
	a.port = port;
	return a;
}

static struct cidr
C(const char *s)
{
	struct cidr c;

	AZ(cidr_parse(s, &c));
	return c;
}

static const char *
decide(const struct group_config *g, struct dnscache *dc, uint8_t proto,
    const char *guest, const char *dst, uint16_t port, uint64_t now,
    struct l4_verdict *v)
{
	static char label[64];
	struct addr ga = A(guest, 0), da = A(dst, port);
	struct l4_query q = { proto, &ga, &da };

	l4policy_decide(g, dc, &q, now, v);
	snprintf(label, sizeof(label), "%s/%s",
	    v->action == EGRESS_ALLOW ? "allow" : v->reset ? "reset" : "drop",
	    v->rule ? v->rule->label : "default");
	return label;
}

int
main(void)
{
	struct cidr pg = C("198.18.0.10/32"), net6 = C("2001:2::/48"),
	    any4 = C("0.0.0.0/0");
	struct l4_rule rules[] = {
		{ .action = EGRESS_ALLOW, .proto = L4_TCP, .cidrs = &pg,
		  .ncidrs = 1, .port_lo = 5432, .port_hi = 5432,
		  .label = "pg-by-addr" },
		{ .action = EGRESS_ALLOW, .proto = L4_TCP,
		  .host = "db.example.com", .port_lo = 6432, .port_hi = 6433,
		  .label = "pg-by-name" },
		{ .action = EGRESS_ALLOW, .proto = L4_ANY,
		  .host = "example.net", .host_suffix = true,
		  .label = "suffix" },
		{ .action = EGRESS_ALLOW, .proto = L4_UDP, .cidrs = &net6,
		  .ncidrs = 1, .port_lo = 1000, .port_hi = 2000,
		  .label = "udp6" },
		{ .action = EGRESS_ALLOW, .proto = L4_ICMP, .cidrs = &pg,
		  .ncidrs = 1, .label = "ping" },
		{ .action = EGRESS_DROP, .proto = L4_TCP, .cidrs = &any4,
		  .ncidrs = 1, .port_lo = 22, .port_hi = 22, .reset = true,
		  .label = "no-ssh" },
		{ .action = EGRESS_DROP, .proto = L4_ANY, .port_lo = 25,
		  .port_hi = 25, .reset = true, .line = 77 },
	};
	struct group_config g = { .name = "agents", .l4 = rules,
	    .nl4 = ARRAY_SIZE(rules) };
	struct dnscache *dc = dnscache_new(256, 30, 3600);
	struct l4_verdict v;
	struct addr guest = A("10.0.0.2", 0), db = A("198.18.0.20", 0);
	struct addr w = A("198.18.0.30", 0);
	struct l4_audit au;
	char line[512], lbl[32];

	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "198.18.0.10", 5432,
	    0, &v), "allow/pg-by-addr", "address rule");
	is_str(decide(&g, dc, IPPROTO_UDP, "10.0.0.2", "198.18.0.10", 5432,
	    0, &v), "drop/default", "wrong protocol falls to default");
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "198.18.0.10", 5433,
	    0, &v), "drop/default", "wrong port");
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "::ffff:198.18.0.10",
	    5432, 0, &v), "allow/pg-by-addr", "v4-mapped folded");

	/* Name rule: closed before resolution, open after, closed later. */
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "198.18.0.20", 6432,
	    1000, &v), "drop/default", "name rule closed before DNS");
	dnscache_add(dc, &guest, &db, "db.example.com", 60, 1000);
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "198.18.0.20", 6433,
	    2000, &v), "allow/pg-by-name", "open after DNS");
	is_str(v.name, "db.example.com", "verdict carries the name");
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.3", "198.18.0.20", 6433,
	    2000, &v), "drop/default", "not for another guest");
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "198.18.0.20", 6433,
	    61000, &v), "drop/default", "closed after the TTL");
	is_str(v.name, "", "no name once expired");
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "198.18.0.20", 6434,
	    2000, &v), "drop/default", "name rule port range");
	is_str(v.name, "db.example.com", "known name logged on a drop");

	dnscache_add(dc, &guest, &w, "api.example.net", 60, 1000);
	is_str(decide(&g, dc, IPPROTO_UDP, "10.0.0.2", "198.18.0.30", 9,
	    2000, &v), "allow/suffix", "suffix name rule, any proto");
	dnscache_add(dc, &guest, &w, "example.net", 60, 1000);
	is_str(decide(&g, dc, IPPROTO_ICMP, "10.0.0.2", "198.18.0.30", 0,
	    2000, &v), "allow/suffix", "suffix matches apex");

	is_str(decide(&g, dc, IPPROTO_UDP, "10.0.0.2", "2001:2::5", 1500, 0,
	    &v), "allow/udp6", "v6 cidr + udp range");
	is_str(decide(&g, dc, IPPROTO_UDP, "10.0.0.2", "2001:3::5", 1500, 0,
	    &v), "drop/default", "v6 outside cidr");
	is_str(decide(&g, dc, IPPROTO_ICMP, "10.0.0.2", "198.18.0.10", 0, 0,
	    &v), "allow/ping", "icmp rule");
	is_str(decide(&g, dc, IPPROTO_ICMPV6, "10.0.0.2", "2001:2::5", 0, 0,
	    &v), "drop/default", "icmp6 not in rule's cidr");
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "198.18.9.9", 22, 0,
	    &v), "reset/no-ssh", "tcp drop with reset");
	is_str(decide(&g, dc, IPPROTO_UDP, "10.0.0.2", "198.18.9.9", 25, 0,
	    &v), "drop/(null)", "udp never gets reset");
	is_str(l4policy_rule_label(&v, lbl, sizeof(lbl)), "line 77",
	    "label from line");

	g.l4_default_allow = true;
	is_str(decide(&g, dc, IPPROTO_TCP, "10.0.0.2", "198.18.9.9", 80, 0,
	    &v), "allow/default", "default allow");
	is_str(decide(&g, NULL, IPPROTO_TCP, "10.0.0.2", "198.18.0.20", 6432,
	    2000, &v), "allow/default", "no cache: name rule skipped");
	is_str(l4policy_rule_label(&v, lbl, sizeof(lbl)), "default",
	    "default label");

	memset(&au, 0, sizeof(au));
	au.kind = L4_AUDIT_FLOW;
	au.group = "agents";
	au.guest = &guest;
	au.proto = "tcp";
	db.port = 6432;
	au.dst = &db;
	au.name = "db.example.com";
	au.verdict = "accept";
	au.rule = "line 3";
	is_str(l4_audit_format(&au, line, sizeof(line)),
	    "kind=flow group=agents guest=10.0.0.2 proto=tcp "
	    "dst=198.18.0.20:6432 name=db.example.com verdict=accept "
	    "rule=\"line 3\"", "audit line");
	au.name = "a\"b\n";
	l4_audit_format(&au, line, sizeof(line));
	ok(strstr(line, "name=\"a\\x22b\\x0a\"") != NULL, "escaped: %s", line);
	l4_audit_format(&au, line, 20);
	is(strlen(line) < 20, 1, "bounded output");
	dnscache_free(dc);
	return tap_done();
}
