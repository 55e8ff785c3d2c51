/*
 * conn_dispatch.h - the top of a connection (conn_dispatch.c): a new
 * connection, its events and step table, its deadlines.
 */
#ifndef GW_CONN_DISPATCH_H
#define GW_CONN_DISPATCH_H

#include "conn.h"

/*
 * conn_dispatch.c: take an accepted socket: dst is the original destination, already
 * recovered by the listener.  Takes a reference on rt.  On failure the
 * fd is closed and NULL returned (reason logged).
 */
struct conn *conn_new(struct worker *w, struct runtime *rt,
    const struct group_rt *grp, int fd, const struct addr *src,
    const struct addr *dst, bool tls_port);

/* Run the state machine until it blocks.  Safe to call at any time. */
void conn_progress(struct conn *c);

/* Enforce the deadlines due at now (c's timer runs it). */
void conn_check_timeout(struct conn *c, uint64_t now);

#endif
