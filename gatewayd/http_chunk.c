/*
 * http_chunk.c - incremental scanner of a chunked message body
 * (RFC 9112 section 7.1).
 *
 * What it is: a byte-at-a-time state machine (with a fast path over
 * chunk data) that tells the caller how many of the bytes it holds belong
 * to the body and whether the body ended among them, so that the body can
 * be streamed as it is and the next pipelined message starts exactly
 * after the last CRLF.  All state fits in struct http_chunk_state; the
 * bytes can arrive split anywhere.
 *
 * What it is not: a decoder.  Data is never copied or de-chunked, and
 * chunk extensions and trailer fields are checked for syntax and size
 * only.
 *
 * Strictness: chunk-size is 1..16 hex digits and at most 2^60; only SP
 * or HTAB directly followed (after more of them) by ';' may come between
 * the size and an extension (BWS); the size line including extensions is
 * at most HTTP_CHUNK_MAX_LINE bytes of field-value bytes; CR must be
 * followed by LF and a bare LF is an error everywhere; the trailer
 * section is field lines (no obs-fold, no whitespace before the colon)
 * of at most HTTP_CHUNK_MAX_TRAILER bytes in all.
 */
#include "http.h"

#define HTTP_CHUNK_MAX_DIGITS	16
#define HTTP_CHUNK_MAX_SIZE	(UINT64_C(1) << 60)
#define HTTP_CHUNK_MAX_LINE	4096
#define HTTP_CHUNK_MAX_TRAILER	16384

enum chunk_state {
	CS_SIZE = 0,		/* chunk-size digits */
	CS_SIZE_WS,		/* BWS after the size: only ';' may follow */
	CS_EXT,			/* chunk-ext, up to CR */
	CS_SIZE_LF,		/* CR seen after the size line */
	CS_DATA,		/* remaining data bytes */
	CS_DATA_CR,		/* CR after the data */
	CS_DATA_LF,		/* LF after the data */
	CS_TR_START,		/* start of a trailer line (or the end) */
	CS_TR_NAME,		/* trailer field name */
	CS_TR_VALUE,		/* trailer field value, up to CR */
	CS_TR_LF,		/* CR seen after a trailer field */
	CS_END_LF,		/* CR of the final empty line seen */
	CS_DONE,
	CS_ERROR,
};

void
http_chunk_init(struct http_chunk_state *s)
{
	s->state = CS_SIZE;
	s->remaining = 0;
	s->line_len = 0;
	s->trailer_bytes = 0;
}

/* One byte of the size line.  Returns NULL or an error reason. */
static const char *
size_line_byte(struct http_chunk_state *s, unsigned char c)
{
	int h;

	if (++s->line_len > HTTP_CHUNK_MAX_LINE)
		return "chunk size line too long";
	switch (s->state) {
	case CS_SIZE:
		h = util_hexval(c);
		if (h >= 0) {
			if (s->line_len > HTTP_CHUNK_MAX_DIGITS)
				return "chunk size too long";
			s->remaining = s->remaining * 16 + (uint64_t)h;
			if (s->remaining > HTTP_CHUNK_MAX_SIZE)
				return "chunk size too large";
			return NULL;
		}
		if (s->line_len == 1)
			return "chunk size is not hex";
		if (c == '\r')
			s->state = CS_SIZE_LF;
		else if (c == ';')
			s->state = CS_EXT;
		else if (c == ' ' || c == '\t')
			s->state = CS_SIZE_WS;
		else
			return "bad byte after chunk size";
		return NULL;
	case CS_SIZE_WS:
		if (c == ';')
			s->state = CS_EXT;
		else if (c != ' ' && c != '\t')
			return "whitespace after chunk size";
		return NULL;
	case CS_EXT:
		if (c == '\r')
			s->state = CS_SIZE_LF;
		else if (!http_is_field_byte(c))
			return "bad byte in chunk extension";
		return NULL;
	case CS_SIZE_LF:
	default:
		if (c != '\n')
			return "bare CR in chunk size line";
		s->line_len = 0;
		s->state = s->remaining > 0 ? CS_DATA : CS_TR_START;
		return NULL;
	}
}

/* One byte of the trailer section.  Returns NULL or an error reason. */
static const char *
trailer_byte(struct http_chunk_state *s, unsigned char c)
{
	if (++s->trailer_bytes > HTTP_CHUNK_MAX_TRAILER)
		return "trailer section too large";
	switch (s->state) {
	case CS_TR_START:
		if (c == '\r')
			s->state = CS_END_LF;
		else if (http_is_tchar(c))
			s->state = CS_TR_NAME;
		else
			return "bad trailer field line";
		return NULL;
	case CS_TR_NAME:
		if (c == ':')
			s->state = CS_TR_VALUE;
		else if (!http_is_tchar(c))
			return "bad trailer field name";
		return NULL;
	case CS_TR_VALUE:
		if (c == '\r')
			s->state = CS_TR_LF;
		else if (!http_is_field_byte(c))
			return "bad byte in trailer field";
		return NULL;
	case CS_TR_LF:
		if (c != '\n')
			return "bare CR in trailer";
		s->state = CS_TR_START;
		return NULL;
	case CS_END_LF:
	default:
		if (c != '\n')
			return "bare CR after last chunk";
		s->state = CS_DONE;
		return NULL;
	}
}

int
http_chunk_scan(struct http_chunk_state *s, const char *buf, size_t len,
    size_t *consumed, struct http_error *err)
{
	const char *reason = NULL;
	size_t i = 0, n;
	int ret = HTTP_NEED_MORE;

	while (i < len && s->state != CS_DONE && s->state != CS_ERROR) {
		unsigned char c = (unsigned char)buf[i];

		switch (s->state) {
		case CS_DATA:
			n = len - i;
			if ((uint64_t)n > s->remaining)
				n = (size_t)s->remaining;
			s->remaining -= n;
			i += n;
			if (s->remaining == 0)
				s->state = CS_DATA_CR;
			continue;
		case CS_DATA_CR:
			if (c != '\r')
				reason = "no CRLF after chunk data";
			s->state = CS_DATA_LF;
			break;
		case CS_DATA_LF:
			if (c != '\n')
				reason = "no CRLF after chunk data";
			s->state = CS_SIZE;
			break;
		case CS_SIZE:
		case CS_SIZE_WS:
		case CS_EXT:
		case CS_SIZE_LF:
			reason = size_line_byte(s, c);
			break;
		default:
			reason = trailer_byte(s, c);
			break;
		}
		if (reason != NULL) {
			s->state = CS_ERROR;
			break;
		}
		i++;
	}
	*consumed = i;
	if (s->state == CS_DONE) {
		ret = HTTP_CHUNK_DONE;
	} else if (s->state == CS_ERROR) {
		err->status = 400;
		err->reason = reason != NULL ? reason : "chunked body error";
		ret = HTTP_ERR;
	}
	return ret;
}

int
http_chunk_data(struct http_chunk_state *s, const char *buf, size_t len,
    size_t *consumed, size_t *data, struct http_error *err)
{
	size_t i = 0, n;
	int r;

	*data = 0;
	/* Framing a byte at a time: it is a few bytes a chunk, and the
	 * scanner then never runs into the data. */
	while (i < len && s->state != CS_DATA) {
		r = http_chunk_scan(s, buf + i, 1, &n, err);
		i += n;
		if (r != HTTP_NEED_MORE) {
			*consumed = i;
			return r;
		}
	}
	if (i < len) {
		n = len - i;
		if ((uint64_t)n > s->remaining)
			n = (size_t)s->remaining;
		s->remaining -= n;
		if (s->remaining == 0)
			s->state = CS_DATA_CR;
		*data = n;
		i += n;
	}
	*consumed = i;
	return HTTP_NEED_MORE;
}
