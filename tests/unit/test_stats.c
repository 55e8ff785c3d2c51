/*
 * test_stats.c - counter shards: sums across shards, labelled series
 * (merging, order, truncation, a full table), histogram buckets, and
 * readers racing writers (every snapshot monotonic, the last one exact).
 */
#include <pthread.h>

#include "stats.h"
#include "tap.h"

static void
test_counters(void)
{
	struct stats *st = stats_new();
	struct stats_shard *a = stats_shard_new(st), *b = stats_shard_new(st);
	struct stats_snapshot s;

	stats_inc(a, ST_CONN_ACCEPTED);
	stats_inc(a, ST_CONN_ACCEPTED);
	stats_inc(b, ST_CONN_ACCEPTED);
	stats_inc(b, ST_BAD_REQUESTS);
	stats_inc(NULL, ST_BAD_REQUESTS);	/* no shard: not counted */
	stats_count(st, SE_RELOAD_REFUSED);
	stats_snapshot(st, &s);
	is(s.nshards, 2, "two shards registered");
	is(s.counter[ST_CONN_ACCEPTED], 3, "accepted summed over shards");
	is(s.counter[ST_BAD_REQUESTS], 1, "NULL shard counts nothing");
	is(s.counter[ST_CONN_SPLICED], 0, "untouched counter is 0");
	is(s.event[SE_RELOAD_REFUSED], 1, "shared event counted");
	is(s.event[SE_RELOAD_APPLIED], 0, "other event 0");
	stats_snapshot_fini(&s);
	stats_free(st);
}

static void
test_series(void)
{
	struct stats *st = stats_new();
	struct stats_shard *a = stats_shard_new(st), *b = stats_shard_new(st);
	struct stats_snapshot s;
	char long_name[200];

	stats_inc_request(a, "dev", SD_ALLOW, 200);
	stats_inc_request(b, "dev", SD_ALLOW, 204);
	stats_inc_request(b, "dev", SD_DENY, 403);
	stats_inc_request(a, "ci", SD_REPORT, 0);
	stats_inc_series(a, SF_SECRETS, "dev", "gh", "placeholder");
	stats_inc_series(b, SF_SECRETS, NULL, NULL, NULL);
	memset(long_name, 'r', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	stats_inc_series(a, SF_DENIALS, "dev", "denied", long_name);
	stats_inc_series(b, SF_DENIALS, "dev", "denied", long_name);
	stats_snapshot(st, &s);
	is(s.nseries, 6, "equal keys of two shards merged");
	is(s.series[0].family, SF_REQUESTS, "sorted by family first");
	is_str(s.series[0].label[0], "ci", "then by group");
	is_str(s.series[0].label[1], "report", "decision label");
	is_str(s.series[0].label[2], "none", "status 0 has class none");
	is_str(s.series[1].label[1], "allow", "dev allow next");
	is_str(s.series[1].label[2], "2xx", "200 and 204 share 2xx");
	is(s.series[1].value, 2, "...and were summed");
	is_str(s.series[2].label[2], "4xx", "403 is 4xx");
	is(strlen(s.series[3].label[2]), STATS_LABEL_MAX - 1,
	    "a long label value is truncated");
	is(s.series[3].value, 2, "truncated values still merge");
	is(stats_snapshot_sum(&s, SF_REQUESTS, NULL), 4, "sum of a family");
	is(stats_snapshot_sum(&s, SF_REQUESTS, "dev"), 3, "sum for a group");
	is(stats_snapshot_sum(&s, SF_SECRETS, ""), 1, "NULL labels are \"\"");
	stats_snapshot_fini(&s);
	stats_free(st);
}

static void
test_overflow(void)
{
	struct stats *st = stats_new();
	struct stats_shard *a = stats_shard_new(st);
	struct stats_snapshot s;
	char name[32];
	unsigned i, n = STATS_SERIES_MAX;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "rule-%u", i);
		stats_inc_series(a, SF_DENIALS, "g", "denied", name);
	}
	stats_inc_series(a, SF_DENIALS, "g", "denied", "rule-0");
	stats_snapshot(st, &s);
	is(s.nseries, STATS_SERIES_MAX / 4 * 3, "table fills to 3/4");
	is(s.counter[ST_SERIES_OVERFLOW], n - STATS_SERIES_MAX / 4 * 3,
	    "the rest is counted as overflow");
	is(stats_snapshot_sum(&s, SF_DENIALS, "g"), STATS_SERIES_MAX / 4 * 3
	    + 1, "an existing series still counts when full");
	stats_snapshot_fini(&s);
	stats_free(st);
}

static void
test_hist(void)
{
	struct stats *st = stats_new();
	struct stats_shard *a = stats_shard_new(st);
	struct stats_snapshot s;
	uint64_t t0 = 0;

	stats_observe(a, SH_REQUEST, 0);
	stats_observe(a, SH_REQUEST, 500);	/* le 0.0005 */
	stats_observe(a, SH_REQUEST, 501);	/* le 0.001 */
	stats_observe(a, SH_REQUEST, 30000000);	/* le 30 */
	stats_observe(a, SH_REQUEST, 30000001);	/* +Inf */
	stats_once(a, SH_TTFB, &t0, 5000);	/* t0 0: nothing */
	t0 = 1000;
	stats_once(a, SH_TTFB, &t0, 3000);	/* 2 ms: le 0.0025 */
	is(t0, 0, "stats_once clears its mark");
	stats_once(a, SH_TTFB, &t0, 9000);
	is(stats_since(a, SH_UP_TLS, 0, 77), 77, "stats_since returns now");
	is(stats_since(a, SH_UP_CONNECT, 100, 50), 50, "clock behind: 0 us");
	stats_snapshot(st, &s);
	is(s.hist[SH_REQUEST].bucket[0], 2, "0 and 500 us in the first bucket");
	is(s.hist[SH_REQUEST].bucket[1], 1, "501 us in the second");
	is(s.hist[SH_REQUEST].bucket[STATS_BUCKETS - 1], 1, "30 s in the last");
	is(s.hist[SH_REQUEST].bucket[STATS_BUCKETS], 1, "above it: +Inf");
	is(s.hist[SH_REQUEST].sum_us, 60001002, "sum in microseconds");
	is(s.hist[SH_TTFB].bucket[2], 1, "stats_once observed once, 2 ms");
	is(s.hist[SH_TTFB].sum_us, 2000, "...and nothing more");
	is(s.hist[SH_UP_CONNECT].bucket[0], 1, "a clock behind counts 0 us");
	is(s.hist[SH_UP_TLS].bucket[0], 0, "stats_since without a mark: none");
	stats_snapshot_fini(&s);
	stats_free(st);
}

static void
test_strings(void)
{
	is_str(stats_status_class(99), "none", "99: none");
	is_str(stats_status_class(100), "1xx", "100");
	is_str(stats_status_class(599), "5xx", "599");
	is_str(stats_status_class(600), "none", "600: none");
	is_str(stats_decision_str(SD_SPLICE), "splice", "splice");
	is_str(stats_decision_str((enum stats_decision)99), "allow",
	    "out of range: allow");
}

#define RACE_THREADS	3
#define RACE_BUMPS	300000

struct racer {
	struct stats_shard *sh;
	pthread_barrier_t *go;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	unsigned i;

	pthread_barrier_wait(r->go);
	for (i = 0; i < RACE_BUMPS; i++) {
		stats_inc(r->sh, ST_CONN_ACCEPTED);
		stats_inc_request(r->sh, "g", SD_ALLOW, 200);
		stats_observe(r->sh, SH_REQUEST, i % 2000);
	}
	return NULL;
}

/* Writers bump their own shards while this thread reads: no lost
 * update, no value ever going backwards. */
static void
test_race(void)
{
	struct stats *st = stats_new();
	struct racer r[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	pthread_barrier_t go;
	struct stats_snapshot s;
	uint64_t prev = 0, prev_req = 0;
	unsigned i, backwards = 0, reads = 0;

	pthread_barrier_init(&go, NULL, RACE_THREADS + 1);
	for (i = 0; i < RACE_THREADS; i++) {
		r[i].sh = stats_shard_new(st);
		r[i].go = &go;
		pthread_create(&th[i], NULL, racer_main, &r[i]);
	}
	pthread_barrier_wait(&go);
	do {
		stats_snapshot(st, &s);
		if (s.counter[ST_CONN_ACCEPTED] < prev ||
		    stats_snapshot_sum(&s, SF_REQUESTS, NULL) < prev_req)
			backwards++;
		prev = s.counter[ST_CONN_ACCEPTED];
		prev_req = stats_snapshot_sum(&s, SF_REQUESTS, NULL);
		stats_snapshot_fini(&s);
		reads++;
	} while (prev < (uint64_t)RACE_THREADS * RACE_BUMPS && reads < 1000000);
	for (i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	stats_snapshot(st, &s);
	is(backwards, 0, "no snapshot went backwards (%u reads)", reads);
	is(s.counter[ST_CONN_ACCEPTED], (uint64_t)RACE_THREADS * RACE_BUMPS,
	    "every bump counted");
	is(stats_snapshot_sum(&s, SF_REQUESTS, "g"),
	    (uint64_t)RACE_THREADS * RACE_BUMPS, "every series bump counted");
	is(s.nseries, 1, "one series from three shards");
	stats_snapshot_fini(&s);
	pthread_barrier_destroy(&go);
	stats_free(st);
}

int
main(void)
{
	test_counters();
	test_series();
	test_overflow();
	test_hist();
	test_strings();
	test_race();
	return tap_done();
}
