/*
 * dnscache.c - (guest, address) -> names learnt from DNS answers.  See
 * dnscache.h.
 *
 * What it is: a fixed-size, set-associative table under one mutex, keyed
 * by a seeded hash of (guest, address) so all names of one pair share a
 * bucket.  What it is not: a DNS cache (it never answers queries) or a
 * source of truth for anything but "this guest was told this".
 */
#include "dnscache.h"

#include <pthread.h>
#include <sys/random.h>

#define WAYS	8

struct dc_entry {
	struct addr	guest, addr;	/* ports zero */
	uint64_t	expires_ms;	/* 0 = free slot */
	uint64_t	added_ms;
	char		name[HOST_MAX + 1];
};

struct dnscache {
	pthread_mutex_t	lock;
	struct dc_entry	*slots;
	size_t		nbuckets;	/* power of two */
	uint64_t	seed;
	uint32_t	floor_s, ceil_s;
	unsigned	count;
};

struct dnscache *
dnscache_new(unsigned size, uint32_t floor_s, uint32_t ceil_s)
{
	struct dnscache *dc = xcalloc(1, sizeof(*dc));
	size_t want = (size ? size : DNSCACHE_DEFAULT_SIZE) / WAYS;

	dc->nbuckets = 1;
	while (dc->nbuckets < want && dc->nbuckets < (1u << 20))
		dc->nbuckets <<= 1;
	dc->slots = xcalloc(dc->nbuckets * WAYS, sizeof(*dc->slots));
	if (getrandom(&dc->seed, sizeof(dc->seed), 0) != sizeof(dc->seed))
		dc->seed = util_now_us();
	dc->floor_s = floor_s;
	dc->ceil_s = MAX(ceil_s, floor_s);
	AZ(pthread_mutex_init(&dc->lock, NULL));
	return dc;
}

void
dnscache_free(struct dnscache *dc)
{
	if (dc == NULL)
		return;
	pthread_mutex_destroy(&dc->lock);
	free(dc->slots);
	free(dc);
}

static void
key_addr(struct addr *out, const struct addr *in)
{
	memset(out, 0, sizeof(*out));
	out->family = in->family;
	memcpy(out->u.bytes, in->u.bytes, in->family == AF_INET ? 4 : 16);
	addr_unmap(out);
}

static struct dc_entry *
bucket(struct dnscache *dc, const struct addr *g, const struct addr *a)
{
	uint64_t h = dc->seed ^ 0xcbf29ce484222325ULL;
	size_t i;

	/* FNV-1a over both keys; seeded so guests cannot aim at a bucket. */
	for (i = 0; i < 16; i++)
		h = (h ^ g->u.bytes[i]) * 0x100000001b3ULL;
	for (i = 0; i < 16; i++)
		h = (h ^ a->u.bytes[i]) * 0x100000001b3ULL;
	h ^= (uint64_t)(g->family * 31 + a->family);
	h ^= h >> 29;
	return &dc->slots[(h & (dc->nbuckets - 1)) * WAYS];
}

static bool
same_key(const struct dc_entry *e, const struct addr *g, const struct addr *a)
{
	return addr_equal(&e->guest, g) && addr_equal(&e->addr, a);
}

void
dnscache_add(struct dnscache *dc, const struct addr *guest,
    const struct addr *addr, const char *name, uint32_t ttl, uint64_t now_ms)
{
	struct addr g, a;
	struct dc_entry *b, *victim = NULL;
	size_t i;

	if (strlen(name) > HOST_MAX)
		return;
	ttl = MIN(MAX(ttl, dc->floor_s), dc->ceil_s);
	key_addr(&g, guest);
	key_addr(&a, addr);
	AZ(pthread_mutex_lock(&dc->lock));
	b = bucket(dc, &g, &a);
	for (i = 0; i < WAYS; i++) {
		struct dc_entry *e = &b[i];

		if (e->expires_ms != 0 && same_key(e, &g, &a) &&
		    strcmp(e->name, name) == 0) {
			victim = e;
			break;
		}
		if (victim == NULL || e->expires_ms < victim->expires_ms)
			victim = e;
	}
	if (victim->expires_ms == 0)
		dc->count++;
	victim->guest = g;
	victim->addr = a;
	victim->expires_ms = now_ms + (uint64_t)ttl * 1000u;
	victim->added_ms = now_ms;
	util_strlcpy(victim->name, name, sizeof(victim->name));
	AZ(pthread_mutex_unlock(&dc->lock));
}

bool
dnscache_find(struct dnscache *dc, const struct addr *guest,
    const struct addr *addr, bool (*match)(void *arg, const char *name),
    void *arg, uint64_t now_ms, char *name_out)
{
	struct addr g, a;
	struct dc_entry *b;
	const struct dc_entry *best = NULL;
	size_t i;

	key_addr(&g, guest);
	key_addr(&a, addr);
	AZ(pthread_mutex_lock(&dc->lock));
	b = bucket(dc, &g, &a);
	for (i = 0; i < WAYS; i++) {
		const struct dc_entry *e = &b[i];

		if (e->expires_ms <= now_ms || !same_key(e, &g, &a))
			continue;
		if (match != NULL && !match(arg, e->name))
			continue;
		if (best == NULL || e->added_ms > best->added_ms)
			best = e;
	}
	if (best != NULL && name_out != NULL)
		util_strlcpy(name_out, best->name, HOST_MAX + 1);
	AZ(pthread_mutex_unlock(&dc->lock));
	return best != NULL;
}

unsigned
dnscache_count(struct dnscache *dc)
{
	unsigned n;

	AZ(pthread_mutex_lock(&dc->lock));
	n = dc->count;
	AZ(pthread_mutex_unlock(&dc->lock));
	return n;
}
