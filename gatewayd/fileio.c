/*
 * fileio.c - atomic replace, bounded read and lock files.
 *
 * This module knows nothing about what the files hold; it is not a
 * general I/O layer (no streaming, no large files).  The atomic replace
 * follows the usual recipe: temp file in the same directory, fsync,
 * rename, fsync the directory, so that after a crash the name points at
 * either the complete old content or the complete new one.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_POLL_MS	20

static void
vseterr(char *err, size_t errlen, int with_errno, const char *fmt,
    va_list ap)
{
	int saved = errno;
	size_t n;

	if (errlen == 0)
		return;
	vsnprintf(err, errlen, fmt, ap);
	n = strlen(err);
	if (with_errno && n < errlen)
		snprintf(err + n, errlen - n, ": %s", strerror(saved));
	errno = saved;
}

/* Format "what: strerror(errno)" into err, keeping errno. */
static void PRINTF(3, 4)
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vseterr(err, errlen, 1, fmt, ap);
	va_end(ap);
}

/* The same without strerror; errno is set by the caller and kept. */
static void PRINTF(3, 4)
seterrx(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vseterr(err, errlen, 0, fmt, ap);
	va_end(ap);
}

/* Copy the directory part of path ("." when none) into dir. */
static int
dirname_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return util_strlcpy(dir, ".", len) < len ? 0 : -1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

int
fileio_fsync_dir(const char *path, char *err, size_t errlen)
{
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		seterr(err, errlen, "%s: open directory", path);
		return -1;
	}
	if (fsync(fd) == -1) {
		seterr(err, errlen, "%s: fsync", path);
		rc = -1;
	}
	close(fd);
	return rc;
}

/* A fresh temporary name next to path, opened O_EXCL with mode. */
static int
open_temp(const char *path, mode_t mode, char *tmp, size_t tmplen)
{
	int i, fd;

	for (i = 0; i < 16; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if ((size_t)snprintf(tmp, tmplen, "%s.tmp.%d.%lx%x", path,
		    (int)getpid(), (unsigned long)ts.tv_nsec, (unsigned)i) >=
		    tmplen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, mode);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int
fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, gid_t gid, char *err, size_t errlen)
{
	char tmp[4096], dir[4096];
	const unsigned char *p = data;
	int fd;

	if (dirname_of(path, dir, sizeof(dir)) == -1) {
		errno = ENAMETOOLONG;
		seterr(err, errlen, "%s", path);
		return -1;
	}
	fd = open_temp(path, mode, tmp, sizeof(tmp));
	if (fd == -1) {
		seterr(err, errlen, "%s: create temporary file", path);
		return -1;
	}
	if (fchmod(fd, mode) == -1) {
		seterr(err, errlen, "%s: chmod", tmp);
		goto err;
	}
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) == -1) {
		seterr(err, errlen, "%s: chgrp", tmp);
		goto err;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			seterr(err, errlen, "%s: write", tmp);
			goto err;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1) {
		seterr(err, errlen, "%s: fsync", tmp);
		goto err;
	}
	if (close(fd) == -1) {
		fd = -1;
		seterr(err, errlen, "%s: close", tmp);
		goto err;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		seterr(err, errlen, "%s: rename", path);
		goto err;
	}
	return fileio_fsync_dir(dir, err, errlen);
err:
	{
		int saved = errno;

		if (fd != -1)
			close(fd);
		unlink(tmp);
		errno = saved;
	}
	return -1;
}

int
fileio_link_replace(const char *from, const char *to, char *err,
    size_t errlen)
{
	char tmp[4096];
	int i;

	for (i = 0; i < 16; i++) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.lnk.%d.%d", to,
		    (int)getpid(), i) >= sizeof(tmp)) {
			errno = ENAMETOOLONG;
			seterr(err, errlen, "%s", to);
			return -1;
		}
		if (link(from, tmp) == 0)
			break;
		if (errno != EEXIST) {
			seterr(err, errlen, "%s: link to %s", from, tmp);
			return -1;
		}
	}
	if (i == 16) {
		seterrx(err, errlen, "%s: no free temporary name", to);
		return -1;
	}
	if (rename(tmp, to) == -1) {
		seterr(err, errlen, "%s: rename", to);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
fileio_read(const char *path, size_t max, char **out, size_t *lenp,
    char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	*out = NULL;
	if (lenp != NULL)
		*lenp = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		seterr(err, errlen, "%s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: stat", path);
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		seterrx(err, errlen, "%s: not a regular file", path);
		goto err;
	}
	if ((uintmax_t)st.st_size > max) {
		errno = EFBIG;
		seterrx(err, errlen, "%s: larger than %zu bytes", path, max);
		goto err;
	}
	/* One spare byte detects a file that grew after fstat. */
	buf = xmalloc((size_t)st.st_size + 2);
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			seterr(err, errlen, "%s: read", path);
			goto err;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			errno = EFBIG;
			seterrx(err, errlen, "%s: changed while reading", path);
			goto err;
		}
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (lenp != NULL)
		*lenp = got;
	return 0;
err:
	{
		int saved = errno;

		if (buf != NULL) {
			util_wipe(buf, (size_t)st.st_size + 2);
			free(buf);
		}
		close(fd);
		errno = saved;
	}
	return -1;
}

int
fileio_mkdirs(const char *path, mode_t parent_mode, mode_t mode, char *err,
    size_t errlen)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		errno = n == 0 ? EINVAL : ENAMETOOLONG;
		seterr(err, errlen, "bad directory path");
		return -1;
	}
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (i = 1; i <= n; i++) {
		struct stat st;
		int last = i == n;

		if (!last && buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, last ? mode : parent_mode) == 0) {
			/* mkdir applies the umask; the mode is policy. */
			if (last && chmod(buf, mode) == -1) {
				seterr(err, errlen, "%s: chmod", buf);
				return -1;
			}
			if (last)
				return 1;
		} else if (errno != EEXIST) {
			seterr(err, errlen, "%s: mkdir", buf);
			return -1;
		} else if (stat(buf, &st) == -1 || !S_ISDIR(st.st_mode)) {
			if (errno == 0 || errno == EEXIST)
				errno = ENOTDIR;
			seterr(err, errlen, "%s", buf);
			return -1;
		}
		if (!last)
			buf[i] = '/';
	}
	return 0;
}

int
fileio_lock(const char *path, enum fileio_lock_mode mode, unsigned timeout_ms,
    char *err, size_t errlen)
{
	uint64_t deadline = util_now_ms() + timeout_ms;
	int fd, op;

	if (mode == FILEIO_LOCK_EXCLUSIVE) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		op = LOCK_EX;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		op = LOCK_SH;
	}
	if (fd == -1) {
		seterr(err, errlen, "%s: open lock file", path);
		return -1;
	}
	for (;;) {
		struct timespec ts = { 0, LOCK_POLL_MS * 1000000L };

		if (flock(fd, op | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			seterr(err, errlen, "%s: flock", path);
			break;
		}
		if (util_now_ms() >= deadline) {
			errno = EWOULDBLOCK;
			seterrx(err, errlen, "%s: still locked after %u ms",
			    path, timeout_ms);
			break;
		}
		nanosleep(&ts, NULL);
	}
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

void
fileio_unlock(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}
