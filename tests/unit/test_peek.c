/*
 * Unit tests for peek.c: ClientHellos made by OpenSSL itself (SNI, ALPN,
 * a post-quantum-sized extension, split over many records by OpenSSL and
 * by hand), truncation at every length, and hand-made vectors (no SNI,
 * GREASE, bad SNI, ECH, SSLv2, plain HTTP, garbage).
 *
 * With "--write-corpus DIR" it writes the hellos as fuzz seeds instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "peek.h"
#include "tap.h"

#define BIG_EXT_TYPE	0xfe99		/* unassigned; stands for a PQ share */
#define MAXBUF		(PEEK_MAX_HELLO * 2)

struct bytes {
	uint8_t	b[MAXBUF];
	size_t	n;
};

static void
put8(struct bytes *o, unsigned v)
{
	if (o->n < sizeof(o->b))
		o->b[o->n++] = (uint8_t)v;
}

static void
put16(struct bytes *o, unsigned v)
{
	put8(o, v >> 8);
	put8(o, v & 0xff);
}

static void
putn(struct bytes *o, const void *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put8(o, ((const uint8_t *)p)[i]);
}

static int
big_ext_add(SSL *s, unsigned int type, unsigned int ctx,
    const unsigned char **out, size_t *outlen, X509 *x, size_t chainidx,
    int *al, void *arg)
{
	static unsigned char data[4096];

	memset(data, 0x5a, sizeof(data));
	*out = data;
	*outlen = (size_t)(uintptr_t)arg;
	return 1;
}

struct gen {
	const char	*sni;		/* NULL: none */
	bool		 alpn;		/* h2 and http/1.1 */
	size_t		 big;		/* size of an extra extension, or 0 */
	unsigned	 max_frag;	/* OpenSSL record size, or 0 */
	bool		 tls12;		/* cap at TLS 1.2 */
};

/* Let an OpenSSL client write its first flight into o. */
static int
gen_hello(const struct gen *g, struct bytes *o)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	BIO *inner = NULL, *net = NULL;
	int r, rc = -1;

	o->n = 0;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		goto out;
	if (g->big > 0 && SSL_CTX_add_custom_ext(ctx, BIG_EXT_TYPE,
	    SSL_EXT_CLIENT_HELLO, big_ext_add, NULL, (void *)(uintptr_t)g->big,
	    NULL, NULL) != 1)
		goto out;
	if (g->tls12 && SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto out;
	ssl = SSL_new(ctx);
	if (ssl == NULL || BIO_new_bio_pair(&inner, 0, &net, 0) != 1)
		goto out;
	SSL_set_bio(ssl, inner, inner);
	SSL_set_connect_state(ssl);
	if (g->sni != NULL && SSL_set_tlsext_host_name(ssl, g->sni) != 1)
		goto out;
	if (g->alpn && SSL_set_alpn_protos(ssl,
	    (const unsigned char *)"\x02h2\x08http/1.1", 12) != 0)
		goto out;
	if (g->max_frag != 0 && SSL_set_max_send_fragment(ssl, g->max_frag) != 1)
		goto out;
	r = SSL_do_handshake(ssl);
	if (r != -1 || SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
		goto out;
	r = BIO_read(net, o->b, (int)sizeof(o->b));
	if (r <= 0)
		goto out;
	o->n = (size_t)r;
	rc = 0;
out:
	ERR_clear_error();
	SSL_free(ssl);		/* frees inner */
	BIO_free(net);
	SSL_CTX_free(ctx);
	return rc;
}

/* The handshake bytes of a well-formed record stream. */
static void
records_to_hs(const struct bytes *rec, struct bytes *hs)
{
	size_t off = 0, rlen;

	hs->n = 0;
	while (off + 5 <= rec->n) {
		rlen = (size_t)rec->b[off + 3] << 8 | rec->b[off + 4];
		putn(hs, rec->b + off + 5, MIN(rlen, rec->n - off - 5));
		off += 5 + rlen;
	}
}

/* Wrap handshake bytes into records whose sizes cycle through sizes[]. */
static void
hs_to_records(const struct bytes *hs, const size_t *sizes, size_t nsizes,
    struct bytes *rec)
{
	size_t off = 0, i = 0, n;

	rec->n = 0;
	while (off < hs->n) {
		n = MIN(sizes[i++ % nsizes], hs->n - off);
		put8(rec, 22);
		put16(rec, 0x0301);
		put16(rec, (unsigned)n);
		putn(rec, hs->b + off, n);
		off += n;
	}
}

/* Parse exactly n bytes from a heap copy, so ASan sees any over-read. */
static enum peek_result
peek(const uint8_t *b, size_t n, struct client_hello *ch, size_t *needed)
{
	uint8_t *p = malloc(n ? n : 1);
	enum peek_result r;
	const char *err;

	if (p == NULL)
		abort();
	memcpy(p, b, n);
	r = peek_client_hello(p, n, ch, needed, &err);
	free(p);
	return r;
}

/* Every proper prefix must ask for more, with a sane needed count. */
static void
check_prefixes(const struct bytes *o, const char *what)
{
	struct client_hello ch;
	size_t k, needed;
	int bad = 0;

	for (k = 0; k < o->n; k++)
		if (peek(o->b, k, &ch, &needed) != PEEK_NEED_MORE ||
		    needed <= k || needed > o->n)
			bad++;
	is(bad, 0, "%s: each of %zu prefixes needs more", what, o->n);
}

static void
test_openssl_hellos(void)
{
	static const struct gen plain = { "www.example.com", true, 0, 0, false };
	static const struct gen nosni = { NULL, false, 0, 0, false };
	static const struct gen big = { "pq.example.net", true, 1600, 0, false };
	static const struct gen frag = { "frag.example", true, 3000, 512, false };
	static const struct gen tls12 = { "old.example", false, 0, 0, true };
	static const size_t sizes[] = { 100, 1, 7, 300, 2, 1000 };
	struct client_hello ch;
	struct bytes o, hs, re;
	size_t needed;
	int r;

	r = gen_hello(&plain, &o);
	ok(r == 0, "OpenSSL made a hello (%zu bytes)", o.n);
	is(peek(o.b, o.n, &ch, &needed), PEEK_OK, "plain hello parses");
	ok(ch.has_sni && !ch.sni_invalid, "has SNI");
	is_str(ch.sni, "www.example.com", "SNI value");
	is(ch.sni_len, 15, "SNI length");
	ok(ch.alpn_h2 && ch.alpn_http11, "ALPN h2 and http/1.1");
	is(ch.alpn_count, 2, "two ALPN protocols");
	ok(ch.supports_tls13, "TLS 1.3 offered");
	ok(!ch.has_ech, "no ECH");
	is(ch.legacy_version, 0x0303, "legacy_version 1.2");
	is(ch.hello_bytes, o.n, "hello_bytes covers the record");
	check_prefixes(&o, "plain hello");

	ok(gen_hello(&nosni, &o) == 0, "hello without SNI");
	is(peek(o.b, o.n, &ch, &needed), PEEK_OK, "no-SNI hello parses");
	ok(!ch.has_sni && ch.sni_len == 0 && ch.sni[0] == '\0', "no SNI");
	ok(!ch.alpn_h2 && !ch.alpn_http11 && ch.alpn_count == 0, "no ALPN");

	ok(gen_hello(&tls12, &o) == 0, "TLS 1.2-only hello");
	is(peek(o.b, o.n, &ch, &needed), PEEK_OK, "TLS 1.2 hello parses");
	ok(!ch.supports_tls13, "no TLS 1.3");
	is_str(ch.sni, "old.example", "TLS 1.2 SNI");

	r = gen_hello(&big, &o);
	ok(r == 0 && o.n > 1700, "PQ-sized hello (%zu)", o.n);
	is(peek(o.b, o.n, &ch, &needed), PEEK_OK, "PQ-sized hello parses");
	is_str(ch.sni, "pq.example.net", "PQ-sized SNI");
	records_to_hs(&o, &hs);
	hs_to_records(&hs, sizes, ARRAY_SIZE(sizes), &re);
	ok(re.n > o.n + 5 * 10, "re-split into many records (%zu bytes)",
	    re.n);
	is(peek(re.b, re.n, &ch, &needed), PEEK_OK, "re-split hello parses");
	is_str(ch.sni, "pq.example.net", "re-split SNI");
	ok(ch.alpn_h2 && ch.alpn_http11, "re-split ALPN");
	is(ch.hello_bytes, re.n, "re-split hello_bytes");
	check_prefixes(&re, "re-split hello");

	ok(gen_hello(&frag, &o) == 0, "OpenSSL hello in 512-byte records");
	ok(o.n > 3000 && o.b[3] == 2 && o.b[4] == 0, "first record is 512");
	is(peek(o.b, o.n, &ch, &needed), PEEK_OK, "fragmented hello parses");
	is_str(ch.sni, "frag.example", "fragmented SNI");
	check_prefixes(&o, "fragmented hello");

	/* Something after the hello (0-RTT data, say) is not looked at. */
	put8(&o, 23);
	put16(&o, 0x0303);
	put16(&o, 1);
	put8(&o, 0);
	is(peek(o.b, o.n, &ch, &needed), PEEK_OK, "bytes after hello ignored");
	is(ch.hello_bytes, o.n - 6, "hello_bytes stops at the hello");
}

/* A hand-made hello with the given extension block (or none if NULL). */
static void
make_hello(const struct bytes *exts, uint16_t version, struct bytes *o)
{
	struct bytes body;
	static const uint8_t random[32];

	body.n = 0;
	put16(&body, version);
	putn(&body, random, sizeof(random));
	put8(&body, 0);			/* session id */
	put16(&body, 4);		/* cipher suites */
	put16(&body, 0x1a1a);		/* GREASE */
	put16(&body, 0x1301);
	put8(&body, 1);			/* compression */
	put8(&body, 0);
	if (exts != NULL) {
		put16(&body, (unsigned)exts->n);
		putn(&body, exts->b, exts->n);
	}
	o->n = 0;
	put8(o, 22);
	put16(o, 0x0301);
	put16(o, (unsigned)body.n + 4);
	put8(o, 1);
	put8(o, 0);
	put16(o, (unsigned)body.n);
	putn(o, body.b, body.n);
}

static void
ext_sni(struct bytes *e, const void *name, size_t n)
{
	put16(e, 0);
	put16(e, (unsigned)n + 5);
	put16(e, (unsigned)n + 3);
	put8(e, 0);
	put16(e, (unsigned)n);
	putn(e, name, n);
}

static void
ext_raw(struct bytes *e, unsigned type, const void *data, size_t n)
{
	put16(e, type);
	put16(e, (unsigned)n);
	putn(e, data, n);
}

struct hand_vec {
	const char		*name;
	void			(*build)(struct bytes *e);
	enum peek_result	 expect;
};

static void
b_none(struct bytes *e)
{
	(void)e;
}

static void
b_grease(struct bytes *e)
{
	ext_raw(e, 0x0a0a, "", 0);
	ext_sni(e, "grease.example", 14);
	ext_raw(e, 16, "\x00\x09\x02\x6a\x6a\x02h2\x02\x3a\x3a", 11);
	ext_raw(e, 43, "\x06\x7a\x7a\x03\x04\x03\x03", 7);
	ext_raw(e, 0xfafa, "\x00", 1);
}

static void
b_nul(struct bytes *e)
{
	ext_sni(e, "a\0b.example", 11);
}

static void
b_long(struct bytes *e)
{
	char name[300];

	memset(name, 'a', sizeof(name));
	ext_sni(e, name, sizeof(name));
}

static void
b_255(struct bytes *e)
{
	char name[255];

	memset(name, 'b', sizeof(name));
	ext_sni(e, name, sizeof(name));
}

static void
b_ech(struct bytes *e)
{
	ext_sni(e, "public.example", 14);
	ext_raw(e, 0xfe0d, "\x00\x00\x01\x00\x01\x00", 6);
}

static void
b_two_names(struct bytes *e)
{
	ext_raw(e, 0, "\x00\x08\x00\x00\x01x\x00\x00\x01y", 10);
}

static void
b_other_name_type(struct bytes *e)
{
	ext_raw(e, 0, "\x00\x04\x07\x00\x01x", 6);
}

static void
b_dup_sni(struct bytes *e)
{
	ext_sni(e, "a.example", 9);
	ext_sni(e, "b.example", 9);
}

static void
b_sni_list_short(struct bytes *e)
{
	ext_raw(e, 0, "\x00\x09\x00\x00\x05x", 6);
}

static void
b_sni_empty(struct bytes *e)
{
	ext_raw(e, 0, "\x00\x03\x00\x00\x00", 5);
}

static void
b_alpn_empty_proto(struct bytes *e)
{
	ext_raw(e, 16, "\x00\x03\x00\x01x", 5);
}

static void
b_alpn_overrun(struct bytes *e)
{
	ext_raw(e, 16, "\x00\x03\x05h2", 5);
}

static void
b_versions_odd(struct bytes *e)
{
	ext_raw(e, 43, "\x03\x03\x04\x03", 4);
}

static void
b_ext_overrun(struct bytes *e)
{
	put16(e, 0x1234);
	put16(e, 10);
	put8(e, 0);
}

static const struct hand_vec hand_vecs[] = {
	{ "no extensions", NULL, PEEK_OK },
	{ "empty extension block", b_none, PEEK_OK },
	{ "GREASE everywhere", b_grease, PEEK_OK },
	{ "NUL in SNI", b_nul, PEEK_OK },
	{ "300-byte SNI", b_long, PEEK_OK },
	{ "255-byte SNI", b_255, PEEK_OK },
	{ "ECH", b_ech, PEEK_OK },
	{ "other name type only", b_other_name_type, PEEK_OK },
	{ "two host_names", b_two_names, PEEK_ERR },
	{ "duplicate SNI extension", b_dup_sni, PEEK_ERR },
	{ "SNI list longer than ext", b_sni_list_short, PEEK_ERR },
	{ "empty host_name", b_sni_empty, PEEK_ERR },
	{ "empty ALPN protocol", b_alpn_empty_proto, PEEK_ERR },
	{ "ALPN protocol overrun", b_alpn_overrun, PEEK_ERR },
	{ "odd supported_versions", b_versions_odd, PEEK_ERR },
	{ "extension overrun", b_ext_overrun, PEEK_ERR },
};

static void
build_hand(const struct hand_vec *v, struct bytes *o)
{
	struct bytes e;

	e.n = 0;
	if (v->build != NULL)
		v->build(&e);
	make_hello(v->build != NULL ? &e : NULL, 0x0303, o);
}

static void
test_hand_vectors(void)
{
	struct client_hello ch;
	struct bytes o;
	size_t i, needed;

	for (i = 0; i < ARRAY_SIZE(hand_vecs); i++) {
		build_hand(&hand_vecs[i], &o);
		is(peek(o.b, o.n, &ch, &needed), hand_vecs[i].expect, "%s",
		    hand_vecs[i].name);
		check_prefixes(&o, hand_vecs[i].name);
	}
	build_hand(&hand_vecs[2], &o);
	peek(o.b, o.n, &ch, &needed);
	is_str(ch.sni, "grease.example", "GREASE: SNI");
	ok(ch.alpn_h2 && ch.alpn_count == 1, "GREASE ALPN not counted");
	ok(ch.supports_tls13, "GREASE version skipped, 1.3 found");
	build_hand(&hand_vecs[3], &o);
	peek(o.b, o.n, &ch, &needed);
	ok(ch.has_sni && ch.sni_invalid && ch.sni_len == 0,
	    "NUL in SNI is invalid");
	build_hand(&hand_vecs[4], &o);
	peek(o.b, o.n, &ch, &needed);
	ok(ch.has_sni && ch.sni_invalid, "300-byte SNI is invalid");
	build_hand(&hand_vecs[5], &o);
	peek(o.b, o.n, &ch, &needed);
	ok(ch.has_sni && !ch.sni_invalid && ch.sni_len == 255 &&
	    strlen(ch.sni) == 255, "255-byte SNI is kept");
	build_hand(&hand_vecs[6], &o);
	peek(o.b, o.n, &ch, &needed);
	ok(ch.has_ech, "ECH seen");
	build_hand(&hand_vecs[7], &o);
	peek(o.b, o.n, &ch, &needed);
	ok(!ch.has_sni, "unknown name type is not SNI");
	build_hand(&hand_vecs[0], &o);
	o.b[10] = 0x02;		/* legacy_version 0x0302 is fine */
	ok(peek(o.b, o.n, &ch, &needed) == PEEK_OK &&
	    ch.legacy_version == 0x0302, "TLS 1.1 hello");
	o.b[10] = 0x05;
	is(peek(o.b, o.n, &ch, &needed), PEEK_ERR, "hello version 0x0305");
}

struct raw_vec {
	const char		*name;
	const char		*raw;
	size_t			 len;
	enum peek_result	 expect;
};

#define R(s)	s, sizeof(s) - 1

static const struct raw_vec raw_vecs[] = {
	{ "plain HTTP", R("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), PEEK_NOT_TLS },
	{ "SSLv2 hello", R("\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10"),
	    PEEK_NOT_TLS },
	{ "NUL byte", R("\x00\x01\x02"), PEEK_NOT_TLS },
	{ "empty", R(""), PEEK_NEED_MORE },
	{ "one byte", R("\x16"), PEEK_NEED_MORE },
	{ "record header", R("\x16\x03\x01\x02\x00"), PEEK_NEED_MORE },
	{ "application data first", R("\x17\x03\x03\x00\x01\x00"), PEEK_ERR },
	{ "alert first", R("\x15\x03\x03\x00\x02\x02\x28"), PEEK_ERR },
	{ "bad major", R("\x16\x02\x01"), PEEK_ERR },
	{ "bad minor", R("\x16\x03\x09"), PEEK_ERR },
	{ "SSL 3.0 record", R("\x16\x03\x00\x00\x04"), PEEK_ERR },
	{ "zero-length record", R("\x16\x03\x01\x00\x00"), PEEK_ERR },
	{ "oversized record", R("\x16\x03\x01\x40\x01"), PEEK_ERR },
	{ "ServerHello", R("\x16\x03\x03\x00\x04\x02\x00\x00\x00"), PEEK_ERR },
	{ "hello too large", R("\x16\x03\x01\x00\x04\x01\x00\x40\x01"),
	    PEEK_ERR },
	{ "empty hello", R("\x16\x03\x01\x00\x04\x01\x00\x00\x00"), PEEK_ERR },
	{ "other record after fragment",
	    R("\x16\x03\x01\x00\x02\x01\x00\x17\x03\x03\x00\x01\x00"),
	    PEEK_ERR },
};

static void
test_raw_vectors(void)
{
	struct client_hello ch;
	size_t i, needed;

	for (i = 0; i < ARRAY_SIZE(raw_vecs); i++)
		is(peek((const uint8_t *)raw_vecs[i].raw, raw_vecs[i].len, &ch,
		    &needed), raw_vecs[i].expect, "%s", raw_vecs[i].name);
	peek((const uint8_t *)"\x16\x03\x01\x02\x00", 5, &ch, &needed);
	ok(needed >= 5 + 0x200, "needed counts the whole record (%zu)",
	    needed);
	is_str(peek_result_str(PEEK_NOT_TLS), "not-tls", "result names");
}

static int
write_file(const char *dir, const char *name, const struct bytes *o)
{
	char path[4096];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(o->b, 1, o->n, f) != o->n)
		rc = 1;
	if (f != NULL)
		fclose(f);
	return rc;
}

static int
write_corpus(const char *dir)
{
	static const struct gen gens[] = {
		{ "www.example.com", true, 0, 0, false },
		{ NULL, false, 0, 0, false },
		{ "pq.example.net", true, 1600, 0, false },
		{ "frag.example", true, 3000, 512, false },
		{ "old.example", false, 0, 0, true },
	};
	static const size_t sizes[] = { 100, 1, 7, 300 };
	struct bytes o, hs, re;
	char name[64];
	size_t i;
	int rc = 0;

	for (i = 0; i < ARRAY_SIZE(gens); i++) {
		rc |= gen_hello(&gens[i], &o);
		snprintf(name, sizeof(name), "openssl-%zu", i);
		rc |= write_file(dir, name, &o);
	}
	records_to_hs(&o, &hs);
	hs_to_records(&hs, sizes, ARRAY_SIZE(sizes), &re);
	rc |= write_file(dir, "openssl-resplit", &re);
	for (i = 0; i < ARRAY_SIZE(hand_vecs); i++) {
		build_hand(&hand_vecs[i], &o);
		snprintf(name, sizeof(name), "hand-%02zu", i);
		rc |= write_file(dir, name, &o);
	}
	for (i = 0; i < ARRAY_SIZE(raw_vecs); i++) {
		o.n = 0;
		putn(&o, raw_vecs[i].raw, raw_vecs[i].len);
		snprintf(name, sizeof(name), "raw-%02zu", i);
		rc |= write_file(dir, name, &o);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	test_openssl_hellos();
	test_hand_vectors();
	test_raw_vectors();
	return tap_done();
}
