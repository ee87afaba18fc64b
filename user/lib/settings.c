// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The settings of a VIP, its check and its backends (settings.h): the
 * table that the file, the control server and the CLI read, the names of
 * their values and the text forms and checks the three share. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "maglev.h"
#include "algo.h"
#include "settings.h"
#include "xlb/service.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* ---- names ---- */

static const char *const mode_names[] = {
	[XLB_MODE_IPIP] = "ipip",
	[XLB_MODE_GUE] = "gue",
	[XLB_MODE_L2] = "l2",
};

/* A new check type is one row here (and its probe in xlbd's health.c). */
static const struct settings_check_type check_types[] = {
	[CONF_CHECK_NONE] = { "none", 0, false },
	[CONF_CHECK_TCP] = { "tcp", IPPROTO_TCP, false },
	[CONF_CHECK_HTTP] = { "http", IPPROTO_TCP, true },
	[CONF_CHECK_HTTPS] = { "https", IPPROTO_TCP, true },
	[CONF_CHECK_UDP] = { "udp", IPPROTO_UDP, false },
	[CONF_CHECK_SYN] = { "syn", IPPROTO_TCP, false },
};

static const char *const all_down_names[] = {
	[CONF_ALL_DOWN_OPEN] = "open",
	[CONF_ALL_DOWN_DROP] = "drop",
};

static const char *const adaptive_names[] = {
	[CONF_ADAPTIVE_OFF] = "off",
	[CONF_ADAPTIVE_LATENCY] = "latency",
	[CONF_ADAPTIVE_LOAD] = "load",
	[CONF_ADAPTIVE_BOTH] = "both",
};

static const char *const flow_table_names[] = {
	[CONF_FLOW_TABLE_ON] = "on",
	[CONF_FLOW_TABLE_OFF] = "off",
};

static const char *const onoff_names[] = {
	[CONF_OFF] = "off",
	[CONF_ON] = "on",
};

static const char *const xdp_names[] = {
	[CONF_XDP_AUTO] = "auto",
	[CONF_XDP_NATIVE] = "native",
	[CONF_XDP_GENERIC] = "generic",
};

#define NAMES(a)	{ &(a)[0], sizeof((a)[0]), ARRAY_SIZE(a) }

const struct settings_names settings_mode = NAMES(mode_names);
/* The algorithms' names live in their table (algo.c). */
const struct settings_names settings_algo = {
	&algos[0].name, sizeof(algos[0]), XLB_ALGO_MAX
};
const struct settings_names settings_check = {
	&check_types[0].name, sizeof(check_types[0]), ARRAY_SIZE(check_types)
};
const struct settings_names settings_all_down = NAMES(all_down_names);
const struct settings_names settings_adaptive = NAMES(adaptive_names);
const struct settings_names settings_xdp = NAMES(xdp_names);
const struct settings_names settings_flow_table = NAMES(flow_table_names);
const struct settings_names settings_onoff = NAMES(onoff_names);

const char *settings_name(const struct settings_names *t, size_t i)
{
	if (i >= t->n)
		return NULL;
	return *(const char *const *)((const char *)t->first + i * t->stride);
}

/* Index of the first len bytes of s in t, or -1. */
static int name_index(const struct settings_names *t, const char *s,
		      size_t len)
{
	const char *name;
	size_t i;

	for (i = 0; i < t->n; i++) {
		name = settings_name(t, i);
		if (name && strlen(name) == len && !strncmp(name, s, len))
			return (int)i;
	}
	return -1;
}

int settings_lookup(const struct settings_names *t, const char *s)
{
	return name_index(t, s, strlen(s));
}

/* Appends "a, b or c" item by item; *nleft says how many follow. */
static void list_add(char *buf, size_t len, size_t *used, const char *item,
		     size_t nleft)
{
	const char *sep = !*used ? "" : nleft ? ", " : " or ";
	int n;

	if (*used >= len)
		return;
	n = snprintf(buf + *used, len - *used, "%s%s", sep, item);
	if (n > 0)
		*used += (size_t)n;
}

static size_t names_count(const struct settings_names *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += settings_name(t, i) != NULL;
	return n;
}

const char *settings_names_list(const struct settings_names *t, char *buf,
				size_t len)
{
	size_t i, used = 0, left = names_count(t);

	buf[0] = '\0';
	for (i = 0; i < t->n; i++)
		if (settings_name(t, i))
			list_add(buf, len, &used, settings_name(t, i), --left);
	return buf;
}

const char *settings_check_list(char *buf, size_t len)
{
	size_t i, used = 0, left = ARRAY_SIZE(check_types);
	char item[32];

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(check_types); i++) {
		snprintf(item, sizeof(item), "%s%s", check_types[i].name,
			 check_types[i].http ? "[:/PATH]" : "");
		list_add(buf, len, &used, item, --left);
	}
	return buf;
}

const struct settings_check_type *settings_check_type(enum conf_check_type t)
{
	return (unsigned int)t < ARRAY_SIZE(check_types) ? &check_types[t] :
							   NULL;
}

static int parse_name(const struct settings_names *t, const char *s, __u8 *v)
{
	int i = settings_lookup(t, s);

	if (i < 0)
		return -EINVAL;
	*v = (__u8)i;
	return 0;
}

static const char *name_or(const struct settings_names *t, size_t i)
{
	return settings_name(t, i) ?: "?";
}

int conf_parse_mode(const char *s, __u8 *mode)
{
	return parse_name(&settings_mode, s, mode);
}

int conf_parse_algo(const char *s, __u8 *algo)
{
	return parse_name(&settings_algo, s, algo);
}

int conf_parse_all_down(const char *s, __u8 *v)
{
	return parse_name(&settings_all_down, s, v);
}

int conf_parse_adaptive(const char *s, __u8 *v)
{
	return parse_name(&settings_adaptive, s, v);
}

const char *conf_mode_name(__u8 mode)
{
	return name_or(&settings_mode, mode);
}

const char *conf_algo_name(__u8 algo)
{
	return name_or(&settings_algo, algo);
}

const char *conf_check_name(enum conf_check_type t)
{
	return name_or(&settings_check, (unsigned int)t);
}

const char *conf_all_down_name(__u8 v)
{
	return name_or(&settings_all_down, v);
}

const char *conf_adaptive_name(__u8 v)
{
	return name_or(&settings_adaptive, v);
}

const char *conf_flow_table_name(__u8 v)
{
	return name_or(&settings_flow_table, v);
}

const char *conf_onoff_name(__u8 v)
{
	return name_or(&settings_onoff, v);
}

/* ---- the table ---- */

/* A check setting: its scope and its field in struct conf_check. */
#define CHECK(scope_, f)	.scope = (scope_),			\
	.off = offsetof(struct conf_check, f),				\
	.size = sizeof(((struct conf_check *)0)->f)

const struct setting settings[SET_MAX] = {
	[SET_VIP] = { "vip", "vip", NULL, SETTING_VIP,
		.help = XLB_VIP_FORM " (PORT 0: all)" },
	[SET_ALGO] = { "algo", "algo", "algo", SETTING_NAME,
		.def = XLB_ALGO_MAGLEV, .names = &settings_algo,
		.help = "how new flows pick a backend" },
	[SET_ENCAP] = { "encap", "encap", "encap", SETTING_NAME,
		.def = XLB_MODE_IPIP, .names = &settings_mode,
		.help = "how packets reach backends" },
	[SET_CHECK] = { "check", "check", "check", SETTING_CHECK,
		.help = "the health check of each backend" },
	[SET_ALL_DOWN] = { "all-down", "all_down", "all-down", SETTING_NAME,
		.def = CONF_ALL_DOWN_OPEN, .names = &settings_all_down,
		.help = "what new flows do when every backend is down" },
	[SET_ADAPTIVE] = { "adaptive", "adaptive", "adaptive", SETTING_NAME,
		.def = CONF_ADAPTIVE_OFF, .names = &settings_adaptive,
		.help = "weights follow check latency, the X-Load of HTTP "
			"checks (load) or both; needs a check" },
	[SET_FLOW_TABLE] = { "flow-table", "flow_table", "flow-table",
		SETTING_NAME, .def = CONF_FLOW_TABLE_ON,
		.names = &settings_flow_table,
		.help = "off: pick a backend for every packet by its hash and "
			"keep no flow state (deterministic algorithms only)" },
	[SET_UDP_IDLE] = { "udp-idle", "udp_idle", "udp-idle", SETTING_UINT,
		XLB_IDLE_UDP_MIN_S, XLB_IDLE_UDP_MAX_S, XLB_IDLE_UDP_S,
		.help = "seconds a UDP (non-TCP) flow keeps its backend idle" },
	[SET_START_DOWN] = { "start-down", "start_down", "start-down",
		SETTING_NAME, .def = CONF_OFF, .names = &settings_onoff,
		.help = "on: a new backend (added, or back from maintenance) "
			"takes no flows until its checks pass (rise)" },
	[SET_PANIC] = { "panic", "panic", "panic", SETTING_PCT, 0, 100, 0,
		.help = "below this fraction of its backends up, spread over "
			"all of them, down ones too (0: off)" },
	[SET_SLOW_START] = { "slow-start", "slow_start", "slow-start",
		SETTING_MS, 0, 3600000, 0,
		.help = "seconds over which a backend that comes back or is "
			"added ramps up to its weight (0: off)" },
	[SET_CHECK_TYPE] = { "type", NULL, NULL, SETTING_NAME,
		.def = CONF_CHECK_NONE, .names = &settings_check,
		CHECK(SCOPE_ALL_CHECKS, type) },
	[SET_PATH] = { "path", "path", "path", SETTING_TOKEN,
		CHECK(SCOPE_HTTP, path),
		.help = "the path HTTP(S) checks ask for" },
	[SET_HOST] = { "host", "host", "host", SETTING_TOKEN,
		CHECK(SCOPE_HTTP, host),
		.help = "the Host of HTTP(S) checks (default: the backend's "
			"address)" },
	[SET_EXPECT] = { "expect", "expect", "expect", SETTING_UINT, 100,
		599, 200, CHECK(SCOPE_HTTP, expect_status),
		.help = "the HTTP status a check wants" },
	[SET_BODY] = { "body", "body", "body", SETTING_TEXT,
		CHECK(SCOPE_HTTP, body),
		.help = "text the answer's body must contain" },
	[SET_PAYLOAD] = { "payload", "payload", "payload", SETTING_TEXT,
		CHECK(SCOPE_UDP, payload),
		.help = "what a UDP check sends" },
	[SET_INTERVAL] = { "interval", "interval", "interval", SETTING_MS,
		100, 3600000, 5000, CHECK(SCOPE_PROBES, interval_ms),
		.help = "seconds between two checks of a backend" },
	[SET_TIMEOUT] = { "timeout", "timeout", "timeout", SETTING_MS,
		50, 3600000, 2000, CHECK(SCOPE_PROBES, timeout_ms),
		.help = "seconds a check may take, at most the interval" },
	[SET_RISE] = { "rise", "rise", "rise", SETTING_UINT, 1, 100, 2,
		CHECK(SCOPE_PROBES, rise),
		.help = "checks in a row that bring a backend up" },
	[SET_FALL] = { "fall", "fall", "fall", SETTING_UINT, 1, 100, 3,
		CHECK(SCOPE_PROBES, fall),
		.help = "checks in a row that take a backend down" },
	[SET_ERROR_RATE] = { "error-rate", "error_rate", "error-rate",
		SETTING_PCT, 0, 100, 30, CHECK(SCOPE_PROBES, error_pct),
		.help = "down if more than this fraction of its last 10 checks "
			"failed (1: off)" },
	[SET_CHECK_PORT] = { "port", "check_port", "check-port", SETTING_UINT,
		0, 65535, 0, CHECK(SCOPE_PROBES, port),
		.help = "the port checks go to (0: the VIP's)" },
	[SET_ADDR] = { "addr", "addr", NULL, SETTING_ADDR,
		.help = "the backend's IPv4 or IPv6 address" },
	[SET_WEIGHT] = { "weight", "weight", "weight", SETTING_UINT,
		0, MAGLEV_MAX_WEIGHT, 100,
		.help = "share of new flows" },
	[SET_MAC] = { "mac", "mac", "mac", SETTING_MAC,
		.encaps = 1u << XLB_MODE_L2,
		.help = "the backend's MAC address (for encap l2)" },
	[SET_CAPACITY] = { "capacity", "capacity", "capacity", SETTING_UINT,
		0, 1000000000, 0,
		.help = "active connections it can hold, for the saturation "
			"forecast (0: learned from its check latency's knee)" },
};

bool settings_applies(enum setting_id id, enum conf_check_type t)
{
	const struct settings_check_type *ct = settings_check_type(t);

	if (!ct)
		return false;
	switch (settings[id].scope) {
	case SCOPE_ALL_CHECKS:
		return true;
	case SCOPE_PROBES:
		return ct->proto != 0;
	case SCOPE_HTTP:
		return ct->http;
	case SCOPE_UDP:
		return ct->proto == IPPROTO_UDP;
	default:
		return false;
	}
}

void settings_check_store(struct conf_check *c, enum setting_id id,
			  unsigned long long v)
{
	const struct setting *s = &settings[id];
	char *f = (char *)c + s->off;

	if (s->scope == SCOPE_NOT_CHECK)
		return;
	if (s->size == sizeof(__u16))
		*(__u16 *)f = (__u16)v;
	else if (s->size == sizeof(unsigned int))
		*(unsigned int *)f = (unsigned int)v;
}

/* ---- numbers ---- */

/* Decimal digits only: no sign, no 0x, no leading zero (YAML 1.1 reads
 * 010 as octal), nothing after. Too large for 64 bits reads as the
 * largest value, to fail the range check rather than look like junk. */
int settings_parse_uint(const char *s, unsigned long long *v)
{
	char *end;

	if (!isdigit((unsigned char)s[0]) || (s[0] == '0' && s[1]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		*v = ULLONG_MAX;
	return 0;
}

/* The whole part of "W" or "W.F" as a number, *frac at the F (or ""). */
static int parse_whole(const char *s, unsigned long long *whole,
		       const char **frac)
{
	const char *dot = strchr(s, '.');
	size_t ilen = dot ? (size_t)(dot - s) : strlen(s);
	char ibuf[24];

	if (!ilen || ilen >= sizeof(ibuf))
		return -EINVAL;
	memcpy(ibuf, s, ilen);
	ibuf[ilen] = '\0';
	if (settings_parse_uint(ibuf, whole))
		return -EINVAL;
	if (dot && !dot[1])
		return -EINVAL;
	*frac = dot ? dot + 1 : "";
	return 0;
}

/* Seconds with at most three decimals ("5", "0.5", "0.25") into ms. */
static int parse_ms(const char *s, unsigned long long *ms)
{
	unsigned long long sec, frac = 0;
	const char *f;
	size_t i, flen;

	if (parse_whole(s, &sec, &f))
		return -EINVAL;
	flen = strlen(f);
	if (flen > 3)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		if (i < flen && !isdigit((unsigned char)f[i]))
			return -EINVAL;
		frac = frac * 10 + (i < flen ? (unsigned int)(f[i] - '0') : 0);
	}
	*ms = sec > ULLONG_MAX / 1000 - 1 ? ULLONG_MAX : sec * 1000 + frac;
	return 0;
}

/* A fraction from 0 to 1 ("0", "0.3", "1", "1.0", "0.125") into whole
 * percent, rounded half up; above 1 gives 101 for the range check. */
static int parse_pct(const char *s, unsigned long long *pct)
{
	unsigned long long whole;
	unsigned int milli = 0, n = 0;
	bool above = false;
	const char *d;

	if (parse_whole(s, &whole, &d))
		return -EINVAL;
	/* Thousandths are enough to round; the rest need only be digits. */
	for (; *d; d++, n++) {
		if (!isdigit((unsigned char)*d))
			return -EINVAL;
		above |= *d != '0';
		if (n < 3)
			milli = milli * 10 + (unsigned int)(*d - '0');
	}
	for (; n < 3; n++)
		milli *= 10;
	if (whole > 1 || (whole == 1 && above))
		*pct = 101;
	else
		*pct = whole * 100 + (milli + 5) / 10;
	return 0;
}

const char *settings_fmt_pct(unsigned int pct, char *buf, size_t len)
{
	if (pct % 100 == 0)
		snprintf(buf, len, "%u", pct / 100);
	else if (pct % 10 == 0)
		snprintf(buf, len, "%u.%u", pct / 100, pct % 100 / 10);
	else
		snprintf(buf, len, "%u.%02u", pct / 100, pct % 100);
	return buf;
}

const char *settings_fmt_ms(unsigned long long ms, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%llu.%03llu", ms / 1000, ms % 1000);

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

const char *settings_range(enum setting_id id, char *buf, size_t len)
{
	const struct setting *s = &settings[id];
	char lo[24], hi[24];

	switch (s->type) {
	case SETTING_MS:
		snprintf(buf, len, "%s..%s seconds",
			 settings_fmt_ms(s->min, lo, sizeof(lo)),
			 settings_fmt_ms(s->max, hi, sizeof(hi)));
		break;
	case SETTING_PCT:
		snprintf(buf, len, "%s..%s",
			 settings_fmt_pct((unsigned int)s->min, lo, sizeof(lo)),
			 settings_fmt_pct((unsigned int)s->max, hi, sizeof(hi)));
		break;
	default:
		snprintf(buf, len, "%llu..%llu", s->min, s->max);
		break;
	}
	return buf;
}

int settings_parse(enum setting_id id, const char *as, const char *s,
		   unsigned long long *v, char *err, size_t len)
{
	const struct setting *st = &settings[id];
	char want[128];
	int i;

	switch (st->type) {
	case SETTING_NAME:
		i = settings_lookup(st->names, s);
		if (i < 0)
			goto bad_name;
		*v = (unsigned long long)i;
		return 0;
	case SETTING_UINT:
		if (settings_parse_uint(s, v)) {
			snprintf(err, len, "bad number '%s' for %s", s, as);
			return -EINVAL;
		}
		break;
	case SETTING_MS:
		if (parse_ms(s, v)) {
			snprintf(err, len, "bad duration '%s' for %s (want "
				 "seconds, e.g. 5 or 0.5)", s, as);
			return -EINVAL;
		}
		break;
	case SETTING_PCT:
		if (parse_pct(s, v)) {
			snprintf(err, len, "bad %s '%s' (want a fraction from "
				 "0 to 1, e.g. 0.3)", as, s);
			return -EINVAL;
		}
		break;
	default:
		snprintf(err, len, "%s is not a number or a name", as);
		return -EINVAL;
	}
	if (*v < st->min || *v > st->max) {
		snprintf(err, len, "%s %s out of range %s", as, s,
			 settings_range(id, want, sizeof(want)));
		return -EINVAL;
	}
	return 0;
bad_name:
	snprintf(err, len, "bad %s '%s' (want %s)", as, s,
		 settings_names_list(st->names, want, sizeof(want)));
	return -EINVAL;
}

/* ---- text ---- */

/* libyaml reads only UTF-8; its escapes ("\x01", "\u00e9") give any
 * character but NUL, which get_str refuses; its emitter refuses text that
 * is not UTF-8, so that a state file with such text cannot be saved. */

/* One UTF-8 sequence at s (n bytes left): its length, or 0 if it is not
 * the shortest form of a scalar value. *cp gets the code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned int *cp)
{
	size_t k, i;
	unsigned int c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		k = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		k = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		k = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (k > n)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return k;
}

bool settings_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	size_t i = 0, k;

	while (i < len) {
		k = utf8_seq(p + i, len - i, &cp);
		if (!k || !cp)
			return false;
		i += k;
	}
	return true;
}

bool settings_line_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return false;
	return settings_text_ok(s, len);
}

/* The path and the Host header go into the request line and headers as
 * they are: a blank or a control character would split them. */
bool settings_http_token_ok(const char *s)
{
	if (!settings_text_ok(s, strlen(s)))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

bool settings_http_path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < CONF_STR_MAX &&
	       settings_http_token_ok(s);
}

/* "none", "tcp", "syn", "udp", "http", "https", "http:/PATH", "https:/PATH".
 * A bare "http" keeps the path the caller had (the default /health). */
int conf_parse_check(const char *s, struct conf_check *c)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	int t = name_index(&settings_check, s, n);

	if (t < 0)
		return -EINVAL;
	if (colon) {
		if (!check_types[t].http)
			return -EINVAL;
		if (!settings_http_path_ok(colon + 1))
			return -EINVAL;
		strcpy(c->path, colon + 1);
	}
	c->type = t;
	return 0;
}

/* ---- validation shared by the file and the control socket ---- */

int settings_check_fits(const struct xlb_vip_key *k,
			const struct conf_check *c, char *err, size_t len)
{
	const struct settings_check_type *t = settings_check_type(c->type);
	char vip[XLB_VIP_STRLEN];

	if (!t) {
		snprintf(err, len, "unknown check type %d", c->type);
		return -EINVAL;
	}
	xlb_format_vip(k, vip, sizeof(vip));
	if (t->proto && t->proto != k->proto) {
		snprintf(err, len, "check %s needs a %s VIP, and %s is %s",
			 t->name, xlb_proto_name(t->proto), vip,
			 xlb_proto_name(k->proto));
		return -EINVAL;
	}
	if (t->proto && !k->port && !c->port) {
		snprintf(err, len, "VIP %s takes every port: its %s check "
			 "needs a port", vip, t->name);
		return -EINVAL;
	}
	return 0;
}

int settings_adaptive_fits(__u8 adaptive, const struct conf_check *c,
			   char *err, size_t len)
{
	const struct settings_check_type *t = settings_check_type(c->type);

	if (adaptive == CONF_ADAPTIVE_OFF)
		return 0;
	if (!t || c->type == CONF_CHECK_NONE) {
		snprintf(err, len, "adaptive %s needs a check",
			 conf_adaptive_name(adaptive));
		return -EINVAL;
	}
	if (adaptive != CONF_ADAPTIVE_LATENCY && !t->http) {
		snprintf(err, len, "adaptive %s needs an http or https check "
			 "(the load is its X-Load header), not %s",
			 conf_adaptive_name(adaptive), t->name);
		return -EINVAL;
	}
	return 0;
}

int settings_start_down_fits(__u8 start_down, const struct conf_check *c,
			     char *err, size_t len)
{
	if (start_down != CONF_ON || c->type != CONF_CHECK_NONE)
		return 0;
	snprintf(err, len, "start-down needs a check: without one a new "
		 "backend would never come up");
	return -EINVAL;
}

int settings_check_text(struct conf_check *c, enum setting_id id,
			const char *as, const char *s, char *err, size_t len)
{
	const struct setting *st = &settings[id];
	size_t n = strlen(s);

	if (st->scope == SCOPE_NOT_CHECK ||
	    (st->type != SETTING_TEXT && st->type != SETTING_TOKEN)) {
		snprintf(err, len, "%s is not a text setting of a check", as);
		return -EINVAL;
	}
	if (n >= st->size || n >= CONF_STR_MAX) {
		snprintf(err, len, "%s is too long (at most %zu bytes)", as,
			 st->size - 1);
		return -EINVAL;
	}
	/* Empty: back to the default (no Host given, any body), but a
	 * path is never empty. */
	if (!settings_text_ok(s, n) ||
	    (id == SET_PATH && !settings_http_path_ok(s)) ||
	    (id != SET_PATH && st->type == SETTING_TOKEN && n &&
	     !settings_http_token_ok(s))) {
		snprintf(err, len, "bad %s '%s'%s", as, s,
			 id == SET_PATH ? " (want /...)" :
			 st->type == SETTING_TOKEN ? " (no blank or control "
			 "character)" : "");
		return -EINVAL;
	}
	memcpy((char *)c + st->off, s, n + 1);
	return 0;
}

int settings_flow_table_fits(__u8 flow_table, __u8 algo, char *err,
			     size_t len)
{
	if (flow_table != CONF_FLOW_TABLE_OFF || xlb_algo_deterministic(algo))
		return 0;
	snprintf(err, len, "flow-table off needs a deterministic algorithm, "
		 "not %s", conf_algo_name(algo));
	return -EINVAL;
}

int settings_timeout_fits(struct conf_check *c, bool timeout_given,
			  char *err, size_t len)
{
	char a[24], b[24];

	if (c->timeout_ms <= c->interval_ms)
		return 0;
	if (!timeout_given) {
		c->timeout_ms = c->interval_ms;
		return 0;
	}
	snprintf(err, len, "timeout %s exceeds interval %s",
		 settings_fmt_ms(c->timeout_ms, a, sizeof(a)),
		 settings_fmt_ms(c->interval_ms, b, sizeof(b)));
	return -EINVAL;
}

/* ---- defaults ---- */

void conf_check_defaults(struct conf_check *c)
{
	memset(c, 0, sizeof(*c));
	c->type = (enum conf_check_type)settings[SET_CHECK_TYPE].def;
	strcpy(c->path, "/health");
	c->expect_status = (unsigned int)settings[SET_EXPECT].def;
	c->interval_ms = (unsigned int)settings[SET_INTERVAL].def;
	c->timeout_ms = (unsigned int)settings[SET_TIMEOUT].def;
	c->rise = (unsigned int)settings[SET_RISE].def;
	c->fall = (unsigned int)settings[SET_FALL].def;
	c->error_pct = (unsigned int)settings[SET_ERROR_RATE].def;
	c->port = (__u16)settings[SET_CHECK_PORT].def;
}
