/*
 * leafcache.h - a bounded LRU of minted leaves shared by the worker
 * threads, keyed by (CA fingerprint, host name or IP address).
 *
 * Keying on the CA's SHA-256 fingerprint means a rotated CA never gets an
 * old leaf: its lookups simply miss.  Entries are reference-counted
 * leaves, so eviction only drops the cache's own reference and a leaf in
 * use by a handshake stays valid.  Concurrent first requests for one key
 * mint once: the others wait for that mint (a few hundred microseconds)
 * rather than minting duplicates.  All functions but leafcache_new/free
 * are thread-safe.
 *
 * Fair share: every entry is counted against one guest (the last one
 * that asked for it), and a full cache evicts the least recently used
 * entry of the guest holding the most entries, so a guest minting names
 * by the thousand only ever evicts its own.  Each guest may also cause
 * only so many mints per second (a token bucket, burst twice the rate).
 */
#ifndef GW_LEAFCACHE_H
#define GW_LEAFCACHE_H

#include <stdint.h>

#include "addr.h"
#include "ca.h"
#include "leaf.h"
#include "stats.h"
#include "util.h"

#define LEAFCACHE_MAX_CAPACITY	(1u << 20)

struct leafcache;

/*
 * A cache of at most capacity leaves (clamped to 1..LEAFCACHE_MAX_CAPACITY)
 * minted with leaf_days of validity (clamped to 1..LEAF_MAX_DAYS).
 * Aborts on OOM.
 */
struct leafcache *leafcache_new(unsigned capacity, unsigned leaf_days);

/*
 * Free the cache and its references.  No leafcache_get() may be running;
 * leaves still held by callers stay valid until their leaf_unref().
 */
void leafcache_free(struct leafcache *lc);

/*
 * The leaf for name (a host_normalize()d name) or, when name is NULL, for
 * the address ip, signed by ca.  A cached leaf close to its expiry (or
 * expired) is minted again.  Returns a new reference the caller releases
 * with leaf_unref(), or NULL with err set (invalid name, expired CA,
 * mint failure; waiters of a failed mint get the same error).
 */
struct leaf *leafcache_get(struct leafcache *lc, struct ca *ca,
    const char *name, const struct addr *ip, char *err,
    size_t errlen) WUNRES;

/* Who asks (leafcache_get_for), for the fair share and the mint rate. */
struct leafcache_guest {
	const struct addr	*addr;		/* the guest (v6: its /64) */
	uint64_t		now_ms;		/* a monotonic clock */
	unsigned		mints_per_sec;	/* 0: no limit */
	bool			rate_limited;	/* out: refused for the rate */
};

/*
 * leafcache_get() on behalf of guest g (NULL: no guest, no limit).  A
 * miss beyond g's mint rate returns NULL with g->rate_limited set and
 * mints nothing; hits are never limited.
 */
struct leaf *leafcache_get_for(struct leafcache *lc, struct ca *ca,
    const char *name, const struct addr *ip, struct leafcache_guest *g,
    char *err, size_t errlen) WUNRES;

/*
 * Drop every cached leaf not signed by keep (after a CA rotation, to free
 * memory early; correctness does not depend on it).  keep NULL drops all.
 * Returns the number dropped.
 */
unsigned leafcache_purge(struct leafcache *lc, const struct ca *keep);

struct leafcache_stats {
	uint64_t	hits;		/* served from the cache */
	uint64_t	misses;		/* not cached (or stale): minted */
	uint64_t	waits;		/* waited for another thread's mint */
	uint64_t	mints;		/* successful mints */
	uint64_t	mint_failures;
	uint64_t	evictions;	/* dropped by LRU or purge */
	uint64_t	rate_limited;	/* misses refused for a guest's rate */
	uint64_t	mint_us_total;	/* time spent minting */
	uint64_t	mint_us_max;
	struct stats_hist mint_hist;	/* successful mints, by duration */
	unsigned	size;		/* entries, in-flight mints included */
	unsigned	guests;		/* guests holding entries */
	unsigned	capacity;
};

void leafcache_stats(struct leafcache *lc, struct leafcache_stats *out);

#endif
