// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for xlbd's state model (user/xlbd/state.c): effective weights
 * from configuration and verdicts, which verdicts re-apply a VIP, carrying
 * verdicts across a reload, and the verdict file. No kernel needed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "state.h"

/* Two checked backends and one unchecked (its own check: none). */
static const char yaml[] =
	"vips:\n"
	"  - vip: 198.18.1.1:80/tcp\n"
	"    check: tcp\n"
	"    backends:\n"
	"      - addr: 198.18.0.11\n"
	"        weight: 100\n"
	"      - addr: 198.18.0.12\n"
	"        weight: 50\n"
	"      - addr: 198.18.0.13\n"
	"        check: none\n";

static void load(struct xlb_conf *c, const char *text)
{
	char err[CONF_ERR_MAX] = "";

	conf_init(c);
	assert_int_equal(conf_parse_string(text, "test", c, err, sizeof(err)),
			 0);
}

static struct conf_vip *vip0(struct xlb_conf *c)
{
	assert_true(c->nvips > 0);
	return &c->vips[0];
}

static struct verdict verdict(const char *vip, const char *addr, __u8 state,
			      float factor)
{
	struct verdict v = { .state = state, .factor = factor };

	assert_int_equal(xlb_parse_vip(vip, &v.vip), 0);
	assert_int_equal(xlb_parse_addr(addr, &v.addr, &v.family), 0);
	strcpy(v.why, "test");
	return v;
}

static void test_spec(void **s)
{
	struct xlb_backend_spec sp;
	struct xlb_conf c;
	struct conf_vip *v;

	(void)s;
	load(&c, yaml);
	v = vip0(&c);
	/* Unknown counts as up. */
	state_backend_spec(v, &v->be[0], false, &sp);
	assert_false(sp.down);
	assert_int_equal(sp.weight, 100);
	/* Down leaves the ring; drained keeps its slot at weight 0. */
	v->be[0].health = HEALTH_DOWN;
	state_backend_spec(v, &v->be[0], false, &sp);
	assert_true(sp.down);
	assert_int_equal(state_effective_weight(v, &v->be[0]), 0);
	v->be[1].drained = true;
	state_backend_spec(v, &v->be[1], false, &sp);
	assert_false(sp.down);
	assert_int_equal(sp.weight, 0);
	/* An unchecked backend ignores any verdict it carries. */
	v->be[2].health = HEALTH_DOWN;
	state_backend_spec(v, &v->be[2], false, &sp);
	assert_false(sp.down);
	assert_int_equal(sp.weight, 100);
	conf_free(&c);
}

static void test_adaptive(void **s)
{
	struct xlb_conf c;
	struct conf_vip *v;

	(void)s;
	load(&c, yaml);
	v = vip0(&c);
	v->be[0].factor = 0.5f;
	/* Off: the factor is kept but not used. */
	assert_int_equal(state_effective_weight(v, &v->be[0]), 100);
	v->adaptive = CONF_ADAPTIVE_LATENCY;
	assert_int_equal(state_effective_weight(v, &v->be[0]), 50);
	/* Scaled, never to zero. */
	v->be[1].weight = 1;
	v->be[1].factor = 0.1f;
	assert_int_equal(state_effective_weight(v, &v->be[1]), 1);
	conf_free(&c);
}

static void test_all_down(void **s)
{
	struct xlb_conf c;
	struct conf_vip *v;

	(void)s;
	load(&c, "vips:\n"
		 "  - vip: 198.18.1.1:80/tcp\n"
		 "    check: tcp\n"
		 "    backends:\n"
		 "      - addr: 198.18.0.11\n"
		 "      - addr: 198.18.0.12\n");
	v = vip0(&c);
	v->be[0].health = HEALTH_DOWN;
	assert_false(state_fail_open(v));
	v->be[1].health = HEALTH_DOWN;
	/* Open by default: every one down puts them all back. */
	assert_true(state_fail_open(v));
	assert_int_equal(state_effective_weight(v, &v->be[0]), 100);
	v->all_down = CONF_ALL_DOWN_DROP;
	assert_false(state_fail_open(v));
	assert_int_equal(state_effective_weight(v, &v->be[0]), 0);
	conf_free(&c);
}

/* Which verdicts must re-apply the VIP: exactly those that move its
 * effective set. Unknown -> up does not; up -> down does; a down that
 * makes every backend down flips all-down and moves them all. */
static void test_set_verdict(void **s)
{
	const char *vip = "198.18.1.1:80/tcp";
	struct verdict ev;
	struct xlb_conf c;
	__u8 old = 99;

	(void)s;
	load(&c, yaml);
	ev = verdict(vip, "198.18.0.11", HEALTH_UP, 1);
	assert_int_equal(state_set_verdict(&c, &ev, &old), 0);
	assert_int_equal(old, HEALTH_UNKNOWN);
	assert_int_equal(c.vips[0].be[0].health, HEALTH_UP);
	ev = verdict(vip, "198.18.0.11", HEALTH_DOWN, 1);
	assert_int_equal(state_set_verdict(&c, &ev, &old), 1);
	assert_int_equal(old, HEALTH_UP);
	/* Back up: it moves again (a stranded backend is the bug this
	 * level-triggered rule prevents). */
	ev = verdict(vip, "198.18.0.11", HEALTH_UP, 1);
	assert_int_equal(state_set_verdict(&c, &ev, &old), 1);
	/* Unknown backend, unknown VIP. */
	ev = verdict(vip, "198.18.0.99", HEALTH_UP, 1);
	assert_int_equal(state_set_verdict(&c, &ev, &old), -ENOENT);
	ev = verdict("198.18.1.2:80/tcp", "198.18.0.11", HEALTH_UP, 1);
	assert_int_equal(state_set_verdict(&c, &ev, &old), -ENOENT);
	conf_free(&c);
}

/* A backend's lives: a verdict on an earlier one (deleted and added
 * again, or back from maint, while the check ran) is refused; one on
 * this life, or on any (born 0, the verdict file), taken. start-down: a
 * new life begins down under a checked VIP, unknown without checks. */
static void test_lives(void **s)
{
	const char *vip = "198.18.1.1:80/tcp";
	struct conf_backend *b;
	struct verdict ev;
	struct xlb_conf c;
	__u32 first;
	__u8 old;

	(void)s;
	load(&c, yaml);
	b = &vip0(&c)->be[0];
	state_backend_new(vip0(&c), b, false);
	first = b->born;
	assert_int_not_equal(first, 0);
	ev = verdict(vip, "198.18.0.11", HEALTH_UP, 1);
	ev.born = first;
	assert_int_equal(state_set_verdict(&c, &ev, &old), 0);
	assert_int_equal(b->health, HEALTH_UP);
	state_backend_new(vip0(&c), b, false);		/* deleted and added again */
	assert_int_not_equal(b->born, first);
	assert_int_equal(b->health, HEALTH_UNKNOWN);
	ev.state = HEALTH_DOWN;
	assert_int_equal(state_set_verdict(&c, &ev, &old), -ENOENT);
	assert_int_equal(b->health, HEALTH_UNKNOWN);
	ev.born = 0;
	assert_int_equal(state_set_verdict(&c, &ev, &old), 1);
	assert_int_equal(b->health, HEALTH_DOWN);
	vip0(&c)->start_down = CONF_ON;
	state_backend_new(vip0(&c), b, false);
	assert_int_equal(b->health, HEALTH_DOWN);
	b = &vip0(&c)->be[2];			/* check: none */
	state_backend_new(vip0(&c), b, false);
	assert_int_equal(b->health, HEALTH_UNKNOWN);
	conf_free(&c);
}

/* Panic: under the threshold share of backends up (drained and maint
 * ones not counted), down ones stay in the ring. Slow start: steps of 5
 * up to the window, the view publishes the step, the weight follows. */
static void test_panic_ramp(void **s)
{
	struct xlb_backend_spec spec;
	struct agree_entry *e;
	struct conf_vip *v;
	struct xlb_conf c;
	long n;

	(void)s;
	load(&c, yaml);
	v = vip0(&c);
	v->be[2].check.type = CONF_CHECK_TCP;	/* all three checked */
	v->panic_pct = 50;
	v->be[0].health = HEALTH_DOWN;
	assert_false(state_panic(v));		/* 2 of 3 up */
	v->be[1].health = HEALTH_DOWN;
	assert_true(state_panic(v));		/* 1 of 3 */
	state_backend_spec(v, &v->be[0], state_fail_open(v), &spec);
	assert_false(spec.down);
	v->be[2].drained = true;		/* 0 of 2 counted up */
	assert_true(state_panic(v));
	v->be[0].maint = v->be[1].maint = true;	/* none counted */
	assert_false(state_panic(v));
	v->panic_pct = 0;
	v->be[0].maint = v->be[1].maint = v->be[2].drained = false;
	state_backend_spec(v, &v->be[0], state_fail_open(v), &spec);
	assert_true(spec.down);

	v->be[0].health = v->be[1].health = HEALTH_UP;
	v->slow_start_ms = 4000;
	state_ramp_begin(v, &v->be[1], 1000);
	assert_int_equal(v->be[1].ramp_pct, STATE_RAMP_STEP);
	assert_int_equal(state_ramp_pct(v, &v->be[1], 1000), 5);
	assert_int_equal(state_ramp_pct(v, &v->be[1], 3000), 55);
	assert_int_equal(state_ramp_pct(v, &v->be[1], 4700), 95);
	assert_int_equal(state_ramp_pct(v, &v->be[1], 4900), 0);	/* full */
	assert_int_equal(state_ramp_pct(v, &v->be[1], 5000), 0);
	v->be[1].ramp_pct = 50;
	assert_int_equal(state_effective_weight(v, &v->be[1]), 25);
	n = state_local_view(&c, &e);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].factor_pct, 50);
	free(e);
	conf_free(&c);
}

static void test_set_verdict_all_down(void **s)
{
	const char *vip = "198.18.1.1:80/tcp";
	struct verdict ev;
	struct xlb_conf c;
	__u8 old;

	(void)s;
	load(&c, "vips:\n"
		 "  - vip: 198.18.1.1:80/tcp\n"
		 "    check: tcp\n"
		 "    backends:\n"
		 "      - addr: 198.18.0.11\n"
		 "      - addr: 198.18.0.12\n");
	ev = verdict(vip, "198.18.0.11", HEALTH_DOWN, 1);
	assert_int_equal(state_set_verdict(&c, &ev, &old), 1);
	/* The last one down: its own spec stays "in" (open), but the VIP's
	 * all-down state flips, which puts .11 back: it must re-apply. */
	ev = verdict(vip, "198.18.0.12", HEALTH_DOWN, 1);
	assert_int_equal(state_set_verdict(&c, &ev, &old), 1);
	assert_true(state_fail_open(&c.vips[0]));
	conf_free(&c);
}

/* A factor move re-applies an adaptive VIP, not a plain one. */
static void test_set_verdict_factor(void **s)
{
	const char *vip = "198.18.1.1:80/tcp";
	struct verdict ev;
	struct xlb_conf c;
	__u8 old;

	(void)s;
	load(&c, yaml);
	ev = verdict(vip, "198.18.0.11", HEALTH_UP, 0.5f);
	assert_int_equal(state_set_verdict(&c, &ev, &old), 0);
	c.vips[0].adaptive = CONF_ADAPTIVE_BOTH;
	ev = verdict(vip, "198.18.0.11", HEALTH_UP, 0.25f);
	assert_int_equal(state_set_verdict(&c, &ev, &old), 1);
	assert_true(c.vips[0].be[0].factor == 0.25f);
	conf_free(&c);
}

/* A node's view for its peers: down, drained, scaled in 5 % steps; the
 * rest (up, full weight, unchecked) is not in it. */
static void test_local_view(void **s)
{
	struct agree_entry *e;
	struct xlb_conf c;
	long n;

	(void)s;
	load(&c, yaml);
	assert_int_equal(state_local_view(&c, &e), 0);
	assert_null(e);
	c.vips[0].be[0].health = HEALTH_DOWN;
	c.vips[0].be[1].drained = true;
	c.vips[0].be[2].health = HEALTH_DOWN;	/* unchecked: not down */
	n = state_local_view(&c, &e);
	assert_int_equal(n, 2);
	assert_true(e[0].down && !e[0].drained);
	assert_true(!e[1].down && e[1].drained);
	assert_int_equal(e[0].factor_pct, 100);
	free(e);
	c.vips[0].adaptive = CONF_ADAPTIVE_LATENCY;
	c.vips[0].be[1].drained = false;
	c.vips[0].be[1].factor = 0.42f;		/* 40 % */
	n = state_local_view(&c, &e);
	assert_int_equal(n, 2);
	assert_int_equal(e[1].factor_pct, 40);
	free(e);
	c.vips[0].be[1].factor = 0.99f;		/* rounds to full */
	n = state_local_view(&c, &e);
	assert_int_equal(n, 1);
	free(e);
	conf_free(&c);
}

/* With peers the table follows the agreement, not the local verdict: a
 * backend a live peer sees down leaves every node's ring, one we see down
 * stays until the group agrees. */
static void test_agreed(void **s)
{
	struct xlb_vip_key moved[4];
	struct agree_entry pe;
	struct agree a;
	struct xlb_conf c;
	struct conf_vip *v;
	size_t n = 0;

	(void)s;
	load(&c, yaml);
	v = vip0(&c);
	agree_init(&a);
	agree_set_live(&a, 1, true);
	memset(&pe, 0, sizeof(pe));
	pe.vip = v->key;
	pe.addr = v->be[1].addr;
	pe.family = v->be[1].family;
	pe.down = 1;
	pe.factor_pct = 100;
	assert_int_equal(agree_peer(&a, 1, &pe, 1, 10, 10), 0);
	assert_int_equal(state_set_agreed(&c, &a, moved, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_effective_weight(v, &v->be[1]), 0);
	/* Our own verdict alone moves nothing while agreed. */
	v->be[0].health = HEALTH_DOWN;
	assert_int_equal(state_effective_weight(v, &v->be[0]), 100);
	n = 0;
	assert_int_equal(state_set_agreed(&c, &a, moved, &n), 0);
	assert_int_equal(n, 0);
	/* The peer goes silent: its view no longer counts. */
	agree_set_live(&a, 1, false);
	assert_int_equal(state_set_agreed(&c, &a, moved, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_effective_weight(v, &v->be[1]), 50);
	/* A drain one node agreed is a drain everywhere. */
	agree_set_live(&a, 1, true);
	pe.down = 0;
	pe.drained = 1;
	assert_int_equal(agree_peer(&a, 1, &pe, 1, 11, 11), 0);
	n = 0;
	assert_int_equal(state_set_agreed(&c, &a, moved, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_effective_weight(v, &v->be[1]), 0);
	agree_free(&a);
	conf_free(&c);
}

static void test_carry(void **s)
{
	struct xlb_conf cur, want;

	(void)s;
	load(&cur, yaml);
	cur.vips[0].be[1].health = HEALTH_DOWN;
	cur.vips[0].be[1].factor = 0.5f;
	/* The file lists them in another order, with one more. */
	load(&want, "vips:\n"
		    "  - vip: 198.18.1.1:80/tcp\n"
		    "    check: tcp\n"
		    "    backends:\n"
		    "      - addr: 198.18.0.14\n"
		    "      - addr: 198.18.0.12\n"
		    "      - addr: 198.18.0.11\n");
	assert_int_equal(state_carry(&want, &cur), 0);
	assert_int_equal(want.vips[0].be[1].health, HEALTH_DOWN);
	assert_true(want.vips[0].be[1].factor == 0.5f);
	assert_int_equal(want.vips[0].be[0].health, HEALTH_UNKNOWN);
	assert_int_equal(want.vips[0].be[2].health, HEALTH_UNKNOWN);
	conf_free(&cur);
	conf_free(&want);
}

static void test_verdict_file(void **s)
{
	char path[] = "/tmp/xlb-test-verdicts.XXXXXX", err[256] = "";
	struct xlb_conf a, b;
	int fd;

	(void)s;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	load(&a, yaml);
	a.vips[0].be[0].health = HEALTH_UP;
	a.vips[0].be[1].health = HEALTH_DOWN;
	a.vips[0].be[1].factor = 0.5f;
	assert_int_equal(state_verdicts_save(&a, path), 0);
	load(&b, yaml);
	assert_int_equal(state_verdicts_load(&b, path, err, sizeof(err)), 0);
	assert_int_equal(b.vips[0].be[0].health, HEALTH_UP);
	assert_int_equal(b.vips[0].be[1].health, HEALTH_DOWN);
	assert_true(b.vips[0].be[1].factor == 0.5f);
	assert_int_equal(b.vips[0].be[2].health, HEALTH_UNKNOWN);
	conf_free(&b);
	/* A backend gone since is skipped; a bad line is an error naming
	 * its line. */
	load(&b, "vips:\n"
		 "  - vip: 198.18.1.1:80/tcp\n"
		 "    check: tcp\n"
		 "    backends:\n"
		 "      - addr: 198.18.0.12\n");
	assert_int_equal(state_verdicts_load(&b, path, err, sizeof(err)), 0);
	assert_int_equal(b.vips[0].be[0].health, HEALTH_DOWN);
	conf_free(&b);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# c\n198.18.1.1:80/tcp 198.18.0.11 sideways 1\n");
	fclose(f);
	load(&b, yaml);
	assert_int_equal(state_verdicts_load(&b, path, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	conf_free(&b);
	/* No file: nothing decided yet, no error. */
	unlink(path);
	load(&b, yaml);
	assert_int_equal(state_verdicts_load(&b, path, err, sizeof(err)), 0);
	conf_free(&b);
	conf_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_adaptive),
		cmocka_unit_test(test_all_down),
		cmocka_unit_test(test_set_verdict),
		cmocka_unit_test(test_lives),
		cmocka_unit_test(test_panic_ramp),
		cmocka_unit_test(test_set_verdict_all_down),
		cmocka_unit_test(test_set_verdict_factor),
		cmocka_unit_test(test_local_view),
		cmocka_unit_test(test_agreed),
		cmocka_unit_test(test_carry),
		cmocka_unit_test(test_verdict_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
