/*
 * leaf.c - mint a server certificate for one host name or IP address,
 * signed by the group CA.
 *
 * This module builds certificates; it does not cache them (leafcache.c),
 * does not normalise names (hostname.c does; here we only re-check the
 * normal form so that nothing odd can reach a certificate field) and never
 * copies anything from an upstream certificate.  The SAN is built as ASN.1
 * objects rather than from config text, so no name can smuggle extra
 * entries in through separators.
 */
/* For EC_KEY, see leaf_keygen(). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "leaf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "hostname.h"
#include "log.h"

#define LEAF_MAGIC	0x4c656166u
#define CN_MAX		64	/* ub-common-name, RFC 5280 */

struct leaf {
	unsigned	magic;
	atomic_uint	refs;
	X509		*cert;
	EVP_PKEY	*key;
	time_t		not_after;
};

bool
leaf_name_ok(const char *name)
{
	size_t i, label = 0, len = strlen(name);
	bool numeric = true;

	if (len == 0 || len > HOST_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (c < '0' || c > '9')
			numeric = false;
		if (++label > 63)
			return false;
	}
	/* No empty last label (trailing dot) and no "1.2.3.4". */
	return label > 0 && name[len - 1] != '-' && !numeric;
}

int
leaf_target_check(const char *name, const struct addr *ip, char *err,
    size_t errlen)
{
	if (name != NULL && !leaf_name_ok(name)) {
		snprintf(err, errlen, "not a normalised host name");
		return -1;
	}
	if (name == NULL && (ip == NULL ||
	    (ip->family != AF_INET && ip->family != AF_INET6))) {
		snprintf(err, errlen, "neither a host name nor an address");
		return -1;
	}
	return 0;
}

/*
 * A fresh P-256 key as a legacy EC_KEY-backed EVP_PKEY.  Deliberate: on
 * OpenSSL 3.0, X509_set_pubkey() with a provider-native key round-trips it
 * through the encoder and decoder (about 180 us of a 290 us mint on the
 * development machine), while a legacy key takes the direct pub_encode
 * path (keygen + set_pubkey about 26 us).  The key is an ordinary
 * EVP_PKEY to every caller (SSL_use_PrivateKey exports it once).
 */
static EVP_PKEY *
leaf_keygen(void)
{
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EVP_PKEY *key = NULL;

	if (ec == NULL || EC_KEY_generate_key(ec) != 1 ||
	    (key = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_assign_EC_KEY(key, ec) != 1) {
		EVP_PKEY_free(key);
		EC_KEY_free(ec);
		return NULL;
	}
	return key;
}

/* SAN with one entry, built from ASN.1 objects (no string parsing). */
static int
add_san(X509 *x, const char *name, const struct addr *ip, int critical)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gen = GENERAL_NAME_new();
	int rc = -1;

	if (gens == NULL || gen == NULL)
		goto out;
	if (name != NULL) {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (s == NULL || ASN1_STRING_set(s, name, -1) != 1) {
			ASN1_IA5STRING_free(s);
			goto out;
		}
		GENERAL_NAME_set0_value(gen, GEN_DNS, s);
	} else {
		ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
		int n = ip->family == AF_INET ? 4 : 16;

		if (o == NULL || ASN1_OCTET_STRING_set(o, ip->u.bytes, n) != 1) {
			ASN1_OCTET_STRING_free(o);
			goto out;
		}
		GENERAL_NAME_set0_value(gen, GEN_IPADD, o);
	}
	if (sk_GENERAL_NAME_push(gens, gen) == 0)
		goto out;
	gen = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical,
	    X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return rc;
}

struct leaf *
leaf_mint(const struct ca *ca, const char *name, const struct addr *ip,
    unsigned days, time_t now, char *err, size_t errlen)
{
	X509 *x = NULL, *cacert = ca_cert(ca);
	EVP_PKEY *key = NULL;
	struct leaf *leaf;
	char cn[ADDR_STRLEN];
	const char *cnp;
	time_t nb, na;

	if (leaf_target_check(name, ip, err, errlen) == -1)
		return NULL;
	if (days < 1 || days > LEAF_MAX_DAYS) {
		snprintf(err, errlen, "leaf validity must be 1..%d days",
		    LEAF_MAX_DAYS);
		return NULL;
	}
	nb = MAX(now - LEAF_BACKDATE_SECS, ca_not_before(ca));
	na = MIN(now + (time_t)days * 86400, ca_not_after(ca));
	if (na <= now || nb >= na) {
		snprintf(err, errlen, "the CA is expired or not yet valid");
		return NULL;
	}
	cnp = name != NULL ? name : addr_ntop(ip, cn, sizeof(cn));

	if ((key = leaf_keygen()) == NULL ||
	    (x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    ca_x509_random_serial(x) == -1 ||
	    ca_x509_set_validity(x, nb, na) == -1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(cacert)) != 1 ||
	    X509_set_pubkey(x, key) != 1)
		goto sslerr;
	/* An empty subject is allowed when the SAN is critical (5280). */
	if (strlen(cnp) <= CN_MAX && X509_NAME_add_entry_by_txt(
	    X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cnp, -1, -1, 0) != 1)
		goto sslerr;
	if (add_san(x, name, ip, strlen(cnp) > CN_MAX) == -1 ||
	    ca_x509_add_ext(x, cacert, NID_basic_constraints,
	    "critical,CA:FALSE") == -1 ||
	    ca_x509_add_ext(x, cacert, NID_key_usage,
	    "critical,digitalSignature") == -1 ||
	    ca_x509_add_ext(x, cacert, NID_ext_key_usage, "serverAuth") == -1 ||
	    ca_x509_add_ext(x, cacert, NID_subject_key_identifier,
	    "hash") == -1)
		goto sslerr;
	/* A CA without an SKI (some imported ones) gets no AKI keyid. */
	if (X509_get0_subject_key_id(cacert) != NULL &&
	    ca_x509_add_ext(x, cacert, NID_authority_key_identifier,
	    "keyid:always") == -1)
		goto sslerr;
	if (X509_sign(x, ca_key(ca), EVP_sha256()) <= 0)
		goto sslerr;

	leaf = xcalloc(1, sizeof(*leaf));
	leaf->magic = LEAF_MAGIC;
	atomic_init(&leaf->refs, 1);
	leaf->cert = x;
	leaf->key = key;
	leaf->not_after = na;
	return leaf;
sslerr:
	{
		char buf[200];

		log_ssl_errstr(buf, sizeof(buf));
		snprintf(err, errlen, "minting a leaf failed: %s", buf);
	}
	X509_free(x);
	EVP_PKEY_free(key);
	return NULL;
}

struct leaf *
leaf_ref(struct leaf *leaf)
{
	AN(leaf != NULL && leaf->magic == LEAF_MAGIC);
	atomic_fetch_add_explicit(&leaf->refs, 1, memory_order_relaxed);
	return leaf;
}

void
leaf_unref(struct leaf *leaf)
{
	if (leaf == NULL)
		return;
	AN(leaf->magic == LEAF_MAGIC);
	if (atomic_fetch_sub_explicit(&leaf->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	X509_free(leaf->cert);
	EVP_PKEY_free(leaf->key);
	leaf->magic = 0;
	free(leaf);
}

X509 *
leaf_cert(const struct leaf *leaf)
{
	return leaf->cert;
}

EVP_PKEY *
leaf_key(const struct leaf *leaf)
{
	return leaf->key;
}

time_t
leaf_not_after(const struct leaf *leaf)
{
	return leaf->not_after;
}
