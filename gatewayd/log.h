/*
 * log.h - diagnostic logging (not the audit log; see alog.h).
 *
 * Two families, as in relayd: log_warn() appends strerror(errno) and
 * preserves errno, log_warnx() does not.  Lines go to stderr, one write(2)
 * per line so that threads never interleave within a line; a daemon run
 * under systemd gets timestamps from the journal, so none are added unless
 * log_init() is asked for them.  fatal()/fatalx() are for start-up and
 * config load only.  Thread-safe.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include "util.h"

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Set the verbosity, the program name prefix and whether to add times. */
void log_init(const char *progname, enum log_level level, int timestamps);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

void log_warn(const char *fmt, ...) PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PRINTF(1, 2);
void log_info(const char *fmt, ...) PRINTF(1, 2);
void log_debug(const char *fmt, ...) PRINTF(1, 2);
NORET void fatal(const char *fmt, ...) PRINTF(1, 2);
NORET void fatalx(const char *fmt, ...) PRINTF(1, 2);

/*
 * Drain OpenSSL's thread-local error queue into one warning line prefixed
 * by what, and clear it.  Returns the number of errors drained.
 */
int log_ssl_errors(const char *what);

/*
 * Copy OpenSSL's error queue into buf as one short human string
 * ("error:...:certificate verify failed") and clear the queue.
 */
void log_ssl_errstr(char *buf, size_t len);

#endif
