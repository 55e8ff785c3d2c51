/*
 * upstream.h - the upstream side of a flow, its own object: dial what the
 * policy approved (resolve, pick an address that may be dialled, connect
 * with SO_MARK, verified TLS), beside the guest side's state.
 *
 * It never talks to the guest: a failure is kept as {status, reason
 * code, detail} (allocated only then) and the owner answers it when the guest side asks.  The
 * owner is told of what happens off its own events (a name lookup
 * answered, a phase timed out) through ops->event; ops->hold/release pin
 * the owner while a lookup is in flight; ops->query says what is known
 * of the request when an address is judged.
 *
 * Embedded in its owner (struct conn), on the owner's loop and thread.
 */
#ifndef GW_UPSTREAM_H
#define GW_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "endpoint.h"
#include "hostname.h"
#include "loop.h"

struct gw;
struct stats_shard;
struct group_config;
struct policy_query;
struct runtime;

enum up_phase {
	UPH_IDLE = 0,		/* no upstream */
	UPH_RESOLVE,		/* name lookup on the resolver threads */
	UPH_CONNECT,		/* TCP connect in progress */
	UPH_TLS,		/* handshake and verification */
	UPH_READY,		/* usable */
	UPH_FAILED,		/* fail says why; answered on use */
};

/* Why the upstream is needed: what to dial once it is resolved. */
enum up_purpose {
	UP_HTTP = 0,		/* plain HTTP request */
	UP_HTTPS,		/* bumped: TLS to the real server */
	UP_SPLICE,		/* raw TCP for a spliced TLS flow */
};

/* What went wrong; upstream_fail_str() is the short text for the log and
 * the X-Gateway-Reason header. */
enum up_fail {
	UPF_NONE = 0,
	UPF_REFUSED,		/* 403: the address may not be dialled */
	UPF_RESOLVE,		/* 502 */
	UPF_LOOKUP_QUOTA,	/* 503: the guest's lookups are queued */
	UPF_CONNECT,		/* 502 */
	UPF_TLS_SETUP,		/* 502 */
	UPF_TLS_VERIFY,		/* 502 */
	UPF_TIMEOUT,		/* 504: connect_timeout over the phases */
};

struct up_failure {
	int		status;		/* 403, 502, 503, 504 */
	enum up_fail	reason;
	char		detail[400];	/* the sentence for the guest */
	char		rule[64];	/* 403: the refusal's label */
	char		verify_error[160]; /* certificate problem, or "" */
};

enum upstream_event {
	UPSTREAM_EV_RESOLVED = 0,	/* a lookup answered (any outcome) */
	UPSTREAM_EV_TIMEOUT,		/* the phases ran out of time */
};

struct upstream_ops {
	void	(*event)(void *owner, enum upstream_event ev);
	void	(*hold)(void *owner);
	void	(*release)(void *owner);
	/* Fill the request facts (path, method) an address is judged with,
	 * when there is a request; q has host and port set already. */
	void	(*query)(void *owner, struct policy_query *q);
};

struct upstream {
	enum up_phase	phase;		/* only through the traced setter */
	enum up_purpose	purpose;
	char		*host;		/* the name (at most HOST_MAX bytes),
					 * NULL for an address; kept over
					 * upstream_close() (a retry, the
					 * audit record), freed by
					 * upstream_fini() */
	uint16_t	port;
	struct addr	addr;		/* the address dialled */
	bool		reusable;	/* keep-alive to upstream possible */
	bool		used;		/* an exchange went over it */
	bool		writable;	/* epoll said the connect finished */
	uint64_t	deadline;	/* connect_timeout for the phases */
	uint64_t	last_used;	/* end of its last exchange */
	uint64_t	idle_deadline;	/* close it idle then (0: none) */
	uint64_t	resolve_seq;	/* matches posted resolver results */
	uint64_t	t_dial, t_tls;	/* util_now_us(); metrics timing */
	bool		alpn_h2;	/* offer h2 (mirroring the guest) */
	bool		alpn_http11;	/* ... and http/1.1 */
	struct up_failure *fail;	/* when one is known (the phase may
					 * have moved on: answered) */

	/* context, set by upstream_init() */
	uint64_t	id;		/* the owner's, for the log */
	struct endpoint	*ep;
	struct loop	*loop;
	loop_io_cb	io_cb;
	struct gw	*gw;
	struct stats_shard *stats;	/* the owner's thread's counters */
	struct runtime	*rt;		/* the owner's reference */
	const struct group_config *group;
	const struct addr *guest;	/* source: lookups are per guest */
	const struct addr *dst;		/* the flow's original destination */
	const struct upstream_ops *ops;
	void		*owner;
};

void upstream_init(struct upstream *u, uint64_t id, struct loop *loop,
    struct endpoint *ep, loop_io_cb io_cb, const struct upstream_ops *ops, void *owner);
/* The context of a flow (set once its runtime and group are known). */
void upstream_bind(struct upstream *u, struct gw *gw,
    struct stats_shard *stats, struct runtime *rt,
    const struct group_config *group, const struct addr *guest,
    const struct addr *dst);

/*
 * Start dialling host (normalised name, or NULL: u->addr for HTTP, the
 * original destination otherwise) for purpose, in the background.
 */
void upstream_start(struct upstream *u, enum up_purpose purpose,
    const char *host, uint16_t port);
/* Advance the connect and TLS phases; called on every wake-up. */
void upstream_step(struct upstream *u);
/* Enforce connect_timeout on the phases (ops->event on expiry). */
void upstream_check_timeout(struct upstream *u, uint64_t now);
/* Is the upstream (in progress, ready or failed) for this target? */
bool upstream_matches(const struct upstream *u, enum up_purpose purpose,
    const char *host, const struct addr *ip, uint16_t port);
/*
 * A request is about to use an upstream dialled before it (ahead of it,
 * or kept alive): judge the request with the address that upstream has
 * (dialpolicy.h).  false when refused (the failure is kept).
 */
bool upstream_recheck(struct upstream *u);
/* Close the socket, forget the target and the failure; a lookup in
 * flight goes stale. */
void upstream_close(struct upstream *u);
/* Free what the upstream holds (after upstream_close()). */
void upstream_fini(struct upstream *u);
/* A failure has been answered: back to IDLE. */
void upstream_failure_taken(struct upstream *u);
/* May an idle upstream connection carry the next request? */
bool upstream_idle_alive(struct upstream *u, uint64_t now);

const char *upstream_phase_str(enum up_phase p);
const char *upstream_fail_str(enum up_fail f);

#endif
