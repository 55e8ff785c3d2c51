/*
 * metrics_srv.c - gather a metrics snapshot from the running daemon and
 * serve it to Prometheus on a listener of its own.
 *
 * One thread, one poll() loop, at most METRICS_MAX_CLIENTS scrapers: the
 * listening socket is not polled while that many are being served, so
 * further scrapers wait in the kernel's backlog.  Each scraper has
 * METRICS_TIMEOUT_MS to send its head and read the answer, and may send
 * at most METRICS_REQ_MAX bytes.  The answer is rendered once per scrape
 * and the connection closed after it (no keep-alive).  Nothing here
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
	uint64_t	deadline;	/* util_now_ms() */
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

static void
scraper_close(struct scraper *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->got = 0;
	buf_free(&s->out);
}

static void
answer(struct metrics_srv *m, struct scraper *s, enum metrics_req r)
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
	metrics_response_head(r, buf_len(&body), &s->out);
	buf_append(&s->out, buf_head(&body), buf_len(&body));
	buf_free(&body);
	(void)shutdown(s->fd, SHUT_RD);
}

/* Read what the scraper sent; answer once its head is complete. */
static void
scraper_read(struct metrics_srv *m, struct scraper *s)
{
	enum metrics_req r;
	ssize_t n;

	n = recv(s->fd, s->req + s->got, sizeof(s->req) - s->got, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		scraper_close(s);
		return;
	}
	s->got += (size_t)n;
	r = metrics_parse_request(s->req, s->got);
	if (r != MREQ_NEED_MORE)
		answer(m, s, r);
}

static void
scraper_write(struct scraper *s)
{
	ssize_t n;

	n = send(s->fd, buf_head(&s->out), buf_len(&s->out), MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		scraper_close(s);
		return;
	}
	buf_consume(&s->out, (size_t)n);
	if (buf_len(&s->out) == 0)
		scraper_close(s);
}

static void
accept_one(struct metrics_srv *m)
{
	size_t i;
	int fd;

	fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	for (i = 0; i < METRICS_MAX_CLIENTS; i++)
		if (m->cl[i].fd == -1)
			break;
	if (i == METRICS_MAX_CLIENTS) {		/* not polled when full */
		close(fd);
		return;
	}
	m->cl[i].fd = fd;
	m->cl[i].got = 0;
	m->cl[i].deadline = util_now_ms() + METRICS_TIMEOUT_MS;
}

static void *
srv_main(void *arg)
{
	struct metrics_srv *m = arg;
	struct pollfd pfd[METRICS_MAX_CLIENTS + 2];
	size_t i, n, busy;

	for (;;) {
		uint64_t now = util_now_ms();

		pfd[0] = (struct pollfd){ .fd = m->stop[0], .events = POLLIN };
		for (i = 0, busy = 0; i < METRICS_MAX_CLIENTS; i++) {
			struct scraper *s = &m->cl[i];

			if (s->fd != -1 && now >= s->deadline)
				scraper_close(s);	/* too slow */
			busy += s->fd != -1;
			pfd[i + 1] = (struct pollfd){ .fd = s->fd,
			    .events = buf_len(&s->out) ? POLLOUT : POLLIN };
		}
		n = METRICS_MAX_CLIENTS + 1;
		if (busy < METRICS_MAX_CLIENTS)
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
				scraper_write(s);
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
