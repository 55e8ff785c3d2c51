/*
 * control_client.c - the clients of the control socket: `gatewayd
 * sentinel ...` and `gatewayd stats`, and control_request() under both.
 * See control.h for the protocol.
 *
 * What it is: argument checks, the choice of socket (--socket PATH, the
 * control_socket of -c FILE, $GATEWAYD_CONTROL_SOCKET, the default), one
 * request and its answer on stdout.  What it is not: the server
 * (control.c).  A sentinel value is printed by `issue` and nowhere else.
 */
#include "control.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"

/* Start of the last line of s (the status line). */
static const char *
last_line(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '\n')
		n--;
	while (n > 0 && s[n - 1] != '\n')
		n--;
	return s + n;
}

int
control_request(const char *path, const char *line, char *out,
    size_t outlen)
{
	struct timeval tv = { 10, 0 };
	struct sockaddr_un sun;
	size_t n = 0, len = strlen(line);
	const char *last;
	ssize_t r;
	int fd, rc = -1;

	out[0] = '\0';
	if (control_sockaddr(path, &sun, out, outlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(out, outlen, "cannot reach gatewayd at %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		snprintf(out, outlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (n + 1 < outlen && (r = read(fd, out + n, outlen - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	last = last_line(out);
	if (strncmp(last, "OK", 2) == 0)
		rc = 0;
	else if (strncmp(last, "ERR", 3) == 0)
		rc = 1;
	else
		snprintf(out, outlen, "%s: no answer from gatewayd", path);
out:
	close(fd);
	return rc;
}

/* What a client's command line says (the options both clients take). */
struct target {
	const char	*sock;		/* --socket */
	const char	*conf;		/* -c */
};

/*
 * The socket to ask: --socket, else the control_socket of -c FILE, else
 * $GATEWAYD_CONTROL_SOCKET, else the default.  Copied into buf.  0, or
 * -1 when FILE is not a valid config (its errors on stderr).
 */
static int
target_socket(const struct target *t, char *buf, size_t len)
{
	const char *sock = getenv("GATEWAYD_CONTROL_SOCKET");
	struct gw_config *cfg;

	if (t->sock != NULL)
		sock = t->sock;
	else if (t->conf != NULL) {
		if ((cfg = config_load(t->conf, stderr)) == NULL)
			return -1;
		util_strlcpy(buf, cfg->control_socket, len);
		config_unref(cfg);
		return 0;
	}
	util_strlcpy(buf, sock != NULL && *sock != '\0' ? sock :
	    CONTROL_DEFAULT_SOCKET, len);
	return 0;
}

/*
 * Ask line and print the answer: the data lines (no status line), or
 * with issue only the value after "OK ".  Returns the exit status of
 * control.h.
 */
static int
ask(const char *prog, const struct target *t, const char *line,
    bool issue, bool quiet)
{
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path) + 1], *out;
	int rc;

	if (target_socket(t, sock, sizeof(sock)) != 0)
		return 1;
	out = xmalloc(CONTROL_ANSWER_MAX);
	rc = control_request(sock, line, out, CONTROL_ANSWER_MAX);
	if (rc == -1) {
		fprintf(stderr, "gatewayd %s: %s\n", prog, out);
		rc = 3;
	} else if (rc == 1) {
		fprintf(stderr, "gatewayd %s: %s", prog, last_line(out) + 4);
	} else if (issue) {
		printf("%s", out + 3);	/* "OK <sentinel>\n" */
	} else if (!quiet) {
		fwrite(out, 1, (size_t)(last_line(out) - out), stdout);
	}
	util_wipe(out, CONTROL_ANSWER_MAX);
	free(out);
	return rc;
}

#define TARGET_USAGE	"[--socket PATH | -c FILE]"

/* --help: the text on stdout, exit 0; a mistake: on stderr, exit 2. */
static int
sentinel_usage(bool help)
{
	fprintf(help ? stdout : stderr,
	    "usage: gatewayd sentinel " TARGET_USAGE " issue "
	    "--group G --guest ADDR|--vm NAME --secret NAME --ttl DURATION\n"
	    "       gatewayd sentinel " TARGET_USAGE " revoke VALUE|ID\n"
	    "       gatewayd sentinel " TARGET_USAGE " list\n"
	    "       gatewayd sentinel " TARGET_USAGE " stats\n");
	return help ? 0 : 2;
}

/* A word for the line protocol: printable, no space. */
static bool
word_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 200)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static const struct option sentinel_opts[] = {
	{ "socket", required_argument, NULL, 'S' },
	{ "group", required_argument, NULL, 'g' },
	{ "guest", required_argument, NULL, 'a' },
	{ "vm", required_argument, NULL, 'v' },
	{ "secret", required_argument, NULL, 's' },
	{ "ttl", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
sentinel_main(int argc, char **argv)
{
	struct target t = { NULL, NULL };
	const char *group = NULL, *guest = NULL, *secret = NULL, *ttl = NULL;
	const char *vm = NULL, *cmd, *first;
	char line[CONTROL_LINE_MAX], vmword[210];
	int ch, rc;

	optind = 0;	/* 0: glibc starts afresh, with this optstring's "+" */
	while ((ch = getopt_long(argc, argv, "+c:", sentinel_opts,
	    NULL)) != -1) {
		if (ch == 'S')
			t.sock = optarg;
		else if (ch == 'c')
			t.conf = optarg;
		else
			return sentinel_usage(ch == 'h');
	}
	if (optind >= argc)
		return sentinel_usage(false);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", sentinel_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'S': t.sock = optarg; break;
		case 'g': group = optarg; break;
		case 'a': guest = optarg; break;
		case 'v': vm = optarg; break;
		case 's': secret = optarg; break;
		case 't': ttl = optarg; break;
		case 'h': return sentinel_usage(true);
		default: return sentinel_usage(false);
		}
	}
	first = optind < argc ? argv[optind] : NULL;
	if (vm != NULL && guest == NULL && word_ok(vm)) {
		/* the daemon finds the VM's address on Slicer's map */
		snprintf(vmword, sizeof(vmword), "vm=%s", vm);
		guest = vmword;
	} else if (vm != NULL) {
		return sentinel_usage(false);	/* both, or a bad name */
	}
	if (strcmp(cmd, "issue") == 0 && optind == argc && word_ok(group) &&
	    word_ok(guest) && word_ok(secret) && word_ok(ttl))
		snprintf(line, sizeof(line), "ISSUE %s %s %s %s", group, guest,
		    secret, ttl);
	else if (strcmp(cmd, "revoke") == 0 && optind + 1 == argc &&
	    word_ok(first))
		snprintf(line, sizeof(line), "REVOKE %s", first);
	else if (strcmp(cmd, "list") == 0 && optind == argc)
		snprintf(line, sizeof(line), "LIST");
	else if (strcmp(cmd, "stats") == 0 && optind == argc)
		snprintf(line, sizeof(line), "STATS");
	else
		return sentinel_usage(false);
	rc = ask("sentinel", &t, line, strcmp(cmd, "issue") == 0,
	    strcmp(cmd, "revoke") == 0);
	util_wipe(line, sizeof(line));
	return rc;
}

int
control_stats_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct target t = { NULL, NULL };
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (ch == 'S')
			t.sock = optarg;
		else if (ch == 'c')
			t.conf = optarg;
		else
			goto usage;
	}
	if (optind == argc && (t.sock == NULL || t.conf == NULL))
		return ask("stats", &t, "STATS", false, false);
usage:
	fprintf(ch == 'h' ? stdout : stderr, "usage: gatewayd stats "
	    TARGET_USAGE "\n");
	return ch == 'h' ? 0 : 2;
}
