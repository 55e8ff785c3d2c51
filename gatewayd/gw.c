/*
 * gw.c - the daemon's shared state: the current runtime (swapped whole
 * on reload), the counter shards and the per-guest connection counts.
 * See gw.h.  Below the connections and the listeners, which both use it.
 */
#include "gw.h"

#include "runtime.h"
#include "stats.h"
#include "util.h"

void
gw_init(struct gw *gw)
{
	size_t i;

	memset(gw, 0, sizeof(*gw));
	pthread_mutex_init(&gw->rt_lock, NULL);
	gw->stats = stats_new();
	for (i = 0; i < GUEST_STRIPES; i++)
		pthread_mutex_init(&gw->guest_lock[i], NULL);
}

void
gw_fini(struct gw *gw)
{
	struct guest_count *g, *next;
	size_t i;

	for (i = 0; i < GUEST_STRIPES; i++) {
		for (g = gw->guests[i]; g != NULL; g = next) {
			next = g->next;
			free(g);
		}
		pthread_mutex_destroy(&gw->guest_lock[i]);
	}
	if (gw->rt != NULL)
		runtime_unref(gw->rt);
	pthread_mutex_destroy(&gw->rt_lock);
	stats_free(gw->stats);
}

struct runtime *
gw_runtime(struct gw *gw)
{
	struct runtime *rt;

	pthread_mutex_lock(&gw->rt_lock);
	rt = gw->rt != NULL ? runtime_ref(gw->rt) : NULL;
	pthread_mutex_unlock(&gw->rt_lock);
	return rt;
}

void
gw_set_runtime(struct gw *gw, struct runtime *rt)
{
	struct runtime *old;

	pthread_mutex_lock(&gw->rt_lock);
	old = gw->rt;
	gw->rt = rt;
	pthread_mutex_unlock(&gw->rt_lock);
	if (old != NULL)
		runtime_unref(old);
}

static unsigned
guest_stripe(const struct addr *a)
{
	return util_fnv1a(a->u.bytes, a->family == AF_INET ? 4 : 16) %
	    GUEST_STRIPES;
}

bool
gw_guest_acquire(struct gw *gw, const struct addr *a, unsigned limit)
{
	unsigned s = guest_stripe(a);
	struct guest_count *g;
	bool ok = true;

	pthread_mutex_lock(&gw->guest_lock[s]);
	for (g = gw->guests[s]; g != NULL; g = g->next)
		if (addr_equal(&g->addr, a))
			break;
	if (g == NULL) {
		g = xcalloc(1, sizeof(*g));
		g->addr = *a;
		g->next = gw->guests[s];
		gw->guests[s] = g;
	}
	if (limit != 0 && g->n >= limit)
		ok = false;
	else
		g->n++;
	pthread_mutex_unlock(&gw->guest_lock[s]);
	return ok;
}

void
gw_guest_release(struct gw *gw, const struct addr *a)
{
	unsigned s = guest_stripe(a);
	struct guest_count **pp, *g;

	pthread_mutex_lock(&gw->guest_lock[s]);
	for (pp = &gw->guests[s]; (g = *pp) != NULL; pp = &g->next) {
		if (!addr_equal(&g->addr, a))
			continue;
		if (g->n > 0)
			g->n--;
		if (g->n == 0) {
			*pp = g->next;
			free(g);
		}
		break;
	}
	pthread_mutex_unlock(&gw->guest_lock[s]);
}
