/*
 * buf.c - see buf.h.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void (*storage_free_fn)(void *, size_t);

void
buf_set_storage_free(void (*fn)(void *p, size_t cap))
{
	storage_free_fn = fn;
}

/* Give up storage p of cap bytes, wiping it first if b is sensitive. */
static void
storage_free(const struct buf *b, char *p, size_t cap)
{
	if (p == NULL)
		return;
	if (b->sensitive)
		util_wipe(p, cap);
	if (storage_free_fn != NULL)
		storage_free_fn(p, cap);
	else
		free(p);
}

/*
 * Make the storage cap bytes.  realloc() may leave the old block behind
 * unwiped, so a sensitive buffer copies its bytes to new storage and
 * wipes the old.
 */
static void
grow(struct buf *b, size_t cap)
{
	char *p;

	if (!b->sensitive) {
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
		return;
	}
	p = xmalloc(cap);
	memcpy(p, b->data + b->start, b->end - b->start);
	storage_free(b, b->data, b->cap);
	b->data = p;
	b->cap = cap;
	b->end -= b->start;
	b->start = 0;
}

/* Move the unread bytes to the front (wiping the place they left). */
static void
compact(struct buf *b)
{
	size_t len = b->end - b->start;

	memmove(b->data, b->data + b->start, len);
	if (b->sensitive)
		util_wipe(b->data + len, b->end - len);
	b->end = len;
	b->start = 0;
}

size_t
buf_prepare(struct buf *b, size_t cap)
{
	if (b->data == NULL) {
		b->data = xmalloc(cap);
		b->cap = cap;
		b->start = b->end = 0;
	} else if (b->cap < cap) {
		grow(b, cap);
	}
	if (b->end == b->cap && b->start > 0)
		compact(b);
	return b->cap - b->end;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->data == NULL) {
		b->cap = MAX(n, (size_t)512);
		b->data = xmalloc(b->cap);
	}
	if (b->cap - b->end < n && b->start > 0)
		compact(b);
	if (b->cap - b->end < n)
		grow(b, MAX(b->cap * 2, b->end + n));
	memcpy(b->data + b->end, p, n);
	b->end += n;
}

void
buf_appends(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
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
	storage_free(b, b->data, b->cap);
	b->data = NULL;
	b->cap = b->start = b->end = 0;
}

void
bufpool_init(struct bufpool *p, size_t size, size_t max)
{
	p->free = xcalloc(max ? max : 1, sizeof(*p->free));
	p->n = 0;
	p->max = max;
	p->size = size;
	p->low = 0;
}

void
bufpool_fini(struct bufpool *p)
{
	while (p->n > 0)
		free(p->free[--p->n]);
	free(p->free);
	p->free = NULL;
}

size_t
buf_prepare_pooled(struct buf *b, struct bufpool *p)
{
	if (b->data == NULL && p->n > 0) {
		b->data = p->free[--p->n];
		b->cap = p->size;
		b->start = b->end = 0;
		if (p->n < p->low)
			p->low = p->n;
	}
	return buf_prepare(b, p->size);
}

void
buf_release_pooled(struct buf *b, struct bufpool *p)
{
	if (b->data == NULL || b->start != b->end)
		return;
	if (b->cap == p->size && p->n < p->max) {
		if (b->sensitive)
			util_wipe(b->data, b->cap);
		p->free[p->n++] = b->data;
		b->data = NULL;
		b->cap = b->start = b->end = 0;
		return;
	}
	buf_free(b);
}

size_t
bufpool_decay(struct bufpool *p)
{
	size_t i, spare = MIN(p->low, p->n);

	/* The bottom of the stack: the storage that sat longest. */
	for (i = 0; i < spare; i++)
		free(p->free[i]);
	memmove(p->free, p->free + spare, (p->n - spare) * sizeof(*p->free));
	p->n -= spare;
	p->low = p->n;
	return spare * p->size;
}
