/*
 * service.c - the service loop thread.  See service.h.
 *
 * What it is: a loop.c loop, a thread that runs it and a fan-out of the
 * loop's single tick to the services' deadline sweeps.  What it is not:
 * a scheduler; each service owns its fds and state.
 */
#include "service.h"

#include <pthread.h>
#include <stdbool.h>

#include "log.h"

struct tick {
	service_tick_fn	fn;
	void		*arg;
};

struct service {
	struct loop	*loop;
	pthread_t	thread;
	bool		running;
	struct tick	ticks[SERVICE_MAX_TICKS];
	size_t		nticks;
};

static void
tick(struct loop *l, void *arg)
{
	struct service *s = arg;
	size_t i;

	for (i = 0; i < s->nticks; i++)
		s->ticks[i].fn(s->ticks[i].arg, loop_now(l));
}

struct service *
service_new(void)
{
	struct service *s = xcalloc(1, sizeof(*s));

	s->loop = loop_new();
	if (s->loop == NULL)
		fatalx("service loop: no epoll");
	loop_set_tick(s->loop, SERVICE_TICK_MS, tick, s);
	return s;
}

struct loop *
service_loop(struct service *s)
{
	return s->loop;
}

int
service_add_tick(struct service *s, service_tick_fn fn, void *arg)
{
	if (s->running || s->nticks == SERVICE_MAX_TICKS)
		return -1;
	s->ticks[s->nticks].fn = fn;
	s->ticks[s->nticks].arg = arg;
	s->nticks++;
	return 0;
}

static void *
service_main(void *arg)
{
	struct service *s = arg;

	if (loop_run(s->loop) != 0)
		log_warnx("service loop stopped on an epoll error");
	return NULL;
}

int
service_start(struct service *s)
{
	if (pthread_create(&s->thread, NULL, service_main, s) != 0) {
		log_warnx("service loop: cannot start thread");
		return -1;
	}
	s->running = true;
	return 0;
}

/* Posted last: what was posted before it (reloads) runs first. */
static void
stop_cb(struct loop *l, void *arg)
{
	loop_stop(l);
}

void
service_stop(struct service *s)
{
	if (!s->running)
		return;
	loop_post(s->loop, stop_cb, NULL);
	AZ(pthread_join(s->thread, NULL));
	s->running = false;
}

void
service_free(struct service *s)
{
	if (s == NULL)
		return;
	AN(!s->running);
	loop_free(s->loop);
	free(s);
}
