/*
 * certtest.h - helpers for the certificate unit tests (test_ca, test_leaf,
 * test_leafcache): a throw-away CA, a temporary directory, extension
 * probes.  Static functions, included by each test.
 */
#ifndef GW_CERTTEST_H
#define GW_CERTTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/x509v3.h>

#include "ca.h"

/* A fresh CA valid from now - 1 h for days, or abort the test. */
static UNUSED struct ca *
test_ca_new(const char *cn, enum ca_key_type type, unsigned days, time_t now)
{
	struct ca_gen_params p = { cn, type, days, now };
	char err[256];
	struct ca *ca = ca_generate(&p, err, sizeof(err));

	if (ca == NULL) {
		printf("Bail out! ca_generate: %s\n", err);
		exit(1);
	}
	return ca;
}

/* mkdtemp under TMPDIR; the path is static storage. */
static UNUSED const char *
test_tmpdir(void)
{
	static char path[256];
	const char *base = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/gwtest.XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(path) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		exit(1);
	}
	return path;
}

static UNUSED void
test_rmtree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* Criticality of extension nid: 1, 0, or -1 when absent. */
static UNUSED int
test_ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	if (i < 0)
		return -1;
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* Seconds between an ASN1_TIME and t (a - t). */
static UNUSED long
test_time_diff(const ASN1_TIME *a, time_t t)
{
	int days = 0, secs = 0;
	ASN1_TIME *b = ASN1_TIME_set(NULL, t);

	if (b == NULL || ASN1_TIME_diff(&days, &secs, b, a) != 1)
		days = 1 << 20;
	ASN1_TIME_free(b);
	return (long)days * 86400 + secs;
}

#endif
