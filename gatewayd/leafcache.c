/*
 * leafcache.c - bounded LRU of leaves, shared by the workers.
 *
 * One mutex guards a chained hash table (seeded SipHash-2-4, so guests
 * choosing SNIs cannot build long chains) and a doubly linked LRU list of
 * the ready entries.  Minting happens outside the lock: the first thread
 * to miss inserts an in-flight entry, mints, then publishes it and wakes
 * the waiters on a condition variable.  An entry is itself counted (the
 * table, the minting thread, each waiter) so that a failed or evicted
 * entry stays readable until its last waiter has left.
 *
 * Fair share: each entry belongs to one guest (struct owner: its count,
 * its own LRU list and its mint token bucket).  Eviction takes the
 * oldest entry of the guest with the most entries, so a flood of fresh
 * names (allowed or denied: a readable 403 over TLS needs a leaf that
 * matches the SNI) turns over the flooder's own entries and no one
 * else's while it holds more than they do.
 *
 * Not here: TLS contexts (the gateway sets the leaf on its SSL object)
 * and persistence (leaves die with the process, which is fine: they are
 * cheap to mint and the CA is what VMs trust).
 */
#include "leafcache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#define LEAFCACHE_MAGIC		0x4c436163u
#define REFRESH_SECS		3600	/* re-mint leaves this close to expiry */
#define KEY_MAX			(CA_FP_LEN + 2 + HOST_MAX_KEY)
#define HOST_MAX_KEY		256

#define OWNER_KEY_MAX		9	/* family + v4 address or v6 /64 */

enum { KIND_NAME = 1, KIND_IP4, KIND_IP6 };

struct owner {
	struct owner	*hnext;
	struct owner	*aprev, *anext;	/* every owner, for victim() */
	uint64_t	hash;
	unsigned	count;		/* entries, in-flight ones included */
	struct entry	*oldest, *newest; /* its ready entries */
	uint64_t	tokens_milli;	/* mint bucket, 1/1000 of a mint */
	uint64_t	refill_ms;
	size_t		keylen;
	uint8_t		key[OWNER_KEY_MAX];
};

struct entry {
	struct entry	*hnext;		/* hash chain */
	struct entry	*prev, *next;	/* LRU, ready entries only */
	struct owner	*owner;		/* counted against; NULL once out */
	struct entry	*oprev, *onext;	/* owner's LRU, ready entries only */
	uint64_t	hash;
	unsigned	refs;		/* under lc->mu */
	int		minting;
	struct leaf	*leaf;		/* NULL while minting or failed */
	char		err[160];	/* a failed mint's reason */
	size_t		keylen;
	uint8_t		key[];
};

struct leafcache {
	unsigned		magic;
	pthread_mutex_t		mu;
	pthread_cond_t		cv;
	unsigned		capacity;
	unsigned		leaf_days;
	uint8_t			seed[16];
	struct entry		**buckets;
	struct owner		**obuckets;	/* same size as buckets */
	struct owner		*owners;	/* every owner (anext) */
	size_t			mask;
	struct entry		*lru;	/* sentinel; next = most recent */
	struct leafcache_stats	st;
};

/* ---- SipHash-2-4 (Aumasson & Bernstein) --------------------------------- */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
siphash(const uint8_t k[16], const uint8_t *in, size_t len)
{
	uint64_t k0 = le64(k), k1 = le64(k + 8), m, b = (uint64_t)len << 56;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	while (left-- > 0)
		b |= (uint64_t)in[i + left] << (8 * left);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- table and list (all under lc->mu) ---------------------------------- */

static void
lru_unlink(struct entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push_front(struct leafcache *lc, struct entry *e)
{
	e->next = lc->lru->next;
	e->prev = lc->lru;
	lc->lru->next->prev = e;
	lc->lru->next = e;
}

static void
entry_put(struct entry *e)
{
	AN(e->refs > 0);
	if (--e->refs > 0)
		return;
	leaf_unref(e->leaf);
	free(e);
}

static struct entry *
table_find(struct leafcache *lc, uint64_t h, const uint8_t *key, size_t len)
{
	struct entry *e;

	for (e = lc->buckets[h & lc->mask]; e != NULL; e = e->hnext)
		if (e->hash == h && e->keylen == len &&
		    memcmp(e->key, key, len) == 0)
			return e;
	return NULL;
}

/* ---- owners (all under lc->mu) ----------------------------------------- */

static size_t
owner_key(uint8_t *key, const struct addr *a)
{
	if (a == NULL) {
		key[0] = 0;
		return 1;
	}
	if (a->family == AF_INET) {
		key[0] = KIND_IP4;
		memcpy(key + 1, &a->u.v4, 4);
		return 5;
	}
	/* A v6 guest may use any address of its /64. */
	key[0] = KIND_IP6;
	memcpy(key + 1, &a->u.v6, 8);
	return 9;
}

/* The owner for guest a, created (with a full bucket) when missing. */
static struct owner *
owner_get(struct leafcache *lc, const struct addr *a, uint64_t now_ms,
    unsigned rate)
{
	uint8_t key[OWNER_KEY_MAX];
	size_t len = owner_key(key, a);
	uint64_t h = siphash(lc->seed, key, len);
	struct owner *o;

	for (o = lc->obuckets[h & lc->mask]; o != NULL; o = o->hnext)
		if (o->hash == h && o->keylen == len &&
		    memcmp(o->key, key, len) == 0)
			return o;
	o = xcalloc(1, sizeof(*o));
	o->hash = h;
	o->keylen = len;
	memcpy(o->key, key, len);
	o->tokens_milli = (uint64_t)rate * 2000;
	o->refill_ms = now_ms;
	o->hnext = lc->obuckets[h & lc->mask];
	lc->obuckets[h & lc->mask] = o;
	o->anext = lc->owners;
	if (lc->owners != NULL)
		lc->owners->aprev = o;
	lc->owners = o;
	lc->st.guests++;
	return o;
}

static void
owner_free_if_empty(struct leafcache *lc, struct owner *o)
{
	struct owner **pp = &lc->obuckets[o->hash & lc->mask];

	if (o->count > 0)
		return;
	while (*pp != o)
		pp = &(*pp)->hnext;
	*pp = o->hnext;
	if (o->aprev != NULL)
		o->aprev->anext = o->anext;
	else
		lc->owners = o->anext;
	if (o->anext != NULL)
		o->anext->aprev = o->aprev;
	lc->st.guests--;
	free(o);
}

/* Take one mint from o's bucket (rate per second, burst 2 * rate). */
static bool
owner_take_mint(struct owner *o, uint64_t now_ms, unsigned rate)
{
	uint64_t burst = (uint64_t)rate * 2000;

	if (rate == 0)
		return true;
	if (now_ms > o->refill_ms) {
		o->tokens_milli = MIN(burst, o->tokens_milli +
		    (now_ms - o->refill_ms) * rate);
		o->refill_ms = now_ms;
	}
	if (o->tokens_milli < 1000)
		return false;
	o->tokens_milli -= 1000;
	return true;
}

static void
owner_unlink(struct entry *e)
{
	struct owner *o = e->owner;

	if (e->oprev != NULL)
		e->oprev->onext = e->onext;
	else if (o->oldest == e)
		o->oldest = e->onext;
	if (e->onext != NULL)
		e->onext->oprev = e->oprev;
	else if (o->newest == e)
		o->newest = e->oprev;
	e->oprev = e->onext = NULL;
}

static void
owner_push_newest(struct entry *e)
{
	struct owner *o = e->owner;

	e->onext = NULL;
	e->oprev = o->newest;
	if (o->newest != NULL)
		o->newest->onext = e;
	else
		o->oldest = e;
	o->newest = e;
}

/* Count e against o from now on (a ready entry also moves lists). */
static void
owner_set(struct leafcache *lc, struct entry *e, struct owner *o, bool ready)
{
	struct owner *old = e->owner;

	if (old != NULL) {
		if (ready)
			owner_unlink(e);
		old->count--;
	}
	e->owner = o;
	o->count++;
	if (ready)
		owner_push_newest(e);
	if (old != NULL && old != o)
		owner_free_if_empty(lc, old);
}

static void
owner_drop(struct leafcache *lc, struct entry *e)
{
	struct owner *o = e->owner;

	if (o == NULL)
		return;
	owner_unlink(e);
	o->count--;
	e->owner = NULL;
	owner_free_if_empty(lc, o);
}

/* The entry to evict: the oldest of the guest holding the most. */
static struct entry *
victim(struct leafcache *lc)
{
	struct owner *o, *big = NULL;

	for (o = lc->owners; o != NULL; o = o->anext)
		if (o->oldest != NULL && (big == NULL || o->count > big->count))
			big = o;
	if (big != NULL)
		return big->oldest;
	return lc->lru->prev != lc->lru ? lc->lru->prev : NULL;
}

/* Take e out of the table and the LRU, dropping the table's reference. */
static void
table_remove(struct leafcache *lc, struct entry *e)
{
	struct entry **pp = &lc->buckets[e->hash & lc->mask];

	while (*pp != e) {
		AN(*pp != NULL);
		pp = &(*pp)->hnext;
	}
	*pp = e->hnext;
	e->hnext = NULL;
	if (e->prev != NULL)
		lru_unlink(e);
	owner_drop(lc, e);
	lc->st.size--;
	entry_put(e);
}

static void
evict(struct leafcache *lc)
{
	struct entry *e;

	while (lc->st.size > lc->capacity && (e = victim(lc)) != NULL) {
		table_remove(lc, e);
		lc->st.evictions++;
	}
}

/* ---- public --------------------------------------------------------------- */

struct leafcache *
leafcache_new(unsigned capacity, unsigned leaf_days)
{
	struct leafcache *lc = xcalloc(1, sizeof(*lc));
	size_t n = 16;

	lc->magic = LEAFCACHE_MAGIC;
	lc->capacity = MAX(1u, MIN(capacity, LEAFCACHE_MAX_CAPACITY));
	lc->leaf_days = MAX(1u, MIN(leaf_days, (unsigned)LEAF_MAX_DAYS));
	while (n < lc->capacity)
		n <<= 1;
	lc->buckets = xcalloc(n, sizeof(*lc->buckets));
	lc->obuckets = xcalloc(n, sizeof(*lc->obuckets));
	lc->mask = n - 1;
	lc->lru = xcalloc(1, sizeof(*lc->lru));
	lc->lru->next = lc->lru->prev = lc->lru;
	lc->st.capacity = lc->capacity;
	if (RAND_bytes(lc->seed, sizeof(lc->seed)) != 1)
		WRONG("RAND_bytes failed");
	AZ(pthread_mutex_init(&lc->mu, NULL));
	AZ(pthread_cond_init(&lc->cv, NULL));
	return lc;
}

void
leafcache_free(struct leafcache *lc)
{
	size_t i;

	if (lc == NULL)
		return;
	AN(lc->magic == LEAFCACHE_MAGIC);
	for (i = 0; i <= lc->mask; i++)
		while (lc->buckets[i] != NULL)
			table_remove(lc, lc->buckets[i]);
	free(lc->buckets);
	free(lc->obuckets);
	free(lc->lru);
	pthread_cond_destroy(&lc->cv);
	pthread_mutex_destroy(&lc->mu);
	lc->magic = 0;
	free(lc);
}

static size_t
make_key(uint8_t *key, const struct ca *ca, const char *name,
    const struct addr *ip)
{
	size_t len = CA_FP_LEN;

	memcpy(key, ca_fingerprint(ca), CA_FP_LEN);
	if (name != NULL) {
		size_t n = strlen(name);

		key[len++] = KIND_NAME;
		memcpy(key + len, name, n);
		return len + n;
	}
	if (ip->family == AF_INET) {
		key[len++] = KIND_IP4;
		memcpy(key + len, &ip->u.v4, 4);
		return len + 4;
	}
	key[len++] = KIND_IP6;
	memcpy(key + len, &ip->u.v6, 16);
	return len + 16;
}

static bool
usable(const struct leaf *leaf, const struct ca *ca, time_t now)
{
	time_t na = leaf_not_after(leaf);

	if (na <= now)
		return false;
	/* Close to the end: re-mint, unless the CA's end is what bounds it. */
	return na - now >= REFRESH_SECS || na >= ca_not_after(ca);
}

/* Wait (lock held) for e's mint to finish; returns a reference or NULL. */
static struct leaf *
wait_for(struct leafcache *lc, struct entry *e, char *err, size_t errlen)
{
	struct leaf *leaf = NULL;

	e->refs++;
	lc->st.waits++;
	while (e->minting)
		AZ(pthread_cond_wait(&lc->cv, &lc->mu));
	if (e->leaf != NULL)
		leaf = leaf_ref(e->leaf);
	else
		snprintf(err, errlen, "%s", e->err);
	entry_put(e);
	return leaf;
}

struct leaf *
leafcache_get(struct leafcache *lc, struct ca *ca, const char *name,
    const struct addr *ip, char *err, size_t errlen)
{
	return leafcache_get_for(lc, ca, name, ip, NULL, err, errlen);
}

struct leaf *
leafcache_get_for(struct leafcache *lc, struct ca *ca, const char *name,
    const struct addr *ip, struct leafcache_guest *g, char *err,
    size_t errlen)
{
	uint8_t key[KEY_MAX];
	struct leaf *leaf = NULL;
	struct entry *e, *stale;
	struct owner *o;
	uint64_t h, t0, dt, now_ms = g != NULL ? g->now_ms : 0;
	unsigned rate = g != NULL ? g->mints_per_sec : 0;
	time_t now = time(NULL);
	size_t len;

	AN(lc->magic == LEAFCACHE_MAGIC);
	if (leaf_target_check(name, ip, err, errlen) == -1)
		return NULL;
	len = make_key(key, ca, name, ip);
	h = siphash(lc->seed, key, len);

	if (g != NULL)
		g->rate_limited = false;
	AZ(pthread_mutex_lock(&lc->mu));
	o = owner_get(lc, g != NULL ? g->addr : NULL, now_ms, rate);
	e = table_find(lc, h, key, len);
	if (e != NULL && e->minting) {
		leaf = wait_for(lc, e, err, errlen);
		owner_free_if_empty(lc, o);
		goto out;
	}
	if (e != NULL && usable(e->leaf, ca, now)) {
		lru_unlink(e);
		lru_push_front(lc, e);
		owner_set(lc, e, o, true);	/* the last user holds it */
		lc->st.hits++;
		leaf = leaf_ref(e->leaf);
		goto out;
	}
	if (!owner_take_mint(o, now_ms, rate)) {
		snprintf(err, errlen, "guest over its leaf mint rate");
		g->rate_limited = true;
		lc->st.rate_limited++;
		owner_free_if_empty(lc, o);
		goto out;
	}
	stale = e;
	e = xcalloc(1, sizeof(*e) + len);
	owner_set(lc, e, o, false);	/* before o could lose the stale one */
	if (stale != NULL)
		table_remove(lc, stale);
	e->hash = h;
	e->keylen = len;
	memcpy(e->key, key, len);
	e->refs = 2;			/* the table and this thread */
	e->minting = 1;
	e->hnext = lc->buckets[h & lc->mask];
	lc->buckets[h & lc->mask] = e;
	lc->st.size++;
	lc->st.misses++;
	AZ(pthread_mutex_unlock(&lc->mu));

	t0 = util_now_us();
	leaf = leaf_mint(ca, name, ip, lc->leaf_days, now, e->err,
	    sizeof(e->err));
	dt = util_now_us() - t0;

	AZ(pthread_mutex_lock(&lc->mu));
	e->minting = 0;
	if (leaf != NULL) {
		e->leaf = leaf_ref(leaf);
		lru_push_front(lc, e);
		owner_push_newest(e);
		lc->st.mints++;
		lc->st.mint_us_total += dt;
		lc->st.mint_us_max = MAX(lc->st.mint_us_max, dt);
		stats_hist_add(&lc->st.mint_hist, dt);
		evict(lc);
	} else {
		snprintf(err, errlen, "%s", e->err);
		lc->st.mint_failures++;
		table_remove(lc, e);
	}
	AZ(pthread_cond_broadcast(&lc->cv));
	entry_put(e);
out:
	AZ(pthread_mutex_unlock(&lc->mu));
	return leaf;
}

unsigned
leafcache_purge(struct leafcache *lc, const struct ca *keep)
{
	struct entry *e, *prev;
	unsigned n = 0;

	AZ(pthread_mutex_lock(&lc->mu));
	for (e = lc->lru->prev; e != lc->lru; e = prev) {
		prev = e->prev;
		if (keep != NULL && memcmp(e->key, ca_fingerprint(keep),
		    CA_FP_LEN) == 0)
			continue;
		table_remove(lc, e);
		lc->st.evictions++;
		n++;
	}
	AZ(pthread_mutex_unlock(&lc->mu));
	return n;
}

void
leafcache_stats(struct leafcache *lc, struct leafcache_stats *out)
{
	AZ(pthread_mutex_lock(&lc->mu));
	*out = lc->st;
	AZ(pthread_mutex_unlock(&lc->mu));
}
