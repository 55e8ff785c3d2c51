/*
 * test_alog.c - audit log formats (Squid native layout, JSON escaping),
 * the writer thread, reopen and overflow accounting.
 */
#include "alog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "l4_alog.h"
#include "tap.h"

static struct alog_record
sample(void)
{
	struct alog_record r;

	memset(&r, 0, sizeof(r));
	r.kind = ALOG_HTTP;
	r.action = ALOG_ALLOW;
	r.time_ms = 1700000000123ull;
	r.duration_ms = 45;
	r.group = "agents";
	AZ(addr_parse("10.0.0.2", &r.client));
	r.client.port = 50123;
	AZ(addr_parse("198.18.0.10", &r.dst));
	r.dst.port = 443;
	r.upstream = r.dst;
	r.sni = "example.com";
	r.host = "example.com";
	r.method = "GET";
	r.url = "https://example.com/a/b?token=x&y=1";
	r.status = 200;
	r.bytes_in = 321;
	r.bytes_out = 1234;
	r.content_type = "text/html";
	r.rule = "rule 2 (line 14)";
	return r;
}

/* Split a Squid line on single spaces after the padded elapsed field. */
static int
squid_fields(const char *line)
{
	int n = 0, in = 0;

	for (; *line != '\0' && *line != '\n'; line++) {
		if (*line == ' ')
			in = 0;
		else if (!in)
			in = 1, n++;
	}
	return n;
}

static void
test_squid(void)
{
	struct alog_record r = sample();
	char buf[4096];
	size_t n;

	n = alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	is_str(buf, "1700000000.123     45 10.0.0.2 TCP_MISS/200 1234 GET "
	    "https://example.com/a/b?token=x&y=1 - HIER_DIRECT/198.18.0.10 "
	    "text/html\n", "squid: native layout, field for field");
	is(n, strlen(buf), "squid: length returned");
	is(squid_fields(buf), 10, "squid: ten fields");

	r.action = ALOG_DENY;
	r.status = 403;
	r.upstream.family = 0;
	r.content_type = NULL;
	r.bytes_out = 180;
	r.duration_ms = 1234567;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	is_str(buf, "1700000000.123 1234567 10.0.0.2 TCP_DENIED/403 180 GET "
	    "https://example.com/a/b?token=x&y=1 - HIER_NONE/- -\n",
	    "squid: deny, no peer, no type");

	r = sample();
	r.kind = ALOG_TUNNEL;
	r.action = ALOG_SPLICE;
	r.method = NULL;
	r.url = NULL;
	r.content_type = NULL;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	is_str(buf, "1700000000.123     45 10.0.0.2 TCP_TUNNEL/200 1234 "
	    "CONNECT example.com:443 - HIER_DIRECT/198.18.0.10 -\n",
	    "squid: spliced tunnel as CONNECT host:port");

	/* a tunnel its end cut short: Squid's suffixes, the code in JSON */
	r.kind = ALOG_TUNNEL;
	r.action = ALOG_ALLOW;
	r.status = 101;
	r.method = "GET";
	r.url = "http://ws.test/chat";
	r.reason = "idle timeout";
	r.end = "idle";
	r.cut = ALOG_CUT_TIMEDOUT;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	is_str(buf, "1700000000.123     45 10.0.0.2 TCP_TUNNEL_TIMEDOUT/101 "
	    "1234 GET http://ws.test/chat - HIER_DIRECT/198.18.0.10 -\n",
	    "squid: a tunnel ended by a timeout");
	is(squid_fields(buf), 10, "squid: ...still ten fields");
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	if (!ok(strstr(buf, "\"action\":\"allow\",\"rule\":\"rule 2 "
	    "(line 14)\",\"reason\":\"idle timeout\",\"end\":\"idle\"}") !=
	    NULL, "json: the end's reason and code, after the reason"))
		diag("%s", buf);
	r.action = ALOG_SPLICE;
	r.cut = ALOG_CUT_ABORTED;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	ok(strstr(buf, " TCP_TUNNEL_ABORTED/101 ") != NULL,
	    "squid: a spliced tunnel ended by an error");
	r.action = ALOG_DENY;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	ok(strstr(buf, " TCP_DENIED/101 ") != NULL,
	    "squid: no suffix on a denial");
	r.action = ALOG_ALLOW;
	r.cut = ALOG_CUT_NONE;
	r.end = "tunnel_closed";
	r.reason = NULL;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	ok(strstr(buf, " TCP_TUNNEL/101 ") != NULL,
	    "squid: no suffix when both sides closed");
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	ok(strstr(buf, "\"end\":\"tunnel_closed\"") != NULL &&
	    strstr(buf, "\"reason\"") == NULL, "json: a clean end: its "
	    "code, no reason");

	r = sample();
	r.kind = ALOG_FLOW;
	r.action = ALOG_DENY;
	r.status = 0;
	r.method = NULL;
	r.url = NULL;
	r.sni = NULL;
	r.host = NULL;
	r.proto = "tcp";
	r.upstream.family = 0;
	r.content_type = NULL;
	AZ(addr_parse("2001:2::5", &r.dst));
	r.dst.port = 22;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	is_str(buf, "1700000000.123     45 10.0.0.2 TCP_DENIED/000 1234 "
	    "TCP [2001:2::5]:22 - HIER_NONE/- -\n", "squid: L4 flow");

	r.kind = ALOG_DNS;
	r.action = ALOG_ALLOW;
	r.host = "example.com";
	r.proto = "AAAA";
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	is_str(buf, "1700000000.123     45 10.0.0.2 UDP_MISS/000 1234 "
	    "DNS example.com - HIER_NONE/- -\n", "squid: DNS query");

	r = sample();
	r.url = "http://x/a b\r\n1 2 3\x01\xff";
	r.method = "G T";
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	ok(strchr(buf, '\n') == buf + strlen(buf) - 1, "squid: hostile URL "
	    "stays one line");
	is(squid_fields(buf), 10, "squid: hostile URL stays one field");
	if (!ok(strstr(buf, "G%20T http://x/a%20b%0D%0A1%202%203%01%FF ") !=
	    NULL, "squid: unsafe bytes %%-encoded"))
		diag("%s", buf);

	r = sample();
	r.action = ALOG_ERROR;
	r.status = 400;
	r.upstream.family = 0;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	ok(strstr(buf, " NONE_NONE/400 ") != NULL, "squid: error w/o upstream");
	r.upstream = r.dst;
	r.status = 502;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	ok(strstr(buf, " TCP_MISS/502 ") != NULL, "squid: upstream error");

	r = sample();
	r.url = "https://h/p?t=gwsnt_abcdefghijklmnopqrstuvwxyz234567&x=1";
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	if (!ok(strstr(buf, " https://h/p?t=gwsnt_REDACTED&x=1 ") != NULL &&
	    strstr(buf, "abcdefgh") == NULL, "squid: sentinel in a URL "
	    "redacted"))
		diag("%s", buf);
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	ok(strstr(buf, "\"https://h/p?t=gwsnt_REDACTED&x=1\"") != NULL &&
	    strstr(buf, "abcdefgh") == NULL, "json: sentinel redacted");

	r = sample();
	alog_format(LOGFMT_SQUID, true, &r, buf, sizeof(buf));
	ok(strstr(buf, " https://example.com/a/b? - ") != NULL,
	    "squid: redact_query strips the query");
	ok(strstr(buf, "token") == NULL, "squid: redacted query not logged");
}

static void
test_json(void)
{
	struct alog_record r = sample();
	char buf[8192];
	size_t n;

	r.secret = "github";
	r.reason = "ok";
	n = alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	is_str(buf, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"kind\":\"http\","
	    "\"group\":\"agents\",\"client\":\"10.0.0.2\",\"client_port\":50123,"
	    "\"dst\":\"198.18.0.10:443\",\"upstream\":\"198.18.0.10\","
	    "\"sni\":\"example.com\",\"host\":\"example.com\",\"method\":\"GET\","
	    "\"url\":\"https://example.com/a/b?token=x&y=1\",\"status\":200,"
	    "\"bytes_in\":321,\"bytes_out\":1234,\"duration_ms\":45,"
	    "\"action\":\"allow\",\"rule\":\"rule 2 (line 14)\","
	    "\"reason\":\"ok\",\"secret\":\"github\","
	    "\"content_type\":\"text/html\"}\n", "json: all keys in order");
	is(n, strlen(buf), "json: length");

	r = sample();
	r.url = "https://h/\"q\\\n\r\t\x01\x1f\x7f|\xc3\xa9|\xff|\xe2\x80\xa8|"
	    "\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98\x80";
	r.sni = NULL;
	r.host = NULL;
	r.rule = NULL;
	r.content_type = NULL;
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	if (!ok(strstr(buf, "\"url\":\"https://h/\\\"q\\\\\\n\\r\\t\\u0001\\u001f"
	    "\\u007f|\xc3\xa9|\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd|"
	    "\\ufffd\\ufffd\\ufffd|\xf0\x9f\x98\x80\"") != NULL,
	    "json: hostile bytes escaped, valid UTF-8 kept"))
		diag("%s", buf);
	ok(strstr(buf, "\"sni\"") == NULL && strstr(buf, "\"rule\"") == NULL,
	    "json: absent values omitted");

	{
		char big[20000];

		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		r.url = big;
		r.reason = big;
		n = alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
		ok(n < sizeof(buf) - 1 &&
		    strcmp(buf + n - 2, "}\n") == 0,
		    "json: long fields cut, object still closed");
		ok(strstr(buf, "AAA...\"") != NULL, "json: cut marked");
	}

	r = sample();
	alog_format(LOGFMT_JSON, true, &r, buf, sizeof(buf));
	ok(strstr(buf, "\"url\":\"https://example.com/a/b?\"") != NULL,
	    "json: redact_query");

	/* report mode: "would" right after "action"; an 11th Squid field */
	r = sample();
	r.would = "deny";
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	ok(strstr(buf, "\"action\":\"allow\",\"would\":\"deny\","
	    "\"rule\":") != NULL, "json: would after action");
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	is(squid_fields(buf), 11, "squid: report mode adds one field");
	ok(strstr(buf, " text/html would=deny\n") != NULL,
	    "squid: would=deny last");
}

/* The record has no place for header values or bodies: every key output
 * with every field set is one of the documented keys. */
static void
test_no_secret_fields(void)
{
	static const char *allowed[] = {
		"time", "kind", "group", "client", "client_port", "dst",
		"upstream", "sni", "host", "method", "url", "proto", "status",
		"qtype", "bytes_in", "bytes_out", "duration_ms", "action",
		"verdict", "rule", "reason", "secret", "verify_error",
		"content_type", "answers",
	};
	struct alog_record r = sample();
	char buf[8192], key[64];
	const char *p;
	int bad = 0, nkeys = 0;
	size_t i;

	r.proto = "tcp";
	r.reason = "r";
	r.secret = "github";
	r.verify_error = "certificate has expired";
	r.answers = "198.18.0.1";
	r.qtype = "A";
	r.verdict = "accept";
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	for (p = buf; (p = strstr(p, ",\"")) != NULL;) {
		const char *e = strchr(p + 2, '"');
		int found = 0;

		if (e == NULL || e[1] != ':')
			break;
		snprintf(key, sizeof(key), "%.*s", (int)(e - p - 2), p + 2);
		for (i = 0; i < ARRAY_SIZE(allowed); i++)
			found |= strcmp(key, allowed[i]) == 0;
		bad += !found;
		nkeys++;
		p = e;
	}
	is(nkeys, (int)ARRAY_SIZE(allowed) - 1, "json: every field present");
	is(bad, 0, "json: no undocumented key");
	is(sizeof(struct alog_record) <= 256, 1,
	    "record stays small (no body or header storage)");
}

static char *
slurp(const char *path)
{
	static char buf[4 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd == -1)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_file_and_reopen(const char *dir)
{
	char path[512], rotated[512], err[256];
	struct alog_record r = sample();
	struct alog_stats st;
	struct alog *a;
	struct stat sb;
	int i;

	snprintf(path, sizeof(path), "%s/access.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/access.log.1", dir);
	a = alog_open("/nonexistent-dir/x.log", LOGFMT_SQUID, err, sizeof(err));
	ok(a == NULL && strstr(err, "/nonexistent-dir/x.log") != NULL,
	    "open failure reported: %s", err);

	a = alog_open(path, LOGFMT_SQUID, err, sizeof(err));
	ok(a != NULL, "open %s", path);
	if (a == NULL)
		return;
	for (i = 0; i < 3; i++)
		alog_write(a, &r);
	is(alog_flush(a, 2000), 0, "flush");
	is(count_lines(slurp(path)), 3, "three lines written");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640,
	    "file mode 0640");

	ok(rename(path, rotated) == 0, "logrotate moves the file");
	alog_write(a, &r);		/* may land in either file */
	is(alog_reopen(a), 0, "reopen");
	alog_write(a, &r);
	alog_write(a, &r);
	is(alog_flush(a, 2000), 0, "flush after reopen");
	is(count_lines(slurp(rotated)) + count_lines(slurp(path)), 6,
	    "no line lost across reopen");
	ok(count_lines(slurp(path)) >= 2, "new file gets the new lines");
	alog_stats(a, &st);
	is(st.lines, 6, "stats: lines");
	is(st.reopens, 1, "stats: reopens");
	is(st.dropped, 0, "stats: nothing dropped");
	alog_close(a);
	unlink(path);
	unlink(rotated);
}

/*
 * The L4 side through l4_alog_sink(): the JSON line keeps the verdict
 * word (accept/drop/reset, allow/refused/nxdomain), the DNS transport and
 * query type, and the answers.
 */
static void
test_l4_sink(const char *dir)
{
	static const struct {
		enum l4_audit_kind	kind;
		const char		*proto, *name, *qtype, *answers;
		const char		*verdict, *rule, *want;
	} cases[] = {
		{ L4_AUDIT_FLOW, "tcp", NULL, NULL, NULL, "accept", "pg",
		    "\"kind\":\"flow\",\"group\":\"agents\",\"client\":"
		    "\"10.67.0.2\",\"client_port\":40000,\"dst\":"
		    "\"198.18.0.12:5432\",\"method\":\"TCP\",\"url\":"
		    "\"198.18.0.12:5432\",\"proto\":\"tcp\",\"bytes_in\":0,"
		    "\"bytes_out\":0,\"duration_ms\":0,\"action\":\"allow\","
		    "\"verdict\":\"accept\",\"rule\":\"pg\"}\n" },
		{ L4_AUDIT_FLOW, "tcp", "echo.test", NULL, NULL, "reset", "r",
		    "\"host\":\"echo.test\",\"method\":\"TCP\",\"url\":"
		    "\"echo.test:5432\",\"proto\":\"tcp\"" },
		{ L4_AUDIT_FLOW, "tcp", "", NULL, NULL, "reset", "r",
		    "\"action\":\"deny\",\"verdict\":\"reset\"" },
		{ L4_AUDIT_FLOW, "udp", "", NULL, NULL, "drop", "default",
		    "\"action\":\"deny\",\"verdict\":\"drop\","
		    "\"rule\":\"default\"}" },
		{ L4_AUDIT_DNS, "dns/tcp", "echo.test", "A",
		    "NOERROR 198.18.0.12", "allow", "default",
		    "\"host\":\"echo.test\",\"method\":\"DNS\",\"url\":"
		    "\"echo.test\",\"proto\":\"dns/tcp\",\"qtype\":\"A\","
		    "\"bytes_in\":0,\"bytes_out\":0,\"duration_ms\":0,"
		    "\"action\":\"allow\",\"verdict\":\"allow\",\"rule\":"
		    "\"default\",\"answers\":\"NOERROR 198.18.0.12\"}\n" },
		{ L4_AUDIT_DNS, "dns/udp", "x.test", "HTTPS", NULL, "refused",
		    "deny .test", "\"qtype\":\"HTTPS\",\"bytes_in\":0,"
		    "\"bytes_out\":0,\"duration_ms\":0,\"action\":\"deny\","
		    "\"verdict\":\"refused\",\"rule\":\"deny .test\"}\n" },
		{ L4_AUDIT_DNS, "dns/udp", "x.test", "A", NULL, "nxdomain",
		    "deny .test", "\"verdict\":\"nxdomain\"" },
		{ L4_AUDIT_DNS, "dns/udp", "x.test", "A", "-", "servfail",
		    "no-upstream", "\"action\":\"error\",\"verdict\":"
		    "\"servfail\",\"rule\":\"no-upstream\"}\n" },
	};
	char path[512], err[256];
	struct addr guest, dst;
	struct l4_audit au;
	struct alog *a;
	const char *line;
	size_t i;

	snprintf(path, sizeof(path), "%s/l4.log", dir);
	AZ(addr_parse("10.67.0.2", &guest));
	guest.port = 40000;
	AZ(addr_parse("198.18.0.12", &dst));
	dst.port = 5432;
	a = alog_open(path, LOGFMT_JSON, err, sizeof(err));
	ok(a != NULL, "l4: open %s", path);
	if (a == NULL)
		return;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&au, 0, sizeof(au));
		au.kind = cases[i].kind;
		au.group = "agents";
		au.guest = &guest;
		au.dst = cases[i].kind == L4_AUDIT_FLOW ? &dst : NULL;
		au.proto = cases[i].proto;
		au.name = cases[i].name;
		au.qtype = cases[i].qtype;
		au.answers = cases[i].answers;
		au.verdict = cases[i].verdict;
		au.rule = cases[i].rule;
		l4_alog_sink(a, &au);
	}
	au.group = "-";
	au.verdict = "drop";
	au.rule = "no-group";
	l4_alog_sink(a, &au);
	is(alog_flush(a, 2000), 0, "l4: flush");
	line = slurp(path);
	is(count_lines(line), (int)ARRAY_SIZE(cases) + 1, "l4: one line each");
	for (i = 0; i < ARRAY_SIZE(cases) && line != NULL; i++) {
		const char *nl = strchr(line, '\n');
		char one[2048];

		snprintf(one, sizeof(one), "%.*s", nl ? (int)(nl - line + 1) :
		    (int)strlen(line), line);
		ok(strstr(one, cases[i].want) != NULL, "l4: %s %s: %.*s",
		    cases[i].proto, cases[i].verdict, (int)strcspn(one, "\n"),
		    one);
		line = nl ? nl + 1 : NULL;
	}
	ok(line != NULL && strstr(line, "\"group\"") == NULL &&
	    strstr(line, "\"rule\":\"no-group\"") != NULL,
	    "l4: no group: key omitted");
	alog_close(a);
	unlink(path);
}

/* A FIFO nobody reads: the writer blocks, producers must not. */
static void
test_overflow(const char *dir)
{
	char path[512], err[256], sink[65536];
	struct alog_record r = sample();
	struct alog_stats st;
	struct alog *a;
	uint64_t t0;
	int rfd, i, total = 40000;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600) == -1) {
		ok(0, "mkfifo: %s", strerror(errno));
		return;
	}
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	a = alog_open(path, LOGFMT_SQUID, err, sizeof(err));
	ok(a != NULL && rfd != -1, "open fifo");
	if (a == NULL)
		return;
	t0 = util_now_ms();
	for (i = 0; i < total; i++)
		alog_write(a, &r);
	ok(util_now_ms() - t0 < 5000, "producers never wait for the disk");
	alog_stats(a, &st);
	ok(st.dropped > 0, "overflow counted: %llu dropped",
	    (unsigned long long)st.dropped);
	is(st.lines + st.dropped, total, "every line accepted or counted");
	is(alog_flush(a, 100), -1, "flush times out while the disk is stuck");

	/* Drain so that the writer can finish: read whenever it has written. */
	t0 = util_now_ms();
	while (alog_flush(a, 0) != 0 && util_now_ms() - t0 < 10000) {
		struct pollfd pfd = { .fd = rfd, .events = POLLIN };

		if (poll(&pfd, 1, 100) > 0 &&
		    read(rfd, sink, sizeof(sink)) == -1 && errno != EAGAIN)
			break;
	}
	is(alog_flush(a, 2000), 0, "flush once drained");
	alog_close(a);
	close(rfd);
	unlink(path);
}

/*
 * The rotation happens at a fixed point of every writer's run, not after
 * a sleep: each writes 1000 lines, meets the main thread, waits while it
 * rotates, then writes 1000 more.  Both files must get lines.
 */
static pthread_barrier_t rot_before, rot_after;

static void *
writer_thread(void *arg)
{
	struct alog_record r = sample();
	int i;

	for (i = 0; i < 2000; i++) {
		if (i == 1000) {
			pthread_barrier_wait(&rot_before);
			pthread_barrier_wait(&rot_after);
		}
		alog_write(arg, &r);
	}
	return NULL;
}

/* Four workers write while the main thread rotates the file. */
static void
test_concurrent(const char *dir)
{
	char path[512], rotated[512], err[256];
	struct alog_stats st;
	pthread_t t[4];
	struct alog *a;
	int i, lines = 0;

	snprintf(path, sizeof(path), "%s/conc.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/conc.log.1", dir);
	a = alog_open(path, LOGFMT_JSON, err, sizeof(err));
	if (!ok(a != NULL, "open for concurrency"))
		return;
	AZ(pthread_barrier_init(&rot_before, NULL, 5));
	AZ(pthread_barrier_init(&rot_after, NULL, 5));
	for (i = 0; i < 4; i++)
		AZ(pthread_create(&t[i], NULL, writer_thread, a));
	pthread_barrier_wait(&rot_before);
	is(alog_flush(a, 5000), 0, "first half on disk before the rotation");
	AZ(rename(path, rotated));
	AZ(alog_reopen(a));
	pthread_barrier_wait(&rot_after);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	is(alog_flush(a, 5000), 0, "flush after concurrent writes");
	alog_stats(a, &st);
	lines = count_lines(slurp(path));
	ok(lines > 0, "lines written after the rotation reach the new file");
	i = count_lines(slurp(rotated));
	ok(i > 0, "lines written before it stay in the rotated one");
	lines += i;
	is(st.lines + st.dropped, 8000, "every write accounted for");
	is((uint64_t)lines, st.lines, "every accepted line on disk, whole");
	alog_close(a);
	unlink(path);
	unlink(rotated);
}

/* The VM from Slicer: Squid's user column, "vm"/"vm_group"/"tags". */
static void
test_vm(void)
{
	char *tags[] = { "user=alice", "a\"b" };
	struct slicer_vm vm = { .name = "agents-1", .group = "agents",
	    .tags = tags, .ntags = 2 };
	struct alog_record r = sample();
	char buf[4096];

	r.vm = &vm;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	if (!ok(strstr(buf, " agents-1 HIER_") != NULL,
	    "squid: VM name in the user column"))
		diag("%s", buf);
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	if (!ok(strstr(buf, ",\"client_port\":50123,\"vm\":\"agents-1\","
	    "\"vm_group\":\"agents\",\"tags\":[\"user=alice\",\"a\\\"b\"],")
	    != NULL, "json: vm, vm_group, tags"))
		diag("%s", buf);
	vm.name = "bad name\n";
	vm.group = NULL;
	vm.ntags = 0;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	ok(strstr(buf, " bad%20name%0A HIER_") != NULL,
	    "squid: a hostile VM name stays one field");
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	ok(strstr(buf, "\"vm\":\"bad name\\n\",\"tags\":[],") != NULL &&
	    strstr(buf, "vm_group") == NULL, "json: no group, empty tags");
	r.vm = NULL;
	alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	ok(strstr(buf, " - HIER_") != NULL, "squid: unknown VM is \"-\"");
	alog_format(LOGFMT_JSON, false, &r, buf, sizeof(buf));
	ok(strstr(buf, "\"vm\"") == NULL && strstr(buf, "\"tags\"") == NULL,
	    "json: unknown VM: no vm, no tags");
}

int
main(void)
{
	char dir[] = "/tmp/test_alog.XXXXXX";
	struct alog *a;
	char err[128];

	if (mkdtemp(dir) == NULL)
		return 99;
	test_squid();
	test_json();
	test_no_secret_fields();
	test_vm();
	test_file_and_reopen(dir);
	test_l4_sink(dir);
	test_overflow(dir);
	test_concurrent(dir);
	a = alog_open("-", LOGFMT_JSON, err, sizeof(err));
	ok(a != NULL && alog_reopen(a) == 0, "stdout: open, reopen no-op");
	alog_close(a);
	rmdir(dir);
	return tap_done();
}
