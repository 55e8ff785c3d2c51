/*
 * timer.h - a binary min-heap of deadlines, one per loop (loop.h runs it).
 *
 * A timer is embedded in its owner and armed with an absolute time on the
 * loop's clock; moving an armed timer is O(log n), so an owner re-arms it
 * whenever its next deadline changes, and nothing sweeps the owners.
 * Moving one later (a connection's deadline, after every step of every
 * request) costs nothing at once: it keeps its earlier place in the heap
 * and is moved to its time only if that place comes to the top.
 * Not thread-safe: a heap belongs to its loop's thread.
 */
#ifndef GW_TIMER_H
#define GW_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timer;

/* Called once the timer's time has come (it is disarmed first; the
 * callback may arm it again). */
typedef void (*timer_fn)(struct timer *t, uint64_t now);

struct timer {
	uint64_t	when;		/* the time it is armed for */
	uint64_t	key;		/* private: its place in the heap, a
					 * time <= when */
	size_t		idx;		/* position in the heap + 1; 0 = not armed */
	timer_fn	fn;
};

struct timer_heap {
	struct timer	**v;
	size_t		n, cap;
};

void timer_heap_init(struct timer_heap *h);
void timer_heap_fini(struct timer_heap *h);

/* A disarmed timer calling fn. */
void timer_init(struct timer *t, timer_fn fn);
/* Arm t for when (or move it there); when 0 disarms it. */
void timer_set(struct timer_heap *h, struct timer *t, uint64_t when);
void timer_cancel(struct timer_heap *h, struct timer *t);
static inline bool
timer_armed(const struct timer *t)
{
	return t->idx != 0;
}
/* The earliest armed time, or 0 when none is armed. */
uint64_t timer_next(struct timer_heap *h);
/* Run every timer due at now, earliest first.  Returns how many ran. */
size_t timer_run(struct timer_heap *h, uint64_t now);

#endif
