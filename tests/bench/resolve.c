/*
 * resolve.c - the gateway's getaddrinfo() thread pool (resolver.c)
 * against c-ares on one event loop, under one guest's slow names.
 *
 *   bench_resolve pool|cares SLOW_OUT SECS WINDOW
 *
 * For SECS seconds (at most 60), guest A keeps SLOW_OUT lookups of fresh
 * names under slow.test in flight (the DNS server answers them late:
 * tests/bench/dnsdelay.py) while guest B looks up fresh names under
 * fast.test (answered at once), WINDOW at a time.  Prints B's lookups/s
 * and latency percentiles and how many of A's completed in that time
 * (teardown is not timed).  Run by tests/bench/resolve.sh, in a namespace whose
 * resolv.conf names the delaying server.
 */
#include <ares.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>

#include "hostname.h"
#include "resolver.h"
#include "util.h"

#define MAX_FAST	2000000	/* latencies kept */
#define LOOKUP_QUOTA	32	/* limits.lookups_per_guest's default */

struct bench {
	unsigned	slow_out, fast_n, window;
	uint64_t	end_us, dt_us;
	atomic_uint	a_out, a_done, a_fail;
	atomic_uint	b_out, b_done, b_fail;
	unsigned	a_sent, b_sent;
	double		*lat_ms;	/* B's, by completion */
	unsigned	done_a, fail_a, done_b, fail_b; /* at the end */
	int		efd;		/* pool: callbacks wake the loop */
};

struct query {
	struct bench	*b;
	int		guest_b;
	uint64_t	t0;
};

static void
done(struct query *q, int ok)
{
	struct bench *b = q->b;
	unsigned i;

	if (q->guest_b) {
		i = atomic_fetch_add(&b->b_done, 1);
		if (i < MAX_FAST)
			b->lat_ms[i] = (double)(util_now_us() - q->t0) /
			    1000.0;
		if (!ok)
			atomic_fetch_add(&b->b_fail, 1);
		atomic_fetch_sub(&b->b_out, 1);
	} else {
		atomic_fetch_add(&b->a_done, 1);
		if (!ok)
			atomic_fetch_add(&b->a_fail, 1);
		atomic_fetch_sub(&b->a_out, 1);
	}
	free(q);
}

static struct query *
query_new(struct bench *b, int guest_b, char *name, size_t len)
{
	struct query *q = calloc(1, sizeof(*q));

	if (q == NULL)
		abort();
	q->b = b;
	q->guest_b = guest_b;
	q->t0 = util_now_us();
	if (guest_b)
		snprintf(name, len, "b%u.fast.test", b->b_sent++);
	else
		snprintf(name, len, "a%u-%u.slow.test", b->a_sent++,
		    (unsigned)getpid());
	atomic_fetch_add(guest_b ? &b->b_out : &b->a_out, 1);
	return q;
}

/* The results at the end of the timed run: completions in the teardown
 * after it (cancelled lookups) are not counted. */
static void
snapshot(struct bench *b, uint64_t t0)
{
	b->dt_us = util_now_us() - t0;
	b->done_b = atomic_load(&b->b_done);
	b->fail_b = atomic_load(&b->b_fail);
	b->done_a = atomic_load(&b->a_done);
	b->fail_a = atomic_load(&b->a_fail);
}

/* ---- the thread pool ---------------------------------------------------- */

static void
pool_cb(void *arg, const struct resolve_result *r)
{
	struct query *q = arg;
	int efd = q->b->efd;
	uint64_t one = 1;

	done(q, r->error == 0 && r->naddrs > 0);
	(void)!write(efd, &one, sizeof(one));
}

static void
run_pool(struct bench *b)
{
	struct resolver *r = resolver_new(4, 30000, 5000, 8192, NULL);
	struct addr ga, gb;
	struct resolve_result res;
	char name[HOST_MAX + 1];
	uint64_t v, t0 = util_now_us();
	struct pollfd pfd;

	AN(r != NULL);
	AZ(addr_parse("10.0.0.1", &ga));
	AZ(addr_parse("10.0.0.2", &gb));
	b->efd = eventfd(0, EFD_NONBLOCK);
	AN(b->efd >= 0);
	while (util_now_us() < b->end_us) {
		while (atomic_load(&b->a_out) < b->slow_out) {
			struct query *q = query_new(b, 0, name, sizeof(name));

			if (resolver_lookup(r, &ga, LOOKUP_QUOTA, name, &res,
			    pool_cb, q) != RESOLVE_QUEUED) {
				atomic_fetch_sub(&b->a_out, 1);
				free(q);
				break;
			}
		}
		while (atomic_load(&b->b_out) < b->window &&
		    b->b_sent < b->fast_n) {
			struct query *q = query_new(b, 1, name, sizeof(name));

			if (resolver_lookup(r, &gb, LOOKUP_QUOTA, name, &res,
			    pool_cb, q) != RESOLVE_QUEUED)
				done(q, 0);
		}
		pfd.fd = b->efd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) > 0)
			(void)!read(b->efd, &v, sizeof(v));
	}
	snapshot(b, t0);
	resolver_free(r);	/* runs what is left with EAI_SYSTEM */
	close(b->efd);
}

/* ---- c-ares --------------------------------------------------------------- */

static void
cares_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	(void)timeouts;
	done(arg, status == ARES_SUCCESS && res != NULL &&
	    res->nodes != NULL);
	if (res != NULL)
		ares_freeaddrinfo(res);
}

static void
run_cares(struct bench *b)
{
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM };
	ares_channel ch;
	char name[HOST_MAX + 1];
	uint64_t t0 = util_now_us();
	struct timeval tv, *tvp, max = { 0, 100000 };
	fd_set rd, wr;
	int nfds;

	AZ(ares_library_init(ARES_LIB_INIT_ALL));
	AZ(ares_init(&ch));
	while (util_now_us() < b->end_us) {
		while (atomic_load(&b->a_out) < b->slow_out) {
			struct query *q = query_new(b, 0, name, sizeof(name));

			ares_getaddrinfo(ch, name, NULL, &hints, cares_cb, q);
		}
		while (atomic_load(&b->b_out) < b->window &&
		    b->b_sent < b->fast_n) {
			struct query *q = query_new(b, 1, name, sizeof(name));

			ares_getaddrinfo(ch, name, NULL, &hints, cares_cb, q);
		}
		FD_ZERO(&rd);
		FD_ZERO(&wr);
		nfds = ares_fds(ch, &rd, &wr);
		tvp = ares_timeout(ch, &max, &tv);
		if (select(nfds, &rd, &wr, NULL, tvp) < 0 && errno != EINTR)
			break;
		ares_process(ch, &rd, &wr);
	}
	snapshot(b, t0);
	ares_destroy(ch);	/* cancels what is left */
	ares_library_cleanup();
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct bench b = { 0 };
	unsigned n, secs, a_done, a_fail, b_fail;

	if (argc != 5 || (strcmp(argv[1], "pool") != 0 &&
	    strcmp(argv[1], "cares") != 0)) {
		fprintf(stderr, "usage: bench_resolve pool|cares SLOW_OUT "
		    "SECS WINDOW\n");
		return 2;
	}
	b.slow_out = (unsigned)atoi(argv[2]);
	secs = MAX(1u, MIN((unsigned)atoi(argv[3]), 60u));
	b.window = MAX(1u, MIN((unsigned)atoi(argv[4]), 1024u));
	b.fast_n = MAX_FAST;
	b.lat_ms = calloc(MAX_FAST, sizeof(double));
	AN(b.lat_ms != NULL);
	b.end_us = util_now_us() + secs * 1000000ull;
	if (argv[1][0] == 'p')
		run_pool(&b);
	else
		run_cares(&b);
	/* Counted at the end of the timed run, before the teardown. */
	n = MIN(b.done_b, MAX_FAST);
	a_done = b.done_a;
	a_fail = b.fail_a;
	b_fail = b.fail_b;
	qsort(b.lat_ms, n, sizeof(double), cmp_d);
	printf("mode=%s slow_in_flight=%u window=%u secs=%.2f fast_done=%u "
	    "fast_fail=%u fast_per_s=%.0f p50_ms=%.2f p99_ms=%.2f "
	    "max_ms=%.2f slow_done=%u slow_fail=%u\n", argv[1], b.slow_out,
	    b.window, b.dt_us / 1e6, n, b_fail, n / (b.dt_us / 1e6),
	    n ? b.lat_ms[n / 2] : 0.0,
	    n ? b.lat_ms[MIN(n - 1, n * 99 / 100)] : 0.0,
	    n ? b.lat_ms[n - 1] : 0.0, a_done, a_fail);
	free(b.lat_ms);
	return 0;
}
