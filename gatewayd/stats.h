/*
 * stats.h - the daemon's counters and histograms, sharded per thread.
 *
 * Every thread that counts on a hot path (each worker) owns one shard
 * and is its only writer: a bump is a plain load, add and store of a
 * uint64_t (relaxed __atomic load/store, which compile to ordinary
 * moves: no lock prefix, no shared cache line written).  Readers (the
 * metrics listener, `gatewayd stats`) sum the shards.  A reader racing a
 * writer sees the old or the new value of each 64-bit word, never half
 * of one: aligned 64-bit loads and stores are single-copy atomic on
 * x86-64 and aarch64, the two targets.  Different words of a shard may
 * be read at slightly different moments (a histogram's count and sum may
 * disagree by an observation in flight); every value is monotonic, so
 * the next scrape is consistent again.
 *
 * Labelled counters ("series") are kept in a fixed open-addressing table
 * per shard.  Label values are copied in (at most STATS_LABEL_MAX - 1
 * bytes); only bounded sets may be labels: configured group, rule and
 * secret names, static reason codes and small enums.  Never a host, URL
 * or client address: that belongs in the audit log.  A shard whose table
 * is full counts the event in ST_SERIES_OVERFLOW instead.
 *
 * Rare events bumped off the hot path by other threads (reloads) use
 * the shared atomic counters of struct stats (stats_count()).
 *
 * Not in here: counters other modules keep themselves (audit log, leaf
 * cache, DNS proxy, NFQUEUE); metrics.c reads those at scrape time.
 */
#ifndef GW_STATS_H
#define GW_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Plain counters of a shard. */
enum stats_counter {
	ST_CONN_ACCEPTED = 0,
	ST_CONN_REFUSED_LIMIT,		/* total or per-guest limit */
	ST_CONN_REFUSED_LOOP,		/* the destination is the gateway */
	ST_CONN_BUMPED,			/* TLS terminated with a leaf */
	ST_CONN_SPLICED,		/* TLS passed through */
	ST_GUEST_TLS_FAILED,		/* guest handshake failed */
	ST_UPSTREAM_FAILED,		/* 502/504 for an unreachable upstream */
	ST_BAD_REQUESTS,		/* unparsable request heads */
	ST_RESOLVE_CACHED,		/* resolver: answered from its cache */
	ST_RESOLVE_QUEUED,		/* resolver: looked up */
	ST_RESOLVE_OVER_QUOTA,		/* resolver: refused, guest's quota */
	ST_SERIES_OVERFLOW,		/* labelled event lost: table full */
	ST__COUNT
};

/* Shared counters for rare events of other threads (stats_count()). */
enum stats_event {
	SE_RELOAD_APPLIED = 0,
	SE_RELOAD_REFUSED,
	SE__COUNT
};

/* Histograms (microseconds in, seconds out). */
enum stats_hist_id {
	SH_REQUEST = 0,			/* request head in -> audit line */
	SH_UP_CONNECT,			/* upstream TCP connect */
	SH_UP_TLS,			/* upstream TLS handshake + verify */
	SH_TTFB,			/* request head in -> first response byte */
	SH__COUNT
};

/* Labelled counter families; label names are in metrics.c. */
enum stats_family {
	SF_REQUESTS = 0,	/* group, decision, status class */
	SF_DENIALS,		/* group, reason code, rule */
	SF_VERIFY_FAILURES,	/* group, verification error */
	SF_SECRETS,		/* group, secret name */
	SF_LEAF_REJECTED,	/* group: guest refused the leaf */
	SF__COUNT
};

/* The decision label of SF_REQUESTS. */
enum stats_decision {
	SD_ALLOW = 0,
	SD_DENY,
	SD_SPLICE,
	SD_REPORT,		/* report mode let a deny through */
	SD__COUNT
};

/* Bucket upper bounds in microseconds; +Inf is implied. */
#define STATS_BUCKETS		15
extern const uint64_t stats_bucket_us[STATS_BUCKETS];

struct stats_hist {
	uint64_t	bucket[STATS_BUCKETS + 1];	/* not cumulative */
	uint64_t	sum_us;
};

#define STATS_LABELS		3
#define STATS_LABEL_MAX		64
#define STATS_SERIES_MAX	1024	/* per shard; a power of two */

struct stats_series {
	unsigned	used;		/* published with a release store */
	unsigned	family;		/* enum stats_family */
	char		label[STATS_LABELS][STATS_LABEL_MAX];
	uint64_t	value;
};

struct stats;
struct stats_shard;

/* The registry; holds up to STATS_SHARDS_MAX shards.  Caller frees. */
#define STATS_SHARDS_MAX	300
struct stats *stats_new(void) WUNRES;
void stats_free(struct stats *st);

/*
 * A new shard for the calling thread (its only writer).  Aborts when
 * STATS_SHARDS_MAX are in use.  Shards live until stats_free().
 * Thread-safe.
 */
struct stats_shard *stats_shard_new(struct stats *st) WUNRES NONNULL(1);

/*
 * The writer's side; only the shard's own thread may call these.  All
 * are a few stores; none allocates, locks or fails.  sh may be NULL (a
 * caller without a shard, unit tests): nothing is counted.
 */
void stats_inc(struct stats_shard *sh, enum stats_counter c);
void stats_observe(struct stats_shard *sh, enum stats_hist_id h,
    uint64_t us);
/*
 * Observe now_us - t0_us (when t0_us != 0); returns now_us.  Callers on
 * a worker pass loop_now_us(): the clock read once per wake-up, so that
 * timing costs no clock read of its own.
 */
uint64_t stats_since(struct stats_shard *sh, enum stats_hist_id h,
    uint64_t t0_us, uint64_t now_us);
/* stats_since() once: *t0_us is zeroed after (0: already observed,
 * nothing happens). */
void stats_once(struct stats_shard *sh, enum stats_hist_id h,
    uint64_t *t0_us, uint64_t now_us) NONNULL(3);
/* Labelled: v2, v3 may be NULL for families with fewer labels; a NULL
 * or empty v1 is counted as "". */
void stats_inc_series(struct stats_shard *sh, enum stats_family f,
    const char *v1, const char *v2, const char *v3);
/* SF_REQUESTS with the status (0 = none) reduced to its class. */
void stats_inc_request(struct stats_shard *sh, const char *group,
    enum stats_decision d, int status);
/* Guests whose TLS client refused the minted leaf (alert unknown_ca,
 * bad_certificate...): for the leaf-rejection logging to bump. */
void stats_inc_leaf_rejected(struct stats_shard *sh, const char *group);

/* Rare events from any thread (one shared atomic add). */
void stats_count(struct stats *st, enum stats_event e) NONNULL(1);

/* Histogram update without a shard, under the caller's own lock. */
void stats_hist_add(struct stats_hist *h, uint64_t us) NONNULL(1);

/* "decision" label value; "1xx".."5xx" or "none" for a status. */
const char *stats_decision_str(enum stats_decision d);
const char *stats_status_class(int status);

/*
 * A reader's summed copy.  series is sorted by (family, labels) with
 * equal keys merged; caller frees with stats_snapshot_fini().
 */
struct stats_snapshot {
	uint64_t		counter[ST__COUNT];
	uint64_t		event[SE__COUNT];
	struct stats_hist	hist[SH__COUNT];
	struct stats_series	*series;
	size_t			nseries;
	unsigned		nshards;
};

/* Sum every shard.  Thread-safe against the writers. */
void stats_snapshot(struct stats *st, struct stats_snapshot *out)
    NONNULL(1, 2);
void stats_snapshot_fini(struct stats_snapshot *s);
/* Sum of a family's series whose label 0 (group) is v1 (NULL: any). */
uint64_t stats_snapshot_sum(const struct stats_snapshot *s,
    enum stats_family f, const char *v1) NONNULL(1);
/* Append one series (tests, merging); keeps the order invariant only
 * when called in order. */
void stats_snapshot_add(struct stats_snapshot *s, enum stats_family f,
    const char *v1, const char *v2, const char *v3, uint64_t value)
    NONNULL(1);

#endif
