/*
 * fuzz_config.c - fuzz target for config_load_string() and the tables it
 * builds.
 *
 * Any text must load or be refused with messages, never crash, hang or
 * leak.  When it loads, the result is checked (abort on failure): every
 * rule host is normalised and stored without its dot, port ranges are
 * ordered, CIDR lists match their counts, labels exist, and the policy,
 * group matching and dial checks can be run on it, and it needs no
 * restart compared with itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hostname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_host(const char *h)
{
	char norm[HOST_MAX + 1];

	if (h == NULL)
		return;
	AN(h[0] != '.');
	AZ(host_normalize(h, strlen(h), norm));
	AZ(strcmp(norm, h));
}

static void
check_group(const struct gw_config *c, const struct group_config *g)
{
	static const char *const hosts[] = { "example.com", "a.example.com",
	    "api.github.com", NULL };
	static const char *const paths[] = { "/", "/repos/x", "/../x",
	    "/%2e%2e/", NULL };
	struct policy_query q = { 0 };
	struct policy_verdict v;
	struct addr a;
	size_t i, j, k;

	AN(g->name != NULL && g->ca_dir != NULL);
	AN(g->http_port != 0 && g->https_port != 0);
	AN(g->nguests > 0 || g->ninterfaces > 0);
	AN(config_group(c, g->name) == g);
	for (i = 0; i < g->policy.nrules; i++) {
		const struct policy_rule *r = &g->policy.rules[i];

		check_host(r->host);
		AN(r->label != NULL);
		AN((r->cidrs == NULL) == (r->ncidrs == 0));
		AN(r->port_lo <= r->port_hi);
		AN(r->path_prefix == NULL || r->path_prefix[0] == '/');
		AN(r->action != POLICY_INSPECT);
	}
	for (i = 0; i < g->nl4; i++) {
		check_host(g->l4[i].host);
		AN(g->l4[i].port_lo <= g->l4[i].port_hi);
	}
	for (i = 0; i < g->nsecrets; i++) {
		check_host(g->secrets[i].host);
		AN(g->secrets[i].source_ref != NULL);
		AN(strstr(g->secrets[i].format, "%s") != NULL);
	}
	for (i = 0; hosts[i] != NULL; i++) {
		for (j = 0; paths[j] != NULL; j++) {
			q.host = hosts[i];
			q.port = 443;
			q.request = j > 0;
			q.method = METHOD_GET;
			q.path = paths[j];
			policy_decide(&g->policy, &q, &v);
			AN(v.action <= POLICY_INSPECT);
			AN(q.request ? v.action != POLICY_INSPECT &&
			    v.action != POLICY_SPLICE : 1);
			AN(policy_verdict_label(&v) != NULL);
		}
	}
	for (k = 0; k < g->nguests; k++) {
		a = g->guests[k].net;
		AN(config_match_group(c, &a, NULL) != NULL);
		q.host = NULL;
		q.dst = &a;
		policy_decide(&g->policy, &q, &v);
		(void)policy_dial_allowed(&g->policy, &a, NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct gw_config *c;
	char *text;
	size_t i;

	if (size > 256 * 1024)
		return 0;
	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	text = malloc(size + 1);
	AN(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	c = config_load_string(text, "fuzz.conf", devnull);
	if (c != NULL) {
		AN(c->ngroups > 0);
		AN(c->upstream_mark != c->tproxy_mark);
		for (i = 0; i < c->ngroups; i++)
			check_group(c, &c->groups[i]);
		AZ(config_restart_needed(c, c, NULL));
		config_unref(config_ref(c));
		config_unref(c);
	}
	free(text);
	return 0;
}
