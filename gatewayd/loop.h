/*
 * loop.h - one epoll event loop per worker thread.
 *
 * Handlers are edge-triggered: a handler is told "something happened on
 * this fd" and must then do all the work it can until EAGAIN.  This keeps
 * the connection code free of epoll_ctl() churn: an fd is registered once
 * for both directions and never modified.
 *
 * Besides fds, a loop runs timers (a heap: each connection keeps one at
 * its next deadline), a periodic tick (listeners) and a queue of closures
 * posted from other threads (resolver results, shutdown) and from the
 * loop itself (deferred frees, run after the current batch of events).
 *
 * A loop is owned by the thread that runs it; only loop_post() and
 * loop_stop() may be called from other threads.  loop_free() runs the
 * closures still queued (on the caller's thread) before freeing, so that
 * whatever they carry is released; nobody may post to a freed loop.
 */
#ifndef GW_LOOP_H
#define GW_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct loop;
struct loop_io;
struct timer;

typedef void (*loop_io_cb)(struct loop *, struct loop_io *, uint32_t events);
typedef void (*loop_fn)(struct loop *, void *arg);
typedef uint64_t (*loop_clock_fn)(void *arg);

/* Embedded in the owner's struct; fd and cb set before loop_io_add(). */
struct loop_io {
	int		fd;
	loop_io_cb	cb;
};

struct loop *loop_new(void) WUNRES;
void loop_free(struct loop *l);

/*
 * Register io for EPOLLIN|EPOLLOUT|EPOLLRDHUP edge-triggered (or only
 * EPOLLIN, level-triggered, when level is true: listeners).  0 or -1.
 */
int loop_io_add(struct loop *l, struct loop_io *io, bool level) WUNRES;
/* Remove io (before closing its fd).  Never fails on a registered fd. */
void loop_io_del(struct loop *l, struct loop_io *io);

/*
 * Timers on the loop's clock (timer.h): t->fn runs on the loop's thread
 * once loop_now() reaches when.  when 0 disarms.
 */
void loop_timer_set(struct loop *l, struct timer *t, uint64_t when);
void loop_timer_cancel(struct loop *l, struct timer *t);

/* Call fn(arg) every period_ms on the loop's thread. */
void loop_set_tick(struct loop *l, uint64_t period_ms, loop_fn fn, void *arg);

/*
 * Run fn(arg) on the loop's thread soon.  Thread-safe; never blocks for
 * long (a mutex and an eventfd write).
 */
void loop_post(struct loop *l, loop_fn fn, void *arg);

/* Run until loop_stop().  Returns 0, or -1 if epoll failed. */
int loop_run(struct loop *l);
/* Thread-safe. */
void loop_stop(struct loop *l);
/*
 * One wake-up: wait at most max_wait_ms (-1: until an event or the next
 * tick), run the events, the posts and a tick that is due.  loop_run()
 * is this in a loop; tests call it to drive a loop step by step.
 */
int loop_run_once(struct loop *l, int max_wait_ms);

/* The loop's cached clock, refreshed once per wake-up (ms, monotonic). */
uint64_t loop_now(const struct loop *l);
/* Replace the clock (util_now_ms()) the loop reads: tests move time by
 * hand, so that no test races the wall clock. */
void loop_set_clock(struct loop *l, loop_clock_fn fn, void *arg);
/* The same instant in microseconds (util_now_us() clock): free timing for
 * the metrics, at the resolution of the loop's wake-ups. */
uint64_t loop_now_us(const struct loop *l);

/*
 * Make a registered io level-triggered on exactly events (EPOLLIN,
 * EPOLLOUT, both, or 0 to hear only errors and hang-ups): for services
 * that wait on one direction at a time (the DNS proxy).  0 or -1.
 */
int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events) WUNRES;

#endif
