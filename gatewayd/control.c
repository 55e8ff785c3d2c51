/*
 * control.c - the control socket server (non-blocking, on the service
 * loop, one request per connection, at most CONTROL_MAX_PEERS at once).
 * Its clients are in control_client.c.
 * See control.h for the protocol.
 *
 * Not here: what a sentinel means (sentinel.c, secrets.c) or the config
 * (the daemon answers check_issue through control_ops).  A sentinel value
 * crosses this module only in the ISSUE answer and a REVOKE request; it is
 * never logged.
 */
#include "control.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "service.h"
#include "slicer.h"

#define CONTROL_MAGIC	0xc0471201u
#define IO_TIMEOUT_S	3		/* a peer's whole request and answer */
#define ACCEPT_BACKOFF_MS 100

/* A growing answer, bounded by CONTROL_ANSWER_MAX. */
struct answer {
	char	*p;
	size_t	len, cap;
};

/* One client connection: its request, then its answer. */
struct peer {
	struct loop_io	io;		/* first: the callback casts */
	struct control	*c;
	struct peer	*next;
	char		line[CONTROL_LINE_MAX + 1];
	size_t		n;
	struct answer	a;		/* p NULL: still reading */
	size_t		off;		/* of a, sent */
	uint64_t	deadline;
};

struct control {
	struct loop_io		io;	/* the listener; first: casts */
	unsigned		magic;
	struct loop		*loop;	/* the service loop */
	char			*path;
	struct sentinel_store	*st;
	struct control_ops	ops;
	struct peer		*peers;
	unsigned		npeers;
	bool			paused;	/* listener not heard until resume_at */
	uint64_t		resume_at;
};

static void PRINTF(2, 3)
ans_printf(struct answer *a, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (a->cap - a->len < 512 && a->cap < CONTROL_ANSWER_MAX) {
		a->cap = MIN(a->cap * 2, (size_t)CONTROL_ANSWER_MAX);
		a->p = xrealloc(a->p, a->cap);
	}
	va_start(ap, fmt);
	r = vsnprintf(a->p + a->len, a->cap - a->len, fmt, ap);
	va_end(ap);
	if (r > 0)
		a->len = MIN(a->len + (size_t)r, a->cap - 1);
}

int
control_sockaddr(const char *path, struct sockaddr_un *sun, char *err,
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

/*
 * The answer to one request (line, NUL-terminated): the peer's
 * credentials first, then one line of printable words.
 */
static void
answer_request(struct control *c, int fd, char *line, struct answer *a)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char *av[8], *nl;
	size_t i;
	int ac;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == -1 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_warnx("control: peer uid %d refused",
		    cl == sizeof(cred) ? (int)cred.uid : -1);
		ans_printf(a, "ERR permission denied\n");
		return;
	}
	if ((nl = strchr(line, '\n')) == NULL) {
		ans_printf(a, "ERR request must be one line of at most %d "
		    "bytes\n", CONTROL_LINE_MAX - 1);
		return;
	}
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			break;
	if (line[i] != '\0' || (ac = split(line, av)) <= 0) {
		ans_printf(a, "ERR malformed request\n");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(av[0], commands[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(commands))
		ans_printf(a, "ERR unknown command (ISSUE, REVOKE, LIST, "
		    "STATS)\n");
	else
		commands[i].fn(c, av, ac, a);
}

static void
peer_close(struct peer *pr)
{
	struct control *c = pr->c;
	struct peer **pp;

	for (pp = &c->peers; *pp != pr; pp = &(*pp)->next)
		;
	*pp = pr->next;
	c->npeers--;
	loop_io_del(c->loop, &pr->io);
	close(pr->io.fd);
	util_wipe(pr->line, sizeof(pr->line));
	if (pr->a.p != NULL) {
		util_wipe(pr->a.p, pr->a.cap);
		free(pr->a.p);
	}
	free(pr);
}

/*
 * Read the whole request before answering: closing with unread bytes
 * sends a RST that could eat the answer.  Returns true once the request
 * is complete (a newline, the size limit or the peer's EOF).
 */
static bool
peer_read(struct peer *pr)
{
	ssize_t r;

	while (pr->n < CONTROL_LINE_MAX) {
		r = read(pr->io.fd, pr->line + pr->n, CONTROL_LINE_MAX - pr->n);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return false;
		if (r <= 0)
			return true;
		pr->n += (size_t)r;
		if (memchr(pr->line, '\n', pr->n) != NULL)
			return true;
	}
	return true;
}

/* Edge-triggered: read what there is, answer, write what fits. */
static void
peer_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct peer *pr = (struct peer *)io;
	ssize_t r;

	if (pr->a.p == NULL) {
		if (!peer_read(pr))
			return;
		pr->line[pr->n] = '\0';
		pr->a.p = xmalloc(4096);
		pr->a.cap = 4096;
		pr->a.p[0] = '\0';
		answer_request(pr->c, pr->io.fd, pr->line, &pr->a);
	}
	while (pr->off < pr->a.len) {
		r = send(pr->io.fd, pr->a.p + pr->off, pr->a.len - pr->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0)
			break;
		pr->off += (size_t)r;
	}
	peer_close(pr);
}

/* The listener is level-triggered: stop hearing it, or it spins. */
static void
pause_accept(struct control *c, uint64_t ms)
{
	c->paused = true;
	c->resume_at = loop_now(c->loop) + ms;
	if (loop_io_mod(c->loop, &c->io, 0) != 0)
		log_warn("control: epoll");
}

static void
accept_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct control *c = (struct control *)io;
	struct peer *pr;
	int fd;

	for (;;) {
		if (c->npeers >= CONTROL_MAX_PEERS) {
			/* The backlog waits until a peer is done. */
			pause_accept(c, 0);
			return;
		}
		fd = accept4(c->io.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				pause_accept(c, ACCEPT_BACKOFF_MS);
			return;
		}
		pr = xcalloc(1, sizeof(*pr));
		pr->io.fd = fd;
		pr->io.cb = peer_cb;
		pr->c = c;
		pr->deadline = loop_now(loop) + IO_TIMEOUT_S * 1000;
		pr->next = c->peers;
		c->peers = pr;
		c->npeers++;
		if (loop_io_add(loop, &pr->io, false) != 0) {
			log_warn("control: epoll");
			peer_close(pr);
		}
	}
}

/* The service tick: drop stalled peers, resume a paused listener. */
static void
control_tick(void *arg, uint64_t now)
{
	struct control *c = arg;
	struct peer *pr, *next;

	for (pr = c->peers; pr != NULL; pr = next) {
		next = pr->next;
		if (pr->deadline <= now)
			peer_close(pr);
	}
	if (c->paused && now >= c->resume_at &&
	    c->npeers < CONTROL_MAX_PEERS) {
		c->paused = false;
		if (loop_io_mod(c->loop, &c->io, EPOLLIN) != 0)
			log_warn("control: epoll");
	}
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
control_open(struct service *svc, const char *path, struct sentinel_store *st,
    const struct control_ops *ops, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct control *c;

	if (control_sockaddr(path, &sun, err, errlen) == -1 ||
	    prepare_dir(path, err, errlen) == -1 ||
	    clear_stale(path, &sun, err, errlen) == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->magic = CONTROL_MAGIC;
	c->loop = service_loop(svc);
	c->path = xstrdup(path);
	c->st = st;
	c->io.cb = accept_cb;
	if (ops != NULL)
		c->ops = *ops;
	c->io.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->io.fd == -1 ||
	    bind(c->io.fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0600) == -1 || listen(c->io.fd, 16) == -1 ||
	    loop_io_add(c->loop, &c->io, true) == -1) {
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		goto err;
	}
	if (service_add_tick(svc, control_tick, c) != 0) {
		snprintf(err, errlen, "control: no tick left on the service "
		    "loop");
		loop_io_del(c->loop, &c->io);
		goto err;
	}
	return c;
err:
	if (c->io.fd != -1) {
		close(c->io.fd);
		(void)unlink(path);
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
	while (c->peers != NULL)
		peer_close(c->peers);
	loop_io_del(c->loop, &c->io);
	close(c->io.fd);
	(void)unlink(c->path);
	free(c->path);
	c->magic = 0;
	free(c);
}
