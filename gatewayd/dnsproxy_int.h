/*
 * dnsproxy_int.h - what dnsproxy.c (queries, upstream, thread) and
 * dnsproxy_net.c (guest sockets) share.  Not for other modules.
 */
#ifndef GW_DNSPROXY_INT_H
#define GW_DNSPROXY_INT_H

#include "dns.h"
#include "dnsguard.h"
#include "dnsproxy.h"
#include "loop.h"

#define DNSPROXY_MAGIC	0x444e5350u
#define MAX_LISTENERS	32
#define UDP_DRAIN	32
#define EDNS_SIZE	1232		/* DNS flag day 2020 */
#define F_CD		0x0010

/*
 * Each socket's struct loop_io is the first member of its owner, so the
 * loop's callbacks get the owner back by a cast.
 */
struct listener {
	struct loop_io	io;
	struct dnsproxy	*p;
	int		family;
	uint16_t	port;
	bool		paused;		/* TCP: accept failed, not heard */
	uint64_t	resume_at;
};

#define DNSPROXY_ACCEPT_BACKOFF_MS	100

struct client {
	struct loop_io	io;		/* fd -1: closed, free deferred */
	struct listener	*l;
	struct addr	peer;
	uint8_t		in[2 + DNS_MAX_MSG];
	size_t		have;
	uint8_t		*out;		/* reply being written, or NULL */
	size_t		outlen, outoff;
	bool		busy;		/* a query is upstream */
	bool		dead;		/* write failed: close when safe */
	uint64_t	deadline;	/* next whole query due */
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

/*
 * A UDP query that arrived while an identical one was upstream: it gets
 * the same answer instead of a slot of its own (see dnsproxy_query()).
 */
struct joiner {
	struct joiner	*next;
	struct origin	o;
	uint16_t	client_id;
	size_t		client_max;
};

#define JOIN_MAX	64		/* joiners per pending query */

struct pending {
	struct loop_io	io;		/* fd -1: free */
	struct dnsproxy	*p;
	struct origin	o;
	struct joiner	*joiners;	/* owned; UDP only */
	unsigned	njoin;
	uint16_t	qflags;		/* RD and CD as asked */
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
	struct loop		*loop;		/* the service loop */
	/* dnsproxy.c's judgement of one query from o (msg is not kept):
	 * how the guest side (dnsproxy_net.c) hands queries up */
	void			(*on_query)(struct dnsproxy *p,
				    const struct origin *o, const uint8_t *msg,
				    size_t len);
	struct runtime		*rt;		/* reference; swapped on reload */
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

/* dnsproxy_net.c */
/* Register io (add) or change what it waits for, level-triggered. */
void dnsproxy_watch(struct dnsproxy *p, struct loop_io *io, uint32_t events,
    bool add);
/* Send msg to the guest of o: UDP from the address it asked, or TCP. */
void dnsproxy_reply(struct dnsproxy *p, const struct origin *o,
    const uint8_t *msg, size_t len);
/* After a change to c: close it if a write failed, else re-arm epoll. */
void dnsproxy_client_after(struct dnsproxy *p, struct client *c);
void dnsproxy_client_close(struct dnsproxy *p, struct client *c);
/* c answered (or was accepted): its next query is due in a fixed time. */
void dnsproxy_client_rearm(struct client *c);
/* Hear again the listeners paused for lack of descriptors, when due. */
void dnsproxy_resume(struct dnsproxy *p, uint64_t now);
/* Listeners for every gateway-mode DNS port of cfg.  0, or -1 (logged). */
int dnsproxy_open_listeners(struct dnsproxy *p, const struct gw_config *cfg);

#endif
