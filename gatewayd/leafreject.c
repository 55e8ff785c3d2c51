/*
 * leafreject.c - once-per-guest-per-window bookkeeping of guests whose
 * TLS client rejected the minted leaf; see leafreject.h.  This module
 * does not log and knows nothing of connections: conn_tls.c asks it
 * whether to log and writes the line.
 */
#include "leafreject.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "util.h"

#define PROBES	8

struct slot {
	struct addr	guest;		/* family 0: free */
	uint64_t	logged_ms;	/* when its hint was last logged */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[LEAFREJECT_SLOTS];
static atomic_uint_fast64_t rejections;

static const struct {
	int		reason;
	const char	*name;
} alerts[] = {
	{ SSL_R_TLSV1_ALERT_UNKNOWN_CA,			"unknown ca" },
	{ SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,		"bad certificate" },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,	"certificate unknown" },
	{ SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE,
	    "unsupported certificate" },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,	"certificate expired" },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED,	"certificate revoked" },
	{ SSL_R_TLSV1_ALERT_DECRYPT_ERROR,		"decrypt error" },
};

const char *
leafreject_alert_name(unsigned long err)
{
	size_t i;

	if (err == 0 || ERR_GET_LIB(err) != ERR_LIB_SSL)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(alerts); i++)
		if (ERR_GET_REASON(err) == alerts[i].reason)
			return alerts[i].name;
	return NULL;
}

bool
leafreject_is_rejection(unsigned long err)
{
	return leafreject_alert_name(err) != NULL;
}

static size_t
hash_addr(const struct addr *a)
{
	size_t i, n = a->family == AF_INET ? 4 : 16;
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (i = 0; i < n; i++) {
		h ^= a->u.bytes[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h % LEAFREJECT_SLOTS);
}

bool
leafreject_note(const struct addr *guest, uint64_t now_ms,
    uint64_t window_ms)
{
	struct slot *s, *found = NULL, *spare = NULL, *oldest = NULL, *use;
	struct addr g = *guest;
	bool log = true;
	size_t i, h;

	addr_unmap(&g);
	g.port = 0;
	atomic_fetch_add(&rejections, 1);
	h = hash_addr(&g);
	pthread_mutex_lock(&mu);
	for (i = 0; i < PROBES && found == NULL; i++) {
		s = &slots[(h + i) % LEAFREJECT_SLOTS];
		if (s->guest.family != 0 && addr_equal(&s->guest, &g))
			found = s;
		else if (s->guest.family == 0 ||
		    now_ms - s->logged_ms >= window_ms)
			spare = spare != NULL ? spare : s;
		else if (oldest == NULL || s->logged_ms < oldest->logged_ms)
			oldest = s;
	}
	if (found != NULL)
		log = now_ms - found->logged_ms >= window_ms;
	use = found != NULL ? found : spare != NULL ? spare : oldest;
	if (log) {
		use->guest = g;
		use->logged_ms = now_ms;
	}
	pthread_mutex_unlock(&mu);
	return log;
}

uint64_t
leafreject_count(void)
{
	return atomic_load(&rejections);
}

void
leafreject_reset(void)
{
	pthread_mutex_lock(&mu);
	memset(slots, 0, sizeof(slots));
	pthread_mutex_unlock(&mu);
}
