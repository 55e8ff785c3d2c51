/*
 * runtime.h - everything built from one config that connections use:
 * the config itself, each group's CA and guest-facing SSL_CTX, and the
 * verified upstream SSL_CTX.
 *
 * A runtime is built in full on the main thread (start, SIGHUP, CA files
 * replaced) and swapped in only when everything succeeded; a connection
 * holds a reference to the runtime it started with, so a reload never
 * changes an established connection.  Refcounts are atomic; the objects
 * are read-only once built.
 */
#ifndef GW_RUNTIME_H
#define GW_RUNTIME_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "config.h"

struct ca;
struct secrets;

struct group_rt {
	const struct group_config *cfg;
	struct ca	*ca;		/* NULL: CA unusable, cannot bump */
	char		ca_err[256];	/* why ca is NULL */
	struct stat	ca_crt_st;	/* to notice ca-tool replacing files */
	struct stat	ca_key_st;
	SSL_CTX		*server_ctx;	/* guest-facing, leaf set per SSL */
	struct secrets	*secrets;	/* credential values, or NULL */
};

struct runtime {
	atomic_int	refs;
	uint64_t	generation;
	struct gw_config *cfg;		/* owned reference */
	struct group_rt	*groups;	/* same order as cfg->groups */
	size_t		ngroups;
	SSL_CTX		*client_ctx;	/* upstream, verifying */
};

/*
 * Build a runtime from cfg (takes a reference of cfg).  A group whose CA
 * cannot be loaded still gets a runtime (it can splice and deny, and
 * logs why it cannot bump); a broken trust store fails the whole build.
 * Returns NULL with err set on failure.
 */
struct runtime *runtime_new(struct gw_config *cfg, uint64_t generation,
    char *err, size_t errlen) WUNRES;

struct runtime *runtime_ref(struct runtime *rt);
void runtime_unref(struct runtime *rt);

/* Group runtime for a group config of this runtime, by index. */
const struct group_rt *runtime_group(const struct runtime *rt, size_t i);

/* True if any group's CA files changed on disk since rt was built. */
bool runtime_ca_changed(const struct runtime *rt);

#endif
