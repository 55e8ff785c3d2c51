/*
 * stats_cost.c - what the metrics cost one request on a worker, in
 * isolation: the calls the request path makes (stats.h) for one HTTPS
 * keep-alive request (the time comes from the loop's once-per-wake-up
 * clock, so no clock is read here), against the one shared atomic add
 * per request it replaced, with 1 and 2 threads counting at once.  Not a
 * test: it prints nanoseconds per request and thread.
 *
 *   cc -O2 -Igatewayd tests/bench/stats_cost.c build-bench/gatewayd/libgw.a \
 *       -lssl -lcrypto -lconfig -lmnl -lnetfilter_queue -lpthread \
 *       -o /tmp/stats_cost && /tmp/stats_cost
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "stats.h"

#define N	5000000u

static struct stats *st;
static atomic_ulong shared_requests;
static int mode;		/* 0: shards, 1: shared atomic */

/* One request as conn_http.c, conn_exchange.c and conn_audit.c count it. */
static void
one_request(struct stats_shard *sh, uint64_t now_us)
{
	uint64_t t_start, t_ttfb;

	t_start = t_ttfb = now_us;			/* exchange_begin */
	stats_once(sh, SH_TTFB, &t_ttfb, now_us + 300);	/* first byte */
	stats_inc_request(sh, "agents", SD_ALLOW, 200);	/* conn_audit */
	(void)stats_since(sh, SH_REQUEST, t_start, now_us + 400);
}

static void *
run(void *arg)
{
	struct stats_shard *sh = stats_shard_new(st);
	unsigned i;

	(void)arg;
	for (i = 0; i < N; i++) {
		if (mode == 0)
			one_request(sh, (uint64_t)i * 97);
		else
			atomic_fetch_add(&shared_requests, 1);
	}
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
measure(int m, int threads)
{
	pthread_t th[2];
	double t0;
	int i;

	mode = m;
	t0 = now_s();
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, run, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return (now_s() - t0) * 1e9 / N;	/* per request, per thread */
}

int
main(void)
{
	int t;

	st = stats_new();
	for (t = 1; t <= 2; t++) {
		printf("%d thread(s): the metrics of one request (2 "
		    "histograms, 1 labelled series) %.1f ns\n", t,
		    measure(0, t));
		printf("%d thread(s): the shared atomic add it replaced     "
		    "                  %.1f ns\n", t, measure(1, t));
	}
	stats_free(st);
	return 0;
}
