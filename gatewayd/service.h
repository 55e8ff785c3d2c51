/*
 * service.h - the service loop: one thread running a loop.c loop for the
 * daemon's small non-HTTP services, the DNS proxy, the NFQUEUE reader and
 * the control socket.
 *
 * Why one shared thread and not one each, nor the workers' loops: every
 * handler of these services is short and never blocks (bounded batches:
 * UDP_DRAIN datagrams, NFQ_BATCH packets, one control request), so one
 * thread keeps up with all three, with one stack and one wake-up per
 * event instead of three poll loops with stop pipes; keeping them off
 * the workers means a DNS or NFQUEUE burst never delays an HTTP
 * connection, and the workers keep their listeners to themselves.
 *
 * Life: service_new(), then each service registers its fds on
 * service_loop() and its timers with service_add_tick(); service_start()
 * runs the thread.  service_stop() returns once every closure posted
 * before it has run and the thread has exited; then the services are
 * freed (their fds removed from the stopped loop) and service_free()
 * frees the loop.  Everything registered runs on the service thread only.
 */
#ifndef GW_SERVICE_H
#define GW_SERVICE_H

#include <stdint.h>

#include "loop.h"
#include "util.h"

#define SERVICE_TICK_MS		100	/* deadline granularity */
#define SERVICE_MAX_TICKS	8

struct service;

/* Called every SERVICE_TICK_MS on the service thread; now is loop_now(). */
typedef void (*service_tick_fn)(void *arg, uint64_t now);

/* A loop without its thread yet.  Never NULL (aborts on no epoll). */
struct service *service_new(void) WUNRES;
struct loop *service_loop(struct service *s) NONNULL(1);

/* Before service_start(): one more tick handler.  0, or -1 if full. */
int service_add_tick(struct service *s, service_tick_fn fn, void *arg)
    WUNRES NONNULL(1, 2);

/* Start the thread.  0 or -1 (logged). */
int service_start(struct service *s) WUNRES NONNULL(1);

/*
 * Run what was posted so far, then stop and join the thread.  Not
 * started or already stopped: no-op.
 */
void service_stop(struct service *s) NONNULL(1);

/* After service_stop() and after freeing the services.  NULL: no-op. */
void service_free(struct service *s);

#endif
