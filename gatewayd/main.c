/*
 * main.c - gatewayd: argument parsing, start-up, signals, reload and
 * drain.  Wiring only: the work is done by the modules.
 *
 *   gatewayd [-d] -c FILE            run in the foreground
 *   gatewayd -t -c FILE              check the config, report every error
 *   gatewayd -v | -h | --help
 *   gatewayd rules apply|show|remove -c FILE
 *   gatewayd sentinel [--socket PATH | -c FILE] issue|revoke|list|stats
 *   gatewayd stats [--socket PATH | -c FILE]
 *
 * Signals (handled synchronously by the main thread, never in handlers):
 * SIGHUP re-reads the config and keeps the old one if the new one is
 * bad; SIGUSR1 reopens the audit log; SIGTERM/SIGINT stop accepting and
 * drain for limits.drain_timeout before closing what is left.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alog.h"
#include "config.h"
#include "control.h"
#include "dnscache.h"
#include "dnsproxy.h"
#include "l4_alog.h"
#include "leafcache.h"
#include "log.h"
#include "nfq.h"
#include "privdrop.h"
#include "slicer.h"
#include "resolver.h"
#include "rules.h"
#include "runtime.h"
#include "secrets.h"
#include "sentinel.h"
#include "suggest.h"
#include "worker.h"

#define HOUSEKEEPING_MS	1000

/*
 * The command table drives dispatch and --help alike, so the usage text
 * cannot forget a command.  synopsis[] holds up to four forms.
 */
struct subcommand {
	const char	*name;
	int		(*main)(int argc, char **argv);
	const char	*synopsis[4];
	const char	*help;
};

static int daemon_main(int argc, char **argv);
static int control_client(int argc, char **argv);
static int stats_main(int argc, char **argv);

#define CTL_SOCK	"[--socket PATH | -c FILE]"

static const struct subcommand subcommands[] = {
	{ "run",	daemon_main,	{ "[-d] [-t] -c FILE" },
	    "run the gateway (the default)" },
	{ "rules",	rules_main,	{ "apply|show|remove -c FILE" },
	    "install, print or remove every group's nftables ruleset" },
	{ "sentinel",	control_client,	{
	    CTL_SOCK " issue --group G --guest ADDR --secret NAME "
	    "--ttl DURATION",
	    CTL_SOCK " revoke VALUE|ID", CTL_SOCK " list",
	    CTL_SOCK " stats" },
	    "VM-bound sentinels, asked of the running daemon" },
	{ "stats",	stats_main,	{ CTL_SOCK },
	    "the running daemon's counters" },
	{ "suggest",	suggest_main,	{ "-c FILE AUDIT.json" },
	    "policy rules that would allow what a JSON audit log shows denied" },
};

static void
usage(void)
{
	size_t i, j;

	printf("usage: gatewayd [-d] -c FILE       run in the foreground\n"
	    "       gatewayd -t -c FILE         check the configuration\n"
	    "       gatewayd -v | -h | --help\n"
	    "       gatewayd COMMAND ...\n\n"
	    "options:\n"
	    "  -c FILE     configuration file (libconfig syntax)\n"
	    "  -t          check the configuration, its rules and secret "
	    "sources, then exit\n"
	    "  -d          debug logging\n"
	    "  -v          print the version and exit\n"
	    "  -h, --help  print this text and exit\n\n"
	    "commands:\n");
	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		for (j = 0; j < ARRAY_SIZE(subcommands[i].synopsis) &&
		    subcommands[i].synopsis[j] != NULL; j++)
			printf("  %s %s\n", subcommands[i].name,
			    subcommands[i].synopsis[j]);
		printf("      %s\n", subcommands[i].help);
	}
	printf("\nThe control socket: --socket PATH, else control_socket of "
	    "-c FILE,\nelse $GATEWAYD_CONTROL_SOCKET, else "
	    CONTROL_DEFAULT_SOCKET ".\n"
	    "Signals: SIGHUP reloads the configuration, SIGUSR1 reopens the "
	    "audit log,\nSIGTERM and SIGINT drain and stop.  "
	    "See gatewayd(8) and gatewayd.conf(5).\n");
}

/* A mistake gets two lines on stderr, not the whole manual. */
static int
short_usage(void)
{
	fprintf(stderr, "usage: gatewayd [-d] [-t] -c FILE | gatewayd COMMAND "
	    "...\n'gatewayd --help' lists the commands and options.\n");
	return 2;
}

/* systemd readiness, without libsystemd: one datagram to NOTIFY_SOCKET. */
static void
notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	(void)!sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

static unsigned
worker_count(const struct gw_config *cfg)
{
	long n;

	if (cfg->workers > 0)
		return cfg->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* Log the settings a reload cannot apply (listeners, marks, threads). */
static void
warn_restart_needed(const struct gw_config *old, const struct gw_config *new,
    const char *why)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return;
	if (config_restart_needed(old, new, f)) {
		fclose(f);
		log_warnx("%s: these changes take effect at the next restart:"
		    "\n%s", why, text);
	} else
		fclose(f);
	free(text);
}

/* The main thread's own state across signals and housekeeping. */
struct mainstate {
	uint64_t	gen;		/* runtime generation */
	unsigned	ticks;		/* housekeeping rounds */
	char		refused[512];	/* last refused swap, logged once */
};

/*
 * A group whose CA loaded in the running runtime but not in the new one
 * (a broken or half-replaced file) would lose interception: refuse such a
 * swap, as a bad config is refused.  Returns the group's name or NULL.
 */
static const char *
lost_ca(const struct runtime *cur, const struct runtime *rt,
    const char **why)
{
	size_t i, j;

	for (i = 0; i < rt->ngroups; i++) {
		if (rt->groups[i].ca != NULL)
			continue;
		for (j = 0; j < cur->ngroups; j++)
			if (cur->groups[j].ca != NULL &&
			    strcmp(cur->groups[j].cfg->name,
			    rt->groups[i].cfg->name) == 0) {
				*why = rt->groups[i].ca_err;
				return rt->groups[i].cfg->name;
			}
	}
	return NULL;
}

/*
 * Build a runtime from cfg (NULL: the current config again, for a CA
 * change) and swap it in.  The old runtime stays for the connections
 * that hold it.  Returns 0 or -1 (nothing changed).
 */
static int
swap_runtime(struct gw *gw, struct gw_config *cfg, struct mainstate *ms,
    const char *why)
{
	struct runtime *cur = gw_runtime(gw), *rt;
	const char *group, *caerr = NULL;
	char err[512];
	int ret = -1;

	if (cfg == NULL)
		cfg = cur->cfg;
	else
		warn_restart_needed(cur->cfg, cfg, why);
	rt = runtime_new(cfg, ms->gen + 1, err, sizeof(err));
	if (rt == NULL)
		goto refuse;
	if ((group = lost_ca(cur, rt, &caerr)) != NULL) {
		snprintf(err, sizeof(err), "the CA of group %s does not load "
		    "any more (%s); the running CA stays in use", group, caerr);
		runtime_unref(rt);
		goto refuse;
	}
	ms->gen++;
	ms->refused[0] = '\0';
	gw_set_runtime(gw, rt);
	leafcache_purge(gw->leaves, NULL);
	log_info("%s: configuration generation %llu in effect", why,
	    (unsigned long long)ms->gen);
	ret = 0;
	goto out;
refuse:
	/* Housekeeping retries every second: say it once per reason. */
	if (strcmp(ms->refused, err) != 0 || strcmp(why, "reload") == 0)
		log_warnx("%s: keeping the running configuration: %s", why,
		    err);
	util_strlcpy(ms->refused, err, sizeof(ms->refused));
out:
	runtime_unref(cur);
	return ret;
}

/* The non-HTTP side: NFQUEUE verdicts and the guests' DNS. */
struct l4side {
	struct dnscache	*dc;
	struct dnsproxy	*dns;
	struct nfq	*nfq;
};

/* What the control thread's hooks see; set before control_open(). */
struct ctl_ctx {
	struct gw		*gw;
	const struct l4side	*l4;
};

static void
reload(struct gw *gw, struct l4side *l4, const char *path,
    struct mainstate *ms)
{
	struct gw_config *cfg;
	char *errs = NULL;
	size_t errlen = 0;
	FILE *ef = open_memstream(&errs, &errlen);

	cfg = config_load(path, ef);
	if (ef != NULL)
		fclose(ef);
	if (cfg == NULL) {
		log_warnx("reload: %s is invalid, keeping the running "
		    "configuration:\n%s", path, errs ? errs : "");
		free(errs);
		return;
	}
	free(errs);
	if (swap_runtime(gw, cfg, ms, "reload") == 0) {
		alog_set_redact_query(gw->alog, cfg->audit_redact_query);
		nfq_reload(l4->nfq, cfg);
		dnsproxy_reload(l4->dns, cfg);
	}
	config_unref(cfg);
}

/* Give freed heap pages back to the system this often. */
#define TRIM_EVERY	10

static void
housekeeping(struct gw *gw, struct mainstate *ms)
{
	struct runtime *rt = gw_runtime(gw);
	size_t i;

	/*
	 * Bursts (many handshakes at once, upstreams closed when guests go
	 * idle) leave free pages inside the workers' malloc arenas; return
	 * them, so the memory of an idle gateway is what it really holds.
	 */
	if (++ms->ticks % TRIM_EVERY == 0)
		(void)malloc_trim(0);

	if (runtime_ca_changed(rt))
		(void)swap_runtime(gw, NULL, ms, "CA files changed");
	for (i = 0; i < rt->ngroups; i++)
		if (rt->groups[i].secrets != NULL)
			(void)secrets_refresh(rt->groups[i].secrets);
	if (gw->sentinels != NULL)
		(void)sentinel_prune(gw->sentinels);
	runtime_unref(rt);
}

static void
drain(struct gw *gw, uint64_t timeout_ms)
{
	uint64_t until = util_now_ms() + timeout_ms;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	workers_stop_accepting(gw);
	log_info("draining %u connections for up to %llu ms",
	    atomic_load(&gw->active), (unsigned long long)timeout_ms);
	while (atomic_load(&gw->active) > 0 && util_now_ms() < until)
		nanosleep(&ts, NULL);
	if (atomic_load(&gw->active) > 0)
		log_info("closing %u connections still open",
		    atomic_load(&gw->active));
}

/* Control thread: may a sentinel name this group and secret? */
static int
ctl_check_issue(void *arg, const char *group, const char *secret, char *err,
    size_t errlen)
{
	const struct ctl_ctx *ctx = arg;
	struct runtime *rt = gw_runtime(ctx->gw);
	const struct group_config *g = config_group(rt->cfg, group);
	size_t i;
	int ret = -1;

	if (g == NULL) {
		snprintf(err, errlen, "no group \"%s\"", group);
		goto out;
	}
	for (i = 0; i < g->nsecrets; i++)
		if (strcmp(g->secrets[i].name, secret) == 0)
			ret = 0;
	if (ret != 0)
		snprintf(err, errlen, "group %s has no secret \"%s\"", group,
		    secret);
out:
	runtime_unref(rt);
	return ret;
}

/* The NFQUEUE and DNS proxy counters as STATS lines; snprintf's return. */
static int
l4_stats(const struct l4side *l4, char *buf, size_t len)
{
	struct nfq_stats q;
	struct dnsproxy_stats d;

	nfq_get_stats(l4->nfq, &q);
	dnsproxy_get_stats(l4->dns, &d);
	return snprintf(buf, len,
	    "nfq_packets %llu\nnfq_accepted %llu\nnfq_dropped %llu\n"
	    "nfq_reset %llu\nnfq_unparsed %llu\nnfq_nogroup %llu\n"
	    "nfq_batches %llu\nnfq_overruns %llu\ndns_queries %llu\n"
	    "dns_allowed %llu\ndns_refused %llu\ndns_malformed %llu\n"
	    "dns_servfail %llu\ndns_stripped %llu\ndns_over_quota %llu\n",
	    (unsigned long long)q.packets, (unsigned long long)q.accepted,
	    (unsigned long long)q.dropped, (unsigned long long)q.reset,
	    (unsigned long long)q.unparsed, (unsigned long long)q.nogroup,
	    (unsigned long long)q.batches, (unsigned long long)q.overruns,
	    (unsigned long long)d.queries, (unsigned long long)d.allowed,
	    (unsigned long long)d.refused, (unsigned long long)d.malformed,
	    (unsigned long long)d.servfail, (unsigned long long)d.stripped,
	    (unsigned long long)d.over_quota);
}

/* Control thread: counters for `gatewayd sentinel stats`. */
static size_t
ctl_stats(void *arg, char *buf, size_t len)
{
	const struct ctl_ctx *ctx = arg;
	struct gw *gw = ctx->gw;
	struct gw_stats *s = &gw->stats;
	struct leafcache_stats ls;
	struct alog_stats as;
	int n, m;

	leafcache_stats(gw->leaves, &ls);
	alog_stats(gw->alog, &as);
	n = snprintf(buf, len,
	    "connections_open %u\naccepted %lu\nrefused_limit %lu\n"
	    "refused_loop %lu\nrequests %lu\ndenied %lu\nspliced %lu\n"
	    "bumped %lu\nguest_tls_failed %lu\nupstream_verify_failed %lu\n"
	    "upstream_failed %lu\nbad_requests %lu\nleaf_hits %llu\n"
	    "leaf_mints %llu\nleaf_cached %llu\naudit_lines %llu\n"
	    "audit_dropped %llu\n",
	    atomic_load(&gw->active), atomic_load(&s->accepted),
	    atomic_load(&s->refused_limit), atomic_load(&s->refused_loop),
	    atomic_load(&s->requests), atomic_load(&s->denied),
	    atomic_load(&s->spliced), atomic_load(&s->bumped),
	    atomic_load(&s->guest_tls_failed),
	    atomic_load(&s->upstream_verify_failed),
	    atomic_load(&s->upstream_failed), atomic_load(&s->bad_requests),
	    (unsigned long long)ls.hits, (unsigned long long)ls.mints,
	    (unsigned long long)ls.size, (unsigned long long)as.lines,
	    (unsigned long long)as.dropped);
	if (n >= 0 && (size_t)n < len) {
		m = l4_stats(ctx->l4, buf + n, len - (size_t)n);
		n = m < 0 ? n : n + m;
	}
	return n < 0 ? 0 : MIN((size_t)n, len - 1);
}

static int
run(const char *path, struct gw_config *cfg)
{
	struct control_ops ops = { ctl_check_issue, ctl_stats, NULL };
	struct control *ctl = NULL;
	struct l4side l4 = { NULL, NULL, NULL };
	struct ctl_ctx ctx = { NULL, &l4 };
	struct l4_audit_sink sink;
	struct gw gw;
	struct runtime *rt;
	sigset_t set;
	struct mainstate ms = { .gen = 1 };
	char err[512];
	int sig, ret = 1;

	gw_init(&gw);
	/* Credentials pass through this process: no core dumps of it
	 * (secret values are also excluded with MADV_DONTDUMP). */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (slicer_start(&cfg->slicer, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	/* Before any thread: capabilities are per thread. */
	if (cfg->user != NULL) {
		if (privdrop(cfg->user, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			goto out;
		}
		log_info("running as user %s", cfg->user);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	/* Blocked before any thread starts, so every thread inherits it. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	gw.alog = alog_open(cfg->audit_path, cfg->audit_format, err,
	    sizeof(err));
	if (gw.alog == NULL) {
		log_warnx("audit log: %s", err);
		goto out;
	}
	alog_set_redact_query(gw.alog, cfg->audit_redact_query);
	gw.resolver = resolver_new(4, 30000, 5000, 8192, NULL);
	gw.leaves = leafcache_new(cfg->limits.leaf_cache_size, 30);
	gw.sentinels = sentinel_store_new(cfg->state_file, err, sizeof(err));
	if (gw.resolver == NULL || gw.sentinels == NULL) {
		log_warnx("start-up: %s", gw.sentinels == NULL ? err :
		    "resolver threads");
		goto out;
	}
	rt = runtime_new(cfg, ms.gen, err, sizeof(err));
	if (rt == NULL) {
		log_warnx("start-up: %s", err);
		goto out;
	}
	gw_set_runtime(&gw, rt);
	sink.fn = l4_alog_sink;
	sink.arg = gw.alog;
	l4.dc = dnscache_new(0, DNSCACHE_TTL_FLOOR, DNSCACHE_TTL_CEIL);
	l4.dns = dnsproxy_start(cfg, l4.dc, &sink);
	l4.nfq = nfq_start(cfg, l4.dc, &sink);
	if (l4.dns == NULL || l4.nfq == NULL)
		goto out;	/* logged */
	ctx.gw = &gw;
	ops.arg = &ctx;
	ctl = control_open(cfg->control_socket, gw.sentinels, &ops, err,
	    sizeof(err));
	if (ctl == NULL) {
		log_warnx("control socket: %s", err);
		goto out;
	}
	if (slicer_run(err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto stop;
	}
	if (workers_start(&gw, worker_count(cfg), gw.rt) != 0)
		goto stop;
	log_info("gatewayd running: %zu groups, %u workers, audit log %s",
	    cfg->ngroups, gw.nworkers, cfg->audit_path);
	notify_ready();

	for (;;) {
		struct timespec ts = { HOUSEKEEPING_MS / 1000,
		    (HOUSEKEEPING_MS % 1000) * 1000000L };

		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == -1) {
			if (errno == EAGAIN)
				housekeeping(&gw, &ms);
			continue;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: reading %s", path);
			reload(&gw, &l4, path, &ms);
		} else if (sig == SIGUSR1) {
			if (alog_reopen(gw.alog) != 0)
				log_warn("reopening the audit log");
		} else {
			struct runtime *cur = gw_runtime(&gw);

			log_info("%s: shutting down", strsignal(sig));
			drain(&gw, cur->cfg->limits.drain_timeout_ms);
			runtime_unref(cur);
			break;
		}
	}
	ret = 0;
stop:
	workers_stop(&gw);
out:
	if (l4.nfq != NULL)
		nfq_stop(l4.nfq);
	if (l4.dns != NULL)
		dnsproxy_stop(l4.dns);
	if (l4.dc != NULL)
		dnscache_free(l4.dc);
	control_close(ctl);
	slicer_stop();
	resolver_free(gw.resolver);
	workers_free(&gw);
	if (gw.alog != NULL)
		alog_close(gw.alog);
	if (gw.leaves != NULL)
		leafcache_free(gw.leaves);
	sentinel_store_free(gw.sentinels);
	gw_fini(&gw);
	return ret;
}

/* -t: load every group's secret values once, as start-up would. */
static int
check_secrets(const struct gw_config *cfg)
{
	char err[1024];
	size_t i;
	int bad = 0;

	for (i = 0; i < cfg->ngroups; i++) {
		struct secrets *s;

		if (cfg->groups[i].nsecrets == 0)
			continue;
		s = secrets_load(&cfg->groups[i], cfg->path, err, sizeof(err));
		if (s == NULL) {
			fprintf(stderr, "%s\n", err);
			bad = 1;
		}
		secrets_free(s);
	}
	return bad ? -1 : 0;
}

/*
 * `gatewayd sentinel|stats -c FILE ...`: the control socket named by that
 * config's control_socket.  A leading "-c FILE" becomes "--socket PATH"
 * for sentinel_main(), which knows nothing of configs.
 */
static int
control_client(int argc, char **argv)
{
	struct gw_config *cfg;
	char **args;
	int ret;

	if (argc < 3 || strcmp(argv[1], "-c") != 0)
		return sentinel_main(argc, argv);
	cfg = config_load(argv[2], stderr);
	if (cfg == NULL)
		return 1;
	args = xcalloc((size_t)argc + 1, sizeof(*args));
	memcpy(args, argv, (size_t)argc * sizeof(*args));
	args[1] = "--socket";
	args[2] = cfg->control_socket;
	ret = sentinel_main(argc, args);
	free(args);
	config_unref(cfg);
	return ret;
}

/* `gatewayd stats [--socket PATH | -c FILE]`: `sentinel ... stats`. */
static int
stats_main(int argc, char **argv)
{
	char *args[5] = { "sentinel", NULL, NULL, NULL, NULL };
	bool help;

	if (argc == 1 || (argc == 3 && (strcmp(argv[1], "--socket") == 0 ||
	    strcmp(argv[1], "-c") == 0))) {
		if (argc == 3) {
			args[1] = argv[1];
			args[2] = argv[2];
		}
		args[argc] = "stats";
		return control_client(argc + 1, args);
	}
	help = argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0);
	fprintf(help ? stdout : stderr, "usage: gatewayd stats " CTL_SOCK
	    "\n");
	return help ? 0 : 2;
}

static int
daemon_main(int argc, char **argv)
{
	const char *path = NULL;
	struct gw_config *cfg;
	bool test = false;
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "c:dtvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			log_set_level(LOG_LVL_DEBUG);
			break;
		case 't':
			test = true;
			break;
		case 'v':
			printf("gatewayd %s\n", GW_VERSION);
			return 0;
		case 'h':
			usage();
			return 0;
		default:
			return short_usage();
		}
	}
	if (path == NULL || optind != argc) {
		if (path == NULL)
			fprintf(stderr, "gatewayd: -c FILE is required\n");
		return short_usage();
	}
	cfg = config_load(path, stderr);
	if (cfg == NULL) {
		fprintf(stderr, "gatewayd: %s: configuration is invalid\n",
		    path);
		return 1;
	}
	if (test) {
		/* What `rules apply` or start-up would refuse is an error
		 * here too: rule rendering, secret sources. */
		if (rules_validate(cfg, stderr) != 0 ||
		    check_secrets(cfg) != 0) {
			fprintf(stderr, "gatewayd: %s: configuration is "
			    "invalid\n", path);
			config_unref(cfg);
			return 1;
		}
		printf("%s: configuration OK (%zu groups)\n", path,
		    cfg->ngroups);
		config_unref(cfg);
		return 0;
	}
	ret = run(path, cfg);
	config_unref(cfg);
	return ret;
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("gatewayd", LOG_LVL_INFO, 0);
	if (argc >= 2 && argv[1][0] != '-') {
		for (i = 0; i < ARRAY_SIZE(subcommands); i++)
			if (strcmp(argv[1], subcommands[i].name) == 0)
				return subcommands[i].main(argc - 1, argv + 1);
		fprintf(stderr, "gatewayd: unknown command \"%s\"\n", argv[1]);
		return short_usage();
	}
	return daemon_main(argc, argv);
}
