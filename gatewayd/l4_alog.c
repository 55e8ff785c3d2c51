/*
 * l4_alog.c - map an l4_audit record (NFQUEUE flow verdict, DNS query)
 * onto an audit log record.  See l4_alog.h.
 *
 * The verdict word is kept as is (alog_record.verdict) next to the coarse
 * action, so that the log tells accept/drop/reset and allow/refused/
 * nxdomain apart; for DNS the transport goes to proto and the query type
 * to qtype.  The guest's VM (name, Slicer host group, tags) is looked up
 * by its address as the record is written, the moment the flow or the
 * query was judged, as an HTTP connection's is at its accept.  This
 * module decides nothing and formats nothing itself.
 */
#include "l4_alog.h"

#include <stdio.h>

#include "alog.h"
#include "slicer.h"

static enum alog_action
action_of(const char *verdict)
{
	static const struct {
		const char		*verdict;
		enum alog_action	action;
	} map[] = {
		{ "accept", ALOG_ALLOW }, { "allow", ALOG_ALLOW },
		{ "drop", ALOG_DENY }, { "reset", ALOG_DENY },
		{ "refused", ALOG_DENY }, { "nxdomain", ALOG_DENY },
	};
	size_t i;

	for (i = 0; verdict != NULL && i < ARRAY_SIZE(map); i++)
		if (strcmp(verdict, map[i].verdict) == 0)
			return map[i].action;
	return ALOG_ERROR;
}

/* NULL for an absent value: "" and "-" are how l4 says "none". */
static const char *
present(const char *s)
{
	return s == NULL || s[0] == '\0' || strcmp(s, "-") == 0 ? NULL : s;
}

void
l4_alog_sink(void *arg, const struct l4_audit *a)
{
	struct alog_record r;
	struct slicer_vm *vm = NULL;
	char url[300];

	memset(&r, 0, sizeof(r));
	r.kind = a->kind == L4_AUDIT_DNS ? ALOG_DNS : ALOG_FLOW;
	r.action = action_of(a->verdict);
	r.verdict = a->verdict;
	r.group = present(a->group);
	if (a->guest != NULL) {
		r.client = *a->guest;
		vm = slicer_lookup(a->guest);	/* NULL: no map, not on it */
		r.vm = vm;
	}
	r.host = present(a->name);
	if (a->dst != NULL) {
		r.dst = *a->dst;
		/* Squid logs a tunnel's target as host:port. */
		if (a->kind == L4_AUDIT_FLOW && r.host != NULL)
			snprintf(url, sizeof(url), "%s:%u", r.host,
			    a->dst->port);
		else
			addr_ntop_port(a->dst, url, sizeof(url));
		r.url = url;
	}
	r.proto = a->proto;
	r.qtype = a->qtype;
	r.answers = present(a->answers);
	r.rule = a->rule;
	alog_write(arg, &r);
	slicer_vm_unref(vm);
}
