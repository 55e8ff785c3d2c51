/*
 * resolver.c - a getaddrinfo() thread pool with a small answer cache.
 * See resolver.h.  Lookups of the same name in flight at once are joined:
 * one getaddrinfo() call serves every waiter.
 *
 * Fairness: a lookup belongs to the guest that started it and waits in
 * that guest's own queue.  Guests with queued lookups form a ring; a
 * free thread takes the head of the first guest's queue and moves that
 * guest to the back, so each guest gets one thread turn in turn however
 * long its own backlog is.  Turns alone do not help when every thread
 * is stuck in one guest's slow lookups (a zone whose servers never
 * answer holds a thread for the whole resolv.conf timeout), so a guest
 * never runs more than half the threads at once: the others always find
 * one free.  A guest's lookups queued or running are counted (owned)
 * against the caller's quota; joining a name already in flight is free.
 * A guest's queue lives while it owns a lookup.
 */
#include "resolver.h"

#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>

#include "hostname.h"
#include "log.h"

struct waiter {
	struct waiter	*next;
	resolver_cb	cb;
	void		*arg;
};

struct gqueue;

struct entry {
	struct entry	*next;		/* hash chain */
	struct entry	*qnext;		/* its guest's queue */
	char		name[HOST_MAX + 1];
	bool		pending;	/* lookup queued or running */
	struct gqueue	*owner;		/* while pending */
	uint64_t	expires;	/* when !pending */
	struct resolve_result result;
	struct waiter	*waiters;
};

/* One guest's lookups (see the top of the file). */
struct gqueue {
	struct gqueue	*hnext;		/* guest hash chain */
	struct gqueue	*rnext;		/* ring of guests with queued work */
	bool		in_ring;
	struct addr	guest;		/* port 0 */
	struct entry	*qhead, **qtail;
	unsigned	owned;		/* lookups queued or running */
	unsigned	running;
};

#define NBUCKETS	1024
#define GBUCKETS	64

struct resolver {
	pthread_mutex_t	lock;
	pthread_cond_t	cond;
	bool		stopping;
	struct entry	*buckets[NBUCKETS];
	struct gqueue	*guests[GBUCKETS];
	struct gqueue	*rhead, **rtail;	/* the ring, as a FIFO */
	unsigned	nentries, max_entries;
	uint64_t	ttl_ms, neg_ttl_ms;
	pthread_t	*threads;
	unsigned	nthreads;
	unsigned	max_running;	/* per guest: half the threads */
	struct resolver_hooks hooks;
};

static unsigned
hash_name(const char *s)
{
	return util_fnv1a(s, strlen(s)) % NBUCKETS;
}

static struct entry *
find(struct resolver *r, const char *name, struct entry ***slot)
{
	struct entry **pp = &r->buckets[hash_name(name)], *e;

	for (; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->name, name) == 0)
			break;
	if (slot != NULL)
		*slot = pp;
	return e;
}

/* Drop expired entries when the cache is full; called with lock held. */
static void
evict_expired(struct resolver *r, uint64_t now)
{
	size_t i;

	for (i = 0; i < NBUCKETS; i++) {
		struct entry **pp = &r->buckets[i], *e;

		while ((e = *pp) != NULL) {
			if (!e->pending && e->expires <= now) {
				*pp = e->next;
				free(e);
				r->nentries--;
			} else
				pp = &e->next;
		}
	}
}

static void
gai_lookup(void *arg, const char *name, struct resolve_result *res)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_ADDRCONFIG }, *ai = NULL, *p;

	memset(res, 0, sizeof(*res));
	res->error = getaddrinfo(name, NULL, &hints, &ai);
	if (res->error == EAI_NONAME || res->error == EAI_NODATA ||
	    res->error == EAI_FAMILY) {
		/* AI_ADDRCONFIG hides names when only lo is configured. */
		hints.ai_flags = 0;
		res->error = getaddrinfo(name, NULL, &hints, &ai);
	}
	if (res->error != 0)
		return;
	for (p = ai; p != NULL && res->naddrs < RESOLVER_MAX_ADDRS;
	    p = p->ai_next) {
		struct addr a;
		size_t i;

		if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
			continue;
		addr_from_sockaddr(&a, p->ai_addr);
		a.port = 0;
		addr_unmap(&a);
		for (i = 0; i < res->naddrs; i++)
			if (addr_equal(&res->addrs[i], &a))
				break;
		if (i == res->naddrs)
			res->addrs[res->naddrs++] = a;
	}
	freeaddrinfo(ai);
	if (res->naddrs == 0)
		res->error = EAI_NODATA;
	(void)arg;
}

static uint64_t
real_now(void *arg)
{
	(void)arg;
	return util_now_ms();
}

/* ---- guests' queues (lock held) ---- */

static unsigned
hash_guest(const struct addr *a)
{
	return util_fnv1a(a->u.bytes, a->family == AF_INET ? 4 : 16) %
	    GBUCKETS;
}

static struct gqueue *
guest_get(struct resolver *r, const struct addr *a)
{
	struct gqueue **pp = &r->guests[hash_guest(a)], *g;

	for (g = *pp; g != NULL; g = g->hnext)
		if (addr_equal(&g->guest, a))
			return g;
	g = xcalloc(1, sizeof(*g));
	g->guest = *a;
	g->guest.port = 0;
	g->qtail = &g->qhead;
	g->hnext = *pp;
	*pp = g;
	return g;
}

/* Forget g once it owns nothing (so nothing is queued in it either). */
static void
guest_put(struct resolver *r, struct gqueue *g)
{
	struct gqueue **pp = &r->guests[hash_guest(&g->guest)];

	if (g->owned > 0)
		return;
	while (*pp != g)
		pp = &(*pp)->hnext;
	*pp = g->hnext;
	free(g);
}

static void
ring_append(struct resolver *r, struct gqueue *g)
{
	g->rnext = NULL;
	g->in_ring = true;
	*r->rtail = g;
	r->rtail = &g->rnext;
}

/*
 * The next lookup to run: the first guest in the ring below its share of
 * threads gives its first, and goes to the back.  NULL if none may run.
 */
static struct entry *
next_job(struct resolver *r)
{
	struct gqueue **pp, *g;
	struct entry *e;

	for (pp = &r->rhead; (g = *pp) != NULL; pp = &g->rnext)
		if (g->running < r->max_running)
			break;
	if (g == NULL)
		return NULL;
	*pp = g->rnext;
	if (*pp == NULL)
		r->rtail = pp;
	g->in_ring = false;
	e = g->qhead;
	g->qhead = e->qnext;
	if (g->qhead == NULL)
		g->qtail = &g->qhead;
	else
		ring_append(r, g);
	g->running++;
	return e;
}

static void
enqueue(struct resolver *r, struct gqueue *g, struct entry *e)
{
	e->pending = true;
	e->owner = g;
	g->owned++;
	e->qnext = NULL;
	*g->qtail = e;
	g->qtail = &e->qnext;
	if (!g->in_ring)
		ring_append(r, g);
}

/* ---- threads ---- */

static void *
resolver_thread(void *arg)
{
	struct resolver *r = arg;
	struct resolve_result res;
	struct waiter *w, *next;
	struct entry *e;
	char name[HOST_MAX + 1];

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while ((e = next_job(r)) == NULL && !r->stopping)
			pthread_cond_wait(&r->cond, &r->lock);
		if (e == NULL)
			break;
		memcpy(name, e->name, sizeof(name));
		pthread_mutex_unlock(&r->lock);

		r->hooks.lookup(r->hooks.arg, name, &res);

		pthread_mutex_lock(&r->lock);
		e->result = res;
		e->pending = false;
		e->expires = r->hooks.now_ms(r->hooks.arg) +
		    (res.error == 0 ? r->ttl_ms : r->neg_ttl_ms);
		e->owner->owned--;
		e->owner->running--;
		if (e->owner->qhead != NULL)
			pthread_cond_signal(&r->cond);	/* may run now */
		guest_put(r, e->owner);
		e->owner = NULL;
		w = e->waiters;
		e->waiters = NULL;
		pthread_mutex_unlock(&r->lock);
		for (; w != NULL; w = next) {
			next = w->next;
			w->cb(w->arg, &res);
			free(w);
		}
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct resolver *
resolver_new(unsigned nthreads, uint64_t ttl_ms, uint64_t neg_ttl_ms,
    unsigned max_entries, const struct resolver_hooks *hooks)
{
	struct resolver *r = xcalloc(1, sizeof(*r));
	unsigned i;

	if (hooks != NULL)
		r->hooks = *hooks;
	if (r->hooks.lookup == NULL)
		r->hooks.lookup = gai_lookup;
	if (r->hooks.now_ms == NULL)
		r->hooks.now_ms = real_now;

	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->rtail = &r->rhead;
	r->ttl_ms = ttl_ms;
	r->neg_ttl_ms = neg_ttl_ms;
	r->max_entries = max_entries ? max_entries : 1;
	r->max_running = MAX(nthreads / 2, 1u);
	r->threads = xcalloc(nthreads ? nthreads : 1, sizeof(pthread_t));
	for (i = 0; i < MAX(nthreads, 1u); i++) {
		if (pthread_create(&r->threads[i], NULL, resolver_thread,
		    r) != 0) {
			log_warnx("resolver: cannot start thread %u", i);
			break;
		}
		r->nthreads++;
	}
	if (r->nthreads == 0) {
		resolver_free(r);
		return NULL;
	}
	return r;
}

void
resolver_free(struct resolver *r)
{
	struct resolve_result fail = { .error = EAI_SYSTEM };
	struct waiter *w, *next;
	struct entry *e, *en;
	unsigned i;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	/* Queued but not started: fail their waiters below. */
	r->rhead = NULL;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
	for (i = 0; i < GBUCKETS; i++) {
		struct gqueue *g, *gn;

		for (g = r->guests[i]; g != NULL; g = gn) {
			gn = g->hnext;
			free(g);
		}
	}
	for (i = 0; i < NBUCKETS; i++) {
		for (e = r->buckets[i]; e != NULL; e = en) {
			en = e->next;
			for (w = e->waiters; w != NULL; w = next) {
				next = w->next;
				w->cb(w->arg, &fail);
				free(w);
			}
			free(e);
		}
	}
	free(r->threads);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

enum resolve_status
resolver_lookup(struct resolver *r, const struct addr *guest, unsigned quota,
    const char *host, struct resolve_result *out, resolver_cb cb, void *arg)
{
	uint64_t now = r->hooks.now_ms(r->hooks.arg);
	struct gqueue *g = NULL;
	struct entry **slot, *e;
	struct waiter *w;

	if (strlen(host) > HOST_MAX) {
		memset(out, 0, sizeof(*out));
		out->error = EAI_NONAME;
		return RESOLVE_CACHED;
	}
	pthread_mutex_lock(&r->lock);
	e = find(r, host, &slot);
	if (e != NULL && !e->pending && e->expires > now) {
		*out = e->result;
		pthread_mutex_unlock(&r->lock);
		return RESOLVE_CACHED;
	}
	if (e == NULL || !e->pending) {
		g = guest_get(r, guest);
		if (quota != 0 && g->owned >= quota) {
			guest_put(r, g);
			pthread_mutex_unlock(&r->lock);
			return RESOLVE_OVER_QUOTA;
		}
	}
	if (e == NULL) {
		if (r->nentries >= r->max_entries) {
			evict_expired(r, now);
			find(r, host, &slot);
		}
		e = xcalloc(1, sizeof(*e));
		util_strlcpy(e->name, host, sizeof(e->name));
		*slot = e;
		r->nentries++;
	}
	w = xmalloc(sizeof(*w));
	w->cb = cb;
	w->arg = arg;
	w->next = e->waiters;
	e->waiters = w;
	if (!e->pending) {
		enqueue(r, g, e);
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return RESOLVE_QUEUED;
}

const char *
resolver_strerror(int error)
{
	return error == 0 ? "ok" : gai_strerror(error);
}
