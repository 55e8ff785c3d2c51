/*
 * test_leafreject.c - guests rejecting the minted leaf: the client's
 * alert as the server side's OpenSSL error (a real handshake over a
 * socketpair, client trusting another CA, and trusting the right one),
 * and the once-per-guest-per-window bookkeeping with a driven clock.
 */
#include "leafreject.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "certtest.h"
#include "leaf.h"
#include "tap.h"

/*
 * Handshake a client that trusts `trusted` against a server with a leaf
 * of `issuer`; returns the server's first error after the failure (0 if
 * the handshake passed).  Both ends non-blocking, stepped in turn.
 */
static bool hs_done;	/* the last handshake() completed on both ends */

static unsigned long
handshake(struct ca *issuer, struct ca *trusted)
{
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	struct leaf *leaf;
	SSL *s, *c;
	char err[256];
	unsigned long e = 0;
	int sv[2], i, rs = 0, rc = 0;
	bool cdone = false;

	AZ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	leaf = leaf_mint(issuer, "example.com", NULL, 30, time(NULL), err,
	    sizeof(err));
	AN(leaf != NULL);
	AN(X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx),
	    ca_cert(trusted)) == 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	s = SSL_new(sctx);
	c = SSL_new(cctx);
	AN(SSL_use_cert_and_key(s, leaf_cert(leaf), leaf_key(leaf), NULL,
	    1) == 1);
	SSL_set_fd(s, sv[0]);
	SSL_set_fd(c, sv[1]);
	SSL_set_tlsext_host_name(c, "example.com");
	SSL_set1_host(c, "example.com");
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	ERR_clear_error();
	for (i = 0; i < 50 && (rs != 1 || rc != 1); i++) {
		if (!cdone) {
			rc = SSL_do_handshake(c);
			cdone = rc == 1 || SSL_get_error(c, rc) == SSL_ERROR_SSL;
			ERR_clear_error();	/* the client's own errors */
		}
		if (rs != 1) {
			rs = SSL_do_handshake(s);
			if (rs <= 0 && SSL_get_error(s, rs) == SSL_ERROR_SSL) {
				e = ERR_peek_error();
				break;
			}
		}
	}
	hs_done = rs == 1 && rc == 1;
	ERR_clear_error();
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	leaf_unref(leaf);
	close(sv[0]);
	close(sv[1]);
	return e;
}

static void
test_classify(void)
{
	time_t now = time(NULL);
	struct ca *group = test_ca_new("group CA", CA_KEY_P256, 30, now);
	struct ca *other = test_ca_new("other CA", CA_KEY_P256, 30, now);
	unsigned long e;

	e = handshake(group, other);
	ok(leafreject_is_rejection(e), "client trusting another CA: the "
	    "server sees a rejection (%s)", ERR_reason_error_string(e));
	is_str(leafreject_alert_name(e), "unknown ca", "alert unknown ca");
	e = handshake(group, group);
	ok(e == 0 && hs_done, "client trusting the group CA: handshake "
	    "completes");
	ok(!leafreject_is_rejection(ERR_PACK(ERR_LIB_SSL, 0,
	    SSL_R_WRONG_VERSION_NUMBER)), "not TLS: not a rejection");
	ok(!leafreject_is_rejection(ERR_PACK(ERR_LIB_SSL, 0,
	    SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)), "protocol alert: not a "
	    "rejection of the certificate");
	ok(leafreject_is_rejection(ERR_PACK(ERR_LIB_SSL, 0,
	    SSL_R_SSLV3_ALERT_BAD_CERTIFICATE)), "bad_certificate (Go)");
	ok(leafreject_is_rejection(ERR_PACK(ERR_LIB_SSL, 0,
	    SSL_R_TLSV1_ALERT_DECRYPT_ERROR)), "decrypt_error");
	ca_unref(group);
	ca_unref(other);
}

static struct addr
A(const char *s)
{
	struct addr a;

	AZ(addr_parse(s, &a));
	return a;
}

static void
test_window(void)
{
	struct addr g1 = A("10.0.0.2"), g2 = A("10.0.0.6");
	struct addr g1m = A("::ffff:10.0.0.2");
	uint64_t t0 = 5000000, w = LEAFREJECT_WINDOW_MS, c0;
	char buf[64];
	int logged = 0, i;

	leafreject_reset();
	c0 = leafreject_count();
	ok(leafreject_note(&g1, t0, w), "first rejection: logged");
	ok(!leafreject_note(&g1, t0 + 1000, w), "second: not logged");
	ok(!leafreject_note(&g1m, t0 + 2000, w), "same guest IPv4-mapped: "
	    "not logged");
	ok(leafreject_note(&g2, t0 + 3000, w), "another guest: logged");
	ok(!leafreject_note(&g1, t0 + w - 1, w), "just inside the window");
	ok(leafreject_note(&g1, t0 + w, w), "window over: logged again");
	ok(!leafreject_note(&g1, t0 + w + 1, w), "and quiet again");
	is(leafreject_count() - c0, 7, "every rejection counted");

	/* many guests: bounded, each logged once */
	leafreject_reset();
	for (i = 0; i < 3 * LEAFREJECT_SLOTS; i++) {
		struct addr a;

		snprintf(buf, sizeof(buf), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		a = A(buf);
		logged += leafreject_note(&a, t0, w);
	}
	is(logged, 3 * LEAFREJECT_SLOTS, "three tables' worth of guests: "
	    "each logged (the table forgets the oldest)");
}

int
main(void)
{
	test_classify();
	test_window();
	return tap_done();
}
