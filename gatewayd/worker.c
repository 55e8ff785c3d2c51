/*
 * worker.c - worker threads, the shared daemon state, per-guest counts.
 * See worker.h.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "conn.h"
#include "listener.h"
#include "log.h"
#include "runtime.h"

#define TICK_MS		250
/* The buffer pool gives back what it did not need for this long. */
#define DECAY_TICKS	4
/* ... and asks for a heap trim when that was this much. */
#define DECAY_TRIM_BYTES	(1024 * 1024)

static void
worker_tick(struct loop *loop, void *arg)
{
	struct worker *w = arg;
	uint64_t now = loop_now(loop);
	size_t i;

	/* Connections keep their own timers (loop.h): no sweep. */
	for (i = 0; i < w->nlisteners; i++)
		listener_tick(&w->listeners[i], loop, now);
	if (++w->ticks % DECAY_TICKS == 0 &&
	    bufpool_decay(&w->bufs) >= DECAY_TRIM_BYTES)
		atomic_store(&w->gw->trim_due, true);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t all;

	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	loop_run(w->loop);
	return NULL;
}

static int
open_listeners(struct worker *w, const struct runtime *rt)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char err[256];
	size_t i, f, n = 0;
	int p;

	w->listeners = xcalloc(rt->ngroups * 4, sizeof(*w->listeners));
	for (i = 0; i < rt->ngroups; i++) {
		const struct group_config *g = rt->groups[i].cfg;

		for (p = 0; p < 2; p++) {
			uint16_t port = p ? g->https_port : g->http_port;

			if (port == 0)
				continue;
			for (f = 0; f < ARRAY_SIZE(families); f++) {
				struct listener *l = &w->listeners[n];

				if (listener_open(l, g->mode, families[f],
				    port, p == 1, err, sizeof(err)) != 0) {
					if (families[f] == AF_INET6 &&
					    errno == EAFNOSUPPORT)
						continue;
					log_warnx("group %s: %s", g->name, err);
					return -1;
				}
				l->worker = w;
				if (loop_io_add(w->loop, &l->io, true) != 0) {
					log_warn("epoll add listener");
					return -1;
				}
				n++;
				w->nlisteners = n;
			}
		}
	}
	return 0;
}

int
workers_start(struct gw *gw, unsigned nworkers, struct runtime *rt)
{
	unsigned i;

	gw->workers = xcalloc(nworkers, sizeof(*gw->workers));
	gw->nworkers = nworkers;
	for (i = 0; i < nworkers; i++) {
		struct worker *w = &gw->workers[i];

		w->idx = i;
		w->gw = gw;
		w->stats = stats_shard_new(gw->stats);
		bufpool_init(&w->bufs, WORKER_IOBUF, WORKER_IOBUF_FREE);
		w->loop = loop_new();
		if (w->loop == NULL || open_listeners(w, rt) != 0)
			return -1;
		loop_set_tick(w->loop, TICK_MS, worker_tick, w);
	}
	for (i = 0; i < nworkers; i++) {
		if (pthread_create(&gw->workers[i].thread, NULL, worker_main,
		    &gw->workers[i]) != 0) {
			log_warnx("cannot start worker %u", i);
			gw->nworkers = i;
			return -1;
		}
	}
	return 0;
}

static void
close_listeners_cb(struct loop *loop, void *arg)
{
	struct worker *w = arg;
	size_t i;

	for (i = 0; i < w->nlisteners; i++)
		listener_close(&w->listeners[i], loop);
	atomic_store(&w->stopped_accepting, true);
}

void
workers_stop_accepting(struct gw *gw)
{
	unsigned i;

	atomic_store(&gw->draining, true);
	for (i = 0; i < gw->nworkers; i++)
		loop_post(gw->workers[i].loop, close_listeners_cb,
		    &gw->workers[i]);
}

static void
shutdown_cb(struct loop *loop, void *arg)
{
	struct worker *w = arg;

	close_listeners_cb(loop, w);
	while (w->conns != NULL)
		conn_close(w->conns, CONN_END_SHUTDOWN);
	loop_stop(loop);
}

void
workers_stop(struct gw *gw)
{
	unsigned i;

	for (i = 0; i < gw->nworkers; i++)
		loop_post(gw->workers[i].loop, shutdown_cb, &gw->workers[i]);
	for (i = 0; i < gw->nworkers; i++)
		pthread_join(gw->workers[i].thread, NULL);
}

void
workers_free(struct gw *gw)
{
	unsigned i;

	for (i = 0; i < gw->nworkers; i++) {
		/* Runs what was posted after the loop stopped (resolver
		 * results), which releases the last holds on closed conns. */
		loop_free(gw->workers[i].loop);
		bufpool_fini(&gw->workers[i].bufs);
		free(gw->workers[i].listeners);
	}
	free(gw->workers);
	gw->workers = NULL;
	gw->nworkers = 0;
}
