/*
 * fuzz_secrets.c - guest-controlled bytes through secrets_apply() (header
 * scanning, Basic decoding, sentinel lookup, host/path matching) and
 * through both audit log formats.
 *
 * Input: first line is the host, second the path, the rest "Name: value"
 * header lines.  Invariants checked: an injected line is exactly the
 * configured header and value; a refusal reason never holds the sentinel
 * prefix; a Squid line has ten fields and one newline; a JSON line holds
 * no raw control byte and ends in "}\n".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "alog.h"
#include "secrets.h"

#define MAXH	16

static struct secrets *sec;
static struct sentinel_store *store;
static struct secret_config sc[2];
static struct group_config grp;

static void
init(void)
{
	char err[512], tok[SENTINEL_LEN + 1];
	struct addr a;

	setenv("FUZZ_SECRET", "real-value", 1);
	sc[0].name = "gh";
	sc[0].host = "api.github.com";
	sc[0].path_prefix = "/repos/";
	sc[0].source = SECRET_ENV;
	sc[0].source_ref = "FUZZ_SECRET";
	sc[1].name = "np";
	sc[1].host = ".npm.example";
	sc[1].header = "X-Key";
	sc[1].format = "%s";
	sc[1].source = SECRET_ENV;
	sc[1].source_ref = "FUZZ_SECRET";
	sc[1].require_sentinel = true;
	grp.name = "agents";
	grp.secrets = sc;
	grp.nsecrets = 2;
	if ((sec = secrets_load(&grp, "fuzz", err, sizeof(err))) == NULL)
		abort();
	store = sentinel_store_new(NULL, err, sizeof(err));
	if (addr_parse("10.0.0.2", &a) != 0 || store == NULL ||
	    sentinel_issue(store, "agents", &a, "gh", 3600000, tok, err,
	    sizeof(err)) != 0)
		abort();
}

static void
check_log(const char *host, const char *path)
{
	struct alog_record r;
	char buf[20000];
	size_t n, i;
	int fields = 0, in = 0;

	memset(&r, 0, sizeof(r));
	r.host = host;
	r.url = path;
	r.method = host;
	r.reason = path;
	r.sni = host;
	n = alog_format(LOGFMT_SQUID, false, &r, buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' && i != n - 1)
			abort();
		if (buf[i] == ' ' || buf[i] == '\n')
			in = 0;
		else if (!in)
			in = 1, fields++;
	}
	if (fields != 10 || buf[n - 1] != '\n')
		abort();
	n = alog_format(LOGFMT_JSON, true, &r, buf, sizeof(buf));
	for (i = 0; i < n - 1; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			abort();
	if (n < 2 || strcmp(buf + n - 2, "}\n") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header h[MAXH];
	struct secrets_result res;
	struct secrets_req rq;
	struct addr guest;
	char *in, *host, *path, *p, *nl, *c, line[512];
	size_t nh = 0;

	if (sec == NULL)
		init();
	in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	host = in;
	path = (nl = strchr(host, '\n')) ? (*nl = '\0', nl + 1) : in + size;
	p = (nl = strchr(path, '\n')) ? (*nl = '\0', nl + 1) : in + size;
	while (*p != '\0' && nh < MAXH) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		if ((c = strchr(p, ':')) != NULL) {
			h[nh].name.p = p;
			h[nh].name.len = (size_t)(c - p);
			c++;
			while (*c == ' ')
				c++;
			h[nh].value.p = c;
			h[nh].value.len = strlen(c);
			nh++;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (addr_parse(size > 0 && (data[0] & 1) ? "10.0.0.3" : "10.0.0.2",
	    &guest) != 0)
		abort();
	memset(&rq, 0, sizeof(rq));
	rq.guest = &guest;
	rq.host = host;
	rq.port = 443;
	rq.method = "GET";
	rq.method_len = 3;
	rq.path = path;
	rq.path_len = strlen(path);
	rq.headers = h;
	rq.nheaders = nh;
	rq.intercepted = size == 0 || !(data[0] & 2);
	if (secrets_apply(sec, store, &rq, line, sizeof(line), &res) == 0) {
		if (res.verdict == SECRETS_INJECT &&
		    !(res.line_len == strlen("Authorization: Bearer "
		    "real-value\r\n") && memcmp(line, "Authorization: Bearer "
		    "real-value\r\n", res.line_len) == 0) &&
		    !(res.line_len == strlen("X-Key: real-value\r\n") &&
		    memcmp(line, "X-Key: real-value\r\n", res.line_len) == 0))
			abort();
		if (res.verdict == SECRETS_REFUSE && (res.reason == NULL ||
		    strstr(res.reason, SENTINEL_PREFIX) != NULL))
			abort();
	}
	check_log(host, path);
	free(in);
	return 0;
}
