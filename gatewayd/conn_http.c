/*
 * conn_http.c - HTTP/1.1 exchanges on plain and bumped connections.
 *
 * One request at a time per connection: a request head is parsed, judged
 * by policy with its full URL, rewritten (hop-by-hop headers removed) and
 * sent to the approved upstream; then the request body streams up while
 * the response streams down, each framed by the parser's rules and never
 * buffered whole.  Bytes of a pipelined next request wait in the buffer
 * until the current response is complete, so every request is judged and
 * logged, and nothing after an Upgrade request moves before its 101.
 */
#include "conn_http.h"
#include "conn_audit.h"
#include "conn_secrets.h"
#include "reply.h"

#include <stdio.h>

#include "h2.h"
#include "headrw.h"
#include "log.h"
#include "secrets.h"
#include "runtime.h"
#include "worker.h"


/* A new exchange on the connection: one more request. */
static void
begin(struct conn *c)
{
	exchange_begin(&c->x, c->worker->loop);
	c->requests++;
}

enum step
conn_http_reply(struct conn *c)
{
	enum ep_flush f = ep_flush(&c->client, &c->to_client);

	if (f == EP_FLUSH_ERR) {
		conn_close(c, CONN_END_GUEST_WRITE);
		return STEP_CLOSED;
	}
	if (f == EP_FLUSH_BLOCKED)
		return STEP_BLOCKED;
	conn_exchange_end(c);
	return c->state == CONN_CLOSED ? STEP_CLOSED : STEP_PROGRESS;
}

void
conn_exchange_end(struct conn *c)
{
	const struct limits_config *lim = &c->rt->cfg->limits;
	bool keep = c->x.req_keep_alive && !c->must_close;

	conn_audit_exchange(c, &c->x);
	exchange_reset(&c->x);
	c->req_pending = c->resp_pending = 0;
	c->req_framed = c->resp_framed = false;
	buf_free(&c->retry_head);	/* wiped: may hold a credential */
	if (!keep) {
		conn_start_linger(c, CONN_END_ASKED_CLOSE);
		return;
	}
	ep_idle(&c->client);
	ep_idle(&c->up);
	buf_free(&c->to_up);
	buf_free(&c->to_client);
	c->upstream.last_used = loop_now(c->worker->loop);
	c->upstream.idle_deadline = c->upstream.last_used + lim->upstream_idle_timeout_ms;
	conn_set_state(c, CONN_REQ_HEAD);
	conn_set_timeout(c, buf_len(&c->client.in) ? lim->header_timeout_ms :
	    lim->idle_timeout_ms);
}

/*
 * Full URL for the log and policy messages.  Returns the path's offset
 * in it, so policy can read the path without another copy.
 */
static size_t
set_url(struct conn *c, const char *host, uint16_t port,
    const struct http_slice *path)
{
	bool tls = c->bumped;
	uint16_t dflt = tls ? 443 : 80;
	bool v6 = strchr(host, ':') != NULL;
	size_t hl = strlen(host), n = 0;
	char *u;

	/* Every request: pieces copied, no printf. */
	free(c->x.url);
	u = c->x.url = xmalloc(hl + path->len + 32);
	memcpy(u, tls ? "https://" : "http://", tls ? 8 : 7);
	n = tls ? 8 : 7;
	if (v6)
		u[n++] = '[';
	memcpy(u + n, host, hl);
	n += hl;
	if (v6)
		u[n++] = ']';
	if (port != dflt)
		n += (size_t)snprintf(u + n, 8, ":%u", port);
	memcpy(u + n, path->p, path->len);
	u[n + path->len] = '\0';
	return n;
}

/*
 * Work out the target host and port of a request and check it against
 * the connection (SNI binding on bumped flows).  Fills host (normalised
 * name, or an IP literal's text) and *ip / *is_ip.  Returns 0, or an
 * HTTP status to refuse with (reason set).
 */
static int
request_target(struct conn *c, const struct http_request *req, char *host,
    uint16_t *port, struct addr *ip, bool *is_ip, const char **reason)
{
	const struct http_slice *auth = req->absolute ? &req->authority :
	    &req->host;
	const char *h;
	size_t hl;
	uint16_t p;

	if (auth->len == 0) {
		/* HTTP/1.0 without Host: the connection says where. */
		if (c->has_sni) {
			util_strlcpy(host, c->sni, HOST_MAX + 1);
			*is_ip = false;
		} else {
			addr_ntop(&c->dst, host, HOST_MAX + 1);
			*ip = c->dst;
			*is_ip = true;
		}
		*port = c->dst.port;
		return 0;
	}
	if (host_split_authority(auth->p, auth->len, &h, &hl, &p) != 0) {
		*reason = "malformed host";
		return 400;
	}
	*port = p ? p : c->dst.port;
	if (host_is_ip_literal(h, hl)) {
		char tmp[INET6_ADDRSTRLEN + 1];

		if (hl >= sizeof(tmp)) {
			*reason = "malformed host";
			return 400;
		}
		memcpy(tmp, h, hl);
		tmp[hl] = '\0';
		if (addr_parse(tmp, ip) != 0) {
			*reason = "malformed IP literal";
			return 400;
		}
		addr_unmap(ip);
		addr_ntop(ip, host, HOST_MAX + 1);
		*is_ip = true;
	} else {
		if (host_normalize(h, hl, host) != 0) {
			*reason = "invalid host name";
			return 400;
		}
		*is_ip = false;
	}
	/* A captured flow may only talk to the port it was sent to. */
	if (*port != c->dst.port) {
		*reason = "host port differs from the connection's port";
		return 421;
	}
	if (c->bumped) {
		/* Domain fronting: the name must be the one in the SNI (or
		 * the connection's address when there was no SNI). */
		if (c->has_sni ? *is_ip || strcmp(host, c->sni) != 0 :
		    !*is_ip || !addr_equal(ip, &c->dst)) {
			*reason = "host does not match the TLS server name";
			return 421;
		}
	}
	/* The Host header must agree with an absolute-form authority. */
	if (req->absolute && req->host.len > 0 && !(req->host.len ==
	    auth->len && util_ascii_caseeq(req->host.p, auth->p,
	    auth->len))) {
		*reason = "Host header differs from the request target";
		return 400;
	}
	return 0;
}

/* Rewrite the request head for the upstream into c->to_up (headrw.c). */
static void
build_upstream_head(struct conn *c, const struct http_request *req,
    const char *host, uint16_t port)
{
	struct headrw_req o = {
		.host = host,
		.port = port,
		.tls = c->bumped,
		.drop = c->x.secret != NULL ? c->x.secret_header : NULL,
		.extra = c->x.secret_line,
		.extra_len = c->x.secret_line_len,
		.upgrade = c->x.upgrade,
	};

	buf_free(&c->to_up);
	headrw_request(&c->to_up, req, &o);
}

/*
 * Go on to the exchange once the upstream is ready.  On an upstream that
 * was not dialled for this very request (kept alive, or dialled ahead),
 * the server may close it just as the request leaves: keep what is
 * needed to resend a body-less request once.
 */
static enum step
wait_upstream(struct conn *c, const struct http_request *req, bool earlier)
{
	struct exchange *x = &c->x;

	if (earlier) {
		x->reused = true;
		buf_clear(&c->retry_head);
		if (req->body == HTTP_BODY_NONE && !x->upgrade)
			buf_append(&c->retry_head, buf_head(&c->to_up),
			    buf_len(&c->to_up));
	}
	conn_set_state(c, CONN_WAIT_UP);
	c->deadline = 0;	/* up_deadline bounds the wait */
	return STEP_PROGRESS;
}

/*
 * Frame the chunked body bytes that came with the head, before anything
 * of the request leaves: a request refused for its framing must not have
 * reached the upstream, not even its head.  The bytes scanned are counted
 * as framed and unsent (req_pending), so stream_body() sends them without
 * scanning them again.  0, or -1 with *reason set.
 */
static int
frame_buffered_body(struct conn *c, const char **reason)
{
	struct exchange *x = &c->x;
	struct http_error err;
	size_t n;
	int r;

	if (x->req_body != HTTP_BODY_CHUNKED || buf_len(&c->client.in) == 0)
		return 0;
	r = http_chunk_scan(&x->req_chunk, buf_head(&c->client.in),
	    buf_len(&c->client.in), &n, &err);
	if (r == HTTP_ERR) {
		*reason = err.reason;
		return -1;
	}
	c->req_pending = n;
	c->req_framed = r == HTTP_CHUNK_DONE;
	return 0;
}

/* Prior-knowledge HTTP/2 on the plain port: refused in its own terms. */
static void
refuse_cleartext_h2(struct conn *c)
{
	static const uint8_t settings[9] = { 0, 0, 0, 0x4, 0, 0, 0, 0, 0 };

	/* What an HTTP/2 client reads: our SETTINGS, then GOAWAY saying
	 * HTTP/1.1 is required, with the reason as its debug data. */
	buf_free(&c->to_client);
	buf_append(&c->to_client, settings, sizeof(settings));
	h2_goaway_frame(&c->to_client, 0, H2_HTTP_1_1_REQUIRED, "gatewayd: "
	    "HTTP/2 without TLS (prior knowledge) is not supported on port "
	    "80; use HTTP/1.1 or https");
	exchange_set_reason(&c->x, "prior-knowledge HTTP/2 on port 80 is not "
	    "supported");
}

/* Credential injection (conn_secrets.c); true after queueing a refusal. */
static bool
secret_refused(struct conn *c, const struct http_request *req,
    const char *host, uint16_t port)
{
	struct secrets_result res;

	struct reply_page p;

	switch (conn_secrets_apply(c, &c->x, req, host, port, &res)) {
	case CONN_SECRET_TOO_LARGE:
		c->must_close = true;
		reply_page_credential(&p, &res, host, true);
		break;
	case CONN_SECRET_REFUSED:
		exchange_deny(&c->x, DENY_CREDENTIAL_REFUSED);
		if (req->body != HTTP_BODY_NONE)
			c->must_close = true;
		reply_page_credential(&p, &res, host, false);
		break;
	case CONN_SECRET_GO:
	default:
		return false;
	}
	reply_send_page(c, &p);
	return true;
}

static enum step
handle_request(struct conn *c, const struct http_request *req,
    size_t headlen)
{
	const struct group_config *g = c->grp->cfg;
	struct exchange *x = &c->x;
	struct policy_query q = { 0 };
	struct policy_verdict v;
	struct reply_page page;
	char host[HOST_MAX + 1];
	const char *reason = NULL;
	struct addr ip;
	bool is_ip = false;
	uint16_t port = 0;
	enum up_purpose purpose;
	size_t path_off;
	int status;

	begin(c);
	util_strlcpy(x->method, "?", sizeof(x->method));
	if (req->method.len < sizeof(x->method)) {
		memcpy(x->method, req->method.p, req->method.len);
		x->method[req->method.len] = '\0';
	}
	x->method_bit = policy_method_bit(req->method.p, req->method.len);
	x->head_request = x->method_bit == METHOD_HEAD;
	x->req_keep_alive = req->keep_alive;
	x->http10 = req->minor == 0;
	x->req_body = req->body;
	x->req_left = req->content_length;
	http_chunk_init(&x->req_chunk);
	status = request_target(c, req, host, &port, &ip, &is_ip, &reason);
	path_off = set_url(c, status == 0 ? host : (c->has_sni ? c->sni :
	    "-"), status == 0 ? port : c->dst.port, &req->path);
	/* The head's bytes stay in place (req points into them) until the
	 * next read, which is after this function. */
	buf_consume(&c->client.in, headlen);
	if (status != 0)
		goto refuse;
	if (frame_buffered_body(c, &reason) != 0) {
		status = 400;
		goto refuse;
	}
	if (x->method_bit == METHOD_CONNECT) {
		status = 405;
		reason = "CONNECT is not used with a transparent gateway";
		goto refuse;
	}
	q.host = is_ip ? NULL : host;
	q.dst = is_ip ? &ip : NULL;
	q.port = port;
	x->path_off = path_off;
	q.path = x->url + path_off;
	q.request = true;
	q.method = x->method_bit;
	conn_vm_query(c, &q);
	policy_decide(&g->policy, &q, &v);
	x->rule = policy_verdict_label(&v);
	x->would_deny = v.would_deny;
	if (v.action == POLICY_DENY) {
		exchange_deny(x, DENY_EGRESS_POLICY);
		if (req->body != HTTP_BODY_NONE)
			c->must_close = true;
		reply_page_denied(&page, x, g->name, v.why);
		reply_send_page(c, &page);
		return STEP_PROGRESS;
	}
	if (secret_refused(c, req, host, port))
		return STEP_PROGRESS;	/* reply queued */
	/* Upgrade: h2c would end per-request judgement: the request goes on
	 * as HTTP/1.1, which RFC 9113 3.2 leaves the server free to do. */
	x->upgrade = req->upgrade && !h2_upgrade_is_h2c(req->upgrade_proto.p,
	    req->upgrade_proto.len);
	exchange_set_upgrade(x, req->upgrade_proto.p, req->upgrade_proto.len);
	build_upstream_head(c, req, host, port);
	conn_secrets_clear(x);

	purpose = c->bumped ? UP_HTTPS : UP_HTTP;
	if (upstream_matches(&c->upstream, purpose, is_ip ? NULL : host, &ip, port)) {
		/* Dialled ahead for this connection (or failing, or refused
		 * now that the request is known): the answer comes when it
		 * is ready. */
		if (!upstream_recheck(&c->upstream) || !c->upstream.used)
			return wait_upstream(c, req, true);
		if (c->upstream.phase == UPH_READY && c->upstream.reusable &&
		    upstream_idle_alive(&c->upstream, loop_now(c->worker->loop)))
			return wait_upstream(c, req, true);
	}
	/* Another place, or a kept-alive upstream that went away. */
	upstream_close(&c->upstream);
	if (is_ip)
		c->upstream.addr = ip;
	upstream_start(&c->upstream, purpose, is_ip ? NULL : host, port);
	return wait_upstream(c, req, false);
refuse:
	stats_inc(c->worker->stats, ST_BAD_REQUESTS);
	c->must_close = true;
	reply_send(c, status, reason, "%s: %s\n", reply_status_text(status),
	    reason);
	return STEP_PROGRESS;
}

enum step
conn_http_request(struct conn *c)
{
	const struct limits_config *lim = &c->rt->cfg->limits;
	size_t max = lim->max_header_bytes;
	struct http_request req;
	struct http_error herr;
	ssize_t r, n;

	for (;;) {
		size_t len = buf_len(&c->client.in);

		if (len > 0) {
			r = http_scan_request(buf_head(&c->client.in),
			    MIN(len, max), &c->req_scan, &req, &herr);
			if (r != HTTP_NEED_MORE)	/* a new head next */
				http_head_scan_init(&c->req_scan);
			if (r > 0)
				return handle_request(c, &req, (size_t)r);
			if (r == HTTP_ERR || len >= max) {
				int st = r == HTTP_ERR ? herr.status : 431;

				stats_inc(c->worker->stats, ST_BAD_REQUESTS);
				c->must_close = true;
				reply_send(c, st, r == HTTP_ERR ? herr.reason :
				    "request head too large", "%s\n",
				    reply_status_text(st));
				if (h2_is_preface(buf_head(&c->client.in), len))
					refuse_cleartext_h2(c);
				return STEP_PROGRESS;
			}
		}
		if (c->client.eof) {
			conn_close(c, len ? CONN_END_GUEST_CLOSED_MID :
			    CONN_END_GUEST_CLOSED);
			return STEP_CLOSED;
		}
		if (ep_in_prepare(&c->client, max) == 0)
			WRONG("request buffer full below the head limit");
		n = ep_read(&c->client, buf_tail(&c->client.in),
		    ep_in_prepare(&c->client, max));
		if (n == EP_AGAIN) {
			ep_in_release(&c->client);
			return STEP_BLOCKED;
		}
		if (n == EP_ERR) {
			conn_close(c, CONN_END_GUEST_READ);
			return STEP_CLOSED;
		}
		if (n > 0 && len == 0)
			conn_set_timeout(c, lim->header_timeout_ms);
		buf_produce(&c->client.in, (size_t)n);
	}
}
