/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Addresses and flows: the 5-tuple key of the flow tables, what a flow maps
 * to, and the one definition of a flow's state, idle and expiry that the
 * data plane and user space (flows view, drain, metrics) share. The design
 * of the tables is in bpf/flowtab.h. Fixed-width types only. */
#ifndef XLB_FLOW_H
#define XLB_FLOW_H

#include <linux/types.h>

/* Address families as stored in keys (not AF_*, which BPF code lacks). */
enum xlb_family {
	XLB_AF_INET = 4,
	XLB_AF_INET6 = 6,
};

/* One address of either family. IPv4 lives in v4 (the first word), the other
 * three words are zero, so that a key compares equal byte for byte. */
union xlb_addr {
	__be32 v4;
	__be32 v6[4];
	__u8 bytes[16];
};

/* The flow table key: client to VIP, as seen on the wire. */
struct xlb_flow_key {
	union xlb_addr src;
	union xlb_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

/* Where a flow stands. An entry of the unconfirmed table is always
 * XLB_FLOW_UNCONFIRMED; a confirmed entry is ESTABLISHED or, after a client
 * FIN, FIN. A client RST deletes the entry (there is no RST state). */
enum xlb_flow_state {
	XLB_FLOW_UNCONFIRMED = 0,	/* one packet seen (SYN, or the first
					 * datagram, or a SYN-less segment) */
	XLB_FLOW_ESTABLISHED = 1,	/* confirmed by a second packet */
	XLB_FLOW_FIN = 2,		/* client sent FIN: half-closed */
	XLB_FLOW_STATE_MAX,
};

/* Idle bounds, in seconds. A flow is idle for the time since its last
 * packet; an entry idle longer than its bound is expired: the data plane
 * treats it as absent (and deletes it), user space counts it as gone. The
 * bound is stored in each entry (idle_s) when it is created or changes
 * state, so the packet path never looks it up elsewhere. */
#define XLB_IDLE_UNCONFIRMED_S	10	/* SYN to first ACK, first datagram to
					 * second: covers SYN retransmissions
					 * at 1 and 3 s */
#define XLB_IDLE_TCP_S		3600	/* established TCP */
#define XLB_IDLE_TCP_FIN_S	30	/* after a client FIN; every packet
					 * (the client's ACKs of a download
					 * under DSR) restarts it */
#define XLB_IDLE_UDP_S		120	/* UDP (and other non-TCP), per-VIP
					 * default */
#define XLB_IDLE_UDP_MIN_S	1	/* per-VIP udp_idle_s range */
#define XLB_IDLE_UDP_MAX_S	65535
/* A SYN on a confirmed entry idle longer than this is a new connection
 * reusing the tuple (NAT pools, port reuse): it picks a backend anew. */
#define XLB_SYN_REUSE_IDLE_S	5

/* The flow table value (layout 2: xlb_flows_v2). backend is the slot,
 * gen that slot's generation when the flow took it, so a removed and reused
 * slot is not mistaken for the flow's backend. last_seen is the kernel's
 * jiffies (bpf_jiffies64(): one inlined load; a clock helper call per
 * packet costs ~25 ns); user space turns it into an age with HZ. */
struct xlb_flow {
	__u32 backend;
	__u32 gen;
	__u64 last_seen;
	__u16 idle_s;		/* expires when idle longer (seconds) */
	__u8 state;		/* enum xlb_flow_state */
	__u8 pad;
	__u32 hash;		/* xlb_flow_hash of the key, kept so that an
				 * established IPv6 or GUE packet (flow label,
				 * source port) does not hash again */
};

/* Layout 1 (xlb_flows, before versioned maps): what an upgrade migrates. */
struct xlb_flow_v1 {
	__u32 backend;
	__u32 gen;
	__u64 last_seen;
};

/* Jiffies an entry has been idle at jiffies now (0 when another CPU
 * stamped it after now was read). */
static inline __u64 xlb_flow_idle(const struct xlb_flow *f, __u64 now)
{
	return now > f->last_seen ? now - f->last_seen : 0;
}

/* Whether an entry is past its idle bound at jiffies now (hz: kernel HZ).
 * The one definition of expiry. */
static inline int xlb_flow_expired(const struct xlb_flow *f, __u64 now,
				   __u32 hz)
{
	return xlb_flow_idle(f, now) > (__u64)f->idle_s * hz;
}

#endif
