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

/* Yes/no settings (start-down). */
enum conf_onoff {
	CONF_OFF = 0,
	CONF_ON,
};

/* A VIP's flow table (the data plane's XLB_VIP_F_NO_FLOWTABLE). */
enum conf_flow_table {
	CONF_FLOW_TABLE_ON = 0,		/* default: flows keep their backend */
	CONF_FLOW_TABLE_OFF,		/* hash every packet, keep no state:
					 * deterministic algorithms only */
};

/* Text forms shared by the file, the CLI and the control socket. Parsers
 * return 0 or -EINVAL. Check: "none", "tcp", "syn", "udp", "http:/PATH",
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
const char *conf_flow_table_name(__u8 v);	/* on off */
const char *conf_onoff_name(__u8 v);		/* off on */
void conf_check_defaults(struct conf_check *c);

/* A name table, indexed by the enum it names: n rows of stride bytes, the
 * first member of each row its name (NULL: no such value). */
struct settings_names {
	const char *const *first;
	size_t stride;
	size_t n;
};
extern const struct settings_names settings_mode, settings_algo,
	settings_check, settings_all_down, settings_adaptive, settings_xdp,
	settings_flow_table, settings_onoff;
/* Name of value i, or NULL. */
const char *settings_name(const struct settings_names *t, size_t i);
/* Index of s in t, or -1. */
int settings_lookup(const struct settings_names *t, const char *s);
/* "a, b or c": the valid names, for messages. */
const char *settings_names_list(const struct settings_names *t, char *buf,
				size_t len);
/* The check shorthands: "none, tcp, http[:/PATH], https[:/PATH], udp or
 * syn". */
const char *settings_check_list(char *buf, size_t len);

/* What a check type needs: one row per type (settings.c). */
struct settings_check_type {
	const char *name;
	__u8 proto;		/* IPPROTO_TCP/UDP it checks; 0: none */
	bool http;		/* has a path, a status, X-Load */
};
const struct settings_check_type *settings_check_type(enum conf_check_type t);

/* ---- the settings table ---- */

enum setting_type {
	SETTING_NAME,		/* one of names (an enum) */
	SETTING_UINT,		/* a decimal integer */
	SETTING_MS,		/* seconds, at most 3 decimals; kept in ms */
	SETTING_PCT,		/* a fraction 0..1; kept in whole percent */
	SETTING_TEXT,		/* free UTF-8 text (settings_text_ok), the
				 * one kind with control characters */
	SETTING_TOKEN,		/* an HTTP token: no blank, no control */
	SETTING_CHECK,		/* a check shorthand or (file) a mapping */
	SETTING_VIP,		/* ADDR:PORT/PROTO */
	SETTING_ADDR,		/* an IPv4 or IPv6 address */
	SETTING_MAC,		/* 02:00:00:00:00:01 */
};

enum setting_id {
	SET_VIP,
	SET_ALGO,
	SET_ENCAP,
	SET_CHECK,
	SET_ALL_DOWN,
	SET_ADAPTIVE,
	SET_FLOW_TABLE,
	SET_UDP_IDLE,
	SET_START_DOWN,
	SET_PANIC,
	SET_SLOW_START,
	SET_CHECK_TYPE,
	SET_PATH,
	SET_HOST,
	SET_EXPECT,
	SET_BODY,
	SET_PAYLOAD,
	SET_INTERVAL,
	SET_TIMEOUT,
	SET_RISE,
	SET_FALL,
	SET_ERROR_RATE,
	SET_CHECK_PORT,
	SET_ADDR,
	SET_WEIGHT,
	SET_MAC,
	SET_CAPACITY,
	SET_MAX,
};

/* The check types a check setting applies to, by what their rows in
 * settings.c say: a new HTTP-like type gets path and expect by its row. */
enum setting_scope {
	SCOPE_NOT_CHECK = 0,	/* a setting of the VIP or the backend */
	SCOPE_ALL_CHECKS,	/* every type, none too */
	SCOPE_PROBES,		/* every type that probes: all but none */
	SCOPE_HTTP,		/* types with .http */
	SCOPE_UDP,		/* types that check UDP */
};

/* One setting of a VIP, its check or a backend: how the file, the control
 * protocol (ctl.h) and xlbctl name it, what values it takes and what it
 * applies to. Numbers are in the unit kept (ms, percent). */
struct setting {
	const char *file;	/* key in xlb.conf; NULL: not there */
	const char *member;	/* member of a control request; NULL: none */
	const char *option;	/* xlbctl option, after "--"; NULL: none */
	enum setting_type type;
	unsigned long long min, max, def;
	const struct settings_names *names;	/* SETTING_NAME */
	enum setting_scope scope;
	size_t off, size;	/* its field in struct conf_check (scope
				 * not SCOPE_NOT_CHECK) */
	unsigned int encaps;	/* 1 << enum xlb_mode it applies to; 0: all */
	const char *help;	/* for xlbctl's usage */
};
extern const struct setting settings[SET_MAX];

/* A value of setting id from its text (the file's scalar, a request's
 * number or string, a command-line word), with the same grammar in all
 * three: NAME gives the index, UINT the number, MS milliseconds, PCT
 * percent. as: the name to use in the message. 0 or -EINVAL, the reason
 * in err. */
int settings_parse(enum setting_id id, const char *as, const char *s,
		   unsigned long long *v, char *err, size_t len);
/* Whether check setting id means something for check type t. */
bool settings_applies(enum setting_id id, enum conf_check_type t);
/* Store a number or name v of check setting id in c's field. */
void settings_check_store(struct conf_check *c, enum setting_id id,
			  unsigned long long v);
/* A text check setting (path, host, body, payload) from s into c's
 * field, checked as the file checks it ("" clears all but the path). 0 or -EINVAL, the reason in err
 * (as: the name it goes by there). */
int settings_check_text(struct conf_check *c, enum setting_id id,
			const char *as, const char *s, char *err, size_t len);

/* Decimal digits, no sign, no leading zero; too large reads as the
 * largest value. 0 or -EINVAL. */
int settings_parse_uint(const char *s, unsigned long long *v);
/* The range of a number setting as its text form: "0.1..3600 seconds". */
const char *settings_range(enum setting_id id, char *buf, size_t len);
/* ms as the file spells seconds (5, 0.5, 2.25); percent as a fraction. */
const char *settings_fmt_ms(unsigned long long ms, char *buf, size_t len);
const char *settings_fmt_pct(unsigned int pct, char *buf, size_t len);

/* Text as the file may carry it: len bytes of UTF-8 (shortest forms, no
 * surrogates), no NUL. The file's parser and the control server both use
 * it: what passes, the state file can be saved with. */
bool settings_text_ok(const char *s, size_t len);
/* settings_text_ok() without control characters: a name, an address,
 * anything a one-line message may quote. */
bool settings_line_ok(const char *s, size_t len);
/* An HTTP path ("/..."), a token (no blank, no control character). */
bool settings_http_path_ok(const char *s);
bool settings_http_token_ok(const char *s);

struct xlb_vip_key;
/* Validation shared by the file and the control socket; 0 or -EINVAL with
 * a one-line reason in err. */
/* A check c fits the VIP k: its type checks k's protocol; a port-0 VIP's
 * check names its port. */
int settings_check_fits(const struct xlb_vip_key *k,
			const struct conf_check *c, char *err, size_t len);
/* Adaptive weights need checks: latency any, load and both HTTP(S). */
int settings_adaptive_fits(__u8 adaptive, const struct conf_check *c,
			   char *err, size_t len);
/* flow-table: off needs an algorithm that gives a 5-tuple one backend on
 * every packet (xlb_algo_deterministic). */
/* start-down needs checks: without them a backend would never come up. */
int settings_start_down_fits(__u8 start_down, const struct conf_check *c,
			     char *err, size_t len);
int settings_flow_table_fits(__u8 flow_table, __u8 algo, char *err,
			     size_t len);
/* timeout within interval: refused if timeout was given, else lowered
 * to the interval (a short interval alone needs no timeout too). */
int settings_timeout_fits(struct conf_check *c, bool timeout_given,
			  char *err, size_t len);

#endif
