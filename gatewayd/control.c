/*
 * control.c - the control socket server (its own thread, one request per
 * connection, served one at a time) and `gatewayd sentinel`, its client.
 * See control.h for the protocol.
 *
 * Not here: what a sentinel means (sentinel.c, secrets.c) or the config
 * (the daemon answers check_issue through control_ops).  A sentinel value
 * crosses this module only in the ISSUE answer and a REVOKE request; it is
 * never logged.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "slicer.h"

#define CONTROL_MAGIC	0xc0471201u
#define IO_TIMEOUT_S	3
#define ANSWER_MAX	(256 * 1024)

struct control {
	unsigned		magic;
	char			*path;
	int			fd;
	int			wake[2];	/* pipe: stop the thread */
	struct sentinel_store	*st;
	struct control_ops	ops;
	pthread_t		thr;
};

/* A growing answer, bounded by ANSWER_MAX. */
struct answer {
	char	*p;
	size_t	len, cap;
};

static void PRINTF(2, 3)
ans_printf(struct answer *a, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (a->cap - a->len < 512 && a->cap < ANSWER_MAX) {
		a->cap = MIN(a->cap * 2, (size_t)ANSWER_MAX);
		a->p = xrealloc(a->p, a->cap);
	}
	va_start(ap, fmt);
	r = vsnprintf(a->p + a->len, a->cap - a->len, fmt, ap);
	va_end(ap);
	if (r > 0)
		a->len = MIN(a->len + (size_t)r, a->cap - 1);
}

static int
sockaddr_for(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	util_strlcpy(sun->sun_path, path, sizeof(sun->sun_path));
	return 0;
}

static void
iso_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
cmd_issue(struct control *c, char **av, int ac, struct answer *a)
{
	char tok[SENTINEL_LEN + 1], err[256], ip[ADDR_STRLEN];
	struct addr guest;
	uint64_t ttl;

	if (ac != 5) {
		ans_printf(a, "ERR usage: ISSUE group guest secret ttl\n");
		return;
	}
	if (strncmp(av[2], "vm=", 3) == 0) {
		if (slicer_guest_of(av[2] + 3, &guest, err, sizeof(err)) != 0) {
			ans_printf(a, "ERR %s\n", err);
			return;
		}
	} else if (addr_parse(av[2], &guest) == -1) {
		ans_printf(a, "ERR guest must be an IP address or vm=NAME\n");
		return;
	}
	addr_unmap(&guest);
	if (util_parse_duration_ms(av[4], &ttl) == -1) {
		ans_printf(a, "ERR bad ttl (e.g. 600, 10m, 2h)\n");
		return;
	}
	if (c->ops.check_issue != NULL &&
	    c->ops.check_issue(c->ops.arg, av[1], av[3], err,
	    sizeof(err)) == -1) {
		ans_printf(a, "ERR %s\n", err);
		return;
	}
	if (sentinel_issue(c->st, av[1], &guest, av[3], ttl, tok, err,
	    sizeof(err)) == -1) {
		ans_printf(a, "ERR %s\n", err);
		return;
	}
	log_info("control: sentinel issued for group %s guest %s secret %s "
	    "ttl %" PRIu64 "s", av[1], addr_ntop(&guest, ip, sizeof(ip)),
	    av[3], ttl / 1000);
	ans_printf(a, "OK %s\n", tok);
	util_wipe(tok, sizeof(tok));
}

static void
cmd_revoke(struct control *c, char **av, int ac, struct answer *a)
{
	int rc;

	if (ac != 2) {
		ans_printf(a, "ERR usage: REVOKE sentinel-or-id\n");
		return;
	}
	rc = sentinel_revoke(c->st, av[1]);
	if (rc == 0)
		log_info("control: sentinel revoked");
	ans_printf(a, "%s\n", rc == 0 ? "OK" : rc == -1 ?
	    "ERR unknown sentinel" : "ERR ambiguous id; give more digits");
}

static void
cmd_list(struct control *c, char **av, int ac, struct answer *a)
{
	char ip[ADDR_STRLEN], t1[32], t2[32];
	struct sentinel_info *v;
	size_t n, i, total;
	uint64_t now = util_wall_ms();

	total = sentinel_list(c->st, NULL, 0);
	v = xcalloc(total + 1, sizeof(*v));
	n = MIN(sentinel_list(c->st, v, total), total);
	for (i = 0; i < n; i++) {
		iso_time(v[i].issued_ms, t1, sizeof(t1));
		iso_time(v[i].expires_ms, t2, sizeof(t2));
		ans_printf(a, "%s %s %s %s %s %s %s\n", v[i].id, v[i].group,
		    addr_ntop(&v[i].guest, ip, sizeof(ip)), v[i].secret, t1, t2,
		    v[i].revoked ? "revoked" : v[i].expires_ms <= now ?
		    "expired" : "active");
	}
	ans_printf(a, "OK %zu\n", n);
	free(v);
}

static void
cmd_stats(struct control *c, char **av, int ac, struct answer *a)
{
	char buf[4096];

	ans_printf(a, "sentinels %zu\n", sentinel_list(c->st, NULL, 0));
	if (c->ops.stats != NULL) {
		buf[0] = '\0';
		c->ops.stats(c->ops.arg, buf, sizeof(buf));
		ans_printf(a, "%s", buf);
		if (a->len > 0 && a->p[a->len - 1] != '\n')
			ans_printf(a, "\n");
	}
	ans_printf(a, "OK\n");
}

static const struct {
	const char *name;
	void (*fn)(struct control *, char **, int, struct answer *);
} commands[] = {
	{ "ISSUE", cmd_issue },
	{ "REVOKE", cmd_revoke },
	{ "LIST", cmd_list },
	{ "STATS", cmd_stats },
};

/* Split line on single spaces into at most 8 words. */
static int
split(char *line, char **av)
{
	int ac = 0;
	char *save = NULL, *w;

	for (w = strtok_r(line, " ", &save); w != NULL && ac < 8;
	    w = strtok_r(NULL, " ", &save))
		av[ac++] = w;
	return w != NULL ? -1 : ac;
}

static void
serve(struct control *c, int fd)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	struct answer a = { xmalloc(4096), 0, 4096 };
	char line[CONTROL_LINE_MAX + 1], *av[8], *nl;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	size_t n = 0, i;
	ssize_t r;
	int ac;

	a.p[0] = '\0';
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Read the request first: closing with unread bytes sends a RST
	 * that could eat the answer. */
	while (n < CONTROL_LINE_MAX &&
	    (r = read(fd, line + n, CONTROL_LINE_MAX - n)) > 0) {
		n += (size_t)r;
		if (memchr(line, '\n', n) != NULL)
			break;
	}
	line[n] = '\0';
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == -1 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_warnx("control: peer uid %d refused",
		    cl == sizeof(cred) ? (int)cred.uid : -1);
		ans_printf(&a, "ERR permission denied\n");
		goto out;
	}
	if ((nl = strchr(line, '\n')) == NULL) {
		ans_printf(&a, "ERR request must be one line of at most %d "
		    "bytes\n", CONTROL_LINE_MAX - 1);
		goto out;
	}
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			break;
	if (line[i] != '\0' || (ac = split(line, av)) <= 0) {
		ans_printf(&a, "ERR malformed request\n");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(av[0], commands[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(commands))
		ans_printf(&a, "ERR unknown command (ISSUE, REVOKE, LIST, "
		    "STATS)\n");
	else
		commands[i].fn(c, av, ac, &a);
out:
	for (i = 0; i < a.len; i += (size_t)r)
		if ((r = send(fd, a.p + i, a.len - i, MSG_NOSIGNAL)) <= 0)
			break;
	util_wipe(line, sizeof(line));
	util_wipe(a.p, a.cap);
	free(a.p);
}

static void *
control_main(void *arg)
{
	struct control *c = arg;
	struct pollfd pfd[2];
	int fd;

	pfd[0].fd = c->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = c->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("control: poll");
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE)
				usleep(100 * 1000);	/* no spinning */
			continue;
		}
		serve(c, fd);
		close(fd);
	}
	return NULL;
}

/* The socket's directory: create 0700, or check an existing one. */
static int
prepare_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *slash;
	struct stat sb;

	util_strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST || stat(dir, &sb) == -1) {
		snprintf(err, errlen, "control socket directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode) || (sb.st_uid != 0 &&
	    sb.st_uid != geteuid()) || (sb.st_mode & 022) != 0) {
		snprintf(err, errlen, "control socket directory %s must be a "
		    "directory owned by root or uid %u, not writable by group "
		    "or others", dir, (unsigned)geteuid());
		return -1;
	}
	return 0;
}

/* Remove a stale socket; refuse a live one or any other file. */
static int
clear_stale(const char *path, const struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	struct stat sb;
	int fd, live;

	if (lstat(path, &sb) == -1)
		return 0;
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (live) {
		snprintf(err, errlen, "%s: another gatewayd is listening",
		    path);
		return -1;
	}
	(void)unlink(path);
	return 0;
}

struct control *
control_open(const char *path, struct sentinel_store *st,
    const struct control_ops *ops, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct control *c;

	if (sockaddr_for(path, &sun, err, errlen) == -1 ||
	    prepare_dir(path, err, errlen) == -1 ||
	    clear_stale(path, &sun, err, errlen) == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->magic = CONTROL_MAGIC;
	c->path = xstrdup(path);
	c->st = st;
	c->wake[0] = c->wake[1] = -1;
	if (ops != NULL)
		c->ops = *ops;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1 ||
	    bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0600) == -1 || listen(c->fd, 16) == -1 ||
	    pipe2(c->wake, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		goto err;
	}
	if (pthread_create(&c->thr, NULL, control_main, c) != 0) {
		snprintf(err, errlen, "control: cannot start thread");
		goto err;
	}
	return c;
err:
	if (c->fd != -1) {
		close(c->fd);
		(void)unlink(path);
	}
	if (c->wake[0] != -1) {
		close(c->wake[0]);
		close(c->wake[1]);
	}
	free(c->path);
	free(c);
	return NULL;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	AN(c->magic == CONTROL_MAGIC);
	(void)!write(c->wake[1], "x", 1);
	pthread_join(c->thr, NULL);
	close(c->fd);
	close(c->wake[0]);
	close(c->wake[1]);
	(void)unlink(c->path);
	free(c->path);
	c->magic = 0;
	free(c);
}

/* --- client ------------------------------------------------------- */

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
	if (sockaddr_for(path, &sun, out, outlen) == -1)
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

/* --help: the text on stdout, exit 0; a mistake: on stderr, exit 2. */
static int
usage(bool help)
{
	fprintf(help ? stdout : stderr,
	    "usage: gatewayd sentinel [--socket PATH | -c FILE] issue "
	    "--group G --guest ADDR|--vm NAME --secret NAME --ttl DURATION\n"
	    "       gatewayd sentinel [--socket PATH | -c FILE] revoke "
	    "VALUE|ID\n"
	    "       gatewayd sentinel [--socket PATH | -c FILE] list\n"
	    "       gatewayd sentinel [--socket PATH | -c FILE] stats\n");
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

int
sentinel_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "group", required_argument, NULL, 'g' },
		{ "guest", required_argument, NULL, 'a' },
		{ "vm", required_argument, NULL, 'v' },
		{ "secret", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("GATEWAYD_CONTROL_SOCKET");
	const char *group = NULL, *guest = NULL, *secret = NULL, *ttl = NULL;
	const char *vm = NULL;
	char vmword[210];
	const char *cmd, *first;
	char line[CONTROL_LINE_MAX], *out;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch == 'S')
			sock = optarg;
		else
			return usage(ch == 'h');
	}
	if (optind >= argc)
		return usage(false);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'S': sock = optarg; break;
		case 'g': group = optarg; break;
		case 'a': guest = optarg; break;
		case 'v': vm = optarg; break;
		case 's': secret = optarg; break;
		case 't': ttl = optarg; break;
		case 'h': return usage(true);
		default: return usage(false);
		}
	}
	if (sock == NULL || *sock == '\0')
		sock = CONTROL_DEFAULT_SOCKET;
	first = optind < argc ? argv[optind] : NULL;
	if (vm != NULL && guest == NULL && word_ok(vm)) {
		/* the daemon finds the VM's address on Slicer's map */
		snprintf(vmword, sizeof(vmword), "vm=%s", vm);
		guest = vmword;
	} else if (vm != NULL) {
		return usage(false);	/* both, or a bad name */
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
		return usage(false);

	out = xmalloc(ANSWER_MAX);
	rc = control_request(sock, line, out, ANSWER_MAX);
	util_wipe(line, sizeof(line));
	if (rc == -1) {
		fprintf(stderr, "gatewayd sentinel: %s\n", out);
		rc = 3;
	} else if (rc == 1) {
		fprintf(stderr, "gatewayd sentinel: %s", last_line(out) + 4);
	} else if (strcmp(cmd, "issue") == 0) {
		printf("%s", out + 3);	/* "OK <sentinel>\n" */
	} else if (strcmp(cmd, "revoke") != 0) {
		/* the data lines, without the final OK line */
		fwrite(out, 1, (size_t)(last_line(out) - out), stdout);
	}
	util_wipe(out, ANSWER_MAX);
	free(out);
	return rc;
}
