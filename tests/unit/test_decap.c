// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the decap program's address sets as user space writes
 * them (user/lib/decap.c): prefixes and their lists, and the host's
 * addresses. What the program does with them is the packet fixtures' part
 * (tests/pkt/decap_fixtures.py).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "decap.h"

static void assert_prefix(const char *s, const char *shown, __u8 family,
			  __u8 len)
{
	char buf[XLB_PREFIX_STRLEN];
	struct xlb_prefix p;

	assert_int_equal(xlb_parse_prefix(s, &p), 0);
	assert_int_equal(p.family, family);
	assert_int_equal(p.len, len);
	assert_string_equal(xlb_format_prefix(&p, buf, sizeof(buf)), shown);
}

static void test_prefix_forms(void **state)
{
	(void)state;
	assert_prefix("198.18.0.10", "198.18.0.10", XLB_AF_INET, 32);
	assert_prefix("198.18.0.10/32", "198.18.0.10", XLB_AF_INET, 32);
	assert_prefix("198.18.0.0/15", "198.18.0.0/15", XLB_AF_INET, 15);
	assert_prefix("0.0.0.0/0", "0.0.0.0/0", XLB_AF_INET, 0);
	assert_prefix("2001:db8::10", "2001:db8::10", XLB_AF_INET6, 128);
	assert_prefix("2001:db8::/32", "2001:db8::/32", XLB_AF_INET6, 32);
}

/* Host bits are cleared, so that one prefix has one form (the sets compare
 * entries to know which to keep on an update). */
static void test_prefix_host_bits(void **state)
{
	(void)state;
	assert_prefix("198.18.7.9/16", "198.18.0.0/16", XLB_AF_INET, 16);
	assert_prefix("198.19.255.255/15", "198.18.0.0/15", XLB_AF_INET, 15);
	assert_prefix("2001:db8:ffff::1/33", "2001:db8:8000::/33",
		      XLB_AF_INET6, 33);
}

static void test_prefix_bad(void **state)
{
	static const char *const bad[] = {
		"", "198.18.0", "198.18.0.1/", "198.18.0.1/33",
		"198.18.0.1/-1", "198.18.0.1/8x", "2001:db8::/129",
		"2001:db8::1/ 64", "/24", "198.18.0.1/24/1", "eth0",
	};
	struct xlb_prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xlb_parse_prefix(bad[i], &p), -EINVAL);
}

static void test_list(void **state)
{
	struct xlb_prefix_set set = {};
	char buf[XLB_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(xlb_prefix_list("198.18.0.10,2001:db8::10,"
					 "198.18.0.10/32,198.18.0.64/26",
					 &set), 0);
	/* The duplicate is kept once. */
	assert_int_equal(set.n, 3);
	assert_string_equal(xlb_format_prefix(&set.p[1], buf, sizeof(buf)),
			    "2001:db8::10");
	assert_string_equal(xlb_format_prefix(&set.p[2], buf, sizeof(buf)),
			    "198.18.0.64/26");
	xlb_prefix_set_free(&set);
	assert_int_equal(set.n, 0);
}

static void test_list_bad(void **state)
{
	static const char *const bad[] = {
		"", ",", "198.18.0.10,", ",198.18.0.10",
		"198.18.0.10,,198.18.0.11", "198.18.0.10;198.18.0.11",
		"198.18.0.10 198.18.0.11",
	};
	struct xlb_prefix_set set = {};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xlb_prefix_list(bad[i], &set), -EINVAL);
		xlb_prefix_set_free(&set);
	}
}

/* The host's addresses for --inner: never loopback or IPv6 link-local
 * (here, in whatever namespace the test runs, lo has 127.0.0.1 and ::1). */
static void test_host_addrs(void **state)
{
	struct xlb_prefix_set all = {}, lo = {};
	size_t i;

	(void)state;
	assert_int_equal(xlb_host_addrs(NULL, &all), 0);
	for (i = 0; i < all.n; i++) {
		const __u8 *b = all.p[i].addr.bytes;

		assert_int_equal(all.p[i].len,
				 all.p[i].family == XLB_AF_INET ? 32 : 128);
		if (all.p[i].family == XLB_AF_INET)
			assert_int_not_equal(b[0], 127);
		else
			assert_false(b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
	}
	/* One interface's own: lo's loopback addresses are its own. */
	assert_int_equal(xlb_host_addrs("lo", &lo), 0);
	for (i = 0; i < lo.n; i++)
		if (lo.p[i].family == XLB_AF_INET &&
		    lo.p[i].addr.bytes[0] == 127)
			break;
	assert_true(i < lo.n);
	xlb_prefix_set_free(&all);
	xlb_prefix_set_free(&lo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_forms),
		cmocka_unit_test(test_prefix_host_bits),
		cmocka_unit_test(test_prefix_bad),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_bad),
		cmocka_unit_test(test_host_addrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
