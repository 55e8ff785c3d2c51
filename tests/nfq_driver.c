/*
 * nfq_driver.c - a stand-in for gatewayd's main.c until it starts the
 * NFQUEUE and DNS proxy threads: `gatewayd-nfq -c FILE`.
 *
 * Loads the config, starts nfq and dnsproxy sharing one dnscache, writes
 * every audit record as one line on stdout, reloads on SIGHUP (logging a
 * line with "reload"), prints counters on SIGUSR1 and at exit, stops on
 * SIGTERM/SIGINT.  Used by tests/integration/t-nfq-*.sh.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "dnscache.h"
#include "dnsproxy.h"
#include "l4policy.h"
#include "log.h"
#include "nfq.h"

static void
audit_stdout(void *arg, const struct l4_audit *a)
{
	char line[1536];
	size_t n;

	(void)arg;
	l4_audit_format(a, line, sizeof(line) - 1);
	n = strlen(line);
	line[n++] = '\n';
	(void)!write(STDOUT_FILENO, line, n);
}

static void
stats(struct nfq *q, struct dnsproxy *d)
{
	struct nfq_stats s;
	struct dnsproxy_stats ds;

	nfq_get_stats(q, &s);
	dnsproxy_get_stats(d, &ds);
	log_info("stats nfq packets=%llu accepted=%llu dropped=%llu reset=%llu "
	    "unparsed=%llu nogroup=%llu batches=%llu overruns=%llu",
	    (unsigned long long)s.packets, (unsigned long long)s.accepted,
	    (unsigned long long)s.dropped, (unsigned long long)s.reset,
	    (unsigned long long)s.unparsed, (unsigned long long)s.nogroup,
	    (unsigned long long)s.batches, (unsigned long long)s.overruns);
	log_info("stats dns queries=%llu allowed=%llu refused=%llu "
	    "malformed=%llu servfail=%llu stripped=%llu",
	    (unsigned long long)ds.queries, (unsigned long long)ds.allowed,
	    (unsigned long long)ds.refused, (unsigned long long)ds.malformed,
	    (unsigned long long)ds.servfail, (unsigned long long)ds.stripped);
}

int
main(int argc, char **argv)
{
	struct l4_audit_sink sink = { audit_stdout, NULL };
	const char *path = NULL;
	struct gw_config *cfg;
	struct dnscache *dc;
	struct nfq *q;
	struct dnsproxy *d;
	sigset_t set;
	int c, sig;

	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c') {
			fprintf(stderr, "usage: gatewayd-nfq -c FILE\n");
			return 2;
		}
		path = optarg;
	}
	if (path == NULL) {
		fprintf(stderr, "usage: gatewayd-nfq -c FILE\n");
		return 2;
	}
	log_init("gatewayd-nfq", LOG_LVL_INFO, 0);
	if ((cfg = config_load(path, stderr)) == NULL)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	dc = dnscache_new(0, DNSCACHE_TTL_FLOOR, DNSCACHE_TTL_CEIL);
	if ((d = dnsproxy_start(cfg, dc, &sink)) == NULL)
		return 1;
	if ((q = nfq_start(cfg, dc, &sink)) == NULL)
		return 1;
	log_info("ready");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			struct gw_config *n = config_load(path, stderr);

			if (n == NULL) {
				log_warnx("reload failed: keeping the old config");
				continue;
			}
			nfq_reload(q, n);
			dnsproxy_reload(d, n);
			config_unref(cfg);
			cfg = n;
			log_info("reload done");
		} else if (sig == SIGUSR1) {
			stats(q, d);
		} else {
			break;
		}
	}
	stats(q, d);
	nfq_stop(q);
	dnsproxy_stop(d);
	dnscache_free(dc);
	config_unref(cfg);
	return 0;
}
