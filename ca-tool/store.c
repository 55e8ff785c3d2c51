/*
 * store.c - the CA pairs of one group on disk, changed crash-safely.
 *
 * Files in <dir>/<group>:
 *   ca.crt ca.key            current pair (Slicer and gatewayd read it)
 *   ca.prev.crt ca.prev.key  the pair before it
 *   ca.next.crt ca.next.key  staged successor (--stage)
 *   ca.bundle.crt            what new VMs should trust: current (+ next)
 *   .lock                    flock(2) serialising ca-tool runs
 *
 * Two files cannot be renamed in one step, so installing a new current
 * pair is a small journal whose state is the set of files present:
 *   1. write ca.pending.key, then ca.pending.crt (each atomic);
 *   2. hard-link the current pair to ca.prev.* (if it is a real pair);
 *   3. rename ca.pending.key -> ca.key, then ca.pending.crt -> ca.crt.
 * On the next run (store_open), both pending files mean "redo 2 and 3";
 * only ca.pending.crt means "3 was half done: finish it"; only
 * ca.pending.key means "1 was half done: drop it".  A reader racing step
 * 3 can see a new key with the old cert for a moment; ca_load_*() report
 * that as a mismatch, so the gateway keeps its loaded CA and retries.
 *
 * Not here: deciding when to rotate (cmd_rotate.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catool.h"
#include "fileio.h"

static int
path(char *buf, size_t len, const struct catool_opts *o, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", o->groupdir, name) >= len)
		return -1;
	return 0;
}

static bool
exists(const struct catool_opts *o, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	return path(p, sizeof(p), o, name) == 0 && lstat(p, &st) == 0;
}

void
store_read(const struct catool_opts *o, const char *base, struct pair *p)
{
	char crt[PATH_MAX], key[PATH_MAX], name[64];
	bool hc, hk;

	memset(p, 0, sizeof(*p));
	snprintf(name, sizeof(name), "%s.crt", base);
	hc = exists(o, name);
	path(crt, sizeof(crt), o, name);
	snprintf(name, sizeof(name), "%s.key", base);
	hk = exists(o, name);
	path(key, sizeof(key), o, name);
	if (!hc && !hk) {
		p->state = PAIR_MISSING;
		snprintf(p->err, sizeof(p->err), "no %s.crt and %s.key", base,
		    base);
		return;
	}
	p->ca = ca_load_files(crt, key, o->now, CA_LOAD_ALLOW_EXPIRED, p->err,
	    sizeof(p->err));
	if (p->ca == NULL) {
		p->state = PAIR_INVALID;
		return;
	}
	if (ca_not_after(p->ca) <= o->now) {
		p->state = PAIR_EXPIRED;
		snprintf(p->err, sizeof(p->err), "%s.crt has expired", base);
		return;
	}
	if (ca_not_before(p->ca) > o->now) {
		p->state = PAIR_NOT_YET_VALID;
		snprintf(p->err, sizeof(p->err), "%s.crt is not valid yet",
		    base);
		return;
	}
	p->state = PAIR_OK;
}

void
store_pair_clear(struct pair *p)
{
	ca_unref(p->ca);
	memset(p, 0, sizeof(*p));
}

/* Key file mode and group: --key-group, else inherit a group-readable
 * current key (so cron runs keep what an admin set up), else 0600. */
static void
key_perms(const struct catool_opts *o, mode_t *mode, gid_t *gid)
{
	char p[PATH_MAX];
	struct stat st;

	*mode = 0600;
	*gid = (gid_t)-1;
	if (o->key_group != NULL) {
		*mode = 0640;
		*gid = o->key_gid;
	} else if (path(p, sizeof(p), o, "ca.key") == 0 &&
	    stat(p, &st) == 0 && (st.st_mode & 0040)) {
		*mode = 0640;
		*gid = st.st_gid;
	}
}

static int
do_rename(const struct catool_opts *o, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	path(a, sizeof(a), o, from);
	path(b, sizeof(b), o, to);
	if (rename(a, b) == -1) {
		catool_err(o, "rename %s -> %s: %s", a, b, strerror(errno));
		return -1;
	}
	return 0;
}

static int
do_unlink(const struct catool_opts *o, const char *name)
{
	char a[PATH_MAX];

	path(a, sizeof(a), o, name);
	if (unlink(a) == -1 && errno != ENOENT) {
		catool_err(o, "unlink %s: %s", a, strerror(errno));
		return -1;
	}
	return 0;
}

static int
sync_dir(const struct catool_opts *o)
{
	char err[512];

	if (fileio_fsync_dir(o->groupdir, err, sizeof(err)) == -1) {
		catool_err(o, "%s", err);
		return -1;
	}
	return 0;
}

/* Steps 2 and 3 of the install journal. */
static int
finish_install(const struct catool_opts *o)
{
	char from[PATH_MAX], to[PATH_MAX], err[512];
	struct pair cur;
	int rc = 0;

	store_read(o, "ca", &cur);
	if (cur.ca != NULL) {
		static const char *const names[][2] = {
			{ "ca.key", "ca.prev.key" }, { "ca.crt", "ca.prev.crt" },
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(names) && rc == 0; i++) {
			path(from, sizeof(from), o, names[i][0]);
			path(to, sizeof(to), o, names[i][1]);
			if (fileio_link_replace(from, to, err, sizeof(err)) ==
			    -1) {
				catool_err(o, "%s", err);
				rc = -1;
			}
		}
	}
	store_pair_clear(&cur);
	if (rc == -1 || do_rename(o, "ca.pending.key", "ca.key") == -1 ||
	    do_rename(o, "ca.pending.crt", "ca.crt") == -1)
		return -1;
	return sync_dir(o);
}

/* Remove temporaries a crash left (names fileio makes: *.tmp.*, *.lnk.*). */
static void
sweep_temps(const struct catool_opts *o)
{
	DIR *d = opendir(o->groupdir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "ca.", 3) == 0 &&
		    (strstr(de->d_name, ".tmp.") != NULL ||
		    strstr(de->d_name, ".lnk.") != NULL))
			(void)do_unlink(o, de->d_name);
	}
	closedir(d);
}

static int
recover(const struct catool_opts *o)
{
	bool k = exists(o, "ca.pending.key"), c = exists(o, "ca.pending.crt");

	sweep_temps(o);
	if (k && c) {
		fprintf(stderr, "ca-tool: %s: finishing an interrupted "
		    "install\n", o->groupdir);
		return finish_install(o);
	}
	if (c)
		return do_rename(o, "ca.pending.crt", "ca.crt") == -1 ? -1 :
		    sync_dir(o);
	if (k)
		return do_unlink(o, "ca.pending.key") == -1 ? -1 : sync_dir(o);
	return 0;
}

int
store_open(const struct catool_opts *o)
{
	char err[512], lock[PATH_MAX];
	mode_t mode = o->key_group != NULL ? 0750 : 0700;
	int fd;

	if (fileio_mkdirs(o->groupdir, 0755, mode, err, sizeof(err)) == -1) {
		catool_err(o, "%s", err);
		return -1;
	}
	if (o->key_group != NULL && (chown(o->groupdir, (uid_t)-1,
	    o->key_gid) == -1 || chmod(o->groupdir, mode) == -1)) {
		catool_err(o, "%s: set group %s: %s", o->groupdir,
		    o->key_group, strerror(errno));
		return -1;
	}
	path(lock, sizeof(lock), o, ".lock");
	fd = fileio_lock(lock, FILEIO_LOCK_EXCLUSIVE, CATOOL_LOCK_WAIT_MS, err,
	    sizeof(err));
	if (fd == -1) {
		catool_err(o, "%s", err);
		return -1;
	}
	if (recover(o) == -1) {
		fileio_unlock(fd);
		return -1;
	}
	return fd;
}

void
store_close(int lockfd)
{
	fileio_unlock(lockfd);
}

int
store_install(const struct catool_opts *o, const struct ca *ca)
{
	char err[512];
	mode_t mode;
	gid_t gid;

	key_perms(o, &mode, &gid);
	if (ca_write_pair(ca, o->groupdir, "ca.pending", mode, gid, err,
	    sizeof(err)) == -1) {
		catool_err(o, "%s", err);
		(void)do_unlink(o, "ca.pending.key");
		return -1;
	}
	return finish_install(o);
}

int
store_stage(const struct catool_opts *o, const struct ca *next)
{
	char err[512];
	mode_t mode;
	gid_t gid;

	key_perms(o, &mode, &gid);
	if (ca_write_pair(next, o->groupdir, "ca.next", mode, gid, err,
	    sizeof(err)) == -1) {
		catool_err(o, "%s", err);
		return -1;
	}
	return 0;
}

int
store_unstage(const struct catool_opts *o)
{
	if (!exists(o, "ca.next.crt") && !exists(o, "ca.next.key"))
		return 0;
	if (do_unlink(o, "ca.next.crt") == -1 ||
	    do_unlink(o, "ca.next.key") == -1)
		return -1;
	return sync_dir(o);
}

int
store_bundle(const struct catool_opts *o, const struct ca *cur,
    const struct ca *next)
{
	char p[PATH_MAX], err[512], *a, *b = NULL, *all;
	size_t alen = 0, blen = 0;
	int rc = -1;

	a = ca_cert_pem(cur, &alen);
	if (next != NULL)
		b = ca_cert_pem(next, &blen);
	if (a == NULL || (next != NULL && b == NULL)) {
		catool_err(o, "encoding the bundle failed");
		goto out;
	}
	all = xmalloc(alen + blen + 1);
	memcpy(all, a, alen);
	if (b != NULL)
		memcpy(all + alen, b, blen);
	path(p, sizeof(p), o, "ca.bundle.crt");
	rc = fileio_write_atomic(p, all, alen + blen, 0644, (gid_t)-1, err,
	    sizeof(err));
	if (rc == -1)
		catool_err(o, "%s", err);
	free(all);
out:
	free(a);
	free(b);
	return rc;
}

bool
store_refuse_valid(const struct catool_opts *o, const struct pair *cur)
{
	if (cur->state != PAIR_OK)
		return false;
	catool_err(o, "%s already holds a valid CA (%ld days left); use "
	    "--force to replace it", o->groupdir, ca_days_left(cur->ca,
	    o->now));
	return true;
}

/*
 * The whole of generate and import once the new CA is in hand: lock,
 * re-check under the lock, install, drop a staged next (it was meant to
 * follow the replaced CA), rewrite the bundle, report, signal.
 */
int
store_replace(const struct catool_opts *o, const struct ca *ca,
    const char *verb, bool refuse_valid)
{
	struct pair cur;
	char desc[512];
	int fd, rc = CATOOL_EXIT_ERR;

	if ((fd = store_open(o)) == -1)
		return CATOOL_EXIT_ERR;
	store_read(o, "ca", &cur);
	if (refuse_valid && store_refuse_valid(o, &cur))
		goto out;
	if (cur.ca != NULL && ca_same(cur.ca, ca)) {
		if (!o->quiet)
			catool_say(o, "nothing to do: this CA is already "
			    "current");
		rc = CATOOL_EXIT_OK;
		goto out;
	}
	if (store_install(o, ca) == -1 || store_unstage(o) == -1 ||
	    store_bundle(o, ca, NULL) == -1)
		goto out;
	catool_describe(ca, desc, sizeof(desc));
	catool_say(o, "%s %s%s", verb, desc, cur.ca != NULL ?
	    "; previous pair kept as ca.prev.*" : "");
	rc = catool_reload(o) == 0 ? CATOOL_EXIT_OK : CATOOL_EXIT_ERR;
out:
	store_pair_clear(&cur);
	store_close(fd);
	return rc;
}
