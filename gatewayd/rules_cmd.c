/*
 * rules_cmd.c - `gatewayd rules apply|show|remove -c FILE`.
 *
 * apply: load and validate the config, render every group (rules.c),
 * then hand nft one file: for each group "create, delete, define" its
 * tables, plus the deletion of gatewayd_* tables of groups no longer in
 * the config.  `nft -c` checks it first; `nft -f` commits it atomically,
 * so either all of it is in place or nothing changed.  tproxy's policy
 * routing (ip rule + local route, IPv4 and IPv6) is added before the
 * commit and taken back if the commit fails.  On kernels without the nft
 * queue expression the xtables NFQUEUE target is inserted afterwards
 * (rules_nfq.c).
 * show: print what apply would install.
 * remove: delete every gatewayd_* table and the routing apply added.
 *
 * Tables that do not start with "gatewayd_" are never named in anything
 * this file sends to nft.  This module runs nft and ip as child
 * processes; it is not used by the daemon's workers.
 */
#include "rules.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules_nfq.h"

#define OUT_MAX		(64 * 1024)

struct rules_env {
	const char	*nft;
	const char	*ip;
	char		tmp[64];	/* transaction file, "" when none */
};

/*
 * Run argv with stdin from path (or /dev/null) and collect stdout and
 * stderr, up to OUT_MAX bytes, into *out (caller frees; may be NULL).
 * Returns the exit status, or -1 if it could not run.
 */
static int
run(char *const argv[], const char *in, char **out)
{
	char *buf = xmalloc(OUT_MAX + 1);
	size_t len = 0;
	ssize_t n;
	int pfd[2], st, fd;
	pid_t pid;

	buf[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) == -1)
		goto err;
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		goto err;
	}
	if (pid == 0) {
		fd = open(in ? in : "/dev/null", O_RDONLY);
		if (fd == -1 || dup2(fd, 0) == -1 || dup2(pfd[1], 1) == -1 ||
		    dup2(pfd[1], 2) == -1)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		n = read(pfd[0], buf + len, OUT_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == OUT_MAX) {
			char sink[512];

			while (read(pfd[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	buf[len] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			goto err;
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
err:
	if (out != NULL) {
		snprintf(buf, OUT_MAX, "cannot run %s: %s\n", argv[0],
		    strerror(errno));
		*out = buf;
	} else
		free(buf);
	return -1;
}

/* Write text to a new temporary file; its name goes to e->tmp. */
static int
write_tmp(struct rules_env *e, const char *text)
{
	const char *dir = getenv("TMPDIR");
	size_t len = strlen(text);
	int fd;

	snprintf(e->tmp, sizeof(e->tmp), "%s/gatewayd-rules.XXXXXX",
	    dir != NULL && strlen(dir) < 32 ? dir : "/tmp");
	if ((fd = mkstemp(e->tmp)) == -1) {
		fprintf(stderr, "rules: %s: %s\n", e->tmp, strerror(errno));
		e->tmp[0] = '\0';
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len || close(fd) == -1) {
		fprintf(stderr, "rules: %s: %s\n", e->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

/* nft -f text (check only when check is set); 0 or -1 with nft's words. */
static int
nft_file(struct rules_env *e, const char *text, bool check)
{
	char *argv[] = { (char *)e->nft, check ? "-c" : "-f",
	    check ? "-f" : NULL, NULL, NULL }, *out = NULL;
	int rc;

	if (e->tmp[0] == '\0' && write_tmp(e, text) == -1)
		return -1;
	argv[check ? 3 : 2] = e->tmp;
	rc = run(argv, NULL, &out);
	if (rc != 0)
		fprintf(stderr, "rules: nft %s failed:\n%s", check ? "check" :
		    "commit", out);
	free(out);
	return rc == 0 ? 0 : -1;
}

/* Is the nft binary usable at all?  Says why not. */
static int
nft_present(const struct rules_env *e)
{
	char *argv[] = { (char *)e->nft, "--version", NULL }, *out = NULL;
	int rc = run(argv, NULL, &out);

	if (rc != 0)
		fprintf(stderr, "rules: cannot run \"%s\" (%s): install "
		    "nftables or set GATEWAYD_NFT\n", e->nft,
		    strtok(out, "\n") ? out : "no output");
	free(out);
	return rc == 0 ? 0 : -1;
}

/* Does the kernel have the nft queue expression?  Checked, not loaded. */
static bool
probe_queue(const struct rules_env *e)
{
	struct rules_env p = *e;
	bool yes;

	p.tmp[0] = '\0';
	if (write_tmp(&p, "table inet gatewayd_probe { chain c { type filter "
	    "hook forward priority 0; queue num 0; }; }\n") == -1)
		return true;
	{
		char *argv[] = { (char *)e->nft, "-c", "-f", p.tmp, NULL };

		yes = run(argv, NULL, NULL) == 0;
	}
	unlink(p.tmp);
	return yes;
}

/*
 * Append "delete table FAMILY NAME" for every gatewayd_* table in the
 * kernel whose group is not in c (c NULL: all of them).  Returns the
 * number of tables, or -1 if nft could not list them.
 */
static int
stale_tables(const struct rules_env *e, const struct gw_config *c,
    FILE *out)
{
	char *argv[] = { (char *)e->nft, "list", "tables", NULL };
	char *buf = NULL, *line, *save = NULL, fam[16], name[300];
	int n = 0, rc;
	size_t i;
	bool keep;

	if ((rc = run(argv, NULL, &buf)) != 0) {
		fprintf(stderr, "rules: nft list tables failed:\n%s", buf);
		free(buf);
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "table %15s %299s", fam, name) != 2 ||
		    strncmp(name, RULES_TABLE_PREFIX,
		    strlen(RULES_TABLE_PREFIX)) != 0 ||
		    (strcmp(fam, "inet") != 0 && strcmp(fam, "bridge") != 0))
			continue;
		keep = false;
		for (i = 0; c != NULL && i < c->ngroups; i++)
			if (strcmp(name + strlen(RULES_TABLE_PREFIX),
			    c->groups[i].name) == 0)
				keep = true;
		if (!keep) {
			fprintf(out, "delete table %s %s\n", fam, name);
			n++;
		}
	}
	free(buf);
	return n;
}

/* ---- tproxy policy routing ---- */

static const char *const route_any[2] = { "0.0.0.0/0", "::/0" };
static const char *const family_opt[2] = { "-4", "-6" };

/* IPv6 present and enabled on lo (the local routes' device). */
static bool
have_ipv6(void)
{
	FILE *f;
	int c;

	if (access("/proc/net/if_inet6", F_OK) != 0)
		return false;
	f = fopen("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "r");
	if (f == NULL)
		return true;
	c = fgetc(f);
	fclose(f);
	return c != '1';
}

/* ip -4|-6 rule VERB fwmark M lookup T; returns ip's exit status. */
static int
ip_rule(const struct rules_env *e, int fam, const char *verb,
    const struct gw_config *c, char **out)
{
	char mark[16], table[16];
	char *argv[] = { (char *)e->ip, (char *)family_opt[fam], "rule",
	    (char *)verb, "fwmark", mark, "lookup", table, NULL };

	snprintf(mark, sizeof(mark), "0x%x", c->tproxy_mark);
	snprintf(table, sizeof(table), "%u", c->tproxy_table);
	return run(argv, NULL, out);
}

static int
ip_route(const struct rules_env *e, int fam, const char *verb,
    const struct gw_config *c, char **out)
{
	char table[16];
	char *argv[] = { (char *)e->ip, (char *)family_opt[fam], "route",
	    (char *)verb, "local", (char *)route_any[fam], "dev", "lo",
	    "table", table, NULL };

	snprintf(table, sizeof(table), "%u", c->tproxy_table);
	return run(argv, NULL, out);
}

static bool
rule_present(const struct rules_env *e, int fam, const struct gw_config *c)
{
	char *out = NULL;
	bool yes = ip_rule(e, fam, "list", c, &out) == 0 && out[0] != '\0';

	free(out);
	return yes;
}

/*
 * Make sure the routing exists; added[fam] says whether this call added
 * the rule (so a failed commit can take it back).  0 or -1.
 */
static int
routing_add(const struct rules_env *e, const struct gw_config *c,
    bool added[2])
{
	char *out = NULL;
	int fam;

	for (fam = 0; fam < 2; fam++) {
		added[fam] = false;
		if (fam == 1 && !have_ipv6())
			continue;
		if (ip_route(e, fam, "replace", c, &out) != 0)
			goto err;
		free(out);
		out = NULL;
		if (rule_present(e, fam, c))
			continue;
		if (ip_rule(e, fam, "add", c, &out) != 0)
			goto err;
		free(out);
		out = NULL;
		added[fam] = true;
	}
	return 0;
err:
	fprintf(stderr, "rules: tproxy policy routing (ip %s): %s",
	    family_opt[fam], out ? out : "failed\n");
	free(out);
	return -1;
}

/* Delete the rule (every copy) and the local route; quiet when absent. */
static void
routing_del(const struct rules_env *e, const struct gw_config *c, int fam)
{
	int i;

	for (i = 0; i < 16 && rule_present(e, fam, c); i++)
		if (ip_rule(e, fam, "del", c, NULL) != 0)
			break;
	(void)ip_route(e, fam, "del", c, NULL);
}

static void
routing_show(const struct gw_config *c, FILE *out)
{
	int fam;

	if (!rules_uses_tproxy(c))
		return;
	fprintf(out, "# tproxy policy routing, also installed by apply:\n");
	for (fam = 0; fam < 2; fam++)
		fprintf(out, "#   ip %s rule add fwmark 0x%x lookup %u\n"
		    "#   ip %s route replace local %s dev lo table %u\n",
		    family_opt[fam], c->tproxy_mark, c->tproxy_table,
		    family_opt[fam], route_any[fam], c->tproxy_table);
}

/* ---- subcommands ---- */

static char *
render(const struct gw_config *c, const struct rules_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	rc = rules_render(c, o, f, stderr);
	fclose(f);
	if (rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int
cmd_show(struct rules_env *e, struct gw_config *c)
{
	struct rules_opts o = { .nft_queue = true };
	char *text;

	if (nft_present(e) == 0)
		o.nft_queue = probe_queue(e);
	if ((text = render(c, &o)) == NULL)
		return 1;
	routing_show(c, stdout);
	fputs(text, stdout);
	free(text);
	return 0;
}

static int
cmd_apply(struct rules_env *e, struct gw_config *c)
{
	struct rules_opts o;
	char *text = NULL, *all = NULL, err[256];
	size_t len = 0, i;
	bool added[2] = { false, false };
	FILE *f;
	int stale, fam, rc = 1;

	if (rules_validate(c, stderr) != 0 || nft_present(e) != 0)
		return 1;
	o.nft_queue = probe_queue(e);
	if ((text = render(c, &o)) == NULL)
		return 1;
	f = open_memstream(&all, &len);
	fputs(text, f);
	stale = stale_tables(e, c, f);
	fclose(f);
	if (stale < 0 || nft_file(e, all, true) != 0)
		goto out;
	if (rules_uses_tproxy(c) && routing_add(e, c, added) != 0)
		goto out;
	if (nft_file(e, all, false) != 0) {
		for (fam = 0; fam < 2; fam++)
			if (added[fam])
				routing_del(e, c, fam);
		goto out;
	}
	if (!rules_uses_tproxy(c))
		for (fam = 0; fam < 2; fam++)
			if (fam == 0 || have_ipv6())
				routing_del(e, c, fam);
	for (i = 0; i < c->ngroups && !o.nft_queue; i++) {
		char table[128];

		snprintf(table, sizeof(table), RULES_TABLE_PREFIX "%s",
		    c->groups[i].name);
		if (rules_nfq_insert(table, "handoff", c->nfqueue_num,
		    c->nfqueue_fail_open, err, sizeof(err)) != 0) {
			fprintf(stderr, "rules: %s; the rules are in place "
			    "but new non-HTTP flows are %s without gatewayd\n",
			    err, c->nfqueue_fail_open ? "accepted" :
			    "dropped");
			goto out;
		}
	}
	printf("rules: applied %zu group(s)", c->ngroups);
	if (stale > 0)
		printf(", removed %d stale table(s)", stale);
	printf("%s\n", o.nft_queue ? "" : " (NFQUEUE via xtables target)");
	rc = 0;
out:
	if (e->tmp[0] != '\0')
		unlink(e->tmp);
	free(text);
	free(all);
	return rc;
}

static int
cmd_remove(struct rules_env *e, struct gw_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int n, fam, rc = 1;

	if (nft_present(e) != 0)
		return 1;
	f = open_memstream(&text, &len);
	n = stale_tables(e, NULL, f);
	fclose(f);
	if (n < 0 || (n > 0 && nft_file(e, text, false) != 0))
		goto out;
	if (c != NULL)
		for (fam = 0; fam < 2; fam++)
			if (fam == 0 || have_ipv6())
				routing_del(e, c, fam);
	printf("rules: removed %d table(s)\n", n);
	rc = 0;
out:
	if (e->tmp[0] != '\0')
		unlink(e->tmp);
	free(text);
	return rc;
}

static const struct {
	const char	*name;
	int		(*fn)(struct rules_env *, struct gw_config *);
	const char	*help;
} subcommands[] = {
	{ "apply",  cmd_apply,  "install every group's tables atomically" },
	{ "show",   cmd_show,   "print what apply would install" },
	{ "remove", cmd_remove, "delete every gatewayd_* table and route" },
};

/* --help: the text on stdout, exit 0; a mistake: on stderr, exit 2. */
static int
usage(const char *cmd, bool help)
{
	FILE *f = help ? stdout : stderr;
	size_t i;

	fprintf(f, "usage: gatewayd %s ACTION -c FILE\n", cmd);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-7s %s\n", subcommands[i].name,
		    subcommands[i].help);
	return help ? 0 : 2;
}

int
rules_main(int argc, char **argv)
{
	struct rules_env e = { .nft = "nft", .ip = "ip" };
	struct gw_config *c = NULL;
	const char *path = NULL, *cmd = argc > 0 ? argv[0] : "rules";
	size_t i;
	int ch, rc;

	if (argc < 2)
		return usage(cmd, false);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(cmd, true);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(subcommands))
		return usage(cmd, false);
	optind = 2;
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c')
			return usage(cmd, false);
		path = optarg;
	}
	if (path == NULL || optind != argc)
		return usage(cmd, false);
	if (getenv("GATEWAYD_NFT") != NULL)
		e.nft = getenv("GATEWAYD_NFT");
	if (getenv("GATEWAYD_IP") != NULL)
		e.ip = getenv("GATEWAYD_IP");

	c = config_load(path, stderr);
	if (c == NULL && subcommands[i].fn != cmd_remove)
		return 1;
	if (c == NULL)
		fprintf(stderr, "rules: %s is not valid; removing the tables "
		    "but not the policy routing\n", path);
	rc = subcommands[i].fn(&e, c);
	if (c != NULL)
		config_unref(c);
	return rc;
}
