/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Map names and sizes. The BPF side uses the names as identifiers; user
 * space turns them into pin paths. Sizes are overridable at build time;
 * the flow table and Maglev ring sizes are also set at load time. */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#ifndef XLB_MAX_VIPS
#define XLB_MAX_VIPS		1024
#endif
#ifndef XLB_MAX_BACKENDS
#define XLB_MAX_BACKENDS	16384
#endif
#ifndef XLB_FLOWS_DEFAULT
#define XLB_FLOWS_DEFAULT	65536
#endif
#ifndef XLB_RING_DEFAULT
#define XLB_RING_DEFAULT	65537	/* prime, per the Maglev paper */
#endif
/* The unconfirmed table holds a flow from its first packet to its second
 * (one RTT). Small so that it stays in cache: a first packet pays a lookup
 * and an insert here on top of the flow table miss, and with 8192 the
 * new-flow path costs what it did with one table (README, bench). An entry
 * evicted early costs only a pick from the ring: the same backend unless
 * the ring changed within that RTT. */
#ifndef XLB_FLOWS_NEW_DEFAULT
#define XLB_FLOWS_NEW_DEFAULT	8192
#endif
/* Fragments in flight: a first fragment's ports, kept for the later
 * fragments of its datagram (bpf/frag.h). A datagram's fragments arrive
 * within microseconds of each other; at 10 Mpps of first fragments an
 * entry still lives ~0.8 ms. */
#ifndef XLB_FRAGS_DEFAULT
#define XLB_FRAGS_DEFAULT	8192
#endif
/* How long a VIP's ring before its last change stays in xlb_ring_prev
 * (bpf/maps.h): a TCP flow older than the change that reaches this node
 * without an entry within it still finds its backend. Short: a flow born
 * after the change on a peer, and moved here within it, would take the old
 * ring's backend unless flow sync told us (user/lib/flowsync.c counts it
 * as an exception); after it, flow sync alone carries older flows. */
#define XLB_RING_PREV_S		10
/* Non-VIP filter: one bit per hash of a VIP address (xlb/hash.h). */
#define XLB_VIP_FILTER_SHIFT	16
#define XLB_VIP_FILTER_WORDS	((1U << XLB_VIP_FILTER_SHIFT) / 64)
/* Counter slots: more than XLB_C_MAX, so that new counters keep the
 * counters map's layout. */
#define XLB_C_SLOTS		64

/* A map whose layout changes gets a new name (_v2, _v3...): its pin then
 * never meets a program of another layout, and the loader migrates the
 * previous one (user/lib/lib.c, map_upgrades). */
#define XLB_MAP_CONFIG		xlb_config_map
#define XLB_MAP_VIPS		xlb_vips_v2
#define XLB_MAP_BACKENDS	xlb_backends
#define XLB_MAP_MAGLEV		xlb_maglev
#define XLB_MAP_RING_PREV	xlb_ring_prev
#define XLB_MAP_TURN		xlb_turn
#define XLB_MAP_CONNS		xlb_conns
/* A ring slot's value when no backend has weight: the ring builder writes
 * it, the balancer reads it as "no backend". */
#define XLB_RING_NONE		0xffffffffU
#define XLB_MAP_FLOWS		xlb_flows_v2
#define XLB_MAP_FLOWS_NEW	xlb_flows_new
#define XLB_MAP_VIP_FILTER	xlb_vip_filter
#define XLB_MAP_CONFIRM_RL	xlb_confirm_rl
#define XLB_MAP_COUNTERS	xlb_counters_v2
#define XLB_MAP_VIP_STATS	xlb_vip_stats
#define XLB_MAP_BE_STATS	xlb_be_stats
#define XLB_MAP_ICMP_RL		xlb_icmp_rl
#define XLB_MAP_FRAGS		xlb_frags

#define __XLB_STR(x)		#x
#define XLB_STR(x)		__XLB_STR(x)

#endif
