/*
 * conn_audit.c - turn a connection's exchange or tunnel into an audit
 * record.  Only names, addresses, counts and reasons go in: no header
 * value and no body ever reaches the audit log.
 *
 * The same place counts the exchange in the metrics (stats.h): here the
 * decision, rule, status, reason code, secret and timings are all known.
 * Metrics get only bounded labels: the group, the rule label, the deny
 * reason's code, the secret's configured name; never the host or URL.
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
	conn_vm_audit(c, r);
}

/* How the teardown ended a tunnel, or an exchange it cut short: the
 * stable code, the Squid suffix, and the reason when none was given. */
static void
record_end(struct alog_record *r, enum conn_end why)
{
	enum conn_end_kind k = conn_end_kind(why);

	r->end = conn_end_code(why);
	r->cut = k == CONN_END_KIND_TIMEDOUT ? ALOG_CUT_TIMEDOUT :
	    k == CONN_END_KIND_ABORTED ? ALOG_CUT_ABORTED : ALOG_CUT_NONE;
	if (r->reason == NULL && k != CONN_END_KIND_DONE)
		r->reason = conn_end_str(why);
}

static const char *
group_of(const struct conn *c)
{
	return c->grp != NULL ? c->grp->cfg->name : "";
}

/* One audited exchange in the metrics: decision, denial, secret, time. */
static void
count_exchange(struct conn *c, const struct exchange *x,
    const struct alog_record *r)
{
	struct stats_shard *sh = c->worker->stats;
	const char *g = group_of(c);
	bool deny = r->action == ALOG_DENY || r->action == ALOG_REFUSED;

	stats_inc_request(sh, g, deny ? SD_DENY : r->would != NULL ?
	    SD_REPORT : SD_ALLOW, x->status);
	if (deny)
		stats_inc_series(sh, SF_DENIALS, g, deny_reason_code(x->deny),
		    x->rule);
	if (x->verify_error != NULL && x->verify_error[0] != '\0')
		stats_inc_series(sh, SF_VERIFY_FAILURES, g, x->verify_error,
		    NULL);
	if (x->secret != NULL && r->action != ALOG_REFUSED)
		stats_inc_series(sh, SF_SECRETS, g, x->secret,
		    x->via_sentinel ? "sentinel" : "placeholder");
	(void)stats_since(sh, SH_REQUEST, x->t_start,
	    loop_now_us(c->worker->loop));
}

/* A TLS flow that never reached HTTP: spliced, refused or failed. */
static void
count_tunnel(struct conn *c, const struct alog_record *r,
    enum deny_reason deny)
{
	struct stats_shard *sh = c->worker->stats;
	const char *g = group_of(c);

	if (r->action == ALOG_DENY) {
		stats_inc_request(sh, g, SD_DENY, r->status);
		stats_inc_series(sh, SF_DENIALS, g, deny_reason_code(deny),
		    r->rule);
	} else
		stats_inc_request(sh, g, c->spliced ? SD_SPLICE :
		    c->conn_verdict.would_deny ? SD_REPORT : SD_ALLOW,
		    r->status);
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
conn_audit_exchange(struct conn *c, struct exchange *x)
{
	struct alog_record r;
	struct gw *gw = c->worker->gw;

	if (!x->active)
		return;
	record_common(c, &r);
	r.kind = ALOG_HTTP;
	r.action = action_of(x->action, x->status);
	if (x->secret != NULL && x->status == 403)
		r.action = ALOG_REFUSED;
	r.time_ms = util_wall_ms();
	r.duration_ms = r.time_ms > x->start_ms ? r.time_ms - x->start_ms : 0;
	r.host = c->upstream.host;
	r.method = x->method;
	r.url = x->url;
	r.proto = x->h2 ? "h2" : NULL;
	r.status = x->status;
	r.bytes_in = x->bytes_up;
	r.bytes_out = x->bytes_down;
	if (x->action == XA_TUNNEL) {
		/* audited at the tunnel's end: the whole session */
		r.bytes_in += c->tunnel_up;
		r.bytes_out += c->tunnel_down;
	}
	r.content_type = x->content_type;
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
	/* audited by the teardown: a 101's tunnel at its end, or an
	 * exchange cut short */
	if (x == &c->x && c->end != CONN_END_NONE)
		record_end(&r, c->end);
	count_exchange(c, x, &r);
	if (gw->alog != NULL)
		alog_write(gw->alog, &r);
	x->active = false;
}

void
conn_audit_tunnel(struct conn *c, enum conn_end why)
{
	struct alog_record r;
	struct gw *gw = c->worker->gw;
	char url[HOST_MAX + 16], abuf[ADDR_STRLEN];
	/* a denial: by policy at the ClientHello, unless its address was */
	enum deny_reason deny = DENY_EGRESS_POLICY;

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
		r.rule = c->upstream.fail->rule[0] ? c->upstream.fail->rule :
		    r.rule;
		deny = DENY_DESTINATION_REFUSED;
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
	record_end(&r, why);
	count_tunnel(c, &r, deny);
	if (gw->alog != NULL)
		alog_write(gw->alog, &r);
}
