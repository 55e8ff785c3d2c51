/*
 * sentinel.c - the sentinel store: issue, revoke, check, list, and an
 * optional state file of digests.  See sentinel.h for the contract.
 *
 * Not here: what a sentinel unlocks (secrets.c), the control protocol
 * (control.c).  Tokens are hashed with SHA-256 on the way in; the store
 * never holds a token.
 */
#include "sentinel.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "fileio.h"
#include "log.h"

#define NBUCKETS	1024
#define DIGEST_LEN	32
#define STATE_HEADER	"# gatewayd sentinels v1 (SHA-256 digests only)\n"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

struct entry {
	uint8_t		digest[DIGEST_LEN];
	struct sentinel_info info;
	struct entry	*next;
};

struct sentinel_store {
	pthread_mutex_t	mu;		/* buckets, count */
	pthread_mutex_t	save_mu;	/* serialises state file writes */
	struct entry	*buckets[NBUCKETS];
	size_t		count;
	char		*state_file;
};

static void
digest(const char *s, size_t len, uint8_t out[DIGEST_LEN])
{
	unsigned int n = DIGEST_LEN;

	if (EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) != 1)
		fatalx("sentinel: SHA-256 failed");
}

static unsigned
bucket_of(const uint8_t *d)
{
	return ((unsigned)d[0] << 8 | d[1]) % NBUCKETS;
}

static void
hex_id(const uint8_t *d, char out[SENTINEL_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < SENTINEL_ID_LEN / 2; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[SENTINEL_ID_LEN] = '\0';
}

static bool
valid_name(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > SENTINEL_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

static bool
is_b32(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

const char *
sentinel_find(const char *s, size_t len, size_t *toklen)
{
	const char *p = s, *end = s + len, *q;

	while ((p = memmem(p, (size_t)(end - p), SENTINEL_PREFIX,
	    SENTINEL_PREFIX_LEN)) != NULL) {
		q = p + SENTINEL_PREFIX_LEN;
		while (q < end && is_b32(*q))
			q++;
		*toklen = (size_t)(q - p);
		return p;
	}
	return NULL;
}

const char *
sentinel_status_str(enum sentinel_status s)
{
	static const char *names[] = {
		"ok", "unknown sentinel", "sentinel expired",
		"sentinel revoked", "sentinel issued to another guest",
		"sentinel issued to another group",
		"sentinel issued for another secret",
	};

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static struct entry *
lookup(struct sentinel_store *st, const uint8_t *d)
{
	struct entry *e;

	for (e = st->buckets[bucket_of(d)]; e != NULL; e = e->next)
		if (CRYPTO_memcmp(e->digest, d, DIGEST_LEN) == 0)
			return e;
	return NULL;
}

static void
insert(struct sentinel_store *st, struct entry *e)
{
	unsigned b = bucket_of(e->digest);

	e->next = st->buckets[b];
	st->buckets[b] = e;
	st->count++;
}

/* Unlinked entries are wiped: a digest is not a secret, but cheap. */
static void
free_entry(struct entry *e)
{
	util_wipe(e, sizeof(*e));
	free(e);
}

static size_t
prune_locked(struct sentinel_store *st, uint64_t now)
{
	struct entry **pp, *e;
	size_t n = 0, b;

	for (b = 0; b < NBUCKETS; b++) {
		for (pp = &st->buckets[b]; (e = *pp) != NULL;) {
			if (e->info.expires_ms <= now) {
				*pp = e->next;
				free_entry(e);
				st->count--;
				n++;
			} else {
				pp = &e->next;
			}
		}
	}
	return n;
}

static void
save(struct sentinel_store *st)
{
	char ip[ADDR_STRLEN], hex[2 * DIGEST_LEN + 1], err[512];
	size_t cap, len = 0, b;
	struct entry *e;
	char *buf;
	int i, r;

	if (st->state_file == NULL)
		return;
	pthread_mutex_lock(&st->save_mu);
	pthread_mutex_lock(&st->mu);
	cap = sizeof(STATE_HEADER) + st->count * 256;
	buf = xmalloc(cap);
	len = util_strlcpy(buf, STATE_HEADER, cap);
	for (b = 0; b < NBUCKETS; b++) {
		for (e = st->buckets[b]; e != NULL; e = e->next) {
			for (i = 0; i < DIGEST_LEN; i++)
				snprintf(hex + 2 * i, 3, "%02x", e->digest[i]);
			r = snprintf(buf + len, cap - len,
			    "%s %s %s %s %" PRIu64 " %" PRIu64 " %d\n", hex,
			    e->info.group, addr_ntop(&e->info.guest, ip,
			    sizeof(ip)), e->info.secret, e->info.issued_ms,
			    e->info.expires_ms, e->info.revoked ? 1 : 0);
			if (r > 0 && (size_t)r < cap - len)
				len += (size_t)r;
		}
	}
	pthread_mutex_unlock(&st->mu);
	if (fileio_write_atomic(st->state_file, buf, len, 0600, (gid_t)-1,
	    err, sizeof(err)) == -1)
		log_warnx("sentinel state: %s; sentinels will not survive a "
		    "restart", err);
	free(buf);
	pthread_mutex_unlock(&st->save_mu);
}

/* One state line into a new entry; NULL if malformed. */
static struct entry *
parse_line(char *line)
{
	char hex[2 * DIGEST_LEN + 1], group[SENTINEL_NAME_MAX + 1],
	    secret[SENTINEL_NAME_MAX + 1], ip[64];
	uint64_t issued, expires;
	struct entry *e;
	int revoked, i;
	unsigned v;

	if (sscanf(line, "%64s %63s %63s %63s %" SCNu64 " %" SCNu64 " %d",
	    hex, group, ip, secret, &issued, &expires, &revoked) != 7 ||
	    strlen(hex) != 2 * DIGEST_LEN || !valid_name(group) ||
	    !valid_name(secret) || (revoked != 0 && revoked != 1))
		return NULL;
	e = xcalloc(1, sizeof(*e));
	for (i = 0; i < DIGEST_LEN; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdef", hex[2 * i]) ||
		    !strchr("0123456789abcdef", hex[2 * i + 1])) {
			free_entry(e);
			return NULL;
		}
		e->digest[i] = (uint8_t)v;
	}
	if (addr_parse(ip, &e->info.guest) == -1) {
		free_entry(e);
		return NULL;
	}
	hex_id(e->digest, e->info.id);
	util_strlcpy(e->info.group, group, sizeof(e->info.group));
	util_strlcpy(e->info.secret, secret, sizeof(e->info.secret));
	e->info.issued_ms = issued;
	e->info.expires_ms = expires;
	e->info.revoked = revoked == 1;
	return e;
}

static int
load(struct sentinel_store *st, char *err, size_t errlen)
{
	char line[512];
	struct entry *e;
	struct stat sb;
	int fd, lineno = 0, rc = -1;
	FILE *f;

	fd = open(st->state_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "sentinel state %s: %s", st->state_file,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		snprintf(err, errlen, "sentinel state %s: must be a regular "
		    "file owned by uid %u with mode 0600", st->state_file,
		    (unsigned)geteuid());
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(err, errlen, "sentinel state: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if ((e = parse_line(line)) == NULL) {
			log_warnx("sentinel state %s:%d: malformed line "
			    "ignored", st->state_file, lineno);
			continue;
		}
		if (lookup(st, e->digest) != NULL ||
		    st->count >= SENTINEL_MAX_ENTRIES)
			free_entry(e);
		else
			insert(st, e);
	}
	rc = 0;
	util_wipe(line, sizeof(line));
	fclose(f);
	prune_locked(st, util_wall_ms());
	return rc;
}

struct sentinel_store *
sentinel_store_new(const char *state_file, char *err, size_t errlen)
{
	struct sentinel_store *st = xcalloc(1, sizeof(*st));

	pthread_mutex_init(&st->mu, NULL);
	pthread_mutex_init(&st->save_mu, NULL);
	if (state_file != NULL) {
		st->state_file = xstrdup(state_file);
		if (load(st, err, errlen) == -1) {
			sentinel_store_free(st);
			return NULL;
		}
	}
	return st;
}

void
sentinel_store_free(struct sentinel_store *st)
{
	if (st == NULL)
		return;
	prune_locked(st, UINT64_MAX);
	pthread_mutex_destroy(&st->mu);
	pthread_mutex_destroy(&st->save_mu);
	free(st->state_file);
	free(st);
}

int
sentinel_issue(struct sentinel_store *st, const char *group,
    const struct addr *guest, const char *secret, uint64_t ttl_ms,
    char out[SENTINEL_LEN + 1], char *err, size_t errlen)
{
	uint8_t rnd[20];
	struct entry *e;
	uint64_t now;
	int i, bit;

	if (!valid_name(group) || !valid_name(secret)) {
		snprintf(err, errlen, "group and secret names must be 1..%d "
		    "characters of [A-Za-z0-9._-]", SENTINEL_NAME_MAX);
		return -1;
	}
	if (guest == NULL || (guest->family != AF_INET &&
	    guest->family != AF_INET6)) {
		snprintf(err, errlen, "a guest address is required");
		return -1;
	}
	if (ttl_ms < 1000 || ttl_ms > SENTINEL_MAX_TTL_MS) {
		snprintf(err, errlen, "ttl must be between 1s and 30d");
		return -1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	memcpy(out, SENTINEL_PREFIX, SENTINEL_PREFIX_LEN);
	for (i = 0, bit = 0; i < 32; i++, bit += 5) {
		unsigned v = ((unsigned)rnd[bit / 8] << 8 |
		    (bit / 8 + 1 < 20 ? rnd[bit / 8 + 1] : 0)) >>
		    (11 - bit % 8);

		out[SENTINEL_PREFIX_LEN + i] = b32[v & 31];
	}
	out[SENTINEL_LEN] = '\0';
	util_wipe(rnd, sizeof(rnd));

	e = xcalloc(1, sizeof(*e));
	digest(out, SENTINEL_LEN, e->digest);
	hex_id(e->digest, e->info.id);
	util_strlcpy(e->info.group, group, sizeof(e->info.group));
	util_strlcpy(e->info.secret, secret, sizeof(e->info.secret));
	e->info.guest = *guest;
	e->info.guest.port = 0;
	now = util_wall_ms();
	e->info.issued_ms = now;
	e->info.expires_ms = now + ttl_ms;

	pthread_mutex_lock(&st->mu);
	prune_locked(st, now);
	if (st->count >= SENTINEL_MAX_ENTRIES) {
		pthread_mutex_unlock(&st->mu);
		free_entry(e);
		util_wipe(out, SENTINEL_LEN + 1);
		snprintf(err, errlen, "too many sentinels (%d)",
		    SENTINEL_MAX_ENTRIES);
		return -1;
	}
	insert(st, e);
	pthread_mutex_unlock(&st->mu);
	save(st);
	return 0;
}

int
sentinel_revoke(struct sentinel_store *st, const char *value_or_id)
{
	struct entry *e, *hit = NULL;
	uint8_t d[DIGEST_LEN];
	size_t n = strlen(value_or_id), b;
	int found = 0;

	pthread_mutex_lock(&st->mu);
	if (n > SENTINEL_ID_LEN) {
		digest(value_or_id, n, d);
		if ((hit = lookup(st, d)) != NULL)
			found = 1;
	} else if (n >= 8) {	/* id or a prefix of one, >= 32 bits */
		for (b = 0; b < NBUCKETS; b++)
			for (e = st->buckets[b]; e != NULL; e = e->next)
				if (strncmp(e->info.id, value_or_id, n) == 0) {
					hit = e;
					found++;
				}
	}
	if (found == 1)
		hit->info.revoked = true;
	pthread_mutex_unlock(&st->mu);
	if (found == 1)
		save(st);
	return found == 1 ? 0 : found == 0 ? -1 : -2;
}

enum sentinel_status
sentinel_check(struct sentinel_store *st, const char *token, size_t len,
    const char *group, const struct addr *guest, const char *secret)
{
	enum sentinel_status rc;
	uint8_t d[DIGEST_LEN];
	struct addr g = *guest;
	struct entry *e;

	if (len != SENTINEL_LEN)
		return SENTINEL_UNKNOWN;
	digest(token, len, d);
	addr_unmap(&g);
	pthread_mutex_lock(&st->mu);
	if ((e = lookup(st, d)) == NULL)
		rc = SENTINEL_UNKNOWN;
	else if (e->info.revoked)
		rc = SENTINEL_REVOKED;
	else if (e->info.expires_ms <= util_wall_ms())
		rc = SENTINEL_EXPIRED;
	else if (strcmp(e->info.group, group) != 0)
		rc = SENTINEL_WRONG_GROUP;
	else if (!addr_equal(&e->info.guest, &g))
		rc = SENTINEL_WRONG_GUEST;
	else if (strcmp(e->info.secret, secret) != 0)
		rc = SENTINEL_WRONG_SECRET;
	else
		rc = SENTINEL_OK;
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int
by_issue(const void *a, const void *b)
{
	const struct sentinel_info *x = a, *y = b;

	return x->issued_ms < y->issued_ms ? -1 : x->issued_ms > y->issued_ms;
}

size_t
sentinel_list(struct sentinel_store *st, struct sentinel_info *out,
    size_t max)
{
	struct sentinel_info *all;
	struct entry *e;
	size_t n = 0, total, b;

	pthread_mutex_lock(&st->mu);
	total = st->count;
	all = xcalloc(total + 1, sizeof(*all));
	for (b = 0; b < NBUCKETS; b++)
		for (e = st->buckets[b]; e != NULL; e = e->next)
			all[n++] = e->info;
	pthread_mutex_unlock(&st->mu);
	qsort(all, n, sizeof(*all), by_issue);
	if (out != NULL)
		memcpy(out, all, MIN(n, max) * sizeof(*all));
	free(all);
	return total;
}

size_t
sentinel_prune(struct sentinel_store *st)
{
	size_t n;

	pthread_mutex_lock(&st->mu);
	n = prune_locked(st, util_wall_ms());
	pthread_mutex_unlock(&st->mu);
	if (n > 0)
		save(st);
	return n;
}
