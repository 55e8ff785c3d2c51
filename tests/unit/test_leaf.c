/*
 * test_leaf.c - mint leaves and parse every field back; verify them with
 * OpenSSL's own chain and host-name checks; time the mint.
 */
#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "leaf.h"
#include "tap.h"
#include "certtest.h"

/* Chain-verify leaf against ca as the only anchor, for host or ip. */
static int
verify(X509 *leaf, const struct ca *ca, const char *host, const char *ip,
    time_t at)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	int rc;

	X509_STORE_add_cert(store, ca_cert(ca));
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_time(vp, at);
	if (host != NULL)
		X509_VERIFY_PARAM_set1_host(vp, host, 0);
	if (ip != NULL)
		X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
	rc = X509_verify_cert(ctx);
	if (rc != 1)
		printf("#   verify: %s\n", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

/* The only SAN entry of x, or NULL. */
static GENERAL_NAME *
only_san(X509 *x, GENERAL_NAMES **gensp)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);

	*gensp = gens;
	if (gens == NULL || sk_GENERAL_NAME_num(gens) != 1)
		return NULL;
	return sk_GENERAL_NAME_value(gens, 0);
}

static void
check_common(X509 *x, const struct ca *ca, const char *what)
{
	BASIC_CONSTRAINTS *bc;
	EXTENDED_KEY_USAGE *eku;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);
	const ASN1_OCTET_STRING *caski =
	    X509_get0_subject_key_id(ca_cert(ca));
	EVP_PKEY *pk = X509_get0_pubkey(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char group[32] = "";
	int crit = -1;

	is(X509_get_version(x), X509_VERSION_3, "%s: v3", what);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	ok(bc != NULL && !bc->ca && crit == 1, "%s: CA:FALSE critical", what);
	BASIC_CONSTRAINTS_free(bc);
	ok(!(X509_get_extension_flags(x) & EXFLAG_CA), "%s: no CA flag",
	    what);
	is(test_ext_critical(x, NID_key_usage), 1, "%s: KU critical", what);
	is(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE,
	    "%s: KU digitalSignature only", what);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	ok(eku != NULL && sk_ASN1_OBJECT_num(eku) == 1 &&
	    OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_server_auth,
	    "%s: EKU serverAuth only", what);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ok(akid != NULL && caski != NULL &&
	    ASN1_OCTET_STRING_cmp(akid, caski) == 0, "%s: AKI == CA SKI",
	    what);
	ok(ski != NULL && ASN1_OCTET_STRING_cmp(ski, caski) != 0,
	    "%s: own SKI, not the CA's", what);
	ok(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(ca_cert(ca))) == 0, "%s: issuer = CA", what);
	is(X509_get_signature_nid(x), EVP_PKEY_get_base_id(ca_key(ca)) ==
	    EVP_PKEY_RSA ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256,
	    "%s: SHA-256 signature", what);
	is(X509_verify(x, ca_key(ca)), 1, "%s: signature verifies with CA",
	    what);
	EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group),
	    NULL);
	ok(EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
	    strcmp(group, "prime256v1") == 0, "%s: EC P-256 key", what);
	ok(bn != NULL && !BN_is_negative(bn) && BN_num_bits(bn) == 127,
	    "%s: 128-bit serial", what);
	BN_free(bn);
}

static void
test_dns(const struct ca *ca, time_t now)
{
	char err[256], cn[128] = "";
	struct leaf *l = leaf_mint(ca, "example.com", NULL, 30, now, err,
	    sizeof(err));
	struct leaf *l2 = leaf_mint(ca, "example.com", NULL, 30, now, err,
	    sizeof(err));
	GENERAL_NAMES *gens;
	GENERAL_NAME *g;
	X509 *x;

	if (!ok(l != NULL && l2 != NULL, "mint example.com: %s",
	    l ? "" : err))
		return;
	x = leaf_cert(l);
	check_common(x, ca, "dns");
	g = only_san(x, &gens);
	ok(g != NULL && g->type == GEN_DNS &&
	    strcmp((const char *)ASN1_STRING_get0_data(g->d.dNSName),
	    "example.com") == 0, "one DNS SAN example.com");
	GENERAL_NAMES_free(gens);
	is(test_ext_critical(x, NID_subject_alt_name), 0, "SAN not critical");
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, sizeof(cn));
	is_str(cn, "example.com", "CN example.com");
	is(test_time_diff(X509_get0_notBefore(x), now), -LEAF_BACKDATE_SECS,
	    "not-before backdated 1 h");
	is(test_time_diff(X509_get0_notAfter(x), now), 30L * 86400,
	    "not-after now + 30 days");
	is(leaf_not_after(l), now + 30L * 86400, "leaf_not_after");
	ok(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	    X509_get0_serialNumber(leaf_cert(l2))) != 0 &&
	    EVP_PKEY_eq(leaf_key(l), leaf_key(l2)) != 1,
	    "two mints: different serials and keys");
	ok(X509_check_private_key(x, leaf_key(l)) == 1, "key matches cert");
	is(verify(x, ca, "example.com", NULL, now), 1,
	    "chain + host verify (OpenSSL)");
	{
		SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

		ok(ctx != NULL && SSL_CTX_use_certificate(ctx, x) == 1 &&
		    SSL_CTX_use_PrivateKey(ctx, leaf_key(l)) == 1 &&
		    SSL_CTX_check_private_key(ctx) == 1,
		    "usable by an SSL_CTX");
		SSL_CTX_free(ctx);
	}
	is(verify(x, ca, "www.example.com", NULL, now), 0,
	    "another host does not verify");
	leaf_unref(l);
	leaf_unref(l2);
}

static void
test_ip(const struct ca *ca, time_t now, const char *text)
{
	char err[256], cn[128] = "";
	struct addr a;
	struct leaf *l;
	GENERAL_NAMES *gens;
	GENERAL_NAME *g;

	AZ(addr_parse(text, &a));
	l = leaf_mint(ca, NULL, &a, 30, now, err, sizeof(err));
	if (!ok(l != NULL, "mint %s", text))
		return;
	check_common(leaf_cert(l), ca, text);
	g = only_san(leaf_cert(l), &gens);
	ok(g != NULL && g->type == GEN_IPADD &&
	    ASN1_STRING_length(g->d.iPAddress) ==
	    (a.family == AF_INET ? 4 : 16) &&
	    memcmp(ASN1_STRING_get0_data(g->d.iPAddress), a.u.bytes,
	    (size_t)ASN1_STRING_length(g->d.iPAddress)) == 0,
	    "%s: one IP SAN with the address", text);
	GENERAL_NAMES_free(gens);
	X509_NAME_get_text_by_NID(X509_get_subject_name(leaf_cert(l)),
	    NID_commonName, cn, sizeof(cn));
	is_str(cn, text, "%s: CN is the address", text);
	is(verify(leaf_cert(l), ca, NULL, text, now), 1,
	    "%s: chain + IP verify", text);
	leaf_unref(l);
}

static void
test_limits(const struct ca *ca, time_t now)
{
	static const char *bad[] = {
		"", "Example.com", "a..b", ".a", "a.", "-a.com", "a-.com",
		"a b.com", "a,DNS:evil.com", "*.example.com", "1.2.3.4",
		"exa\nmple.com", "caf\xc3\xa9.com", "a/b", "a:443",
	};
	static const char *good[] = {
		"a", "xn--bcher-kva.example", "_dmarc.example.com", "1a.b2",
		"localhost",
	};
	char name[300], err[256], cn[80] = "x";
	struct leaf *l;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ok(!leaf_name_ok(bad[i]) && leaf_mint(ca, bad[i], NULL, 30,
		    now, err, sizeof(err)) == NULL, "refused name %zu", i);
	for (i = 0; i < ARRAY_SIZE(good); i++)
		ok(leaf_name_ok(good[i]), "accepted %s", good[i]);
	memset(name, 'a', 64);
	name[64] = '\0';
	ok(!leaf_name_ok(name), "64-byte label refused");
	name[63] = '\0';
	ok(leaf_name_ok(name), "63-byte label accepted");
	/* 4 x 63 + 3 dots = 255 bytes: too long; cut to 253. */
	for (i = 0; i < 4; i++) {
		memset(name + i * 64, 'b', 63);
		name[i * 64 + 63] = '.';
	}
	name[255] = '\0';
	ok(!leaf_name_ok(name), "255-byte name refused");
	name[253] = '\0';
	ok(leaf_name_ok(name), "253-byte name accepted");

	l = leaf_mint(ca, name, NULL, 30, now, err, sizeof(err));
	ok(l != NULL, "long name minted");
	if (l != NULL) {
		ok(X509_NAME_get_text_by_NID(X509_get_subject_name(
		    leaf_cert(l)), NID_commonName, cn, sizeof(cn)) < 0,
		    "long name: no CN (64-byte limit)");
		is(test_ext_critical(leaf_cert(l), NID_subject_alt_name), 1,
		    "long name: empty subject, critical SAN");
		is(verify(leaf_cert(l), ca, name, NULL, now), 1,
		    "long name verifies");
		leaf_unref(l);
	}
	ok(leaf_mint(ca, NULL, NULL, 30, now, err, sizeof(err)) == NULL,
	    "no name and no address refused");
	ok(leaf_mint(ca, "a.com", NULL, 0, now, err, sizeof(err)) == NULL,
	    "0 days refused");
	ok(leaf_mint(ca, "a.com", NULL, 30, ca_not_after(ca), err,
	    sizeof(err)) == NULL, "expired CA refused: %s", err);
}

static void
test_clamp(time_t now)
{
	struct ca *ca = test_ca_new("short", CA_KEY_P256, 5, now);
	char err[256];
	struct leaf *l = leaf_mint(ca, "example.org", NULL, 30, now + 3600,
	    err, sizeof(err));

	if (!ok(l != NULL, "mint under a short CA"))
		goto out;
	is(test_time_diff(X509_get0_notAfter(leaf_cert(l)),
	    ca_not_after(ca)), 0, "not-after clamped to the CA's");
	is(verify(leaf_cert(l), ca, "example.org", NULL, now + 3600), 1,
	    "clamped leaf verifies");
	is(verify(leaf_cert(l), ca, "example.org", NULL,
	    ca_not_after(ca) + 1), 0, "and is expired with the CA");
	leaf_unref(l);
	/* Leaf backdating never precedes the CA itself. */
	l = leaf_mint(ca, "example.org", NULL, 30, ca_not_before(ca), err,
	    sizeof(err));
	ok(l != NULL && test_time_diff(X509_get0_notBefore(leaf_cert(l)),
	    ca_not_before(ca)) == 0, "not-before not before the CA's");
	leaf_unref(l);
out:
	ca_unref(ca);
}

static void
bench(const struct ca *ca, const char *what, int n, time_t now)
{
	char name[64], err[256];
	uint64_t t0 = util_now_us(), dt;
	int i, fails = 0;

	for (i = 0; i < n; i++) {
		struct leaf *l;

		snprintf(name, sizeof(name), "host%d.example.com", i);
		l = leaf_mint(ca, name, NULL, 30, now, err, sizeof(err));
		fails += l == NULL;
		leaf_unref(l);
	}
	dt = util_now_us() - t0;
	printf("# mint time, %s CA: %.1f us per leaf (%d leaves)\n", what,
	    (double)dt / n, n);
	is(fails, 0, "%s: %d mints succeed", what, n);
}

int
main(void)
{
	time_t now = time(NULL);
	struct ca *ec = test_ca_new("leaf test CA", CA_KEY_P256, 365,
	    now - 7200);
	struct ca *rsa = test_ca_new("leaf test RSA CA", CA_KEY_RSA2048, 365,
	    now - 7200);
	struct leaf *rl;
	char err[256];

	test_dns(ec, now);
	test_ip(ec, now, "198.18.0.10");
	test_ip(ec, now, "2001:2::10");
	test_limits(ec, now);
	test_clamp(now);
	rl = leaf_mint(rsa, "rsa.example", NULL, 1, now, err, sizeof(err));
	if (ok(rl != NULL, "RSA CA mints: %s", rl ? "" : err))
		check_common(leaf_cert(rl), rsa, "rsa-signed");
	leaf_unref(rl);
	bench(ec, "EC P-256", 300, now);
	bench(rsa, "RSA 2048", 100, now);
	ca_unref(ec);
	ca_unref(rsa);
	return tap_done();
}
