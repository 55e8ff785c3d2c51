/*
 * conn_secrets.h - credential injection for an exchange
 * (conn_secrets.c).
 */
#ifndef GW_CONN_SECRETS_H
#define GW_CONN_SECRETS_H

#include "conn.h"

/*
 * Decide credential injection for exchange x, a request
 * to host:port on c.  GO to go on (x->secret_header/secret_line set when
 * a secret applies); otherwise the request must be refused (res says
 * why), which the caller answers.
 */
enum conn_secret {
	CONN_SECRET_GO = 0,
	CONN_SECRET_TOO_LARGE,		/* 500: the line does not fit */
	CONN_SECRET_REFUSED,		/* 403: credential refused */
};
struct secrets_result;
enum conn_secret conn_secrets_apply(const struct conn *c,
    struct exchange *x, const struct http_request *req, const char *host,
    uint16_t port, struct secrets_result *res);
/* Wipe and free x->secret_line once the head carrying it is built. */
void conn_secrets_clear(struct exchange *x);

#endif
