// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for xlbd's event loop (user/xlbd/loop.c): timers fire in
 * deadline order and never after a cancel, whatever the mix of arms and
 * cancels; an fd deleted during a round gets no stale event even when its
 * number is reused at once; a timer re-arming itself with delay 0 cannot
 * hold a round. Random choices come from a fixed xorshift, so a failure
 * repeats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "loop.h"

#define NT	500

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct fired {
	struct loop_timer t;
	bool cancelled;
	int count;
	uint64_t due;
};

static uint64_t last_due;
static int nfired;

static void on_timer(void *arg)
{
	struct fired *f = arg;

	assert_false(f->cancelled);
	assert_true(f->t.due_ms >= last_due);	/* deadline order */
	assert_true(loop_now_ms() >= f->t.due_ms);
	last_due = f->t.due_ms;
	f->count++;
	nfired++;
}

static void test_timer_order(void **state)
{
	static struct fired f[NT];
	struct loop *l = loop_new();
	uint64_t seed = 88172645463325252ULL;
	int i, armed = 0;

	(void)state;
	assert_non_null(l);
	last_due = nfired = 0;
	for (i = 0; i < NT; i++) {
		loop_timer_init(&f[i].t, on_timer, &f[i]);
		assert_int_equal(loop_timer_arm(l, &f[i].t,
						next_rand(&seed) % 60), 0);
	}
	/* Cancel some, re-arm others (moving them in the heap). */
	for (i = 0; i < NT; i++) {
		switch (next_rand(&seed) % 3) {
		case 0:
			loop_timer_cancel(l, &f[i].t);
			loop_timer_cancel(l, &f[i].t);	/* twice: no-op */
			f[i].cancelled = true;
			assert_false(loop_timer_armed(&f[i].t));
			break;
		case 1:
			loop_timer_arm(l, &f[i].t, next_rand(&seed) % 60);
			/* fall through */
		default:
			armed++;
		}
	}
	while (nfired < armed)
		assert_int_equal(loop_once(l, 200), 0);
	for (i = 0; i < NT; i++)
		assert_int_equal(f[i].count, f[i].cancelled ? 0 : 1);
	loop_free(l);
}

/* Two readable pipes; whichever runs first deletes and closes both, and
 * registers a new, idle pipe at the number of the other, whose event is
 * still queued in this round: that event must not reach the new one. */
struct fdcase {
	struct loop *l;
	int p[2][2];
	int q[2];
	int calls, stale;
	struct side {
		struct fdcase *c;
		int i;
	} side[2];
};

static void on_stale(void *arg, uint32_t revents)
{
	struct fdcase *c = arg;

	(void)revents;
	c->stale++;
}

static void on_read(void *arg, uint32_t revents)
{
	struct side *sd = arg;
	struct fdcase *c = sd->c;
	int other = c->p[!sd->i][0];

	assert_true(revents & EPOLLIN);
	assert_int_equal(c->calls++, 0);
	/* Made first, so that its write end cannot take the number. */
	assert_int_equal(pipe(c->q), 0);
	loop_del(c->l, c->p[0][0]);
	loop_del(c->l, c->p[1][0]);
	close(c->p[0][0]);
	close(c->p[1][0]);
	assert_int_equal(dup2(c->q[0], other), other);
	close(c->q[0]);
	c->q[0] = other;
	assert_int_equal(loop_add(c->l, c->q[0], EPOLLIN, on_stale, c), 0);
}

static void test_fd_deleted_in_round(void **state)
{
	struct fdcase c = {};
	int i;

	(void)state;
	c.l = loop_new();
	assert_non_null(c.l);
	for (i = 0; i < 2; i++) {
		c.side[i] = (struct side){ &c, i };
		assert_int_equal(pipe(c.p[i]), 0);
		assert_int_equal(write(c.p[i][1], "x", 1), 1);
		assert_int_equal(loop_add(c.l, c.p[i][0], EPOLLIN, on_read,
					  &c.side[i]), 0);
	}
	assert_int_equal(loop_add(c.l, c.p[0][0], EPOLLIN, on_read, &c),
			 -EEXIST);
	assert_int_equal(loop_once(c.l, 1000), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.stale, 0);
	assert_int_equal(loop_once(c.l, 10), 0);	/* q is idle */
	assert_int_equal(c.stale, 0);
	assert_int_equal(loop_del(c.l, c.q[0]), 0);
	assert_int_equal(loop_del(c.l, c.q[0]), -ENOENT);
	for (i = 0; i < 2; i++) {
		close(c.p[i][1]);
		close(c.q[i]);
	}
	loop_free(c.l);
}

static int rearms;
static struct loop *rearm_loop;

static void on_rearm(void *arg)
{
	rearms++;
	loop_timer_arm(rearm_loop, arg, 0);
}

static void test_rearm_zero(void **state)
{
	struct loop_timer t;

	(void)state;
	rearm_loop = loop_new();
	assert_non_null(rearm_loop);
	loop_timer_init(&t, on_rearm, &t);
	assert_int_equal(loop_timer_arm(rearm_loop, &t, 0), 0);
	rearms = 0;
	assert_int_equal(loop_once(rearm_loop, 100), 0);	/* returns */
	assert_int_equal(rearms, 1);
	assert_true(loop_timer_armed(&t));
	loop_timer_cancel(rearm_loop, &t);
	loop_free(rearm_loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_fd_deleted_in_round),
		cmocka_unit_test(test_rearm_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
