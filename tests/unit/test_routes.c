// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for what a node announces (user/xlbd/routes.c): the servable
 * set from the model (health, weights, drain, fail-open) and its BIRD
 * include text; the drain file; the node state file (state.c). No kernel.
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
#include "routes.h"
#include "state.h"

/* Three addresses: .1 on two ports (checked / unchecked), .2 checked,
 * one IPv6 VIP, and a VIP without backends. */
static const char yaml[] =
	"vips:\n"
	"  - vip: 198.18.1.2:80/tcp\n"
	"    check: tcp\n"
	"    backends:\n"
	"      - addr: 198.18.0.11\n"
	"      - addr: 198.18.0.12\n"
	"  - vip: 198.18.1.1:80/tcp\n"
	"    check: tcp\n"
	"    backends:\n"
	"      - addr: 198.18.0.11\n"
	"  - vip: 198.18.1.1:443/tcp\n"
	"    check: tcp\n"
	"    backends:\n"
	"      - addr: 198.18.0.12\n"
	"  - vip: '[2001:db8:1::1]:80/tcp'\n"
	"    backends:\n"
	"      - addr: 2001:db8::11\n"
	"  - vip: 198.18.1.9:80/tcp\n";

static void load(struct xlb_conf *c, const char *text)
{
	char err[CONF_ERR_MAX] = "";

	conf_init(c);
	assert_int_equal(conf_parse_string(text, "test", c, err, sizeof(err)),
			 0);
}

static struct conf_vip *vip(struct xlb_conf *c, const char *s)
{
	struct xlb_vip_key k;
	struct conf_vip *v;

	assert_int_equal(xlb_parse_vip(s, &k), 0);
	v = conf_vip_find(c, &k);
	assert_non_null(v);
	return v;
}

/* routes_write into a string (the caller frees it); *n routes. */
static char *text_held(const struct xlb_conf *c, bool announce,
		       routes_held_fn held, void *arg, enum routes_family fam,
		       int *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*n = routes_write(c, announce, held, arg, "xlb-eth0", fam, f);
	fclose(f);
	return buf;
}

static char *text(const struct xlb_conf *c, bool announce,
		  enum routes_family fam, int *n)
{
	return text_held(c, announce, NULL, NULL, fam, n);
}

static void expect(const struct xlb_conf *c, bool announce,
		   enum routes_family fam, const char *want, int nwant)
{
	int n;
	char *got = text(c, announce, fam, &n);

	assert_string_equal(got, want);
	assert_int_equal(n, nwant);
	free(got);
}

#define L1	"route 198.18.1.1/32 via \"xlb-eth0\";\n"
#define L2	"route 198.18.1.2/32 via \"xlb-eth0\";\n"
#define L6	"route 2001:db8:1::1/128 via \"xlb-eth0\";\n"

/* Sorted, one line per address, both families or one. */
static void test_render(void **state)
{
	struct xlb_conf c;

	(void)state;
	load(&c, yaml);
	expect(&c, true, ROUTES_ALL, L1 L2 L6, 3);
	expect(&c, true, ROUTES_V4, L1 L2, 2);
	expect(&c, true, ROUTES_V6, L6, 1);
	expect(&c, false, ROUTES_ALL, "", 0);
	conf_free(&c);
}

/* Holds VIPs whose key is in the NULL-ended list arg. */
static bool held_in(const struct conf_vip *v, void *arg)
{
	const struct xlb_vip_key *const *k;

	for (k = arg; *k; k++)
		if (!memcmp(*k, &v->key, sizeof(v->key)))
			return true;
	return false;
}

/* A held VIP counts as not servable; its address stays while another VIP
 * on it is not held. */
static void test_held(void **state)
{
	const struct xlb_vip_key *keys[3] = {};
	struct xlb_conf c;
	char *got;
	int n;

	(void)state;
	load(&c, yaml);
	keys[0] = &vip(&c, "198.18.1.1:80/tcp")->key;
	got = text_held(&c, true, held_in, keys, ROUTES_V4, &n);
	assert_string_equal(got, L1 L2);
	free(got);
	keys[1] = &vip(&c, "198.18.1.1:443/tcp")->key;
	got = text_held(&c, true, held_in, keys, ROUTES_ALL, &n);
	assert_string_equal(got, L2 L6);
	assert_int_equal(n, 2);
	free(got);
	conf_free(&c);
}

/* An address stays while any VIP on it can be served. */
static void test_shared_address(void **state)
{
	struct xlb_conf c;

	(void)state;
	load(&c, yaml);
	vip(&c, "198.18.1.1:80/tcp")->be[0].health = HEALTH_DOWN;
	expect(&c, true, ROUTES_V4, L1 L2, 2);
	vip(&c, "198.18.1.1:443/tcp")->be[0].health = HEALTH_DOWN;
	expect(&c, true, ROUTES_V4, L2, 1);
	conf_free(&c);
}

/* Down, drained or weight 0: not healthy with weight; unknown health
 * (not checked yet) serves, as the data plane uses it. */
static void test_servable(void **state)
{
	struct xlb_conf c;
	struct conf_vip *v;

	(void)state;
	load(&c, yaml);
	v = vip(&c, "198.18.1.2:80/tcp");
	assert_true(routes_vip_servable(v));
	v->be[0].health = HEALTH_DOWN;
	assert_true(routes_vip_servable(v));
	v->be[1].drained = true;
	assert_false(routes_vip_servable(v));
	v->be[1].drained = false;
	v->be[1].weight = 0;
	assert_false(routes_vip_servable(v));
	v->be[1].weight = 1;
	v->be[1].health = HEALTH_UP;
	assert_true(routes_vip_servable(v));
	assert_false(routes_vip_servable(vip(&c, "198.18.1.9:80/tcp")));
	conf_free(&c);
}

/* Failing open keeps down backends in the ring, but the node has no
 * healthy backend: it is not announced. */
static void test_all_down_open(void **state)
{
	struct xlb_conf c;
	struct conf_vip *v;

	(void)state;
	load(&c, yaml);
	v = vip(&c, "198.18.1.2:80/tcp");
	v->all_down = CONF_ALL_DOWN_OPEN;
	v->be[0].health = v->be[1].health = HEALTH_DOWN;
	assert_true(state_fail_open(v));
	assert_false(routes_vip_servable(v));
	conf_free(&c);
}

static void test_drain_file(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(routes_drain_write(true, f), 0);
	assert_int_equal(routes_drain_write(false, f), 0);
	fclose(f);
	assert_string_equal(buf, "bgp_community.add((65535,0));\n");
	free(buf);
}

static void test_node_file(void **state)
{
	char dir[] = "/tmp/xlb-routes-XXXXXX", path[64], err[256] = "";
	struct node_state n = { .drained = true }, m;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/node", dir);
	assert_int_equal(state_node_load(&m, path, err, sizeof(err)), 0);
	assert_false(m.drained);		/* missing: serving */
	assert_int_equal(state_node_save(&n, path), 0);
	assert_int_equal(state_node_load(&m, path, err, sizeof(err)), 0);
	assert_true(m.drained);
	n.drained = false;
	assert_int_equal(state_node_save(&n, path), 0);
	assert_int_equal(state_node_load(&m, path, err, sizeof(err)), 0);
	assert_false(m.drained);
	f = fopen(path, "w");
	fputs("drained maybe\n", f);
	fclose(f);
	assert_int_equal(state_node_load(&m, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1:"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_shared_address),
		cmocka_unit_test(test_held),
		cmocka_unit_test(test_servable),
		cmocka_unit_test(test_all_down_open),
		cmocka_unit_test(test_drain_file),
		cmocka_unit_test(test_node_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
