/*
 * headscan.c - CPU of parsing a response head that arrives one byte per
 * read: the one-shot parser called on the grown buffer after each read
 * (what conn_exchange.c did before http_scan.c) against the resumable
 * scanner.  Bounded: one 32 KiB head (100 fields) each way, repeated
 * ROUNDS times for the scanner, once for the one-shot parser.
 *
 *   build/tests/bench_headscan [SIZE]       (meson test -C build
 *                                             --benchmark headscan)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

#define ROUNDS	20

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A response head of size bytes: the status line, 98 long fields. */
static char *
make_head(size_t size, size_t *n)
{
	char *p = malloc(size + 64);
	size_t len, per, i;

	if (p == NULL)
		abort();
	len = (size_t)sprintf(p, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
	per = (size - len - 2) / 98;
	for (i = 0; i < 98; i++) {
		size_t start = len;

		len += (size_t)sprintf(p + len, "X-F%02zu: ", i);
		for (; len < start + per - 2; len++)
			p[len] = (char)('a' + len % 26);
		p[len++] = '\r';
		p[len++] = '\n';
	}
	memcpy(p + len, "\r\n", 2);
	*n = len + 2;
	return p;
}

/* Feed head one byte a read; the CPU seconds it took, or -1. */
static double
drip(const char *head, size_t n, int incremental)
{
	static struct http_response resp;
	struct http_head_scan st;
	struct http_error err;
	double t0 = cpu_s();
	ssize_t r = HTTP_NEED_MORE;
	size_t k;

	http_head_scan_init(&st);
	for (k = 1; k <= n && r == HTTP_NEED_MORE; k++)
		r = incremental ? http_scan_response(head, k, &st, false,
		    &resp, &err) : http_parse_response(head, k, false, &resp,
		    &err);
	if (r != (ssize_t)n) {
		fprintf(stderr, "headscan: parse ended with %zd at %zu\n", r,
		    k);
		return -1;
	}
	return cpu_s() - t0;
}

int
main(int argc, char **argv)
{
	size_t size = argc > 1 ? strtoul(argv[1], NULL, 10) : 32768, n;
	char *head;
	double once, inc = 0, t;
	int i;

	if (size < 1024 || size > 1048576) {
		fprintf(stderr, "usage: bench_headscan [SIZE 1024..1048576]\n");
		return 2;
	}
	head = make_head(size, &n);
	once = drip(head, n, 0);
	for (i = 0; i < ROUNDS; i++) {
		t = drip(head, n, 1);
		if (t < 0)
			return 1;
		inc += t;
	}
	inc /= ROUNDS;
	if (once < 0)
		return 1;
	printf("# %zu-byte response head, 1 byte per read (%zu reads):\n", n, n);
	printf("# one-shot parser on every read: %.1f ms CPU\n", once * 1e3);
	printf("# resumable scanner:             %.3f ms CPU (mean of %d)\n",
	    inc * 1e3, ROUNDS);
	printf("# ratio: %.0fx\n", inc > 0 ? once / inc : 0.0);
	free(head);
	return 0;
}
