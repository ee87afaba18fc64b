// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* libFuzzer target: the peer protocol's decoder (user/lib/peerproto.c) on
 * any bytes, as a datagram would bring them. Twice: as they came (a
 * forger's view: the MAC stops almost everything), and sealed again with
 * the test key, so that the TLV walk and the heartbeat parser behind the
 * MAC see the fuzzer's bytes too. What is accepted must be consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peerproto.h"
#include "peersync.h"

static const struct peer_key key = {
	.k = "fuzz-key-fuzz-key-fuzz-key-fuzz-key", .len = 32,
};

static void check(const uint8_t *buf, size_t len)
{
	struct peer_vip_fp vips[8];
	struct peer_heartbeat hb;
	struct peer_tlv_it it;
	const uint8_t *val;
	struct peer_msg m;
	uint16_t t, l;
	size_t walked = 0;
	int rc;

	if (peer_decode(buf, len, &key, &m) != PEER_OK)
		return;
	if (m.body != buf + PEER_HDR_LEN ||
	    m.body_len + PEER_HDR_LEN + PEER_MAC_LEN != len)
		abort();
	peer_tlv_begin(&it, &m);
	while ((rc = peer_tlv_next(&it, &t, &val, &l)) > 0) {
		if (val < m.body || val + l > m.body + m.body_len)
			abort();
		walked += PEER_TLV_HDR + l;
	}
	if (rc || walked != m.body_len)	/* decode checked the TLVs */
		abort();
	if (peer_parse_heartbeat(&m, &hb, vips, 8) == PEER_OK &&
	    hb.has_digest && !m.body_len)
		abort();
	peer_check_fresh(&m, 0, 0);
	/* The group's part: every record it takes must encode back to the
	 * bytes it came from (one encoding per record). */
	{
		struct peer_sync s;
		uint8_t rec[PEER_FLOW_REC];

		if (peer_sync_parse(&m, &s) != PEER_OK)
			return;
		if (s.nview && !s.has_epoch)
			abort();
		for (size_t i = 0; i < s.nflows; i++) {
			struct xlb_sync_flow back;

			peer_flow_put(rec, &s.flows[i]);
			if (peer_flow_get(rec, &back) ||
			    memcmp(&back, &s.flows[i], sizeof(back)))
				abort();
		}
		peer_sync_free(&s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[PEER_MSG_MAX];
	struct peer_msg h = {};
	struct peer_enc e;
	uint8_t *copy;
	size_t body;

	if (size > PEER_MSG_MAX)
		return 0;
	/* Exactly the bytes: ASan sees a read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	check(copy, size);
	free(copy);

	/* The input's body behind a valid header and MAC. */
	body = size > PEER_HDR_LEN ? size - PEER_HDR_LEN : size;
	if (body + PEER_HDR_LEN + PEER_MAC_LEN > sizeof(buf))
		return 0;
	h.type = size ? data[0] : 1;
	peer_enc_start(&e, buf, sizeof(buf), &h);
	memcpy(buf + PEER_HDR_LEN, data + (size - body), body);
	e.len += body;
	if (peer_enc_seal(&e, &key) > 0)
		check(buf, e.len);
	return 0;
}
