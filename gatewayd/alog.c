/*
 * alog.c - the audit log: record formatting (Squid native, JSON) and a
 * writer thread fed through a bounded double buffer.
 *
 * Producers format a line on their own thread and append it to the
 * current buffer under a mutex held for one memcpy; the writer thread
 * swaps the buffer with its spare and writes it out without the mutex.
 * The writer batches: once woken by the first line of an empty buffer it
 * lingers up to ALOG_LINGER_MS (or until ALOG_BATCH_BYTES are queued, or
 * a flush or stop is asked for) before it writes, so that a busy gateway
 * pays one wake-up and one write(2) per batch, not per request.
 * A full buffer drops the line (counted), so a slow or stuck disk never
 * stalls a worker.  The file descriptor has its own lock so that
 * alog_reopen() can swap it between two writes.
 *
 * This module is not the diagnostic log (log.c) and knows nothing of
 * connections: callers fill a struct alog_record.
 *
 * JSON keys, in this order, each omitted when its value is absent:
 *   time kind group client client_port vm vm_group tags dst upstream sni
 *   host method url
 *   proto qtype status bytes_in bytes_out duration_ms action verdict rule
 *   reason end secret verify_error content_type answers  (and "would" after
 *   "action" in report mode)
 */
#include "alog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sentinel.h"

#define ALOG_MAGIC		0x41104c06u
#define ALOG_BUFFER_BYTES	(1024 * 1024)	/* per buffer; two of them */
#define ALOG_LINE_MAX		16384
#define ALOG_BATCH_BYTES	(64 * 1024)	/* write at once from here */
#define ALOG_LINGER_MS		20		/* else wait this long */
#define CAP_URL			4096	/* escaped bytes per field */
#define CAP_ANSWERS		1024
#define CAP_STR			256

struct alog {
	unsigned		magic;
	char			*path;
	enum log_format		fmt;
	atomic_bool		redact;

	pthread_mutex_t		mu;		/* buffers, counters, stop */
	pthread_cond_t		cv_work;	/* writer: data or stop */
	pthread_cond_t		cv_done;	/* flushers: written */
	char			*buf;		/* producers append here */
	size_t			len;
	char			*wbuf;		/* writer's spare */
	uint64_t		seq_queued;	/* bytes accepted so far */
	uint64_t		seq_written;	/* bytes handed to write(2) */
	bool			stop;
	unsigned		flushers;	/* alog_flush() callers waiting */
	struct alog_stats	st;
	uint64_t		drops_reported;

	pthread_mutex_t		io_mu;		/* fd */
	int			fd;
	bool			is_stdout;

	pthread_t		thr;
};

/* A bounded output cursor; never writes past cap - 1, always NUL-ends. */
struct obuf {
	char	*p;
	size_t	len, cap;
};

static void
ob_putn(struct obuf *o, const char *s, size_t n)
{
	if (o->len + 1 >= o->cap)
		return;
	n = MIN(n, o->cap - 1 - o->len);
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
ob_puts(struct obuf *o, const char *s)
{
	ob_putn(o, s, strlen(s));
}

/*
 * v in decimal, right-aligned in width columns filled with pad (printf's
 * "%9" PRIu64 and "%03u"): every audit line has a few numbers, and
 * printf costs more than the rest of the line.
 */
static void
ob_uint(struct obuf *o, uint64_t v, size_t width, char pad)
{
	char d[24];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (sizeof(d) - i < width && i > 0)
		d[--i] = pad;
	ob_putn(o, d + i, sizeof(d) - i);
}

static void PRINTF(2, 3)
ob_printf(struct obuf *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->len + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	r = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (r > 0)
		o->len = MIN(o->len + (size_t)r, o->cap - 1);
}

/*
 * A sentinel in a logged string (a URL's query, a Host header) is cut to
 * its prefix: the audit log never holds one.  Returns the bytes to skip
 * at s, 0 when s does not start a sentinel.
 */
static size_t
sentinel_at(const char *s)
{
	size_t n = SENTINEL_PREFIX_LEN;

	/* the first byte alone rules out almost every place */
	if (s[0] != SENTINEL_PREFIX[0] ||
	    strncmp(s, SENTINEL_PREFIX, SENTINEL_PREFIX_LEN) != 0)
		return 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '2' && s[n] <= '7'))
		n++;
	return n;
}

/*
 * Squid field: one token, no spaces.  Bytes outside 0x21..0x7e are
 * %-encoded (as Squid's URL quoting does), so a hostile URL cannot add a
 * field or a line.  Empty or NULL is "-".
 */
static void
ob_squid_str(struct obuf *o, const char *s, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = o->len;

	if (s == NULL || *s == '\0') {
		ob_puts(o, "-");
		return;
	}
	while (*s != '\0' && o->len - start + 3 <= cap) {
		unsigned char c = (unsigned char)*s;
		char e[3] = { '%', hex[c >> 4], hex[c & 15] };
		/* a run of bytes that pass as they are, in one copy: as many
		 * as the loop's cap check would let through one at a time */
		size_t room = cap - (o->len - start) - 2, run = 0, skip;

		while (run < room && (unsigned char)s[run] > 0x20 &&
		    (unsigned char)s[run] < 0x7f && sentinel_at(s + run) == 0)
			run++;
		if (run > 0) {
			ob_putn(o, s, run);
			s += run;
		} else if ((skip = sentinel_at(s)) > 0) {
			ob_puts(o, SENTINEL_PREFIX "REDACTED");
			s += skip;
		} else {
			ob_putn(o, e, 3);
			s++;
		}
	}
}

/* Length of a well-formed UTF-8 sequence at s (RFC 3629), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp == 0x2028 || cp == 0x2029)	/* unsafe in JavaScript */
		return 0;
	return n;
}

/*
 * JSON string (RFC 8259 section 7) with quotes.  Control bytes and
 * DEL are \u-escaped, well-formed UTF-8 passes, any other byte becomes
 * U+FFFD.  At most cap output bytes; a cut string ends in "...".
 */
static void
ob_json_str(struct obuf *o, const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = o->len, n;
	char e[8];

	ob_putn(o, "\"", 1);
	while (*p != '\0') {
		size_t room, run = 0;

		if (o->len - start + 8 > cap) {
			ob_puts(o, "...");
			break;
		}
		/* a run of printable ASCII in one copy: as many bytes as the
		 * cap check above would let through one at a time */
		room = cap - 7 - (o->len - start);
		while (run < room && p[run] >= 0x20 && p[run] < 0x7f &&
		    p[run] != '"' && p[run] != '\\' &&
		    sentinel_at((const char *)p + run) == 0)
			run++;
		if (run > 0) {
			ob_putn(o, (const char *)p, run);
			p += run;
		} else if ((n = sentinel_at((const char *)p)) > 0) {
			ob_puts(o, SENTINEL_PREFIX "REDACTED");
			p += n;
		} else if (*p == '"' || *p == '\\') {
			e[0] = '\\';
			e[1] = (char)*p++;
			ob_putn(o, e, 2);
		} else if (*p == '\n') {
			ob_puts(o, "\\n"), p++;
		} else if (*p == '\r') {
			ob_puts(o, "\\r"), p++;
		} else if (*p == '\t') {
			ob_puts(o, "\\t"), p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(e, sizeof(e), "\\u%04x", *p++);
			ob_puts(o, e);
		} else if ((n = utf8_len(p)) > 0) {
			ob_putn(o, (const char *)p, n);
			p += n;
		} else {
			ob_puts(o, "\\ufffd");
			p++;
		}
	}
	ob_putn(o, "\"", 1);
}

const char *
alog_kind_str(enum alog_kind k)
{
	static const char *names[] = { "http", "tunnel", "flow", "dns" };

	return (unsigned)k < ARRAY_SIZE(names) ? names[k] : "?";
}

const char *
alog_action_str(enum alog_action a)
{
	static const char *names[] = {
		"allow", "deny", "splice", "error", "refused",
	};

	return (unsigned)a < ARRAY_SIZE(names) ? names[a] : "?";
}

/* Squid result codes (%Ss) by kind and action; see docs/configuration.md. */
static const char *
squid_code(const struct alog_record *r)
{
	static const char *codes[][5] = {
		/* ALLOW	DENY		SPLICE		ERROR	REFUSED */
		{ "TCP_MISS",	"TCP_DENIED",	"TCP_TUNNEL",	NULL,	"TCP_DENIED" },
		{ "TCP_TUNNEL",	"TCP_DENIED",	"TCP_TUNNEL",	NULL,	"TCP_DENIED" },
		{ "TCP_TUNNEL",	"TCP_DENIED",	"TCP_TUNNEL",	NULL,	"TCP_DENIED" },
		{ "UDP_MISS",	"UDP_DENIED",	"UDP_MISS",	NULL,	"UDP_DENIED" },
	};
	const char *c = NULL;

	if ((unsigned)r->kind < ARRAY_SIZE(codes) &&
	    (unsigned)r->action < ARRAY_SIZE(codes[0]))
		c = codes[r->kind][r->action];
	if (c == NULL)	/* an error: a miss if an upstream was tried */
		c = r->upstream.family != 0 ? "TCP_MISS" : "NONE_NONE";
	return c;
}

/* Squid's suffix for a transaction its end cut short, on lines that
 * would otherwise read as a success (a denial or an error says enough). */
static const char *
squid_cut(const struct alog_record *r)
{
	if (r->action != ALOG_ALLOW && r->action != ALOG_SPLICE)
		return "";
	switch (r->cut) {
	case ALOG_CUT_TIMEDOUT:
		return "_TIMEDOUT";
	case ALOG_CUT_ABORTED:
		return "_ABORTED";
	case ALOG_CUT_NONE:
	default:
		return "";
	}
}

/* The method shown when the caller gave none. */
static const char *
default_method(const struct alog_record *r, char *buf, size_t len)
{
	size_t i;

	if (r->method != NULL)
		return r->method;
	switch (r->kind) {
	case ALOG_TUNNEL:
		return "CONNECT";
	case ALOG_DNS:
		return "DNS";
	case ALOG_FLOW:
		if (r->proto == NULL)
			return "-";
		for (i = 0; r->proto[i] != '\0' && i + 1 < len; i++)
			buf[i] = (char)(r->proto[i] >= 'a' && r->proto[i] <= 'z' ?
			    r->proto[i] - 32 : r->proto[i]);
		buf[i] = '\0';
		return buf;
	default:
		return "-";
	}
}

/* The URL shown when the caller gave none: "host:port", as CONNECT. */
static const char *
default_url(const struct alog_record *r, char *buf, size_t len)
{
	const char *name = r->sni != NULL ? r->sni : r->host;

	if (r->url != NULL || r->kind == ALOG_HTTP)
		return r->url;
	if (r->kind == ALOG_DNS)
		return r->host;
	if (name != NULL)
		snprintf(buf, len, "%s:%u", name, (unsigned)r->dst.port);
	else if (r->dst.family != 0)
		addr_ntop_port(&r->dst, buf, len);
	else
		return NULL;
	return buf;
}

/* Copy url into buf without its query string, '?' kept. */
static const char *
strip_query(const char *url, char *buf, size_t len)
{
	const char *q;

	if (url == NULL || (q = strchr(url, '?')) == NULL)
		return url;
	snprintf(buf, len, "%.*s", (int)(q - url + 1), url);
	return buf;
}

static void
format_squid(struct obuf *o, const struct alog_record *r, const char *method,
    const char *url)
{
	char ip[ADDR_STRLEN];

	/* "%9" PRIu64 ".%03u %6" PRIu64 " %s %s/%03d %" PRIu64 " " */
	ob_uint(o, r->time_ms / 1000, 9, ' ');
	ob_putn(o, ".", 1);
	ob_uint(o, r->time_ms % 1000, 3, '0');
	ob_putn(o, " ", 1);
	ob_uint(o, r->duration_ms, 6, ' ');
	ob_putn(o, " ", 1);
	ob_puts(o, r->client.family != 0 ?
	    addr_ntop(&r->client, ip, sizeof(ip)) : "-");
	ob_putn(o, " ", 1);
	ob_puts(o, squid_code(r));
	ob_puts(o, squid_cut(r));
	ob_putn(o, "/", 1);
	ob_uint(o, r->status >= 0 && r->status <= 999 ?
	    (uint64_t)r->status : 0, 3, '0');
	ob_putn(o, " ", 1);
	ob_uint(o, r->bytes_out, 0, ' ');
	ob_putn(o, " ", 1);
	ob_squid_str(o, method, CAP_STR);
	ob_puts(o, " ");
	ob_squid_str(o, url, CAP_URL);
	ob_puts(o, " ");
	/* Squid's user column */
	ob_squid_str(o, r->vm != NULL ? r->vm->name : NULL, CAP_STR);
	ob_puts(o, " ");
	if (r->upstream.family != 0) {
		ob_puts(o, "HIER_DIRECT/");
		ob_puts(o, addr_ntop(&r->upstream, ip, sizeof(ip)));
		ob_putn(o, " ", 1);
	} else
		ob_puts(o, "HIER_NONE/- ");
	ob_squid_str(o, r->content_type, CAP_STR);
	/* A stream of an HTTP/2 connection: its protocol after the ten
	 * fields (HTTP/1.x lines have none, as in Squid's default). */
	if (r->kind == ALOG_HTTP && r->proto != NULL &&
	    strcmp(r->proto, "h2") == 0)
		ob_puts(o, " HTTP/2.0");
	/* Report mode: an 11th field after Squid's ten, which Squid log
	 * tools read past; "would=deny" on a line whose request passed. */
	if (r->would != NULL) {
		ob_puts(o, " would=");
		ob_squid_str(o, r->would, CAP_STR);
	}
	ob_puts(o, "\n");
}

static void
json_key_str(struct obuf *o, const char *key, const char *val, size_t cap)
{
	if (val == NULL)
		return;
	ob_putn(o, ",\"", 2);
	ob_puts(o, key);
	ob_putn(o, "\":", 2);
	ob_json_str(o, val, cap);
}

static void
json_key_u64(struct obuf *o, const char *key, uint64_t v)
{
	ob_putn(o, ",\"", 2);
	ob_puts(o, key);
	ob_putn(o, "\":", 2);
	ob_uint(o, v, 0, ' ');
}

static void
json_vm(struct obuf *o, const struct slicer_vm *vm)
{
	size_t i;

	json_key_str(o, "vm", vm->name, CAP_STR);
	json_key_str(o, "vm_group", vm->group, CAP_STR);
	ob_puts(o, ",\"tags\":[");
	for (i = 0; i < vm->ntags && i < SLICER_MAX_TAGS; i++) {
		if (i > 0)
			ob_puts(o, ",");
		ob_json_str(o, vm->tags[i], CAP_STR);
	}
	ob_puts(o, "]");
}

static void
format_json(struct obuf *o, const struct alog_record *r, const char *method,
    const char *url)
{
	char ip[ADDR_STRLEN], tbuf[32];
	time_t secs = (time_t)(r->time_ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	ob_printf(o, "{\"time\":\"%s.%03uZ\",\"kind\":\"%s\"", tbuf,
	    (unsigned)(r->time_ms % 1000), alog_kind_str(r->kind));
	json_key_str(o, "group", r->group, CAP_STR);
	if (r->client.family != 0) {
		json_key_str(o, "client", addr_ntop(&r->client, ip,
		    sizeof(ip)), CAP_STR);
		json_key_u64(o, "client_port", r->client.port);
	}
	if (r->vm != NULL)
		json_vm(o, r->vm);
	if (r->dst.family != 0)
		json_key_str(o, "dst", addr_ntop_port(&r->dst, ip,
		    sizeof(ip)), CAP_STR);
	if (r->upstream.family != 0)
		json_key_str(o, "upstream", addr_ntop(&r->upstream, ip,
		    sizeof(ip)), CAP_STR);
	json_key_str(o, "sni", r->sni, CAP_STR);
	json_key_str(o, "host", r->host, CAP_STR);
	json_key_str(o, "method", method, CAP_STR);
	json_key_str(o, "url", url, CAP_URL);
	json_key_str(o, "proto", r->proto, CAP_STR);
	json_key_str(o, "qtype", r->qtype, CAP_STR);
	if (r->status != 0)
		ob_printf(o, ",\"status\":%d", r->status);
	json_key_u64(o, "bytes_in", r->bytes_in);
	json_key_u64(o, "bytes_out", r->bytes_out);
	json_key_u64(o, "duration_ms", r->duration_ms);
	json_key_str(o, "action", alog_action_str(r->action), CAP_STR);
	json_key_str(o, "would", r->would, CAP_STR);
	json_key_str(o, "verdict", r->verdict, CAP_STR);
	json_key_str(o, "rule", r->rule, CAP_STR);
	json_key_str(o, "reason", r->reason, CAP_STR);
	json_key_str(o, "end", r->end, CAP_STR);
	json_key_str(o, "secret", r->secret, CAP_STR);
	json_key_str(o, "verify_error", r->verify_error, CAP_STR);
	json_key_str(o, "content_type", r->content_type, CAP_STR);
	json_key_str(o, "answers", r->answers, CAP_ANSWERS);
	ob_puts(o, "}\n");
}

size_t
alog_format(enum log_format fmt, bool redact_query,
    const struct alog_record *rec, char *buf, size_t len)
{
	char mbuf[16], ubuf[CAP_URL + 1];
	struct alog_record r = *rec;
	struct obuf o = { buf, 0, len };
	const char *method, *url;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (r.time_ms == 0)
		r.time_ms = util_wall_ms();
	method = default_method(&r, mbuf, sizeof(mbuf));
	url = default_url(&r, ubuf, sizeof(ubuf));
	if (redact_query && url != NULL && url != ubuf)
		url = strip_query(url, ubuf, sizeof(ubuf));
	if (fmt == LOGFMT_JSON)
		format_json(&o, &r, method, url);
	else
		format_squid(&o, &r, method, url);
	if (o.len > 0 && buf[o.len - 1] != '\n')	/* cut: keep one line */
		buf[o.len - 1] = '\n';
	return o.len;
}

static void
write_all(struct alog *a, const char *p, size_t n)
{
	ssize_t w;

	pthread_mutex_lock(&a->io_mu);
	while (n > 0) {
		w = write(a->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			pthread_mutex_lock(&a->mu);
			if (a->st.write_errors++ % 1000 == 0)
				log_warn("audit log %s: write", a->path);
			pthread_mutex_unlock(&a->mu);
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	pthread_mutex_unlock(&a->io_mu);
}

static void
deadline_ms(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Called with a->mu held and a->len > 0: wait (bounded) for a batch. */
static void
linger(struct alog *a)
{
	struct timespec ts;

	deadline_ms(&ts, ALOG_LINGER_MS);
	while (!a->stop && a->flushers == 0 && a->len < ALOG_BATCH_BYTES)
		if (pthread_cond_timedwait(&a->cv_work, &a->mu, &ts) ==
		    ETIMEDOUT)
			break;
}

static void *
writer_main(void *arg)
{
	struct alog *a = arg;
	uint64_t target, dropped;
	char *tmp;
	size_t n;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (a->len == 0 && !a->stop)
			pthread_cond_wait(&a->cv_work, &a->mu);
		if (a->len == 0 && a->stop)
			break;
		linger(a);
		tmp = a->wbuf;
		a->wbuf = a->buf;
		a->buf = tmp;
		n = a->len;
		a->len = 0;
		target = a->seq_queued;
		dropped = a->st.dropped - a->drops_reported;
		a->drops_reported = a->st.dropped;
		pthread_mutex_unlock(&a->mu);

		if (dropped > 0)
			log_warnx("audit log %s: %" PRIu64 " lines dropped "
			    "(buffer full)", a->path, dropped);
		write_all(a, a->wbuf, n);

		pthread_mutex_lock(&a->mu);
		a->st.written_bytes += n;
		a->seq_written = target;
		pthread_cond_broadcast(&a->cv_done);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
}

struct alog *
alog_open(const char *path, enum log_format fmt, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	struct alog *a;

	a = xcalloc(1, sizeof(*a));
	a->magic = ALOG_MAGIC;
	a->path = xstrdup(path);
	a->fmt = fmt;
	atomic_init(&a->redact, false);
	a->is_stdout = strcmp(path, "-") == 0;
	a->fd = a->is_stdout ? STDOUT_FILENO : open_file(path);
	if (a->fd == -1) {
		snprintf(err, errlen, "audit log %s: %s", path,
		    strerror(errno));
		free(a->path);
		free(a);
		return NULL;
	}
	a->buf = xmalloc(ALOG_BUFFER_BYTES);
	a->wbuf = xmalloc(ALOG_BUFFER_BYTES);
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->io_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv_work, &ca);
	pthread_cond_init(&a->cv_done, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&a->thr, NULL, writer_main, a) != 0)
		fatalx("audit log: cannot start the writer thread");
	return a;
}

void
alog_set_redact_query(struct alog *a, bool on)
{
	AN(a->magic == ALOG_MAGIC);
	atomic_store(&a->redact, on);
}

void
alog_write(struct alog *a, const struct alog_record *rec)
{
	char line[ALOG_LINE_MAX];
	size_t n;

	AN(a->magic == ALOG_MAGIC);
	n = alog_format(a->fmt, atomic_load(&a->redact), rec, line,
	    sizeof(line));
	pthread_mutex_lock(&a->mu);
	if (a->len + n > ALOG_BUFFER_BYTES) {
		a->st.dropped++;
	} else {
		memcpy(a->buf + a->len, line, n);
		/* wake the writer when it idles, and once when a batch fills */
		if (a->len == 0 || (a->len < ALOG_BATCH_BYTES &&
		    a->len + n >= ALOG_BATCH_BYTES))
			pthread_cond_signal(&a->cv_work);
		a->len += n;
		a->seq_queued += n;
		a->st.lines++;
	}
	pthread_mutex_unlock(&a->mu);
}

int
alog_reopen(struct alog *a)
{
	int fd, old;

	AN(a->magic == ALOG_MAGIC);
	if (a->is_stdout)
		return 0;
	if ((fd = open_file(a->path)) == -1)
		return -1;
	pthread_mutex_lock(&a->io_mu);
	old = a->fd;
	a->fd = fd;
	pthread_mutex_unlock(&a->io_mu);
	close(old);
	pthread_mutex_lock(&a->mu);
	a->st.reopens++;
	pthread_mutex_unlock(&a->mu);
	return 0;
}

int
alog_flush(struct alog *a, uint64_t timeout_ms)
{
	struct timespec ts;
	uint64_t target;
	int rc = 0;

	AN(a->magic == ALOG_MAGIC);
	deadline_ms(&ts, timeout_ms);
	pthread_mutex_lock(&a->mu);
	target = a->seq_queued;
	a->flushers++;			/* the writer stops lingering */
	pthread_cond_signal(&a->cv_work);
	while (a->seq_written < target && rc == 0)
		if (pthread_cond_timedwait(&a->cv_done, &a->mu, &ts) ==
		    ETIMEDOUT && a->seq_written < target)
			rc = -1;
	a->flushers--;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

void
alog_stats(struct alog *a, struct alog_stats *out)
{
	AN(a->magic == ALOG_MAGIC);
	pthread_mutex_lock(&a->mu);
	*out = a->st;
	pthread_mutex_unlock(&a->mu);
}

void
alog_close(struct alog *a)
{
	if (a == NULL)
		return;
	AN(a->magic == ALOG_MAGIC);
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_signal(&a->cv_work);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thr, NULL);
	if (a->st.dropped > a->drops_reported)
		log_warnx("audit log %s: %" PRIu64 " lines dropped (buffer "
		    "full)", a->path, a->st.dropped - a->drops_reported);
	if (!a->is_stdout)
		close(a->fd);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->io_mu);
	pthread_cond_destroy(&a->cv_work);
	pthread_cond_destroy(&a->cv_done);
	free(a->buf);
	free(a->wbuf);
	free(a->path);
	a->magic = 0;
	free(a);
}
