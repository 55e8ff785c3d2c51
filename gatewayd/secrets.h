/*
 * secrets.h - real credentials for one host group, and the request hook
 * that swaps what a VM sent for the real value.
 *
 * Values come from a file (regular, owned by the gateway's effective uid,
 * no group or other permission bits: anything else is refused at load)
 * or an environment variable; trailing CR/LF are trimmed and a value must
 * be printable ASCII (SP and HTAB allowed inside), at most
 * SECRETS_VALUE_MAX bytes.  Values live in mlock()ed pages marked
 * MADV_DONTDUMP and are wiped when freed or replaced.
 *
 * Life cycle: secrets_load() for each group when a config is loaded (at
 * start and on SIGHUP, before the swap: a refused file makes the new
 * config fail as a whole); secrets_refresh() from a timer (every few
 * seconds) re-reads a file whose inode, size, mtime or ctime changed, so
 * rotating a token is replacing one file; secrets_free() when the config
 * generation goes away.  A struct secrets borrows the group_config it was
 * loaded from: free it before the config.
 *
 * Thread safety: secrets_apply() may run on any number of workers at
 * once; secrets_refresh() may run concurrently with them (a rwlock
 * guards the values).  load/free are not concurrent with anything.
 */
#ifndef GW_SECRETS_H
#define GW_SECRETS_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "http.h"
#include "sentinel.h"
#include "util.h"

#define SECRETS_VALUE_MAX	8192

struct secrets;

/*
 * Load every secret of g.  cfgfile names the config file for messages
 * ("gatewayd.conf:42: secret \"github\": ...").  Returns NULL and every
 * problem, one per line, in err on failure.  Caller owns the result.
 */
struct secrets *secrets_load(const struct group_config *g,
    const char *cfgfile, char *err, size_t errlen) WUNRES NONNULL(1, 2);

/* Wipe and free; NULL is a no-op. */
void secrets_free(struct secrets *s);

/*
 * Re-read every file source whose stat signature changed.  A file that
 * became unreadable, wrongly owned or too open keeps the previous value
 * and is logged once per change.  Returns the number of values replaced,
 * or -1 if some source failed.
 */
int secrets_refresh(struct secrets *s) NONNULL(1);

/* The request as secrets_apply() needs it; everything borrowed. */
struct secrets_req {
	const struct addr	*guest;		/* source address */
	const char		*host;		/* normalised, bound to the SNI
						 * (NUL-terminated); NULL = IP */
	uint16_t		port;		/* upstream port */
	const char		*method;	/* not NUL-terminated */
	size_t			method_len;
	const char		*path;		/* origin-form path + query */
	size_t			path_len;
	const struct http_header *headers;
	size_t			nheaders;
	bool			intercepted;	/* bumped TLS; false for plain
						 * HTTP: never inject */
	char *const		*tags;		/* the guest VM's tags (Slicer);
						 * NULL = none */
	size_t			ntags;
};

enum secrets_verdict {
	SECRETS_NONE = 0,	/* forward the request as it is */
	SECRETS_INJECT,		/* drop every copy of res->header, add buf */
	SECRETS_REFUSE,		/* answer 403 "credential refused: reason" */
};

struct secrets_result {
	enum secrets_verdict	verdict;
	const char		*secret;	/* name of the matched secret
						 * (for the audit log), or NULL */
	const char		*header;	/* INJECT: header name to remove
						 * in all its copies */
	size_t			line_len;	/* INJECT: bytes written to buf */
	bool			via_sentinel;	/* INJECT: a valid sentinel */
	const char		*reason;	/* REFUSE: static text naming no
						 * value; NONE: why, or NULL */
	const char		*detail;	/* REFUSE for an ambiguous path:
						 * what is ambiguous (static) */
};

/*
 * Decide for one request, after policy allowed it; call it for every
 * request of a connection.  s may be NULL (a group with no secrets),
 * sentinels may be NULL (none issued: every sentinel is unknown).
 *
 * A secret matches when the host is exactly its host (or a subdomain when
 * configured as ".x"; never for an IP literal), the port, the method,
 * the VM's tags (every tag of the secret) and the path prefix all match; the first match in config order is used.
 * The prefix is compared with urlpath_normalize()'s canonical path: when
 * the first secret that matches on host, port and method has a prefix
 * and the path has no single reading (dot or empty segments, ';', '\\',
 * %00, broken escapes, %2F where the prefix has '/'; see urlpath.h), the
 * request is refused ("ambiguous path ...", res->detail says what).  Every header value (and the decoded credentials of "Basic") is
 * scanned for sentinels: a sentinel is accepted only in the matched
 * secret's header, on an intercepted connection, valid for this group,
 * guest and secret; any other sentinel refuses the request.  With no
 * valid sentinel, a require_sentinel secret gives NONE; any other matched
 * secret is injected whatever the VM sent (a placeholder or nothing).
 *
 * INJECT writes "Header: <format with the value>\r\n" into buf (not
 * NUL-terminated): the caller copies it into the upstream request, drops
 * every header named res->header, never logs buf, and wipes buf with
 * util_wipe() after use.  Returns 0, or -1 when the line does not fit in
 * buflen (nothing usable in buf; answer 500).  No allocation.
 */
int secrets_apply(struct secrets *s, struct sentinel_store *sentinels,
    const struct secrets_req *req, char *buf, size_t buflen,
    struct secrets_result *res) NONNULL(3, 4, 6);

/* Number of secrets loaded. */
size_t secrets_count(const struct secrets *s);

#endif
