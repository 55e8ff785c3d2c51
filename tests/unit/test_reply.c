/*
 * test_reply.c - the status pages, byte for byte: the HTTP/1.1 reply and
 * the HTTP/2 fields of one page say the same thing, the shared wordings
 * (policy denial, refused credential) are those the guests have always
 * read, a query never reaches a page, a long body is cut, and a gateway
 * answer is recorded in its exchange (with a refusal's reason code).
 */
#include <string.h>

#include "buf.h"
#include "exchange.h"
#include "reply.h"
#include "secrets.h"
#include "tap.h"

static void
check_h1(const struct reply_page *p, bool close, const char *want,
    const char *what)
{
	struct buf b = { 0 };
	size_t n = strlen(want);

	reply_h1(&b, p, close);
	ok(buf_len(&b) == n && memcmp(buf_head(&b), want, n) == 0,
	    "%s: HTTP/1.1 bytes", what);
	if (buf_len(&b) != n || memcmp(buf_head(&b), want, n) != 0)
		diag("got:\n%.*s", (int)buf_len(&b), buf_head(&b));
	buf_free(&b);
}

static void
test_denied(void)
{
	char url[] = "http://denied.test:8080/a/b?token=hunter2";
	struct exchange x = { 0 };
	struct reply_page p;

	x.url = url;
	x.rule = "default";
	util_strlcpy(x.method, "POST", sizeof(x.method));
	reply_page_denied(&p, &x, "build", NULL);
	check_h1(&p, true, "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 191\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Gateway-Reason: denied by egress policy\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "Blocked by egress policy: http://denied.test:8080/a/b\n"
	    "The gateway of host group \"build\" does not allow this request "
	    "(default, POST).\n"
	    "Retrying will not help; ask for the policy to be changed.\n",
	    "denial");
	ok(strstr(p.body, "hunter2") == NULL, "denial: no query in the page");

	reply_page_denied(&p, &x, "build", "ambiguous path");
	is_str(p.body, "Blocked by egress policy: http://denied.test:8080/a/b\n"
	    "The gateway of host group \"build\" does not allow this request "
	    "(default: ambiguous path, POST).\nServers read this path in "
	    "different ways, so a path rule cannot judge it; send it in its "
	    "plain form.\n", "denial of an ambiguous path");
	is(p.len, strlen(p.body), "length is the body's");
}

static void
test_credential(void)
{
	struct secrets_result res = { 0 };
	struct reply_page p;

	res.reason = "sentinel bound to another VM";
	reply_page_credential(&p, &res, "api.test", false);
	check_h1(&p, false, "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 103\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Gateway-Reason: credential refused\r\n"
	    "\r\n"
	    "Credential refused by the gateway: sentinel bound to another "
	    "VM.\nThe request to api.test was not sent.\n", "credential refused");
	res.reason = NULL;
	res.detail = "%2F in the path";
	reply_page_credential(&p, &res, "api.test", false);
	is_str(p.body, "Credential refused by the gateway: not valid here "
	    "(%2F in the path).\nThe request to api.test was not sent.\n",
	    "credential refused, with the detail");
	reply_page_credential(&p, NULL, "api.test", true);
	check_h1(&p, true, "HTTP/1.1 500 Error\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 61\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Gateway-Reason: credential too large\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "The gateway could not build the credential for this request.\n",
	    "credential too large");
}

static void
test_h2(void)
{
	static const char *const want[REPLY_H2_FIELDS][2] = {
		{ ":status", "421" },
		{ "content-type", "text/plain; charset=utf-8" },
		{ "content-length", "57" },
		{ "cache-control", "no-store" },
		{ "x-content-type-options", "nosniff" },
		{ "x-gateway-reason", "host does not match the TLS server name" },
	};
	struct reply_page p;
	struct reply_h2 o;
	size_t i;
	bool same = true;

	reply_page(&p, 421, "host does not match the TLS server name",
	    "Request refused: %s\n", "host does not match the TLS server "
	    "name");
	reply_h2_fields(&o, &p);
	for (i = 0; i < REPLY_H2_FIELDS; i++) {
		const struct h2_field *f = &o.f[i];

		if (f->namelen != strlen(want[i][0]) || f->valuelen !=
		    strlen(want[i][1]) || strcmp(f->name, want[i][0]) != 0 ||
		    memcmp(f->value, want[i][1], f->valuelen) != 0 ||
		    f->flags != 0) {
			diag("field %zu: %s: %.*s", i, f->name,
			    (int)f->valuelen, f->value);
			same = false;
		}
	}
	ok(same, "h2: the fields of the page");
	is(p.len, 57, "h2: content-length is the body's");
}

static void
test_limits(void)
{
	char big[3000];
	struct reply_page p;
	struct buf b = { 0 };

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	reply_page(&p, 502, "upstream failed", "%s\n", big);
	is(p.len, REPLY_BODY_MAX - 1, "a long body is cut");
	reply_h1(&b, &p, true);
	ok(strstr(buf_head(&b), "Content-Length: 1023\r\n") != NULL,
	    "...and framed as cut");
	buf_free(&b);
	reply_page(&p, 599, NULL, "x\n");
	reply_h1(&b, &p, false);
	ok(strncmp(buf_head(&b), "HTTP/1.1 599 Error\r\n", 20) == 0 &&
	    strstr(buf_head(&b), "X-Gateway-Reason: Error\r\n") != NULL,
	    "unknown status, no reason: the generic text");
	buf_free(&b);
	is_str(reply_status_text(408), "Request Timeout", "408's text");
	is_str(reply_status_text(431), "Request Header Fields Too Large",
	    "431's text");
}

static void
test_record(void)
{
	struct exchange x = { 0 };

	x.action = XA_MISS;
	reply_record(&x, 403, "denied by egress policy");
	ok(x.status == 403 && x.action == XA_DENIED, "403: denied");
	is_str(exchange_reason(&x), "denied by egress policy", "reason kept");
	reply_record(&x, 504, "upstream response timeout");
	ok(x.status == 504 && x.action == XA_DENIED, "an action once set "
	    "stays");
	is_str(exchange_reason(&x), "denied by egress policy",
	    "the first reason stays");
	exchange_reset(&x);
	x.action = XA_MISS;
	reply_record(&x, 502, NULL);
	ok(x.action == XA_GATEWAY && exchange_reason(&x) == NULL,
	    "502: answered by the gateway, no reason");
	exchange_reset(&x);
	exchange_deny(&x, DENY_CREDENTIAL_REFUSED);
	reply_record(&x, 403, "credential refused");
	ok(x.action == XA_DENIED && x.deny == DENY_CREDENTIAL_REFUSED,
	    "a refusal's reason stays through its page");
	is_str(deny_reason_code(x.deny), "credential_refused",
	    "...its code, for the metrics");
	is_str(deny_reason_code(DENY_EGRESS_POLICY), "egress_policy",
	    "policy's code");
	is_str(deny_reason_code(DENY_DESTINATION_REFUSED),
	    "destination_refused", "the dialled address's code");
	is_str(deny_reason_code((enum deny_reason)99), "none",
	    "out of range: none");
	exchange_reset(&x);
}

int
main(void)
{
	test_denied();
	test_credential();
	test_h2();
	test_limits();
	test_record();
	return tap_done();
}
