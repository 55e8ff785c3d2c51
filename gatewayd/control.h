/*
 * control.h - the root-only control socket of a running gatewayd, and
 * `gatewayd sentinel ...`, its client.
 *
 * A unix stream socket (mode 0600, in a directory created 0700 if
 * missing; an existing directory must not be writable by group or
 * others); a peer is served only if SO_PEERCRED says uid 0 or the
 * gateway's own uid.  One request line per connection, answered by zero
 * or more data lines and a final "OK[ text]" or "ERR text" line:
 *
 *   ISSUE <group> <guest-address> <secret> <ttl>   -> OK <sentinel>
 *   REVOKE <sentinel-or-id>                        -> OK
 *   LIST      -> "<id> <group> <guest> <secret> <issued> <expires> <state>"
 *                lines, then OK <count>
 *   STATS     -> "<key> <value>" lines, then OK
 *
 * ttl uses util_parse_duration_ms() ("600", "10m", "2h").  Requests are
 * at most CONTROL_LINE_MAX bytes; a client that stalls is dropped after
 * a few seconds.  The server runs on the service loop (service.h),
 * without blocking it: a stalled client cannot hold up DNS or NFQUEUE.
 */
#ifndef GW_CONTROL_H
#define GW_CONTROL_H

#include <stddef.h>
#include <sys/un.h>

#include "sentinel.h"
#include "util.h"

#define CONTROL_DEFAULT_SOCKET	"/run/gatewayd/control.sock"
#define CONTROL_LINE_MAX	1024
#define CONTROL_MAX_PEERS	16	/* connections served at once */
#define CONTROL_ANSWER_MAX	(256 * 1024)

/* Hooks into the running daemon; every member may be NULL. */
struct control_ops {
	/*
	 * May a sentinel be issued for this group and secret in the
	 * running config?  Return 0, or -1 with a message in err.  Called
	 * on the service thread; must take its own config reference.
	 * NULL: any names accepted.
	 */
	int	(*check_issue)(void *arg, const char *group,
		    const char *secret, char *err, size_t errlen);
	/*
	 * Write "key value\n" lines for STATS into buf (at most len bytes,
	 * NUL-terminated); return the length.  Called on the service
	 * thread.
	 */
	size_t	(*stats)(void *arg, char *buf, size_t len);
	void	*arg;
};

struct control;
struct service;

/*
 * Bind the socket at path and serve it on svc's loop (call before
 * service_start()), against st (borrowed: keep it alive until
 * control_close()).  ops is copied.  A stale socket file is replaced; a
 * live one (another gatewayd) is an error.  Returns NULL with a message
 * in err on failure.
 */
struct control *control_open(struct service *svc, const char *path,
    struct sentinel_store *st, const struct control_ops *ops, char *err,
    size_t errlen) WUNRES NONNULL(1, 2, 3);

/*
 * Close and unlink the socket and free, after service_stop().  NULL:
 * no-op.
 */
void control_close(struct control *c);

/*
 * The clients (control_client.c).  The socket is --socket PATH, else the
 * control_socket of -c FILE, else $GATEWAYD_CONTROL_SOCKET, else
 * CONTROL_DEFAULT_SOCKET.  Each returns the process exit status: 0 done,
 * 1 refused by the daemon (or FILE invalid), 2 usage, 3 daemon
 * unreachable.
 *
 * sentinel_main(): `gatewayd sentinel issue|revoke|list|stats ...`,
 * argv[0] "sentinel"; issue prints only the sentinel on stdout.
 * control_stats_main(): `gatewayd stats`, argv[0] "stats"; prints the
 * STATS data lines.
 */
int sentinel_main(int argc, char **argv);
int control_stats_main(int argc, char **argv);

/* sun for the socket at path; 0, or -1 with err set (too long). */
int control_sockaddr(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen) WUNRES NONNULL(1, 2, 3);

/*
 * Send one request line (no newline) to the socket at path and copy the
 * whole answer into out (NUL-terminated, cut at outlen).  Returns 0 when
 * the answer ends in an OK line, 1 for ERR, -1 when the daemon cannot be
 * reached (message in out).  For sentinel_main() and tests.
 */
int control_request(const char *path, const char *line, char *out,
    size_t outlen) NONNULL(1, 2, 3);

#endif
