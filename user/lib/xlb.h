/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* libxlb: load the balancer and configure it - node settings, VIPs,
 * backends, Maglev rings - and read its counters. Functions return 0 or
 * -errno and never print; callers report. */
#ifndef XLB_LIB_H
#define XLB_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include "xlb/config.h"
#include "xlb/counters.h"
#include "xlb/flow.h"
#include "xlb/maps.h"
#include "xlb/service.h"

struct xlb;

struct xlb_opts {
	__u32 flow_entries;	/* 0: XLB_FLOWS_DEFAULT */
	__u32 unconfirmed_entries; /* 0: XLB_FLOWS_NEW_DEFAULT */
	__u32 confirm_rate;	/* flows confirmed per second per CPU at
				 * most (flood guard); 0: no limit */
	__u32 ring_size;	/* 0: XLB_RING_DEFAULT; must be prime */
	const char *pin_dir;	/* maps pinned here; ones already pinned
				 * are adopted with their contents */
	__u32 ring_prev_min_ms;	/* a ring replaced younger than this does
				 * not become the previous ring (bpf/maps.h):
				 * one being built up (a VIP's backends
				 * added one by one) carried no flows. 0:
				 * every replaced ring does */
};

enum xlb_attach_mode {
	XLB_ATTACH_AUTO = 0,	/* native, else generic */
	XLB_ATTACH_NATIVE,
	XLB_ATTACH_GENERIC,
};

struct xlb_backend_spec {
	union xlb_addr addr;
	__u8 family;
	bool has_mac;
	__u8 mac[6];
	__u32 weight;		/* 0..MAGLEV_MAX_WEIGHT; 0 = drained */
	bool down;		/* failed health checks: out of the ring and
				 * its established flows move */
};

int xlb_open(struct xlb **out, const struct xlb_opts *opts);
void xlb_close(struct xlb *x);
/* Whether xlb_open found pinned maps and rebuilt VIPs and backends from
 * them (a restarted daemon). */
bool xlb_adopted(const struct xlb *x);

/* Attach to ifindex through a bpf_link pinned as <pin_dir>/link; when that
 * pin exists (a restart), swap the program in it atomically instead, so no
 * packet goes unhandled. *generic tells whether generic XDP was used. */
int xlb_attach(struct xlb *x, int ifindex, enum xlb_attach_mode mode,
	       bool *generic);
/* Detach and remove every pin of this balancer. */
int xlb_detach(struct xlb *x);

/* The configured VIPs and backends, as the library knows them. */
size_t xlb_vip_count(const struct xlb *x);
int xlb_vip_at(const struct xlb *x, size_t i, struct xlb_vip_key *k,
	       struct xlb_vip *v);
/* Up to max backends of a VIP into out; returns how many it has. */
int xlb_vip_backends(const struct xlb *x, const struct xlb_vip_key *k,
		     struct xlb_backend_spec *out, size_t max);
/* The same, with their slots (xlb_backends, xlb_be_stats): one pass for a
 * whole VIP where xlb_backend_slot would search per backend. */
struct xlb_slot_of {
	union xlb_addr addr;
	__u8 family;
	__u32 slot;
};
int xlb_vip_slots(const struct xlb *x, const struct xlb_vip_key *k,
		  struct xlb_slot_of *out, size_t max);
int xlb_prog_fd(const struct xlb *x);
/* 1 when our balancer is the XDP program on ifindex now (nobody detached
 * or replaced it), 0 when not, -errno when that cannot be told. */
int xlb_attached(const struct xlb *x, int ifindex);
struct bpf_object *xlb_object(const struct xlb *x);

int xlb_set_config(struct xlb *x, const struct xlb_config *cfg);
/* A config with the defaults: MTU 1500, ICMP too-big on, GUE port 6080. */
void xlb_config_defaults(struct xlb_config *cfg);

/* Per-VIP flow settings (see bpf/flowtab.h). */
struct xlb_vip_opts {
	bool no_flowtable;	/* flow-table: off - hash every packet */
	__u32 udp_idle_s;	/* idle bound of non-TCP flows, seconds,
				 * XLB_IDLE_UDP_MIN_S..XLB_IDLE_UDP_MAX_S;
				 * 0: XLB_IDLE_UDP_S */
};

int xlb_vip_add(struct xlb *x, const struct xlb_vip_key *k, __u8 mode,
		__u8 algo);
/* xlb_vip_add with flow settings (opts NULL: the defaults). -ERANGE: an
 * idle bound out of range; -EINVAL: flow table off with an algorithm that
 * is not deterministic (xlb_algo_deterministic). */
int xlb_vip_add_opts(struct xlb *x, const struct xlb_vip_key *k, __u8 mode,
		     __u8 algo, const struct xlb_vip_opts *opts);
/* Change a VIP's flow settings; turning the flow table off drops the VIP's
 * entries. */
int xlb_vip_set_opts(struct xlb *x, const struct xlb_vip_key *k,
		     const struct xlb_vip_opts *opts);
/* Change a VIP's encapsulation or algorithm in place: its backends, their
 * slots and its flows stay (a new algorithm builds a new ring and drops
 * the previous one). -EINVAL for an algorithm its flow settings refuse. */
int xlb_vip_reshape(struct xlb *x, const struct xlb_vip_key *k, __u8 mode,
		    __u8 algo);
/* A VIP's settings as they act (0 idle shown as the default). */
void xlb_vip_opts_get(const struct xlb_vip *v, struct xlb_vip_opts *o);
int xlb_vip_del(struct xlb *x, const struct xlb_vip_key *k);
/* Drop the previous rings (bpf/maps.h, XLB_MAP_RING_PREV) replaced at
 * least max_age_s ago; returns how many. */
int xlb_ring_prev_expire(struct xlb *x, unsigned int max_age_s);
/* The VIP's previous ring as flow sync judges with it: kept in user space
 * up to twice max_age_s (+5 s) after the change, since a peer may use its
 * own a little longer than we do. An fd (not to close), or -1. */
int xlb_ring_prev_sync_fd(const struct xlb *x, __u32 vip_id);
int xlb_vip_id(const struct xlb *x, const struct xlb_vip_key *k, __u32 *id);

int xlb_backend_add(struct xlb *x, const struct xlb_vip_key *k,
		    const struct xlb_backend_spec *be);
/* Add n backends and build the ring once (a large VIP at start). */
int xlb_backends_add(struct xlb *x, const struct xlb_vip_key *k,
		     const struct xlb_backend_spec *spec, size_t n);
int xlb_backend_del(struct xlb *x, const struct xlb_vip_key *k,
		    const union xlb_addr *addr, __u8 family);
int xlb_backend_set_weight(struct xlb *x, const struct xlb_vip_key *k,
			   const union xlb_addr *addr, __u8 family,
			   __u32 weight);
/* Set weight and health of n backends of a VIP (matched by address) and
 * rebuild its ring once. */
int xlb_vip_update(struct xlb *x, const struct xlb_vip_key *k,
		   const struct xlb_backend_spec *upd, size_t n);
/* Slot of a backend in xlb_backends / xlb_be_stats. */
int xlb_backend_slot(const struct xlb *x, const struct xlb_vip_key *k,
		     const union xlb_addr *addr, __u8 family, __u32 *slot);

/* A VIP's Maglev ring as installed: size (= xlb_ring_size) slot values,
 * XLB_RING_NONE where no backend has weight. xlb_ring_gen() moves at every
 * ring installed, of any VIP: a reader's cache of rings is stale when it
 * moved. */
int xlb_vip_ring(const struct xlb *x, const struct xlb_vip_key *k,
		 __u32 *ring, __u32 size);
__u32 xlb_ring_size(const struct xlb *x);
__u64 xlb_ring_gen(const struct xlb *x);

/* Counters summed over CPUs. */
int xlb_counters_read(const struct xlb *x, __u64 out[XLB_C_MAX]);
int xlb_traffic_read(const struct xlb *x, bool backend, __u32 id,
		     struct xlb_traffic *out);
/* Empty both flow tables (confirmed and unconfirmed). */
int xlb_flows_clear(struct xlb *x);

/* The data plane's active connections per backend slot (XLB_MAP_CONNS,
 * what p2c compares) set to count[XLB_MAX_BACKENDS]: a flow-table sweep
 * corrects what the data plane could not see (evictions). */
int xlb_conns_write(struct xlb *x, const __u32 *count);

/* The kernel's HZ (what flow ages in jiffies are counted in), from
 * /proc/config.gz. */
int xlb_kernel_hz(unsigned int *hz);

/* Sum a per-CPU array entry of u64 words (helper shared with tools). */
int xlb_percpu_sum(int map_fd, __u32 key, __u64 *out, size_t words);

#endif
