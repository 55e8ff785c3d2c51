/*
 * alog.h - the audit log: one line per HTTP request, per tunnel (spliced
 * or refused TLS, WebSocket), per L4 flow decision and per DNS query.
 *
 * Off the hot path: alog_write() formats the record on the caller's
 * thread into a bounded in-memory buffer and returns; a writer thread
 * appends to the file.  A caller never waits for the disk: when the buffer
 * is full the line is dropped and counted (alog_stats()), and the writer
 * reports the drop count in the diagnostic log.
 *
 * Formats (docs/configuration.md):
 *  - LOGFMT_SQUID, Squid's native access.log, field for field as Squid's
 *    built-in "squid" logformat
 *      %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt
 *    i.e. "time.ms elapsed client code/status bytes method URL - hier/peer
 *    type".  Tools that parse Squid logs read it as they are.
 *  - LOGFMT_JSON, one JSON object per line (keys listed in alog.c and in
 *    docs/configuration.md); absent values are omitted.
 *
 * Never logged: a record has no place for request or response bodies nor
 * for any header value (Authorization, Cookie, Proxy-Authorization...);
 * for an injected credential only the secret's name is recorded.  URLs are
 * logged in full unless query redaction is on (alog_set_redact_query()).
 */
#ifndef GW_ALOG_H
#define GW_ALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "slicer.h"
#include "util.h"

enum alog_kind {
	ALOG_HTTP = 0,		/* one HTTP request/response exchange */
	ALOG_TUNNEL,		/* spliced/refused TLS, WebSocket, CONNECT */
	ALOG_FLOW,		/* non-HTTP L4 flow decision (NFQUEUE) */
	ALOG_DNS,		/* one DNS query */
};

enum alog_action {
	ALOG_ALLOW = 0,		/* forwarded */
	ALOG_DENY,		/* refused by policy (403, alert, drop, RST) */
	ALOG_SPLICE,		/* TLS passed through untouched */
	ALOG_ERROR,		/* malformed request, upstream failure... */
	ALOG_REFUSED,		/* credential refused (secrets, sentinels) */
};

/* What the end of a tunnel (or of an exchange the teardown cut short)
 * did to it: Squid's result code suffixes. */
enum alog_cut {
	ALOG_CUT_NONE = 0,	/* it finished */
	ALOG_CUT_TIMEDOUT,	/* "_TIMEDOUT": a deadline ended it */
	ALOG_CUT_ABORTED,	/* "_ABORTED": an error or a stop ended it */
};

/*
 * One audit event.  Every pointer is borrowed for the duration of
 * alog_write() only and may be NULL (logged as "-" or omitted).  Strings
 * may hold any bytes: they are escaped for the chosen format.
 */
struct alog_record {
	enum alog_kind		kind;
	enum alog_action	action;
	uint64_t		time_ms;	/* wall clock at the end; 0 = now */
	uint64_t		duration_ms;
	const char		*group;
	struct addr		client;		/* guest address and port */
	const struct slicer_vm	*vm;		/* the guest's VM from Slicer
						 * (slicer.h): name, host group,
						 * tags; NULL when unknown */
	struct addr		dst;		/* original destination; family 0
						 * when unknown */
	struct addr		upstream;	/* address the gateway dialled;
						 * family 0 when none */
	const char		*sni;
	const char		*host;		/* HTTP host, name a flow was
						 * resolved from, DNS query name */
	const char		*method;	/* NULL: per kind ("CONNECT",
						 * proto, "DNS") */
	const char		*url;		/* full URL; NULL: per kind */
	const char		*proto;		/* flow: "tcp"/"udp"; DNS:
						 * "dns/udp"/"dns/tcp" */
	const char		*qtype;		/* DNS query type: "A", "HTTPS" */
	int			status;		/* HTTP status; DNS rcode; 0 none */
	uint64_t		bytes_in;	/* received from the guest */
	uint64_t		bytes_out;	/* sent to the guest */
	const char		*content_type;	/* response Content-Type */
	const char		*rule;		/* policy_verdict_label() */
	const char		*reason;	/* why: deny/error/refusal text */
	const char		*end;		/* tunnel, or an exchange cut
						 * short: how it ended, a
						 * stable code ("idle") */
	enum alog_cut		cut;		/* ...and whether that cut it */
	const char		*secret;	/* name of an injected secret */
	const char		*verify_error;	/* upstream certificate problem */
	const char		*answers;	/* DNS: upstream rcode, then the
						 * addresses: "NOERROR
						 * 198.18.0.1 2001:2::1" */
	const char		*would;		/* report mode: "deny" when the
						 * request passed but policy
						 * would have denied it */
	const char		*verdict;	/* flow: "accept" "drop" "reset";
						 * DNS: "allow" "refused"
						 * "nxdomain" "servfail"... */
};

struct alog_stats {
	uint64_t	lines;		/* accepted by alog_write() */
	uint64_t	dropped;	/* buffer full: lost */
	uint64_t	written_bytes;
	uint64_t	write_errors;
	uint64_t	reopens;
};

struct alog;

/*
 * Open the log at path ("-" = standard output) in the given format and
 * start its writer thread.  The file is created 0640 and appended to.
 * Returns NULL with a message in err on failure.  Caller owns the result
 * (alog_close()).
 */
struct alog *alog_open(const char *path, enum log_format fmt, char *err,
    size_t errlen) WUNRES NONNULL(1);

/*
 * Format rec and queue the line.  Never blocks on disk and never fails:
 * a line that does not fit in the buffer is dropped and counted.
 * Thread-safe; any number of workers may call it concurrently.
 */
void alog_write(struct alog *a, const struct alog_record *rec) NONNULL(1, 2);

/*
 * Format rec into buf (at most len bytes incl. NUL) without queuing it;
 * the line ends with '\n'.  Returns the line length.  For tests and for
 * tools that print records.  Pure; thread-safe.
 */
size_t alog_format(enum log_format fmt, bool redact_query,
    const struct alog_record *rec, char *buf, size_t len) NONNULL(3, 4);

/*
 * Strip query strings (everything after '?', the '?' kept) from logged
 * URLs, as Squid's strip_query_terms does.  Off by default.  Thread-safe.
 */
void alog_set_redact_query(struct alog *a, bool on) NONNULL(1);

/*
 * Reopen the file (logrotate, SIGUSR1): call from the main thread, not a
 * signal handler.  Lines queued before the call go to the old file or the
 * new one, none is lost.  On failure the old file stays in use.  A no-op
 * for standard output.  Returns 0 or -1 (errno set).
 */
int alog_reopen(struct alog *a) NONNULL(1);

/*
 * Wait until every line queued before the call has been written, at most
 * timeout_ms.  Returns 0, or -1 on timeout.  Thread-safe.
 */
int alog_flush(struct alog *a, uint64_t timeout_ms) NONNULL(1);

/* Counters since alog_open(); thread-safe. */
void alog_stats(struct alog *a, struct alog_stats *out) NONNULL(1, 2);

/* Flush, stop the writer, close the file and free.  NULL is a no-op. */
void alog_close(struct alog *a);

const char *alog_kind_str(enum alog_kind k);
const char *alog_action_str(enum alog_action a);

#endif
