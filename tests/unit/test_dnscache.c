/*
 * test_dnscache.c - (guest, address) -> name table: expiry, clamping,
 * per-guest separation, bounded size, concurrent use.
 */
#include <pthread.h>

#include "dnscache.h"
#include "tap.h"

static struct addr
A(const char *s)
{
	struct addr a;

	AZ(addr_parse(s, &a));
	return a;
}

static bool
is_db(void *arg, const char *name)
{
	return strcmp(name, arg) == 0;
}

static void *
hammer(void *arg)
{
	struct dnscache *dc = arg;
	struct addr g = A("10.0.0.9"), a = A("198.18.0.1");
	char name[HOST_MAX + 1];
	int i;

	for (i = 0; i < 20000; i++) {
		a.u.bytes[3] = (uint8_t)i;
		dnscache_add(dc, &g, &a, "h.example.com", 60, 1000);
		(void)dnscache_find(dc, &g, &a, NULL, NULL, 1000, name);
	}
	return NULL;
}

int
main(void)
{
	struct dnscache *dc = dnscache_new(64, 30, 3600);
	struct addr g1 = A("10.0.0.2"), g2 = A("10.0.0.3");
	struct addr db = A("198.18.0.10"), db6 = A("2001:2::10");
	struct addr mapped = A("::ffff:198.18.0.10");
	char name[HOST_MAX + 1];
	pthread_t t[2];
	unsigned i;

	ok(!dnscache_find(dc, &g1, &db, NULL, NULL, 0, name), "empty");
	dnscache_add(dc, &g1, &db, "db.example.com", 5, 1000);
	dnscache_add(dc, &g1, &db, "cdn.other.net", 100, 2000);
	dnscache_add(dc, &g1, &db6, "db.example.com", 100, 1000);
	ok(dnscache_find(dc, &g1, &db, NULL, NULL, 2000, name) &&
	    strcmp(name, "cdn.other.net") == 0, "latest name returned");
	ok(dnscache_find(dc, &g1, &db, is_db, "db.example.com", 2000, name) &&
	    strcmp(name, "db.example.com") == 0, "matching name found");
	ok(dnscache_find(dc, &g1, &mapped, is_db, "db.example.com", 2000,
	    NULL), "v4-mapped guest/dst folded");
	ok(!dnscache_find(dc, &g2, &db, NULL, NULL, 2000, name),
	    "other guest sees nothing");
	ok(dnscache_find(dc, &g1, &db, is_db, "db.example.com",
	    1000 + 29999, NULL), "ttl 5 raised to the 30 s floor");
	ok(!dnscache_find(dc, &g1, &db, is_db, "db.example.com",
	    1000 + 30000, NULL), "expired after the floor");
	ok(dnscache_find(dc, &g1, &db, NULL, NULL, 1000 + 30000, name) &&
	    strcmp(name, "cdn.other.net") == 0, "other name still valid");
	dnscache_add(dc, &g1, &db, "long.example.com", 999999, 0);
	ok(dnscache_find(dc, &g1, &db, is_db, "long.example.com",
	    3600 * 1000 - 1, NULL) && !dnscache_find(dc, &g1, &db, is_db,
	    "long.example.com", 3600 * 1000, NULL), "ttl capped at 1 h");
	dnscache_add(dc, &g1, &db, "db.example.com", 60, 50000);
	ok(dnscache_find(dc, &g1, &db, is_db, "db.example.com", 100000,
	    NULL), "re-added entry refreshed");

	/* Bounded: far more adds than slots. */
	for (i = 0; i < 5000; i++) {
		struct addr a = A("198.19.0.0");

		a.u.bytes[2] = (uint8_t)(i >> 8);
		a.u.bytes[3] = (uint8_t)i;
		dnscache_add(dc, &g2, &a, "x.example.com", 60, 1000);
	}
	ok(dnscache_count(dc) <= 64, "size bounded (%u)", dnscache_count(dc));
	{
		struct addr a = A("198.19.19.135");	/* i = 4999 */

		ok(dnscache_find(dc, &g2, &a, NULL, NULL, 1000, NULL),
		    "newest entry present");
	}
	dnscache_free(dc);

	dc = dnscache_new(0, 30, 3600);
	AZ(pthread_create(&t[0], NULL, hammer, dc));
	AZ(pthread_create(&t[1], NULL, hammer, dc));
	AZ(pthread_join(t[0], NULL));
	AZ(pthread_join(t[1], NULL));
	ok(dnscache_count(dc) > 0 && dnscache_count(dc) <= 256,
	    "two threads, consistent count (%u)", dnscache_count(dc));
	dnscache_free(dc);
	return tap_done();
}
