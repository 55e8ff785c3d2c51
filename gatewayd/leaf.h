/*
 * leaf.h - server certificates minted on the fly for intercepted TLS,
 * signed by a host group's CA.
 *
 * A struct leaf is immutable after leaf_mint() and reference-counted with
 * atomics: any thread may hold, read and release one.  The leaf cache
 * (leafcache.h) is the usual way to get one.
 */
#ifndef GW_LEAF_H
#define GW_LEAF_H

#include <stdbool.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "addr.h"
#include "ca.h"
#include "util.h"

#define LEAF_DEFAULT_DAYS	30
#define LEAF_MAX_DAYS		397	/* browsers' limit for server certs */
#define LEAF_BACKDATE_SECS	3600

struct leaf;

/*
 * Is name a host name in host_normalize() form (lower-case labels of
 * [a-z0-9_-], 1..63 bytes, no leading/trailing '-', no trailing dot,
 * <= HOST_MAX bytes, not all-numeric)?  A last guard before a name is
 * written into a certificate; the caller normalises, this only checks.
 */
bool leaf_name_ok(const char *name);

/*
 * Is (name, ip) something a leaf can be made for: a name passing
 * leaf_name_ok(), or no name and an IPv4/IPv6 address?  0, or -1 with err.
 */
int leaf_target_check(const char *name, const struct addr *ip, char *err,
    size_t errlen) WUNRES;

/*
 * Mint a leaf for name (DNS SAN, and CN when it fits in 64 bytes) or, when
 * name is NULL, for the IP address ip (IP SAN, CN = the address text).
 * Fresh EC P-256 key, SHA-256 signature by the CA key, random 128-bit
 * serial, not-before = now - LEAF_BACKDATE_SECS (not before the CA's),
 * not-after = min(now + days, CA not-after), basicConstraints CA:FALSE,
 * keyUsage digitalSignature, EKU serverAuth, AKI = the CA's key id, SKI of
 * its own key.  name must pass leaf_name_ok().  days is 1..LEAF_MAX_DAYS.
 * Thread-safe (the CA is only read).  Returns a new reference, or NULL
 * with err set (bad name, expired CA, OpenSSL failure).
 */
struct leaf *leaf_mint(const struct ca *ca, const char *name,
    const struct addr *ip, unsigned days, time_t now, char *err,
    size_t errlen) WUNRES;

struct leaf *leaf_ref(struct leaf *leaf);
/* Drop a reference; the last one frees.  NULL is a no-op. */
void leaf_unref(struct leaf *leaf);

/* Borrowed, valid while a reference is held (SSL_use_* take their own). */
X509 *leaf_cert(const struct leaf *leaf);
EVP_PKEY *leaf_key(const struct leaf *leaf);
time_t leaf_not_after(const struct leaf *leaf);

#endif
