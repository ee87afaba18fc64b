// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for xlb.conf parsing, writing and editing (user/xlbd/conf.c).
 *
 * Expected values are written out in full (addresses byte by byte, ports
 * in network order, durations in ms), so that a field the parser drops or
 * mixes up shows here rather than in the daemon.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "xlb/maps.h"

#define PROTO_TCP	6
#define PROTO_UDP	17

/* Every node key, a v4 and a v6 VIP, both check forms, a per-backend
 * override, a MAC and a drained backend. Line numbers matter below. */
static const char full_yaml[] =
	"# xlb test configuration\n"				/* 1 */
	"node:\n"						/* 2 */
	"  interface: eth1\n"					/* 3 */
	"  xdp-mode: native\n"					/* 4 */
	"  source4: 198.18.0.10\n"				/* 5 */
	"  source6: 2001:db8::10\n"				/* 6 */
	"  gateway-mac: 02:00:00:00:00:fe\n"			/* 7 */
	"  flow-entries: 131072\n"				/* 8 */
	"  ring-size: 1009\n"					/* 9 */
	"  mtu: 9000\n"						/* 10 */
	"  icmp-too-big: false\n"				/* 11 */
	"  icmp-rate: 250\n"					/* 12 */
	"  gue-port: 7777\n"					/* 13 */
	"  metrics: 198.18.0.10:9100\n"				/* 14 */
	"  control-socket: /run/xlb/test.sock\n"		/* 15 */
	"  control-group: xlbops\n"				/* 16 */
	"  pin-root: /sys/fs/bpf/test\n"			/* 17 */
	"  state-file: /var/lib/xlb/test.yaml\n"		/* 18 */
	"vips:\n"						/* 19 */
	"  - vip: 198.18.1.1:80/tcp\n"				/* 20 */
	"    algo: maglev\n"					/* 21 */
	"    encap: gue\n"					/* 22 */
	"    check: http:/healthz\n"				/* 23 */
	"    backends:\n"					/* 24 */
	"      - addr: 198.18.2.1\n"				/* 25 */
	"        weight: 50\n"					/* 26 */
	"        mac: 02:00:00:00:00:b1\n"			/* 27 */
	"      - addr: 198.18.2.2\n"				/* 28 */
	"        drained: true\n"				/* 29 */
	"        check: tcp\n"					/* 30 */
	"  - vip: \"[2001:db8::1]:443/tcp\"\n"			/* 31 */
	"    encap: l2\n"					/* 32 */
	"    check:\n"						/* 33 */
	"      type: https\n"					/* 34 */
	"      path: /ready\n"					/* 35 */
	"      host: example.org\n"				/* 36 */
	"      expect: 204\n"					/* 37 */
	"      body: ok\n"					/* 38 */
	"      payload: ping\n"					/* 39 */
	"      interval: 0.5\n"					/* 40 */
	"      timeout: 0.25\n"					/* 41 */
	"      rise: 4\n"					/* 42 */
	"      fall: 6\n"					/* 43 */
	"      port: 8443\n"					/* 44 */
	"    backends:\n"					/* 45 */
	"      - addr: 2001:db8::2\n"				/* 46 */
	"        weight: 65535\n"				/* 47 */
	"        mac: 02:00:00:00:00:b2\n"			/* 48 */
	"        check: {type: tcp, payload: hi, interval: 2, timeout: 1,"
	" rise: 1, fall: 1, port: 53}\n"			/* 49 */
	"      - addr: 2001:db8::3\n"				/* 50 */
	"        weight: 0\n";					/* 51 */

static const __u8 mac_fe[6] = { 0x02, 0, 0, 0, 0, 0xfe };
static const __u8 mac_b1[6] = { 0x02, 0, 0, 0, 0, 0xb1 };
static const __u8 mac_b2[6] = { 0x02, 0, 0, 0, 0, 0xb2 };
static const __u8 v4_198_18_1_1[16] = { 198, 18, 1, 1 };
static const __u8 v4_198_18_2_1[16] = { 198, 18, 2, 1 };
static const __u8 v4_198_18_2_2[16] = { 198, 18, 2, 2 };
static const __u8 v4_198_18_0_10[4] = { 198, 18, 0, 10 };
static const __u8 v6_db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
static const __u8 v6_db8_2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x02 };
static const __u8 v6_db8_3[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x03 };
static const __u8 v6_db8_10[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };

static void parse_ok(const char *text, struct xlb_conf *c)
{
	char err[CONF_ERR_MAX] = "";
	int ret = conf_parse_string(text, "t.yaml", c, err, sizeof(err));

	if (ret)
		fail_msg("parse failed (%d): %s", ret, err);
}

static void assert_port_be(__be16 port, unsigned int host_port)
{
	__u8 b[2];

	memcpy(b, &port, sizeof(b));
	assert_int_equal(b[0], host_port >> 8);
	assert_int_equal(b[1], host_port & 0xff);
}

static void assert_check_defaults(const struct conf_check *k,
				  enum conf_check_type type)
{
	assert_int_equal(k->type, type);
	assert_string_equal(k->path, "/health");
	assert_string_equal(k->host, "");
	assert_string_equal(k->body, "");
	assert_string_equal(k->payload, "");
	assert_int_equal(k->expect_status, 200);
	assert_int_equal(k->interval_ms, 5000);
	assert_int_equal(k->timeout_ms, 2000);
	assert_int_equal(k->rise, 2);
	assert_int_equal(k->fall, 3);
	assert_int_equal(k->error_pct, 30);
	assert_int_equal(k->port, 0);
}

/* ---- parsing a full file ---- */

static void test_full_node(void **state)
{
	struct xlb_conf c;
	const struct conf_node *n = &c.node;

	(void)state;
	parse_ok(full_yaml, &c);
	assert_string_equal(n->ifname, "eth1");
	assert_int_equal(n->xdp_mode, CONF_XDP_NATIVE);
	assert_true(n->has_src4);
	assert_memory_equal(&n->src4, v4_198_18_0_10, 4);
	assert_true(n->has_src6);
	assert_memory_equal(n->src6, v6_db8_10, 16);
	assert_true(n->has_gw);
	assert_memory_equal(n->gw_mac, mac_fe, 6);
	assert_int_equal(n->flow_entries, 131072);
	assert_int_equal(n->ring_size, 1009);
	assert_int_equal(n->mtu, 9000);
	assert_false(n->icmp_too_big);
	assert_int_equal(n->icmp_rate, 250);
	assert_int_equal(n->gue_port, 7777);
	assert_string_equal(n->metrics, "198.18.0.10:9100");
	assert_string_equal(n->ctl_sock, "/run/xlb/test.sock");
	assert_string_equal(n->ctl_group, "xlbops");
	assert_string_equal(n->pin_root, "/sys/fs/bpf/test");
	assert_string_equal(n->state_file, "/var/lib/xlb/test.yaml");
	conf_free(&c);
}

static void test_full_vip4(void **state)
{
	const struct conf_backend *b;
	const struct conf_vip *v;
	struct xlb_conf c;

	(void)state;
	parse_ok(full_yaml, &c);
	assert_int_equal(c.nvips, 2);
	v = &c.vips[0];
	assert_int_equal(v->line, 20);
	assert_int_equal(v->key.family, XLB_AF_INET);
	assert_memory_equal(v->key.addr.bytes, v4_198_18_1_1, 16);
	assert_port_be(v->key.port, 80);
	assert_int_equal(v->key.proto, PROTO_TCP);
	assert_int_equal(v->mode, XLB_MODE_GUE);
	assert_int_equal(v->algo, XLB_ALGO_MAGLEV);
	/* The shorthand sets type and path; the rest stays at defaults. */
	assert_int_equal(v->check.type, CONF_CHECK_HTTP);
	assert_string_equal(v->check.path, "/healthz");
	assert_int_equal(v->check.interval_ms, 5000);
	assert_int_equal(v->check.expect_status, 200);
	assert_int_equal(v->nbe, 2);

	b = &v->be[0];
	assert_int_equal(b->line, 25);
	assert_int_equal(b->family, XLB_AF_INET);
	assert_memory_equal(b->addr.bytes, v4_198_18_2_1, 16);
	assert_int_equal(b->weight, 50);
	assert_true(b->has_mac);
	assert_memory_equal(b->mac, mac_b1, 6);
	assert_false(b->drained);
	assert_false(b->has_check);

	b = &v->be[1];
	assert_int_equal(b->line, 28);
	assert_memory_equal(b->addr.bytes, v4_198_18_2_2, 16);
	assert_int_equal(b->weight, 100);
	assert_false(b->has_mac);
	assert_true(b->drained);
	assert_true(b->has_check);
	assert_check_defaults(&b->check, CONF_CHECK_TCP);
	conf_free(&c);
}

static void test_full_vip6(void **state)
{
	const struct conf_check *k;
	const struct conf_backend *b;
	const struct conf_vip *v;
	struct xlb_conf c;

	(void)state;
	parse_ok(full_yaml, &c);
	v = &c.vips[1];
	assert_int_equal(v->line, 31);
	assert_int_equal(v->key.family, XLB_AF_INET6);
	assert_memory_equal(v->key.addr.bytes, v6_db8_1, 16);
	assert_port_be(v->key.port, 443);
	assert_int_equal(v->key.proto, PROTO_TCP);
	assert_int_equal(v->mode, XLB_MODE_L2);
	assert_int_equal(v->algo, XLB_ALGO_MAGLEV);

	k = &v->check;
	assert_int_equal(k->type, CONF_CHECK_HTTPS);
	assert_string_equal(k->path, "/ready");
	assert_string_equal(k->host, "example.org");
	assert_int_equal(k->expect_status, 204);
	assert_string_equal(k->body, "ok");
	assert_string_equal(k->payload, "ping");
	assert_int_equal(k->interval_ms, 500);
	assert_int_equal(k->timeout_ms, 250);
	assert_int_equal(k->rise, 4);
	assert_int_equal(k->fall, 6);
	assert_int_equal(k->port, 8443);

	assert_int_equal(v->nbe, 2);
	b = &v->be[0];
	assert_int_equal(b->line, 46);
	assert_int_equal(b->family, XLB_AF_INET6);
	assert_memory_equal(b->addr.bytes, v6_db8_2, 16);
	assert_int_equal(b->weight, 65535);
	assert_true(b->has_mac);
	assert_memory_equal(b->mac, mac_b2, 6);
	assert_true(b->has_check);
	assert_int_equal(b->check.type, CONF_CHECK_TCP);
	assert_string_equal(b->check.payload, "hi");
	assert_string_equal(b->check.path, "/health");
	assert_int_equal(b->check.interval_ms, 2000);
	assert_int_equal(b->check.timeout_ms, 1000);
	assert_int_equal(b->check.rise, 1);
	assert_int_equal(b->check.fall, 1);
	assert_int_equal(b->check.port, 53);

	b = &v->be[1];
	assert_int_equal(b->line, 50);
	assert_memory_equal(b->addr.bytes, v6_db8_3, 16);
	assert_int_equal(b->weight, 0);
	assert_false(b->has_mac);
	assert_false(b->has_check);
	conf_free(&c);
}

/* ---- defaults ---- */

static void assert_node_defaults(const struct conf_node *n)
{
	assert_string_equal(n->ifname, "");
	assert_int_equal(n->xdp_mode, CONF_XDP_AUTO);
	assert_false(n->has_src4);
	assert_false(n->has_src6);
	assert_false(n->has_gw);
	assert_int_equal(n->flow_entries, XLB_FLOWS_DEFAULT);
	assert_int_equal(n->ring_size, XLB_RING_DEFAULT);
	assert_int_equal(n->mtu, 1500);
	assert_true(n->icmp_too_big);
	assert_int_equal(n->icmp_rate, 100);
	assert_int_equal(n->gue_port, 6080);
	assert_false(n->has_metrics);	/* CONF_METRICS_DEFAULT */
	assert_string_equal(n->metrics, "");
	assert_string_equal(n->ctl_sock, "/run/xlb/xlbd.sock");
	assert_string_equal(n->ctl_group, "");
	assert_string_equal(n->pin_root, "/sys/fs/bpf");
	assert_string_equal(n->state_file, "/var/lib/xlb/state.yaml");
}

static void test_defaults_empty(void **state)
{
	static const char *const texts[] = {
		"", "\n", "# only a comment\n", "node:\n", "vips: []\n",
		"node:\nvips:\n", "---\n", "node: {}\n",
	};
	struct xlb_conf c;
	size_t i;

	(void)state;
	conf_init(&c);
	assert_node_defaults(&c.node);
	assert_null(c.vips);
	assert_int_equal(c.nvips, 0);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		parse_ok(texts[i], &c);
		assert_node_defaults(&c.node);
		assert_int_equal(c.nvips, 0);
		conf_free(&c);
	}
}

static void test_defaults_vip(void **state)
{
	struct xlb_conf c;
	const struct conf_vip *v;

	(void)state;
	parse_ok("vips:\n"
		 "- vip: 198.18.1.1:0/udp\n"
		 "  backends:\n"
		 "  - addr: 198.18.2.1\n"
		 "- vip: 198.18.1.2:80/tcp\n", &c);
	assert_int_equal(c.nvips, 2);
	v = &c.vips[0];
	assert_port_be(v->key.port, 0);
	assert_int_equal(v->key.proto, PROTO_UDP);
	assert_int_equal(v->mode, XLB_MODE_IPIP);
	assert_int_equal(v->algo, XLB_ALGO_MAGLEV);
	assert_check_defaults(&v->check, CONF_CHECK_NONE);
	assert_int_equal(v->all_down, CONF_ALL_DOWN_OPEN);
	assert_int_equal(v->adaptive, CONF_ADAPTIVE_OFF);
	assert_int_equal(v->flow_table, CONF_FLOW_TABLE_ON);
	assert_int_equal(v->udp_idle, XLB_IDLE_UDP_S);
	assert_int_equal(v->nbe, 1);
	assert_int_equal(v->be[0].weight, 100);
	assert_false(v->be[0].has_mac);
	assert_false(v->be[0].drained);
	assert_false(v->be[0].has_check);
	assert_int_equal(c.vips[1].nbe, 0);
	assert_null(c.vips[1].be);
	conf_free(&c);
}

static void test_defaults_derived(void **state)
{
	struct xlb_conf c;

	(void)state;
	/* The state file follows the interface unless given. */
	parse_ok("node:\n  interface: ens5\n", &c);
	assert_string_equal(c.node.state_file, "/var/lib/xlb/ens5.yaml");
	conf_free(&c);

	/* A short interval alone pulls the default timeout down to it. */
	parse_ok("vips:\n- vip: 198.18.1.1:80/tcp\n"
		 "  check: {type: tcp, interval: 1}\n", &c);
	assert_int_equal(c.vips[0].check.interval_ms, 1000);
	assert_int_equal(c.vips[0].check.timeout_ms, 1000);
	conf_free(&c);

	/* "http" alone keeps the default path; an empty value is absent. */
	parse_ok("vips:\n- vip: 198.18.1.1:80/tcp\n  check: http\n"
		 "  algo:\nnode:\n  mtu: ~\n  metrics: \"\"\n", &c);
	assert_int_equal(c.vips[0].check.type, CONF_CHECK_HTTP);
	assert_string_equal(c.vips[0].check.path, "/health");
	assert_int_equal(c.node.mtu, 1500);
	/* A quoted "" is a value: metrics off, not the default. */
	assert_true(c.node.has_metrics);
	assert_string_equal(c.node.metrics, "");
	conf_free(&c);
	parse_ok("node:\n  metrics: off\n", &c);
	assert_true(c.node.has_metrics);
	assert_string_equal(c.node.metrics, "");
	conf_free(&c);
	parse_ok("node:\n  metrics:\n", &c);
	assert_false(c.node.has_metrics);
	conf_free(&c);
}

/* ---- errors ---- */

struct bad {
	const char *text;
	const char *prefix;	/* "x.yaml:LINE: " */
	const char *reason;	/* a substring of the message */
};

static const struct bad bad_files[] = {
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    weigth: 5\n",
	  "x.yaml:5: ", "unknown key 'weigth' in backend" },
	{ "node:\n  mtu: 1500\nvips:\n- vip: 198.18.1.1:80\n",
	  "x.yaml:4: ", "bad VIP '198.18.1.1:80' (want ADDR:PORT/PROTO" },
	{ "vips:\n- vip: 2001:db8::1:80/tcp\n",
	  "x.yaml:2: ", "bad VIP '2001:db8::1:80/tcp'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n  - addr: 198.18.2.2\n"
	  "  - addr: 198.18.2.1\n",
	  "x.yaml:6: ", "duplicate backend 198.18.2.1 in VIP 198.18.1.1:80/tcp" },
	{ "vips:\n- vip: \"[2001:db8::1]:80/tcp\"\n"
	  "- vip: \"[2001:db8:0::1]:80/tcp\"\n",
	  "x.yaml:3: ", "duplicate VIP [2001:db8::1]:80/tcp" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    weight: 70000\n",
	  "x.yaml:5: ", "weight 70000 out of range 0..65535" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    weight: 10x\n",
	  "x.yaml:5: ", "bad number '10x' for weight" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    weight: -1\n",
	  "x.yaml:5: ", "bad number '-1'" },
	{ "node:\n  mtu: 1500\n bad: [\n",
	  "x.yaml:3: ", "did not find expected key" },
	{ "node:\n  mtu: [1\n",
	  "x.yaml:3: ", "did not find expected ',' or ']'" },
	{ "node:\n  mtu: 1500\n\tgue-port: 1\n",
	  "x.yaml:3: ", "found a tab character that violates indentation" },
	{ "node:\n  mtu: 1500\n  gue-port: @1\n",
	  "x.yaml:3: ", "found character that cannot start any token" },
	{ "node: eth0\n", "x.yaml:1: ", "expected a mapping for node" },
	{ "- node\n", "x.yaml:1: ", "expected a mapping for the top level" },
	{ "vips:\n  vip: 198.18.1.1:80/tcp\n",
	  "x.yaml:2: ", "expected a sequence for vips" },
	{ "vips:\n- 198.18.1.1:80/tcp\n",
	  "x.yaml:2: ", "expected a mapping for VIP" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n  - 198.18.2.1\n",
	  "x.yaml:4: ", "expected a mapping for backend" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  encap: l2\n  backends:\n"
	  "  - addr: 198.18.2.1\n  - addr: 2001:db8::2\n",
	  "x.yaml:6: ", "l2 cannot change the address family" },
	/* The mode is known only after the mapping: encap after backends. */
	{ "vips:\n- vip: \"[2001:db8::1]:80/tcp\"\n  backends:\n"
	  "  - addr: 198.18.2.1\n  encap: l2\n",
	  "x.yaml:4: ", "l2 cannot change the address family" },
	{ "node:\n  icmp-too-big: yes\n",
	  "x.yaml:2: ", "bad boolean 'yes' for icmp-too-big" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    drained: 1\n",
	  "x.yaml:5: ", "bad boolean '1' for drained" },
	{ "node:\n  mtu: 1500mb\n", "x.yaml:2: ", "bad number '1500mb' for mtu" },
	{ "node:\n  mtu: 0x5dc\n", "x.yaml:2: ", "bad number '0x5dc'" },
	{ "node:\n  mtu: 01500\n", "x.yaml:2: ", "bad number '01500'" },
	{ "node:\n  mtu: 575\n", "x.yaml:2: ", "mtu 575 out of range 576..9216" },
	{ "node:\n  flow-entries: 99999999999999999999999\n", "x.yaml:2: ",
	  "flow-entries 99999999999999999999999 out of range" },
	{ "node:\n  flow-entries: 1023\n", "x.yaml:2: ",
	  "flow-entries 1023 out of range 1024..67108864" },
	{ "node:\n  ring-size: 65536\n", "x.yaml:2: ", "ring-size 65536 is not prime" },
	{ "node:\n  ring-size: 1000033\n", "x.yaml:2: ",
	  "ring-size 1000033 out of range 251..1000003" },
	{ "node:\n  icmp-rate: 1000001\n", "x.yaml:2: ", "icmp-rate 1000001 out of range" },
	{ "node:\n  gue-port: 0\n", "x.yaml:2: ", "gue-port 0 out of range 1..65535" },
	{ "node:\n  xdp-mode: skb\n", "x.yaml:2: ", "bad xdp-mode 'skb'" },
	{ "node:\n  source4: 2001:db8::1\n", "x.yaml:2: ", "bad IPv4 address" },
	{ "node:\n  source6: 198.18.0.1\n", "x.yaml:2: ", "bad IPv6 address" },
	{ "node:\n  gateway-mac: 02:00:00:00:00\n", "x.yaml:2: ", "bad MAC address" },
	{ "node:\n  metrics: 198.18.0.1\n", "x.yaml:2: ", "bad metrics address" },
	{ "node:\n  metrics: 2001:db8::1:9100\n", "x.yaml:2: ", "bad metrics address" },
	{ "node:\n  interface: eth0/1\n", "x.yaml:2: ", "bad interface name" },
	{ "node:\n  interface: abcdefghijklmnop\n", "x.yaml:2: ",
	  "bad interface name" },
	{ "node:\n  state-file: state.yaml\n", "x.yaml:2: ",
	  "state-file 'state.yaml' is not an absolute path" },
	{ "node:\n  control-group: \"a\\0b\"\n", "x.yaml:2: ", "NUL" },
	{ "node:\n  mtu: 1500\n  mtu: 1400\n", "x.yaml:3: ",
	  "duplicate key 'mtu' in node" },
	{ "nodes:\n  mtu: 1500\n", "x.yaml:1: ",
	  "unknown key 'nodes' in the top level" },
	{ "node:\n  mtu: {a: 1}\n", "x.yaml:2: ", "expected a scalar for 'mtu'" },
	{ "vips:\n- algo: maglev\n", "x.yaml:2: ", "VIP has no 'vip'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n  - weight: 1\n",
	  "x.yaml:4: ", "backend has no 'addr'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n  - addr: host1\n",
	  "x.yaml:4: ", "bad backend address 'host1'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  algo: lc2\n",
	  "x.yaml:3: ", "bad algo 'lc2'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  encap: vxlan\n",
	  "x.yaml:3: ", "bad encap 'vxlan'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: ping\n",
	  "x.yaml:3: ", "bad check 'ping'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: tcp:/x\n",
	  "x.yaml:3: ", "bad check 'tcp:/x'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: http:health\n",
	  "x.yaml:3: ", "bad check 'http:health'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: [tcp]\n",
	  "x.yaml:3: ", "expected a string or a mapping for check" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    path: /x\n",
	  "x.yaml:4: ", "check has no 'type'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: icmp\n",
	  "x.yaml:4: ", "bad type 'icmp'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    interval: 0.05\n",
	  "x.yaml:5: ", "interval 0.05 out of range 0.1..3600 seconds" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    interval: 1s\n",
	  "x.yaml:5: ", "bad duration '1s' for interval" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    timeout: 3\n    interval: 2\n",
	  "x.yaml:5: ", "timeout 3 exceeds interval 2" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    timeout: 0.01\n",
	  "x.yaml:5: ", "timeout 0.01 out of range 0.05..3600 seconds" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    rise: 0\n",
	  "x.yaml:5: ", "rise 0 out of range 1..100" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    fall: 101\n",
	  "x.yaml:5: ", "fall 101 out of range 1..100" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    expect: 99\n",
	  "x.yaml:5: ", "expect 99 out of range 100..599" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    port: 65536\n",
	  "x.yaml:5: ", "port 65536 out of range 0..65535" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    path: \"/a b\"\n",
	  "x.yaml:5: ", "bad path '/a b'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    check: {type: tcp, colour: red}\n",
	  "x.yaml:5: ", "unknown key 'colour' in check" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    mac: 02-00-00-00-00-01\n",
	  "x.yaml:5: ", "bad MAC address '02-00-00-00-00-01'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: http\n"
	  "  backends:\n  - addr: *nope\n",
	  "x.yaml:5: ", "found undefined alias" },
	{ "node:\n  mtu: 1500\n---\nnode:\n  mtu: 1400\n",
	  "x.yaml:4: ", "more than one YAML document" },
	{ "node:\n  mtu: 1500\n  pin-root: \"/sys/fs/\xff\"\n",
	  "x.yaml:3: ", "invalid" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    error-rate: 1.5\n",
	  "x.yaml:5: ", "error-rate 1.5 out of range 0..1" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    error-rate: 1.001\n",
	  "x.yaml:5: ", "error-rate 1.001 out of range 0..1" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    error-rate: 30\n",
	  "x.yaml:5: ", "error-rate 30 out of range 0..1" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: tcp\n"
	  "    rise: 1\n    error-rate: 30%\n",
	  "x.yaml:6: ", "bad error-rate '30%' (want a fraction from 0 to 1" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    error-rate: -0.1\n",
	  "x.yaml:5: ", "bad error-rate '-0.1'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    error-rate: .5\n",
	  "x.yaml:5: ", "bad error-rate '.5'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    error-rate: \"0.\"\n",
	  "x.yaml:5: ", "bad error-rate '0.'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    error-rate: 1e-1\n",
	  "x.yaml:5: ", "bad error-rate '1e-1'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: http\n"
	  "    error-rate: [0.3]\n",
	  "x.yaml:5: ", "expected a scalar for 'error-rate'" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    check: {type: tcp, error-rate: 2}\n",
	  "x.yaml:5: ", "error-rate 2 out of range 0..1" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  all-down: closed\n",
	  "x.yaml:3: ", "bad all-down 'closed' (want open or drop)" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  algo: maglev\n  all-down: Drop\n",
	  "x.yaml:4: ", "bad all-down 'Drop'" },
	{ "vips:\n- vip: 198.18.1.1:53/udp\n  udp-idle: 0\n",
	  "x.yaml:3: ", "udp-idle 0 out of range 1..65535" },
	{ "vips:\n- vip: 198.18.1.1:53/udp\n  udp-idle: 65536\n",
	  "x.yaml:3: ", "udp-idle 65536 out of range 1..65535" },
	{ "vips:\n- vip: 198.18.1.1:53/udp\n  flow-table: false\n",
	  "x.yaml:3: ", "bad flow-table 'false' (want on or off)" },
	{ "node:\n  confirm-rate: 4294967296\n",
	  "x.yaml:2: ", "confirm-rate" },
	{ "node:\n  unconfirmed-entries: 100\n",
	  "x.yaml:2: ", "unconfirmed-entries" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  adaptive: yes\n",
	  "x.yaml:3: ", "bad adaptive 'yes' (want off, latency, load or both)" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  adaptive: load\n"
	  "  adaptive: latency\n",
	  "x.yaml:4: ", "duplicate key 'adaptive' in VIP" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: tcp\n"
	  "  error-rate: 0.3\n",
	  "x.yaml:4: ", "unknown key 'error-rate' in VIP" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    adaptive: load\n",
	  "x.yaml:5: ", "unknown key 'adaptive' in backend" },
	/* Control characters only in free text: messages quote the rest. */
	{ "vips:\n- vip: \"198.18.1.1:80\\n/tcp\"\n",
	  "x.yaml:2: ", "'vip' contains a control character" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: {type: http, "
	  "path: \"/a\\tb\"}\n",
	  "x.yaml:3: ", "'path' contains a control character" },
	{ "node:\n  control-group: \"ops\\e\"\n",
	  "x.yaml:2: ", "'control-group' contains a control character" },
	/* Every check type and value list, syn too, from the one table. */
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: ping\n",
	  "x.yaml:3: ", "(want a mapping or none, tcp, http[:/PATH], "
	  "https[:/PATH], udp or syn)" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: icmp\n",
	  "x.yaml:4: ", "bad type 'icmp' (want none, tcp, http, https, udp or syn)" },
	/* Addresses no VIP or backend can have. */
	{ "vips:\n- vip: 0.0.0.0:80/tcp\n",
	  "x.yaml:2: ", "VIP 0.0.0.0 is an unspecified address" },
	{ "vips:\n- vip: 255.255.255.255:80/udp\n",
	  "x.yaml:2: ", "VIP 255.255.255.255 is a broadcast address" },
	{ "vips:\n- vip: 239.1.1.1:5000/udp\n",
	  "x.yaml:2: ", "VIP 239.1.1.1 is a multicast address" },
	{ "vips:\n- vip: 127.0.0.1:80/tcp\n",
	  "x.yaml:2: ", "VIP 127.0.0.1 is a loopback address" },
	{ "vips:\n- vip: \"[::]:80/tcp\"\n",
	  "x.yaml:2: ", "VIP :: is an unspecified address" },
	{ "vips:\n- vip: \"[::1]:80/tcp\"\n",
	  "x.yaml:2: ", "VIP ::1 is a loopback address" },
	{ "vips:\n- vip: \"[ff02::1]:80/udp\"\n",
	  "x.yaml:2: ", "VIP ff02::1 is a multicast address" },
	{ "vips:\n- vip: \"[::ffff:198.18.1.1]:80/tcp\"\n",
	  "x.yaml:2: ", "VIP ::ffff:198.18.1.1 is IPv4-mapped: write it as "
	  "198.18.1.1" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.1.1\n",
	  "x.yaml:4: ", "backend 198.18.1.1 is the VIP's own address" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.0.11\n  - addr: ::ffff:198.18.0.11\n",
	  "x.yaml:5: ", "backend ::ffff:198.18.0.11 is IPv4-mapped: write it "
	  "as 198.18.0.11" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 0.0.0.0\n",
	  "x.yaml:4: ", "backend 0.0.0.0 is an unspecified address" },
	/* A check must fit its VIP's protocol and port. */
	{ "vips:\n- vip: 198.18.1.1:53/udp\n  check: http:/health\n",
	  "x.yaml:3: ", "check http needs a tcp VIP, and 198.18.1.1:53/udp is udp" },
	{ "vips:\n- vip: 198.18.1.1:53/udp\n  check: {type: https}\n",
	  "x.yaml:3: ", "check https needs a tcp VIP" },
	{ "vips:\n- vip: 198.18.1.1:53/udp\n  check: tcp\n",
	  "x.yaml:3: ", "check tcp needs a tcp VIP" },
	{ "vips:\n- vip: 198.18.1.1:53/udp\n  check: syn\n",
	  "x.yaml:3: ", "check syn needs a tcp VIP" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: udp\n",
	  "x.yaml:3: ", "check udp needs a udp VIP, and 198.18.1.1:80/tcp is tcp" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
	  "  - addr: 198.18.2.1\n    check: udp\n",
	  "x.yaml:5: ", "check udp needs a udp VIP" },
	{ "vips:\n- vip: 198.18.1.1:0/tcp\n  check: tcp\n",
	  "x.yaml:3: ", "VIP 198.18.1.1:0/tcp takes every port: its tcp check "
	  "needs a port" },
	/* Adaptive weights need checks to adapt to. */
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  adaptive: latency\n",
	  "x.yaml:3: ", "adaptive latency needs a check" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  adaptive: load\n  check: tcp\n",
	  "x.yaml:3: ", "adaptive load needs an http or https check" },
	{ "vips:\n- vip: 198.18.1.1:80/tcp\n  check: syn\n  adaptive: both\n",
	  "x.yaml:4: ", "adaptive both needs an http or https check" },
};

/* What the refusals above leave alone. */
static void test_fits_ok(void **state)
{
	static const char *const texts[] = {
		"vips:\n- vip: 198.18.1.1:0/tcp\n  check: {type: tcp, port: 80}\n",
		"vips:\n- vip: 198.18.1.1:0/udp\n",
		"vips:\n- vip: 198.18.1.1:53/udp\n  check: udp\n",
		"vips:\n- vip: 198.18.1.1:80/tcp\n  check: syn\n  adaptive: latency\n",
		"vips:\n- vip: 198.18.1.1:80/tcp\n  check: https\n  adaptive: load\n",
		"vips:\n- vip: \"[2001:db8::1]:80/tcp\"\n  backends:\n"
		"  - addr: 198.18.0.11\n  - addr: 2001:db8::11\n",
		"vips:\n- vip: 198.18.1.1:80/tcp\n  check:\n    type: tcp\n"
		"    interval: 1\n",	/* timeout lowered to 1, as before */
	};
	struct xlb_conf c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		parse_ok(texts[i], &c);
		conf_free(&c);
	}
	parse_ok(texts[6], &c);
	assert_int_equal(c.vips[0].check.timeout_ms, 1000);
	conf_free(&c);
}

static void assert_init_state(const struct xlb_conf *c)
{
	struct xlb_conf init;

	conf_init(&init);
	assert_null(c->vips);
	assert_int_equal(c->nvips, 0);
	assert_memory_equal(&c->node, &init.node, sizeof(init.node));
}

static void test_errors(void **state)
{
	char err[CONF_ERR_MAX];
	struct xlb_conf c;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad *b = &bad_files[i];

		memset(err, 0, sizeof(err));
		ret = conf_parse_string(b->text, "x.yaml", &c, err, sizeof(err));
		if (ret != -EINVAL)
			fail_msg("case %zu: got %d (%s), want -EINVAL", i, ret,
				 err);
		if (strncmp(err, b->prefix, strlen(b->prefix)) ||
		    !strstr(err, b->reason))
			fail_msg("case %zu: got \"%s\", want \"%s...%s\"", i,
				 err, b->prefix, b->reason);
		assert_init_state(&c);
		conf_free(&c);
	}
}

/* An error deep inside leaves nothing behind: valgrind checks the leaks,
 * this the state. */
static void test_error_after_vips(void **state)
{
	char err[CONF_ERR_MAX];
	struct xlb_conf c;

	(void)state;
	memset(&c, 0x5a, sizeof(c));	/* out is output only */
	assert_int_equal(conf_parse_string(
		"vips:\n- vip: 198.18.1.1:80/tcp\n  backends:\n"
		"  - addr: 198.18.2.1\n  - addr: 198.18.2.2\n"
		"- vip: 198.18.1.2:80/tcp\n  backends:\n"
		"  - addr: 198.18.2.1\n    weight: 65536\n",
		"x.yaml", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "x.yaml:9: weight 65536 out of range 0..65535");
	assert_init_state(&c);
	conf_free(&c);
	conf_free(&c);	/* harmless twice */
}

/* As many VIPs and backends as the maps hold, and not one more. */
static void test_limits(void **state)
{
	size_t cap = 1 << 20, off;
	char err[CONF_ERR_MAX], *t = malloc(cap), want[64];
	struct xlb_conf c;
	int k, j;

	(void)state;
	assert_non_null(t);
	off = snprintf(t, cap, "vips:\n");
	for (k = 0; k <= XLB_MAX_VIPS; k++)
		off += snprintf(t + off, cap - off, "- vip: 10.0.%d.%d:80/tcp\n",
				k >> 8, k & 255);
	assert_int_equal(conf_parse_string(t, "x.yaml", &c, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "x.yaml:%d: too many VIPs (at most %d)",
		 XLB_MAX_VIPS + 2, XLB_MAX_VIPS);
	assert_string_equal(err, want);

	/* 1024 backends a VIP: VIP k's backend j is on line 4 + k*1026 + j. */
	off = snprintf(t, cap, "vips:\n");
	for (k = 0; k <= XLB_MAX_BACKENDS / 1024; k++) {
		off += snprintf(t + off, cap - off,
				"- vip: 10.0.0.%d:80/tcp\n  backends:\n", k);
		for (j = 0; j < 1024; j++)
			off += snprintf(t + off, cap - off,
					"  - addr: 10.1.%d.%d\n", j >> 8, j & 255);
	}
	assert_true(off < cap);
	assert_int_equal(conf_parse_string(t, "x.yaml", &c, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "x.yaml:%d: too many backends",
		 4 + XLB_MAX_BACKENDS / 1024 * 1026);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);

	/* One VIP fewer is fine. */
	*strstr(t, "- vip: 10.0.0.16:80/tcp") = '\0';
	parse_ok(t, &c);
	assert_int_equal(c.nvips, XLB_MAX_BACKENDS / 1024);
	conf_free(&c);
	free(t);
}

static void test_load_errors(void **state)
{
	static const char nul_file[] = "node:\n  mtu: 1500\0\n  mtu: 1\n";
	char err[CONF_ERR_MAX], dir[] = "/tmp/xlb-conf-XXXXXX", path[64];
	struct xlb_conf c;
	FILE *f;

	(void)state;
	assert_int_equal(conf_load("/nonexistent/xlb.yaml", &c, err,
				   sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/xlb.yaml: No such file or directory");
	assert_init_state(&c);

	/* The file's name is the one in the message; a NUL byte is libyaml's
	 * to refuse, not a silent end of file. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(nul_file, 1, sizeof(nul_file) - 1, f);
	fclose(f);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_string_equal(err + strlen(path), ":2: control characters are not allowed");
	assert_init_state(&c);
	unlink(path);
	rmdir(dir);

	/* No room for a message is fine too. */
	assert_int_equal(conf_parse_string("node: 1\n", NULL, &c, NULL, 0),
			 -EINVAL);
}

/* ---- round trip ---- */

static void assert_check_same(const struct conf_check *a,
			      const struct conf_check *b)
{
	assert_int_equal(a->type, b->type);
	assert_string_equal(a->path, b->path);
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->body, b->body);
	assert_string_equal(a->payload, b->payload);
	assert_int_equal(a->expect_status, b->expect_status);
	assert_int_equal(a->interval_ms, b->interval_ms);
	assert_int_equal(a->timeout_ms, b->timeout_ms);
	assert_int_equal(a->rise, b->rise);
	assert_int_equal(a->fall, b->fall);
	assert_int_equal(a->error_pct, b->error_pct);
	assert_int_equal(a->port, b->port);
}

static void assert_conf_same(const struct xlb_conf *a, const struct xlb_conf *b)
{
	const struct conf_node *m = &a->node, *n = &b->node;
	size_t i, j;

	assert_string_equal(m->ifname, n->ifname);
	assert_int_equal(m->xdp_mode, n->xdp_mode);
	assert_int_equal(m->has_src4, n->has_src4);
	assert_int_equal(m->src4, n->src4);
	assert_int_equal(m->has_src6, n->has_src6);
	assert_memory_equal(m->src6, n->src6, sizeof(m->src6));
	assert_int_equal(m->has_gw, n->has_gw);
	assert_memory_equal(m->gw_mac, n->gw_mac, 6);
	assert_int_equal(m->flow_entries, n->flow_entries);
	assert_int_equal(m->ring_size, n->ring_size);
	assert_int_equal(m->mtu, n->mtu);
	assert_int_equal(m->icmp_too_big, n->icmp_too_big);
	assert_int_equal(m->icmp_rate, n->icmp_rate);
	assert_int_equal(m->has_metrics, n->has_metrics);
	assert_int_equal(m->gue_port, n->gue_port);
	assert_string_equal(m->metrics, n->metrics);
	assert_string_equal(m->ctl_sock, n->ctl_sock);
	assert_string_equal(m->ctl_group, n->ctl_group);
	assert_string_equal(m->pin_root, n->pin_root);
	assert_string_equal(m->state_file, n->state_file);

	assert_int_equal(a->nvips, b->nvips);
	for (i = 0; i < a->nvips; i++) {
		const struct conf_vip *v = &a->vips[i], *w = &b->vips[i];

		assert_memory_equal(&v->key, &w->key, sizeof(v->key));
		assert_int_equal(v->mode, w->mode);
		assert_int_equal(v->algo, w->algo);
		assert_int_equal(v->all_down, w->all_down);
		assert_int_equal(v->adaptive, w->adaptive);
		assert_check_same(&v->check, &w->check);
		assert_int_equal(v->nbe, w->nbe);
		for (j = 0; j < v->nbe; j++) {
			const struct conf_backend *x = &v->be[j], *y = &w->be[j];

			assert_int_equal(x->family, y->family);
			assert_memory_equal(&x->addr, &y->addr, 16);
			assert_int_equal(x->has_mac, y->has_mac);
			if (x->has_mac)
				assert_memory_equal(x->mac, y->mac, 6);
			assert_int_equal(x->weight, y->weight);
			assert_int_equal(x->drained, y->drained);
			assert_int_equal(x->has_check, y->has_check);
			if (x->has_check)
				assert_check_same(&x->check, &y->check);
		}
		assert_true(conf_vip_equal(v, w));
	}
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

static void round_trip(const struct xlb_conf *a)
{
	char *t1, *t2;
	struct xlb_conf b;

	t1 = write_text(a);
	parse_ok(t1, &b);
	assert_conf_same(a, &b);
	/* And the written form is stable. */
	t2 = write_text(&b);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	conf_free(&b);
}

static void test_round_trip_file(void **state)
{
	struct xlb_conf a;

	(void)state;
	parse_ok(full_yaml, &a);
	round_trip(&a);
	conf_free(&a);
}

/* The peer settings: the list in canonical form, written back the same;
 * each address once, at most CONF_PEERS_MAX, no loopback. */
static void test_peers(void **state)
{
	char err[CONF_ERR_MAX], big[2048];
	struct xlb_conf a, b;
	size_t n, i;

	(void)state;
	parse_ok("node:\n  peer-key: /etc/xlb/peer.key\n"
		 "  peers: [198.18.0.22, \"2001:DB8:0::7\"]\n"
		 "  peer-interval: 100\n  peer-dead: 5\n", &a);
	assert_string_equal(a.node.peers, "198.18.0.22 2001:db8::7");
	assert_string_equal(a.node.peer_key, "/etc/xlb/peer.key");
	assert_int_equal(a.node.peer_interval_ms, 100);
	assert_int_equal(a.node.peer_dead, 5);
	round_trip(&a);
	conf_free(&a);
	conf_init(&b);
	assert_int_equal(b.node.peer_interval_ms, CONF_PEER_INTERVAL_DEF);
	assert_int_equal(b.node.peer_dead, CONF_PEER_DEAD_DEF);
	assert_int_equal(conf_parse_string("node:\n  peers: [198.18.0.2, "
					   "198.18.0.2]\n", "x.yaml", &b, err,
					   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(conf_parse_string("node:\n  peers: [\"::1\"]\n",
					   "x.yaml", &b, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "loopback"));
	assert_int_equal(conf_parse_string("node:\n  peer-key: rel\n",
					   "x.yaml", &b, err, sizeof(err)),
			 -EINVAL);
	n = (size_t)snprintf(big, sizeof(big), "node:\n  peers: [");
	for (i = 0; i <= CONF_PEERS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s198.18.3.%zu",
				      i ? ", " : "", i + 1);
	snprintf(big + n, sizeof(big) - n, "]\n");
	assert_int_equal(conf_parse_string(big, "x.yaml", &b, err,
					   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 16 peers"));
	conf_free(&b);
}

/* Values no file above has: strings that need quoting or escapes, a
 * check of type none with settings, defaults left out, wildcard port. */
static void test_round_trip_odd(void **state)
{
	struct xlb_conf a;
	struct conf_vip v;
	struct conf_backend b;

	(void)state;
	conf_init(&a);
	strcpy(a.node.ctl_group, "true");
	a.node.has_metrics = true;
	strcpy(a.node.metrics, "[2001:db8::10]:9100");
	strcpy(a.node.pin_root, "/sys/fs/bpf/x y: #z");
	strcpy(a.node.ctl_sock, "/run/\"q\"\\.sock");
	a.node.xdp_mode = CONF_XDP_GENERIC;

	memset(&v, 0, sizeof(v));
	assert_int_equal(xlb_parse_vip("[2001:db8::5]:0/tcp", &v.key), 0);
	conf_check_defaults(&v.check);
	v.check.interval_ms = 4321;	/* none, yet not the defaults */
	strcpy(v.check.body, "");
	v.mode = XLB_MODE_IPIP;
	assert_int_equal(conf_vip_add(&a, &v), 0);

	memset(&b, 0, sizeof(b));
	assert_int_equal(xlb_parse_addr("198.18.2.9", &b.addr, &b.family), 0);
	b.weight = 1;
	b.has_check = true;
	conf_check_defaults(&b.check);
	b.check.type = CONF_CHECK_HTTP;
	b.check.port = 8080;	/* the VIP takes every port */
	strcpy(b.check.host, "h\xc3\xa9te.example");
	strcpy(b.check.body, "line1\nline2\t\"x\" \\ null");
	strcpy(b.check.payload, "\x01\x7f~");
	b.check.timeout_ms = 5000;
	b.check.interval_ms = 3600000;
	assert_int_equal(conf_backend_add(&a.vips[0], &b), 0);

	/* A per-backend "none" differs from no override. */
	assert_int_equal(xlb_parse_addr("198.18.2.10", &b.addr, &b.family), 0);
	conf_check_defaults(&b.check);
	assert_int_equal(conf_backend_add(&a.vips[0], &b), 0);

	round_trip(&a);
	conf_free(&a);
}

/* ---- all-down, adaptive, error-rate ---- */

/* Line numbers matter below. */
static const char adaptive_yaml[] =
	"vips:\n"						/* 1 */
	"  - vip: 198.18.1.1:80/tcp\n"				/* 2 */
	"    all-down: drop\n"					/* 3 */
	"    adaptive: both\n"					/* 4 */
	"    check:\n"						/* 5 */
	"      type: http\n"					/* 6 */
	"      error-rate: 0.25\n"				/* 7 */
	"    backends:\n"					/* 8 */
	"      - addr: 198.18.2.1\n"				/* 9 */
	"        check: {type: tcp, error-rate: 1}\n"		/* 10 */
	"      - addr: 198.18.2.2\n"				/* 11 */
	"        check: {type: tcp, error-rate: 0}\n"		/* 12 */
	"      - addr: 198.18.2.3\n"				/* 13 */
	"        check: syn\n"					/* 14 */
	"  - vip: 198.18.1.2:80/tcp\n"				/* 15 */
	"    check: tcp\n"					/* 16 */
	"    adaptive: latency\n"				/* 17 */
	"  - vip: 198.18.1.3:80/tcp\n"				/* 18 */
	"    adaptive: load\n"					/* 19 */
	"    all-down:\n"					/* 20 */
	"    check: {type: http, error-rate: \"0.3\"}\n";	/* 21 */

static void test_adaptive_parse(void **state)
{
	const struct conf_vip *v;
	struct xlb_conf c;

	(void)state;
	parse_ok(adaptive_yaml, &c);
	assert_int_equal(c.nvips, 3);
	v = &c.vips[0];
	assert_int_equal(v->all_down, CONF_ALL_DOWN_DROP);
	assert_int_equal(v->adaptive, CONF_ADAPTIVE_BOTH);
	assert_int_equal(v->check.type, CONF_CHECK_HTTP);
	assert_int_equal(v->check.error_pct, 25);
	assert_int_equal(v->check.rise, 2);	/* the rest: defaults */
	assert_int_equal(v->check.fall, 3);
	assert_int_equal(v->nbe, 3);
	assert_true(v->be[0].has_check);
	assert_int_equal(v->be[0].check.error_pct, 100);
	assert_int_equal(v->be[1].check.error_pct, 0);
	/* The short form keeps the default. */
	assert_check_defaults(&v->be[2].check, CONF_CHECK_SYN);

	v = &c.vips[1];
	assert_int_equal(v->all_down, CONF_ALL_DOWN_OPEN);
	assert_int_equal(v->adaptive, CONF_ADAPTIVE_LATENCY);
	assert_check_defaults(&v->check, CONF_CHECK_TCP);

	v = &c.vips[2];
	assert_int_equal(v->all_down, CONF_ALL_DOWN_OPEN);	/* empty */
	assert_int_equal(v->adaptive, CONF_ADAPTIVE_LOAD);
	assert_int_equal(v->check.error_pct, 30);	/* quoted is fine */
	conf_free(&c);
}

/* The file's fraction becomes whole percent, rounded half up. */
static void test_error_rate_values(void **state)
{
	static const struct {
		const char *text;
		unsigned int pct;
	} cases[] = {
		{ "0", 0 }, { "0.0", 0 }, { "0.004", 0 }, { "0.005", 1 },
		{ "0.05", 5 }, { "0.1", 10 }, { "0.125", 13 },
		{ "0.3049999", 30 }, { "0.305", 31 }, { "0.30", 30 },
		{ "0.5", 50 }, { "0.994", 99 }, { "0.995", 100 },
		{ "0.99999", 100 }, { "1", 100 }, { "1.0", 100 },
		{ "1.000000", 100 },
	};
	char text[256];
	struct xlb_conf c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "vips:\n- vip: 198.18.1.1:80/tcp\n"
			 "  check: {type: tcp, error-rate: %s}\n",
			 cases[i].text);
		parse_ok(text, &c);
		if (c.vips[0].check.error_pct != cases[i].pct)
			fail_msg("error-rate %s: got %u%%, want %u%%",
				 cases[i].text, c.vips[0].check.error_pct,
				 cases[i].pct);
		conf_free(&c);
	}
}

/* Flow settings: read, written only when not the default, read back. */
static void test_flow_settings(void **state)
{
	struct xlb_conf a;
	char msg[CONF_ERR_MAX];
	char *t;

	(void)state;
	parse_ok("node:\n  confirm-rate: 4294967295\n"
		 "  unconfirmed-entries: 2048\n"
		 "vips:\n- vip: 198.18.1.1:53/udp\n  flow-table: off\n"
		 "  udp-idle: 30\n- vip: 198.18.1.2:53/udp\n"
		 "  flow-table: on\n", &a);
	assert_int_equal(a.node.confirm_rate, 4294967295u);
	assert_int_equal(a.node.unconfirmed_entries, 2048);
	assert_int_equal(a.vips[0].flow_table, CONF_FLOW_TABLE_OFF);
	assert_int_equal(a.vips[0].udp_idle, 30);
	assert_int_equal(a.vips[1].flow_table, CONF_FLOW_TABLE_ON);
	assert_int_equal(a.vips[1].udp_idle, XLB_IDLE_UDP_S);
	assert_false(conf_vip_equal(&a.vips[0], &a.vips[1]));
	round_trip(&a);
	t = write_text(&a);
	assert_non_null(strstr(t, "flow-table: off\n"));
	assert_non_null(strstr(t, "udp-idle: 30\n"));
	assert_non_null(strstr(t, "confirm-rate: 4294967295\n"));
	assert_null(strstr(t, "flow-table: on"));
	/* The second VIP's default idle bound is left out. */
	assert_null(strstr(strstr(t, "udp-idle") + 1, "udp-idle"));
	free(t);
	conf_free(&a);

	/* Off needs a deterministic algorithm: one that is not is refused
	 * by the function the file, xlbd and xlbctl share. */
	assert_int_equal(settings_flow_table_fits(CONF_FLOW_TABLE_OFF,
						  XLB_ALGO_MAGLEV, msg,
						  sizeof(msg)), 0);
	assert_int_equal(settings_flow_table_fits(CONF_FLOW_TABLE_ON,
						  XLB_ALGO_MAX, msg,
						  sizeof(msg)), 0);
	assert_int_equal(settings_flow_table_fits(CONF_FLOW_TABLE_OFF,
						  XLB_ALGO_MAX, msg,
						  sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "flow-table off needs a deterministic"));
}

/* start-down (VIP) and maint (backend): read, written back only when set,
 * part of equality; start-down without a check refused, as xlbd and
 * xlbctl refuse it (one function). Text check settings: what the CLI and
 * the control socket store. */
static void test_maint_start_down(void **state)
{
	struct xlb_conf a, b;
	struct conf_check ck;
	char msg[CONF_ERR_MAX], *t;

	(void)state;
	parse_ok("vips:\n- vip: 198.18.1.1:80/tcp\n  check: http:/health\n"
		 "  start-down: on\n  backends:\n  - addr: 198.18.0.11\n"
		 "    maint: true\n  - addr: 198.18.0.12\n"
		 "- vip: 198.18.1.2:80/tcp\n", &a);
	assert_int_equal(a.vips[0].start_down, CONF_ON);
	assert_int_equal(a.vips[1].start_down, CONF_OFF);
	assert_true(a.vips[0].be[0].maint);
	assert_false(a.vips[0].be[1].maint);
	round_trip(&a);
	t = write_text(&a);
	assert_non_null(strstr(t, "start-down: on\n"));
	assert_non_null(strstr(t, "maint: true\n"));
	assert_null(strstr(t, "start-down: off"));
	free(t);
	assert_int_equal(conf_copy(&b, &a), 0);
	assert_true(conf_vip_equal(&a.vips[0], &b.vips[0]));
	b.vips[0].be[0].maint = false;
	assert_false(conf_vip_equal(&a.vips[0], &b.vips[0]));
	b.vips[0].be[0].maint = true;
	b.vips[0].start_down = CONF_OFF;
	assert_false(conf_vip_equal(&a.vips[0], &b.vips[0]));
	conf_free(&b);
	conf_free(&a);
	assert_int_equal(conf_parse_string("vips:\n- vip: 198.18.1.1:80/tcp\n"
					   "  start-down: on\n", "t.yaml", &a,
					   msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "start-down needs a check"));

	conf_check_defaults(&ck);
	assert_int_equal(settings_start_down_fits(CONF_ON, &ck, msg,
						  sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "start-down needs a check"));
	ck.type = CONF_CHECK_TCP;
	assert_int_equal(settings_start_down_fits(CONF_ON, &ck, msg,
						  sizeof(msg)), 0);
	assert_int_equal(settings_check_text(&ck, SET_HOST, "host", "lab.test",
					     msg, sizeof(msg)), 0);
	assert_string_equal(ck.host, "lab.test");
	assert_int_equal(settings_check_text(&ck, SET_HOST, "host", "", msg,
					     sizeof(msg)), 0);
	assert_string_equal(ck.host, "");
	assert_int_equal(settings_check_text(&ck, SET_HOST, "host", "a b",
					     msg, sizeof(msg)), -EINVAL);
	assert_int_equal(settings_check_text(&ck, SET_PATH, "path", "x", msg,
					     sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "want /..."));
	assert_int_equal(settings_check_text(&ck, SET_PATH, "path", "/ok",
					     msg, sizeof(msg)), 0);
	assert_string_equal(ck.path, "/ok");
	assert_int_equal(settings_check_text(&ck, SET_INTERVAL, "interval",
					     "5", msg, sizeof(msg)), -EINVAL);
}

static void test_adaptive_round_trip(void **state)
{
	struct xlb_conf a, b;
	char *t;
	unsigned int pct;

	(void)state;
	parse_ok(adaptive_yaml, &a);
	round_trip(&a);
	t = write_text(&a);
	/* Defaults are left out, the rest written as the file spells it. */
	assert_non_null(strstr(t, "all-down: drop\n"));
	assert_non_null(strstr(t, "adaptive: both\n"));
	assert_non_null(strstr(t, "adaptive: latency\n"));
	assert_non_null(strstr(t, "error-rate: 0.25\n"));
	assert_non_null(strstr(t, "error-rate: 1\n"));
	assert_non_null(strstr(t, "error-rate: 0\n"));
	assert_null(strstr(t, "all-down: open"));
	assert_null(strstr(t, "error-rate: 0.3"));
	free(t);

	/* Every percent reads back as itself. */
	for (pct = 0; pct <= 100; pct++) {
		a.vips[0].check.error_pct = pct;
		a.vips[0].be[2].check.error_pct = 100 - pct;
		round_trip(&a);
	}
	conf_free(&a);

	/* A none check with only error-rate set is not "check: none". */
	parse_ok("vips:\n- vip: 198.18.1.1:80/tcp\n"
		 "  check: {type: none, error-rate: 0.5}\n", &a);
	assert_int_equal(a.vips[0].check.error_pct, 50);
	round_trip(&a);
	t = write_text(&a);
	parse_ok(t, &b);
	assert_int_equal(b.vips[0].check.error_pct, 50);
	free(t);
	conf_free(&b);
	conf_free(&a);
}

static void test_adaptive_equal(void **state)
{
	struct xlb_conf a, b;
	struct conf_vip *v, *w;

	(void)state;
	parse_ok(adaptive_yaml, &a);
	assert_int_equal(conf_copy(&b, &a), 0);
	v = &a.vips[0];
	w = &b.vips[0];
	assert_true(conf_vip_equal(v, w));

	w->all_down = CONF_ALL_DOWN_OPEN;
	assert_false(conf_vip_equal(v, w));
	assert_false(conf_vip_equal(w, v));
	w->all_down = CONF_ALL_DOWN_DROP;
	w->adaptive = CONF_ADAPTIVE_LOAD;
	assert_false(conf_vip_equal(v, w));
	w->adaptive = CONF_ADAPTIVE_BOTH;
	w->check.error_pct = 26;
	assert_false(conf_vip_equal(v, w));
	w->check.error_pct = 25;
	w->be[1].check.error_pct = 1;
	assert_false(conf_vip_equal(v, w));
	w->be[1].check.error_pct = 0;
	assert_true(conf_vip_equal(v, w));

	/* A backend without its own check: its check field is not used. */
	w = &b.vips[1];
	assert_true(conf_vip_equal(&a.vips[1], w));
	w->adaptive = CONF_ADAPTIVE_OFF;
	assert_false(conf_vip_equal(&a.vips[1], w));
	conf_free(&a);
	conf_free(&b);
}

/* What the file refuses, conf_vip_add refuses too. */
static void test_adaptive_edits(void **state)
{
	struct xlb_conf c;
	struct conf_vip v;
	struct conf_backend b;

	(void)state;
	conf_init(&c);
	memset(&v, 0, sizeof(v));
	assert_int_equal(xlb_parse_vip("198.18.1.1:80/tcp", &v.key), 0);
	conf_check_defaults(&v.check);
	assert_int_equal(v.check.error_pct, 30);
	v.check.type = CONF_CHECK_HTTP;	/* adaptive both needs it */
	v.all_down = CONF_ALL_DOWN_DROP + 1;
	assert_int_equal(conf_vip_add(&c, &v), -EINVAL);
	v.all_down = CONF_ALL_DOWN_DROP;
	v.adaptive = CONF_ADAPTIVE_BOTH + 1;
	assert_int_equal(conf_vip_add(&c, &v), -EINVAL);
	v.adaptive = CONF_ADAPTIVE_BOTH;
	v.check.error_pct = 101;
	assert_int_equal(conf_vip_add(&c, &v), -EINVAL);
	v.check.error_pct = 100;
	assert_int_equal(conf_vip_add(&c, &v), 0);

	memset(&b, 0, sizeof(b));
	assert_int_equal(xlb_parse_addr("198.18.2.1", &b.addr, &b.family), 0);
	b.weight = 1;
	b.has_check = true;
	conf_check_defaults(&b.check);
	b.check.error_pct = 200;
	assert_int_equal(conf_backend_add(&c.vips[0], &b), -EINVAL);
	b.check.error_pct = 0;
	assert_int_equal(conf_backend_add(&c.vips[0], &b), 0);
	round_trip(&c);
	conf_free(&c);
}

/* ---- saving ---- */

static int count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_save(void **state)
{
	char dir[] = "/tmp/xlb-conf-XXXXXX", sub[64], path[96], deep[128];
	char err[CONF_ERR_MAX];
	struct xlb_conf a, b;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state", dir);
	snprintf(path, sizeof(path), "%s/eth0.yaml", sub);
	parse_ok(full_yaml, &a);

	/* The one missing directory is made. */
	assert_int_equal(conf_save(&a, path), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(count_entries(sub), 1);	/* no temp left */
	assert_int_equal(conf_load(path, &b, err, sizeof(err)), 0);
	assert_conf_same(&a, &b);
	conf_free(&b);

	/* Replacing it leaves the new content and still one file. */
	assert_int_equal(conf_vip_del(&a, &a.vips[0].key), 0);
	assert_int_equal(conf_save(&a, path), 0);
	assert_int_equal(count_entries(sub), 1);
	assert_int_equal(conf_load(path, &b, err, sizeof(err)), 0);
	assert_int_equal(b.nvips, 1);
	assert_conf_same(&a, &b);
	conf_free(&b);

	/* Two levels missing: refused, nothing made. */
	snprintf(deep, sizeof(deep), "%s/a/b/c.yaml", dir);
	assert_int_equal(conf_save(&a, deep), -ENOENT);
	assert_int_equal(count_entries(dir), 1);

	/* rename over a directory fails: the temp file goes. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(conf_save(&a, path), -EISDIR);
	assert_int_equal(count_entries(sub), 1);

	rmdir(path);
	rmdir(sub);
	assert_int_equal(rmdir(dir), 0);
	conf_free(&a);
}

/* ---- comparisons ---- */

static void test_vip_equal(void **state)
{
	struct xlb_conf a, b;
	struct conf_vip *v, *w;
	struct conf_backend t;

	(void)state;
	parse_ok(full_yaml, &a);
	assert_int_equal(conf_copy(&b, &a), 0);
	v = &a.vips[0];
	w = &b.vips[0];
	assert_true(conf_vip_equal(v, w));

	/* Same backends, other order. */
	t = w->be[0];
	w->be[0] = w->be[1];
	w->be[1] = t;
	w->be[0].line = 99;		/* where it was written is not a setting */
	assert_true(conf_vip_equal(v, w));
	assert_true(conf_vip_equal(w, v));

	w->be[1].weight++;
	assert_false(conf_vip_equal(v, w));
	w->be[1].weight--;
	w->be[1].mac[5] ^= 1;
	assert_false(conf_vip_equal(v, w));
	w->be[1].mac[5] ^= 1;
	w->be[0].drained = !w->be[0].drained;
	assert_false(conf_vip_equal(v, w));
	w->be[0].drained = !w->be[0].drained;
	w->be[0].check.rise++;
	assert_false(conf_vip_equal(v, w));
	w->be[0].check.rise--;
	w->check.path[1] = 'X';
	assert_false(conf_vip_equal(v, w));
	w->check.path[1] = 'h';
	w->mode = XLB_MODE_IPIP;
	assert_false(conf_vip_equal(v, w));
	w->mode = XLB_MODE_GUE;
	assert_true(conf_vip_equal(v, w));

	/* A backend fewer; another VIP. */
	w->nbe--;
	assert_false(conf_vip_equal(v, w));
	w->nbe++;
	assert_false(conf_vip_equal(&a.vips[0], &a.vips[1]));

	/* Hand-built, with a duplicate: [x, x] is not [x, y]. */
	w->be[1] = w->be[0];
	w->be[1].line = 1;
	assert_false(conf_vip_equal(v, w));
	assert_false(conf_vip_equal(w, v));
	conf_free(&a);
	conf_free(&b);
}

static void test_copy(void **state)
{
	struct xlb_conf a, b, e;

	(void)state;
	parse_ok(full_yaml, &a);
	assert_int_equal(conf_copy(&b, &a), 0);
	assert_ptr_not_equal(a.vips, b.vips);
	assert_ptr_not_equal(a.vips[0].be, b.vips[0].be);
	a.vips[0].be[0].weight = 7;	/* the copy does not follow */
	assert_int_equal(b.vips[0].be[0].weight, 50);
	a.vips[0].be[0].weight = 50;
	assert_conf_same(&a, &b);
	conf_free(&a);
	assert_int_equal(b.vips[1].be[1].weight, 0);	/* still valid */
	conf_free(&b);

	conf_init(&e);
	assert_int_equal(conf_copy(&b, &e), 0);
	assert_null(b.vips);
	conf_free(&b);
}

/* ---- edits ---- */

static void make_backend(struct conf_backend *b, const char *addr,
			 __u32 weight)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(xlb_parse_addr(addr, &b->addr, &b->family), 0);
	b->weight = weight;
	conf_check_defaults(&b->check);
}

static void test_edits(void **state)
{
	struct conf_backend b, bs[2];
	struct xlb_vip_key k;
	struct conf_vip v, *p;
	struct xlb_conf c;
	union xlb_addr a;
	__u8 fam;

	(void)state;
	conf_init(&c);
	memset(&v, 0, sizeof(v));
	assert_int_equal(xlb_parse_vip("198.18.1.1:80/tcp", &v.key), 0);
	conf_check_defaults(&v.check);
	make_backend(&bs[0], "198.18.2.1", 1);
	make_backend(&bs[1], "198.18.2.2", 2);
	v.be = bs;
	v.nbe = 2;

	assert_int_equal(conf_vip_add(&c, &v), 0);
	assert_int_equal(conf_vip_add(&c, &v), -EEXIST);
	assert_int_equal(c.nvips, 1);
	p = conf_vip_find(&c, &v.key);
	assert_non_null(p);
	assert_ptr_not_equal(p->be, bs);	/* backends copied */
	bs[0].weight = 9;
	assert_int_equal(p->be[0].weight, 1);

	/* Backends: duplicate, weight, family under L2. */
	make_backend(&b, "198.18.2.1", 5);
	assert_int_equal(conf_backend_add(p, &b), -EEXIST);
	make_backend(&b, "198.18.2.3", 65536);
	assert_int_equal(conf_backend_add(p, &b), -EINVAL);
	b.weight = 65535;
	assert_int_equal(conf_backend_add(p, &b), 0);
	assert_int_equal(p->nbe, 3);
	p->mode = XLB_MODE_L2;
	make_backend(&b, "2001:db8::2", 1);
	assert_int_equal(conf_backend_add(p, &b), -EINVAL);
	p->mode = XLB_MODE_IPIP;
	assert_int_equal(conf_backend_add(p, &b), 0);	/* 6in4 is fine */
	assert_non_null(conf_backend_find(p, &b.addr, b.family));
	/* Same bytes, other family: not the same backend. */
	assert_null(conf_backend_find(p, &b.addr, XLB_AF_INET));

	assert_int_equal(xlb_parse_addr("198.18.2.2", &a, &fam), 0);
	assert_int_equal(conf_backend_del(p, &a, fam), 0);
	assert_int_equal(conf_backend_del(p, &a, fam), -ENOENT);
	assert_null(conf_backend_find(p, &a, fam));
	assert_int_equal(p->nbe, 3);
	/* Order kept: .1, .3, 2001:db8::2. */
	assert_int_equal(p->be[0].addr.bytes[3], 1);
	assert_int_equal(p->be[1].addr.bytes[3], 3);
	assert_int_equal(p->be[2].family, XLB_AF_INET6);

	/* A VIP with a bad backend, or bad itself, is refused whole. */
	assert_int_equal(xlb_parse_vip("198.18.1.2:80/tcp", &v.key), 0);
	v.mode = XLB_MODE_L2;
	make_backend(&bs[1], "2001:db8::9", 1);
	assert_int_equal(conf_vip_add(&c, &v), -EINVAL);
	v.mode = XLB_MODE_IPIP;
	bs[1] = bs[0];
	assert_int_equal(conf_vip_add(&c, &v), -EINVAL);	/* duplicate */
	v.nbe = 1;
	v.mode = XLB_MODE_MAX;
	assert_int_equal(conf_vip_add(&c, &v), -EINVAL);
	v.mode = XLB_MODE_GUE;
	/* Checks the file would refuse are refused here too. */
	v.check.timeout_ms = v.check.interval_ms + 1;
	assert_int_equal(conf_vip_add(&c, &v), -EINVAL);
	conf_check_defaults(&v.check);
	bs[0].has_check = true;
	bs[0].check.rise = 0;
	assert_int_equal(conf_vip_add(&c, &v), -EINVAL);
	bs[0].check.rise = 1;
	assert_int_equal(conf_vip_add(&c, &v), 0);
	assert_int_equal(c.nvips, 2);

	k = c.vips[0].key;
	assert_int_equal(conf_vip_del(&c, &k), 0);
	assert_int_equal(conf_vip_del(&c, &k), -ENOENT);
	assert_null(conf_vip_find(&c, &k));
	assert_int_equal(c.nvips, 1);
	assert_int_equal(c.vips[0].mode, XLB_MODE_GUE);
	assert_int_equal(conf_vip_del(&c, &c.vips[0].key), 0);
	assert_int_equal(c.nvips, 0);
	conf_free(&c);
}

/* ---- text forms ---- */

static void test_text_forms(void **state)
{
	struct conf_check k;
	__u8 m;

	(void)state;
	conf_check_defaults(&k);
	assert_int_equal(conf_parse_check("https:/a/b?c=d", &k), 0);
	assert_int_equal(k.type, CONF_CHECK_HTTPS);
	assert_string_equal(k.path, "/a/b?c=d");
	assert_int_equal(conf_parse_check("udp", &k), 0);
	assert_int_equal(k.type, CONF_CHECK_UDP);
	assert_string_equal(k.path, "/a/b?c=d");	/* path only with http */
	assert_int_equal(conf_parse_check("http:", &k), -EINVAL);
	assert_int_equal(conf_parse_check("http:/a b", &k), -EINVAL);
	assert_int_equal(conf_parse_check("udp:/x", &k), -EINVAL);
	assert_int_equal(conf_parse_check("TCP", &k), -EINVAL);
	assert_int_equal(conf_parse_check("", &k), -EINVAL);
	assert_int_equal(k.type, CONF_CHECK_UDP);	/* untouched on error */
	assert_int_equal(conf_parse_check("syn", &k), 0);
	assert_int_equal(k.type, CONF_CHECK_SYN);
	assert_int_equal(conf_parse_check("syn:/x", &k), -EINVAL);
	assert_int_equal(conf_parse_check("none", &k), 0);
	assert_int_equal(k.type, CONF_CHECK_NONE);

	assert_int_equal(conf_parse_mode("l2", &m), 0);
	assert_int_equal(m, XLB_MODE_L2);
	assert_int_equal(conf_parse_mode("ipip", &m), 0);
	assert_int_equal(m, XLB_MODE_IPIP);
	assert_int_equal(conf_parse_mode("gue", &m), 0);
	assert_int_equal(m, XLB_MODE_GUE);
	assert_int_equal(conf_parse_mode("ip", &m), -EINVAL);
	assert_int_equal(conf_parse_algo("maglev", &m), 0);
	assert_int_equal(m, XLB_ALGO_MAGLEV);
	assert_int_equal(conf_parse_algo("rr", &m), 0);
	assert_int_equal(m, XLB_ALGO_RR);
	assert_int_equal(conf_parse_algo("least", &m), -EINVAL);
	assert_string_equal(conf_mode_name(XLB_MODE_GUE), "gue");
	assert_string_equal(conf_mode_name(XLB_MODE_MAX), "?");
	assert_string_equal(conf_algo_name(XLB_ALGO_MAGLEV), "maglev");
	assert_string_equal(conf_check_name(CONF_CHECK_HTTPS), "https");
	assert_string_equal(conf_check_name(CONF_CHECK_UDP), "udp");
	assert_string_equal(conf_check_name(CONF_CHECK_SYN), "syn");

	assert_int_equal(conf_parse_all_down("drop", &m), 0);
	assert_int_equal(m, CONF_ALL_DOWN_DROP);
	assert_int_equal(conf_parse_all_down("open", &m), 0);
	assert_int_equal(m, CONF_ALL_DOWN_OPEN);
	assert_int_equal(conf_parse_all_down("closed", &m), -EINVAL);
	assert_int_equal(conf_parse_all_down("", &m), -EINVAL);
	assert_int_equal(m, CONF_ALL_DOWN_OPEN);	/* untouched on error */
	assert_int_equal(conf_parse_adaptive("off", &m), 0);
	assert_int_equal(m, CONF_ADAPTIVE_OFF);
	assert_int_equal(conf_parse_adaptive("latency", &m), 0);
	assert_int_equal(m, CONF_ADAPTIVE_LATENCY);
	assert_int_equal(conf_parse_adaptive("load", &m), 0);
	assert_int_equal(m, CONF_ADAPTIVE_LOAD);
	assert_int_equal(conf_parse_adaptive("both", &m), 0);
	assert_int_equal(m, CONF_ADAPTIVE_BOTH);
	assert_int_equal(conf_parse_adaptive("Both", &m), -EINVAL);
	assert_int_equal(conf_parse_adaptive("lat", &m), -EINVAL);
	assert_int_equal(m, CONF_ADAPTIVE_BOTH);
	assert_string_equal(conf_all_down_name(CONF_ALL_DOWN_OPEN), "open");
	assert_string_equal(conf_all_down_name(CONF_ALL_DOWN_DROP), "drop");
	assert_string_equal(conf_all_down_name(2), "?");
	assert_string_equal(conf_adaptive_name(CONF_ADAPTIVE_OFF), "off");
	assert_string_equal(conf_adaptive_name(CONF_ADAPTIVE_LATENCY),
			    "latency");
	assert_string_equal(conf_adaptive_name(CONF_ADAPTIVE_LOAD), "load");
	assert_string_equal(conf_adaptive_name(CONF_ADAPTIVE_BOTH), "both");
	assert_string_equal(conf_adaptive_name(4), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_node),
		cmocka_unit_test(test_full_vip4),
		cmocka_unit_test(test_full_vip6),
		cmocka_unit_test(test_defaults_empty),
		cmocka_unit_test(test_defaults_vip),
		cmocka_unit_test(test_defaults_derived),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_fits_ok),
		cmocka_unit_test(test_error_after_vips),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_round_trip_file),
		cmocka_unit_test(test_round_trip_odd),
		cmocka_unit_test(test_adaptive_parse),
		cmocka_unit_test(test_error_rate_values),
		cmocka_unit_test(test_adaptive_round_trip),
		cmocka_unit_test(test_flow_settings),
		cmocka_unit_test(test_maint_start_down),
		cmocka_unit_test(test_adaptive_equal),
		cmocka_unit_test(test_adaptive_edits),
		cmocka_unit_test(test_save),
		cmocka_unit_test(test_vip_equal),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_text_forms),
		cmocka_unit_test(test_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
