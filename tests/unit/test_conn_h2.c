/*
 * test_conn_h2.c - the HTTP/2 connection (conn_h2.c, conn_h2_req.c) on
 * one worker loop and the fake clock of test_conn.h: the guest is an
 * nghttp2 client on a socketpair, the upstream an nghttp2 server on the
 * loopback listener, both played by the test (nghttp2 itself, not the
 * gateway's h2.c, so that the two ends are not the code under test).
 *
 * The connection enters CONN_H2 as conn_tls.c makes it do once both
 * ALPNs chose h2, but over plain sockets: the test dials the upstream,
 * sets the SNI and calls conn_h2_start(); TLS itself is t-h2's.
 *
 * Covered: a request allowed and answered; a denied one (403, nothing
 * upstream); :authority other than the SNI (421); each stream deadline
 * (response head, response bytes, idle request body), each ending only
 * its stream; the idle connection (upstream_idle_timeout, idle_timeout);
 * the stream past the concurrency limit; the upstream connection ending;
 * a guest's connection error, which ends only that connection; the
 * teardown reasons.
 */
#include "test_conn.h"

#include <nghttp2/nghttp2.h>

#include "conn_h2.h"

#define NST	128

/* One stream as a peer saw it. */
struct st {
	int32_t		id;
	int		status;
	char		reason[128];	/* x-gateway-reason */
	char		path[128];
	char		authority[128];
	char		body[8192];
	size_t		blen;
	bool		ended;		/* END_STREAM received */
	bool		closed;
	bool		rst;		/* RST_STREAM received */
	uint32_t	code;		/* its error code */
	const char	*src;		/* body to send (upstream side) */
	size_t		srclen;
};

/* A peer: the guest's client or the upstream's server. */
struct np {
	nghttp2_session	*s;
	int		fd;
	bool		eof;
	struct st	st[NST];
	size_t		nst;
	bool		goaway;
	uint32_t	goaway_code;
};

static struct np G, U;		/* the current guest and upstream */
static struct np G2, U2;	/* a second connection's, kept aside */
static bool g_deaf;		/* the guest reads (and writes) nothing */

static struct st *
st_get(struct np *p, int32_t id)
{
	size_t i;

	for (i = 0; i < p->nst; i++)
		if (p->st[i].id == id)
			return &p->st[i];
	if (p->nst == NST) {
		printf("Bail out! too many streams\n");
		exit(1);
	}
	memset(&p->st[p->nst], 0, sizeof(p->st[0]));
	p->st[p->nst].id = id;
	return &p->st[p->nst++];
}

static void
copy(char *dst, size_t size, const uint8_t *v, size_t n)
{
	n = n < size - 1 ? n : size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
    size_t nl, const uint8_t *v, size_t vl, uint8_t flags, void *arg)
{
	struct st *t = st_get(arg, f->hd.stream_id);
	char n[64];

	(void)s;
	(void)flags;
	copy(n, sizeof(n), name, nl);
	if (strcmp(n, ":status") == 0) {
		char tmp[8];

		copy(tmp, sizeof(tmp), v, vl);
		t->status = atoi(tmp);
	} else if (strcmp(n, "x-gateway-reason") == 0)
		copy(t->reason, sizeof(t->reason), v, vl);
	else if (strcmp(n, ":path") == 0)
		copy(t->path, sizeof(t->path), v, vl);
	else if (strcmp(n, ":authority") == 0)
		copy(t->authority, sizeof(t->authority), v, vl);
	return 0;
}

static int
on_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	struct np *p = arg;

	(void)s;
	if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		st_get(p, f->hd.stream_id)->ended = true;
	if (f->hd.type == NGHTTP2_RST_STREAM) {
		struct st *t = st_get(p, f->hd.stream_id);

		t->rst = true;
		t->code = f->rst_stream.error_code;
	}
	if (f->hd.type == NGHTTP2_GOAWAY) {
		p->goaway = true;
		p->goaway_code = f->goaway.error_code;
	}
	return 0;
}

static int
on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *d,
    size_t n, void *arg)
{
	struct st *t = st_get(arg, sid);

	(void)s;
	(void)flags;
	n = n < sizeof(t->body) - 1 - t->blen ? n :
	    sizeof(t->body) - 1 - t->blen;
	memcpy(t->body + t->blen, d, n);
	t->blen += n;
	t->body[t->blen] = '\0';
	return 0;
}

static int
on_close(nghttp2_session *s, int32_t sid, uint32_t code, void *arg)
{
	struct st *t = st_get(arg, sid);

	(void)s;
	t->closed = true;
	if (code != 0)
		t->code = code;
	return 0;
}

static ssize_t
read_src(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct st *t = src->ptr;
	size_t n = len < t->srclen ? len : t->srclen;

	(void)s;
	(void)sid;
	(void)arg;
	memcpy(buf, t->src, n);
	t->src += n;
	t->srclen -= n;
	if (t->srclen == 0)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void
np_open(struct np *p, int fd, bool server, uint32_t peer_max)
{
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;

	memset(p, 0, sizeof(*p));
	p->fd = fd;
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_option_new(&opt);
	if (peer_max != 0)
		nghttp2_option_set_peer_max_concurrent_streams(opt, peer_max);
	if (server)
		nghttp2_session_server_new2(&p->s, cb, p, opt);
	else
		nghttp2_session_client_new2(&p->s, cb, p, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	(void)nghttp2_submit_settings(p->s, NGHTTP2_FLAG_NONE, NULL, 0);
}

static void
np_close(struct np *p)
{
	if (p->s != NULL)
		nghttp2_session_del(p->s);
	p->s = NULL;
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
}

static void
np_flush(struct np *p)
{
	const uint8_t *d;
	ssize_t n;

	while (p->s != NULL && (n = nghttp2_session_mem_send(p->s, &d)) > 0)
		send_all(p->fd, (const char *)d, (size_t)n);
}

static void
np_io(struct np *p)
{
	uint8_t buf[16384];
	ssize_t n;

	if (p->s == NULL || p->fd == -1)
		return;
	np_flush(p);
	while (!p->eof) {
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			(void)nghttp2_session_mem_recv(p->s, buf, (size_t)n);
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			p->eof = true;
		break;
	}
	np_flush(p);
}

/* The peers and the gateway, one round. */
static void
pump(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (!g_deaf)
			np_io(&G);
		np_io(&U);
		if (i == 0)
			wake();
	}
}

/* Pump until cond holds, at most MAX_WAKES rounds. */
#define PUMP_UNTIL(cond)	do {					\
	int i_;								\
	for (i_ = 0; i_ < MAX_WAKES && !(cond); i_++)			\
		pump();							\
} while (0)

static void
pump_some(void)
{
	int i;

	for (i = 0; i < 8; i++)
		pump();
}

/* Move the fake clock, then let the peers see what it caused. */
static void
later(uint64_t ms)
{
	advance(ms);
	pump_some();
}

#define NV(n, v)	{ (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1,	\
	strlen(v), NGHTTP2_NV_FLAG_NONE }

/* The guest opens a stream to authority; end: no body follows. */
static int32_t
g_request(const char *authority, const char *path, bool end)
{
	nghttp2_nv nv[] = {
		NV(":method", end ? "GET" : "POST"),
		NV(":scheme", "https"),
		NV(":authority", authority),
		NV(":path", path),
	};

	return nghttp2_submit_headers(G.s, end ? NGHTTP2_FLAG_END_STREAM :
	    NGHTTP2_FLAG_NONE, -1, NULL, nv, 4, NULL);
}

static const char *
svc(void)
{
	static char a[64];

	snprintf(a, sizeof(a), "svc.test:%u", H.up_port);
	return a;
}

/* The upstream's stream whose :path is path, or NULL. */
static struct st *
up_stream(const char *path)
{
	size_t i;

	for (i = 0; i < U.nst; i++)
		if (strcmp(U.st[i].path, path) == 0)
			return &U.st[i];
	return NULL;
}

/* The upstream's response head; body: then that body and the end. */
static void
up_respond(struct st *t, const char *body)
{
	nghttp2_nv nv[] = { NV(":status", "200"),
		NV("content-type", "text/plain") };

	(void)nghttp2_submit_headers(U.s, NGHTTP2_FLAG_NONE, t->id, NULL, nv,
	    2, NULL);
	if (body != NULL) {
		nghttp2_data_provider prd = { .source.ptr = t,
			.read_callback = read_src };

		t->src = body;
		t->srclen = strlen(body);
		(void)nghttp2_submit_data(U.s, NGHTTP2_FLAG_END_STREAM, t->id,
		    &prd);
	}
}

/*
 * An h2 connection as conn_tls.c leaves it: the upstream dialled (when
 * dial), the SNI set, conn_h2_start().  The guest's client and (when
 * dial) the upstream's server are G and U.
 */
static uint64_t
h2_start(const char *sni, bool dial)
{
	int gfd, sfd = -1, i;
	uint64_t id = guest_open(false, H.up_port, &gfd);
	struct conn *c = find_conn(id);

	if (c == NULL) {
		printf("Bail out! no connection\n");
		exit(1);
	}
	if (dial) {
		upstream_start(&c->upstream, UP_HTTP, "svc.test", H.up_port);
		sfd = server_accept();
		for (i = 0; i < MAX_WAKES && c->upstream.phase != UPH_READY;
		    i++)
			wake();
		if (sfd == -1 || c->upstream.phase != UPH_READY) {
			printf("Bail out! the upstream is not dialled\n");
			exit(1);
		}
	}
	c->has_sni = true;
	c->sni = xstrdup(sni);
	conn_h2_start(c);
	conn_progress(c);
	np_open(&G, gfd, false, 1000);
	memset(&U, 0, sizeof(U));
	U.fd = -1;
	if (dial)
		np_open(&U, sfd, true, 0);
	return id;
}

/* ... and the SETTINGS exchanged. */
static uint64_t
h2_open(const char *sni, bool dial)
{
	uint64_t id = h2_start(sni, dial);

	pump_some();
	return id;
}

static void
h2_close(uint64_t id)
{
	np_close(&G);
	np_close(&U);
	settle();
	if (find_conn(id) != NULL)
		conn_close(find_conn(id), CONN_END_SHUTDOWN);
}

/* The upstream answers stream sid (its :path is path) with body; the
 * guest's view of the stream once it closed. */
static struct st *
serve(int32_t sid, const char *path, const char *body)
{
	struct st *g = st_get(&G, sid);

	PUMP_UNTIL(up_stream(path) != NULL);
	if (up_stream(path) != NULL)
		up_respond(up_stream(path), body);
	PUMP_UNTIL(g->closed);
	return g;
}

/* Did the guest get a 200 with this body? */
static bool
got(const struct st *g, const char *body)
{
	return g->status == 200 && strcmp(g->body, body) == 0;
}

/* Wait until both paths are streams upstream.  false if not. */
static bool
both_up(const char *p1, const char *p2, struct st **u1, struct st **u2,
    const char *what)
{
	PUMP_UNTIL(up_stream(p1) != NULL && up_stream(p2) != NULL);
	*u1 = up_stream(p1);
	*u2 = up_stream(p2);
	if (*u1 == NULL || *u2 == NULL)
		ok(0, "%s: both streams upstream", what);
	return *u1 != NULL && *u2 != NULL;
}

/* Does the (last) audit line of the stream to path hold what? */
static bool
audit_has(const char *path, const char *what)
{
	char want[256];
	const char *line;

	snprintf(want, sizeof(want), "%s\"", path);
	line = audit_line(want);
	return line != NULL && strstr(line, what) != NULL;
}

static const struct limits_config *
lim(void)
{
	return &H.rt->cfg->limits;
}

static void
test_allowed(void)
{
	uint64_t id = h2_open("svc.test", true);
	int32_t sid = g_request(svc(), "/ok?q=1", true);
	struct st *u, *g;
	struct conn *c;

	PUMP_UNTIL(up_stream("/ok?q=1") != NULL &&
	    up_stream("/ok?q=1")->ended);
	u = up_stream("/ok?q=1");
	ok(u != NULL && u->ended, "allowed: the request goes upstream whole");
	c = find_conn(id);
	ok(c != NULL && c->h2 != NULL && c->h2->streams != NULL &&
	    timer_armed(&c->h2->streams->timer) &&
	    c->h2->streams->timer.when == loop_now(H.loop) +
	    lim()->response_timeout_ms && !timer_armed(&c->timer),
	    "no sweep: the stream's own timer, at its response_timeout; the "
	    "connection's timer is off");
	is_str(u != NULL ? u->authority : NULL, svc(),
	    "allowed: with the stream's authority");
	if (u == NULL)
		return;
	up_respond(u, "hello");
	g = st_get(&G, sid);
	PUMP_UNTIL(g->closed);
	ok(got(g, "hello") && g->ended &&
	    g->code == 0, "allowed: the guest gets the response");
	settle();
	ok(audit_has("/ok?q=1", "\"status\":200"),
	    "allowed: one audit line with the status");
	c = find_conn(id);
	ok(c != NULL && c->state == CONN_H2,
	    "allowed: the connection stays for more streams");
	ok(c != NULL && c->h2->nstreams == 0 && timer_armed(&c->timer) &&
	    c->timer.when == c->deadline && c->deadline > loop_now(H.loop) &&
	    c->deadline <= loop_now(H.loop) + lim()->upstream_idle_timeout_ms,
	    "no stream open: the connection's timer at its idle deadline");
	h2_close(id);
}

/* A stream the gateway answers itself: that status, nothing upstream. */
static void
expect_refused(const char *sni, const char *authority, int status,
    const char *reason, const char *what)
{
	uint64_t id = h2_open(sni, true);
	int32_t sid = g_request(authority, "/r", true);
	struct st *g = st_get(&G, sid);

	PUMP_UNTIL(g->closed);
	ok(g->status == status && g->ended, "%s: %d as an h2 response", what,
	    status);
	is_str(g->reason, reason, "%s: the reason is named", what);
	pump_some();
	ok(U.nst == 0, "%s: nothing is sent upstream", what);
	ok(find_conn(id) != NULL, "%s: the connection stays", what);
	h2_close(id);
}

static void
test_refused(void)
{
	char a[64];

	snprintf(a, sizeof(a), "denied.test:%u", H.up_port);
	expect_refused("denied.test", a, 403, "denied by egress policy",
	    "denied");
	ok(audit_has("/r", "\"status\":403"),
	    "denied: audited with its 403");
	snprintf(a, sizeof(a), "other.test:%u", H.up_port);
	expect_refused("svc.test", a, 421,
	    "host does not match the TLS server name", "authority not SNI");
}

/*
 * The response head does not come in response_timeout: 504 on that
 * stream, reset upstream; the stream beside it, whose head came, goes
 * on.  Then a response whose bytes stop: reset both ways.
 */
static void
test_response_timeouts(void)
{
	uint64_t id = h2_open("svc.test", true);
	int32_t a = g_request(svc(), "/slow", true);
	int32_t b = g_request(svc(), "/fast", true);
	struct st *ua, *ub, *ga = st_get(&G, a), *gb = st_get(&G, b);

	if (!both_up("/slow", "/fast", &ua, &ub, "response timeout"))
		return;
	later(lim()->response_timeout_ms - 1000);
	ok(!ga->closed && !gb->closed, "response timeout: not before it");
	up_respond(ub, NULL);		/* b's head, no body yet */
	PUMP_UNTIL(gb->status == 200);
	later(1001);
	PUMP_UNTIL(ga->closed);
	ok(ga->status == 504 && ga->ended,
	    "response timeout: 504 on the stream without a head");
	is_str(ga->reason, "upstream response timeout",
	    "response timeout: the reason is named");
	PUMP_UNTIL(ua->closed);
	ok(ua->rst && ua->code == NGHTTP2_CANCEL,
	    "response timeout: that stream is reset upstream");
	ok(!gb->closed && !ub->closed, "response timeout: the other stream "
	    "is untouched");
	ok(audit_has("/slow", "\"status\":504") &&
	    audit_has("/slow", "\"reason\":\"upstream response timeout\""),
	    "response timeout: audited with the reason");

	/* b's body stops after its head: reset both ways, head or not */
	later(lim()->response_timeout_ms - 2000);
	ok(!gb->closed, "response bytes timeout: not before it");
	later(2000);
	PUMP_UNTIL(gb->closed && ub->closed);
	ok(gb->rst && gb->code == NGHTTP2_CANCEL && gb->status == 200,
	    "response bytes timeout: the guest's stream is reset");
	ok(ub->rst && ub->code == NGHTTP2_CANCEL,
	    "response bytes timeout: and the upstream's");
	ok(audit_has("/fast", "\"reason\":\"response timeout\""),
	    "response bytes timeout: audited with the reason");
	ok(find_conn(id) != NULL && find_conn(id)->state == CONN_H2,
	    "response timeouts: the connection stays");

	/* and a new stream still works */
	ga = serve(g_request(svc(), "/after", true), "/after", "fine");
	ok(got(ga, "fine"),
	    "response timeouts: later streams are served");
	h2_close(id);
}

/*
 * A request body that stops: idle_timeout ends that stream (the guest's
 * turn), while a stream waiting for the upstream (response_timeout, far
 * longer here) goes on.
 */
static void
test_idle_stream(void)
{
	uint64_t id = h2_open("svc.test", true);
	int32_t e = g_request(svc(), "/upload", false);
	int32_t f = g_request(svc(), "/wait", true);
	struct st *ge = st_get(&G, e), *gf = st_get(&G, f), *ue, *uf;

	if (!both_up("/upload", "/wait", &ue, &uf, "idle stream"))
		return;
	later(lim()->idle_timeout_ms - 1);
	ok(!ge->closed && !ue->closed, "idle stream: not before it");
	later(2);
	PUMP_UNTIL(ge->closed && ue->closed);
	ok(ge->rst && ge->code == NGHTTP2_CANCEL,
	    "idle stream: the stalled upload is reset");
	ok(ue->rst && ue->code == NGHTTP2_CANCEL,
	    "idle stream: upstream too");
	ok(audit_has("/upload", "\"reason\":\"idle timeout\""),
	    "idle stream: audited with the reason");
	ok(!gf->closed, "idle stream: the stream waiting upstream goes on");
	up_respond(uf, "late");
	PUMP_UNTIL(gf->closed);
	ok(got(gf, "late"),
	    "idle stream: and is answered");
	h2_close(id);
}

/* Streams done, nothing open: the connection's own deadlines. */
static void
test_idle_connection(void)
{
	uint64_t id = h2_open("svc.test", true);
	int32_t sid;
	struct conn *c;

	(void)serve(g_request(svc(), "/one", true), "/one", "x");
	later(lim()->upstream_idle_timeout_ms - 1);
	c = find_conn(id);
	ok(c != NULL && c->up.io.fd != -1 && !U.eof && !G.goaway,
	    "upstream idle: not before it");
	/* a stream in between puts it off */
	sid = g_request(svc(), "/two", true);
	PUMP_UNTIL(up_stream("/two") != NULL);
	later(2);
	ok(find_conn(id) != NULL && !G.goaway,
	    "upstream idle: an open stream puts it off");
	(void)serve(sid, "/two", "y");
	later(lim()->upstream_idle_timeout_ms - 1);
	ok(find_conn(id) != NULL && !U.goaway, "upstream idle: again from "
	    "the last stream's end");
	later(2);
	PUMP_UNTIL(U.eof && G.eof);
	ok(U.goaway && U.goaway_code == NGHTTP2_NO_ERROR && U.eof,
	    "upstream idle: the upstream gets GOAWAY and its connection ends");
	ok(G.goaway && G.goaway_code == NGHTTP2_NO_ERROR,
	    "upstream idle: the guest is told with GOAWAY");
	ok(G.eof && find_conn(id) == NULL,
	    "upstream idle: the guest connection ends once it is written");
	is_str(close_reason(id), "h2: upstream idle timeout",
	    "teardown: h2: upstream idle timeout");
	h2_close(id);

	/* no upstream (refused at the TLS stage): idle_timeout */
	id = h2_open("svc.test", false);
	later(lim()->upstream_idle_timeout_ms + 1);
	ok(find_conn(id) != NULL && !G.goaway,
	    "idle, no upstream: upstream_idle_timeout does not apply");
	later(lim()->idle_timeout_ms - lim()->upstream_idle_timeout_ms - 2);
	ok(find_conn(id) != NULL && !G.goaway, "idle: not before it");
	later(2);
	PUMP_UNTIL(G.eof);
	ok(G.goaway && G.goaway_code == NGHTTP2_NO_ERROR && G.eof,
	    "idle: GOAWAY, then the end");
	is_str(close_reason(id), "idle keep-alive timeout",
	    "teardown: idle keep-alive timeout");
	h2_close(id);
}

/* Stream 101 (over SETTINGS_MAX_CONCURRENT_STREAMS) is refused; the
 * 100 open ones go on. */
static void
test_stream_limit(void)
{
	uint64_t id = h2_start("svc.test", true);
	int32_t sid[H2_MAX_STREAMS + 1];
	char path[32];
	struct st *last, *first;
	unsigned i;

	for (i = 0; i <= H2_MAX_STREAMS; i++) {
		snprintf(path, sizeof(path), "/s%u", i);
		sid[i] = g_request(svc(), path, true);
	}
	/* all sent before the gateway's SETTINGS arrive, which would make
	 * the client hold the last one back */
	np_flush(&G);
	last = st_get(&G, sid[H2_MAX_STREAMS]);
	PUMP_UNTIL(last->closed && U.nst >= H2_MAX_STREAMS);
	ok(last->rst && last->code == NGHTTP2_REFUSED_STREAM,
	    "stream limit: the stream past it is refused");
	pump_some();
	ok(U.nst == H2_MAX_STREAMS && up_stream(path) == NULL,
	    "stream limit: the %u others go upstream, not that one",
	    H2_MAX_STREAMS);
	first = serve(sid[0], "/s0", "first");
	ok(got(first, "first"),
	    "stream limit: the open streams are served");
	ok(find_conn(id) != NULL && !G.goaway,
	    "stream limit: the connection stays");
	h2_close(id);
}

/*
 * A guest that reads nothing: the response fills its socket, and the
 * resets and the 504 its streams' deadlines queue cannot go out.  One
 * more deadline after that ends the connection (as an idle HTTP/1.1 one
 * would), instead of resetting the streams again forever.
 */
static void
test_guest_reads_nothing(void)
{
	static char big[1 << 20];
	nghttp2_settings_entry win = { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
		1 << 24 };
	uint64_t id = h2_start("svc.test", true);
	int32_t a, b;
	struct st *ua, *ub;

	/* windows far larger than the socket: only the socket holds back */
	(void)nghttp2_submit_settings(G.s, NGHTTP2_FLAG_NONE, &win, 1);
	(void)nghttp2_session_set_local_window_size(G.s, NGHTTP2_FLAG_NONE,
	    0, 1 << 24);
	pump_some();
	a = g_request(svc(), "/big", true);
	b = g_request(svc(), "/stuck", true);
	if (!both_up("/big", "/stuck", &ua, &ub, "guest reads nothing"))
		return;
	memset(big, 'b', sizeof(big) - 1);
	g_deaf = true;
	up_respond(ua, big);
	pump_some();
	later(lim()->response_timeout_ms + 1);
	PUMP_UNTIL(ub->closed);
	ok(ub->rst && find_conn(id) != NULL, "guest reads nothing: the "
	    "streams' deadlines end them upstream, the connection stays");
	later(lim()->idle_timeout_ms - 2);
	ok(find_conn(id) != NULL, "guest reads nothing: not before the next "
	    "deadline");
	later(3);
	ok(find_conn(id) == NULL, "guest reads nothing: then the connection "
	    "ends");
	is_str(close_reason(id), "idle timeout", "teardown: idle timeout");
	ok(!st_get(&G, a)->closed && !st_get(&G, b)->closed,
	    "guest reads nothing: (it never saw its streams end)");
	g_deaf = false;
	h2_close(id);
}

/* The upstream connection ends: its open stream gets a 502, the guest a
 * GOAWAY, and the connection finishes once the stream is answered. */
static void
test_upstream_gone(void)
{
	uint64_t id = h2_open("svc.test", true);
	int32_t sid = g_request(svc(), "/gone", true);
	struct st *g = st_get(&G, sid);

	PUMP_UNTIL(up_stream("/gone") != NULL);
	np_close(&U);
	PUMP_UNTIL(g->closed && find_conn(id) == NULL);
	ok(g->status == 502 && g->ended, "upstream gone: 502 on its stream");
	is_str(g->reason, "upstream connection ended",
	    "upstream gone: the reason is named");
	ok(G.goaway && G.goaway_code == NGHTTP2_NO_ERROR,
	    "upstream gone: the guest is told with GOAWAY");
	is_str(close_reason(id), "h2: connection finished",
	    "teardown: h2: connection finished once the stream is answered");
	h2_close(id);
}

/* A connection error ends that connection, not its neighbour. */
static void
test_connection_error(void)
{
	static const char data_on_0[9] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint64_t id2 = h2_open("svc.test", true), id1;
	int32_t s2 = g_request(svc(), "/beside", true), s1;
	struct st *t;

	PUMP_UNTIL(up_stream("/beside") != NULL);
	G2 = G;
	U2 = U;
	id1 = h2_open("svc.test", true);
	s1 = g_request(svc(), "/victim", true);
	PUMP_UNTIL(up_stream("/victim") != NULL);
	np_flush(&G);
	send_all(G.fd, data_on_0, sizeof(data_on_0));	/* DATA on stream 0 */
	PUMP_UNTIL(G.eof && U.eof);
	ok(G.goaway && G.goaway_code == NGHTTP2_PROTOCOL_ERROR,
	    "connection error: GOAWAY PROTOCOL_ERROR to the guest");
	ok(G.eof && U.eof && find_conn(id1) == NULL,
	    "connection error: that connection and its upstream end");
	is_str(close_reason(id1), "h2: guest connection ended",
	    "teardown: h2: guest connection ended");
	(void)s1;
	ok(audit_has("/victim", "\"reason\":\"sent GOAWAY PROTOCOL_ERROR\""),
	    "connection error: its open stream is audited with the cause");
	h2_close(id1);

	G = G2;
	U = U2;
	ok(find_conn(id2) != NULL && find_conn(id2)->state == CONN_H2,
	    "connection error: the other connection stays");
	t = serve(s2, "/beside", "still");
	ok(got(t, "still"),
	    "connection error: its stream is served");

	/* the guest says goodbye: the connection finishes */
	(void)nghttp2_submit_goaway(G.s, NGHTTP2_FLAG_NONE, 0,
	    NGHTTP2_NO_ERROR, NULL, 0);
	PUMP_UNTIL(find_conn(id2) == NULL);
	is_str(close_reason(id2), "h2: connection finished",
	    "teardown: h2: connection finished");
	h2_close(id2);

	/* the guest just closes */
	id1 = h2_open("svc.test", true);
	close(G.fd);
	G.fd = -1;
	PUMP_UNTIL(find_conn(id1) == NULL);
	is_str(close_reason(id1), "h2: guest connection ended",
	    "teardown: the guest closes");
	h2_close(id1);
}

int
main(void)
{
	harness_init();
	G.fd = U.fd = -1;
	test_allowed();
	test_refused();
	test_response_timeouts();
	test_idle_stream();
	test_idle_connection();
	test_stream_limit();
	test_upstream_gone();
	test_guest_reads_nothing();
	test_connection_error();
	harness_fini();
	return tap_done();
}
