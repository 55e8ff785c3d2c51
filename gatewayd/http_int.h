/*
 * http_int.h - the line-level pieces of the head parser (http.c), shared
 * with its resumable front end (http_scan.c) so that both judge every
 * line with the same code.  Not for other modules.
 */
#ifndef GW_HTTP_INT_H
#define GW_HTTP_INT_H

#include "http.h"

/*
 * The line starting at pos: 1 with *eol at its CR, HTTP_NEED_MORE, or
 * HTTP_ERR (bare CR or LF, a control byte).  Checks the bytes from pos
 * on, so it may resume in the middle of a line whose start it checked.
 */
int http_find_line(const char *buf, size_t len, size_t pos, size_t *eol,
    struct http_error *err);
/* Field line [s, e) into *h; 0 or HTTP_ERR. */
int http_parse_field(const char *buf, size_t s, size_t e,
    struct http_header *h, struct http_error *err);
/* Request-line [s, e) into req; 0 or HTTP_ERR. */
int http_parse_request_line(const char *buf, size_t s, size_t e,
    struct http_request *req, struct http_error *err);
/* Status-line [s, e) into resp; 0 or HTTP_ERR (status 502). */
int http_parse_status_line(const char *buf, size_t s, size_t e,
    struct http_response *resp, struct http_error *err);
/* The empty results the parsers start from. */
void http_request_reset(struct http_request *req, struct http_error *err);
void http_response_reset(struct http_response *resp, struct http_error *err);

#endif
