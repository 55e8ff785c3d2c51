/*
 * conn_tunnel.c - the raw states: a tunnel moving opaque bytes both ways
 * (a spliced flow, a WebSocket after its 101), and the linger that drains
 * the guest after a final reply.
 */
#include "conn_tunnel.h"

#include "runtime.h"
#include "worker.h"

/* The state of one direction of a tunnel after a pump. */
enum pump {
	PUMP_OPEN,	/* blocked, more may come */
	PUMP_FINISHED,	/* EOF seen and everything written */
	PUMP_IO_ERR,	/* a read or a write failed */
};

/* Move bytes from one endpoint to the other through b until blocked. */
static enum pump
pump(struct conn *c, struct endpoint *from, struct endpoint *to,
    struct buf *b, uint64_t *count)
{
	for (;;) {
		ssize_t n;
		enum ep_flush f;

		if (buf_len(b) > 0) {
			size_t before = buf_len(b);

			f = ep_flush(to, b);
			*count += before - buf_len(b);
			if (f == EP_FLUSH_ERR)
				return PUMP_IO_ERR;
			if (f == EP_FLUSH_BLOCKED)
				return PUMP_OPEN;
		}
		if (from->eof) {
			ep_shutdown(to);
			ep_in_release(from);
			return PUMP_FINISHED;
		}
		if (ep_in_prepare(from, WORKER_IOBUF) == 0)
			return PUMP_OPEN;
		n = ep_read(from, buf_tail(b), ep_in_prepare(from, WORKER_IOBUF));
		if (n == EP_AGAIN) {
			ep_in_release(from);
			return PUMP_OPEN;
		}
		if (n < 0)
			return PUMP_IO_ERR;
		buf_produce(b, (size_t)n);
	}
}

enum step
conn_tunnel(struct conn *c)
{
	uint64_t before = c->tunnel_up + c->tunnel_down;
	enum pump a, b;

	a = pump(c, &c->client, &c->up, &c->client.in, &c->tunnel_up);
	if (a == PUMP_IO_ERR) {
		conn_close(c, CONN_END_TUNNEL_GUEST_IO);
		return STEP_CLOSED;
	}
	b = pump(c, &c->up, &c->client, &c->up.in, &c->tunnel_down);
	if (b == PUMP_IO_ERR) {
		conn_close(c, CONN_END_TUNNEL_UP_IO);
		return STEP_CLOSED;
	}
	if (a == PUMP_FINISHED && b == PUMP_FINISHED) {
		conn_close(c, CONN_END_TUNNEL_CLOSED);
		return STEP_CLOSED;
	}
	if (c->tunnel_up + c->tunnel_down != before)
		conn_set_timeout(c, c->rt->cfg->limits.idle_timeout_ms);
	return STEP_BLOCKED;
}

enum step
conn_linger(struct conn *c)
{
	char sink[4096];
	ssize_t n;

	do {
		n = ep_read(&c->client, sink, sizeof(sink));
	} while (n > 0);
	if (n == 0 || n == EP_ERR) {
		conn_close(c, c->end != CONN_END_NONE ? c->end : CONN_END_CLOSED);
		return STEP_CLOSED;
	}
	return STEP_BLOCKED;
}
