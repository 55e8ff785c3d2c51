/*
 * test_h2.c - the bounded HTTP/2 session (h2.c) against a client session
 * of its own and against hand-made frames, over a socketpair, on a clock
 * the test moves.
 *
 * What must hold: a request, its body and a response with trailers go
 * through whole; RFC 9113 section 8's forbidden requests are reset and
 * never delivered; a header list over the limit is delivered as "too
 * large" without its fields; receive windows open only as the receiver
 * consumes; CONTINUATION, rapid reset, MadeYouReset, PING and SETTINGS
 * floods end the connection with GOAWAY; the stream past the concurrency
 * limit is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "h2.h"
#include "tap.h"

#define LIMIT	4096

struct peer {
	struct h2	*h;
	int		fd;		/* our end of the socketpair */
	int		raw_fd;		/* the raw writer's end */
	struct buf	out;
	/* what was received */
	unsigned	blocks, requests, responses, trailers, too_large;
	int32_t		last_sid;
	char		seen[512];	/* "name=value;" of the last block */
	size_t		data;		/* DATA bytes received */
	unsigned	ends, closes;
	uint32_t	last_close_code;
	bool		keep;		/* on_data keeps bytes (no consume) */
	/* body to send */
	size_t		body_left;
	bool		body_trailers;
};

static uint64_t now_ms = 1000;

static uint32_t
on_block(void *arg, int32_t sid, const struct h2_block *b)
{
	struct peer *p = arg;
	size_t i, off = 0;

	p->blocks++;
	p->last_sid = sid;
	p->requests += b->kind == H2_BLOCK_REQUEST;
	p->responses += b->kind == H2_BLOCK_RESPONSE;
	p->trailers += b->kind == H2_BLOCK_TRAILERS;
	p->too_large += b->too_large;
	p->ends += b->end_stream;
	p->seen[0] = '\0';
	for (i = 0; i < b->n && off < sizeof(p->seen); i++)
		off += (size_t)snprintf(p->seen + off, sizeof(p->seen) - off,
		    "%s=%s;", b->f[i].name, b->f[i].value);
	return 0;
}

static bool
on_data(void *arg, int32_t sid, const uint8_t *d, size_t n, bool end)
{
	struct peer *p = arg;

	p->data += n;
	p->ends += end;
	return p->keep;
}

static void
on_close(void *arg, int32_t sid, uint32_t code)
{
	struct peer *p = arg;

	p->closes++;
	p->last_close_code = code;
}

static const struct h2_field grpc_trailers[] = {
	{ "grpc-status", 11, "3", 1, 0 },
	{ "grpc-message", 12, "bad argument", 12, 0 },
};

static ssize_t
read_body(void *arg, int32_t sid, uint8_t *buf, size_t len,
    enum h2_eof *eof)
{
	struct peer *p = arg;
	size_t n = len < p->body_left ? len : p->body_left;

	memset(buf, 'x', n);
	p->body_left -= n;
	if (p->body_left == 0) {
		*eof = H2_END;
		if (p->body_trailers) {
			(void)h2_submit_trailers(p->h, sid, grpc_trailers, 2);
			*eof = H2_END_TRAILERS;
		}
	}
	return (ssize_t)n;
}

static const struct h2_cbs cbs = {
	.on_block = on_block,
	.on_data = on_data,
	.on_close = on_close,
	.read_body = read_body,
};

static void
peers_new(struct peer *srv, struct peer *cli)
{
	struct h2_limits lim = { .max_header_bytes = LIMIT };
	int sv[2];

	AZ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	memset(srv, 0, sizeof(*srv));
	srv->fd = sv[0];
	srv->h = h2_new(H2_SERVER, &lim, &cbs, srv);
	if (cli != NULL) {
		memset(cli, 0, sizeof(*cli));
		cli->fd = sv[1];
		cli->h = h2_new(H2_CLIENT, &lim, &cbs, cli);
	} else {
		srv->raw_fd = sv[1];
	}
}

static void
peers_free(struct peer *srv, struct peer *cli)
{
	h2_free(srv->h);
	buf_free(&srv->out);
	close(srv->fd);
	if (cli != NULL) {
		h2_free(cli->h);
		buf_free(&cli->out);
		close(cli->fd);
	}
}

/* Send what a has for b through the socketpair and feed it to b. */
static int
flow(struct peer *a, struct peer *b)
{
	uint8_t tmp[65536];
	int moved = 0;

	(void)h2_send(a->h, &a->out);
	while (buf_len(&a->out) > 0) {
		ssize_t w = write(a->fd, buf_head(&a->out),
		    buf_len(&a->out) < sizeof(tmp) ? buf_len(&a->out) :
		    sizeof(tmp));
		ssize_t got = 0, r;

		AN(w > 0);
		buf_consume(&a->out, (size_t)w);
		while (got < w) {
			r = read(b->fd, tmp + got, (size_t)(w - got));
			AN(r > 0);
			got += r;
		}
		(void)h2_recv(b->h, now_ms, tmp, (size_t)got);
		moved = 1;
		(void)h2_send(a->h, &a->out);
	}
	return moved;
}

static void
pump(struct peer *a, struct peer *b)
{
	int i;

	for (i = 0; i < 1000; i++)
		if (!flow(a, b) + !flow(b, a) == 2)
			return;
}

static void
field(struct h2_field *f, const char *n, const char *v)
{
	f->name = n;
	f->namelen = strlen(n);
	f->value = v;
	f->valuelen = strlen(v);
	f->flags = 0;
}

static size_t
request(struct h2_field *f, const char *path)
{
	field(&f[0], ":method", "POST");
	field(&f[1], ":scheme", "https");
	field(&f[2], ":authority", "a.example");
	field(&f[3], ":path", path);
	return 4;
}

static void
test_roundtrip(void)
{
	struct peer srv, cli;
	struct h2_field f[8], resp[2];
	size_t n;
	int32_t sid;

	peers_new(&srv, &cli);
	n = request(f, "/svc/Call");
	field(&f[n++], "te", "trailers");
	field(&f[n], "authorization", "Bearer s3cret");
	f[n++].flags = H2_F_NO_INDEX;
	cli.body_left = 100000;
	sid = h2_submit_request(cli.h, f, n, true);
	ok(sid == 1, "the first stream is 1");
	pump(&cli, &srv);
	is(srv.requests, 1, "the server got one request block");
	ok(strstr(srv.seen, ":path=/svc/Call;") != NULL &&
	    strstr(srv.seen, "te=trailers;") != NULL &&
	    strstr(srv.seen, "authorization=Bearer s3cret;") != NULL,
	    "with its fields: %s", srv.seen);
	is(srv.data, 100000, "and its whole body");
	is(srv.ends, 1, "ended once");
	field(&resp[0], ":status", "200");
	field(&resp[1], "content-type", "application/grpc");
	srv.body_left = 5;
	srv.body_trailers = true;
	AZ(h2_submit_response(srv.h, sid, resp, 2, true));
	pump(&srv, &cli);
	is(cli.responses, 1, "the client got the response");
	is(cli.data, 5, "its body");
	is(cli.trailers, 1, "and trailers");
	ok(strstr(cli.seen, "grpc-status=3;grpc-message=bad argument;") !=
	    NULL, "grpc-status and grpc-message: %s", cli.seen);
	is(cli.ends, 1, "the trailers end the stream");
	is(cli.closes, 1, "the stream closed on the client");
	is(cli.last_close_code, 0, "without error");
	ok(!h2_done(srv.h) && h2_error(srv.h) == NULL,
	    "the connection goes on");
	peers_free(&srv, &cli);
}

static void
test_trailers_only(void)
{
	struct peer srv, cli;
	struct h2_field f[8], resp[3];
	int32_t sid;

	peers_new(&srv, &cli);
	sid = h2_submit_request(cli.h, f, request(f, "/svc/Fail"), false);
	pump(&cli, &srv);
	field(&resp[0], ":status", "200");
	resp[1] = grpc_trailers[0];
	resp[2] = grpc_trailers[1];
	AZ(h2_submit_response(srv.h, sid, resp, 3, false));
	pump(&srv, &cli);
	ok(cli.responses == 1 && cli.ends == 1 && cli.data == 0,
	    "a trailers-only response is one block that ends the stream");
	ok(strstr(cli.seen, "grpc-status=3;") != NULL, "with grpc-status");
	peers_free(&srv, &cli);
}

static void
test_forbidden(void)
{
	static const struct {
		const char *name, *value, *what;
	} bad[] = {
		{ "connection", "keep-alive", "a connection-specific field" },
		{ "keep-alive", "5", "keep-alive" },
		{ "transfer-encoding", "chunked", "transfer-encoding" },
		{ "upgrade", "websocket", "upgrade" },
		{ "te", "gzip", "TE other than trailers" },
		{ ":bogus", "1", "an unknown pseudo-header" },
		{ ":path", "/again", "a repeated pseudo-header" },
		{ "content-length", "10", "content-length above the DATA" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct peer srv, cli;
		struct h2_field f[8];
		size_t n;

		peers_new(&srv, &cli);
		n = request(f, "/");
		field(&f[n++], bad[i].name, bad[i].value);
		cli.body_left = 3;
		(void)h2_submit_request(cli.h, f, n, true);
		pump(&cli, &srv);
		pump(&srv, &cli);
		ok(srv.requests == 0 || srv.closes == 1,
		    "%s is not delivered, or its stream is reset",
		    bad[i].what);
		ok(cli.closes == 1 && cli.last_close_code == H2_PROTOCOL_ERROR,
		    "%s: the client sees PROTOCOL_ERROR (got %u)", bad[i].what,
		    cli.last_close_code);
		ok(!h2_done(srv.h), "%s: only the stream ends", bad[i].what);
		peers_free(&srv, &cli);
	}
}

static void
test_too_large(void)
{
	struct peer srv, cli;
	struct h2_field f[8];
	char *big = malloc(LIMIT);
	size_t n;

	AN(big);
	memset(big, 'v', LIMIT - 1);
	big[LIMIT - 1] = '\0';
	peers_new(&srv, &cli);
	n = request(f, "/");
	field(&f[n++], "x-big", big);
	(void)h2_submit_request(cli.h, f, n, false);
	n = request(f, "/small");
	(void)h2_submit_request(cli.h, f, n, false);
	pump(&cli, &srv);
	is(srv.blocks, 2, "both header blocks are delivered");
	is(srv.too_large, 1, "the one over max_header_bytes as too large");
	ok(strstr(srv.seen, ":path=/small;") != NULL,
	    "the next one whole: the HPACK state stayed in step");
	ok(!h2_done(srv.h), "the connection goes on");
	peers_free(&srv, &cli);
	free(big);
}

static void
test_flow_control(void)
{
	struct peer srv, cli;
	struct h2_field f[8];
	int32_t sid;

	peers_new(&srv, &cli);
	srv.keep = true;		/* not consumed until we say */
	cli.body_left = 4 * H2_STREAM_WINDOW;
	sid = h2_submit_request(cli.h, f, request(f, "/up"), true);
	pump(&cli, &srv);
	is(srv.data, H2_STREAM_WINDOW,
	    "a sender gets no further than the stream window");
	h2_consume(srv.h, sid, srv.data);
	pump(&srv, &cli);
	pump(&cli, &srv);
	is(srv.data, 2 * H2_STREAM_WINDOW,
	    "consuming it opens exactly one more window");
	peers_free(&srv, &cli);
}

/* Raw frames, for what no well-behaved client sends. */
static void
frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t sid,
    const void *pl, size_t len)
{
	uint8_t hd[9] = { (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	    (uint8_t)len, type, flags, (uint8_t)(sid >> 24),
	    (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };

	buf_append(b, hd, sizeof(hd));
	if (len > 0)
		buf_append(b, pl, len);
}

/* GET https://a.example/ in HPACK, no dynamic table. */
static const uint8_t get_block[] = { 0x82, 0x87, 0x84, 0x01, 0x09,
	'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e' };

static void
preface(struct buf *b)
{
	buf_appends(b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
	frame(b, 0x4, 0, 0, NULL, 0);		/* SETTINGS */
	frame(b, 0x4, 0x1, 0, NULL, 0);		/* ACK of the server's */
}

static void
raw_end(struct peer *srv, struct buf *in, struct buf *out)
{
	buf_free(in);
	buf_free(out);
	peers_free(srv, NULL);
	close(srv->raw_fd);
}

/* Feed b to a raw server; collect its output.  Returns h2_recv's. */
static int
feed(struct peer *srv, struct buf *b, struct buf *reply)
{
	int r = 0;

	(void)h2_send(srv->h, reply);	/* our SETTINGS go first */
	while (buf_len(b) > 0 && r == 0) {
		size_t n = buf_len(b) < 4096 ? buf_len(b) : 4096;

		r = h2_recv(srv->h, now_ms, (const uint8_t *)buf_head(b), n);
		buf_consume(b, n);
		(void)h2_send(srv->h, reply);
	}
	(void)h2_send(srv->h, reply);
	return r;
}

/* The error code of the first GOAWAY in out, or -1. */
static long
goaway_code(const struct buf *out)
{
	const uint8_t *p = (const uint8_t *)buf_head(out);
	size_t off = 0, len = buf_len(out);

	while (off + 9 <= len) {
		size_t fl = (size_t)p[off] << 16 | (size_t)p[off + 1] << 8 |
		    p[off + 2];

		if (p[off + 3] == 0x7 && off + 9 + 8 <= len)
			return (long)((uint32_t)p[off + 13] << 24 |
			    (uint32_t)p[off + 14] << 16 |
			    (uint32_t)p[off + 15] << 8 | p[off + 16]);
		off += 9 + fl;
	}
	return -1;
}

/* Streams reset with code in out. */
static unsigned
rst_count(const struct buf *out, uint32_t code)
{
	const uint8_t *p = (const uint8_t *)buf_head(out);
	size_t off = 0, len = buf_len(out);
	unsigned n = 0;

	while (off + 9 <= len) {
		size_t fl = (size_t)p[off] << 16 | (size_t)p[off + 1] << 8 |
		    p[off + 2];

		if (p[off + 3] == 0x3 && off + 13 <= len && p[off + 12] == code)
			n++;
		off += 9 + fl;
	}
	return n;
}

static void
test_continuation_flood(void)
{
	struct peer srv;
	struct buf in = { 0 }, out = { 0 };
	uint8_t junk[16] = { 0x40, 0x01, 'x', 0x01, 'y' };
	int i;

	peers_new(&srv, NULL);
	preface(&in);
	frame(&in, 0x1, 0x4 /* END_HEADERS */, 1, get_block,
	    sizeof(get_block));
	frame(&in, 0x1, 0x0, 3, get_block, sizeof(get_block));
	for (i = 0; i < 50; i++)
		frame(&in, 0x9, 0, 3, junk, 5);
	is(feed(&srv, &in, &out), -1, "a CONTINUATION flood ends the session");
	is(goaway_code(&out), H2_ENHANCE_YOUR_CALM,
	    "with GOAWAY ENHANCE_YOUR_CALM");
	ok(h2_done(srv.h), "and nothing more is read");
	is(srv.requests, 1, "the request before it was delivered");
	raw_end(&srv, &in, &out);
}

static void
test_rapid_reset(void)
{
	struct peer srv;
	struct buf in = { 0 }, out = { 0 };
	uint8_t cancel[4] = { 0, 0, 0, H2_CANCEL };
	uint32_t sid;

	peers_new(&srv, NULL);
	preface(&in);
	for (sid = 1; sid < 2 * 1000; sid += 2) {
		frame(&in, 0x1, 0x5, sid, get_block, sizeof(get_block));
		frame(&in, 0x3, 0, sid, cancel, 4);
	}
	(void)feed(&srv, &in, &out);
	ok(goaway_code(&out) >= 0, "rapid reset gets a GOAWAY (code %ld)",
	    goaway_code(&out));
	ok(srv.requests < 1000 && srv.requests >= H2_RST_BURST,
	    "after the burst, not after every stream (%u)", srv.requests);
	raw_end(&srv, &in, &out);
}

static void
test_made_you_reset(void)
{
	struct peer srv;
	struct buf in = { 0 }, out = { 0 };
	uint8_t overflow[4] = { 0x7f, 0xff, 0xff, 0xff };
	uint32_t sid;
	int r = 0;

	peers_new(&srv, NULL);
	preface(&in);
	/* a WINDOW_UPDATE overflowing an open stream's window: the server
	 * must reset that stream (FLOW_CONTROL_ERROR), a stream error the
	 * client caused at no cost to itself */
	for (sid = 1; sid < 2 * 600 && r == 0; sid += 2) {
		frame(&in, 0x1, 0x5, sid, get_block, sizeof(get_block));
		frame(&in, 0x8, 0, sid, overflow, 4);
		r = feed(&srv, &in, &out);
	}
	is(r, -1, "streams the peer has us reset, without bound, end the "
	    "session");
	is(goaway_code(&out), H2_ENHANCE_YOUR_CALM, "ENHANCE_YOUR_CALM");
	ok(rst_count(&out, 0x3) <= H2_CTRL_BURST &&
	    rst_count(&out, 0x3) >= H2_CTRL_BURST / 2,
	    "after the burst of resets (%u)", rst_count(&out, 0x3));
	raw_end(&srv, &in, &out);
}

static void
test_ping_flood(uint8_t type, const char *what)
{
	struct peer srv;
	struct buf in = { 0 }, out = { 0 };
	uint8_t pl[8] = { 0 };
	int i, r = 0;

	peers_new(&srv, NULL);
	preface(&in);
	r = feed(&srv, &in, &out);
	/* at the refill rate, for ten seconds of the test's clock: fine */
	for (i = 0; i < 10 * H2_CTRL_RATE && r == 0; i++) {
		if (i % (H2_CTRL_RATE / 2) == 0)
			now_ms += 500;
		frame(&in, type, 0, 0, pl, type == 0x6 ? 8 : 0);
		r = feed(&srv, &in, &out);
	}
	is(r, 0, "%s at the allowed rate is served", what);
	buf_clear(&out);
	for (i = 0; i < 2 * H2_CTRL_BURST; i++)
		frame(&in, type, 0, 0, pl, type == 0x6 ? 8 : 0);
	is(feed(&srv, &in, &out), -1, "a %s flood ends the session", what);
	is(goaway_code(&out), H2_ENHANCE_YOUR_CALM, "ENHANCE_YOUR_CALM");
	raw_end(&srv, &in, &out);
}

/* nghttp2's own encoder lowers names: an upper-case one, by hand */
static void
test_upper_case(void)
{
	static const uint8_t block[] = { 0x82, 0x87, 0x84, 0x01, 0x01, 'a',
		0x00, 0x07, 'X', '-', 'U', 'p', 'p', 'e', 'r', 0x01, '1' };
	struct peer srv;
	struct buf in = { 0 }, out = { 0 };

	peers_new(&srv, NULL);
	preface(&in);
	frame(&in, 0x1, 0x5, 1, block, sizeof(block));
	frame(&in, 0x1, 0x5, 3, get_block, sizeof(get_block));
	(void)feed(&srv, &in, &out);
	is(srv.requests, 1, "a request with an upper-case name is not "
	    "delivered, the next one is");
	is(rst_count(&out, H2_PROTOCOL_ERROR), 1,
	    "its stream is reset with PROTOCOL_ERROR");
	raw_end(&srv, &in, &out);
}

/*
 * Streams left open (no END_STREAM), one past the limit.  Before the
 * client acknowledged our SETTINGS, the one past it is refused; after,
 * nghttp2 takes it as the connection error RFC 9113 5.1.2 allows.
 */
static void
test_stream_limit(bool acked)
{
	struct peer srv;
	struct buf in = { 0 }, out = { 0 };
	uint32_t sid;

	peers_new(&srv, NULL);
	buf_appends(&in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
	frame(&in, 0x4, 0, 0, NULL, 0);
	if (acked)
		frame(&in, 0x4, 0x1, 0, NULL, 0);
	for (sid = 1; sid <= 2 * H2_MAX_STREAMS + 1; sid += 2)
		frame(&in, 0x1, 0x4, sid, get_block, sizeof(get_block));
	(void)feed(&srv, &in, &out);
	is(srv.requests, H2_MAX_STREAMS, "%d streams are taken",
	    H2_MAX_STREAMS);
	if (acked) {
		is(goaway_code(&out), H2_PROTOCOL_ERROR, "the one past the "
		    "acknowledged limit ends the connection (PROTOCOL_ERROR)");
	} else {
		is(rst_count(&out, H2_REFUSED_STREAM), 1, "the one past the "
		    "limit is refused (REFUSED_STREAM)");
		ok(!h2_done(srv.h), "the connection goes on");
	}
	raw_end(&srv, &in, &out);
}

static void
test_not_h2(void)
{
	struct peer srv;
	struct buf in = { 0 }, out = { 0 };

	peers_new(&srv, NULL);
	buf_appends(&in, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	is(feed(&srv, &in, &out), -1, "HTTP/1.1 bytes are no preface");
	ok(h2_error(srv.h) != NULL && strstr(h2_error(srv.h), "preface"),
	    "said so: %s", h2_error(srv.h) ? h2_error(srv.h) : "-");
	raw_end(&srv, &in, &out);
}

static void
test_h2c(void)
{
	ok(h2_upgrade_is_h2c("h2c", 3), "h2c");
	ok(h2_upgrade_is_h2c("websocket, H2C", 14), "a later H2C");
	ok(!h2_upgrade_is_h2c("h2cx", 4), "not h2cx");
	ok(!h2_upgrade_is_h2c("websocket", 9), "not websocket");
	ok(!h2_upgrade_is_h2c("", 0), "not empty");
}

static void
test_cleartext(void)
{
	static const char pri[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct buf b = { 0 };

	ok(h2_is_preface(pri, sizeof(pri) - 1), "the client preface");
	ok(h2_is_preface(pri, 16), "its first line");
	ok(!h2_is_preface("PRI * HTTP/1.1\r\n", 16), "not HTTP/1.1 PRI");
	ok(!h2_is_preface(pri, 10), "too short to say");
	h2_goaway_frame(&b, 5, H2_HTTP_1_1_REQUIRED, "why");
	is(buf_len(&b), 9 + 8 + 3, "GOAWAY with its debug data");
	is(goaway_code(&b), H2_HTTP_1_1_REQUIRED, "HTTP_1_1_REQUIRED");
	buf_free(&b);
}

int
main(void)
{
	test_h2c();
	test_cleartext();
	test_roundtrip();
	test_trailers_only();
	test_forbidden();
	test_too_large();
	test_flow_control();
	test_continuation_flood();
	test_rapid_reset();
	test_made_you_reset();
	test_ping_flood(0x6, "PING");
	test_ping_flood(0x4, "SETTINGS");
	test_upper_case();
	test_stream_limit(false);
	test_stream_limit(true);
	test_not_h2();
	return tap_done();
}
