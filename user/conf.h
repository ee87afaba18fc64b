/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* xlb.conf: the node's configuration, as parsed from YAML (libyaml) and as
 * written back by xlbd to its state file. One model serves the parser, the
 * daemon (which diffs two of them on SIGHUP) and the control socket. See
 * xlb.conf(5) for the file format. */
#ifndef XLB_CONF_H
#define XLB_CONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "xlb/flow.h"
#include "xlb/service.h"

#define CONF_PATH_MAX	256
#define CONF_STR_MAX	128
#define CONF_ERR_MAX	512

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

struct conf_backend {
	union xlb_addr addr;
	__u8 family;			/* XLB_AF_INET / XLB_AF_INET6 */
	bool has_mac;
	__u8 mac[6];
	__u32 weight;			/* 0..65535, default 100 */
	bool drained;			/* no new flows, existing ones stay */
	bool has_check;			/* check overrides the VIP's */
	struct conf_check check;
	int line;			/* where it was defined, 0 if not */
};

struct conf_vip {
	struct xlb_vip_key key;
	__u8 mode;			/* enum xlb_mode, default IPIP */
	__u8 algo;			/* enum xlb_algo, default Maglev */
	struct conf_check check;	/* default: none */
	__u8 all_down;			/* enum conf_all_down */
	__u8 adaptive;			/* enum conf_adaptive */
	struct conf_backend *be;
	size_t nbe;
	int line;
};

struct conf_node {
	char ifname[IF_NAMESIZE];
	enum conf_xdp_mode xdp_mode;
	bool has_src4, has_src6;	/* default: the interface's address */
	__be32 src4;
	__be32 src6[4];
	bool has_gw;
	__u8 gw_mac[6];
	__u32 flow_entries;		/* default XLB_FLOWS_DEFAULT */
	__u32 ring_size;		/* default XLB_RING_DEFAULT, prime */
	__u16 mtu;			/* default 1500 */
	bool icmp_too_big;		/* default true */
	__u32 icmp_rate;		/* default 100 */
	__u16 gue_port;			/* default 6080 (host order) */
	char metrics[CONF_STR_MAX];	/* "ADDR:PORT", "" = off */
	char ctl_sock[108];		/* default /run/xlb/xlbd.sock */
	char ctl_group[CONF_STR_MAX];	/* "" = root only (mode 0600) */
	char pin_root[CONF_PATH_MAX];	/* default /sys/fs/bpf */
	char state_file[CONF_PATH_MAX];	/* default /var/lib/xlb/<if>.yaml */
};

struct xlb_conf {
	struct conf_node node;
	struct conf_vip *vips;
	size_t nvips;
};

/* Defaults everywhere, no VIPs. */
void conf_init(struct xlb_conf *c);
void conf_free(struct xlb_conf *c);
/* Deep copy; returns 0 or -ENOMEM. */
int conf_copy(struct xlb_conf *dst, const struct xlb_conf *src);

/* Parse a file or a string. On error returns -EINVAL (or -errno for I/O)
 * and writes "NAME:LINE: reason" to err; *out is left initialised. */
int conf_load(const char *path, struct xlb_conf *out, char *err, size_t len);
int conf_parse_string(const char *text, const char *name,
		      struct xlb_conf *out, char *err, size_t len);

/* Write the configuration as xlb.conf YAML that conf_load reads back to an
 * equal configuration. conf_save is atomic: a temporary file in the same
 * directory, fsync, rename. */
int conf_write(const struct xlb_conf *c, FILE *f);
int conf_save(const struct xlb_conf *c, const char *path);

/* Lookups and edits used by the daemon; 0 or -errno (-EEXIST, -ENOENT,
 * -ENOMEM, -EINVAL). Adding copies the argument (a VIP's backends too). */
struct conf_vip *conf_vip_find(const struct xlb_conf *c,
			       const struct xlb_vip_key *k);
struct conf_backend *conf_backend_find(const struct conf_vip *v,
				       const union xlb_addr *a, __u8 family);
int conf_vip_add(struct xlb_conf *c, const struct conf_vip *v);
int conf_vip_del(struct xlb_conf *c, const struct xlb_vip_key *k);
int conf_backend_add(struct conf_vip *v, const struct conf_backend *b);
int conf_backend_del(struct conf_vip *v, const union xlb_addr *a, __u8 family);

/* Same VIP settings (mode, algo, check) and same backends with the same
 * weights, drain state, MACs and checks, in any order. */
bool conf_vip_equal(const struct conf_vip *a, const struct conf_vip *b);

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

#endif
