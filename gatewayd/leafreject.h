/*
 * leafreject.h - guests whose TLS client rejects the leaf gatewayd minted
 * for them: the usual cause is a guest that does not trust the group CA
 * (a runtime with its own store; docs/guests.md).  The hint is logged
 * once per guest address per window, so that a retrying client does not
 * flood the log, and every rejection is counted for the metrics.
 *
 * Bounded: a fixed table of LEAFREJECT_SLOTS addresses; when every slot
 * in a probe run holds a guest still inside its window, the oldest one is
 * forgotten (that guest may be logged again early; nothing grows).
 * Thread-safe (one mutex, held for a few probes).  The clock is passed
 * in, so tests drive the window without sleeping.
 */
#ifndef GW_LEAFREJECT_H
#define GW_LEAFREJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define LEAFREJECT_SLOTS	4096
#define LEAFREJECT_WINDOW_MS	(10 * 60 * 1000)

/*
 * Does the OpenSSL error err (ERR_peek_error() after a failed guest
 * handshake) say that the client refused our certificate?  True for the
 * alerts a client sends when it cannot verify a chain: unknown_ca,
 * bad_certificate, certificate_unknown, unsupported_certificate,
 * certificate_expired, certificate_revoked, decrypt_error.  Pure.
 */
bool leafreject_is_rejection(unsigned long err);

/* The alert's name ("unknown ca"), or NULL when not such an alert. */
const char *leafreject_alert_name(unsigned long err);

/*
 * Count one rejection by guest at now_ms (a monotonic clock) and say
 * whether to log it: true for the first one of this guest in window_ms.
 */
bool leafreject_note(const struct addr *guest, uint64_t now_ms,
    uint64_t window_ms);

/* Rejections counted since start (the metrics' counter). */
uint64_t leafreject_count(void);

/* Forget every guest (tests). */
void leafreject_reset(void);

#endif
