/*
 * worker.h - the worker threads (the daemon's state, struct gw, is in
 * gw.h).  Each worker is one thread with its own epoll loop,
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
#include "gw.h"
#include "loop.h"
#include "stats.h"

struct alog;
struct conn;
struct leafcache;
struct resolver;
struct runtime;
struct sentinel_store;
struct listener;

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
	unsigned	ticks;		/* of the loop's tick */
	struct stats_shard *stats;	/* counters; this thread writes */
};

/* I/O buffers of connections: size, and how many a worker keeps free. */
#define WORKER_IOBUF		32768
#define WORKER_IOBUF_FREE	256

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
