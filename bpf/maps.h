/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Every map of the balancer, defined once. Names come from xlb/maps.h so that
 * user space derives pin paths from the same macros. */
#ifndef XLB_BPF_MAPS_H
#define XLB_BPF_MAPS_H

#include "common.h"
#include "counters.h"

/* Node settings: one entry, written by the control plane. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_config);
} XLB_MAP_CONFIG SEC(".maps");

/* VIPs by (address, port, protocol). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip);
} XLB_MAP_VIPS SEC(".maps");

/* Backend slots, shared by all VIPs; a slot belongs to one VIP. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
} XLB_MAP_BACKENDS SEC(".maps");

/* One Maglev ring per VIP (inner array of backend slots). User space builds a
 * new ring and swaps it in with one update: packets see the old ring or the
 * new one, never a half-written one. The ring size is set at load time. */
struct xlb_ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_RING_DEFAULT);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct xlb_ring);
} XLB_MAP_MAGLEV SEC(".maps");

/* Each VIP's ring as it was before its last change, for XLB_RING_PREV_S
 * (user space drops it then): a TCP packet that is no SYN and finds no
 * entry belongs to a flow older than the change (ECMP moved it here from
 * a peer, or the table lost it), and the old ring names the backend it
 * had. flowtab.h, prev_pick. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct xlb_ring);
} XLB_MAP_RING_PREV SEC(".maps");

/* Each VIP's position in its ring, per CPU, for the algorithms that read
 * the ring in turn (rr, wrr: xlb_algo_in_turn). Per CPU: no shared cache
 * line on the packet path; each CPU walks the whole smooth sequence, so
 * the shares stay within a bound (README, "Algorithms"). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, __u32);
} XLB_MAP_TURN SEC(".maps");

/* Active connections per backend slot, as the data plane sees them: +1
 * when a flow is confirmed, -1 at the client's FIN, at an RST or when an
 * entry is found expired. Shared by all CPUs (atomic adds). What it
 * cannot see (LRU evictions, a slot reused) drifts; xlbd writes the
 * counts of its flow-table sweep back (user/xlbd/active.c). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __s64);
} XLB_MAP_CONNS SEC(".maps");

static __always_inline_ void conns_add(__u32 slot, __s64 n)
{
	__s64 *c = bpf_map_lookup_elem(&XLB_MAP_CONNS, &slot);

	if (c)
		__sync_fetch_and_add(c, n);
}

static __always_inline_ __s64 conns_of(__u32 slot)
{
	__s64 *c = bpf_map_lookup_elem(&XLB_MAP_CONNS, &slot);

	return c ? *c : 0;
}

/* The flow table: confirmed flows only (see flowtab.h). One value per
 * flow, seen by every CPU: a flow's packets may arrive on different CPUs
 * (RSS changes, veth), and a per-CPU value would make a CPU that never saw
 * the flow pick again - a different backend when the ring changed in
 * between. Per-CPU LRU lists (no common LRU): inserts take no shared lock,
 * and each CPU evicts from its own share, max_entries / CPUs. Size set at
 * load time. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, XLB_FLOWS_DEFAULT);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_flow);
} XLB_MAP_FLOWS SEC(".maps");

/* Unconfirmed flows: one packet seen. Floods churn this table, never the
 * flow table. Size set at load time. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, XLB_FLOWS_NEW_DEFAULT);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_flow);
} XLB_MAP_FLOWS_NEW SEC(".maps");

/* Confirmation budget: per CPU, the current second and confirmations made
 * in it (flowtab.h, confirm_rate). */
struct xlb_confirm_rl {
	__u64 second;
	__u32 used;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_confirm_rl);
} XLB_MAP_CONFIRM_RL SEC(".maps");

/* Bits of the VIP addresses (xlb_vip_filter_bit): packets to any other
 * address pass after one array load, before any hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_vip_filter);
} XLB_MAP_VIP_FILTER SEC(".maps");

/* Traffic is counted once per packet, per backend slot (xlb_be_stats). A
 * VIP's traffic is the sum of its live slots plus xlb_vip_stats, where user
 * space folds in the counts of each backend that leaves the VIP: one map
 * update per packet instead of two. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_traffic);
} XLB_MAP_VIP_STATS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_traffic);
} XLB_MAP_BE_STATS SEC(".maps");

/* Too-big reply budget: per CPU, the current second and replies sent in it. */
struct xlb_icmp_rl {
	__u64 second;
	__u32 sent;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_icmp_rl);
} XLB_MAP_ICMP_RL SEC(".maps");

/* Fragments: what identifies a datagram's fragments (RFC 791, RFC 8200;
 * proto is the protocol the IPv4 header or the IPv6 fragment header names),
 * and what its first fragment carried (bpf/frag.h). */
struct xlb_frag_key {
	union xlb_addr src;
	union xlb_addr dst;
	__be32 id;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct xlb_frag {
	__be16 sport;
	__be16 dport;
	__u8 proto;		/* upper-layer protocol */
	__u8 pad[3];
};

/* Per-CPU LRU lists, as the flow tables: the fragments of one datagram
 * normally come in on one CPU (RSS hashes fragments on addresses). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, XLB_FRAGS_DEFAULT);
	__type(key, struct xlb_frag_key);
	__type(value, struct xlb_frag);
} XLB_MAP_FRAGS SEC(".maps");

static __always_inline_ void count_traffic(void *map, __u32 id, __u64 bytes,
					   int new_flow)
{
	struct xlb_traffic *t = bpf_map_lookup_elem(map, &id);

	if (!t)
		return;
	t->packets++;
	t->bytes += bytes;
	t->new_flows += new_flow;
}

static __always_inline_ struct xlb_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&XLB_MAP_CONFIG, &zero);
}

#endif
