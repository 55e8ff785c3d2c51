/*
 * tls.h - OpenSSL contexts for both sides of an intercepted connection,
 * and the upstream session cache.
 *
 * Guest side: TLS 1.2 and 1.3, AEAD ciphers with forward secrecy only,
 * session tickets for resumption, ALPN answered with "http/1.1", or
 * "h2" where the upstream chose h2 for the same flow (mirroring), the
 * leaf set per connection from the leaf cache.
 * Upstream side: TLS 1.2 minimum, the chain verified against the
 * configured bundle (or the system store) and the host name or IP
 * verified per connection; sessions are cached per (name, port) and
 * offered again to cut the cost of full handshakes.
 *
 * The SSL_CTXs are immutable after creation and shared by all workers.
 */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "addr.h"

SSL_CTX *tls_server_ctx_new(char *err, size_t errlen) WUNRES;
/* The session cache lives with the ctx and is freed with it. */
SSL_CTX *tls_client_ctx_new(const char *trust_file, const char *trust_dir,
    char *err, size_t errlen) WUNRES;

/*
 * New upstream SSL over bio (ownership passes to the SSL, also on
 * failure) for host (normalised name, or NULL with ip set): SNI, host/IP
 * verification and a cached session are set.  NULL on failure (OpenSSL
 * errors drained into err).
 */
SSL *tls_upstream_new(SSL_CTX *ctx, BIO *bio, const char *host,
    const struct addr *ip, uint16_t port, char *err, size_t errlen);

/*
 * ALPN mirroring (docs/architecture.md).  tls_upstream_alpn: offer the
 * upstream what the guest offered of h2 and http/1.1 (the default list,
 * "http/1.1" alone, stays when the guest offered no h2).
 * tls_guest_allow_h2: the guest's handshake may select h2, because the
 * upstream did.  Call both before the handshake.
 */
void tls_upstream_alpn(SSL *ssl, bool h2, bool http11);
void tls_guest_allow_h2(SSL *ssl);

/*
 * A short reason for a failed upstream handshake: the verify result
 * ("certificate has expired", "hostname mismatch", ...) if verification
 * failed, else OpenSSL's error.
 */
void tls_upstream_failure(SSL *ssl, char *buf, size_t len);

#endif
