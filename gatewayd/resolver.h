/*
 * resolver.h - asynchronous host name resolution for the workers.
 *
 * The gateway dials only addresses it resolved itself for an approved
 * name ("dial what the policy approved"), so every plain-HTTP request and
 * every TLS flow with a name needs a lookup.  getaddrinfo() blocks, so a
 * small pool of threads runs it off the workers' loops; answers are kept
 * in a bounded cache for a short fixed time (getaddrinfo gives no TTL).
 * It reads /etc/hosts and resolv.conf of the gateway's namespace, as the
 * rest of the host does.
 *
 * Thread-safe.  Completion callbacks run on a resolver thread: callers
 * hand the result to their own loop (loop_post()).
 */
#ifndef GW_RESOLVER_H
#define GW_RESOLVER_H

#include "addr.h"

#define RESOLVER_MAX_ADDRS	8

struct resolver;

struct resolve_result {
	int		error;		/* 0, or an EAI_* code */
	size_t		naddrs;
	struct addr	addrs[RESOLVER_MAX_ADDRS];	/* port 0 */
};

typedef void (*resolver_cb)(void *arg, const struct resolve_result *r);

/* What the tests replace; NULL members (or hooks) mean the real thing. */
struct resolver_hooks {
	/* Blocking lookup of name (getaddrinfo()); runs on a pool thread. */
	void		(*lookup)(void *arg, const char *name,
			    struct resolve_result *out);
	uint64_t	(*now_ms)(void *arg);	/* util_now_ms() */
	void		*arg;
};

/*
 * nthreads lookups in parallel; positive answers cached ttl_ms, negative
 * ones neg_ttl_ms; at most max_entries names cached.  hooks may be NULL.
 */
struct resolver *resolver_new(unsigned nthreads, uint64_t ttl_ms,
    uint64_t neg_ttl_ms, unsigned max_entries,
    const struct resolver_hooks *hooks) WUNRES;
/* Stops the threads; pending callbacks are run with EAI_SYSTEM first. */
void resolver_free(struct resolver *r);

enum resolve_status {
	RESOLVE_QUEUED,		/* cb will be called */
	RESOLVE_CACHED,		/* *out filled, cb never called */
	RESOLVE_OVER_QUOTA,	/* guest has quota lookups waiting: refused */
};

/*
 * Resolve a normalised host name for guest (its source address; port
 * ignored).  If the answer is cached, fills *out.  Otherwise queues the
 * lookup and later calls cb(arg, result) on a resolver thread, exactly
 * once; a name already being looked up is joined at no cost.  Each
 * guest has its own queue and the threads serve the queues in turn, a
 * guest never running on more than half of them, so one guest's backlog
 * of slow names delays only itself; a guest with quota lookups queued or
 * running (0: no limit) is refused.
 */
enum resolve_status resolver_lookup(struct resolver *r,
    const struct addr *guest, unsigned quota, const char *host,
    struct resolve_result *out, resolver_cb cb, void *arg)
    NONNULL(1, 2, 4, 5);

const char *resolver_strerror(int error);

#endif
