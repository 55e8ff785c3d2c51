/*
 * loop.c - epoll loop with a timer heap, a coarse tick and a
 * cross-thread post queue.
 *
 * A connection keeps one timer at its earliest deadline and moves it only
 * when that changes (not on every byte: a deadline extended by traffic
 * is re-armed once per wake-up), so nothing sweeps the connections.
 */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "timer.h"

struct post {
	struct post	*next;
	loop_fn		fn;
	void		*arg;
};

struct loop {
	int		epfd;
	struct loop_io	wake;		/* eventfd for posts and stop */
	atomic_bool	stopping;
	uint64_t	now;
	struct timer_heap timers;
	loop_clock_fn	clock;		/* util_now_ms unless a test set one */
	void		*clock_arg;
	uint64_t	now_us;		/* the same instant, in us */

	uint64_t	tick_period;
	uint64_t	tick_next;
	loop_fn		tick_fn;
	void		*tick_arg;

	pthread_mutex_t	post_lock;
	struct post	*post_head, **post_tail;
};

static void
wake_cb(struct loop *l, struct loop_io *io, uint32_t events)
{
	uint64_t v;

	while (read(io->fd, &v, sizeof(v)) > 0)
		;
}

/* One clock read per wakeup serves loop_now() and loop_now_us(). */
static void
stamp(struct loop *l)
{
	if (l->clock != NULL) {
		/* a test's clock: ms only */
		l->now = l->clock(l->clock_arg);
		l->now_us = l->now * 1000u;
		return;
	}
	l->now_us = util_now_us();
	l->now = l->now_us / 1000u;
}

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd == -1)
		goto err;
	l->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake.fd == -1)
		goto err;
	l->wake.cb = wake_cb;
	pthread_mutex_init(&l->post_lock, NULL);
	l->post_tail = &l->post_head;
	timer_heap_init(&l->timers);
	if (loop_io_add(l, &l->wake, true) != 0)
		goto err;
	stamp(l);
	return l;
err:
	log_warn("loop_new");
	if (l->epfd != -1)
		close(l->epfd);
	free(l);
	return NULL;
}

static void run_posts(struct loop *l);
static uint64_t clock_read(const struct loop *l);

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	/* Closures own what they carry: run them so nothing leaks. */
	run_posts(l);
	timer_heap_fini(&l->timers);
	pthread_mutex_destroy(&l->post_lock);
	close(l->wake.fd);
	close(l->epfd);
	free(l);
}

int
loop_io_add(struct loop *l, struct loop_io *io, bool level)
{
	struct epoll_event ev = {
		.events = level ? EPOLLIN :
		    EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = io,
	};

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

void
loop_io_del(struct loop *l, struct loop_io *io)
{
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL) == -1)
		log_warn("epoll_ctl del fd %d", io->fd);
}

void
loop_set_tick(struct loop *l, uint64_t period_ms, loop_fn fn, void *arg)
{
	l->tick_period = period_ms;
	l->tick_fn = fn;
	l->tick_arg = arg;
	l->tick_next = clock_read(l) + period_ms;
}

void
loop_post(struct loop *l, loop_fn fn, void *arg)
{
	struct post *p = xmalloc(sizeof(*p));
	uint64_t one = 1;

	p->next = NULL;
	p->fn = fn;
	p->arg = arg;
	pthread_mutex_lock(&l->post_lock);
	*l->post_tail = p;
	l->post_tail = &p->next;
	pthread_mutex_unlock(&l->post_lock);
	(void)!write(l->wake.fd, &one, sizeof(one));
}

void
loop_stop(struct loop *l)
{
	uint64_t one = 1;

	atomic_store(&l->stopping, true);
	(void)!write(l->wake.fd, &one, sizeof(one));
}

uint64_t
loop_now(const struct loop *l)
{
	return l->now;
}

static uint64_t
clock_read(const struct loop *l)
{
	return l->clock != NULL ? l->clock(l->clock_arg) : util_now_ms();
}

void
loop_set_clock(struct loop *l, loop_clock_fn fn, void *arg)
{
	l->clock = fn;
	l->clock_arg = arg;
	stamp(l);
	if (l->tick_fn != NULL)
		l->tick_next = l->now + l->tick_period;
}

uint64_t
loop_now_us(const struct loop *l)
{
	return l->now_us;
}

static void
run_posts(struct loop *l)
{
	struct post *p, *next;

	pthread_mutex_lock(&l->post_lock);
	p = l->post_head;
	l->post_head = NULL;
	l->post_tail = &l->post_head;
	pthread_mutex_unlock(&l->post_lock);
	for (; p != NULL; p = next) {
		next = p->next;
		p->fn(l, p->arg);
		free(p);
	}
}

void
loop_timer_set(struct loop *l, struct timer *t, uint64_t when)
{
	timer_set(&l->timers, t, when);
}

void
loop_timer_cancel(struct loop *l, struct timer *t)
{
	timer_cancel(&l->timers, t);
}

/* How long epoll may wait: until the tick or the next timer. */
static int
wait_ms(struct loop *l, int max_wait_ms)
{
	uint64_t next = timer_next(&l->timers);
	int timeout = max_wait_ms;

	if (l->tick_fn != NULL && (next == 0 || l->tick_next < next))
		next = l->tick_next;
	if (next == 0)
		return timeout;
	stamp(l);
	next = next > l->now ? MIN(next - l->now, (uint64_t)INT32_MAX) : 0;
	if (max_wait_ms < 0 || (uint64_t)max_wait_ms > next)
		timeout = (int)next;
	return timeout;
}

int
loop_run_once(struct loop *l, int max_wait_ms)
{
	struct epoll_event evs[256];
	int n, i, timeout = wait_ms(l, max_wait_ms);

	n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), timeout);
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		log_warn("epoll_wait");
		return -1;
	}
	stamp(l);
	for (i = 0; i < n; i++) {
		struct loop_io *io = evs[i].data.ptr;

		io->cb(l, io, evs[i].events);
	}
	run_posts(l);
	(void)timer_run(&l->timers, l->now);
	if (l->tick_fn != NULL && l->now >= l->tick_next) {
		l->tick_next = l->now + l->tick_period;
		l->tick_fn(l, l->tick_arg);
	}
	return 0;
}

int
loop_run(struct loop *l)
{
	while (!atomic_load(&l->stopping))
		if (loop_run_once(l, -1) != 0)
			return -1;
	return 0;
}

int
loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}
