/*
 * peek.c - TLS ClientHello parser over bytes peeked from a connection.
 *
 * What it is: a pure function from the first bytes a client sent to the
 * facts policy needs before any TLS is spoken: SNI, ALPN, TLS 1.3 support
 * and ECH presence.  It walks the record layer (RFC 8446 section 5.1),
 * copies the handshake fragments into a bounded stack buffer so that a
 * ClientHello split over several records is parsed as one message
 * (RFC 8446 section 4.1.2), then the extensions: server_name (RFC 6066
 * section 3), ALPN (RFC 7301 section 3.1), supported_versions (RFC 8446
 * section 4.2.1) and encrypted_client_hello.  GREASE values (RFC 8701)
 * are skipped.  Every length is checked against its container.
 *
 * What it is not: a TLS implementation.  It does not look at cipher
 * suites or key shares, does not validate the SNI as a host name (the
 * caller must, see hostname.h) and consumes nothing: the caller peeked
 * the bytes and hands them on untouched (splice) or to OpenSSL (bump).
 */
#include "peek.h"

#include <string.h>

#define REC_HEADER		5
#define REC_MAX			16384	/* 2^14, RFC 8446 5.1 */
#define HS_HEADER		4
#define HS_CLIENT_HELLO		1
#define CT_HANDSHAKE		22

#define EXT_SERVER_NAME		0
#define EXT_ALPN		16
#define EXT_SUPPORTED_VERSIONS	43
#define EXT_ECH			0xfe0d

#define SNI_HOST_NAME		0

/* A bounded reader over a byte range. */
struct rd {
	const uint8_t	*p;
	size_t		 len;
};

static bool
rd_u8(struct rd *r, unsigned *v)
{
	if (r->len < 1)
		return false;
	*v = r->p[0];
	r->p++;
	r->len--;
	return true;
}

static bool
rd_u16(struct rd *r, unsigned *v)
{
	if (r->len < 2)
		return false;
	*v = (unsigned)r->p[0] << 8 | r->p[1];
	r->p += 2;
	r->len -= 2;
	return true;
}

static bool
rd_skip(struct rd *r, size_t n)
{
	if (r->len < n)
		return false;
	r->p += n;
	r->len -= n;
	return true;
}

/* Split off a sub-reader of n bytes. */
static bool
rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	sub->p = r->p;
	sub->len = n;
	return rd_skip(r, n);
}

/* A vector prefixed by a 1- or 2-byte length (TLS "opaque x<a..b>"). */
static bool
rd_vec(struct rd *r, int lenbytes, struct rd *sub)
{
	unsigned n;

	if (!(lenbytes == 1 ? rd_u8(r, &n) : rd_u16(r, &n)))
		return false;
	return rd_sub(r, n, sub);
}

/* server_name extension (RFC 6066 section 3). */
static enum peek_result
parse_sni(struct rd ext, struct client_hello *out, const char **err)
{
	struct rd list, name;
	unsigned type;

	if (!rd_vec(&ext, 2, &list) || ext.len != 0 || list.len == 0)
		goto bad;
	while (list.len > 0) {
		if (!rd_u8(&list, &type) || !rd_vec(&list, 2, &name) ||
		    name.len == 0)
			goto bad;
		if (type != SNI_HOST_NAME)
			continue;
		if (out->has_sni) {
			*err = "several host_name entries in SNI";
			return PEEK_ERR;
		}
		out->has_sni = true;
		if (name.len >= sizeof(out->sni) ||
		    memchr(name.p, '\0', name.len) != NULL) {
			out->sni_invalid = true;
			continue;
		}
		memcpy(out->sni, name.p, name.len);
		out->sni[name.len] = '\0';
		out->sni_len = name.len;
	}
	return PEEK_OK;
bad:
	*err = "malformed server_name extension";
	return PEEK_ERR;
}

/* application_layer_protocol_negotiation (RFC 7301 section 3.1). */
static enum peek_result
parse_alpn(struct rd ext, struct client_hello *out, const char **err)
{
	struct rd list, proto;

	if (!rd_vec(&ext, 2, &list) || ext.len != 0 || list.len == 0)
		goto bad;
	while (list.len > 0) {
		if (!rd_vec(&list, 1, &proto) || proto.len == 0)
			goto bad;
		if (proto.len == 2 && proto.p[0] == proto.p[1] &&
		    (proto.p[0] & 0x0f) == 0x0a)
			continue;	/* GREASE, RFC 8701 section 2 */
		out->alpn_count++;
		if (proto.len == 2 && memcmp(proto.p, "h2", 2) == 0)
			out->alpn_h2 = true;
		else if (proto.len == 8 && memcmp(proto.p, "http/1.1", 8) == 0)
			out->alpn_http11 = true;
	}
	return PEEK_OK;
bad:
	*err = "malformed ALPN extension";
	return PEEK_ERR;
}

/* supported_versions in a ClientHello (RFC 8446 section 4.2.1). */
static enum peek_result
parse_versions(struct rd ext, struct client_hello *out, const char **err)
{
	struct rd list;
	unsigned v;

	if (!rd_vec(&ext, 1, &list) || ext.len != 0 || list.len < 2 ||
	    list.len % 2 != 0) {
		*err = "malformed supported_versions extension";
		return PEEK_ERR;
	}
	while (rd_u16(&list, &v))
		if (v == 0x0304)
			out->supports_tls13 = true;
	return PEEK_OK;
}

static enum peek_result
parse_extensions(struct rd exts, struct client_hello *out, const char **err)
{
	struct rd data;
	unsigned type;
	enum peek_result r = PEEK_OK;
	unsigned seen = 0, bit;

	while (exts.len > 0 && r == PEEK_OK) {
		if (!rd_u16(&exts, &type) || !rd_vec(&exts, 2, &data)) {
			*err = "truncated extension";
			return PEEK_ERR;
		}
		switch (type) {
		case EXT_SERVER_NAME:
			bit = 1;
			break;
		case EXT_ALPN:
			bit = 2;
			break;
		case EXT_SUPPORTED_VERSIONS:
			bit = 4;
			break;
		case EXT_ECH:
			bit = 8;
			break;
		default:
			continue;	/* GREASE (RFC 8701) and the rest */
		}
		/* RFC 8446 4.2: at most one extension of each type. */
		if (seen & bit) {
			*err = "duplicate extension";
			return PEEK_ERR;
		}
		seen |= bit;
		if (type == EXT_SERVER_NAME)
			r = parse_sni(data, out, err);
		else if (type == EXT_ALPN)
			r = parse_alpn(data, out, err);
		else if (type == EXT_SUPPORTED_VERSIONS)
			r = parse_versions(data, out, err);
		else
			out->has_ech = true;
	}
	return r;
}

/* The ClientHello body (RFC 8446 section 4.1.2, RFC 5246 7.4.1.2). */
static enum peek_result
parse_hello(const uint8_t *p, size_t len, struct client_hello *out,
    const char **err)
{
	struct rd r = { p, len }, v;
	unsigned ver;

	if (!rd_u16(&r, &ver) || ver < 0x0301 || ver > 0x0304) {
		*err = "bad ClientHello version";
		return PEEK_ERR;
	}
	out->legacy_version = (uint16_t)ver;
	if (!rd_skip(&r, 32) || !rd_vec(&r, 1, &v) || v.len > 32) {
		*err = "bad random or session id";
		return PEEK_ERR;
	}
	if (!rd_vec(&r, 2, &v) || v.len < 2 || v.len % 2 != 0) {
		*err = "bad cipher suites";
		return PEEK_ERR;
	}
	if (!rd_vec(&r, 1, &v) || v.len < 1) {
		*err = "bad compression methods";
		return PEEK_ERR;
	}
	if (r.len == 0)
		return PEEK_OK;		/* no extensions (TLS <= 1.2) */
	if (!rd_vec(&r, 2, &v) || r.len != 0) {
		*err = "bad extensions length";
		return PEEK_ERR;
	}
	return parse_extensions(v, out, err);
}

/* The header of a record at buf[off..): is it one we accept? */
static enum peek_result
check_record_header(const uint8_t *buf, size_t len, size_t off,
    const char **err)
{
	size_t avail = len - off;
	unsigned rlen;

	if (avail >= 1 && buf[off] != CT_HANDSHAKE) {
		*err = "not a handshake record";
		return PEEK_ERR;
	}
	if ((avail >= 2 && buf[off + 1] != 3) ||
	    (avail >= 3 && (buf[off + 2] < 1 || buf[off + 2] > 4))) {
		*err = "bad record version";
		return PEEK_ERR;
	}
	if (avail >= 5) {
		rlen = (unsigned)buf[off + 3] << 8 | buf[off + 4];
		if (rlen == 0 || rlen > REC_MAX) {
			*err = "bad record length";
			return PEEK_ERR;
		}
	}
	return PEEK_OK;
}

/* Is the first byte one of another protocol (plain text, SSLv2)? */
static bool
first_byte_not_tls(uint8_t b)
{
	/* SSLv2 record headers have the high bit set; 20..24 are TLS. */
	return (b & 0x80) != 0 || b < 20 || b > 24;
}

/*
 * Copy what this record holds of the handshake message into hs.  Learns
 * the message length from its header.  Returns PEEK_OK or PEEK_ERR.
 */
static enum peek_result
take_fragment(uint8_t *hs, size_t *have, size_t *want, const uint8_t *frag,
    size_t n, const char **err)
{
	size_t pos = 0, k;

	while (pos < n && *have < *want) {
		k = MIN(n - pos, *want - *have);
		memcpy(hs + *have, frag + pos, k);
		*have += k;
		pos += k;
		if (hs[0] != HS_CLIENT_HELLO) {
			*err = "first handshake message is not ClientHello";
			return PEEK_ERR;
		}
		if (*want == HS_HEADER && *have == HS_HEADER) {
			*want = (size_t)hs[1] << 16 |
			    (size_t)hs[2] << 8 | hs[3];
			if (*want > PEEK_MAX_HELLO) {
				*err = "ClientHello too large";
				return PEEK_ERR;
			}
			*want += HS_HEADER;
		}
	}
	return PEEK_OK;
}

enum peek_result
peek_client_hello(const uint8_t *buf, size_t len, struct client_hello *out,
    size_t *needed, const char **err)
{
	uint8_t hs[HS_HEADER + PEEK_MAX_HELLO];
	size_t off = 0, have = 0, want = HS_HEADER, rlen, avail, rest;
	const char *dummy;
	enum peek_result r;

	memset(out, 0, sizeof(*out));
	*needed = 0;
	if (err == NULL)
		err = &dummy;
	*err = NULL;

	if (len > 0 && first_byte_not_tls(buf[0])) {
		*err = (buf[0] & 0x80) ? "SSLv2-style record" : "not TLS";
		return PEEK_NOT_TLS;
	}
	/* Each record carries the next fragment of the hello. */
	while (have < want) {
		r = check_record_header(buf, len, off, err);
		if (r != PEEK_OK)
			return r;
		if (len - off < REC_HEADER) {
			*needed = off + REC_HEADER + (want - have);
			return PEEK_NEED_MORE;
		}
		rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
		off += REC_HEADER;
		avail = MIN(rlen, len - off);
		r = take_fragment(hs, &have, &want, buf + off, avail, err);
		if (r != PEEK_OK)
			return r;
		if (avail < rlen) {
			/* Wait for the whole record, and what must follow. */
			*needed = off + rlen;
			rest = rlen - avail;
			if (have < want && want - have > rest)
				*needed += REC_HEADER + (want - have - rest);
			return PEEK_NEED_MORE;
		}
		off += rlen;
	}
	/* Bytes after the hello in its last record are not looked at. */
	out->hello_bytes = off;
	return parse_hello(hs + HS_HEADER, want - HS_HEADER, out, err);
}

const char *
peek_result_str(enum peek_result r)
{
	static const char *names[] = {
		[PEEK_OK] = "ok",
		[PEEK_NEED_MORE] = "need-more",
		[PEEK_NOT_TLS] = "not-tls",
		[PEEK_ERR] = "error",
	};

	if ((unsigned)r >= ARRAY_SIZE(names))
		return "?";
	return names[r];
}
