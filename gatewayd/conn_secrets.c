/*
 * conn_secrets.c - the connection's side of credential injection: ask
 * secrets_apply() about a bumped request and keep the header line it
 * produced only until the upstream head is built.  The line is never
 * logged and is wiped when freed.
 */
#include "conn.h"

#include "log.h"
#include "runtime.h"
#include "slicer.h"
#include "secrets.h"
#include "worker.h"

#define SECRET_LINE_MAX	8192

/* The injected line lives only until the upstream head is built. */
static char *
secret_copy(const char *line, size_t len)
{
	char *p = xmalloc(len ? len : 1);

	memcpy(p, line, len);
	return p;
}

int
conn_secrets_apply(struct conn *c, const struct http_request *req,
    const char *host, uint16_t port)
{
	struct secrets_req sr = {
		.guest = &c->src,
		.host = c->bumped ? (c->has_sni ? host : NULL) :
		    (host_is_ip_literal(host, strlen(host)) ? NULL : host),
		.port = port,
		.method = req->method.p,
		.method_len = req->method.len,
		.path = req->path.p,
		.path_len = req->path.len,
		.headers = req->headers,
		.nheaders = req->nheaders,
		.intercepted = c->bumped,
		.tags = c->vm != NULL ? c->vm->tags : NULL,
		.ntags = c->vm != NULL ? c->vm->ntags : 0,
	};
	struct secrets_result res;
	char line[SECRET_LINE_MAX];	/* on the stack: no per-request
					 * allocation; wiped below */

	/* Asked for every request, plain HTTP and groups without secrets
	 * included: a sentinel sent where it cannot be valid is refused,
	 * never forwarded. */
	c->secret_header = NULL;
	if (secrets_apply(c->grp->secrets, c->worker->gw->sentinels, &sr,
	    line, sizeof(line), &res) != 0) {
		util_wipe(line, sizeof(line));
		c->must_close = true;
		conn_reply(c, 500, "credential too large", "The gateway could "
		    "not build the credential for this request.\n");
		return 1;
	}
	switch (res.verdict) {
	case SECRETS_INJECT:
		if (c->x.would_deny) {
			/* Report mode forwards what policy would deny, but
			 * never with a credential: only the guest's own
			 * placeholder goes, as it was sent. */
			util_wipe(line, res.line_len);
			return 0;
		}
		c->x.secret = res.secret;
		c->x.via_sentinel = res.via_sentinel;
		c->secret_header = res.header;
		c->secret_line = secret_copy(line, res.line_len);
		c->secret_line_len = res.line_len;
		util_wipe(line, res.line_len);
		return 0;
	case SECRETS_REFUSE:
		c->x.secret = res.secret;
		c->x.action = "TCP_DENIED";
		if (req->body != HTTP_BODY_NONE)
			c->must_close = true;
		/* No URL in the page: it could carry the sentinel. */
		conn_reply(c, 403, "credential refused", "Credential refused "
		    "by the gateway: %s%s%s%s.\nThe request to %s was not "
		    "sent.\n", res.reason ? res.reason : "not valid here",
		    res.detail ? " (" : "", res.detail ? res.detail : "",
		    res.detail ? ")" : "", host);
		return 1;
	case SECRETS_NONE:
	default:
		return 0;
	}
}

void
conn_secrets_clear(struct conn *c)
{
	if (c->secret_line != NULL) {
		util_wipe(c->secret_line, c->secret_line_len);
		free(c->secret_line);
	}
	c->secret_line = NULL;
	c->secret_line_len = 0;
	c->secret_header = NULL;
}
