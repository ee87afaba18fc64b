// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the table of algorithms and the round-robin ring builders
 * (user/lib/algo.c): exact shares per cycle, the spread inside it (the
 * bound README "Algorithms" states), rr ignoring weights, no weight. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"

#define MAXB 32

static uint32_t ids[MAXB];

static void make(struct maglev_backend *be, const uint32_t *w, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		ids[j] = 0x0a000000U + (uint32_t)j;
		be[j].id = &ids[j];
		be[j].id_len = sizeof(ids[j]);
		be[j].weight = w[j];
		be[j].value = (uint32_t)j;
	}
}

/* Every algorithm has a name and a builder. */
static void test_table(void **state)
{
	(void)state;
	for (int i = 0; i < XLB_ALGO_MAX; i++) {
		assert_non_null(algos[i].name);
		assert_non_null(algos[i].build);
	}
	assert_true(xlb_algo_in_turn(XLB_ALGO_RR));
	assert_false(xlb_algo_in_turn(XLB_ALGO_SH));
	assert_false(xlb_algo_deterministic(XLB_ALGO_WRR));
}

/* Weights 3:2:1 over 10 cycles: exactly 30, 20, 10; no backend twice in a
 * row while another has credit for it (3:2:1 is a, b, a, c, a, b). */
static void test_swrr_cycles(void **state)
{
	uint32_t w[3] = { 3, 2, 1 }, ring[60], n[3] = { 0 };
	struct maglev_backend be[3];

	(void)state;
	make(be, w, 3);
	assert_int_equal(swrr_build(be, 3, ring, 60), 0);
	for (int i = 0; i < 60; i++)
		n[ring[i]]++;
	assert_int_equal(n[0], 30);
	assert_int_equal(n[1], 20);
	assert_int_equal(n[2], 10);
	assert_int_equal(ring[0], 0);
	assert_int_equal(ring[1], 1);
	assert_int_equal(ring[2], 0);
	assert_int_equal(ring[3], 2);
}

/* rr: every weighted backend once a turn, whatever its weight; weight 0
 * (drained, down) takes no turn. */
static void test_rr_ignores_weights(void **state)
{
	uint32_t w[3] = { 5, 0, 700 }, ring[40], n[3] = { 0 };
	struct maglev_backend be[3];

	(void)state;
	make(be, w, 3);
	assert_int_equal(rr_build(be, 3, ring, 40), 0);
	for (int i = 0; i < 40; i++)
		n[ring[i]]++;
	assert_int_equal(n[0], 20);
	assert_int_equal(n[1], 0);
	assert_int_equal(n[2], 20);
	for (int i = 1; i < 40; i++)
		assert_int_not_equal(ring[i], ring[i - 1]);
}

/* Any run of k consecutive turns gives each backend k * w / W turns, give
 * or take less than 3 (random weight sets, 0..1000, up to 32 backends):
 * the gap between the highest and lowest running deviation. */
static void test_swrr_windows(void **state)
{
	static uint32_t ring[4099];
	struct maglev_backend be[MAXB];
	uint32_t w[MAXB];
	double worst = 0;

	(void)state;
	srand(7);
	for (int t = 0; t < 200; t++) {
		size_t n = 1 + (size_t)rand() % MAXB;
		uint64_t total = 0;

		for (size_t j = 0; j < n; j++) {
			int r = rand() % 3;

			w[j] = r == 0 ? 0 : r == 1 ? 1 : 1 + rand() % 1000;
			total += w[j];
		}
		make(be, w, n);
		if (!total) {
			assert_int_equal(swrr_build(be, n, ring, 4099),
					 -ENOENT);
			continue;
		}
		assert_int_equal(swrr_build(be, n, ring, 4099), 0);
		for (size_t j = 0; j < n; j++) {
			double dev, hi = 0, lo = 0;
			uint32_t c = 0;

			for (uint32_t k = 0; k < 4099; k++) {
				c += ring[k] == j;
				dev = c - (k + 1.0) * w[j] / (double)total;
				hi = dev > hi ? dev : hi;
				lo = dev < lo ? dev : lo;
			}
			worst = hi - lo > worst ? hi - lo : worst;
		}
	}
	assert_true(worst < 3.0);
	print_message("worst window deviation %.3f turns\n", worst);
}

/* No backend with weight: -ENOENT, the ring says none. */
static void test_no_weight(void **state)
{
	uint32_t w[2] = { 0, 0 }, ring[7];
	struct maglev_backend be[2];

	(void)state;
	make(be, w, 2);
	assert_int_equal(rr_build(be, 2, ring, 7), -ENOENT);
	for (int i = 0; i < 7; i++)
		assert_int_equal(ring[i], MAGLEV_NONE);
	assert_int_equal(swrr_build(be, 0, ring, 7), -ENOENT);
}

/* lc's ring: the weighted backends once each from slot 0, then none; more
 * than XLB_LC_MAX: -E2BIG. */
static void test_members(void **state)
{
	uint32_t w[4] = { 1, 0, 30, 2 }, ring[XLB_LC_MAX + 5];
	struct maglev_backend be[MAXB];
	static uint32_t big[MAXB], bring[XLB_LC_MAX + 8];

	(void)state;
	make(be, w, 4);
	assert_int_equal(members_build(be, 4, ring, XLB_LC_MAX + 5), 0);
	static const uint32_t members[3] = { 0, 2, 3 };

	for (int i = 0; i < XLB_LC_MAX; i++)
		assert_int_equal(ring[i], members[i % 3]);
	for (int i = XLB_LC_MAX; i < XLB_LC_MAX + 5; i++)
		assert_int_equal(ring[i], MAGLEV_NONE);
	for (int i = 0; i < MAXB; i++)
		big[i] = 1;
	make(be, big, MAXB);
	assert_int_equal(members_build(be, MAXB, bring, XLB_LC_MAX + 8), 0);
	assert_true(MAXB < XLB_LC_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_swrr_cycles),
		cmocka_unit_test(test_rr_ignores_weights),
		cmocka_unit_test(test_swrr_windows),
		cmocka_unit_test(test_no_weight),
		cmocka_unit_test(test_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
