/*
 * tls.c - SSL_CTX set-up for both sides, and the upstream session cache.
 * See tls.h.  The cache is attached to the client SSL_CTX (ex_data) so it
 * lives and dies with it; it is a small hash of (host, port) -> session
 * behind one mutex, touched once per upstream handshake.
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>

#include "h2.h"
#include "log.h"

#define SESS_BUCKETS	1024
#define SESS_DEPTH	16	/* TLS 1.3 tickets kept per host:port */


struct sess_cache {
	pthread_mutex_t	lock;
	struct {
		char		key[272];
		SSL_SESSION	*sess[SESS_DEPTH];
		unsigned	n;
	} slot[SESS_BUCKETS];
};

static int sess_idx = -1;	/* SSL_CTX ex_data index, set once */
static int ssl_key_idx = -1;	/* SSL ex_data index: cache key */
static int h2_ok_idx = -1;	/* SSL ex_data index: guest may get h2 */
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

static void
sess_cache_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct sess_cache *sc = ptr;
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < SESS_BUCKETS; i++)
		while (sc->slot[i].n > 0)
			SSL_SESSION_free(sc->slot[i].sess[--sc->slot[i].n]);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

static void
ssl_key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

static void
init_indexes(void)
{
	sess_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    sess_cache_free);
	ssl_key_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_key_free);
	h2_ok_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static unsigned
sess_hash(const char *s)
{
	return util_fnv1a(s, strlen(s)) % SESS_BUCKETS;
}

/* OpenSSL calls this when the server gave us a session (ticket). */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct sess_cache *sc = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
	    sess_idx);
	const char *key = SSL_get_ex_data(ssl, ssl_key_idx);
	unsigned h;

	if (sc == NULL || key == NULL)
		return 0;
	h = sess_hash(key);
	pthread_mutex_lock(&sc->lock);
	if (strcmp(sc->slot[h].key, key) != 0 ||
	    SSL_SESSION_get_protocol_version(sess) < TLS1_3_VERSION) {
		/* another name, or a reusable TLS 1.2 session: replace */
		while (sc->slot[h].n > 0)
			SSL_SESSION_free(sc->slot[h].sess[--sc->slot[h].n]);
		util_strlcpy(sc->slot[h].key, key, sizeof(sc->slot[h].key));
	}
	if (sc->slot[h].n == SESS_DEPTH) {	/* drop the oldest */
		SSL_SESSION_free(sc->slot[h].sess[0]);
		memmove(&sc->slot[h].sess[0], &sc->slot[h].sess[1],
		    (SESS_DEPTH - 1) * sizeof(sc->slot[h].sess[0]));
		sc->slot[h].n--;
	}
	sc->slot[h].sess[sc->slot[h].n++] = sess;
	pthread_mutex_unlock(&sc->lock);
	return 1;		/* we keep the reference */
}

static SSL_SESSION *
sess_get(SSL_CTX *ctx, const char *key)
{
	struct sess_cache *sc = SSL_CTX_get_ex_data(ctx, sess_idx);
	SSL_SESSION *s = NULL;
	unsigned h;

	if (sc == NULL)
		return NULL;
	h = sess_hash(key);
	pthread_mutex_lock(&sc->lock);
	if (sc->slot[h].n > 0 && strcmp(sc->slot[h].key, key) == 0) {
		s = sc->slot[h].sess[sc->slot[h].n - 1];
		/* TLS 1.3 tickets are for one use: take the newest out. */
		if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION)
			sc->slot[h].n--;
		else
			SSL_SESSION_up_ref(s);
	}
	pthread_mutex_unlock(&sc->lock);
	return s;
}

static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char http11[] = "\x08http/1.1";
	unsigned char *sel;
	bool h2 = h2_ok_idx != -1 && SSL_get_ex_data(ssl, h2_ok_idx) != NULL;

	/* h2 only where the upstream chose it too (tls_guest_allow_h2) */
	if (SSL_select_next_proto(&sel, outlen, h2 ? h2_alpn_wire : http11,
	    h2 ? (unsigned)h2_alpn_wire_len : sizeof(http11) - 1,
	    in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;	/* no ALPN: client uses 1.1 */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static void
ssl_err(char *err, size_t errlen, const char *what)
{
	char buf[200];

	log_ssl_errstr(buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, buf);
}

#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static int
common_setup(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1)
		return -1;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	return 0;
}

SSL_CTX *
tls_server_ctx_new(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || common_setup(ctx) != 0) {
		ssl_err(err, errlen, "guest-side TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, 20000);
	SSL_CTX_set_timeout(ctx, 3600);
	/* One ticket is enough for one resumption per connection. */
	SSL_CTX_set_num_tickets(ctx, 1);
	return ctx;
}

SSL_CTX *
tls_client_ctx_new(const char *trust_file, const char *trust_dir,
    char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	struct sess_cache *sc;
	SSL_CTX *ctx;

	pthread_once(&idx_once, init_indexes);
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || common_setup(ctx) != 0) {
		ssl_err(err, errlen, "upstream TLS context");
		goto err;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (trust_file != NULL || trust_dir != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, trust_file,
		    trust_dir) != 1) {
			ssl_err(err, errlen, "loading the upstream trust store");
			goto err;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_err(err, errlen, "loading the system trust store");
		goto err;
	}
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
		ssl_err(err, errlen, "upstream ALPN");
		goto err;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	sc = xcalloc(1, sizeof(*sc));
	pthread_mutex_init(&sc->lock, NULL);
	SSL_CTX_set_ex_data(ctx, sess_idx, sc);
	return ctx;
err:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *
tls_upstream_new(SSL_CTX *ctx, BIO *bio, const char *host,
    const struct addr *ip, uint16_t port, char *err, size_t errlen)
{
	char key[272], ipbuf[INET6_ADDRSTRLEN];
	SSL_SESSION *sess;
	SSL *ssl;

	ssl = SSL_new(ctx);
	if (ssl == NULL) {
		BIO_free(bio);
		goto err;
	}
	SSL_set_bio(ssl, bio, bio);
	/* Whole-buffer reads: fewer syscalls, and a short one tells the
	 * BIO that the socket is drained. */
	SSL_set_read_ahead(ssl, 1);
	if (host != NULL) {
		if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
		    SSL_set1_host(ssl, host) != 1)
			goto err;
		snprintf(key, sizeof(key), "%s:%u", host, port);
	} else {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		addr_ntop(ip, ipbuf, sizeof(ipbuf));
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, ipbuf) != 1)
			goto err;
		snprintf(key, sizeof(key), "[%s]:%u", ipbuf, port);
	}
	SSL_set_ex_data(ssl, ssl_key_idx, xstrdup(key));
	if ((sess = sess_get(ctx, key)) != NULL) {
		SSL_set_session(ssl, sess);
		SSL_SESSION_free(sess);
	}
	return ssl;
err:
	ssl_err(err, errlen, "upstream TLS set-up");
	SSL_free(ssl);
	return NULL;
}

void
tls_upstream_alpn(SSL *ssl, bool h2, bool http11)
{
	/* h2_alpn_wire is "\x02h2\x08http/1.1": a prefix, or its tail */
	if (h2)
		(void)SSL_set_alpn_protos(ssl, h2_alpn_wire, http11 ?
		    (unsigned)h2_alpn_wire_len : 3);
}

void
tls_guest_allow_h2(SSL *ssl)
{
	pthread_once(&idx_once, init_indexes);
	SSL_set_ex_data(ssl, h2_ok_idx, (void *)1);
}

void
tls_upstream_failure(SSL *ssl, char *buf, size_t len)
{
	long vr = SSL_get_verify_result(ssl);

	if (vr != X509_V_OK) {
		ERR_clear_error();
		snprintf(buf, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
		return;
	}
	log_ssl_errstr(buf, len);
}
