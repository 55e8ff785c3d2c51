/*
 * catool.h - what ca-tool's subcommands share: options, exit codes, the
 * group directory, and the on-disk store of pairs (store.c).
 *
 * ca-tool is single-threaded and short-lived; the lock file makes two
 * processes on one group safe, not threads.
 */
#ifndef CATOOL_H
#define CATOOL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "ca.h"

#define CATOOL_EXIT_OK		0
#define CATOOL_EXIT_ERR		1	/* runtime error; nothing changed */
#define CATOOL_EXIT_USAGE	2
#define CATOOL_EXIT_ROTATE	3	/* status: rotation needed */

#define CATOOL_DEFAULT_DIR	"./.slicer/ca"
#define CATOOL_ENV_DIR		"CA_TOOL_DIR"
#define CATOOL_ENV_NOW		"CA_TOOL_NOW"
#define CATOOL_DEFAULT_WINDOW	7
#define CATOOL_MAX_WINDOW	3650
#define CATOOL_GROUP_MAX	64
#define CATOOL_LOCK_WAIT_MS	30000

/* Longest group name whose isolated-mode VMs "<group>-1".."-99" fit
 * Slicer's 15-character limit. */
#define SLICER_ISOLATED_GROUP_MAX	12

/* Which subcommand accepts an option (bit mask). */
#define CMD_GENERATE	0x1
#define CMD_ROTATE	0x2
#define CMD_STATUS	0x4
#define CMD_IMPORT	0x8
#define CMD_ENV		0x10
#define CMD_ALL		(CMD_GENERATE | CMD_ROTATE | CMD_STATUS | CMD_IMPORT | \
			 CMD_ENV)

/* ca-tool env: where Slicer writes the CA in a guest; the kit's bundle. */
#define CATOOL_GUEST_CA		"/runner/ca.crt"
#define CATOOL_GUEST_BUNDLE_DIR	"$HOME/.gatewayd"

struct catool_opts {
	unsigned		cmd;		/* CMD_* */
	const char		*dir;		/* --dir / env / default */
	const char		*group;
	char			groupdir[PATH_MAX - 256];
	const char		*cn;		/* NULL: "<group> egress CA" */
	char			cnbuf[CATOOL_GROUP_MAX + 16];
	enum ca_key_type	key_type;
	unsigned		days;
	const char		*key_group;	/* --key-group NAME */
	gid_t			key_gid;
	bool			force, quiet, json;
	unsigned		window;		/* days */
	unsigned		stage;		/* days, 0 = off */
	const char		*pidfile;	/* --reload-pidfile */
	const char		*cert, *key;	/* import */
	const char		*guest_ca, *bundle;	/* env; bundle may be NULL */
	time_t			now;		/* CA_TOOL_NOW or time() */
};

/*
 * Parse argv for subcommand cmd (argv[0] is the subcommand name) into o,
 * validating every value and the group name.  Prints the problem and the
 * usage on stderr.  Returns 0, or CATOOL_EXIT_USAGE / CATOOL_EXIT_ERR;
 * -1 after printing help (exit 0).
 */
int catool_parse(int argc, char **argv, unsigned cmd, struct catool_opts *o);

/* s as a JSON string, on stdout. */
void catool_json_str(const char *s);

/*
 * Print one line per option that a command in cmds (CMD_* bits) takes;
 * with several commands, each line names the commands taking it when
 * not all do.  For the usage texts.
 */
void catool_print_options(FILE *f, unsigned cmds);

/* Is s an acceptable host group name (path-safe)? */
bool catool_group_ok(const char *s);

/* Print "<group>: <message>" on stdout (callers honour --quiet). */
void catool_say(const struct catool_opts *o, const char *fmt, ...)
    PRINTF(2, 3);
/* "ca-tool: <cmd> <group>: ..." on stderr. */
void catool_err(const struct catool_opts *o, const char *fmt, ...)
    PRINTF(2, 3);

/* Send SIGHUP to the pid in o->pidfile (if set).  0 or -1 (printed). */
int catool_reload(const struct catool_opts *o);

/* ---- store.c: the pairs in <dir>/<group> ---------------------------- */

enum pair_state {
	PAIR_MISSING = 0,	/* neither file */
	PAIR_INVALID,		/* unreadable, corrupt, mismatched, not a CA */
	PAIR_EXPIRED,
	PAIR_NOT_YET_VALID,
	PAIR_OK,
};

struct pair {
	enum pair_state	state;
	struct ca	*ca;		/* set unless MISSING or INVALID */
	char		err[512];	/* why not OK */
};

/* Read <groupdir>/<base>.crt/.key at o->now.  Never fails; see state. */
void store_read(const struct catool_opts *o, const char *base,
    struct pair *p);
void store_pair_clear(struct pair *p);

/*
 * Create the group directory (0700, or 0750 group key_gid with
 * --key-group), take the group's lock file and finish any install a crash
 * interrupted.  Returns the lock fd or -1 (printed).
 */
int store_open(const struct catool_opts *o);
void store_close(int lockfd);

/* Make ca the current pair, keeping the old one as ca.prev.  0 or -1. */
int store_install(const struct catool_opts *o, const struct ca *ca);
/* Write ca as ca.next (staged).  0 or -1. */
int store_stage(const struct catool_opts *o, const struct ca *next);
/* Remove ca.next.*.  0 or -1. */
int store_unstage(const struct catool_opts *o);
/* ca.bundle.crt = cur (+ next).  0 or -1. */
int store_bundle(const struct catool_opts *o, const struct ca *cur,
    const struct ca *next);

/* If cur is a valid CA, say so ("use --force") and return true. */
bool store_refuse_valid(const struct catool_opts *o, const struct pair *cur);

/*
 * generate/import after validation: lock, install ca as current (refusing
 * a valid current one when refuse_valid), drop ca.next, rewrite the
 * bundle, print "<verb> <description>", signal.  Returns an exit code.
 */
int store_replace(const struct catool_opts *o, const struct ca *ca,
    const char *verb, bool refuse_valid);

/* A new CA per o (cn, key type, days, now); NULL after printing. */
struct ca *catool_generate(const struct catool_opts *o);

/* One-line description: "<fp prefix> <key type>, valid until <date>". */
void catool_describe(const struct ca *ca, char *buf, size_t len);

#endif
