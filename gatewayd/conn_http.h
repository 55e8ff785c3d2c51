/*
 * conn_http.h - HTTP/1.1 request heads, and sending the gateway's
 * replies (conn_http.c); the pages themselves are reply.h's.
 */
#ifndef GW_CONN_HTTP_H
#define GW_CONN_HTTP_H

#include "conn.h"

/* Steps of CONN_REQ_HEAD and CONN_REPLY (flushing reply_send()'s
 * page). */
enum step conn_http_request(struct conn *c);
enum step conn_http_reply(struct conn *c);

/* Log the current exchange and reset it for the next request. */
void conn_exchange_end(struct conn *c);

#endif
