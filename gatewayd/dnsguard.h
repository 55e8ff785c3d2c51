/*
 * dnsguard.h - the DNS proxy's decision for one question: exfiltration
 * guards and the group's name policy.
 *
 * Order: a name that is not a valid host name (host_normalize()) is
 * refused ("bad-name"); then the lengths (dns.max_name, dns.max_label);
 * then the unique-subdomain guard: more than dns.max_unique_subdomains
 * distinct names under one zone from one guest within dns.window is
 * refused ("exfil-unique-subdomains") until the window ends; then the
 * name lists.  With default allow, allow entries are exceptions to the
 * deny list and are checked first; with default deny, deny entries are
 * exceptions to the allow list and are checked first; then the default.
 *
 * The zone is the last two labels of the name (no public-suffix list:
 * "x.co.uk" and "y.co.uk" share "co.uk", which errs towards refusing).
 * Distinct names are counted as bits set in a 8192-bit map per (guest,
 * zone), which undercounts by about 6 % at 1000 names; the table holds
 * DNSGUARD_SLOTS (guest, zone) pairs and replaces the oldest window of a
 * full bucket.  Thread-safe (one mutex).
 */
#ifndef GW_DNSGUARD_H
#define GW_DNSGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "dns.h"
#include "hostname.h"

#define DNSGUARD_SLOTS	1024

struct dnsguard;

struct dnsguard_verdict {
	bool	allow;
	char	name[HOST_MAX + 1];	/* normalised question name */
	char	rule[HOST_MAX + 32];	/* "allow .x.com", "default", reason */
};

struct dnsguard *dnsguard_new(void) WUNRES;
void dnsguard_free(struct dnsguard *g);

/*
 * Judge question q from guest under dns config d at now_ms.  Fills out;
 * returns out->allow.
 */
bool dnsguard_check(struct dnsguard *g, const struct dns_config *d,
    const struct addr *guest, const struct dns_question *q, uint64_t now_ms,
    struct dnsguard_verdict *out) NONNULL(1, 2, 3, 4, 6);

#endif
