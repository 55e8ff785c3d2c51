/*
 * conn_tls.h - HTTPS capture before any HTTP (conn_tls.c): the
 * ClientHello peek, splice/bump/refuse, the guest handshake.
 */
#ifndef GW_CONN_TLS_H
#define GW_CONN_TLS_H

#include "conn.h"

/* Steps of CONN_PEEK and CONN_TLS_ACCEPT. */
enum step conn_tls_peek(struct conn *c);
enum step conn_tls_accept(struct conn *c);

/* conn_tls.c: a denied TLS flow that could not be bumped. */
void conn_tls_refuse(struct conn *c, enum conn_end why);

#endif
