// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Text forms of the settings in settings.h. */
#include <errno.h>
#include <string.h>

#include "settings.h"
#include "xlb/service.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ERROR_PCT_DEFAULT	30	/* error-rate: 0.3 */

/* ---- names ---- */

static const char *const mode_names[] = {
	[XLB_MODE_IPIP] = "ipip",
	[XLB_MODE_GUE] = "gue",
	[XLB_MODE_L2] = "l2",
};

static const char *const algo_names[] = {
	[XLB_ALGO_MAGLEV] = "maglev",
};

static const char *const check_names[] = {
	[CONF_CHECK_NONE] = "none",
	[CONF_CHECK_TCP] = "tcp",
	[CONF_CHECK_HTTP] = "http",
	[CONF_CHECK_HTTPS] = "https",
	[CONF_CHECK_UDP] = "udp",
	[CONF_CHECK_SYN] = "syn",
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

static const char *const xdp_names[] = {
	[CONF_XDP_AUTO] = "auto",
	[CONF_XDP_NATIVE] = "native",
	[CONF_XDP_GENERIC] = "generic",
};

const struct settings_names settings_mode = { mode_names, ARRAY_SIZE(mode_names) };
const struct settings_names settings_algo = { algo_names, ARRAY_SIZE(algo_names) };
const struct settings_names settings_check = { check_names, ARRAY_SIZE(check_names) };
const struct settings_names settings_all_down = { all_down_names, ARRAY_SIZE(all_down_names) };
const struct settings_names settings_adaptive = { adaptive_names, ARRAY_SIZE(adaptive_names) };
const struct settings_names settings_xdp = { xdp_names, ARRAY_SIZE(xdp_names) };

/* Index of s among the first len bytes of names[], or -1. */
static int name_index(const char *const *names, size_t n, const char *s,
		      size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && strlen(names[i]) == len &&
		    !strncmp(names[i], s, len))
			return (int)i;
	return -1;
}

int settings_lookup(const char *const *names, size_t n, const char *s)
{
	return name_index(names, n, s, strlen(s));
}

int conf_parse_mode(const char *s, __u8 *mode)
{
	int i = settings_lookup(mode_names, ARRAY_SIZE(mode_names), s);

	if (i < 0)
		return -EINVAL;
	*mode = (__u8)i;
	return 0;
}

int conf_parse_algo(const char *s, __u8 *algo)
{
	int i = settings_lookup(algo_names, ARRAY_SIZE(algo_names), s);

	if (i < 0)
		return -EINVAL;
	*algo = (__u8)i;
	return 0;
}

const char *conf_mode_name(__u8 mode)
{
	return mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

const char *conf_algo_name(__u8 algo)
{
	return algo < ARRAY_SIZE(algo_names) ? algo_names[algo] : "?";
}

const char *conf_check_name(enum conf_check_type t)
{
	return (unsigned int)t < ARRAY_SIZE(check_names) ? check_names[t] : "?";
}

int conf_parse_all_down(const char *s, __u8 *v)
{
	int i = settings_lookup(all_down_names, ARRAY_SIZE(all_down_names), s);

	if (i < 0)
		return -EINVAL;
	*v = (__u8)i;
	return 0;
}

int conf_parse_adaptive(const char *s, __u8 *v)
{
	int i = settings_lookup(adaptive_names, ARRAY_SIZE(adaptive_names), s);

	if (i < 0)
		return -EINVAL;
	*v = (__u8)i;
	return 0;
}

const char *conf_all_down_name(__u8 v)
{
	return v < ARRAY_SIZE(all_down_names) ? all_down_names[v] : "?";
}

const char *conf_adaptive_name(__u8 v)
{
	return v < ARRAY_SIZE(adaptive_names) ? adaptive_names[v] : "?";
}

/* The path and the Host header go into the request line and headers as
 * they are: a blank or a control character would split them. */
bool settings_http_token_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

bool settings_http_path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < CONF_STR_MAX && settings_http_token_ok(s);
}

/* "none", "tcp", "syn", "udp", "http", "https", "http:/PATH", "https:/PATH".
 * A bare "http" keeps the path the caller had (the default /health). */
int conf_parse_check(const char *s, struct conf_check *c)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	int t = name_index(check_names, ARRAY_SIZE(check_names), s, n);

	if (t < 0)
		return -EINVAL;
	if (colon) {
		if (t != CONF_CHECK_HTTP && t != CONF_CHECK_HTTPS)
			return -EINVAL;
		if (!settings_http_path_ok(colon + 1))
			return -EINVAL;
		strcpy(c->path, colon + 1);
	}
	c->type = t;
	return 0;
}

/* ---- defaults, free, copy ---- */

void conf_check_defaults(struct conf_check *c)
{
	memset(c, 0, sizeof(*c));
	c->type = CONF_CHECK_NONE;
	strcpy(c->path, "/health");
	c->expect_status = 200;
	c->interval_ms = 5000;
	c->timeout_ms = 2000;
	c->rise = 2;
	c->fall = 3;
	c->error_pct = ERROR_PCT_DEFAULT;
}

