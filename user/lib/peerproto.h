/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The peer protocol's messages: encode, decode, verify. Pure: no sockets,
 * no clocks (the caller passes the time), no daemon state. docs/peers.md
 * describes the design; this header is the wire format's one definition.
 *
 * DOC: one UDP datagram is one message, all integers in network order:
 *
 *   offset size  field
 *    0     4     magic "XLBP"
 *    4     1     version (PEER_VERSION)
 *    5     1     type (enum peer_msg_type)
 *    6     2     body length in bytes (the TLVs)
 *    8     1     sender's family (XLB_AF_INET, XLB_AF_INET6)
 *    9     3     zero
 *   12    16     sender's address (IPv4 in the first 4 bytes, rest zero)
 *   28     8     sequence number: strictly increasing per sender; a
 *                process starts it at CLOCK_REALTIME in ns, so a restarted
 *                sender never goes back
 *   36     8     sender's time, CLOCK_REALTIME in ns
 *   44     N     body: TLVs, each type (2), length (2), value (length)
 *   44+N  32     HMAC-SHA256 with the shared key over bytes 0..44+N
 *
 * A receiver checks, in this order, each failure its own reason (enum
 * peer_drop): the length (at least a header and a MAC, and exactly what
 * the header says), magic, version; the MAC (before anything of the body
 * is believed); the TLVs' lengths; then the caller checks that the sender
 * is a configured peer (and the datagram came from it), and
 * peer_check_fresh() the sequence and the time window. Unknown TLV types
 * are skipped, so a newer sender can add some within one version. */
#ifndef XLB_PEERPROTO_H
#define XLB_PEERPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XLB_PEER_PORT		7946	/* UDP, on every node */
#define PEER_MAGIC		0x584c4250U	/* "XLBP" */
#define PEER_VERSION		1
#define PEER_HDR_LEN		44
#define PEER_MAC_LEN		32	/* HMAC-SHA256 */
#define PEER_TLV_HDR		4
/* A message fits one datagram; heartbeats of a node with every VIP
 * (XLB_MAX_VIPS x PEER_VIP_FP_LEN) stay under it. */
#define PEER_MSG_MAX		65000
#define PEER_KEY_MIN		32	/* bytes of key file, at least */
#define PEER_KEY_MAX		1024
/* |receiver's time - sender's time| at most this: peers need clocks
 * synchronised (NTP) well within it. */
#define PEER_WINDOW_NS		(10ULL * 1000000000ULL)

enum peer_msg_type {
	PEER_MSG_HEARTBEAT = 1,
	PEER_MSG_FLOWS = 2,		/* flow-state sync (peersync.h) */
	/* reserved: 3 */
	PEER_MSG_TYPES = 4		/* types 0..3 have a name slot */
};

/* TLV types. Reserved ones are not sent yet; a receiver skips them. */
enum peer_tlv_type {
	PEER_TLV_CONF_DIGEST = 1,	/* 32 bytes: SHA-256 of the shared
					 * configuration */
	PEER_TLV_VIP_FP = 2,		/* struct peer_vip_fp, one per VIP */
	PEER_TLV_DRAINED = 3,		/* 1 byte: 0 or 1 */
	PEER_TLV_HEALTH_VIEW = 16,	/* view records (peersync.h) */
	PEER_TLV_EPOCH = 17,		/* 8 bytes: the view's epoch */
	PEER_TLV_FLOWS = 18,		/* flow records (peersync.h) */
	PEER_TLV_BULK_END = 19,		/* empty: a bulk sync is complete */
};

/* Why a message was dropped; the names are the metrics' reason label. */
enum peer_drop {
	PEER_OK = 0,
	PEER_DROP_SHORT,		/* shorter than header + MAC */
	PEER_DROP_MAGIC,
	PEER_DROP_VERSION,
	PEER_DROP_LENGTH,		/* header's length is not the datagram's */
	PEER_DROP_MAC,			/* forged, or another key */
	PEER_DROP_TLV,			/* a TLV's length runs past the body */
	PEER_DROP_UNKNOWN_SENDER,	/* not a configured peer */
	PEER_DROP_REPLAY,		/* sequence not above the last taken */
	PEER_DROP_TIME,			/* outside PEER_WINDOW_NS */
	PEER_DROP_MALFORMED,		/* a known TLV of the wrong size */
	PEER_DROP_MAX
};

extern const char *const peer_drop_names[PEER_DROP_MAX];
/* By type; NULL: none yet. peer_msg_name(): "unknown" for those. */
extern const char *const peer_msg_names[PEER_MSG_TYPES];
const char *peer_msg_name(uint8_t type);

struct peer_key {
	uint8_t k[PEER_KEY_MAX];
	size_t len;
};

/* A message's header fields, and its body once decoded. */
struct peer_msg {
	uint8_t type;
	uint8_t family;
	uint8_t addr[16];
	uint64_t seq;
	uint64_t sent_ns;
	const uint8_t *body;		/* into the buffer decoded */
	size_t body_len;
};

/* ---- encoding: start, add TLVs, seal ---- */
struct peer_enc {
	uint8_t *buf;
	size_t cap, len;
	int err;			/* first error, kept */
};

/* buf of cap bytes (at least PEER_HDR_LEN + PEER_MAC_LEN); m's header
 * fields are written, its body ignored. */
void peer_enc_start(struct peer_enc *e, uint8_t *buf, size_t cap,
		    const struct peer_msg *m);
/* -EMSGSIZE when it does not fit (the message stays as it was). */
int peer_enc_tlv(struct peer_enc *e, uint16_t type, const void *val,
		 size_t len);
/* Write the body length and the MAC: the message's length, or -errno. */
int peer_enc_seal(struct peer_enc *e, const struct peer_key *key);

/* ---- decoding ---- */
/* Length, magic, version, MAC, TLV structure; fills *m (body points into
 * buf). PEER_OK or the reason. */
enum peer_drop peer_decode(const uint8_t *buf, size_t len,
			   const struct peer_key *key, struct peer_msg *m);
/* A node's address, as the header carries it. */
struct peer_addr {
	uint8_t family;			/* XLB_AF_INET, XLB_AF_INET6 */
	uint8_t addr[16];
};
/* Which of peers[n] sent m: its index, or -1 when the header names none of
 * them or the datagram came from another address (from) than the header
 * says: PEER_DROP_UNKNOWN_SENDER. */
int peer_sender(const struct peer_msg *m, const struct peer_addr *from,
		const struct peer_addr *peers, size_t n);
/* Sequence above last_seq (0: none taken yet) and the time window. */
enum peer_drop peer_check_fresh(const struct peer_msg *m, uint64_t last_seq,
				uint64_t now_ns);

/* TLVs of a decoded body: 1 and the next one, 0 at the end, -EBADMSG
 * when a length runs past the end (peer_decode refused those already). */
struct peer_tlv_it {
	const uint8_t *p, *end;
};
void peer_tlv_begin(struct peer_tlv_it *it, const struct peer_msg *m);
int peer_tlv_next(struct peer_tlv_it *it, uint16_t *type,
		  const uint8_t **val, uint16_t *len);

/* ---- the heartbeat ---- */
#define PEER_DIGEST_LEN		32
#define PEER_FP_LEN		16	/* a table fingerprint, truncated
					 * SHA-256 */

/* A VIP as it travels (the same fields as struct xlb_vip_key, fixed
 * layout) and its table's fingerprint. */
struct peer_vip_fp {
	uint8_t family;
	uint8_t proto;
	uint16_t port;			/* network order */
	uint8_t addr[16];
	uint8_t fp[PEER_FP_LEN];
};
#define PEER_VIP_FP_LEN		36	/* on the wire */

struct peer_heartbeat {
	bool has_digest;
	uint8_t digest[PEER_DIGEST_LEN];
	bool drained;
	size_t nvips;			/* VIP_FP TLVs seen */
	struct peer_vip_fp *vips;	/* filled up to max_vips */
};

/* Add a heartbeat's TLVs to an encoder. */
int peer_enc_heartbeat(struct peer_enc *e, const struct peer_heartbeat *hb);
/* Read a decoded heartbeat's TLVs into hb (vips: room for max_vips;
 * hb->nvips says how many there were). PEER_OK or PEER_DROP_MALFORMED
 * (a known TLV of the wrong size, or given twice). */
enum peer_drop peer_parse_heartbeat(const struct peer_msg *m,
				    struct peer_heartbeat *hb,
				    struct peer_vip_fp *vips, size_t max_vips);

#endif
