/*
 * dnsproxy.h - the guests' resolver: DNS over UDP and TCP on each
 * gateway-mode group's dns.listen_port (the ruleset redirects guests'
 * port 53 there), judged by dnsguard, forwarded to the group's upstream
 * resolver, answers fed to the dnscache and rewritten without HTTPS/SVCB
 * records that advertise ECH or h3 (dns.h dns_strip_svcb()).
 *
 * Runs on the service loop (service.h), with the NFQUEUE reader and the
 * control socket: every handler is short and non-blocking.  Bounded: DNSPROXY_MAX_PENDING upstream
 * queries in flight, of which limits.dns_pending_per_guest per guest
 * (beyond that: SERVFAIL; a UDP query identical to one in flight joins
 * it instead of taking a slot), DNSPROXY_MAX_TCP guest TCP
 * connections, of which limits.dns_tcp_per_guest per guest address
 * (beyond that: closed at accept), one query at a time per TCP
 * connection, each whole query due DNSPROXY_TCP_TIMEOUT_MS after the
 * accept or the previous answer (bytes do not extend it), fixed timeouts
 * (swept every SERVICE_TICK_MS, so they fire up to that much late).  Upstream queries use a fresh socket
 * (kernel-random source port) and a random id each, carry SO_MARK
 * cfg->upstream_mark, and are rebuilt from the parsed question (only an
 * OPT record of our own is added), so nothing else a guest puts in a
 * query reaches the upstream.
 *
 * Sockets are bound to the wildcard address with IP_TRANSPARENT when
 * permitted (so tproxy works too) and reply from the address the query
 * was sent to (IP_PKTINFO), so nat redirect and conntrack see the reply
 * they expect.
 */
#ifndef GW_DNSPROXY_H
#define GW_DNSPROXY_H

#include <stdint.h>

#include "config.h"
#include "dnscache.h"
#include "l4policy.h"

#define DNSPROXY_MAX_PENDING	1024
#define DNSPROXY_MAX_TCP	128
#define DNSPROXY_UDP_TIMEOUT_MS	3000
#define DNSPROXY_TCP_TIMEOUT_MS	5000	/* upstream; a guest's next query */

struct dnsproxy;
struct runtime;
struct service;

struct dnsproxy_stats {
	uint64_t	queries;
	uint64_t	allowed;
	uint64_t	refused;
	uint64_t	malformed;
	uint64_t	servfail;	/* timeouts, upstream errors, overload */
	uint64_t	stripped;	/* responses rewritten (HTTPS/SVCB) */
	uint64_t	over_quota;	/* a guest over its share: refused */
};

/*
 * Open the listeners of every group with dns.mode "gateway" on svc's
 * loop and register the deadline sweep; call before service_start().
 * Takes a reference on rt (its config decides).  dc (must outlive the
 * proxy) gets the answers; audit as for nfq_new().  Returns NULL on failure (logged: a
 * port in use, ...).  A config with no gateway-mode group gives a proxy
 * that only idles.
 */
struct dnsproxy *dnsproxy_new(struct service *svc, struct runtime *rt,
    struct dnscache *dc, const struct l4_audit_sink *audit)
    WUNRES NONNULL(1, 2, 3);

/*
 * The reload hook (reload_apply_fn; arg is the struct dnsproxy): use rt
 * (the reference passed is taken over) for the next queries (policy,
 * upstream, guards; resolv.conf is read again).  Queries in flight keep
 * the config they started with.  Listen ports are restart-only: a change
 * is logged and ignored.  On the service thread only (posted by
 * reload.c).
 */
void dnsproxy_set_runtime(void *arg, struct runtime *rt) NONNULL(1, 2);

/*
 * Close everything and free, after service_stop() (the loop no longer
 * runs).  NULL is a no-op.
 */
void dnsproxy_free(struct dnsproxy *p);

void dnsproxy_get_stats(struct dnsproxy *p, struct dnsproxy_stats *out)
    NONNULL(1, 2);

#endif
