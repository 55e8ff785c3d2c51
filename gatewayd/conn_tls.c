/*
 * conn_tls.c - HTTPS capture before any HTTP: read the ClientHello with
 * MSG_PEEK (nothing is consumed, so a spliced flow gets the guest's
 * bytes untouched), decide splice / bump / refuse on the SNI, and run the
 * guest-side handshake with a leaf minted for that SNI.
 */
#include "conn_tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <sys/socket.h>

#include "ca.h"
#include "conn_h2.h"
#include "leafcache.h"
#include "leafreject.h"
#include "log.h"
#include "runtime.h"
#include "slicer.h"
#include "sockbio.h"
#include "tls.h"
#include "worker.h"

/* A ClientHello of up to PEEK_MAX_HELLO bytes in a few records. */
#define PEEK_BUF	(PEEK_MAX_HELLO + 5 * 8)

/*
 * A fatal handshake_failure alert, sent when a flow must be refused and
 * cannot be bumped to say so in HTTP (no usable CA).
 */
static const char tls_alert_handshake_failure[] = {
	0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28,
};

void
conn_tls_refuse(struct conn *c, enum conn_end why)
{
	(void)!send(c->client.io.fd, tls_alert_handshake_failure,
	    sizeof(tls_alert_handshake_failure), MSG_NOSIGNAL);
	conn_close(c, why);
}

/* Mint the leaf and set up the guest-side TLS (in CONN_TLS_ACCEPT). */
static enum step
start_bump(struct conn *c)
{
	struct gw *gw = c->worker->gw;
	struct leafcache_guest who = { &c->src, loop_now(c->worker->loop),
	    c->rt->cfg->limits.leaf_mints_per_guest, false };
	char err[200];
	SSL *ssl;
	BIO *bio;

	if (c->grp->ca == NULL) {
		conn_log(c, LOG_LVL_WARN, "group %s cannot intercept: %s",
		    c->grp->cfg->name, c->grp->ca_err);
		conn_tls_refuse(c, CONN_END_NO_CA);
		return STEP_CLOSED;
	}
	c->leaf = leafcache_get_for(gw->leaves, c->grp->ca,
	    c->has_sni ? c->sni : NULL, &c->dst, &who, err, sizeof(err));
	if (c->leaf == NULL && who.rate_limited) {
		/* A guest minting names by the hundred: refused without a
		 * leaf, and without a log line per attempt. */
		conn_log(c, LOG_LVL_DEBUG, "sni %s: %s "
		    "(limits.leaf_mints_per_guest)", c->has_sni ? c->sni : "-",
		    err);
		conn_tls_refuse(c, CONN_END_LEAF_RATE);
		return STEP_CLOSED;
	}
	if (c->leaf == NULL) {
		conn_log(c, LOG_LVL_WARN, "cannot mint a leaf for %s: %s",
		    c->has_sni ? c->sni : "(ip)", err);
		conn_tls_refuse(c, CONN_END_LEAF);
		return STEP_CLOSED;
	}
	ssl = SSL_new(c->grp->server_ctx);
	bio = sockbio_new(c->client.io.fd, &c->client.rd_ready,
	    &c->client.wr_ready);
	if (ssl == NULL || bio == NULL || SSL_use_cert_and_key(ssl,
	    leaf_cert(c->leaf), leaf_key(c->leaf), NULL, 1) != 1) {
		log_ssl_errors("guest TLS set-up");
		BIO_free(bio);
		SSL_free(ssl);
		conn_close(c, CONN_END_TLS_SETUP);
		return STEP_CLOSED;
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_read_ahead(ssl, 1);
	SSL_set_accept_state(ssl);
	c->client.ssl = ssl;
	c->bumped = true;
	stats_inc(c->worker->stats, ST_CONN_BUMPED);
	conn_set_state(c, CONN_TLS_ACCEPT);
	return STEP_PROGRESS;
}

static enum step
decide(struct conn *c, const struct client_hello *ch)
{
	struct policy_query q = { 0 };
	const struct group_config *g = c->grp->cfg;

	char sni[HOST_MAX + 1];

	c->has_sni = false;
	/* An IP literal in SNI (not allowed by RFC 6066) counts as none. */
	if (ch->has_sni && !host_is_ip_literal(ch->sni, ch->sni_len)) {
		if (ch->sni_invalid || host_normalize(ch->sni, ch->sni_len,
		    sni) != 0) {
			/* Nothing odd ever reaches a certificate. */
			conn_tls_refuse(c, CONN_END_BAD_SNI);
			return STEP_CLOSED;
		}
		c->sni = xstrdup(sni);	/* freed with c */
		c->has_sni = true;
	}
	/* A name is judged by name rules, an address by CIDR rules. */
	q.host = c->has_sni ? c->sni : NULL;
	q.dst = c->has_sni ? NULL : &c->dst;
	q.port = c->dst.port;
	conn_vm_query(c, &q);
	policy_decide(&g->policy, &q, &c->conn_verdict);
	switch (c->conn_verdict.action) {
	case POLICY_SPLICE:
		c->spliced = true;
		stats_inc(c->worker->stats, ST_CONN_SPLICED);
		upstream_start(&c->upstream, UP_SPLICE, c->has_sni ? c->sni : NULL,
		    c->dst.port);
		conn_set_state(c, CONN_WAIT_UP);
		c->deadline = 0;	/* up_deadline bounds the wait */
		return STEP_PROGRESS;
	case POLICY_DENY:
		if (c->grp->ca == NULL) {
			conn_tls_refuse(c, CONN_END_DENIED);
			return STEP_CLOSED;
		}
		/* Bump so the guest reads a 403 it can reason about, in h2
		 * if it offered h2 (a gRPC client reads nothing else). */
		c->alpn_h2 = ch->alpn_h2;
		return start_bump(c);
	default:
		/*
		 * Dial and verify the real server while the guest's handshake
		 * and first request are on their way: the first request then
		 * rarely waits for the upstream.  Nothing is sent before that
		 * request passed policy.
		 */
		if (c->grp->ca != NULL) {
			/* ALPN mirroring: offer upstream what the guest did */
			c->alpn_h2 = ch->alpn_h2;
			c->alpn_http11 = ch->alpn_http11;
			c->upstream.alpn_h2 = ch->alpn_h2;
			c->upstream.alpn_http11 = ch->alpn_http11;
			upstream_start(&c->upstream, UP_HTTPS, c->has_sni ?
			    c->sni : NULL, c->dst.port);
		}
		/*
		 * A guest offering h2 gets no ServerHello before the upstream
		 * handshake is done: its leaf is needed only then, so it is
		 * minted once the dial is out (conn_tls_accept), in the
		 * shadow of the connect and TLS round trips, instead of
		 * holding up the dial of a name still being resolved.
		 */
		if (c->alpn_h2 && c->upstream.phase == UPH_RESOLVE) {
			conn_set_state(c, CONN_TLS_ACCEPT);
			return STEP_PROGRESS;
		}
		return start_bump(c);
	}
}

enum step
conn_tls_peek(struct conn *c)
{
	struct client_hello ch;
	const char *why = NULL;
	size_t needed = 0;
	ssize_t n;

	if (ep_in_prepare(&c->client, PEEK_BUF) < PEEK_BUF)
		WRONG("peek buffer");
	n = recv(c->client.io.fd, buf_tail(&c->client.in), PEEK_BUF, MSG_PEEK);
	if (n == 0) {
		conn_close(c, CONN_END_CLOSED_BEFORE_HELLO);
		return STEP_CLOSED;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return STEP_BLOCKED;
		conn_close(c, CONN_END_SOCKET_BEFORE_HELLO);
		return STEP_CLOSED;
	}
	switch (peek_client_hello((const uint8_t *)buf_tail(&c->client.in),
	    (size_t)n, &ch, &needed, &why)) {
	case PEEK_NEED_MORE:
		if ((size_t)n >= PEEK_BUF) {
			conn_tls_refuse(c, CONN_END_HELLO_TOO_LARGE);
			return STEP_CLOSED;
		}
		/* More segments will raise a new edge. */
		return STEP_BLOCKED;
	case PEEK_NOT_TLS:
		conn_close(c, CONN_END_NOT_TLS);
		return STEP_CLOSED;
	case PEEK_ERR:
		conn_log(c, LOG_LVL_DEBUG, "bad ClientHello: %s",
		    why ? why : "?");
		conn_tls_refuse(c, CONN_END_BAD_HELLO);
		return STEP_CLOSED;
	case PEEK_OK:
		break;
	}
	buf_clear(&c->client.in);	/* peeked, not consumed */
	ep_in_release(&c->client);
	return decide(c, &ch);
}

/* The client refused our leaf: one hint per guest per window (leafreject.h). */
static void
conn_tls_rejected(struct conn *c, const char *alert)
{
	char ip[ADDR_STRLEN];

	stats_inc_leaf_rejected(c->worker->stats, c->grp->cfg->name);
	if (!leafreject_note(&c->src, util_now_ms(), LEAFREJECT_WINDOW_MS)) {
		conn_log(c, LOG_LVL_DEBUG, "guest rejected the leaf (alert %s)",
		    alert);
		return;
	}
	conn_log(c, LOG_LVL_WARN, "guest TLS handshake failed: guest %s%s%s "
	    "rejected the leaf for %s (alert %s): guest does not trust the "
	    "group CA; see docs/guests.md (logged once per guest per 10 min)",
	    addr_ntop(&c->src, ip, sizeof(ip)), c->vm ? " vm " : "",
	    c->vm ? c->vm->name : "", c->has_sni ? c->sni : "(no SNI)", alert);
}

enum step
conn_tls_accept(struct conn *c)
{
	int r, err;

	if (c->client.ssl == NULL) {
		/* the leaf waits for the dial (decide()) */
		if (c->upstream.phase == UPH_RESOLVE)
			return STEP_BLOCKED;
		if (start_bump(c) != STEP_PROGRESS)
			return STEP_CLOSED;
	}
	if (c->alpn_h2) {
		/* The guest offered h2: it gets it only if the upstream chose
		 * it, so its ServerHello waits for the upstream handshake
		 * (bounded by connect_timeout; a failure answers http/1.1). */
		enum up_phase ph = c->upstream.phase;

		if (ph == UPH_RESOLVE || ph == UPH_CONNECT || ph == UPH_TLS)
			return STEP_BLOCKED;
		if ((ph == UPH_READY && conn_h2_selected(c->up.ssl)) ||
		    (ph == UPH_IDLE &&
		    c->conn_verdict.action == POLICY_DENY))
			tls_guest_allow_h2(c->client.ssl);
		c->alpn_h2 = false;	/* decided */
	}
	ERR_clear_error();
	r = SSL_do_handshake(c->client.ssl);
	if (r == 1) {
		/* The leaf is referenced by the SSL now. */
		leaf_unref(c->leaf);
		c->leaf = NULL;
		if (conn_h2_selected(c->client.ssl)) {
			conn_h2_start(c);
			return STEP_PROGRESS;
		}
		conn_set_state(c, CONN_REQ_HEAD);
		conn_set_timeout(c, c->rt->cfg->limits.header_timeout_ms);
		return STEP_PROGRESS;
	}
	err = SSL_get_error(c->client.ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return STEP_BLOCKED;
	stats_inc(c->worker->stats, ST_GUEST_TLS_FAILED);
	{
		char why[200], msg[300];
		const char *alert = leafreject_alert_name(ERR_peek_error());

		log_ssl_errstr(why, sizeof(why));
		snprintf(msg, sizeof(msg), "guest TLS handshake failed "
		    "(does the guest trust the group CA?): %s", why);
		exchange_set_reason(&c->x, msg);
		if (alert == NULL)
			conn_log(c, LOG_LVL_INFO, "sni %s: %s",
			    c->has_sni ? c->sni : "-", msg);
		else
			conn_tls_rejected(c, alert);
	}
	conn_close(c, CONN_END_HANDSHAKE);
	return STEP_CLOSED;
}
