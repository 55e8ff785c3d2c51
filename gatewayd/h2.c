/*
 * h2.c - a bounded nghttp2 session.  See h2.h.
 *
 * Who enforces what (nghttp2 1.52.0-1+deb12u3, checked in its header):
 *
 *   RFC 9113 section 8 (pseudo-headers, connection-specific fields, TE
 *   other than "trailers", upper-case names, content-length against the
 *   DATA sum)              nghttp2's HTTP messaging checks (left on): the
 *                          stream is reset with PROTOCOL_ERROR
 *   CONTINUATION count     nghttp2_option_set_max_continuations (the
 *                          CVE-2024-28182 backport): fatal past 8
 *   concurrent streams     SETTINGS_MAX_CONCURRENT_STREAMS, refused by
 *                          nghttp2 (REFUSED_STREAM) past it
 *   rapid reset            nghttp2_option_set_stream_reset_rate_limit
 *                          (the CVE-2023-44487 backport), tightened
 *   SETTINGS entries       nghttp2_option_set_max_settings
 *   queued ACKs            nghttp2_option_set_max_outbound_ack
 *   header list size       here: every field is counted as it is decoded
 *                          (an HPACK bomb is cut off, never stored)
 *   SETTINGS/PING/PRIORITY/empty-DATA floods, and streams the peer made
 *   us reset ("MadeYouReset", CVE-2025-8671, not in 1.52)
 *                          here: one token bucket on the caller's clock
 *
 * Crossing a limit of ours ends the session with a GOAWAY this module
 * writes itself: nghttp2's state after a callback failure is not to be
 * used again, so nothing else is asked of it.
 */
#include "h2.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define H2_MAGIC	0x68326832u	/* "h2h2" */
/* Decoding continues past the limit (the block must be read to keep
 * HPACK in step) only this far; then the connection ends. */
#define H2_BOMB_FACTOR	8

const unsigned char h2_alpn_wire[] = "\x02h2\x08http/1.1";
const size_t h2_alpn_wire_len = sizeof(h2_alpn_wire) - 1;

struct h2 {
	unsigned		magic;
	enum h2_role		role;
	nghttp2_session		*s;
	const struct h2_cbs	*cbs;
	void			*arg;
	size_t			max_header_bytes;
	uint64_t		now;
	/* the header block being received */
	char			*scratch;	/* max_header_bytes + 2/field */
	size_t			scratch_len, scratch_cap;
	struct h2_field		fields[H2_MAX_FIELDS];
	size_t			nfields;
	size_t			list_bytes;
	bool			too_large, has_method, has_status;
	bool			status_1xx;
	/* the control-frame token bucket, in thousandths of a token */
	uint64_t		ctrl_tokens, ctrl_last;
	/* a fatal end decided here: GOAWAY code, written once */
	bool			fatal, goaway_written;
	uint32_t		fatal_code;
	char			err[120];
};

static void
set_fatal(struct h2 *h, uint32_t code, const char *why)
{
	if (h->fatal)
		return;
	h->fatal = true;
	h->fatal_code = code;
	util_strlcpy(h->err, why, sizeof(h->err));
}

/* One frame that cost work and carried no request.  false: flood. */
static bool
ctrl_take(struct h2 *h)
{
	uint64_t cap = (uint64_t)H2_CTRL_BURST * 1000;

	if (h->now > h->ctrl_last) {
		h->ctrl_tokens += (h->now - h->ctrl_last) * H2_CTRL_RATE;
		if (h->ctrl_tokens > cap)
			h->ctrl_tokens = cap;
	}
	h->ctrl_last = h->now;
	if (h->ctrl_tokens < 1000)
		return false;
	h->ctrl_tokens -= 1000;
	return true;
}

static int
flood(struct h2 *h, const char *what)
{
	set_fatal(h, H2_ENHANCE_YOUR_CALM, what);
	return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int
on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
	struct h2 *h = ud;

	h->scratch_len = 0;
	h->nfields = 0;
	h->list_bytes = 0;
	h->too_large = h->has_method = h->has_status = h->status_1xx = false;
	return 0;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *ud)
{
	struct h2 *h = ud;
	struct h2_field *f;

	if (namelen == 7 && memcmp(name, ":method", 7) == 0)
		h->has_method = true;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		h->has_status = true;
		h->status_1xx = valuelen == 3 && value[0] == '1';
	}
	/* RFC 9113 section 6.5.2: name + value + 32 per field. */
	h->list_bytes += namelen + valuelen + 32;
	if (h->list_bytes > h->max_header_bytes * H2_BOMB_FACTOR)
		return flood(h, "header list far over the limit");
	if (h->too_large)
		return 0;
	if (h->list_bytes > h->max_header_bytes ||
	    h->nfields == H2_MAX_FIELDS ||
	    h->scratch_len + namelen + valuelen + 2 > h->scratch_cap) {
		h->too_large = true;
		h->nfields = 0;
		return 0;
	}
	f = &h->fields[h->nfields++];
	f->name = h->scratch + h->scratch_len;
	memcpy(h->scratch + h->scratch_len, name, namelen);
	h->scratch_len += namelen;
	h->scratch[h->scratch_len++] = '\0';
	f->namelen = namelen;
	f->value = h->scratch + h->scratch_len;
	memcpy(h->scratch + h->scratch_len, value, valuelen);
	h->scratch_len += valuelen;
	h->scratch[h->scratch_len++] = '\0';
	f->valuelen = valuelen;
	f->flags = 0;
	return 0;
}

static void
deliver_block(struct h2 *h, const nghttp2_frame *frame)
{
	struct h2_block b = { 0 };
	uint32_t code;

	if (h->has_method)
		b.kind = H2_BLOCK_REQUEST;
	else if (h->has_status)
		b.kind = h->status_1xx ? H2_BLOCK_INFO : H2_BLOCK_RESPONSE;
	else
		b.kind = H2_BLOCK_TRAILERS;
	b.f = h->fields;
	b.n = h->too_large ? 0 : h->nfields;
	b.too_large = h->too_large;
	b.list_bytes = h->list_bytes;
	b.end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
	code = h->cbs->on_block(h->arg, frame->hd.stream_id, &b);
	if (code != 0)
		(void)nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE,
		    frame->hd.stream_id, code);
	/* the values are gone after the callback */
	util_wipe(h->scratch, h->scratch_len);
	h->scratch_len = 0;
	h->nfields = 0;
}

static int
on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
	struct h2 *h = ud;
	bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		deliver_block(h, frame);
		break;
	case NGHTTP2_DATA:
		if (end)
			(void)h->cbs->on_data(h->arg, frame->hd.stream_id,
			    NULL, 0, true);
		else if (frame->hd.length == 0 && !ctrl_take(h))
			return flood(h, "empty DATA frame flood");
		break;
	case NGHTTP2_SETTINGS:
		if (!(frame->hd.flags & NGHTTP2_FLAG_ACK) && !ctrl_take(h))
			return flood(h, "SETTINGS flood");
		break;
	case NGHTTP2_PING:
		if (!(frame->hd.flags & NGHTTP2_FLAG_ACK) && !ctrl_take(h))
			return flood(h, "PING flood");
		break;
	case NGHTTP2_PRIORITY:
		if (!ctrl_take(h))
			return flood(h, "PRIORITY flood");
		break;
	case NGHTTP2_GOAWAY:
		if (frame->goaway.error_code != NGHTTP2_NO_ERROR)
			snprintf(h->err, sizeof(h->err), "peer sent GOAWAY "
			    "%s", nghttp2_http2_strerror(
			    frame->goaway.error_code));
		break;
	default:
		break;
	}
	return 0;
}

static int
on_invalid_frame(nghttp2_session *s, const nghttp2_frame *frame,
    int lib_error_code, void *ud)
{
	struct h2 *h = ud;

	/* Each one makes nghttp2 reset a stream or answer: the peer must
	 * not be able to have us do that without bound (MadeYouReset). */
	if (!ctrl_take(h))
		return flood(h, "invalid frame flood");
	return 0;
}

static int
on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t sid,
    const uint8_t *data, size_t len, void *ud)
{
	struct h2 *h = ud;

	if (!h->cbs->on_data(h->arg, sid, data, len, false))
		(void)nghttp2_session_consume(s, sid, len);
	return 0;
}

static int
on_stream_close(nghttp2_session *s, int32_t sid, uint32_t code, void *ud)
{
	struct h2 *h = ud;

	h->cbs->on_close(h->arg, sid, code);
	return 0;
}

static void
headers_gone(struct h2 *h, const nghttp2_frame *frame)
{
	if (frame->hd.type == NGHTTP2_HEADERS &&
	    h->cbs->on_headers_sent != NULL)
		h->cbs->on_headers_sent(h->arg, frame->hd.stream_id);
}

static int
on_frame_send(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
	struct h2 *h = ud;

	headers_gone(h, frame);
	if (frame->hd.type == NGHTTP2_GOAWAY &&
	    frame->goaway.error_code != NGHTTP2_NO_ERROR && h->err[0] == '\0')
		snprintf(h->err, sizeof(h->err), "sent GOAWAY %s",
		    nghttp2_http2_strerror(frame->goaway.error_code));
	return 0;
}

static int
on_frame_not_send(nghttp2_session *s, const nghttp2_frame *frame,
    int lib_error_code, void *ud)
{
	headers_gone(ud, frame);
	return 0;
}

static ssize_t
read_cb(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len,
    uint32_t *data_flags, nghttp2_data_source *src, void *ud)
{
	struct h2 *h = ud;
	enum h2_eof eof = H2_MORE;
	ssize_t n = h->cbs->read_body(h->arg, sid, buf, len, &eof);

	if (n == H2_DEFER)
		return NGHTTP2_ERR_DEFERRED;
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (eof != H2_MORE)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	if (eof == H2_END_TRAILERS)
		*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	return n;
}

static nghttp2_session_callbacks *
make_callbacks(void)
{
	nghttp2_session_callbacks *cb;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		WRONG("nghttp2 callbacks: out of memory");
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    on_frame_recv);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb,
	    on_invalid_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb,
	    on_frame_send);
	nghttp2_session_callbacks_set_on_frame_not_send_callback(cb,
	    on_frame_not_send);
	return cb;
}

static nghttp2_option *
make_options(enum h2_role role)
{
	nghttp2_option *opt;

	if (nghttp2_option_new(&opt) != 0)
		WRONG("nghttp2 options: out of memory");
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_max_continuations(opt, H2_MAX_CONTINUATIONS);
	nghttp2_option_set_max_settings(opt, 16);
	nghttp2_option_set_max_outbound_ack(opt, 100);
	nghttp2_option_set_no_closed_streams(opt, 1);
	if (role == H2_SERVER) {
		nghttp2_option_set_stream_reset_rate_limit(opt, H2_RST_BURST,
		    H2_RST_RATE);
	} else {
		/* before the server's SETTINGS: never more than we allow */
		nghttp2_option_set_peer_max_concurrent_streams(opt,
		    H2_MAX_STREAMS);
		nghttp2_option_set_max_reserved_remote_streams(opt, 0);
	}
	return opt;
}

struct h2 *
h2_new(enum h2_role role, const struct h2_limits *lim,
    const struct h2_cbs *cbs, void *arg)
{
	struct h2 *h = xcalloc(1, sizeof(*h));
	nghttp2_session_callbacks *cb = make_callbacks();
	nghttp2_option *opt = make_options(role);
	nghttp2_settings_entry set[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
		    (uint32_t)lim->max_header_bytes },
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
		/* last: a server must not send it (RFC 9113 6.5.2) */
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};
	int r;

	h->magic = H2_MAGIC;
	h->role = role;
	h->cbs = cbs;
	h->arg = arg;
	h->max_header_bytes = lim->max_header_bytes;
	h->scratch_cap = lim->max_header_bytes + 2 * H2_MAX_FIELDS;
	h->scratch = xmalloc(h->scratch_cap);
	h->ctrl_tokens = (uint64_t)H2_CTRL_BURST * 1000;
	r = role == H2_SERVER ? nghttp2_session_server_new2(&h->s, cb, h, opt) :
	    nghttp2_session_client_new2(&h->s, cb, h, opt);
	nghttp2_session_callbacks_del(cb);
	nghttp2_option_del(opt);
	if (r != 0)
		WRONG("nghttp2 session: out of memory");
	/* No SETTINGS_ENABLE_CONNECT_PROTOCOL: WebSocket over h2 (RFC 8441)
	 * is not offered, so clients use HTTP/1.1 for it. */
	if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, set,
	    ARRAY_SIZE(set) - (role == H2_SERVER ? 1 : 0)) != 0 ||
	    nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0,
	    H2_CONN_WINDOW) != 0)
		WRONG("nghttp2 settings");
	return h;
}

void
h2_free(struct h2 *h)
{
	if (h == NULL)
		return;
	AN(h->magic == H2_MAGIC);
	nghttp2_session_del(h->s);
	util_wipe(h->scratch, h->scratch_cap);
	free(h->scratch);
	h->magic = 0;
	free(h);
}

int
h2_recv(struct h2 *h, uint64_t now, const uint8_t *p, size_t n)
{
	ssize_t r;

	if (h->fatal)
		return -1;
	h->now = now;
	if (h->ctrl_last == 0)
		h->ctrl_last = now;
	r = nghttp2_session_mem_recv(h->s, p, n);
	if (r >= 0 && !h->fatal)
		return 0;
	switch (r) {
	case NGHTTP2_ERR_FLOODED:
	case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
		set_fatal(h, H2_ENHANCE_YOUR_CALM, nghttp2_strerror((int)r));
		break;
	case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
		set_fatal(h, H2_PROTOCOL_ERROR, "not an HTTP/2 connection "
		    "preface");
		break;
	default:
		set_fatal(h, H2_PROTOCOL_ERROR, r < 0 ?
		    nghttp2_strerror((int)r) : "callback failure");
		break;
	}
	return -1;
}

void
h2_goaway_frame(struct buf *out, uint32_t last, uint32_t code,
    const char *debug)
{
	size_t dl = debug != NULL ? strlen(debug) : 0;
	uint8_t f[17] = { (uint8_t)((8 + dl) >> 16), (uint8_t)((8 + dl) >> 8),
	    (uint8_t)(8 + dl), NGHTTP2_GOAWAY, 0, 0, 0, 0, 0 };
	int i;

	for (i = 0; i < 4; i++) {
		f[9 + i] = (uint8_t)(last >> (24 - 8 * i)) & (i ? 0xff : 0x7f);
		f[13 + i] = (uint8_t)(code >> (24 - 8 * i));
	}
	buf_append(out, f, sizeof(f));
	if (dl > 0)
		buf_append(out, debug, dl);
}

/* nghttp2 may not be used after a fatal error: our own GOAWAY. */
static void
write_goaway(struct h2 *h, struct buf *out)
{
	h2_goaway_frame(out, (uint32_t)nghttp2_session_get_last_proc_stream_id(
	    h->s), h->fatal_code, NULL);
	h->goaway_written = true;
}

bool
h2_is_preface(const char *p, size_t len)
{
	static const char pri[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	return len >= 14 && memcmp(p, pri, MIN(len, sizeof(pri) - 1)) == 0;
}

int
h2_send(struct h2 *h, struct buf *out)
{
	if (h->fatal) {
		if (!h->goaway_written)
			write_goaway(h, out);
		return 0;
	}
	while (buf_len(out) < H2_OUT_HIGH) {
		const uint8_t *p;
		ssize_t n = nghttp2_session_mem_send(h->s, &p);

		if (n < 0) {
			set_fatal(h, H2_INTERNAL_ERROR, nghttp2_strerror(
			    (int)n));
			write_goaway(h, out);
			return -1;
		}
		if (n == 0)
			break;
		buf_append(out, p, (size_t)n);
	}
	return 0;
}

bool
h2_want_write(const struct h2 *h)
{
	if (h->fatal)
		return !h->goaway_written;
	return nghttp2_session_want_write(h->s) != 0;
}

bool
h2_done(const struct h2 *h)
{
	if (h->fatal)
		return h->goaway_written;
	return nghttp2_session_want_read(h->s) == 0 &&
	    nghttp2_session_want_write(h->s) == 0;
}

const char *
h2_error(const struct h2 *h)
{
	return h->err[0] != '\0' ? h->err : NULL;
}

static size_t
to_nv(nghttp2_nv *nv, const struct h2_field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		nv[i].name = (uint8_t *)(uintptr_t)f[i].name;
		nv[i].namelen = f[i].namelen;
		nv[i].value = (uint8_t *)(uintptr_t)f[i].value;
		nv[i].valuelen = f[i].valuelen;
		nv[i].flags = NGHTTP2_NV_FLAG_NONE;
		if (f[i].flags & H2_F_NO_INDEX)
			nv[i].flags = NGHTTP2_NV_FLAG_NO_INDEX |
			    NGHTTP2_NV_FLAG_NO_COPY_VALUE;
	}
	return n;
}

int32_t
h2_submit_request(struct h2 *h, const struct h2_field *f, size_t n,
    bool has_body)
{
	nghttp2_nv nv[H2_MAX_FIELDS + 8];
	nghttp2_data_provider prd = { .read_callback = read_cb };
	int32_t sid;

	if (h->fatal || n > ARRAY_SIZE(nv))
		return -1;
	sid = nghttp2_submit_request(h->s, NULL, nv, to_nv(nv, f, n),
	    has_body ? &prd : NULL, NULL);
	return sid < 0 ? -1 : sid;
}

int
h2_submit_response(struct h2 *h, int32_t sid, const struct h2_field *f,
    size_t n, bool has_body)
{
	nghttp2_nv nv[H2_MAX_FIELDS + 8];
	nghttp2_data_provider prd = { .read_callback = read_cb };

	if (h->fatal || n > ARRAY_SIZE(nv))
		return -1;
	return nghttp2_submit_response(h->s, sid, nv, to_nv(nv, f, n),
	    has_body ? &prd : NULL) == 0 ? 0 : -1;
}

static int
submit_headers(struct h2 *h, int32_t sid, const struct h2_field *f,
    size_t n, bool end)
{
	nghttp2_nv nv[H2_MAX_FIELDS + 8];

	if (h->fatal || n > ARRAY_SIZE(nv))
		return -1;
	return nghttp2_submit_headers(h->s, end ? NGHTTP2_FLAG_END_STREAM :
	    NGHTTP2_FLAG_NONE, sid, NULL, nv, to_nv(nv, f, n), NULL) == 0 ?
	    0 : -1;
}

int
h2_submit_info(struct h2 *h, int32_t sid, const struct h2_field *f,
    size_t n)
{
	return submit_headers(h, sid, f, n, false);
}

int
h2_submit_trailers(struct h2 *h, int32_t sid, const struct h2_field *f,
    size_t n)
{
	return submit_headers(h, sid, f, n, true);
}

void
h2_resume(struct h2 *h, int32_t sid)
{
	if (!h->fatal)
		(void)nghttp2_session_resume_data(h->s, sid);
}

void
h2_consume(struct h2 *h, int32_t sid, size_t n)
{
	if (h->fatal || n == 0)
		return;
	/* A stream already gone still holds connection window. */
	if (nghttp2_session_consume(h->s, sid, n) != 0)
		(void)nghttp2_session_consume_connection(h->s, n);
}

void
h2_reset(struct h2 *h, int32_t sid, uint32_t code)
{
	if (!h->fatal)
		(void)nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, sid,
		    code);
}

void
h2_goaway(struct h2 *h, uint32_t code)
{
	if (h->fatal)
		return;
	(void)nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(h->s), code, NULL, 0);
}

bool
h2_upgrade_is_h2c(const char *p, size_t len)
{
	size_t i = 0, start;

	while (i < len) {
		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		start = i;
		while (i < len && p[i] != ',' && p[i] != ' ' && p[i] != '\t')
			i++;
		if (i - start == 3 && util_ascii_caseeq(p + start, "h2c", 3))
			return true;
	}
	return false;
}
