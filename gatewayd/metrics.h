/*
 * metrics.h - the Prometheus endpoint and the `gatewayd stats` text.
 *
 * metrics.c is pure: it parses a scraper's request and renders a
 * snapshot as the Prometheus text exposition format (version 0.0.4) or
 * as the "key value" lines of `gatewayd stats`.  metrics_srv.c gathers
 * the snapshot from the running daemon (stats shards, audit log, leaf
 * cache, DNS proxy, NFQUEUE) and serves GET /metrics on its own small
 * thread: at most METRICS_MAX_CLIENTS scrapers at once, requests of at
 * most METRICS_REQ_MAX bytes, METRICS_TIMEOUT_MS per scrape, HTTP/1.1
 * keep-alive bounded by METRICS_IDLE_MS and METRICS_MAX_REQUESTS;
 * anything but GET /metrics gets 404 or 405.  Both outputs read the same
 * snapshot, so the two always agree.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "alog.h"
#include "buf.h"
#include "dnsproxy.h"
#include "leafcache.h"
#include "nfq.h"
#include "stats.h"

#define METRICS_REQ_MAX		4096
#define METRICS_MAX_CLIENTS	4
#define METRICS_TIMEOUT_MS	5000
/* Keep-alive: a connection waits this long for its next request, and is
 * closed after this many (the last answer says Connection: close). */
#define METRICS_IDLE_MS		90000
#define METRICS_MAX_REQUESTS	100

/* Everything one scrape shows, gathered at one moment. */
struct metrics_snapshot {
	struct stats_snapshot	st;
	struct alog_stats	audit;
	struct leafcache_stats	leaf;
	struct nfq_stats	nfq;
	struct dnsproxy_stats	dns;
	uint64_t		nfq_drop_only;	/* dropped, not reset */
	uint64_t		leaf_entries;
	uint64_t		conns_open;
	uint64_t		slicer_failures; /* polls of Slicer that failed */
	uint64_t		slicer_refreshes; /* VM maps published */
	char			config_hash[65]; /* "" when unknown */
	const char		*version;
};

/*
 * Render s in the Prometheus text format, appended to out.  Every
 * metric has HELP and TYPE lines; label values are escaped.  Pure.
 */
void metrics_render(const struct metrics_snapshot *s, struct buf *out)
    NONNULL(1, 2);

/*
 * The `gatewayd stats` lines ("key value\n") of s into buf (at most len
 * bytes, NUL-terminated).  Returns the length.  Pure.
 */
size_t metrics_render_stats(const struct metrics_snapshot *s, char *buf,
    size_t len) NONNULL(1, 2);

/* What a scraper asked for. */
enum metrics_req {
	MREQ_NEED_MORE = 0,	/* no complete head yet */
	MREQ_METRICS,		/* GET /metrics (a query string is ignored) */
	MREQ_NOT_FOUND,		/* GET of another path: 404 */
	MREQ_BAD_METHOD,	/* another method: 405 */
	MREQ_BAD,		/* malformed or too big: 400 */
};

/* What else a complete request head says. */
struct metrics_head {
	size_t	len;		/* its bytes, with the empty line */
	bool	keep_alive;	/* another request may follow on the
				 * connection */
};

/*
 * Parse the request head in buf[0..len) (RFC 9112 request line).  A head
 * that has not ended within METRICS_REQ_MAX bytes is MREQ_BAD.  Once
 * complete (any verdict but MREQ_NEED_MORE), *h is filled: keep_alive
 * only for a GET (the answer to a HEAD would carry a body) that the
 * gateway's strict parser (http.h) accepts, that keeps the connection by
 * its version and Connection, and that announces no body (a body's bytes
 * are never read, so nothing may follow one).  Pure; buf need not be NUL-terminated.
 */
enum metrics_req metrics_parse_request(const char *buf, size_t len,
    struct metrics_head *h) NONNULL(1, 3);

/* The status line and headers of the answer to r, with a body of
 * bodylen bytes, appended to out; keep: the connection stays open. */
void metrics_response_head(enum metrics_req r, size_t bodylen, bool keep,
    struct buf *out) NONNULL(4);

/* ---- metrics_srv.c: the running daemon's side ---- */

struct gw;

/* Where a snapshot comes from; nfq and dns may be NULL. */
struct metrics_sources {
	struct gw	*gw;
	struct nfq	*nfq;
	struct dnsproxy	*dns;
	const char	*version;
	uint64_t	(*now_ms)(void);	/* the server's monotonic clock;
						 * NULL: util_now_ms (tests
						 * inject one) */
};

/* Gather a snapshot now.  Thread-safe; free with metrics_snapshot_fini. */
void metrics_collect(const struct metrics_sources *src,
    struct metrics_snapshot *out) NONNULL(1, 2);
void metrics_snapshot_fini(struct metrics_snapshot *s);

/* The control socket's STATS hook: metrics_collect + render_stats. */
size_t metrics_stats_text(const struct metrics_sources *src, char *buf,
    size_t len) NONNULL(1, 2);

struct metrics_srv;

/*
 * Listen on a (TCP) and serve scrapes on a new thread from src (copied;
 * its objects must outlive metrics_stop()).  Returns NULL with a message
 * in err when the address cannot be bound.
 */
struct metrics_srv *metrics_start(const struct addr *a,
    const struct metrics_sources *src, char *err, size_t errlen)
    WUNRES NONNULL(1, 2, 3);
/* The port bound (useful when a->port was 0). */
uint16_t metrics_port(const struct metrics_srv *m) NONNULL(1);
/* Stop the thread, close every socket, free.  NULL is a no-op. */
void metrics_stop(struct metrics_srv *m);

#endif
