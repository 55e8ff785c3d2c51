/*
 * test_control.c - the control socket in a temporary directory: ISSUE,
 * LIST, REVOKE, STATS round trips, malformed requests, peer credential
 * check, stale and live sockets, and the `gatewayd sentinel` client.
 */
#include "control.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slicer.h"
#include "tap.h"

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

/* Run sentinel_main() with stdout captured into out. */
static int
run_cli(char *out, size_t outlen, int argc, char **argv)
{
	char path[] = "/tmp/test_control_out.XXXXXX";
	int fd = mkstemp(path), saved, rc;
	ssize_t n;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = sentinel_main(argc, argv);
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

int
main(void)
{
	char dir[] = "/tmp/test_control.XXXXXX", sock[300], sub[256];
	char out[8192], tok[128], err[256], line[300];
	struct control_ops ops = { check_issue, stats, NULL };
	struct sentinel_store *st;
	struct control *c, *c2;
	struct addr a;
	struct stat sb;
	pid_t pid;
	int status;

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(sock, sizeof(sock), "%s/control.sock", sub);
	st = sentinel_store_new(NULL, err, sizeof(err));
	c = control_open(sock, st, &ops, err, sizeof(err));
	if (!ok(c != NULL, "open: %s", c ? sock : err))
		return tap_done();
	ok(stat(sub, &sb) == 0 && (sb.st_mode & 0777) == 0700, "dir 0700");
	ok(stat(sock, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "socket 0600");

	c2 = control_open(sock, st, &ops, err, sizeof(err));
	ok(c2 == NULL && strstr(err, "another gatewayd") != NULL,
	    "live socket not stolen: %s", err);

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
	ok(strstr(out, "no secret npm") != NULL, "daemon's reason: %s", out);
	is(control_request(sock, "ISSUE agents notanip github 10m", out,
	    sizeof(out)), 1, "bad guest refused");
	is(control_request(sock, "ISSUE agents 10.0.0.2 github 10y", out,
	    sizeof(out)), 1, "bad ttl refused");
	is(control_request(sock, "ISSUE agents 10.0.0.2", out, sizeof(out)), 1,
	    "short ISSUE refused");
	is(control_request(sock, "ISSUE agents vm=agents-1 github 10m", out,
	    sizeof(out)), 1, "ISSUE for a VM with no Slicer map refused");
	ok(strstr(out, "no VM named agents-1") != NULL, "reason: %s", out);
	is(control_request(sock, "FROB", out, sizeof(out)), 1,
	    "unknown command");
	is(control_request(sock, "LIST\x01", out, sizeof(out)), 1,
	    "control byte refused");
	memset(line, 'A', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	is(control_request(sock, line, out, sizeof(out)), 1,
	    "long unknown word refused");

	is(control_request(sock, "LIST", out, sizeof(out)), 0, "LIST");
	ok(strstr(out, " agents 10.0.0.2 github ") != NULL &&
	    strstr(out, " active\nOK 1\n") != NULL, "LIST line: %s", out);
	ok(strstr(out, tok) == NULL &&
	    strstr(out, tok + SENTINEL_PREFIX_LEN + 4) == NULL,
	    "LIST never shows the value");

	is(control_request(sock, "STATS", out, sizeof(out)), 0, "STATS");
	ok(strstr(out, "sentinels 1\n") != NULL &&
	    strstr(out, "audit_dropped 7\n") != NULL, "STATS lines: %s", out);

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

	control_close(c);
	ok(access(sock, F_OK) == -1, "socket removed on close");

	{	/* a stale socket file from a crashed daemon is replaced */
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		util_strlcpy(sun.sun_path, sock, sizeof(sun.sun_path));
		AZ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)));
		close(fd);
		c = control_open(sock, st, NULL, err, sizeof(err));
		ok(c != NULL, "stale socket replaced");
		is(control_request(sock, "ISSUE x 10.0.0.2 y 1m", out,
		    sizeof(out)), 0, "no ops: any names");
		control_close(c);
	}
	close(open(sock, O_CREAT | O_WRONLY, 0600));
	c = control_open(sock, st, NULL, err, sizeof(err));
	ok(c == NULL && strstr(err, "not a socket") != NULL,
	    "a regular file is not removed: %s", err);
	unlink(sock);
	chmod(sub, 0777);
	c = control_open(sock, st, NULL, err, sizeof(err));
	ok(c == NULL && strstr(err, "not writable") != NULL,
	    "world-writable dir refused");

	sentinel_store_free(st);
	rmdir(sub);
	rmdir(dir);
	return tap_done();
}
