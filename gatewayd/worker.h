/*
 * worker.h - the daemon's shared state (struct gw) and its worker threads.
 *
 * struct gw is built by main.c and shared read-mostly by the workers: the
 * current runtime (swapped under rt_lock on reload), the leaf cache, the
 * resolver, the audit log, the sentinel store, counters and the per-guest
 * connection table.  Each worker is one thread with its own epoll loop,
 * its own SO_REUSEPORT listeners and its own list of connections; a
 * connection never moves between workers.
 */
#ifndef GW_WORKER_H
#define GW_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "addr.h"
#include "buf.h"
#include "loop.h"

struct alog;
struct conn;
struct leafcache;
struct resolver;
struct runtime;
struct sentinel_store;
struct listener;

struct gw_stats {
	atomic_ulong	accepted;
	atomic_ulong	refused_limit;	/* total or per-guest limit */
	atomic_ulong	refused_loop;	/* dst is the gateway itself */
	atomic_ulong	requests;
	atomic_ulong	denied;
	atomic_ulong	spliced;
	atomic_ulong	bumped;
	atomic_ulong	guest_tls_failed; /* e.g. guest does not trust CA */
	atomic_ulong	upstream_verify_failed;
	atomic_ulong	upstream_failed;
	atomic_ulong	bad_requests;
};

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
	struct gw_stats	stats;
	atomic_uint	active;		/* open connections, all workers */
	atomic_bool	draining;
	pthread_mutex_t	guest_lock[GUEST_STRIPES];
	struct guest_count *guests[GUEST_STRIPES];
	struct worker	*workers;
	unsigned	nworkers;
};

struct worker {
	unsigned	idx;
	struct gw	*gw;
	struct loop	*loop;
	pthread_t	thread;
	struct listener	*listeners;
	size_t		nlisteners;
	struct conn	*conns;		/* list head */
	unsigned	nconns;
	uint64_t	next_id;
	atomic_bool	stopped_accepting;
	struct bufpool	bufs;		/* I/O buffer storage, this worker's */
};

/* I/O buffers of connections: size, and how many a worker keeps free. */
#define WORKER_IOBUF		32768
#define WORKER_IOBUF_FREE	256

/* gw.c */
void gw_init(struct gw *gw);
void gw_fini(struct gw *gw);

/* Current runtime, with a new reference (runtime_unref when done). */
struct runtime *gw_runtime(struct gw *gw);
/* Swap in rt (takes ownership of the caller's reference). */
void gw_set_runtime(struct gw *gw, struct runtime *rt);

/*
 * Per-guest connection accounting.  gw_guest_acquire() returns false if
 * the guest already has limit connections open (nothing counted then).
 */
bool gw_guest_acquire(struct gw *gw, const struct addr *a, unsigned limit);
void gw_guest_release(struct gw *gw, const struct addr *a);

/*
 * worker.c: create nworkers workers with listeners for every capture port of rt's
 * groups and start their threads.  0 or -1 (error logged).
 */
int workers_start(struct gw *gw, unsigned nworkers, struct runtime *rt);
/* Stop accepting on every worker (listeners closed); conns go on. */
void workers_stop_accepting(struct gw *gw);
/* Close every connection, stop the loops and join the threads. */
void workers_stop(struct gw *gw);
/*
 * Free the workers.  Call after workers_stop() and after the resolver is
 * freed (its last callbacks post into the stopped loops).
 */
void workers_free(struct gw *gw);

#endif
