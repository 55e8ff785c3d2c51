/*
 * connlog.c - the per-connection log line.  See connlog.h.
 */
#include "connlog.h"

#include <stdio.h>

void
log_connv(enum log_level level, uint64_t id, const struct addr *src,
    const struct addr *dst, const char *fmt, va_list ap)
{
	char s[ADDR_STRLEN], d[ADDR_STRLEN], msg[1024];

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	addr_ntop_port(src, s, sizeof(s));
	addr_ntop_port(dst, d, sizeof(d));
	switch (level) {
	case LOG_LVL_DEBUG:
		log_debug("conn %llu %s -> %s: %s", (unsigned long long)id, s,
		    d, msg);
		break;
	case LOG_LVL_INFO:
		log_info("conn %llu %s -> %s: %s", (unsigned long long)id, s,
		    d, msg);
		break;
	default:
		log_warnx("conn %llu %s -> %s: %s", (unsigned long long)id, s,
		    d, msg);
		break;
	}
}

void
log_conn(enum log_level level, uint64_t id, const struct addr *src,
    const struct addr *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_connv(level, id, src, dst, fmt, ap);
	va_end(ap);
}
