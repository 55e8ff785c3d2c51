/*
 * slicer_http.c - the bottom of slicer.h: the API URL and a bounded
 * blocking HTTP/1.1 client (the thread that polls is slicer_poll.c).
 *
 * The client is deliberately small: one request per connection
 * (Connection: close), plain HTTP only (Slicer's API listens on loopback;
 * put TLS in front of it on another host and run gatewayd there, not
 * here), the answer read to EOF within one deadline and a size bound,
 * then framed by http_parse_response() and de-chunked when needed.  It
 * runs on the poller's own thread, so blocking never touches a worker.
 */
#include "slicer_int.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "config.h"
#include "http.h"
#include "log.h"


int
slicer_url_parse(const char *url, struct slicer_url *out, const char **why)
{
	const char *h, *end, *colon, *slash;
	size_t hl, pl;
	char *e;
	long port = 80;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "http://", 7) != 0) {
		*why = strncmp(url, "https://", 8) == 0 ?
		    "https is not supported: Slicer's API is plain HTTP on "
		    "loopback (docs/slicer.md)" : "must start with http://";
		return -1;
	}
	h = url + 7;
	slash = strchr(h, '/');
	end = slash != NULL ? slash : h + strlen(h);
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			goto badhost;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 != end && colon == NULL)
			goto badhost;
		h++;
		hl = (size_t)(rb - h);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hl = (size_t)((colon != NULL ? colon : end) - h);
	}
	if (hl == 0 || hl >= sizeof(out->host) || memchr(h, '@', hl) != NULL)
		goto badhost;
	memcpy(out->host, h, hl);
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &e, 10);
		if (e != end || colon + 1 == end || errno != 0 || port < 1 ||
		    port > 65535) {
			*why = "bad port";
			return -1;
		}
	}
	out->port = (uint16_t)port;
	pl = slash != NULL ? strlen(slash) : 0;
	while (pl > 0 && slash[pl - 1] == '/')
		pl--;
	if (pl >= sizeof(out->path) || (slash != NULL &&
	    strcspn(slash, "?# \t\r\n") < strlen(slash))) {
		*why = "the path must be a plain prefix (no query, fragment or "
		    "space)";
		return -1;
	}
	if (pl > 0)
		memcpy(out->path, slash, pl);
	return 0;
badhost:
	*why = "bad host";
	return -1;
}

static int
dial(const struct slicer_url *u, uint64_t deadline, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char port[8];
	int fd = -1, rc, soerr;
	socklen_t sl = sizeof(soerr);
	struct pollfd pfd;

	snprintf(port, sizeof(port), "%u", u->port);
	rc = getaddrinfo(u->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", u->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
			uint64_t now = util_now_ms();
			int ms = deadline > now ? (int)(deadline - now) : 0;

			if (poll(&pfd, 1, ms) == 1 && getsockopt(fd,
			    SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			    soerr == 0)
				break;
			errno = soerr != 0 ? soerr : ETIMEDOUT;
		}
		snprintf(err, errlen, "connect %s:%u: %s", u->host, u->port,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Wait for fd until deadline; 0 ready, -1 timed out or failed. */
static int
wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	uint64_t now = util_now_ms();

	if (now >= deadline)
		return -1;
	return poll(&pfd, 1, (int)(deadline - now)) == 1 ? 0 : -1;
}

static int
send_all(int fd, const char *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Read to EOF into *buf (bounded); returns the length or -1. */
static ssize_t
recv_all(int fd, char **buf, uint64_t deadline, const char **why)
{
	size_t cap = 16384, len = 0, max = SLICER_MAX_BODY + 65536;
	char *b = xmalloc(cap + 1);

	for (;;) {
		ssize_t r;

		if (len == cap) {
			if (cap >= max) {
				*why = "answer too large";
				goto fail;
			}
			cap = cap * 2 > max ? max : cap * 2;
			b = xrealloc(b, cap + 1);
		}
		r = recv(fd, b + len, cap - len, 0);
		if (r > 0) {
			len += (size_t)r;
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN || errno == EINTR) {
			if (wait_fd(fd, POLLIN, deadline) != 0) {
				*why = "timed out";
				goto fail;
			}
		} else {
			*why = "read failed";
			goto fail;
		}
	}
	b[len] = '\0';
	*buf = b;
	return (ssize_t)len;
fail:
	free(b);
	return -1;
}

/* De-chunk body[0..n) in place; returns the new length or -1. */
static ssize_t
dechunk(char *body, size_t n)
{
	struct http_chunk_state st;
	struct http_error herr;
	size_t off = 0, w = 0, used, data;
	int r;

	http_chunk_init(&st);
	while (off < n) {
		r = http_chunk_data(&st, body + off, n - off, &used, &data,
		    &herr);
		if (r == HTTP_ERR)
			return -1;
		memmove(body + w, body + off + used - data, data);
		w += data;
		off += used;
		if (r == HTTP_CHUNK_DONE)
			return (ssize_t)w;
		if (used == 0)
			return -1;
	}
	return -1;		/* the last-chunk never came */
}

/* Frame the raw answer; body moved to the start of raw. */
static int
frame(char *raw, size_t n, size_t *blen, char *err, size_t errlen)
{
	struct http_response resp;
	struct http_error herr;
	ssize_t h, d;
	size_t rest;

	h = http_parse_response(raw, n, false, &resp, &herr);
	if (h < 0) {
		snprintf(err, errlen, "bad HTTP answer: %s",
		    h == HTTP_NEED_MORE ? "truncated head" : herr.reason);
		return -1;
	}
	if (resp.status != 200) {
		snprintf(err, errlen, "HTTP %d%s", resp.status,
		    resp.status == 401 || resp.status == 403 ?
		    " (is token_file Slicer's API token?)" : "");
		return -1;
	}
	rest = n - (size_t)h;
	memmove(raw, raw + h, rest);
	switch (resp.body) {
	case HTTP_BODY_LENGTH:
		if (resp.content_length != rest)
			goto trunc;
		break;
	case HTTP_BODY_CHUNKED:
		d = dechunk(raw, rest);
		if (d < 0)
			goto trunc;
		rest = (size_t)d;
		break;
	case HTTP_BODY_NONE:
		rest = 0;
		break;
	case HTTP_BODY_CLOSE:
		break;
	}
	if (rest > SLICER_MAX_BODY) {
		snprintf(err, errlen, "answer larger than %u bytes",
		    SLICER_MAX_BODY);
		return -1;
	}
	raw[rest] = '\0';
	*blen = rest;
	return 0;
trunc:
	snprintf(err, errlen, "answer body truncated or badly framed");
	return -1;
}

int
slicer_http_get(const struct slicer_url *u, const char *what,
    const char *token, uint64_t timeout_ms, char **body, size_t *len,
    char *err, size_t errlen)
{
	uint64_t deadline = util_now_ms() + timeout_ms;
	char req[TOKEN_MAX + 1024], *raw = NULL;
	const char *why = NULL;
	ssize_t n;
	int fd, rl;

	*body = NULL;
	fd = dial(u, deadline, err, errlen);
	if (fd == -1)
		return -1;
	rl = snprintf(req, sizeof(req), "GET %s%s HTTP/1.1\r\n"
	    "Host: %s%s%s:%u\r\n%s%s%s"
	    "Accept: application/json\r\nUser-Agent: gatewayd\r\n"
	    "Connection: close\r\n\r\n", u->path, what,
	    strchr(u->host, ':') ? "[" : "", u->host,
	    strchr(u->host, ':') ? "]" : "", u->port,
	    token ? "Authorization: Bearer " : "", token ? token : "",
	    token ? "\r\n" : "");
	if (rl < 0 || (size_t)rl >= sizeof(req) ||
	    send_all(fd, req, (size_t)rl, deadline) != 0) {
		snprintf(err, errlen, "%s:%u: cannot send the request",
		    u->host, u->port);
		goto fail;
	}
	n = recv_all(fd, &raw, deadline, &why);
	if (n < 0) {
		snprintf(err, errlen, "%s:%u: %s", u->host, u->port, why);
		goto fail;
	}
	if (frame(raw, (size_t)n, len, err, errlen) != 0)
		goto fail;
	close(fd);
	*body = raw;
	return 0;
fail:
	free(raw);
	close(fd);
	return -1;
}
