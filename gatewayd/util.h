/*
 * util.h - small helpers shared by every module: attributes, the
 * allocation policy, and cheap invariant checks.
 *
 * Out-of-memory policy: small allocations go through xmalloc() and
 * friends, which abort on failure (h2o style): a gateway that cannot get
 * a few hundred bytes cannot do anything useful, and NULL checks on every
 * small allocation hide real error paths.  Buffers whose size comes from
 * config or the network are checked by their callers.
 */
#ifndef GW_UTIL_H
#define GW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WUNRES		__attribute__((warn_unused_result))
#define NONNULL(...)	__attribute__((nonnull(__VA_ARGS__)))
#define PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define NORET		__attribute__((noreturn))
#define UNUSED		__attribute__((unused))

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))

/* Invariants only; never for untrusted input. */
#define AN(x)		do { if (!(x)) util_assert_fail(#x, __FILE__, __LINE__); } while (0)
#define AZ(x)		do { if ((x) != 0) util_assert_fail(#x " == 0", __FILE__, __LINE__); } while (0)
#define WRONG(msg)	util_assert_fail(msg, __FILE__, __LINE__)

NORET void util_assert_fail(const char *what, const char *file, int line);

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Zero memory in a way the compiler cannot elide (secrets). */
void util_wipe(void *p, size_t n);

/* Monotonic and wall clocks in milliseconds / microseconds. */
uint64_t util_now_ms(void);
uint64_t util_now_us(void);
uint64_t util_wall_ms(void);
/*
 * The injectable wall clock: util_wall_ms() returns fn() while one is set
 * (NULL restores the real clock).  For unit tests of expiry; set it
 * before any other thread reads the clock.
 */
void util_wall_clock_set(uint64_t (*fn)(void));

/*
 * Case-insensitive ASCII comparison of n bytes; no locale.
 * Returns 1 if equal, 0 otherwise.
 */
int util_ascii_caseeq(const char *a, const char *b, size_t n);

/* Value of an ASCII hex digit, or -1. */
int util_hexval(unsigned char c);

/* FNV-1a over n bytes: a cheap hash for small in-memory tables whose
 * keys a guest cannot choose freely (no flooding concern). */
uint32_t util_fnv1a(const void *p, size_t n);

/* Bounded strlcpy-like copy; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/*
 * Parse a duration like "30", "500ms", "10s", "10m", "2h", "7d" into
 * milliseconds.  Returns 0, or -1 on a malformed or overflowing value.
 */
int util_parse_duration_ms(const char *s, uint64_t *out) WUNRES;

#endif
