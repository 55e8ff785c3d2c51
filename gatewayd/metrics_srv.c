/*
 * metrics_srv.c - gather a metrics snapshot from the running daemon and
 * serve it to Prometheus on a listener of its own.
 *
 * One thread, one poll() loop, at most METRICS_MAX_CLIENTS scrapers: the
 * listening socket is not polled while that many are being served and
 * none of them is idle, so further scrapers wait in the kernel's
 * backlog; when one is idle, a new scraper takes the slot of the one
 * idle longest.  Each request has METRICS_TIMEOUT_MS from its first byte
 * (from the accept, for the first) to be sent and its answer read, and
 * may be at most METRICS_REQ_MAX bytes.  The answer is rendered once per
 * scrape.  HTTP/1.1 keep-alive (Prometheus and curl reuse a connection):
 * a connection waits METRICS_IDLE_MS for its next request and is closed
 * after METRICS_MAX_REQUESTS, after a head asking for close, and after
 * anything the strict parser refuses or that announces a body (its bytes
 * would be read as the next request).  Nothing here
 * touches a worker's data except the stats shards, which are read as
 * stats.h allows; the other counters come from their modules' own
 * thread-safe getters.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "runtime.h"
#include "slicer.h"
#include "worker.h"

void
metrics_collect(const struct metrics_sources *src,
    struct metrics_snapshot *out)
{
	struct gw *gw = src->gw;
	struct runtime *rt;

	memset(out, 0, sizeof(*out));
	stats_snapshot(gw->stats, &out->st);
	if (gw->alog != NULL)
		alog_stats(gw->alog, &out->audit);
	if (gw->leaves != NULL)
		leafcache_stats(gw->leaves, &out->leaf);
	if (src->nfq != NULL)
		nfq_get_stats(src->nfq, &out->nfq);
	if (src->dns != NULL)
		dnsproxy_get_stats(src->dns, &out->dns);
	out->nfq_drop_only = out->nfq.dropped >= out->nfq.reset ?
	    out->nfq.dropped - out->nfq.reset : 0;
	out->leaf_entries = out->leaf.size;
	out->conns_open = atomic_load(&gw->active);
	out->slicer_failures = slicer_failures();
	out->slicer_refreshes = slicer_refreshes();
	rt = gw_runtime(gw);
	if (rt != NULL) {
		util_strlcpy(out->config_hash, rt->cfg->hash,
		    sizeof(out->config_hash));
		runtime_unref(rt);
	}
	out->version = src->version;
}

void
metrics_snapshot_fini(struct metrics_snapshot *s)
{
	if (s != NULL)
		stats_snapshot_fini(&s->st);
}

size_t
metrics_stats_text(const struct metrics_sources *src, char *buf, size_t len)
{
	struct metrics_snapshot s;
	size_t n;

	metrics_collect(src, &s);
	n = metrics_render_stats(&s, buf, len);
	metrics_snapshot_fini(&s);
	return n;
}

struct scraper {
	int		fd;		/* -1: free slot */
	uint64_t	deadline;	/* now(): of the request, or of the
					 * wait for the next one */
	uint64_t	idle_since;	/* now() when it became idle */
	unsigned	served;		/* answers on this connection */
	bool		keep;		/* the answer being written leaves
					 * the connection open */
	size_t		got;
	char		req[METRICS_REQ_MAX];
	struct buf	out;		/* the whole answer */
};

struct metrics_srv {
	int			lfd;
	uint16_t		port;
	int			stop[2];	/* pipe: a byte means stop */
	pthread_t		thread;
	struct metrics_sources	src;
	struct scraper		cl[METRICS_MAX_CLIENTS];
};

static uint64_t
now(const struct metrics_srv *m)
{
	return m->src.now_ms != NULL ? m->src.now_ms() : util_now_ms();
}

/* Between two requests of a kept-alive connection. */
static bool
scraper_idle(const struct scraper *s)
{
	return s->fd != -1 && s->served > 0 && s->got == 0 &&
	    buf_len(&s->out) == 0;
}

static void
scraper_close(struct scraper *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->got = 0;
	s->served = 0;
	s->keep = false;
	buf_free(&s->out);
}

static void
answer(struct metrics_srv *m, struct scraper *s, enum metrics_req r,
    const struct metrics_head *h)
{
	struct metrics_snapshot snap;
	struct buf body = { 0 };

	if (r == MREQ_METRICS) {
		metrics_collect(&m->src, &snap);
		metrics_render(&snap, &body);
		metrics_snapshot_fini(&snap);
	} else {
		buf_appends(&body, r == MREQ_NOT_FOUND ? "not found: the "
		    "metrics are at /metrics\n" : r == MREQ_BAD_METHOD ?
		    "only GET is served\n" : "bad request\n");
	}
	s->served++;
	s->keep = r != MREQ_BAD && h->keep_alive &&
	    s->served < METRICS_MAX_REQUESTS;
	metrics_response_head(r, buf_len(&body), s->keep, &s->out);
	buf_append(&s->out, buf_head(&body), buf_len(&body));
	buf_free(&body);
	if (s->keep) {
		/* what came after the head is the next request's */
		memmove(s->req, s->req + h->len, s->got - h->len);
		s->got -= h->len;
	} else
		(void)shutdown(s->fd, SHUT_RD);
}

/* Answer the request in the buffer once its head is complete. */
static void
serve_buffered(struct metrics_srv *m, struct scraper *s)
{
	struct metrics_head h;
	enum metrics_req r;

	if (s->got == 0)
		return;
	r = metrics_parse_request(s->req, s->got, &h);
	if (r != MREQ_NEED_MORE)
		answer(m, s, r, &h);
}

/* Read what the scraper sent; answer once its head is complete. */
static void
scraper_read(struct metrics_srv *m, struct scraper *s)
{
	ssize_t n;

	n = recv(s->fd, s->req + s->got, sizeof(s->req) - s->got, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		scraper_close(s);
		return;
	}
	if (s->got == 0)	/* a new request: its own time */
		s->deadline = now(m) + METRICS_TIMEOUT_MS;
	s->got += (size_t)n;
	serve_buffered(m, s);
}

static void
scraper_write(struct metrics_srv *m, struct scraper *s)
{
	/* read before the bytes leave: the idle time runs from no later
	 * than the scraper could have read them */
	uint64_t t = now(m);
	ssize_t n;

	n = send(s->fd, buf_head(&s->out), buf_len(&s->out), MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		scraper_close(s);
		return;
	}
	buf_consume(&s->out, (size_t)n);
	if (buf_len(&s->out) != 0)
		return;
	if (!s->keep) {
		scraper_close(s);
		return;
	}
	buf_free(&s->out);
	s->idle_since = t;
	s->deadline = s->idle_since + (s->got > 0 ? METRICS_TIMEOUT_MS :
	    METRICS_IDLE_MS);
	serve_buffered(m, s);	/* a request sent before this answer */
}

/* A free slot, else the one idle longest (closed), else NULL. */
static struct scraper *
free_slot(struct metrics_srv *m)
{
	struct scraper *idle = NULL;
	size_t i;

	for (i = 0; i < METRICS_MAX_CLIENTS; i++) {
		struct scraper *s = &m->cl[i];

		if (s->fd == -1)
			return s;
		if (scraper_idle(s) && (idle == NULL ||
		    s->idle_since < idle->idle_since))
			idle = s;
	}
	if (idle != NULL)
		scraper_close(idle);
	return idle;
}

static void
accept_one(struct metrics_srv *m)
{
	struct scraper *s;
	int fd;

	fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	if ((s = free_slot(m)) == NULL) {	/* not polled when full */
		close(fd);
		return;
	}
	s->fd = fd;
	s->got = 0;
	s->served = 0;
	s->deadline = now(m) + METRICS_TIMEOUT_MS;
}

static void *
srv_main(void *arg)
{
	struct metrics_srv *m = arg;
	struct pollfd pfd[METRICS_MAX_CLIENTS + 2];
	size_t i, n, busy;

	for (;;) {
		uint64_t t = now(m);
		bool room = false;

		pfd[0] = (struct pollfd){ .fd = m->stop[0], .events = POLLIN };
		for (i = 0, busy = 0; i < METRICS_MAX_CLIENTS; i++) {
			struct scraper *s = &m->cl[i];

			if (s->fd != -1 && t >= s->deadline)
				scraper_close(s);	/* too slow, or idle */
			busy += s->fd != -1;
			room = room || scraper_idle(s);
			pfd[i + 1] = (struct pollfd){ .fd = s->fd,
			    .events = buf_len(&s->out) ? POLLOUT : POLLIN };
		}
		n = METRICS_MAX_CLIENTS + 1;
		if (busy < METRICS_MAX_CLIENTS || room)
			pfd[n++] = (struct pollfd){ .fd = m->lfd,
			    .events = POLLIN };
		if (poll(pfd, n, 250) == -1 && errno != EINTR) {
			log_warn("metrics: poll");
			break;
		}
		if (pfd[0].revents != 0)
			break;
		for (i = 0; i < METRICS_MAX_CLIENTS; i++) {
			struct scraper *s = &m->cl[i];

			if (s->fd == -1 || pfd[i + 1].revents == 0)
				continue;
			if (buf_len(&s->out) != 0)
				scraper_write(m, s);
			else
				scraper_read(m, s);
		}
		if (n == METRICS_MAX_CLIENTS + 2 && pfd[n - 1].revents != 0)
			accept_one(m);
	}
	return NULL;
}

static int
listen_on(const struct addr *a, uint16_t *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char abuf[ADDR_STRLEN];
	socklen_t sl = addr_to_sockaddr(a, &ss);
	int fd, one = 1;

	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 16) != 0) {
		snprintf(err, errlen, "metrics.listen %s: %s",
		    addr_ntop_port(a, abuf, sizeof(abuf)), strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		struct addr bound;

		addr_from_sockaddr(&bound, (struct sockaddr *)&ss);
		*port = bound.port;
	}
	return fd;
}

struct metrics_srv *
metrics_start(const struct addr *a, const struct metrics_sources *src,
    char *err, size_t errlen)
{
	struct metrics_srv *m = xcalloc(1, sizeof(*m));
	size_t i;

	m->src = *src;
	m->stop[0] = m->stop[1] = -1;
	for (i = 0; i < METRICS_MAX_CLIENTS; i++)
		m->cl[i].fd = -1;
	if ((m->lfd = listen_on(a, &m->port, err, errlen)) == -1)
		goto err;
	if (pipe2(m->stop, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "metrics: pipe: %s", strerror(errno));
		goto err;
	}
	if (pthread_create(&m->thread, NULL, srv_main, m) != 0) {
		snprintf(err, errlen, "metrics: cannot start its thread");
		goto err;
	}
	return m;
err:
	if (m->lfd != -1)
		close(m->lfd);
	if (m->stop[0] != -1) {
		close(m->stop[0]);
		close(m->stop[1]);
	}
	free(m);
	return NULL;
}

uint16_t
metrics_port(const struct metrics_srv *m)
{
	return m->port;
}

void
metrics_stop(struct metrics_srv *m)
{
	size_t i;

	if (m == NULL)
		return;
	(void)!write(m->stop[1], "x", 1);
	AZ(pthread_join(m->thread, NULL));
	for (i = 0; i < METRICS_MAX_CLIENTS; i++)
		scraper_close(&m->cl[i]);
	close(m->lfd);
	close(m->stop[0]);
	close(m->stop[1]);
	free(m);
}
