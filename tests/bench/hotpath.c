/*
 * hotpath.c - CPU of the pure per-request work of an HTTP/1.1 keep-alive
 * exchange, piece by piece, in isolation (issue 12): the request head
 * parsed and rewritten for the upstream, the response head parsed and
 * rewritten for the guest, the audit line formatted, a connection's
 * deadline moved.  The heads are the
 * ones of the project benchmark (wrk's GET, nginx's 1 KiB response).  Not
 * a test: it prints nanoseconds per call, to compare two builds by.
 *
 *   build/tests/bench_hotpath     (meson test -C build --benchmark hotpath)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alog.h"
#include "buf.h"
#include "headrw.h"
#include "http.h"
#include "timer.h"

#define N	400000u

static const char req_head[] =
    "GET /1k HTTP/1.1\r\nHost: www.bench.test\r\n\r\n";

static const char resp_head[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Thu, 03 Dec 2026 14:27:33 GMT\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Length: 1024\r\n"
    "Last-Modified: Thu, 03 Dec 2026 14:27:20 GMT\r\n"
    "Connection: keep-alive\r\n"
    "ETag: \"692f8c28-400\"\r\n"
    "Accept-Ranges: bytes\r\n"
    "\r\n";

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile size_t sink;

static void
bench_request(void)
{
	struct http_request req;
	struct http_error err;
	struct headrw_req o = { .host = "www.bench.test", .port = 443,
	    .tls = true };
	struct buf b = { 0 };
	double t0, t1, t2;
	unsigned i;

	t0 = now_ns();
	for (i = 0; i < N; i++)
		sink += (size_t)http_parse_request(req_head,
		    sizeof(req_head) - 1, &req, &err);
	t1 = now_ns();
	for (i = 0; i < N; i++) {
		buf_clear(&b);
		headrw_request(&b, &req, &o);
		sink += buf_len(&b);
	}
	t2 = now_ns();
	buf_free(&b);
	printf("request head: parse %.0f ns, rewrite %.0f ns\n",
	    (t1 - t0) / N, (t2 - t1) / N);
}

static void
bench_response(void)
{
	struct http_response resp;
	struct http_error err;
	struct headrw_resp o = { 0 };
	struct buf b = { 0 };
	double t0, t1, t2;
	unsigned i;

	t0 = now_ns();
	for (i = 0; i < N; i++)
		sink += (size_t)http_parse_response(resp_head,
		    sizeof(resp_head) - 1, false, &resp, &err);
	t1 = now_ns();
	for (i = 0; i < N; i++) {
		buf_clear(&b);
		headrw_response(&b, &resp, &o);
		sink += buf_len(&b);
	}
	t2 = now_ns();
	buf_free(&b);
	printf("response head: parse %.0f ns, rewrite %.0f ns\n",
	    (t1 - t0) / N, (t2 - t1) / N);
}

static void
bench_audit(void)
{
	struct alog_record r = {
		.kind = ALOG_HTTP,
		.action = ALOG_ALLOW,
		.time_ms = 1796308053123ull,
		.duration_ms = 1,
		.group = "agents",
		.method = "GET",
		.url = "https://www.bench.test/1k",
		.host = "www.bench.test",
		.sni = "www.bench.test",
		.status = 200,
		.bytes_in = 42,
		.bytes_out = 1254,
		.content_type = "application/octet-stream",
		.rule = "allow:*.bench.test",
	};
	char line[4096];
	double t0, t1, t2;
	unsigned i;

	if (addr_parse("10.0.0.2", &r.client) != 0 ||
	    addr_parse("198.18.0.10", &r.dst) != 0)
		return;
	r.client.port = 40123;
	r.dst.port = 443;
	r.upstream = r.dst;
	t0 = now_ns();
	for (i = 0; i < N; i++)
		sink += alog_format(LOGFMT_SQUID, false, &r, line,
		    sizeof(line));
	t1 = now_ns();
	for (i = 0; i < N; i++)
		sink += alog_format(LOGFMT_JSON, false, &r, line,
		    sizeof(line));
	t2 = now_ns();
	printf("audit line: squid %.0f ns, json %.0f ns\n", (t1 - t0) / N,
	    (t2 - t1) / N);
}

/*
 * A connection's timer moved to "now + its timeout" after every step, as
 * conn_dispatch.c does, among 1,000 armed ones; the clock ticks a
 * millisecond every 50 moves, and the due timers run as the loop would.
 */
static void
timer_fired(struct timer *t, uint64_t now)
{
	(void)t;
	(void)now;
	sink++;
}

static void
bench_timer(void)
{
	static struct timer t[1000];
	struct timer_heap h;
	uint64_t now = 1000;
	double t0, t1;
	unsigned i;

	timer_heap_init(&h);
	for (i = 0; i < 1000; i++) {
		timer_init(&t[i], timer_fired);
		timer_set(&h, &t[i], now + 10000 + i);
	}
	t0 = now_ns();
	for (i = 0; i < N; i++) {
		now += i % 50 == 0;
		timer_set(&h, &t[(i * 7) % 1000], now + 10000 + i % 3);
		if (i % 50 == 0) {
			sink += timer_next(&h);
			sink += timer_run(&h, now);
		}
	}
	t1 = now_ns();
	timer_heap_fini(&h);
	printf("deadline moved: %.0f ns\n", (t1 - t0) / N);
}

int
main(void)
{
	bench_request();
	bench_response();
	bench_audit();
	bench_timer();
	return 0;
}
