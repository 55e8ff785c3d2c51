/*
 * dnsproxy.c - the guests' DNS resolver proxy.  See dnsproxy.h.
 *
 * What it is: handlers on the service loop (service.h) that read guest
 * queries (UDP datagrams, TCP with RFC 1035 4.2.2 length prefixes), judge
 * them (dnsguard.c), answer refusals themselves (dns_build_error()),
 * forward the rest to the upstream resolver on a fresh socket per query,
 * and relay the answer after feeding the dnscache and stripping
 * HTTPS/SVCB records.
 * What it is not: a cache, a recursive resolver or a DNSSEC validator;
 * the upstream does all of that.
 *
 * Every guest-visible failure is an answer (FORMERR, REFUSED/NXDOMAIN,
 * SERVFAIL) and one audit record; nothing a guest sends can block the
 * service loop: sockets are non-blocking, tables fixed, deadlines enforced.
 */
#include "dnsproxy_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"
#include "service.h"

static void
stat_add(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
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

	dnsproxy_reply(p, o, p->out, n);
}

/* ---- upstream ---- */

static void
pending_free(struct dnsproxy *p, struct pending *pd)
{
	if (pd->io.fd != -1) {
		close(pd->io.fd);
		p->npend--;
	}
	pd->io.fd = -1;
	pd->o.c = NULL;
	while (pd->joiners != NULL) {
		struct joiner *j = pd->joiners;

		pd->joiners = j->next;
		free(j);
	}
	pd->njoin = 0;
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
build_reply(struct dnsproxy *p, const struct pending *pd, uint16_t id,
    uint16_t rcode, bool tc)
{
	uint8_t m[DNS_HDR_LEN + 300];
	struct dns_header h;
	struct dns_question q;
	size_t n = dns_build_query(id, pd->name, pd->q.qtype, m, sizeof(m));

	if (n == 0 || dns_parse_query(m, n, &h, &q) != 0)
		return 0;
	n = dns_build_error(m, n, &q, rcode, p->out, sizeof(p->out));
	if (n > 2 && tc)
		p->out[2] |= DNS_F_TC >> 8;
	return n;
}

/*
 * Send msg to o (pd's own origin or one of its joiners); a TCP client is
 * released for its next query.
 */
static void
deliver(struct dnsproxy *p, struct origin *o, const uint8_t *msg, size_t len)
{
	struct client *c = o->c;

	dnsproxy_reply(p, o, msg, len);
	if (c != NULL) {
		o->c = NULL;
		c->busy = false;
		dnsproxy_client_rearm(c);
		dnsproxy_client_after(p, c);
	}
}

static void
fail_one(struct dnsproxy *p, struct pending *pd, struct origin *o,
    uint16_t id, const char *why)
{
	size_t n = build_reply(p, pd, id, DNS_R_SERVFAIL, false);

	stat_add(&p->stats.servfail);
	deliver(p, o, p->out, n);
	audit(p, o, pd->g->name, pd->name, pd->q.qtype, "-", "servfail", why);
}

static void
pending_fail(struct dnsproxy *p, struct pending *pd, const char *why)
{
	struct joiner *j;

	fail_one(p, pd, &pd->o, pd->client_id, why);
	for (j = pd->joiners; j != NULL; j = j->next)
		fail_one(p, pd, &j->o, j->client_id, why);
	pending_free(p, pd);
}

/*
 * The upstream's answer a (parsed from msg, whose id is rewritten) to
 * one asker: its guest's dnscache entries, the SVCB rewrite within its
 * size limit, the reply and its audit record.  list: rcode and answers.
 */
static void
answer_one(struct dnsproxy *p, struct pending *pd, struct origin *o,
    uint16_t id, size_t client_max, uint8_t *msg, size_t len,
    const struct dns_answers *a, const char *list)
{
	char line[600];
	const uint8_t *send = msg;
	uint64_t now = util_now_ms();
	size_t i, outlen = 0;
	int r;

	if (a->rcode == DNS_R_NOERROR)
		for (i = 0; i < a->naddrs; i++)
			dnscache_add(p->dc, &o->guest, &a->addrs[i].addr,
			    pd->name, a->addrs[i].ttl, now);
	msg[0] = (uint8_t)(id >> 8);
	msg[1] = (uint8_t)id;
	snprintf(line, sizeof(line), "%s", list);
	r = dns_strip_svcb(msg, len, p->out, sizeof(p->out), pd->tcp ?
	    DNS_MAX_MSG : client_max, &outlen);
	if (r < 0) {
		fail_one(p, pd, o, id, "bad-upstream-answer");
		return;
	}
	if (r > 0) {
		stat_add(&p->stats.stripped);
		send = p->out;
		len = outlen;
		snprintf(line, sizeof(line), "%s svcb-dropped=%d", list, r);
	} else if (!pd->tcp && len > client_max) {
		/* Larger than the guest can take over UDP: TC, retry TCP. */
		len = build_reply(p, pd, id, a->rcode, true);
		send = p->out;
	}
	stat_add(&p->stats.allowed);
	deliver(p, o, send, len);
	audit(p, o, pd->g->name, pd->name, pd->q.qtype, line, "allow",
	    pd->rule);
}

static void
answer(struct dnsproxy *p, struct pending *pd, uint8_t *msg, size_t len)
{
	struct dns_answers a;
	struct joiner *j;
	char list[512], rc[16], host[INET6_ADDRSTRLEN];
	size_t i, n = 0;

	if (dns_parse_response(msg, len, &pd->q, &a) != 0) {
		pending_fail(p, pd, "bad-upstream-answer");
		return;
	}
	n = (size_t)snprintf(list, sizeof(list), "%s",
	    dns_rcode_str(a.rcode, rc, sizeof(rc)));
	for (i = 0; i < a.naddrs && n < sizeof(list) - 1; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, " %s",
		    addr_ntop(&a.addrs[i].addr, host, sizeof(host)));
	answer_one(p, pd, &pd->o, pd->client_id, pd->client_max, msg, len, &a,
	    list);
	for (j = pd->joiners; j != NULL; j = j->next)
		answer_one(p, pd, &j->o, j->client_id, j->client_max, msg, len,
		    &a, list);
	pending_free(p, pd);
}

static void
upstream_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct pending *pd = (struct pending *)io;
	struct dnsproxy *p = pd->p;
	ssize_t n;

	if (pd->io.fd == -1)
		return;		/* answered earlier in this batch */
	if (!pd->tcp) {
		n = recv(pd->io.fd, p->buf, sizeof(p->buf), MSG_DONTWAIT);
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
		n = send(pd->io.fd, pd->qmsg + pd->qsent, pd->qlen - pd->qsent,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN) {
			pending_fail(p, pd, "upstream-error");
			return;
		}
		if (n > 0)
			pd->qsent += (size_t)n;
		if (pd->qsent == pd->qlen)
			dnsproxy_watch(p, &pd->io, EPOLLIN, false);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		return;
	if (pd->rbuf == NULL)
		pd->rbuf = xmalloc(2 + DNS_MAX_MSG);
	n = recv(pd->io.fd, pd->rbuf + pd->rhave, 2 + DNS_MAX_MSG - pd->rhave,
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

/*
 * An in-flight UDP query that would send the upstream exactly what this
 * one would (same config, group, name, type, RD/CD, EDNS or not), or
 * NULL.  Joining it costs no slot, so repeating one name cannot fill the
 * table.
 */
static struct pending *
pending_same(struct dnsproxy *p, const struct gw_config *cfg,
    const struct group_config *g, const char *name,
    const struct dns_question *q, uint16_t flags)
{
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING; i++) {
		const struct pending *pd = &p->pend[i];

		if (pd->io.fd != -1 && !pd->tcp && pd->cfg == cfg &&
		    pd->g == g && pd->q.qtype == q->qtype &&
		    pd->qflags == (flags & (DNS_F_RD | F_CD)) &&
		    (pd->q.edns_udp != 0) == (q->edns_udp != 0) &&
		    strcmp(pd->name, name) == 0)
			return &p->pend[i];
	}
	return NULL;
}

/* Queries upstream on behalf of guest a (slots only, not joiners). */
static unsigned
guest_pending(const struct dnsproxy *p, const struct addr *a)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		if (p->pend[i].io.fd != -1 && addr_equal(&p->pend[i].o.guest, a))
			n++;
	return n;
}

static size_t
client_max(const struct dns_question *q)
{
	return q->edns_udp ? MAX(q->edns_udp, DNS_UDP_MIN) : DNS_UDP_MIN;
}

static struct pending *
pending_get(struct dnsproxy *p)
{
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		if (p->pend[i].io.fd == -1 && p->pend[i].cfg == NULL)
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
	pd->io.fd = fd;
	pd->io.cb = upstream_cb;
	pd->p = p;
	p->npend++;
	if (!pd->tcp) {
		if (send(fd, pd->qmsg, pd->qlen, MSG_DONTWAIT) == -1)
			return -1;	/* caller frees; fd closed there */
		pd->qsent = pd->qlen;
		dnsproxy_watch(p, &pd->io, EPOLLIN, true);
	} else {
		dnsproxy_watch(p, &pd->io, EPOLLOUT | EPOLLIN, true);
	}
	pd->deadline = util_now_ms() + (pd->tcp ? DNSPROXY_TCP_TIMEOUT_MS :
	    DNSPROXY_UDP_TIMEOUT_MS);
	return 0;
}

/* ---- queries ---- */

static void
dnsproxy_query(struct dnsproxy *p, const struct origin *o, const uint8_t *msg,
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
	/* Only this thread swaps p->rt (dnsproxy_set_runtime()). */
	cfg = config_ref(p->rt->cfg);
	up = p->resolv;
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
	if (o->c == NULL && up.family != 0 &&
	    (pd = pending_same(p, cfg, g, gv.name, &q, h.flags)) != NULL) {
		struct joiner *j;

		if (pd->njoin >= JOIN_MAX) {
			/* The same question JOIN_MAX times already waits. */
			stat_add(&p->stats.servfail);
			reply_error(p, o, msg, len, &q, DNS_R_SERVFAIL);
			audit(p, o, g->name, gv.name, q.qtype, NULL,
			    "servfail", "repeat-overload");
			goto out;
		}
		j = xcalloc(1, sizeof(*j));

		j->o = *o;
		j->client_id = h.id;
		j->client_max = client_max(&q);
		j->next = pd->joiners;
		pd->joiners = j;
		pd->njoin++;
		goto out;
	}
	if (up.family != 0 &&
	    guest_pending(p, &o->guest) >= cfg->limits.dns_pending_per_guest) {
		/* The table is shared: no guest takes more than its share. */
		stat_add(&p->stats.over_quota);
		stat_add(&p->stats.servfail);
		reply_error(p, o, msg, len, &q, DNS_R_SERVFAIL);
		audit(p, o, g->name, gv.name, q.qtype, NULL, "servfail",
		    "guest-over-quota");
		goto out;
	}
	if (up.family == 0 || (pd = pending_get(p)) == NULL) {
		stat_add(&p->stats.servfail);
		reply_error(p, o, msg, len, &q, DNS_R_SERVFAIL);
		audit(p, o, g->name, gv.name, q.qtype, NULL, "servfail",
		    up.family == 0 ? "no-upstream" : "overload");
		goto out;
	}
	memset(pd, 0, sizeof(*pd));
	pd->io.fd = -1;
	pd->o = *o;
	pd->tcp = o->c != NULL;
	pd->cfg = config_ref(cfg);
	pd->g = g;
	pd->q = q;
	util_strlcpy(pd->name, gv.name, sizeof(pd->name));
	util_strlcpy(pd->rule, gv.rule, sizeof(pd->rule));
	pd->client_id = h.id;
	pd->client_max = client_max(&q);
	pd->qflags = h.flags & (DNS_F_RD | F_CD);
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

/* ---- deadlines, life ---- */

/* The service tick: queries and TCP guests past their deadline. */
static void
expire(void *arg, uint64_t now)
{
	struct dnsproxy *p = arg;
	size_t i;

	for (i = 0; i < DNSPROXY_MAX_PENDING && p->npend > 0; i++) {
		struct pending *pd = &p->pend[i];

		if (pd->io.fd == -1)
			continue;
		if (pd->deadline <= now)
			pending_fail(p, pd, "upstream-timeout");
	}
	for (i = 0; i < DNSPROXY_MAX_TCP; i++) {
		struct client *c = p->clients[i];

		if (c == NULL || (c->busy && c->out == NULL))
			continue;
		if (c->deadline <= now)
			dnsproxy_client_close(p, c);
	}
	dnsproxy_resume(p, now);
}

void
dnsproxy_free(struct dnsproxy *p)
{
	size_t i;

	if (p == NULL)
		return;
	AN(p->magic == DNSPROXY_MAGIC);
	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		if (p->pend[i].cfg != NULL)
			pending_free(p, &p->pend[i]);
	for (i = 0; i < DNSPROXY_MAX_TCP; i++)
		if (p->clients[i] != NULL)
			dnsproxy_client_close(p, p->clients[i]);
	for (i = 0; i < p->nls; i++) {
		loop_io_del(p->loop, &p->ls[i].io);
		close(p->ls[i].io.fd);
	}
	runtime_unref(p->rt);
	dnsguard_free(p->guard);
	free(p->pend);
	p->magic = 0;
	free(p);
}

struct dnsproxy *
dnsproxy_new(struct service *svc, struct runtime *rt, struct dnscache *dc,
    const struct l4_audit_sink *audit_sink)
{
	struct dnsproxy *p = xcalloc(1, sizeof(*p));
	size_t i;

	p->magic = DNSPROXY_MAGIC;
	p->loop = service_loop(svc);
	p->on_query = dnsproxy_query;
	p->dc = dc;
	if (audit_sink != NULL)
		p->audit = *audit_sink;
	p->guard = dnsguard_new();
	p->pend = xcalloc(DNSPROXY_MAX_PENDING, sizeof(*p->pend));
	for (i = 0; i < DNSPROXY_MAX_PENDING; i++)
		p->pend[i].io.fd = -1;
	p->rt = runtime_ref(rt);
	read_resolv(&p->resolv);
	if (dnsproxy_open_listeners(p, rt->cfg) != 0)
		goto err;
	if (service_add_tick(svc, expire, p) != 0) {
		log_warnx("dnsproxy: no tick left on the service loop");
		goto err;
	}
	return p;
err:
	dnsproxy_free(p);
	return NULL;
}

void
dnsproxy_set_runtime(void *arg, struct runtime *rt)
{
	struct dnsproxy *p = arg;
	const struct gw_config *cfg = rt->cfg;
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
	read_resolv(&p->resolv);
	runtime_unref(p->rt);
	p->rt = rt;
}

void
dnsproxy_get_stats(struct dnsproxy *p, struct dnsproxy_stats *out)
{
	uint64_t *src = (uint64_t *)&p->stats, *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
