/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Services: VIPs and the backends behind them. Shared by BPF and user space. */
#ifndef XLB_SERVICE_H
#define XLB_SERVICE_H

#include <linux/types.h>
#include "flow.h"

/* How packets reach the backend. */
enum xlb_mode {
	XLB_MODE_IPIP = 0,	/* IP-in-IP; outer family is the backend's */
	XLB_MODE_GUE = 1,	/* GUE variant 1 (IP directly in UDP) */
	XLB_MODE_L2 = 2,	/* L2 DSR: only the destination MAC changes */
	XLB_MODE_MAX,
};

/* Bytes a tunnel adds to a packet: the outer IP header, and for GUE its UDP
 * header (variant 1 has no GUE header of its own). outer_family is the
 * backend's (XLB_AF_*, xlb/flow.h). */
static inline __u32 xlb_encap_overhead(__u8 outer_family, __u8 mode)
{
	__u32 len = outer_family == XLB_AF_INET ? 20 : 40;

	return mode == XLB_MODE_GUE ? len + 8 : len;
}

/* The least MTU an IPv6 link may have (RFC 8200): an IPv6 client never
 * takes a packet-too-big below it. */
#define XLB_IPV6_MIN_MTU	1280

/* How a new flow picks its backend. */
enum xlb_algo {
	XLB_ALGO_MAGLEV = 0,	/* the 5-tuple's hash on the VIP's Maglev ring */
	XLB_ALGO_SH,		/* the client address's hash on the same ring:
				 * one backend for all of a client's flows */
	XLB_ALGO_RR,		/* round robin: the ring holds the backends
				 * in turn, read in turn */
	XLB_ALGO_WRR,		/* smooth weighted round robin, the same way */
	XLB_ALGO_P2C,		/* power of two choices: two random slots of
				 * the (weighted) Maglev ring, the backend
				 * with fewer active connections */
	XLB_ALGO_LC,		/* weighted least connections: the ring
				 * lists the VIP's backends (at most
				 * XLB_LC_MAX), the fewest per weight wins */
	XLB_ALGO_MAX,
};

/* Backends lc compares per new flow (the loop in bpf/select.h; a power
 * of two): a VIP with more backends with weight may not use lc. */
#define XLB_LC_MAX	64

/* Whether a VIP's ring is read in turn (a per-CPU position, bpf/select.h
 * turn_next) rather than by hash. */
static inline int xlb_algo_in_turn(__u8 algo)
{
	return algo == XLB_ALGO_RR || algo == XLB_ALGO_WRR;
}

/* Whether an algorithm gives a 5-tuple the same backend on every packet
 * while the backend set is unchanged: only those may run with
 * flow-table: off (XLB_VIP_F_NO_FLOWTABLE), and a peer with the same
 * table picks what this node picked without flow sync. */
static inline int xlb_algo_deterministic(__u8 algo)
{
	return algo == XLB_ALGO_MAGLEV || algo == XLB_ALGO_SH;
}

/* A VIP is matched on address, port and protocol; port 0 takes all ports. */
struct xlb_vip_key {
	union xlb_addr addr;
	__be16 port;
	__u8 proto;
	__u8 family;
};

#define XLB_VIP_F_NO_FLOWTABLE	(1U << 0)	/* flow-table: off - hash every
						 * packet, keep no state */

/* The value of a VIP (layout 2: xlb_vips_v2): its slot in the per-VIP maps,
 * how it forwards and how its flows are kept. */
struct xlb_vip {
	__u32 id;		/* index into xlb_maglev, xlb_vip_stats */
	__u8 mode;		/* enum xlb_mode */
	__u8 algo;		/* enum xlb_algo */
	__u16 flags;		/* XLB_VIP_F_* */
	__u16 udp_idle_s;	/* idle bound of its non-TCP flows, seconds;
				 * 0: XLB_IDLE_UDP_S (xlb/flow.h) */
	__u16 pad;
};

/* Layout 1 (xlb_vips, before versioned maps): what an upgrade migrates. */
struct xlb_vip_v1 {
	__u32 id;
	__u8 mode;
	__u8 algo;
	__u16 flags;
};

#define XLB_BE_F_ACTIVE		(1U << 0)	/* slot holds a live backend */
#define XLB_BE_F_HAS_MAC	(1U << 1)	/* mac is set (needed for L2 DSR) */
#define XLB_BE_F_DOWN		(1U << 2)	/* held but failed its checks: not
						 * ACTIVE, so its flows choose again */

/* A backend slot. Flows remember (slot, gen); gen changes when the slot is
 * freed, so flows of a removed backend choose again. gen is never 0. */
struct xlb_backend {
	union xlb_addr addr;
	__u8 family;
	__u8 flags;		/* XLB_BE_F_* */
	__u8 mac[6];
	__u32 vip_id;
	__u32 gen;
	__u8 mode;		/* the VIP's enum xlb_mode, copied here so that
				 * an established flow needs no VIP lookup */
	__u8 seq;		/* odd while user space rewrites the slot,
				 * changed by every rewrite (bpf/select.h
				 * backend_read, user/lib/lib.c slot_put) */
	__u16 weight;		/* weight in use (0 = drained): p2c weighs
				 * connections by it, a restarted xlbd reads it */
};

#endif
