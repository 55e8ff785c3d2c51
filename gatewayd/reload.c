/*
 * reload.c - the reload policy and the hand-over of each new runtime to
 * its consumers.  See reload.h.
 *
 * What it is not: how a runtime is built (runtime.c) or what a consumer
 * does with it (each consumer's apply hook).
 */
#include "reload.h"

#include <pthread.h>
#include <stdio.h>

#include "log.h"

struct consumer {
	struct loop	*loop;		/* NULL: inline */
	reload_apply_fn	fn;
	void		*arg;
};

struct reload {
	pthread_mutex_t	lock;		/* guards cur */
	struct runtime	*cur;
	uint64_t	gen;
	char		refused[512];	/* last refusal, logged once */
	struct consumer	cons[RELOAD_MAX_CONSUMERS];
	size_t		ncons;
};

/* A runtime on its way to a consumer on another loop. */
struct delivery {
	const struct consumer	*c;
	struct runtime		*rt;
};

struct reload *
reload_new(struct runtime *rt)
{
	struct reload *r = xcalloc(1, sizeof(*r));

	AZ(pthread_mutex_init(&r->lock, NULL));
	r->cur = rt;
	r->gen = rt->generation;
	return r;
}

void
reload_free(struct reload *r)
{
	if (r == NULL)
		return;
	runtime_unref(r->cur);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void
reload_add_consumer(struct reload *r, struct loop *loop, reload_apply_fn fn,
    void *arg)
{
	AN(r->ncons < RELOAD_MAX_CONSUMERS);
	r->cons[r->ncons].loop = loop;
	r->cons[r->ncons].fn = fn;
	r->cons[r->ncons].arg = arg;
	r->ncons++;
}

struct runtime *
reload_current(struct reload *r)
{
	struct runtime *rt;

	AZ(pthread_mutex_lock(&r->lock));
	rt = runtime_ref(r->cur);
	AZ(pthread_mutex_unlock(&r->lock));
	return rt;
}

uint64_t
reload_generation(struct reload *r)
{
	return r->gen;
}

static void
deliver(struct loop *l, void *arg)
{
	struct delivery *d = arg;

	d->c->fn(d->c->arg, d->rt);
	free(d);
}

/* rt (the caller's reference) becomes current, for every consumer. */
static void
commit(struct reload *r, struct runtime *rt)
{
	struct runtime *old;
	size_t i;

	for (i = 0; i < r->ncons; i++) {
		const struct consumer *c = &r->cons[i];

		if (c->loop == NULL) {
			c->fn(c->arg, runtime_ref(rt));
		} else {
			struct delivery *d = xmalloc(sizeof(*d));

			d->c = c;
			d->rt = runtime_ref(rt);
			loop_post(c->loop, deliver, d);
		}
	}
	AZ(pthread_mutex_lock(&r->lock));
	old = r->cur;
	r->cur = rt;
	r->gen = rt->generation;
	AZ(pthread_mutex_unlock(&r->lock));
	runtime_unref(old);
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

/*
 * A group whose CA loaded in the running runtime but not in the new one.
 * Returns the group's name (why: the CA's error) or NULL.
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

int
reload_config(struct reload *r, struct gw_config *cfg, const char *why)
{
	struct runtime *cur = reload_current(r), *rt;
	const char *group, *caerr = NULL;
	char err[512];
	int ret = -1;

	if (cfg == NULL)
		cfg = cur->cfg;
	else
		warn_restart_needed(cur->cfg, cfg, why);
	rt = runtime_new(cfg, r->gen + 1, err, sizeof(err));
	if (rt == NULL)
		goto refuse;
	if ((group = lost_ca(cur, rt, &caerr)) != NULL) {
		snprintf(err, sizeof(err), "the CA of group %s does not load "
		    "any more (%s); the running CA stays in use", group, caerr);
		runtime_unref(rt);
		goto refuse;
	}
	r->refused[0] = '\0';
	commit(r, rt);
	log_info("%s: configuration generation %llu in effect", why,
	    (unsigned long long)r->gen);
	ret = 0;
	goto out;
refuse:
	if (strcmp(r->refused, err) != 0 || strcmp(why, "reload") == 0)
		log_warnx("%s: keeping the running configuration: %s", why,
		    err);
	util_strlcpy(r->refused, err, sizeof(r->refused));
out:
	runtime_unref(cur);
	return ret;
}

int
reload_file(struct reload *r, const char *path)
{
	struct gw_config *cfg;
	char *errs = NULL;
	size_t errlen = 0;
	FILE *ef = open_memstream(&errs, &errlen);
	int ret;

	cfg = config_load(path, ef);
	if (ef != NULL)
		fclose(ef);
	if (cfg == NULL) {
		log_warnx("reload: %s is invalid, keeping the running "
		    "configuration:\n%s", path, errs ? errs : "");
		free(errs);
		return -1;
	}
	free(errs);
	ret = reload_config(r, cfg, "reload");
	config_unref(cfg);
	return ret;
}

void
reload_check_ca(struct reload *r)
{
	struct runtime *cur = reload_current(r);

	if (runtime_ca_changed(cur))
		(void)reload_config(r, NULL, "CA files changed");
	runtime_unref(cur);
}
