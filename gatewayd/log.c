/*
 * log.c - diagnostic log lines to stderr.  See log.h.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

static const char *log_prog = "gatewayd";
static enum log_level log_level = LOG_LVL_INFO;
static int log_times;

void
log_init(const char *progname, enum log_level level, int timestamps)
{
	log_prog = progname;
	log_level = level;
	log_times = timestamps;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_enabled(enum log_level level)
{
	return level <= log_level;
}

static void
vlog(enum log_level level, const char *errstr, const char *fmt, va_list ap)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	char line[2048];
	size_t n = 0;
	int r;

	if (!log_enabled(level))
		return;
	if (log_times) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	r = snprintf(line + n, sizeof(line) - n, "%s: %s: ", log_prog,
	    names[level]);
	if (r > 0)
		n = MIN(n + (size_t)r, sizeof(line) - 1);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n = MIN(n + (size_t)r, sizeof(line) - 1);
	if (errstr != NULL) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", errstr);
		if (r > 0)
			n = MIN(n + (size_t)r, sizeof(line) - 1);
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

#define LOG_BODY(level, err) do {		\
	va_list ap;				\
	va_start(ap, fmt);			\
	vlog(level, err, fmt, ap);		\
	va_end(ap);				\
} while (0)

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	char buf[128];

	LOG_BODY(LOG_LVL_WARN, strerror_r(saved, buf, sizeof(buf)));
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARN, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_INFO, NULL);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_DEBUG, NULL);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	char buf[128];

	LOG_BODY(LOG_LVL_ERR, strerror_r(saved, buf, sizeof(buf)));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERR, NULL);
	exit(1);
}

void
log_ssl_errstr(char *buf, size_t len)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (len == 0)
		return;
	if (last == 0)
		util_strlcpy(buf, "unknown TLS error", len);
	else
		ERR_error_string_n(last, buf, len);
}

int
log_ssl_errors(const char *what)
{
	unsigned long e;
	char buf[256];
	int n = 0;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_warnx("%s: %s", what, buf);
		n++;
	}
	return n;
}
