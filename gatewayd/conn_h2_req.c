/*
 * conn_h2_req.c - one HTTP/2 request judged as an HTTP/1.1 one is: the
 * full URL from :scheme, :authority and :path; the authority bound to
 * the SNI (421 otherwise) and to the connection's port; policy first
 * match; the dialled address judged again for this request; the secret
 * for it, sent never-indexed; then the request is opened upstream, or
 * the gateway answers the stream itself (403, 421, 431...).  Nothing of
 * a refused request reaches the upstream.  See conn_h2.h.
 */
#include "conn_h2.h"

#include <stdarg.h>
#include <stdio.h>

#include "conn_secrets.h"
#include "dialpolicy.h"
#include "log.h"
#include "reply.h"
#include "runtime.h"
#include "secrets.h"
#include "slicer.h"
#include "stats.h"
#include "worker.h"

#define SECRET_LINE_MAX	8192

/* The request's pseudo-headers and Host, as slices of the block. */
struct h2_req {
	struct http_slice	method, scheme, authority, path, host;
	struct http_header	headers[HTTP_MAX_HEADERS];
	size_t			nheaders;
	bool			too_many;
};

static void
slice(struct http_slice *s, const struct h2_field *f)
{
	s->p = f->value;
	s->len = f->valuelen;
}

static void
split_block(const struct h2_block *b, struct h2_req *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < b->n; i++) {
		const struct h2_field *f = &b->f[i];

		if (strcmp(f->name, ":method") == 0)
			slice(&r->method, f);
		else if (strcmp(f->name, ":scheme") == 0)
			slice(&r->scheme, f);
		else if (strcmp(f->name, ":authority") == 0)
			slice(&r->authority, f);
		else if (strcmp(f->name, ":path") == 0)
			slice(&r->path, f);
		else if (f->name[0] == ':')
			continue;	/* nghttp2 refused unknown ones */
		else if (r->nheaders == HTTP_MAX_HEADERS)
			r->too_many = true;
		else {
			struct http_header *h = &r->headers[r->nheaders++];

			h->name.p = f->name;
			h->name.len = f->namelen;
			slice(&h->value, f);
			if (strcmp(f->name, "host") == 0)
				r->host = h->value;
		}
	}
}

/*
 * The stream's target must be the connection's: the SNI (or, without
 * one, the address) and the captured port.  Returns 0 (host set to the
 * normalised name or the address text), or a status with *why set.
 */
static int
stream_target(struct conn *c, const struct h2_req *r, char *host,
    uint16_t *port, const char **why)
{
	const struct http_slice *a = r->authority.len ? &r->authority :
	    &r->host;
	const char *h;
	size_t hl;
	uint16_t p;

	if (a->len == 0) {
		*why = "no :authority and no Host";
		return 400;
	}
	if (r->authority.len && r->host.len && !(r->host.len == a->len &&
	    util_ascii_caseeq(r->host.p, a->p, a->len))) {
		*why = "Host differs from :authority";
		return 400;
	}
	if (host_split_authority(a->p, a->len, &h, &hl, &p) != 0) {
		*why = "malformed :authority";
		return 400;
	}
	*port = p ? p : c->dst.port;
	if (*port != c->dst.port) {
		*why = "host port differs from the connection's port";
		return 421;
	}
	if (c->has_sni) {
		if (host_is_ip_literal(h, hl) || host_normalize(h, hl,
		    host) != 0 || strcmp(host, c->sni) != 0) {
			*why = "host does not match the TLS server name";
			return 421;
		}
		return 0;
	}
	{
		char tmp[INET6_ADDRSTRLEN + 1];
		struct addr ip;

		if (!host_is_ip_literal(h, hl) || hl >= sizeof(tmp)) {
			*why = "host does not match the TLS server name";
			return 421;
		}
		memcpy(tmp, h, hl);
		tmp[hl] = '\0';
		if (addr_parse(tmp, &ip) != 0 || (addr_unmap(&ip),
		    !addr_equal(&ip, &c->dst))) {
			*why = "host does not match the connection's address";
			return 421;
		}
		addr_ntop(&ip, host, HOST_MAX + 1);
	}
	return 0;
}

static void
set_url(struct h2_stream *s, const char *host, uint16_t port,
    const struct http_slice *path)
{
	char portbuf[8] = "";
	bool v6 = strchr(host, ':') != NULL;
	size_t len = strlen(host) + path->len + 32;
	int n;

	if (port != 443)
		snprintf(portbuf, sizeof(portbuf), ":%u", port);
	free(s->x.url);
	s->x.url = xmalloc(len);
	n = snprintf(s->x.url, len, "https://%s%s%s%s", v6 ? "[" : "", host,
	    v6 ? "]" : "", portbuf);
	if (path->len > 0)
		memcpy(s->x.url + n, path->p, path->len);
	s->x.url[n + path->len] = '\0';
	s->x.path_off = (size_t)n;
}

/* The upstream has the stream's turn: the request ended, the response
 * has not (response_timeout); otherwise the guest has it (idle_timeout). */
bool
conn_h2_up_turn(const struct h2_stream *s)
{
	return s->req.end && s->u_open;
}

uint64_t
conn_h2_stream_deadline(const struct h2conn *hc, const struct h2_stream *s)
{
	const struct limits_config *lim = &hc->c->rt->cfg->limits;

	if (!s->g_open)
		return 0;
	return s->last_ms + (conn_h2_up_turn(s) ? lim->response_timeout_ms :
	    lim->idle_timeout_ms);
}

void
conn_h2_stream_arm(struct h2conn *hc, struct h2_stream *s)
{
	loop_timer_set(hc->c->worker->loop, &s->timer,
	    conn_h2_stream_deadline(hc, s));
}

void
conn_h2_reply_page(struct h2conn *hc, struct h2_stream *s,
    const struct reply_page *p)
{
	struct reply_h2 o;

	reply_record(&s->x, p->status, p->reason);
	if (s->usid != 0 && s->u_open && !hc->up_dead)
		h2_reset(hc->u, s->usid, H2_CANCEL);
	s->u_open = false;
	reply_h2_fields(&o, p);
	if (s->usid != 0 && !hc->up_dead)
		h2_consume(hc->u, s->usid, buf_len(&s->resp.q));
	buf_free(&s->resp.q);
	buf_append(&s->resp.q, p->body, p->len);
	s->resp.end = true;
	s->x.resp_head_done = true;
	if (h2_submit_response(hc->g, s->gsid, o.f, REPLY_H2_FIELDS,
	    true) != 0)
		h2_reset(hc->g, s->gsid, H2_INTERNAL_ERROR);
	conn_h2_stream_arm(hc, s);	/* the guest's turn now */
}

void
conn_h2_reply(struct h2conn *hc, struct h2_stream *s, int status,
    const char *reason, const char *fmt, ...)
{
	struct reply_page p;
	va_list ap;

	va_start(ap, fmt);
	reply_vpage(&p, status, reason, fmt, ap);
	va_end(ap);
	conn_h2_reply_page(hc, s, &p);
}

/* Ask secrets.c; on INJECT keep "name\0value" (name lower case) for the
 * upstream HEADERS.  0 to go on, -1 after replying. */
static int
apply_secret(struct h2conn *hc, struct h2_stream *s, const struct h2_req *r,
    const char *host, uint16_t port, const char **drop)
{
	struct conn *c = hc->c;
	struct secrets_req sr = {
		.guest = &c->src,
		.host = c->has_sni ? host : NULL,
		.port = port,
		.method = r->method.p,
		.method_len = r->method.len,
		.path = r->path.p,
		.path_len = r->path.len,
		.headers = r->headers,
		.nheaders = r->nheaders,
		.intercepted = true,
		.tags = c->vm != NULL ? c->vm->tags : NULL,
		.ntags = c->vm != NULL ? c->vm->ntags : 0,
	};
	struct secrets_result res;
	struct reply_page p;
	char line[SECRET_LINE_MAX];
	size_t i, colon, v, end;

	*drop = NULL;
	if (secrets_apply(c->grp->secrets, c->worker->gw->sentinels, &sr,
	    line, sizeof(line), &res) != 0) {
		util_wipe(line, sizeof(line));
		reply_page_credential(&p, &res, host, true);
		conn_h2_reply_page(hc, s, &p);
		return -1;
	}
	if (res.verdict == SECRETS_REFUSE) {
		s->x.secret = res.secret;
		exchange_deny(&s->x, DENY_CREDENTIAL_REFUSED);
		reply_page_credential(&p, &res, host, false);
		conn_h2_reply_page(hc, s, &p);
		return -1;
	}
	if (res.verdict != SECRETS_INJECT || s->x.would_deny) {
		util_wipe(line, sizeof(line));
		return 0;
	}
	/* "Name: value\r\n" -> "name\0value\0" */
	end = res.line_len >= 2 ? res.line_len - 2 : 0;
	for (colon = 0; colon < end && line[colon] != ':'; colon++)
		;
	for (v = colon + 1; v < end && line[v] == ' '; v++)
		;
	s->secret_len = res.line_len + 1;
	s->secret_value = xmalloc(s->secret_len);
	for (i = 0; i < colon; i++)
		s->secret_value[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ?
		    line[i] + 32 : line[i]);
	s->secret_value[colon] = '\0';
	memcpy(s->secret_value + colon + 1, line + v, end - v);
	s->secret_value[colon + 1 + end - v] = '\0';
	util_wipe(line, sizeof(line));
	s->x.secret = res.secret;
	*drop = res.header;
	return 0;
}

/* Open the stream upstream: pseudo-headers of our own making, the
 * guest's fields but Host and the secret's, then the secret. */
static void
submit_upstream(struct h2conn *hc, struct h2_stream *s, const struct h2_req *r,
    const char *host, uint16_t port, const char *drop, bool end)
{
	struct h2_field f[HTTP_MAX_HEADERS + 8];
	char auth[HOST_MAX + 16];
	size_t i, n = 0;
	bool v6 = strchr(host, ':') != NULL;

	snprintf(auth, sizeof(auth), "%s%s%s", v6 ? "[" : "", host,
	    v6 ? "]" : "");
	if (port != 443)
		snprintf(auth + strlen(auth), sizeof(auth) - strlen(auth),
		    ":%u", port);
	h2_field_set(&f[n++], ":method", r->method.p, r->method.len);
	h2_field_set(&f[n++], ":scheme", "https", 5);
	h2_field_set(&f[n++], ":authority", auth, strlen(auth));
	h2_field_set(&f[n++], ":path", r->path.p, r->path.len);
	for (i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];

		if (http_name_is(&h->name, "host") ||
		    (drop != NULL && http_name_is(&h->name, drop)))
			continue;
		h2_field_set(&f[n++], h->name.p, h->value.p, h->value.len);
	}
	if (s->secret_value != NULL) {
		size_t nl = strlen(s->secret_value);

		h2_field_set(&f[n], s->secret_value, s->secret_value + nl + 1,
		    strlen(s->secret_value + nl + 1));
		f[n++].flags = H2_F_NO_INDEX;
	}
	s->usid = hc->up_dead ? -1 : h2_submit_request(hc->u, f, n, !end);
	if (s->usid > 0) {
		s->u_open = true;
		return;
	}
	/* the upstream takes no more streams: the guest may retry on a new
	 * connection */
	s->usid = 0;
	if (s->secret_value != NULL) {
		util_wipe(s->secret_value, s->secret_len);
		free(s->secret_value);
		s->secret_value = NULL;
	}
	exchange_set_reason(&s->x, "upstream takes no more streams");
	h2_reset(hc->g, s->gsid, H2_REFUSED_STREAM);
}

/* The policy's refusal, worded as for HTTP/1.1. */
static void
deny(struct h2conn *hc, struct h2_stream *s, const struct policy_verdict *v)
{
	struct reply_page p;

	exchange_deny(&s->x, DENY_EGRESS_POLICY);
	reply_page_denied(&p, &s->x, hc->c->grp->cfg->name, v->why);
	conn_h2_reply_page(hc, s, &p);
}

/* The address this connection dialled, judged for this request. */
static int
recheck_address(struct h2conn *hc, struct h2_stream *s,
    const struct policy_query *q)
{
	struct conn *c = hc->c;
	struct dial_verdict dv;
	char why[160], abuf[ADDR_STRLEN];
	static char label[64];

	if (dial_judge(c->grp->cfg, q, &c->upstream.addr, &dv))
		return 0;
	(void)dial_label(&dv, label, sizeof(label));
	s->x.rule = label;
	exchange_deny(&s->x, DENY_DESTINATION_REFUSED);
	dial_explain(&dv, why, sizeof(why));
	conn_h2_reply(hc, s, 403, "destination refused", "%s resolves to %s, "
	    "which is %s.\n", c->upstream.host ? c->upstream.host : "the destination",
	    addr_ntop(&c->upstream.addr, abuf, sizeof(abuf)), why);
	return -1;
}

static void
begin(struct h2conn *hc, struct h2_stream *s)
{
	exchange_begin(&s->x, hc->c->worker->loop);
	s->x.h2 = true;
	hc->c->requests++;	/* the counters come with the audit line */
}

void
conn_h2_request(struct h2conn *hc, struct h2_stream *s,
    const struct h2_block *b)
{
	struct conn *c = hc->c;
	struct exchange *x = &s->x;
	struct policy_query q = { 0 };
	struct policy_verdict v;
	struct h2_req r;
	char host[HOST_MAX + 1];
	const char *why = NULL, *drop = NULL;
	uint16_t port = c->dst.port;
	int status;

	begin(hc, s);
	split_block(b, &r);
	if (r.method.len > 0 && r.method.len < sizeof(x->method)) {
		memcpy(x->method, r.method.p, r.method.len);
		x->method[r.method.len] = '\0';
	}
	x->method_bit = policy_method_bit(r.method.p, r.method.len);
	status = b->too_large || r.too_many ? 431 :
	    stream_target(c, &r, host, &port, &why);
	set_url(s, status == 0 ? host : (c->has_sni ? c->sni : "-"), port,
	    &r.path);
	if (status == 431)
		why = "request header list too large";
	else if (status == 0 && x->method_bit == METHOD_CONNECT) {
		status = 405;
		why = "CONNECT is not used with a transparent gateway";
	} else if (status == 0 && !(r.scheme.len == 5 &&
	    memcmp(r.scheme.p, "https", 5) == 0)) {
		status = 400;
		why = ":scheme is not https on a TLS connection";
	}
	if (status != 0) {
		stats_inc(c->worker->stats, ST_BAD_REQUESTS);
		conn_h2_reply(hc, s, status, why, "Request refused: %s\n", why);
		return;
	}
	q.host = c->has_sni ? host : NULL;
	q.dst = c->has_sni ? NULL : &c->dst;
	q.port = port;
	q.path = x->url + x->path_off;
	q.request = true;
	q.method = x->method_bit;
	conn_vm_query(c, &q);	/* the VM's tags, or "unknown-vm" */
	policy_decide(&c->grp->cfg->policy, &q, &v);
	x->rule = policy_verdict_label(&v);
	x->would_deny = v.would_deny;
	if (v.action == POLICY_DENY) {
		deny(hc, s, &v);
		return;
	}
	if (c->upstream.phase != UPH_READY) {
		/* a connection denied at the TLS stage has no upstream; a rule
		 * that allows this request needs a new connection */
		x->rule = policy_verdict_label(&c->conn_verdict);
		exchange_deny(x, DENY_EGRESS_POLICY);
		conn_h2_reply(hc, s, 403, "denied by egress policy",
		    "Blocked by egress policy: %s is not allowed on this "
		    "connection (%s).\n", c->has_sni ? c->sni : "this address",
		    policy_verdict_label(&c->conn_verdict));
		return;
	}
	if (recheck_address(hc, s, &q) != 0 ||
	    apply_secret(hc, s, &r, host, port, &drop) != 0)
		return;
	submit_upstream(hc, s, &r, host, port, drop, b->end_stream);
}
