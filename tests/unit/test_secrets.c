/*
 * test_secrets.c - loading (permissions, env, trimming, refusal
 * messages), reload on file replacement, and the secrets_apply() decision
 * table: look-alike hosts, IP literals, port/path/method outside the rule,
 * placeholders, sentinels from the wrong guest, expired, revoked,
 * require_sentinel, plain HTTP, VM tags.
 */
#include "secrets.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

/* The wall clock the code under test reads: expiry without sleeping. */
static uint64_t fake_now = 1800000000000ull;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static char dir[] = "/tmp/test_secrets.XXXXXX";

static void
put_file(const char *path, const char *data, mode_t mode)
{
	char tmp[600];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	AN(fd != -1);
	AN(write(fd, data, strlen(data)) == (ssize_t)strlen(data));
	AZ(fchmod(fd, mode));
	close(fd);
	AZ(rename(tmp, path));	/* replace, as a rotation would */
}

static struct addr
ip(const char *s)
{
	struct addr a;

	AZ(addr_parse(s, &a));
	return a;
}

/* One request through secrets_apply(); the header list is "Name: value"
 * strings. */
struct reqspec {
	const char	*guest;
	const char	*host;
	uint16_t	port;
	const char	*method;
	const char	*path;
	const char	*hdrs[4];
	bool		plain;
	char *const	*tags;		/* the guest VM's tags */
	size_t		ntags;
};

static struct secrets_result
run(struct secrets *s, struct sentinel_store *st, const struct reqspec *q,
    char *line, size_t linelen, int *rc)
{
	struct http_header h[4];
	struct secrets_result res;
	struct secrets_req r;
	struct addr g = ip(q->guest ? q->guest : "10.0.0.2");
	size_t n;

	memset(&r, 0, sizeof(r));
	for (n = 0; n < 4 && q->hdrs[n] != NULL; n++) {
		const char *c = strchr(q->hdrs[n], ':');

		h[n].name.p = q->hdrs[n];
		h[n].name.len = (size_t)(c - q->hdrs[n]);
		h[n].value.p = c + 2;
		h[n].value.len = strlen(c + 2);
	}
	r.guest = &g;
	r.host = q->host;
	r.port = q->port ? q->port : 443;
	r.method = q->method ? q->method : "GET";
	r.method_len = strlen(r.method);
	r.path = q->path ? q->path : "/repos/x/y";
	r.path_len = strlen(r.path);
	r.headers = h;
	r.nheaders = n;
	r.intercepted = !q->plain;
	r.tags = q->tags;
	r.ntags = q->ntags;
	*rc = secrets_apply(s, st, &r, line, linelen, &res);
	if (res.verdict == SECRETS_INJECT)
		line[res.line_len] = '\0';
	else
		line[0] = '\0';
	return res;
}

static struct secret_config sc[3];
static struct group_config grp;
static char f_github[512], f_npm[512];

static void
setup(void)
{
	snprintf(f_github, sizeof(f_github), "%s/github", dir);
	snprintf(f_npm, sizeof(f_npm), "%s/npm", dir);
	put_file(f_github, "ghp_REALVALUE1\n", 0600);

	memset(sc, 0, sizeof(sc));
	sc[0].name = "github";
	sc[0].host = "api.github.com";
	sc[0].path_prefix = "/repos/";
	sc[0].methods = METHOD_GET | METHOD_POST;
	sc[0].source = SECRET_FILE;
	sc[0].source_ref = f_github;
	sc[0].placeholder = "PLACEHOLDER";
	sc[0].line = 12;

	sc[1].name = "npm";
	sc[1].host = ".npm.example";
	sc[1].host_suffix = true;
	sc[1].port = 8443;
	sc[1].header = "X-Api-Key";
	sc[1].format = "%s";
	sc[1].source = SECRET_ENV;
	sc[1].source_ref = "TEST_SECRETS_NPM";
	sc[1].require_sentinel = true;
	sc[1].line = 20;

	memset(&grp, 0, sizeof(grp));
	grp.name = "agents";
	grp.secrets = sc;
	grp.nsecrets = 2;
	setenv("TEST_SECRETS_NPM", "npm_ENVVALUE\r\n\n", 1);
}

static void
test_load(void)
{
	struct secrets *s;
	char err[1024];

	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s != NULL, "load: %s", s ? "ok" : err);
	is(secrets_count(s), 2, "two secrets");
	secrets_free(s);

	put_file(f_github, "ghp_REALVALUE1\n", 0644);
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s == NULL, "world-readable file refused");
	ok(strstr(err, "gw.conf:12: secret \"github\"") != NULL &&
	    strstr(err, "0644") != NULL && strstr(err, "REALVALUE") == NULL,
	    "message names file:line and mode, not the value: %s", err);

	put_file(f_github, "ghp_REALVALUE1\n", 0640);
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s == NULL && strstr(err, "0640") != NULL, "group-readable refused");

	put_file(f_github, "ghp_REALVALUE1\n", 0600);
	AZ(chown(f_github, 4242, (gid_t)-1));
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s == NULL && strstr(err, "uid 4242") != NULL,
	    "foreign owner refused: %s", err);
	AZ(chown(f_github, geteuid(), (gid_t)-1));

	put_file(f_github, "ghp_REAL\nVALUE\n", 0600);
	setenv("TEST_SECRETS_NPM", "", 1);
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	if (!ok(s == NULL && strstr(err, "control") != NULL &&
	    strstr(err, "gw.conf:20: secret \"npm\"") != NULL &&
	    strchr(err, '\n') != NULL, "embedded newline and empty env, both "
	    "reported"))
		diag("%s", err);

	unsetenv("TEST_SECRETS_NPM");
	put_file(f_github, "ghp_REALVALUE1\n", 0600);
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s == NULL && strstr(err, "TEST_SECRETS_NPM is not set") != NULL,
	    "unset env refused");
	setenv("TEST_SECRETS_NPM", "npm_ENVVALUE\r\n\n", 1);

	sc[0].format = "Bearer %s %s";
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s == NULL && strstr(err, "format") != NULL, "two %%s refused");
	sc[0].format = "Bearer %%s";
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s == NULL && strstr(err, "format") != NULL, "escaped %%s only: "
	    "refused");
	sc[0].format = "Bearer %d";
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s == NULL && strstr(err, "format") != NULL, "%%d refused");
	sc[0].format = "100%% %s%%";
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	ok(s != NULL, "%%%% allowed");
	{
		struct reqspec q = { .host = "api.github.com" };
		char line[128];
		int rc;

		run(s, NULL, &q, line, sizeof(line), &rc);
		is_str(line, "Authorization: 100% ghp_REALVALUE1%\r\n",
		    "%%%% rendered as %%");
	}
	secrets_free(s);
	sc[0].format = NULL;
}

static void
test_apply(void)
{
	char line[256], tokA[SENTINEL_LEN + 1], tokN[SENTINEL_LEN + 1];
	char tokX[SENTINEL_LEN + 1], tokE[SENTINEL_LEN + 1], err[256];
	char hA[128], hN[128], hX[128], hE[128], hBasic[256], hOther[128];
	struct addr a = ip("10.0.0.2");
	struct sentinel_store *st;
	struct secrets_result r;
	struct secrets *s;
	int rc;

	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	st = sentinel_store_new(NULL, err, sizeof(err));
	if (!ok(s != NULL && st != NULL, "setup"))
		return;
	AZ(sentinel_issue(st, "agents", &a, "github", 600000, tokA, err,
	    sizeof(err)));
	AZ(sentinel_issue(st, "agents", &a, "npm", 600000, tokN, err,
	    sizeof(err)));
	AZ(sentinel_issue(st, "agents", &a, "github", 600000, tokX, err,
	    sizeof(err)));
	AZ(sentinel_issue(st, "agents", &a, "github", 1000, tokE, err,
	    sizeof(err)));
	AZ(sentinel_revoke(st, tokX));
	snprintf(hA, sizeof(hA), "Authorization: Bearer %s", tokA);
	snprintf(hN, sizeof(hN), "X-Api-Key: %s", tokN);
	snprintf(hX, sizeof(hX), "Authorization: Bearer %s", tokX);
	snprintf(hE, sizeof(hE), "Authorization: Bearer %s", tokE);
	snprintf(hOther, sizeof(hOther), "X-Other: %s", tokA);
	{
		/* base64("x-access-token:" + token), as git sends it */
		static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/";
		char raw[128], *o;
		size_t i, n;

		n = (size_t)snprintf(raw, sizeof(raw), "x-access-token:%s",
		    tokA);
		o = hBasic + snprintf(hBasic, sizeof(hBasic),
		    "Authorization: Basic ");
		for (i = 0; i < n; i += 3) {
			uint32_t v = (uint32_t)(unsigned char)raw[i] << 16 |
			    (i + 1 < n ? (unsigned char)raw[i + 1] : 0) << 8 |
			    (i + 2 < n ? (unsigned char)raw[i + 2] : 0);

			*o++ = tbl[v >> 18 & 63];
			*o++ = tbl[v >> 12 & 63];
			*o++ = i + 1 < n ? tbl[v >> 6 & 63] : '=';
			*o++ = i + 2 < n ? tbl[v & 63] : '=';
		}
		*o = '\0';
	}

	struct {
		const char	*what;
		struct reqspec	q;
		enum secrets_verdict verdict;
		const char	*expect;	/* line or reason substring */
	} t[] = {
	{ "placeholder replaced", { .host = "api.github.com", .hdrs = {
	    "Authorization: Bearer PLACEHOLDER" } }, SECRETS_INJECT,
	    "Authorization: Bearer ghp_REALVALUE1\r\n" },
	{ "nothing sent: injected", { .host = "api.github.com" },
	    SECRETS_INJECT, "Authorization: Bearer ghp_REALVALUE1\r\n" },
	{ "POST allowed", { .host = "api.github.com", .method = "POST" },
	    SECRETS_INJECT, "ghp_REALVALUE1" },
	{ "look-alike suffix host", { .host = "api.github.com.evil.example" },
	    SECRETS_NONE, NULL },
	{ "look-alike prefix host", { .host = "evilapi.github.com" },
	    SECRETS_NONE, NULL },
	{ "subdomain of an exact host", { .host = "x.api.github.com" },
	    SECRETS_NONE, NULL },
	{ "IP literal", { .host = "140.82.112.6" }, SECRETS_NONE, NULL },
	{ "IPv6 literal", { .host = "2001:db8::1" }, SECRETS_NONE, NULL },
	{ "no host", { .host = NULL }, SECRETS_NONE, NULL },
	{ "other port", { .host = "api.github.com", .port = 8443 },
	    SECRETS_NONE, NULL },
	{ "path outside", { .host = "api.github.com", .path = "/user" },
	    SECRETS_NONE, NULL },
	{ "prefix without slash", { .host = "api.github.com",
	    .path = "/repos" }, SECRETS_NONE, NULL },
	/* a path with no single reading never gets a path-scoped secret:
	 * refused, whichever way the server would have read it */
	{ "dot-dot escape", { .host = "api.github.com",
	    .path = "/repos/../user" }, SECRETS_REFUSE, "ambiguous path" },
	{ "encoded dot-dot", { .host = "api.github.com",
	    .path = "/repos/%2E%2e/user" }, SECRETS_REFUSE, "ambiguous path" },
	{ "double slash", { .host = "api.github.com",
	    .path = "/repos//x" }, SECRETS_REFUSE, "ambiguous path" },
	{ "leading double slash", { .host = "api.github.com",
	    .path = "//repos/x" }, SECRETS_REFUSE, "ambiguous path" },
	{ "%00", { .host = "api.github.com",
	    .path = "/repos/x%00/../../user" }, SECRETS_REFUSE,
	    "ambiguous path" },
	{ "%00 alone", { .host = "api.github.com",
	    .path = "/repos/x%00" }, SECRETS_REFUSE, "ambiguous path" },
	{ "..;", { .host = "api.github.com",
	    .path = "/repos/..;/user" }, SECRETS_REFUSE, "ambiguous path" },
	{ "path parameter", { .host = "api.github.com",
	    .path = "/repos;x/a" }, SECRETS_REFUSE, "ambiguous path" },
	{ "backslash", { .host = "api.github.com",
	    .path = "/repos/..\\user" }, SECRETS_REFUSE, "ambiguous path" },
	{ "%2F where the prefix has /", { .host = "api.github.com",
	    .path = "/repos%2Fx" }, SECRETS_REFUSE, "ambiguous path" },
	/* %2F inside the prefix's reach: both readings are under it */
	{ "encoded slash", { .host = "api.github.com",
	    .path = "/repos/a%2fb" }, SECRETS_INJECT, "ghp_REALVALUE1" },
	{ "encoded unreserved", { .host = "api.github.com",
	    .path = "/re%70os/x" }, SECRETS_INJECT, "ghp_REALVALUE1" },
	/* method outside: the path does not matter */
	{ "method outside, odd path", { .host = "api.github.com",
	    .method = "DELETE", .path = "//x" }, SECRETS_NONE, NULL },
	/* no path-scoped secret for the host: forwarded untouched */
	{ "odd path, secret without path", { .host = "registry.npm.example",
	    .port = 8443, .path = "/a/..;//%00", .hdrs = { hN } },
	    SECRETS_INJECT, "X-Api-Key: npm_ENVVALUE\r\n" },
	{ "query may hold dots", { .host = "api.github.com",
	    .path = "/repos/a?x=../y" }, SECRETS_INJECT, "ghp_REALVALUE1" },
	{ "method outside", { .host = "api.github.com", .method = "DELETE" },
	    SECRETS_NONE, NULL },
	{ "plain HTTP", { .host = "api.github.com", .plain = true },
	    SECRETS_NONE, NULL },
	{ "valid sentinel", { .host = "api.github.com", .hdrs = { hA } },
	    SECRETS_INJECT, "Authorization: Bearer ghp_REALVALUE1\r\n" },
	{ "valid sentinel in Basic", { .host = "api.github.com",
	    .hdrs = { hBasic } }, SECRETS_INJECT, "ghp_REALVALUE1" },
	{ "guest A's sentinel used by B", { .guest = "10.0.0.3",
	    .host = "api.github.com", .hdrs = { hA } }, SECRETS_REFUSE,
	    "another guest" },
	{ "B's Basic with A's sentinel", { .guest = "10.0.0.3",
	    .host = "api.github.com", .hdrs = { hBasic } }, SECRETS_REFUSE,
	    "another guest" },
	{ "revoked sentinel", { .host = "api.github.com", .hdrs = { hX } },
	    SECRETS_REFUSE, "revoked" },
	{ "sentinel for another secret", { .host = "api.github.com",
	    .hdrs = { "Authorization: Bearer x", hN } }, SECRETS_REFUSE,
	    "another secret" },
	{ "sentinel in another header", { .host = "api.github.com",
	    .hdrs = { hOther } }, SECRETS_REFUSE, "outside the credential" },
	{ "sentinel to a host without secret", { .host = "evil.example",
	    .hdrs = { hA } }, SECRETS_REFUSE, "not issued for" },
	{ "sentinel to a look-alike", { .host = "api.github.com.evil.example",
	    .hdrs = { hA } }, SECRETS_REFUSE, "not issued for" },
	{ "sentinel over plain HTTP", { .host = "api.github.com",
	    .plain = true, .hdrs = { hA } }, SECRETS_REFUSE, "plain HTTP" },
	{ "unknown sentinel", { .host = "api.github.com", .hdrs = {
	    "Authorization: Bearer gwsnt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" } },
	    SECRETS_REFUSE, "unknown" },
	{ "sentinel in the query", { .host = "api.github.com",
	    .path = "/repos/a?access_token=gwsnt_abc" }, SECRETS_REFUSE,
	    "in the URL" },
	{ "sentinel in a query to another host", { .host = "evil.example",
	    .path = "/?gwsnt_abcdef" }, SECRETS_REFUSE, "in the URL" },
	{ "require_sentinel, none", { .host = "registry.npm.example",
	    .port = 8443 }, SECRETS_NONE, NULL },
	{ "require_sentinel, placeholder only", { .host = "npm.example",
	    .port = 8443, .hdrs = { "X-Api-Key: PLACEHOLDER" } },
	    SECRETS_NONE, NULL },
	{ "require_sentinel, valid", { .host = "registry.npm.example",
	    .port = 8443, .hdrs = { hN } }, SECRETS_INJECT,
	    "X-Api-Key: npm_ENVVALUE\r\n" },
	{ "suffix look-alike", { .host = "badnpm.example", .port = 8443,
	    .hdrs = { hN } }, SECRETS_REFUSE, "not issued for" },
	{ "require_sentinel, other guest", { .guest = "10.0.0.9",
	    .host = "npm.example", .port = 8443, .hdrs = { hN } },
	    SECRETS_REFUSE, "another guest" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		r = run(s, st, &t[i].q, line, sizeof(line), &rc);
		is(r.verdict, t[i].verdict, "%s: verdict", t[i].what);
		if (t[i].verdict == SECRETS_INJECT)
			ok(rc == 0 && strstr(line, t[i].expect) != NULL,
			    "%s: line", t[i].what);
		if (t[i].verdict == SECRETS_REFUSE)
			ok(r.reason != NULL && strstr(r.reason, t[i].expect) &&
			    strstr(r.reason, SENTINEL_PREFIX) == NULL,
			    "%s: reason \"%s\"", t[i].what, r.reason);
	}

	{
		struct reqspec q = { .host = "api.github.com",
		    .path = "/repos/..;/user" };

		r = run(s, st, &q, line, sizeof(line), &rc);
		is_str(r.detail, "';' path parameter", "an ambiguous path: "
		    "the detail says what");
		is_str(r.secret, "github", "... and the secret it was near");
	}
	r = run(s, st, &t[0].q, line, sizeof(line), &rc);
	ok(strcmp(r.header, "Authorization") == 0 &&
	    strcmp(r.secret, "github") == 0 && !r.via_sentinel,
	    "inject names the header to drop and the secret");
	r = run(s, st, &t[0].q, line, 20, &rc);
	ok(rc == -1 && r.verdict == SECRETS_NONE, "small buffer: -1");

	fake_now += 1100;
	{
		struct reqspec q = { .host = "api.github.com", .hdrs = { hE } };

		r = run(s, st, &q, line, sizeof(line), &rc);
		ok(r.verdict == SECRETS_REFUSE && strstr(r.reason, "expired"),
		    "expired sentinel refused");
	}
	ok(secrets_apply(NULL, NULL, &(struct secrets_req){ .host = "x",
	    .method = "GET", .method_len = 3, .path = "/", .path_len = 1,
	    .intercepted = true, .guest = &a }, line, sizeof(line), &r) == 0 &&
	    r.verdict == SECRETS_NONE, "group without secrets: none");
	sentinel_store_free(st);
	secrets_free(s);
}

static void
test_refresh(void)
{
	struct reqspec q = { .host = "api.github.com" };
	struct secrets_result r;
	struct secrets *s;
	char err[512], line[256];
	int rc;

	put_file(f_github, "ghp_REALVALUE1\n", 0600);
	s = secrets_load(&grp, "gw.conf", err, sizeof(err));
	if (!ok(s != NULL, "load for refresh"))
		return;
	is(secrets_refresh(s), 0, "refresh: nothing changed");
	put_file(f_github, "ghp_ROTATED2\n", 0600);
	is(secrets_refresh(s), 1, "refresh: replaced file reloaded");
	r = run(s, NULL, &q, line, sizeof(line), &rc);
	ok(strstr(line, "Bearer ghp_ROTATED2\r\n") != NULL,
	    "rotated value in use");

	put_file(f_github, "ghp_OPEN3\n", 0644);
	is(secrets_refresh(s), -1, "refresh: too-open file refused");
	is(secrets_refresh(s), -1, "refresh: still refused (logged once)");
	r = run(s, NULL, &q, line, sizeof(line), &rc);
	ok(strstr(line, "ghp_ROTATED2") != NULL, "previous value kept");

	unlink(f_github);
	is(secrets_refresh(s), -1, "refresh: missing file");
	put_file(f_github, "ghp_BACK4", 0600);
	is(secrets_refresh(s), 1, "refresh: file back");
	r = run(s, NULL, &q, line, sizeof(line), &rc);
	ok(strstr(line, "ghp_BACK4\r\n") != NULL && r.verdict == SECRETS_INJECT,
	    "new value, no trailing newline needed");
	secrets_free(s);
}

/* A secret with tags is injected only for VMs that carry all of them. */
static void
test_tags(void)
{
	char *want[] = { "ci", "team=a" };
	char *vm_ok[] = { "team=a", "x", "ci" }, *vm_part[] = { "ci" };
	struct secret_config t = { .name = "tagged", .host = "api.test",
	    .source = SECRET_ENV, .source_ref = "TEST_SECRETS_TAGGED",
	    .tags = want, .ntags = 2, .line = 30 };
	struct group_config g = { .name = "agents", .secrets = &t,
	    .nsecrets = 1 };
	struct secrets_result res;
	struct secrets *s;
	char err[512], line[1024];
	int rc;

	setenv("TEST_SECRETS_TAGGED", "tok_TAGGED", 1);
	s = secrets_load(&g, "gw.conf", err, sizeof(err));
	ok(s != NULL, "tagged secret loads");
	res = run(s, NULL, &(struct reqspec){ .host = "api.test",
	    .tags = vm_ok, .ntags = 3 }, line, sizeof(line), &rc);
	ok(rc == 0 && res.verdict == SECRETS_INJECT &&
	    strstr(line, "tok_TAGGED") != NULL, "VM with both tags: injected");
	res = run(s, NULL, &(struct reqspec){ .host = "api.test",
	    .tags = vm_part, .ntags = 1 }, line, sizeof(line), &rc);
	ok(rc == 0 && res.verdict == SECRETS_NONE, "VM with one of the two "
	    "tags: nothing injected");
	res = run(s, NULL, &(struct reqspec){ .host = "api.test" }, line,
	    sizeof(line), &rc);
	ok(rc == 0 && res.verdict == SECRETS_NONE, "unknown VM: nothing "
	    "injected");
	secrets_free(s);
}

int
main(void)
{
	util_wall_clock_set(fake_clock);
	if (mkdtemp(dir) == NULL)
		return 99;
	setup();
	test_load();
	test_apply();
	test_refresh();
	test_tags();
	unlink(f_github);
	rmdir(dir);
	return tap_done();
}
