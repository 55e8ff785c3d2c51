/*
 * gw.h - the daemon's shared state: struct gw.
 *
 * struct gw is built by main.c and shared read-mostly by the workers: the
 * current runtime (swapped under rt_lock on reload), the leaf cache, the
 * resolver, the audit log, the sentinel store, counters and the per-guest
 * connection table.  The functions are defined in gw.c.
 */
#ifndef GW_GW_H
#define GW_GW_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "addr.h"

struct alog;
struct leafcache;
struct resolver;
struct runtime;
struct sentinel_store;
struct stats;
struct worker;

#define GUEST_STRIPES	64

struct guest_count {
	struct guest_count *next;
	struct addr	addr;
	unsigned	n;
};

struct gw {
	pthread_mutex_t	rt_lock;
	struct runtime	*rt;		/* current; swapped on reload */
	struct leafcache *leaves;
	struct resolver	*resolver;
	struct alog	*alog;
	struct sentinel_store *sentinels;
	struct stats	*stats;		/* counter shards (stats.h) */
	atomic_uint	active;		/* open connections, all workers */
	atomic_bool	draining;
	atomic_bool	trim_due;	/* a worker freed much: trim the heap
					 * now (main.c housekeeping) */
	pthread_mutex_t	guest_lock[GUEST_STRIPES];
	struct guest_count *guests[GUEST_STRIPES];
	struct worker	*workers;
	unsigned	nworkers;
};

void gw_init(struct gw *gw);
void gw_fini(struct gw *gw);

/* Current runtime, with a new reference (runtime_unref when done);
 * NULL before the first gw_set_runtime(). */
struct runtime *gw_runtime(struct gw *gw);
/* Swap in rt (takes ownership of the caller's reference). */
void gw_set_runtime(struct gw *gw, struct runtime *rt);

/*
 * Per-guest connection accounting.  gw_guest_acquire() returns false if
 * the guest already has limit connections open (nothing counted then).
 */
bool gw_guest_acquire(struct gw *gw, const struct addr *a, unsigned limit);
void gw_guest_release(struct gw *gw, const struct addr *a);

#endif
