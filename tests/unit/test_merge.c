// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the three-way configuration merge (user/xlbd/merge.c).
 *
 * Each case is three small xlb.conf texts: BASE (the file as last applied),
 * FILE (the file now) and RUNNING (BASE plus what xlbctl changed); the
 * result is compared with a fourth text, the configuration the semantics
 * in merge.h call for, and the report lines are compared in full.
 */
#define _GNU_SOURCE
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
#include <arpa/inet.h>

#include "addr.h"
#include "conf.h"
#include "merge.h"

#define VIP1	"198.18.1.1:80/tcp"
#define VIP2	"198.18.1.2:53/udp"
/* Quoted: a plain YAML scalar cannot start with "[". */
#define VIP3	"\"[2001:db8::1]:443/tcp\""

/* Allocation failure on demand: the n-th allocation from now fails
 * (n < 0: none). Replaces glibc's malloc, calloc and realloc by its own
 * entry points, so that free stays consistent. */
static long fail_in = -1;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XLB_ASAN 1
#endif
#endif
#if !defined(XLB_ASAN) && !defined(__SANITIZE_ADDRESS__)
/* Not under AddressSanitizer, which owns malloc itself: there the hook
 * stays inactive and the test that needs it skips. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static bool fail_now(void)
{
	if (fail_in < 0)
		return false;
	return fail_in-- == 0;
}

void *malloc(size_t n)
{
	return fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __libc_realloc(p, n);
}
#endif

static void parse_ok(const char *text, struct xlb_conf *c)
{
	char err[CONF_ERR_MAX] = "";
	int ret = conf_parse_string(text, "t.yaml", c, err, sizeof(err));

	if (ret)
		fail_msg("parse failed (%d): %s\n%s", ret, err, text);
}

static char *write_text(const struct xlb_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(conf_write(c, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The node as conf_write writes it: every key, independent of merge.c's
 * own list of them. */
static void assert_node_same(const struct conf_node *a,
			     const struct conf_node *b)
{
	struct xlb_conf x, y;
	char *tx, *ty;

	conf_init(&x);
	conf_init(&y);
	x.node = *a;
	y.node = *b;
	tx = write_text(&x);
	ty = write_text(&y);
	assert_string_equal(tx, ty);
	free(tx);
	free(ty);
}

/* Same node, same VIPs (conf_vip_equal: any order of backends), any
 * order of VIPs. */
static void assert_conf_same(const struct xlb_conf *a, const struct xlb_conf *b)
{
	const struct conf_vip *w;
	char name[XLB_VIP_STRLEN];
	size_t i;

	assert_node_same(&a->node, &b->node);
	assert_int_equal(a->nvips, b->nvips);
	for (i = 0; i < a->nvips; i++) {
		w = conf_vip_find(b, &a->vips[i].key);
		if (!w || !conf_vip_equal(&a->vips[i], w)) {
			char *ta = write_text(a), *tb = write_text(b);

			fail_msg("VIP %s differs:\n%s\n--- vs ---\n%s",
				 xlb_format_vip(&a->vips[i].key, name,
						sizeof(name)), ta, tb);
		}
	}
}

static void assert_conf_is(const struct xlb_conf *c, const char *yaml)
{
	struct xlb_conf want;

	parse_ok(yaml, &want);
	assert_conf_same(c, &want);
	conf_free(&want);
}

/* The lines, in order, NULL-terminated. */
static void assert_lines(const struct merge_lines *l, ...)
{
	const char *s;
	size_t i = 0;
	va_list ap;

	va_start(ap, l);
	while ((s = va_arg(ap, const char *))) {
		if (i >= l->n)
			fail_msg("missing line %zu: %s", i, s);
		assert_string_equal(l->line[i], s);
		i++;
	}
	va_end(ap);
	if (i != l->n)
		fail_msg("%zu lines, want %zu; the first extra: %s", l->n, i,
			 l->line[i]);
}

struct merged {
	struct xlb_conf out;
	struct merge_report rep;
};

/* base or run NULL: none. The inputs must come out unchanged. */
static void merge_when(const char *base, const char *file, const char *run,
		       enum conf_merge_when when, struct merged *m)
{
	struct xlb_conf b, f, r;
	char *tb = NULL, *tf, *tr = NULL;

	if (base)
		parse_ok(base, &b);
	parse_ok(file, &f);
	if (run)
		parse_ok(run, &r);
	tf = write_text(&f);
	if (base)
		tb = write_text(&b);
	if (run)
		tr = write_text(&r);
	assert_int_equal(conf_merge(base ? &b : NULL, &f, run ? &r : NULL, when,
				    &m->out, &m->rep), 0);
	if (base) {
		char *t = write_text(&b);

		assert_string_equal(t, tb);
		free(t);
		conf_free(&b);
	}
	if (run) {
		char *t = write_text(&r);

		assert_string_equal(t, tr);
		free(t);
		conf_free(&r);
	}
	free(tb);
	free(tr);
	tb = write_text(&f);
	assert_string_equal(tb, tf);
	free(tb);
	free(tf);
	conf_free(&f);
}

static void merge3(const char *base, const char *file, const char *run,
		   struct merged *m)
{
	merge_when(base, file, run, CONF_MERGE_RELOAD, m);
}

static void merged_free(struct merged *m)
{
	conf_free(&m->out);
	merge_report_free(&m->rep);
	assert_null(m->rep.conflicts.line);
	assert_int_equal(m->rep.restart.n, 0);
}

/* ---- runtime changes the file did not touch survive ---- */

static const char two_vips[] =
	"vips:\n"
	"  - vip: " VIP1 "\n"
	"    backends:\n"
	"      - {addr: 198.18.0.11, weight: 100}\n"
	"      - {addr: 198.18.0.12, weight: 100}\n"
	"  - vip: " VIP2 "\n"
	"    backends:\n"
	"      - {addr: 198.18.0.21}\n";

static void test_runtime_addition_survives(void **state)
{
	struct merged m;

	(void)state;
	/* xlbctl added a backend and a VIP; the file changed a weight. */
	merge3(two_vips,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 70}\n"
	       "      - {addr: 198.18.0.12, weight: 100}\n"
	       "  - vip: " VIP2 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n"
	       "      - {addr: 198.18.0.12, weight: 100}\n"
	       "      - {addr: 198.18.0.13, weight: 5}\n"
	       "  - vip: " VIP2 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21}\n"
	       "  - vip: " VIP3 "\n"
	       "    backends:\n"
	       "      - {addr: 2001:db8::31}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 70}\n"
		       "      - {addr: 198.18.0.12, weight: 100}\n"
		       "      - {addr: 198.18.0.13, weight: 5}\n"
		       "  - vip: " VIP2 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.21}\n"
		       "  - vip: " VIP3 "\n"
		       "    backends:\n"
		       "      - {addr: 2001:db8::31}\n");
	assert_lines(&m.rep.conflicts, NULL);
	assert_lines(&m.rep.restart, NULL);
	assert_false(m.rep.removes_all);
	merged_free(&m);
}

static void test_runtime_weight_and_drain_survive(void **state)
{
	struct merged m;

	(void)state;
	/* Runtime: .11 weight 50, .12 drained. File: .12 weight 200 and a
	 * new backend. Each keeps its own change. */
	merge3(two_vips,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n"
	       "      - {addr: 198.18.0.12, weight: 200}\n"
	       "      - {addr: 198.18.0.14}\n"
	       "  - vip: " VIP2 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 50}\n"
	       "      - {addr: 198.18.0.12, weight: 100, drained: true}\n"
	       "  - vip: " VIP2 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 50}\n"
		       "      - {addr: 198.18.0.12, weight: 200, drained: true}\n"
		       "      - {addr: 198.18.0.14}\n"
		       "  - vip: " VIP2 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.21}\n");
	assert_lines(&m.rep.conflicts, NULL);
	merged_free(&m);
}

/* ---- conflicts: the file wins, each one reported ---- */

static const char one_vip[] =
	"vips:\n"
	"  - vip: " VIP1 "\n"
	"    backends:\n"
	"      - {addr: 198.18.0.11, weight: 70}\n"
	"      - {addr: 198.18.0.12}\n";

static void test_conflict_file_wins(void **state)
{
	struct merged m;

	(void)state;
	merge3(one_vip,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n"
	       "      - {addr: 198.18.0.12}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 50}\n"
	       "      - {addr: 198.18.0.12, weight: 30}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 100}\n"
		       "      - {addr: 198.18.0.12, weight: 30}\n");
	assert_lines(&m.rep.conflicts,
		     "VIP " VIP1 " backend 198.18.0.11: weight 50 (runtime) "
		     "-> 100 (file)", NULL);
	assert_lines(&m.rep.restart, NULL);
	merged_free(&m);
}

/* Both sides made the same change: nothing to report. */
static void test_same_change_no_conflict(void **state)
{
	static const char both[] =
		"vips:\n"
		"  - vip: " VIP1 "\n"
		"    backends:\n"
		"      - {addr: 198.18.0.11, weight: 50, drained: true}\n"
		"      - {addr: 198.18.0.13}\n";
	struct merged m;

	(void)state;
	merge3(one_vip, both, both, &m);
	assert_conf_is(&m.out, both);
	assert_lines(&m.rep.conflicts, NULL);
	merged_free(&m);
}

/* Every VIP setting and every backend setting, each changed on both
 * sides: the file's values, one line each, in table order. */
static void test_conflict_every_setting(void **state)
{
	struct merged m;

	(void)state;
	merge3("vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    check: tcp\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, mac: 02:00:00:00:00:01}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    encap: gue\n"
	       "    check: {type: http, path: /ready, interval: 1}\n"
	       "    all-down: drop\n"
	       "    adaptive: latency\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 10, drained: true,"
	       " mac: 02:00:00:00:00:02, check: syn}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    encap: l2\n"
	       "    check: {type: http, rise: 5}\n"
	       "    all-down: open\n"
	       "    adaptive: load\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 20, drained: false,"
	       " mac: 02:00:00:00:00:03, check: tcp}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    encap: gue\n"
		       "    check: {type: http, path: /ready, interval: 1}\n"
		       "    all-down: drop\n"
		       "    adaptive: latency\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 10, drained: true,"
		       " mac: 02:00:00:00:00:02, check: syn}\n");
	/* all-down: base open, runtime open: only the file changed it. */
	assert_lines(&m.rep.conflicts,
		     "VIP " VIP1 ": encap l2 (runtime) -> gue (file)",
		     "VIP " VIP1 ": check http path=\"/health\" interval=5000ms "
		     "timeout=2000ms rise=5 (runtime) -> http path=\"/ready\" "
		     "interval=1000ms timeout=1000ms rise=2 (file)",
		     "VIP " VIP1 ": adaptive load (runtime) -> latency (file)",
		     "VIP " VIP1 " backend 198.18.0.11: weight 20 (runtime) "
		     "-> 10 (file)",
		     "VIP " VIP1 " backend 198.18.0.11: mac 02:00:00:00:00:03 "
		     "(runtime) -> 02:00:00:00:00:02 (file)",
		     "VIP " VIP1 " backend 198.18.0.11: check tcp (runtime) "
		     "-> syn (file)", NULL);
	merged_free(&m);
}

/* A check override is one setting: set on one side, unset on the other. */
static void test_check_override(void **state)
{
	struct merged m;

	(void)state;
	merge3("vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, check: tcp}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, check: syn}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11}\n");
	assert_lines(&m.rep.conflicts,
		     "VIP " VIP1 " backend 198.18.0.11: check syn (runtime) "
		     "-> (the VIP's) (file)", NULL);
	merged_free(&m);
}

/* ---- presence ---- */

static void test_file_deletes_modified(void **state)
{
	struct merged m;

	(void)state;
	/* The file removes VIP2 (runtime added a backend to it) and .12 of
	 * VIP1 (runtime drained it) and .11 (untouched at runtime). */
	merge3(two_vips,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.13}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n"
	       "      - {addr: 198.18.0.12, weight: 100, drained: true}\n"
	       "  - vip: " VIP2 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21}\n"
	       "      - {addr: 198.18.0.22}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.13}\n");
	assert_lines(&m.rep.conflicts,
		     "VIP " VIP1 " backend 198.18.0.12: removed by the file, "
		     "with its runtime changes",
		     "VIP " VIP2 ": removed by the file, with its runtime "
		     "changes", NULL);
	assert_false(m.rep.removes_all);
	merged_free(&m);
}

static void test_runtime_deletion_stays(void **state)
{
	struct merged m;

	(void)state;
	/* xlbctl removed VIP2 and .12; the file changed .11 only. */
	merge3(two_vips,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 1}\n"
	       "      - {addr: 198.18.0.12, weight: 100}\n"
	       "  - vip: " VIP2 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 1}\n");
	assert_lines(&m.rep.conflicts, NULL);
	merged_free(&m);
}

/* The runtime removed what the file changed: the file's comes back. */
static void test_runtime_deletion_file_changed(void **state)
{
	struct merged m;

	(void)state;
	merge3(two_vips,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n"
	       "      - {addr: 198.18.0.12, weight: 9}\n"
	       "  - vip: " VIP2 "\n"
	       "    all-down: drop\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 100}\n"
		       "      - {addr: 198.18.0.12, weight: 9}\n"
		       "  - vip: " VIP2 "\n"
		       "    all-down: drop\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.21}\n");
	assert_lines(&m.rep.conflicts,
		     "VIP " VIP1 " backend 198.18.0.12: removed at runtime, "
		     "restored: the file changed it",
		     "VIP " VIP2 ": removed at runtime, restored: the file "
		     "changed it", NULL);
	merged_free(&m);
}

static void test_file_adds_vip(void **state)
{
	struct merged m;

	(void)state;
	merge3(one_vip,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 70}\n"
	       "      - {addr: 198.18.0.12}\n"
	       "  - vip: " VIP3 "\n"
	       "    encap: gue\n"
	       "    backends:\n"
	       "      - {addr: 2001:db8::31}\n"
	       "      - {addr: 198.18.0.32}\n",
	       one_vip, &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 70}\n"
		       "      - {addr: 198.18.0.12}\n"
		       "  - vip: " VIP3 "\n"
		       "    encap: gue\n"
		       "    backends:\n"
		       "      - {addr: 2001:db8::31}\n"
		       "      - {addr: 198.18.0.32}\n");
	/* Written in the file's order. */
	assert_int_equal(m.out.nvips, 2);
	assert_int_equal(m.out.vips[1].key.family, XLB_AF_INET6);
	assert_lines(&m.rep.conflicts, NULL);
	merged_free(&m);
}

/* Added on both sides: the file's values win where they differ; the
 * runtime's own backends stay. */
static void test_both_add(void **state)
{
	struct merged m;

	(void)state;
	merge3(one_vip,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 70}\n"
	       "      - {addr: 198.18.0.12}\n"
	       "      - {addr: 198.18.0.15, weight: 100}\n"
	       "  - vip: " VIP2 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21, weight: 100}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 70}\n"
	       "      - {addr: 198.18.0.12}\n"
	       "      - {addr: 198.18.0.15, weight: 40}\n"
	       "  - vip: " VIP2 "\n"
	       "    check: udp\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21, weight: 100}\n"
	       "      - {addr: 198.18.0.22, weight: 100}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 70}\n"
		       "      - {addr: 198.18.0.12}\n"
		       "      - {addr: 198.18.0.15, weight: 100}\n"
		       "  - vip: " VIP2 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.21, weight: 100}\n"
		       "      - {addr: 198.18.0.22, weight: 100}\n");
	assert_lines(&m.rep.conflicts,
		     "VIP " VIP1 " backend 198.18.0.15: weight 40 (runtime) "
		     "-> 100 (file)",
		     "VIP " VIP2 ": check udp (runtime) -> none (file)", NULL);
	merged_free(&m);
}

/* Runtime added an IPv6 backend; the file turns the IPv4 VIP to L2,
 * where a backend has the VIP's family: that backend cannot stay. */
static void test_backend_unfit_dropped(void **state)
{
	struct merged m;

	(void)state;
	merge3(one_vip,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    encap: l2\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 70}\n"
	       "      - {addr: 198.18.0.12}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 70}\n"
	       "      - {addr: 2001:db8::99}\n"
	       "      - {addr: 198.18.0.12}\n", &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    encap: l2\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 70}\n"
		       "      - {addr: 198.18.0.12}\n");
	assert_lines(&m.rep.conflicts,
		     "VIP " VIP1 " backend 2001:db8::99: dropped: it does not "
		     "fit the VIP's merged settings", NULL);
	merged_free(&m);
}

/* ---- node settings ---- */

/* Keys the daemon binds at start, and keys it applies on every reload.
 * value: the file's; the running configuration has the defaults. */
static const struct node_case {
	const char *yaml;		/* one "  key: value" line */
	const char *notice;		/* NULL: applied live */
} node_cases[] = {
	/* The state file's name follows the interface unless given. */
	{ "  interface: eth9\n  state-file: /var/lib/xlb/state.yaml\n",
	  "needs restart: interface \"\" (running) -> \"eth9\" (file)" },
	{ "  xdp-mode: generic\n",
	  "needs restart: xdp-mode auto (running) -> generic (file)" },
	{ "  flow-entries: 131072\n",
	  "needs restart: flow-entries 65536 (running) -> 131072 (file)" },
	{ "  ring-size: 1009\n",
	  "needs restart: ring-size 65537 (running) -> 1009 (file)" },
	{ "  unconfirmed-entries: 4096\n",
	  "needs restart: unconfirmed-entries 8192 (running) -> 4096 (file)" },
	{ "  confirm-rate: 100000\n",
	  "needs restart: confirm-rate 0 (running) -> 100000 (file)" },
	{ "  metrics: 198.18.0.10:9100\n",
	  "needs restart: metrics (default 127.0.0.1:9100) (running) -> "
	  "\"198.18.0.10:9100\" (file)" },
	{ "  control-socket: /run/xlb/other.sock\n",
	  "needs restart: control-socket \"/run/xlb/xlbd.sock\" (running) "
	  "-> \"/run/xlb/other.sock\" (file)" },
	{ "  control-group: xlbops\n",
	  "needs restart: control-group \"\" (running) -> \"xlbops\" "
	  "(file)" },
	{ "  pin-root: /sys/fs/bpf/other\n",
	  "needs restart: pin-root \"/sys/fs/bpf\" (running) -> "
	  "\"/sys/fs/bpf/other\" (file)" },
	{ "  state-file: /var/lib/xlb/other.yaml\n",
	  "needs restart: state-file \"/var/lib/xlb/state.yaml\" (running) "
	  "-> \"/var/lib/xlb/other.yaml\" (file)" },
	{ "  source4: 198.18.0.10\n", NULL },
	{ "  source6: 2001:db8::10\n", NULL },
	{ "  gateway-mac: 02:00:00:00:00:fe\n", NULL },
	{ "  mtu: 9000\n", NULL },
	{ "  icmp-too-big: false\n", NULL },
	{ "  icmp-rate: 7\n", NULL },
	{ "  gue-port: 7777\n", NULL },
};

static void test_node_restart_keys(void **state)
{
	char file[256];
	struct merged m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(node_cases) / sizeof(node_cases[0]); i++) {
		const struct node_case *c = &node_cases[i];

		snprintf(file, sizeof(file), "node:\n%s", c->yaml);
		merge3("node: {}\n", file, "node: {}\n", &m);
		/* Bound: the running value stays; live: the file's. */
		assert_conf_is(&m.out, c->notice ? "node: {}\n" : file);
		if (c->notice)
			assert_lines(&m.rep.restart, c->notice, NULL);
		else
			assert_lines(&m.rep.restart, NULL);
		assert_lines(&m.rep.conflicts, NULL);
		merged_free(&m);

		/* At start nothing is bound: the file's value, no notice. */
		merge_when("node: {}\n", file, "node: {}\n", CONF_MERGE_START,
			   &m);
		assert_conf_is(&m.out, file);
		assert_lines(&m.rep.restart, NULL);
		merged_free(&m);
	}
}

static void test_node_merge(void **state)
{
	struct merged m;

	(void)state;
	/* Running differs from the file in bound keys the file did not
	 * change (command-line overrides), and in a derived source4: no
	 * notice, running kept. The file's mtu change applies. A bound key
	 * the file changed to what already runs: no notice either. */
	merge3("node: {flow-entries: 4096}\n",
	       "node: {flow-entries: 8192, mtu: 9000}\n",
	       "node: {flow-entries: 8192, pin-root: /sys/fs/bpf/lab,"
	       " control-socket: /tmp/x.sock, source4: 198.18.0.5}\n", &m);
	assert_conf_is(&m.out,
		       "node: {flow-entries: 8192, mtu: 9000,"
		       " pin-root: /sys/fs/bpf/lab,"
		       " control-socket: /tmp/x.sock, source4: 198.18.0.5}\n");
	assert_lines(&m.rep.restart, NULL);
	assert_lines(&m.rep.conflicts, NULL);
	merged_free(&m);

	/* A live key changed on both sides: the file's, reported. */
	merge3("node: {source4: 198.18.0.1}\n",
	       "node: {source4: 198.18.0.2}\n",
	       "node: {source4: 198.18.0.3}\n", &m);
	assert_conf_is(&m.out, "node: {source4: 198.18.0.2}\n");
	assert_lines(&m.rep.conflicts,
		     "node: source4 198.18.0.3 (runtime) -> 198.18.0.2 (file)",
		     NULL);
	merged_free(&m);
}

/* ---- no base, removes-all, identity, order ---- */

static void test_no_base_first_start(void **state)
{
	struct merged m;

	(void)state;
	/* The state file from before: a runtime weight, a runtime backend
	 * and VIP. Everything in the file counts as the file's change. */
	merge_when(NULL,
		   "node: {interface: eth1, mtu: 9000}\n"
		   "vips:\n"
		   "  - vip: " VIP1 "\n"
		   "    backends:\n"
		   "      - {addr: 198.18.0.11, weight: 100}\n"
		   "      - {addr: 198.18.0.12}\n",
		   "node: {interface: eth1, source4: 198.18.0.5}\n"
		   "vips:\n"
		   "  - vip: " VIP1 "\n"
		   "    backends:\n"
		   "      - {addr: 198.18.0.11, weight: 50}\n"
		   "      - {addr: 198.18.0.13}\n"
		   "  - vip: " VIP2 "\n"
		   "    backends:\n"
		   "      - {addr: 198.18.0.21}\n",
		   CONF_MERGE_START, &m);
	assert_conf_is(&m.out,
		       "node: {interface: eth1, mtu: 9000, source4: 198.18.0.5}\n"
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 100}\n"
		       "      - {addr: 198.18.0.12}\n"
		       "      - {addr: 198.18.0.13}\n"
		       "  - vip: " VIP2 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.21}\n");
	assert_lines(&m.rep.conflicts,
		     "VIP " VIP1 " backend 198.18.0.11: weight 50 (runtime) "
		     "-> 100 (file)", NULL);
	assert_lines(&m.rep.restart, NULL);
	merged_free(&m);

	/* No state file either: the file itself. */
	merge_when(NULL, two_vips, NULL, CONF_MERGE_START, &m);
	assert_conf_is(&m.out, two_vips);
	assert_lines(&m.rep.conflicts, NULL);
	assert_false(m.rep.removes_all);
	merged_free(&m);
}

static void test_removes_all(void **state)
{
	struct merged m;

	(void)state;
	merge3(two_vips, "vips: []\n", two_vips, &m);
	assert_int_equal(m.out.nvips, 0);
	assert_true(m.rep.removes_all);
	assert_lines(&m.rep.conflicts, NULL);
	merged_free(&m);

	/* Runtime removed one, the file the other: nothing left either. */
	merge3(two_vips,
	       "vips:\n"
	       "  - vip: " VIP2 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.21}\n",
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n"
	       "      - {addr: 198.18.0.12, weight: 100}\n", &m);
	assert_int_equal(m.out.nvips, 0);
	assert_true(m.rep.removes_all);
	merged_free(&m);

	/* One of two left; and nothing from nothing. */
	merge3(two_vips, one_vip, two_vips, &m);
	assert_int_equal(m.out.nvips, 1);
	assert_false(m.rep.removes_all);
	merged_free(&m);
	merge3(NULL, "vips: []\n", "vips: []\n", &m);
	assert_false(m.rep.removes_all);
	merged_free(&m);
}

static const char rich[] =
	"node:\n"
	"  interface: eth1\n"
	"  source4: 198.18.0.10\n"
	"  gateway-mac: 02:00:00:00:00:fe\n"
	"  mtu: 9000\n"
	"  metrics: 198.18.0.10:9100\n"
	"vips:\n"
	"  - vip: " VIP1 "\n"
	"    encap: gue\n"
	"    check: {type: http, path: /healthz, host: example.org,"
	" interval: 0.5, timeout: 0.25, error-rate: 0.5}\n"
	"    adaptive: both\n"
	"    backends:\n"
	"      - {addr: 198.18.0.11, weight: 50, mac: 02:00:00:00:00:b1}\n"
	"      - {addr: 198.18.0.12, drained: true, check: tcp}\n"
	"      - {addr: 2001:db8::13, weight: 0}\n"
	"  - vip: " VIP3 "\n"
	"    encap: l2\n"
	"    all-down: drop\n"
	"    check: {type: syn, port: 8443}\n"
	"    backends:\n"
	"      - {addr: 2001:db8::31, mac: 02:00:00:00:00:b2}\n"
	"  - vip: " VIP2 "\n"
	"    backends: []\n";

static void test_identity(void **state)
{
	struct xlb_conf x;
	struct merged m;
	size_t i;

	(void)state;
	parse_ok(rich, &x);
	merge3(rich, rich, rich, &m);
	assert_int_equal(m.out.nvips, x.nvips);
	for (i = 0; i < x.nvips; i++)
		assert_true(conf_vip_equal(&m.out.vips[i], &x.vips[i]));
	assert_node_same(&m.out.node, &x.node);
	assert_lines(&m.rep.conflicts, NULL);
	assert_lines(&m.rep.restart, NULL);
	assert_false(m.rep.removes_all);
	merged_free(&m);
	conf_free(&x);
}

/* The file unchanged: RUNNING as it is. RUNNING unchanged: FILE as it is
 * (the live keys; rich's bound ones changed: notices). */
static void test_one_side_unchanged(void **state)
{
	struct merged m;

	(void)state;
	merge3(rich, rich, two_vips, &m);
	assert_conf_is(&m.out, two_vips);
	assert_lines(&m.rep.conflicts, NULL);
	assert_lines(&m.rep.restart, NULL);
	merged_free(&m);

	merge3(rich, two_vips, rich, &m);
	assert_conf_is(&m.out,
		       "node: {interface: eth1, metrics: 198.18.0.10:9100}\n"
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 100}\n"
		       "      - {addr: 198.18.0.12, weight: 100}\n"
		       "  - vip: " VIP2 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.21}\n");
	assert_lines(&m.rep.conflicts, NULL);
	assert_lines(&m.rep.restart,
		     "needs restart: interface \"eth1\" (running) -> \"\" (file)",
		     "needs restart: metrics \"198.18.0.10:9100\" (running) -> "
		     "(default 127.0.0.1:9100) (file)",
		     "needs restart: state-file \"/var/lib/xlb/eth1.yaml\" "
		     "(running) -> \"/var/lib/xlb/state.yaml\" (file)", NULL);
	merged_free(&m);
}

static void test_order_independent(void **state)
{
	static const char reordered[] =
		"vips:\n"
		"  - vip: " VIP2 "\n"
		"    backends:\n"
		"      - {addr: 198.18.0.21}\n"
		"  - vip: " VIP1 "\n"
		"    backends:\n"
		"      - {addr: 198.18.0.12, weight: 100}\n"
		"      - {addr: 198.18.0.11, weight: 100}\n";
	static const char run[] =
		"vips:\n"
		"  - vip: " VIP1 "\n"
		"    backends:\n"
		"      - {addr: 198.18.0.12, weight: 100}\n"
		"      - {addr: 198.18.0.13}\n"
		"      - {addr: 198.18.0.11, weight: 50}\n"
		"  - vip: " VIP2 "\n"
		"    backends:\n"
		"      - {addr: 198.18.0.21}\n";
	struct merged m;

	(void)state;
	/* The file reordered only: no change of the file's. */
	merge3(two_vips, reordered, run, &m);
	assert_conf_is(&m.out, run);
	assert_lines(&m.rep.conflicts, NULL);
	merged_free(&m);

	/* The same merge whichever order each input lists things in. */
	merge3(reordered,
	       "vips:\n"
	       "  - vip: " VIP1 "\n"
	       "    backends:\n"
	       "      - {addr: 198.18.0.12, weight: 7}\n"
	       "      - {addr: 198.18.0.11, weight: 100}\n", run, &m);
	assert_conf_is(&m.out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.12, weight: 7}\n"
		       "      - {addr: 198.18.0.13}\n"
		       "      - {addr: 198.18.0.11, weight: 50}\n");
	assert_lines(&m.rep.conflicts, NULL);
	merged_free(&m);
}

/* The merge as test_no_memory wants it. */
static void assert_no_memory_result(struct xlb_conf *out,
				    struct merge_report *rep)
{
	assert_conf_is(out,
		       "vips:\n"
		       "  - vip: " VIP1 "\n"
		       "    backends:\n"
		       "      - {addr: 198.18.0.11, weight: 1}\n"
		       "      - {addr: 198.18.0.14}\n"
		       "  - vip: " VIP3 "\n"
		       "    backends:\n"
		       "      - {addr: 2001:db8::31}\n");
	assert_lines(&rep->conflicts,
		     "VIP " VIP1 " backend 198.18.0.11: weight 2 (runtime) -> "
		     "1 (file)",
		     "VIP " VIP1 " backend 198.18.0.12: removed by the file, "
		     "with its runtime changes", NULL);
	conf_free(out);
	merge_report_free(rep);
}

/* Every allocation the merge makes, failing in turn: -ENOMEM with an
 * empty result and report, or (where libc copes, as vasprintf does with a
 * failed shrink) the right result; never a crash, nothing leaked
 * (valgrind --soname-synonyms=somalloc=nouserintercepts --leak-check=full
 * says so). */
static void test_no_memory(void **state)
{
	struct xlb_conf b, f, r, out;
	struct merge_report rep;
	bool all_tried = false;
	long n;
	int rc;

	(void)state;
	parse_ok(two_vips, &b);
	parse_ok("vips:\n"
		 "  - vip: " VIP1 "\n"
		 "    backends:\n"
		 "      - {addr: 198.18.0.11, weight: 1}\n"
		 "      - {addr: 198.18.0.14}\n", &f);
	parse_ok("vips:\n"
		 "  - vip: " VIP1 "\n"
		 "    backends:\n"
		 "      - {addr: 198.18.0.11, weight: 2}\n"
		 "      - {addr: 198.18.0.12, weight: 3}\n"
		 "  - vip: " VIP3 "\n"
		 "    backends:\n"
		 "      - {addr: 2001:db8::31}\n", &r);
	for (n = 0; !all_tried; n++) {
		fail_in = n;
		rc = conf_merge(&b, &f, &r, CONF_MERGE_RELOAD, &out, &rep);
		all_tried = fail_in >= 0;	/* no n-th allocation */
		fail_in = -1;
		if (!rc) {
			assert_no_memory_result(&out, &rep);
			continue;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(out.nvips, 0);
		assert_null(out.vips);
		assert_int_equal(rep.conflicts.n, 0);
		assert_null(rep.conflicts.line);
		assert_int_equal(rep.restart.n, 0);
	}
	if (n == 1) {
		/* Under valgrind: give --soname-synonyms=somalloc=nouserintercepts. */
		print_message("allocation hook inactive: skipped\n");
		conf_free(&b);
		conf_free(&f);
		conf_free(&r);
		skip();
	}
	/* Lines, VIPs, backends, indexes: each of them was tried. */
	assert_true(n > 10);
	conf_free(&b);
	conf_free(&f);
	conf_free(&r);
}

/* ---- random three-way cases ----
 * BASE is random; the file edits the VIPs of one port parity, the runtime
 * those of the other, so the expected result is both edit sets applied in
 * turn: an oracle that does not share the merge's code. */

struct rng {
	unsigned long long s;
};

static unsigned int rnd(struct rng *r, unsigned int n)
{
	r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)(r->s >> 33) % n;
}

static unsigned int port_of(const struct conf_vip *v)
{
	return ntohs(v->key.port);
}

static void add_backend(struct conf_vip *v, unsigned int net,
			unsigned int host)
{
	struct conf_backend b;
	char a[32];

	memset(&b, 0, sizeof(b));
	conf_check_defaults(&b.check);
	b.weight = 100;
	snprintf(a, sizeof(a), "198.18.%u.%u", net, host);
	assert_int_equal(xlb_parse_addr(a, &b.addr, &b.family), 0);
	assert_int_equal(conf_backend_add(v, &b), 0);
}

static void add_vip(struct xlb_conf *c, unsigned int port, unsigned int nbe,
		    unsigned int net)
{
	struct conf_vip v, *nv;
	char k[48];
	unsigned int j;

	memset(&v, 0, sizeof(v));
	conf_check_defaults(&v.check);
	snprintf(k, sizeof(k), "198.18.1.1:%u/tcp", port);
	assert_int_equal(xlb_parse_vip(k, &v.key), 0);
	assert_int_equal(conf_vip_add(c, &v), 0);
	nv = conf_vip_find(c, &v.key);
	for (j = 0; j < nbe; j++)
		add_backend(nv, net, j + 1);
}

static void random_base(struct xlb_conf *c, unsigned long long seed)
{
	struct rng r = { seed };
	unsigned int i, n = 2 + rnd(&r, 7);

	conf_init(c);
	for (i = 0; i < n; i++)
		add_vip(c, 100 + i, rnd(&r, 7), 10 + i);
}

static void edit_backends(struct conf_vip *v, struct rng *r, unsigned int p)
{
	struct conf_backend *b;
	unsigned int k, n;
	size_t j = 0;

	while (j < v->nbe) {
		b = &v->be[j];
		switch (rnd(r, 7)) {
		case 0:
			conf_backend_del(v, &b->addr, b->family);
			continue;
		case 1:
			b->weight = rnd(r, 1000);
			break;
		case 2:
			b->drained = !b->drained;
			break;
		case 3:
			b->has_mac = true;
			memcpy(b->mac, (__u8[6]){ 2, 0, 0, 0, p, rnd(r, 250) },
			       6);
			break;
		case 4:
			b->has_check = !b->has_check;
			b->check.type = CONF_CHECK_SYN;
			break;
		}
		j++;
	}
	n = rnd(r, 3);
	for (k = 0; k < n; k++)
		add_backend(v, 200 + p, k + 1);
}

/* Edit the VIPs whose port has parity p; add one of that parity. */
static void edit(struct xlb_conf *c, unsigned long long seed, unsigned int p)
{
	struct rng r = { seed };
	struct conf_vip *v;
	size_t i = 0;

	while (i < c->nvips) {
		v = &c->vips[i];
		if (port_of(v) % 2 != p || port_of(v) >= 1000) {
			i++;
			continue;
		}
		switch (rnd(&r, 7)) {
		case 0:
			conf_vip_del(c, &v->key);
			continue;
		case 1:
			v->all_down ^= 1;
			break;
		case 2:
			/* What a check of any type allows. */
			v->adaptive = rnd(&r, 2) ? CONF_ADAPTIVE_LATENCY :
						   CONF_ADAPTIVE_OFF;
			if (v->check.type == CONF_CHECK_NONE)
				v->check.type = CONF_CHECK_TCP;
			break;
		case 3:
			v->check.type = CONF_CHECK_TCP;
			v->check.rise = 1 + rnd(&r, 5);
			break;
		case 4:
			v->mode = rnd(&r, XLB_MODE_MAX);
			break;
		}
		edit_backends(v, &r, p);
		i++;
	}
	if (rnd(&r, 2))
		add_vip(c, 1000 + 2 * rnd(&r, 50) + p, rnd(&r, 4), 30 + p);
}

static void copy_edit(struct xlb_conf *dst, const struct xlb_conf *src,
		      unsigned long long seed, unsigned int p)
{
	assert_int_equal(conf_copy(dst, src), 0);
	edit(dst, seed, p);
}

static void merge_c(const struct xlb_conf *b, const struct xlb_conf *f,
		    const struct xlb_conf *r, struct merged *m)
{
	assert_int_equal(conf_merge(b, f, r, CONF_MERGE_RELOAD, &m->out,
				    &m->rep), 0);
}

/* merge(b, f, r) is want, with nothing to report. */
static void assert_clean_merge(const struct xlb_conf *b,
			       const struct xlb_conf *f,
			       const struct xlb_conf *r,
			       const struct xlb_conf *want)
{
	struct merged m;

	merge_c(b, f, r, &m);
	assert_conf_same(&m.out, want);
	assert_lines(&m.rep.conflicts, NULL);
	assert_lines(&m.rep.restart, NULL);
	merged_free(&m);
}

static void test_random_disjoint(void **state)
{
	struct xlb_conf b, f, r, want;
	unsigned long long seed;

	(void)state;
	for (seed = 1; seed <= 400; seed++) {
		random_base(&b, seed);
		copy_edit(&f, &b, seed * 7 + 1, seed % 2);
		copy_edit(&r, &b, seed * 13 + 5, !(seed % 2));
		copy_edit(&want, &f, seed * 13 + 5, !(seed % 2));
		assert_clean_merge(&b, &f, &r, &want);
		assert_clean_merge(&b, &b, &r, &r);	/* file untouched */
		assert_clean_merge(&b, &f, &b, &f);	/* runtime untouched */
		assert_clean_merge(&b, &f, &f, &f);	/* the same changes */
		assert_clean_merge(&f, &f, &f, &f);
		conf_free(&b);
		conf_free(&f);
		conf_free(&r);
		conf_free(&want);
	}
}

/* What a VIP is without its backends, for comparing settings alone. */
static bool settings_equal(const struct conf_vip *a, const struct conf_vip *b)
{
	struct conf_vip x = *a, y = *b;

	x.nbe = y.nbe = 0;
	return conf_vip_equal(&x, &y);
}

static bool backend_equal(const struct conf_vip *v,
			  const struct conf_backend *a,
			  const struct conf_backend *b)
{
	struct conf_vip x = *v, y = *v;

	x.be = (struct conf_backend *)a;
	y.be = (struct conf_backend *)b;
	x.nbe = y.nbe = 1;
	return conf_vip_equal(&x, &y);
}

static bool vip_same(const struct conf_vip *a, const struct conf_vip *b)
{
	return a && b ? conf_vip_equal(a, b) : a == b;
}

/* A backend the file changed (or added) is in the result with the file's
 * value of each setting it changed. */
static void assert_backend_landed(const struct conf_vip *bv,
				  const struct conf_vip *fv,
				  const struct conf_vip *ov,
				  const struct conf_backend *fb)
{
	const struct conf_backend *bb, *ob;

	bb = bv ? conf_backend_find(bv, &fb->addr, fb->family) : NULL;
	if (bb && backend_equal(fv, bb, fb))
		return;
	ob = conf_backend_find(ov, &fb->addr, fb->family);
	assert_non_null(ob);
	if (!bb || bb->weight != fb->weight)
		assert_int_equal(ob->weight, fb->weight);
	if (!bb || bb->drained != fb->drained)
		assert_int_equal(ob->drained, fb->drained);
	if (!bb || bb->has_mac != fb->has_mac ||
	    memcmp(bb->mac, fb->mac, 6)) {
		assert_int_equal(ob->has_mac, fb->has_mac);
		assert_memory_equal(ob->mac, fb->mac, 6);
	}
	if (!bb || bb->has_check != fb->has_check ||
	    bb->check.type != fb->check.type)
		assert_int_equal(ob->has_check, fb->has_check);
}

/* The file's VIP changed: in the result, its changed settings and
 * backends land, and the backends it removed are gone. */
static void assert_vip_landed(const struct conf_vip *bv,
			      const struct conf_vip *fv,
			      const struct conf_vip *ov)
{
	size_t j;

	assert_non_null(ov);
	if (!bv || bv->mode != fv->mode)
		assert_int_equal(ov->mode, fv->mode);
	if (!bv || bv->all_down != fv->all_down)
		assert_int_equal(ov->all_down, fv->all_down);
	if (!bv || bv->adaptive != fv->adaptive)
		assert_int_equal(ov->adaptive, fv->adaptive);
	if (!bv || bv->check.type != fv->check.type ||
	    bv->check.rise != fv->check.rise) {
		assert_int_equal(ov->check.type, fv->check.type);
		assert_int_equal(ov->check.rise, fv->check.rise);
	}
	for (j = 0; j < fv->nbe; j++)
		assert_backend_landed(bv, fv, ov, &fv->be[j]);
	for (j = 0; bv && j < bv->nbe; j++)
		if (!conf_backend_find(fv, &bv->be[j].addr, bv->be[j].family))
			assert_null(conf_backend_find(ov, &bv->be[j].addr,
						      bv->be[j].family));
}

/* Both sides edit the same VIPs: whatever the file left alone is as the
 * runtime has it, whatever it changed is the file's. */
static void assert_semantics(const struct xlb_conf *b, const struct xlb_conf *f,
			     const struct xlb_conf *r, const struct xlb_conf *o)
{
	const struct xlb_conf *all[] = { b, f, r };
	const struct conf_vip *bv, *fv, *rv, *ov;
	size_t i, k;

	for (k = 0; k < 3; k++) {
		for (i = 0; i < all[k]->nvips; i++) {
			const struct xlb_vip_key *key = &all[k]->vips[i].key;

			bv = conf_vip_find(b, key);
			fv = conf_vip_find(f, key);
			rv = conf_vip_find(r, key);
			ov = conf_vip_find(o, key);
			if (vip_same(bv, fv))
				assert_true(vip_same(rv, ov));
			else if (!fv)
				assert_null(ov);
			else
				assert_vip_landed(bv, fv, ov);
			if (ov && rv && fv && bv && settings_equal(bv, fv))
				assert_true(settings_equal(ov, rv));
		}
	}
}

/* The written result reads back to the same configuration. */
static void assert_valid(const struct xlb_conf *c)
{
	struct xlb_conf back;
	char *t = write_text(c);

	parse_ok(t, &back);
	assert_conf_same(c, &back);
	conf_free(&back);
	free(t);
}

static void shuffle(struct xlb_conf *c, struct rng *r)
{
	struct conf_backend tb;
	struct conf_vip tv;
	size_t i, j, k;

	for (i = c->nvips; i > 1; i--) {
		k = rnd(r, i);
		tv = c->vips[i - 1];
		c->vips[i - 1] = c->vips[k];
		c->vips[k] = tv;
	}
	for (i = 0; i < c->nvips; i++) {
		for (j = c->vips[i].nbe; j > 1; j--) {
			k = rnd(r, j);
			tb = c->vips[i].be[j - 1];
			c->vips[i].be[j - 1] = c->vips[i].be[k];
			c->vips[i].be[k] = tb;
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Same lines, in any order. */
static void assert_same_lines(struct merge_lines *a, struct merge_lines *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	if (a->n) {
		qsort(a->line, a->n, sizeof(char *), cmp_str);
		qsort(b->line, b->n, sizeof(char *), cmp_str);
	}
	for (i = 0; i < a->n; i++)
		assert_string_equal(a->line[i], b->line[i]);
}

static void test_random_overlapping(void **state)
{
	struct xlb_conf b, f, r, b2, f2, r2;
	unsigned long long seed;
	struct merged m, m2;
	size_t conflicts = 0;

	(void)state;
	for (seed = 1; seed <= 400; seed++) {
		struct rng sr = { seed };

		random_base(&b, seed);
		copy_edit(&f, &b, seed * 7 + 1, seed % 2);
		copy_edit(&r, &b, seed * 13 + 5, seed % 2);
		merge_c(&b, &f, &r, &m);
		assert_semantics(&b, &f, &r, &m.out);
		assert_valid(&m.out);
		conflicts += m.rep.conflicts.n;

		/* Any order of VIPs and backends in any input. */
		assert_int_equal(conf_copy(&b2, &b), 0);
		assert_int_equal(conf_copy(&f2, &f), 0);
		assert_int_equal(conf_copy(&r2, &r), 0);
		shuffle(&b2, &sr);
		shuffle(&f2, &sr);
		shuffle(&r2, &sr);
		merge_c(&b2, &f2, &r2, &m2);
		assert_conf_same(&m.out, &m2.out);
		assert_same_lines(&m.rep.conflicts, &m2.rep.conflicts);
		assert_int_equal(m.rep.removes_all, m2.rep.removes_all);
		merged_free(&m);
		merged_free(&m2);
		conf_free(&b);
		conf_free(&f);
		conf_free(&r);
		conf_free(&b2);
		conf_free(&f2);
		conf_free(&r2);
	}
	/* The cases did collide. */
	assert_true(conflicts > 100);
}

/* ---- digest ---- */

static void digest_of(const char *yaml, unsigned char d[CONF_DIGEST_LEN])
{
	struct xlb_conf c;

	parse_ok(yaml, &c);
	assert_int_equal(conf_digest(&c, d), 0);
	conf_free(&c);
}

/* sha256sum of conf_write's text, as an independent reference. */
static void assert_digest_is_sha256(const char *yaml)
{
	unsigned char d[CONF_DIGEST_LEN];
	char tmp[] = "/tmp/test_merge.XXXXXX", cmd[128], hex[65], want[65];
	struct xlb_conf c;
	FILE *f, *p;
	size_t i;
	int fd;

	parse_ok(yaml, &c);
	assert_int_equal(conf_digest(&c, d), 0);
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(conf_write(&c, f), 0);
	assert_int_equal(fclose(f), 0);
	conf_free(&c);
	snprintf(cmd, sizeof(cmd), "sha256sum %s", tmp);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(want, sizeof(want), p));
	pclose(p);
	unlink(tmp);
	for (i = 0; i < CONF_DIGEST_LEN; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	assert_string_equal(hex, want);
}

static void test_digest(void **state)
{
	unsigned char a[CONF_DIGEST_LEN], b[CONF_DIGEST_LEN];

	(void)state;
	assert_digest_is_sha256(rich);
	assert_digest_is_sha256("vips: []\n");

	/* Comments, spacing, defaults spelled out: the same content. */
	digest_of(one_vip, a);
	digest_of("# edited by hand\n"
		  "vips:\n"
		  "  - vip: " VIP1 "   # the web VIP\n"
		  "    algo: maglev\n"
		  "    backends:\n"
		  "      - addr: 198.18.0.11\n"
		  "        weight: 70\n"
		  "      - {addr: 198.18.0.12, weight: 100}\n", b);
	assert_memory_equal(a, b, CONF_DIGEST_LEN);
	/* A weight is content. */
	digest_of("vips:\n"
		  "  - vip: " VIP1 "\n"
		  "    backends:\n"
		  "      - {addr: 198.18.0.11, weight: 71}\n"
		  "      - {addr: 198.18.0.12}\n", b);
	assert_memory_not_equal(a, b, CONF_DIGEST_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtime_addition_survives),
		cmocka_unit_test(test_runtime_weight_and_drain_survive),
		cmocka_unit_test(test_conflict_file_wins),
		cmocka_unit_test(test_same_change_no_conflict),
		cmocka_unit_test(test_conflict_every_setting),
		cmocka_unit_test(test_check_override),
		cmocka_unit_test(test_file_deletes_modified),
		cmocka_unit_test(test_runtime_deletion_stays),
		cmocka_unit_test(test_runtime_deletion_file_changed),
		cmocka_unit_test(test_file_adds_vip),
		cmocka_unit_test(test_both_add),
		cmocka_unit_test(test_backend_unfit_dropped),
		cmocka_unit_test(test_node_restart_keys),
		cmocka_unit_test(test_node_merge),
		cmocka_unit_test(test_no_base_first_start),
		cmocka_unit_test(test_removes_all),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_one_side_unchanged),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_no_memory),
		cmocka_unit_test(test_random_disjoint),
		cmocka_unit_test(test_random_overlapping),
		cmocka_unit_test(test_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
