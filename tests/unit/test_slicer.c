/*
 * test_slicer.c - Slicer's GET /nodes answer into the address -> VM map
 * (the schema of Slicer's openapi.yaml NodeResponse, hostile variants),
 * publication with references that outlive a swap, the URL parser, and
 * one poll against a loopback server (Content-Length, chunked, errors).
 */
#include "slicer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

static struct slicer_map *
parse(const char *json, char *err, size_t errlen)
{
	char *b = strdup(json);
	struct slicer_map *m;

	err[0] = '\0';
	m = slicer_map_parse(b, strlen(b), err, errlen);
	free(b);
	return m;
}

static const struct slicer_vm *
find(const struct slicer_map *m, const char *ip)
{
	struct addr a;

	if (addr_parse(ip, &a) != 0)
		return NULL;
	return slicer_map_find(m, &a);
}

static const char schema[] =
    "[{\"hostname\":\"agents-1\",\"hostgroup\":\"agents\","
    "\"ip\":\"169.254.60.2\",\"ram_bytes\":2147483648,\"cpus\":2,"
    "\"created_at\":\"2025-09-02T08:32:37.667253315+01:00\","
    "\"tags\":[\"user=alice\",\"ci\"],\"arch\":\"x86_64\","
    "\"status\":\"Running\"},\n"
    " {\"hostname\":\"agents-2\",\"hostgroup\":\"agents\","
    "\"ip\":\"169.254.60.6/30\",\"tags\":null,\"status\":\"Paused\","
    "\"extra\":{\"nested\":[1,{\"a\":true}]}},\n"
    " {\"hostname\":\"no-ip\",\"hostgroup\":\"agents\"},\n"
    " {\"hostname\":\"dup\",\"ip\":\"169.254.60.2\"},\n"
    " {\"hostname\":\"v6\",\"ip\":\"fd00::2\",\"tags\":[]}]";

static void
test_parse(void)
{
	char err[200];
	struct slicer_map *m = parse(schema, err, sizeof(err));
	const struct slicer_vm *v;

	ok(m != NULL, "the documented schema parses (%s)", err);
	if (m == NULL)
		return;
	is(slicer_map_size(m), 3, "three usable nodes (no ip skipped, "
	    "duplicate address dropped)");
	v = find(m, "169.254.60.2");
	ok(v != NULL && strcmp(v->name, "agents-1") == 0,
	    "first node wins a duplicated address");
	ok(v != NULL && v->group != NULL && strcmp(v->group, "agents") == 0,
	    "hostgroup kept");
	ok(v != NULL && v->ntags == 2, "two tags");
	ok(v != NULL && strcmp(v->tags[0], "user=alice") == 0 &&
	    strcmp(v->tags[1], "ci") == 0, "tags in answer order");
	v = find(m, "169.254.60.6");
	ok(v != NULL && strcmp(v->name, "agents-2") == 0 && v->ntags == 0,
	    "ip with /prefix accepted, tags null");
	v = find(m, "::ffff:169.254.60.6");
	ok(v != NULL, "IPv4-mapped address folded");
	ok(find(m, "fd00::2") != NULL, "IPv6 node");
	ok(find(m, "169.254.60.10") == NULL, "address not on the map");
	slicer_map_free(m);

	m = parse("[]", err, sizeof(err));
	ok(m != NULL && slicer_map_size(m) == 0, "empty list");
	slicer_map_free(m);
}

static void
test_parse_bad(void)
{
	static const char *const bad[] = {
		"",
		"{}",
		"[{\"hostname\":\"a\",\"ip\":\"10.0.0.1\"}",
		"[{\"hostname\":\"a\",\"ip\":\"10.0.0.1\"}] x",
		"[{\"hostname\":1,\"ip\":\"10.0.0.1\"}]",
		"[{\"hostname\":\"a\",\"ip\":\"10.0.0.1\",\"tags\":\"x\"}]",
		"[{\"hostname\":\"a\",\"ip\":\"10.0.0.1\",\"tags\":[1]}]",
		"[{\"hostname\":\"a\\u0001\",\"ip\":\"10.0.0.1\"}]",
		"[{\"hostname\":\"a\",\"ip\":\"10.0.0.1\",\"tags\":[\"a\"],"
		    "\"tags\":[\"b\"]}]",
		"[{\"x\":[[[[[[[[[[1]]]]]]]]]]}]",
		"[1]",
		"[{\"hostname\":\"a\",}]",
	};
	char err[200], big[64 * 40];
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct slicer_map *m = parse(bad[i], err, sizeof(err));

		ok(m == NULL && err[0] != '\0', "refused: %s", bad[i]);
		slicer_map_free(m);
	}
	n = snprintf(big, sizeof(big), "[{\"hostname\":\"a\",\"ip\":"
	    "\"10.0.0.1\",\"tags\":[");
	for (i = 0; i < 33; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "%s\"t%zu\"",
		    i ? "," : "", i);
	snprintf(big + n, sizeof(big) - (size_t)n, "]}]");
	{
		struct slicer_map *m = parse(big, err, sizeof(err));

		ok(m == NULL && strstr(err, "32 tags") != NULL,
		    "more than 32 tags refused (%s)", err);
		slicer_map_free(m);
	}
}

static void
test_publish(void)
{
	char err[200];
	struct slicer_vm *vm, *vm2;
	struct addr a;

	AZ(addr_parse("169.254.60.2", &a));
	ok(slicer_lookup(&a) == NULL, "nothing published: no VM");
	slicer_publish(parse(schema, err, sizeof(err)));
	ok(slicer_have_map(), "a map was published");
	vm = slicer_lookup(&a);
	ok(vm != NULL && strcmp(vm->name, "agents-1") == 0, "lookup");
	slicer_publish(parse("[{\"hostname\":\"other\",\"ip\":"
	    "\"169.254.60.2\",\"tags\":[\"new\"]}]", err, sizeof(err)));
	ok(vm != NULL && strcmp(vm->name, "agents-1") == 0 &&
	    strcmp(vm->tags[1], "ci") == 0,
	    "a VM referenced before the swap is intact after it");
	vm2 = slicer_lookup(&a);
	ok(vm2 != NULL && strcmp(vm2->name, "other") == 0,
	    "the new map answers");
	vm = vm ? (slicer_vm_unref(vm), NULL) : NULL;
	slicer_vm_unref(vm2);
	vm = slicer_lookup_name("other");
	ok(vm != NULL && addr_equal(&vm->addr, &a), "lookup by name");
	slicer_vm_unref(vm);
	ok(slicer_lookup_name("agents-1") == NULL, "old name gone");
	slicer_publish(NULL);
	ok(slicer_lookup(&a) == NULL, "unpublished");
}

static void
test_url(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *host;
		unsigned port;
		const char *path;
	} t[] = {
		{ "http://127.0.0.1:8080", 0, "127.0.0.1", 8080, "" },
		{ "http://localhost", 0, "localhost", 80, "" },
		{ "http://[::1]:8080/api/", 0, "::1", 8080, "/api" },
		{ "https://127.0.0.1:8080", -1, NULL, 0, NULL },
		{ "http://127.0.0.1:0", -1, NULL, 0, NULL },
		{ "http://127.0.0.1:99999", -1, NULL, 0, NULL },
		{ "http://:80", -1, NULL, 0, NULL },
		{ "http://u@h/", -1, NULL, 0, NULL },
		{ "http://h/a?b", -1, NULL, 0, NULL },
		{ "http://[::1/", -1, NULL, 0, NULL },
		{ "ftp://h", -1, NULL, 0, NULL },
	};
	struct slicer_url u;
	const char *why;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		int rc = slicer_url_parse(t[i].in, &u, &why);

		if (t[i].rc != 0) {
			ok(rc == -1, "url refused: %s", t[i].in);
			continue;
		}
		ok(rc == 0 && strcmp(u.host, t[i].host) == 0 &&
		    u.port == t[i].port && strcmp(u.path, t[i].path) == 0,
		    "url %s", t[i].in);
	}
}

/* A one-shot loopback HTTP server: answers one request with `reply`. */
struct server {
	int		lfd;
	const char	*reply;
	char		req[2048];
};

static void *
serve(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	size_t n = 0;
	ssize_t r;

	if (fd == -1)
		return NULL;
	while (n < sizeof(s->req) - 1 && (r = recv(fd, s->req + n,
	    sizeof(s->req) - 1 - n, 0)) > 0) {
		n += (size_t)r;
		s->req[n] = '\0';
		if (strstr(s->req, "\r\n\r\n") != NULL)
			break;
	}
	(void)!write(fd, s->reply, strlen(s->reply));
	close(fd);
	return NULL;
}

static int
poll_with(const char *reply, const char *token, char *req, size_t reqlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct server s = { .reply = reply };
	struct slicer_url u = { .host = "127.0.0.1" };
	pthread_t t;
	int rc;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.lfd = socket(AF_INET, SOCK_STREAM, 0);
	AZ(bind(s.lfd, (struct sockaddr *)&sin, sizeof(sin)));
	AZ(listen(s.lfd, 1));
	AZ(getsockname(s.lfd, (struct sockaddr *)&sin, &sl));
	u.port = ntohs(sin.sin_port);
	AZ(pthread_create(&t, NULL, serve, &s));
	rc = slicer_poll_once(&u, token, 2000);
	pthread_join(t, NULL);
	close(s.lfd);
	if (req != NULL)
		util_strlcpy(req, s.req, reqlen);
	return rc;
}

static void
test_poll(void)
{
	char req[2048], body[512], reply[1024];
	uint64_t f0;
	struct addr a;
	struct slicer_vm *vm;
	struct slicer_url closed = { .host = "127.0.0.1", .port = 1 };

	AZ(addr_parse("10.9.0.2", &a));
	snprintf(body, sizeof(body), "[{\"hostname\":\"vm-1\",\"ip\":"
	    "\"10.9.0.2\",\"tags\":[\"t\"]}]");
	snprintf(reply, sizeof(reply), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    strlen(body), body);
	is(poll_with(reply, "tok123", req, sizeof(req)), 0,
	    "Content-Length answer published");
	ok(strstr(req, "GET /nodes HTTP/1.1\r\n") == req &&
	    strstr(req, "\r\nAuthorization: Bearer tok123\r\n") != NULL,
	    "request line and bearer token");
	vm = slicer_lookup(&a);
	ok(vm != NULL && strcmp(vm->name, "vm-1") == 0, "VM from the poll");
	slicer_vm_unref(vm);

	is(poll_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "10\r\n[{\"hostname\":\"vm\r\n"
	    "15\r\n-2\",\"ip\":\"10.9.0.2\"}]\r\n0\r\n\r\n", NULL, req,
	    sizeof(req)), 0, "chunked answer published");
	ok(strstr(req, "Authorization") == NULL, "no token: no header");
	vm = slicer_lookup(&a);
	ok(vm != NULL && strcmp(vm->name, "vm-2") == 0, "chunked body read");
	slicer_vm_unref(vm);

	f0 = slicer_failures();
	is(poll_with("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
	    "bad", NULL, 0), -1, "401 fails");
	is(poll_with("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"a\":1}  ",
	    NULL, NULL, 0), -1, "not an array fails");
	is(poll_with("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[]",
	    NULL, NULL, 0), -1, "truncated body fails");
	is(slicer_poll_once(&closed, NULL, 1000), -1, "connection refused");
	is(slicer_failures() - f0, 4, "every failure counted");
	vm = slicer_lookup(&a);
	ok(vm != NULL && strcmp(vm->name, "vm-2") == 0,
	    "failures keep the last map");
	slicer_vm_unref(vm);
	slicer_publish(NULL);
}

int
main(void)
{
	log_set_level(LOG_LVL_ERR);
	test_parse();
	test_parse_bad();
	test_publish();
	test_url();
	test_poll();
	return tap_done();
}
