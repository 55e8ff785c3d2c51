/*
 * statsfmt.c - the text of the STATS answer.  See statsfmt.h.
 *
 * What it is: one "key value" line per counter, read as it is now.
 * What it is not: where counters live or how they are kept (gw.h,
 * leafcache, alog, nfq, dnsproxy each own theirs).
 */
#include "statsfmt.h"

#include <stdio.h>

#include "alog.h"
#include "dnsproxy.h"
#include "gw.h"
#include "leafcache.h"
#include "nfq.h"

/* The NFQUEUE and DNS proxy counters as STATS lines; snprintf's return. */
static int
l4_stats(const struct statsfmt_src *src, char *buf, size_t len)
{
	struct nfq_stats q;
	struct dnsproxy_stats d;
	int n = 0, m = 0;

	if (src->nfq != NULL) {
		nfq_get_stats(src->nfq, &q);
		n = snprintf(buf, len,
		    "nfq_packets %llu\nnfq_accepted %llu\nnfq_dropped %llu\n"
		    "nfq_reset %llu\nnfq_unparsed %llu\nnfq_nogroup %llu\n"
		    "nfq_batches %llu\nnfq_overruns %llu\n",
		    (unsigned long long)q.packets,
		    (unsigned long long)q.accepted,
		    (unsigned long long)q.dropped, (unsigned long long)q.reset,
		    (unsigned long long)q.unparsed,
		    (unsigned long long)q.nogroup,
		    (unsigned long long)q.batches,
		    (unsigned long long)q.overruns);
		if (n < 0 || (size_t)n >= len)
			return n;
	}
	if (src->dns != NULL) {
		dnsproxy_get_stats(src->dns, &d);
		m = snprintf(buf + n, len - (size_t)n,
		    "dns_queries %llu\ndns_allowed %llu\ndns_refused %llu\n"
		    "dns_malformed %llu\ndns_servfail %llu\n"
		    "dns_stripped %llu\ndns_over_quota %llu\n",
		    (unsigned long long)d.queries,
		    (unsigned long long)d.allowed,
		    (unsigned long long)d.refused,
		    (unsigned long long)d.malformed,
		    (unsigned long long)d.servfail,
		    (unsigned long long)d.stripped,
		    (unsigned long long)d.over_quota);
	}
	return m < 0 ? m : n + m;
}

size_t
statsfmt_write(const struct statsfmt_src *src, char *buf, size_t len)
{
	struct gw *gw = src->gw;
	struct gw_stats *s = &gw->stats;
	struct leafcache_stats ls;
	struct alog_stats as;
	int n, m;

	leafcache_stats(gw->leaves, &ls);
	alog_stats(gw->alog, &as);
	n = snprintf(buf, len,
	    "connections_open %u\naccepted %lu\nrefused_limit %lu\n"
	    "refused_loop %lu\nrequests %lu\ndenied %lu\nspliced %lu\n"
	    "bumped %lu\nguest_tls_failed %lu\nupstream_verify_failed %lu\n"
	    "upstream_failed %lu\nbad_requests %lu\nleaf_hits %llu\n"
	    "leaf_mints %llu\nleaf_cached %llu\naudit_lines %llu\n"
	    "audit_dropped %llu\n",
	    atomic_load(&gw->active), atomic_load(&s->accepted),
	    atomic_load(&s->refused_limit), atomic_load(&s->refused_loop),
	    atomic_load(&s->requests), atomic_load(&s->denied),
	    atomic_load(&s->spliced), atomic_load(&s->bumped),
	    atomic_load(&s->guest_tls_failed),
	    atomic_load(&s->upstream_verify_failed),
	    atomic_load(&s->upstream_failed), atomic_load(&s->bad_requests),
	    (unsigned long long)ls.hits, (unsigned long long)ls.mints,
	    (unsigned long long)ls.size, (unsigned long long)as.lines,
	    (unsigned long long)as.dropped);
	if (n >= 0 && (size_t)n < len) {
		m = l4_stats(src, buf + n, len - (size_t)n);
		n = m < 0 ? n : n + m;
	}
	return n < 0 ? 0 : MIN((size_t)n, len - 1);
}
