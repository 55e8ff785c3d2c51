/*
 * sentinel.h - short-lived credential stand-ins bound to one VM.
 *
 * A sentinel is a random token ("gwsnt_" + 32 base32 characters, 160
 * bits) issued for (group, guest address, secret name) with a time to
 * live.  The VM holds the sentinel instead of the real credential; the
 * gateway swaps it for the real value only when the request comes from
 * that guest in that group and goes to that secret's upstream
 * (secrets_apply()).
 *
 * The store keeps only SHA-256 digests of the tokens: the full value
 * exists in memory only while sentinel_issue() hands it to the caller,
 * and can be neither listed, logged, dumped nor read back from the state
 * file.  Entries are shown by an id, the first 12 hex digits of the
 * digest, which sentinel_revoke() also accepts.
 *
 * Persistence: with a state file, every issue and revoke rewrites it
 * atomically (mode 0600, digests only), and sentinel_store_new() loads
 * it, so sentinels survive a restart; without one they live until the
 * process ends.  Config reloads do not touch the store.  Expiry uses the
 * wall clock (it must mean the same after a restart).
 *
 * Thread-safe: one mutex; checks are a hash and a bucket walk.
 */
#ifndef GW_SENTINEL_H
#define GW_SENTINEL_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

#define SENTINEL_PREFIX		"gwsnt_"
#define SENTINEL_PREFIX_LEN	6
#define SENTINEL_LEN		(SENTINEL_PREFIX_LEN + 32)
#define SENTINEL_ID_LEN		12
#define SENTINEL_NAME_MAX	63	/* group and secret names */
#define SENTINEL_MAX_ENTRIES	65536
#define SENTINEL_MAX_TTL_MS	(30ull * 86400 * 1000)

enum sentinel_status {
	SENTINEL_OK = 0,
	SENTINEL_UNKNOWN,
	SENTINEL_EXPIRED,
	SENTINEL_REVOKED,
	SENTINEL_WRONG_GUEST,
	SENTINEL_WRONG_GROUP,
	SENTINEL_WRONG_SECRET,
};

/* What sentinel_list() shows: never the value. */
struct sentinel_info {
	char		id[SENTINEL_ID_LEN + 1];
	char		group[SENTINEL_NAME_MAX + 1];
	char		secret[SENTINEL_NAME_MAX + 1];
	struct addr	guest;
	uint64_t	issued_ms;	/* wall clock */
	uint64_t	expires_ms;	/* wall clock */
	bool		revoked;
};

struct sentinel_store;

/*
 * New store.  With state_file (may be NULL), load it if it exists: it
 * must be a regular file owned by the effective uid and not accessible
 * by group or others; expired entries are dropped.  Returns NULL with a
 * message in err when the file exists but cannot be used.
 */
struct sentinel_store *sentinel_store_new(const char *state_file, char *err,
    size_t errlen) WUNRES;

/* Wipe and free; NULL is a no-op. */
void sentinel_store_free(struct sentinel_store *st);

/*
 * Issue a sentinel.  group and secret: 1..SENTINEL_NAME_MAX bytes of
 * [A-Za-z0-9._-]; ttl 1 s .. SENTINEL_MAX_TTL_MS.  On success writes the
 * token (SENTINEL_LEN chars + NUL) into out, which the caller hands over
 * and then wipes, and returns 0; else -1 with a message in err.
 * A state file that cannot be written is logged, not fatal.
 */
int sentinel_issue(struct sentinel_store *st, const char *group,
    const struct addr *guest, const char *secret, uint64_t ttl_ms,
    char out[SENTINEL_LEN + 1], char *err, size_t errlen) WUNRES;

/*
 * Revoke by full value or by id (as listed).  Returns 0, -1 if unknown,
 * -2 if an id prefix is ambiguous.  A revoked sentinel is kept (and
 * answers SENTINEL_REVOKED) until it would have expired.
 */
int sentinel_revoke(struct sentinel_store *st, const char *value_or_id);

/*
 * Is the token (len bytes, not NUL-terminated) valid for this group,
 * guest (port ignored) and secret?  Checks in this order: known,
 * revoked, expired, group, guest, secret.
 */
enum sentinel_status sentinel_check(struct sentinel_store *st,
    const char *token, size_t len, const char *group,
    const struct addr *guest, const char *secret) NONNULL(1, 2, 4, 5, 6);

/*
 * Copy up to max entries, oldest first, into out; returns the number of
 * entries in the store (which may exceed max).
 */
size_t sentinel_list(struct sentinel_store *st, struct sentinel_info *out,
    size_t max) NONNULL(1);

/* Forget entries past their expiry; returns how many.  For a timer. */
size_t sentinel_prune(struct sentinel_store *st) NONNULL(1);

/*
 * Find the first sentinel-looking token in s[0..len): the prefix and the
 * base32 run after it.  Returns a pointer into s and its length in
 * *toklen, or NULL.  Pure.
 */
const char *sentinel_find(const char *s, size_t len, size_t *toklen)
    NONNULL(1, 3);

/* "ok", "unknown sentinel", "sentinel expired"... safe to show a guest. */
const char *sentinel_status_str(enum sentinel_status s);

#endif
