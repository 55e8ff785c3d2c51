/*
 * dnsguard.c - name policy and exfiltration guards for the DNS proxy.
 * See dnsguard.h.
 *
 * What it is: a pure decision plus one bounded table of per-(guest,
 * zone) windows.  What it is not: I/O or logging (dnsproxy.c does both).
 */
#include "dnsguard.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>

#include "hostname.h"

#define WAYS		4
#define MAP_BITS	8192

struct zone_win {
	struct addr	guest;
	uint64_t	zone;		/* hash of the zone name; 0 = free */
	uint64_t	start_ms;
	unsigned	count;		/* bits set in map */
	uint8_t		map[MAP_BITS / 8];
};

struct dnsguard {
	pthread_mutex_t	lock;
	uint64_t	seed;
	struct zone_win	slots[DNSGUARD_SLOTS];
};

struct dnsguard *
dnsguard_new(void)
{
	struct dnsguard *g = xcalloc(1, sizeof(*g));

	if (getrandom(&g->seed, sizeof(g->seed), 0) != sizeof(g->seed))
		g->seed = util_now_us();
	AZ(pthread_mutex_init(&g->lock, NULL));
	return g;
}

void
dnsguard_free(struct dnsguard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static uint64_t
hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h ^ (h >> 31);
}

/* Count name under its zone for guest; returns the distinct count. */
static unsigned
count_unique(struct dnsguard *g, const struct dns_config *d,
    const struct addr *guest, const char *name, uint64_t now_ms)
{
	const char *zone = name + strlen(name), *p;
	unsigned dots = 0, n;
	uint64_t zh, nh, gh;
	struct zone_win *b, *w = NULL;
	size_t i, bit;

	for (p = zone; p > name; p--)
		if (p[-1] == '.' && ++dots == 2)
			break;
	zone = p;
	if (zone == name)
		return 0;		/* the zone itself: nothing to count */
	gh = hash(g->seed ^ 0xcbf29ce484222325ULL, guest->u.bytes, 16);
	zh = hash(gh, zone, strlen(zone)) | 1;
	nh = hash(g->seed, name, (size_t)(zone - name));
	AZ(pthread_mutex_lock(&g->lock));
	b = &g->slots[(zh >> 7) % (DNSGUARD_SLOTS / WAYS) * WAYS];
	for (i = 0; i < WAYS; i++) {
		if (b[i].zone == zh && addr_equal(&b[i].guest, guest)) {
			w = &b[i];
			break;
		}
	}
	if (w == NULL) {
		for (w = &b[0], i = 1; i < WAYS; i++)
			if (b[i].zone == 0 || b[i].start_ms < w->start_ms)
				w = &b[i];
		memset(w, 0, sizeof(*w));
		w->guest = *guest;
		w->zone = zh;
		w->start_ms = now_ms;
	} else if (now_ms - w->start_ms >= d->unique_window_ms) {
		memset(w->map, 0, sizeof(w->map));
		w->count = 0;
		w->start_ms = now_ms;
	}
	bit = nh % MAP_BITS;
	if ((w->map[bit / 8] & (1u << (bit % 8))) == 0) {
		w->map[bit / 8] |= (uint8_t)(1u << (bit % 8));
		w->count++;
	}
	n = w->count;
	AZ(pthread_mutex_unlock(&g->lock));
	return n;
}

static const char *
list_match(char **list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (host_match(list[i], list[i][0] == '.', name))
			return list[i];
	return NULL;
}

bool
dnsguard_check(struct dnsguard *g, const struct dns_config *d,
    const struct addr *guest, const struct dns_question *q, uint64_t now_ms,
    struct dnsguard_verdict *out)
{
	const char *hit;
	char **first, **second;
	size_t nfirst, nsecond;
	bool first_allows;

	out->allow = false;
	out->name[0] = '\0';
	if (!q->ldh || host_normalize(q->name, strlen(q->name), out->name) != 0) {
		util_strlcpy(out->rule, "bad-name", sizeof(out->rule));
		return false;
	}
	if (strlen(out->name) > d->max_name_len) {
		util_strlcpy(out->rule, "exfil-long-name", sizeof(out->rule));
		return false;
	}
	if (q->max_label > d->max_label_len) {
		util_strlcpy(out->rule, "exfil-long-label", sizeof(out->rule));
		return false;
	}
	if (d->max_unique_subdomains > 0 && count_unique(g, d, guest,
	    out->name, now_ms) > d->max_unique_subdomains) {
		util_strlcpy(out->rule, "exfil-unique-subdomains",
		    sizeof(out->rule));
		return false;
	}
	first_allows = d->names_default_allow;
	first = first_allows ? d->allow_names : d->deny_names;
	nfirst = first_allows ? d->nallow_names : d->ndeny_names;
	second = first_allows ? d->deny_names : d->allow_names;
	nsecond = first_allows ? d->ndeny_names : d->nallow_names;
	if ((hit = list_match(first, nfirst, out->name)) != NULL) {
		out->allow = first_allows;
	} else if ((hit = list_match(second, nsecond, out->name)) != NULL) {
		out->allow = !first_allows;
	} else {
		out->allow = d->names_default_allow;
		util_strlcpy(out->rule, "default", sizeof(out->rule));
		return out->allow;
	}
	snprintf(out->rule, sizeof(out->rule), "%s %s",
	    out->allow ? "allow" : "deny", hit);
	return out->allow;
}
