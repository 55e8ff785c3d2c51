/*
 * conn_audit.h - audit records of a connection (conn_audit.c): no
 * header value and no body ever reaches the audit log.
 */
#ifndef GW_CONN_AUDIT_H
#define GW_CONN_AUDIT_H

#include "conn.h"

/* One audit record per exchange / per tunnel. */
/* x: the exchange to log, carried by c (its conn's, or an h2 stream's). */
void conn_audit_exchange(struct conn *c, struct exchange *x);
void conn_audit_tunnel(struct conn *c, enum conn_end why);

#endif
