// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the checker's min-heap of (time, id) (user/lib/timeheap.c):
 * order, taking entries out from the middle with tracked places, and that
 * a reserve means no reallocation. Times come from a fixed xorshift, so a
 * failure repeats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "timeheap.h"

#define N	2000

static __u64 next_rand(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Every parent is due no later than its children, and every tracked
 * entry's place is where it is. */
static void assert_heap(const struct timeheap *hp)
{
	size_t k;

	for (k = 1; k < hp->n; k++)
		assert_true(hp->e[(k - 1) / 4].due <= hp->e[k].due);
	if (hp->pos)
		for (k = 0; k < hp->n; k++)
			assert_int_equal(hp->pos[hp->e[k].id], k);
}

static void test_pops_in_order(void **state)
{
	struct timeheap hp = {};
	__u64 s = 88172645463325252ULL, last = 0;
	int seen[N] = {};
	size_t i;

	(void)state;
	for (i = 0; i < N; i++)
		/* Small range: many equal times as well. */
		assert_int_equal(timeheap_push(&hp, next_rand(&s) % 500, i), 0);
	assert_int_equal(hp.n, N);
	assert_heap(&hp);
	for (i = 0; i < N; i++) {
		assert_true(hp.e[0].due >= last);
		last = hp.e[0].due;
		assert_int_equal(seen[hp.e[0].id]++, 0);
		timeheap_del(&hp, 0);
	}
	assert_int_equal(hp.n, 0);
	timeheap_free(&hp);
	assert_null(hp.e);
}

static void test_tracked_delete_from_middle(void **state)
{
	struct timeheap hp = {};
	__u32 pos[N];
	__u64 s = 0x9e3779b97f4a7c15ULL, due[N];
	bool in[N] = {};
	size_t i, left = 0;

	(void)state;
	memset(pos, 0xff, sizeof(pos));
	hp.pos = pos;
	for (i = 0; i < N; i++) {
		due[i] = next_rand(&s) % 100000;
		assert_int_equal(timeheap_push(&hp, due[i], i), 0);
		in[i] = true;
		left++;
	}
	assert_heap(&hp);
	/* Take out a random half by id, as checks that end early do. */
	for (i = 0; i < N / 2; i++) {
		__u32 id = next_rand(&s) % N;

		if (!in[id]) {
			assert_int_equal(pos[id], TIMEHEAP_NO_POS);
			continue;
		}
		assert_int_equal(hp.e[pos[id]].id, id);
		assert_true(hp.e[pos[id]].due == due[id]);
		timeheap_del(&hp, pos[id]);
		assert_int_equal(pos[id], TIMEHEAP_NO_POS);
		in[id] = false;
		left--;
		assert_heap(&hp);
	}
	assert_int_equal(hp.n, left);
	/* What is left comes out in order, and is exactly what is in. */
	while (hp.n) {
		__u32 id = hp.e[0].id;
		__u64 d = hp.e[0].due;

		assert_true(in[id]);
		in[id] = false;
		timeheap_del(&hp, 0);
		assert_true(!hp.n || hp.e[0].due >= d);
	}
	for (i = 0; i < N; i++)
		assert_false(in[i]);
	timeheap_free(&hp);
}

static void test_reserve_holds(void **state)
{
	struct timeheap hp = {};
	struct timeheap_ent *e;
	size_t i;

	(void)state;
	assert_int_equal(timeheap_reserve(&hp, N), 0);
	e = hp.e;
	for (i = 0; i < N; i++)
		assert_int_equal(timeheap_push(&hp, N - i, i), 0);
	assert_ptr_equal(hp.e, e);	/* no reallocation up to the reserve */
	assert_int_equal(hp.e[0].id, N - 1);
	assert_int_equal(timeheap_push(&hp, 0, N), 0);	/* grows past it */
	assert_true(hp.cap > N);
	assert_int_equal(hp.e[0].id, N);
	timeheap_free(&hp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pops_in_order),
		cmocka_unit_test(test_tracked_delete_from_middle),
		cmocka_unit_test(test_reserve_holds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
