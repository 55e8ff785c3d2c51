/*
 * metrics.c - render a metrics snapshot (Prometheus text exposition
 * format 0.0.4, and the `gatewayd stats` lines) and parse a scraper's
 * request.  Pure functions: no I/O, no clock, no shared state.  Every
 * metric is documented in docs/metrics.md; a name added here goes there.
 */
#include "metrics.h"

#include <stdio.h>

#include "http.h"

enum mtype { MT_COUNTER = 0, MT_GAUGE };

/*
 * Unlabelled values and values with a fixed label, read from the
 * snapshot by offset.  Rows of one name are consecutive: HELP and TYPE
 * are written once per name.
 */
struct mrow {
	const char	*name;
	enum mtype	type;
	const char	*labels;	/* fixed 'k="v"', or NULL */
	size_t		off;		/* of a uint64_t in the snapshot */
	const char	*help;
};

#define F(field)	offsetof(struct metrics_snapshot, field)
#define C(i)		F(st.counter[i])
#define E(i)		F(st.event[i])

static const struct mrow rows[] = {
	{ "gatewayd_connections_total", MT_COUNTER, NULL,
	    C(ST_CONN_ACCEPTED), "Guest connections accepted." },
	{ "gatewayd_connections_refused_total", MT_COUNTER, "reason=\"limit\"",
	    C(ST_CONN_REFUSED_LIMIT), "Guest connections refused at accept." },
	{ "gatewayd_connections_refused_total", MT_COUNTER, "reason=\"loop\"",
	    C(ST_CONN_REFUSED_LOOP), NULL },
	{ "gatewayd_connections_open", MT_GAUGE, NULL, F(conns_open),
	    "Guest connections open now." },
	{ "gatewayd_tls_connections_total", MT_COUNTER, "mode=\"bump\"",
	    C(ST_CONN_BUMPED), "TLS connections by handling." },
	{ "gatewayd_tls_connections_total", MT_COUNTER, "mode=\"splice\"",
	    C(ST_CONN_SPLICED), NULL },
	{ "gatewayd_guest_tls_failures_total", MT_COUNTER, NULL,
	    C(ST_GUEST_TLS_FAILED), "Guest TLS handshakes that failed." },
	{ "gatewayd_upstream_failures_total", MT_COUNTER, NULL,
	    C(ST_UPSTREAM_FAILED),
	    "Requests answered 502/504: upstream unreachable or failed." },
	{ "gatewayd_bad_requests_total", MT_COUNTER, NULL,
	    C(ST_BAD_REQUESTS), "Request heads refused as malformed." },
	{ "gatewayd_resolver_lookups_total", MT_COUNTER, "result=\"cached\"",
	    C(ST_RESOLVE_CACHED), "Upstream name lookups by outcome." },
	{ "gatewayd_resolver_lookups_total", MT_COUNTER, "result=\"queued\"",
	    C(ST_RESOLVE_QUEUED), NULL },
	{ "gatewayd_resolver_lookups_total", MT_COUNTER,
	    "result=\"over_quota\"", C(ST_RESOLVE_OVER_QUOTA), NULL },
	{ "gatewayd_leaf_cache_hits_total", MT_COUNTER, NULL, F(leaf.hits),
	    "Leaf certificates served from the cache." },
	{ "gatewayd_leaf_cache_misses_total", MT_COUNTER, NULL,
	    F(leaf.misses), "Leaf lookups that had to mint." },
	{ "gatewayd_leaf_mints_total", MT_COUNTER, NULL, F(leaf.mints),
	    "Leaf certificates minted." },
	{ "gatewayd_leaf_mint_failures_total", MT_COUNTER, NULL,
	    F(leaf.mint_failures), "Leaf mints that failed." },
	{ "gatewayd_leaf_cache_evictions_total", MT_COUNTER, NULL,
	    F(leaf.evictions), "Leaves dropped by LRU or purge." },
	{ "gatewayd_leaf_cache_entries", MT_GAUGE, NULL, F(leaf_entries),
	    "Leaves cached now." },
	{ "gatewayd_audit_lines_total", MT_COUNTER, NULL, F(audit.lines),
	    "Audit lines queued for writing." },
	{ "gatewayd_audit_dropped_total", MT_COUNTER, NULL, F(audit.dropped),
	    "Audit lines lost: the buffer was full." },
	{ "gatewayd_audit_write_errors_total", MT_COUNTER, NULL,
	    F(audit.write_errors), "Audit log writes that failed." },
	{ "gatewayd_dns_queries_total", MT_COUNTER, NULL, F(dns.queries),
	    "Guest DNS queries received by the DNS proxy." },
	{ "gatewayd_dns_verdicts_total", MT_COUNTER, "verdict=\"allow\"",
	    F(dns.allowed), "DNS proxy answers by verdict." },
	{ "gatewayd_dns_verdicts_total", MT_COUNTER, "verdict=\"refused\"",
	    F(dns.refused), NULL },
	{ "gatewayd_dns_verdicts_total", MT_COUNTER, "verdict=\"malformed\"",
	    F(dns.malformed), NULL },
	{ "gatewayd_dns_verdicts_total", MT_COUNTER, "verdict=\"servfail\"",
	    F(dns.servfail), NULL },
	{ "gatewayd_dns_verdicts_total", MT_COUNTER, "verdict=\"over_quota\"",
	    F(dns.over_quota), NULL },
	{ "gatewayd_dns_stripped_total", MT_COUNTER, NULL, F(dns.stripped),
	    "DNS answers rewritten (HTTPS/SVCB records removed)." },
	{ "gatewayd_nfqueue_packets_total", MT_COUNTER, NULL, F(nfq.packets),
	    "Packets decided on the NFQUEUE." },
	{ "gatewayd_nfqueue_verdicts_total", MT_COUNTER, "verdict=\"accept\"",
	    F(nfq.accepted), "NFQUEUE verdicts." },
	{ "gatewayd_nfqueue_verdicts_total", MT_COUNTER, "verdict=\"drop\"",
	    F(nfq_drop_only), NULL },
	{ "gatewayd_nfqueue_verdicts_total", MT_COUNTER, "verdict=\"reset\"",
	    F(nfq.reset), NULL },
	{ "gatewayd_nfqueue_unparsed_total", MT_COUNTER, NULL,
	    F(nfq.unparsed), "NFQUEUE packets dropped as malformed." },
	{ "gatewayd_nfqueue_nogroup_total", MT_COUNTER, NULL, F(nfq.nogroup),
	    "NFQUEUE packets dropped: no group matched." },
	{ "gatewayd_nfqueue_overruns_total", MT_COUNTER, NULL,
	    F(nfq.overruns), "NFQUEUE socket overruns (ENOBUFS)." },
	{ "gatewayd_reloads_total", MT_COUNTER, "result=\"applied\"",
	    E(SE_RELOAD_APPLIED), "Configuration reloads by result." },
	{ "gatewayd_reloads_total", MT_COUNTER, "result=\"refused\"",
	    E(SE_RELOAD_REFUSED), NULL },
	{ "gatewayd_slicer_polls_total", MT_COUNTER, "result=\"failed\"",
	    F(slicer_failures), "Polls of Slicer's GET /nodes by result." },
	{ "gatewayd_slicer_polls_total", MT_COUNTER, "result=\"published\"",
	    F(slicer_refreshes), NULL },
	{ "gatewayd_metrics_series_overflow_total", MT_COUNTER, NULL,
	    C(ST_SERIES_OVERFLOW),
	    "Labelled events not counted: a shard's series table was full." },
};

/* Labelled families, in enum stats_family order. */
static const struct {
	const char	*name;
	const char	*label[STATS_LABELS];	/* NULL: unused */
	const char	*help;
} families[SF__COUNT] = {
	[SF_REQUESTS] = { "gatewayd_requests_total",
	    { "group", "decision", "status" },
	    "Audited requests and tunnels by group, decision, status class." },
	[SF_DENIALS] = { "gatewayd_denials_total",
	    { "group", "reason", "rule" },
	    "Refused requests and flows by reason code and deciding rule." },
	[SF_VERIFY_FAILURES] = { "gatewayd_upstream_verify_failures_total",
	    { "group", "reason", NULL },
	    "Upstream TLS certificates that failed verification." },
	[SF_SECRETS] = { "gatewayd_secrets_injected_total",
	    { "group", "secret", "via" },
	    "Credentials injected into requests, by secret name and by what "
	    "the guest sent (placeholder or sentinel)." },
	[SF_LEAF_REJECTED] = { "gatewayd_guest_leaf_rejected_total",
	    { "group", NULL, NULL },
	    "Guest TLS clients that refused the minted leaf certificate." },
};

static const struct {
	const char	*name;
	const char	*help;
} hists[SH__COUNT] = {
	[SH_REQUEST] = { "gatewayd_request_duration_seconds",
	    "From the request head to the end of the exchange." },
	[SH_UP_CONNECT] = { "gatewayd_upstream_connect_seconds",
	    "Upstream TCP connect time." },
	[SH_UP_TLS] = { "gatewayd_upstream_tls_seconds",
	    "Upstream TLS handshake and verification time." },
	[SH_TTFB] = { "gatewayd_time_to_first_byte_seconds",
	    "From the request head to the first byte of the response." },
};

static void
header(struct buf *out, const char *name, const char *type,
    const char *help)
{
	buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* Label value escaping of the text format: \\, \" and \n. */
static void
append_escaped(struct buf *out, const char *v)
{
	const char *p;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			buf_appendf(out, "\\%c", *p);
		else if (*p == '\n')
			buf_appends(out, "\\n");
		else
			buf_append(out, p, 1);
	}
}

static void
render_rows(const struct metrics_snapshot *s, struct buf *out)
{
	const char *prev = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct mrow *r = &rows[i];
		uint64_t v;

		memcpy(&v, (const char *)s + r->off, sizeof(v));
		if (strcmp(prev, r->name) != 0)
			header(out, r->name, r->type == MT_COUNTER ?
			    "counter" : "gauge", r->help);
		prev = r->name;
		buf_appendf(out, "%s%s%s%s %llu\n", r->name,
		    r->labels ? "{" : "", r->labels ? r->labels : "",
		    r->labels ? "}" : "", (unsigned long long)v);
	}
}

static void
render_series(const struct metrics_snapshot *s, struct buf *out)
{
	size_t f, i, j;

	for (f = 0; f < SF__COUNT; f++) {
		header(out, families[f].name, "counter", families[f].help);
		for (i = 0; i < s->st.nseries; i++) {
			const struct stats_series *e = &s->st.series[i];

			if (e->family != f)
				continue;
			buf_appendf(out, "%s{", families[f].name);
			for (j = 0; j < STATS_LABELS &&
			    families[f].label[j] != NULL; j++) {
				buf_appendf(out, "%s%s=\"", j ? "," : "",
				    families[f].label[j]);
				append_escaped(out, e->label[j]);
				buf_appends(out, "\"");
			}
			buf_appendf(out, "} %llu\n",
			    (unsigned long long)e->value);
		}
	}
}

static void
render_hist(struct buf *out, const char *name, const char *help,
    const struct stats_hist *h)
{
	uint64_t cum = 0;
	size_t i;

	header(out, name, "histogram", help);
	for (i = 0; i < STATS_BUCKETS; i++) {
		cum += h->bucket[i];
		buf_appendf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
		    (double)stats_bucket_us[i] / 1e6, (unsigned long long)cum);
	}
	cum += h->bucket[STATS_BUCKETS];
	/* _count is the +Inf bucket, so the two always agree. */
	buf_appendf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
	    "%s_count %llu\n", name, (unsigned long long)cum, name,
	    (double)h->sum_us / 1e6, name, (unsigned long long)cum);
}

void
metrics_render(const struct metrics_snapshot *s, struct buf *out)
{
	size_t i;

	header(out, "gatewayd_build_info", "gauge",
	    "The running gatewayd's version.");
	buf_appends(out, "gatewayd_build_info{version=\"");
	append_escaped(out, s->version ? s->version : "unknown");
	buf_appends(out, "\"} 1\n");
	header(out, "gatewayd_config_info", "gauge",
	    "SHA-256 of the configuration file in effect.");
	buf_appendf(out, "gatewayd_config_info{hash=\"%s\"} 1\n",
	    s->config_hash);
	render_rows(s, out);
	render_series(s, out);
	for (i = 0; i < SH__COUNT; i++)
		render_hist(out, hists[i].name, hists[i].help, &s->st.hist[i]);
	render_hist(out, "gatewayd_leaf_mint_seconds",
	    "Time to mint one leaf certificate.", &s->leaf.mint_hist);
}

/* The names `gatewayd stats` has always printed, then the rest. */
size_t
metrics_render_stats(const struct metrics_snapshot *s, char *buf,
    size_t len)
{
	const uint64_t *c = s->st.counter;
	int n;

	n = snprintf(buf, len,
	    "connections_open %llu\naccepted %llu\nrefused_limit %llu\n"
	    "refused_loop %llu\nrequests %llu\ndenied %llu\nspliced %llu\n"
	    "bumped %llu\nguest_tls_failed %llu\nguest_leaf_rejected %llu\n"
	    "upstream_verify_failed %llu\nupstream_failed %llu\n"
	    "bad_requests %llu\nsecrets_injected %llu\nleaf_hits %llu\n"
	    "leaf_misses %llu\nleaf_mints %llu\nleaf_cached %llu\n"
	    "audit_lines %llu\naudit_dropped %llu\nreloads_applied %llu\n"
	    "reloads_refused %llu\n"
	    "nfq_packets %llu\nnfq_accepted %llu\nnfq_dropped %llu\n"
	    "nfq_reset %llu\nnfq_unparsed %llu\nnfq_nogroup %llu\n"
	    "nfq_batches %llu\nnfq_overruns %llu\n"
	    "dns_queries %llu\ndns_allowed %llu\ndns_refused %llu\n"
	    "dns_malformed %llu\ndns_servfail %llu\ndns_stripped %llu\n"
	    "dns_over_quota %llu\n",
	    (unsigned long long)s->conns_open,
	    (unsigned long long)c[ST_CONN_ACCEPTED],
	    (unsigned long long)c[ST_CONN_REFUSED_LIMIT],
	    (unsigned long long)c[ST_CONN_REFUSED_LOOP],
	    (unsigned long long)stats_snapshot_sum(&s->st, SF_REQUESTS, NULL),
	    (unsigned long long)stats_snapshot_sum(&s->st, SF_DENIALS, NULL),
	    (unsigned long long)c[ST_CONN_SPLICED],
	    (unsigned long long)c[ST_CONN_BUMPED],
	    (unsigned long long)c[ST_GUEST_TLS_FAILED],
	    (unsigned long long)stats_snapshot_sum(&s->st, SF_LEAF_REJECTED,
	    NULL),
	    (unsigned long long)stats_snapshot_sum(&s->st,
	    SF_VERIFY_FAILURES, NULL),
	    (unsigned long long)c[ST_UPSTREAM_FAILED],
	    (unsigned long long)c[ST_BAD_REQUESTS],
	    (unsigned long long)stats_snapshot_sum(&s->st, SF_SECRETS, NULL),
	    (unsigned long long)s->leaf.hits,
	    (unsigned long long)s->leaf.misses,
	    (unsigned long long)s->leaf.mints,
	    (unsigned long long)s->leaf_entries,
	    (unsigned long long)s->audit.lines,
	    (unsigned long long)s->audit.dropped,
	    (unsigned long long)s->st.event[SE_RELOAD_APPLIED],
	    (unsigned long long)s->st.event[SE_RELOAD_REFUSED],
	    (unsigned long long)s->nfq.packets,
	    (unsigned long long)s->nfq.accepted,
	    (unsigned long long)s->nfq.dropped,
	    (unsigned long long)s->nfq.reset,
	    (unsigned long long)s->nfq.unparsed,
	    (unsigned long long)s->nfq.nogroup,
	    (unsigned long long)s->nfq.batches,
	    (unsigned long long)s->nfq.overruns,
	    (unsigned long long)s->dns.queries,
	    (unsigned long long)s->dns.allowed,
	    (unsigned long long)s->dns.refused,
	    (unsigned long long)s->dns.malformed,
	    (unsigned long long)s->dns.servfail,
	    (unsigned long long)s->dns.stripped,
	    (unsigned long long)s->dns.over_quota);
	if (n < 0 || len == 0)
		return 0;
	return MIN((size_t)n, len - 1);
}

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Length of the head including its blank line, or 0 if not complete. */
static size_t
head_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The verdict on a complete head of end bytes. */
static enum metrics_req
request_line(const char *buf, size_t end)
{
	static const char path[] = "/metrics";
	size_t i, m, t0, t;

	/* request-line = method SP request-target SP HTTP-version CRLF */
	for (m = 0; m < end && is_tchar((unsigned char)buf[m]); m++)
		;
	if (m == 0 || buf[m] != ' ')
		return MREQ_BAD;
	t0 = m + 1;
	for (t = t0; t < end && buf[t] > ' ' && buf[t] < 0x7f; t++)
		;
	if (t == t0 || buf[t] != ' ' || t + 9 > end ||
	    memcmp(buf + t + 1, "HTTP/1.", 7) != 0 ||
	    (buf[t + 8] != '0' && buf[t + 8] != '1'))
		return MREQ_BAD;
	i = t + 9;
	if (buf[i] == '\r')
		i++;
	if (buf[i] != '\n')
		return MREQ_BAD;
	if (m != 3 || memcmp(buf, "GET", 3) != 0)
		return MREQ_BAD_METHOD;
	if (t - t0 >= sizeof(path) - 1 &&
	    memcmp(buf + t0, path, sizeof(path) - 1) == 0 &&
	    (t - t0 == sizeof(path) - 1 || buf[t0 + sizeof(path) - 1] == '?'))
		return MREQ_METRICS;
	return MREQ_NOT_FOUND;
}

/* May the connection carry another request after this head's answer? */
static void
judge_keep_alive(const char *buf, size_t end, struct metrics_head *h)
{
	struct http_request req;
	struct http_error err;

	h->keep_alive = http_parse_request(buf, end, &req, &err) ==
	    (ssize_t)end && req.keep_alive && req.body == HTTP_BODY_NONE;
}

enum metrics_req
metrics_parse_request(const char *buf, size_t len, struct metrics_head *h)
{
	enum metrics_req r;
	size_t end;

	memset(h, 0, sizeof(*h));
	end = head_end(buf, MIN(len, (size_t)METRICS_REQ_MAX));
	if (end == 0)
		return len >= METRICS_REQ_MAX ? MREQ_BAD : MREQ_NEED_MORE;
	h->len = end;
	r = request_line(buf, end);
	/* not after another method: a HEAD's answer would carry a body */
	if (r == MREQ_METRICS || r == MREQ_NOT_FOUND)
		judge_keep_alive(buf, end, h);
	return r;
}

void
metrics_response_head(enum metrics_req r, size_t bodylen, bool keep,
    struct buf *out)
{
	static const char *const status[] = {
		[MREQ_NEED_MORE] = "400 Bad Request",
		[MREQ_METRICS] = "200 OK",
		[MREQ_NOT_FOUND] = "404 Not Found",
		[MREQ_BAD_METHOD] = "405 Method Not Allowed",
		[MREQ_BAD] = "400 Bad Request",
	};

	buf_appendf(out, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sCache-Control: no-store\r\n"
	    "Connection: %s\r\n\r\n", status[r],
	    r == MREQ_METRICS ? "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8", bodylen,
	    r == MREQ_BAD_METHOD ? "Allow: GET\r\n" : "",
	    keep ? "keep-alive" : "close");
}
