/*
 * test_dnsguard.c - DNS name policy and exfiltration guards.
 */
#include <stdio.h>

#include "dnsguard.h"
#include "tap.h"

static const char *
judge(struct dnsguard *g, const struct dns_config *d, const char *guest,
    const char *name, uint64_t now, struct dnsguard_verdict *v)
{
	static char res[HOST_MAX + 64];
	struct dns_header h;
	struct dns_question q;
	struct addr ga;
	uint8_t m[512];
	size_t n = dns_build_query(1, name, DNS_T_A, m, sizeof(m));

	AZ(addr_parse(guest, &ga));
	AN(n > 0);
	AZ(dns_parse_query(m, n, &h, &q));
	dnsguard_check(g, d, &ga, &q, now, v);
	snprintf(res, sizeof(res), "%s %s", v->allow ? "allow" : "refuse",
	    v->rule);
	return res;
}

int
main(void)
{
	char *allow[] = { ".ok.example.com", "exact.test" };
	char *deny[] = { ".example.com", ".evil.test" };
	struct dns_config d = {
		.mode = DNS_GATEWAY, .names_default_allow = true,
		.allow_names = allow, .nallow_names = 2,
		.deny_names = deny, .ndeny_names = 2,
		.max_name_len = 60, .max_label_len = 20,
		.max_unique_subdomains = 5, .unique_window_ms = 10000,
	};
	struct dnsguard *g = dnsguard_new();
	struct dnsguard_verdict v;
	char name[128];
	int i;

	is_str(judge(g, &d, "10.0.0.2", "Www.Other.Net", 0, &v),
	    "allow default", "default allow");
	is_str(v.name, "www.other.net", "name normalised");
	is_str(judge(g, &d, "10.0.0.2", "a.evil.test", 0, &v),
	    "refuse deny .evil.test", "deny list");
	is_str(judge(g, &d, "10.0.0.2", "evil.test", 0, &v),
	    "refuse deny .evil.test", "suffix matches apex");
	is_str(judge(g, &d, "10.0.0.2", "notevil.test", 0, &v),
	    "allow default", "suffix is label-aligned");
	is_str(judge(g, &d, "10.0.0.2", "api.ok.example.com", 0, &v),
	    "allow allow .ok.example.com", "allow exception to a deny");
	is_str(judge(g, &d, "10.0.0.2", "x.example.com", 0, &v),
	    "refuse deny .example.com", "deny without exception");

	d.names_default_allow = false;
	is_str(judge(g, &d, "10.0.0.2", "exact.test", 0, &v),
	    "allow allow exact.test", "default deny: allow list");
	is_str(judge(g, &d, "10.0.0.2", "sub.exact.test", 0, &v),
	    "refuse default", "exact entry has no subdomains");
	is_str(judge(g, &d, "10.0.0.2", "api.ok.example.com", 0, &v),
	    "refuse deny .example.com", "default deny: deny wins first");
	d.names_default_allow = true;

	is_str(judge(g, &d, "10.0.0.2", "aaaaaaaaaaaaaaaaaaaaaaaaa.net", 0,
	    &v), "refuse exfil-long-label", "label over 20");
	is_str(judge(g, &d, "10.0.0.2", "aaaaaaaaaa.bbbbbbbbbb.cccccccccc."
	    "dddddddddd.eeeeeeeeee.fffff.net", 0, &v),
	    "refuse exfil-long-name", "name over 60");
	is_str(judge(g, &d, "10.0.0.2", "under_score.net", 0, &v),
	    "allow default", "underscore allowed");

	/* 5 unique subdomains pass, the 6th is refused, repeats count once. */
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "s%d.leak.net", i);
		is_str(judge(g, &d, "10.0.0.2", name, 1000, &v),
		    "allow default", "unique %d", i);
	}
	is_str(judge(g, &d, "10.0.0.2", "s0.leak.net", 1000, &v),
	    "allow default", "a repeat is not new");
	is_str(judge(g, &d, "10.0.0.2", "s5.leak.net", 1000, &v),
	    "refuse exfil-unique-subdomains", "sixth refused");
	is_str(judge(g, &d, "10.0.0.3", "s5.leak.net", 1000, &v),
	    "allow default", "other guest unaffected");
	is_str(judge(g, &d, "10.0.0.2", "s5.other.net", 1000, &v),
	    "allow default", "other zone unaffected");
	is_str(judge(g, &d, "10.0.0.2", "leak.net", 1000, &v),
	    "allow default", "the zone apex is not counted");
	is_str(judge(g, &d, "10.0.0.2", "s6.leak.net", 11000, &v),
	    "allow default", "new window");
	dnsguard_free(g);
	return tap_done();
}
