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
#include "settings.h"

#define CONF_PATH_MAX	256
#define CONF_ERR_MAX	512
/* The peer protocol (peer.h): at most this many peers; a heartbeat every
 * interval (ms); a peer silent for `dead` intervals is down. */
#define CONF_PEERS_MAX		16
#define CONF_PEERS_TEXT		(CONF_PEERS_MAX * 47)	/* addresses + ' ' */
#define CONF_PEER_INTERVAL_DEF	200
#define CONF_PEER_INTERVAL_MIN	20
#define CONF_PEER_INTERVAL_MAX	10000
#define CONF_PEER_DEAD_DEF	3
#define CONF_PEER_DEAD_MIN	2
#define CONF_PEER_DEAD_MAX	100

struct conf_backend {
	union xlb_addr addr;
	__u8 family;			/* XLB_AF_INET / XLB_AF_INET6 */
	bool has_mac;
	__u8 mac[6];
	__u32 weight;			/* 0..65535, default 100 */
	__u32 capacity;			/* active connections; 0: learn
					 * (predict.h) */
	bool drained;			/* no new flows, existing ones stay */
	bool maint;			/* maintenance: drained, and its
					 * checks paused (backend maint) */
	bool has_check;			/* check overrides the VIP's */
	struct conf_check check;
	int line;			/* where it was defined, 0 if not */
	/* Runtime, not configuration, owned by the state model (state.h):
	 * the health verdict and the adaptive weight factor in use. Copied
	 * with the backend; never written to xlb.conf, never compared. */
	__u8 health;			/* enum health_state */
	__u64 ramp_since_ms;		/* slow start: CLOCK_MONOTONIC ms it
					 * came back; 0: not ramping */
	__u8 ramp_pct;			/* its ramp now, 5..100 in 5 % steps;
					 * 0: none (state_ramp) */
	__u32 born;			/* which life of the backend: set
					 * anew when it is added (or back
					 * from maint), so the checker can
					 * tell a new one under an old name */
	float factor;			/* 0.1..1; 0 reads as 1 */
	/* With peers (agree.h): what the group agreed, which rules over the
	 * local verdict and factor above. agreed 0: no agreement (a node
	 * alone), the local facts rule. */
	__u8 agreed;			/* 0, HEALTH_UP or HEALTH_DOWN */
	bool agreed_drained;
	__u8 agreed_pct;		/* agreed factor, 1..100 */
};

struct conf_vip {
	struct xlb_vip_key key;
	__u8 mode;			/* enum xlb_mode, default IPIP */
	__u8 algo;			/* enum xlb_algo, default Maglev */
	struct conf_check check;	/* default: none */
	__u8 all_down;			/* enum conf_all_down */
	__u8 adaptive;			/* enum conf_adaptive */
	__u8 flow_table;		/* enum conf_flow_table */
	__u32 udp_idle;			/* seconds, default XLB_IDLE_UDP_S */
	__u8 start_down;		/* enum conf_onoff: a new backend
					 * starts down, not unknown */
	__u32 panic_pct;		/* panic below this % up; 0: off */
	__u32 slow_start_ms;		/* ramp after a return; 0: off */
	/* Runtime, not configuration (never written, never compared): the
	 * panic state the main loop last saw, and how often it began. */
	bool panic;
	__u32 panics;
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
	__u32 unconfirmed_entries;	/* default XLB_FLOWS_NEW_DEFAULT */
	__u32 confirm_rate;		/* per CPU per second; 0: no limit */
	__u32 ring_size;		/* default XLB_RING_DEFAULT, prime */
	__u16 mtu;			/* default 1500 */
	bool icmp_too_big;		/* default true */
	__u32 icmp_rate;		/* default 100 */
	__u16 gue_port;			/* default 6080 (host order) */
	/* Not set: CONF_METRICS_DEFAULT, served where it can be (a second
	 * xlbd on the host finds it taken); set, "" is off and an address
	 * that cannot be served stops xlbd. */
	bool has_metrics;
	char metrics[CONF_STR_MAX];	/* "ADDR:PORT", "" = off */
	char ctl_sock[108];		/* default /run/xlb/xlbd.sock */
	char ctl_group[CONF_STR_MAX];	/* "" = root only (mode 0600) */
	char pin_root[CONF_PATH_MAX];	/* default /sys/fs/bpf */
	char state_file[CONF_PATH_MAX];	/* default /var/lib/xlb/<if>.yaml */
	char peer_key[CONF_PATH_MAX];	/* "" = no peer protocol */
	char peers[CONF_PEERS_TEXT];	/* canonical addresses, ' ' apart */
	__u32 peer_interval_ms;
	__u32 peer_dead;
	char bird_sock[108];		/* BIRD's control socket, "" = none */
	char bird_include[CONF_PATH_MAX]; /* routes for BIRD, "" = none */
};

/* The metrics address when none is given: this host only. */
#define CONF_METRICS_DEFAULT	"127.0.0.1:9100"

/* Set node.metrics from its text: ADDR:PORT or [ADDR]:PORT, "" or "off"
 * for none; -EINVAL when it is neither. */
int conf_metrics_set(struct conf_node *n, const char *s);

/* Add one peer address (any text form) to n->peers, in canonical form:
 * 0, or -EINVAL / -E2BIG / -EEXIST with a one-line reason in err. */
int conf_peer_add(struct conf_node *n, const char *addr, char *err,
		  size_t len);

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

#endif
