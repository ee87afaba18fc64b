// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the one definition of flow idle and expiry
 * (include/xlb/flow.h), which the data plane and user space share: the
 * bound itself is still fresh, one jiffy past it is expired, an entry
 * stamped by another CPU after "now" was read is not idle, and the
 * defaults keep their documented order. Also the non-VIP filter bit
 * (include/xlb/hash.h): IPv4 uses its one word, and bits spread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "xlb/flow.h"
#include "xlb/hash.h"

#define HZ	250

static void test_bound_is_fresh(void **state)
{
	struct xlb_flow f = { .last_seen = 1000000, .idle_s = 30 };

	(void)state;
	assert_int_equal(xlb_flow_idle(&f, 1000000 + 30 * HZ), 30 * HZ);
	assert_false(xlb_flow_expired(&f, 1000000 + 30 * HZ, HZ));
	assert_true(xlb_flow_expired(&f, 1000000 + 30 * HZ + 1, HZ));
}

static void test_stamp_after_now(void **state)
{
	struct xlb_flow f = { .last_seen = 5000, .idle_s = 1 };

	(void)state;
	assert_int_equal(xlb_flow_idle(&f, 4990), 0);
	assert_false(xlb_flow_expired(&f, 4990, HZ));
}

static void test_zero_bound_expires_next_jiffy(void **state)
{
	struct xlb_flow f = { .last_seen = 7, .idle_s = 0 };

	(void)state;
	assert_false(xlb_flow_expired(&f, 7, HZ));
	assert_true(xlb_flow_expired(&f, 8, HZ));
}

static void test_defaults_order(void **state)
{
	(void)state;
	assert_true(XLB_SYN_REUSE_IDLE_S < XLB_IDLE_UNCONFIRMED_S);
	assert_true(XLB_IDLE_TCP_FIN_S < XLB_IDLE_TCP_S);
	assert_true(XLB_IDLE_UDP_S >= XLB_IDLE_UDP_MIN_S &&
		    XLB_IDLE_UDP_S <= XLB_IDLE_UDP_MAX_S);
	assert_true(XLB_IDLE_UDP_MAX_S <= 0xffff);	/* fits idle_s */
	assert_int_equal(sizeof(struct xlb_flow), 24);
}

static void test_filter_bit(void **state)
{
	union xlb_addr a, b;
	unsigned int i, hits[16] = { 0 };

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.v4 = 0x010112c6;
	b.v4 = 0x020112c6;
	assert_true(xlb_vip_filter_bit(&a) < (1U << XLB_VIP_FILTER_SHIFT));
	assert_int_not_equal(xlb_vip_filter_bit(&a), xlb_vip_filter_bit(&b));
	/* Consecutive addresses spread over the filter's 16 top regions. */
	for (i = 0; i < 1600; i++) {
		a.v4 = 0xc6120000 + i;
		hits[xlb_vip_filter_bit(&a) >> (XLB_VIP_FILTER_SHIFT - 4)]++;
	}
	for (i = 0; i < 16; i++)
		assert_true(hits[i] > 50 && hits[i] < 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_is_fresh),
		cmocka_unit_test(test_stamp_after_now),
		cmocka_unit_test(test_zero_bound_expires_next_jiffy),
		cmocka_unit_test(test_defaults_order),
		cmocka_unit_test(test_filter_bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
