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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_roundtrip),
		cmocka_unit_test(test_view_refused),
		cmocka_unit_test(test_flow_roundtrip),
		cmocka_unit_test(test_flow_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
