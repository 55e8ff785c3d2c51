/*
 * test_service.c - the service loop (service.c): every tick handler is
 * called, on the service thread; service_stop() returns only after
 * everything posted before it has run, in order; no tick handler can be
 * added once the thread runs, nor more than SERVICE_MAX_TICKS; stop and
 * free work on a service never started (a crash or hang fails the test).  Waits are on a condition
 * variable for an outcome, never a sleep standing in for one.
 */
#include "service.h"

#include <pthread.h>

#include "tap.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

struct ticker {
	unsigned	calls;
	pthread_t	thread;
	uint64_t	last_now;
	struct ticker	*before;	/* called just before this one */
	bool		same_now;	/* ... with the same now, each time */
};

static void
tick(void *arg, uint64_t now)
{
	struct ticker *t = arg;

	pthread_mutex_lock(&lock);
	t->calls++;
	t->thread = pthread_self();
	t->last_now = now;
	if (t->before != NULL)
		t->same_now &= t->before->last_now == now;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void
nop_tick(void *arg, uint64_t now)
{
}

/* Posted closures append their number: the order they ran in. */
static unsigned order[200], norder;

static void
record(struct loop *l, void *arg)
{
	order[norder++] = (unsigned)(uintptr_t)arg;
}

int
main(void)
{
	struct service *s = service_new(), *idle;
	struct ticker a = { .calls = 0 }, b = { .before = &a, .same_now = true };
	unsigned i, ran_in_order = 1;

	ok(service_add_tick(s, tick, &a) == 0 &&
	    service_add_tick(s, tick, &b) == 0, "two tick handlers");
	AZ(service_start(s));
	ok(service_add_tick(s, nop_tick, NULL) == -1,
	    "no tick handler added once the thread runs");

	pthread_mutex_lock(&lock);
	while (a.calls < 2 || b.calls < 2)
		pthread_cond_wait(&cond, &lock);
	ok(!pthread_equal(a.thread, pthread_self()) &&
	    pthread_equal(a.thread, b.thread), "both called, on the service "
	    "thread");
	ok(a.last_now > 0 && b.same_now,
	    "in order, with one loop_now() per tick for every handler");
	pthread_mutex_unlock(&lock);

	for (i = 0; i < ARRAY_SIZE(order); i++)
		loop_post(service_loop(s), record, (void *)(uintptr_t)i);
	service_stop(s);
	for (i = 0; i < norder; i++)
		ran_in_order &= order[i] == i;
	ok(norder == ARRAY_SIZE(order) && ran_in_order, "stop: everything "
	    "posted before it ran, in order (%u of %zu)", norder,
	    ARRAY_SIZE(order));
	service_stop(s);
	is(norder, ARRAY_SIZE(order), "a second stop runs nothing");
	service_free(s);

	idle = service_new();
	for (i = 0; i < SERVICE_MAX_TICKS; i++)
		AZ(service_add_tick(idle, nop_tick, NULL));
	ok(service_add_tick(idle, nop_tick, NULL) == -1,
	    "at most SERVICE_MAX_TICKS handlers");
	service_stop(idle);	/* never started: no-op */
	service_free(idle);
	service_free(NULL);
	return tap_done();
}
