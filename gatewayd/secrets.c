/*
 * secrets.c - loading credential values into protected memory, watching
 * their files, and the per-request substitution decision.  See secrets.h.
 *
 * Not here: issuing sentinels (sentinel.c), the policy decision (policy.c,
 * which runs first), or building the upstream request (the connection
 * code, which copies the line secrets_apply() wrote).  Nothing in this
 * file ever logs a value: messages name the secret and its source only.
 */
#include "secrets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostname.h"
#include "log.h"
#include "policy.h"
#include "urlpath.h"

#define SECRETS_MAGIC	0x5ec2e75bu
#define BASIC_MAX	768	/* decoded Basic credentials scanned */

/* A value in its own locked, undumpable mapping. */
struct secbuf {
	char	*p;
	size_t	len;
	size_t	maplen;
};

struct statsig {
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime, ctime;
};

struct secret {
	const struct secret_config *cfg;	/* borrowed */
	struct secbuf	val;
	struct statsig	sig;		/* of the loaded file */
	struct statsig	bad_sig;	/* of the last refused file */
	bool		bad;
};

struct secrets {
	unsigned	magic;
	const struct group_config *group;	/* borrowed */
	char		*cfgfile;
	pthread_rwlock_t lock;			/* values */
	struct secret	*v;
	size_t		n;
};

static int
secbuf_new(struct secbuf *b, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p;

	b->maplen = ((len + 1) + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
	p = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	(void)madvise(p, b->maplen, MADV_DONTDUMP);
	if (mlock(p, b->maplen) == -1)
		log_debug("secrets: mlock: %s (value may be swapped)",
		    strerror(errno));
	b->p = p;
	b->len = 0;
	return 0;
}

static void
secbuf_free(struct secbuf *b)
{
	if (b->p == NULL)
		return;
	util_wipe(b->p, b->maplen);
	(void)munlock(b->p, b->maplen);
	(void)munmap(b->p, b->maplen);
	memset(b, 0, sizeof(*b));
}

static void
sig_of(const struct stat *sb, struct statsig *s)
{
	memset(s, 0, sizeof(*s));
	s->dev = sb->st_dev;
	s->ino = sb->st_ino;
	s->size = sb->st_size;
	s->mtime = sb->st_mtim;
	s->ctime = sb->st_ctim;
}

static bool
sig_eq(const struct statsig *a, const struct statsig *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Trim trailing CR/LF; check the rest is a valid header field value. */
static const char *
finish_value(struct secbuf *b)
{
	size_t i;

	while (b->len > 0 && (b->p[b->len - 1] == '\n' ||
	    b->p[b->len - 1] == '\r'))
		b->len--;
	b->p[b->len] = '\0';
	if (b->len == 0)
		return "the value is empty";
	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->p[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return "the value holds control or non-ASCII bytes";
	}
	if (b->p[0] == ' ' || b->p[0] == '\t' || b->p[b->len - 1] == ' ' ||
	    b->p[b->len - 1] == '\t')
		return "the value starts or ends with white space";
	return NULL;
}

/*
 * Read a file source into a new secbuf.  On success fills *b and *sig
 * and returns NULL; else an error text (static or in why).
 */
static const char *
read_file(const char *path, struct secbuf *b, struct statsig *sig,
    char *why, size_t whylen)
{
	const char *e = NULL;
	struct stat sb;
	ssize_t r;
	int fd;

	memset(b, 0, sizeof(*b));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return why;
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		e = why;
	} else if (!S_ISREG(sb.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		e = why;
	} else if (sb.st_uid != geteuid()) {
		snprintf(why, whylen, "%s: owned by uid %u, must be owned by "
		    "the gateway's uid %u", path, (unsigned)sb.st_uid,
		    (unsigned)geteuid());
		e = why;
	} else if ((sb.st_mode & 077) != 0) {
		snprintf(why, whylen, "%s: mode %04o gives access to group or "
		    "others; chmod 600", path, (unsigned)(sb.st_mode & 07777));
		e = why;
	} else if (sb.st_size > SECRETS_VALUE_MAX + 2) {
		snprintf(why, whylen, "%s: larger than %d bytes", path,
		    SECRETS_VALUE_MAX);
		e = why;
	} else if (secbuf_new(b, (size_t)sb.st_size + 1) == -1) {
		snprintf(why, whylen, "%s: mmap: %s", path, strerror(errno));
		e = why;
	} else {
		while ((r = read(fd, b->p + b->len, b->maplen - 1 - b->len)) >
		    0 || (r == -1 && errno == EINTR))
			if (r > 0)
				b->len += (size_t)r;
		if (r == -1) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			e = why;
		} else if (b->len > SECRETS_VALUE_MAX + 2) {
			snprintf(why, whylen, "%s: grew while read", path);
			e = why;
		} else if ((e = finish_value(b)) != NULL) {
			snprintf(why, whylen, "%s: %s", path, e);
			e = why;
		}
		sig_of(&sb, sig);
	}
	close(fd);
	if (e != NULL)
		secbuf_free(b);
	return e;
}

static const char *
read_env(const char *name, struct secbuf *b, char *why, size_t whylen)
{
	const char *v = getenv(name), *e;
	size_t n;

	memset(b, 0, sizeof(*b));
	if (v == NULL) {
		snprintf(why, whylen, "environment variable %s is not set",
		    name);
		return why;
	}
	if ((n = strlen(v)) > SECRETS_VALUE_MAX + 2) {
		snprintf(why, whylen, "environment variable %s: too long",
		    name);
		return why;
	}
	if (secbuf_new(b, n) == -1) {
		snprintf(why, whylen, "mmap: %s", strerror(errno));
		return why;
	}
	memcpy(b->p, v, n);
	b->len = n;
	if ((e = finish_value(b)) != NULL) {
		snprintf(why, whylen, "environment variable %s: %s", name, e);
		secbuf_free(b);
		return why;
	}
	return NULL;
}

/* The format holds exactly one "%s", other '%' only as "%%", no CR/LF. */
static bool
format_ok(const char *f)
{
	int n = 0;

	for (; *f != '\0'; f++) {
		if (*f == '\r' || *f == '\n')
			return false;
		if (*f != '%')
			continue;
		if (f[1] != '%' && f[1] != 's')
			return false;
		n += f[1] == 's';
		f++;
	}
	return n == 1;
}

static void
errappend(char *err, size_t errlen, size_t *used, const char *fmt, ...)
    PRINTF(4, 5);

static void
errappend(char *err, size_t errlen, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*used + 1 >= errlen)
		return;
	if (*used > 0)
		err[(*used)++] = '\n';
	va_start(ap, fmt);
	r = vsnprintf(err + *used, errlen - *used, fmt, ap);
	va_end(ap);
	if (r > 0)
		*used = MIN(*used + (size_t)r, errlen - 1);
}

struct secrets *
secrets_load(const struct group_config *g, const char *cfgfile, char *err,
    size_t errlen)
{
	struct secrets *s = xcalloc(1, sizeof(*s));
	size_t i, used = 0;
	const char *e;
	char why[512];

	if (errlen > 0)
		err[0] = '\0';
	s->magic = SECRETS_MAGIC;
	s->group = g;
	s->cfgfile = xstrdup(cfgfile);
	s->n = g->nsecrets;
	s->v = xcalloc(s->n + 1, sizeof(*s->v));
	pthread_rwlock_init(&s->lock, NULL);
	for (i = 0; i < s->n; i++) {
		const struct secret_config *c = &g->secrets[i];

		s->v[i].cfg = c;
		e = NULL;
		if (c->format != NULL && !format_ok(c->format))
			e = "format must hold exactly one %s (other % only as %%)";
		else if (c->source_ref == NULL)
			e = "no source";
		else if (c->source == SECRET_FILE)
			e = read_file(c->source_ref, &s->v[i].val,
			    &s->v[i].sig, why, sizeof(why));
		else
			e = read_env(c->source_ref, &s->v[i].val, why,
			    sizeof(why));
		if (e != NULL)
			errappend(err, errlen, &used, "%s:%d: secret \"%s\": "
			    "%s", cfgfile, c->line, c->name ? c->name : "?", e);
	}
	if (used > 0) {
		secrets_free(s);
		return NULL;
	}
	return s;
}

void
secrets_free(struct secrets *s)
{
	size_t i;

	if (s == NULL)
		return;
	AN(s->magic == SECRETS_MAGIC);
	for (i = 0; i < s->n; i++)
		secbuf_free(&s->v[i].val);
	pthread_rwlock_destroy(&s->lock);
	free(s->v);
	free(s->cfgfile);
	s->magic = 0;
	free(s);
}

size_t
secrets_count(const struct secrets *s)
{
	return s == NULL ? 0 : s->n;
}

int
secrets_refresh(struct secrets *s)
{
	struct secbuf nb, old;
	struct statsig sig;
	struct stat sb;
	int changed = 0, failed = 0;
	const char *e;
	char why[512];
	size_t i;

	AN(s->magic == SECRETS_MAGIC);
	for (i = 0; i < s->n; i++) {
		struct secret *v = &s->v[i];
		const char *path = v->cfg->source_ref;

		if (v->cfg->source != SECRET_FILE)
			continue;
		if (stat(path, &sb) == -1) {
			memset(&sig, 0, sizeof(sig));
		} else {
			sig_of(&sb, &sig);
			if (sig_eq(&sig, &v->sig))
				continue;
		}
		if (v->bad && sig_eq(&sig, &v->bad_sig)) {
			failed = 1;	/* already reported */
			continue;
		}
		if ((e = read_file(path, &nb, &sig, why, sizeof(why))) !=
		    NULL) {
			log_warnx("%s:%d: secret \"%s\": %s; keeping the "
			    "previous value", s->cfgfile, v->cfg->line,
			    v->cfg->name, e);
			v->bad = true;
			v->bad_sig = sig;
			failed = 1;
			continue;
		}
		pthread_rwlock_wrlock(&s->lock);
		old = v->val;
		v->val = nb;
		v->sig = sig;
		v->bad = false;
		pthread_rwlock_unlock(&s->lock);
		secbuf_free(&old);
		log_info("secret \"%s\" of group %s reloaded from %s",
		    v->cfg->name, s->group->name, path);
		changed++;
	}
	return failed ? -1 : changed;
}

/* --- matching ----------------------------------------------------- */

static bool
is_ip_literal(const char *h)
{
	struct in_addr a;

	return strchr(h, ':') != NULL || strchr(h, '[') != NULL ||
	    inet_pton(AF_INET, h, &a) == 1 ||
	    strspn(h, "0123456789.") == strlen(h);
}

/* UNSURE (with *why): the request could be under the secret's prefix or
 * not, depending on how the server reads the path. */
static enum urlpath_match
secret_matches(const struct secret_config *c, const struct secrets_req *r,
    struct urlpath_lazy *lp, enum urlpath_status *why)
{
	if (c->host == NULL || !host_match(c->host, c->host_suffix, r->host))
		return URLPATH_NO;
	if ((c->port != 0 ? c->port : 443) != r->port)
		return URLPATH_NO;
	if (c->methods != 0 &&
	    (policy_method_bit(r->method, r->method_len) & c->methods) == 0)
		return URLPATH_NO;
	if (!policy_tags_match(c->tags, c->ntags, r->tags, r->ntags))
		return URLPATH_NO;
	if (c->path_prefix != NULL)
		return r->path == NULL ? URLPATH_NO : urlpath_rule_match(lp,
		    r->path, r->path_len, c->path_prefix, why);
	return URLPATH_YES;
}

/* Minimal base64 (RFC 4648) decoder; stops at the first invalid byte. */
static size_t
b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;
	const char *p;

	for (i = 0; i < len && n < cap; i++) {
		if (in[i] == '=' || (p = strchr(tbl, in[i])) == NULL ||
		    in[i] == '\0')
			break;
		acc = acc << 6 | (uint32_t)(p - tbl);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

/*
 * Check every sentinel in s[0..len).  Returns NULL when all are fine (and
 * sets *valid if at least one was found), else the refusal reason.
 */
static const char *
scan_tokens(const char *s, size_t len, struct sentinel_store *st,
    const char *group, const struct secrets_req *r,
    const struct secret_config *match, bool right_header, bool *valid)
{
	enum sentinel_status ss;
	const char *p, *end = s + len;
	size_t tl;

	while ((p = sentinel_find(s, (size_t)(end - s), &tl)) != NULL) {
		s = p + tl;
		if (!r->intercepted)
			return "sentinels are never substituted over plain "
			    "HTTP";
		ss = st == NULL ? SENTINEL_UNKNOWN : sentinel_check(st, p, tl,
		    group, r->guest, match != NULL ? match->name : "");
		if (ss == SENTINEL_WRONG_SECRET && match == NULL)
			return "sentinel sent to a host it was not issued for";
		if (ss != SENTINEL_OK)
			return sentinel_status_str(ss);
		if (!right_header)
			return "sentinel outside the credential header";
		*valid = true;
	}
	return NULL;
}

/* "Header: <format with the value>\r\n" into buf; -1 if it does not fit. */
static int
write_line(const struct secret_config *c, const struct secbuf *v,
    char *buf, size_t buflen, size_t *out)
{
	const char *hdr = c->header != NULL ? c->header : "Authorization";
	const char *f = c->format != NULL ? c->format : "Bearer %s";
	size_t n = strlen(hdr) + 2, k;

	if (n > buflen)
		return -1;
	memcpy(buf, hdr, n - 2);
	memcpy(buf + n - 2, ": ", 2);
	for (; *f != '\0'; f++) {
		const char *src = f;

		k = 1;
		if (f[0] == '%' && f[1] == 's') {
			src = v->p;
			k = v->len;
			f++;
		} else if (f[0] == '%' && f[1] == '%') {
			f++;
		}
		if (n + k > buflen)
			return -1;
		memcpy(buf + n, src, k);
		n += k;
	}
	if (n + 2 > buflen)
		return -1;
	memcpy(buf + n, "\r\n", 2);
	*out = n + 2;
	return 0;
}

int
secrets_apply(struct secrets *s, struct sentinel_store *sentinels,
    const struct secrets_req *r, char *buf, size_t buflen,
    struct secrets_result *res)
{
	const struct secret_config *match = NULL;
	struct secret *sv = NULL;
	unsigned char basic[BASIC_MAX];
	const char *group = "", *why = NULL, *hname;
	enum urlpath_status pwhy = URLPATH_OK;
	enum urlpath_match m = URLPATH_NO;
	bool valid = false, right;
	struct urlpath_lazy lp;
	size_t i, n;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	lp.done = false;
	if (s != NULL) {
		AN(s->magic == SECRETS_MAGIC);
		group = s->group->name;
		for (i = 0; r->host != NULL && !is_ip_literal(r->host) &&
		    i < s->n; i++) {
			m = secret_matches(s->v[i].cfg, r, &lp, &pwhy);
			if (m != URLPATH_NO) {
				sv = &s->v[i];
				match = sv->cfg;
				break;
			}
		}
	}
	if (m == URLPATH_UNSURE) {
		why = "ambiguous path for a path-scoped secret";
		res->detail = urlpath_status_str(pwhy);
	}
	hname = match == NULL ? NULL : match->header != NULL ? match->header :
	    "Authorization";
	for (i = 0; i < r->nheaders && why == NULL; i++) {
		const struct http_header *h = &r->headers[i];

		right = hname != NULL && http_name_is(&h->name, hname);
		why = scan_tokens(h->value.p, h->value.len, sentinels, group, r,
		    match, right, &valid);
		if (why == NULL && h->value.len > 6 &&
		    util_ascii_caseeq(h->value.p, "basic ", 6)) {
			n = b64_decode(h->value.p + 6, h->value.len - 6, basic,
			    sizeof(basic));
			why = scan_tokens((const char *)basic, n, sentinels,
			    group, r, match, right, &valid);
			util_wipe(basic, n);
		}
	}
	if (why == NULL && r->path != NULL &&
	    sentinel_find(r->path, r->path_len, &n) != NULL)
		why = "sentinel in the URL; send it in the credential header";
	res->secret = match != NULL ? match->name : NULL;
	if (why != NULL) {
		res->verdict = SECRETS_REFUSE;
		res->reason = why;
	} else if (match == NULL) {
		res->reason = NULL;
	} else if (!r->intercepted) {
		res->reason = "credentials are injected only into "
		    "intercepted TLS";
	} else if (match->require_sentinel && !valid) {
		res->reason = "no valid sentinel for a secret that "
		    "requires one";
	} else {
		pthread_rwlock_rdlock(&s->lock);
		rc = write_line(match, &sv->val, buf, buflen, &res->line_len);
		pthread_rwlock_unlock(&s->lock);
		if (rc == 0) {
			res->verdict = SECRETS_INJECT;
			res->header = hname;
			res->via_sentinel = valid;
		}
	}
	return rc;
}
