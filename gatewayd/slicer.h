/*
 * slicer.h - VM names from Slicer's REST API: which VM (hostname, host
 * group, tags) owns a guest source address.
 *
 * A poller thread GETs <url>/nodes every `refresh` with the bearer token
 * of `token_file`, parses the answer (a JSON array of node objects; the
 * fields used are hostname, hostgroup, ip and tags, docs/slicer.md) into
 * an immutable map and publishes it.  Workers look a guest up with
 * slicer_lookup(): the VM comes back with a reference of its own, so a
 * map swapped meanwhile never frees what a connection still reads.
 *
 * An unreachable Slicer, an HTTP error or an answer that does not parse
 * keeps the last map; the failure is logged once until Slicer answers
 * again, and counted (slicer_failures(), for the metrics).
 *
 * Thread safety: slicer_lookup(), slicer_vm_unref() and the counters may
 * be called from any thread.  slicer_start()/slicer_stop() from the main
 * thread only.  The parser and the URL parser are pure.
 */
#ifndef GW_SLICER_H
#define GW_SLICER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

/* Bounds on what one answer may hold (a hostile or broken API). */
#define SLICER_MAX_BODY		(8u * 1024 * 1024)
#define SLICER_MAX_NODES	65536
#define SLICER_MAX_TAGS		32	/* per VM */
#define SLICER_MAX_STR		253	/* hostname, host group, one tag */

struct slicer_vm {
	atomic_uint	refs;
	struct addr	addr;		/* the VM's address (port 0) */
	char		*name;		/* hostname */
	char		*group;		/* hostgroup, or NULL if not given */
	char		**tags;		/* as Slicer gives them ("user=alice") */
	size_t		ntags;
	size_t		seq;		/* private: order in the answer */
};

struct slicer_map;

/*
 * Parse an answer of GET /nodes (len bytes at body, modified in place).
 * Nodes without a usable ip (absent, not an address, "a.b.c.d/nn" is
 * accepted) or hostname are skipped; when two nodes give one address the
 * first wins.  Returns NULL with a reason in err when the body is not a
 * JSON array of objects, a field has the wrong type, or a bound is
 * passed.  Caller owns the result (slicer_map_free()).
 */
struct slicer_map *slicer_map_parse(char *body, size_t len, char *err,
    size_t errlen) WUNRES NONNULL(1, 3);
void slicer_map_free(struct slicer_map *m);
size_t slicer_map_size(const struct slicer_map *m);
/* VM i (0..size-1, in address order), borrowed from m. */
const struct slicer_vm *slicer_map_vm(const struct slicer_map *m, size_t i)
    NONNULL(1);
/* The VM at a (port ignored, IPv4-mapped folded), borrowed from m. */
const struct slicer_vm *slicer_map_find(const struct slicer_map *m,
    const struct addr *a) NONNULL(1, 2);

/*
 * Make m the published map (takes ownership; the previous one goes once
 * the last VM reference into it is dropped).  NULL unpublishes.
 */
void slicer_publish(struct slicer_map *m);

/* Was any map published since start?  (unknown = "refuse" needs one.) */
bool slicer_have_map(void);

/*
 * The VM of guest address a in the published map, with a reference
 * (slicer_vm_unref()); NULL when no map or not on it.
 */
struct slicer_vm *slicer_lookup(const struct addr *a) NONNULL(1);
void slicer_vm_unref(struct slicer_vm *vm);

/* The VM named name (hostname), referenced; NULL if none. */
struct slicer_vm *slicer_lookup_name(const char *name) NONNULL(1);

/*
 * The address of the VM named name (`gatewayd sentinel issue --vm`), or
 * -1 with a message in err when the published map has no such VM.
 */
int slicer_guest_of(const char *name, struct addr *out, char *err,
    size_t errlen) NONNULL(1, 2, 3);

/* "http://host[:port][/prefix]" only (Slicer's API is plain HTTP on
 * loopback); host is an IPv4/IPv6 literal or a name. */
struct slicer_url {
	char		host[256];
	uint16_t	port;		/* default 80 */
	char		path[512];	/* prefix without a trailing '/' */
};
int slicer_url_parse(const char *url, struct slicer_url *out,
    const char **why) NONNULL(1, 2, 3);

/* Counters since start, for `gatewayd stats` and the metrics. */
uint64_t slicer_failures(void);		/* polls that failed */
uint64_t slicer_refreshes(void);	/* maps published */

struct slicer_config;

/*
 * Set the poller up for cfg, or do nothing when cfg has no url.  The
 * token file is read here, before privileges are dropped (Slicer keeps
 * it root-only), and again at each poll; when it cannot be re-read the
 * first one is kept.  slicer_run() then starts the thread (after the
 * privilege drop: capabilities are per thread).  slicer_stop() joins it
 * and unpublishes.  Return 0, or -1 with a message in err.
 */
int slicer_start(const struct slicer_config *cfg, char *err, size_t errlen)
    NONNULL(1, 2);
int slicer_run(char *err, size_t errlen) NONNULL(1);
void slicer_stop(void);

/*
 * One poll with explicit inputs (the poller's step; tests): fetch, parse,
 * publish or count and log.  Returns 0 when a map was published.
 */
int slicer_poll_once(const struct slicer_url *u, const char *token,
    uint64_t timeout_ms) NONNULL(1);

#endif
