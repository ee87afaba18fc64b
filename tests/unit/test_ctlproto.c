// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for the control protocol's strict request parser
 * (user/lib/ctlproto.c) and the checks it shares with xlb.conf
 * (user/lib/settings.c, user/lib/addr.c): what a request may be, and the
 * one-line reason when it may not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "ctlproto.h"
#include "settings.h"

static int parse(const char *text, json_object **o, char *err, size_t len)
{
	memset(err, 0, len);
	return ctl_parse_request(text, strlen(text), o, err, len);
}

static void test_accepts(void **state)
{
	static const char *const good[] = {
		"{\"cmd\":\"list\"}\n",
		" {\"cmd\" : \"stats\"} \n",
		"{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
		"\"encap\":\"gue\",\"check\":\"http:/h\",\"interval\":0.5,"
		"\"timeout\":1,\"rise\":2,\"fall\":3,\"error_rate\":0.3,"
		"\"check_port\":8080,\"all_down\":\"drop\","
		"\"adaptive\":\"both\",\"algo\":\"maglev\"}\n",
		"{\"cmd\":\"backend-add\",\"vip\":\"198.18.1.1:80/tcp\","
		"\"addr\":\"198.18.0.11\",\"weight\":100,"
		"\"mac\":\"02:00:00:00:00:01\"}\n",
		"{\"cmd\":\"flows\",\"limit\":5,\"client\":\"198.18.0.2\"}\n",
		"{\"cmd\":\"vip-del\",\"vip\":\"h\\u00e9\"}\n",
	};
	char err[256];
	json_object *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (parse(good[i], &o, err, sizeof(err)))
			fail_msg("case %zu refused: %s", i, err);
		assert_non_null(o);
		json_object_put(o);
	}
}

static const struct {
	const char *text;
	const char *reason;
} bad[] = {
	/* unknown members were ignored: "encpa" made an ipip VIP */
	{ "{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"encpa\":\"gue\"}\n", "unknown member 'encpa' for vip-add" },
	{ "{\"cmd\":\"list\",\"vip\":\"198.18.1.1:80/tcp\"}\n",
	  "unknown member 'vip' for list" },
	/* duplicates took the last: list then shutdown shut xlbd down */
	{ "{\"cmd\":\"list\",\"cmd\":\"shutdown\"}\n", "duplicate member 'cmd'" },
	{ "{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"c\\u0068eck\":\"tcp\",\"check\":\"udp\"}\n",
	  "duplicate member 'check'" },
	{ "{\"cmd\":\"list\",\"cmd\\u0000x\":\"shutdown\"}\n",
	  "a member's name is not UTF-8 text or has a control character" },
	/* weight 100.7 was cut to 100 */
	{ "{\"cmd\":\"backend-set-weight\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"addr\":\"198.18.0.11\",\"weight\":100.7}\n",
	  "weight must be an integer, not 100.7" },
	{ "{\"cmd\":\"backend-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"addr\":\"198.18.0.11\",\"weight\":1e2}\n",
	  "weight must be an integer" },
	{ "{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"interval\":\"5\"}\n", "interval must be a number" },
	{ "{\"cmd\":\"vip-add\",\"vip\":80}\n", "vip must be a string" },
	/* trailing data was ignored */
	{ "{\"cmd\":\"list\"}\n{\"cmd\":\"shutdown\"}\n",
	  "data after the request's newline" },
	{ "{\"cmd\":\"list\"} {\"cmd\":\"shutdown\"}\n",
	  "request is not JSON" },
	{ "{\"cmd\":\"list\"}x\n", "request is not JSON" },
	/* a request without its newline ran after the client hung up */
	{ "{\"cmd\":\"shutdown\"}", "does not end in a newline" },
	{ "{\"cmd\":\"shutdown\"", "does not end in a newline" },
	{ "{\"cmd\":\"shutdown\"\n", "request is not a whole JSON object" },
	/* one byte that is not UTF-8 broke every later state-file save */
	{ "{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"check\":\"http:/heal\x80h\"}\n", "not JSON" },
	{ "{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"check\":\"http:/a\\u0000b\"}\n", "check contains a NUL character" },
	{ "{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"check\":\"http:/a\\nb\"}\n", "check contains a control character" },
	/* what json-c's strict mode still reads */
	{ "{\"cmd\":\"list\",'cmd':\"shutdown\"}\n",
	  "request is not JSON: unexpected '''" },
	{ "{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"interval\":-Infinity}\n", "request is not JSON: unexpected 'I'" },
	{ "{\"cmd\":\"vip-add\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"interval\":NaN}\n", "request is not JSON: unexpected 'N'" },
	{ "{\"cmd\":\"list\",\"x\":[1]}\n", "not a flat JSON object" },
	{ "[\"list\"]\n", "not a JSON object" },
	{ "\n", "not a whole JSON object" },
	{ "", "empty request" },
	{ "{\"cmd\":\"frobnicate\"}\n", "unknown command 'frobnicate'" },
	{ "{\"vip\":\"x\"}\n", "missing cmd" },
	{ "{\"cmd\":\"backend-set-weight\",\"vip\":\"198.18.1.1:80/tcp\","
	  "\"addr\":\"198.18.0.11\"}\n", "missing weight" },
};

static void test_refuses(void **state)
{
	char err[256];
	json_object *o;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = (json_object *)&o;	/* must come back NULL */
		rc = parse(bad[i].text, &o, err, sizeof(err));
		if (rc != -EINVAL || o)
			fail_msg("case %zu: got %d, want -EINVAL", i, rc);
		if (!strstr(err, bad[i].reason) || strchr(err, '\n'))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
				 bad[i].reason);
	}
}

/* A NUL inside the bytes read: C would stop there, the parser may not. */
static void test_nul_byte(void **state)
{
	static const char text[] = "{\"cmd\":\"list\"}\0{\"cmd\":\"shutdown\"}\n";
	char err[256];
	json_object *o;

	(void)state;
	assert_int_equal(ctl_parse_request(text, sizeof(text) - 1, &o, err,
					   sizeof(err)), -EINVAL);
	assert_null(o);
	assert_non_null(strstr(err, "NUL byte"));
}

/* The table drives it: each verb's members, of the settings' types. */
static void test_table(void **state)
{
	const struct ctl_verb *v = ctl_verb_find("vip-add");
	size_t i;
	bool interval = false, check_port = false;

	(void)state;
	assert_non_null(v);
	assert_null(ctl_verb_find("vip-ad"));
	for (i = 0; i < v->n; i++) {
		const char *name = ctl_member_name(&v->members[i]);

		if (!strcmp(name, "interval")) {
			interval = true;
			assert_int_equal(ctl_member_type(&v->members[i]),
					 CTL_NUMBER);
		}
		if (!strcmp(name, "check_port")) {
			check_port = true;
			assert_int_equal(ctl_member_type(&v->members[i]),
					 CTL_INT);
		}
	}
	assert_true(interval && check_port);
}

/* ---- shared with xlb.conf ---- */

static void test_text(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "/health", true }, { "h\xc3\xa9", true },
		{ "\xf0\x9f\x98\x80", true }, { "tab\there", true },
		{ "\x80", false }, { "/heal\x80h", false },
		{ "\xc3", false },		/* cut short */
		{ "\xc0\xaf", false },		/* overlong '/' */
		{ "\xed\xa0\x80", false },	/* a surrogate */
		{ "\xf4\x90\x80\x80", false },	/* above U+10FFFF */
		{ "\xff", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (settings_text_ok(cases[i].s, strlen(cases[i].s)) !=
		    cases[i].ok)
			fail_msg("case %zu: want %d", i, cases[i].ok);
	assert_false(settings_text_ok("a\0b", 3));
	assert_false(settings_line_ok("a\nb", 3));
	assert_true(settings_line_ok("a b", 3));
}

static void test_addresses(void **state)
{
	static const struct {
		const char *addr;
		const char *why;	/* NULL: usable */
	} cases[] = {
		{ "0.0.0.0", "unspecified" }, { "0.1.2.3", "unspecified" },
		{ "255.255.255.255", "broadcast" },
		{ "224.0.0.1", "multicast" }, { "239.255.255.255", "multicast" },
		{ "127.0.0.1", "loopback" }, { "127.9.9.9", "loopback" },
		{ "::", "unspecified" }, { "::1", "loopback" },
		{ "ff02::1", "multicast" },
		{ "::ffff:198.18.0.11", "IPv4-mapped" },
		{ "198.18.0.11", NULL }, { "2001:db8::11", NULL },
		{ "223.255.255.255", NULL }, { "::2", NULL },
	};
	union xlb_addr a;
	const char *why;
	__u8 f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(xlb_parse_addr(cases[i].addr, &a, &f), 0);
		why = xlb_addr_unusable(&a, f);
		if (cases[i].why ? !why || strcmp(why, cases[i].why) : !!why)
			fail_msg("%s: got %s, want %s", cases[i].addr,
				 why ?: "usable", cases[i].why ?: "usable");
	}
}

static void test_backend_is_vip(void **state)
{
	struct xlb_vip_key k;
	union xlb_addr a;
	char err[256];
	__u8 f;

	(void)state;
	assert_int_equal(xlb_parse_vip("198.18.1.1:80/tcp", &k), 0);
	assert_int_equal(xlb_parse_addr("198.18.1.1", &a, &f), 0);
	assert_int_equal(xlb_backend_addr_ok(&k, &a, f, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "backend 198.18.1.1 is the VIP's own address");
	assert_int_equal(xlb_parse_addr("198.18.0.11", &a, &f), 0);
	assert_int_equal(xlb_backend_addr_ok(&k, &a, f, err, sizeof(err)), 0);
	assert_int_equal(xlb_parse_addr("::ffff:198.18.0.11", &a, &f), 0);
	assert_int_equal(xlb_backend_addr_ok(&k, &a, f, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "backend ::ffff:198.18.0.11 is IPv4-mapped: "
			    "write it as 198.18.0.11");
}

static void test_settings_parse(void **state)
{
	static const struct {
		enum setting_id id;
		const char *s;
		long long want;		/* -1: refused */
	} cases[] = {
		{ SET_INTERVAL, "0.5", 500 }, { SET_INTERVAL, "0.05", -1 },
		{ SET_INTERVAL, "1e3", -1 }, { SET_INTERVAL, "0.0001", -1 },
		{ SET_TIMEOUT, "0.05", 50 }, { SET_WEIGHT, "100", 100 },
		{ SET_WEIGHT, "100.7", -1 }, { SET_WEIGHT, "65536", -1 },
		{ SET_WEIGHT, "-1", -1 }, { SET_ERROR_RATE, "0.3", 30 },
		{ SET_ERROR_RATE, "1.1", -1 }, { SET_RISE, "0", -1 },
		{ SET_CHECK_TYPE, "syn", CONF_CHECK_SYN },
		{ SET_ENCAP, "gue", XLB_MODE_GUE }, { SET_ENCAP, "ipx", -1 },
	};
	unsigned long long v;
	char err[256];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = settings_parse(cases[i].id, "x", cases[i].s, &v, err,
				    sizeof(err));
		if (cases[i].want < 0 ? rc != -EINVAL :
		    rc || v != (unsigned long long)cases[i].want)
			fail_msg("case %zu '%s': rc %d v %llu", i, cases[i].s,
				 rc, v);
	}
	assert_int_equal(settings_parse(SET_ENCAP, "encap", "ipx", &v, err,
					sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad encap 'ipx' (want ipip, gue or l2)");
}

/* Every check type, syn too, in the lists messages give. */
static void test_names_lists(void **state)
{
	char buf[256];
	size_t i;

	(void)state;
	settings_check_list(buf, sizeof(buf));
	for (i = 0; i < settings_check.n; i++)
		assert_non_null(strstr(buf, settings_name(&settings_check, i)));
	assert_string_equal(settings_names_list(&settings_check, buf,
						sizeof(buf)),
			    "none, tcp, http, https, udp or syn");
	assert_string_equal(settings_names_list(&settings_algo, buf,
						sizeof(buf)), "maglev, sh, rr, wrr, p2c or lc");
}

static void test_check_fits(void **state)
{
	struct xlb_vip_key k;
	struct conf_check c;
	char err[256];

	(void)state;
	conf_check_defaults(&c);
	assert_int_equal(xlb_parse_vip("198.18.1.1:53/udp", &k), 0);
	c.type = CONF_CHECK_UDP;
	assert_int_equal(settings_check_fits(&k, &c, err, sizeof(err)), 0);
	c.type = CONF_CHECK_SYN;
	assert_int_equal(settings_check_fits(&k, &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "check syn needs a tcp VIP, and "
			    "198.18.1.1:53/udp is udp");
	assert_int_equal(xlb_parse_vip("198.18.1.1:0/tcp", &k), 0);
	assert_int_equal(settings_check_fits(&k, &c, err, sizeof(err)),
			 -EINVAL);
	c.port = 80;
	assert_int_equal(settings_check_fits(&k, &c, err, sizeof(err)), 0);

	assert_int_equal(settings_adaptive_fits(CONF_ADAPTIVE_LATENCY, &c, err,
						sizeof(err)), 0);
	assert_int_equal(settings_adaptive_fits(CONF_ADAPTIVE_LOAD, &c, err,
						sizeof(err)), -EINVAL);
	c.type = CONF_CHECK_HTTPS;
	assert_int_equal(settings_adaptive_fits(CONF_ADAPTIVE_BOTH, &c, err,
						sizeof(err)), 0);
	c.type = CONF_CHECK_NONE;
	assert_int_equal(settings_adaptive_fits(CONF_ADAPTIVE_LATENCY, &c, err,
						sizeof(err)), -EINVAL);

	c.interval_ms = 1000;
	c.timeout_ms = 2000;
	assert_int_equal(settings_timeout_fits(&c, true, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "timeout 2 exceeds interval 1");
	assert_int_equal(settings_timeout_fits(&c, false, err, sizeof(err)), 0);
	assert_int_equal(c.timeout_ms, 1000);
}

/* The table's own rules: no two rows share a file key, a request member
 * or an option; a number's default is in its range; a name's default is
 * one of its names. */
static void test_table_sane(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < SET_MAX; i++) {
		const struct setting *a = &settings[i];

		if (a->type == SETTING_UINT || a->type == SETTING_MS ||
		    a->type == SETTING_PCT)
			assert_true(a->def >= a->min && a->def <= a->max);
		if (a->type == SETTING_NAME)
			assert_non_null(settings_name(a->names, a->def));
		for (j = i + 1; j < SET_MAX; j++) {
			const struct setting *b = &settings[j];

			if (a->file && b->file)
				assert_string_not_equal(a->file, b->file);
			if (a->member && b->member)
				assert_string_not_equal(a->member, b->member);
			if (a->option && b->option)
				assert_string_not_equal(a->option, b->option);
		}
	}
}

/* What applies to which check type comes from the check types' rows. */
static void test_scope(void **state)
{
	struct conf_check c;

	(void)state;
	assert_true(settings_applies(SET_PATH, CONF_CHECK_HTTPS));
	assert_false(settings_applies(SET_PATH, CONF_CHECK_SYN));
	assert_true(settings_applies(SET_PAYLOAD, CONF_CHECK_UDP));
	assert_false(settings_applies(SET_PAYLOAD, CONF_CHECK_TCP));
	assert_true(settings_applies(SET_INTERVAL, CONF_CHECK_SYN));
	assert_false(settings_applies(SET_INTERVAL, CONF_CHECK_NONE));
	assert_false(settings_applies(SET_WEIGHT, CONF_CHECK_TCP));
	conf_check_defaults(&c);
	settings_check_store(&c, SET_INTERVAL, 1500);
	settings_check_store(&c, SET_CHECK_PORT, 8080);
	settings_check_store(&c, SET_ERROR_RATE, 40);
	assert_int_equal(c.interval_ms, 1500);
	assert_int_equal(c.port, 8080);
	assert_int_equal(c.error_pct, 40);
	assert_int_equal(c.timeout_ms, 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_backend_is_vip),
		cmocka_unit_test(test_settings_parse),
		cmocka_unit_test(test_names_lists),
		cmocka_unit_test(test_check_fits),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_table_sane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
