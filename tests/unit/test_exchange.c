/*
 * test_exchange.c - which timeout bounds an exchange: idle_timeout while
 * the guest is to send (its request body), response_timeout while the
 * upstream is (the response head, the bytes of a response in progress).
 */
#include <string.h>

#include "config.h"
#include "conn.h"
#include "tap.h"

int
main(void)
{
	static const struct {
		bool		req_done, resp_head_done;
		uint64_t	want;
		const char	*what;
	} v[] = {
		{ false, false, 120000, "request body still coming: idle" },
		{ true, false, 2000, "request sent, waiting for the head: "
		    "response_timeout, even below idle_timeout" },
		{ true, true, 2000, "response in progress: response_timeout" },
		{ false, true, 2000, "response begun before the request "
		    "ended: response_timeout" },
	};
	struct limits_config lim;
	struct exchange x;
	size_t i;

	memset(&lim, 0, sizeof(lim));
	lim.idle_timeout_ms = 120000;
	lim.response_timeout_ms = 2000;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		memset(&x, 0, sizeof(x));
		x.active = true;
		x.req_done = v[i].req_done;
		x.resp_head_done = v[i].resp_head_done;
		is(conn_exchange_timeout(&lim, &x), v[i].want, "%s",
		    v[i].what);
	}
	return tap_done();
}
