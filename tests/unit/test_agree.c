// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the agreement of peers on runtime facts
 * (user/lib/agree.c): down for every witness, suspect (drained) for
 * some, cut-off nodes, the fallback when all are suspect, the least
 * factor, views taking effect at their epoch on every node together,
 * repeats, late views, silent peers. No kernel, no network.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "addr.h"
#include "agree.h"

static struct xlb_vip_key vip;

static struct agree_entry ent(const char *addr, int down, int pct)
{
	struct agree_entry e;

	memset(&e, 0, sizeof(e));
	e.vip = vip;
	assert_int_equal(xlb_parse_addr(addr, &e.addr, &e.family), 0);
	e.down = down;
	e.factor_pct = pct;
	return e;
}

/* The VIP's backends, as every node's configuration has them. */
static const char *const backends[] = { "198.18.0.11", "198.18.0.12",
					"198.18.0.13" };
#define NBE (sizeof(backends) / sizeof(backends[0]))

static struct agree_state state_of(const struct agree *a, const char *addr)
{
	struct agree_backend be[NBE];
	struct agree_state st[NBE];
	size_t i, hit = NBE;

	for (i = 0; i < NBE; i++) {
		assert_int_equal(xlb_parse_addr(backends[i], &be[i].addr,
						&be[i].family), 0);
		if (!strcmp(backends[i], addr))
			hit = i;
	}
	assert_true(hit < NBE);
	agree_vip(a, &vip, be, NBE, st);
	return st[hit];
}

static void get(const struct agree *a, const char *addr, bool *down,
		__u8 *pct)
{
	struct agree_state st = state_of(a, addr);

	*down = st.down;
	*pct = st.factor_pct;
}

/* Out of new flows: down, or drained because some node sees it down. */
static bool is_down(const struct agree *a, const char *addr)
{
	struct agree_state st = state_of(a, addr);

	return st.down || st.drained;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(xlb_parse_vip("198.18.1.1:80/tcp", &vip), 0);
	return 0;
}

/* A view takes effect AGREE_LEAD epochs after it was announced, on this
 * node and on a peer that heard it, at the same epoch. */
static void test_epoch_switch_together(void **state)
{
	struct agree a, b;
	struct agree_entry e = ent("198.18.0.11", 1, 100);
	int64_t at;

	(void)state;
	agree_init(&a);
	agree_init(&b);
	agree_set_live(&a, 1, true);
	agree_set_live(&b, 1, true);
	at = agree_local(&a, &e, 1, 100, AGREE_LEAD);
	assert_int_equal(at, 100 + AGREE_LEAD);
	assert_int_equal(agree_peer(&b, 1, &e, 1, (uint64_t)at, 100), 0);
	for (uint64_t t = 100; t < (uint64_t)at; t++) {
		agree_tick(&a, t);
		agree_tick(&b, t);
		assert_false(is_down(&a, "198.18.0.11"));
		assert_false(is_down(&b, "198.18.0.11"));
	}
	assert_true(agree_tick(&a, (uint64_t)at));
	assert_true(agree_tick(&b, (uint64_t)at));
	assert_true(is_down(&a, "198.18.0.11"));
	assert_true(is_down(&b, "198.18.0.11"));
	assert_false(is_down(&a, "198.18.0.12"));
	agree_free(&a);
	agree_free(&b);
}

/* Down for one node of three: drained (suspect); factor: the least. */
static void test_any_down_least_factor(void **state)
{
	struct agree a;
	struct agree_entry mine[] = { ent("198.18.0.12", 0, 60) };
	struct agree_entry p1[] = { ent("198.18.0.11", 1, 100),
				    ent("198.18.0.12", 0, 80) };
	struct agree_entry p2[] = { ent("198.18.0.12", 0, 40) };
	bool down;
	__u8 pct;

	(void)state;
	agree_init(&a);
	agree_set_live(&a, 1, true);
	agree_set_live(&a, 2, true);
	agree_local(&a, mine, 1, 10, AGREE_LEAD);
	agree_peer(&a, 1, p1, 2, 12, 10);
	agree_peer(&a, 2, p2, 1, 12, 10);
	agree_tick(&a, 12);
	/* Down for one live node of three: drained, its flows stay. */
	get(&a, "198.18.0.11", &down, &pct);
	assert_false(down);
	assert_true(is_down(&a, "198.18.0.11"));
	assert_int_equal(pct, 100);
	get(&a, "198.18.0.12", &down, &pct);
	assert_false(down);
	assert_int_equal(pct, 40);
	/* A silent peer's view stops counting. */
	agree_set_live(&a, 2, false);
	get(&a, "198.18.0.12", &down, &pct);
	assert_int_equal(pct, 60);
	agree_set_live(&a, 1, false);
	assert_false(is_down(&a, "198.18.0.11"));
	agree_free(&a);
}

/* Heartbeats repeat a view: no change, and a pending view stays pending. */
static void test_repeat_and_late(void **state)
{
	struct agree a;
	struct agree_entry e = ent("198.18.0.11", 1, 100);

	(void)state;
	agree_init(&a);
	agree_set_live(&a, 1, true);
	assert_int_equal(agree_peer(&a, 1, &e, 1, 50, 48), 0);
	assert_int_equal(agree_peer(&a, 1, &e, 1, 50, 49), 0);
	assert_false(agree_tick(&a, 49));
	assert_false(is_down(&a, "198.18.0.11"));
	assert_true(agree_tick(&a, 50));
	assert_true(is_down(&a, "198.18.0.11"));
	assert_int_equal(agree_peer(&a, 1, &e, 1, 50, 51), 0);
	assert_false(agree_tick(&a, 51));
	assert_true(is_down(&a, "198.18.0.11"));
	/* Back up, heard late (its epoch passed): in effect at once. */
	assert_int_equal(agree_peer(&a, 1, NULL, 0, 52, 55), 0);
	assert_false(is_down(&a, "198.18.0.11"));
	agree_free(&a);
}

/* Peers out of range are refused; an unknown peer's view counts only
 * once it is live. */
static void test_bounds_and_liveness(void **state)
{
	struct agree a;
	struct agree_entry e = ent("198.18.0.11", 1, 100);

	(void)state;
	agree_init(&a);
	assert_int_equal(agree_peer(&a, 0, &e, 1, 5, 5), -EINVAL);
	assert_int_equal(agree_peer(&a, AGREE_MAX_NODES, &e, 1, 5, 5),
			 -EINVAL);
	assert_int_equal(agree_peer(&a, 3, &e, 1, 5, 5), 0);
	agree_tick(&a, 5);
	assert_false(is_down(&a, "198.18.0.11"));
	agree_set_live(&a, 3, true);
	assert_int_equal(agree_peer(&a, 3, &e, 1, 5, 6), 0);
	assert_true(is_down(&a, "198.18.0.11"));
	assert_int_equal(agree_epoch_of(1000ULL * AGREE_EPOCH_MS + 1), 1000);
	agree_free(&a);
}

/* Down only when every live node sees it down; for some, drained. */
static void test_all_down_is_down(void **state)
{
	struct agree a;
	struct agree_entry e = ent("198.18.0.11", 1, 100);
	bool down;
	__u8 pct;

	(void)state;
	agree_init(&a);
	agree_set_live(&a, 1, true);
	assert_int_equal(agree_peer(&a, 1, NULL, 0, 10, 10), 0);
	agree_local(&a, &e, 1, 10, 0);
	agree_tick(&a, 10);
	get(&a, "198.18.0.11", &down, &pct);
	assert_false(down);
	assert_true(is_down(&a, "198.18.0.11"));
	agree_peer(&a, 1, &e, 1, 11, 10);
	agree_tick(&a, 11);
	get(&a, "198.18.0.11", &down, &pct);
	assert_true(down);
	/* Alone (the peer silent): our own view decides. */
	agree_set_live(&a, 1, false);
	get(&a, "198.18.0.11", &down, &pct);
	assert_true(down);
	agree_free(&a);
}

/* A node that sees every backend of the VIP down is cut off: its view
 * does not take them from the group (a node back from a partition before
 * its checks pass). When every node sees them all down, they are down. */
static void test_cut_off_node(void **state)
{
	struct agree a;
	struct agree_entry all[] = { ent("198.18.0.11", 1, 100),
				     ent("198.18.0.12", 1, 100),
				     ent("198.18.0.13", 1, 100) };
	bool down;
	__u8 pct;

	(void)state;
	agree_init(&a);
	agree_set_live(&a, 1, true);
	agree_local(&a, NULL, 0, 10, 0);
	agree_peer(&a, 1, all, NBE, 10, 10);
	agree_tick(&a, 10);
	for (size_t i = 0; i < NBE; i++) {
		assert_false(is_down(&a, backends[i]));
		assert_false(state_of(&a, backends[i]).suspect);
	}
	/* A third node sees one down: that one is drained; the cut-off
	 * node's view does not make the others suspect too (then none
	 * could take new flows, and all would stay in). */
	agree_set_live(&a, 2, true);
	agree_peer(&a, 2, all, 1, 10, 10);
	agree_tick(&a, 10);
	assert_true(is_down(&a, "198.18.0.11"));
	assert_false(is_down(&a, "198.18.0.12"));
	agree_set_live(&a, 2, false);
	/* One backend fewer in its view: it witnesses again. */
	agree_peer(&a, 1, all, NBE - 1, 11, 11);
	agree_tick(&a, 11);
	assert_true(is_down(&a, "198.18.0.11"));
	get(&a, "198.18.0.11", &down, &pct);
	assert_false(down);
	/* Everyone sees all down: down. */
	agree_peer(&a, 1, all, NBE, 12, 12);
	agree_local(&a, all, NBE, 12, 0);
	agree_tick(&a, 12);
	for (size_t i = 0; i < NBE; i++) {
		get(&a, backends[i], &down, &pct);
		assert_true(down);
	}
	agree_free(&a);
}

/* Suspects (down for some) take no new flows while another backend can;
 * when every backend is suspect, they all stay in. */
static void test_suspects_fall_back(void **state)
{
	struct agree a;
	struct agree_entry mine[] = { ent("198.18.0.13", 1, 100) };
	struct agree_entry p1[] = { ent("198.18.0.11", 1, 100),
				    ent("198.18.0.12", 1, 100) };
	struct agree_state st;

	(void)state;
	agree_init(&a);
	agree_set_live(&a, 1, true);
	agree_local(&a, mine, 1, 10, 0);
	agree_peer(&a, 1, p1, 1, 10, 10);
	agree_tick(&a, 10);
	st = state_of(&a, "198.18.0.11");
	assert_true(st.suspect && st.drained && !st.down);
	assert_true(state_of(&a, "198.18.0.13").drained);
	assert_false(is_down(&a, "198.18.0.12"));
	agree_peer(&a, 1, p1, 2, 11, 11);
	agree_tick(&a, 11);
	for (size_t i = 0; i < NBE; i++) {
		st = state_of(&a, backends[i]);
		assert_true(st.suspect);
		assert_false(st.drained || st.down);
	}
	agree_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch_switch_together),
		cmocka_unit_test(test_any_down_least_factor),
		cmocka_unit_test(test_all_down_is_down),
		cmocka_unit_test(test_cut_off_node),
		cmocka_unit_test(test_suspects_fall_back),
		cmocka_unit_test(test_repeat_and_late),
		cmocka_unit_test(test_bounds_and_liveness),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
