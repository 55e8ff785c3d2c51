/*
 * privdrop.h - run as an unprivileged user, keeping only the network
 * capabilities the gateway needs after start-up: CAP_NET_ADMIN (SO_MARK
 * on every upstream connection, IP_TRANSPARENT listeners, NFQUEUE),
 * CAP_NET_RAW and CAP_NET_BIND_SERVICE.
 *
 * Must be called before any thread exists: capabilities are per thread,
 * and threads created afterwards inherit the reduced set.
 */
#ifndef GW_PRIVDROP_H
#define GW_PRIVDROP_H

#include "util.h"

/*
 * Switch to user (name or numeric uid) and its primary group, with no
 * supplementary groups, keeping the capabilities above.  Returns 0, or -1
 * with a message in err; a failure half-way leaves the process unusable
 * and the caller must exit.
 */
int privdrop(const char *user, char *err, size_t errlen) WUNRES;

#endif
