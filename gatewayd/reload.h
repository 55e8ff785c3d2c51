/*
 * reload.h - the one reload path: the current runtime (runtime.h) and
 * the policy that replaces it.
 *
 * A new config (SIGHUP) or the CA files changing on disk gives a new
 * runtime, built in full first.  It is refused, and the running one kept,
 * when the file does not load or validate, when a runtime cannot be
 * built from it, or when a group's CA loaded in the running runtime but
 * not in the new one (a broken or half-replaced file would lose
 * interception).  Otherwise every consumer gets it, each with a
 * reference of its own, and it becomes the current runtime; the old one
 * lives on for as long as anything (a connection, a DNS query) holds it.
 *
 * Consumers: the workers (through struct gw), the audit log's switches,
 * the DNS proxy and the NFQUEUE reader.  A consumer with a loop gets the
 * runtime on that loop's thread, posted (so it needs no lock); one
 * without is called on the reloading thread.
 *
 * Thread safety: reload_current() from any thread; the rest from one
 * thread (main.c's), the consumers added before the first reload.
 */
#ifndef GW_RELOAD_H
#define GW_RELOAD_H

#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "runtime.h"
#include "util.h"

#define RELOAD_MAX_CONSUMERS	8

struct reload;

/*
 * A consumer's hook: use rt from now on.  The hook owns the reference it
 * is given (and releases the one it held).
 */
typedef void (*reload_apply_fn)(void *arg, struct runtime *rt);

/* Start from rt (takes the caller's reference; its generation counts). */
struct reload *reload_new(struct runtime *rt) WUNRES NONNULL(1);
/* Releases the current runtime.  NULL: no-op. */
void reload_free(struct reload *r);

/*
 * Add a consumer: fn(arg, rt) on every accepted reload, posted to loop
 * (NULL: called inline).  The consumer already has the current runtime.
 * A posted hook runs after the reload returns, in the order posted: stop
 * that loop only with what was posted run (service_stop()).
 */
void reload_add_consumer(struct reload *r, struct loop *loop,
    reload_apply_fn fn, void *arg) NONNULL(1, 3);

/* The current runtime, with a new reference.  Thread-safe. */
struct runtime *reload_current(struct reload *r) WUNRES NONNULL(1);

/* The current generation (1 at start, +1 per accepted reload). */
uint64_t reload_generation(struct reload *r) NONNULL(1);

/*
 * Load and validate path, then swap as above.  Logs what happened (and
 * what only a restart changes).  Returns 0 if the new config is in
 * effect, -1 if the running one stays.
 */
int reload_file(struct reload *r, const char *path) NONNULL(1, 2);

/*
 * Apply cfg (a reference is taken), or with cfg NULL rebuild the current
 * config (the CA files changed).  why names the cause in the log.  A
 * refusal is logged once per distinct reason (housekeeping retries every
 * second).  0 or -1 as reload_file().
 */
int reload_config(struct reload *r, struct gw_config *cfg, const char *why)
    NONNULL(1, 3);

/* If any group's CA files changed on disk, reload_config(r, NULL). */
void reload_check_ca(struct reload *r) NONNULL(1);

#endif
