/*
 * test_resolver.c - the lookup pool's queueing: guests served in turn, a
 * per-guest quota, joined lookups, the answer cache on an injected clock.
 *
 * The lookup hook blocks until the test releases it, so the test decides
 * when each lookup ends and sees the order they start in; nothing sleeps
 * (waits are on a condition variable, bounded only to turn a hang into a
 * failure).
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "resolver.h"
#include "tap.h"

struct fake {
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	char		order[512];	/* names, in the order started */
	unsigned	started, released, done;
	uint64_t	now;
};

static struct fake F = {
	.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
};

static void
fake_lookup(void *arg, const char *name, struct resolve_result *out)
{
	struct fake *f = arg;
	unsigned me;

	AZ(pthread_mutex_lock(&f->mu));
	me = ++f->started;
	if (f->order[0] != '\0')
		strncat(f->order, " ", sizeof(f->order) - strlen(f->order) - 1);
	strncat(f->order, name, sizeof(f->order) - strlen(f->order) - 1);
	AZ(pthread_cond_broadcast(&f->cv));
	while (f->released < me)
		AZ(pthread_cond_wait(&f->cv, &f->mu));
	AZ(pthread_mutex_unlock(&f->mu));
	memset(out, 0, sizeof(*out));
	out->naddrs = 1;
	AZ(addr_parse("192.0.2.1", &out->addrs[0]));
}

static uint64_t
fake_now(void *arg)
{
	struct fake *f = arg;
	uint64_t t;

	AZ(pthread_mutex_lock(&f->mu));
	t = f->now;
	AZ(pthread_mutex_unlock(&f->mu));
	return t;
}

static void
done_cb(void *arg, const struct resolve_result *r)
{
	(void)arg;
	(void)r;
	AZ(pthread_mutex_lock(&F.mu));
	F.done++;
	AZ(pthread_cond_broadcast(&F.cv));
	AZ(pthread_mutex_unlock(&F.mu));
}

/* Wait (5 s at most, for a hang to fail rather than block) for *v >= n. */
static bool
wait_count(unsigned *v, unsigned n)
{
	struct timespec ts;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	AZ(pthread_mutex_lock(&F.mu));
	while (*v < n && ok)
		ok = pthread_cond_timedwait(&F.cv, &F.mu, &ts) != ETIMEDOUT;
	ok = *v >= n;
	AZ(pthread_mutex_unlock(&F.mu));
	return ok;
}

/* Let n more lookups finish. */
static void
release(unsigned n)
{
	AZ(pthread_mutex_lock(&F.mu));
	F.released += n;
	AZ(pthread_cond_broadcast(&F.cv));
	AZ(pthread_mutex_unlock(&F.mu));
}

static void
reset(void)
{
	AZ(pthread_mutex_lock(&F.mu));
	F.order[0] = '\0';
	F.started = F.released = F.done = 0;
	F.now = 1000;
	AZ(pthread_mutex_unlock(&F.mu));
}

/* Free r; whatever a failed check left blocked is let go first. */
static void
finish(struct resolver *r)
{
	release(1000);
	resolver_free(r);
}

static struct resolver *
new_resolver_n(unsigned nthreads)
{
	struct resolver_hooks h = { fake_lookup, fake_now, &F };

	reset();
	return resolver_new(nthreads, 30000, 5000, 1000, &h);
}

static struct resolver *
new_resolver(void)
{
	return new_resolver_n(1);
}

static enum resolve_status
ask(struct resolver *r, const struct addr *guest, unsigned quota,
    const char *name)
{
	struct resolve_result res;

	return resolver_lookup(r, guest, quota, name, &res, done_cb, NULL);
}

static struct addr A, B;

/* Guest A's backlog does not hold guest B's lookups behind it. */
static void
test_turns(void)
{
	struct resolver *r = new_resolver();
	char name[32];
	int i;

	ok(ask(r, &A, 0, "a0.test") == RESOLVE_QUEUED, "a0 queued");
	ok(wait_count(&F.started, 1), "a0 running");
	for (i = 1; i <= 4; i++) {
		snprintf(name, sizeof(name), "a%d.test", i);
		ask(r, &A, 0, name);
	}
	ask(r, &B, 0, "b0.test");
	ask(r, &B, 0, "b1.test");
	release(7);
	ok(wait_count(&F.done, 7), "every lookup answered");
	/* a1 was queued first (A rejoined the ring before B came). */
	is_str(F.order, "a0.test a1.test b0.test a2.test b1.test a3.test "
	    "a4.test", "guests served in turn, each in its own order");
	finish(r);
}

/*
 * A guest whose lookups hang holds at most half the threads: with four,
 * guest A's third lookup waits and guest B's runs on a third thread.
 */
static void
test_share(void)
{
	struct resolver *r = new_resolver_n(4);

	ask(r, &A, 0, "a0.test");
	ask(r, &A, 0, "a1.test");
	ask(r, &A, 0, "a2.test");
	ok(wait_count(&F.started, 2), "two of A's lookups running");
	ask(r, &B, 0, "b0.test");
	ok(wait_count(&F.started, 3), "three lookups running");
	ok(strstr(F.order, "b0.test") != NULL &&
	    strstr(F.order, "a2.test") == NULL,
	    "a free thread went to guest B, not to A's third lookup "
	    "(started: %s)", F.order);
	release(4);
	ok(wait_count(&F.done, 4), "every lookup answered");
	finish(r);
}

/* A guest with quota lookups waiting is refused; others are not. */
static void
test_quota(void)
{
	struct resolver *r = new_resolver();

	ok(ask(r, &A, 3, "a0.test") == RESOLVE_QUEUED, "a0 queued");
	ok(wait_count(&F.started, 1), "a0 running");
	ok(ask(r, &A, 3, "a1.test") == RESOLVE_QUEUED, "a1 queued");
	ok(ask(r, &A, 3, "a2.test") == RESOLVE_QUEUED, "a2 queued");
	ok(ask(r, &A, 3, "a3.test") == RESOLVE_OVER_QUOTA,
	    "a 4th lookup of guest A (running one included) is refused");
	ok(ask(r, &B, 3, "b0.test") == RESOLVE_QUEUED, "guest B is not");
	ok(ask(r, &A, 3, "b0.test") == RESOLVE_QUEUED,
	    "joining a name being looked up costs no quota");
	release(4);
	ok(wait_count(&F.done, 5), "every lookup answered");
	ok(ask(r, &A, 3, "a4.test") == RESOLVE_QUEUED,
	    "finished lookups give the quota back");
	release(1);
	ok(wait_count(&F.done, 6), "answered");
	finish(r);
}

/* Answers are cached for ttl on the resolver's clock. */
static void
test_cache(void)
{
	struct resolver *r = new_resolver();

	ask(r, &A, 0, "c.test");
	release(1);
	ok(wait_count(&F.done, 1), "c.test answered");
	ok(ask(r, &B, 0, "c.test") == RESOLVE_CACHED, "then cached");
	AZ(pthread_mutex_lock(&F.mu));
	F.now += 30000;
	AZ(pthread_mutex_unlock(&F.mu));
	ok(ask(r, &B, 0, "c.test") == RESOLVE_QUEUED,
	    "looked up again after the ttl");
	release(1);
	ok(wait_count(&F.done, 2), "answered");
	finish(r);
}

/* Lookups still queued at free are answered EAI_SYSTEM. */
static int free_errors;

static void
free_cb(void *arg, const struct resolve_result *res)
{
	(void)arg;
	if (res->error == EAI_SYSTEM)
		free_errors++;
}

static void
test_free(void)
{
	struct resolver *r = new_resolver();
	struct resolve_result res;

	ask(r, &A, 0, "f0.test");
	ok(wait_count(&F.started, 1), "f0 running");
	resolver_lookup(r, &A, 0, "f1.test", &res, free_cb, NULL);
	resolver_lookup(r, &B, 0, "f2.test", &res, free_cb, NULL);
	release(1);
	ok(wait_count(&F.done, 1), "f0 answered");
	/* The thread may have taken f1 meanwhile: let it finish too. */
	release(10);
	resolver_free(r);
	ok(free_errors + (int)F.started - 1 == 2,
	    "each queued lookup answered once (%d EAI_SYSTEM, %u looked up)",
	    free_errors, F.started);
}

int
main(void)
{
	AZ(addr_parse("10.0.0.1", &A));
	AZ(addr_parse("10.0.0.2", &B));
	test_turns();
	test_share();
	test_quota();
	test_cache();
	test_free();
	return tap_done();
}
