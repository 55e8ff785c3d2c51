/*
 * slicer_poll.c - the top of slicer.h: the bearer token and the thread
 * that polls Slicer every refresh (slicer_poll_once(), slicer.c), each
 * poll bounded by SLICER_TIMEOUT_MS, on its own thread so that its
 * blocking never touches a worker.  Calls run down: this file uses
 * slicer.c, which uses slicer_http.c.
 */
#include "slicer_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fileio.h"
#include "log.h"

/* The token: trimmed, printable ASCII without spaces (it goes in a header). */
static int
read_token(const char *path, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char *t = NULL, ferr[200];
	size_t n = 0, i;

	if (fileio_read(path, TOKEN_MAX, &t, &n, ferr, sizeof(ferr)) != 0) {
		snprintf(err, errlen, "token_file %s: %s", path, ferr);
		return -1;
	}
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' ||
	    t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	for (i = 0; i < n; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			break;
	if (n == 0 || i < n || n >= outlen) {
		util_wipe(t, n);
		free(t);
		snprintf(err, errlen, "token_file %s: not one printable token",
		    path);
		return -1;
	}
	memcpy(out, t, n);
	out[n] = '\0';
	util_wipe(t, n);
	free(t);
	return 0;
}

static struct {
	pthread_t		thr;
	bool			configured, running;
	pthread_mutex_t		mu;
	pthread_cond_t		cv;
	bool			stop;
	struct slicer_url	url;
	char			*token_file;
	char			token[TOKEN_MAX + 1];
	uint64_t		refresh_ms;
} poller = { .mu = PTHREAD_MUTEX_INITIALIZER,
	     .cv = PTHREAD_COND_INITIALIZER };

static void *
poller_main(void *arg)
{
	char err[300];
	struct timespec ts;
	uint64_t ns;

	(void)arg;
	pthread_mutex_lock(&poller.mu);
	while (!poller.stop) {
		pthread_mutex_unlock(&poller.mu);
		/* a rotated token is picked up; an unreadable one is not
		 * worth a log line per poll: the old one is kept */
		if (poller.token_file != NULL)
			(void)read_token(poller.token_file, poller.token,
			    sizeof(poller.token), err, sizeof(err));
		(void)slicer_poll_once(&poller.url,
		    poller.token_file != NULL ? poller.token : NULL,
		    SLICER_TIMEOUT_MS < poller.refresh_ms ?
		    SLICER_TIMEOUT_MS : poller.refresh_ms);
		pthread_mutex_lock(&poller.mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_nsec + poller.refresh_ms % 1000 * 1000000;
		ts.tv_sec += (time_t)(poller.refresh_ms / 1000 + ns /
		    1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		while (!poller.stop && pthread_cond_timedwait(&poller.cv,
		    &poller.mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&poller.mu);
	return NULL;
}

int
slicer_start(const struct slicer_config *cfg, char *err, size_t errlen)
{
	const char *why;

	if (cfg->url == NULL)
		return 0;
	if (slicer_url_parse(cfg->url, &poller.url, &why) != 0) {
		snprintf(err, errlen, "slicer.url: %s", why);
		return -1;
	}
	if (cfg->token_file != NULL && read_token(cfg->token_file,
	    poller.token, sizeof(poller.token), err, errlen) != 0)
		return -1;
	poller.token_file = cfg->token_file ? xstrdup(cfg->token_file) : NULL;
	poller.refresh_ms = cfg->refresh_ms;
	poller.stop = false;
	poller.configured = true;
	log_info("slicer: polling %s/nodes every %llu ms", cfg->url,
	    (unsigned long long)cfg->refresh_ms);
	return 0;
}

int
slicer_run(char *err, size_t errlen)
{
	if (!poller.configured || poller.running)
		return 0;
	if (pthread_create(&poller.thr, NULL, poller_main, NULL) != 0) {
		snprintf(err, errlen, "slicer: cannot start the poller");
		return -1;
	}
	poller.running = true;
	return 0;
}

void
slicer_stop(void)
{
	if (!poller.configured)
		return;
	if (poller.running) {
		pthread_mutex_lock(&poller.mu);
		poller.stop = true;
		pthread_cond_signal(&poller.cv);
		pthread_mutex_unlock(&poller.mu);
		pthread_join(poller.thr, NULL);
		poller.running = false;
	}
	poller.configured = false;
	free(poller.token_file);
	poller.token_file = NULL;
	util_wipe(poller.token, sizeof(poller.token));
	slicer_publish(NULL);
}
