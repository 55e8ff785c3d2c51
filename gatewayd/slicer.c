/*
 * slicer.c - the address -> VM map built from Slicer's GET /nodes, its
 * publication to the workers, and the poller thread that refreshes it.
 *
 * What this module is: a strict reader of one JSON shape (an array of
 * node objects, docs/slicer.md names the fields and their source), an
 * immutable sorted map, and a blocking poller with a bounded HTTP client
 * (slicer_http.c).  What it is not: a policy module.  It says which VM a
 * guest is; policy.c and secrets.c decide what the VM's tags allow.
 *
 * Publication is RCU-like: the published map pointer changes under a
 * mutex held for a pointer swap or one binary search; a lookup takes a
 * reference on the VM it found, and every VM holds a reference on its
 * map's storage, so an old map lives until its last VM is released.
 */
#include "slicer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jsonline.h"
#include "log.h"
#include "slicer_int.h"

struct slicer_map {
	struct slicer_vm	**vms;		/* sorted by address */
	size_t			n;
};

static pthread_mutex_t pub_mu = PTHREAD_MUTEX_INITIALIZER;
static struct slicer_map *published;
static bool ever_published;
static atomic_uint_fast64_t n_failures, n_refreshes;

/* ---- parsing ---------------------------------------------------------- */

#define JSON_DEPTH	8

static void
vm_free(struct slicer_vm *vm)
{
	size_t i;

	free(vm->name);
	free(vm->group);
	for (i = 0; i < vm->ntags; i++)
		free(vm->tags[i]);
	free(vm->tags);
	free(vm);
}

void
slicer_vm_unref(struct slicer_vm *vm)
{
	if (vm != NULL && atomic_fetch_sub(&vm->refs, 1) == 1)
		vm_free(vm);
}

static char *
dup_slice(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Any JSON value, checked and skipped (fields this module does not use). */
static int
skip_value(struct jl_cur *c, int depth)
{
	const char *s;
	size_t n;
	char close;

	jl_ws(c);
	if (c->p >= c->end)
		return -1;
	if (*c->p == '"')
		return jl_string(c, &s, &n);
	if (*c->p != '[' && *c->p != '{')
		return jl_scalar(c, &s, &n);
	if (depth >= JSON_DEPTH)
		return -1;
	close = *c->p == '[' ? ']' : '}';
	c->p++;
	jl_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			jl_ws(c);
			if (jl_string(c, &s, &n) != 0)
				return -1;
			jl_ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return -1;
		}
		if (skip_value(c, depth + 1) != 0)
			return -1;
		jl_ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == close) {
			c->p++;
			return 0;
		}
		if (*c->p++ != ',')
			return -1;
	}
}

/* A string value of at most SLICER_MAX_STR bytes with no control byte. */
static int
short_string(struct jl_cur *c, const char **s, size_t *n)
{
	size_t i;

	jl_ws(c);
	if (c->p >= c->end || *c->p != '"' || jl_string(c, s, n) != 0 ||
	    *n > SLICER_MAX_STR)
		return -1;
	for (i = 0; i < *n; i++)
		if ((unsigned char)(*s)[i] < 0x20 || (*s)[i] == 0x7f)
			return -1;
	return 0;
}

static int
parse_tags(struct jl_cur *c, struct slicer_vm *vm, const char **why)
{
	const char *s;
	size_t n;

	jl_ws(c);
	if (c->p < c->end && c->p[0] == 'n') {		/* "tags": null */
		if (jl_scalar(c, &s, &n) != 0 || n != 4)
			goto bad;
		return 0;
	}
	if (c->p >= c->end || *c->p++ != '[')
		goto bad;
	jl_ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return 0;
	}
	for (;;) {
		if (short_string(c, &s, &n) != 0)
			goto bad;
		if (vm->ntags == SLICER_MAX_TAGS) {
			*why = "more than 32 tags on a node";
			return -1;
		}
		vm->tags = xrealloc(vm->tags, (vm->ntags + 1) *
		    sizeof(*vm->tags));
		vm->tags[vm->ntags++] = dup_slice(s, n);
		jl_ws(c);
		if (c->p >= c->end)
			goto bad;
		if (*c->p == ']') {
			c->p++;
			return 0;
		}
		if (*c->p++ != ',')
			goto bad;
	}
bad:
	*why = "\"tags\" is not an array of short strings";
	return -1;
}

/* "169.254.60.2" or "169.254.60.2/30" (the create answer has the form). */
static bool
parse_ip(const char *s, size_t n, struct addr *out)
{
	char buf[64];
	const char *slash = memchr(s, '/', n);

	if (slash != NULL)
		n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (addr_parse(buf, out) != 0)
		return false;
	addr_unmap(out);
	out->port = 0;
	return true;
}

/* One node object; *vm is NULL when the node is skipped (no usable ip). */
static int
parse_node(struct jl_cur *c, struct slicer_vm **vmp, const char **why)
{
	struct slicer_vm *vm = xcalloc(1, sizeof(*vm));
	bool have_ip = false, seen_tags = false;
	const char *k, *s;
	size_t kn, n;

	*vmp = NULL;
	jl_ws(c);
	if (c->p >= c->end || *c->p++ != '{')
		goto bad;
	jl_ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		goto skip;
	}
	for (;;) {
		jl_ws(c);
		if (jl_string(c, &k, &kn) != 0)
			goto bad;
		jl_ws(c);
		if (c->p >= c->end || *c->p++ != ':')
			goto bad;
#define IS(key)	(kn == sizeof(key) - 1 && memcmp(k, key, kn) == 0)
		if (IS("hostname") || IS("hostgroup") || IS("ip")) {
			if (short_string(c, &s, &n) != 0) {
				*why = "hostname, hostgroup and ip must be "
				    "short strings";
				goto fail;
			}
			if (IS("ip"))
				have_ip = parse_ip(s, n, &vm->addr);
			else if (IS("hostname") && vm->name == NULL && n > 0)
				vm->name = dup_slice(s, n);
			else if (IS("hostgroup") && vm->group == NULL && n > 0)
				vm->group = dup_slice(s, n);
		} else if (IS("tags")) {
			if (seen_tags) {
				*why = "\"tags\" given twice";
				goto fail;
			}
			seen_tags = true;
			if (parse_tags(c, vm, why) != 0)
				goto fail;
		} else if (skip_value(c, 1) != 0) {
			goto bad;
		}
#undef IS
		jl_ws(c);
		if (c->p >= c->end)
			goto bad;
		if (*c->p == '}') {
			c->p++;
			break;
		}
		if (*c->p++ != ',')
			goto bad;
	}
	if (!have_ip || vm->name == NULL)
		goto skip;
	atomic_init(&vm->refs, 1);
	*vmp = vm;
	return 0;
skip:
	vm_free(vm);
	return 0;
bad:
	*why = "not a JSON array of node objects";
fail:
	vm_free(vm);
	return -1;
}

static int
addr_cmp(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->u.bytes, b->u.bytes,
	    a->family == AF_INET ? sizeof(a->u.v4) : sizeof(a->u.v6));
}

static int
vm_cmp(const void *x, const void *y)
{
	const struct slicer_vm *a = *(struct slicer_vm *const *)x;
	const struct slicer_vm *b = *(struct slicer_vm *const *)y;
	int r = addr_cmp(&a->addr, &b->addr);

	if (r != 0)
		return r;
	/* the first node in the answer wins a duplicate address */
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sort, and drop the later nodes of a duplicated address. */
static void
map_index(struct slicer_map *m)
{
	size_t i, j = 0;

	if (m->n == 0)
		return;		/* m->vms is NULL: not even qsort may see it */
	qsort(m->vms, m->n, sizeof(*m->vms), vm_cmp);
	for (i = 0; i < m->n; i++) {
		if (j > 0 && addr_cmp(&m->vms[j - 1]->addr,
		    &m->vms[i]->addr) == 0) {
			slicer_vm_unref(m->vms[i]);
			continue;
		}
		m->vms[j++] = m->vms[i];
	}
	m->n = j;
}

struct slicer_map *
slicer_map_parse(char *body, size_t len, char *err, size_t errlen)
{
	struct jl_cur c = { body, body + len };
	struct slicer_map *m = xcalloc(1, sizeof(*m));
	const char *why = "not a JSON array of node objects";
	struct slicer_vm *vm;
	size_t cap = 0;

	jl_ws(&c);
	if (c.p >= c.end || *c.p++ != '[')
		goto fail;
	jl_ws(&c);
	if (c.p < c.end && *c.p == ']') {
		c.p++;
		goto done;
	}
	for (;;) {
		if (parse_node(&c, &vm, &why) != 0)
			goto fail;
		if (vm != NULL) {
			if (m->n == SLICER_MAX_NODES) {
				slicer_vm_unref(vm);
				why = "more than 65536 nodes";
				goto fail;
			}
			if (m->n == cap) {
				cap = cap ? cap * 2 : 16;
				m->vms = xrealloc(m->vms, cap *
				    sizeof(*m->vms));
			}
			vm->seq = m->n;
			m->vms[m->n++] = vm;
		}
		jl_ws(&c);
		if (c.p >= c.end)
			goto fail;
		if (*c.p == ']') {
			c.p++;
			break;
		}
		if (*c.p++ != ',')
			goto fail;
	}
done:
	jl_ws(&c);
	if (c.p != c.end)
		goto fail;
	map_index(m);
	return m;
fail:
	snprintf(err, errlen, "%s (at byte %zu)", why,
	    (size_t)(c.p - body));
	slicer_map_free(m);
	return NULL;
}

void
slicer_map_free(struct slicer_map *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		slicer_vm_unref(m->vms[i]);
	free(m->vms);
	free(m);
}

size_t
slicer_map_size(const struct slicer_map *m)
{
	return m != NULL ? m->n : 0;
}

const struct slicer_vm *
slicer_map_vm(const struct slicer_map *m, size_t i)
{
	return i < m->n ? m->vms[i] : NULL;
}

const struct slicer_vm *
slicer_map_find(const struct slicer_map *m, const struct addr *a)
{
	struct addr k = *a;
	size_t lo = 0, hi = m->n;

	addr_unmap(&k);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = addr_cmp(&k, &m->vms[mid]->addr);

		if (r == 0)
			return m->vms[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- publication ------------------------------------------------------- */

void
slicer_publish(struct slicer_map *m)
{
	struct slicer_map *old;

	pthread_mutex_lock(&pub_mu);
	old = published;
	published = m;
	if (m != NULL)
		ever_published = true;
	pthread_mutex_unlock(&pub_mu);
	/* VMs still referenced by connections outlive their map */
	slicer_map_free(old);
	if (m != NULL)
		atomic_fetch_add(&n_refreshes, 1);
}

bool
slicer_have_map(void)
{
	bool r;

	pthread_mutex_lock(&pub_mu);
	r = ever_published;
	pthread_mutex_unlock(&pub_mu);
	return r;
}

struct slicer_vm *
slicer_lookup(const struct addr *a)
{
	struct slicer_vm *vm = NULL;

	pthread_mutex_lock(&pub_mu);
	if (published != NULL) {
		vm = (struct slicer_vm *)slicer_map_find(published, a);
		if (vm != NULL)
			atomic_fetch_add(&vm->refs, 1);
	}
	pthread_mutex_unlock(&pub_mu);
	return vm;
}

struct slicer_vm *
slicer_lookup_name(const char *name)
{
	struct slicer_vm *vm = NULL;
	size_t i;

	pthread_mutex_lock(&pub_mu);
	for (i = 0; published != NULL && i < published->n; i++)
		if (strcmp(published->vms[i]->name, name) == 0) {
			vm = published->vms[i];
			atomic_fetch_add(&vm->refs, 1);
			break;
		}
	pthread_mutex_unlock(&pub_mu);
	return vm;
}

int
slicer_guest_of(const char *name, struct addr *out, char *err, size_t errlen)
{
	struct slicer_vm *vm = slicer_lookup_name(name);

	if (vm == NULL) {
		snprintf(err, errlen, "no VM named %s on Slicer's map%s", name,
		    slicer_have_map() ? "" : " (no answer from Slicer yet, or "
		    "no slicer section)");
		return -1;
	}
	*out = vm->addr;
	slicer_vm_unref(vm);
	return 0;
}

uint64_t
slicer_failures(void)
{
	return atomic_load(&n_failures);
}

uint64_t
slicer_refreshes(void)
{
	return atomic_load(&n_refreshes);
}

/* ---- the poller -------------------------------------------------------- */

/* Logged once per outage: the first failure, then the recovery. */
static bool failing;

int
slicer_poll_once(const struct slicer_url *u, const char *token,
    uint64_t timeout_ms)
{
	struct slicer_map *m = NULL;
	char err[1024], perr[200];
	char *body = NULL;
	size_t len = 0;

	if (slicer_http_get(u, "/nodes", token, timeout_ms, &body, &len,
	    err, sizeof(err)) == 0) {
		m = slicer_map_parse(body, len, perr, sizeof(perr));
		if (m == NULL)
			snprintf(err, sizeof(err), "bad answer from "
			    "%s:%u%s/nodes: %s", u->host, u->port, u->path,
			    perr);
	}
	free(body);
	if (m == NULL) {
		atomic_fetch_add(&n_failures, 1);
		if (!failing)
			log_warnx("slicer: %s; keeping the last map of VM "
			    "names (logged once until Slicer answers)", err);
		failing = true;
		return -1;
	}
	if (failing)
		log_info("slicer: answering again: %zu VMs", m->n);
	else
		log_debug("slicer: %zu VMs", m->n);
	failing = false;
	slicer_publish(m);
	return 0;
}
