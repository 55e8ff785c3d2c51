/*
 * test_metrics.c - the Prometheus text renderer (exact lines, escaping,
 * cumulative buckets, one HELP/TYPE per name), the `gatewayd stats`
 * lines, the scrape request parser, and the listener itself over
 * loopback (200, 404, 405, 400, a head in pieces; keep-alive and its
 * bounds on an injected clock: the idle timeout, the request limit, the
 * slot of an idle scraper given to a new one).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "tap.h"
#include "worker.h"

static struct metrics_snapshot
sample(void)
{
	struct metrics_snapshot s;

	memset(&s, 0, sizeof(s));
	s.st.counter[ST_CONN_ACCEPTED] = 7;
	s.st.counter[ST_CONN_REFUSED_LOOP] = 2;
	s.st.event[SE_RELOAD_REFUSED] = 1;
	s.conns_open = 3;
	s.audit.lines = 11;
	s.audit.dropped = 4;
	s.nfq.dropped = 5;
	s.nfq.reset = 2;
	s.nfq_drop_only = 3;
	s.leaf.hits = 9;
	stats_snapshot_add(&s.st, SF_REQUESTS, "dev", "allow", "2xx", 5);
	stats_snapshot_add(&s.st, SF_REQUESTS, "dev", "deny", "4xx", 2);
	stats_snapshot_add(&s.st, SF_DENIALS, "dev", "egress_policy",
	    "no \"evil\"\\x\nrule", 2);
	stats_snapshot_add(&s.st, SF_VERIFY_FAILURES, "dev",
	    "certificate has expired", "ignored", 1);
	stats_snapshot_add(&s.st, SF_SECRETS, "dev", "gh", "sentinel", 1);
	s.st.hist[SH_REQUEST].bucket[0] = 1;
	s.st.hist[SH_REQUEST].bucket[3] = 2;
	s.st.hist[SH_REQUEST].bucket[STATS_BUCKETS] = 1;
	s.st.hist[SH_REQUEST].sum_us = 1500000;
	s.leaf.mint_hist.bucket[2] = 1;
	strcpy(s.config_hash, "ab12");
	s.version = "1.2.3";
	return s;
}

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p += n;
	}
	return false;
}

static size_t
count_str(const char *text, const char *s)
{
	size_t n = 0;

	for (; (text = strstr(text, s)) != NULL; text++)
		n++;
	return n;
}

/* Every sample line: a name declared by a TYPE line before it, then
 * optional labels, one space, a number. */
static bool
well_formed(const char *text, char *why, size_t whylen)
{
	char typed[16384] = " ", name[128];
	const char *p = text, *nl;

	for (; *p != '\0'; p = nl + 1) {
		size_t n, len;
		char *end;

		nl = strchr(p, '\n');
		if (nl == NULL) {
			snprintf(why, whylen, "no final newline");
			return false;
		}
		len = (size_t)(nl - p);
		if (len > 7 && memcmp(p, "# TYPE ", 7) == 0) {
			n = strcspn(p + 7, " ");
			snprintf(name, sizeof(name), " %.*s ", (int)n, p + 7);
			if (strstr(typed, name) != NULL) {
				snprintf(why, whylen, "TYPE twice:%s", name);
				return false;
			}
			strncat(typed, name + 1, sizeof(typed) - strlen(typed)
			    - 1);
			continue;
		}
		if (*p == '#')
			continue;
		n = strcspn(p, "{ ");
		snprintf(name, sizeof(name), " %.*s ", (int)n, p);
		if (strstr(typed, name) == NULL) {
			/* histogram samples: name_bucket, _sum, _count */
			char base[128];
			const char *u = strrchr(name, '_');

			snprintf(base, sizeof(base), "%.*s ", u ? (int)(u - name)
			    : 0, name);
			if (u == NULL || strstr(typed, base) == NULL) {
				snprintf(why, whylen, "untyped sample %.*s",
				    (int)len, p);
				return false;
			}
		}
		p += n;
		if (*p == '{') {
			while (p < nl && !(*p == '}' && p[-1] == '"'))
				p++;
			p++;
		}
		if (*p != ' ' || (strtod(p + 1, &end), end != nl)) {
			snprintf(why, whylen, "bad value in %.*s", (int)len,
			    nl - len);
			return false;
		}
	}
	return true;
}

static void
test_render(void)
{
	struct metrics_snapshot s = sample();
	struct buf out = { 0 };
	char why[300] = "", *text;

	metrics_render(&s, &out);
	buf_append(&out, "", 1);
	text = (char *)buf_head(&out);
	ok(well_formed(text, why, sizeof(why)), "output is well formed: %s",
	    why);
	ok(has_line(text, "gatewayd_build_info{version=\"1.2.3\"} 1"),
	    "build info");
	ok(has_line(text, "gatewayd_config_info{hash=\"ab12\"} 1"),
	    "config info");
	ok(has_line(text, "gatewayd_connections_total 7"), "plain counter");
	ok(has_line(text, "gatewayd_connections_open 3"), "gauge");
	ok(has_line(text, "# TYPE gatewayd_connections_open gauge"),
	    "gauge typed as gauge");
	ok(has_line(text, "gatewayd_connections_refused_total{reason=\"loop\"} "
	    "2"), "fixed label");
	is(count_str(text, "# HELP gatewayd_connections_refused_total "), 1,
	    "one HELP for rows sharing a name");
	ok(has_line(text, "gatewayd_reloads_total{result=\"refused\"} 1"),
	    "reloads refused");
	ok(has_line(text, "gatewayd_audit_dropped_total 4"), "audit dropped");
	ok(has_line(text, "gatewayd_nfqueue_verdicts_total{verdict=\"drop\"} "
	    "3"), "nfq drops without resets");
	ok(has_line(text, "gatewayd_requests_total{group=\"dev\","
	    "decision=\"deny\",status=\"4xx\"} 2"), "labelled series");
	ok(has_line(text, "gatewayd_denials_total{group=\"dev\",reason=\""
	    "egress_policy\",rule=\"no \\\"evil\\\"\\\\x\\nrule\"} 2"),
	    "label values escaped");
	ok(has_line(text, "gatewayd_secrets_injected_total{group=\"dev\","
	    "secret=\"gh\",via=\"sentinel\"} 1"), "three labels");
	ok(has_line(text, "gatewayd_upstream_verify_failures_total"
	    "{group=\"dev\",reason=\"certificate has expired\"} 1"),
	    "a two-label family prints two labels");
	ok(has_line(text, "gatewayd_guest_leaf_rejected_total"
	    "{group=\"dev\"} 1") == false, "no series: no sample");
	ok(has_line(text, "# TYPE gatewayd_guest_leaf_rejected_total counter"),
	    "...but the family is declared");
	ok(has_line(text, "gatewayd_request_duration_seconds_bucket"
	    "{le=\"0.0005\"} 1"), "first bucket");
	ok(has_line(text, "gatewayd_request_duration_seconds_bucket"
	    "{le=\"0.005\"} 3"), "buckets are cumulative");
	ok(has_line(text, "gatewayd_request_duration_seconds_bucket"
	    "{le=\"30\"} 3"), "last finite bucket");
	ok(has_line(text, "gatewayd_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} 4"), "+Inf bucket");
	ok(has_line(text, "gatewayd_request_duration_seconds_count 4"),
	    "count equals +Inf");
	ok(has_line(text, "gatewayd_request_duration_seconds_sum 1.500000"),
	    "sum in seconds");
	ok(has_line(text, "gatewayd_leaf_mint_seconds_bucket{le=\"0.0025\"} 1"),
	    "leaf mint histogram");
	ok(strstr(text, "198.") == NULL && strstr(text, "http") == NULL,
	    "no address or URL anywhere");
	buf_free(&out);
	stats_snapshot_fini(&s.st);
}

static void
test_stats_text(void)
{
	struct metrics_snapshot s = sample();
	char buf[4096], small[40];
	size_t n;

	n = metrics_render_stats(&s, buf, sizeof(buf));
	ok(n == strlen(buf) && n > 0, "length returned");
	ok(has_line(buf, "accepted 7"), "accepted");
	ok(has_line(buf, "requests 7"), "requests: sum of the series");
	ok(has_line(buf, "denied 2"), "denied: sum of denials");
	ok(has_line(buf, "secrets_injected 1"), "secrets");
	ok(has_line(buf, "connections_open 3"), "open");
	ok(has_line(buf, "reloads_refused 1"), "reloads");
	ok(has_line(buf, "nfq_dropped 5"), "nfq total drops kept");
	ok(has_line(buf, "audit_lines 11"), "audit");
	n = metrics_render_stats(&s, small, sizeof(small));
	is(n, sizeof(small) - 1, "truncated to the buffer");
	is(strlen(small), n, "...and NUL-terminated");
	stats_snapshot_fini(&s.st);
}

static void
test_parse(void)
{
	static const struct {
		const char	*req;
		enum metrics_req want;
		bool		keep;
	} t[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", MREQ_METRICS, true },
		{ "GET /metrics HTTP/1.0\r\n\r\n", MREQ_METRICS, false },
		{ "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		    MREQ_METRICS, true },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: "
		    "Keep-Alive, close\r\n\r\n", MREQ_METRICS, false },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: "
		    "3\r\n\r\n", MREQ_METRICS, false },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n", MREQ_METRICS, false },
		{ "GET /metrics HTTP/1.1\r\n\r\n", MREQ_METRICS, false },
		{ "GET /metrics?x=1 HTTP/1.1\n\n", MREQ_METRICS, false },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", MREQ_NEED_MORE, false },
		{ "GET /met", MREQ_NEED_MORE, false },
		{ "", MREQ_NEED_MORE, false },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", MREQ_NOT_FOUND, true },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", MREQ_NOT_FOUND, false },
		{ "GET /metric HTTP/1.1\r\n\r\n", MREQ_NOT_FOUND, false },
		{ "GET http://h/metrics HTTP/1.1\r\n\r\n", MREQ_NOT_FOUND,
		    false },
		{ "POST /metrics HTTP/1.1\r\n\r\n", MREQ_BAD_METHOD, false },
		{ "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", MREQ_BAD_METHOD,
		    false },
		{ "get /metrics HTTP/1.1\r\n\r\n", MREQ_BAD_METHOD, false },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", MREQ_BAD, false },
		{ "GET /metrics HTTP/2.0\r\n\r\n", MREQ_BAD, false },
		{ "GET /metrics HTTP/1.1 x\r\n\r\n", MREQ_BAD, false },
		{ "GET /metrics\r\n\r\n", MREQ_BAD, false },
		{ "GET /m\x01 HTTP/1.1\r\n\r\n", MREQ_BAD, false },
		{ "\r\n\r\n", MREQ_BAD, false },
		{ "G(T /metrics HTTP/1.1\r\n\r\n", MREQ_BAD, false },
	};
	static const char two[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /m";
	char big[METRICS_REQ_MAX + 10];
	struct metrics_head h;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		enum metrics_req r = metrics_parse_request(t[i].req,
		    strlen(t[i].req), &h);

		is(r, t[i].want, "parse case %zu", i);
		if (r != MREQ_NEED_MORE)
			ok(h.keep_alive == t[i].keep && h.len ==
			    strlen(t[i].req), "parse case %zu: keep-alive %s, "
			    "the whole head", i, t[i].keep ? "yes" : "no");
	}
	is(metrics_parse_request(two, sizeof(two) - 1, &h), MREQ_NOT_FOUND,
	    "a head, then the next one's start");
	is(h.len, sizeof(two) - 1 - 6, "...the first head's length");
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	is(metrics_parse_request(big, METRICS_REQ_MAX - 1, &h), MREQ_NEED_MORE,
	    "long head: still waiting below the limit");
	is(metrics_parse_request(big, METRICS_REQ_MAX, &h), MREQ_BAD,
	    "no end within METRICS_REQ_MAX: bad");
	memcpy(big + METRICS_REQ_MAX + 2, "\n\n", 2);
	is(metrics_parse_request(big, sizeof(big), &h), MREQ_BAD,
	    "an end past the limit is not looked for");
}

static void
test_head(void)
{
	struct buf b = { 0 };

	metrics_response_head(MREQ_BAD_METHOD, 5, false, &b);
	buf_append(&b, "", 1);
	ok(strncmp(buf_head(&b), "HTTP/1.1 405 ", 13) == 0, "405 status");
	ok(strstr(buf_head(&b), "\r\nAllow: GET\r\n") != NULL, "405 has Allow");
	ok(strstr(buf_head(&b), "\r\nContent-Length: 5\r\n") != NULL,
	    "length");
	ok(strstr(buf_head(&b), "\r\nConnection: close\r\n") != NULL,
	    "closing: says so");
	buf_free(&b);
	metrics_response_head(MREQ_METRICS, 0, true, &b);
	buf_append(&b, "", 1);
	ok(strstr(buf_head(&b), "text/plain; version=0.0.4") != NULL,
	    "exposition format content type");
	ok(strstr(buf_head(&b), "Allow:") == NULL, "200 has no Allow");
	ok(strstr(buf_head(&b), "\r\nConnection: keep-alive\r\n") != NULL,
	    "kept alive: says so (an HTTP/1.0 scraper needs it)");
	buf_free(&b);
}

/* Send req in parts (split at the '|' bytes), read the whole answer. */
static size_t
fetch(uint16_t port, const char *req, char *out, size_t outlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		return 0;
	while (*req != '\0') {
		size_t k = strcspn(req, "|");

		(void)!write(fd, req, k);
		req += k + (req[k] == '|');
		usleep(20000);
	}
	while (got + 1 < outlen &&
	    (n = read(fd, out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	return got;
}

static void
test_server(void)
{
	struct metrics_sources src = { 0 };
	struct metrics_srv *m;
	struct stats_shard *sh;
	struct addr a;
	struct gw gw;
	static char out[256 * 1024], big[METRICS_REQ_MAX + 1];
	char err[200];

	gw_init(&gw);
	sh = stats_shard_new(gw.stats);
	stats_inc(sh, ST_CONN_ACCEPTED);
	stats_inc(sh, ST_CONN_ACCEPTED);
	src.gw = &gw;
	src.version = "test";
	AZ(addr_parse("127.0.0.1", &a));
	a.port = 0;
	m = metrics_start(&a, &src, err, sizeof(err));
	ok(m != NULL, "listener started: %s", m ? "" : err);
	if (m == NULL)
		return;
	fetch(metrics_port(m), "GET /metrics HTTP/1.1\r\n\r\n", out,
	    sizeof(out));
	ok(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "GET /metrics: 200");
	ok(strstr(out, "\ngatewayd_connections_total 2\n") != NULL,
	    "the shard's counter is served");
	ok(strstr(out, "\ngatewayd_config_info{hash=\"\"} 1\n") != NULL,
	    "no runtime yet: empty hash");
	fetch(metrics_port(m), "GET /met|rics HT|TP/1.1\r\n|\r\n", out,
	    sizeof(out));
	ok(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "a head in pieces");
	fetch(metrics_port(m), "GET /other HTTP/1.1\r\n\r\n", out, sizeof(out));
	ok(strncmp(out, "HTTP/1.1 404 ", 13) == 0, "another path: 404");
	fetch(metrics_port(m), "DELETE /metrics HTTP/1.1\r\n\r\n", out,
	    sizeof(out));
	ok(strncmp(out, "HTTP/1.1 405 ", 13) == 0, "another method: 405");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	fetch(metrics_port(m), big, out, sizeof(out));
	ok(strncmp(out, "HTTP/1.1 400 ", 13) == 0, "oversized head: 400");
	metrics_stop(m);
	gw_fini(&gw);
}

static _Atomic uint64_t fake_ms = 1000000;

static uint64_t
fake_clock(void)
{
	return atomic_load(&fake_ms);
}

/* A connection to the listener whose reads give up after 5 s. */
static int
dial(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		printf("Bail out! cannot reach the listener\n");
		exit(1);
	}
	return fd;
}

/*
 * One answer read by its Content-Length, into out (NUL-terminated).
 * Returns its length, or 0 at the end of the connection or a timeout.
 */
static size_t
read_answer(int fd, char *out, size_t outlen)
{
	size_t got = 0, need = 0;
	const char *e, *cl;
	ssize_t n;

	for (;;) {
		out[got] = '\0';
		e = strstr(out, "\r\n\r\n");
		if (e != NULL && need == 0) {
			cl = strstr(out, "Content-Length: ");
			need = (size_t)(e + 4 - out) + (cl != NULL && cl < e ?
			    strtoul(cl + 16, NULL, 10) : 0);
		}
		if (need != 0 && got >= need)
			return got;
		if (got + 1 >= outlen)
			return 0;
		/* one byte at a time: nothing of the next answer is taken */
		n = read(fd, out + got, need != 0 ? MIN(need - got,
		    outlen - 1 - got) : 1);
		if (n <= 0)
			return 0;
		got += (size_t)n;
	}
}

/* Does the peer end the connection (within the 5 s read timeout)? */
static bool
sees_eof(int fd)
{
	char c;

	return read(fd, &c, 1) == 0;
}

static const char get_metrics[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
static const char get_other[] = "GET /other HTTP/1.1\r\nHost: x\r\n\r\n";

static void
test_keepalive(void)
{
	struct metrics_sources src = { 0 };
	struct metrics_srv *m;
	struct addr a;
	struct gw gw;
	static char out[256 * 1024];
	char err[200];
	int fd, fds[METRICS_MAX_CLIENTS], i;
	bool all = true;
	uint16_t port;

	gw_init(&gw);
	src.gw = &gw;
	src.version = "test";
	src.now_ms = fake_clock;
	AZ(addr_parse("127.0.0.1", &a));
	m = metrics_start(&a, &src, err, sizeof(err));
	ok(m != NULL, "listener started: %s", m ? "" : err);
	if (m == NULL)
		return;
	port = metrics_port(m);

	fd = dial(port);
	(void)!write(fd, get_metrics, strlen(get_metrics));
	ok(read_answer(fd, out, sizeof(out)) > 0 && strncmp(out,
	    "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr(out,
	    "\r\nConnection: keep-alive\r\n") != NULL,
	    "keep-alive: the first answer keeps the connection");
	(void)!write(fd, get_metrics, strlen(get_metrics));
	ok(read_answer(fd, out, sizeof(out)) > 0 &&
	    strstr(out, "\ngatewayd_build_info{version=\"test\"} 1\n") != NULL,
	    "keep-alive: a second scrape on the same connection");
	/* two heads in one write: two answers, in order */
	snprintf(out, sizeof(out), "%s%s", get_other, get_metrics);
	(void)!write(fd, out, strlen(out));
	ok(read_answer(fd, out, sizeof(out)) > 0 &&
	    strncmp(out, "HTTP/1.1 404 ", 13) == 0, "pipelined: the first");
	ok(read_answer(fd, out, sizeof(out)) > 0 &&
	    strncmp(out, "HTTP/1.1 200 ", 13) == 0, "pipelined: the second");
	atomic_fetch_add(&fake_ms, METRICS_IDLE_MS - 1000);
	usleep(300000);	/* a turn of the server's loop: nothing due */
	(void)!write(fd, get_other, strlen(get_other));
	ok(read_answer(fd, out, sizeof(out)) > 0, "idle below the timeout: "
	    "still open");
	atomic_fetch_add(&fake_ms, METRICS_IDLE_MS + 1);
	ok(sees_eof(fd), "idle past METRICS_IDLE_MS: closed");
	close(fd);

	fd = dial(port);
	snprintf(out, sizeof(out), "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	(void)!write(fd, out, strlen(out));
	ok(read_answer(fd, out, sizeof(out)) > 0 && strstr(out,
	    "\r\nConnection: close\r\n") != NULL && sees_eof(fd),
	    "Connection: close is honoured");
	close(fd);
	fd = dial(port);
	snprintf(out, sizeof(out), "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 4\r\n\r\nGET ");
	(void)!write(fd, out, strlen(out));
	ok(read_answer(fd, out, sizeof(out)) > 0 && sees_eof(fd),
	    "a request with a body: answered, then closed");
	close(fd);

	/* the request limit: the last answer says close */
	fd = dial(port);
	for (i = 1; i < METRICS_MAX_REQUESTS; i++) {
		(void)!write(fd, get_other, strlen(get_other));
		if (read_answer(fd, out, sizeof(out)) == 0 || strstr(out,
		    "Connection: keep-alive") == NULL)
			all = false;
	}
	ok(all, "%d requests kept alive", METRICS_MAX_REQUESTS - 1);
	(void)!write(fd, get_other, strlen(get_other));
	ok(read_answer(fd, out, sizeof(out)) > 0 && strstr(out,
	    "\r\nConnection: close\r\n") != NULL && sees_eof(fd),
	    "request %d: answered with close, then closed",
	    METRICS_MAX_REQUESTS);
	close(fd);

	/* every slot held by an idle scraper: a new one takes the oldest */
	for (i = 0; i < METRICS_MAX_CLIENTS; i++) {
		fds[i] = dial(port);
		(void)!write(fds[i], get_other, strlen(get_other));
		(void)read_answer(fds[i], out, sizeof(out));
		atomic_fetch_add(&fake_ms, 10);	/* idle since: in order */
	}
	fd = dial(port);
	(void)!write(fd, get_other, strlen(get_other));
	ok(read_answer(fd, out, sizeof(out)) > 0, "slots full of idle "
	    "scrapers: a new one is served");
	ok(sees_eof(fds[0]), "...in the slot of the one idle longest");
	(void)!write(fds[1], get_other, strlen(get_other));
	ok(read_answer(fds[1], out, sizeof(out)) > 0, "...the others kept");
	for (i = 0; i < METRICS_MAX_CLIENTS; i++)
		close(fds[i]);
	close(fd);
	metrics_stop(m);
	gw_fini(&gw);
}

int
main(void)
{
	test_render();
	test_stats_text();
	test_parse();
	test_head();
	test_server();
	test_keepalive();
	return tap_done();
}
