/*
 * slicer_int.h - between slicer.c (map, publication, one poll) and
 * slicer_http.c (URL, token, the blocking HTTP client, the thread).
 * Not for other modules.
 */
#ifndef GW_SLICER_INT_H
#define GW_SLICER_INT_H

#include "slicer.h"

#define SLICER_TIMEOUT_MS	5000	/* one poll, at most */
#define TOKEN_MAX		4096	/* the bearer token */

/*
 * GET u->path + what over a fresh connection to u (HTTP/1.1, Connection:
 * close, "Authorization: Bearer token" unless token is NULL), the whole
 * exchange bounded by timeout_ms and SLICER_MAX_BODY.  On a 200 the body
 * (de-chunked) is in *body (malloc'd, NUL-terminated, caller frees) and
 * 0 is returned; else -1 with the reason in err.  Blocking: poller only.
 */
int slicer_http_get(const struct slicer_url *u, const char *what,
    const char *token, uint64_t timeout_ms, char **body, size_t *len,
    char *err, size_t errlen);

#endif
