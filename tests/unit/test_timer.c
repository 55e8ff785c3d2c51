/*
 * test_timer.c - the timer heap: order, moving and cancelling armed
 * timers, re-arming from a callback, a thousand timers in random order;
 * and the loop running them on an injected clock (no wall clock).
 */
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "tap.h"
#include "timer.h"

struct probe {
	struct timer	t;
	int		id;
	int		fired;
	uint64_t	rearm;		/* arm again this much later */
};

static struct timer_heap heap;
static int order[2048], norder;
static uint64_t fake_now = 5000;

static void
probe_cb(struct timer *t, uint64_t now)
{
	struct probe *p = (struct probe *)t;

	p->fired++;
	if (norder < (int)ARRAY_SIZE(order))
		order[norder++] = p->id;
	if (p->rearm != 0) {
		timer_set(&heap, t, now + p->rearm);
		p->rearm = 0;
	}
}

static uint64_t
clock_fn(void *arg)
{
	(void)arg;
	return fake_now;
}

static void
test_heap(void)
{
	struct probe p[5];
	int i, sorted = 1;
	static struct probe many[1000];
	uint64_t last = 0;
	size_t armed = 0;

	timer_heap_init(&heap);
	for (i = 0; i < 5; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		timer_init(&p[i].t, probe_cb);
		p[i].id = i;
	}
	ok(timer_next(&heap) == 0, "empty heap: no next time");
	timer_set(&heap, &p[0].t, 300);
	timer_set(&heap, &p[1].t, 100);
	timer_set(&heap, &p[2].t, 200);
	timer_set(&heap, &p[3].t, 400);
	is(timer_next(&heap), 100, "next is the earliest");
	timer_set(&heap, &p[3].t, 50);
	is(timer_next(&heap), 50, "moving a timer earlier");
	timer_set(&heap, &p[3].t, 250);
	is(timer_next(&heap), 100, "moving it later again");
	timer_cancel(&heap, &p[2].t);
	ok(!timer_armed(&p[2].t), "a cancelled timer is disarmed");
	timer_set(&heap, &p[4].t, 0);
	ok(!timer_armed(&p[4].t), "when 0 does not arm");
	is(timer_run(&heap, 99), 0, "nothing runs before its time");
	norder = 0;
	p[1].rearm = 1000;
	is(timer_run(&heap, 300), 3, "three due at 300");
	ok(norder == 3 && order[0] == 1 && order[1] == 3 && order[2] == 0,
	    "run earliest first");
	ok(p[2].fired == 0, "the cancelled timer never runs");
	ok(timer_armed(&p[1].t) && timer_next(&heap) == 1300,
	    "a callback may arm its timer again");
	is(timer_run(&heap, 1300), 1, "the re-armed timer runs");
	ok(timer_next(&heap) == 0, "then the heap is empty");

	/* Moved later, a timer keeps its old place in the heap until that
	 * comes up (timer.c): it must still run at its new time only. */
	norder = 0;
	timer_set(&heap, &p[0].t, 2000);
	timer_set(&heap, &p[1].t, 2100);
	timer_set(&heap, &p[0].t, 2500);
	timer_set(&heap, &p[0].t, 2600);
	is(timer_next(&heap), 2100, "moved later twice: next is the other");
	is(timer_run(&heap, 2000), 0, "nothing runs at its old time");
	is(timer_run(&heap, 2100), 1, "the other runs at its time");
	is(timer_next(&heap), 2600, "then next is its latest time");
	timer_set(&heap, &p[0].t, 2050);
	is(timer_next(&heap), 2050, "moved earlier again");
	is(timer_run(&heap, 2599), 1, "it runs at its earlier time");
	ok(norder == 2 && order[0] == 1 && order[1] == 0 &&
	    timer_next(&heap) == 0, "each ran once, in time order");

	srand(7);
	for (i = 0; i < 1000; i++) {
		timer_init(&many[i].t, probe_cb);
		many[i].id = i;
		timer_set(&heap, &many[i].t, 1 + (uint64_t)(rand() % 5000));
	}
	for (i = 0; i < 1000; i += 3)
		timer_cancel(&heap, &many[i].t);
	for (i = 1; i < 1000; i += 7)
		timer_set(&heap, &many[i].t, 1 + (uint64_t)(rand() % 5000));
	for (i = 0; i < 1000; i++)
		armed += timer_armed(&many[i].t);
	norder = 0;
	is(timer_run(&heap, 6000), armed, "every armed timer runs once");
	for (i = 0; i < norder; i++) {
		if (many[order[i]].t.when < last)
			sorted = 0;
		last = many[order[i]].t.when;
	}
	ok(sorted, "a thousand timers run in time order");
	ok(timer_next(&heap) == 0, "the heap is empty after");
	timer_heap_fini(&heap);
}

static void
loop_cb(struct timer *t, uint64_t now)
{
	struct probe *p = (struct probe *)t;

	p->fired++;
	p->rearm = now;
}

static void
test_loop(void)
{
	struct loop *l = loop_new();
	struct probe p = { 0 };

	loop_set_clock(l, clock_fn, NULL);
	timer_init(&p.t, loop_cb);
	loop_timer_set(l, &p.t, fake_now + 1000);
	(void)loop_run_once(l, 0);
	ok(p.fired == 0, "loop: not before the clock reaches it");
	fake_now += 999;
	(void)loop_run_once(l, 0);
	ok(p.fired == 0, "loop: not 1 ms early");
	fake_now += 1;
	(void)loop_run_once(l, 0);
	ok(p.fired == 1 && p.rearm == fake_now, "loop: runs when due, with "
	    "the loop's time");
	loop_timer_set(l, &p.t, fake_now + 10);
	loop_timer_cancel(l, &p.t);
	fake_now += 20;
	(void)loop_run_once(l, 0);
	ok(p.fired == 1, "loop: a cancelled timer does not run");
	loop_free(l);
}

int
main(void)
{
	test_heap();
	test_loop();
	return tap_done();
}
