/*
 * ca.h - a host group's certificate authority: generation, loading with
 * validation, status information and writing, on OpenSSL 3.
 *
 * A struct ca is an immutable, reference-counted pair (certificate +
 * private key) plus its SHA-256 fingerprint, which serves as the CA's
 * identity (the leaf cache keys on it, so a rotated CA can never be paired
 * with leaves of the old one).  References are atomic: any thread may
 * ca_ref()/ca_unref() and read a CA it holds a reference to.
 *
 * Directory layout (ca-tool's, read by Slicer and the gateway):
 *   <dir>/ca.crt  <dir>/ca.key          the current pair
 */
#ifndef GW_CA_H
#define GW_CA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util.h"

#define CA_FP_LEN		32		/* SHA-256 */
#define CA_FP_HEXLEN		(CA_FP_LEN * 3)	/* "AB:CD:..." + NUL */
#define CA_DEFAULT_DAYS		1095		/* 3 years */
#define CA_MAX_DAYS		36500
#define CA_BACKDATE_SECS	3600		/* clock-skew allowance */
#define CA_MAX_PEM		(256 * 1024)	/* bound on ca.crt / ca.key */

enum ca_key_type {
	CA_KEY_P256 = 0,
	CA_KEY_P384,
	CA_KEY_RSA2048,
	CA_KEY_RSA3072,
	CA_KEY_RSA4096,
};

/* "p256", "p384", "rsa2048", ... <-> enum.  parse returns 0 or -1. */
int ca_key_type_parse(const char *s, enum ca_key_type *out) WUNRES;
const char *ca_key_type_str(enum ca_key_type t);

struct ca;

struct ca_gen_params {
	const char		*cn;		/* subject CN, required */
	enum ca_key_type	key_type;
	unsigned		days;		/* validity, 1..CA_MAX_DAYS */
	time_t			now;		/* not-before = now - backdate */
};

/*
 * Make a new self-signed CA: X.509 v3, basicConstraints CA:TRUE critical
 * pathlen 0, keyUsage keyCertSign+cRLSign critical, SKI and AKI, 128-bit
 * random serial.  Returns a new reference, or NULL with err set.
 */
struct ca *ca_generate(const struct ca_gen_params *p, char *err,
    size_t errlen) WUNRES;

/* Flags for ca_load_pem() / ca_load_files(). */
#define CA_LOAD_ALLOW_EXPIRED	0x1	/* status: report, don't refuse */

/*
 * Parse a PEM certificate and a PEM private key and validate them as a
 * usable CA at time now: basicConstraints CA:TRUE, keyUsage with
 * keyCertSign, key matching the certificate, an RSA (>= 2048 bits) or EC
 * (P-256/P-384/P-521) key, within its validity period (unless
 * CA_LOAD_ALLOW_EXPIRED).  An encrypted key, a corrupt PEM or trailing
 * garbage are refused with a message naming the problem; no passphrase is
 * ever prompted for.  Returns a new reference or NULL with err set.
 */
struct ca *ca_load_pem(const char *crt, size_t crtlen, const char *key,
    size_t keylen, time_t now, unsigned flags, char *err,
    size_t errlen) WUNRES;

/* The same from two files (bounded reads; the key buffer is wiped). */
struct ca *ca_load_files(const char *crtpath, const char *keypath,
    time_t now, unsigned flags, char *err, size_t errlen) WUNRES;

/*
 * For the gateway: load <dir>/ca.crt and <dir>/ca.key, validated at the
 * current time.  Returns a new reference or NULL with err set.
 */
struct ca *ca_load_dir(const char *dir, char *err, size_t errlen) WUNRES;

struct ca *ca_ref(struct ca *ca);
/* Drop a reference; the last one frees.  NULL is a no-op. */
void ca_unref(struct ca *ca);

/* Borrowed pointers, valid while the caller holds a reference. */
X509 *ca_cert(const struct ca *ca);
EVP_PKEY *ca_key(const struct ca *ca);
const uint8_t *ca_fingerprint(const struct ca *ca);	/* CA_FP_LEN bytes */
time_t ca_not_before(const struct ca *ca);
time_t ca_not_after(const struct ca *ca);
bool ca_same(const struct ca *a, const struct ca *b);	/* same cert */

struct ca_info {
	char	subject[256];		/* RFC 2253 */
	char	fingerprint[CA_FP_HEXLEN];	/* "AB:CD:..." upper-case */
	char	key_type[80];		/* "EC P-256", "RSA 2048" */
	time_t	not_before;
	time_t	not_after;
	bool	self_signed;
};

void ca_get_info(const struct ca *ca, struct ca_info *out);

/* Whole days from now to not_after, rounded down (negative if expired). */
long ca_days_left(const struct ca *ca, time_t now);

/* PEM encodings; caller frees (and wipes the key).  NULL on failure. */
char *ca_cert_pem(const struct ca *ca, size_t *lenp) WUNRES;
char *ca_key_pem(const struct ca *ca, size_t *lenp) WUNRES;

/*
 * Write <dir>/<base>.key (key_mode, group key_gid unless (gid_t)-1) and
 * then <dir>/<base>.crt (0644), each atomically (fileio_write_atomic).
 * Two renames are not one: a reader between them can see a new key with
 * the old certificate, which ca_load_*() reports as a mismatch; ca-tool
 * builds a recoverable protocol on top (ca-tool/store.c).
 * Returns 0 or -1 with err set.
 */
int ca_write_pair(const struct ca *ca, const char *dir, const char *base,
    mode_t key_mode, gid_t key_gid, char *err, size_t errlen) WUNRES;

/* Format t as "2026-01-31T12:00:00Z" into buf (>= 21 bytes). */
void ca_format_time(time_t t, char *buf, size_t len);

/*
 * Certificate-building helpers shared with leaf.c.  Each returns 0 or -1
 * (OpenSSL error queue set).  random_serial: 128 bits, positive.
 * add_ext: one extension from its OpenSSL config text (constant strings
 * only; never pass untrusted text), issuer used for keyid:always.
 */
int ca_x509_random_serial(X509 *x) WUNRES;
int ca_x509_add_ext(X509 *x, X509 *issuer, int nid, const char *value) WUNRES;
int ca_x509_set_validity(X509 *x, time_t not_before, time_t not_after) WUNRES;

#endif
