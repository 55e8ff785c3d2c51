/*
 * test_control.c - the control socket in a temporary directory: ISSUE,
 * LIST, REVOKE, STATS round trips, malformed requests, peer credential
 * check, stale and live sockets, a stalled peer that holds up nobody,
 * and the `gatewayd sentinel` client.  Each socket runs on a service
 * loop of its own (service.h), as in the daemon.
 */
#include "control.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service.h"
#include "slicer.h"
#include "tap.h"

/* A control socket served on a running service loop of its own. */
struct ctl {
	struct service	*svc;
	struct control	*c;
};

static bool
ctl_up(struct ctl *t, const char *sock, struct sentinel_store *st,
    const struct control_ops *ops, char *err, size_t errlen)
{
	t->svc = service_new();
	t->c = control_open(t->svc, sock, st, ops, err, errlen);
	if (t->c != NULL && service_start(t->svc) == 0)
		return true;
	control_close(t->c);
	service_free(t->svc);
	t->c = NULL;
	t->svc = NULL;
	return false;
}

static void
ctl_down(struct ctl *t)
{
	service_stop(t->svc);
	control_close(t->c);
	service_free(t->svc);
}

/* A connected client that has sent only part of its request. */
static int
stalled_peer(const char *sock, const char *part)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	util_strlcpy(sun.sun_path, sock, sizeof(sun.sun_path));
	AZ(connect(fd, (struct sockaddr *)&sun, sizeof(sun)));
	AN(write(fd, part, strlen(part)) == (ssize_t)strlen(part));
	return fd;
}

/* The rest of the request, then the whole answer. */
static void
finish_peer(int fd, const char *rest, char *out, size_t outlen)
{
	size_t n = 0;
	ssize_t r;

	AN(write(fd, rest, strlen(rest)) == (ssize_t)strlen(rest));
	while (n + 1 < outlen && (r = read(fd, out + n, outlen - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fd);
}

static int
check_issue(void *arg, const char *group, const char *secret, char *err,
    size_t errlen)
{
	if (strcmp(group, "agents") == 0 && strcmp(secret, "github") == 0)
		return 0;
	snprintf(err, errlen, "no secret %s in group %s", secret, group);
	return -1;
}

static size_t
stats(void *arg, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "audit_dropped 7\n");
}

/* Run a client's main (sentinel_main()) with stdout captured into out. */
static int
run_main(int (*fn)(int, char **), char *out, size_t outlen, int argc,
    char **argv)
{
	char path[] = "/tmp/test_control_out.XXXXXX";
	int fd = mkstemp(path), saved, rc;
	ssize_t n;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = fn(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

static int
run_cli(char *out, size_t outlen, int argc, char **argv)
{
	return run_main(sentinel_main, out, outlen, argc, argv);
}

/* `gatewayd stats` against sock, by --socket and by -c FILE. */
static void
stats_client(const char *dir, const char *sock)
{
	char conf[300], bad[300], out[8192];
	char *by_sock[] = { "stats", "--socket", (char *)sock, NULL };
	char *by_conf[] = { "stats", "-c", conf, NULL };
	char *by_bad[] = { "stats", "-c", bad, NULL };
	char *both[] = { "stats", "-c", conf, "--socket", (char *)sock, NULL };
	char *extra[] = { "stats", "--socket", (char *)sock, "now", NULL };
	char *sentinel_conf[] = { "sentinel", "-c", conf, "stats", NULL };
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/gw.conf", dir);
	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	f = fopen(conf, "w");
	fprintf(f, "control_socket = \"%s\";\ngroups = ( { name = \"a\"; "
	    "guests = [\"10.0.0.0/24\"]; capture = { http_port = 3128; "
	    "https_port = 3129; }; } );\n", sock);
	fclose(f);
	f = fopen(bad, "w");
	fputs("groups = (\n", f);
	fclose(f);

	is(run_main(control_stats_main, out, sizeof(out), 3, by_sock), 0,
	    "stats --socket");
	ok(strstr(out, "sentinels 1\naudit_dropped 7\n") != NULL &&
	    strstr(out, "OK") == NULL, "  the data lines, no status line");
	is(run_main(control_stats_main, out, sizeof(out), 3, by_conf), 0,
	    "stats -c FILE: the config's control_socket");
	ok(strstr(out, "audit_dropped 7\n") != NULL, "  same answer");
	is(run_main(control_stats_main, out, sizeof(out), 3, by_bad), 1,
	    "stats -c with an invalid config: exit 1");
	is(run_main(control_stats_main, out, sizeof(out), 5, both), 2,
	    "stats with both --socket and -c: usage");
	is(run_main(control_stats_main, out, sizeof(out), 4, extra), 2,
	    "stats with an argument: usage");
	is(run_cli(out, sizeof(out), 4, sentinel_conf), 0,
	    "sentinel -c FILE stats, without main.c's help");
	ok(strstr(out, "audit_dropped 7\n") != NULL, "  the STATS lines");
	unlink(conf);
	unlink(bad);
}

int
main(void)
{
	char dir[] = "/tmp/test_control.XXXXXX", sock[300], sub[256];
	char out[8192], tok[128], err[256], line[300];
	struct control_ops ops = { check_issue, stats, NULL };
	struct sentinel_store *st;
	struct ctl t, t2;
	struct addr a;
	struct stat sb;
	pid_t pid;
	int status, fd;

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(sock, sizeof(sock), "%s/control.sock", sub);
	st = sentinel_store_new(NULL, err, sizeof(err));
	if (!ok(ctl_up(&t, sock, st, &ops, err, sizeof(err)), "open: %s", err))
		return tap_done();
	ok(stat(sub, &sb) == 0 && (sb.st_mode & 0777) == 0700, "dir 0700");
	ok(stat(sock, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "socket 0600");

	ok(!ctl_up(&t2, sock, st, &ops, err, sizeof(err)) &&
	    strstr(err, "another gatewayd") != NULL,
	    "live socket not stolen: %s", err);

	/*
	 * One peer stalls in the middle of its line; another is served
	 * meanwhile, and the first still gets its answer when it goes on.
	 * (Served one at a time, the stalled peer would hold the second
	 * until its timeout and then get an error.)
	 */
	fd = stalled_peer(sock, "STA");
	is(control_request(sock, "LIST", out, sizeof(out)), 0,
	    "a peer is served while another stalls");
	finish_peer(fd, "TS\n", out, sizeof(out));
	if (!ok(strstr(out, "audit_dropped 7\nOK\n") != NULL,
	    "the stalled peer is answered when it finishes"))
		diag("%s", out);

	is(control_request(sock, "ISSUE agents 10.0.0.2 github 10m", out,
	    sizeof(out)), 0, "ISSUE");
	ok(strncmp(out, "OK " SENTINEL_PREFIX, 3 + SENTINEL_PREFIX_LEN) == 0 &&
	    strlen(out) == 3 + SENTINEL_LEN + 1, "ISSUE answers the sentinel");
	snprintf(tok, sizeof(tok), "%.*s", SENTINEL_LEN, out + 3);
	AZ(addr_parse("10.0.0.2", &a));
	is(sentinel_check(st, tok, strlen(tok), "agents", &a, "github"),
	    SENTINEL_OK, "issued sentinel is valid in the store");

	is(control_request(sock, "ISSUE agents 10.0.0.2 npm 10m", out,
	    sizeof(out)), 1, "ISSUE for an unknown secret refused");
	if (!ok(strstr(out, "no secret npm") != NULL, "daemon's reason given"))
		diag("%s", out);
	is(control_request(sock, "ISSUE agents notanip github 10m", out,
	    sizeof(out)), 1, "bad guest refused");
	is(control_request(sock, "ISSUE agents 10.0.0.2 github 10y", out,
	    sizeof(out)), 1, "bad ttl refused");
	is(control_request(sock, "ISSUE agents 10.0.0.2", out, sizeof(out)), 1,
	    "short ISSUE refused");
	is(control_request(sock, "ISSUE agents vm=agents-1 github 10m", out,
	    sizeof(out)), 1, "ISSUE for a VM with no Slicer map refused");
	if (!ok(strstr(out, "no VM named agents-1") != NULL, "the reason"))
		diag("%s", out);
	is(control_request(sock, "FROB", out, sizeof(out)), 1,
	    "unknown command");
	is(control_request(sock, "LIST\x01", out, sizeof(out)), 1,
	    "control byte refused");
	memset(line, 'A', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	is(control_request(sock, line, out, sizeof(out)), 1,
	    "long unknown word refused");

	is(control_request(sock, "LIST", out, sizeof(out)), 0, "LIST");
	if (!ok(strstr(out, " agents 10.0.0.2 github ") != NULL &&
	    strstr(out, " active\nOK 1\n") != NULL, "LIST line"))
		diag("%s", out);
	ok(strstr(out, tok) == NULL &&
	    strstr(out, tok + SENTINEL_PREFIX_LEN + 4) == NULL,
	    "LIST never shows the value");

	is(control_request(sock, "STATS", out, sizeof(out)), 0, "STATS");
	if (!ok(strstr(out, "sentinels 1\n") != NULL &&
	    strstr(out, "audit_dropped 7\n") != NULL, "STATS lines"))
		diag("%s", out);
	stats_client(dir, sock);

	snprintf(line, sizeof(line), "REVOKE %s", tok);
	is(control_request(sock, line, out, sizeof(out)), 0, "REVOKE");
	{
		char json[] = "[{\"hostname\":\"agents-1\",\"ip\":"
		    "\"169.254.60.2\"}]", perr[100], vtok[SENTINEL_LEN + 1];
		struct addr va;

		slicer_publish(slicer_map_parse(json, strlen(json), perr,
		    sizeof(perr)));
		is(control_request(sock, "ISSUE agents vm=agents-1 github 10m",
		    out, sizeof(out)), 0, "ISSUE for a VM by name");
		snprintf(vtok, sizeof(vtok), "%.*s", SENTINEL_LEN, out + 3);
		AZ(addr_parse("169.254.60.2", &va));
		is(sentinel_check(st, vtok, strlen(vtok), "agents", &va,
		    "github"), SENTINEL_OK, "bound to the VM's address");
		is(sentinel_check(st, vtok, strlen(vtok), "agents", &a,
		    "github"), SENTINEL_WRONG_GUEST, "not to another guest");
		is(control_request(sock, "ISSUE agents vm=agents-9 github 10m",
		    out, sizeof(out)), 1, "unknown VM name refused");
		slicer_publish(NULL);
	}
	is(sentinel_check(st, tok, strlen(tok), "agents", &a, "github"),
	    SENTINEL_REVOKED, "revoked in the store");
	is(control_request(sock, line, out, sizeof(out)), 0,
	    "REVOKE again is fine");
	is(control_request(sock, "REVOKE gwsnt_zzzz", out, sizeof(out)), 1,
	    "REVOKE unknown");

	/*
	 * A peer that is neither root nor the gateway's uid: stopped by the
	 * file modes, and with the modes opened up, by SO_PEERCRED.
	 */
	for (int loose = 0; loose < 2; loose++) {
		if (loose) {
			chmod(dir, 0711);
			chmod(sub, 0755);
			chmod(sock, 0666);
		}
		pid = fork();
		if (pid == 0) {
			char o[256];
			int rc;

			if (setgid(65534) == -1 || setuid(65534) == -1)
				_exit(77);
			rc = control_request(sock, "LIST", o, sizeof(o));
			_exit(loose ? (rc == 1 && strstr(o, "permission "
			    "denied") != NULL ? 0 : 1) : rc == -1 ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
			ok(1, "# SKIP peer credentials need root to test");
		else
			ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			    "other uid refused by %s", loose ? "SO_PEERCRED" :
			    "the file modes");
	}
	chmod(dir, 0700);
	chmod(sub, 0700);
	chmod(sock, 0600);

	{
		char *argv_issue[] = { "sentinel", "--socket", sock, "issue",
		    "--group", "agents", "--guest", "10.0.0.7", "--secret",
		    "github", "--ttl", "10m", NULL };
		char *argv_list[] = { "sentinel", "--socket", sock, "list",
		    NULL };
		char *argv_revoke[] = { "sentinel", "--socket", sock,
		    "revoke", tok, NULL };
		char *argv_bad[] = { "sentinel", "--socket", sock, "issue",
		    "--group", "agents", NULL };
		char *argv_nodaemon[] = { "sentinel", "--socket",
		    "/nonexistent/x.sock", "list", NULL };

		is(run_cli(out, sizeof(out), 12, argv_issue), 0, "cli issue");
		ok(strncmp(out, SENTINEL_PREFIX, SENTINEL_PREFIX_LEN) == 0 &&
		    strlen(out) == SENTINEL_LEN + 1, "cli issue prints only the "
		    "sentinel");
		is(run_cli(out, sizeof(out), 4, argv_list), 0, "cli list");
		ok(strstr(out, "10.0.0.7 github") != NULL &&
		    strstr(out, "revoked") != NULL && strstr(out, "OK") == NULL,
		    "cli list shows both, no status line");
		is(run_cli(out, sizeof(out), 5, argv_revoke), 0, "cli revoke");
		is(run_cli(out, sizeof(out), 6, argv_bad), 2, "cli usage");
		is(run_cli(out, sizeof(out), 4, argv_nodaemon), 3,
		    "cli: daemon unreachable");
	}

	ctl_down(&t);
	ok(access(sock, F_OK) == -1, "socket removed on close");

	{	/* a stale socket file from a crashed daemon is replaced */
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		util_strlcpy(sun.sun_path, sock, sizeof(sun.sun_path));
		AZ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)));
		close(fd);
		ok(ctl_up(&t, sock, st, NULL, err, sizeof(err)),
		    "stale socket replaced");
		is(control_request(sock, "ISSUE x 10.0.0.2 y 1m", out,
		    sizeof(out)), 0, "no ops: any names");
		ctl_down(&t);
	}
	close(open(sock, O_CREAT | O_WRONLY, 0600));
	ok(!ctl_up(&t, sock, st, NULL, err, sizeof(err)) &&
	    strstr(err, "not a socket") != NULL,
	    "a regular file is not removed: %s", err);
	unlink(sock);
	chmod(sub, 0777);
	ok(!ctl_up(&t, sock, st, NULL, err, sizeof(err)) &&
	    strstr(err, "not writable") != NULL,
	    "world-writable dir refused");

	sentinel_store_free(st);
	rmdir(sub);
	rmdir(dir);
	return tap_done();
}
