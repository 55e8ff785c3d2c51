/*
 * resolver.c - a getaddrinfo() thread pool with a small answer cache.
 * See resolver.h.  Lookups of the same name in flight at once are joined:
 * one getaddrinfo() call serves every waiter.
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

struct entry {
	struct entry	*next;		/* hash chain */
	struct entry	*qnext;		/* job queue */
	char		name[HOST_MAX + 1];
	bool		pending;	/* lookup queued or running */
	uint64_t	expires;	/* when !pending */
	struct resolve_result result;
	struct waiter	*waiters;
};

#define NBUCKETS	1024

struct resolver {
	pthread_mutex_t	lock;
	pthread_cond_t	cond;
	bool		stopping;
	struct entry	*buckets[NBUCKETS];
	struct entry	*qhead, **qtail;
	unsigned	nentries, max_entries;
	uint64_t	ttl_ms, neg_ttl_ms;
	pthread_t	*threads;
	unsigned	nthreads;
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
do_lookup(const char *name, struct resolve_result *res)
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
}

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
		while (r->qhead == NULL && !r->stopping)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->qhead == NULL)
			break;
		e = r->qhead;
		r->qhead = e->qnext;
		if (r->qhead == NULL)
			r->qtail = &r->qhead;
		memcpy(name, e->name, sizeof(name));
		pthread_mutex_unlock(&r->lock);

		do_lookup(name, &res);

		pthread_mutex_lock(&r->lock);
		e->result = res;
		e->pending = false;
		e->expires = util_now_ms() +
		    (res.error == 0 ? r->ttl_ms : r->neg_ttl_ms);
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
    unsigned max_entries)
{
	struct resolver *r = xcalloc(1, sizeof(*r));
	unsigned i;

	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->qtail = &r->qhead;
	r->ttl_ms = ttl_ms;
	r->neg_ttl_ms = neg_ttl_ms;
	r->max_entries = max_entries ? max_entries : 1;
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
	r->qhead = NULL;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
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

int
resolver_lookup(struct resolver *r, const char *host,
    struct resolve_result *out, resolver_cb cb, void *arg)
{
	uint64_t now = util_now_ms();
	struct entry **slot, *e;
	struct waiter *w;

	if (strlen(host) > HOST_MAX) {
		memset(out, 0, sizeof(*out));
		out->error = EAI_NONAME;
		return 1;
	}
	pthread_mutex_lock(&r->lock);
	e = find(r, host, &slot);
	if (e != NULL && !e->pending && e->expires > now) {
		*out = e->result;
		pthread_mutex_unlock(&r->lock);
		return 1;
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
		e->pending = true;
		e->qnext = NULL;
		*r->qtail = e;
		r->qtail = &e->qnext;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

const char *
resolver_strerror(int error)
{
	return error == 0 ? "ok" : gai_strerror(error);
}
