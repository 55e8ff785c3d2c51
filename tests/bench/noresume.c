/*
 * noresume.c - LD_PRELOAD library for the benchmark's wrk: makes every
 * client TLS handshake a full one, and counts them.
 *
 * wrk keeps one SSL object per connection slot and re-uses it (SSL_clear)
 * after a "Connection: close" response; the object still holds the last
 * session, so the next SSL_connect() would offer it for resumption.  This
 * library wraps SSL_connect(): on the first call of each handshake (the
 * object is still "before" any handshake message) it forgets the session,
 * so the client never offers a ticket or a session id.
 * With NORESUME_KEEP=1 it only counts (the client may resume).
 *
 * At exit it writes "handshakes=N resumed=M" to $NORESUME_OUT (or stderr).
 * It is not part of gatewayd; it is built by tests/bench/run.sh.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ssl.h>

typedef int (*connect_fn)(SSL *);

static atomic_ulong nhandshakes, nresumed;

int
SSL_connect(SSL *ssl)
{
	static connect_fn real;
	static int keep = -1;
	int rc;

	if (real == NULL)
		real = (connect_fn)dlsym(RTLD_NEXT, "SSL_connect");
	if (keep == -1) {
		const char *v = getenv("NORESUME_KEEP");

		keep = v != NULL && v[0] == '1';
	}
	if (!keep && SSL_in_before(ssl) && SSL_get0_session(ssl) != NULL)
		SSL_set_session(ssl, NULL);
	rc = real(ssl);
	if (rc == 1) {
		atomic_fetch_add(&nhandshakes, 1);
		if (SSL_session_reused(ssl))
			atomic_fetch_add(&nresumed, 1);
	}
	return rc;
}

__attribute__((destructor)) static void
noresume_report(void)
{
	const char *path = getenv("NORESUME_OUT");
	FILE *f = path != NULL ? fopen(path, "w") : NULL;

	fprintf(f != NULL ? f : stderr, "handshakes=%lu resumed=%lu\n",
	    atomic_load(&nhandshakes), atomic_load(&nresumed));
	if (f != NULL)
		fclose(f);
}
