/*
 * sockbio.c - see sockbio.h.
 */
#include "sockbio.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>

struct sockbio {
	int	fd;
	bool	*rd_ready;
	bool	*wr_ready;
};

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static int
sb_read(BIO *b, char *out, int len)
{
	struct sockbio *s = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	n = recv(s->fd, out, (size_t)len, 0);
	if (n > 0) {
		if (n < len)
			*s->rd_ready = false;
		return (int)n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (errno == EAGAIN)
			*s->rd_ready = false;
		BIO_set_retry_read(b);
	}
	return (int)n;
}

static int
sb_write(BIO *b, const char *in, int len)
{
	struct sockbio *s = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(s->fd, in, (size_t)len, MSG_NOSIGNAL);
	if (n >= 0) {
		if (n < len)
			*s->wr_ready = false;
		return (int)n;
	}
	if (errno == EAGAIN || errno == EINTR) {
		if (errno == EAGAIN)
			*s->wr_ready = false;
		BIO_set_retry_write(b);
	}
	return -1;
}

static long
sb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int
sb_destroy(BIO *b)
{
	free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	return 1;
}

static void
make_method(void)
{
	method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "gatewayd socket");
	if (method == NULL)
		return;
	BIO_meth_set_read(method, sb_read);
	BIO_meth_set_write(method, sb_write);
	BIO_meth_set_ctrl(method, sb_ctrl);
	BIO_meth_set_destroy(method, sb_destroy);
}

BIO *
sockbio_new(int fd, bool *rd_ready, bool *wr_ready)
{
	struct sockbio *s;
	BIO *b;

	pthread_once(&method_once, make_method);
	if (method == NULL || (b = BIO_new(method)) == NULL)
		return NULL;
	s = xmalloc(sizeof(*s));
	s->fd = fd;
	s->rd_ready = rd_ready;
	s->wr_ready = wr_ready;
	BIO_set_data(b, s);
	BIO_set_init(b, 1);
	return b;
}
