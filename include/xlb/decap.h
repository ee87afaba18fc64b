/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The backend's decap program: its maps, settings and counters. Shared by
 * bpf/xlb_decap.bpf.c and user space (xlbctl, the packet tests).
 *
 * The maps are not pinned: they belong to the attached program and live as
 * long as it does. User space finds them again from the interface (XDP
 * program id, then the program's map ids, then these names), so a bare
 * `xlbctl decap attach` needs no daemon and no bpffs. */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <linux/types.h>

#ifndef XLB_MAX_DECAP_DST
#define XLB_MAX_DECAP_DST	64	/* outer destinations (host addresses) */
#endif
#ifndef XLB_MAX_DECAP_SRC
#define XLB_MAX_DECAP_SRC	256	/* balancer source prefixes */
#endif
#ifndef XLB_MAX_DECAP_INNER
#define XLB_MAX_DECAP_INNER	4096	/* inner destination prefixes */
#endif

/* Names are at most 15 characters: the kernel keeps no more, and they are
 * how user space recognises the maps of an attached program. */
#define XLB_MAP_DECAP_CFG	xlb_decap_cfg
#define XLB_MAP_DECAP_DST	xlb_decap_outer
#define XLB_MAP_DECAP_SRC	xlb_decap_bal
#define XLB_MAP_DECAP_INNER	xlb_decap_inner
#define XLB_MAP_DECAP_STATS	xlb_decap_stats

#define XLB_DECAP_PROG_NAME	"xlb_decap"

#define XLB_DECAP_F_DROP	(1U << 0)	/* rejected tunnels: drop, not pass */
#define XLB_DECAP_F_CHECK_SRC	(1U << 1)	/* outer source must be a balancer */

/* The one entry of XLB_MAP_DECAP_CFG. Without an entry written (flags 0,
 * port 0) the program decapsulates nothing and passes everything. */
struct xlb_decap_config {
	__be16 gue_port;	/* GUE destination port, network order */
	__u16 flags;		/* XLB_DECAP_F_* */
};

/* Key of the three address sets (LPM tries). The family byte comes first
 * and is part of every prefix (prefixlen = 8 + the address prefix), so one
 * trie holds both families and no IPv6 address (not even ::ffff:a.b.c.d)
 * matches an IPv4 entry. IPv4 fills addr[0..3]; the rest is zero. */
struct xlb_decap_key {
	__u32 prefixlen;
	__u8 family;		/* enum xlb_family */
	__u8 addr[16];
	__u8 pad[3];
};

#define XLB_DECAP_FAMILY_BITS	8

/* Why the program did what it did: every packet bumps exactly one. */
enum xlb_decap_counter {
	XLB_DC_IPIP4,		/* decapsulated: IPIP, outer IPv4 (4in4, 6in4) */
	XLB_DC_IPIP6,		/* decapsulated: IPIP, outer IPv6 (6in6, 4in6) */
	XLB_DC_GUE4,		/* decapsulated: GUE, outer IPv4 */
	XLB_DC_GUE6,		/* decapsulated: GUE, outer IPv6 */
	XLB_DC_NOT_TUNNEL,	/* passed: no tunnel of ours (other protocol or
				 * port, not IP, IPv6 extension headers) */
	XLB_DC_OUTER_DST,	/* rejected: outer destination not in the set */
	XLB_DC_OUTER_SRC,	/* rejected: outer source not a balancer */
	XLB_DC_INNER_DST,	/* rejected: inner destination not held here */
	XLB_DC_FRAGMENT,	/* rejected: fragmented outer IPv4 */
	XLB_DC_MALFORMED,	/* rejected: tunnel headers cut short or lying */
	XLB_DC_MAX,
};

#define XLB_DC_FIRST_REJECT	XLB_DC_OUTER_DST

#ifndef __bpf__
static const char *const xlb_decap_counter_names[XLB_DC_MAX] = {
	[XLB_DC_IPIP4] = "decap_ipip4",
	[XLB_DC_IPIP6] = "decap_ipip6",
	[XLB_DC_GUE4] = "decap_gue4",
	[XLB_DC_GUE6] = "decap_gue6",
	[XLB_DC_NOT_TUNNEL] = "pass_not_tunnel",
	[XLB_DC_OUTER_DST] = "reject_outer_dst",
	[XLB_DC_OUTER_SRC] = "reject_outer_src",
	[XLB_DC_INNER_DST] = "reject_inner_dst",
	[XLB_DC_FRAGMENT] = "reject_fragment",
	[XLB_DC_MALFORMED] = "reject_malformed",
};
#endif

#endif
