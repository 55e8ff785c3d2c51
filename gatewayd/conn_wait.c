/*
 * conn_wait.c - the guest side waiting for its upstream (CONN_WAIT_UP):
 * go on once it is ready, or answer its failure to the guest (an HTTP
 * reply, or a TLS alert for a spliced flow).  The upstream object only
 * keeps the failure; answering the guest is the connection's business.
 */
#include "conn_wait.h"
#include "conn_http.h"
#include "conn_tls.h"

#include "log.h"
#include "reply.h"
#include "runtime.h"
#include "stats.h"
#include "worker.h"

/* Answer the guest for a failed upstream: a reply, or an alert. */
static enum step
refuse(struct conn *c)
{
	struct upstream *u = &c->upstream;
	struct exchange *x = &c->x;
	int status = u->fail->status;

	if (u->purpose == UP_SPLICE) {
		exchange_set_reason(x, u->fail->detail);
		conn_tls_refuse(c, CONN_END_UPSTREAM_FAILED);
		return STEP_CLOSED;
	}
	if (status == 502 || status == 504)
		stats_inc(c->worker->stats, ST_UPSTREAM_FAILED);
	c->must_close = true;
	if (status == 403) {
		exchange_deny(x, DENY_DESTINATION_REFUSED);
		if (u->fail->rule[0] != '\0')
			x->rule = u->fail->rule;
	}
	exchange_set_reason(x, u->fail->detail);
	/* in the failure, which stays until the exchange is logged */
	x->verify_error = u->fail->verify_error;
	buf_free(&c->to_up);	/* nothing of the request was sent */
	upstream_failure_taken(u);
	reply_send(c, status, upstream_fail_str(u->fail->reason), "%s\n",
	    u->fail->detail);
	return STEP_PROGRESS;
}

enum step
conn_wait_upstream(struct conn *c)
{
	struct upstream *u = &c->upstream;

	switch (u->phase) {
	case UPH_READY:
		break;
	case UPH_FAILED:
		return refuse(c);
	case UPH_IDLE:
		WRONG("waiting for an upstream that was never started");
	default:
		return STEP_BLOCKED;
	}
	conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
	if (u->purpose == UP_SPLICE) {
		conn_set_state(c, CONN_TUNNEL);
		return STEP_PROGRESS;
	}
	u->used = true;
	u->reusable = true;
	conn_set_state(c, CONN_EXCHANGE);
	return STEP_PROGRESS;
}
