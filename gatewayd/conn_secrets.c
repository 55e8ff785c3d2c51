/*
 * conn_secrets.c - the connection's side of credential injection: ask
 * secrets_apply() about a bumped request and keep the header line it
 * produced only until the upstream head is built.  The line is never
 * logged and is wiped when freed.
 */
#include "conn_secrets.h"

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

enum conn_secret
conn_secrets_apply(const struct conn *c, struct exchange *x,
    const struct http_request *req, const char *host, uint16_t port,
    struct secrets_result *res)
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
	char line[SECRET_LINE_MAX];	/* on the stack: no per-request
					 * allocation; wiped below */

	/* Asked for every request, plain HTTP and groups without secrets
	 * included: a sentinel sent where it cannot be valid is refused,
	 * never forwarded. */
	x->secret_header = NULL;
	if (secrets_apply(c->grp->secrets, c->worker->gw->sentinels, &sr,
	    line, sizeof(line), res) != 0) {
		util_wipe(line, sizeof(line));
		return CONN_SECRET_TOO_LARGE;
	}
	switch (res->verdict) {
	case SECRETS_INJECT:
		if (x->would_deny) {
			/* Report mode forwards what policy would deny, but
			 * never with a credential: only the guest's own
			 * placeholder goes, as it was sent. */
			util_wipe(line, res->line_len);
			return CONN_SECRET_GO;
		}
		x->secret = res->secret;
		x->secret_header = res->header;
		x->secret_line = secret_copy(line, res->line_len);
		x->secret_line_len = res->line_len;
		util_wipe(line, res->line_len);
		return CONN_SECRET_GO;
	case SECRETS_REFUSE:
		x->secret = res->secret;
		return CONN_SECRET_REFUSED;
	case SECRETS_NONE:
	default:
		return CONN_SECRET_GO;
	}
}

void
conn_secrets_clear(struct exchange *x)
{
	if (x->secret_line != NULL) {
		util_wipe(x->secret_line, x->secret_line_len);
		free(x->secret_line);
	}
	x->secret_line = NULL;
	x->secret_line_len = 0;
	x->secret_header = NULL;
}
