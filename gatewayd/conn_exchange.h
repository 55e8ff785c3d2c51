/*
 * conn_exchange.h - streaming one HTTP exchange (conn_exchange.c).
 */
#ifndef GW_CONN_EXCHANGE_H
#define GW_CONN_EXCHANGE_H

#include "conn.h"

/* Step of CONN_EXCHANGE. */
enum step conn_http_exchange(struct conn *c);

#endif
