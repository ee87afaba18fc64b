// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the Internet checksum (include/xlb/csum.h, the one
 * definition the BPF programs and user space share): known headers, an odd
 * length, that a header with its checksum in place sums to zero, and the
 * fold of every kind of 32-bit sum against arithmetic modulo 0xffff. The
 * result is compared as the bytes it leaves in the packet, so a byte order
 * mistake on this host shows here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "xlb/csum.h"

/* An IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) whose checksum is
 * b8 61, with the field zeroed. */
static const __u8 ip4[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

static void test_ipv4_header(void **state)
{
	__u8 h[20], out[2];
	__u16 c;

	(void)state;
	memcpy(h, ip4, sizeof(h));
	c = xlb_csum_fold(xlb_csum_add(h, sizeof(h), 0));
	memcpy(out, &c, 2);
	assert_int_equal(out[0], 0xb8);
	assert_int_equal(out[1], 0x61);
	/* In place, the header checks: the sum folds to 0. */
	memcpy(h + 10, &c, 2);
	assert_int_equal(xlb_csum_fold(xlb_csum_add(h, sizeof(h), 0)), 0);
}

/* RFC 1071's example words 0001 f203 f4f5 f6f7: sum ddf2, checksum 220d. */
static void test_rfc1071_and_chaining(void **state)
{
	static const __u8 b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	__u8 out[2];
	__u16 c;

	(void)state;
	c = xlb_csum_fold(xlb_csum_add(b, 8, 0));
	memcpy(out, &c, 2);
	assert_int_equal(out[0], 0x22);
	assert_int_equal(out[1], 0x0d);
	/* A sum carried across pieces (pseudo header, then segment) is the
	 * sum of the whole. */
	assert_int_equal(xlb_csum_fold(xlb_csum_add(b + 4, 4,
						    xlb_csum_add(b, 4, 0))), c);
}

/* An odd length pads the last byte with a zero byte after it. */
static void test_odd_length(void **state)
{
	static const __u8 odd[3] = { 0x12, 0x34, 0x56 };
	static const __u8 even[4] = { 0x12, 0x34, 0x56, 0x00 };

	(void)state;
	assert_int_equal(xlb_csum_fold(xlb_csum_add(odd, 3, 0)),
			 xlb_csum_fold(xlb_csum_add(even, 4, 0)));
	assert_int_not_equal(xlb_csum_fold(xlb_csum_add(odd, 3, 0)),
			     xlb_csum_fold(xlb_csum_add(odd, 2, 0)));
}

/* One's complement addition is addition modulo 0xffff (with 0xffff for a
 * non-zero multiple): the folded sum of any 32-bit sum, computed that
 * way, without folding. */
static __u16 fold_ref(__u32 sum)
{
	__u32 r = sum % 0xffff;

	if (!r && sum)
		r = 0xffff;
	return (__u16)~r;
}

/* Sums whose first fold still carries (above 0x1fffe... 0xffffffff) are
 * the ones a single fold gets wrong; all of them are checked at the ends
 * and a spread in between. */
static void test_fold(void **state)
{
	static const __u32 edges[] = {
		0, 1, 0xfffe, 0xffff, 0x10000, 0x1fffe, 0x1ffff, 0x20000,
		0xfffeffff, 0xffff0000, 0xffff0001, 0xfffffffe, 0xffffffff,
		0x7fff8000, 0x8000ffff,
	};
	__u64 s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		assert_int_equal(xlb_csum_fold(edges[i]), fold_ref(edges[i]));
	for (s = 0; s <= 0xffffffffULL; s += 65521)	/* a prime step */
		assert_int_equal(xlb_csum_fold((__u32)s), fold_ref((__u32)s));
	for (s = 0xffff0000ULL; s <= 0xffffffffULL; s++)
		assert_int_equal(xlb_csum_fold((__u32)s), fold_ref((__u32)s));
	/* A 20-byte header of 0xff bytes: ten words, sum 0x9fff6. */
	{
		__u8 h[20];

		memset(h, 0xff, sizeof(h));
		assert_int_equal(xlb_csum_fold(xlb_csum_add(h, 20, 0)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_header),
		cmocka_unit_test(test_rfc1071_and_chaining),
		cmocka_unit_test(test_odd_length),
		cmocka_unit_test(test_fold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
