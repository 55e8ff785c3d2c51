/*
 * rules_nfq.c - the NFQUEUE hand-off on kernels without the nft "queue"
 * expression.
 *
 * Some kernels (this project's CI among them) are built without
 * CONFIG_NFT_QUEUE but with CONFIG_NFT_COMPAT and the xtables NFQUEUE
 * target.  nft(8) can print such a rule but not create one, so this module
 * inserts it over netlink (libmnl): one NFT_MSG_NEWRULE, in its own batch,
 * at the head of a group's "handoff" chain, above the fail-open/closed
 * fallback that the template puts there.  It is not part of the nft -f
 * transaction; until it runs the chain already does what the config says
 * for "gatewayd not listening".
 *
 * This is the only place that speaks nf_tables netlink; it does not read
 * or change anything else.
 */
#include "rules_nfq.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

static struct nlmsghdr *
put_batch(char *buf, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	return nlh;
}

int
rules_nfq_insert(const char *table, const char *chain, uint16_t queue,
    bool bypass, char *err, size_t errlen)
{
	char buf[8192];	/* MNL_SOCKET_BUFFER_SIZE is not a constant */
	/* The kernel wants the target's own size rounded by XT_ALIGN. */
	union {
		struct xt_NFQ_info_v3	info;
		uint8_t			pad[XT_ALIGN(sizeof(struct xt_NFQ_info_v3))];
	} tg;
	struct mnl_socket *nl = NULL;
	struct mnl_nlmsg_batch *b;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nlattr *exprs, *elem, *data;
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t n;
	int rc = -1;

	b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	put_batch(mnl_nlmsg_batch_current(b), NFNL_MSG_BATCH_BEGIN, seq++);
	mnl_nlmsg_batch_next(b);

	nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
	/* No NLM_F_APPEND and no position: the rule goes first. */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "target");
	data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_strz(nlh, NFTA_TARGET_NAME, "NFQUEUE");
	mnl_attr_put_u32(nlh, NFTA_TARGET_REV, htonl(3));
	memset(&tg, 0, sizeof(tg));
	tg.info.queuenum = queue;
	tg.info.queues_total = 1;
	tg.info.flags = bypass ? NFQ_FLAG_BYPASS : 0;
	mnl_attr_put(nlh, NFTA_TARGET_INFO, sizeof(tg), &tg);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, exprs);
	mnl_nlmsg_batch_next(b);

	put_batch(mnl_nlmsg_batch_current(b), NFNL_MSG_BATCH_END, seq + 1);
	mnl_nlmsg_batch_next(b);

	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b),
	    mnl_nlmsg_batch_size(b)) < 0) {
		snprintf(err, errlen, "netlink send: %s", strerror(errno));
		goto out;
	}
	/* One ACK (or error) for the rule; the batch markers are silent. */
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		snprintf(err, errlen, "netlink receive: %s", strerror(errno));
		goto out;
	}
	if (mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0) {
		snprintf(err, errlen, "xtables NFQUEUE target in %s/%s: %s",
		    table, chain, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (nl != NULL)
		mnl_socket_close(nl);
	mnl_nlmsg_batch_stop(b);
	return rc;
}
