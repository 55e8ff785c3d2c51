/*
 * connlog.h - the per-connection log line: every line about one flow
 * starts "conn ID SRC -> DST: ", so that grepping a connection's id (or a
 * guest's address) finds all of it: the guest side's states and the
 * upstream's phases alike.  Thread-safe (log.h).
 */
#ifndef GW_CONNLOG_H
#define GW_CONNLOG_H

#include <stdarg.h>
#include <stdint.h>

#include "addr.h"
#include "log.h"

/* The formatting is skipped when level is not enabled. */
void log_conn(enum log_level level, uint64_t id, const struct addr *src,
    const struct addr *dst, const char *fmt, ...) PRINTF(5, 6);
void log_connv(enum log_level level, uint64_t id, const struct addr *src,
    const struct addr *dst, const char *fmt, va_list ap) PRINTF(5, 0);

#endif
