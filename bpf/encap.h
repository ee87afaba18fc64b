/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Encapsulation: grow the frame at the front and write an outer IPv4/IPv6
 * header (and a UDP header for GUE) between the L2 header and the packet. */
#ifndef XLB_BPF_ENCAP_H
#define XLB_BPF_ENCAP_H

#include "common.h"
#include "csum.h"
#include "parse.h"

#define L2_MAX	(ETH_HLEN + XLB_MAX_VLANS * VLAN_HLEN)

/* After bpf_xdp_adjust_head(-shift) the old L2 header starts at data+shift;
 * move it to the front. Front-to-back word copy is safe as dst < src. */
static __always_inline_ int move_l2(struct xdp_md *ctx, __u32 l2_len,
				    __u32 shift)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	__u16 *dst = data;
	int i;

	if (data + shift + L2_MAX > end)
		return -1;
	if (l2_len == ETH_HLEN) {	/* untagged: the common case */
		eth_copy(data, data + shift);
		return 0;
	}
#pragma unroll
	for (i = 0; i < L2_MAX / 2; i++) {
		if (i * 2 >= (int)l2_len)
			break;
		dst[i] = *(__u16 *)(data + shift + i * 2);
	}
	return 0;
}

/* Before bpf_xdp_adjust_head(+shift): move the L2 header from the front to
 * data+shift, back to front as dst > src. */
static __always_inline_ int move_l2_back(struct xdp_md *ctx, __u32 l2_len,
					 __u32 shift)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	__u16 *src = data;
	int i;

	if (data + shift + L2_MAX > end)
		return -1;
#pragma unroll
	for (i = L2_MAX / 2 - 1; i >= 0; i--) {
		if (i * 2 >= (int)l2_len)
			continue;
		*(__u16 *)(data + shift + i * 2) = src[i];
	}
	return 0;
}

static __always_inline_ __u32 encap_overhead(__u8 outer_family, __u8 mode)
{
	return xlb_encap_overhead(outer_family, mode);
}

/* Write the last EtherType of the L2 header (the one before L3). */
static __always_inline_ void set_l2_proto(void *data, void *end, __u32 l3_off,
					  __u8 family)
{
	__u32 off = l3_off - 2;
	__be16 *proto;

	/* Keep the subtraction on the scalar: the verifier refuses negative
	 * variable offsets from a packet pointer. */
	asm volatile("" : "+r"(off));
	if (off > L2_MAX - 2)
		return;
	proto = data + off;
	if ((void *)(proto + 1) > end)
		return;
	*proto = family == XLB_AF_INET ? bpf_htons(ETH_P_IP) :
					 bpf_htons(ETH_P_IPV6);
}

/* The node's outer source for a tunnel of family, in place in the config
 * (an IPv4 tunnel reads only v4), or NULL when none is set. */
static __always_inline_ const union xlb_addr *
outer_source(const struct xlb_config *cfg, __u8 family)
{
	if (family == XLB_AF_INET)
		return cfg->flags & XLB_CFG_F_HAS_SRC4 ?
			       (const union xlb_addr *)&cfg->src4 : NULL;
	return cfg->flags & XLB_CFG_F_HAS_SRC6 ?
		       (const union xlb_addr *)cfg->src6 : NULL;
}

struct encap_args {
	const union xlb_addr *src;
	const union xlb_addr *dst;
	__u32 hash;
	__u8 family;		/* outer */
	__u8 mode;
	__be16 gue_port;
};

/* The outer headers, from values (the general path and the fast path,
 * fast.h, write them alike). len: the outer packet's length. */
static __always_inline_ void write_outer4(struct iphdr *ip, __u8 tos, __u8 ttl,
					  __be32 src, __be32 dst, __u32 len,
					  __u8 proto)
{
	*(__u8 *)ip = 0x45;	/* version 4, IHL 5: one store, no bitfields */
	ip->tos = tos;
	ip->tot_len = bpf_htons(len);
	ip->id = 0;
	ip->frag_off = bpf_htons(IPV4_DF);
	ip->ttl = ttl;
	ip->protocol = proto;
	ip->saddr = src;
	ip->daddr = dst;
	ipv4_csum(ip);
}

static __always_inline_ void write_outer6(struct ipv6hdr *ip6, __u8 tos,
					  __u8 ttl, __u32 hash,
					  const union xlb_addr *src,
					  const union xlb_addr *dst, __u32 len,
					  __u8 proto)
{
	__be32 *w = (__be32 *)ip6;

	/* Version, traffic class, flow label; payload length, next header,
	 * hop limit: two word stores, no bit fields. */
	w[0] = bpf_htonl((6U << 28) | ((__u32)tos << 20) | (hash & 0xfffff));
	w[1] = bpf_htonl(((len - sizeof(*ip6)) << 16) | ((__u32)proto << 8) |
			 ttl);
	addr6_copy(&ip6->saddr, src);
	addr6_copy(&ip6->daddr, dst);
}

/* GUE variant 1: the inner IP header follows UDP directly. Checksum zero:
 * allowed for IPv4, and for IPv6 tunnels by RFC 6935; the inner packet
 * carries its own checksums. inner_len: the inner IP packet's length. */
static __always_inline_ void write_gue(struct udphdr *uh, __u32 hash,
				       __be16 port, __u32 inner_len)
{
	uh->source = bpf_htons(xlb_gue_sport(hash));
	uh->dest = port;
	uh->len = bpf_htons(sizeof(*uh) + inner_len);
	uh->check = 0;
}

/* Returns 0, or -1 when the frame could not be grown (counted by caller). */
static __always_inline_ int encap(struct xdp_md *ctx, const struct xlb_pkt *p,
				  const struct encap_args *a)
{
	__u32 hdr = encap_overhead(a->family, a->mode);
	__u32 l3_off = p->l3_off, total = hdr + p->l3_len;
	__u8 proto = p->key.family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	void *data, *end, *outer;
	struct udphdr *uh;

	if (bpf_xdp_adjust_head(ctx, -(int)hdr))
		return -1;
	if (move_l2(ctx, l3_off, hdr))
		return -1;
	data = PKT(ctx);
	end = PKT_END(ctx);
	if (l3_off > L2_MAX)
		return -1;
	outer = data + l3_off;
	if (outer + sizeof(struct ipv6hdr) + sizeof(*uh) > end)
		return -1;
	set_l2_proto(data, end, l3_off, a->family);

	if (a->mode == XLB_MODE_GUE)
		proto = IPPROTO_UDP;
	if (a->family == XLB_AF_INET) {
		write_outer4(outer, p->tos, p->ttl, a->src->v4, a->dst->v4,
			     total, proto);
		uh = outer + sizeof(struct iphdr);
	} else {
		write_outer6(outer, p->tos, p->ttl, a->hash, a->src, a->dst,
			     total, proto);
		uh = outer + sizeof(struct ipv6hdr);
	}
	if (a->mode == XLB_MODE_GUE)
		write_gue(uh, a->hash, a->gue_port, p->l3_len);
	return 0;
}

#endif
