/*
 * listener.c - capture listeners: bind, accept, original destination,
 * group lookup and admission limits.  See listener.h.
 */
#include "listener.h"

#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <unistd.h>

#include "conn_dispatch.h"
#include "log.h"
#include "runtime.h"
#include "worker.h"

#define ACCEPT_BACKOFF_MS	100

int
listener_open(struct listener *l, enum capture_mode mode, int family,
    uint16_t port, bool tls, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct addr any;
	socklen_t sl;
	int fd, one = 1;

	memset(l, 0, sizeof(*l));
	l->io.fd = -1;
	l->mode = mode;
	l->port = port;
	l->family = family;
	l->tls = tls;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto err;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		goto err;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto err;
	if (mode == CAPTURE_TPROXY) {
		int r = family == AF_INET ?
		    setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) :
		    setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one,
		    sizeof(one));

		if (r != 0)
			goto err;
	}
	memset(&any, 0, sizeof(any));
	any.family = (sa_family_t)family;
	any.port = port;
	sl = addr_to_sockaddr(&any, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, 4096) != 0)
		goto err;
	l->io.fd = fd;
	l->io.cb = listener_accept_cb;
	return 0;
err:
	snprintf(err, errlen, "listen on %s port %u (%s): %s",
	    family == AF_INET ? "IPv4" : "IPv6", port,
	    mode == CAPTURE_TPROXY ? "tproxy" : "redirect", strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

void
listener_close(struct listener *l, struct loop *loop)
{
	if (l->io.fd == -1)
		return;
	if (!l->paused)
		loop_io_del(loop, &l->io);
	close(l->io.fd);
	l->io.fd = -1;
}

int
listener_original_dst(int fd, enum capture_mode mode, struct addr *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int r;

	if (mode == CAPTURE_TPROXY) {
		r = getsockname(fd, (struct sockaddr *)&ss, &sl);
	} else {
		struct sockaddr_storage local;
		socklen_t ll = sizeof(local);

		if (getsockname(fd, (struct sockaddr *)&local, &ll) != 0)
			return -1;
		if (local.ss_family == AF_INET6)
			r = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss,
			    &sl);
		else
			r = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &sl);
	}
	if (r != 0)
		return -1;
	addr_from_sockaddr(out, (struct sockaddr *)&ss);
	addr_unmap(out);
	return 0;
}

/* The group that owns this capture port in the current runtime. */
static const struct group_rt *
group_for_port(const struct runtime *rt, uint16_t port, bool tls)
{
	size_t i;

	for (i = 0; i < rt->ngroups; i++) {
		const struct group_config *g = rt->groups[i].cfg;

		if ((tls ? g->https_port : g->http_port) == port)
			return &rt->groups[i];
	}
	return NULL;
}

static bool
is_capture_port(const struct runtime *rt, uint16_t port)
{
	size_t i;

	for (i = 0; i < rt->ngroups; i++)
		if (rt->groups[i].cfg->http_port == port ||
		    rt->groups[i].cfg->https_port == port)
			return true;
	return false;
}

static bool
guest_in_group(const struct group_config *g, const struct addr *src)
{
	size_t i;

	if (g->nguests == 0)
		return true;
	for (i = 0; i < g->nguests; i++)
		if (cidr_contains(&g->guests[i], src))
			return true;
	return false;
}

static void
admit(struct listener *l, int fd, struct sockaddr_storage *peer)
{
	struct gw *gw = l->worker->gw;
	struct runtime *rt = gw_runtime(gw);
	const struct limits_config *lim = &rt->cfg->limits;
	const struct group_rt *grp;
	struct addr src, dst;
	char sbuf[ADDR_STRLEN], dbuf[ADDR_STRLEN];
	const char *why = NULL;

	addr_from_sockaddr(&src, (struct sockaddr *)peer);
	addr_unmap(&src);
	if (listener_original_dst(fd, l->mode, &dst) != 0) {
		log_warn("conn from %s: cannot recover the original "
		    "destination", addr_ntop_port(&src, sbuf, sizeof(sbuf)));
		goto refuse;
	}
	grp = group_for_port(rt, l->port, l->tls);
	if (grp == NULL) {
		why = "no group owns this port";
		goto refuse_log;
	}
	if (!guest_in_group(grp->cfg, &src)) {
		why = "source is not a guest of the group";
		goto refuse_log;
	}
	if (is_capture_port(rt, dst.port)) {
		/* Not captured traffic: a guest dialled us directly, or a
		 * redirect loop.  Never proxy to ourselves. */
		stats_inc(l->worker->stats, ST_CONN_REFUSED_LOOP);
		why = "destination is the gateway itself";
		goto refuse_log;
	}
	if (atomic_load(&gw->active) >= lim->max_conns) {
		stats_inc(l->worker->stats, ST_CONN_REFUSED_LIMIT);
		why = "connection limit reached";
		goto refuse_log;
	}
	if (!gw_guest_acquire(gw, &src, lim->max_conns_per_guest)) {
		stats_inc(l->worker->stats, ST_CONN_REFUSED_LIMIT);
		why = "per-guest connection limit reached";
		goto refuse_log;
	}
	stats_inc(l->worker->stats, ST_CONN_ACCEPTED);
	(void)conn_new(l->worker, rt, grp, fd, &src, &dst, l->tls);
	runtime_unref(rt);
	return;
refuse_log:
	log_warnx("conn %s -> %s refused: %s",
	    addr_ntop_port(&src, sbuf, sizeof(sbuf)),
	    addr_ntop_port(&dst, dbuf, sizeof(dbuf)), why);
refuse:
	close(fd);
	runtime_unref(rt);
}

void
listener_accept_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct listener *l = (struct listener *)io;
	struct sockaddr_storage peer;
	socklen_t pl;
	int fd, n;

	/* Bounded batch so one busy port cannot starve the loop. */
	for (n = 0; n < 64; n++) {
		pl = sizeof(peer);
		fd = accept4(io->fd, (struct sockaddr *)&peer, &pl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Back off instead of spinning on a level-
				 * triggered listener we cannot drain. */
				log_warn("accept on port %u, pausing %d ms",
				    l->port, ACCEPT_BACKOFF_MS);
				loop_io_del(loop, io);
				l->paused = true;
				l->resume_at = loop_now(loop) +
				    ACCEPT_BACKOFF_MS;
				return;
			}
			log_warn("accept on port %u", l->port);
			return;
		}
		admit(l, fd, &peer);
	}
}

void
listener_tick(struct listener *l, struct loop *loop, uint64_t now)
{
	if (!l->paused || l->io.fd == -1 || now < l->resume_at)
		return;
	if (loop_io_add(loop, &l->io, true) == 0)
		l->paused = false;
	else
		l->resume_at = now + ACCEPT_BACKOFF_MS;
}
