// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbctl: the command line of xlbd.
 *
 * A command is data. Every verb is a row of verbs[]: its words, the
 * protocol verb it sends (ctl.h), its positional arguments and the options
 * it allows (rows of params: the type that validates a value here, before
 * anything is sent, and the JSON member it becomes), the function that runs
 * it, its text renderer and its help. Replies come from xlbd over its unix
 * socket or, with --pinned, are built here from the pinned maps (view.h) in
 * the same shape; one text and one JSON renderer per verb print either.
 * decap attach/detach/stats need neither: they load the backend's decap
 * program, attach it with libxdp and find its maps again from the
 * interface themselves (lib decap.h).
 *
 * Functions return 0 or -errno and leave a one-line reason in err_msg;
 * main() prints it once as "xlbctl: <reason>".
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <xdp/libxdp.h>

#include "addr.h"
#include "decap.h"
#include "settings.h"
#include "ctl.h"
#include "ctlproto.h"
#include "view.h"
#include "capture.h"
#include "xlb/config.h"
#include "xlb/counters.h"
#include "xlb_decap.skel.h"
/* libpcap's classic-BPF header clashes with linux/bpf.h (struct
 * bpf_insn): it is kept out, and the one type of it pcap.h names only by
 * pointer is declared (pcap.h has its own integer types). */
#define lib_pcap_bpf_h
struct bpf_program;
#include <pcap/pcap.h>
#include <pcap/dlt.h>

#define REPLY_TIMEOUT_S		10	/* how long xlbd may take to answer */
#define FLOWS_LIMIT_DEFAULT	100	/* a reply well under CTL_MSG_MAX */
#define DECAP_PROG_NAME		XLB_DECAP_PROG_NAME
#define HELP_SHOWN		1	/* usage printed: exit 0 */
#define MAX_ARGS		3
/* node drain --wait: how long by default, how often it looks, and what
 * "near zero" is: the node's VIPs together, over one poll. */
#define DRAIN_TIMEOUT_S		60
#define DRAIN_POLL_S		0.2
#define DRAIN_RATE_POLL_S	1.0
#define DRAIN_IDLE_PPS		10
#define NUM_STR_(x)		#x
#define NUM_STR(x)		NUM_STR_(x)

/* ---- errors: -errno inside, one line at the edge ---- */

static char err_msg[512];
static bool err_usage;			/* exit 2 rather than 1 */
static volatile sig_atomic_t stop;	/* SIGINT/SIGTERM during top */

static int fail(int rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	return rc < 0 ? rc : -EINVAL;
}

#define usage_fail(...)	(err_usage = true, fail(-EINVAL, __VA_ARGS__))

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("xlbctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fputs("xlbctl: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* ---- parameters: positional arguments and options ---- */

enum ptype {
	P_SETTING,	/* a number or a name of the settings table */
	P_VIP,
	P_ADDR,
	P_MAC,
	P_CHECK,
	P_XDP_MODE,
	P_IFACE,
	P_INT,		/* an integer in min..max */
	P_SECONDS,	/* seconds > 0 in min..max, may be fractional */
	P_FLAG,		/* no value: present or not (a JSON true) */
	P_PREFIXES,	/* ADDR[/LEN],... */
	P_REJECT,
	P_FILE,		/* a path to write */
};

/* A parameter is a row of the settings table (st: its option, request
 * member, range and help come from there) or one of xlbctl's own. */
struct param {
	const char *name;	/* option name (after "--"), or the metavar;
				 * NULL: st's option */
	const char *meta;	/* the value in usage lines */
	const char *what;	/* the value in messages; NULL: the name */
	enum ptype type;
	double min, max;	/* P_INT, P_SECONDS */
	const char *key;	/* member of the request; NULL: st's, or
				 * used here */
	const char *help;	/* NULL: st's, with range and default */
	const struct setting *st;
};

enum opt {
	O_ALGO,
	O_ENCAP,
	O_CHECK,
	O_CHECK_INTERVAL,
	O_TIMEOUT,
	O_RISE,
	O_FALL,
	O_ERROR_RATE,
	O_CHECK_PORT,
	O_ALL_DOWN,
	O_ADAPTIVE,
	O_FLOW_TABLE,
	O_UDP_IDLE,
	O_START_DOWN,
	O_PANIC,
	O_SLOW_START,
	O_CHECK_PATH,
	O_HOST,
	O_EXPECT,
	O_BODY,
	O_PAYLOAD,
	O_CHECK_INHERIT,
	O_WEIGHT,
	O_MAC,
	O_CAPACITY,
	O_INTERVAL,
	O_VIP,
	O_BACKEND,
	O_CLIENT,
	O_LIMIT,
	O_COUNT,
	O_GUE_PORT,
	O_MODE,
	O_FORCE,
	O_OUTER,
	O_BALANCERS,
	O_INNER,
	O_REJECT,
	O_WAIT,
	O_BE_WAIT,
	O_DRAIN_TIMEOUT,
	O_GRACE,
	O_CAP_VIP,
	O_CAP_BACKEND,
	O_CAP_COUNT,
	O_CAP_WRITE,
	O_CAP_SAMPLE,
	O_CAP_SECONDS,
	O_CAP_STOP,
	O_MAX,
};

#define OPT(o)	(1ULL << (o))
#define SETTING(id, m, t)	{ .meta = (m), .type = (t), .st = &settings[id] }

static const struct param opts[O_MAX] = {
	[O_ALGO] = SETTING(SET_ALGO, "NAME", P_SETTING),
	[O_ENCAP] = SETTING(SET_ENCAP, "MODE", P_SETTING),
	[O_CHECK] = SETTING(SET_CHECK, "CHECK", P_CHECK),
	[O_CHECK_INTERVAL] = SETTING(SET_INTERVAL, "S", P_SETTING),
	[O_TIMEOUT] = SETTING(SET_TIMEOUT, "S", P_SETTING),
	[O_RISE] = SETTING(SET_RISE, "N", P_SETTING),
	[O_FALL] = SETTING(SET_FALL, "N", P_SETTING),
	[O_ERROR_RATE] = SETTING(SET_ERROR_RATE, "F", P_SETTING),
	[O_CHECK_PORT] = SETTING(SET_CHECK_PORT, "PORT", P_SETTING),
	[O_ALL_DOWN] = SETTING(SET_ALL_DOWN, "open|drop", P_SETTING),
	[O_ADAPTIVE] = SETTING(SET_ADAPTIVE, "MODE", P_SETTING),
	[O_FLOW_TABLE] = SETTING(SET_FLOW_TABLE, "on|off", P_SETTING),
	[O_UDP_IDLE] = SETTING(SET_UDP_IDLE, "S", P_SETTING),
	[O_START_DOWN] = SETTING(SET_START_DOWN, "on|off", P_SETTING),
	[O_PANIC] = SETTING(SET_PANIC, "F", P_SETTING),
	[O_SLOW_START] = SETTING(SET_SLOW_START, "S", P_SETTING),
	[O_CHECK_PATH] = SETTING(SET_PATH, "PATH", P_SETTING),
	[O_HOST] = SETTING(SET_HOST, "HOST", P_SETTING),
	[O_EXPECT] = SETTING(SET_EXPECT, "STATUS", P_SETTING),
	[O_BODY] = SETTING(SET_BODY, "TEXT", P_SETTING),
	[O_PAYLOAD] = SETTING(SET_PAYLOAD, "TEXT", P_SETTING),
	[O_CHECK_INHERIT] = { "check-inherit", NULL, "check-inherit", P_FLAG,
			      0, 0, "check_inherit",
			      "drop the backend's own check: the VIP's applies "
			      "again", NULL },
	[O_WEIGHT] = SETTING(SET_WEIGHT, "N", P_SETTING),
	[O_MAC] = SETTING(SET_MAC, "MAC", P_MAC),
	[O_CAPACITY] = SETTING(SET_CAPACITY, "N", P_SETTING),
	[O_INTERVAL] = { "interval", "S", "interval", P_SECONDS, 0, 86400,
			 NULL, "seconds between two samples (default 1)", NULL },
	[O_VIP] = { "vip", "VIP", "VIP", P_VIP, 0, 0, "vip",
		    "only flows to this VIP", NULL },
	[O_BACKEND] = { "backend", "ADDR", "backend address", P_ADDR, 0, 0,
			"backend", "only flows sent to this backend", NULL },
	[O_CLIENT] = { "client", "ADDR", "client address", P_ADDR, 0, 0,
		       "client", "only flows from this client address", NULL },
	[O_LIMIT] = { "limit", "N", "limit", P_INT, 0, CTL_FLOWS_LIMIT_MAX,
		      "limit",
		      "show at most N flows (default 100, 0: all)", NULL },
	[O_COUNT] = { "count", "N", "count", P_INT, 1, 1e9, NULL,
		      "refresh N times, then exit (default: until "
		      "interrupted)", NULL },
	[O_GUE_PORT] = { "gue-port", "N", "GUE port", P_INT, 1, 65535, NULL,
			 "UDP port that GUE packets arrive on (default 6080)", NULL },
	[O_MODE] = { "mode", "MODE", "XDP mode", P_XDP_MODE, 0, 0, NULL,
		     "native or generic (default: native, else generic)", NULL },
	[O_FORCE] = { "force", NULL, "force", P_FLAG, 0, 0, "force",
		      "apply a file that removes every VIP", NULL },
	[O_OUTER] = { "outer", "LIST", "outer destinations", P_PREFIXES, 0, 0,
		      NULL, "outer destinations, ADDR[/LEN],... (IFACE's)", NULL },
	[O_BALANCERS] = { "balancers", "LIST", "balancers", P_PREFIXES, 0, 0,
			  NULL, "outer sources, ADDR[/LEN],... (any)", NULL },
	[O_INNER] = { "inner", "LIST", "inner destinations", P_PREFIXES, 0, 0,
		      NULL, "inner destinations, ADDR[/LEN],... (the host's)", NULL },
	[O_REJECT] = { "reject", "pass|drop", "reject", P_REJECT, 0, 0, NULL,
		       "tunnels refused: pass untouched (default) or drop", NULL },
	[O_WAIT] = { "wait", NULL, "wait", P_FLAG, 0, 0, NULL,
		     "wait until the routes are gone and the VIP traffic "
		     "near zero", NULL },
	[O_BE_WAIT] = { "wait", NULL, "wait", P_FLAG, 0, 0, NULL,
			"wait until the backend has no active connection "
			"(exit 1 at the timeout)", NULL },
	[O_DRAIN_TIMEOUT] = { "timeout", "S", "timeout", P_SECONDS, 0, 86400,
			      NULL, "give up waiting after S seconds "
			      "(default " NUM_STR(DRAIN_TIMEOUT_S) ")", NULL },
	[O_CAP_VIP] = { "vip", "VIP", "VIP", P_VIP, 0, 0, NULL,
			"only packets sent for this VIP", NULL },
	[O_CAP_BACKEND] = { "backend", "ADDR", "backend address", P_ADDR, 0, 0,
			    NULL, "only packets sent to this backend (with "
			    "--vip if it serves several)", NULL },
	[O_CAP_COUNT] = { "count", "N", "count", P_INT, 1, 1000000, NULL,
			  "stop after N packets (-c; default 100)", NULL },
	[O_CAP_WRITE] = { "write", "FILE", "file", P_FILE, 0, 0, NULL,
			  "the pcap file to write (-w): each packet as it came "
			  "in, and as it went out when sent", NULL },
	[O_CAP_SAMPLE] = { "sample", "N", "sample", P_INT, 1, 1000000, NULL,
			   "record 1 packet in N (per CPU; default 1)", NULL },
	[O_CAP_SECONDS] = { "seconds", "S", "seconds", P_INT, 1, 600, NULL,
			    "stop after S seconds (default 10)", NULL },
	[O_CAP_STOP] = { "stop", NULL, "stop", P_FLAG, 0, 0, NULL,
			 "undo a capture whose xlbctl was killed: the "
			 "balancer back", NULL },
	[O_GRACE] = { "grace", "S", "grace", P_INT, 0, CTL_GRACE_MAX_S,
		      "grace", "keep the routes, marked graceful-shutdown, S "
		      "seconds before withdrawing them (default "
		      NUM_STR(CTL_GRACE_DEFAULT_S) ")", NULL },
};

static const struct param p_vip = {
	"VIP", "VIP", "VIP", P_VIP, .st = &settings[SET_VIP],
};
static const struct param p_addr = {
	"ADDR", "ADDR", "address", P_ADDR, .st = &settings[SET_ADDR],
};
static const struct param p_weight = {
	"N", "N", "weight", P_SETTING, .st = &settings[SET_WEIGHT],
};
static const struct param p_iface = {
	"IFACE", "IFACE", "interface", P_IFACE, 0, 0, NULL,
	"the network interface", NULL
};

static const char *p_name(const struct param *p)
{
	return p->name ?: p->st->option;
}

static const char *p_what(const struct param *p)
{
	return p->what ?: p_name(p);
}

static const char *p_key(const struct param *p)
{
	return p->key ?: p->st ? p->st->member : NULL;
}

/* A setting's help with what the table says of its values. */
static const char *p_help(const struct param *p, char *buf, size_t len)
{
	const struct setting *s = p->st;
	char vals[160], def[24];

	if (p->help || !s)
		return p->help ?: "";
	def[0] = '\0';
	switch (s->type) {
	case SETTING_NAME:
		settings_names_list(s->names, vals, sizeof(vals));
		snprintf(def, sizeof(def), "%s", settings_name(s->names,
							       s->def));
		break;
	case SETTING_CHECK:
		settings_check_list(vals, sizeof(vals));
		snprintf(def, sizeof(def), "none");
		break;
	case SETTING_MS:
		settings_range(s - settings, vals, sizeof(vals));
		settings_fmt_ms(s->def, def, sizeof(def));
		break;
	case SETTING_PCT:
		settings_range(s - settings, vals, sizeof(vals));
		settings_fmt_pct((unsigned int)s->def, def, sizeof(def));
		break;
	case SETTING_UINT:
		settings_range(s - settings, vals, sizeof(vals));
		snprintf(def, sizeof(def), "%llu", s->def);
		break;
	default:
		return s->help;
	}
	snprintf(buf, len, "%s: %s%s%s%s", s->help, vals, def[0] ? " (default " : "",
		 def, def[0] ? ")" : "");
	return buf;
}

/* ---- verbs ---- */

struct globals {
	const char *sock;		/* -s, or found by xlbd_sock() */
	const char *iface;		/* -i: CTL_SOCK_DIR/IFACE.sock */
	const char *pinned;
	bool json;
};

struct verb;

struct cmd {
	struct globals g;
	const struct verb *v;
	const char *arg[MAX_ARGS];
	double argnum[MAX_ARGS];
	const char *opt[O_MAX];
	double num[O_MAX];
};

typedef void (*render_fn)(const struct cmd *c, json_object *reply);

struct verb {
	const char *group;	/* first word, or NULL */
	const char *name;
	const char *cmd;	/* protocol verb; NULL: done here */
	int min, max;		/* positional arguments */
	const struct param *args[MAX_ARGS];
	unsigned long long opts;	/* OPT(o) of the options it takes */
	bool pinned;		/* works from the pinned maps */
	int (*run)(struct cmd *c);
	render_fn text, json;
	const char *help;
	const char *more;	/* --help's paragraph after the options */
};

static int do_write(struct cmd *c);
static int do_list(struct cmd *c);
static int do_stats(struct cmd *c);
static int do_flows(struct cmd *c);
static int do_top(struct cmd *c);
static int do_decap_attach(struct cmd *c);
static int do_decap_detach(struct cmd *c);
static int do_decap_stats(struct cmd *c);
static int do_capture(struct cmd *c);
static void text_decap_stats(const struct cmd *c, json_object *o);
static void text_vip_list(const struct cmd *c, json_object *o);
static void text_list(const struct cmd *c, json_object *o);
static void text_stats(const struct cmd *c, json_object *o);
static void text_flows(const struct cmd *c, json_object *o);
static void text_top(const struct cmd *c, json_object *o);
static void json_reply(const struct cmd *c, json_object *o);
static void json_line(const struct cmd *c, json_object *o);
static void text_config(const struct cmd *c, json_object *o);
static void text_peers(const struct cmd *c, json_object *o);
static int do_node_drain(struct cmd *c);
static int do_backend_drain(struct cmd *c);
static void text_node(const struct cmd *c, json_object *o);

#define CHECK_OPTS	(OPT(O_CHECK) | OPT(O_CHECK_INTERVAL) | \
			 OPT(O_TIMEOUT) | OPT(O_RISE) | OPT(O_FALL) | \
			 OPT(O_CHECK_PORT) | OPT(O_ERROR_RATE) | OPT(O_CHECK_PATH) | \
			 OPT(O_HOST) | OPT(O_EXPECT) | OPT(O_BODY) | \
			 OPT(O_PAYLOAD))
#define VIP_OPTS	(OPT(O_ALGO) | OPT(O_ENCAP) | CHECK_OPTS | \
			 OPT(O_ALL_DOWN) | OPT(O_ADAPTIVE) | OPT(O_FLOW_TABLE) | \
			 OPT(O_UDP_IDLE) | OPT(O_START_DOWN) | OPT(O_PANIC) | \
			 OPT(O_SLOW_START))

static const struct verb verbs[] = {
	{ .group = "vip", .name = "add", .cmd = "vip-add",
	  .min = 1, .max = 1, .args = { &p_vip },
	  .opts = VIP_OPTS,
	  .run = do_write,
	  .help = "add a VIP, without backends; checks apply to each backend" },
	{ .group = "vip", .name = "set", .cmd = "vip-set",
	  .min = 1, .max = 1, .args = { &p_vip },
	  .opts = VIP_OPTS,
	  .run = do_write,
	  .help = "change a VIP's settings in place (ipvsadm -E): what is "
		  "not given stays; backends and flows are kept" },
	{ .group = "vip", .name = "del", .cmd = "vip-del",
	  .min = 1, .max = 1, .args = { &p_vip },
	  .run = do_write,
	  .help = "delete a VIP and its backends" },
	{ .group = "vip", .name = "list", .cmd = "vip-list",
	  .pinned = true, .run = do_list,
	  .text = text_vip_list, .json = json_reply,
	  .help = "the VIPs, one per line" },
	{ .group = "backend", .name = "add", .cmd = "backend-add",
	  .min = 2, .max = 2, .args = { &p_vip, &p_addr },
	  .opts = OPT(O_WEIGHT) | OPT(O_MAC) | OPT(O_CAPACITY),
	  .run = do_write,
	  .help = "add a backend to a VIP" },
	{ .group = "backend", .name = "del", .cmd = "backend-del",
	  .min = 2, .max = 2, .args = { &p_vip, &p_addr },
	  .run = do_write,
	  .help = "remove a backend; its flows move to the others" },
	{ .group = "backend", .name = "set-weight",
	  .cmd = "backend-set-weight",
	  .min = 3, .max = 3, .args = { &p_vip, &p_addr, &p_weight },
	  .run = do_write,
	  .help = "change a backend's share of new flows" },
	{ .group = "backend", .name = "drain", .cmd = "backend-drain",
	  .min = 2, .max = 2, .args = { &p_vip, &p_addr },
	  .opts = OPT(O_BE_WAIT) | OPT(O_DRAIN_TIMEOUT),
	  .run = do_backend_drain,
	  .help = "send a backend no new flows; its flows stay; --wait "
		  "until they are gone" },
	{ .group = "backend", .name = "undrain", .cmd = "backend-undrain",
	  .min = 2, .max = 2, .args = { &p_vip, &p_addr },
	  .run = do_write,
	  .help = "let a drained backend take new flows again" },
	{ .group = "backend", .name = "set", .cmd = "backend-set",
	  .min = 2, .max = 2, .args = { &p_vip, &p_addr },
	  .opts = OPT(O_WEIGHT) | CHECK_OPTS | OPT(O_CHECK_INHERIT) |
		  OPT(O_CAPACITY),
	  .run = do_write,
	  .help = "change a backend's weight, or give it its own check "
		  "(the settings given onto the VIP's, or onto its own)" },
	{ .group = "backend", .name = "maint", .cmd = "backend-maint",
	  .min = 2, .max = 2, .args = { &p_vip, &p_addr },
	  .run = do_write,
	  .help = "maintenance: no new flows (its flows stay), checks "
		  "paused, shown as maint" },
	{ .group = "backend", .name = "ready", .cmd = "backend-ready",
	  .min = 2, .max = 2, .args = { &p_vip, &p_addr },
	  .run = do_write,
	  .help = "out of maintenance: checks start afresh (with "
		  "start-down, it takes flows once they pass)" },
	{ .name = "list", .cmd = "list",
	  .pinned = true, .run = do_list,
	  .text = text_list, .json = json_reply,
	  .help = "VIPs with their backends, health, weights and traffic" },
	{ .name = "stats", .cmd = "stats",
	  .opts = OPT(O_INTERVAL),
	  .pinned = true, .run = do_stats,
	  .text = text_stats, .json = json_reply,
	  .help = "counters and traffic, with rates from two samples" },
	{ .name = "flows", .cmd = "flows",
	  .opts = OPT(O_VIP) | OPT(O_BACKEND) | OPT(O_CLIENT) | OPT(O_LIMIT),
	  .pinned = true, .run = do_flows,
	  .text = text_flows, .json = json_reply,
	  .help = "entries of the flow table: which backend has which client" },
	{ .name = "top", .cmd = "stats",
	  .opts = OPT(O_INTERVAL) | OPT(O_COUNT),
	  .pinned = true, .run = do_top,
	  .text = text_top, .json = json_line,
	  .help = "live view of VIPs and backends: health, weights, "
		  "rates; fits the terminal",
	  .more = "Keys: q or Ctrl-C quits (so does SIGTERM; exit 0). While "
		  "xlbd does not answer,\n"
		  "top says so and retries every interval; rates start again "
		  "from the next two\n"
		  "samples after it is back. With -j: one JSON document a "
		  "line per refresh, or\n"
		  "{\"time\":...,\"error\":...,\"away_s\":...} while xlbd "
		  "is away.\n" },
	{ .group = "decap", .name = "attach",
	  .min = 1, .max = 1, .args = { &p_iface },
	  .opts = OPT(O_GUE_PORT) | OPT(O_MODE) | OPT(O_OUTER) |
		  OPT(O_BALANCERS) | OPT(O_INNER) | OPT(O_REJECT),
	  .run = do_decap_attach,
	  .help = "attach the backend's decap program to IFACE, or update "
		  "the one attached (no xlbd needed)" },
	{ .group = "decap", .name = "detach",
	  .min = 1, .max = 1, .args = { &p_iface },
	  .run = do_decap_detach,
	  .help = "detach the decap program from IFACE" },
	{ .name = "capture",
	  .opts = OPT(O_CAP_VIP) | OPT(O_CAP_BACKEND) | OPT(O_CAP_COUNT) |
		  OPT(O_CAP_WRITE) | OPT(O_CAP_SAMPLE) | OPT(O_CAP_SECONDS) |
		  OPT(O_CAP_STOP),
	  .pinned = true, .run = do_capture,
	  .help = "write a pcap of packets as the balancer saw them and as "
		  "it sent them (its capture build swapped in meanwhile)" },
	{ .name = "reload", .cmd = "reload",
	  .opts = OPT(O_FORCE),
	  .run = do_write,
	  .help = "re-read xlbd's -c file and merge its changes (as SIGHUP), "
		  "answering why when it is refused" },
	{ .name = "config", .cmd = "config",
	  .run = do_list, .text = text_config, .json = json_reply,
	  .help = "the running configuration, as a file xlbd -n accepts" },
	{ .group = "decap", .name = "stats",
	  .min = 1, .max = 1, .args = { &p_iface },
	  .run = do_decap_stats,
	  .text = text_decap_stats, .json = json_reply,
	  .help = "the decap program's address sets, settings and "
		  "counters" },
	{ .name = "peers", .cmd = "peers",
	  .run = do_list, .text = text_peers, .json = json_reply,
	  .help = "each peer: up or down, last heartbeat, epoch, whether "
		  "its configuration and tables equal ours, messages" },
	{ .group = "node", .name = "drain", .cmd = "node-drain",
	  .opts = OPT(O_WAIT) | OPT(O_DRAIN_TIMEOUT) | OPT(O_GRACE),
	  .run = do_node_drain, .text = text_node, .json = json_reply,
	  .help = "mark this node's routes graceful-shutdown, then withdraw "
		  "them; --wait until its VIP traffic is near zero" },
	{ .group = "node", .name = "undrain", .cmd = "node-undrain",
	  .run = do_list, .text = text_node, .json = json_reply,
	  .help = "announce this node's routes again" },
	{ .group = "node", .name = "status", .cmd = "node-status",
	  .run = do_list, .text = text_node, .json = json_reply,
	  .help = "drained or not, routes, and BIRD's last answer" },
	{ .name = "shutdown", .cmd = "shutdown",
	  .run = do_write,
	  .help = "stop xlbd: it detaches XDP, removes its pins and exits" },
};

#define NVERBS	(sizeof(verbs) / sizeof(verbs[0]))

static const char *verb_words(const struct verb *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", v->group ?: "", v->group ? " " : "",
		 v->name);
	return buf;
}

/* ---- usage ---- */

/* The verb's words, arguments and options, wrapped before column 79. */
static void synopsis(FILE *f, const struct verb *v, int col, int indent)
{
	char words[32], tok[64];
	int i;

	col += fprintf(f, "%s", verb_words(v, words, sizeof(words)));
	for (i = 0; i < v->max + O_MAX; i++) {
		if (i < v->max)
			snprintf(tok, sizeof(tok), "%s", v->args[i]->meta);
		else if ((v->opts & OPT(i - v->max)) &&
			 opts[i - v->max].type == P_FLAG)
			snprintf(tok, sizeof(tok), "[--%s]",
				 p_name(&opts[i - v->max]));
		else if (v->opts & OPT(i - v->max))
			snprintf(tok, sizeof(tok), "[--%s %s]",
				 p_name(&opts[i - v->max]), opts[i - v->max].meta);
		else
			continue;
		if (col + 1 + (int)strlen(tok) > 78)
			col = fprintf(f, "\n%*s", indent, "") - 1;
		col += fprintf(f, " %s", tok);
	}
}

/* "  LEFT  help", the help wrapped at word ends before column 79. */
static void usage_line(FILE *f, const char *left, const char *help)
{
	int col = fprintf(f, "  %-20s", left), n;

	while (*help) {
		n = (int)strcspn(help, " ");
		if (col + 1 + n > 78 && col > 23)
			col = fprintf(f, "\n%22s", "");
		col += fprintf(f, " %.*s", n, help);
		help += n;
		help += strspn(help, " ");
	}
	fputc('\n', f);
}

static void usage_verb(FILE *f, const struct verb *v)
{
	char left[64], help[256];
	int i, col;

	col = fprintf(f, "usage: xlbctl [-s SOCK] [-j] %s",
		      v->pinned ? "[--pinned DIR] " : "");
	synopsis(f, v, col, 6);
	fprintf(f, "\n\n%c%s.\n", toupper((unsigned char)v->help[0]),
		v->help + 1);
	if (v->max || v->opts)
		fputc('\n', f);
	for (i = 0; i < v->max; i++)
		usage_line(f, v->args[i]->meta,
			   p_help(v->args[i], help, sizeof(help)));
	for (i = 0; i < O_MAX; i++) {
		if (!(v->opts & OPT(i)))
			continue;
		snprintf(left, sizeof(left), "--%s%s%s", p_name(&opts[i]),
			 opts[i].meta ? " " : "", opts[i].meta ?: "");
		usage_line(f, left, p_help(&opts[i], help, sizeof(help)));
	}
	if (v->more)
		fprintf(f, "\n%s", v->more);
	if (v->pinned)
		fputs("\nWith --pinned DIR it reads the maps pinned in DIR and "
		      "needs no xlbd.\n", f);
}

static void usage_verbs(FILE *f, const char *group)
{
	size_t i;

	for (i = 0; i < NVERBS; i++) {
		if (group && (!verbs[i].group || strcmp(verbs[i].group, group)))
			continue;
		fputs("  ", f);
		synopsis(f, &verbs[i], 2, 3);
		fprintf(f, "\n      %s\n", verbs[i].help);
	}
}

static void usage(FILE *f)
{
	fputs("usage: xlbctl [-i IFACE | -s SOCK] [-j] [--pinned DIR] VERB "
	      "[ARGS...]\n"
	      "\n"
	      "Control xlbd, the XDP load balancer, over its unix socket.\n"
	      "\n"
	      "  -i, --interface IFACE\n"
	      "                       the xlbd of IFACE (socket "
	      CTL_SOCK_DIR "/IFACE" CTL_SOCK_EXT ")\n"
	      "  -s, --socket SOCK    xlbd's control socket (default: the "
	      "only one in " CTL_SOCK_DIR ")\n"
	      "  -j, --json           JSON output\n"
	      "  --pinned DIR         read the maps pinned in DIR instead of "
	      "asking xlbd\n"
	      "                       (list, vip list, stats, flows, top)\n"
	      "  -h, --help           this help; VERB --help: that verb's\n"
	      "  --version            the version, and exit\n"
	      "\nVerbs:\n", f);
	usage_verbs(f, NULL);
}

/* ---- validation ---- */

static bool only_chars(const char *s, const char *set)
{
	return *s && s[strspn(s, set)] == '\0';
}

static int check_int(const struct param *p, const char *s, double *num)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!only_chars(s[0] == '-' ? s + 1 : s, "0123456789") || *end)
		return usage_fail("bad %s '%s' (want an integer)", p_what(p), s);
	if (errno == ERANGE || v < p->min || v > p->max)
		return usage_fail("%s %s out of range %.0f..%.0f", p_what(p), s,
				  p->min, p->max);
	*num = (double)v;
	return 0;
}

static int check_seconds(const struct param *p, const char *s, double *num)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (!only_chars(s, "0123456789.-+eE") || *end || !isfinite(v))
		return usage_fail("bad %s '%s' (want seconds, such as 2 or "
				  "0.5)", p_what(p), s);
	if (v <= 0)
		return usage_fail("%s must be > 0 (got %s)", p_what(p), s);
	if (v < p->min || v > p->max)
		return usage_fail("%s %s out of range %g..%g", p_what(p), s,
				  p->min, p->max);
	*num = v;
	return 0;
}

/* A row of the settings table, through the parser the file and xlbd
 * use: what passes here passes there. */
static int check_setting(const struct param *p, const char *s, double *num)
{
	unsigned long long v;
	struct conf_check ck;
	char msg[256];

	/* Text of a check (path, host, body, payload): as xlbd takes it. */
	if (p->st->type == SETTING_TEXT || p->st->type == SETTING_TOKEN) {
		if (settings_check_text(&ck, p->st - settings, p_what(p), s,
					msg, sizeof(msg)))
			return usage_fail("%s", msg);
		return 0;
	}
	if (settings_parse(p->st - settings, p_what(p), s, &v, msg,
			   sizeof(msg)))
		return usage_fail("%s", msg);
	*num = (double)v;
	return 0;
}

static int check_prefixes(const struct param *p, const char *s)
{
	struct xlb_prefix_set set = {};
	int rc = xlb_prefix_list(s, &set);

	xlb_prefix_set_free(&set);
	if (rc)
		return usage_fail("bad %s '%s' (want ADDR or ADDR/LEN, "
				  "comma-separated)", p->what, s);
	return 0;
}

/* Check one value as xlbd would, so that a typo costs no round trip and
 * the message can name the command line's words. */
static int check_param(const struct param *p, const char *s, double *num)
{
	struct xlb_vip_key k;
	struct conf_check ck;
	union xlb_addr a;
	__u8 b, mac[6];
	char want[128];
	bool bl;

	if (!settings_text_ok(s, strlen(s)))
		return usage_fail("%s is not UTF-8 text", p_what(p));
	switch (p->type) {
	case P_VIP:
		if (xlb_parse_vip(s, &k))
			return usage_fail("bad VIP '%s' (want " XLB_VIP_FORM
					  ")", s);
		return 0;
	case P_ADDR:
		if (xlb_parse_addr(s, &a, &b))
			return usage_fail("bad %s '%s' (want an IPv4 or IPv6 "
					  "address)", p_what(p), s);
		return 0;
	case P_MAC:
		if (xlb_parse_mac(s, mac))
			return usage_fail("bad MAC '%s' (want six hex bytes "
					  "such as 02:00:00:00:00:01)", s);
		return 0;
	case P_SETTING:
		return check_setting(p, s, num);
	case P_CHECK:
		memset(&ck, 0, sizeof(ck));
		if (conf_parse_check(s, &ck))
			return usage_fail("bad check '%s' (want %s)", s,
					  settings_check_list(want,
							      sizeof(want)));
		return 0;
	case P_XDP_MODE:
		if (strcmp(s, "native") && strcmp(s, "generic"))
			return usage_fail("unknown XDP mode '%s' (want native "
					  "or generic)", s);
		return 0;
	case P_IFACE:
		if (!*s || strlen(s) >= IF_NAMESIZE || strpbrk(s, "/ \t:"))
			return usage_fail("bad interface name '%s'", s);
		return 0;
	case P_INT:
		return check_int(p, s, num);
	case P_SECONDS:
		return check_seconds(p, s, num);
	case P_FLAG:
		return 0;
	case P_PREFIXES:
		return check_prefixes(p, s);
	case P_FILE:
		if (!*s)
			return usage_fail("empty %s", p_what(p));
		return 0;
	case P_REJECT:
		if (xlb_decap_parse_reject(s, &bl))
			return usage_fail("bad reject '%s' (want pass or "
					  "drop)", s);
		return 0;
	}
	return 0;
}

/* ---- command line ---- */

static bool is_help(const char *s)
{
	return !strcmp(s, "-h") || !strcmp(s, "--help");
}

/* If argv[*i] is option NAME ("NAME V" or "NAME=V"), point *val at its
 * value and return 1; 0 if it is not; -EINVAL if the value is missing. */
static int take(int argc, char **argv, int *i, const char *name,
		const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) || (a[n] && a[n] != '='))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (*i + 1 >= argc)
		return usage_fail("option %s needs a value", name);
	*val = argv[++*i];
	return 1;
}

static int global_opt(struct globals *g, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	int rc;

	if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
		g->json = true;
		return 1;
	}
	if ((rc = take(argc, argv, i, "-s", &g->sock)) ||
	    (rc = take(argc, argv, i, "--socket", &g->sock)) ||
	    (rc = take(argc, argv, i, "-i", &g->iface)) ||
	    (rc = take(argc, argv, i, "--interface", &g->iface)) ||
	    (rc = take(argc, argv, i, "--pinned", &g->pinned)))
		return rc;
	return 0;
}

static int verb_opt(struct cmd *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *val;
	char name[64];
	int o, rc;

	/* tcpdump's short forms, for capture. */
	if (!strcmp(a, "-c") || !strcmp(a, "-w"))
		a = argv[*i] = a[1] == 'c' ? "--count" : "--write";
	if (strncmp(a, "--", 2))
		return 0;
	snprintf(name, sizeof(name), "--%.*s", (int)strcspn(a + 2, "="),
		 a + 2);
	for (o = 0; o < O_MAX; o++) {
		if (!(c->v->opts & OPT(o)) || strcmp(p_name(&opts[o]), name + 2))
			continue;
		if (opts[o].type == P_FLAG) {
			if (strcmp(a, name))
				return usage_fail("option %s takes no value",
						  name);
			c->opt[o] = "true";
			return 1;
		}
		rc = take(argc, argv, i, name, &val);
		if (rc <= 0)
			return rc;
		if (c->opt[o])
			return usage_fail("option %s given twice", name);
		rc = check_param(&opts[o], val, &c->num[o]);
		if (rc)
			return rc;
		c->opt[o] = val;
		return 1;
	}
	return 0;
}

static int find_verb(int argc, char **argv, int *i, const struct verb **v)
{
	const char *w = argv[*i], *sub = *i + 1 < argc ? argv[*i + 1] : NULL;
	bool group = false;
	size_t k;

	for (k = 0; k < NVERBS; k++) {
		if (!verbs[k].group) {
			if (!strcmp(verbs[k].name, w)) {
				*v = &verbs[k];
				*i += 1;
				return 0;
			}
			continue;
		}
		if (strcmp(verbs[k].group, w))
			continue;
		group = true;
		if (sub && !strcmp(verbs[k].name, sub)) {
			*v = &verbs[k];
			*i += 2;
			return 0;
		}
	}
	if (!group)
		return usage_fail("unknown command '%s' (xlbctl --help lists "
				  "them)", w);
	if (sub && is_help(sub)) {
		fprintf(stdout, "usage: xlbctl [-s SOCK] [-j] %s VERB ...\n\n",
			w);
		usage_verbs(stdout, w);
		return HELP_SHOWN;
	}
	if (!sub)
		return usage_fail("missing %s command (xlbctl %s --help lists "
				  "them)", w, w);
	return usage_fail("unknown %s command '%s' (xlbctl %s --help lists "
			  "them)", w, sub, w);
}

static bool looks_like_option(const char *a)
{
	/* "-5" is a (bad) weight, not an option */
	return a[0] == '-' && a[1] && !isdigit((unsigned char)a[1]);
}

static int parse_verb_args(int argc, char **argv, int i, struct cmd *c)
{
	const struct verb *v = c->v;
	bool dashdash = false;
	char words[32];
	int n = 0, j, rc;

	verb_words(v, words, sizeof(words));
	for (j = i; j < argc && strcmp(argv[j], "--"); j++)
		if (is_help(argv[j])) {
			usage_verb(stdout, v);
			return HELP_SHOWN;
		}
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (!dashdash && looks_like_option(a)) {
			rc = global_opt(&c->g, argc, argv, &i);
			if (!rc)
				rc = verb_opt(c, argc, argv, &i);
			if (rc < 0)
				return rc;
			if (!rc)
				return usage_fail("unknown option '%.*s' for "
						  "%s", (int)strcspn(a, "="),
						  a, words);
			continue;
		}
		if (n >= v->max)
			return usage_fail("unexpected argument '%s' for %s", a,
					  words);
		c->arg[n++] = a;
	}
	if (n < v->min)
		return usage_fail("missing %s for %s (xlbctl %s --help)",
				  v->args[n]->meta, words, words);
	for (j = 0; j < n; j++) {
		rc = check_param(v->args[j], c->arg[j], &c->argnum[j]);
		if (rc)
			return rc;
	}
	if (c->g.pinned && !v->pinned)
		return usage_fail("--pinned works with list, vip list, stats, "
				  "flows and top, not %s", words);
	return 0;
}

/* vip add: the check against the VIP, as xlbd and xlb.conf check it. */
static int vip_add_fits(const struct cmd *c, const struct xlb_vip_key *k,
			char *msg, size_t len)
{
	__u8 adaptive = (__u8)settings[SET_ADAPTIVE].def;
	__u8 ft = (__u8)settings[SET_FLOW_TABLE].def;
	__u8 algo = (__u8)settings[SET_ALGO].def;
	struct conf_check ck;
	int o;

	conf_check_defaults(&ck);
	if (c->opt[O_CHECK])
		conf_parse_check(c->opt[O_CHECK], &ck);
	for (o = 0; o < O_MAX; o++) {
		const struct setting *st = opts[o].st;

		if (!c->opt[o] || !st || !st->scope)
			continue;
		if (st->type == SETTING_TEXT || st->type == SETTING_TOKEN)
			settings_check_text(&ck, st - settings, p_name(&opts[o]),
					    c->opt[o], msg, len);
		else
			settings_check_store(&ck, st - settings,
					     (unsigned long long)c->num[o]);
	}
	if (c->opt[O_ADAPTIVE])
		adaptive = (__u8)c->num[O_ADAPTIVE];
	if (c->opt[O_FLOW_TABLE])
		ft = (__u8)c->num[O_FLOW_TABLE];
	if (c->opt[O_ALGO])
		algo = (__u8)c->num[O_ALGO];
	return xlb_vip_addr_ok(k, msg, len) ?:
	       settings_start_down_fits(c->opt[O_START_DOWN] ?
					(__u8)c->num[O_START_DOWN] : CONF_OFF,
					&ck, msg, len) ?:
	       settings_flow_table_fits(ft, algo, msg, len) ?:
	       settings_timeout_fits(&ck, c->opt[O_TIMEOUT], msg, len) ?:
	       settings_check_fits(k, &ck, msg, len) ?:
	       settings_adaptive_fits(adaptive, &ck, msg, len);
}

/* What xlbd checks across a verb's values, with its functions, so that a
 * mistake costs no round trip. Each value alone is checked already. */
static int verb_fits(const struct cmd *c)
{
	struct xlb_vip_key k;
	union xlb_addr a;
	char msg[256];
	__u8 f;
	int rc = 0;

	if (!c->v->cmd || xlb_parse_vip(c->arg[0] ?: "", &k))
		return 0;
	if (!strcmp(c->v->cmd, "vip-add"))
		rc = vip_add_fits(c, &k, msg, sizeof(msg));
	else if (!strcmp(c->v->cmd, "backend-add") &&
		 !xlb_parse_addr(c->arg[1], &a, &f))
		rc = xlb_backend_addr_ok(&k, &a, f, msg, sizeof(msg));
	return rc ? usage_fail("%s", msg) : 0;
}

static int parse_cmdline(int argc, char **argv, struct cmd *c)
{
	int i, rc;

	for (i = 1; i < argc && looks_like_option(argv[i]); i++) {
		if (is_help(argv[i])) {
			usage(stdout);
			return HELP_SHOWN;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("xlbctl %s\n", XLB_VERSION);
			return HELP_SHOWN;
		}
		rc = global_opt(&c->g, argc, argv, &i);
		if (rc < 0)
			return rc;
		if (!rc)
			return usage_fail("unknown option '%.*s'",
					  (int)strcspn(argv[i], "="), argv[i]);
	}
	if (i >= argc)
		return usage_fail("missing command (xlbctl --help lists them)");
	rc = find_verb(argc, argv, &i, &c->v);
	return rc ?: parse_verb_args(argc, argv, i, c) ?: verb_fits(c);
}

/* ---- JSON helpers ---- */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *jstr(json_object *o, const char *key, const char *def)
{
	json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : def;
}

static long long jint(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	return v ? (long long)json_object_get_int64(v) : 0;
}

static double jnum(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	return v ? json_object_get_double(v) : 0;
}

static bool jbool(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	return v && json_object_get_boolean(v);
}

static size_t jlen(json_object *arr)
{
	return arr && json_object_is_type(arr, json_type_array) ?
		       json_object_array_length(arr) : 0;
}

/* A double that prints with a fixed number of decimals. */
static json_object *jdouble(double v, int decimals)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

static json_object *jfind(json_object *arr, const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < jlen(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (!strcmp(jstr(o, key, ""), val))
			return o;
	}
	return NULL;
}

/* The request: the verb's arguments and options under their keys.
 * Numbers of the settings table go as the user typed them (checked with
 * xlbd's own parser), so that 0.1 stays 0.1 and not 0.10000000000000001. */
static void add_member(json_object *req, const struct param *p,
		       const char *s, double num)
{
	const char *key = p_key(p);
	json_object *v;

	if (!key)
		return;
	if (p->type == P_INT || (p->type == P_SETTING &&
				 p->st->type == SETTING_UINT))
		v = json_object_new_int64((int64_t)num);
	else if (p->type == P_SECONDS)
		v = json_object_new_double(num);
	else if (p->type == P_FLAG)
		v = json_object_new_boolean(1);
	else if (p->type == P_SETTING && (p->st->type == SETTING_MS ||
					  p->st->type == SETTING_PCT))
		v = json_object_new_double_s(strtod(s, NULL), s);
	else
		v = json_object_new_string(s);
	json_object_object_add(req, key, v);
}

static json_object *build_request(const struct cmd *c)
{
	json_object *req = json_object_new_object();
	int i;

	json_object_object_add(req, "cmd", json_object_new_string(c->v->cmd));
	for (i = 0; i < c->v->max && c->arg[i]; i++)
		add_member(req, c->v->args[i], c->arg[i], c->argnum[i]);
	for (i = 0; i < O_MAX; i++)
		if (c->opt[i])
			add_member(req, &opts[i], c->opt[i], c->num[i]);
	return req;
}

/* ---- talking to xlbd ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The only socket in CTL_SOCK_DIR, into path; an error naming them all
 * when there are several. */
static int only_socket(char *path, size_t len)
{
	char *names[16], list[256] = "";
	size_t n = 0, i, l = 0;
	struct dirent *e;
	struct stat st;
	DIR *dir;

	dir = opendir(CTL_SOCK_DIR);
	while (dir && (e = readdir(dir))) {
		size_t nl = strlen(e->d_name), el = strlen(CTL_SOCK_EXT);

		if (nl <= el || strcmp(e->d_name + nl - el, CTL_SOCK_EXT) ||
		    fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISSOCK(st.st_mode) || n == sizeof(names) / sizeof(*names))
			continue;
		names[n] = strdup(e->d_name);
		n += names[n] != NULL;
	}
	if (dir)
		closedir(dir);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n && l < sizeof(list); i++)
		l += snprintf(list + l, sizeof(list) - l, "%s%s", i ? " " : "",
			      names[i]);
	if (n == 1)
		snprintf(path, len, "%s/%s", CTL_SOCK_DIR, names[0]);
	for (i = 0; i < n; i++)
		free(names[i]);
	if (!n)
		return fail(-ENOENT, "no xlbd socket in %s (is xlbd running? "
			    "-i IFACE or -s SOCK names one; --pinned DIR "
			    "reads the data plane directly)", CTL_SOCK_DIR);
	if (n > 1)
		return fail(-EINVAL, "several xlbd sockets in %s (%s): choose "
			    "one with -i IFACE or -s SOCK", CTL_SOCK_DIR, list);
	return 0;
}

/* Which socket: -s as given, -i IFACE's, or the only one there is. NULL
 * with *rc set when none can be chosen. */
static const char *xlbd_sock(const struct globals *g, int *rc)
{
	static char path[108];
	double unused;

	*rc = 0;
	if (g->sock && g->iface) {
		*rc = usage_fail("-s and -i both name the socket: give one");
	} else if (g->iface) {
		*rc = check_param(&p_iface, g->iface, &unused);
		if (!*rc)
			snprintf(path, sizeof(path), "%s/%s%s", CTL_SOCK_DIR,
				 g->iface, CTL_SOCK_EXT);
	} else if (!g->sock) {
		*rc = only_socket(path, sizeof(path));
	} else {
		return g->sock;
	}
	return *rc ? NULL : path;
}

static int connect_xlbd(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { REPLY_TIMEOUT_S, 0 };
	int fd, rc;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return fail(-ENAMETOOLONG, "socket path too long: %s", sock);
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(-errno, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return fail(rc, "cannot reach xlbd at %s: %s%s", sock,
			    strerror(-rc),
			    rc == -ENOENT || rc == -ECONNREFUSED ?
				    " (is xlbd running? --pinned DIR reads "
				    "the data plane directly)" : "");
	}
	return fd;
}

static int send_all(int fd, const char *sock, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR && !stop)
			continue;
		if (n < 0)
			return fail(-errno, "cannot send to xlbd at %s: %s",
				    sock, strerror(errno));
		buf += n;
		len -= n;
	}
	return 0;
}

/* Everything up to EOF, at most CTL_REPLY_MAX bytes, NUL-terminated. */
static int recv_all(int fd, const char *sock, char *buf, size_t *len)
{
	ssize_t n;

	*len = 0;
	for (;;) {
		n = read(fd, buf + *len, CTL_REPLY_MAX + 1 - *len);
		if (n < 0 && errno == EINTR && !stop)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return fail(-ETIMEDOUT, "no reply from xlbd at %s "
				    "within %d s", sock, REPLY_TIMEOUT_S);
		if (n < 0)
			return fail(-errno, "cannot read from xlbd at %s: %s",
				    sock, strerror(errno));
		if (n == 0)
			break;
		*len += n;
		if (*len > CTL_REPLY_MAX)
			return fail(-EMSGSIZE, "reply from xlbd exceeds %d "
				    "bytes (--pinned DIR reads the maps "
				    "directly)", CTL_REPLY_MAX);
	}
	buf[*len] = '\0';
	return 0;
}

static int parse_reply(const char *buf, size_t len, json_object **reply)
{
	enum json_tokener_error jerr;
	json_object *o, *ok;

	if (!len)
		return fail(-EPROTO, "xlbd closed the connection without a "
			    "reply");
	o = json_tokener_parse_verbose(buf, &jerr);
	ok = jget(o, "ok");
	if (!o || !json_object_is_type(o, json_type_object) || !ok ||
	    !json_object_is_type(ok, json_type_boolean)) {
		json_object_put(o);
		return fail(-EPROTO, "bad reply from xlbd: %s",
			    o ? "no \"ok\" member" :
				json_tokener_error_desc(jerr));
	}
	if (!json_object_get_boolean(ok)) {
		fail(-EREMOTEIO, "%s", jstr(o, "error", "xlbd refused, "
					    "giving no reason"));
		json_object_put(o);
		return -EREMOTEIO;
	}
	*reply = o;
	return 0;
}

static int own_check(const char *buf, size_t len)
{
	json_object *o;
	char err[256];
	int rc;

	rc = ctl_parse_request(buf, len, &o, err, sizeof(err));
	json_object_put(o);
	return rc ? fail(rc, "%s", err) : 0;
}

/* One request, one reply (ctl.h). */
static int ctl_call(const struct cmd *c, json_object *req,
		    json_object **reply)
{
	const char *msg = json_object_to_json_string_ext(req,
						JSON_C_TO_STRING_PLAIN);
	size_t mlen = strlen(msg), len;
	const char *sock;
	char *buf = NULL;
	int fd, rc;

	if (mlen + 1 > CTL_MSG_MAX)
		return fail(-EMSGSIZE, "request exceeds %d bytes", CTL_MSG_MAX);
	buf = xrealloc(NULL, CTL_REPLY_MAX + 1);
	memcpy(buf, msg, mlen);
	buf[mlen] = '\n';
	/* The parser xlbd runs: what it would refuse is not sent. */
	rc = own_check(buf, mlen + 1);
	sock = rc ? NULL : xlbd_sock(&c->g, &rc);
	fd = sock ? connect_xlbd(sock) : rc;
	if (fd < 0) {
		free(buf);
		return fd;
	}
	rc = send_all(fd, sock, buf, mlen + 1) ?:
	     recv_all(fd, sock, buf, &len) ?:
	     parse_reply(buf, len, reply);
	free(buf);
	close(fd);
	return rc;
}

/* ---- or reading the pinned maps ---- */

static struct xlb_maps pinned_maps;
static bool pinned_open;

static void filter_from(json_object *req, struct view_filter *f)
{
	struct xlb_vip_key k;
	const char *s;

	memset(f, 0, sizeof(*f));
	if ((s = jstr(req, "vip", NULL)) && !xlb_parse_vip(s, &k)) {
		f->has_vip = true;
		f->vip = k.addr;
		f->vip_family = k.family;
		f->vip_port = ntohs(k.port);
		f->vip_proto = k.proto;
	}
	if ((s = jstr(req, "backend", NULL)))
		f->has_backend = !xlb_parse_addr(s, &f->backend,
						 &f->backend_family);
	if ((s = jstr(req, "client", NULL)))
		f->has_client = !xlb_parse_addr(s, &f->client,
						&f->client_family);
}

/* The reply xlbd would give, minus what only xlbd knows (checks, health,
 * configured weights of drained backends). */
static int local_call(const struct cmd *c, json_object *req,
		      json_object **reply)
{
	const char *cmd = jstr(req, "cmd", "");
	unsigned int total = 0, limit;
	struct view_filter f;
	json_object *o;
	int rc;

	if (!pinned_open) {
		rc = xlb_maps_open_pinned(c->g.pinned, &pinned_maps);
		if (rc)
			return fail(rc, "cannot open the maps pinned in %s: %s",
				    c->g.pinned, strerror(-rc));
		pinned_open = true;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(true));
	if (!strcmp(cmd, "flows")) {
		filter_from(req, &f);
		limit = (unsigned int)jint(req, "limit");
		json_object_object_add(o, "flows",
				       view_flows(&pinned_maps, &f, limit,
						  &total));
		json_object_object_add(o, "total",
				       json_object_new_int64(total));
	} else {
		if (!strcmp(cmd, "stats"))
			json_object_object_add(o, "counters",
					       view_counters(&pinned_maps));
		json_object_object_add(o, "vips", view_vips(&pinned_maps));
	}
	*reply = o;
	return 0;
}

static int call(const struct cmd *c, json_object *req, json_object **reply)
{
	*reply = NULL;
	return c->g.pinned ? local_call(c, req, reply) :
			     ctl_call(c, req, reply);
}

/* ---- text output: tables with aligned columns ---- */

#define TCOLS	12
#define TVAL	72
#define TKINDS	2

struct row {
	int kind;		/* rows of one kind share column widths */
	int indent;
	int n;
	const char *label[TCOLS];	/* printed before the value, or NULL */
	bool right[TCOLS];		/* right-aligned (numbers) */
	char val[TCOLS][TVAL];
};

struct table {
	struct row *rows;
	size_t n, cap;
};

static struct row *row_new(struct table *t, int kind, int indent)
{
	struct row *r;

	/* Doubling: a row is ~1 KB and a list may have 16k of them; growing
	 * by one copied the table once per row (seconds under ASan). */
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->rows = xrealloc(t->rows, t->cap * sizeof(*t->rows));
	}
	r = &t->rows[t->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->indent = indent;
	return r;
}

static void cell(struct row *r, const char *label, bool right,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void cell(struct row *r, const char *label, bool right,
		 const char *fmt, ...)
{
	va_list ap;

	if (r->n >= TCOLS)
		return;
	va_start(ap, fmt);
	vsnprintf(r->val[r->n], TVAL, fmt, ap);
	va_end(ap);
	r->label[r->n] = label;
	r->right[r->n] = right;
	r->n++;
}

static void append(char *line, size_t size, size_t *off, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static void append(char *line, size_t size, size_t *off, const char *fmt,
		   ...)
{
	va_list ap;
	int n;

	if (*off >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + n < size ? *off + n : size - 1;
}

struct widths {
	int lw[TKINDS][TCOLS];	/* labels */
	int vw[TKINDS][TCOLS];	/* values */
};

static void table_widths(const struct table *t, struct widths *w)
{
	size_t i;
	int j, n;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];

		for (j = 0; j < r->n; j++) {
			n = r->label[j] ? (int)strlen(r->label[j]) : 0;
			if (n > w->lw[r->kind][j])
				w->lw[r->kind][j] = n;
			n = (int)strlen(r->val[j]);
			if (n > w->vw[r->kind][j])
				w->vw[r->kind][j] = n;
		}
	}
}

/* One row as a line: a column that is empty in every row of its kind is
 * left out, an empty cell keeps its column's width and loses its label. */
static void row_format(const struct row *r, const struct widths *w,
		       char *line, size_t size)
{
	const int *lw = w->lw[r->kind], *vw = w->vw[r->kind];
	bool first = true;
	size_t off = 0;
	int j;

	append(line, size, &off, "%*s", r->indent, "");
	for (j = 0; j < r->n; j++) {
		if (!vw[j])
			continue;
		if (!first)
			append(line, size, &off, "  ");
		first = false;
		if (r->val[j][0] && r->label[j])
			append(line, size, &off, "%-*s ", lw[j], r->label[j]);
		else if (lw[j])
			append(line, size, &off, "%*s", lw[j] + 1, "");
		append(line, size, &off, r->right[j] ? "%*s" : "%-*s", vw[j],
		       r->val[j]);
	}
	while (off && line[off - 1] == ' ')
		off--;
	line[off] = '\0';
}

static void table_free(struct table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

static void table_print(struct table *t)
{
	struct widths w;
	char line[1024];
	size_t i;

	table_widths(t, &w);
	for (i = 0; i < t->n; i++) {
		row_format(&t->rows[i], &w, line, sizeof(line));
		puts(line);
	}
	table_free(t);
}

/* 1234567 -> "1.23M" */
static const char *si(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "", "k", "M", "G", "T" };
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.2f%s" : "%.1f%s", v, unit[u]);
	return buf;
}

static void rate_text(json_object *o, const char *key, char *buf,
		      size_t len)
{
	if (jget(o, key))
		si(jnum(o, key), buf, len);
	else
		snprintf(buf, len, "-");
}

static void rate_cell(struct row *r, const char *label, json_object *o,
		      const char *key)
{
	char buf[32];

	rate_text(o, key, buf, sizeof(buf));
	cell(r, label, true, "%s", buf);
}

static void check_cell(struct row *r, json_object *vip)
{
	json_object *ck = jget(vip, "check");
	const char *path = jstr(ck, "path", NULL);

	if (!ck)
		cell(r, "check", false, "-");
	else
		cell(r, "check", false, "%s%s%s", jstr(ck, "type", "?"),
		     path ? ":" : "", path ?: "");
}

static const char *nondefault(const char *s, const char *def)
{
	return s && strcmp(s, def) ? s : "";
}

static void vip_row(struct table *t, json_object *v, bool count_backends)
{
	struct row *r = row_new(t, 0, 0);

	cell(r, NULL, false, "%s", jstr(v, "vip", "?"));
	cell(r, "encap", false, "%s", jstr(v, "encap", "?"));
	cell(r, "algo", false, "%s", jstr(v, "algo", "?"));
	check_cell(r, v);
	if (count_backends)
		cell(r, "backends", true, "%zu", jlen(jget(v, "backends")));
	cell(r, "packets", true, "%lld", jint(v, "packets"));
	cell(r, "new flows", true, "%lld", jint(v, "new_flows"));
	/* Only when not the default: the usual line stays short. */
	cell(r, "all-down", false, "%s",
	     nondefault(jstr(v, "all_down", NULL), "open"));
	cell(r, "adaptive", false, "%s",
	     nondefault(jstr(v, "adaptive", NULL), "off"));
	cell(r, "flow-table", false, "%s",
	     nondefault(jstr(v, "flow_table", NULL), "on"));
	if (jget(v, "udp_idle") &&
	    jint(v, "udp_idle") != (long long)settings[SET_UDP_IDLE].def)
		cell(r, "udp-idle", false, "%llds", jint(v, "udp_idle"));
	cell(r, "panic", false, "%s", jbool(v, "panic") ? "PANIC" : "");
}

static void backend_row(struct table *t, json_object *b)
{
	struct row *r = row_new(t, 1, 2);
	json_object *d = jget(b, "drained");

	cell(r, NULL, false, "%s", jstr(b, "addr", "?"));
	cell(r, "weight", true, "%lld", jint(b, "weight"));
	/* What xlbd gives only with checks or adaptive weights: a column
	 * empty in every row is left out. */
	if (jget(b, "effective_weight"))
		cell(r, "effective", true, "%lld",
		     jint(b, "effective_weight"));
	else
		cell(r, "effective", true, "%s", "");
	cell(r, "ramp", true, "%s", jget(b, "ramp_pct") ?
	     jstr(b, "ramp_pct", "") : "");
	/* "draining" while its connections last (xlbd counts them). */
	cell(r, NULL, false, "%s", jbool(b, "maint") ? "maint" :
	     d && json_object_get_boolean(d) ? jstr(b, "drain", "drained") :
						"");
	cell(r, "health", false, "%s", jstr(b, "health", "unknown"));
	if (jget(b, "latency_ms"))
		cell(r, "latency", true, "%.1fms", jnum(b, "latency_ms"));
	else
		cell(r, "latency", true, "%s", "");
	cell(r, "packets", true, "%lld", jint(b, "packets"));
	cell(r, "new flows", true, "%lld", jint(b, "new_flows"));
	if (jget(b, "connections_active"))
		cell(r, "active", true, "%lld", jint(b, "connections_active"));
	else
		cell(r, "active", true, "%s", "");
	cell(r, "mac", false, "%s", jstr(b, "mac", ""));
	cell(r, "last check", false, "%s", jstr(b, "last_check", ""));
}

static void text_vips(json_object *o, bool with_backends)
{
	json_object *vips = jget(o, "vips"), *v, *bes;
	struct table t = {};
	size_t i, j;

	for (i = 0; i < jlen(vips); i++) {
		v = json_object_array_get_idx(vips, i);
		vip_row(&t, v, !with_backends);
		bes = jget(v, "backends");
		for (j = 0; with_backends && j < jlen(bes); j++)
			backend_row(&t, json_object_array_get_idx(bes, j));
	}
	table_print(&t);
}

static void text_config(const struct cmd *c, json_object *o)
{
	json_object *t;

	(void)c;
	if (json_object_object_get_ex(o, "config", &t))
		fputs(json_object_get_string(t), stdout);
}

/* "NAME=N ..." of an object's non-zero counts; "none" when all are 0. */
static void print_counts(json_object *o)
{
	bool any = false;

	if (!o) {
		printf("none");
		return;
	}
	json_object_object_foreach(o, k, v) {
		if (!json_object_get_int64(v))
			continue;
		printf("%s%s=%lld", any ? "," : "", k,
		       (long long)json_object_get_int64(v));
		any = true;
	}
	if (!any)
		printf("none");
}

/* One line per peer (the contract: its address and up or down first). */
static void text_peers(const struct cmd *c, json_object *o)
{
	json_object *peers = jget(o, "peers"), *p, *tabs, *t;
	size_t i, j;

	(void)c;
	if (!jlen(peers))
		printf("no peers configured\n");
	for (i = 0; i < jlen(peers); i++) {
		p = json_object_array_get_idx(peers, i);
		printf("%s %s last ", jstr(p, "addr", "?"),
		       jstr(p, "state", "?"));
		if (jint(p, "last_heartbeat_ms") < 0)
			printf("never");
		else
			printf("%lldms", jint(p, "last_heartbeat_ms"));
		printf(" epoch %lld config %s%s tables %lld equal %lld differ",
		       jint(p, "epoch"), jstr(p, "config", "?"),
		       json_object_get_boolean(jget(p, "drained")) ?
		       " drained" : "", jint(p, "tables_equal"),
		       jint(p, "tables_differ"));
		tabs = jget(p, "tables");
		for (j = 0; j < jlen(tabs); j++) {
			t = json_object_array_get_idx(tabs, j);
			if (!json_object_get_boolean(jget(t, "match")))
				printf(" %s", jstr(t, "vip", "?"));
		}
		printf(" received ");
		print_counts(jget(p, "received"));
		printf(" dropped ");
		print_counts(jget(p, "dropped"));
		putchar('\n');
	}
}

static void text_vip_list(const struct cmd *c, json_object *o)
{
	(void)c;
	text_vips(o, false);
}

static void text_list(const struct cmd *c, json_object *o)
{
	(void)c;
	text_vips(o, true);
}

/* Kind 1: aligned apart from the counters (kind 0) above them. */
static void traffic_row(struct table *t, json_object *o, const char *name,
			int indent)
{
	struct row *r = row_new(t, 1, 0);

	cell(r, NULL, false, "%*s%s", indent, "", name);
	rate_cell(r, "pps", o, "pps");
	rate_cell(r, "bps", o, "bps");
	cell(r, "packets", true, "%lld", jint(o, "packets"));
	cell(r, "bytes", true, "%lld", jint(o, "bytes"));
	cell(r, "new flows", true, "%lld", jint(o, "new_flows"));
}

static void text_stats(const struct cmd *c, json_object *o)
{
	json_object *cnt = jget(o, "counters"), *rates = jget(o, "rates");
	json_object *vips = jget(o, "vips"), *v, *bes, *b, *rt;
	struct table t = {};
	char buf[32];
	size_t i, j;

	(void)c;
	if (cnt && json_object_is_type(cnt, json_type_object)) {
		json_object_object_foreach(cnt, key, val) {
			long long n = json_object_get_int64(val);
			struct row *r;

			if (!n)
				continue;
			r = row_new(&t, 0, 0);
			cell(r, NULL, false, "%s", key);
			cell(r, NULL, true, "%lld", n);
			if (xlb_counter_index(key) >= 0 && jget(rates, key))
				cell(r, NULL, true, "%s/s",
				     si(jnum(rates, key), buf, sizeof(buf)));
			else
				cell(r, NULL, true, "%s", "");
		}
	}
	if (t.n && jlen(vips))
		row_new(&t, 1, 0);	/* a blank line */
	for (i = 0; i < jlen(vips); i++) {
		v = json_object_array_get_idx(vips, i);
		traffic_row(&t, v, jstr(v, "vip", "?"), 0);
		bes = jget(v, "backends");
		for (j = 0; j < jlen(bes); j++) {
			b = json_object_array_get_idx(bes, j);
			traffic_row(&t, b, jstr(b, "addr", "?"), 2);
		}
	}
	table_print(&t);
	rt = jget(o, "routing");
	if (jget(rt, "socket"))
		printf("\nrouting: %lld route%s%s, BIRD: %s (%lld ok, %lld "
		       "failed)\n", jint(rt, "routes"),
		       jint(rt, "routes") == 1 ? "" : "s",
		       jbool(rt, "drained") ? " (node drained)" : "",
		       jstr(rt, "last_result", "-"), jint(rt, "configures_ok"),
		       jint(rt, "configures_failed"));
}

static void text_flows(const struct cmd *c, json_object *o)
{
	json_object *flows = jget(o, "flows"), *f;
	long long total = jint(o, "total");
	struct table t = {};
	struct row *r;
	size_t i;

	(void)c;
	r = row_new(&t, 0, 0);
	cell(r, NULL, false, "CLIENT");
	cell(r, NULL, false, "VIP");
	cell(r, NULL, false, "BACKEND");
	cell(r, NULL, false, "STATE");
	cell(r, NULL, true, "IDLE");
	for (i = 0; i < jlen(flows); i++) {
		f = json_object_array_get_idx(flows, i);
		r = row_new(&t, 0, 0);
		cell(r, NULL, false, "%s", jstr(f, "client", "?"));
		cell(r, NULL, false, "%s", jstr(f, "vip", "?"));
		cell(r, NULL, false, "%s", jstr(f, "backend", "?"));
		cell(r, NULL, false, "%s", jstr(f, "state", "?"));
		cell(r, NULL, true, "%.1fs", jnum(f, "idle_s"));
	}
	table_print(&t);
	if (total > (long long)jlen(flows))
		printf("%zu of %lld flows shown (--limit N shows more, "
		       "0 all)\n", jlen(flows), total);
}

static void json_reply(const struct cmd *c, json_object *o)
{
	(void)c;
	json_object_object_del(o, "ok");
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* One document a line: a stream a program reads line by line (top). */
static void json_line(const struct cmd *c, json_object *o)
{
	(void)c;
	json_object_object_del(o, "ok");
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void render(const struct cmd *c, json_object *o)
{
	render_fn fn = c->g.json ? c->v->json : c->v->text;

	if (fn)
		fn(c, o);
	fflush(stdout);
}

/* ---- verbs that talk to xlbd (or read the pins) ---- */

static int request(struct cmd *c, json_object *req, bool show)
{
	json_object *reply = NULL;
	int rc;

	rc = call(c, req, &reply);
	if (!rc && show)
		render(c, reply);
	json_object_put(reply);
	json_object_put(req);
	return rc;
}

/* vip add/del, backend add/del/set-weight/drain/undrain, shutdown: the
 * table says it all; success prints nothing. */
static int do_write(struct cmd *c)
{
	return request(c, build_request(c), false);
}

static int do_list(struct cmd *c)
{
	return request(c, build_request(c), true);
}

static int do_flows(struct cmd *c)
{
	json_object *req = build_request(c);

	if (!c->opt[O_LIMIT])
		json_object_object_add(req, "limit", json_object_new_int(
					       FLOWS_LIMIT_DEFAULT));
	return request(c, req, true);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int nap(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts))
		if (errno != EINTR || stop)
			return -EINTR;
	return 0;
}

static int sample(struct cmd *c, json_object **o, double *t)
{
	json_object *req = build_request(c);
	int rc;

	rc = call(c, req, o);
	*t = now_s();
	json_object_put(req);
	return rc;
}

static double delta(json_object *now, json_object *then, const char *key)
{
	long long a = jint(now, key), b = jint(then, key);

	return a > b ? (double)(a - b) : 0;	/* a restart resets */
}

static void add_traffic_rates(json_object *now, json_object *then, double dt)
{
	if (!then)
		return;	/* new since the first sample: no rate yet */
	json_object_object_add(now, "pps",
			       jdouble(delta(now, then, "packets") / dt, 1));
	json_object_object_add(now, "bps",
			       jdouble(delta(now, then, "bytes") * 8 / dt, 1));
	json_object_object_add(now, "new_flows_ps",
			       jdouble(delta(now, then, "new_flows") / dt, 1));
}

/* Add to the later sample what the pair tells: "interval" (seconds
 * measured between them), "rates" (per counter, per second) and "pps",
 * "bps" and "new_flows_ps" in each VIP and backend. */
static void add_rates(json_object *then, json_object *now, double dt)
{
	json_object *c0 = jget(then, "counters"), *c1 = jget(now, "counters");
	json_object *v0s = jget(then, "vips"), *v1s = jget(now, "vips");
	json_object *rates = json_object_new_object(), *v1, *v0, *b1;
	size_t i, j;

	if (dt <= 0)
		dt = 1e-9;
	json_object_object_add(now, "interval", jdouble(dt, 3));
	for (i = 0; i < XLB_C_MAX; i++)
		if (jget(c1, xlb_counter_names[i]))
			json_object_object_add(rates, xlb_counter_names[i],
				jdouble(delta(c1, c0, xlb_counter_names[i]) /
					dt, 1));
	json_object_object_add(now, "rates", rates);
	for (i = 0; i < jlen(v1s); i++) {
		v1 = json_object_array_get_idx(v1s, i);
		v0 = jfind(v0s, "vip", jstr(v1, "vip", ""));
		add_traffic_rates(v1, v0, dt);
		for (j = 0; j < jlen(jget(v1, "backends")); j++) {
			b1 = json_object_array_get_idx(jget(v1, "backends"), j);
			add_traffic_rates(b1, v0 ? jfind(jget(v0, "backends"),
					  "addr", jstr(b1, "addr", "")) : NULL,
					  dt);
		}
	}
}

static double interval_of(const struct cmd *c)
{
	return c->opt[O_INTERVAL] ? c->num[O_INTERVAL] : 1;
}

static int do_stats(struct cmd *c)
{
	json_object *a = NULL, *b = NULL;
	double t0, t1;
	int rc;

	rc = sample(c, &a, &t0) ?: nap(interval_of(c)) ?: sample(c, &b, &t1);
	if (!rc) {
		add_rates(a, b, t1 - t0);
		render(c, b);
	}
	json_object_put(a);
	json_object_put(b);
	return rc;
}

/* ---- node drain ---- */

static void text_node(const struct cmd *c, json_object *o)
{
	json_object *n = jget(o, "node");
	const char *ph = jstr(n, "phase", "?");

	(void)c;
	printf("node: %s", jbool(n, "drained") ? "drained" : "serving");
	if (strcmp(ph, "serving") && strcmp(ph, "?"))
		printf(" (%s", ph);
	if (jget(n, "grace_left_ms"))
		printf(", routes withdrawn in %.1f s",
		       jint(n, "grace_left_ms") / 1000.0);
	if (strcmp(ph, "serving") && strcmp(ph, "?"))
		printf(")");
	printf("\n");
	if (!jbool(n, "routing")) {
		printf("routing: not configured (xlbd --bird-include)\n");
		return;
	}
	printf("routing: %s %s, %lld route%s in %s%s\n",
	       jstr(n, "device", "?"), jbool(n, "device_up") ? "up" : "down",
	       jint(n, "routes"), jint(n, "routes") == 1 ? "" : "s",
	       jstr(n, "include", "?"), jbool(n, "synced") ? "" :
	       " (BIRD not told yet)");
	if (jget(n, "socket"))
		printf("bird: %s, %s (%lld ok, %lld failed)\n",
		       jstr(n, "socket", "?"), jstr(n, "last_result", "-"),
		       jint(n, "configures_ok"), jint(n, "configures_failed"));
}

static json_object *verb_request(const char *cmd)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

/* One answer of xlbd to a verb without arguments, into *o. */
static int ask(const struct cmd *c, const char *cmd, json_object **o)
{
	json_object *req = verb_request(cmd);
	int rc = call(c, req, o);

	json_object_put(req);
	return rc;
}

/* Packets to this node's VIPs so far. */
static int vip_packets(const struct cmd *c, long long *n)
{
	json_object *o = NULL, *vips;
	size_t i;
	int rc = ask(c, "stats", &o);

	*n = 0;
	vips = rc ? NULL : jget(o, "vips");
	for (i = 0; i < jlen(vips); i++)
		*n += jint(json_object_array_get_idx(vips, i), "packets");
	json_object_put(o);
	return rc;
}

/* Until the routes are withdrawn and BIRD has been told. */
static int wait_withdrawn(const struct cmd *c, double deadline)
{
	json_object *o = NULL, *n;
	bool done;
	int rc;

	for (;;) {
		rc = ask(c, "node-status", &o);
		if (rc)
			return rc;
		n = jget(o, "node");
		done = !strcmp(jstr(n, "phase", ""), "withdrawn") &&
		       (!jget(n, "synced") || jbool(n, "synced"));
		if (!done && !jbool(n, "drained"))
			rc = fail(-ECANCELED, "the node was undrained meanwhile");
		json_object_put(o);
		if (done || rc)
			return rc;
		if (now_s() > deadline)
			return fail(-ETIMEDOUT, "routes not withdrawn in time");
		rc = nap(DRAIN_POLL_S);
		if (rc)
			return rc;
	}
}

/* Until the VIP traffic over one poll is under DRAIN_IDLE_PPS. */
static int wait_quiet(const struct cmd *c, double t0, double deadline)
{
	long long a, b;
	double ta, tb, pps;
	int rc;

	rc = vip_packets(c, &a);
	ta = now_s();
	while (!rc) {
		rc = nap(DRAIN_RATE_POLL_S) ?: vip_packets(c, &b);
		if (rc)
			break;
		tb = now_s();
		pps = b > a ? (b - a) / (tb - ta) : 0;
		if (pps < DRAIN_IDLE_PPS) {
			printf("VIP traffic near zero (%.0f pps) %.1f s after "
			       "the drain\n", pps, tb - t0);
			return 0;
		}
		if (tb > deadline)
			return fail(-ETIMEDOUT, "VIP traffic still %.0f pps "
				    "after %.1f s", pps, tb - t0);
		a = b;
		ta = tb;
	}
	return rc;
}

static int do_node_drain(struct cmd *c)
{
	double t0 = now_s(), timeout = c->opt[O_DRAIN_TIMEOUT] ?
		c->num[O_DRAIN_TIMEOUT] : DRAIN_TIMEOUT_S;
	int rc = request(c, build_request(c), true);

	if (rc || !c->opt[O_WAIT])
		return rc;
	rc = wait_withdrawn(c, t0 + timeout);
	if (rc)
		return rc;
	printf("routes withdrawn %.1f s after the drain\n", now_s() - t0);
	fflush(stdout);
	return wait_quiet(c, t0, t0 + timeout);
}

/* The backend named by c's arguments in a list reply, or NULL. */
static json_object *find_backend(const struct cmd *c, json_object *o)
{
	struct xlb_vip_key want, k;
	union xlb_addr a, b;
	json_object *vips = jget(o, "vips"), *v, *bes, *be;
	__u8 fa, fb;
	size_t i, j;

	if (xlb_parse_vip(c->arg[0], &want) ||
	    xlb_parse_addr(c->arg[1], &a, &fa))
		return NULL;
	for (i = 0; i < jlen(vips); i++) {
		v = json_object_array_get_idx(vips, i);
		if (xlb_parse_vip(jstr(v, "vip", ""), &k) ||
		    memcmp(&k, &want, sizeof(k)))
			continue;
		bes = jget(v, "backends");
		for (j = 0; j < jlen(bes); j++) {
			be = json_object_array_get_idx(bes, j);
			if (!xlb_parse_addr(jstr(be, "addr", ""), &b, &fb) &&
			    fb == fa && !memcmp(&a, &b, sizeof(a)))
				return be;
		}
	}
	return NULL;
}

/* backend drain --wait: until a sweep of the flow table that began after
 * the drain (the sweep count two on from the drain's) finds none of the
 * backend's connections active (confirmed, no FIN: a closing connection's
 * entry only waits out its idle bound). */
static int wait_backend_idle(const struct cmd *c, double t0, double deadline)
{
	long long first = -1, n = -1;
	json_object *o = NULL, *be;
	int rc;

	for (;;) {
		rc = ask(c, "list", &o);
		if (rc)
			return rc;
		be = find_backend(c, o);
		if (!be)
			rc = fail(-ENOENT, "the backend is gone");
		else if (!jbool(be, "drained"))
			rc = fail(-ECANCELED, "the backend was undrained "
				  "meanwhile");
		else if (!jget(be, "connections_active"))
			rc = fail(-EOPNOTSUPP, "xlbd does not count this "
				  "backend's connections");
		if (!rc) {
			n = jint(be, "connections_active");
			if (first < 0)
				first = jint(o, "active_sweeps");
			if (!n && jint(o, "active_sweeps") >= first + 2) {
				json_object_put(o);
				printf("no active connection %.1f s after the "
				       "drain\n", now_s() - t0);
				return 0;
			}
		}
		json_object_put(o);
		if (rc)
			return rc;
		if (now_s() > deadline)
			return fail(-ETIMEDOUT, "%lld connections still active "
				    "after %.1f s", n, now_s() - t0);
		rc = nap(DRAIN_POLL_S);
		if (rc)
			return rc;
	}
}

static int do_backend_drain(struct cmd *c)
{
	double t0 = now_s(), timeout = c->opt[O_DRAIN_TIMEOUT] ?
		c->num[O_DRAIN_TIMEOUT] : DRAIN_TIMEOUT_S;
	int rc = request(c, build_request(c), false);

	if (rc || !c->opt[O_BE_WAIT])
		return rc;
	return wait_backend_idle(c, t0, t0 + timeout);
}

/* ---- top: stats as a live view ----
 *
 * Every refresh is one sample of "stats" with its rates against the sample
 * before (add_rates) and what top adds (add_view: the time, totals, each
 * VIP's active connections); or, while xlbd does not answer, a document
 * with the time and the reason. Top keeps polling then: xlbd restarts
 * under it (an upgrade, a crash), and the operator watching should see it
 * come back, not a shell prompt. Rates start again from the next pair of
 * samples. The document is printed as one line of JSON (-j) or as a
 * screen that fits the terminal, whose size is read at every refresh and
 * on SIGWINCH; not on a terminal, the whole list, no control codes.
 */

static volatile sig_atomic_t resized;	/* SIGWINCH during top */

struct top {
	struct cmd *c;
	bool tty;		/* text on a terminal: fitted and redrawn */
	bool keys;		/* stdin is the terminal, non-canonical: q */
	struct termios saved;	/* stdin's settings, restored at the end */
	json_object *shown;	/* the document on the screen */
	double away_since;	/* when xlbd stopped answering; 0: it answers */
};

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else
		stop = 1;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A VIP's active connections: its backends', when xlbd counts them. */
static void add_vip_active(json_object *v)
{
	json_object *bes = jget(v, "backends"), *b;
	long long sum = 0;
	bool counted = false;
	size_t i;

	for (i = 0; i < jlen(bes); i++) {
		b = json_object_array_get_idx(bes, i);
		if (!jget(b, "connections_active"))
			continue;
		sum += jint(b, "connections_active");
		counted = true;
	}
	if (counted)
		json_object_object_add(v, "connections_active",
				       json_object_new_int64(sum));
}

/* The header's numbers: the VIPs' rates summed (once there are rates)
 * and how full the flow table is. */
static json_object *totals(json_object *o)
{
	json_object *vips = jget(o, "vips"), *cnt = jget(o, "counters"), *v;
	json_object *t = json_object_new_object();
	double pps = 0, bps = 0, nfps = 0;
	size_t i;

	for (i = 0; i < jlen(vips); i++) {
		v = json_object_array_get_idx(vips, i);
		pps += jnum(v, "pps");
		bps += jnum(v, "bps");
		nfps += jnum(v, "new_flows_ps");
	}
	if (jget(o, "rates")) {
		json_object_object_add(t, "pps", jdouble(pps, 1));
		json_object_object_add(t, "bps", jdouble(bps, 1));
		json_object_object_add(t, "new_flows_ps", jdouble(nfps, 1));
	}
	json_object_object_add(t, "flows_in_table", json_object_new_int64(
				       jint(cnt, "flows_in_table")));
	json_object_object_add(t, "flow_table_size", json_object_new_int64(
				       jint(cnt, "flow_table_size")));
	return t;
}

static void add_view(json_object *o, double when)
{
	size_t i;

	for (i = 0; i < jlen(jget(o, "vips")); i++)
		add_vip_active(json_object_array_get_idx(jget(o, "vips"), i));
	json_object_object_add(o, "totals", totals(o));
	json_object_object_add(o, "time", jdouble(when, 3));
}

/* While xlbd is away: when, why, and for how long. */
static json_object *away_doc(const struct top *t, double when)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "time", jdouble(when, 3));
	json_object_object_add(o, "error", json_object_new_string(err_msg));
	json_object_object_add(o, "away_s",
			       jdouble(now_s() - t->away_since, 1));
	return o;
}

/* One refresh's document into *doc (the caller's reference). *prev is
 * the sample before, for the rates; an error forgets it. */
static int top_sample(struct top *t, json_object **prev, double *t0,
		      json_object **doc)
{
	double t1, when = wall_s();
	int rc = sample(t->c, doc, &t1);

	if (rc) {
		json_object_put(*prev);
		*prev = NULL;
		if (!t->away_since)
			t->away_since = t1;
		*doc = away_doc(t, when);
		return rc;
	}
	t->away_since = 0;
	if (*prev)
		add_rates(*prev, *doc, t1 - *t0);
	json_object_put(*prev);
	*prev = json_object_get(*doc);
	*t0 = t1;
	add_view(*doc, when);
	return 0;
}

/* ---- top on a terminal: a frame of lines ---- */

struct frame {
	char **line;
	size_t n, cap;
};

static void frame_add(struct frame *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void frame_add(struct frame *f, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->line = xrealloc(f->line, f->cap * sizeof(*f->line));
	}
	len = strlen(buf) + 1;
	f->line[f->n] = memcpy(xrealloc(NULL, len), buf, len);
	f->n++;
}

static void frame_free(struct frame *f)
{
	while (f->n)
		free(f->line[--f->n]);
	free(f->line);
}

/* How many bytes of s fill at most cols columns (0: all). UTF-8: a
 * continuation byte takes no column of its own. */
static int fit_bytes(const char *s, int cols)
{
	int i, used = 0;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (cols && used == cols)
			break;
		used++;
	}
	return i;
}

/* The frame in rows x cols (0: no limit), each line cut at cols; when the
 * lines do not fit, the last row says how many were left out. On a
 * terminal it replaces the frame before, in one write (stdout is fully
 * buffered then), and ends without a newline, which would scroll a full
 * screen by a line. */
static void frame_print(const struct frame *f, int rows, int cols, bool tty)
{
	size_t shown = f->n, i;
	char more[64];

	if (rows > 0 && f->n > (size_t)rows)
		shown = (size_t)rows - 1;
	snprintf(more, sizeof(more), "... %zu more", f->n - shown);
	if (tty)
		fputs("\033[H\033[2J", stdout);
	for (i = 0; i <= shown && i < f->n; i++) {
		const char *s = i < shown ? f->line[i] : more;

		printf("%s%.*s", i && tty ? "\n" : "", fit_bytes(s, cols), s);
		if (!tty)
			putchar('\n');
	}
}

static void top_header(const struct cmd *c, json_object *o,
		       struct frame *f)
{
	json_object *t = jget(o, "totals");
	time_t now = (time_t)jnum(o, "time");
	char when[16], pps[32], bps[32], nfps[32];
	long long size = jint(t, "flow_table_size");
	int rc;

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (jget(o, "error")) {
		frame_add(f, "xlbctl top  %s  xlbd not answering for %.1fs, "
			  "retrying every %gs", when, jnum(o, "away_s"),
			  interval_of(c));
		frame_add(f, "%s", jstr(o, "error", "?"));
		return;
	}
	frame_add(f, "xlbctl top  %s  %s %s  every %gs", when,
		  c->g.pinned ? "pinned" : "xlbd",
		  c->g.pinned ?: xlbd_sock(&c->g, &rc) ?: "?", interval_of(c));
	rate_text(t, "pps", pps, sizeof(pps));
	rate_text(t, "bps", bps, sizeof(bps));
	rate_text(t, "new_flows_ps", nfps, sizeof(nfps));
	frame_add(f, "total  pps %s  bps %s  new flows/s %s  flow table "
		  "%lld/%lld (%.1f%%)", pps, bps, nfps,
		  jint(t, "flows_in_table"), size,
		  size ? 100.0 * jint(t, "flows_in_table") / size : 0);
}

enum { TC_NAME, TC_STATE, TC_WEIGHT, TC_EFF, TC_DRAIN, TC_PPS, TC_NFPS,
       TC_ACTIVE, TC_LATENCY, TC_ETA, TC_MAX };

static void top_titles(struct table *t)
{
	static const char *const title[TC_MAX] = {
		"VIP/BACKEND", "ALGO/HEALTH", "WEIGHT", "EFF", "DRAIN", "PPS",
		"NEW/S", "ACTIVE", "LATENCY", "FULL IN",
	};
	struct row *r = row_new(t, 0, 0);
	int j;

	for (j = 0; j < TC_MAX; j++)
		cell(r, NULL, j >= TC_WEIGHT && j != TC_DRAIN, "%s", title[j]);
}

/* A title over a column no row fills goes, and so does the column
 * (row_format leaves out columns empty in every row): --pinned knows no
 * latency, and the drain column is there only when a backend drains. */
static void drop_empty_titles(struct table *t)
{
	size_t i;
	int j;

	for (j = 0; j < TC_MAX; j++) {
		for (i = 1; i < t->n && !t->rows[i].val[j][0]; i++)
			;
		if (i == t->n)
			t->rows[0].val[j][0] = '\0';
	}
}

static void active_cell(struct row *r, json_object *o)
{
	if (jget(o, "connections_active"))
		cell(r, NULL, true, "%lld", jint(o, "connections_active"));
	else
		cell(r, NULL, true, "%s", "");
}

static void top_vip_row(struct table *t, json_object *v)
{
	struct row *r = row_new(t, 0, 0);
	char buf[32];
	int j;

	cell(r, NULL, false, "%s", jstr(v, "vip", "?"));
	cell(r, NULL, false, "%s", jstr(v, "algo", "?"));
	for (j = TC_WEIGHT; j < TC_PPS; j++)
		cell(r, NULL, false, "%s", "");
	rate_text(v, "pps", buf, sizeof(buf));
	cell(r, NULL, true, "%s", buf);
	rate_text(v, "new_flows_ps", buf, sizeof(buf));
	cell(r, NULL, true, "%s", buf);
	active_cell(r, v);
}

static void top_backend_row(struct table *t, json_object *b)
{
	struct row *r = row_new(t, 0, 0);
	json_object *d = jget(b, "drained");
	char buf[32];

	cell(r, NULL, false, "  %s", jstr(b, "addr", "?"));
	cell(r, NULL, false, "%s", jstr(b, "health", "unknown"));
	cell(r, NULL, true, "%lld", jint(b, "weight"));
	if (jget(b, "effective_weight"))
		cell(r, NULL, true, "%lld", jint(b, "effective_weight"));
	else
		cell(r, NULL, true, "%s", "");
	cell(r, NULL, false, "%s", d && json_object_get_boolean(d) ?
				   jstr(b, "drain", "drained") : "");
	rate_text(b, "pps", buf, sizeof(buf));
	cell(r, NULL, true, "%s", buf);
	rate_text(b, "new_flows_ps", buf, sizeof(buf));
	cell(r, NULL, true, "%s", buf);
	active_cell(r, b);
	if (jget(b, "latency_ms"))
		cell(r, NULL, true, "%.1fms", jnum(b, "latency_ms"));
	else
		cell(r, NULL, true, "%s", "");
	/* The saturation forecast, while the load grows towards capacity. */
	if (jget(jget(b, "forecast"), "saturation_eta_s"))
		cell(r, NULL, true, "%.0fs",
		     jnum(jget(b, "forecast"), "saturation_eta_s"));
}

/* A line per VIP and per backend under it, in aligned columns. */
static void top_body(json_object *o, struct frame *f)
{
	json_object *vips = jget(o, "vips"), *v, *bes;
	struct table t = {};
	struct widths w;
	char line[1024];
	size_t i, j;

	if (!jlen(vips)) {
		frame_add(f, "no VIPs");
		return;
	}
	top_titles(&t);
	for (i = 0; i < jlen(vips); i++) {
		v = json_object_array_get_idx(vips, i);
		top_vip_row(&t, v);
		bes = jget(v, "backends");
		for (j = 0; j < jlen(bes); j++)
			top_backend_row(&t, json_object_array_get_idx(bes, j));
	}
	drop_empty_titles(&t);
	table_widths(&t, &w);
	for (i = 0; i < t.n; i++) {
		row_format(&t.rows[i], &w, line, sizeof(line));
		frame_add(f, "%s", line);
	}
	table_free(&t);
}

static void text_top(const struct cmd *c, json_object *o)
{
	bool tty = isatty(STDOUT_FILENO);
	struct winsize ws = {};
	struct frame f = {};

	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws))
		memset(&ws, 0, sizeof(ws));
	top_header(c, o, &f);
	if (!jget(o, "error"))
		top_body(o, &f);
	frame_print(&f, ws.ws_row, ws.ws_col, tty);
	frame_free(&f);
}

static void top_show(struct top *t, json_object *doc)
{
	json_object_put(t->shown);
	t->shown = json_object_get(doc);
	render(t->c, doc);
}

/* Until the next refresh is due: a resize redraws what is shown, q
 * quits. */
static void top_wait(struct top *t, double until)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	double left;
	char k;
	int n;

	while (!stop && (left = until - now_s()) > 0) {
		n = poll(&p, t->keys, (int)ceil(left * 1000));
		/* EOF or an error: the terminal is gone, and so is top. */
		if (n > 0 && (read(STDIN_FILENO, &k, 1) != 1 || k == 'q' ||
			      k == 'Q'))
			stop = 1;
		if (resized && t->tty && t->shown) {
			resized = 0;
			top_show(t, t->shown);
		}
	}
}

/* Signals end top cleanly; on a terminal, keys without echo or Enter. */
static void top_start(struct top *t)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no restart */
	struct termios raw;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	t->tty = !t->c->g.json && isatty(STDOUT_FILENO);
	if (!t->tty)
		return;
	sigaction(SIGWINCH, &sa, NULL);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* Only a terminal we have in the foreground: a background job would
	 * stop at tcsetattr (SIGTTOU). */
	if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() ||
	    tcgetattr(STDIN_FILENO, &t->saved))
		return;
	raw = t->saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);	/* ISIG: Ctrl-C stays */
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	t->keys = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

static void top_end(struct top *t)
{
	if (t->keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	if (t->tty && t->shown)
		putchar('\n');	/* the prompt under the last frame */
	fflush(stdout);
	json_object_put(t->shown);
}

/* A first sample only gives the next its rates: on a terminal it is
 * drawn at once (rates "-"), not counted; elsewhere, not printed. Every
 * other sample, and every error, is a refresh. */
static int do_top(struct cmd *c)
{
	long long n = c->opt[O_COUNT] ? (long long)c->num[O_COUNT] : -1, i = 0;
	struct top t = { .c = c };
	json_object *prev = NULL, *doc;
	double t0 = 0, next;
	bool first;
	int rc = 0;

	top_start(&t);
	while (!stop && (n < 0 || i < n)) {
		next = now_s() + interval_of(c);
		rc = top_sample(&t, &prev, &t0, &doc);
		if (stop) {	/* a signal cut the request short */
			json_object_put(doc);
			break;
		}
		first = !rc && !t.shown && !jget(doc, "rates");
		if (!first || t.tty)
			top_show(&t, doc);
		i += !first;
		json_object_put(doc);
		if (n < 0 || i < n)
			top_wait(&t, next);
	}
	json_object_put(prev);
	top_end(&t);
	return stop ? 0 : rc;	/* interrupted is how top ends */
}

/* ---- decap: the backend's program, no xlbd involved ---- */

static int iface_index(const char *name, int *ifindex)
{
	*ifindex = (int)if_nametoindex(name);
	return *ifindex ? 0 : fail(-ENODEV, "no interface '%s'", name);
}

struct attached {
	__u32 id;
	__u32 flag;		/* XDP_FLAGS_{DRV,SKB,HW}_MODE */
	const char *mode;
	char name[BPF_OBJ_NAME_LEN];
};

/* What XDP program IFACE runs, if any (a->id 0: none). */
static int xdp_attached(const char *ifname, int ifindex, struct attached *a)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, rc;

	memset(a, 0, sizeof(*a));
	rc = bpf_xdp_query(ifindex, 0, &q);
	if (rc)
		return fail(rc, "cannot query XDP on %s: %s", ifname,
			    strerror(-rc));
	if (q.drv_prog_id) {
		a->id = q.drv_prog_id;
		a->flag = XDP_FLAGS_DRV_MODE;
		a->mode = "native";
	} else if (q.skb_prog_id) {
		a->id = q.skb_prog_id;
		a->flag = XDP_FLAGS_SKB_MODE;
		a->mode = "generic";
	} else if (q.hw_prog_id) {
		a->id = q.hw_prog_id;
		a->flag = XDP_FLAGS_HW_MODE;
		a->mode = "offload";
	} else {
		return 0;
	}
	fd = bpf_prog_get_fd_by_id(a->id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(a->name, sizeof(a->name), "?");
	else
		snprintf(a->name, sizeof(a->name), "%s", info.name);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int xdp_error(int rc, const char *what, const char *ifname)
{
	char e[256];

	libxdp_strerror(rc, e, sizeof(e));
	return fail(rc, "cannot %s %s: %s", what, ifname, e);
}

static int decap_attach(const struct cmd *c, struct xdp_program *prog,
			const char *ifname, int ifindex)
{
	const char *mode = c->opt[O_MODE];
	char e[256];
	int rc;

	if (mode && !strcmp(mode, "generic")) {
		rc = xdp_program__attach(prog, ifindex, XDP_MODE_SKB, 0);
		return rc ? xdp_error(rc, "attach generic XDP to", ifname) : 0;
	}
	rc = xdp_program__attach(prog, ifindex, XDP_MODE_NATIVE, 0);
	if (!rc)
		return 0;
	if (mode)
		return xdp_error(rc, "attach native XDP to", ifname);
	libxdp_strerror(rc, e, sizeof(e));
	warn("native XDP not available on %s (%s), using generic", ifname, e);
	rc = xdp_program__attach(prog, ifindex, XDP_MODE_SKB, 0);
	return rc ? xdp_error(rc, "attach generic XDP to", ifname) : 0;
}

/* One address set from its option, or from the host's addresses (of
 * ifname, or of every interface with ifname NULL) when the option is not
 * given. */
static int decap_set(const struct cmd *c, enum opt o, const char *host_if,
		     bool host, struct xlb_prefix_set *set, size_t max)
{
	int rc;

	if (c->opt[o])
		rc = xlb_prefix_list(c->opt[o], set);
	else if (host)
		rc = xlb_host_addrs(host_if, set);
	else
		return 0;
	if (rc)
		return fail(rc, "cannot list the %s: %s", opts[o].what,
			    strerror(-rc));
	if (host && !set->n)
		return fail(-EADDRNOTAVAIL, "no %s: %s has no address; give "
			    "--%s", opts[o].what, host_if ?: "the host",
			    opts[o].name);
	if (set->n > max)
		return fail(-E2BIG, "%zu %s, at most %zu", set->n,
			    opts[o].what, max);
	return 0;
}

/* What the program is told: the options, defaults for the rest. */
static int decap_conf(const struct cmd *c, struct xlb_decap_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->gue_port = c->opt[O_GUE_PORT] ? (__u16)c->num[O_GUE_PORT] :
					      XLB_GUE_PORT_DEFAULT;
	if (c->opt[O_REJECT])
		xlb_decap_parse_reject(c->opt[O_REJECT], &conf->drop);
	return decap_set(c, O_OUTER, c->arg[0], true, &conf->outer,
			 XLB_MAX_DECAP_DST) ?:
	       decap_set(c, O_BALANCERS, NULL, false, &conf->balancers,
			 XLB_MAX_DECAP_SRC) ?:
	       decap_set(c, O_INNER, NULL, true, &conf->inner,
			 XLB_MAX_DECAP_INNER);
}

static int decap_write(int prog_fd, const struct xlb_decap_conf *conf,
		       const char *ifname)
{
	struct xlb_decap_maps m;
	int rc;

	rc = xlb_decap_maps_of(prog_fd, &m);
	if (rc == -ENOENT)
		return fail(rc, "the %s on %s has no address sets (an older "
			    "build); decap detach it first", DECAP_PROG_NAME,
			    ifname);
	if (rc)
		return fail(rc, "cannot open the maps of %s on %s: %s",
			    DECAP_PROG_NAME, ifname, strerror(-rc));
	rc = xlb_decap_write(&m, conf);
	xlb_decap_maps_close(&m);
	if (rc)
		return fail(rc, "cannot write the address sets of %s: %s",
			    DECAP_PROG_NAME, strerror(-rc));
	return 0;
}

/* IFACE already runs our program: give it the new sets in place, so that
 * no packet meets an interface without decap. */
static int decap_update(const struct cmd *c, const struct attached *a,
			const struct xlb_decap_conf *conf)
{
	int fd, rc;

	if (c->opt[O_MODE] && strcmp(c->opt[O_MODE], a->mode))
		return fail(-EEXIST, "%s runs %s in %s mode; decap detach it "
			    "first to change the mode", c->arg[0],
			    DECAP_PROG_NAME, a->mode);
	fd = bpf_prog_get_fd_by_id(a->id);
	if (fd < 0)
		return fail(-errno, "cannot open XDP program %u: %s", a->id,
			    strerror(errno));
	rc = decap_write(fd, conf, c->arg[0]);
	close(fd);
	return rc;
}

static int decap_load_attach(const struct cmd *c, int ifindex,
			     const struct xlb_decap_conf *conf)
{
	const char *ifname = c->arg[0];
	struct xlb_decap_bpf *skel;
	struct xdp_program *prog = NULL;
	int rc, fd;

	skel = xlb_decap_bpf__open_and_load();
	if (!skel)
		return fail(-errno, "cannot load the decap program: %s",
			    strerror(errno));
	/* The sets before the attach: the first packet already meets them. */
	rc = decap_write(bpf_program__fd(skel->progs.xlb_decap), conf, ifname);
	if (rc)
		goto out;
	/* One program, no dispatcher: that needs freplace, which not every
	 * kernel has; a single attached program outlives us without pins,
	 * and so do its maps. */
	setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
	/* libxdp 1.3 owns the fd it is given (newer ones clone it): give it
	 * a copy, so that the skeleton's stays valid either way. */
	fd = dup(bpf_program__fd(skel->progs.xlb_decap));
	if (fd < 0) {
		rc = fail(-errno, "dup: %s", strerror(errno));
		goto out;
	}
	prog = xdp_program__from_fd(fd);
	rc = (int)libxdp_get_error(prog);
	if (rc) {
		prog = NULL;
		close(fd);
		xdp_error(rc, "prepare the decap program for", ifname);
		goto out;
	}
	rc = decap_attach(c, prog, ifname, ifindex);
out:
	xdp_program__close(prog);
	xlb_decap_bpf__destroy(skel);
	return rc;
}

static int do_decap_attach(struct cmd *c)
{
	const char *ifname = c->arg[0];
	struct xlb_decap_conf conf;
	struct attached a;
	int ifindex, rc;

	rc = iface_index(ifname, &ifindex) ?:
	     xdp_attached(ifname, ifindex, &a) ?:
	     decap_conf(c, &conf);
	if (rc)
		goto out;
	if (a.id && strcmp(a.name, DECAP_PROG_NAME))
		rc = fail(-EEXIST, "%s already runs XDP program %s (id %u, "
			  "%s)", ifname, a.name, a.id, a.mode);
	else if (a.id)
		rc = decap_update(c, &a, &conf);
	else
		rc = decap_load_attach(c, ifindex, &conf);
out:
	xlb_decap_conf_free(&conf);
	return rc;
}

static int do_decap_detach(struct cmd *c)
{
	const char *ifname = c->arg[0];
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	struct attached a;
	int ifindex, rc;

	rc = iface_index(ifname, &ifindex) ?:
	     xdp_attached(ifname, ifindex, &a);
	if (rc)
		return rc;
	if (!a.id)
		return fail(-ENOENT, "no XDP program on %s", ifname);
	if (strcmp(a.name, DECAP_PROG_NAME))
		return fail(-EPERM, "%s runs XDP program %s, not %s", ifname,
			    a.name, DECAP_PROG_NAME);
	/* Detach only that program, should another have replaced it. */
	o.old_prog_fd = bpf_prog_get_fd_by_id(a.id);
	if (o.old_prog_fd < 0)
		return fail(-errno, "cannot open XDP program %u: %s", a.id,
			    strerror(errno));
	rc = bpf_xdp_detach(ifindex, a.flag, &o);
	close(o.old_prog_fd);
	if (rc)
		return fail(rc, "cannot detach %s from %s: %s",
			    DECAP_PROG_NAME, ifname, strerror(-rc));
	return 0;
}

/* The decap program on IFACE, its maps found through it. */
static int decap_open(const char *ifname, struct attached *a,
		      struct xlb_decap_maps *m)
{
	int ifindex, fd, rc;

	rc = iface_index(ifname, &ifindex) ?:
	     xdp_attached(ifname, ifindex, a);
	if (rc)
		return rc;
	if (!a->id)
		return fail(-ENOENT, "no XDP program on %s", ifname);
	if (strcmp(a->name, DECAP_PROG_NAME))
		return fail(-EPERM, "%s runs XDP program %s, not %s", ifname,
			    a->name, DECAP_PROG_NAME);
	fd = bpf_prog_get_fd_by_id(a->id);
	if (fd < 0)
		return fail(-errno, "cannot open XDP program %u: %s", a->id,
			    strerror(errno));
	rc = xlb_decap_maps_of(fd, m);
	close(fd);
	if (rc)
		return fail(rc, "cannot find the maps of %s on %s%s", a->name,
			    ifname, rc == -ENOENT ? " (an older build?)" : "");
	return 0;
}

static int do_decap_stats(struct cmd *c)
{
	struct xlb_decap_maps m;
	json_object *o;
	struct attached a;
	int rc;

	rc = decap_open(c->arg[0], &a, &m);
	if (rc)
		return rc;
	rc = xlb_decap_view(&m, &o);
	xlb_decap_maps_close(&m);
	if (rc)
		return fail(rc, "cannot read %s on %s: %s", DECAP_PROG_NAME,
			    c->arg[0], strerror(-rc));
	json_object_object_add(o, "interface", json_object_new_string(
				       c->arg[0]));
	json_object_object_add(o, "program_id", json_object_new_int64(a.id));
	json_object_object_add(o, "xdp_mode", json_object_new_string(a.mode));
	render(c, o);
	json_object_put(o);
	return 0;
}

static void text_decap_set(const char *label, json_object *arr)
{
	size_t i, n = arr ? json_object_array_length(arr) : 0;

	printf("%-20s", label);
	if (!arr)
		printf(" any");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : " ",
		       json_object_get_string(json_object_array_get_idx(arr,
									  i)));
	putchar('\n');
}

static void text_decap_stats(const struct cmd *c, json_object *o)
{
	json_object *cnt = jget(o, "counters");
	int i;

	(void)c;
	printf("%s: %s (id %lld, %s), GUE port %lld, rejected tunnels: %s\n",
	       jstr(o, "interface", "?"), DECAP_PROG_NAME,
	       jint(o, "program_id"), jstr(o, "xdp_mode", "?"),
	       jint(o, "gue_port"), jstr(o, "reject", "?"));
	text_decap_set("outer destinations", jget(o, "outer"));
	text_decap_set("balancers", jget(o, "balancers"));
	text_decap_set("inner destinations", jget(o, "inner"));
	for (i = 0; i < XLB_DC_MAX; i++)
		printf("%-20s %lld\n", xlb_decap_counter_names[i],
		       jint(cnt, xlb_decap_counter_names[i]));
}

/* ---- main ---- */

static int print_all(enum libbpf_print_level level, const char *fmt,
		     va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static int print_all_xdp(enum libxdp_print_level level, const char *fmt,
			 va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static void setup_logging(void)
{
	bool debug = getenv("XLB_DEBUG") != NULL;

	libbpf_set_print(debug ? print_all : NULL);
	libxdp_set_print(debug ? print_all_xdp : NULL);
}

static int finish(int rc)
{
	if (pinned_open)
		xlb_maps_close(&pinned_maps);
	if (rc >= 0)
		return 0;
	fprintf(stderr, "xlbctl: %s\n", err_msg[0] ? err_msg : strerror(-rc));
	return err_usage ? 2 : 1;
}

int main(int argc, char **argv)
{
	struct cmd c = {};
	int rc;

	setup_logging();
	/* 0.2, not 0.20000000000000001, in requests and in -j output */
	json_c_set_serialization_double_format("%.10g", JSON_C_OPTION_GLOBAL);
	rc = parse_cmdline(argc, argv, &c);
	if (!rc)
		rc = c.v->run(&c);
	return finish(rc);
}

/* ---- capture ---- */

struct capture_out {
	pcap_dumper_t *dump;
	__u64 packets, frames, max;
	__s64 wall_off_ns;		/* CLOCK_REALTIME - CLOCK_MONOTONIC */
};

static __s64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void dump_frame(struct capture_out *o, __u64 ts, const __u8 *data,
		       __u16 cap, __u32 len)
{
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = (time_t)(ts / 1000000000ULL),
			.tv_usec = (suseconds_t)(ts % 1000000000ULL / 1000) },
		.caplen = cap, .len = len,
	};

	pcap_dump((u_char *)o->dump, &h, data);
	o->frames++;
}

/* A record: the frame as it came in, then as it went out (if sent). */
static int capture_rec(const struct xlb_cap_rec *r, void *ctx)
{
	struct capture_out *o = ctx;
	__u64 ts = (__u64)((__s64)r->ts_ns + o->wall_off_ns);

	if (o->packets >= o->max)
		return 1;
	o->packets++;
	if (r->in_cap)
		dump_frame(o, ts, r->in, r->in_cap, r->in_len);
	if (r->out_cap)
		dump_frame(o, ts, r->out, r->out_cap, r->out_len);
	return 0;
}

/* The balancer's pins: --pinned DIR, or where xlbd says they are. */
static int capture_pins(const struct cmd *c, char *dir, size_t len)
{
	json_object *o = NULL;
	int rc;

	if (c->g.pinned) {
		snprintf(dir, len, "%s", c->g.pinned);
		return 0;
	}
	rc = ask(c, "stats", &o);
	if (!rc && !*jstr(o, "pin_dir", ""))
		rc = fail(-ENOENT, "xlbd did not say where its maps are "
			  "pinned (--pinned DIR)");
	if (!rc)
		snprintf(dir, len, "%s", jstr(o, "pin_dir", ""));
	json_object_put(o);
	return rc;
}

static int capture_opts(const struct cmd *c, struct xlb_capture_opts *o,
			struct xlb_vip_key *vip, union xlb_addr *be)
{
	if (c->opt[O_CAP_VIP]) {
		xlb_parse_vip(c->opt[O_CAP_VIP], vip);	/* checked */
		o->vip = vip;
	}
	if (c->opt[O_CAP_BACKEND]) {
		xlb_parse_addr(c->opt[O_CAP_BACKEND], be, &o->backend_family);
		o->backend = be;
	}
	o->sample = c->opt[O_CAP_SAMPLE] ? (__u32)c->num[O_CAP_SAMPLE] : 1;
	o->seconds = c->opt[O_CAP_SECONDS] ?
		     (unsigned int)c->num[O_CAP_SECONDS] : 10;
	if (!c->opt[O_CAP_WRITE])
		return usage_fail("capture needs -w FILE");
	return 0;
}

static int capture_run(struct xlb_capture *cap, struct capture_out *out,
		       double deadline)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* capture_rec stops a poll once it has enough: the count decides. */
	while (!stop && out->packets < out->max && now_s() < deadline) {
		rc = xlb_capture_poll(cap, 100);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int do_capture(struct cmd *c)
{
	struct capture_out out = { .max = 100 };
	struct xlb_capture_opts o = {};
	struct xlb_capture *cap;
	struct xlb_vip_key vip;
	union xlb_addr be;
	char dir[512];
	bool replaced;
	__u64 lost;
	pcap_t *p;
	int rc, rc2;

	rc = capture_pins(c, dir, sizeof(dir));
	if (rc)
		return rc;
	if (c->opt[O_CAP_STOP]) {
		rc = xlb_capture_restore(dir);
		if (rc == -ENOENT)
			return fail(rc, "no capture to undo in %s", dir);
		if (rc)
			return fail(rc, "undoing the capture: %s", strerror(-rc));
		printf("capture undone: the balancer runs alone again\n");
		return 0;
	}
	o.pin_dir = dir;
	rc = capture_opts(c, &o, &vip, &be);
	if (rc)
		return rc;
	if (c->opt[O_CAP_COUNT])
		out.max = (__u64)c->num[O_CAP_COUNT];
	p = pcap_open_dead(DLT_EN10MB, XLB_CAP_SNAP);
	out.dump = p ? pcap_dump_open(p, c->opt[O_CAP_WRITE]) : NULL;
	if (!out.dump) {
		rc = fail(-EIO, "cannot write %s: %s", c->opt[O_CAP_WRITE],
			  p ? pcap_geterr(p) : "out of memory");
		if (p)
			pcap_close(p);
		return rc;
	}
	out.wall_off_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	rc = xlb_capture_start(&o, capture_rec, &out, &cap);
	if (rc == -EBUSY)
		rc = fail(rc, "a capture runs in %s, or one was killed "
			  "(xlbctl capture --stop undoes it)", dir);
	else if (rc == -ENOENT)
		rc = fail(rc, "no such VIP or backend in the data plane, or "
			  "no balancer pinned in %s", dir);
	else if (rc)
		rc = fail(rc, "cannot start the capture: %s", strerror(-rc));
	if (!rc) {
		rc = capture_run(cap, &out, now_s() + o.seconds);
		lost = xlb_capture_lost(cap);
		rc2 = xlb_capture_stop(cap, &replaced);
		printf("%llu packets (%llu frames) in %s, %llu lost%s\n",
		       (unsigned long long)out.packets,
		       (unsigned long long)out.frames, c->opt[O_CAP_WRITE],
		       (unsigned long long)lost, replaced ?
		       "; the balancer was replaced meanwhile (xlbd "
		       "restarted): left as it is" : "");
		if (rc2 && !rc)
			rc = fail(rc2, "swapping the balancer back: %s",
				  strerror(-rc2));
	}
	pcap_dump_close(out.dump);
	pcap_close(p);
	return rc;
}
