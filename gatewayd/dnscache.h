/*
 * dnscache.h - which names each guest resolved to which addresses.
 *
 * The DNS proxy adds (guest, answer address, question name) for every
 * A/AAAA record of an allowed answer; the NFQUEUE policy asks whether a
 * guest's new flow to an address may match a host-name rule.  An entry
 * lives for the record's TTL clamped to [ttl_floor, ttl_ceil] seconds:
 * the floor (default 30 s) covers a client that connects a little after
 * a TTL-0 answer; the ceiling (default 1 h) bounds how long an address
 * stays open after one look-up.  Flows already established are not
 * affected by expiry (they never reach the queue).
 *
 * Bounded: the table has a fixed number of slots (set-associative, 8
 * ways per bucket); when a bucket is full the entry that expires first is
 * replaced.  All functions are thread-safe (one mutex; the critical
 * sections are short and allocation-free).
 */
#ifndef GW_DNSCACHE_H
#define GW_DNSCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "hostname.h"

#define DNSCACHE_TTL_FLOOR	30
#define DNSCACHE_TTL_CEIL	3600
#define DNSCACHE_DEFAULT_SIZE	16384

struct dnscache;

/*
 * New cache of at least size entries (rounded up to a power of two times
 * 8; 0 = DNSCACHE_DEFAULT_SIZE), TTLs clamped to [floor_s, ceil_s].
 * Caller owns it (dnscache_free()).
 */
struct dnscache *dnscache_new(unsigned size, uint32_t floor_s,
    uint32_t ceil_s) WUNRES;
void dnscache_free(struct dnscache *dc);

/*
 * Record that guest resolved name (normalised, at most HOST_MAX bytes;
 * longer names are ignored) to addr with ttl seconds, at now_ms
 * (util_now_ms()).  An existing entry for the same triple is refreshed.
 */
void dnscache_add(struct dnscache *dc, const struct addr *guest,
    const struct addr *addr, const char *name, uint32_t ttl,
    uint64_t now_ms) NONNULL(1, 2, 3, 4);

/*
 * Is there an unexpired name that guest resolved to addr and for which
 * match(arg, name) is true?  Copies that name to name_out (HOST_MAX + 1
 * bytes) if not NULL.  With match NULL, any unexpired name matches (the
 * most recently added one is returned).  Returns true if found.
 * match is called with the cache lock held: it must not call back in.
 */
bool dnscache_find(struct dnscache *dc, const struct addr *guest,
    const struct addr *addr, bool (*match)(void *arg, const char *name),
    void *arg, uint64_t now_ms, char *name_out) NONNULL(1, 2, 3);

/* Entries currently held (expired ones not yet replaced included). */
unsigned dnscache_count(struct dnscache *dc);

#endif
