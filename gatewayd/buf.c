/*
 * buf.c - see buf.h.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>

size_t
buf_prepare(struct buf *b, size_t cap)
{
	if (b->data == NULL) {
		b->data = xmalloc(cap);
		b->cap = cap;
		b->start = b->end = 0;
	} else if (b->cap < cap) {
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (b->end == b->cap && b->start > 0) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	return b->cap - b->end;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->data == NULL) {
		b->cap = MAX(n, (size_t)512);
		b->data = xmalloc(b->cap);
	}
	if (b->cap - b->end < n && b->start > 0) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	if (b->cap - b->end < n) {
		b->cap = MAX(b->cap * 2, b->end + n);
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->end, p, n);
	b->end += n;
}

void
buf_appendf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		buf_append(b, tmp, (size_t)n);
		return;
	}
	{
		char *big = xmalloc((size_t)n + 1);

		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		buf_append(b, big, (size_t)n);
		free(big);
	}
}

void
buf_release_if_empty(struct buf *b)
{
	if (b->data != NULL && b->start == b->end)
		buf_free(b);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = b->start = b->end = 0;
}
