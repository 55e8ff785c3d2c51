/*
 * fuzz_policy.c - fuzz target for policy.c: rules built from the bytes,
 * then fuzzed queries judged against them.
 *
 * Input: a header (mode, default, rule and internal_allow counts), the
 * rules (action; host, CIDR, port range, path prefix and methods, each
 * present or not, values from small pools so that rules and queries
 * meet), then queries until the bytes run out (stage, host from the pool
 * or raw bytes through host_normalize(), address, port, a method token
 * and a raw request path).  Invariants checked for every query (abort on
 * failure), none by re-implementing the rule walk:
 *  - the verdict is in range, and the same when asked again;
 *  - a request is never left at INSPECT or SPLICE;
 *  - the deciding rule is the table's, a fixed refusal, or the default,
 *    and the action follows from it: a deny rule never yields allow, an
 *    allow with a method set was a method of the set;
 *  - first match: the rules before the deciding one, alone, decide
 *    nothing; that rule alone decides the same; the rules after it change
 *    nothing; when the default decided, no rule alone matches;
 *  - report mode differs from enforce only where enforce denied, and an
 *    IP-only query to an internal address not allowed is denied in both.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostname.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RULES	8

static const char *const host_pool[] = { "example.com", "a.example.com",
    "api.github.com", "github.com", "com", "localhost", "10.0.0.1",
    "xn--bcher-kva.example" };
static const char *const cidr_pool[] = { "10.0.0.0/8", "0.0.0.0/0",
    "192.0.2.0/24", "::/0", "2001:db8::/32", "127.0.0.1", "198.18.0.0/15",
    "fd00::/8", "169.254.0.0/16" };
static const char *const dst_pool[] = { "10.1.2.3", "192.0.2.7",
    "198.18.0.10", "127.0.0.1", "::ffff:10.1.2.3", "2001:db8::1",
    "169.254.169.254", "8.8.8.8", "::1", "64:ff9b::a01:203", "fd00::5" };
static const char *const prefix_pool[] = { "/", "/api", "/api/", "/admin",
    "/repos/x", "/a%2Fb", "/~user", "/x?y=1" };
static const char *const method_pool[] = { "GET", "HEAD", "POST", "PUT",
    "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "get", "FETCH" };

#define POOL(p)		(sizeof(p) / sizeof((p)[0]))

struct cursor {
	const uint8_t	*p;
	size_t		n;
};

static unsigned
byte(struct cursor *c)
{
	if (c->n == 0)
		return 0;
	c->n--;
	return *c->p++;
}

/* Up to max raw bytes (length from the data), copied NUL-terminated. */
static size_t
raw(struct cursor *c, char *out, size_t max)
{
	size_t len = byte(c) % (max + 1);

	if (len > c->n)
		len = c->n;
	memcpy(out, c->p, len);
	out[len] = '\0';
	c->p += len;
	c->n -= len;
	return len;
}

struct fuzz_policy {
	struct policy		p;
	struct policy_rule	rules[MAX_RULES];
	struct cidr		cidrs[MAX_RULES];
	struct cidr		internal_allow[2];
	char			labels[MAX_RULES][32];
};

static void
pool_cidr(unsigned i, struct cidr *out)
{
	AZ(cidr_parse(cidr_pool[i % POOL(cidr_pool)], out));
}

static void
build(struct cursor *c, struct fuzz_policy *fp)
{
	unsigned h = byte(c), f, lo, hi;
	size_t i;

	memset(fp, 0, sizeof(*fp));
	fp->p.mode = (h & 1) ? POLICY_REPORT : POLICY_ENFORCE;
	fp->p.dflt = (h & 2) ? POLICY_DENY : POLICY_ALLOW;
	fp->p.nrules = (h >> 2) % (MAX_RULES + 1);
	fp->p.ninternal_allow = (h >> 6) % 3;
	for (i = 0; i < fp->p.ninternal_allow; i++)
		pool_cidr(byte(c), &fp->internal_allow[i]);
	fp->p.internal_allow = fp->internal_allow;
	fp->p.rules = fp->rules;
	for (i = 0; i < fp->p.nrules; i++) {
		struct policy_rule *r = &fp->rules[i];

		f = byte(c);
		r->action = (enum policy_action)((f & 3) % 3);
		if (f & 4) {
			r->host = (char *)host_pool[byte(c) % POOL(host_pool)];
			r->host_suffix = (f & 8) != 0;
		}
		if (f & 16) {
			pool_cidr(byte(c), &fp->cidrs[i]);
			r->cidrs = &fp->cidrs[i];
			r->ncidrs = 1;
		}
		if (f & 32) {
			lo = byte(c) << 8;
			lo |= byte(c);
			lo = lo ? lo : 1;
			hi = lo + byte(c);
			r->port_lo = (uint16_t)lo;
			r->port_hi = (uint16_t)(hi > 65535 ? 65535 : hi);
		}
		if (f & 64)
			r->path_prefix = (char *)prefix_pool[byte(c) %
			    POOL(prefix_pool)];
		if (f & 128) {
			r->methods = (byte(c) << 8) & 0x300;
			r->methods |= byte(c);
		}
		r->line = (int)i + 1;
		snprintf(fp->labels[i], sizeof(fp->labels[i]), "rule %zu", i);
		r->label = fp->labels[i];
	}
}

static bool
same(const struct policy_verdict *a, const struct policy_verdict *b)
{
	return a->action == b->action && a->rule == b->rule &&
	    a->why == b->why && a->would_deny == b->would_deny;
}

/* The verdict of the rules [from, to) of p, with default dflt. */
static void
decide_slice(const struct policy *p, size_t from, size_t to,
    enum policy_action dflt, enum policy_mode mode,
    const struct policy_query *q, struct policy_verdict *v)
{
	struct policy s = *p;

	s.rules = p->rules + from;
	s.nrules = to - from;
	s.dflt = dflt;
	s.mode = mode;
	policy_decide(&s, q, v);
}

static bool
fixed_refusal(const struct policy_verdict *v)
{
	return v->rule != NULL && v->rule->label != NULL &&
	    (strcmp(v->rule->label, "internal-destination") == 0 ||
	    strcmp(v->rule->label, "ambiguous-path") == 0);
}

/* Enforce mode: the action follows from the deciding rule. */
static void
check_action(const struct policy *p, const struct policy_query *q,
    const struct policy_verdict *v)
{
	const struct policy_rule *r = v->rule;
	bool staged;

	AN(!v->would_deny);
	if (r == NULL) {
		AN(v->action == p->dflt);
		return;
	}
	if (fixed_refusal(v)) {
		AN(v->action == POLICY_DENY);
		return;
	}
	staged = r->path_prefix != NULL || r->methods != 0;
	if (!q->request && staged) {
		AN(v->action == POLICY_INSPECT);
		return;
	}
	/* a deny rule never yields allow, nor an allow rule a deny, save
	 * the internal refusal, which names its own rule */
	if (r->action == POLICY_DENY)
		AN(v->action == POLICY_DENY);
	else if (r->action == POLICY_SPLICE && !q->request)
		AN(v->action == POLICY_SPLICE);
	else
		AN(v->action == POLICY_ALLOW);
	if (q->request && r->methods != 0)
		AN((r->methods & q->method) != 0);
}

/* First match, checked by cutting the table around the deciding rule. */
static void
check_first_match(const struct policy *p, const struct policy_query *q,
    const struct policy_verdict *v)
{
	enum policy_action other = p->dflt == POLICY_ALLOW ? POLICY_DENY :
	    POLICY_ALLOW;
	struct policy_verdict w;
	size_t k, i;

	if (v->rule == NULL) {
		for (i = 0; i < p->nrules; i++) {
			decide_slice(p, i, i + 1, other, POLICY_ENFORCE, q, &w);
			AN(w.rule == NULL || fixed_refusal(&w));
		}
		return;
	}
	if (v->rule < p->rules || v->rule >= p->rules + p->nrules)
		return;	/* a fixed refusal */
	k = (size_t)(v->rule - p->rules);
	decide_slice(p, 0, k, other, POLICY_ENFORCE, q, &w);
	AN(w.rule == NULL || fixed_refusal(&w));
	decide_slice(p, k, k + 1, other, POLICY_ENFORCE, q, &w);
	AN(w.rule == v->rule && w.action == v->action);
	decide_slice(p, 0, k + 1, other, POLICY_ENFORCE, q, &w);
	AN(same(&w, v));
}

/* Report mode against enforce mode on the same query. */
static void
check_report(const struct policy *p, const struct policy_query *q,
    const struct policy_verdict *enf)
{
	struct policy_verdict rep;

	decide_slice(p, 0, p->nrules, p->dflt, POLICY_REPORT, q, &rep);
	if (enf->action != POLICY_DENY ||
	    (enf->rule != NULL && enf->rule->label != NULL &&
	    strcmp(enf->rule->label, "internal-destination") == 0)) {
		AN(same(&rep, enf));
		return;
	}
	if (q->host == NULL && q->dst != NULL &&
	    !policy_dial_allowed(p, q->dst, NULL)) {
		/* a rule denied first, but report mode opens no internal
		 * address: the fixed refusal stands in its place */
		AN(rep.action == POLICY_DENY && !rep.would_deny);
		AN(strcmp(policy_verdict_label(&rep),
		    "internal-destination") == 0);
		return;
	}
	AN(rep.rule == enf->rule && rep.why == enf->why);
	AN(rep.would_deny);
	AN(rep.action == (q->request ? POLICY_ALLOW : POLICY_INSPECT));
}

static void
judge(const struct policy *p, const struct policy_query *q)
{
	struct policy_verdict v, again, enf;

	policy_decide(p, q, &v);
	policy_decide(p, q, &again);
	AN(same(&v, &again));
	AN(v.action <= POLICY_INSPECT);
	AN(!q->request || (v.action != POLICY_INSPECT &&
	    v.action != POLICY_SPLICE));
	AN(policy_verdict_label(&v) != NULL);
	AN(v.rule == NULL || fixed_refusal(&v) ||
	    (v.rule >= p->rules && v.rule < p->rules + p->nrules));
	AN((v.why != NULL) == (v.rule != NULL && v.rule->label != NULL &&
	    strcmp(v.rule->label, "ambiguous-path") == 0));
	if (q->host == NULL && q->dst != NULL &&
	    !policy_dial_allowed(p, q->dst, NULL))
		AN(v.action == POLICY_DENY);
	decide_slice(p, 0, p->nrules, p->dflt, POLICY_ENFORCE, q, &enf);
	if (p->mode == POLICY_ENFORCE)
		AN(same(&v, &enf));
	check_action(p, q, &enf);
	check_first_match(p, q, &enf);
	check_report(p, q, &enf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	struct fuzz_policy fp;
	struct policy_query q;
	char rawhost[64], host[HOST_MAX + 1], method[16], path[512];
	struct addr dst;
	unsigned f;
	size_t len;
	int queries = 0;

	build(&c, &fp);
	while (c.n > 0 && queries++ < 64) {
		memset(&q, 0, sizeof(q));
		f = byte(&c);
		q.request = (f & 1) != 0;
		if (f & 2) {
			q.host = host_pool[byte(&c) % POOL(host_pool)];
		} else if (f & 4) {
			len = raw(&c, rawhost, sizeof(rawhost) - 1);
			if (host_normalize(rawhost, len, host) == 0)
				q.host = host;
		}
		if (f & 8) {
			AZ(addr_parse(dst_pool[byte(&c) % POOL(dst_pool)],
			    &dst));
			q.dst = &dst;
		}
		q.port = (uint16_t)(byte(&c) << 8);
		q.port |= (uint16_t)byte(&c);
		if (f & 16) {
			len = raw(&c, method, sizeof(method) - 1);
		} else {
			len = (size_t)snprintf(method, sizeof(method), "%s",
			    method_pool[byte(&c) % POOL(method_pool)]);
		}
		q.method = policy_method_bit(method, len);
		AN(q.method != 0 && (q.method & (q.method - 1)) == 0);
		if (q.request && !(f & 32)) {
			(void)raw(&c, path, sizeof(path) - 1);
			q.path = path;	/* up to a NUL it holds, as strlen() */
		}
		judge(&fp.p, &q);
	}
	return 0;
}
