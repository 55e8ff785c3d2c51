/*
 * test_buf.c - struct buf and its pool, and what a sensitive buffer (one
 * that may hold an injected credential) leaves behind: every block it
 * gives up, on growth, free or return to the pool, must be wiped.
 *
 * The storage-free seam (buf_set_storage_free) hands each block to the
 * test before it is freed, so its bytes are read while still owned: no
 * look at freed memory.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

#define SECRET	"Authorization: Bearer ghp_REALVALUE0123456789\r\n"

static unsigned freed;		/* blocks given up */
static unsigned freed_dirty;	/* ... that still held a non-zero byte */
static bool freed_has_secret;	/* ... that still held SECRET's value */

static void
record_free(void *p, size_t cap)
{
	const unsigned char *c = p;
	size_t i;

	freed++;
	for (i = 0; i < cap; i++)
		if (c[i] != 0) {
			freed_dirty++;
			break;
		}
	if (cap >= 20 && memmem(p, cap, "ghp_REALVALUE", 13) != NULL)
		freed_has_secret = true;
	free(p);
}

static void
reset(void)
{
	freed = freed_dirty = 0;
	freed_has_secret = false;
}

static bool
all_zero(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void
test_plain(void)
{
	struct buf b = { 0 };
	char big[2000];
	size_t i;

	reset();
	buf_appends(&b, "hello ");
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	buf_append(&b, big, sizeof(big));
	is(buf_len(&b), 6 + sizeof(big), "plain: grown length");
	ok(memcmp(buf_head(&b), "hello a", 7) == 0 &&
	    memcmp(buf_head(&b) + 6, big, sizeof(big)) == 0,
	    "plain: bytes kept across growth");
	buf_free(&b);
	is(freed, 1, "plain: one block freed through the seam");
	is(freed_dirty, 1, "plain: a plain buffer is not wiped");
}

static void
test_sensitive_growth(void)
{
	struct buf b = { .sensitive = true };
	char big[4096];

	reset();
	buf_appends(&b, "GET / HTTP/1.1\r\n");
	buf_appends(&b, SECRET);
	memset(big, 'x', sizeof(big));
	buf_append(&b, big, sizeof(big));	/* past 512: grows */
	is(freed, 1, "growth gives the old block up");
	is(freed_dirty, 0, "the old block is wiped before it is freed");
	ok(!freed_has_secret, "no freed block holds the credential");
	ok(memcmp(buf_head(&b), "GET / HTTP/1.1\r\n" SECRET,
	    16 + strlen(SECRET)) == 0, "bytes kept across growth");
	is(buf_len(&b), 16 + strlen(SECRET) + sizeof(big), "grown length");

	/* buf_prepare() growth too */
	reset();
	buf_prepare(&b, b.cap * 4);
	is(freed, 1, "prepare: growth gives the old block up");
	is(freed_dirty, 0, "prepare: old block wiped");
	ok(memcmp(buf_head(&b), "GET / HTTP/1.1\r\n" SECRET,
	    16 + strlen(SECRET)) == 0, "prepare: bytes kept");

	reset();
	buf_free(&b);
	ok(freed == 1 && freed_dirty == 0, "free wipes the block");
	ok(b.sensitive && b.data == NULL, "free keeps the flag");
}

static void
test_sensitive_empty(void)
{
	struct buf b = { .sensitive = true };
	size_t n;

	reset();
	buf_appends(&b, SECRET);
	n = buf_len(&b);
	buf_clear(&b);
	ok(b.data != NULL && all_zero(b.data, n), "clear wipes the bytes");
	buf_appends(&b, SECRET);
	buf_consume(&b, 10);
	ok(memcmp(buf_head(&b), SECRET + 10, n - 10) == 0,
	    "partial consume keeps the rest");
	buf_consume(&b, n - 10);
	ok(buf_len(&b) == 0 && all_zero(b.data, n),
	    "consuming the last byte wipes the bytes");
	buf_free(&b);
	is(freed_dirty, 0, "nothing dirty freed");
}

static void
test_sensitive_compact(void)
{
	struct buf b = { .sensitive = true };
	size_t len = strlen(SECRET), cap;

	buf_prepare(&b, 64);
	cap = b.cap;
	memcpy(buf_tail(&b), "0123456789" SECRET, 10 + len);
	buf_produce(&b, 10 + len);
	memset(buf_tail(&b), 'z', cap - b.end);
	buf_produce(&b, cap - b.end);
	buf_consume(&b, 10 + len);		/* the credential is read */
	buf_prepare(&b, cap);			/* full: moves to the front */
	is(b.start, 0, "compacted");
	ok(all_zero(b.data + (cap - 10 - len), 10 + len),
	    "the place the moved bytes left is wiped");
	ok(memmem(b.data, b.cap, "ghp_REALVALUE", 13) == NULL,
	    "no copy of the credential left in the block");
	buf_free(&b);
}

static void
test_pool(void)
{
	struct bufpool pool;
	struct buf s = { .sensitive = true }, p = { 0 };
	char *block;

	bufpool_init(&pool, 256, 4);
	buf_prepare_pooled(&s, &pool);
	memcpy(buf_tail(&s), SECRET, strlen(SECRET));
	buf_produce(&s, strlen(SECRET));
	block = s.data;
	s.start = s.end;			/* read, not via consume */
	buf_release_pooled(&s, &pool);
	ok(s.data == NULL && pool.n == 1 && pool.free[0] == block,
	    "sensitive storage back in the pool");
	ok(all_zero(block, pool.size), "... wiped first");
	buf_prepare_pooled(&p, &pool);
	ok(p.data == block, "reused by the next buffer");
	memcpy(buf_tail(&p), "abc", 3);
	buf_produce(&p, 3);
	p.start = p.end;
	buf_release_pooled(&p, &pool);
	ok(pool.n == 1 && memcmp(pool.free[0], "abc", 3) == 0,
	    "a plain buffer's storage is pooled as it is");
	bufpool_fini(&pool);
}

/* A burst fills the pool; what the load since did not take is freed at
 * the next decay, what it took stays. */
static void
test_pool_decay(void)
{
	struct bufpool pool;
	struct buf b[6] = { 0 };
	char *kept;
	size_t i;

	bufpool_init(&pool, 256, 8);
	for (i = 0; i < 6; i++)
		buf_prepare_pooled(&b[i], &pool);
	for (i = 0; i < 6; i++)
		buf_release_pooled(&b[i], &pool);
	ok(pool.n == 6, "a burst of 6 leaves 6 in the pool");
	ok(bufpool_decay(&pool) == 0 && pool.n == 6,
	    "the first decay frees nothing: the burst took them all");
	/* the steady load: two at a time, then both back */
	buf_prepare_pooled(&b[0], &pool);
	buf_prepare_pooled(&b[1], &pool);
	kept = b[1].data;
	buf_release_pooled(&b[0], &pool);
	buf_release_pooled(&b[1], &pool);
	ok(bufpool_decay(&pool) == 4 * 256 && pool.n == 2,
	    "the 4 not taken since are freed, 2 stay");
	ok(pool.free[0] == kept || pool.free[1] == kept,
	    "... the ones the load took");
	ok(bufpool_decay(&pool) == 2 * 256 && pool.n == 0,
	    "an idle period frees the rest");
	buf_prepare_pooled(&b[0], &pool);
	ok(b[0].data != NULL && b[0].cap == 256, "an empty pool still serves");
	buf_release_pooled(&b[0], &pool);
	ok(pool.n == 1, "... and takes it back");
	bufpool_fini(&pool);
}

int
main(void)
{
	buf_set_storage_free(record_free);
	test_plain();
	test_sensitive_growth();
	test_sensitive_empty();
	test_sensitive_compact();
	test_pool();
	test_pool_decay();
	buf_set_storage_free(NULL);
	return tap_done();
}
