/*
 * test_ca.c - CA generation, validation on load, status info, pair writing.
 */
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ca.h"
#include "leaf.h"
#include "tap.h"
#include "certtest.h"

static char *
pem_of_key(EVP_PKEY *key, const EVP_CIPHER *enc)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	PEM_write_bio_PrivateKey(bio, key, enc, NULL, 0, NULL,
	    enc != NULL ? (void *)"secret" : NULL);
	n = BIO_get_mem_data(bio, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return out;
}

static char *
pem_of_cert(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return out;
}

/* Load from PEM strings; returns the CA or NULL with err. */
static struct ca *
load(const char *crt, const char *key, time_t now, unsigned flags, char *err)
{
	return ca_load_pem(crt, strlen(crt), key, strlen(key), now, flags, err,
	    256);
}

static void
check_generated(enum ca_key_type type, const char *want_kt, time_t now)
{
	struct ca *ca = test_ca_new("agents egress CA", type, 1095, now);
	X509 *x = ca_cert(ca);
	BASIC_CONSTRAINTS *bc;
	const ASN1_OCTET_STRING *ski, *akid;
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	struct ca_info info;
	unsigned char fp[32];
	unsigned int fplen;
	char hex[4];
	int crit = 0;

	is(X509_get_version(x), X509_VERSION_3, "%s: X.509 v3", want_kt);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	ok(bc != NULL && bc->ca && crit == 1, "%s: CA:TRUE critical", want_kt);
	ok(bc != NULL && bc->pathlen != NULL &&
	    ASN1_INTEGER_get(bc->pathlen) == 0, "%s: pathlen 0", want_kt);
	BASIC_CONSTRAINTS_free(bc);
	is(test_ext_critical(x, NID_key_usage), 1, "%s: KU critical", want_kt);
	is(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN,
	    "%s: KU keyCertSign+cRLSign only", want_kt);
	ski = X509_get0_subject_key_id(x);
	akid = X509_get0_authority_key_id(x);
	ok(ski != NULL && akid != NULL &&
	    ASN1_OCTET_STRING_cmp(ski, akid) == 0, "%s: AKI == SKI", want_kt);
	ok(bn != NULL && !BN_is_negative(bn) && BN_num_bits(bn) == 127,
	    "%s: 128-bit positive serial (%d bits)", want_kt,
	    bn ? BN_num_bits(bn) : -1);
	BN_free(bn);
	is(test_time_diff(X509_get0_notBefore(x), now), -CA_BACKDATE_SECS,
	    "%s: not-before backdated", want_kt);
	is(test_time_diff(X509_get0_notAfter(x), now), 1095L * 86400,
	    "%s: not-after now + 3 years", want_kt);
	ok(X509_verify(x, X509_get0_pubkey(x)) == 1, "%s: self-signature",
	    want_kt);
	ca_get_info(ca, &info);
	is_str(info.subject, "CN=agents egress CA", "%s: subject", want_kt);
	is_str(info.key_type, want_kt, "%s: key type", want_kt);
	ok(info.self_signed, "%s: self-signed", want_kt);
	X509_digest(x, EVP_sha256(), fp, &fplen);
	snprintf(hex, sizeof(hex), "%02X:", fp[0]);
	ok(memcmp(ca_fingerprint(ca), fp, 32) == 0 &&
	    strncmp(info.fingerprint, hex, 3) == 0 &&
	    strlen(info.fingerprint) == 95, "%s: SHA-256 fingerprint", want_kt);
	is(ca_not_after(ca), now + 1095L * 86400, "%s: not_after", want_kt);
	is(ca_days_left(ca, now), 1095, "%s: days left", want_kt);
	ca_unref(ca);
}

static void
test_generate(time_t now)
{
	struct ca_gen_params p = { "x", CA_KEY_P256, 0, now };
	enum ca_key_type t;
	char err[256];

	check_generated(CA_KEY_P256, "EC P-256", now);
	check_generated(CA_KEY_P384, "EC P-384", now);
	check_generated(CA_KEY_RSA2048, "RSA 2048", now);

	ok(ca_generate(&p, err, sizeof(err)) == NULL, "0 days refused: %s",
	    err);
	p.days = CA_MAX_DAYS + 1;
	ok(ca_generate(&p, err, sizeof(err)) == NULL, "too long refused");
	p.days = 10;
	p.cn = "";
	ok(ca_generate(&p, err, sizeof(err)) == NULL, "empty CN refused");
	ok(ca_key_type_parse("rsa3072", &t) == 0 && t == CA_KEY_RSA3072,
	    "key type parse");
	is_str(ca_key_type_str(CA_KEY_P384), "p384", "key type name");
	ok(ca_key_type_parse("rsa1024", &t) == -1, "rsa1024 not offered");
	ok(ca_key_type_parse("", &t) == -1, "empty key type refused");
}

static void
test_load(time_t now)
{
	struct ca *a = test_ca_new("A", CA_KEY_P256, 30, now);
	struct ca *b = test_ca_new("B", CA_KEY_P256, 30, now);
	char *acrt = ca_cert_pem(a, NULL), *akey = ca_key_pem(a, NULL);
	char *bkey = ca_key_pem(b, NULL), *enc, *two, err[256];
	struct ca *c;
	struct leaf *leaf;
	char *lcrt, *lkey;

	c = load(acrt, akey, now, 0, err);
	ok(c != NULL && ca_same(a, c), "PEM round trip keeps the identity");
	ca_unref(c);

	ok(load("garbage", akey, now, 0, err) == NULL &&
	    strstr(err, "not a PEM certificate") != NULL,
	    "corrupt cert: %s", err);
	acrt[40] ^= 0x11;
	ok(load(acrt, akey, now, 0, err) == NULL, "damaged base64: %s", err);
	acrt[40] ^= 0x11;
	ok(load(acrt, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE "
	    "KEY-----\n", now, 0, err) == NULL &&
	    strstr(err, "not a PEM private key") != NULL, "corrupt key: %s",
	    err);
	ok(load(acrt, bkey, now, 0, err) == NULL &&
	    strstr(err, "does not match") != NULL, "key mismatch: %s", err);
	enc = pem_of_key(ca_key(a), EVP_aes_256_cbc());
	ok(load(acrt, enc, now, 0, err) == NULL &&
	    strstr(err, "encrypted") != NULL, "encrypted key: %s", err);
	free(enc);
	ok(load(acrt, akey, now + 31L * 86400, 0, err) == NULL &&
	    strstr(err, "expired") != NULL, "expired: %s", err);
	c = load(acrt, akey, now + 31L * 86400, CA_LOAD_ALLOW_EXPIRED, err);
	ok(c != NULL && ca_days_left(c, now + 31L * 86400) == -1,
	    "expired allowed for status, days left -1");
	ca_unref(c);
	ok(load(acrt, akey, now - 7200, 0, err) == NULL &&
	    strstr(err, "not valid before") != NULL, "not yet valid: %s", err);

	two = xmalloc(2 * strlen(acrt) + 1);
	strcpy(two, acrt);
	strcat(two, acrt);
	ok(load(two, akey, now, 0, err) == NULL &&
	    strstr(err, "more than one") != NULL, "two certs: %s", err);
	free(two);

	leaf = leaf_mint(a, "example.com", NULL, 10, now, err, sizeof(err));
	AN(leaf != NULL);
	lcrt = pem_of_cert(leaf_cert(leaf));
	lkey = pem_of_key(leaf_key(leaf), NULL);
	ok(load(lcrt, lkey, now, 0, err) == NULL &&
	    strstr(err, "not a CA") != NULL, "leaf is not a CA: %s", err);
	free(lcrt);
	free(lkey);
	leaf_unref(leaf);

	free(acrt);
	free(akey);
	free(bkey);
	ca_unref(b);
	ca_ref(a);
	ca_unref(a);
	ok(ca_days_left(a, now) == 30, "reference counting keeps the CA");
	ca_unref(a);
}

/* A CA:TRUE certificate without keyUsage, and a weak RSA CA. */
static void
test_load_policy(time_t now)
{
	EVP_PKEY *key = EVP_RSA_gen(1024), *eckey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	char *crt, *pk, err[256];

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	AZ(ca_x509_set_validity(x, now - 10, now + 86400));
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"nokus", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, eckey);
	AZ(ca_x509_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE"));
	X509_sign(x, eckey, EVP_sha256());
	crt = pem_of_cert(x);
	pk = pem_of_key(eckey, NULL);
	ok(load(crt, pk, now, 0, err) == NULL &&
	    strstr(err, "keyCertSign") != NULL, "no keyUsage: %s", err);
	free(crt);
	free(pk);

	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	crt = pem_of_cert(x);
	pk = pem_of_key(key, NULL);
	ok(load(crt, pk, now, 0, err) == NULL &&
	    strstr(err, "too weak") != NULL, "RSA 1024: %s", err);
	free(crt);
	free(pk);
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_free(eckey);
}

static void
test_write(time_t now)
{
	const char *dir = test_tmpdir();
	struct ca *a = test_ca_new("W", CA_KEY_P256, 30, now), *b;
	char path[512], err[256];
	struct stat st;

	ok(ca_write_pair(a, dir, "ca", 0600, (gid_t)-1, err,
	    sizeof(err)) == 0, "write pair");
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "key 0600");
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "cert 0644");
	b = ca_load_dir(dir, err, sizeof(err));
	ok(b != NULL && ca_same(a, b), "ca_load_dir reads it back");
	ca_unref(b);
	ok(ca_write_pair(a, "/nonexistent/dir", "ca", 0600, (gid_t)-1, err,
	    sizeof(err)) == -1, "unwritable dir: %s", err);
	ok(ca_load_dir("/nonexistent/dir", err, sizeof(err)) == NULL &&
	    strstr(err, "ca.crt") != NULL, "missing dir: %s", err);
	ca_unref(a);
	test_rmtree(dir);
}

int
main(void)
{
	time_t now = time(NULL);

	test_generate(now);
	test_load(now);
	test_load_policy(now);
	test_write(now);
	return tap_done();
}
