/*
 * buf.h - a linear byte buffer with a read and a write offset.
 *
 * Storage is allocated on first use and can be released when the buffer
 * is empty, so an idle connection holds no buffer memory.  Not
 * thread-safe (owned by one connection).
 *
 * A buffer marked sensitive (it may hold an injected credential) leaves
 * no copy behind: storage it gives up is wiped first (free, return to a
 * pool), it grows by copy-then-wipe instead of realloc(), bytes moved to
 * the front are wiped where they were, and emptying it (buf_clear, or
 * consuming the last byte) wipes what it held.  The flag belongs to the
 * buffer, not its storage: buf_free() keeps it.
 */
#ifndef GW_BUF_H
#define GW_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct buf {
	char	*data;
	size_t	cap;
	size_t	start;		/* first unread byte */
	size_t	end;		/* one past the last written byte */
	bool	sensitive;	/* wipe every copy it gives up */
};

static inline size_t
buf_len(const struct buf *b)
{
	return b->end - b->start;
}

static inline char *
buf_head(const struct buf *b)
{
	return b->data + b->start;
}

/* Make the storage at least cap bytes (allocating or growing it); move
 * data to the front when the tail is full.  Returns the writable space
 * after that.  Pointers into the buffer are invalid afterwards. */
size_t buf_prepare(struct buf *b, size_t cap);

static inline char *
buf_tail(const struct buf *b)
{
	return b->data + b->end;
}

static inline void
buf_produce(struct buf *b, size_t n)
{
	b->end += n;
}

static inline void
buf_consume(struct buf *b, size_t n)
{
	b->start += n;
	if (b->start == b->end) {
		if (b->sensitive && b->end > 0)
			util_wipe(b->data, b->end);
		b->start = b->end = 0;
	}
}

/* Empty the buffer but keep its storage. */
static inline void
buf_clear(struct buf *b)
{
	if (b->sensitive && b->end > 0)
		util_wipe(b->data, b->end);
	b->start = b->end = 0;
}

/* Append n bytes, growing as needed (for small generated heads). */
void buf_append(struct buf *b, const void *p, size_t n);
void buf_appendf(struct buf *b, const char *fmt, ...) PRINTF(2, 3);
/* Append a C string. */
void buf_appends(struct buf *b, const char *s);

/* Free the storage if the buffer is empty. */
void buf_release_if_empty(struct buf *b);
void buf_free(struct buf *b);

/*
 * Test seam: the function that frees storage a buffer gives up (after a
 * sensitive buffer wiped it), called with the storage and its size;
 * NULL restores free().  For unit tests only, set before any buffer is
 * used; not thread-safe.
 */
void buf_set_storage_free(void (*fn)(void *p, size_t cap));

/*
 * A bounded free list of equal-sized buffer storage, one per worker, so
 * that connections which take and give back I/O buffers around every
 * request do not go through malloc (and the heap trimming behind it)
 * each time.  Not thread-safe: one owner.
 */
struct bufpool {
	char	**free;
	size_t	n;
	size_t	max;
	size_t	size;
	size_t	low;	/* fewest free since the last bufpool_decay() */
};

void bufpool_init(struct bufpool *p, size_t size, size_t max);
void bufpool_fini(struct bufpool *p);
/* buf_prepare(b, p->size) with the storage taken from the pool. */
size_t buf_prepare_pooled(struct buf *b, struct bufpool *p);
/* If b is empty, give its storage back to the pool (or free it). */
void buf_release_pooled(struct buf *b, struct bufpool *p);
/*
 * Free the storage no one took since the last call (what a burst of
 * connections left in the pool and the load since did not need), so a
 * pool shrinks back to what its worker uses.  Returns the bytes freed.
 */
size_t bufpool_decay(struct bufpool *p);

#endif
