/*
 * peek.h - parse a TLS ClientHello from the first bytes of a connection
 * (read with MSG_PEEK, so nothing is consumed from the client stream).
 *
 * Pure and thread-safe; no allocation.  RFC 8446 section 4.1.2 and
 * RFC 5246 section 7.4.1.2; SNI from RFC 6066 section 3; ALPN from
 * RFC 7301.  The hello may span several TLS records (a post-quantum key
 * share makes it ~1.7 KB and more); the parser reassembles the handshake
 * message across records.  GREASE values (RFC 8701) are ignored.
 */
#ifndef GW_PEEK_H
#define GW_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define PEEK_MAX_HELLO	16384	/* larger ClientHellos are refused */

enum peek_result {
	PEEK_OK = 0,		/* a complete ClientHello was parsed */
	PEEK_NEED_MORE,		/* a valid prefix; read more (needed says how
				 * many bytes in all, when known) */
	PEEK_NOT_TLS,		/* not a TLS handshake (plain text, SSLv2) */
	PEEK_ERR,		/* malformed TLS */
};

struct client_hello {
	uint16_t	legacy_version;		/* from the hello body */
	bool		has_sni;
	char		sni[256];		/* host_name, NUL-terminated,
						 * raw bytes (validate it!) */
	size_t		sni_len;
	bool		sni_invalid;		/* SNI present but malformed
						 * (embedded NUL, >255) */
	bool		alpn_h2;		/* "h2" offered */
	bool		alpn_http11;		/* "http/1.1" offered */
	size_t		alpn_count;
	bool		supports_tls13;		/* supported_versions has 1.3 */
	bool		has_ech;		/* encrypted_client_hello ext */
	size_t		hello_bytes;		/* bytes of records used */
};

/*
 * Parse buf[0..len).  *needed is set on PEEK_NEED_MORE to the total bytes
 * required so far (at least len + 1).  err (may be NULL) gets a static
 * reason on PEEK_ERR / PEEK_NOT_TLS.
 */
enum peek_result peek_client_hello(const uint8_t *buf, size_t len,
    struct client_hello *out, size_t *needed, const char **err)
    NONNULL(1, 3, 4);

const char *peek_result_str(enum peek_result r);

#endif
