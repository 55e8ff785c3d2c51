/*
 * fuzz_peek.c - fuzz target for peek.c (the ClientHello parser).
 *
 * Invariants checked (abort on failure): the result is one of the four;
 * on NEED_MORE, needed > len; on OK, hello_bytes <= len, the SNI is
 * NUL-terminated at sni_len and an invalid SNI is empty, ALPN counts
 * cover the flags, and re-parsing exactly hello_bytes gives the same
 * hello while one byte less needs more; a prefix of a NEED_MORE input
 * needs more as well.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum peek_result
reparse(const uint8_t *data, size_t n, struct client_hello *ch,
    size_t *needed)
{
	uint8_t *p = malloc(n ? n : 1);
	enum peek_result r;

	AN(p != NULL);
	memcpy(p, data, n);
	r = peek_client_hello(p, n, ch, needed, NULL);
	free(p);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_hello ch, again;
	const char *err = NULL;
	size_t needed, needed2, k;
	enum peek_result r;

	r = peek_client_hello(data, size, &ch, &needed, &err);
	AN(r == PEEK_OK || r == PEEK_NEED_MORE || r == PEEK_NOT_TLS ||
	    r == PEEK_ERR);
	AN(peek_result_str(r) != NULL);
	switch (r) {
	case PEEK_NEED_MORE:
		AN(needed > size);
		if (size > 0) {
			k = data[size - 1] % size;
			AN(reparse(data, k, &again, &needed2) ==
			    PEEK_NEED_MORE);
			AN(needed2 > k);
		}
		break;
	case PEEK_OK:
		AN(ch.hello_bytes > 0 && ch.hello_bytes <= size);
		AN(ch.sni_len < sizeof(ch.sni));
		AN(ch.sni[ch.sni_len] == '\0');
		AN(strlen(ch.sni) == ch.sni_len);
		AN(!ch.sni_invalid || (ch.has_sni && ch.sni_len == 0));
		AN(ch.has_sni || ch.sni_len == 0);
		AN(ch.alpn_count >= (size_t)ch.alpn_h2 + ch.alpn_http11);
		AN(reparse(data, ch.hello_bytes, &again, &needed2) == PEEK_OK);
		AN(memcmp(&ch, &again, sizeof(ch)) == 0);
		AN(reparse(data, ch.hello_bytes - 1, &again, &needed2) ==
		    PEEK_NEED_MORE);
		break;
	default:
		AN(err != NULL);
		break;
	}
	return 0;
}
