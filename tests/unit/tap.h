/*
 * tap.h - a minimal TAP producer for the unit tests (meson protocol 'tap').
 *
 *   ok(cond, "what %d", x);  is(a, b, "what");  is_str(a, b, "what");
 *   diag("free text %s", s);   (every line of it prefixed "# ")
 *   return tap_done();
 *
 * A TAP line must stay one line: a description is printed with its control
 * bytes replaced by spaces, and diagnostics are split into "# " lines, so
 * that meson never sees a line it cannot read.  A description holding a
 * line break is a bug of the test (multi-line text belongs in diag(), on
 * failure): that check fails, saying so, rather than being silently folded.
 */
#ifndef GW_TAP_H
#define GW_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PRINTF_TAP(f, a)	__attribute__((format(printf, f, a)))

static int tap_n, tap_failed;

/* Print s with every control byte as a space (one TAP line). */
static inline void
tap_put_line(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/* Print text as diagnostics: each of its lines after "# ". */
static inline void
tap_diag_text(const char *s)
{
	const char *nl;

	do {
		nl = strchr(s, '\n');
		printf("# ");
		for (const char *p = s; nl ? p < nl : *p != '\0'; p++)
			putchar((unsigned char)*p < 0x20 && *p != '\t' ? ' ' : *p);
		putchar('\n');
		s = nl ? nl + 1 : s + strlen(s);
	} while (nl != NULL && *s != '\0');
}

static inline void PRINTF_TAP(1, 2)
diag(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_diag_text(buf);
	fflush(stdout);
}

static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	char desc[1024];
	va_list ap;
	int broken;

	tap_n++;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	broken = strpbrk(desc, "\r\n") != NULL;
	printf("%sok %d - ", cond && !broken ? "" : "not ", tap_n);
	tap_put_line(desc);
	printf("\n");
	if (broken)
		diag("  the description has a line break: print text with diag()");
	if (!cond || broken) {
		tap_failed++;
		diag("  failed at %s:%d", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...)	tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is(a, b, ...) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (!ok(_a == _b, __VA_ARGS__))					\
		diag("  got %lld, expected %lld", _a, _b);		\
} while (0)
#define is_str(a, b, ...) do {						\
	const char *_a = (a), *_b = (b);				\
	int _eq = (_a == NULL && _b == NULL) ||				\
	    (_a != NULL && _b != NULL && strcmp(_a, _b) == 0);		\
	if (!ok(_eq, __VA_ARGS__))					\
		diag("  got \"%s\", expected \"%s\"",			\
		    _a ? _a : "(null)", _b ? _b : "(null)");		\
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
