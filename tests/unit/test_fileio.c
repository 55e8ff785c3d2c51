/*
 * test_fileio.c - atomic replace, bounded read, mkdirs, lock timeouts.
 */
#include <errno.h>
#include <sys/stat.h>

#include "fileio.h"
#include "tap.h"
#include "certtest.h"

int
main(void)
{
	const char *dir = test_tmpdir();
	char p[512], q[512], sub[512], err[256], *buf;
	struct stat st;
	size_t len;
	uint64_t t0;
	int fd, fd2;

	snprintf(p, sizeof(p), "%s/f", dir);
	umask(077);
	ok(fileio_write_atomic(p, "hello", 5, 0644, (gid_t)-1, err,
	    sizeof(err)) == 0, "atomic write");
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0644 &&
	    st.st_size == 5, "mode 0644 despite umask 077");
	umask(022);
	ok(fileio_write_atomic(p, "bye", 3, 0600, (gid_t)-1, err,
	    sizeof(err)) == 0, "replace");
	ok(fileio_read(p, 100, &buf, &len, err, sizeof(err)) == 0 &&
	    len == 3 && strcmp(buf, "bye") == 0, "read back, NUL-terminated");
	free(buf);
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600, "new mode");
	ok(fileio_read(p, 2, &buf, &len, err, sizeof(err)) == -1 &&
	    errno == EFBIG && buf == NULL, "bound enforced: %s", err);
	snprintf(q, sizeof(q), "%s/missing", dir);
	ok(fileio_read(q, 100, &buf, &len, err, sizeof(err)) == -1 &&
	    errno == ENOENT, "missing file: ENOENT");
	ok(fileio_read(dir, 100, &buf, &len, err, sizeof(err)) == -1 &&
	    strstr(err, "not a regular file") != NULL, "directory refused");
	snprintf(q, sizeof(q), "%s/nodir/f", dir);
	ok(fileio_write_atomic(q, "x", 1, 0600, (gid_t)-1, err,
	    sizeof(err)) == -1, "write into a missing dir fails: %s", err);

	snprintf(q, sizeof(q), "%s/g", dir);
	ok(fileio_link_replace(p, q, err, sizeof(err)) == 0 &&
	    fileio_read(q, 100, &buf, &len, err, sizeof(err)) == 0 &&
	    strcmp(buf, "bye") == 0, "link_replace");
	free(buf);

	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	is(fileio_mkdirs(sub, 0755, 0700, err, sizeof(err)), 1,
	    "mkdirs creates the last component");
	ok(stat(sub, &st) == 0 && (st.st_mode & 07777) == 0700, "mode 0700");
	is(fileio_mkdirs(sub, 0755, 0700, err, sizeof(err)), 0,
	    "existing: 0");
	snprintf(sub, sizeof(sub), "%s/f/x", dir);
	ok(fileio_mkdirs(sub, 0755, 0700, err, sizeof(err)) == -1,
	    "under a file: %s", err);

	snprintf(q, sizeof(q), "%s/lock", dir);
	ok(fileio_lock(q, FILEIO_LOCK_SHARED, 100, err, sizeof(err)) == -1 &&
	    errno == ENOENT, "shared lock never creates the file");
	fd = fileio_lock(q, FILEIO_LOCK_EXCLUSIVE, 100, err, sizeof(err));
	ok(fd >= 0, "exclusive lock");
	t0 = util_now_ms();
	fd2 = fileio_lock(q, FILEIO_LOCK_EXCLUSIVE, 200, err, sizeof(err));
	ok(fd2 == -1 && errno == EWOULDBLOCK, "second lock times out: %s",
	    err);
	ok(util_now_ms() - t0 >= 190 && util_now_ms() - t0 < 2000,
	    "after about the timeout");
	ok(fileio_lock(q, FILEIO_LOCK_SHARED, 50, err, sizeof(err)) == -1,
	    "shared waits for exclusive too");
	fileio_unlock(fd);
	fd2 = fileio_lock(q, FILEIO_LOCK_SHARED, 100, err, sizeof(err));
	ok(fd2 >= 0, "free after unlock");
	fileio_unlock(fd2);
	fileio_unlock(-1);
	test_rmtree(dir);
	return tap_done();
}
