/*
 * cmd_rotate.c - "ca-tool rotate <group>": the cron job.
 *
 * Decides, under the group's lock, one of:
 *   switch  - the current CA is inside the window and a valid staged
 *             next CA exists: next becomes current, current becomes prev;
 *   rotate  - the current CA is missing, invalid, expired or inside the
 *             window and nothing is staged: a new pair replaces it;
 *   stage   - with --stage S, the current CA is within window + S days of
 *             its end and no valid next exists: write ca.next.* and the
 *             bundle (current + next) for VMs created from now on;
 *   nothing - otherwise.
 * Exit 0 in all four cases, 1 on error; one line of output (none for
 * "nothing" with --quiet).
 */
#include "catool.h"

int cmd_rotate_main(int argc, char **argv);

/* Seconds before not_after at which the CA is due. */
static long long
secs_left(const struct ca *ca, time_t now)
{
	return (long long)ca_not_after(ca) - (long long)now;
}

static int
replace(const struct catool_opts *o, struct pair *cur, struct pair *next,
    const char *why)
{
	long long win = (long long)o->window * 86400;
	struct ca *ca = NULL;
	char desc[512];
	const char *verb = "switched to the staged CA";

	if (next->state == PAIR_OK && secs_left(next->ca, o->now) > win) {
		ca = ca_ref(next->ca);
	} else {
		verb = "rotated to a new CA";
		if ((ca = catool_generate(o)) == NULL)
			return CATOOL_EXIT_ERR;
	}
	if (store_install(o, ca) == -1 || store_unstage(o) == -1 ||
	    store_bundle(o, ca, NULL) == -1) {
		ca_unref(ca);
		return CATOOL_EXIT_ERR;
	}
	catool_describe(ca, desc, sizeof(desc));
	catool_say(o, "%s (%s): %s%s", verb, why, desc, cur->ca != NULL ?
	    "; previous pair kept as ca.prev.*" : "");
	ca_unref(ca);
	return catool_reload(o) == 0 ? CATOOL_EXIT_OK : CATOOL_EXIT_ERR;
}

static int
stage(const struct catool_opts *o, struct pair *cur)
{
	struct ca *next;
	char desc[512];
	long switch_in;

	if ((next = catool_generate(o)) == NULL)
		return CATOOL_EXIT_ERR;
	if (store_stage(o, next) == -1 || store_bundle(o, cur->ca, next) ==
	    -1) {
		ca_unref(next);
		return CATOOL_EXIT_ERR;
	}
	catool_describe(next, desc, sizeof(desc));
	switch_in = ca_days_left(cur->ca, o->now) - (long)o->window;
	catool_say(o, "staged the next CA (switch in about %ld days; "
	    "ca.bundle.crt now holds both): %s", switch_in > 0 ? switch_in : 0,
	    desc);
	ca_unref(next);
	return CATOOL_EXIT_OK;
}

int
cmd_rotate_main(int argc, char **argv)
{
	struct catool_opts o;
	struct pair cur, next;
	char why[600];
	long long left, win;
	int rc, fd;

	if ((rc = catool_parse(argc, argv, CMD_ROTATE, &o)) != 0)
		return rc < 0 ? CATOOL_EXIT_OK : rc;
	if ((fd = store_open(&o)) == -1)
		return CATOOL_EXIT_ERR;
	store_read(&o, "ca", &cur);
	store_read(&o, "ca.next", &next);
	if (cur.ca != NULL && next.ca != NULL && ca_same(cur.ca, next.ca)) {
		/* A switch was interrupted after the install. */
		store_pair_clear(&next);
		if (store_unstage(&o) == -1) {
			rc = CATOOL_EXIT_ERR;
			goto out;
		}
	}
	win = (long long)o.window * 86400;
	if (cur.state != PAIR_OK) {
		snprintf(why, sizeof(why), "%s", cur.err);
		rc = replace(&o, &cur, &next, why);
		goto out;
	}
	left = secs_left(cur.ca, o.now);
	if (left <= win) {
		snprintf(why, sizeof(why), "current CA expires in %ld days, "
		    "inside the %u-day window", ca_days_left(cur.ca, o.now),
		    o.window);
		rc = replace(&o, &cur, &next, why);
	} else if (o.stage > 0 && next.state != PAIR_OK &&
	    left <= win + (long long)o.stage * 86400) {
		rc = stage(&o, &cur);
	} else {
		if (!o.quiet)
			catool_say(&o, "nothing to do: the CA is valid for %ld "
			    "more days (window %u days)%s",
			    ca_days_left(cur.ca, o.now), o.window,
			    next.state == PAIR_OK ? "; next CA staged" : "");
		rc = CATOOL_EXIT_OK;
	}
out:
	store_pair_clear(&cur);
	store_pair_clear(&next);
	store_close(fd);
	return rc;
}
