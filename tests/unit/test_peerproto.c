// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the peer protocol's messages (user/lib/peerproto.c):
 * round trip, and every refusal with its own reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "peerproto.h"

#define NOW	1800000000000000000ULL	/* ns, 2027 */
#define SEQ	1700000000000000000ULL

static struct peer_key key_a, key_b;

static int setup(void **state)
{
	(void)state;
	key_a.len = key_b.len = 32;
	memset(key_a.k, 0xa5, 32);
	memset(key_b.k, 0xa5, 32);
	key_b.k[31] ^= 1;		/* one bit apart */
	return 0;
}

static const struct peer_vip_fp vip1 = {
	.family = 4, .proto = 6, .port = 0x5000,	/* 80, network order */
	.addr = { 198, 18, 1, 1 },
	.fp = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
};

/* A heartbeat with a digest, drained and one VIP; its length. */
static int heartbeat(uint8_t *buf, size_t cap, uint64_t seq, uint64_t sent,
		     const struct peer_key *k)
{
	struct peer_msg m = { .type = PEER_MSG_HEARTBEAT, .family = 4,
			      .addr = { 198, 18, 0, 1 }, .seq = seq,
			      .sent_ns = sent };
	struct peer_vip_fp v = vip1;
	struct peer_heartbeat hb = { .has_digest = true, .drained = true,
				     .nvips = 1, .vips = &v };
	struct peer_enc e;

	memset(hb.digest, 0x42, sizeof(hb.digest));
	peer_enc_start(&e, buf, cap, &m);
	assert_int_equal(peer_enc_heartbeat(&e, &hb), 0);
	return peer_enc_seal(&e, k);
}

static void test_round_trip(void **state)
{
	uint8_t buf[512];
	struct peer_vip_fp vips[4];
	struct peer_heartbeat hb;
	struct peer_msg m;
	int len = heartbeat(buf, sizeof(buf), SEQ, NOW, &key_a);

	(void)state;
	/* header + digest TLV + drained TLV + one VIP TLV + MAC */
	assert_int_equal(len, PEER_HDR_LEN + 4 + 32 + 4 + 1 + 4 + 36 +
			 PEER_MAC_LEN);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(m.type, PEER_MSG_HEARTBEAT);
	assert_int_equal(m.family, 4);
	assert_int_equal(m.addr[0], 198);
	assert_int_equal(m.addr[3], 1);
	assert_true(m.seq == SEQ);
	assert_true(m.sent_ns == NOW);
	assert_int_equal(peer_check_fresh(&m, 0, NOW), PEER_OK);
	assert_int_equal(peer_parse_heartbeat(&m, &hb, vips, 4), PEER_OK);
	assert_true(hb.has_digest);
	assert_int_equal(hb.digest[0], 0x42);
	assert_true(hb.drained);
	assert_int_equal(hb.nvips, 1);
	assert_memory_equal(&vips[0], &vip1, sizeof(vip1));
	/* Wire layout: magic first, sequence big-endian at 28. */
	assert_memory_equal(buf, "XLBP", 4);
	assert_int_equal(buf[28], (uint8_t)(SEQ >> 56));
}

static void test_forged_mac(void **state)
{
	uint8_t buf[512];
	struct peer_msg m;
	int len = heartbeat(buf, sizeof(buf), SEQ, NOW, &key_a), i;

	(void)state;
	/* Any flipped bit, in the header, body or MAC, is refused. */
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		enum peer_drop why = peer_decode(buf, len, &key_a, &m);

		if (i >= 6 && i < 8)	/* body length: the frame's check */
			assert_int_equal(why, PEER_DROP_LENGTH);
		else if (i < 4)
			assert_int_equal(why, PEER_DROP_MAGIC);
		else if (i == 4)
			assert_int_equal(why, PEER_DROP_VERSION);
		else
			assert_int_equal(why, PEER_DROP_MAC);
		buf[i] ^= 0x01;
	}
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
}

static void test_wrong_key(void **state)
{
	uint8_t buf[512];
	struct peer_msg m;
	int len = heartbeat(buf, sizeof(buf), SEQ, NOW, &key_b);

	(void)state;
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_DROP_MAC);
	assert_int_equal(peer_decode(buf, len, &key_b, &m), PEER_OK);
}

static void test_replay(void **state)
{
	uint8_t buf[512];
	struct peer_msg m;
	int len = heartbeat(buf, sizeof(buf), SEQ, NOW, &key_a);

	(void)state;
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(peer_check_fresh(&m, SEQ - 1, NOW), PEER_OK);
	/* Accepted once: the same sequence again, or an older one. */
	assert_int_equal(peer_check_fresh(&m, SEQ, NOW), PEER_DROP_REPLAY);
	assert_int_equal(peer_check_fresh(&m, SEQ + 5, NOW), PEER_DROP_REPLAY);
}

static void test_time_window(void **state)
{
	uint8_t buf[512];
	struct peer_msg m;
	int len;

	(void)state;
	len = heartbeat(buf, sizeof(buf), SEQ, NOW - PEER_WINDOW_NS - 1, &key_a);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(peer_check_fresh(&m, 0, NOW), PEER_DROP_TIME);
	len = heartbeat(buf, sizeof(buf), SEQ, NOW + PEER_WINDOW_NS + 1, &key_a);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(peer_check_fresh(&m, 0, NOW), PEER_DROP_TIME);
	/* The window's edges are inside. */
	len = heartbeat(buf, sizeof(buf), SEQ, NOW - PEER_WINDOW_NS, &key_a);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(peer_check_fresh(&m, 0, NOW), PEER_OK);
	len = heartbeat(buf, sizeof(buf), SEQ, NOW + PEER_WINDOW_NS, &key_a);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(peer_check_fresh(&m, 0, NOW), PEER_OK);
}

static void test_truncation(void **state)
{
	uint8_t buf[512];
	struct peer_msg m;
	int len = heartbeat(buf, sizeof(buf), SEQ, NOW, &key_a), n;

	(void)state;
	for (n = 0; n < len; n++)
		assert_int_equal(peer_decode(buf, n, &key_a, &m),
				 n < PEER_HDR_LEN + PEER_MAC_LEN ?
				 PEER_DROP_SHORT : PEER_DROP_LENGTH);
	/* A byte more is refused too. */
	buf[len] = 0;
	assert_int_equal(peer_decode(buf, len + 1, &key_a, &m),
			 PEER_DROP_LENGTH);
}

/* A body sealed with a valid MAC whose TLV length runs past the end. */
static void test_lying_tlv(void **state)
{
	struct peer_msg h = { .type = PEER_MSG_HEARTBEAT, .family = 4 };
	uint8_t buf[512], v[8] = {};
	struct peer_heartbeat hb;
	struct peer_msg m;
	struct peer_enc e;
	int len;

	(void)state;
	h.seq = SEQ;
	peer_enc_start(&e, buf, sizeof(buf), &h);
	assert_int_equal(peer_enc_tlv(&e, PEER_TLV_DRAINED, v, 1), 0);
	assert_int_equal(peer_enc_tlv(&e, 99, v, 8), 0);
	/* The second TLV claims 9 bytes where 8 are. */
	buf[PEER_HDR_LEN + 5 + 3] = 9;
	len = peer_enc_seal(&e, &key_a);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_DROP_TLV);
	/* A TLV header cut short. */
	peer_enc_start(&e, buf, sizeof(buf), &h);
	assert_int_equal(peer_enc_tlv(&e, PEER_TLV_DRAINED, v, 1), 0);
	e.len += 2;			/* two stray bytes */
	len = peer_enc_seal(&e, &key_a);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_DROP_TLV);
	/* Unknown TLVs are skipped; a known one of the wrong size is not. */
	peer_enc_start(&e, buf, sizeof(buf), &h);
	assert_int_equal(peer_enc_tlv(&e, 999, v, 8), 0);
	assert_int_equal(peer_enc_tlv(&e, PEER_TLV_DRAINED, v, 1), 0);
	len = peer_enc_seal(&e, &key_a);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(peer_parse_heartbeat(&m, &hb, NULL, 0), PEER_OK);
	peer_enc_start(&e, buf, sizeof(buf), &h);
	assert_int_equal(peer_enc_tlv(&e, PEER_TLV_DRAINED, v, 2), 0);
	len = peer_enc_seal(&e, &key_a);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(peer_parse_heartbeat(&m, &hb, NULL, 0),
			 PEER_DROP_MALFORMED);
}

static void test_version(void **state)
{
	uint8_t buf[512];
	struct peer_msg m;
	int len = heartbeat(buf, sizeof(buf), SEQ, NOW, &key_a);

	(void)state;
	buf[4] = PEER_VERSION + 1;
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_DROP_VERSION);
	buf[4] = 0;
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_DROP_VERSION);
}

/* The sender field is what the daemon matches against its peers: it must
 * come out as sent, and is covered by the MAC (test_forged_mac). */
static void test_sender(void **state)
{
	struct peer_msg h = { .type = PEER_MSG_HEARTBEAT, .family = 6,
			      .seq = SEQ, .sent_ns = NOW };
	uint8_t buf[256];
	struct peer_msg m;
	struct peer_enc e;
	int len;

	(void)state;
	inet_pton(AF_INET6, "2001:db8::7", h.addr);
	peer_enc_start(&e, buf, sizeof(buf), &h);
	len = peer_enc_seal(&e, &key_a);
	assert_int_equal(len, PEER_HDR_LEN + PEER_MAC_LEN);
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(m.family, 6);
	assert_memory_equal(m.addr, h.addr, 16);
	assert_string_equal(peer_drop_names[PEER_DROP_UNKNOWN_SENDER],
			    "unknown_sender");
	assert_string_equal(peer_msg_name(PEER_MSG_HEARTBEAT), "heartbeat");
	assert_string_equal(peer_msg_name(200), "unknown");
}

static void test_unknown_sender(void **state)
{
	struct peer_addr peers[2] = {
		{ .family = 4, .addr = { 198, 18, 0, 2 } },
		{ .family = 4, .addr = { 198, 18, 0, 1 } },
	};
	struct peer_addr from = { .family = 4, .addr = { 198, 18, 0, 1 } };
	uint8_t buf[512];
	struct peer_msg m;
	int len = heartbeat(buf, sizeof(buf), SEQ, NOW, &key_a);

	(void)state;
	assert_int_equal(peer_decode(buf, len, &key_a, &m), PEER_OK);
	assert_int_equal(peer_sender(&m, &from, peers, 2), 1);
	/* Not configured. */
	assert_int_equal(peer_sender(&m, &from, peers, 1), -1);
	/* Relayed: sent from another address than the header names. */
	from.addr[3] = 9;
	assert_int_equal(peer_sender(&m, &from, peers, 2), -1);
	from.addr[3] = 1;
	from.family = 6;
	assert_int_equal(peer_sender(&m, &from, peers, 2), -1);
}

static void test_too_big(void **state)
{
	static uint8_t buf[PEER_MSG_MAX + 100], v[PEER_MSG_MAX];
	struct peer_msg h = { .type = PEER_MSG_HEARTBEAT };
	struct peer_enc e;

	(void)state;
	peer_enc_start(&e, buf, sizeof(buf), &h);
	assert_int_equal(peer_enc_tlv(&e, 5, v, PEER_MSG_MAX), -EMSGSIZE);
	assert_int_equal(peer_enc_tlv(&e, 5, v, 100), 0);
	assert_true(peer_enc_seal(&e, &key_a) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_forged_mac),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_time_window),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_lying_tlv),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_sender),
		cmocka_unit_test(test_unknown_sender),
		cmocka_unit_test(test_too_big),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
