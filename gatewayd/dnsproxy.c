/*
 * dnsproxy.c - the guests' DNS resolver proxy.  See dnsproxy.h.
 *
 * What it is: one epoll thread that reads guest queries (UDP datagrams,
 * TCP with RFC 1035 4.2.2 length prefixes), judges them (dnsguard.c),
 * answers refusals itself (dns_build_error()), forwards the rest to the
 * upstream resolver on a fresh socket per query, and relays the answer
 * after feeding the dnscache and stripping HTTPS/SVCB records.
 * What it is not: a cache, a recursive resolver or a DNSSEC validator;
 * the upstream does all of that.
 *
 * Every guest-visible failure is an answer (FORMERR, REFUSED/NXDOMAIN,
 * SERVFAIL) and one audit record; nothing a guest sends can block the
 * thread: sockets are non-blocking, tables fixed, deadlines enforced.
 */
#include "dnsproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "dns.h"
#include "dnsguard.h"
#include "log.h"

#define DNSPROXY_MAGIC	0x444e5350u
#define MAX_LISTENERS	32
#define UDP_DRAIN	32
#define EDNS_SIZE	1232		/* DNS flag day 2020 */
#define F_CD		0x0010

enum ev_kind {
	EV_STOP = 0,
	EV_UDP,
	EV_LISTEN,
	EV_CLIENT,
	EV_UPSTREAM,
};

struct ev {
	enum ev_kind	kind;
	int		fd;
};

struct listener {
	struct ev	ev;
	int		family;
	uint16_t	port;
};

struct client {
	struct ev	ev;
	struct listener	*l;
	struct addr	peer;
	uint8_t		in[2 + DNS_MAX_MSG];
	size_t		have;
	uint8_t		*out;		/* reply being written, or NULL */
	size_t		outlen, outoff;
	bool		busy;		/* a query is upstream */
	bool		dead;		/* write failed: close when safe */
	uint64_t	deadline;
	size_t		slot;
};

/* Where a query came from and what it asked. */
struct origin {
	struct listener	*l;
	struct client	*c;		/* TCP and still connected, or NULL */
	bool		tcp;
	struct addr	guest;		/* with port */
	struct addr	local;		/* UDP: the query's destination */
	int		ifindex;
};

struct pending {
	struct ev	ev;		/* fd -1: free */
	struct origin	o;
	bool		tcp;
	struct gw_config *cfg;		/* reference held */
	const struct group_config *g;
	struct dns_question q;
	char		name[HOST_MAX + 1];
	char		rule[HOST_MAX + 32];
	uint16_t	client_id, up_id;
	size_t		client_max;
	uint8_t		qmsg[2 + 300 + DNS_HDR_LEN + 11];
	size_t		qlen, qsent;
	uint8_t		*rbuf;		/* TCP response, or NULL */
	size_t		rhave;
	uint64_t	deadline;
};

struct dnsproxy {
	unsigned		magic;
	int			epfd;
	struct ev		stop;
	pthread_t		thread;
	pthread_mutex_t		lock;		/* guards cfg, resolv */
	struct gw_config	*cfg;
	struct addr		resolv;		/* resolv.conf fallback */
	struct dnscache		*dc;
	struct dnsguard		*guard;
	struct l4_audit_sink	audit;
	struct listener		ls[MAX_LISTENERS];
	size_t			nls;
	struct pending		*pend;		/* DNSPROXY_MAX_PENDING */
	unsigned		npend;
	struct client		*clients[DNSPROXY_MAX_TCP];
	struct dnsproxy_stats	stats;
	uint8_t			buf[DNS_MAX_MSG + 2];
	uint8_t			out[DNS_MAX_MSG + 2];
};

static void
stat_add(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static void
ep_set(struct dnsproxy *p, struct ev *ev, uint32_t events, int op)
{
	struct epoll_event ee = { .events = events, .data.ptr = ev };

	if (epoll_ctl(p->epfd, op, ev->fd, &ee) == -1)
		log_warn("dnsproxy: epoll_ctl");
}

/* First "nameserver" of /etc/resolv.conf, port 53; family 0 if none. */
static void
read_resolv(struct addr *out)
{
	char line[256], ns[128];
	FILE *f = fopen("/etc/resolv.conf", "r");

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " nameserver %127s", ns) == 1 &&
		    addr_parse(ns, out) == 0) {
			out->port = 53;
			break;
		}
	}
	fclose(f);
}

/* ---- replies ---- */

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
	if (sendmsg(o->l->ev.fd, &mh, MSG_DONTWAIT) == -1 &&
	    log_enabled(LOG_LVL_DEBUG))
		log_debug("dnsproxy: reply to guest: %s", strerror(errno));
}

static void client_after(struct dnsproxy *p, struct client *c);

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
	n = send(c->ev.fd, c->out, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1 && errno != EAGAIN)
		c->dead = true;
	if (n > 0)
		c->outoff = (size_t)n;
	if (c->outoff == c->outlen) {
		free(c->out);
		c->out = NULL;
	}
}

static void
reply(struct dnsproxy *p, const struct origin *o, const uint8_t *msg,
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
audit(struct dnsproxy *p, const struct origin *o, const char *group,
    const char *name, uint16_t qtype, const char *answers,
    const char *verdict, const char *rule)
{
	struct l4_audit au;
	char t[16];

	if (p->audit.fn == NULL)
		return;
	memset(&au, 0, sizeof(au));
	au.kind = L4_AUDIT_DNS;
	au.group = group ? group : "-";
	au.guest = &o->guest;
	au.proto = o->tcp ? "dns/tcp" : "dns/udp";
	au.name = name;
	au.qtype = dns_type_str(qtype, t, sizeof(t));
	au.answers = answers;
	au.verdict = verdict;
	au.rule = rule;
	p->audit.fn(p->audit.arg, &au);
}

static void
reply_error(struct dnsproxy *p, const struct origin *o, const uint8_t *msg,
    size_t len, const struct dns_question *q, uint16_t rcode)
{
	size_t n = dns_build_error(msg, len, q, rcode, p->out, sizeof(p->out));

	reply(p, o, p->out, n);
}

/* ---- upstream ---- */

static void
pending_free(struct dnsproxy *p, struct pending *pd)
{
	if (pd->ev.fd != -1) {
		close(pd->ev.fd);
		p->npend--;
	}
	pd->ev.fd = -1;
	pd->o.c = NULL;
	config_unref(pd->cfg);
	pd->cfg = NULL;
	free(pd->rbuf);
	pd->rbuf = NULL;
}

/*
 * An error reply to pd's question with the client's id, built from the
 * question as parsed (the client's own bytes are gone by now).
 */
static size_t
build_reply(struct dnsproxy *p, const struct pending *pd, uint16_t rcode,
    bool tc)
{
	uint8_t m[DNS_HDR_LEN + 300];
	struct dns_header h;
	struct dns_question q;
	size_t n = dns_build_query(pd->client_id, pd->name, pd->q.qtype, m,
	    sizeof(m));

	if (n == 0 || dns_parse_query(m, n, &h, &q) != 0)
		return 0;
	n = dns_build_error(m, n, &q, rcode, p->out, sizeof(p->out));
	if (n > 2 && tc)
		p->out[2] |= DNS_F_TC >> 8;
	return n;
}

/* Send msg to pd's client and release the client for its next query. */
static void
deliver(struct dnsproxy *p, struct pending *pd, const uint8_t *msg,
    size_t len)
{
	struct client *c = pd->o.c;

	reply(p, &pd->o, msg, len);
	if (c != NULL) {
		pd->o.c = NULL;
		c->busy = false;
		client_after(p, c);
	}
}

static void
pending_fail(struct dnsproxy *p, struct pending *pd, const char *why)
{
	size_t n = build_reply(p, pd, DNS_R_SERVFAIL, false);

	stat_add(&p->stats.servfail);
	deliver(p, pd, p->out, n);
	audit(p, &pd->o, pd->g->name, pd->name, pd->q.qtype, "-", "servfail",
	    why);
	pending_free(p, pd);
}

static void
answer(struct dnsproxy *p, struct pending *pd, uint8_t *msg, size_t len)
{
	struct dns_answers a;
	char list[512], rc[16], host[INET6_ADDRSTRLEN];
	size_t i, n = 0, outlen = 0;
	const uint8_t *send = msg;
	uint64_t now = util_now_ms();
	int r;

	if (dns_parse_response(msg, len, &pd->q, &a) != 0) {
		pending_fail(p, pd, "bad-upstream-answer");
		return;
	}
	n = (size_t)snprintf(list, sizeof(list), "%s",
	    dns_rcode_str(a.rcode, rc, sizeof(rc)));
	for (i = 0; i < a.naddrs; i++) {
		if (a.rcode == DNS_R_NOERROR)
			dnscache_add(p->dc, &pd->o.guest, &a.addrs[i].addr,
			    pd->name, a.addrs[i].ttl, now);
		if (n < sizeof(list) - 1)
			n += (size_t)snprintf(list + n, sizeof(list) - n,
			    " %s", addr_ntop(&a.addrs[i].addr, host,
			    sizeof(host)));
	}
	msg[0] = (uint8_t)(pd->client_id >> 8);
	msg[1] = (uint8_t)pd->client_id;
	r = dns_strip_svcb(msg, len, p->out, sizeof(p->out), pd->tcp ?
	    DNS_MAX_MSG : pd->client_max, &outlen);
	if (r < 0) {
		pending_fail(p, pd, "bad-upstream-answer");
		return;
	}
	if (r > 0) {
		stat_add(&p->stats.stripped);
		send = p->out;
		len = outlen;
		if (n < sizeof(list) - 1)
			snprintf(list + n, sizeof(list) - n, " svcb-dropped=%d",
			    r);
	} else if (!pd->tcp && len > pd->client_max) {
		/* Larger than the guest can take over UDP: TC, retry TCP. */
		len = build_reply(p, pd, a.rcode, true);
		send = p->out;
	}
	stat_add(&p->stats.allowed);
	deliver(p, pd, send, len);
	audit(p, &pd->o, pd->g->name, pd->name, pd->q.qtype, list, "allow",
	    pd->rule);
	pending_free(p, pd);
}

static void
upstream_event(struct dnsproxy *p, struct pending *pd, uint32_t events)
{
	ssize_t n;

	if (!pd->tcp) {
		n = recv(pd->ev.fd, p->buf, sizeof(p->buf), MSG_DONTWAIT);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				pending_fail(p, pd, "upstream-error");
			return;
		}
		/* Not ours (id or too short): keep waiting for the real one. */
		if (n < DNS_HDR_LEN || (p->buf[0] << 8 | p->buf[1]) != pd->up_id)
			return;
		answer(p, pd, p->buf, (size_t)n);
		return;
	}
	if ((events & EPOLLOUT) && pd->qsent < pd->qlen) {
		n = send(pd->ev.fd, pd->qmsg + pd->qsent, pd->qlen - pd->qsent,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN) {
			pending_fail(p, pd, "upstream-error");
			return;
		}
		if (n > 0)
			pd->qsent += (size_t)n;
		if (pd->qsent == pd->qlen)
			ep_set(p, &pd->ev, EPOLLIN, EPOLL_CTL_MOD);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		return;
	if (pd->rbuf == NULL)
		pd->rbuf = xmalloc(2 + DNS_MAX_MSG);
	n = recv(pd->ev.fd, pd->rbuf + pd->rhave, 2 + DNS_MAX_MSG - pd->rhave,
	    MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		pending_fail(p, pd, "upstream-error");
		return;
	}
	if (n > 0)
		pd->rhave += (size_t)n;
	if (pd->rhave >= 2) {
		size_t want = (size_t)(pd->rbuf[0] << 8 | pd->rbuf[1]);

		if (pd->rhave >= want + 2) {
			if (want < DNS_HDR_LEN ||
			    (pd->rbuf[2] << 8 | pd->rbuf[3]) != pd->up_id)
				pending_fail(p, pd, "bad-upstream-answer");
			else
				answer(p, pd, pd->rbuf + 2, want);
		}
	}
}

static struct pending *
pending_get(struct dnsproxy *p)
{
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		if (p->pend[i].ev.fd == -1 && p->pend[i].cfg == NULL)
			return &p->pend[i];
	return NULL;
}

/* Build the upstream query and open its socket.  0 or -1. */
static int
forward(struct dnsproxy *p, struct pending *pd, const struct addr *up,
    uint16_t flags, uint32_t mark)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t *m = pd->qmsg + (pd->tcp ? 2 : 0);
	size_t n;
	int fd;

	if (getrandom(&pd->up_id, sizeof(pd->up_id), 0) != 2)
		return -1;
	n = dns_build_query(pd->up_id, pd->name, pd->q.qtype, m,
	    sizeof(pd->qmsg) - 2 - 11);
	if (n == 0)
		return -1;
	m[2] = (uint8_t)((flags & (DNS_F_RD | F_CD)) >> 8);
	m[3] = (uint8_t)(flags & F_CD);
	if (pd->q.edns_udp != 0) {
		/* Our own OPT: root owner, size, no flags, no options. */
		static const uint8_t opt[11] = { 0, 0, DNS_T_OPT,
		    EDNS_SIZE >> 8, EDNS_SIZE & 0xff, 0, 0, 0, 0, 0, 0 };

		memcpy(m + n, opt, sizeof(opt));
		n += sizeof(opt);
		m[11] = 1;
	}
	if (pd->tcp) {
		pd->qmsg[0] = (uint8_t)(n >> 8);
		pd->qmsg[1] = (uint8_t)n;
		n += 2;
	}
	pd->qlen = n;
	pd->qsent = 0;
	fd = socket(up->family, (pd->tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (mark != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	sl = addr_to_sockaddr(up, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	pd->ev.kind = EV_UPSTREAM;
	pd->ev.fd = fd;
	p->npend++;
	if (!pd->tcp) {
		if (send(fd, pd->qmsg, pd->qlen, MSG_DONTWAIT) == -1)
			return -1;	/* caller frees; fd closed there */
		pd->qsent = pd->qlen;
		ep_set(p, &pd->ev, EPOLLIN, EPOLL_CTL_ADD);
	} else {
		ep_set(p, &pd->ev, EPOLLOUT | EPOLLIN, EPOLL_CTL_ADD);
	}
	pd->deadline = util_now_ms() + (pd->tcp ? DNSPROXY_TCP_TIMEOUT_MS :
	    DNSPROXY_UDP_TIMEOUT_MS);
	return 0;
}

/* ---- queries ---- */

static void
query(struct dnsproxy *p, const struct origin *o, const uint8_t *msg,
    size_t len)
{
	struct dns_header h;
	struct dns_question q;
	struct dnsguard_verdict gv;
	struct gw_config *cfg;
	const struct group_config *g;
	struct pending *pd;
	struct addr up;
	char ifname[IF_NAMESIZE] = "";
	uint16_t rcode;

	stat_add(&p->stats.queries);
	if (dns_parse_query(msg, len, &h, &q) != 0) {
		stat_add(&p->stats.malformed);
		reply_error(p, o, msg, len, NULL, DNS_R_FORMERR);
		audit(p, o, NULL, NULL, 0, NULL, "formerr", "malformed");
		return;
	}
	AZ(pthread_mutex_lock(&p->lock));
	cfg = config_ref(p->cfg);
	up = p->resolv;
	AZ(pthread_mutex_unlock(&p->lock));
	if (o->ifindex > 0 && if_indextoname((unsigned)o->ifindex,
	    ifname) == NULL)
		ifname[0] = '\0';
	g = config_match_group(cfg, &o->guest, ifname[0] ? ifname : NULL);
	if (g == NULL || g->dns.mode != DNS_GATEWAY ||
	    g->dns.listen_port != o->l->port) {
		stat_add(&p->stats.refused);
		reply_error(p, o, msg, len, &q, DNS_R_REFUSED);
		audit(p, o, g ? g->name : NULL, q.name, q.qtype, NULL,
		    "refused", "no-group");
		goto out;
	}
	if ((h.flags & DNS_F_OPCODE) != 0 || q.qclass != DNS_C_IN) {
		stat_add(&p->stats.refused);
		reply_error(p, o, msg, len, &q, (h.flags & DNS_F_OPCODE) ?
		    DNS_R_NOTIMP : DNS_R_REFUSED);
		audit(p, o, g->name, q.name, q.qtype, NULL, "refused",
		    "opcode-or-class");
		goto out;
	}
	if (!dnsguard_check(p->guard, &g->dns, &o->guest, &q, util_now_ms(),
	    &gv)) {
		rcode = g->dns.refuse_nxdomain ? DNS_R_NXDOMAIN : DNS_R_REFUSED;
		stat_add(&p->stats.refused);
		reply_error(p, o, msg, len, &q, rcode);
		audit(p, o, g->name, gv.name[0] ? gv.name : q.name, q.qtype,
		    NULL, rcode == DNS_R_NXDOMAIN ? "nxdomain" : "refused",
		    gv.rule);
		goto out;
	}
	if (g->dns.upstream.family != 0)
		up = g->dns.upstream;
	if (up.family == 0 || (pd = pending_get(p)) == NULL) {
		stat_add(&p->stats.servfail);
		reply_error(p, o, msg, len, &q, DNS_R_SERVFAIL);
		audit(p, o, g->name, gv.name, q.qtype, NULL, "servfail",
		    up.family == 0 ? "no-upstream" : "overload");
		goto out;
	}
	memset(pd, 0, sizeof(*pd));
	pd->ev.fd = -1;
	pd->o = *o;
	pd->tcp = o->c != NULL;
	pd->cfg = config_ref(cfg);
	pd->g = g;
	pd->q = q;
	util_strlcpy(pd->name, gv.name, sizeof(pd->name));
	util_strlcpy(pd->rule, gv.rule, sizeof(pd->rule));
	pd->client_id = h.id;
	pd->client_max = q.edns_udp ? MAX(q.edns_udp, DNS_UDP_MIN) :
	    DNS_UDP_MIN;
	if (pd->o.c != NULL)
		pd->o.c->busy = true;
	if (forward(p, pd, &up, h.flags, cfg->upstream_mark) != 0) {
		/* pending_fail answers the client and frees the slot. */
		pending_fail(p, pd, "upstream-socket");
		goto out;
	}
out:
	config_unref(cfg);
}

/* ---- guest sockets ---- */

static void
udp_event(struct dnsproxy *p, struct listener *l)
{
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

		n = recvmsg(l->ev.fd, &mh, MSG_DONTWAIT);
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
		query(p, &o, p->buf, (size_t)n);
	}
}

static void
client_close(struct dnsproxy *p, struct client *c)
{
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		if (p->pend[i].o.c == c)
			p->pend[i].o.c = NULL;
	close(c->ev.fd);
	p->clients[c->slot] = NULL;
	free(c->out);
	free(c);
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
static void
client_after(struct dnsproxy *p, struct client *c)
{
	uint32_t want = EPOLLIN;

	if (c->dead) {
		client_close(p, c);
		return;
	}
	c->deadline = util_now_ms() + DNSPROXY_TCP_TIMEOUT_MS;
	if (c->out != NULL || (!c->busy && client_ready(c) > 0))
		want = EPOLLOUT;
	else if (c->busy)
		want = 0;
	ep_set(p, &c->ev, want, EPOLL_CTL_MOD);
}

static void
client_event(struct dnsproxy *p, struct client *c, uint32_t events)
{
	size_t qlen;
	ssize_t n;

	if (c->out != NULL) {
		n = send(c->ev.fd, c->out + c->outoff, c->outlen - c->outoff,
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
		n = recv(c->ev.fd, c->in + c->have, sizeof(c->in) - c->have,
		    MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			c->dead = true;
		if (n > 0)
			c->have += (size_t)n;
	}
	if (!c->dead && c->out == NULL && !c->busy &&
	    (qlen = client_ready(c)) > 0) {
		/* query() answers or goes upstream; c->in is not touched
		 * until it returns, and c is not freed (dead is deferred). */
		query(p, &(struct origin){ .c = c, .l = c->l, .tcp = true,
		    .guest = c->peer }, c->in + 2, qlen - 2);
		c->have -= qlen;
		memmove(c->in, c->in + qlen, c->have);
	}
	client_after(p, c);
}

static void
accept_event(struct dnsproxy *p, struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct client *c;
	size_t i;
	int fd;

	fd = accept4(l->ev.fd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	for (i = 0; i < DNSPROXY_MAX_TCP; i++)
		if (p->clients[i] == NULL)
			break;
	if (i == DNSPROXY_MAX_TCP) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->ev.kind = EV_CLIENT;
	c->ev.fd = fd;
	c->l = l;
	c->slot = i;
	addr_from_sockaddr(&c->peer, (struct sockaddr *)&ss);
	addr_unmap(&c->peer);
	c->deadline = util_now_ms() + DNSPROXY_TCP_TIMEOUT_MS;
	p->clients[i] = c;
	ep_set(p, &c->ev, EPOLLIN, EPOLL_CTL_ADD);
}

/* ---- thread ---- */

static int
expire(struct dnsproxy *p)
{
	uint64_t now = util_now_ms(), next = now + 1000;
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING && p->npend > 0; i++) {
		struct pending *pd = &p->pend[i];

		if (pd->ev.fd == -1)
			continue;
		if (pd->deadline <= now)
			pending_fail(p, pd, "upstream-timeout");
		else
			next = MIN(next, pd->deadline);
	}
	for (i = 0; i < DNSPROXY_MAX_TCP; i++) {
		struct client *c = p->clients[i];

		if (c == NULL || (c->busy && c->out == NULL))
			continue;
		if (c->deadline <= now)
			client_close(p, c);
		else
			next = MIN(next, c->deadline);
	}
	return (int)(next - now);
}

static void *
dnsproxy_main(void *arg)
{
	struct dnsproxy *p = arg;
	struct epoll_event evs[64];

	for (;;) {
		int n, i;

		n = epoll_wait(p->epfd, evs, ARRAY_SIZE(evs), expire(p));
		if (n == -1 && errno != EINTR) {
			log_warn("dnsproxy: epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			struct ev *ev = evs[i].data.ptr;

			switch (ev->kind) {
			case EV_STOP:
				return NULL;
			case EV_UDP:
				udp_event(p, (struct listener *)ev);
				break;
			case EV_LISTEN:
				accept_event(p, (struct listener *)ev);
				break;
			case EV_CLIENT:
				client_event(p, (struct client *)ev,
				    evs[i].events);
				break;
			case EV_UPSTREAM:
				upstream_event(p, (struct pending *)ev,
				    evs[i].events);
				break;
			}
		}
	}
	return NULL;
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
	l->ev.kind = tcp ? EV_LISTEN : EV_UDP;
	l->ev.fd = fd;
	l->family = family;
	l->port = port;
	p->nls++;
	ep_set(p, &l->ev, EPOLLIN, EPOLL_CTL_ADD);
	return 0;
err:
	log_warn("dnsproxy: listen %s %s port %u", family == AF_INET ? "ipv4" :
	    "ipv6", tcp ? "tcp" : "udp", port);
	if (fd != -1)
		close(fd);
	return -1;
}

static int
open_listeners(struct dnsproxy *p, const struct gw_config *cfg)
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

static void
dnsproxy_free(struct dnsproxy *p)
{
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		if (p->pend[i].cfg != NULL)
			pending_free(p, &p->pend[i]);
	for (i = 0; i < DNSPROXY_MAX_TCP; i++)
		if (p->clients[i] != NULL)
			client_close(p, p->clients[i]);
	for (i = 0; i < p->nls; i++)
		close(p->ls[i].ev.fd);
	if (p->stop.fd != -1)
		close(p->stop.fd);
	if (p->epfd != -1)
		close(p->epfd);
	config_unref(p->cfg);
	dnsguard_free(p->guard);
	pthread_mutex_destroy(&p->lock);
	free(p->pend);
	p->magic = 0;
	free(p);
}

struct dnsproxy *
dnsproxy_start(struct gw_config *cfg, struct dnscache *dc,
    const struct l4_audit_sink *audit_sink)
{
	struct dnsproxy *p = xcalloc(1, sizeof(*p));
	size_t i;

	p->magic = DNSPROXY_MAGIC;
	p->stop.kind = EV_STOP;
	p->stop.fd = -1;
	p->dc = dc;
	if (audit_sink != NULL)
		p->audit = *audit_sink;
	p->guard = dnsguard_new();
	p->pend = xcalloc(DNSPROXY_MAX_PENDING, sizeof(*p->pend));
	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		p->pend[i].ev.fd = -1;
	AZ(pthread_mutex_init(&p->lock, NULL));
	p->cfg = config_ref(cfg);
	read_resolv(&p->resolv);
	if ((p->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (p->stop.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		log_warn("dnsproxy: epoll/eventfd");
		goto err;
	}
	ep_set(p, &p->stop, EPOLLIN, EPOLL_CTL_ADD);
	if (open_listeners(p, cfg) != 0)
		goto err;
	if (pthread_create(&p->thread, NULL, dnsproxy_main, p) != 0) {
		log_warnx("dnsproxy: cannot start thread");
		goto err;
	}
	return p;
err:
	dnsproxy_free(p);
	return NULL;
}

void
dnsproxy_reload(struct dnsproxy *p, struct gw_config *cfg)
{
	struct gw_config *old;
	struct addr r;
	size_t i, j;

	AN(p->magic == DNSPROXY_MAGIC);
	for (i = 0; i < cfg->ngroups; i++) {
		const struct dns_config *d = &cfg->groups[i].dns;
		bool have = false;

		for (j = 0; j < p->nls; j++)
			have |= p->ls[j].port == d->listen_port;
		if (d->mode == DNS_GATEWAY && !have)
			log_warnx("dnsproxy: group %s: new DNS port %u needs "
			    "a restart", cfg->groups[i].name, d->listen_port);
	}
	read_resolv(&r);
	AZ(pthread_mutex_lock(&p->lock));
	old = p->cfg;
	p->cfg = config_ref(cfg);
	p->resolv = r;
	AZ(pthread_mutex_unlock(&p->lock));
	config_unref(old);
}

void
dnsproxy_stop(struct dnsproxy *p)
{
	uint64_t one = 1;

	if (p == NULL)
		return;
	AN(p->magic == DNSPROXY_MAGIC);
	if (write(p->stop.fd, &one, sizeof(one)) != sizeof(one))
		log_warn("dnsproxy: stop");
	AZ(pthread_join(p->thread, NULL));
	dnsproxy_free(p);
}

void
dnsproxy_get_stats(struct dnsproxy *p, struct dnsproxy_stats *out)
{
	uint64_t *src = (uint64_t *)&p->stats, *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
