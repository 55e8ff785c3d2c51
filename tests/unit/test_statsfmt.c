/*
 * test_statsfmt.c - the STATS text (statsfmt.c): every counter of struct
 * gw, the leaf cache and the audit log as one "key value" line with the
 * value it holds, no NFQUEUE or DNS lines without those services, and a
 * buffer too small for the answer cut, NUL-terminated, never overrun.
 */
#include "statsfmt.h"

#include <stdio.h>

#include "alog.h"
#include "gw.h"
#include "leafcache.h"
#include "tap.h"

/* The value of key in text, or -1 when there is no such line. */
static long
value(const char *text, const char *key)
{
	char pat[64];
	const char *p;
	size_t n = (size_t)snprintf(pat, sizeof(pat), "%s ", key);

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p ? p + 1 : NULL)
		if (strncmp(p, pat, n) == 0)
			return strtol(p + n, NULL, 10);
	return -1;
}

int
main(void)
{
	static const char *keys[] = { "accepted", "refused_limit",
	    "refused_loop", "requests", "denied", "spliced", "bumped",
	    "guest_tls_failed", "upstream_verify_failed", "upstream_failed",
	    "bad_requests" };
	atomic_ulong *ctr[ARRAY_SIZE(keys)];
	char buf[4096], small[40], err[256];
	struct gw gw;
	struct statsfmt_src src = { &gw, NULL, NULL };
	size_t i, n, lines = 0;

	gw_init(&gw);
	gw.leaves = leafcache_new(16, 30);
	gw.alog = alog_open("/dev/null", LOGFMT_JSON, err, sizeof(err));
	if (!ok(gw.alog != NULL, "audit log: %s", gw.alog ? "open" : err))
		return tap_done();
	ctr[0] = &gw.stats.accepted;
	ctr[1] = &gw.stats.refused_limit;
	ctr[2] = &gw.stats.refused_loop;
	ctr[3] = &gw.stats.requests;
	ctr[4] = &gw.stats.denied;
	ctr[5] = &gw.stats.spliced;
	ctr[6] = &gw.stats.bumped;
	ctr[7] = &gw.stats.guest_tls_failed;
	ctr[8] = &gw.stats.upstream_verify_failed;
	ctr[9] = &gw.stats.upstream_failed;
	ctr[10] = &gw.stats.bad_requests;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		atomic_store(ctr[i], 100 + i);
	atomic_store(&gw.active, 7);

	n = statsfmt_write(&src, buf, sizeof(buf));
	ok(n == strlen(buf) && n > 0 && buf[n - 1] == '\n',
	    "length returned, whole lines");
	is(value(buf, "connections_open"), 7, "connections_open");
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		is(value(buf, keys[i]), (long)(100 + i), "%s", keys[i]);
	ok(value(buf, "leaf_hits") == 0 && value(buf, "leaf_mints") == 0 &&
	    value(buf, "leaf_cached") == 0 &&
	    value(buf, "audit_lines") == 0 && value(buf, "audit_dropped") == 0,
	    "leaf cache and audit log lines");
	ok(value(buf, "nfq_packets") == -1 && value(buf, "dns_queries") == -1,
	    "no NFQUEUE or DNS lines without those services");
	for (i = 0; i < n; i++)
		lines += buf[i] == '\n';
	is(lines, 17, "17 lines, one per counter");

	memset(small, 'x', sizeof(small));
	n = statsfmt_write(&src, small, sizeof(small) - 8);
	ok(n == sizeof(small) - 9 && small[n] == '\0' &&
	    small[sizeof(small) - 8] == 'x', "cut to the buffer, "
	    "NUL-terminated, nothing past it");
	ok(strncmp(small, buf, n) == 0, "the cut is a prefix of the answer");

	alog_close(gw.alog);
	leafcache_free(gw.leaves);
	gw_fini(&gw);
	return tap_done();
}
