/*
 * common.c - ca-tool's option table and parser, group-name validation,
 * messages, and the reload signal.
 *
 * One table lists every option once with the subcommands that accept it,
 * so usage text and parsing cannot drift apart (redis static_configs[]
 * style).  Certificate work is in libgw (ca.c); the on-disk protocol is
 * in store.c.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catool.h"
#include "fileio.h"

enum opt_id {
	OPT_DIR = 256, OPT_CN, OPT_KEY_TYPE, OPT_DAYS, OPT_KEY_GROUP,
	OPT_FORCE, OPT_QUIET, OPT_JSON, OPT_WINDOW, OPT_STAGE, OPT_PIDFILE,
	OPT_CERT, OPT_KEY, OPT_SHELL, OPT_GUEST_CA, OPT_BUNDLE, OPT_HELP,
};

#define CMD_WRITE	(CMD_GENERATE | CMD_ROTATE | CMD_IMPORT)
#define CMD_NEW		(CMD_GENERATE | CMD_ROTATE)

static const struct opt_def {
	const char	*name;
	int		has_arg;
	int		id;
	unsigned	cmds;
	const char	*arg;
	const char	*help;
} opt_defs[] = {
	{ "dir", 1, OPT_DIR, CMD_ALL, "DIR",
	  "base directory (default $" CATOOL_ENV_DIR " or "
	  CATOOL_DEFAULT_DIR ")" },
	{ "cn", 1, OPT_CN, CMD_NEW, "NAME",
	  "subject CN (default \"<group> egress CA\")" },
	{ "key-type", 1, OPT_KEY_TYPE, CMD_NEW, "TYPE",
	  "p256 (default), p384, rsa2048, rsa3072, rsa4096" },
	{ "days", 1, OPT_DAYS, CMD_NEW, "N", "validity in days (default 1095)" },
	{ "key-group", 1, OPT_KEY_GROUP, CMD_WRITE, "NAME",
	  "ca.key 0640 and the directory 0750, owned by group NAME" },
	{ "force", 0, OPT_FORCE, CMD_GENERATE, NULL,
	  "replace a valid CA" },
	{ "quiet", 0, OPT_QUIET, CMD_WRITE, NULL,
	  "no output when there is nothing to do" },
	{ "json", 0, OPT_JSON, CMD_STATUS | CMD_ENV, NULL, "JSON output" },
	{ "shell", 0, OPT_SHELL, CMD_ENV, NULL,
	  "sh lines to source in the guest (default)" },
	{ "guest-ca", 1, OPT_GUEST_CA, CMD_ENV, "PATH",
	  "the CA's path in the guest (default " CATOOL_GUEST_CA ", Slicer's)" },
	{ "bundle", 1, OPT_BUNDLE, CMD_ENV, "PATH",
	  "the merged bundle's path in the guest (default "
	  CATOOL_GUEST_BUNDLE_DIR "/<group>-bundle.pem)" },
	{ "window", 1, OPT_WINDOW, CMD_ROTATE | CMD_STATUS, "DAYS",
	  "rotate this close to expiry (default 7)" },
	{ "stage", 1, OPT_STAGE, CMD_ROTATE | CMD_STATUS, "DAYS",
	  "pre-publish the next CA DAYS before the switch" },
	{ "reload-pidfile", 1, OPT_PIDFILE, CMD_WRITE, "FILE",
	  "send SIGHUP to this pid after a change" },
	{ "cert", 1, OPT_CERT, CMD_IMPORT, "FILE", "CA certificate (PEM)" },
	{ "key", 1, OPT_KEY, CMD_IMPORT, "FILE", "CA private key (PEM)" },
	{ "help", 0, OPT_HELP, CMD_ALL, NULL, "this text" },
};

static const char *
cmd_name(unsigned cmd)
{
	switch (cmd) {
	case CMD_GENERATE:	return "generate";
	case CMD_ROTATE:	return "rotate";
	case CMD_STATUS:	return "status";
	case CMD_ENV:		return "env";
	default:		return "import";
	}
}

/* " [generate,rotate]": the commands taking an option not all take. */
static void
print_cmds(FILE *f, unsigned cmds)
{
	const char *sep = " [";
	unsigned j;

	if (cmds == CMD_ALL)
		return;
	for (j = CMD_GENERATE; j <= CMD_ENV; j <<= 1)
		if (cmds & j) {
			fprintf(f, "%s%s", sep, cmd_name(j));
			sep = ",";
		}
	fprintf(f, "]");
}

void
catool_print_options(FILE *f, unsigned cmds)
{
	bool several = (cmds & (cmds - 1)) != 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opt_defs); i++) {
		char left[40];

		if (!(opt_defs[i].cmds & cmds))
			continue;
		snprintf(left, sizeof(left), "--%s%s%s", opt_defs[i].name,
		    opt_defs[i].arg ? " " : "",
		    opt_defs[i].arg ? opt_defs[i].arg : "");
		fprintf(f, "  %-24s %s", left, opt_defs[i].help);
		if (several)
			print_cmds(f, opt_defs[i].cmds);
		fprintf(f, "\n");
	}
}

static void
usage(FILE *f, unsigned cmd)
{
	fprintf(f, "usage: ca-tool %s <group> [options]\n", cmd_name(cmd));
	catool_print_options(f, cmd);
}

bool
catool_group_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > CATOOL_GROUP_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
			return false;
		if (c == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

/* A POSIX-ish group name: [A-Za-z_][A-Za-z0-9_.-]*, at most 32. */
static bool
unix_group_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 32 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/*
 * A path printed into sh lines for the guest: absolute, or under $HOME
 * (expanded in the guest), of characters that need no quoting, so the
 * kit can never carry shell syntax.
 */
static bool
guest_path_ok(const char *s)
{
	if (strncmp(s, "$HOME/", 6) == 0)
		s += 5;
	if (s[0] != '/' || strstr(s, "/../") != NULL || strlen(s) > 200)
		return false;
	for (; *s != '\0'; s++)
		if (!(isalnum((unsigned char)*s) || strchr("._-/", *s) != NULL))
			return false;
	return true;
}

static int
parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
parse_now(struct catool_opts *o)
{
	const char *s = getenv(CATOOL_ENV_NOW);
	long long v;
	char *end;

	o->now = time(NULL);
	if (s == NULL || s[0] == '\0')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || errno != 0 || *end != '\0' ||
	    v > 253402300799LL) {
		fprintf(stderr, "ca-tool: %s must be a Unix time in seconds\n",
		    CATOOL_ENV_NOW);
		return -1;
	}
	o->now = (time_t)v;
	return 0;
}

static int
bad(const struct catool_opts *o, const char *what, const char *val)
{
	fprintf(stderr, "ca-tool %s: invalid %s: \"%s\"\n", cmd_name(o->cmd),
	    what, val);
	return CATOOL_EXIT_USAGE;
}

static int
set_opt(struct catool_opts *o, int id, const char *arg)
{
	switch (id) {
	case OPT_DIR:
		if (arg[0] == '\0')
			return bad(o, "--dir", arg);
		o->dir = arg;
		break;
	case OPT_CN:
		if (arg[0] == '\0' || strlen(arg) > 64)
			return bad(o, "--cn (1..64 bytes)", arg);
		o->cn = arg;
		break;
	case OPT_KEY_TYPE:
		if (ca_key_type_parse(arg, &o->key_type) == -1)
			return bad(o, "--key-type", arg);
		break;
	case OPT_DAYS:
		if (parse_uint(arg, 1, CA_MAX_DAYS, &o->days) == -1)
			return bad(o, "--days (1..36500)", arg);
		break;
	case OPT_KEY_GROUP:
		if (!unix_group_ok(arg))
			return bad(o, "--key-group", arg);
		o->key_group = arg;
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case OPT_QUIET:
		o->quiet = true;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_WINDOW:
		if (parse_uint(arg, 0, CATOOL_MAX_WINDOW, &o->window) == -1)
			return bad(o, "--window (0..3650 days)", arg);
		break;
	case OPT_STAGE:
		if (parse_uint(arg, 0, CATOOL_MAX_WINDOW, &o->stage) == -1)
			return bad(o, "--stage (0..3650 days)", arg);
		break;
	case OPT_PIDFILE:
		o->pidfile = arg;
		break;
	case OPT_CERT:
		o->cert = arg;
		break;
	case OPT_KEY:
		o->key = arg;
		break;
	case OPT_SHELL:
		o->json = false;
		break;
	case OPT_GUEST_CA:
	case OPT_BUNDLE:
		if (!guest_path_ok(arg))
			return bad(o, id == OPT_BUNDLE ? "--bundle (an absolute "
			    "path or $HOME/..., of A-Z a-z 0-9 . _ - /)" :
			    "--guest-ca (an absolute path or $HOME/..., of "
			    "A-Z a-z 0-9 . _ - /)", arg);
		*(id == OPT_BUNDLE ? &o->bundle : &o->guest_ca) = arg;
		break;
	default:
		WRONG("option table");
	}
	return 0;
}

/* Checks that need the whole command line. */
static int
finish(struct catool_opts *o)
{
	const char *env = getenv(CATOOL_ENV_DIR);

	if (o->dir == NULL)
		o->dir = env != NULL && env[0] != '\0' ? env :
		    CATOOL_DEFAULT_DIR;
	if (!catool_group_ok(o->group)) {
		fprintf(stderr, "ca-tool %s: invalid group name \"%s\" (1..%d "
		    "of A-Z a-z 0-9 . _ -, starting with a letter or digit, "
		    "no \"..\")\n", cmd_name(o->cmd), o->group,
		    CATOOL_GROUP_MAX);
		return CATOOL_EXIT_USAGE;
	}
	/*
	 * Slicer's isolated mode names VMs "<group>-<N>" in at most 15
	 * characters: a longer group still gets its CA (bridge mode has no
	 * such limit), with a warning while it can be renamed cheaply.
	 */
	if ((o->cmd & (CMD_GENERATE | CMD_IMPORT)) != 0 && !o->quiet &&
	    strlen(o->group) > SLICER_ISOLATED_GROUP_MAX)
		fprintf(stderr, "ca-tool %s: warning: group name \"%s\" is "
		    "longer than %d characters: in Slicer's isolated mode "
		    "\"%s-N\" must fit in 15, which leaves room for fewer "
		    "than 99 VMs\n", cmd_name(o->cmd), o->group,
		    SLICER_ISOLATED_GROUP_MAX, o->group);
	if ((size_t)snprintf(o->groupdir, sizeof(o->groupdir), "%s/%s",
	    o->dir, o->group) >= sizeof(o->groupdir)) {
		fprintf(stderr, "ca-tool: directory path too long\n");
		return CATOOL_EXIT_USAGE;
	}
	if (o->cn == NULL) {
		snprintf(o->cnbuf, sizeof(o->cnbuf), "%s egress CA", o->group);
		o->cn = o->cnbuf;
	}
	if (o->cmd == CMD_IMPORT && (o->cert == NULL || o->key == NULL)) {
		fprintf(stderr, "ca-tool import: --cert and --key are "
		    "required\n");
		return CATOOL_EXIT_USAGE;
	}
	if (o->key_group != NULL) {
		struct group *gr = getgrnam(o->key_group);

		if (gr == NULL) {
			fprintf(stderr, "ca-tool %s: no such group \"%s\"\n",
			    cmd_name(o->cmd), o->key_group);
			return CATOOL_EXIT_ERR;
		}
		o->key_gid = gr->gr_gid;
	}
	return parse_now(o) == -1 ? CATOOL_EXIT_USAGE : 0;
}

int
catool_parse(int argc, char **argv, unsigned cmd, struct catool_opts *o)
{
	struct option lopts[ARRAY_SIZE(opt_defs) + 1];
	size_t i, n = 0;
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->key_type = CA_KEY_P256;
	o->days = CA_DEFAULT_DAYS;
	o->window = CATOOL_DEFAULT_WINDOW;
	o->guest_ca = CATOOL_GUEST_CA;
	o->key_gid = (gid_t)-1;
	for (i = 0; i < ARRAY_SIZE(opt_defs); i++) {
		if (!(opt_defs[i].cmds & cmd))
			continue;
		lopts[n++] = (struct option){ opt_defs[i].name,
		    opt_defs[i].has_arg ? required_argument : no_argument,
		    NULL, opt_defs[i].id };
	}
	memset(&lopts[n], 0, sizeof(lopts[n]));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			usage(stdout, cmd);
			return -1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "ca-tool %s: %s option: %s\n",
			    cmd_name(cmd), c == '?' ? "unknown" :
			    "missing argument for", argv[optind - 1]);
			usage(stderr, cmd);
			return CATOOL_EXIT_USAGE;
		}
		if ((rc = set_opt(o, c, optarg)) != 0)
			return rc;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "ca-tool %s: expected one group name\n",
		    cmd_name(cmd));
		usage(stderr, cmd);
		return CATOOL_EXIT_USAGE;
	}
	o->group = argv[optind];
	return finish(o);
}

void
catool_say(const struct catool_opts *o, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", o->group);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void
catool_err(const struct catool_opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ca-tool %s %s: ", cmd_name(o->cmd), o->group);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

int
catool_reload(const struct catool_opts *o)
{
	char err[512], *buf = NULL, *end;
	long pid;
	int rc = -1;

	if (o->pidfile == NULL)
		return 0;
	if (fileio_read(o->pidfile, 64, &buf, NULL, err, sizeof(err)) == -1) {
		catool_err(o, "cannot signal the gateway: %s", err);
		return -1;
	}
	errno = 0;
	pid = strtol(buf, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (!isdigit((unsigned char)buf[0]) || errno != 0 || *end != '\0' ||
	    pid <= 1 || pid > 4194304) {
		catool_err(o, "%s: no valid pid in the file", o->pidfile);
	} else if (kill((pid_t)pid, SIGHUP) == -1) {
		catool_err(o, "kill -HUP %ld: %s", pid, strerror(errno));
	} else {
		rc = 0;
	}
	free(buf);
	return rc;
}

struct ca *
catool_generate(const struct catool_opts *o)
{
	struct ca_gen_params p = { o->cn, o->key_type, o->days, o->now };
	char err[512];
	struct ca *ca = ca_generate(&p, err, sizeof(err));

	if (ca == NULL)
		catool_err(o, "%s", err);
	return ca;
}

void
catool_json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void
catool_describe(const struct ca *ca, char *buf, size_t len)
{
	struct ca_info info;
	char until[32];

	ca_get_info(ca, &info);
	ca_format_time(info.not_after, until, sizeof(until));
	snprintf(buf, len, "%s, %s, SHA-256 %.23s..., valid until %s",
	    info.subject, info.key_type, info.fingerprint, until);
}
