/*
 * cmd_status.c - "ca-tool status <group> [--json]": read-only report.
 *
 * Exit 0 when the CA is valid and outside the window, 3 when "rotate"
 * would act (missing, invalid, expired or inside the window), 1/2 on
 * errors.  Takes the lock shared when it exists (never creates it), so it
 * does not read half an install.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "catool.h"
#include "fileio.h"

int cmd_status_main(int argc, char **argv);

static const char *const state_names[] = {
	[PAIR_MISSING] = "missing",
	[PAIR_INVALID] = "invalid",
	[PAIR_EXPIRED] = "expired",
	[PAIR_NOT_YET_VALID] = "not-yet-valid",
	[PAIR_OK] = "ok",
};

static void
json_pair(const char *name, const struct pair *p, time_t now, bool last)
{
	struct ca_info info;
	char nb[32], na[32];

	printf("  \"%s\": {\"state\": \"%s\"", name, state_names[p->state]);
	if (p->state != PAIR_OK && p->state != PAIR_MISSING) {
		printf(", \"error\": ");
		catool_json_str(p->err);
	}
	if (p->ca != NULL) {
		ca_get_info(p->ca, &info);
		ca_format_time(info.not_before, nb, sizeof(nb));
		ca_format_time(info.not_after, na, sizeof(na));
		printf(", \"subject\": ");
		catool_json_str(info.subject);
		printf(", \"fingerprint_sha256\": \"%s\", \"key_type\": \"%s\", "
		    "\"not_before\": \"%s\", \"not_after\": \"%s\", "
		    "\"days_left\": %ld", info.fingerprint, info.key_type, nb,
		    na, ca_days_left(p->ca, now));
	}
	printf("}%s\n", last ? "" : ",");
}

static void
text_pair(const char *name, const struct pair *p, time_t now)
{
	struct ca_info info;
	char nb[32], na[32];

	if (p->ca == NULL) {
		printf("%-12s %s%s%s\n", name, state_names[p->state],
		    p->state == PAIR_MISSING ? "" : ": ",
		    p->state == PAIR_MISSING ? "" : p->err);
		return;
	}
	ca_get_info(p->ca, &info);
	ca_format_time(info.not_before, nb, sizeof(nb));
	ca_format_time(info.not_after, na, sizeof(na));
	printf("%-12s %s%s%s\n", name, state_names[p->state],
	    p->state == PAIR_OK ? "" : ": ", p->state == PAIR_OK ? "" : p->err);
	printf("  subject      %s\n  fingerprint  SHA-256 %s\n"
	    "  key type     %s\n  not before   %s\n  not after    %s\n"
	    "  days left    %ld\n", info.subject, info.fingerprint,
	    info.key_type, nb, na, ca_days_left(p->ca, now));
}

static const char *
key_mode(const struct catool_opts *o, char *buf, size_t len)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/ca.key", o->groupdir);
	if (stat(p, &st) == -1)
		return "";
	snprintf(buf, len, "%04o", (unsigned)(st.st_mode & 07777));
	return buf;
}

int
cmd_status_main(int argc, char **argv)
{
	struct catool_opts o;
	struct pair cur, next, prev;
	char lock[PATH_MAX], err[512], mode[16] = "";
	bool in_window, rotate;
	int rc, fd;

	if ((rc = catool_parse(argc, argv, CMD_STATUS, &o)) != 0)
		return rc < 0 ? CATOOL_EXIT_OK : rc;
	snprintf(lock, sizeof(lock), "%s/.lock", o.groupdir);
	fd = fileio_lock(lock, FILEIO_LOCK_SHARED, CATOOL_LOCK_WAIT_MS, err,
	    sizeof(err));
	if (fd == -1 && errno != ENOENT) {
		catool_err(&o, "%s", err);
		return CATOOL_EXIT_ERR;
	}
	store_read(&o, "ca", &cur);
	store_read(&o, "ca.next", &next);
	store_read(&o, "ca.prev", &prev);
	fileio_unlock(fd);
	in_window = cur.state == PAIR_OK && ca_not_after(cur.ca) - o.now <=
	    (time_t)o.window * 86400;
	rotate = cur.state != PAIR_OK || in_window;
	key_mode(&o, mode, sizeof(mode));

	if (o.json) {
		printf("{\n  \"group\": ");
		catool_json_str(o.group);
		printf(",\n  \"directory\": ");
		catool_json_str(o.groupdir);
		printf(",\n  \"window_days\": %u,\n  \"in_window\": %s,\n"
		    "  \"needs_rotation\": %s,\n  \"key_mode\": \"%s\",\n",
		    o.window, in_window ? "true" : "false",
		    rotate ? "true" : "false", mode);
		json_pair("current", &cur, o.now, false);
		json_pair("next", &next, o.now, false);
		json_pair("previous", &prev, o.now, true);
		printf("}\n");
	} else {
		printf("group        %s\ndirectory    %s\n", o.group,
		    o.groupdir);
		text_pair("current", &cur, o.now);
		if (cur.ca != NULL)
			printf("  key mode     %s\n", mode);
		printf("window       %u days: %s\n", o.window,
		    !rotate ? "outside, nothing to do" :
		    in_window ? "inside, rotation due" :
		    "rotation due (no valid CA)");
		text_pair("next", &next, o.now);
		text_pair("previous", &prev, o.now);
	}
	store_pair_clear(&cur);
	store_pair_clear(&next);
	store_pair_clear(&prev);
	return rotate ? CATOOL_EXIT_ROTATE : CATOOL_EXIT_OK;
}
