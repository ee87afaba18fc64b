// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the records peers sync (user/lib/peersync.c): views and
 * flow entries round-trip byte for byte, and every field a decoder checks
 * refuses a bad value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "peersync.h"

static struct agree_entry view(const char *vip, const char *be)
{
	struct agree_entry e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(xlb_parse_vip(vip, &e.vip), 0);
	assert_int_equal(xlb_parse_addr(be, &e.addr, &e.family), 0);
	e.down = 1;
	e.factor_pct = 55;
	e.drained = 1;
	return e;
}

static struct xlb_sync_flow flow(const char *client, const char *vip,
				 const char *be)
{
	struct xlb_sync_flow f;
	struct xlb_vip_key vk;

	memset(&f, 0, sizeof(f));
	assert_int_equal(xlb_parse_vip(vip, &vk), 0);
	assert_int_equal(xlb_parse_addr(client, &f.key.src, &f.key.family),
			 0);
	f.key.dst = vk.addr;
	f.key.dport = vk.port;
	f.key.sport = htons(40123);
	f.key.proto = vk.proto;
	assert_int_equal(xlb_parse_addr(be, &f.backend, &f.be_family), 0);
	f.state = XLB_FLOW_ESTABLISHED;
	f.idle_s = XLB_IDLE_TCP_S;
	return f;
}

static void test_view_roundtrip(void **state)
{
	const char *c[][2] = { { "198.18.1.1:80/tcp", "198.18.0.11" },
			       { "[2001:db8:1::1]:443/tcp", "2001:db8:2::5" },
			       { "198.18.1.1:0/udp", "2001:db8:2::5" } };
	uint8_t rec[PEER_VIEW_REC];
	struct agree_entry in, out;

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		in = view(c[i][0], c[i][1]);
		peer_view_put(rec, &in);
		assert_int_equal(peer_view_get(rec, &out), 0);
		assert_memory_equal(&in, &out, sizeof(in));
	}
}

static void test_view_refused(void **state)
{
	struct agree_entry in = view("198.18.1.1:80/tcp", "198.18.0.11"), out;
	const struct { size_t off; uint8_t val; } bad[] = {
		{ 0, 0 }, { 0, 7 }, { 20, 5 }, { 21, 2 }, { 22, 0 },
		{ 22, 101 }, { 23, 2 }, { 4 + 5, 1 }, { 24 + 15, 1 },
	};
	uint8_t rec[PEER_VIEW_REC];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		peer_view_put(rec, &in);
		rec[bad[i].off] = bad[i].val;
		assert_int_equal(peer_view_get(rec, &out), -EINVAL);
	}
}

static void test_flow_roundtrip(void **state)
{
	struct xlb_sync_flow in, out;
	uint8_t rec[PEER_FLOW_REC];

	(void)state;
	in = flow("198.19.7.7", "198.18.1.1:80/tcp", "198.18.0.12");
	peer_flow_put(rec, &in);
	assert_int_equal(peer_flow_get(rec, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	in = flow("2001:db8:9::9", "[2001:db8:1::1]:53/udp", "198.18.0.12");
	in.state = XLB_FLOW_FIN;
	in.idle_s = 65535;
	peer_flow_put(rec, &in);
	assert_int_equal(peer_flow_get(rec, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_flow_refused(void **state)
{
	struct xlb_sync_flow in, out;
	const struct { size_t off; uint8_t val; } bad[] = {
		{ 0, 9 }, { 1, 1 }, { 2, XLB_FLOW_UNCONFIRMED }, { 2, 77 },
		{ 3, 0 }, { 8 + 4, 1 }, { 24 + 4, 1 }, { 40 + 4, 1 },
		{ 58, 1 }, { 59, 1 },
	};
	uint8_t rec[PEER_FLOW_REC];

	(void)state;
	in = flow("198.19.7.7", "198.18.1.1:80/tcp", "198.18.0.12");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		peer_flow_put(rec, &in);
		rec[bad[i].off] = bad[i].val;
		assert_int_equal(peer_flow_get(rec, &out), -EINVAL);
	}
	in.idle_s = 0;
	peer_flow_put(rec, &in);
	assert_int_equal(peer_flow_get(rec, &out), -EINVAL);
}

/* A heartbeat's view and a FLOWS message's records through the encoder,
 * the MAC and the parser; a view without its epoch is refused. */
static void test_messages(void **state)
{
	static const struct peer_key key = { .k = "0123456789abcdef0123456789abcdef",
					      .len = 32 };
	struct agree_entry v[3] = { view("198.18.1.1:80/tcp", "198.18.0.11"),
				    view("198.18.1.1:80/tcp", "198.18.0.12"),
				    view("[2001:db8:1::1]:443/tcp",
					 "2001:db8:2::5") };
	struct xlb_sync_flow f[2] = {
		flow("198.19.7.7", "198.18.1.1:80/tcp", "198.18.0.12"),
		flow("2001:db8:9::9", "[2001:db8:1::1]:443/tcp",
		     "2001:db8:2::5") };
	struct peer_msg h = { .type = PEER_MSG_HEARTBEAT }, m;
	static uint8_t buf[PEER_MSG_MAX];
	struct peer_sync s;
	struct peer_enc e;
	int len;

	(void)state;
	peer_enc_start(&e, buf, sizeof(buf), &h);
	assert_int_equal(peer_enc_view(&e, 0x0102030405060708ULL, v, 3), 0);
	len = peer_enc_seal(&e, &key);
	assert_true(len > 0);
	assert_int_equal(peer_decode(buf, (size_t)len, &key, &m), PEER_OK);
	assert_int_equal(peer_sync_parse(&m, &s), PEER_OK);
	assert_true(s.has_epoch);
	assert_true(s.epoch == 0x0102030405060708ULL);
	assert_int_equal(s.nview, 3);
	assert_memory_equal(s.view, v, sizeof(v));
	peer_sync_free(&s);

	h.type = PEER_MSG_FLOWS;
	peer_enc_start(&e, buf, sizeof(buf), &h);
	assert_int_equal(peer_enc_flows(&e, f, 2, true), 0);
	len = peer_enc_seal(&e, &key);
	assert_int_equal(peer_decode(buf, (size_t)len, &key, &m), PEER_OK);
	assert_int_equal(peer_sync_parse(&m, &s), PEER_OK);
	assert_int_equal(s.nflows, 2);
	assert_true(s.bulk_end);
	assert_memory_equal(s.flows, f, sizeof(f));
	peer_sync_free(&s);

	/* Records without the epoch they take effect at. */
	{
		uint8_t rec[PEER_VIEW_REC];

		peer_view_put(rec, &v[0]);
		peer_enc_start(&e, buf, sizeof(buf), &h);
		assert_int_equal(peer_enc_tlv(&e, PEER_TLV_HEALTH_VIEW, rec,
					      sizeof(rec)), 0);
		len = peer_enc_seal(&e, &key);
		assert_int_equal(peer_decode(buf, (size_t)len, &key, &m),
				 PEER_OK);
		assert_int_equal(peer_sync_parse(&m, &s),
				 PEER_DROP_MALFORMED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_roundtrip),
		cmocka_unit_test(test_view_refused),
		cmocka_unit_test(test_flow_roundtrip),
		cmocka_unit_test(test_flow_refused),
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
