/*
 * stats.c - per-thread counter shards, their labelled series and
 * histograms, and the readers' summed snapshot (see stats.h for the
 * concurrency contract).
 *
 * This module only counts.  It does not know what a connection is, reads
 * no clock (callers pass the time in), and renders nothing: metrics.c turns
 * a snapshot into the Prometheus text and the `gatewayd stats` lines.
 */
#include "stats.h"

#include <pthread.h>
#include <stdatomic.h>

/* 0.5 ms .. 30 s: a local connect is sub-millisecond, a slow upload
 * through the gateway takes seconds. */
const uint64_t stats_bucket_us[STATS_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000, 30000000,
};

struct stats_shard {
	uint64_t		counter[ST__COUNT];
	struct stats_hist	hist[SH__COUNT];
	struct stats_series	series[STATS_SERIES_MAX];
	unsigned		nseries;	/* writer's own count */
} __attribute__((aligned(64)));

struct stats {
	pthread_mutex_t		lock;		/* shard registration */
	struct stats_shard	*shard[STATS_SHARDS_MAX];
	unsigned		nshards;	/* published: release/acquire */
	atomic_uint_fast64_t	event[SE__COUNT];
};

/* Single writer: a relaxed store of the incremented value, no RMW. */
#define BUMP(p, n)	__atomic_store_n((p), *(p) + (n), __ATOMIC_RELAXED)
#define READ(p)		__atomic_load_n((p), __ATOMIC_RELAXED)

struct stats *
stats_new(void)
{
	struct stats *st = xcalloc(1, sizeof(*st));
	size_t i;

	AZ(pthread_mutex_init(&st->lock, NULL));
	for (i = 0; i < SE__COUNT; i++)
		atomic_init(&st->event[i], 0);
	return st;
}

void
stats_free(struct stats *st)
{
	unsigned i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nshards; i++)
		free(st->shard[i]);
	AZ(pthread_mutex_destroy(&st->lock));
	free(st);
}

struct stats_shard *
stats_shard_new(struct stats *st)
{
	struct stats_shard *sh;

	/* Aligned: no two shards share a cache line.  OOM aborts. */
	AZ(posix_memalign((void **)&sh, 64, sizeof(*sh)));
	memset(sh, 0, sizeof(*sh));
	AZ(pthread_mutex_lock(&st->lock));
	AN(st->nshards < STATS_SHARDS_MAX);
	st->shard[st->nshards] = sh;
	__atomic_store_n(&st->nshards, st->nshards + 1, __ATOMIC_RELEASE);
	AZ(pthread_mutex_unlock(&st->lock));
	return sh;
}

void
stats_inc(struct stats_shard *sh, enum stats_counter c)
{
	if (sh != NULL)
		BUMP(&sh->counter[c], 1);
}

void
stats_hist_add(struct stats_hist *h, uint64_t us)
{
	size_t i;

	for (i = 0; i < STATS_BUCKETS && us > stats_bucket_us[i]; i++)
		;
	BUMP(&h->bucket[i], 1);
	BUMP(&h->sum_us, us);
}

void
stats_observe(struct stats_shard *sh, enum stats_hist_id h, uint64_t us)
{
	if (sh != NULL)
		stats_hist_add(&sh->hist[h], us);
}

uint64_t
stats_since(struct stats_shard *sh, enum stats_hist_id h, uint64_t t0_us,
    uint64_t now_us)
{
	if (t0_us != 0)
		stats_observe(sh, h, now_us > t0_us ? now_us - t0_us : 0);
	return now_us;
}

void
stats_once(struct stats_shard *sh, enum stats_hist_id h, uint64_t *t0_us,
    uint64_t now_us)
{
	if (*t0_us != 0)
		(void)stats_since(sh, h, *t0_us, now_us);
	*t0_us = 0;
}

/* FNV-1a over the family and the (truncated) label values. */
static uint32_t
series_hash(unsigned f, const char *const v[STATS_LABELS])
{
	uint32_t h = 2166136261u ^ f;
	size_t i, j;

	for (i = 0; i < STATS_LABELS; i++) {
		for (j = 0; v[i][j] != '\0' && j < STATS_LABEL_MAX - 1; j++)
			h = (h ^ (unsigned char)v[i][j]) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h;
}

static bool
series_match(const struct stats_series *s, unsigned f,
    const char *const v[STATS_LABELS])
{
	size_t i;

	if (s->family != f)
		return false;
	for (i = 0; i < STATS_LABELS; i++)
		if (strncmp(s->label[i], v[i], STATS_LABEL_MAX - 1) != 0)
			return false;
	return true;
}

void
stats_inc_series(struct stats_shard *sh, enum stats_family f,
    const char *v1, const char *v2, const char *v3)
{
	const char *v[STATS_LABELS] = { v1 ? v1 : "", v2 ? v2 : "",
	    v3 ? v3 : "" };
	uint32_t i, n;
	struct stats_series *s;

	if (sh == NULL)
		return;
	i = series_hash(f, v) & (STATS_SERIES_MAX - 1);
	for (n = 0; n < STATS_SERIES_MAX; n++, i = (i + 1) &
	    (STATS_SERIES_MAX - 1)) {
		s = &sh->series[i];
		if (s->used && series_match(s, f, v)) {
			BUMP(&s->value, 1);
			return;
		}
		if (!s->used)
			break;
	}
	/* Keep a quarter free so that probes stay short. */
	if (n == STATS_SERIES_MAX || sh->nseries >= STATS_SERIES_MAX / 4 * 3) {
		BUMP(&sh->counter[ST_SERIES_OVERFLOW], 1);
		return;
	}
	s->family = f;
	for (n = 0; n < STATS_LABELS; n++)
		util_strlcpy(s->label[n], v[n], STATS_LABEL_MAX);
	__atomic_store_n(&s->value, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
	sh->nseries++;
}

static const char *const decisions[SD__COUNT] = {
	[SD_ALLOW] = "allow", [SD_DENY] = "deny", [SD_SPLICE] = "splice",
	[SD_REPORT] = "report",
};

const char *
stats_decision_str(enum stats_decision d)
{
	return (unsigned)d < SD__COUNT ? decisions[d] : "allow";
}

const char *
stats_status_class(int status)
{
	static const char *const cls[] = { "1xx", "2xx", "3xx", "4xx",
	    "5xx" };

	if (status < 100 || status > 599)
		return "none";
	return cls[status / 100 - 1];
}

void
stats_inc_request(struct stats_shard *sh, const char *group,
    enum stats_decision d, int status)
{
	stats_inc_series(sh, SF_REQUESTS, group, stats_decision_str(d),
	    stats_status_class(status));
}

void
stats_inc_leaf_rejected(struct stats_shard *sh, const char *group)
{
	stats_inc_series(sh, SF_LEAF_REJECTED, group, NULL, NULL);
}

void
stats_count(struct stats *st, enum stats_event e)
{
	atomic_fetch_add_explicit(&st->event[e], 1, memory_order_relaxed);
}

static int
series_cmp(const void *a, const void *b)
{
	const struct stats_series *x = a, *y = b;
	int r;
	size_t i;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	for (i = 0; i < STATS_LABELS; i++)
		if ((r = strcmp(x->label[i], y->label[i])) != 0)
			return r;
	return 0;
}

static void
snapshot_shard(const struct stats_shard *sh, struct stats_snapshot *out,
    size_t *cap)
{
	size_t i, j;

	for (i = 0; i < ST__COUNT; i++)
		out->counter[i] += READ(&sh->counter[i]);
	for (i = 0; i < SH__COUNT; i++) {
		for (j = 0; j <= STATS_BUCKETS; j++)
			out->hist[i].bucket[j] += READ(&sh->hist[i].bucket[j]);
		out->hist[i].sum_us += READ(&sh->hist[i].sum_us);
	}
	for (i = 0; i < STATS_SERIES_MAX; i++) {
		const struct stats_series *s = &sh->series[i];

		if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
			continue;
		if (out->nseries == *cap) {
			*cap = *cap == 0 ? 64 : *cap * 2;
			out->series = xrealloc(out->series,
			    *cap * sizeof(*out->series));
		}
		out->series[out->nseries] = *s;
		out->series[out->nseries].value = READ(&s->value);
		out->nseries++;
	}
}

/* Sort, then fold equal keys (the same series in several shards). */
static void
snapshot_merge(struct stats_snapshot *s)
{
	size_t i, n = 0;

	if (s->nseries == 0)
		return;
	qsort(s->series, s->nseries, sizeof(*s->series), series_cmp);
	for (i = 1; i < s->nseries; i++) {
		if (series_cmp(&s->series[n], &s->series[i]) == 0)
			s->series[n].value += s->series[i].value;
		else
			s->series[++n] = s->series[i];
	}
	s->nseries = n + 1;
}

void
stats_snapshot(struct stats *st, struct stats_snapshot *out)
{
	unsigned i, n = __atomic_load_n(&st->nshards, __ATOMIC_ACQUIRE);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		snapshot_shard(st->shard[i], out, &cap);
	for (i = 0; i < SE__COUNT; i++)
		out->event[i] = atomic_load_explicit(&st->event[i],
		    memory_order_relaxed);
	out->nshards = n;
	snapshot_merge(out);
}

void
stats_snapshot_fini(struct stats_snapshot *s)
{
	if (s == NULL)
		return;
	free(s->series);
	s->series = NULL;
	s->nseries = 0;
}

uint64_t
stats_snapshot_sum(const struct stats_snapshot *s, enum stats_family f,
    const char *v1)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < s->nseries; i++)
		if (s->series[i].family == (unsigned)f && (v1 == NULL ||
		    strcmp(s->series[i].label[0], v1) == 0))
			sum += s->series[i].value;
	return sum;
}

void
stats_snapshot_add(struct stats_snapshot *s, enum stats_family f,
    const char *v1, const char *v2, const char *v3, uint64_t value)
{
	const char *v[STATS_LABELS] = { v1 ? v1 : "", v2 ? v2 : "",
	    v3 ? v3 : "" };
	struct stats_series *e;
	size_t i;

	s->series = xrealloc(s->series, (s->nseries + 1) * sizeof(*e));
	e = &s->series[s->nseries++];
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->family = f;
	for (i = 0; i < STATS_LABELS; i++)
		util_strlcpy(e->label[i], v[i], STATS_LABEL_MAX);
	e->value = value;
}
