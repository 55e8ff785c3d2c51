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

/*
 * nthreads lookups in parallel; positive answers cached ttl_ms, negative
 * ones neg_ttl_ms; at most max_entries names cached.
 */
struct resolver *resolver_new(unsigned nthreads, uint64_t ttl_ms,
    uint64_t neg_ttl_ms, unsigned max_entries) WUNRES;
/* Stops the threads; pending callbacks are run with EAI_SYSTEM first. */
void resolver_free(struct resolver *r);

/*
 * Resolve a normalised host name.  If the answer is cached, fills *out
 * and returns 1 without calling cb.  Otherwise queues the lookup, returns
 * 0, and later calls cb(arg, result) on a resolver thread, exactly once.
 */
int resolver_lookup(struct resolver *r, const char *host,
    struct resolve_result *out, resolver_cb cb, void *arg) NONNULL(1, 2, 3);

const char *resolver_strerror(int error);

#endif
