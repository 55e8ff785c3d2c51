/*
 * slicer_lookup.c - what the Slicer VM map costs: parsing a GET /nodes
 * answer of 1000 VMs, and slicer_lookup() + slicer_vm_unref() (done once
 * per accepted connection, conn_new()) on 1 or more threads at once.
 * Not part of gatewayd nor of meson test; build and run from the source
 * directory after `ninja -C build`:
 *
 *   cc -O2 -D_GNU_SOURCE -Igatewayd tests/bench/slicer_lookup.c \
 *       build/gatewayd/libgw.a -lssl -lcrypto -lconfig -lmnl \
 *       -lnetfilter_queue -lpthread -o /tmp/slicer_lookup
 *   /tmp/slicer_lookup 1; /tmp/slicer_lookup 2
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "slicer.h"

#define VMS	1000
#define LOOPS	2000000

static struct addr vm_addr[VMS];

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *
lookups(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < LOOPS; i++) {
		struct slicer_vm *vm = slicer_lookup(&vm_addr[i % VMS]);

		if (vm == NULL)
			abort();
		slicer_vm_unref(vm);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	int i, nthr = argc > 1 ? atoi(argv[1]) : 1;
	size_t len = 0, cap = 256 * VMS;
	char *body = malloc(cap), err[200], ip[32];
	struct slicer_map *m;
	pthread_t thr[16];
	double t0, t1;

	if (nthr < 1 || nthr > 16)
		return 2;
	len += (size_t)snprintf(body + len, cap - len, "[");
	for (i = 0; i < VMS; i++) {
		snprintf(ip, sizeof(ip), "169.254.%d.%d", 60 + i / 60,
		    (i % 60) * 4 + 2);
		if (addr_parse(ip, &vm_addr[i]) != 0)
			abort();
		len += (size_t)snprintf(body + len, cap - len, "%s{\"hostname\":"
		    "\"agents-%d\",\"hostgroup\":\"agents\",\"ip\":\"%s\","
		    "\"tags\":[\"user=u%d\",\"ci\"],\"status\":\"Running\"}",
		    i ? "," : "", i, ip, i);
	}
	len += (size_t)snprintf(body + len, cap - len, "]");
	t0 = now_s();
	m = slicer_map_parse(body, len, err, sizeof(err));
	t1 = now_s();
	if (m == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("parse %d nodes (%zu bytes): %.3f ms\n", VMS, len,
	    (t1 - t0) * 1e3);
	slicer_publish(m);
	t0 = now_s();
	for (i = 0; i < nthr; i++)
		pthread_create(&thr[i], NULL, lookups, NULL);
	for (i = 0; i < nthr; i++)
		pthread_join(thr[i], NULL);
	t1 = now_s();
	printf("%d thread(s): lookup + unref %.1f ns each (wall / lookups "
	    "per thread)\n", nthr, (t1 - t0) * 1e9 / LOOPS);
	slicer_publish(NULL);
	free(body);
	return 0;
}
