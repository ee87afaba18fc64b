// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The peer protocol's messages (peerproto.h). The MAC is OpenSSL's
 * HMAC-SHA256, compared in constant time (CRYPTO_memcmp): nothing of the
 * cryptography is ours. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "peerproto.h"


/* Header offsets (the DOC table in peerproto.h). */
#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_TYPE	5
#define OFF_BODYLEN	6
#define OFF_FAMILY	8
#define OFF_ADDR	12
#define OFF_SEQ		28
#define OFF_SENT	36

_Static_assert(OFF_SENT + 8 == PEER_HDR_LEN, "header layout");

const char *const peer_drop_names[PEER_DROP_MAX] = {
	[PEER_OK]			= "ok",
	[PEER_DROP_SHORT]		= "short",
	[PEER_DROP_MAGIC]		= "magic",
	[PEER_DROP_VERSION]		= "version",
	[PEER_DROP_LENGTH]		= "length",
	[PEER_DROP_MAC]			= "mac",
	[PEER_DROP_TLV]			= "tlv",
	[PEER_DROP_UNKNOWN_SENDER]	= "unknown_sender",
	[PEER_DROP_REPLAY]		= "replay",
	[PEER_DROP_TIME]		= "time",
	[PEER_DROP_MALFORMED]		= "malformed",
};

const char *const peer_msg_names[PEER_MSG_TYPES] = {
	[PEER_MSG_HEARTBEAT] = "heartbeat",
	[PEER_MSG_FLOWS] = "flows",
};

const char *peer_msg_name(uint8_t type)
{
	return type < PEER_MSG_TYPES && peer_msg_names[type] ?
		       peer_msg_names[type] : "unknown";
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ntohs(v);
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- encoding ---- */

void peer_enc_start(struct peer_enc *e, uint8_t *buf, size_t cap,
		    const struct peer_msg *m)
{
	uint32_t magic = htonl(PEER_MAGIC);

	e->buf = buf;
	e->cap = cap < PEER_MSG_MAX ? cap : PEER_MSG_MAX;
	e->len = PEER_HDR_LEN;
	e->err = e->cap < PEER_HDR_LEN + PEER_MAC_LEN ? -EMSGSIZE : 0;
	if (e->err)
		return;
	memset(buf, 0, PEER_HDR_LEN);
	memcpy(buf + OFF_MAGIC, &magic, 4);
	buf[OFF_VERSION] = PEER_VERSION;
	buf[OFF_TYPE] = m->type;
	buf[OFF_FAMILY] = m->family;
	memcpy(buf + OFF_ADDR, m->addr, 16);
	put64(buf + OFF_SEQ, m->seq);
	put64(buf + OFF_SENT, m->sent_ns);
}

int peer_enc_tlv(struct peer_enc *e, uint16_t type, const void *val,
		 size_t len)
{
	if (e->err)
		return e->err;
	if (len > UINT16_MAX ||
	    e->len + PEER_TLV_HDR + len + PEER_MAC_LEN > e->cap)
		return -EMSGSIZE;
	put16(e->buf + e->len, type);
	put16(e->buf + e->len + 2, (uint16_t)len);
	if (len)
		memcpy(e->buf + e->len + PEER_TLV_HDR, val, len);
	e->len += PEER_TLV_HDR + len;
	return 0;
}

static int mac(const struct peer_key *key, const uint8_t *buf, size_t len,
	       uint8_t out[PEER_MAC_LEN])
{
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key->k, (int)key->len, buf, len, out, &n) ||
	    n != PEER_MAC_LEN)
		return -EIO;
	return 0;
}

int peer_enc_seal(struct peer_enc *e, const struct peer_key *key)
{
	int rc;

	if (e->err)
		return e->err;
	put16(e->buf + OFF_BODYLEN, (uint16_t)(e->len - PEER_HDR_LEN));
	rc = mac(key, e->buf, e->len, e->buf + e->len);
	if (rc)
		return rc;
	e->len += PEER_MAC_LEN;
	return (int)e->len;
}

/* ---- decoding ---- */

static enum peer_drop check_frame(const uint8_t *buf, size_t len)
{
	uint32_t magic;

	if (len < PEER_HDR_LEN + PEER_MAC_LEN)
		return PEER_DROP_SHORT;
	memcpy(&magic, buf + OFF_MAGIC, 4);
	if (ntohl(magic) != PEER_MAGIC)
		return PEER_DROP_MAGIC;
	if (buf[OFF_VERSION] != PEER_VERSION)
		return PEER_DROP_VERSION;
	if (len > PEER_MSG_MAX ||
	    (size_t)get16(buf + OFF_BODYLEN) + PEER_HDR_LEN + PEER_MAC_LEN != len)
		return PEER_DROP_LENGTH;
	return PEER_OK;
}

void peer_tlv_begin(struct peer_tlv_it *it, const struct peer_msg *m)
{
	it->p = m->body;
	it->end = m->body + m->body_len;
}

int peer_tlv_next(struct peer_tlv_it *it, uint16_t *type,
		  const uint8_t **val, uint16_t *len)
{
	size_t left = (size_t)(it->end - it->p);

	if (!left)
		return 0;
	if (left < PEER_TLV_HDR ||
	    get16(it->p + 2) > left - PEER_TLV_HDR)
		return -EBADMSG;
	*type = get16(it->p);
	*len = get16(it->p + 2);
	*val = it->p + PEER_TLV_HDR;
	it->p += PEER_TLV_HDR + *len;
	return 1;
}

enum peer_drop peer_decode(const uint8_t *buf, size_t len,
			   const struct peer_key *key, struct peer_msg *m)
{
	uint8_t want[PEER_MAC_LEN];
	struct peer_tlv_it it;
	const uint8_t *val;
	enum peer_drop why;
	uint16_t t, l;
	int rc;

	why = check_frame(buf, len);
	if (why)
		return why;
	if (mac(key, buf, len - PEER_MAC_LEN, want) ||
	    CRYPTO_memcmp(want, buf + len - PEER_MAC_LEN, PEER_MAC_LEN))
		return PEER_DROP_MAC;
	m->type = buf[OFF_TYPE];
	m->family = buf[OFF_FAMILY];
	memcpy(m->addr, buf + OFF_ADDR, 16);
	m->seq = get64(buf + OFF_SEQ);
	m->sent_ns = get64(buf + OFF_SENT);
	m->body = buf + PEER_HDR_LEN;
	m->body_len = len - PEER_HDR_LEN - PEER_MAC_LEN;
	peer_tlv_begin(&it, m);
	while ((rc = peer_tlv_next(&it, &t, &val, &l)) > 0)
		;
	return rc ? PEER_DROP_TLV : PEER_OK;
}

int peer_sender(const struct peer_msg *m, const struct peer_addr *from,
		const struct peer_addr *peers, size_t n)
{
	size_t i;

	if (from->family != m->family || memcmp(from->addr, m->addr, 16))
		return -1;
	for (i = 0; i < n; i++)
		if (peers[i].family == m->family &&
		    !memcmp(peers[i].addr, m->addr, 16))
			return (int)i;
	return -1;
}

enum peer_drop peer_check_fresh(const struct peer_msg *m, uint64_t last_seq,
				uint64_t now_ns)
{
	uint64_t skew = now_ns > m->sent_ns ? now_ns - m->sent_ns :
					      m->sent_ns - now_ns;

	if (m->seq <= last_seq)
		return PEER_DROP_REPLAY;
	return skew > PEER_WINDOW_NS ? PEER_DROP_TIME : PEER_OK;
}

/* ---- the heartbeat ---- */

static void vip_fp_put(uint8_t *p, const struct peer_vip_fp *v)
{
	p[0] = v->family;
	p[1] = v->proto;
	memcpy(p + 2, &v->port, 2);
	memcpy(p + 4, v->addr, 16);
	memcpy(p + 20, v->fp, PEER_FP_LEN);
}

static void vip_fp_get(const uint8_t *p, struct peer_vip_fp *v)
{
	v->family = p[0];
	v->proto = p[1];
	memcpy(&v->port, p + 2, 2);
	memcpy(v->addr, p + 4, 16);
	memcpy(v->fp, p + 20, PEER_FP_LEN);
}

int peer_enc_heartbeat(struct peer_enc *e, const struct peer_heartbeat *hb)
{
	uint8_t drained = hb->drained, buf[PEER_VIP_FP_LEN];
	size_t i;
	int rc = 0;

	if (hb->has_digest)
		rc = peer_enc_tlv(e, PEER_TLV_CONF_DIGEST, hb->digest,
				  PEER_DIGEST_LEN);
	if (!rc)
		rc = peer_enc_tlv(e, PEER_TLV_DRAINED, &drained, 1);
	for (i = 0; i < hb->nvips && !rc; i++) {
		vip_fp_put(buf, &hb->vips[i]);
		rc = peer_enc_tlv(e, PEER_TLV_VIP_FP, buf, sizeof(buf));
	}
	return rc;
}

enum peer_drop peer_parse_heartbeat(const struct peer_msg *m,
				    struct peer_heartbeat *hb,
				    struct peer_vip_fp *vips, size_t max_vips)
{
	struct peer_tlv_it it;
	const uint8_t *val;
	bool seen_drained = false;
	uint16_t t, l;
	int rc;

	memset(hb, 0, sizeof(*hb));
	hb->vips = vips;
	peer_tlv_begin(&it, m);
	while ((rc = peer_tlv_next(&it, &t, &val, &l)) > 0) {
		switch (t) {
		case PEER_TLV_CONF_DIGEST:
			if (l != PEER_DIGEST_LEN || hb->has_digest)
				return PEER_DROP_MALFORMED;
			memcpy(hb->digest, val, l);
			hb->has_digest = true;
			break;
		case PEER_TLV_DRAINED:
			if (l != 1 || val[0] > 1 || seen_drained)
				return PEER_DROP_MALFORMED;
			hb->drained = val[0];
			seen_drained = true;
			break;
		case PEER_TLV_VIP_FP:
			if (l != PEER_VIP_FP_LEN)
				return PEER_DROP_MALFORMED;
			if (hb->nvips < max_vips)
				vip_fp_get(val, &vips[hb->nvips]);
			hb->nvips++;
			break;
		default:	/* a newer sender's, or reserved: skipped */
			break;
		}
	}
	return rc ? PEER_DROP_TLV : PEER_OK;
}
