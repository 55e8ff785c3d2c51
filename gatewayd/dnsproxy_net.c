/*
 * dnsproxy_net.c - the DNS proxy's guest side: UDP and TCP listeners,
 * receiving queries (with the address and interface they came to),
 * sending replies from that address, and the TCP connection state (one
 * query at a time, length-prefixed, RFC 1035 4.2.2 / RFC 7766).
 *
 * What it is not: policy or upstream handling (dnsproxy.c), which it
 * reaches only through p->on_query, so calls run one way (dnsproxy.c
 * uses this file).  Runs only on the service loop's thread (service.h).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dnsproxy_int.h"
#include "log.h"
#include "runtime.h"

void
dnsproxy_watch(struct dnsproxy *p, struct loop_io *io, uint32_t events,
    bool add)
{
	int r = 0;

	if (add)
		r = loop_io_add(p->loop, io, true);	/* EPOLLIN */
	if (r == 0 && (!add || events != EPOLLIN))
		r = loop_io_mod(p->loop, io, events);
	if (r == -1)
		log_warn("dnsproxy: epoll_ctl");
}

static void
send_udp(struct dnsproxy *p, const struct origin *o, const uint8_t *msg,
    size_t len)
{
	struct sockaddr_storage ss;
	union {
		struct cmsghdr	align;
		uint8_t		b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cb;
	struct iovec iov = { (void *)(uintptr_t)msg, len };
	struct msghdr mh = { .msg_name = &ss, .msg_iov = &iov,
	    .msg_iovlen = 1, .msg_control = cb.b };
	struct cmsghdr *cm;

	memset(&cb, 0, sizeof(cb));
	mh.msg_namelen = addr_to_sockaddr(&o->guest, &ss);
	cm = (struct cmsghdr *)cb.b;
	if (o->local.family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = o->local.u.v4 };

		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else if (o->local.family == AF_INET6) {
		struct in6_pktinfo pi = { .ipi6_addr = o->local.u.v6,
		    .ipi6_ifindex = (unsigned)o->ifindex };

		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else {
		mh.msg_control = NULL;
	}
	if (sendmsg(o->l->io.fd, &mh, MSG_DONTWAIT) == -1 &&
	    log_enabled(LOG_LVL_DEBUG))
		log_debug("dnsproxy: reply to guest: %s", strerror(errno));
}

/* Start writing a reply; the rest goes out on EPOLLOUT. */
static void
send_tcp(struct client *c, const uint8_t *msg, size_t len)
{
	ssize_t n;

	if (c->out != NULL || c->dead)
		return;		/* one query at a time: cannot happen */
	c->out = xmalloc(len + 2);
	c->out[0] = (uint8_t)(len >> 8);
	c->out[1] = (uint8_t)len;
	memcpy(c->out + 2, msg, len);
	c->outlen = len + 2;
	c->outoff = 0;
	n = send(c->io.fd, c->out, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1 && errno != EAGAIN)
		c->dead = true;
	if (n > 0)
		c->outoff = (size_t)n;
	if (c->outoff == c->outlen) {
		free(c->out);
		c->out = NULL;
	}
}

void
dnsproxy_reply(struct dnsproxy *p, const struct origin *o, const uint8_t *msg,
    size_t len)
{
	if (len == 0)
		return;
	if (o->c != NULL)
		send_tcp(o->c, msg, len);
	else if (!o->tcp)
		send_udp(p, o, msg, len);
}

static void
udp_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct listener *l = (struct listener *)io;
	struct dnsproxy *p = l->p;
	int i;

	for (i = 0; i < UDP_DRAIN; i++) {
		struct sockaddr_storage ss;
		union {
			struct cmsghdr	align;
			uint8_t		b[256];
		} cb;
		struct iovec iov = { p->buf, sizeof(p->buf) };
		struct msghdr mh = { .msg_name = &ss, .msg_namelen = sizeof(ss),
		    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
		    .msg_controllen = sizeof(cb.b) };
		struct origin o;
		struct cmsghdr *cm;
		ssize_t n;

		n = recvmsg(l->io.fd, &mh, MSG_DONTWAIT);
		if (n == -1)
			break;
		memset(&o, 0, sizeof(o));
		o.l = l;
		addr_from_sockaddr(&o.guest, (struct sockaddr *)&ss);
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				o.local.family = AF_INET;
				o.local.u.v4 = pi.ipi_addr;
				o.ifindex = pi.ipi_ifindex;
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				o.local.family = AF_INET6;
				o.local.u.v6 = pi.ipi6_addr;
				o.ifindex = (int)pi.ipi6_ifindex;
			}
		}
		if (n < 2)
			continue;	/* not even an id to answer to */
		p->on_query(p, &o, p->buf, (size_t)n);
	}
}

static void
client_free(struct loop *loop, void *arg)
{
	struct client *c = arg;

	free(c->out);
	free(c);
}

/*
 * The fd goes now, the memory after this batch of events: an event of
 * c may still be in the batch (EPOLLHUP is reported even while c waits
 * for nothing), and its callback must find c closed, not freed.
 */
void
dnsproxy_client_close(struct dnsproxy *p, struct client *c)
{
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		if (p->pend[i].o.c == c)
			p->pend[i].o.c = NULL;
	close(c->io.fd);
	c->io.fd = -1;
	p->clients[c->slot] = NULL;
	loop_post(p->loop, client_free, c);
}

/* Length of a complete query at the head of c->in, or 0. */
static size_t
client_ready(const struct client *c)
{
	size_t want;

	if (c->have < 2)
		return 0;
	want = (size_t)(c->in[0] << 8 | c->in[1]);
	return c->have >= want + 2 ? want + 2 : 0;
}

/*
 * After any change to c: close it if a write failed, else ask epoll for
 * what c waits on.  A buffered query makes it wait for EPOLLOUT, which
 * fires at once: queries are taken one per event, never recursively.
 */
void
dnsproxy_client_after(struct dnsproxy *p, struct client *c)
{
	uint32_t want = EPOLLIN;

	if (c->dead) {
		dnsproxy_client_close(p, c);
		return;
	}
	if (c->out != NULL || (!c->busy && client_ready(c) > 0))
		want = EPOLLOUT;
	else if (c->busy)
		want = 0;
	dnsproxy_watch(p, &c->io, want, false);
}

/*
 * The next whole query is due DNSPROXY_TCP_TIMEOUT_MS from now: from the
 * accept, then from each answer.  Bytes that arrive in between never
 * push it out, so a guest dripping a query a byte at a time loses the
 * connection as surely as an idle one.
 */
void
dnsproxy_client_rearm(struct client *c)
{
	c->deadline = util_now_ms() + DNSPROXY_TCP_TIMEOUT_MS;
}

/* Connections of guest a; a scan of a small fixed table. */
static unsigned
guest_clients(const struct dnsproxy *p, const struct addr *a)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_TCP; i++)
		if (p->clients[i] != NULL && addr_equal(&p->clients[i]->peer, a))
			n++;
	return n;
}

static void
client_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct client *c = (struct client *)io;
	struct dnsproxy *p = c->l->p;
	size_t qlen;
	ssize_t n;

	if (c->io.fd == -1)
		return;		/* closed earlier in this batch */
	if (c->out != NULL) {
		n = send(c->io.fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN)
			c->dead = true;
		if (n > 0)
			c->outoff += (size_t)n;
		if (c->outoff == c->outlen) {
			free(c->out);
			c->out = NULL;
		}
	} else if (!c->busy && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    c->have < sizeof(c->in)) {
		n = recv(c->io.fd, c->in + c->have, sizeof(c->in) - c->have,
		    MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			c->dead = true;
		if (n > 0)
			c->have += (size_t)n;
	}
	if (!c->dead && c->out == NULL && !c->busy &&
	    (qlen = client_ready(c)) > 0) {
		/* on_query (dnsproxy_query()) answers or goes upstream; c->in is not touched
		 * until it returns, and c is not freed (dead is deferred). */
		p->on_query(p, &(struct origin){ .c = c, .l = c->l, .tcp = true,
		    .guest = c->peer }, c->in + 2, qlen - 2);
		c->have -= qlen;
		memmove(c->in, c->in + qlen, c->have);
		if (!c->busy)
			dnsproxy_client_rearm(c);	/* answered at once */
	}
	dnsproxy_client_after(p, c);
}

/*
 * The listener is level-triggered: with no descriptor to accept into it
 * stays readable, and would spin the service loop (and starve nothing,
 * but burn a core).  Stop hearing it for a while; dnsproxy_resume()
 * turns it back on.
 */
static void
pause_listener(struct dnsproxy *p, struct listener *l, uint64_t now)
{
	log_warn("dnsproxy: accept on port %u, pausing %d ms", l->port,
	    DNSPROXY_ACCEPT_BACKOFF_MS);
	if (loop_io_mod(p->loop, &l->io, 0) != 0)
		log_warn("dnsproxy: epoll_ctl");
	l->paused = true;
	l->resume_at = now + DNSPROXY_ACCEPT_BACKOFF_MS;
}

void
dnsproxy_resume(struct dnsproxy *p, uint64_t now)
{
	size_t i;

	for (i = 0; i < p->nls; i++) {
		struct listener *l = &p->ls[i];

		if (!l->paused || now < l->resume_at)
			continue;
		l->paused = false;
		if (loop_io_mod(p->loop, &l->io, EPOLLIN) != 0)
			log_warn("dnsproxy: epoll_ctl");
	}
}

static void
accept_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct listener *l = (struct listener *)io;
	struct dnsproxy *p = l->p;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct client *c;
	struct addr peer;
	unsigned cap;
	size_t i;
	int fd;

	fd = accept4(l->io.fd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			pause_listener(p, l, loop_now(loop));
		return;
	}
	addr_from_sockaddr(&peer, (struct sockaddr *)&ss);
	addr_unmap(&peer);
	peer.port = 0;
	cap = p->rt->cfg->limits.dns_tcp_per_guest;
	for (i = 0; i < DNSPROXY_MAX_TCP; i++)
		if (p->clients[i] == NULL)
			break;
	/* The table is shared: no guest takes more than its share. */
	if (i == DNSPROXY_MAX_TCP || guest_clients(p, &peer) >= cap) {
		__atomic_add_fetch(&p->stats.over_quota, 1, __ATOMIC_RELAXED);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->io.fd = fd;
	c->io.cb = client_cb;
	c->l = l;
	c->slot = i;
	c->peer = peer;
	dnsproxy_client_rearm(c);
	p->clients[i] = c;
	dnsproxy_watch(p, &c->io, EPOLLIN, true);
}

/* Open one listener; 0, or -1 (logged). */
static int
listen_one(struct dnsproxy *p, int family, bool tcp, uint16_t port)
{
	struct listener *l = &p->ls[p->nls];
	struct addr any = { .family = (sa_family_t)family, .port = port };
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(&any, &ss);
	int one = 1, fd;

	fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto err;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
		    sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one,
		    sizeof(one));
	} else {
		(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one,
		    sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    (tcp && listen(fd, 64) == -1))
		goto err;
	l->io.fd = fd;
	l->io.cb = tcp ? accept_cb : udp_cb;
	l->p = p;
	l->family = family;
	l->port = port;
	p->nls++;
	dnsproxy_watch(p, &l->io, EPOLLIN, true);
	return 0;
err:
	log_warn("dnsproxy: listen %s %s port %u", family == AF_INET ? "ipv4" :
	    "ipv6", tcp ? "tcp" : "udp", port);
	if (fd != -1)
		close(fd);
	return -1;
}

int
dnsproxy_open_listeners(struct dnsproxy *p, const struct gw_config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->ngroups; i++) {
		const struct dns_config *d = &cfg->groups[i].dns;
		bool seen = false;

		if (d->mode != DNS_GATEWAY)
			continue;
		for (j = 0; j < p->nls; j++)
			seen |= p->ls[j].port == d->listen_port;
		if (seen)
			continue;
		if (p->nls + 4 > MAX_LISTENERS) {
			log_warnx("dnsproxy: too many DNS listen ports");
			return -1;
		}
		if (listen_one(p, AF_INET, false, d->listen_port) != 0 ||
		    listen_one(p, AF_INET, true, d->listen_port) != 0)
			return -1;
		/* IPv6 may be disabled: serve IPv4 then. */
		if (listen_one(p, AF_INET6, false, d->listen_port) == 0)
			(void)listen_one(p, AF_INET6, true, d->listen_port);
		log_info("dnsproxy: listening on port %u", d->listen_port);
	}
	return 0;
}
