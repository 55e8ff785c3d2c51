/*
 * l4_alog.c - map an l4_audit record onto an audit log record.  See
 * l4_alog.h.
 */
#include "l4_alog.h"

#include <stdio.h>

#include "alog.h"

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

void
l4_alog_sink(void *arg, const struct l4_audit *a)
{
	struct alog_record r;
	char url[300];

	memset(&r, 0, sizeof(r));
	r.kind = a->kind == L4_AUDIT_DNS ? ALOG_DNS : ALOG_FLOW;
	r.action = action_of(a->verdict);
	r.group = a->group;
	if (a->guest != NULL)
		r.client = *a->guest;
	if (a->dst != NULL) {
		r.dst = *a->dst;
		/* Squid logs a tunnel's target as host:port. */
		if (a->kind == L4_AUDIT_FLOW && a->name != NULL)
			snprintf(url, sizeof(url), "%s:%u", a->name,
			    a->dst->port);
		else
			addr_ntop_port(a->dst, url, sizeof(url));
		r.url = url;
	}
	r.host = a->name;
	r.proto = a->kind == L4_AUDIT_DNS ? a->qtype : a->proto;
	r.answers = a->answers;
	r.rule = a->rule;
	r.reason = a->verdict;
	alog_write(arg, &r);
}
