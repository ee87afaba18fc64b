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

/* Copies into and out of a frame in words. Frame data has no alignment
 * the compiler can see, so __builtin_memcpy goes byte by byte (a MAC
 * address: 12 instructions instead of 4). Unaligned loads and stores are
 * allowed and cheap where XDP runs (the verifier checks alignment only on
 * architectures without efficient unaligned access). Never on the stack,
 * where the verifier wants aligned words. */
static __always_inline_ void mac_copy(void *dst, const void *src)
{
	*(__u32 *)dst = *(const __u32 *)src;
	*(__u16 *)(dst + 4) = *(const __u16 *)(src + 4);
}

/* An untagged Ethernet header, dst and src not overlapping. */
static __always_inline_ void eth_copy(void *dst, const void *src)
{
	*(__u64 *)dst = *(const __u64 *)src;
	*(__u32 *)(dst + 8) = *(const __u32 *)(src + 8);
	*(__u16 *)(dst + 12) = *(const __u16 *)(src + 12);
}

/* An IPv6 address in four words, into or out of a frame (a byte-wise
 * __builtin_memcpy costs 32 instructions). dst and src 4-byte aligned
 * where they are on the stack or in a map value. */
static __always_inline_ void addr6_copy(void *dst, const void *src)
{
	((__u32 *)dst)[0] = ((const __u32 *)src)[0];
	((__u32 *)dst)[1] = ((const __u32 *)src)[1];
	((__u32 *)dst)[2] = ((const __u32 *)src)[2];
	((__u32 *)dst)[3] = ((const __u32 *)src)[3];
}

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
