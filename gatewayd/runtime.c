/*
 * runtime.c - build, reference and retire runtimes.  See runtime.h.
 */
#include "runtime.h"

#include <stdio.h>

#include "ca.h"
#include "log.h"
#include "secrets.h"
#include "tls.h"

static void
stat_or_zero(const char *dir, const char *file, struct stat *st)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (stat(path, st) != 0)
		memset(st, 0, sizeof(*st));
}

static int
group_build(struct group_rt *g, const struct group_config *gc,
    const char *cfgfile, char *err, size_t errlen)
{
	g->cfg = gc;
	if (gc->ca_dir != NULL) {
		stat_or_zero(gc->ca_dir, "ca.crt", &g->ca_crt_st);
		stat_or_zero(gc->ca_dir, "ca.key", &g->ca_key_st);
		g->ca = ca_load_dir(gc->ca_dir, g->ca_err, sizeof(g->ca_err));
		if (g->ca == NULL)
			log_warnx("group %s: CA in %s not usable, TLS flows "
			    "can only be spliced or refused: %s", gc->name,
			    gc->ca_dir, g->ca_err);
	} else
		util_strlcpy(g->ca_err, "no ca_dir configured",
		    sizeof(g->ca_err));
	if (gc->nsecrets > 0) {
		g->secrets = secrets_load(gc, cfgfile, err, errlen);
		if (g->secrets == NULL)
			return -1;
	}
	g->server_ctx = tls_server_ctx_new(err, errlen);
	return g->server_ctx != NULL ? 0 : -1;
}

struct runtime *
runtime_new(struct gw_config *cfg, uint64_t generation, char *err,
    size_t errlen)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));
	size_t i;

	atomic_init(&rt->refs, 1);
	rt->generation = generation;
	rt->cfg = config_ref(cfg);
	rt->groups = xcalloc(cfg->ngroups ? cfg->ngroups : 1,
	    sizeof(*rt->groups));
	rt->ngroups = cfg->ngroups;
	for (i = 0; i < cfg->ngroups; i++)
		if (group_build(&rt->groups[i], &cfg->groups[i],
		    cfg->path ? cfg->path : "(config)",
		    err, errlen) != 0)
			goto err;
	rt->client_ctx = tls_client_ctx_new(cfg->trust_file, cfg->trust_dir,
	    err, errlen);
	if (rt->client_ctx == NULL)
		goto err;
	return rt;
err:
	runtime_unref(rt);
	return NULL;
}

struct runtime *
runtime_ref(struct runtime *rt)
{
	atomic_fetch_add(&rt->refs, 1);
	return rt;
}

void
runtime_unref(struct runtime *rt)
{
	size_t i;

	if (rt == NULL || atomic_fetch_sub(&rt->refs, 1) != 1)
		return;
	for (i = 0; i < rt->ngroups; i++) {
		struct group_rt *g = &rt->groups[i];

		if (g->ca != NULL)
			ca_unref(g->ca);
		SSL_CTX_free(g->server_ctx);
		secrets_free(g->secrets);
	}
	SSL_CTX_free(rt->client_ctx);
	free(rt->groups);
	config_unref(rt->cfg);
	free(rt);
}

const struct group_rt *
runtime_group(const struct runtime *rt, size_t i)
{
	return i < rt->ngroups ? &rt->groups[i] : NULL;
}

static bool
changed(const struct stat *old, const char *dir, const char *file)
{
	struct stat st;

	stat_or_zero(dir, file, &st);
	return st.st_ino != old->st_ino || st.st_dev != old->st_dev ||
	    st.st_mtim.tv_sec != old->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != old->st_mtim.tv_nsec ||
	    st.st_size != old->st_size;
}

bool
runtime_ca_changed(const struct runtime *rt)
{
	size_t i;

	for (i = 0; i < rt->ngroups; i++) {
		const struct group_rt *g = &rt->groups[i];

		if (g->cfg->ca_dir == NULL)
			continue;
		if (changed(&g->ca_crt_st, g->cfg->ca_dir, "ca.crt") ||
		    changed(&g->ca_key_st, g->cfg->ca_dir, "ca.key"))
			return true;
	}
	return false;
}
