/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Counters: why every packet got its verdict, and per-VIP/backend traffic. */
#ifndef XLB_COUNTERS_H
#define XLB_COUNTERS_H

#include <linux/types.h>

/* One counter per outcome. Every packet bumps exactly one of the XLB_C_PASS_*,
 * XLB_C_DROP_* or XLB_C_TX / XLB_C_REDIRECT counters; the rest are events. */
enum xlb_counter {
	XLB_C_PASS_NOT_IP,	/* not IPv4/IPv6 (ARP, LLDP, ...) */
	XLB_C_PASS_NOT_VIP,	/* IP, but no VIP matches */
	XLB_C_PASS_MALFORMED,	/* could not be parsed: handed to the kernel */
	XLB_C_PASS_FRAGMENT,	/* fragment, but no VIP matches */
	XLB_C_DROP_NO_BACKEND,	/* VIP has no usable backend */
	XLB_C_DROP_TOO_BIG,	/* too big after encap and no ICMP sent */
	XLB_C_DROP_NO_ROUTE,	/* no FIB answer and no gateway MAC */
	XLB_C_DROP_ENCAP,	/* headroom/tail adjust failed */
	XLB_C_DROP_ICMP_RATE,	/* ICMP too-big reply suppressed by rate limit */
	XLB_C_TX,		/* forwarded out of the ingress interface */
	XLB_C_REDIRECT,		/* forwarded out of another interface */
	XLB_C_ICMP_TOO_BIG,	/* (event) too-big reply sent to a client */
	XLB_C_ICMP_ERR_FWD,	/* (event) ICMP error about a VIP flow forwarded */
	XLB_C_FRAG_FWD,		/* (event) fragment forwarded (with its flow) */
	XLB_C_FLOW_NEW,		/* (event) new unconfirmed entry (first packet) */
	XLB_C_FLOW_HIT,		/* (event) packet followed its flow's entry */
	XLB_C_FLOW_RESELECT,	/* (event) flow's backend gone, chose again */
	XLB_C_FLOW_CONFIRMED,	/* (event) unconfirmed entry promoted to the
				 * flow table by the flow's second packet */
	XLB_C_FLOW_EXPIRED,	/* (event) entry idle past its bound: dropped,
				 * the packet picked anew */
	XLB_C_FLOW_SYN_REUSE,	/* (event) SYN on an entry that saw FIN or idled
				 * XLB_SYN_REUSE_IDLE_S: picked anew */
	XLB_C_FLOW_RST,		/* (event) RST ended an entry */
	XLB_C_FLOW_FIN,		/* (event) client FIN: entry to FIN state */
	XLB_C_FLOW_UNTRACKED,	/* (event) picked by hash, no entry kept:
				 * flow-table off, or RST without entry */
	XLB_C_FLOW_CONFIRM_LIMITED, /* (event) second packet over the per-CPU
				 * confirmation budget: served by its
				 * unconfirmed entry, not confirmed */
	XLB_C_DROP_FRAG_ORPHAN,	/* later fragment whose first fragment was
				 * not seen (reordered, or evicted) */
	XLB_C_FRAG_FIRST,	/* (event) first fragment: its ports kept
				 * for the later ones (bpf/frag.h) */
	XLB_C_FRAG_FOLLOWED,	/* (event) later fragment took its first
				 * fragment's ports */
	XLB_C_DROP_L2_OFFLINK,	/* L2 DSR backend not on-link: the FIB names a
				 * gateway, which would route the VIP packet
				 * back here (a loop until TTL) */
	XLB_C_FLOW_PREV_RING,	/* (event) a TCP packet without SYN or entry
				 * took the VIP's previous ring's backend
				 * (bpf/flowtab.h, prev_pick) */
	XLB_C_MAX,
};

/* Traffic of one VIP or one backend (per CPU; user space sums). */
struct xlb_traffic {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};

#ifndef __bpf__
static const char *const xlb_counter_names[XLB_C_MAX] = {
	[XLB_C_PASS_NOT_IP] = "pass_not_ip",
	[XLB_C_PASS_NOT_VIP] = "pass_not_vip",
	[XLB_C_PASS_MALFORMED] = "pass_malformed",
	[XLB_C_PASS_FRAGMENT] = "pass_fragment",
	[XLB_C_DROP_NO_BACKEND] = "drop_no_backend",
	[XLB_C_DROP_TOO_BIG] = "drop_too_big",
	[XLB_C_DROP_NO_ROUTE] = "drop_no_route",
	[XLB_C_DROP_ENCAP] = "drop_encap",
	[XLB_C_DROP_ICMP_RATE] = "drop_icmp_rate",
	[XLB_C_TX] = "tx",
	[XLB_C_REDIRECT] = "redirect",
	[XLB_C_ICMP_TOO_BIG] = "icmp_too_big_sent",
	[XLB_C_ICMP_ERR_FWD] = "icmp_error_forwarded",
	[XLB_C_FRAG_FWD] = "fragment_forwarded",
	[XLB_C_FLOW_NEW] = "flow_new",
	[XLB_C_FLOW_HIT] = "flow_hit",
	[XLB_C_FLOW_RESELECT] = "flow_reselect",
	[XLB_C_FLOW_CONFIRMED] = "flow_confirmed",
	[XLB_C_FLOW_EXPIRED] = "flow_expired",
	[XLB_C_FLOW_SYN_REUSE] = "flow_syn_reuse",
	[XLB_C_FLOW_RST] = "flow_rst",
	[XLB_C_FLOW_FIN] = "flow_fin",
	[XLB_C_FLOW_UNTRACKED] = "flow_untracked",
	[XLB_C_FLOW_CONFIRM_LIMITED] = "flow_confirm_limited",
	[XLB_C_DROP_FRAG_ORPHAN] = "drop_frag_orphan",
	[XLB_C_FRAG_FIRST] = "fragment_first",
	[XLB_C_FRAG_FOLLOWED] = "fragment_followed",
	[XLB_C_DROP_L2_OFFLINK] = "drop_l2_offlink",
	[XLB_C_FLOW_PREV_RING] = "flow_prev_ring",
};

#include <string.h>

/* A counter's index by its name, -1 when there is none. */
static inline int xlb_counter_index(const char *name)
{
	int i;

	for (i = 0; i < XLB_C_MAX; i++)
		if (!strcmp(xlb_counter_names[i], name))
			return i;
	return -1;
}
#endif

#endif
