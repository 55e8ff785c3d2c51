/*
 * test_endpoint.c - ep_idle() on a TLS endpoint: giving OpenSSL's record
 * buffers back between requests loses nothing.  A real handshake over a
 * socketpair: the gateway's guest-side context and a minted leaf on one
 * end (an endpoint with read-ahead, as conn_tls.c sets it up), a plain
 * OpenSSL client on the other.
 */
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "endpoint.h"
#include "leaf.h"
#include "sockbio.h"
#include "tap.h"
#include "tls.h"
#include "certtest.h"

struct pair {
	struct endpoint	ep;		/* the gateway's end */
	SSL		*cli;
	SSL_CTX		*sctx, *cctx;
	struct bufpool	pool;
	struct ca	*ca;
	struct leaf	*leaf;
};

/* Both ends' handshake steps in turn, a bounded number of times. */
static bool
handshake(struct pair *p)
{
	int i, s = 0, c = 0;

	for (i = 0; i < 100 && (s != 1 || c != 1); i++) {
		if (c != 1)
			c = SSL_do_handshake(p->cli);
		p->ep.rd_ready = p->ep.wr_ready = true;
		if (s != 1)
			s = SSL_do_handshake(p->ep.ssl);
	}
	return s == 1 && c == 1;
}

static void
pair_open(struct pair *p)
{
	char err[256];
	int sv[2];
	BIO *bio;

	memset(p, 0, sizeof(*p));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) {
		printf("Bail out! socketpair\n");
		exit(1);
	}
	p->ca = test_ca_new("test ca", CA_KEY_P256, 30, time(NULL));
	p->leaf = leaf_mint(p->ca, "example.com", NULL, 30, time(NULL), err,
	    sizeof(err));
	p->sctx = tls_server_ctx_new(err, sizeof(err));
	p->cctx = SSL_CTX_new(TLS_client_method());
	if (p->leaf == NULL || p->sctx == NULL || p->cctx == NULL) {
		printf("Bail out! set-up: %s\n", err);
		exit(1);
	}
	bufpool_init(&p->pool, 32768, 4);
	ep_init(&p->ep, &p->pool);
	p->ep.io.fd = sv[0];
	p->ep.ssl = SSL_new(p->sctx);
	bio = sockbio_new(sv[0], &p->ep.rd_ready, &p->ep.wr_ready);
	SSL_use_cert_and_key(p->ep.ssl, leaf_cert(p->leaf),
	    leaf_key(p->leaf), NULL, 1);
	SSL_set_bio(p->ep.ssl, bio, bio);
	SSL_set_read_ahead(p->ep.ssl, 1);
	SSL_set_accept_state(p->ep.ssl);
	p->cli = SSL_new(p->cctx);
	SSL_set_fd(p->cli, sv[1]);
	SSL_set_connect_state(p->cli);
	if (!handshake(p)) {
		printf("Bail out! handshake\n");
		exit(1);
	}
}

static void
pair_close(struct pair *p)
{
	int fd = SSL_get_fd(p->cli);

	SSL_free(p->ep.ssl);
	p->ep.ssl = NULL;
	close(p->ep.io.fd);
	buf_free(&p->ep.in);
	SSL_free(p->cli);
	close(fd);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
	bufpool_fini(&p->pool);
	leaf_unref(p->leaf);
	ca_unref(p->ca);
}

/* Read what the endpoint has into its input buffer, a bounded number of
 * reads; the bytes read. */
static size_t
drain(struct pair *p)
{
	size_t got = 0;
	ssize_t n;
	int i;

	for (i = 0; i < 10; i++) {
		n = ep_read(&p->ep, buf_tail(&p->ep.in),
		    ep_in_prepare(&p->ep, 32768));
		if (n <= 0)
			break;
		buf_produce(&p->ep.in, (size_t)n);
		got += (size_t)n;
		ep_idle(&p->ep);	/* between each read: a record may wait */
	}
	return got;
}

static bool
in_is(struct pair *p, const char *s)
{
	return buf_len(&p->ep.in) == strlen(s) &&
	    memcmp(buf_head(&p->ep.in), s, strlen(s)) == 0;
}

int
main(void)
{
	struct pair p;
	char rd[64];
	int n;

	pair_open(&p);

	/* Two records at once: the first read takes one, the second waits
	 * in OpenSSL's read buffer (read-ahead), which ep_idle must keep. */
	SSL_write(p.cli, "GET /1", 6);
	SSL_write(p.cli, "GET /2", 6);
	p.ep.rd_ready = true;
	ok(drain(&p) == 12 && in_is(&p, "GET /1GET /2"),
	    "two records, ep_idle between the reads: both read, in order");

	buf_consume(&p.ep.in, buf_len(&p.ep.in));
	ep_idle(&p.ep);
	ok(p.ep.in.data == NULL, "ep_idle gives the empty input storage back");
	ok(p.pool.n == 1, "... to the pool");

	/* After the buffers went, the connection goes on both ways. */
	SSL_write(p.cli, "GET /3", 6);
	p.ep.rd_ready = true;
	ok(drain(&p) == 6 && in_is(&p, "GET /3"),
	    "a request after ep_idle is read");
	ok(ep_write(&p.ep, "200 OK", 6) == 6, "a response after ep_idle is written");
	n = SSL_read(p.cli, rd, sizeof(rd));
	ok(n == 6 && memcmp(rd, "200 OK", 6) == 0, "... and the peer reads it");

	pair_close(&p);
	return tap_done();
}
