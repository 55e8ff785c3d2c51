/*
 * hostname.h - host name validation and normalisation.
 *
 * Every name that arrives from a guest (SNI, Host header, absolute-form
 * authority, DNS question) goes through host_normalize() before it is
 * compared with a rule or placed in a certificate.  Pure, thread-safe.
 */
#ifndef GW_HOSTNAME_H
#define GW_HOSTNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define HOST_MAX	253

/*
 * Normalise a DNS host name of len bytes (no port): ASCII lower-case, one
 * trailing dot removed, each label 1..63 bytes of [a-z0-9-_] not starting
 * or ending with '-', total at most HOST_MAX.  IDNA A-labels ("xn--")
 * pass as they are; raw UTF-8 is refused.  IP literals are refused (use
 * host_is_ip_literal()).  out must hold HOST_MAX + 1 bytes.
 * Returns 0, or -1 if the name is not a valid host name.
 */
int host_normalize(const char *in, size_t len, char *out) WUNRES;

/* True if the text is an IPv4 or IPv6 literal (IPv6 with or without []). */
bool host_is_ip_literal(const char *in, size_t len);

/*
 * Split an authority "host[:port]" or "[v6]:port" into host and port.
 * host points into in (without brackets).  port is 0 when absent.
 * Returns 0, or -1 when malformed (empty host, bad port, junk).
 */
int host_split_authority(const char *in, size_t len, const char **host,
    size_t *hostlen, uint16_t *port) WUNRES;

/*
 * Does normalised name match the rule host pattern?  The pattern is
 * stored normalised and WITHOUT the leading dot the config writes for a
 * domain rule; suffix says it was written ".example.com" and then matches
 * "example.com" and every subdomain ("a.example.com"), never
 * "badexample.com".  Without suffix only an exact match.  A pattern that
 * still starts with '.' is taken as a suffix pattern too.
 */
bool host_match(const char *pattern, bool suffix, const char *name);

#endif
