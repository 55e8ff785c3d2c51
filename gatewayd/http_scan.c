/*
 * http_scan.c - resumable front end of the head parsers, for heads that
 * arrive a few bytes per read.
 *
 * http_parse_request/response() start from the first byte on every call,
 * so a head dripped byte by byte costs O(n^2): a 32 KiB head read one
 * byte at a time is scanned ~500 million bytes.  Here struct
 * http_head_scan remembers the first line not yet complete and how much
 * of it was checked; each call checks only the new bytes, judges each
 * line once, when its CRLF arrives, with the parser's own line functions
 * (so a bad line fails at the same byte with the same status and
 * reason), and, when the empty line has arrived, returns what the
 * one-shot parser returns for the whole buffer (it alone fills the
 * result).  Total work: about three passes over the head; a head
 * that is whole at the first call goes to the one-shot parser alone.
 *
 * The state holds offsets, never pointers: the buffer may move between
 * calls (realloc), but its bytes may only be appended to.
 */
#include "http.h"
#include "http_int.h"

#include <string.h>

#define RESP_ERR_STATUS	502

enum { SCAN_START = 0, SCAN_FIELDS };

void
http_head_scan_init(struct http_head_scan *s)
{
	memset(s, 0, sizeof(*s));
}

/* What of the unfinished line at s->pos find_line() has checked. */
static void
note_partial(struct http_head_scan *s, const char *buf, size_t len)
{
	/* A CR last is checked with the byte after it. */
	s->scanned = len - s->pos - (len > s->pos && buf[len - 1] == '\r');
}

/*
 * Judge the complete field lines from s->pos on: HTTP_NEED_MORE when the
 * head goes on, 1 when the empty line is in buf, or HTTP_ERR.
 */
static int
scan_fields(struct http_head_scan *s, const char *buf, size_t len,
    struct http_header *scratch, struct http_error *err)
{
	size_t eol;
	int r;

	for (;;) {
		r = http_find_line(buf, len, s->pos + s->scanned, &eol, err);
		if (r == HTTP_NEED_MORE)
			note_partial(s, buf, len);
		if (r != 1)
			return r;
		if (eol == s->pos)
			return 1;
		if (s->nheaders == HTTP_MAX_HEADERS) {
			err->status = 431;
			err->reason = "too many header fields";
			return HTTP_ERR;
		}
		if (http_parse_field(buf, s->pos, eol, scratch, err) != 0)
			return HTTP_ERR;
		s->nheaders++;
		s->pos = eol + 2;
		s->scanned = 0;
	}
}

/* The start line at s->pos (after any leading CRLFs, for requests). */
static int
scan_start(struct http_head_scan *s, const char *buf, size_t len,
    size_t *eol, struct http_error *err)
{
	int r;

	/* RFC 9112 2.2: empty lines before a request-line are ignored. */
	while (s->request && s->scanned == 0 && s->pos + 1 < len &&
	    buf[s->pos] == '\r' && buf[s->pos + 1] == '\n')
		s->pos += 2;
	r = http_find_line(buf, len, s->pos + s->scanned, eol, err);
	if (r == HTTP_NEED_MORE)
		note_partial(s, buf, len);
	return r;
}

static void
scan_check(struct http_head_scan *s, size_t len, bool request)
{
	/* Misuse (the buffer shrank): start again rather than trust it. */
	if (s->pos + s->scanned > len || (s->phase != SCAN_START &&
	    (bool)s->request != request))
		http_head_scan_init(s);
	s->request = request;
}

/*
 * The usual case, a whole head in the first read: nothing to resume, so
 * the one-shot parser alone, once (scanning the lines first as well cost
 * a plain HTTP request ~2% of its CPU: perf, tests/bench PROFILE=perf).
 */
static bool
whole_at_once(const struct http_head_scan *s, const char *buf, size_t len)
{
	return s->phase == SCAN_START && s->pos == 0 && s->scanned == 0 &&
	    memmem(buf, len, "\r\n\r\n", 4) != NULL;
}

ssize_t
http_scan_request(const char *buf, size_t len, struct http_head_scan *s,
    struct http_request *req, struct http_error *err)
{
	size_t eol;
	int r;

	scan_check(s, len, true);
	if (whole_at_once(s, buf, len))
		return http_parse_request(buf, len, req, err);
	http_request_reset(req, err);
	if (s->phase == SCAN_START) {
		r = scan_start(s, buf, len, &eol, err);
		if (r != 1)
			return r;
		if (http_parse_request_line(buf, s->pos, eol, req, err) != 0)
			return HTTP_ERR;
		s->phase = SCAN_FIELDS;
		s->pos = eol + 2;
		s->scanned = 0;
	}
	r = scan_fields(s, buf, len, &req->headers[0], err);
	if (r != 1)
		return r;
	return http_parse_request(buf, len, req, err);
}

ssize_t
http_scan_response(const char *buf, size_t len, struct http_head_scan *s,
    bool request_method_head, struct http_response *resp,
    struct http_error *err)
{
	size_t eol;
	int r;

	scan_check(s, len, false);
	if (whole_at_once(s, buf, len))
		return http_parse_response(buf, len, request_method_head,
		    resp, err);
	http_response_reset(resp, err);
	if (s->phase == SCAN_START) {
		r = scan_start(s, buf, len, &eol, err);
		if (r == 1 && http_parse_status_line(buf, s->pos, eol, resp,
		    err) != 0)
			return HTTP_ERR;
		if (r != 1)
			goto out;
		s->phase = SCAN_FIELDS;
		s->pos = eol + 2;
		s->scanned = 0;
	}
	r = scan_fields(s, buf, len, &resp->headers[0], err);
	if (r == 1)
		return http_parse_response(buf, len, request_method_head,
		    resp, err);
out:
	/* Every error in a response head is the gateway's 502. */
	if (r == HTTP_ERR)
		err->status = RESP_ERR_STATUS;
	return r;
}
