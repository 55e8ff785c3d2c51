/*
 * conn_wait.h - the guest side waiting for its upstream
 * (conn_wait.c).
 */
#ifndef GW_CONN_WAIT_H
#define GW_CONN_WAIT_H

#include "conn.h"

/* The CONN_WAIT_UP step: go on when the upstream is
 * ready, answer its failure. */
enum step conn_wait_upstream(struct conn *c);

#endif
