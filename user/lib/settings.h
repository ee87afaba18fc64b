/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Settings of a VIP and its checks as the daemon, the configuration file
 * and the CLI name them: the enums, the check settings and their text
 * forms. Shared by xlbd and xlbctl, so a name is defined once. */
#ifndef XLB_SETTINGS_H
#define XLB_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define CONF_STR_MAX	128

enum conf_xdp_mode {
	CONF_XDP_AUTO = 0,	/* native, else generic with a warning */
	CONF_XDP_NATIVE,
	CONF_XDP_GENERIC,
};

enum conf_check_type {
	CONF_CHECK_NONE = 0,
	CONF_CHECK_TCP,
	CONF_CHECK_HTTP,
	CONF_CHECK_HTTPS,
	CONF_CHECK_UDP,
	CONF_CHECK_SYN,		/* half-open TCP: SYN, SYN-ACK or RST */
};

/* Health check settings (checked by xlbd; see xlb.conf(5) for defaults). */
struct conf_check {
	enum conf_check_type type;
	char path[CONF_STR_MAX];	/* HTTP(S) path, default "/health" */
	char host[CONF_STR_MAX];	/* HTTP Host header, "" = address */
	char body[CONF_STR_MAX];	/* HTTP body must contain, "" = any */
	char payload[CONF_STR_MAX];	/* UDP payload to send */
	unsigned int expect_status;	/* HTTP status wanted, default 200 */
	unsigned int interval_ms;	/* default 5000 */
	unsigned int timeout_ms;	/* default 2000 */
	unsigned int rise;		/* default 2 */
	unsigned int fall;		/* default 3 */
	unsigned int error_pct;		/* out when more than this % of the
					 * last CONF_CHECK_WINDOW checks
					 * failed; default 30, 100 = off */
	__u16 port;			/* 0: the VIP's port */
};

#define CONF_CHECK_WINDOW	10

/* What a VIP does when every backend is down. */
enum conf_all_down {
	CONF_ALL_DOWN_OPEN = 0,		/* default: use them all anyway */
	CONF_ALL_DOWN_DROP,		/* no backend: drop new flows */
};

/* Adaptive weights: what scales a backend's configured weight. */
enum conf_adaptive {
	CONF_ADAPTIVE_OFF = 0,		/* default */
	CONF_ADAPTIVE_LATENCY,		/* check latency (EWMA) */
	CONF_ADAPTIVE_LOAD,		/* X-Load header of /health (0-100) */
	CONF_ADAPTIVE_BOTH,
};

/* Text forms shared by the file, the CLI and the control socket. Parsers
 * return 0 or -EINVAL. Check: "none", "tcp", "udp", "http:/PATH",
 * "https:/PATH" (sets type and path only). */
int conf_parse_mode(const char *s, __u8 *mode);	/* ipip gue l2 */
int conf_parse_algo(const char *s, __u8 *algo);	/* maglev */
int conf_parse_check(const char *s, struct conf_check *c);
const char *conf_mode_name(__u8 mode);
const char *conf_algo_name(__u8 algo);
const char *conf_check_name(enum conf_check_type t);
int conf_parse_all_down(const char *s, __u8 *v);	/* open drop */
int conf_parse_adaptive(const char *s, __u8 *v);	/* off latency load both */
const char *conf_all_down_name(__u8 v);
const char *conf_adaptive_name(__u8 v);
void conf_check_defaults(struct conf_check *c);

/* A name table, indexed by the enum it names. */
struct settings_names {
	const char *const *names;
	size_t n;
};
extern const struct settings_names settings_mode, settings_algo,
	settings_check, settings_all_down, settings_adaptive, settings_xdp;
/* Index of s in names[0..n), or -1. */
int settings_lookup(const char *const *names, size_t n, const char *s);
/* An HTTP path ("/..."), a token (no blank, no control character). */
bool settings_http_path_ok(const char *s);
bool settings_http_token_ok(const char *s);

#endif
