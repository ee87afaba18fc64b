/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* What every xlb BPF program includes: kernel UAPI headers, libbpf helpers,
 * the shared ABI, and a few protocol constants UAPI headers lack. */
#ifndef XLB_BPF_COMMON_H
#define XLB_BPF_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb/flow.h"
#include "xlb/service.h"
#include "xlb/counters.h"
#include "xlb/config.h"
#include "xlb/maps.h"
#include "xlb/hash.h"

#define __always_inline_ inline __attribute__((always_inline))

#ifndef ETH_P_8021Q
#define ETH_P_8021Q	0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD	0x88A8
#endif

#define IPV4_MF		0x2000
#define IPV4_DF		0x4000
#define IPV4_OFFSET	0x1fff

#define VLAN_HLEN	4
#define XLB_MAX_VLANS	2
#define XLB_MAX_EXTHDRS	4	/* IPv6 extension headers walked */

#define NSEC_PER_SEC	1000000000ULL

/* ICMPv4 as RFC 792 and RFC 1191 define it. Not <linux/icmp.h>: since
 * Linux 5.15 it includes <linux/if.h>, which pulls glibc's <sys/socket.h>
 * into a -target bpf build (gnu/stubs-32.h on x86-64). A BPF object must
 * build from the kernel's UAPI and libbpf headers alone. */
#define ICMP_DEST_UNREACH	3
#define ICMP_TIME_EXCEEDED	11
#define ICMP_PARAMETERPROB	12
#define ICMP_FRAG_NEEDED	4	/* code of ICMP_DEST_UNREACH */

struct icmphdr {
	__u8	type;
	__u8	code;
	__sum16	checksum;
	union {
		struct {
			__be16	id;
			__be16	sequence;
		} echo;
		__be32	gateway;
		struct {
			__be16	__unused;
			__be16	mtu;
		} frag;
	} un;
};

#endif
