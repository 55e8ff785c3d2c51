/*
 * test_reload.c - the one reload path (reload.c): an accepted config
 * reaches every consumer, inline ones at once and loop ones through
 * their loop, in order, and the old runtime is released by all of them;
 * a refused one (a file that does not parse, that does not load, a CA
 * that stopped loading) reaches none of them and leaves the generation
 * alone; a CA restored on disk is picked up again.  The loop consumer
 * sits on a service loop thread (service.h), as the DNS proxy does; the
 * test waits for a closure posted after the deliveries (a condition
 * variable), never on the clock.
 */
#include "reload.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>

#include "certtest.h"
#include "log.h"
#include "service.h"
#include "tap.h"

/* A consumer that keeps what it was given, as the real ones do. */
struct probe {
	struct runtime	*held;
	unsigned	calls;
	pthread_t	thread;		/* of the last call */
};

static void
probe_apply(void *arg, struct runtime *rt)
{
	struct probe *p = arg;

	runtime_unref(p->held);
	p->held = rt;
	p->calls++;
	p->thread = pthread_self();
}

static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;
static bool synced;

static void
sync_cb(struct loop *l, void *arg)
{
	pthread_mutex_lock(&sync_lock);
	synced = true;
	pthread_cond_signal(&sync_cond);
	pthread_mutex_unlock(&sync_lock);
}

/* Return once l's thread has run everything posted to it so far. */
static void
drain_loop(struct loop *l)
{
	pthread_mutex_lock(&sync_lock);
	synced = false;
	loop_post(l, sync_cb, NULL);
	while (!synced)
		pthread_cond_wait(&sync_cond, &sync_lock);
	pthread_mutex_unlock(&sync_lock);
}

static char cfgpath[512];

/* One group with the CA in cadir; redact says which config it is. */
static void
write_config(const char *cadir, bool redact, const char *extra)
{
	FILE *f = fopen(cfgpath, "w");

	AN(f != NULL);
	fprintf(f, "audit = { redact_query = %s; };\n%s\n"
	    "groups = ( { name = \"a\"; guests = [\"10.0.0.0/24\"];\n"
	    "  capture = { http_port = 3128; https_port = 3129; };\n"
	    "  ca_dir = \"%s\"; } );\n", redact ? "true" : "false",
	    extra, cadir);
	AZ(fclose(f));
}

static void
write_ca(struct ca *ca, const char *cadir)
{
	char err[256];

	if (ca_write_pair(ca, cadir, "ca", 0600, (gid_t)-1, err,
	    sizeof(err)) != 0) {
		printf("Bail out! ca_write_pair: %s\n", err);
		exit(1);
	}
}

int
main(void)
{
	const char *dir = test_tmpdir();
	char cadir[512], crt[600], err[512];
	struct probe inl = { .held = NULL }, posted = { .held = NULL };
	struct runtime *rt, *old;
	struct gw_config *cfg;
	struct reload *r;
	struct service *svc = service_new();
	struct loop *l = service_loop(svc);
	struct ca *ca = test_ca_new("reload test CA", CA_KEY_P256, 30,
	    time(NULL));
	FILE *f;

	log_init("test_reload", LOG_LVL_WARN, 0);
	snprintf(cfgpath, sizeof(cfgpath), "%s/gatewayd.conf", dir);
	snprintf(cadir, sizeof(cadir), "%s/ca", dir);
	snprintf(crt, sizeof(crt), "%s/ca.crt", cadir);
	AZ(mkdir(cadir, 0700));
	write_ca(ca, cadir);
	write_config(cadir, false, "");
	cfg = config_load(cfgpath, stderr);
	AN(cfg != NULL);
	rt = runtime_new(cfg, 1, err, sizeof(err));
	config_unref(cfg);
	if (!ok(rt != NULL && rt->groups[0].ca != NULL, "start: %s",
	    rt ? "CA loaded" : err))
		return tap_done();
	inl.held = runtime_ref(rt);
	posted.held = runtime_ref(rt);
	old = runtime_ref(rt);
	r = reload_new(rt);
	reload_add_consumer(r, NULL, probe_apply, &inl);
	reload_add_consumer(r, l, probe_apply, &posted);
	is(reload_generation(r), 1, "generation 1 at start");
	AZ(service_start(svc));

	write_config(cadir, true, "");
	is(reload_file(r, cfgpath), 0, "a good config is accepted");
	is(reload_generation(r), 2, "generation 2");
	ok(inl.calls == 1 && inl.held->generation == 2 &&
	    inl.held->cfg->audit_redact_query, "inline consumer has the new "
	    "runtime, with the new config");
	ok(pthread_equal(inl.thread, pthread_self()), "inline: on the "
	    "reloading thread");
	drain_loop(l);
	ok(posted.calls == 1 && posted.held->generation == 2 &&
	    posted.held->cfg->audit_redact_query, "loop consumer has it once "
	    "its loop ran");
	ok(!pthread_equal(posted.thread, pthread_self()), "loop consumer: "
	    "on its loop's thread");
	rt = reload_current(r);
	ok(rt == inl.held && rt == posted.held, "one snapshot for all");
	runtime_unref(rt);
	is(atomic_load(&old->refs), 1, "the old runtime: every consumer let "
	    "it go");
	runtime_unref(old);

	f = fopen(cfgpath, "w");
	fputs("groups = ( { name = \"a\"; \n", f);
	fclose(f);
	is(reload_file(r, cfgpath), -1, "a config that does not parse is "
	    "refused");
	write_config(cadir, false, "workers = \"many\";");
	is(reload_file(r, cfgpath), -1, "a config that does not validate is "
	    "refused");
	is(reload_file(r, "/nonexistent/gatewayd.conf"), -1, "a missing file "
	    "is refused");
	drain_loop(l);
	ok(inl.calls == 1 && posted.calls == 1 && reload_generation(r) == 2,
	    "refused: no consumer called, generation unchanged");
	ok(inl.held->cfg->audit_redact_query, "the running config stays");

	/* The CA file broken in place: neither a reload nor the CA watch
	 * may swap in a runtime that cannot intercept. */
	f = fopen(crt, "w");
	fputs("not a certificate\n", f);
	fclose(f);
	write_config(cadir, false, "");
	is(reload_file(r, cfgpath), -1, "a reload that would lose the CA is "
	    "refused");
	reload_check_ca(r);
	drain_loop(l);
	ok(inl.calls == 1 && posted.calls == 1 && reload_generation(r) == 2,
	    "CA broken: no consumer called");
	rt = reload_current(r);
	ok(rt->groups[0].ca != NULL, "the running CA stays in use");
	runtime_unref(rt);

	write_ca(ca, cadir);
	reload_check_ca(r);
	is(reload_generation(r), 3, "the CA restored: picked up");
	reload_check_ca(r);
	is(reload_generation(r), 3, "no change on disk: no reload");
	is(reload_file(r, cfgpath), 0, "and a reload is accepted again");
	drain_loop(l);
	ok(inl.calls == 3 && posted.calls == 3 &&
	    posted.held->generation == 4 &&
	    !posted.held->cfg->audit_redact_query,
	    "both consumers had both, the last one last");

	service_stop(svc);
	reload_free(r);
	runtime_unref(inl.held);
	runtime_unref(posted.held);
	service_free(svc);
	ca_unref(ca);
	test_rmtree(dir);
	return tap_done();
}
