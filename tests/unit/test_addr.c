// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the text forms of addresses, VIPs and MACs (user/lib/addr.c).
 *
 * Expected values are spelled out byte by byte, so that a byte order or
 * family mix-up in the parsers shows as a failure here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "addr.h"

#define PROTO_TCP	6
#define PROTO_UDP	17

static const __u8 v4_198_18_1_1[16] = { 198, 18, 1, 1 };
static const __u8 v6_2001_db8_1[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};

/* A port as it sits in memory must be big-endian: high byte first. */
static void assert_port_be(__be16 port, unsigned int host_port)
{
	__u8 b[2];

	memcpy(b, &port, sizeof(b));
	assert_int_equal(b[0], host_port >> 8);
	assert_int_equal(b[1], host_port & 0xff);
}

/* ---- xlb_parse_addr ---- */

static void test_parse_addr_v4(void **state)
{
	union xlb_addr a;
	__u8 family = 0;

	(void)state;
	/* Dirty the whole union: the parser must clear the unused 12 bytes. */
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(xlb_parse_addr("198.18.1.1", &a, &family), 0);
	assert_int_equal(family, XLB_AF_INET);
	assert_int_equal(family, 4);
	assert_memory_equal(a.bytes, v4_198_18_1_1, 16);
	assert_int_equal(a.v6[1], 0);
	assert_int_equal(a.v6[2], 0);
	assert_int_equal(a.v6[3], 0);

	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(xlb_parse_addr("255.255.255.255", &a, &family), 0);
	assert_int_equal(family, XLB_AF_INET);
	assert_int_equal(a.bytes[0], 0xff);
	assert_int_equal(a.bytes[3], 0xff);
	assert_int_equal(a.bytes[4], 0);
	assert_int_equal(a.bytes[15], 0);
}

static void test_parse_addr_v6(void **state)
{
	union xlb_addr a;
	__u8 family = 0;

	(void)state;
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(xlb_parse_addr("2001:db8::1", &a, &family), 0);
	assert_int_equal(family, XLB_AF_INET6);
	assert_int_equal(family, 6);
	assert_memory_equal(a.bytes, v6_2001_db8_1, 16);
}

static void test_parse_addr_v6_bracketed(void **state)
{
	union xlb_addr a;
	__u8 family = 0;

	(void)state;
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(xlb_parse_addr("[2001:db8::1]", &a, &family), 0);
	assert_int_equal(family, XLB_AF_INET6);
	assert_memory_equal(a.bytes, v6_2001_db8_1, 16);

	/* The longest textual IPv6 form still fits once bracketed. */
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(xlb_parse_addr(
		"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]", &a, &family),
		0);
	assert_int_equal(family, XLB_AF_INET6);
	assert_int_equal(a.bytes[0], 0xff);
	assert_int_equal(a.bytes[15], 0xff);
}

static void test_parse_addr_v4_mapped(void **state)
{
	static const __u8 want[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 1, 1,
	};
	union xlb_addr a;
	__u8 family = 0;

	(void)state;
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(xlb_parse_addr("::ffff:198.18.1.1", &a, &family), 0);
	/* Mapped addresses stay IPv6: the family follows the text form. */
	assert_int_equal(family, XLB_AF_INET6);
	assert_memory_equal(a.bytes, want, 16);
}

static void test_parse_addr_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"198.18.1",
		"198.18.1.1.1",
		"256.18.1.1",
		"198.18.1.1 ",
		" 198.18.1.1",
		"198.18.1.1/32",
		"2001:db8:::1",
		"2001:db8::1::2",
		"2001:db8::g",
		"[]",
		"[",
		"]",
		"[2001:db8::1",
		"2001:db8::1]",
		"[[2001:db8::1]]",
		/* too long, bare and bracketed */
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb",
		"[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb]",
		"[0000000000000000000000000000000000000000000000000000000001]",
	};
	union xlb_addr a;
	__u8 family;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		family = 0x5a;
		if (xlb_parse_addr(bad[i], &a, &family) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(family, 0x5a);
	}
}

/* ---- xlb_parse_proto ---- */

static void test_parse_proto(void **state)
{
	__u8 proto = 0;

	(void)state;
	assert_int_equal(xlb_parse_proto("tcp", &proto), 0);
	assert_int_equal(proto, PROTO_TCP);
	assert_int_equal(xlb_parse_proto("udp", &proto), 0);
	assert_int_equal(proto, PROTO_UDP);
	proto = 0x5a;
	assert_int_equal(xlb_parse_proto("sctp", &proto), -EINVAL);
	assert_int_equal(xlb_parse_proto("", &proto), -EINVAL);
	assert_int_equal(xlb_parse_proto("tcp ", &proto), -EINVAL);
	assert_int_equal(xlb_parse_proto("6", &proto), -EINVAL);
	assert_int_equal(proto, 0x5a);
}

/* ---- xlb_parse_vip ---- */

static void test_parse_vip_v4(void **state)
{
	struct xlb_vip_key k;

	(void)state;
	memset(&k, 0xaa, sizeof(k));
	assert_int_equal(xlb_parse_vip("198.18.1.1:80/tcp", &k), 0);
	assert_int_equal(k.family, XLB_AF_INET);
	assert_memory_equal(k.addr.bytes, v4_198_18_1_1, 16);
	assert_port_be(k.port, 80);
	assert_int_equal(k.port, htons(80));
	assert_int_equal(k.proto, PROTO_TCP);
}

static void test_parse_vip_v6(void **state)
{
	struct xlb_vip_key k;

	(void)state;
	memset(&k, 0xaa, sizeof(k));
	assert_int_equal(xlb_parse_vip("[2001:db8::1]:443/udp", &k), 0);
	assert_int_equal(k.family, XLB_AF_INET6);
	assert_memory_equal(k.addr.bytes, v6_2001_db8_1, 16);
	assert_port_be(k.port, 443);	/* 0x01 0xbb */
	assert_int_equal(k.proto, PROTO_UDP);
}

static void test_parse_vip_port_wildcard(void **state)
{
	struct xlb_vip_key k;

	(void)state;
	memset(&k, 0xaa, sizeof(k));
	assert_int_equal(xlb_parse_vip("198.18.1.1:0/udp", &k), 0);
	assert_int_equal(k.family, XLB_AF_INET);
	assert_memory_equal(k.addr.bytes, v4_198_18_1_1, 16);
	assert_int_equal(k.port, 0);
	assert_int_equal(k.proto, PROTO_UDP);

	memset(&k, 0xaa, sizeof(k));
	assert_int_equal(xlb_parse_vip("[2001:db8::1]:0/tcp", &k), 0);
	assert_int_equal(k.family, XLB_AF_INET6);
	assert_memory_equal(k.addr.bytes, v6_2001_db8_1, 16);
	assert_int_equal(k.port, 0);
	assert_int_equal(k.proto, PROTO_TCP);
}

static void test_parse_vip_port_max(void **state)
{
	struct xlb_vip_key k;

	(void)state;
	memset(&k, 0, sizeof(k));
	assert_int_equal(xlb_parse_vip("198.18.1.1:65535/tcp", &k), 0);
	assert_port_be(k.port, 65535);
	assert_int_equal(k.proto, PROTO_TCP);

	/* An asymmetric port catches a missing byte swap. */
	assert_int_equal(xlb_parse_vip("198.18.1.1:258/udp", &k), 0);
	assert_port_be(k.port, 258);	/* 0x01 0x02 */
	assert_int_equal(k.proto, PROTO_UDP);
}

static void test_parse_vip_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"198.18.1.1:65536/tcp",
		"198.18.1.1:99999/tcp",
		"198.18.1.1:4294967376/tcp",	/* 2^32 + 80 */
		"198.18.1.1/tcp",		/* missing port */
		"198.18.1.1:/tcp",		/* empty port */
		"198.18.1.1:80",		/* missing proto */
		"198.18.1.1:80/",		/* empty proto */
		"198.18.1.1:80/sctp",
		"198.18.1.1:80/tcpx",
		/* IPv6 must be bracketed */
		"2001:db8::1:80/tcp",
		"::1:80/tcp",
		"[2001:db8::1:80/tcp",
		"2001:db8::1]:80/tcp",
		"[2001:db8::1]80/tcp",
		":80/tcp",			/* empty host */
		"[]:80/tcp",
		"/tcp",
		"198.18.1.1:8o/tcp",		/* letters in port */
		"198.18.1.1:http/tcp",
		"198.18.1.1:0x50/tcp",
		"198.18.1.1:80x/tcp",		/* trailing junk */
		"198.18.1.1:80/tcp ",
		"198.18.1.1:80/tcp/udp",
		"198.18.1.1:-80/tcp",		/* negative port */
		"198.18.1.1:+80/tcp",
		"198.18.1.1: 80/tcp",
		"garbage:80/tcp",
		"198.18.1:80/tcp",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bb]:80/tcp",
		"[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bb]:80/tcp",
	};
	struct xlb_vip_key k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xlb_parse_vip(bad[i], &k) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

/* ---- xlb_parse_mac ---- */

static void test_parse_mac_good(void **state)
{
	static const __u8 want1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const __u8 want2[6] = { 0x02, 0x00, 0x5e, 0x10, 0xab, 0xff };
	__u8 mac[6];

	(void)state;
	memset(mac, 0xaa, sizeof(mac));
	assert_int_equal(xlb_parse_mac("02:00:00:00:00:01", mac), 0);
	assert_memory_equal(mac, want1, 6);

	memset(mac, 0xaa, sizeof(mac));
	assert_int_equal(xlb_parse_mac("02:00:5e:10:AB:fF", mac), 0);
	assert_memory_equal(mac, want2, 6);
}

static void test_parse_mac_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"02:00:00:00:00",		/* wrong length */
		"02:00:00:00:00:01:02",
		"2:0:0:0:0:1",
		"002:00:00:00:00:01",
		"02:00:00:00:00:0",
		"02:00:00:00:00:0g",		/* bad hex */
		"zz:00:00:00:00:01",
		"02:00:00:00:00:01 ",		/* trailing chars */
		"02:00:00:00:00:01x",
		"02:00:00:00:00:01:",
		"02-00-00-00-00-01",		/* wrong separator */
		"0200.0000.0001",
		"020000000001",
		/* 17 characters that %x alone would read as a MAC */
		" 2:00:00:00:00:01",
		"-1:00:00:00:00:01",
		"+1:00:00:00:00:01",
		"0x:00:00:00:00:01",
		"02:00:00:00:00: 1",
	};
	static const __u8 untouched[6] = { 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a };
	__u8 mac[6];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(mac, 0x5a, sizeof(mac));
		if (xlb_parse_mac(bad[i], mac) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(mac, untouched, 6);
	}
}

/* ---- xlb_format_addr ---- */

static void test_format_addr(void **state)
{
	char buf[XLB_ADDR_STRLEN];
	union xlb_addr a;

	(void)state;
	memset(&a, 0, sizeof(a));
	memcpy(a.bytes, v4_198_18_1_1, 16);
	assert_ptr_equal(xlb_format_addr(&a, XLB_AF_INET, buf, sizeof(buf)),
			 buf);
	assert_string_equal(buf, "198.18.1.1");

	memcpy(a.bytes, v6_2001_db8_1, 16);
	assert_ptr_equal(xlb_format_addr(&a, XLB_AF_INET6, buf, sizeof(buf)),
			 buf);
	assert_string_equal(buf, "2001:db8::1");

	memset(&a, 0, sizeof(a));
	xlb_format_addr(&a, XLB_AF_INET6, buf, sizeof(buf));
	assert_string_equal(buf, "::");
	xlb_format_addr(&a, XLB_AF_INET, buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0");

	/* The family picks the form: the same bytes read as v4 or v6. */
	memcpy(a.bytes, v4_198_18_1_1, 16);
	xlb_format_addr(&a, XLB_AF_INET6, buf, sizeof(buf));
	assert_string_equal(buf, "c612:101::");

	/* Too small a buffer gives "?", not a truncated address. */
	xlb_format_addr(&a, XLB_AF_INET, buf, 8);
	assert_string_equal(buf, "?");
}

static void test_format_addr_round_trip(void **state)
{
	static const char *const addrs[] = {
		"198.18.1.1", "0.0.0.0", "255.255.255.255",
		"2001:db8::1", "::1", "::", "fe80::1:2:3:4",
		"::ffff:198.18.1.1",
		"2001:db8:1:2:3:4:5:6",
	};
	char buf[XLB_ADDR_STRLEN];
	union xlb_addr a;
	__u8 family;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		assert_int_equal(xlb_parse_addr(addrs[i], &a, &family), 0);
		xlb_format_addr(&a, family, buf, sizeof(buf));
		assert_string_equal(buf, addrs[i]);
	}
}

/* ---- xlb_format_vip ---- */

static void test_format_vip_round_trip(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "198.18.1.1:80/tcp", "198.18.1.1:80/tcp" },
		{ "198.18.1.1:0/udp", "198.18.1.1:0/udp" },
		{ "10.0.0.1:65535/udp", "10.0.0.1:65535/udp" },
		{ "[2001:db8::1]:443/udp", "[2001:db8::1]:443/udp" },
		{ "[::1]:0/tcp", "[::1]:0/tcp" },
		{ "[::ffff:198.18.1.1]:53/udp", "[::ffff:198.18.1.1]:53/udp" },
		/* non-canonical input comes back canonical */
		{ "[2001:0DB8:0:0:0:0:0:0001]:443/tcp",
		  "[2001:db8::1]:443/tcp" },
	};
	char buf[XLB_VIP_STRLEN];
	struct xlb_vip_key k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(xlb_parse_vip(cases[i].in, &k), 0);
		assert_ptr_equal(xlb_format_vip(&k, buf, sizeof(buf)), buf);
		assert_string_equal(buf, cases[i].out);
	}
}

/* Socket addresses: family, port and address bytes where the kernel reads
 * them, the rest zero, the length of the family's struct. */
static void test_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	union xlb_addr a;
	__u8 fam;

	(void)state;
	memset(&ss, 0xaa, sizeof(ss));
	assert_int_equal(xlb_parse_addr("198.18.1.1", &a, &fam), 0);
	assert_int_equal(xlb_sockaddr(&a, fam, htons(80), &ss), sizeof(*s4));
	assert_int_equal(s4->sin_family, AF_INET);
	assert_port_be(s4->sin_port, 80);
	assert_memory_equal(&s4->sin_addr, v4_198_18_1_1, 4);
	assert_int_equal(s4->sin_zero[0], 0);

	memset(&ss, 0xaa, sizeof(ss));
	assert_int_equal(xlb_parse_addr("2001:db8::1", &a, &fam), 0);
	assert_int_equal(xlb_sockaddr(&a, fam, htons(443), &ss), sizeof(*s6));
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_port_be(s6->sin6_port, 443);
	assert_memory_equal(&s6->sin6_addr, v6_2001_db8_1, 16);
	assert_int_equal(s6->sin6_flowinfo, 0);
	assert_int_equal(s6->sin6_scope_id, 0);
}

static void test_format_vip_fields(void **state)
{
	char buf[XLB_VIP_STRLEN];
	struct xlb_vip_key k;

	(void)state;
	memset(&k, 0, sizeof(k));
	memcpy(k.addr.bytes, v6_2001_db8_1, 16);
	k.family = XLB_AF_INET6;
	k.port = htons(8080);
	k.proto = PROTO_UDP;
	xlb_format_vip(&k, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:8080/udp");

	memcpy(k.addr.bytes, v4_198_18_1_1, 16);
	k.family = XLB_AF_INET;
	k.proto = PROTO_TCP;
	xlb_format_vip(&k, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.1.1:8080/tcp");

	k.proto = 132;	/* sctp: no name */
	xlb_format_vip(&k, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.1.1:8080/?");
	assert_string_equal(xlb_proto_name(PROTO_TCP), "tcp");
	assert_string_equal(xlb_proto_name(PROTO_UDP), "udp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr_v4),
		cmocka_unit_test(test_parse_addr_v6),
		cmocka_unit_test(test_parse_addr_v6_bracketed),
		cmocka_unit_test(test_parse_addr_v4_mapped),
		cmocka_unit_test(test_parse_addr_bad),
		cmocka_unit_test(test_parse_proto),
		cmocka_unit_test(test_parse_vip_v4),
		cmocka_unit_test(test_parse_vip_v6),
		cmocka_unit_test(test_parse_vip_port_wildcard),
		cmocka_unit_test(test_parse_vip_port_max),
		cmocka_unit_test(test_parse_vip_bad),
		cmocka_unit_test(test_parse_mac_good),
		cmocka_unit_test(test_parse_mac_bad),
		cmocka_unit_test(test_format_addr),
		cmocka_unit_test(test_format_addr_round_trip),
		cmocka_unit_test(test_format_vip_round_trip),
		cmocka_unit_test(test_format_vip_fields),
		cmocka_unit_test(test_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
