/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Node settings that the data plane reads on every packet (one map entry). */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <linux/types.h>

#define XLB_GUE_PORT_DEFAULT	6080
#define XLB_MTU_DEFAULT		1500
#define XLB_ICMP_RATE_DEFAULT	100	/* too-big replies per second per CPU */

#define XLB_CFG_F_ICMP_TOO_BIG	(1U << 0)	/* answer too-big (else drop) */
#define XLB_CFG_F_HAS_GW	(1U << 1)	/* gw_mac is a usable fallback */
#define XLB_CFG_F_NO_FIB	(1U << 2)	/* skip bpf_fib_lookup */
#define XLB_CFG_F_HAS_SRC4	(1U << 3)	/* src4 is set */
#define XLB_CFG_F_HAS_SRC6	(1U << 4)	/* src6 is set */

struct xlb_config {
	__be32 src4;		/* outer source for IPv4 tunnels */
	__be32 src6[4];		/* outer source for IPv6 tunnels */
	__u8 gw_mac[6];		/* next hop when the FIB gives none */
	__u16 mtu;		/* egress MTU (L3) */
	__u32 flags;		/* XLB_CFG_F_* */
	__be16 gue_port;	/* GUE destination port (network order) */
	__u16 pad;
	__u32 icmp_rate;	/* too-big replies per second per CPU */
	__u32 ring_size;	/* Maglev ring size the rings were made with */
};

#endif
