/*
 * conn_http.h - HTTP/1.1 request heads and gateway-made replies
 * (conn_http.c).
 */
#ifndef GW_CONN_HTTP_H
#define GW_CONN_HTTP_H

#include "conn.h"

/* Steps of CONN_REQ_HEAD and CONN_REPLY. */
enum step conn_http_request(struct conn *c);
enum step conn_http_reply(struct conn *c);

/* Record a gateway-made answer in x (status, action, reason, code);
 * shared by HTTP/1.1 replies and HTTP/2 streams. */
void conn_exchange_refusal(struct conn *c, struct exchange *x, int status,
    const char *reason);

/* Gateway-made reply: queue status + body, then REPLY state. */
void conn_reply(struct conn *c, int status, const char *reason,
    const char *fmt, ...) PRINTF(4, 5);

/* Log the current exchange and reset it for the next request. */
void conn_exchange_end(struct conn *c);

#endif
