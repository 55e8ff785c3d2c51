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
#include "metrics.h"
#include "nfq.h"
#include "privdrop.h"
#include "reload.h"
#include "slicer.h"
#include "resolver.h"
#include "rules.h"
#include "runtime.h"
#include "secrets.h"
#include "sentinel.h"
#include "service.h"
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

#define CTL_SOCK	"[--socket PATH | -c FILE]"

static const struct subcommand subcommands[] = {
	{ "run",	daemon_main,	{ "[-d] [-t] -c FILE" },
	    "run the gateway (the default)" },
	{ "rules",	rules_main,	{ "apply|show|remove -c FILE" },
	    "install, print or remove every group's nftables ruleset" },
	{ "sentinel",	sentinel_main,	{
	    CTL_SOCK " issue --group G --guest ADDR --secret NAME "
	    "--ttl DURATION",
	    CTL_SOCK " revoke VALUE|ID", CTL_SOCK " list",
	    CTL_SOCK " stats" },
	    "VM-bound sentinels, asked of the running daemon" },
	{ "stats",	control_stats_main, { CTL_SOCK },
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

/*
 * The workers' consumer of each new runtime (reload.h): connections
 * accepted from now on use it, and leaves minted by the old CAs go.
 */
static void
gw_apply(void *arg, struct runtime *rt)
{
	struct gw *gw = arg;

	alog_set_redact_query(gw->alog, rt->cfg->audit_redact_query);
	gw_set_runtime(gw, rt);
	leafcache_purge(gw->leaves, NULL);
}

/* The non-HTTP side: NFQUEUE verdicts and the guests' DNS. */
struct l4side {
	struct dnscache	*dc;
	struct dnsproxy	*dns;
	struct nfq	*nfq;
};

/* What the control socket's hooks see; set before control_open(). */
struct ctl_ctx {
	struct gw		*gw;
	struct reload		*rl;
	const struct l4side	*l4;
};

/* Give freed heap pages back to the system this often. */
#define TRIM_EVERY	10

static void
housekeeping(struct gw *gw, struct reload *rl, unsigned *ticks)
{
	struct runtime *rt;
	size_t i;
	bool due;

	/*
	 * Bursts (many handshakes at once, upstreams closed when guests go
	 * idle) leave free pages inside the workers' malloc arenas; return
	 * them, so the memory of an idle gateway is what it really holds.
	 * A worker whose buffer pool shrank after a burst asks for it at
	 * once (worker.c).
	 */
	due = atomic_exchange(&gw->trim_due, false);
	if (++*ticks % TRIM_EVERY == 0 || due)
		(void)malloc_trim(0);

	reload_check_ca(rl);
	rt = reload_current(rl);
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

/* Service thread: may a sentinel name this group and secret? */
static int
ctl_check_issue(void *arg, const char *group, const char *secret, char *err,
    size_t errlen)
{
	const struct ctl_ctx *ctx = arg;
	struct runtime *rt = reload_current(ctx->rl);
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

/* Service thread: `gatewayd stats`, from the snapshot /metrics shows. */
static size_t
ctl_stats(void *arg, char *buf, size_t len)
{
	const struct ctl_ctx *ctx = arg;
	struct metrics_sources src = { ctx->gw, ctx->l4->nfq, ctx->l4->dns,
	    GW_VERSION, NULL };

	return metrics_stats_text(&src, buf, len);
}

static int
run(const char *path, struct gw_config *cfg)
{
	struct control_ops ops = { ctl_check_issue, ctl_stats, NULL };
	struct control *ctl = NULL;
	struct service *svc = NULL;
	struct metrics_srv *mx = NULL;
	struct l4side l4 = { NULL, NULL, NULL };
	struct ctl_ctx ctx = { NULL, NULL, &l4 };
	struct l4_audit_sink sink;
	struct reload *rl = NULL;
	struct gw gw;
	struct runtime *rt;
	sigset_t set;
	unsigned ticks = 0;
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
	rt = runtime_new(cfg, 1, err, sizeof(err));
	if (rt == NULL) {
		log_warnx("start-up: %s", err);
		goto out;
	}
	gw_set_runtime(&gw, runtime_ref(rt));
	rl = reload_new(rt);
	reload_add_consumer(rl, NULL, gw_apply, &gw);
	sink.fn = l4_alog_sink;
	sink.arg = gw.alog;
	l4.dc = dnscache_new(0, DNSCACHE_TTL_FLOOR, DNSCACHE_TTL_CEIL);
	svc = service_new();
	l4.dns = dnsproxy_new(svc, rt, l4.dc, &sink);
	l4.nfq = nfq_new(svc, rt, l4.dc, &sink);
	if (l4.dns == NULL || l4.nfq == NULL)
		goto out;	/* logged */
	reload_add_consumer(rl, service_loop(svc), dnsproxy_set_runtime,
	    l4.dns);
	reload_add_consumer(rl, service_loop(svc), nfq_set_runtime, l4.nfq);
	ctx.gw = &gw;
	ctx.rl = rl;
	ops.arg = &ctx;
	ctl = control_open(svc, cfg->control_socket, gw.sentinels, &ops, err,
	    sizeof(err));
	if (ctl == NULL) {
		log_warnx("control socket: %s", err);
		goto out;
	}
	if (service_start(svc) != 0)
		goto out;
	if (cfg->metrics_listen != NULL && (mx = metrics_start(
	    &cfg->metrics_addr, &(struct metrics_sources){ &gw, l4.nfq, l4.dns,
	    GW_VERSION, NULL }, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		goto out;
	}
	if (slicer_run(err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto stop;
	}
	if (workers_start(&gw, worker_count(cfg), rt) != 0)
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
				housekeeping(&gw, rl, &ticks);
			continue;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: reading %s", path);
			stats_count(gw.stats, reload_file(rl, path) == 0 ?
			    SE_RELOAD_APPLIED : SE_RELOAD_REFUSED);
		} else if (sig == SIGUSR1) {
			if (alog_reopen(gw.alog) != 0)
				log_warn("reopening the audit log");
		} else {
			struct runtime *cur = reload_current(rl);

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
	metrics_stop(mx);
	if (svc != NULL)
		service_stop(svc);
	nfq_free(l4.nfq);
	dnsproxy_free(l4.dns);
	control_close(ctl);
	service_free(svc);
	reload_free(rl);
	if (l4.dc != NULL)
		dnscache_free(l4.dc);
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
