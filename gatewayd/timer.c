/*
 * timer.c - a binary min-heap of deadlines.  See timer.h.
 */
#include "timer.h"

#include <stdlib.h>

#include "util.h"

void
timer_heap_init(struct timer_heap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
}

void
timer_heap_fini(struct timer_heap *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		h->v[i]->idx = 0;
	free(h->v);
	timer_heap_init(h);
}

void
timer_init(struct timer *t, timer_fn fn)
{
	t->when = t->key = 0;
	t->idx = 0;
	t->fn = fn;
}

static void
place(struct timer_heap *h, size_t i, struct timer *t)
{
	h->v[i] = t;
	t->idx = i + 1;
}

static void
sift_up(struct timer_heap *h, size_t i)
{
	struct timer *t = h->v[i];

	while (i > 0 && h->v[(i - 1) / 2]->key > t->key) {
		place(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(h, i, t);
}

static void
sift_down(struct timer_heap *h, size_t i)
{
	struct timer *t = h->v[i];

	for (;;) {
		size_t l = 2 * i + 1, m = i;
		uint64_t mw = t->key;

		if (l < h->n && h->v[l]->key < mw) {
			m = l;
			mw = h->v[l]->key;
		}
		if (l + 1 < h->n && h->v[l + 1]->key < mw)
			m = l + 1;
		if (m == i)
			break;
		place(h, i, h->v[m]);
		i = m;
	}
	place(h, i, t);
}

void
timer_cancel(struct timer_heap *h, struct timer *t)
{
	size_t i;
	struct timer *last;

	if (t->idx == 0)
		return;
	i = t->idx - 1;
	t->idx = 0;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	place(h, i, last);
	if (i > 0 && h->v[(i - 1) / 2]->key > last->key)
		sift_up(h, i);
	else
		sift_down(h, i);
}

void
timer_set(struct timer_heap *h, struct timer *t, uint64_t when)
{
	if (when == 0) {
		timer_cancel(h, t);
		return;
	}
	t->when = when;
	if (t->idx != 0) {
		/* Later than its place: it stays there (settle() moves it
		 * if that place reaches the top); earlier: moved up now. */
		if (when < t->key) {
			t->key = when;
			sift_up(h, t->idx - 1);
		}
		return;
	}
	t->key = when;
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->n++;
	place(h, h->n - 1, t);
	sift_up(h, h->n - 1);
}

/*
 * Move the timers that were armed later than their place in the heap to
 * their time, until the top is where it belongs: then it is the earliest
 * armed time, every other timer's time being at least its place.  Each
 * move later costs at most one such sift, and most never need one (the
 * time moves again before its old place comes up).
 */
static void
settle(struct timer_heap *h)
{
	while (h->n > 0 && h->v[0]->key < h->v[0]->when) {
		h->v[0]->key = h->v[0]->when;
		sift_down(h, 0);
	}
}

uint64_t
timer_next(struct timer_heap *h)
{
	settle(h);
	return h->n > 0 ? h->v[0]->when : 0;
}

size_t
timer_run(struct timer_heap *h, uint64_t now)
{
	size_t ran = 0;

	for (settle(h); h->n > 0 && h->v[0]->when <= now; settle(h)) {
		struct timer *t = h->v[0];

		timer_cancel(h, t);
		t->fn(t, now);
		ran++;
	}
	return ran;
}
