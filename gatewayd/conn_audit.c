/*
 * conn_audit.c - turn a connection's exchange or tunnel into an audit
 * record.  Only names, addresses, counts and reasons go in: no header
 * value and no body ever reaches the audit log.
 */
#include "conn_audit.h"

#include "alog.h"
#include "runtime.h"
#include "worker.h"

static void
record_common(struct conn *c, struct alog_record *r)
{
	memset(r, 0, sizeof(*r));
	r->group = c->grp != NULL ? c->grp->cfg->name : NULL;
	r->client = c->src;
	r->dst = c->dst;
	if (c->up.io.fd != -1 || c->up.connected)
		r->upstream = c->upstream.addr;
	r->sni = c->has_sni ? c->sni : NULL;
}

static enum alog_action
action_of(enum exchange_action action, int status)
{
	if (action == XA_DENIED)
		return ALOG_DENY;
	if (status >= 400 || status == 0)
		return ALOG_ERROR;
	return ALOG_ALLOW;
}

void
conn_audit_exchange(struct conn *c)
{
	struct exchange *x = &c->x;
	struct alog_record r;
	struct gw *gw = c->worker->gw;

	if (!x->active || gw->alog == NULL)
		return;
	record_common(c, &r);
	r.kind = ALOG_HTTP;
	r.action = action_of(x->action, x->status);
	if (x->secret != NULL && x->status == 403)
		r.action = ALOG_REFUSED;
	r.time_ms = util_wall_ms();
	r.duration_ms = r.time_ms > x->start_ms ? r.time_ms - x->start_ms : 0;
	r.host = c->upstream.host[0] ? c->upstream.host : NULL;
	r.method = x->method;
	r.url = x->url;
	r.status = x->status;
	r.bytes_in = x->bytes_up;
	r.bytes_out = x->bytes_down;
	r.content_type = x->content_type[0] ? x->content_type : NULL;
	r.rule = x->rule;
	/* "would" marks a request report mode let through; one the gateway
	 * refused anyway (a dialled address on the drop list) was enforced. */
	r.would = x->would_deny && r.action != ALOG_DENY &&
	    r.action != ALOG_REFUSED ? "deny" : NULL;
	r.reason = exchange_reason(x);
	r.secret = x->secret;
	r.verify_error = x->verify_error != NULL && x->verify_error[0] ?
	    x->verify_error : NULL;
	if (x->status == 101)
		r.kind = ALOG_TUNNEL;
	alog_write(gw->alog, &r);
	x->active = false;
}

void
conn_audit_tunnel(struct conn *c, enum conn_end why)
{
	struct alog_record r;
	struct gw *gw = c->worker->gw;
	char url[HOST_MAX + 16], abuf[ADDR_STRLEN];

	if (gw->alog == NULL)
		return;
	record_common(c, &r);
	r.kind = ALOG_TUNNEL;
	r.time_ms = util_wall_ms();
	r.duration_ms = r.time_ms > c->started_ms ?
	    r.time_ms - c->started_ms : 0;
	/* host:port as Squid logs CONNECT tunnels. */
	if (c->has_sni)
		snprintf(url, sizeof(url), "%s:%u", c->sni, c->dst.port);
	else
		util_strlcpy(url, addr_ntop_port(&c->dst, abuf, sizeof(abuf)),
		    sizeof(url));
	r.url = url;
	r.bytes_in = c->tunnel_up;
	r.bytes_out = c->tunnel_down;
	r.rule = c->conn_verdict.rule != NULL || c->spliced ?
	    policy_verdict_label(&c->conn_verdict) : NULL;
	if (c->spliced && c->upstream.phase == UPH_FAILED &&
	    c->upstream.fail->status == 403) {
		/* the address the name resolves to was refused */
		r.action = ALOG_DENY;
		r.rule = c->upstream.fail->rule[0] ? c->upstream.fail->rule : r.rule;
		r.reason = exchange_reason(&c->x) ? exchange_reason(&c->x) :
		    conn_end_str(why);
	} else if (c->spliced && why == CONN_END_TUNNEL_CLOSED) {
		r.action = ALOG_SPLICE;
		r.status = 200;
	} else if (c->spliced) {
		r.action = c->up.connected ? ALOG_SPLICE : ALOG_ERROR;
		r.reason = exchange_reason(&c->x) ? exchange_reason(&c->x) :
		    conn_end_str(why);
	} else {
		r.action = c->conn_verdict.action == POLICY_DENY ?
		    ALOG_DENY : ALOG_ERROR;
		r.reason = exchange_reason(&c->x) ? exchange_reason(&c->x) :
		    conn_end_str(why);
	}
	alog_write(gw->alog, &r);
}
