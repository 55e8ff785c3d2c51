/*
 * fileio.h - crash-safe small-file helpers: atomic replace, bounded whole
 * file read, and an exclusive lock file with a bounded wait.
 *
 * Used by ca-tool for the CA files and by the gateway for its own state
 * files.  Every function reports failures in err (one line, no newline)
 * and leaves errno set from the failing call.  Thread-safe (no shared
 * state); the lock is per open file description, so two threads of one
 * process that both take it through fileio_lock() exclude each other.
 */
#ifndef GW_FILEIO_H
#define GW_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "util.h"

/* Largest file fileio_read() accepts unless told otherwise. */
#define FILEIO_MAX_DEFAULT	(1024 * 1024)

/*
 * Replace path with len bytes of data, atomically: a temporary file in the
 * same directory (O_EXCL, created with mode, then fchmod'd to mode so the
 * umask cannot widen or narrow it), optionally chgrp'd to gid (pass
 * (gid_t)-1 to leave the group alone), written, fsync'd, renamed over path,
 * and the directory fsync'd.  A crash leaves either the old file or the
 * new one, never a mix.  On failure the temporary file is removed and path
 * is untouched.  Returns 0 or -1.
 */
int fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, gid_t gid, char *err, size_t errlen) WUNRES;

/*
 * Read a whole regular file of at most max bytes into a fresh buffer,
 * NUL-terminated (the NUL is not counted in *lenp).  Refuses non-regular
 * files and files larger than max.  The caller frees *out (and should
 * util_wipe() it first when it held a secret).  Returns 0, or -1 with
 * errno set (ENOENT when the file does not exist, EFBIG when too large).
 */
int fileio_read(const char *path, size_t max, char **out, size_t *lenp,
    char *err, size_t errlen) WUNRES;

/* fsync the directory at path.  Returns 0 or -1. */
int fileio_fsync_dir(const char *path, char *err, size_t errlen) WUNRES;

/*
 * Atomically make "to" a second name of the file "from" (hard link to a
 * temporary name, then rename over "to").  Both in the same directory.
 * Returns 0 or -1.
 */
int fileio_link_replace(const char *from, const char *to, char *err,
    size_t errlen) WUNRES;

/* Create directory path and missing parents; parents get parent_mode, the
 * last component mode.  Existing directories are left as they are.
 * Returns 0, 1 if the last component was created, or -1. */
int fileio_mkdirs(const char *path, mode_t parent_mode, mode_t mode,
    char *err, size_t errlen) WUNRES;

enum fileio_lock_mode {
	FILEIO_LOCK_EXCLUSIVE = 0,	/* create the lock file if missing */
	FILEIO_LOCK_SHARED,		/* never creates; -1/ENOENT if absent */
};

/*
 * Take a flock(2) on path, waiting at most timeout_ms (polling, so the
 * wait is bounded even if the holder hangs).  Returns the open fd, which
 * holds the lock until fileio_unlock(); or -1 (errno EWOULDBLOCK on
 * timeout, ENOENT for a missing shared lock file).
 */
int fileio_lock(const char *path, enum fileio_lock_mode mode,
    unsigned timeout_ms, char *err, size_t errlen) WUNRES;

/* Release and close a lock taken by fileio_lock().  fd < 0 is a no-op. */
void fileio_unlock(int fd);

#endif
