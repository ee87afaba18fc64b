/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Too-big replies: when a VIP packet would exceed the egress MTU once
 * encapsulated, turn it into ICMP fragmentation-needed (IPv4) or ICMPv6
 * packet-too-big sent from the VIP back to the client, quoting the IP
 * header(s) and the first 8 bytes of L4 - all a client stack needs to
 * find the socket and lower its path MTU. */
#ifndef XLB_BPF_ICMP_H
#define XLB_BPF_ICMP_H

#include "common.h"
#include "csum.h"
#include "encap.h"
#include "maps.h"
#include "parse.h"

#define ICMP_QUOTE_MAX	256	/* IP header(s) + 8, bounded for the verifier */
#define IPV4_MIN_MTU	68
#define IPV6_MIN_MTU	1280

static __always_inline_ int icmp_budget(const struct xlb_config *cfg)
{
	__u64 sec = bpf_ktime_get_ns() / NSEC_PER_SEC;
	struct xlb_icmp_rl *rl;
	__u32 zero = 0;

	rl = bpf_map_lookup_elem(&XLB_MAP_ICMP_RL, &zero);
	if (!rl)
		return 0;
	if (rl->second != sec) {
		rl->second = sec;
		rl->sent = 0;
	}
	if (rl->sent >= cfg->icmp_rate)
		return 0;
	rl->sent++;
	return 1;
}

/* Make room for the new IP + ICMP headers in front of the packet, keep the
 * L2 header (MACs swapped), and cut the frame after the quote. Returns the
 * frame length, or -1. */
static __always_inline_ int icmp_reshape(struct xdp_md *ctx, __u32 l2_len,
					 __u32 hdr, __u32 quote)
{
	void *data, *end;
	struct ethhdr *eth;
	__u8 mac[ETH_ALEN];
	__u32 want;
	long cur;

	if (bpf_xdp_adjust_head(ctx, -(int)hdr) || move_l2(ctx, l2_len, hdr))
		return -1;
	data = PKT(ctx);
	end = PKT_END(ctx);
	want = l2_len + hdr + quote;
	cur = end - data;
	/* Keep (end - data) a scalar: pkt_end arithmetic is refused. */
	asm volatile("" : "+r"(cur));
	if (bpf_xdp_adjust_tail(ctx, (int)want - (int)cur))
		return -1;
	data = PKT(ctx);
	end = PKT_END(ctx);
	eth = data;
	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	return want;
}

static __always_inline_ int too_big4(struct xdp_md *ctx,
				     const struct xlb_pkt *p, __u32 mtu)
{
	__u32 hdr = sizeof(struct iphdr) + sizeof(struct icmphdr);
	__u32 quote = p->l4_off - p->l3_off + 8, l2 = p->l3_off;
	struct icmphdr *icmp;
	struct iphdr *ip;
	void *data, *end;

	if (l2 > L2_MAX || quote > 68)
		return -1;
	if (icmp_reshape(ctx, l2, hdr, quote) < 0)
		return -1;
	data = PKT(ctx);
	end = PKT_END(ctx);
	ip = data + l2;
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > end)
		return -1;
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(hdr + quote);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = p->key.dst.v4;
	ip->daddr = p->key.src.v4;
	ipv4_csum(ip);

	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->un.frag.__unused = 0;
	icmp->un.frag.mtu = bpf_htons(mtu < IPV4_MIN_MTU ? IPV4_MIN_MTU : mtu);
	icmp->checksum = csum_fold(csum_add_bytes(0, icmp, end,
						  sizeof(*icmp) + quote,
						  sizeof(*icmp) + 68));
	return 0;
}

static __always_inline_ int too_big6(struct xdp_md *ctx,
				     const struct xlb_pkt *p, __u32 mtu)
{
	__u32 hdr = sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr);
	__u32 quote = p->l4_off - p->l3_off + 8, l2 = p->l3_off, len, sum;
	struct icmp6hdr *icmp;
	struct ipv6hdr *ip6;
	void *data, *end;

	if (l2 > L2_MAX || quote > ICMP_QUOTE_MAX)
		return -1;
	if (icmp_reshape(ctx, l2, hdr, quote) < 0)
		return -1;
	data = PKT(ctx);
	end = PKT_END(ctx);
	ip6 = data + l2;
	icmp = (void *)(ip6 + 1);
	if ((void *)(icmp + 1) > end)
		return -1;
	len = sizeof(*icmp) + quote;
	__builtin_memset(ip6, 0, 4);
	ip6->version = 6;
	ip6->payload_len = bpf_htons(len);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, &p->key.dst, 16);
	__builtin_memcpy(&ip6->daddr, &p->key.src, 16);

	icmp->icmp6_type = ICMPV6_PKT_TOOBIG;
	icmp->icmp6_code = 0;
	icmp->icmp6_cksum = 0;
	icmp->icmp6_mtu = bpf_htonl(mtu < IPV6_MIN_MTU ? IPV6_MIN_MTU : mtu);
	/* Pseudo-header: addresses, upper-layer length, next header. */
	sum = csum_add_addr6(0, p->key.dst.v6);
	sum = csum_add_addr6(sum, p->key.src.v6);
	sum += bpf_htons(len) + bpf_htons(IPPROTO_ICMPV6);
	sum = csum_add_bytes(sum, icmp, end, len,
			     sizeof(*icmp) + ICMP_QUOTE_MAX);
	icmp->icmp6_cksum = csum_fold(sum);
	return 0;
}

/* The packet does not fit once encapsulated. Answer with a too-big error
 * when allowed (IPv4 needs DF; never about an ICMP error or a fragment), and
 * within the per-CPU budget; otherwise drop it, counted. */
static __always_inline_ int too_big(struct xdp_md *ctx,
				    const struct xlb_pkt *p,
				    const struct xlb_config *cfg,
				    __u32 overhead)
{
	__u32 mtu = cfg->mtu - overhead;
	int rc;

	if (!(cfg->flags & XLB_CFG_F_ICMP_TOO_BIG) ||
	    (p->flags & (PKT_F_ICMP_ERR | PKT_F_FRAG)) ||
	    (p->key.family == XLB_AF_INET && !(p->flags & PKT_F_DF))) {
		count(XLB_C_DROP_TOO_BIG);
		return XDP_DROP;
	}
	if (!icmp_budget(cfg)) {
		count(XLB_C_DROP_ICMP_RATE);
		return XDP_DROP;
	}
	if (p->key.family == XLB_AF_INET)
		rc = too_big4(ctx, p, mtu);
	else
		rc = too_big6(ctx, p, mtu);
	if (rc) {
		count(XLB_C_DROP_ENCAP);
		return XDP_DROP;
	}
	count(XLB_C_ICMP_TOO_BIG);
	count(XLB_C_TX);
	return XDP_TX;
}

#endif
