/*
 * nfq.h - the NFQUEUE reader: verdicts for guests' new non-HTTP flows,
 * on the service loop (service.h).
 *
 * The group's ruleset queues the first packet of each new guest flow
 * that is not captured HTTP(S) to queue cfg->nfqueue_num.  This module
 * binds that queue (libnetfilter_queue over libmnl, copy mode with a
 * headers-only range, GSO packets left whole, NFQA_CFG_F_FAIL_OPEN only
 * if cfg->nfqueue_fail_open), finds the guest's group by source address
 * and ingress interface, asks l4policy and answers accept or drop, in
 * batches.  One audit record per decision.
 *
 * A refused TCP flow whose rule has reset = true gets verdict NF_REPEAT
 * with the packet mark's NFQ_REJECT_MASK bits set to NFQ_REJECT_MARK:
 * the same chain must have, before its queue rule,
 *     meta mark & NFQ_REJECT_MASK == NFQ_REJECT_MARK reject with tcp reset
 * (iptables: -p tcp -m mark --mark 0x4e510000/0xffff0000
 *  -j REJECT --reject-with tcp-reset).  If that rule is missing the
 * packet comes back marked and is dropped: fail closed either way.
 *
 * Fail closed: when gatewayd is not running nothing reads the queue and
 * the kernel drops queued packets, unless the queue rule has "bypass"
 * (which the rules renderer adds only for nfqueue.fail_open = true).
 */
#ifndef GW_NFQ_H
#define GW_NFQ_H

#include <stdint.h>

#include "config.h"
#include "dnscache.h"
#include "l4policy.h"

#define NFQ_REJECT_MARK		0x4e510000u
#define NFQ_REJECT_MASK		0xffff0000u
#define NFQ_COPY_RANGE		256	/* bytes of each packet read */
#define NFQ_QUEUE_MAXLEN	4096	/* packets the kernel holds */
#define NFQ_BATCH		64	/* packets read before verdicts */

struct nfq;
struct runtime;
struct service;

struct nfq_stats {
	uint64_t	packets;	/* decided */
	uint64_t	accepted;
	uint64_t	dropped;	/* incl. reset and errors */
	uint64_t	reset;
	uint64_t	unparsed;	/* malformed, dropped */
	uint64_t	nogroup;	/* no group matched, dropped */
	uint64_t	batches;	/* verdict sends */
	uint64_t	overruns;	/* ENOBUFS from the socket */
};

/*
 * Bind queue nfqueue_num of rt's config and read it on svc's loop; call
 * before service_start().  Takes a reference on rt.  dc (may be NULL) is the
 * cache the DNS proxy fills; it must outlive the nfq.  audit (copied; fn
 * may be NULL for none) receives one record per decision, on the service
 * thread.  Returns NULL on failure (logged: no CAP_NET_ADMIN, queue
 * already bound, ...).
 */
struct nfq *nfq_new(struct service *svc, struct runtime *rt,
    struct dnscache *dc, const struct l4_audit_sink *audit)
    WUNRES NONNULL(1, 2);

/*
 * The reload hook (reload_apply_fn; arg is the struct nfq): use rt (the
 * reference passed is taken over) for the next decisions.  Queue number
 * and fail-open are restart-only: a change is logged and ignored.  On
 * the service thread only (posted by reload.c).
 */
void nfq_set_runtime(void *arg, struct runtime *rt) NONNULL(1, 2);

/* Unbind and free, after service_stop().  Pending packets are dropped
 * by the kernel (fail closed).  NULL is a no-op. */
void nfq_free(struct nfq *q);

/* Counters so far; thread-safe. */
void nfq_get_stats(struct nfq *q, struct nfq_stats *out) NONNULL(1, 2);

#endif
