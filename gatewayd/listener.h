/*
 * listener.h - transparent capture listeners and original destinations.
 *
 * Two capture modes, each with its own original-destination lookup
 * (checked on Linux: under TPROXY, SO_ORIGINAL_DST fails with ENOENT):
 *   tproxy    IP_TRANSPARENT listener; the original destination is the
 *             accepted socket's local address (getsockname);
 *   redirect  nat redirect; SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST.
 * Each worker has its own SO_REUSEPORT socket per port and family, so the
 * kernel spreads connections across workers with no hand-off.
 */
#ifndef GW_LISTENER_H
#define GW_LISTENER_H

#include <stdbool.h>

#include "addr.h"
#include "config.h"
#include "loop.h"

struct worker;

struct listener {
	struct loop_io	io;
	struct worker	*worker;
	enum capture_mode mode;
	uint16_t	port;
	int		family;
	bool		tls;		/* the group's https_port */
	bool		paused;		/* EMFILE back-off */
	uint64_t	resume_at;
};

/* Open and bind (not yet registered).  0 or -1 with err set. */
int listener_open(struct listener *l, enum capture_mode mode, int family,
    uint16_t port, bool tls, char *err, size_t errlen) WUNRES;
void listener_close(struct listener *l, struct loop *loop);

/*
 * Recover the original destination of an accepted socket.
 * 0, or -1 with errno set.
 */
int listener_original_dst(int fd, enum capture_mode mode, struct addr *out);

/* Accept handler (loop callback); hands each socket to conn_new(). */
void listener_accept_cb(struct loop *loop, struct loop_io *io,
    uint32_t events);
/* Re-arm a listener paused by EMFILE (worker tick). */
void listener_tick(struct listener *l, struct loop *loop, uint64_t now);

#endif
