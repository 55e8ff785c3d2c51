/*
 * test_leafcache.c - references, LRU order and eviction while held, CA
 * identity in the key, threads asking for one name at once, and the
 * fair share: one guest minting fresh names evicts only its own entries
 * and is held to its mint rate (an injected clock).
 */
#include <pthread.h>

#include "leafcache.h"
#include "tap.h"
#include "certtest.h"

static struct leaf *
get(struct leafcache *lc, struct ca *ca, const char *name)
{
	char err[256];
	struct leaf *l = leafcache_get(lc, ca, name, NULL, err, sizeof(err));

	if (l == NULL)
		printf("#   get %s: %s\n", name ? name : "(ip)", err);
	return l;
}

static int
issued_by(struct leaf *l, const struct ca *ca)
{
	return l != NULL && X509_verify(leaf_cert(l), ca_key(ca)) == 1;
}

static void
test_refs_and_lru(struct ca *ca)
{
	struct leafcache *lc = leafcache_new(2, 30);
	struct leafcache_stats st;
	struct leaf *a, *a2, *b, *c, *x;

	a = get(lc, ca, "a.example");
	a2 = get(lc, ca, "a.example");
	ok(a != NULL && a == a2, "second get is the same leaf");
	leafcache_stats(lc, &st);
	ok(st.hits == 1 && st.misses == 1 && st.mints == 1 && st.size == 1,
	    "stats: 1 hit, 1 miss, 1 mint, size 1");
	leaf_unref(a2);

	/* a is held by us; b then c push it out. */
	b = get(lc, ca, "b.example");
	c = get(lc, ca, "c.example");
	leafcache_stats(lc, &st);
	ok(st.size == 2 && st.evictions == 1, "capacity 2: one eviction");
	ok(issued_by(a, ca) && strcmp((const char *)ASN1_STRING_get0_data(
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(
	    X509_get_subject_name(leaf_cert(a)), 0))), "a.example") == 0,
	    "evicted leaf still valid while held");
	x = get(lc, ca, "a.example");
	ok(x != NULL && x != a, "evicted name is minted again");
	leaf_unref(a);
	leaf_unref(x);		/* cache: a(new), c; b evicted */

	/* LRU: touch c, add d: a goes, c stays. */
	leaf_unref(get(lc, ca, "c.example"));
	leaf_unref(get(lc, ca, "d.example"));
	leafcache_stats(lc, &st);
	x = get(lc, ca, "c.example");
	ok(x == c, "recently used c survived");
	leaf_unref(x);
	{
		struct leafcache_stats st2;

		leaf_unref(get(lc, ca, "a.example"));
		leafcache_stats(lc, &st2);
		ok(st2.misses == st.misses + 1, "least recently used a was "
		    "evicted");
	}
	leaf_unref(b);
	leaf_unref(c);
	leafcache_free(lc);
}

static void
test_keys(struct ca *ca1, struct ca *ca2)
{
	struct leafcache *lc = leafcache_new(16, 30);
	struct leafcache_stats st;
	struct leaf *l1, *l2, *l3, *i4, *i6, *bad;
	struct addr a4, a6;
	char err[256];

	l1 = get(lc, ca1, "same.example");
	l2 = get(lc, ca2, "same.example");
	ok(l1 != NULL && l2 != NULL && l1 != l2, "CA change: another leaf");
	ok(issued_by(l1, ca1) && issued_by(l2, ca2) && !issued_by(l2, ca1),
	    "each leaf signed by its own CA");
	l3 = get(lc, ca1, "same.example");
	ok(l3 == l1, "old CA's leaf still cached under the old CA");
	leaf_unref(l3);

	AZ(addr_parse("198.18.0.1", &a4));
	AZ(addr_parse("2001:2::1", &a6));
	i4 = leafcache_get(lc, ca1, NULL, &a4, err, sizeof(err));
	i6 = leafcache_get(lc, ca1, NULL, &a6, err, sizeof(err));
	ok(i4 != NULL && i6 != NULL && i4 != i6 && i4 != l1,
	    "IPv4, IPv6 and name are distinct keys");
	l3 = leafcache_get(lc, ca1, NULL, &a4, err, sizeof(err));
	ok(l3 == i4, "IP leaf cached");
	leaf_unref(l3);

	bad = leafcache_get(lc, ca1, "Bad..Name", NULL, err, sizeof(err));
	ok(bad == NULL, "invalid name refused: %s", err);
	bad = leafcache_get(lc, ca1, NULL, NULL, err, sizeof(err));
	ok(bad == NULL, "no name, no address refused");

	leafcache_stats(lc, &st);
	is(st.size, 4, "four entries");
	is(leafcache_purge(lc, ca2), 3, "purge keeps only the new CA's");
	leafcache_stats(lc, &st);
	is(st.size, 1, "one entry left");
	ok(issued_by(l1, ca1), "purged leaf still valid while held");
	leaf_unref(l1);
	leaf_unref(l2);
	leaf_unref(i4);
	leaf_unref(i6);
	leafcache_free(lc);
}

static void
test_expired_ca(time_t now)
{
	struct ca *old = test_ca_new("old", CA_KEY_P256, 1, now - 3 * 86400);
	struct leafcache *lc = leafcache_new(4, 30);
	struct leafcache_stats st;
	char err[256];

	ok(leafcache_get(lc, old, "x.example", NULL, err, sizeof(err)) ==
	    NULL, "expired CA: no leaf (%s)", err);
	leafcache_stats(lc, &st);
	ok(st.mint_failures == 1 && st.size == 0, "failure not cached");
	leafcache_free(lc);
	ca_unref(old);
}

static struct leaf *
get_as(struct leafcache *lc, struct ca *ca, const char *name,
    struct leafcache_guest *g)
{
	char err[256];

	return leafcache_get_for(lc, ca, name, NULL, g, err, sizeof(err));
}

static void
test_fair_share(struct ca *ca)
{
	struct leafcache *lc = leafcache_new(16, 30);
	struct leafcache_stats st;
	struct addr a1, a2, a6a, a6b;
	struct leafcache_guest g1 = { &a1, 1000, 0, false };
	struct leafcache_guest g2 = { &a2, 1000, 0, false };
	struct leaf *mine[3], *l;
	char name[64];
	int i, kept = 1;

	AZ(addr_parse("10.0.0.1", &a1));
	AZ(addr_parse("10.0.0.2", &a2));
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "quiet%d.example", i);
		mine[i] = get_as(lc, ca, name, &g2);
	}
	/* Guest 1 mints 200 fresh names through a 16-entry cache. */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "flood%d.example", i);
		leaf_unref(get_as(lc, ca, name, &g1));
	}
	leafcache_stats(lc, &st);
	ok(st.size == 16 && st.evictions == 187, "cache full, 187 evictions "
	    "(size %u, %llu)", st.size, (unsigned long long)st.evictions);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "quiet%d.example", i);
		l = get_as(lc, ca, name, &g2);
		kept &= l == mine[i];
		leaf_unref(l);
		leaf_unref(mine[i]);
	}
	ok(kept, "the other guest's 3 leaves all stayed cached");
	is(st.guests, 2, "two guests hold entries");

	/* A guest that takes over a flooder's entry (a hit) holds it. */
	l = get_as(lc, ca, "flood199.example", &g2);
	for (i = 200; i < 240; i++) {
		snprintf(name, sizeof(name), "flood%d.example", i);
		leaf_unref(get_as(lc, ca, name, &g1));
	}
	mine[0] = get_as(lc, ca, "flood199.example", &g2);
	ok(mine[0] == l,
	    "an entry hit by the quiet guest is counted as its own");
	leaf_unref(mine[0]);
	leaf_unref(l);

	/* When the quiet guest is the largest, its own oldest goes. */
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "quiet-many%d.example", i);
		leaf_unref(get_as(lc, ca, name, &g2));
	}
	leafcache_stats(lc, &st);
	ok(st.size == 16 && st.guests == 2, "still bounded (%u, %u guests)",
	    st.size, st.guests);

	/* IPv6 guests are one guest per /64. */
	AZ(addr_parse("2001:db8:1:2::1", &a6a));
	AZ(addr_parse("2001:db8:1:2::ffff", &a6b));
	g1.addr = &a6a;
	leaf_unref(get_as(lc, ca, "v6a.example", &g1));
	g1.addr = &a6b;
	leaf_unref(get_as(lc, ca, "v6b.example", &g1));
	leafcache_stats(lc, &st);
	is(st.guests, 3, "two addresses of one /64 are one guest");
	leafcache_free(lc);
}

static void
test_mint_rate(struct ca *ca)
{
	struct leafcache *lc = leafcache_new(64, 30);
	struct leafcache_stats st;
	struct addr a1, a2;
	struct leafcache_guest g1 = { &a1, 5000, 5, false };
	struct leafcache_guest g2 = { &a2, 5000, 5, false };
	struct leaf *l;
	char name[64];
	int i, got = 0;

	AZ(addr_parse("10.0.0.1", &a1));
	AZ(addr_parse("10.0.0.2", &a2));
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "r%d.example", i);
		l = get_as(lc, ca, name, &g1);
		got += l != NULL;
		leaf_unref(l);
	}
	is(got, 10, "5 mints/s: a burst of 10, then refused");
	ok(g1.rate_limited, "the refusal says why");
	l = get_as(lc, ca, "r0.example", &g1);
	ok(l != NULL && !g1.rate_limited, "a hit is never limited");
	leaf_unref(l);
	l = get_as(lc, ca, "other.example", &g2);
	ok(l != NULL, "another guest has its own bucket");
	leaf_unref(l);
	g1.now_ms += 400;
	l = get_as(lc, ca, "r20.example", &g1);
	got = l != NULL;
	leaf_unref(l);
	l = get_as(lc, ca, "r21.example", &g1);
	got += l != NULL;
	leaf_unref(l);
	is(got, 2, "400 ms later: two more");
	l = get_as(lc, ca, "r22.example", &g1);
	ok(l == NULL, "and no third");
	leafcache_stats(lc, &st);
	is(st.rate_limited, 21, "21 refusals counted");
	leafcache_free(lc);
}

#define NTHREADS	8

struct race {
	struct leafcache	*lc;
	struct ca		*ca;
	pthread_barrier_t	*bar;
	const char		*name;
	struct leaf		*got;
	int			stress;
	int			fails;
};

static void *
racer(void *arg)
{
	struct race *r = arg;
	char name[64], err[256];
	int i;

	pthread_barrier_wait(r->bar);
	if (!r->stress) {
		r->got = leafcache_get(r->lc, r->ca, r->name, NULL, err,
		    sizeof(err));
		return NULL;
	}
	for (i = 0; i < 400; i++) {
		struct leaf *l;

		snprintf(name, sizeof(name), "n%d.example", (i * 7) % 40);
		l = leafcache_get(r->lc, r->ca, name, NULL, err, sizeof(err));
		r->fails += l == NULL;
		leaf_unref(l);
	}
	return NULL;
}

static void
run_threads(struct race *rs, pthread_barrier_t *bar)
{
	pthread_t t[NTHREADS];
	int i;

	pthread_barrier_init(bar, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		AZ(pthread_create(&t[i], NULL, racer, &rs[i]));
	for (i = 0; i < NTHREADS; i++)
		AZ(pthread_join(t[i], NULL));
	pthread_barrier_destroy(bar);
}

static void
test_threads(struct ca *ca)
{
	struct race rs[NTHREADS];
	pthread_barrier_t bar;
	struct leafcache_stats st;
	uint64_t waits = 0;
	int round, i, same = 1, once = 1;

	for (round = 0; round < 20; round++) {
		struct leafcache *lc = leafcache_new(8, 30);

		for (i = 0; i < NTHREADS; i++)
			rs[i] = (struct race){ lc, ca, &bar, "race.example",
			    NULL, 0, 0 };
		run_threads(rs, &bar);
		for (i = 0; i < NTHREADS; i++) {
			same &= rs[i].got != NULL && rs[i].got == rs[0].got;
		}
		for (i = 0; i < NTHREADS; i++)
			leaf_unref(rs[i].got);
		leafcache_stats(lc, &st);
		once &= st.mints == 1;
		waits += st.waits;
		leafcache_free(lc);
	}
	ok(same, "%d threads x 20 rounds: every thread got the same leaf",
	    NTHREADS);
	ok(once, "and it was minted once per round (%llu waits in all)",
	    (unsigned long long)waits);

	{
		struct leafcache *lc = leafcache_new(16, 30);
		int fails = 0;

		for (i = 0; i < NTHREADS; i++)
			rs[i] = (struct race){ lc, ca, &bar, NULL, NULL, 1,
			    0 };
		run_threads(rs, &bar);
		for (i = 0; i < NTHREADS; i++)
			fails += rs[i].fails;
		leafcache_stats(lc, &st);
		is(fails, 0, "stress: 3200 gets over 40 names, no failure");
		ok(st.size <= 16, "size stays within capacity (%u)", st.size);
		is(st.hits + st.misses + st.waits, NTHREADS * 400,
		    "hits + misses + waits account for every get");
		ok(st.evictions > 0 && st.mints == st.misses,
		    "evictions happened (%llu), one mint per miss",
		    (unsigned long long)st.evictions);
		printf("# leafcache stress: %llu mints, average %.1f us, "
		    "max %llu us\n", (unsigned long long)st.mints,
		    st.mints ? (double)st.mint_us_total / st.mints : 0.0,
		    (unsigned long long)st.mint_us_max);
		leafcache_free(lc);
	}
}

int
main(void)
{
	time_t now = time(NULL);
	struct ca *ca1 = test_ca_new("cache CA 1", CA_KEY_P256, 365, now);
	struct ca *ca2 = test_ca_new("cache CA 2", CA_KEY_P256, 365, now);
	struct leafcache *lc;

	test_refs_and_lru(ca1);
	test_keys(ca1, ca2);
	test_expired_ca(now);
	test_threads(ca1);
	test_fair_share(ca1);
	test_mint_rate(ca1);
	lc = leafcache_new(0, 0);
	ok(lc != NULL, "capacity and days clamped, not refused");
	leafcache_free(lc);
	ca_unref(ca1);
	ca_unref(ca2);
	return tap_done();
}
