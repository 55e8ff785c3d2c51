/*
 * nfq.c - NFQUEUE reader and verdict sender.  See nfq.h.
 *
 * What it is: one netlink socket bound to one queue, read on the service
 * loop (service.h).  It reads up to NFQ_BATCH queued packets without
 * blocking, decides each
 * (pkt.c for the headers, config_match_group() for the group, l4policy
 * for the verdict), then sends all verdicts in one sendto(): runs of
 * equal verdicts over consecutive packet ids become one
 * NFQNL_MSG_VERDICT_BATCH, the rest single NFQNL_MSG_VERDICT messages.
 * A batch verdict covers every pending id up to its own, so a run only
 * grows over consecutive ids: a packet we could not read is never swept
 * into another packet's verdict.
 * What it is not: a packet mangler (payloads are never changed) or a
 * conntrack client; it sees only what the ruleset queues.
 *
 * Message layout from linux/netfilter/nfnetlink_queue.h; the calls from
 * libnetfilter_queue's nfq_nlmsg_* and libmnl's attribute helpers.
 */
#include "nfq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "pkt.h"
#include "runtime.h"
#include "service.h"

#define NFQ_MAGIC	0x4e465121u
#define MSG_BUF		(NFQ_COPY_RANGE + 4096)

struct verdict {
	uint32_t	id;
	int		verdict;	/* NF_ACCEPT, NF_DROP, NF_REPEAT */
	bool		set_mark;
	uint32_t	mark;
};

struct nfq {
	struct loop_io		io;		/* first: the callback casts */
	unsigned		magic;
	struct loop		*loop;		/* the service loop */
	struct mnl_socket	*nl;
	unsigned		portid;
	uint16_t		qnum;
	struct runtime		*rt;		/* reference; swapped on reload */
	struct dnscache		*dc;
	struct l4_audit_sink	audit;
	struct nfq_stats	stats;		/* atomics */
	bool			warned_mark;
	uint8_t			*rbuf;		/* NFQ_BATCH * MSG_BUF */
	uint8_t			*sbuf;		/* verdict messages */
	size_t			slen;
	struct verdict		v[NFQ_BATCH];
	size_t			nv;
};

static void
stat_add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* Send one config request and wait for its ack.  0 or -1 (errno set). */
static int
cfg_request(struct nfq *q, struct nlmsghdr *nlh)
{
	char buf[8192];
	uint32_t seq = (uint32_t)util_now_us();
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, seq, q->portid, NULL, NULL) < 0 ?
	    -1 : 0;
}

static int
bind_queue(struct nfq *q, bool fail_open)
{
	char buf[8192];
	struct nlmsghdr *nlh;
	uint32_t flags = NFQA_CFG_F_GSO | (fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	int one = 1, rcv = 8 << 20;

	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (q->nl == NULL) {
		log_warn("nfq: netlink socket");
		return -1;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("nfq: netlink bind");
		return -1;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	/* Room for bursts; on overrun the kernel keeps the packet queued
	 * and TCP retransmits the SYN with a new id. */
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcv, sizeof(rcv)) == -1)
		(void)setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET,
		    SO_RCVBUF, &rcv, sizeof(rcv));
	(void)mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one,
	    sizeof(one));

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->qnum);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (cfg_request(q, nlh) != 0) {
		log_warn("nfq: bind queue %u", q->qnum);
		return -1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->qnum);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQ_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, NFQ_QUEUE_MAXLEN);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO |
	    NFQA_CFG_F_FAIL_OPEN));
	if (cfg_request(q, nlh) != 0) {
		log_warn("nfq: configure queue %u", q->qnum);
		return -1;
	}
	return 0;
}

/* Append one verdict message to sbuf. */
static void
put_verdict(struct nfq *q, int type, uint32_t id, int verdict,
    const uint32_t *mark)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put((char *)q->sbuf + q->slen, type,
	    q->qnum);

	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (mark != NULL)
		nfq_nlmsg_verdict_put_mark(nlh, *mark);
	q->slen += MNL_ALIGN(nlh->nlmsg_len);
}

static void
flush_verdicts(struct nfq *q)
{
	size_t i = 0;

	q->slen = 0;
	while (i < q->nv) {
		const struct verdict *v = &q->v[i];
		size_t j = i + 1;

		if (v->set_mark) {
			put_verdict(q, NFQNL_MSG_VERDICT, v->id, v->verdict,
			    &v->mark);
			i++;
			continue;
		}
		while (j < q->nv && !q->v[j].set_mark &&
		    q->v[j].verdict == v->verdict &&
		    q->v[j].id == q->v[j - 1].id + 1)
			j++;
		put_verdict(q, j - i > 1 ? NFQNL_MSG_VERDICT_BATCH :
		    NFQNL_MSG_VERDICT, q->v[j - 1].id, v->verdict, NULL);
		i = j;
	}
	if (q->slen > 0) {
		if (mnl_socket_sendto(q->nl, q->sbuf, q->slen) < 0)
			log_warn("nfq: send verdicts");
		stat_add(&q->stats.batches, 1);
	}
	q->nv = 0;
}

static const char *
verdict_str(const struct l4_verdict *lv)
{
	if (lv->action == EGRESS_ALLOW)
		return "accept";
	return lv->reset ? "reset" : "drop";
}

/* Decide one packet; fills *v (id already set). */
static void
decide(struct nfq *q, const struct gw_config *cfg, struct nlattr **attr,
    struct verdict *v)
{
	char ifname[IF_NAMESIZE] = "", proto[16], label[128];
	struct pkt_info pi;
	struct l4_verdict lv;
	struct l4_audit au;
	const struct group_config *g;
	const uint8_t *payload;
	uint32_t mark = 0;
	size_t plen;

	v->verdict = NF_DROP;
	v->set_mark = false;
	memset(&au, 0, sizeof(au));
	au.kind = L4_AUDIT_FLOW;
	if (attr[NFQA_MARK] != NULL)
		mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if ((mark & NFQ_REJECT_MASK) == NFQ_REJECT_MARK) {
		if (!q->warned_mark)
			log_warnx("nfq: a packet came back with the reject "
			    "mark: the ruleset lacks the reject rule; "
			    "dropping such flows instead of resetting");
		q->warned_mark = true;
		stat_add(&q->stats.dropped, 1);
		return;
	}
	if (attr[NFQA_PAYLOAD] == NULL) {
		stat_add(&q->stats.unparsed, 1);
		stat_add(&q->stats.dropped, 1);
		return;
	}
	payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	plen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	if (pkt_parse(payload, plen, &pi) != 0 ||
	    (pi.proto == IPPROTO_TCP || pi.proto == IPPROTO_UDP) != pi.have_l4) {
		stat_add(&q->stats.unparsed, 1);
		stat_add(&q->stats.dropped, 1);
		if (log_enabled(LOG_LVL_DEBUG))
			log_debug("nfq: unparsable packet (%zu bytes)", plen);
		return;
	}
	if (attr[NFQA_IFINDEX_INDEV] != NULL &&
	    if_indextoname(ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV])),
	    ifname) == NULL)
		ifname[0] = '\0';
	au.guest = &pi.src;
	au.dst = &pi.dst;
	au.proto = pkt_proto_str(pi.proto, proto, sizeof(proto));
	g = config_match_group(cfg, &pi.src, ifname[0] ? ifname : NULL);
	if (g == NULL) {
		au.group = "-";
		au.verdict = "drop";
		au.rule = "no-group";
		stat_add(&q->stats.nogroup, 1);
		stat_add(&q->stats.dropped, 1);
	} else {
		struct l4_query lq = { pi.proto, &pi.src, &pi.dst };

		l4policy_decide(g, q->dc, &lq, util_now_ms(), &lv);
		au.group = g->name;
		au.name = lv.name;
		au.verdict = verdict_str(&lv);
		au.rule = l4policy_rule_label(&lv, label, sizeof(label));
		if (lv.action == EGRESS_ALLOW) {
			v->verdict = NF_ACCEPT;
			stat_add(&q->stats.accepted, 1);
		} else {
			stat_add(&q->stats.dropped, 1);
		}
		if (lv.reset) {
			v->verdict = NF_REPEAT;
			v->set_mark = true;
			v->mark = (mark & ~NFQ_REJECT_MASK) | NFQ_REJECT_MARK;
			stat_add(&q->stats.reset, 1);
		}
	}
	if (q->audit.fn != NULL)
		q->audit.fn(q->audit.arg, &au);
}

static int
on_packet(const struct nlmsghdr *nlh, void *arg)
{
	struct nfq *q = arg;
	struct nlattr *attr[NFQA_MAX + 1];
	struct nfqnl_msg_packet_hdr *ph;
	struct verdict *v;

	memset(attr, 0, sizeof(attr));
	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph)) {
		/* No id: nothing to answer; the kernel keeps it until the
		 * queue goes, and no batch verdict sweeps it (see top). */
		stat_add(&q->stats.unparsed, 1);
		return MNL_CB_OK;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (q->nv == NFQ_BATCH)
		flush_verdicts(q);
	v = &q->v[q->nv++];
	v->id = ntohl(ph->packet_id);
	/* Only this thread swaps q->rt (nfq_set_runtime()). */
	decide(q, q->rt->cfg, attr, v);
	stat_add(&q->stats.packets, 1);
	return MNL_CB_OK;
}

/* The queue is readable: drain up to a batch, then answer all. */
static void
nfq_cb(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct nfq *q = (struct nfq *)io;
	int i;

	for (i = 0; i < NFQ_BATCH; i++) {
		ssize_t n = recv(io->fd, q->rbuf, MSG_BUF, MSG_DONTWAIT);

		if (n == -1) {
			if (errno == ENOBUFS) {
				stat_add(&q->stats.overruns, 1);
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				log_warn("nfq: recv");
			break;
		}
		if (mnl_cb_run(q->rbuf, (size_t)n, 0, q->portid, on_packet,
		    q) == MNL_CB_ERROR && log_enabled(LOG_LVL_DEBUG))
			log_debug("nfq: netlink message error");
	}
	flush_verdicts(q);
}

void
nfq_free(struct nfq *q)
{
	if (q == NULL)
		return;
	AN(q->magic == NFQ_MAGIC);
	if (q->io.fd != -1)
		loop_io_del(q->loop, &q->io);
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	runtime_unref(q->rt);
	free(q->rbuf);
	free(q->sbuf);
	q->magic = 0;
	free(q);
}

struct nfq *
nfq_new(struct service *svc, struct runtime *rt, struct dnscache *dc,
    const struct l4_audit_sink *audit)
{
	struct nfq *q = xcalloc(1, sizeof(*q));
	const struct gw_config *cfg = rt->cfg;

	q->magic = NFQ_MAGIC;
	q->loop = service_loop(svc);
	q->io.fd = -1;
	q->io.cb = nfq_cb;
	q->qnum = cfg->nfqueue_num;
	q->dc = dc;
	if (audit != NULL)
		q->audit = *audit;
	q->rbuf = xmalloc(MSG_BUF);
	q->sbuf = xmalloc(NFQ_BATCH * 64);
	q->rt = runtime_ref(rt);
	if (bind_queue(q, cfg->nfqueue_fail_open) != 0)
		goto err;
	q->io.fd = mnl_socket_get_fd(q->nl);
	if (loop_io_add(q->loop, &q->io, true) != 0) {
		log_warn("nfq: epoll");
		q->io.fd = -1;
		goto err;
	}
	log_info("nfq: queue %u bound (%s)", q->qnum,
	    cfg->nfqueue_fail_open ? "fail-open" : "fail-closed");
	return q;
err:
	nfq_free(q);
	return NULL;
}

void
nfq_set_runtime(void *arg, struct runtime *rt)
{
	struct nfq *q = arg;

	AN(q->magic == NFQ_MAGIC);
	if (rt->cfg->nfqueue_num != q->qnum)
		log_warnx("nfq: nfqueue.num changed to %u: needs a restart, "
		    "still on queue %u", rt->cfg->nfqueue_num, q->qnum);
	runtime_unref(q->rt);
	q->rt = rt;
}

void
nfq_get_stats(struct nfq *q, struct nfq_stats *out)
{
	uint64_t *src = (uint64_t *)&q->stats, *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
