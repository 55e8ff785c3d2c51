/*
 * ca.c - a host group's CA pair: generate, load and validate, describe,
 * write.
 *
 * This module holds no global state and knows one directory layout only
 * (ca.crt + ca.key, see ca_load_dir()); the rotation policy, the previous
 * and staged pairs and the crash-recovery protocol belong to ca-tool
 * (ca-tool/store.c).  It never prompts for a passphrase: an encrypted key
 * is an error.  Leaves are made by leaf.c with the helpers at the end.
 */
#include "ca.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "fileio.h"
#include "log.h"

#define CA_MAGIC	0x43416b31u

struct ca {
	unsigned	magic;
	atomic_uint	refs;
	X509		*cert;
	EVP_PKEY	*key;
	uint8_t		fp[CA_FP_LEN];
	time_t		not_before;
	time_t		not_after;
};

static const struct {
	const char		*name;
	enum ca_key_type	type;
	const char		*alg;		/* "EC" curve or "RSA" */
	unsigned		bits;
} key_types[] = {
	{ "p256",	CA_KEY_P256,	"P-256",	256 },
	{ "p384",	CA_KEY_P384,	"P-384",	384 },
	{ "rsa2048",	CA_KEY_RSA2048,	"RSA",		2048 },
	{ "rsa3072",	CA_KEY_RSA3072,	"RSA",		3072 },
	{ "rsa4096",	CA_KEY_RSA4096,	"RSA",		4096 },
};

static void PRINTF(3, 4)
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* err = "<what>: <last OpenSSL error>", and the queue is cleared. */
static void
setsslerr(char *err, size_t errlen, const char *what)
{
	char buf[200];

	log_ssl_errstr(buf, sizeof(buf));
	seterr(err, errlen, "%s (%s)", what, buf);
}

int
ca_key_type_parse(const char *s, enum ca_key_type *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(key_types); i++) {
		if (strcmp(s, key_types[i].name) == 0) {
			*out = key_types[i].type;
			return 0;
		}
	}
	return -1;
}

const char *
ca_key_type_str(enum ca_key_type t)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(key_types); i++)
		if (key_types[i].type == t)
			return key_types[i].name;
	return "unknown";
}

void
ca_format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		util_strlcpy(buf, "?", len);
}

static time_t
asn1_to_time(const ASN1_TIME *a)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
		return (time_t)-1;
	return timegm(&tm);
}

/* Wrap a validated cert and key (references taken over) in a struct ca. */
static struct ca *
ca_wrap(X509 *cert, EVP_PKEY *key, char *err, size_t errlen)
{
	struct ca *ca;
	unsigned int n = 0;

	ca = xcalloc(1, sizeof(*ca));
	ca->magic = CA_MAGIC;
	atomic_init(&ca->refs, 1);
	ca->cert = cert;
	ca->key = key;
	ca->not_before = asn1_to_time(X509_get0_notBefore(cert));
	ca->not_after = asn1_to_time(X509_get0_notAfter(cert));
	if (X509_digest(cert, EVP_sha256(), ca->fp, &n) != 1 ||
	    n != CA_FP_LEN) {
		setsslerr(err, errlen, "certificate digest failed");
		goto err;
	}
	if (ca->not_before == (time_t)-1 || ca->not_after == (time_t)-1) {
		seterr(err, errlen, "certificate has unreadable validity dates");
		goto err;
	}
	return ca;
err:
	ca_unref(ca);
	return NULL;
}

/* ---- helpers shared with leaf.c ---------------------------------------- */

int
ca_x509_random_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	int rc = -1;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	/* Positive, and the full 16 bytes long. */
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		goto out;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

int
ca_x509_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

int
ca_x509_set_validity(X509 *x, time_t not_before, time_t not_after)
{
	if (ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL)
		return -1;
	return 0;
}

/* ---- generation ------------------------------------------------------------- */

static EVP_PKEY *
keygen(enum ca_key_type t)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(key_types); i++) {
		if (key_types[i].type != t)
			continue;
		if (strcmp(key_types[i].alg, "RSA") == 0)
			return EVP_RSA_gen(key_types[i].bits);
		return EVP_EC_gen(key_types[i].alg);
	}
	return NULL;
}

struct ca *
ca_generate(const struct ca_gen_params *p, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	const EVP_MD *md;

	if (p->cn == NULL || p->cn[0] == '\0' || strlen(p->cn) > 64) {
		seterr(err, errlen, "common name must be 1..64 bytes");
		return NULL;
	}
	if (p->days < 1 || p->days > CA_MAX_DAYS) {
		seterr(err, errlen, "validity must be 1..%u days", CA_MAX_DAYS);
		return NULL;
	}
	if ((key = keygen(p->key_type)) == NULL) {
		setsslerr(err, errlen, "key generation failed");
		goto err;
	}
	if ((x = X509_new()) == NULL || X509_set_version(x, X509_VERSION_3) != 1)
		goto sslerr;
	if (ca_x509_random_serial(x) == -1 ||
	    ca_x509_set_validity(x, p->now - CA_BACKDATE_SECS,
	    p->now + (time_t)p->days * 86400) == -1)
		goto sslerr;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)p->cn, -1, -1, 0) != 1) {
		setsslerr(err, errlen, "bad common name");
		goto err;
	}
	if (X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
		goto sslerr;
	/* SKI before AKI: keyid:always copies it from the issuer (us). */
	if (ca_x509_add_ext(x, x, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") == -1 ||
	    ca_x509_add_ext(x, x, NID_key_usage,
	    "critical,keyCertSign,cRLSign") == -1 ||
	    ca_x509_add_ext(x, x, NID_subject_key_identifier, "hash") == -1 ||
	    ca_x509_add_ext(x, x, NID_authority_key_identifier,
	    "keyid:always") == -1)
		goto sslerr;
	md = p->key_type == CA_KEY_P384 ? EVP_sha384() : EVP_sha256();
	if (X509_sign(x, key, md) <= 0)
		goto sslerr;
	return ca_wrap(x, key, err, errlen);
sslerr:
	setsslerr(err, errlen, "building the CA certificate failed");
err:
	X509_free(x);
	EVP_PKEY_free(key);
	return NULL;
}

/* ---- loading and validation -------------------------------------------- */

static int
nopass_cb(char *buf, int size, int rwflag, void *u)
{
	*(int *)u = 1;
	return -1;
}

/* Does any PEM block start after the first one? */
static bool
has_second_pem(const char *s, size_t len)
{
	const char *end = memmem(s, len, "-----END", 8), *next;

	if (end == NULL)
		return false;
	next = memmem(end + 8, len - (size_t)(end + 8 - s), "-----BEGIN", 10);
	return next != NULL;
}

static int
check_key_kind(EVP_PKEY *key, const char *keyname, char *err, size_t errlen)
{
	char group[64];
	int id = EVP_PKEY_get_base_id(key);

	if (id == EVP_PKEY_RSA) {
		if (EVP_PKEY_get_bits(key) < 2048) {
			seterr(err, errlen, "%s: RSA key of %d bits is too "
			    "weak (2048 at least)", keyname,
			    EVP_PKEY_get_bits(key));
			return -1;
		}
		return 0;
	}
	if (id == EVP_PKEY_EC && EVP_PKEY_get_utf8_string_param(key,
	    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1 &&
	    (strcmp(group, "prime256v1") == 0 ||
	    strcmp(group, "secp384r1") == 0 || strcmp(group, "secp521r1") == 0))
		return 0;
	ERR_clear_error();
	seterr(err, errlen, "%s: unsupported key type (use RSA >= 2048 or EC "
	    "P-256/P-384/P-521)", keyname);
	return -1;
}

static int
check_cert(X509 *cert, EVP_PKEY *key, time_t now, unsigned flags,
    const char *crtname, const char *keyname, char *err, size_t errlen)
{
	uint32_t xf = X509_get_extension_flags(cert);
	time_t nb, na;

	if (xf & EXFLAG_INVALID) {
		seterr(err, errlen, "%s: certificate has invalid extensions",
		    crtname);
		return -1;
	}
	if (!(xf & EXFLAG_BCONS) || !(xf & EXFLAG_CA)) {
		seterr(err, errlen, "%s: not a CA certificate (needs "
		    "basicConstraints CA:TRUE)", crtname);
		return -1;
	}
	if (!(xf & EXFLAG_KUSAGE) ||
	    !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN)) {
		seterr(err, errlen, "%s: CA certificate lacks keyUsage "
		    "keyCertSign", crtname);
		return -1;
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		seterr(err, errlen, "%s: private key does not match %s",
		    keyname, crtname);
		return -1;
	}
	nb = asn1_to_time(X509_get0_notBefore(cert));
	na = asn1_to_time(X509_get0_notAfter(cert));
	if (flags & CA_LOAD_ALLOW_EXPIRED)
		return 0;
	if (na != (time_t)-1 && na <= now) {
		char t[32];

		ca_format_time(na, t, sizeof(t));
		seterr(err, errlen, "%s: CA certificate expired at %s",
		    crtname, t);
		return -1;
	}
	if (nb != (time_t)-1 && nb > now) {
		char t[32];

		ca_format_time(nb, t, sizeof(t));
		seterr(err, errlen, "%s: CA certificate is not valid before %s",
		    crtname, t);
		return -1;
	}
	return 0;
}

static struct ca *
load_pem(const char *crt, size_t crtlen, const char *crtname,
    const char *keypem, size_t keylen, const char *keyname, time_t now,
    unsigned flags, char *err, size_t errlen)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	int asked = 0;

	if (crtlen > CA_MAX_PEM || keylen > CA_MAX_PEM) {
		seterr(err, errlen, "PEM input too large");
		return NULL;
	}
	if ((bio = BIO_new_mem_buf(crt, (int)crtlen)) == NULL)
		goto sslerr;
	cert = PEM_read_bio_X509(bio, NULL, nopass_cb, &asked);
	BIO_free(bio);
	if (cert == NULL) {
		char what[300];

		snprintf(what, sizeof(what), "%s: not a PEM certificate",
		    crtname);
		setsslerr(err, errlen, what);
		goto err;
	}
	if (has_second_pem(crt, crtlen)) {
		seterr(err, errlen, "%s: holds more than one PEM block; give "
		    "the CA certificate alone", crtname);
		goto err;
	}
	if ((bio = BIO_new_mem_buf(keypem, (int)keylen)) == NULL)
		goto sslerr;
	key = PEM_read_bio_PrivateKey(bio, NULL, nopass_cb, &asked);
	BIO_free(bio);
	if (key == NULL) {
		if (asked) {
			ERR_clear_error();
			seterr(err, errlen, "%s: the private key is encrypted; "
			    "decrypt it first (openssl pkey -in KEY -out "
			    "PLAIN)", keyname);
		} else {
			char what[300];

			snprintf(what, sizeof(what), "%s: not a PEM private "
			    "key", keyname);
			setsslerr(err, errlen, what);
		}
		goto err;
	}
	if (has_second_pem(keypem, keylen)) {
		seterr(err, errlen, "%s: holds more than one PEM block",
		    keyname);
		goto err;
	}
	if (check_key_kind(key, keyname, err, errlen) == -1 ||
	    check_cert(cert, key, now, flags, crtname, keyname, err,
	    errlen) == -1)
		goto err;
	return ca_wrap(cert, key, err, errlen);
sslerr:
	setsslerr(err, errlen, "out of memory");
err:
	X509_free(cert);
	EVP_PKEY_free(key);
	return NULL;
}

struct ca *
ca_load_pem(const char *crt, size_t crtlen, const char *key, size_t keylen,
    time_t now, unsigned flags, char *err, size_t errlen)
{
	return load_pem(crt, crtlen, "certificate", key, keylen, "key", now,
	    flags, err, errlen);
}

struct ca *
ca_load_files(const char *crtpath, const char *keypath, time_t now,
    unsigned flags, char *err, size_t errlen)
{
	char *crt = NULL, *key = NULL;
	size_t crtlen = 0, keylen = 0;
	struct ca *ca = NULL;

	if (fileio_read(crtpath, CA_MAX_PEM, &crt, &crtlen, err, errlen) ==
	    -1 ||
	    fileio_read(keypath, CA_MAX_PEM, &key, &keylen, err, errlen) == -1)
		goto out;
	ca = load_pem(crt, crtlen, crtpath, key, keylen, keypath, now, flags,
	    err, errlen);
out:
	free(crt);
	if (key != NULL) {
		util_wipe(key, keylen);
		free(key);
	}
	return ca;
}

struct ca *
ca_load_dir(const char *dir, char *err, size_t errlen)
{
	char crt[4096], key[4096];

	if ((size_t)snprintf(crt, sizeof(crt), "%s/ca.crt", dir) >=
	    sizeof(crt) ||
	    (size_t)snprintf(key, sizeof(key), "%s/ca.key", dir) >=
	    sizeof(key)) {
		seterr(err, errlen, "%s: path too long", dir);
		return NULL;
	}
	return ca_load_files(crt, key, time(NULL), 0, err, errlen);
}

/* ---- references and accessors ---------------------------------------- */

struct ca *
ca_ref(struct ca *ca)
{
	AN(ca != NULL && ca->magic == CA_MAGIC);
	atomic_fetch_add_explicit(&ca->refs, 1, memory_order_relaxed);
	return ca;
}

void
ca_unref(struct ca *ca)
{
	if (ca == NULL)
		return;
	AN(ca->magic == CA_MAGIC);
	if (atomic_fetch_sub_explicit(&ca->refs, 1, memory_order_acq_rel) != 1)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->magic = 0;
	free(ca);
}

X509 *
ca_cert(const struct ca *ca)
{
	return ca->cert;
}

EVP_PKEY *
ca_key(const struct ca *ca)
{
	return ca->key;
}

const uint8_t *
ca_fingerprint(const struct ca *ca)
{
	return ca->fp;
}

time_t
ca_not_before(const struct ca *ca)
{
	return ca->not_before;
}

time_t
ca_not_after(const struct ca *ca)
{
	return ca->not_after;
}

bool
ca_same(const struct ca *a, const struct ca *b)
{
	return memcmp(a->fp, b->fp, CA_FP_LEN) == 0;
}

long
ca_days_left(const struct ca *ca, time_t now)
{
	long long d = (long long)ca->not_after - (long long)now;

	/* Round toward minus infinity so an expired CA is negative. */
	return (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

void
ca_get_info(const struct ca *ca, struct ca_info *out)
{
	char group[64];
	BIO *bio;
	size_t i;
	int n;

	memset(out, 0, sizeof(*out));
	out->not_before = ca->not_before;
	out->not_after = ca->not_after;
	for (i = 0; i < CA_FP_LEN; i++)
		snprintf(out->fingerprint + i * 3, 4, i + 1 < CA_FP_LEN ?
		    "%02X:" : "%02X", ca->fp[i]);
	if ((bio = BIO_new(BIO_s_mem())) != NULL) {
		X509_NAME_print_ex(bio, X509_get_subject_name(ca->cert), 0,
		    XN_FLAG_RFC2253);
		n = BIO_read(bio, out->subject, sizeof(out->subject) - 1);
		out->subject[n > 0 ? n : 0] = '\0';
		BIO_free(bio);
	}
	if (EVP_PKEY_get_base_id(ca->key) == EVP_PKEY_RSA) {
		snprintf(out->key_type, sizeof(out->key_type), "RSA %d",
		    EVP_PKEY_get_bits(ca->key));
	} else if (EVP_PKEY_get_utf8_string_param(ca->key,
	    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1) {
		const char *nist = strcmp(group, "prime256v1") == 0 ? "P-256" :
		    strcmp(group, "secp384r1") == 0 ? "P-384" :
		    strcmp(group, "secp521r1") == 0 ? "P-521" : group;

		snprintf(out->key_type, sizeof(out->key_type), "EC %s", nist);
	} else {
		util_strlcpy(out->key_type, "unknown", sizeof(out->key_type));
	}
	out->self_signed = X509_self_signed(ca->cert, 1) == 1;
	ERR_clear_error();
}

/* ---- output ------------------------------------------------------------ */

static char *
bio_take(BIO *bio, size_t *lenp)
{
	char *data, *out;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0)
		return NULL;
	out = xmalloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)n;
	return out;
}

char *
ca_cert_pem(const struct ca *ca, size_t *lenp)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *out = NULL;

	if (bio != NULL && PEM_write_bio_X509(bio, ca->cert) == 1)
		out = bio_take(bio, lenp);
	BIO_free(bio);
	return out;
}

char *
ca_key_pem(const struct ca *ca, size_t *lenp)
{
	/* secmem: the buffer is cleansed when the BIO is freed. */
	BIO *bio = BIO_new(BIO_s_secmem());
	char *out = NULL;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, ca->key, NULL, NULL,
	    0, NULL, NULL) == 1)
		out = bio_take(bio, lenp);
	BIO_free(bio);
	return out;
}

int
ca_write_pair(const struct ca *ca, const char *dir, const char *base,
    mode_t key_mode, gid_t key_gid, char *err, size_t errlen)
{
	char path[4096], *pem;
	size_t len = 0;
	int rc;

	if ((pem = ca_key_pem(ca, &len)) == NULL) {
		setsslerr(err, errlen, "encoding the key failed");
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", dir, base) >=
	    sizeof(path)) {
		seterr(err, errlen, "%s: path too long", dir);
		rc = -1;
	} else {
		rc = fileio_write_atomic(path, pem, len, key_mode, key_gid,
		    err, errlen);
	}
	util_wipe(pem, len);
	free(pem);
	if (rc == -1)
		return -1;
	if ((pem = ca_cert_pem(ca, &len)) == NULL) {
		setsslerr(err, errlen, "encoding the certificate failed");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s.crt", dir, base);
	rc = fileio_write_atomic(path, pem, len, 0644, (gid_t)-1, err, errlen);
	free(pem);
	return rc;
}
