/*
 * test_sentinel.c - issue, check (every status), revoke by value and id,
 * list without values, expiry, persistence across a new store.
 */
#include "sentinel.h"

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

static struct addr
ip(const char *s)
{
	struct addr a;

	AZ(addr_parse(s, &a));
	return a;
}

static enum sentinel_status
chk(struct sentinel_store *st, const char *tok, const char *group,
    const char *guest, const char *secret)
{
	struct addr g = ip(guest);

	return sentinel_check(st, tok, strlen(tok), group, &g, secret);
}

static void
test_issue_check(void)
{
	char tok[SENTINEL_LEN + 1], tok2[SENTINEL_LEN + 1], err[128];
	struct addr a = ip("10.0.0.2"), b6 = ip("2001:db8::2");
	struct sentinel_info info[4];
	struct sentinel_store *st;
	size_t toklen, i;
	const char *p;
	char hdr[128], saved;

	st = sentinel_store_new(NULL, err, sizeof(err));
	ok(st != NULL, "new store without state");
	is(sentinel_issue(st, "agents", &a, "github", 600000, tok, err,
	    sizeof(err)), 0, "issue");
	is(strlen(tok), SENTINEL_LEN, "token length");
	ok(strncmp(tok, SENTINEL_PREFIX, SENTINEL_PREFIX_LEN) == 0,
	    "recognisable prefix: %.10s...", tok);
	is(strspn(tok + SENTINEL_PREFIX_LEN,
	    "abcdefghijklmnopqrstuvwxyz234567"), 32, "base32 body (160 bits)");
	is(sentinel_issue(st, "agents", &a, "github", 600000, tok2, err,
	    sizeof(err)), 0, "issue a second");
	ok(strcmp(tok, tok2) != 0, "two tokens differ");

	is(chk(st, tok, "agents", "10.0.0.2", "github"), SENTINEL_OK, "ok");
	is(chk(st, tok, "agents", "10.0.0.3", "github"), SENTINEL_WRONG_GUEST,
	    "guest A's sentinel used by guest B");
	is(chk(st, tok, "other", "10.0.0.2", "github"), SENTINEL_WRONG_GROUP,
	    "wrong group");
	is(chk(st, tok, "agents", "10.0.0.2", "npm"), SENTINEL_WRONG_SECRET,
	    "wrong secret");
	saved = tok[10];
	tok[10] = saved == 'a' ? 'b' : 'a';
	is(chk(st, tok, "agents", "10.0.0.2", "github"), SENTINEL_UNKNOWN,
	    "one character changed: unknown");
	tok[10] = saved;
	is(sentinel_check(st, tok, SENTINEL_LEN - 1, "agents", &a, "github"),
	    SENTINEL_UNKNOWN, "truncated: unknown");
	{
		struct addr m = ip("::ffff:10.0.0.2");

		is(sentinel_check(st, tok, SENTINEL_LEN, "agents", &m, "github"),
		    SENTINEL_OK, "v4-mapped guest address folded");
	}

	is(sentinel_issue(st, "agents", &b6, "github", 600000, tok2, err,
	    sizeof(err)), 0, "issue to an IPv6 guest");
	is(chk(st, tok2, "agents", "2001:db8::2", "github"), SENTINEL_OK,
	    "IPv6 ok");

	is(sentinel_issue(st, "bad name", &a, "github", 600000, tok2, err,
	    sizeof(err)), -1, "bad group name refused");
	is(sentinel_issue(st, "agents", &a, "github", 10, tok2, err,
	    sizeof(err)), -1, "ttl too short refused");
	is(sentinel_issue(st, "agents", &a, "github", SENTINEL_MAX_TTL_MS + 1,
	    tok2, err, sizeof(err)), -1, "ttl too long refused");

	is(sentinel_list(st, info, ARRAY_SIZE(info)), 3, "list: 3 entries");
	for (i = 0; i < 3; i++)
		ok(strlen(info[i].id) == SENTINEL_ID_LEN &&
		    strstr(tok, info[i].id) == NULL, "list shows an id, not "
		    "the value (%s)", info[i].id);

	is(sentinel_revoke(st, tok), 0, "revoke by value");
	is(chk(st, tok, "agents", "10.0.0.2", "github"), SENTINEL_REVOKED,
	    "revoked");
	is(sentinel_revoke(st, "gwsnt_nope"), -1, "revoke unknown");
	for (i = 0; i < 3 && info[i].guest.family != AF_INET6; i++)
		;
	is(chk(st, tok2, "agents", "2001:db8::2", "github"), SENTINEL_OK,
	    "failed issues left the last token alone");
	ok(i < 3 && sentinel_revoke(st, info[i].id) == 0, "revoke by id");
	is(chk(st, tok2, "agents", "2001:db8::2", "github"), SENTINEL_REVOKED,
	    "revoked by id");
	is(sentinel_revoke(st, "abc"), -1, "id prefix too short");

	snprintf(hdr, sizeof(hdr), "Bearer %s trailing", tok);
	p = sentinel_find(hdr, strlen(hdr), &toklen);
	ok(p == hdr + 7 && toklen == SENTINEL_LEN, "find in a header value");
	ok(sentinel_find("Bearer ghp_abc", 14, &toklen) == NULL,
	    "find: none");
	p = sentinel_find("x gwsnt_", 8, &toklen);
	ok(p != NULL && toklen == SENTINEL_PREFIX_LEN, "find: bare prefix");
	sentinel_store_free(st);
}

static void
test_expiry(void)
{
	char tok[SENTINEL_LEN + 1], err[128];
	struct addr a = ip("10.0.0.2");
	struct sentinel_store *st = sentinel_store_new(NULL, err, sizeof(err));

	is(sentinel_issue(st, "agents", &a, "github", 1000, tok, err,
	    sizeof(err)), 0, "issue with ttl 1s");
	is(chk(st, tok, "agents", "10.0.0.2", "github"), SENTINEL_OK,
	    "valid before expiry");
	fake_now += 1100;
	is(chk(st, tok, "agents", "10.0.0.2", "github"), SENTINEL_EXPIRED,
	    "expired after ttl");
	is(sentinel_prune(st), 1, "prune drops it");
	is(chk(st, tok, "agents", "10.0.0.2", "github"), SENTINEL_UNKNOWN,
	    "pruned: unknown");
	sentinel_store_free(st);
}

static void
test_persistence(const char *dir)
{
	char path[512], tok[SENTINEL_LEN + 1], tok2[SENTINEL_LEN + 1];
	char err[256], buf[4096];
	struct addr a = ip("10.0.0.2");
	struct sentinel_store *st;
	struct stat sb;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/sentinels", dir);
	st = sentinel_store_new(path, err, sizeof(err));
	ok(st != NULL, "store with a missing state file");
	is(sentinel_issue(st, "agents", &a, "github", 600000, tok, err,
	    sizeof(err)), 0, "issue persisted");
	is(sentinel_issue(st, "agents", &a, "npm", 600000, tok2, err,
	    sizeof(err)), 0, "issue another");
	is(sentinel_revoke(st, tok2), 0, "revoke persisted");
	sentinel_store_free(st);

	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "state file mode 0600");
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	ok(strstr(buf, tok + SENTINEL_PREFIX_LEN) == NULL &&
	    strstr(buf, SENTINEL_PREFIX) == NULL, "state file holds no token");

	st = sentinel_store_new(path, err, sizeof(err));
	ok(st != NULL, "reload state: %s", st ? "ok" : err);
	if (st == NULL)
		return;
	is(chk(st, tok, "agents", "10.0.0.2", "github"), SENTINEL_OK,
	    "sentinel survives a restart");
	is(chk(st, tok2, "agents", "10.0.0.2", "npm"), SENTINEL_REVOKED,
	    "revocation survives a restart");
	sentinel_store_free(st);

	chmod(path, 0644);
	st = sentinel_store_new(path, err, sizeof(err));
	ok(st == NULL && strstr(err, "0600") != NULL,
	    "world-readable state refused: %s", err);
	sentinel_store_free(st);

	fd = open(path, O_WRONLY | O_TRUNC);
	(void)!write(fd, "garbage line\nzz 1 2\n", 20);
	close(fd);
	chmod(path, 0600);
	st = sentinel_store_new(path, err, sizeof(err));
	ok(st != NULL && sentinel_list(st, NULL, 0) == 0,
	    "malformed lines skipped");
	sentinel_store_free(st);
	unlink(path);
}

int
main(void)
{
	util_wall_clock_set(fake_clock);
	char dir[] = "/tmp/test_sentinel.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return 99;
	test_issue_check();
	test_expiry();
	test_persistence(dir);
	rmdir(dir);
	return tap_done();
}
