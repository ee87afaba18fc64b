// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the weighted Maglev table builder (user/lib/maglev.c).
 *
 * Flows are simulated by hashing a flow index with splitmix64, which shares
 * nothing with the builder's id hash, and taking it modulo the table size, as
 * the data path does with its flow hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "maglev.h"

#define TABLE_SIZE	65537
#define NFLOWS		100000
#define MAX_BE		1000
#define ID_LEN		4

/* Absolute tolerances on shares, justified where they are used. */
#define FLOW_SHARE_TOL	0.01
#define SLOT_SHARE_TOL	0.005
#define DISRUPT_TOL	0.01

static uint32_t table_a[TABLE_SIZE];
static uint32_t table_b[TABLE_SIZE];
static uint8_t ids[MAX_BE][ID_LEN];

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint32_t flow_slot(uint32_t flow)
{
	return splitmix64(flow) % TABLE_SIZE;
}

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

/* Backend i gets id 10.0.hi.lo (i + 1) and value i, so a table entry is the
 * backend's index in the array it was built from. */
static void make_backends(struct maglev_backend *be, size_t n,
			  const uint32_t *weights)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ids[i][0] = 10;
		ids[i][1] = 0;
		ids[i][2] = (uint8_t)((i + 1) >> 8);
		ids[i][3] = (uint8_t)(i + 1);
		be[i].id = ids[i];
		be[i].id_len = ID_LEN;
		be[i].weight = weights ? weights[i] : 1;
		be[i].value = (uint32_t)i;
	}
}

/* Also checks that the table is full: every entry names a backend. */
static void count_slots(const uint32_t *table, size_t n, uint32_t *counts)
{
	uint32_t s;

	memset(counts, 0, n * sizeof(*counts));
	for (s = 0; s < TABLE_SIZE; s++) {
		assert_true(table[s] < n);
		counts[table[s]]++;
	}
}

static void count_flows(const uint32_t *table, size_t n, uint32_t *counts)
{
	uint32_t f;

	memset(counts, 0, n * sizeof(*counts));
	for (f = 0; f < NFLOWS; f++) {
		uint32_t v = table[flow_slot(f)];

		assert_true(v < n);
		counts[v]++;
	}
}

static void check_weight_shares(const uint32_t *weights, size_t n)
{
	struct maglev_backend be[16];
	uint32_t slots[16], flows[16];
	double total = 0;
	size_t i;

	assert_true(n <= 16);
	make_backends(be, n, weights);
	assert_int_equal(maglev_build(be, n, table_a, TABLE_SIZE), 0);
	count_slots(table_a, n, slots);
	count_flows(table_a, n, flows);

	for (i = 0; i < n; i++)
		total += weights[i];
	for (i = 0; i < n; i++) {
		double want = weights[i] / total;
		double slot_share = (double)slots[i] / TABLE_SIZE;
		double flow_share = (double)flows[i] / NFLOWS;

		/* The table is exact apart from quantisation: a backend can
		 * be off by at most N slots of 65537 (< 0.0003 for N <= 16),
		 * far inside 0.005. A builder that ignores weights is off by
		 * 0.15 for {1,2,3,4}. */
		assert_true(dabs(slot_share - want) <= SLOT_SHARE_TOL);
		/* Each flow lands on backend i with probability p = its slot
		 * share, so its flow share is binomial with standard
		 * deviation sqrt(p(1-p)/n) <= sqrt(0.25/100000) = 0.0016.
		 * 0.01 is over 6 sigma on top of the quantisation above, so
		 * this cannot fail by chance (and the flow hash is fixed). */
		assert_true(dabs(flow_share - want) <= FLOW_SHARE_TOL);
	}
}

static void test_weights_1234(void **state)
{
	static const uint32_t w[] = { 1, 2, 3, 4 };

	(void)state;
	check_weight_shares(w, 4);
}

static void test_weights_equal10(void **state)
{
	static const uint32_t w[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

	(void)state;
	check_weight_shares(w, 10);
}

/* Large and lopsided weights exercise the full weight range. */
static void test_weights_wide(void **state)
{
	static const uint32_t w[] = { MAGLEV_MAX_WEIGHT, 30000, 1000, 7 };

	(void)state;
	check_weight_shares(w, 4);
}

/* Many backends: all get a near-equal cut and the table is full. */
static void test_many_backends(void **state)
{
	static struct maglev_backend be[MAX_BE];
	static uint32_t slots[MAX_BE];
	size_t i;

	(void)state;
	make_backends(be, MAX_BE, NULL);
	assert_int_equal(maglev_build(be, MAX_BE, table_a, TABLE_SIZE), 0);
	count_slots(table_a, MAX_BE, slots);
	/* 65537 / 1000 = 65.5: equal weights leave each 65 or 66. */
	for (i = 0; i < MAX_BE; i++)
		assert_in_range(slots[i], 65, 66);
}

/*
 * Disruption bounds. Maglev trades a little disruption for balance: when a
 * backend leaves or joins, some flows between unchanged backends move too.
 * The paper (section 3.4, figure 3) shows this extra churn is small when the
 * table is much larger than the backend count, and it shrinks as M/N grows.
 * With M = 65537, N = 10 the flows measured here were 0.20-0.35% of all flows
 * moving between survivors over removing each of the 10 backends in turn, and
 * 0.28% for adding an 11th. 1% leaves about three times headroom, yet a
 * builder that reshuffles (e.g. modulo-N placement, ~90% moved) fails it.
 */
#define DISRUPT_N	10

static void test_disruption_remove(void **state)
{
	struct maglev_backend be[DISRUPT_N], rest[DISRUPT_N - 1];
	const uint32_t gone = 3;
	uint32_t f, stayed_moved = 0, moved = 0, i, k = 0;

	(void)state;
	make_backends(be, DISRUPT_N, NULL);
	for (i = 0; i < DISRUPT_N; i++)
		if (i != gone)
			rest[k++] = be[i];
	assert_int_equal(maglev_build(be, DISRUPT_N, table_a, TABLE_SIZE), 0);
	assert_int_equal(maglev_build(rest, DISRUPT_N - 1, table_b,
				      TABLE_SIZE), 0);

	for (f = 0; f < NFLOWS; f++) {
		uint32_t s = flow_slot(f);

		assert_true(table_b[s] < DISRUPT_N);
		/* Flows of the removed backend have nowhere else to go. */
		assert_int_not_equal(table_b[s], gone);
		if (table_a[s] != table_b[s]) {
			moved++;
			if (table_a[s] != gone)
				stayed_moved++;
		}
	}
	assert_true((double)stayed_moved / NFLOWS <= DISRUPT_TOL);
	/* The removed backend held ~1/N; everything else is extra churn. */
	assert_true((double)moved / NFLOWS <= 1.0 / DISRUPT_N + DISRUPT_TOL);
}

static void test_disruption_add(void **state)
{
	struct maglev_backend be[DISRUPT_N + 1];
	const uint32_t added = DISRUPT_N;
	uint32_t f, old_moved = 0, moved = 0, to_new = 0;

	(void)state;
	make_backends(be, DISRUPT_N + 1, NULL);
	assert_int_equal(maglev_build(be, DISRUPT_N, table_a, TABLE_SIZE), 0);
	assert_int_equal(maglev_build(be, DISRUPT_N + 1, table_b,
				      TABLE_SIZE), 0);

	for (f = 0; f < NFLOWS; f++) {
		uint32_t s = flow_slot(f);

		if (table_a[s] == table_b[s])
			continue;
		moved++;
		if (table_b[s] == added)
			to_new++;
		else
			old_moved++;
	}
	/* The new backend must take its share (1/(N+1)), see the weight
	 * tests for why 0.01 is safe. */
	assert_true(dabs((double)to_new / NFLOWS - 1.0 / (DISRUPT_N + 1)) <=
		    FLOW_SHARE_TOL);
	assert_true((double)old_moved / NFLOWS <= DISRUPT_TOL);
	assert_true((double)moved / NFLOWS <=
		    1.0 / (DISRUPT_N + 1) + DISRUPT_TOL);
}

/* Same set in a different array order: byte-identical table. Mixed weights
 * so that fill order matters; values follow the backend, not the index. */
static void test_deterministic_order(void **state)
{
	static const uint32_t w[] = { 5, 1, 9, 3, 3, 7, 2, 8 };
	static const size_t perm[] = { 6, 2, 7, 0, 4, 1, 5, 3 };
	struct maglev_backend be[8], shuffled[8], reversed[8];
	size_t i;

	(void)state;
	make_backends(be, 8, w);
	for (i = 0; i < 8; i++) {
		shuffled[i] = be[perm[i]];
		reversed[i] = be[7 - i];
	}

	assert_int_equal(maglev_build(be, 8, table_a, TABLE_SIZE), 0);
	assert_int_equal(maglev_build(shuffled, 8, table_b, TABLE_SIZE), 0);
	assert_memory_equal(table_a, table_b, sizeof(table_a));
	assert_int_equal(maglev_build(reversed, 8, table_b, TABLE_SIZE), 0);
	assert_memory_equal(table_a, table_b, sizeof(table_a));
}

static void test_bad_size(void **state)
{
	struct maglev_backend be[3];

	(void)state;
	make_backends(be, 3, NULL);
	assert_int_equal(maglev_build(be, 3, table_a, 65536), -EINVAL);
	assert_int_equal(maglev_build(be, 3, table_a, 65535), -EINVAL);
	assert_int_equal(maglev_build(be, 3, table_a, 0), -EINVAL);
	assert_int_equal(maglev_build(be, 3, table_a, 1), -EINVAL);
	assert_int_equal(maglev_build(be, 3, table_a, 251), 0);
}

static void test_duplicate_ids(void **state)
{
	static const uint8_t dup[ID_LEN] = { 10, 0, 0, 2 };
	static const uint8_t ab[] = { 'a', 'b' }, abc[] = { 'a', 'b', 'c' };
	struct maglev_backend be[3];

	(void)state;
	make_backends(be, 3, NULL);
	/* Same bytes, different storage, weight and value: still a dup. */
	be[2].id = dup;
	be[2].weight = 5;
	assert_int_equal(maglev_build(be, 3, table_a, TABLE_SIZE), -EINVAL);
	/* Even a drained duplicate is ambiguous. */
	be[2].weight = 0;
	assert_int_equal(maglev_build(be, 3, table_a, TABLE_SIZE), -EINVAL);

	/* A prefix is a different id. */
	be[0].id = ab;
	be[0].id_len = sizeof(ab);
	be[1].id = abc;
	be[1].id_len = sizeof(abc);
	assert_int_equal(maglev_build(be, 2, table_a, TABLE_SIZE), 0);
}

static void test_weight_too_big(void **state)
{
	struct maglev_backend be[3];

	(void)state;
	make_backends(be, 3, NULL);
	be[1].weight = MAGLEV_MAX_WEIGHT + 1;
	assert_int_equal(maglev_build(be, 3, table_a, TABLE_SIZE), -EINVAL);
	be[1].weight = MAGLEV_MAX_WEIGHT;
	assert_int_equal(maglev_build(be, 3, table_a, TABLE_SIZE), 0);
}

static void assert_all_none(const uint32_t *table)
{
	uint32_t s;

	for (s = 0; s < TABLE_SIZE; s++)
		assert_int_equal(table[s], MAGLEV_NONE);
}

static void test_all_weights_zero(void **state)
{
	static const uint32_t w[] = { 0, 0, 0 };
	struct maglev_backend be[3];

	(void)state;
	make_backends(be, 3, w);
	memset(table_a, 0x5a, sizeof(table_a));
	assert_int_equal(maglev_build(be, 3, table_a, TABLE_SIZE), -ENOENT);
	assert_all_none(table_a);

	memset(table_a, 0x5a, sizeof(table_a));
	assert_int_equal(maglev_build(be, 0, table_a, TABLE_SIZE), -ENOENT);
	assert_all_none(table_a);
}

static void test_zero_weight_no_slots(void **state)
{
	static const uint32_t w[] = { 1, 0, 1, 1 };
	struct maglev_backend be[4];
	uint32_t slots[4];

	(void)state;
	make_backends(be, 4, w);
	assert_int_equal(maglev_build(be, 4, table_a, TABLE_SIZE), 0);
	count_slots(table_a, 4, slots);
	assert_int_equal(slots[1], 0);
	assert_true(slots[0] > 0);
	assert_true(slots[2] > 0);
	assert_true(slots[3] > 0);
}

static void test_is_prime(void **state)
{
	(void)state;
	assert_true(maglev_is_prime(2));
	assert_true(maglev_is_prime(3));
	assert_true(maglev_is_prime(251));
	assert_true(maglev_is_prime(65537));
	assert_true(maglev_is_prime(4294967291U));	/* largest 32-bit */
	assert_false(maglev_is_prime(0));
	assert_false(maglev_is_prime(1));
	assert_false(maglev_is_prime(4));
	assert_false(maglev_is_prime(65535));
	assert_false(maglev_is_prime(65536));
	assert_false(maglev_is_prime(65539 * 3));
	assert_false(maglev_is_prime(65521U * 65521U));	/* prime square */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_weights_1234),
		cmocka_unit_test(test_weights_equal10),
		cmocka_unit_test(test_weights_wide),
		cmocka_unit_test(test_many_backends),
		cmocka_unit_test(test_disruption_remove),
		cmocka_unit_test(test_disruption_add),
		cmocka_unit_test(test_deterministic_order),
		cmocka_unit_test(test_bad_size),
		cmocka_unit_test(test_duplicate_ids),
		cmocka_unit_test(test_weight_too_big),
		cmocka_unit_test(test_all_weights_zero),
		cmocka_unit_test(test_zero_weight_no_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
