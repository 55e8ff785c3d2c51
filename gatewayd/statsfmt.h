/*
 * statsfmt.h - the STATS answer of the control socket (`gatewayd stats`):
 * the daemon's counters as "key value\n" lines, keys stable (scripts and
 * tests read them).
 *
 * Only the formatting of today's counters lives here; per-worker
 * counter shards and other exports (metrics) build on their own.
 */
#ifndef GW_STATSFMT_H
#define GW_STATSFMT_H

#include <stddef.h>

struct dnsproxy;
struct gw;
struct nfq;

/* Where the counters are: gw required; nfq or dns NULL: no such lines. */
struct statsfmt_src {
	struct gw	*gw;
	struct nfq	*nfq;
	struct dnsproxy	*dns;
};

/*
 * Write the lines into buf (at most len bytes, NUL-terminated, cut at
 * len - 1).  Returns the length written.  Reads counters only; callable
 * from any thread.
 */
size_t statsfmt_write(const struct statsfmt_src *src, char *buf, size_t len);

#endif
