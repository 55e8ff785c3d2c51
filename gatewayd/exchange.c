/*
 * exchange.c - the parts of an exchange it owns.  See exchange.h.
 */
#include "exchange.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "loop.h"
#include "util.h"

void
exchange_reset(struct exchange *x)
{
	free(x->url);
	free(x->reason);
	free(x->upgrade_proto);
	free(x->content_type);
	memset(x, 0, sizeof(*x));
}

void
exchange_begin(struct exchange *x, struct loop *l)
{
	exchange_reset(x);
	x->active = true;
	x->start_ms = util_wall_ms();
	x->start_mono = loop_now(l);
	x->action = XA_MISS;
	util_strlcpy(x->method, "-", sizeof(x->method));
	x->t_start = x->t_ttfb = loop_now_us(l);
}

void
exchange_deny(struct exchange *x, enum deny_reason why)
{
	x->action = XA_DENIED;
	x->deny = why;
}

const char *
deny_reason_code(enum deny_reason why)
{
	static const char *const codes[] = {
#define DENY_REASON_CODE(name, code)	[DENY_##name] = code,
		DENY_REASON_LIST(DENY_REASON_CODE)
#undef DENY_REASON_CODE
	};

	return (size_t)why < ARRAY_SIZE(codes) ? codes[why] : "none";
}

void
exchange_set_reason(struct exchange *x, const char *reason)
{
	size_t n;

	free(x->reason);
	x->reason = NULL;
	if (reason == NULL || reason[0] == '\0')
		return;
	n = strnlen(reason, EXCHANGE_REASON_MAX);
	x->reason = xmalloc(n + 1);
	memcpy(x->reason, reason, n);
	x->reason[n] = '\0';
}

const char *
exchange_reason(const struct exchange *x)
{
	return x->reason != NULL && x->reason[0] != '\0' ? x->reason : NULL;
}

void
exchange_set_upgrade(struct exchange *x, const char *p, size_t len)
{
	if (len == 0 || len > EXCHANGE_UPGRADE_MAX)
		return;
	free(x->upgrade_proto);
	x->upgrade_proto = xmalloc(len + 1);
	memcpy(x->upgrade_proto, p, len);
	x->upgrade_proto[len] = '\0';
}

void
exchange_set_content_type(struct exchange *x, const char *p, size_t len)
{
	free(x->content_type);
	x->content_type = NULL;
	len = MIN(len, EXCHANGE_CTYPE_MAX);
	if (len == 0)
		return;
	x->content_type = xmalloc(len + 1);
	memcpy(x->content_type, p, len);
	x->content_type[len] = '\0';
}

uint64_t
conn_exchange_timeout(const struct limits_config *lim,
    const struct exchange *x)
{
	if (!x->req_done && !x->resp_head_done)
		return lim->idle_timeout_ms;
	return lim->response_timeout_ms;
}
