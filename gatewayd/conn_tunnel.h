/*
 * conn_tunnel.h - the raw states (conn_tunnel.c).
 */
#ifndef GW_CONN_TUNNEL_H
#define GW_CONN_TUNNEL_H

#include "conn.h"

/* Steps of CONN_TUNNEL and CONN_LINGER. */
enum step conn_tunnel(struct conn *c);
enum step conn_linger(struct conn *c);

#endif
