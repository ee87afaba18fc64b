/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Parsing: Ethernet with up to two VLAN tags, IPv4 (with options), IPv6 (with
 * hop-by-hop, routing, destination-options and fragment headers), then the
 * ports of TCP/UDP, or the flow an ICMP/ICMPv6 error speaks about. Parsers
 * only read; they fill struct xlb_pkt and return enum parse_rc. */
#ifndef XLB_BPF_PARSE_H
#define XLB_BPF_PARSE_H

#include "common.h"

enum parse_rc {
	PARSE_OK = 0,
	PARSE_NOT_IP,		/* not IPv4/IPv6: not ours */
	PARSE_MALFORMED,	/* headers cut short or lying: not ours */
};

#define PKT_F_FRAG	(1U << 0)	/* IPv4 MF/offset, or IPv6 fragment hdr */
#define PKT_F_ICMP_ERR	(1U << 1)	/* key is the flow an ICMP error quotes */
#define PKT_F_DF	(1U << 2)	/* IPv4 don't-fragment */

struct xlb_pkt {
	__u32 l3_off;		/* Ethernet + VLAN tags */
	__u32 l4_off;		/* l3_off + IP header(s) */
	__u32 l3_len;		/* IP total length, from the header */
	__u8 tos;		/* DSCP + ECN */
	__u8 ttl;		/* TTL or hop limit */
	__u8 flags;		/* PKT_F_* */
	__u8 hashed;		/* hash is set */
	__u32 hash;		/* xlb_flow_hash(&key), computed on demand */
	__u8 tcp_flags;		/* TCP header byte 13 (FIN SYN RST ... ); 0
				 * for other protocols and ICMP errors */
	__u8 pad_[3];
	struct xlb_flow_key key;
};

/* The flow hash is needed only for new flows, GUE and IPv6 outer headers:
 * established IPv4 IPIP/L2 flows never pay for it. */
static __always_inline_ __u32 pkt_hash(struct xlb_pkt *p)
{
	if (!p->hashed) {
		p->hash = xlb_flow_hash(&p->key);
		p->hashed = 1;
	}
	return p->hash;
}

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

struct frag_hdr_ {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

#define PKT(ctx)	((void *)(long)(ctx)->data)
#define PKT_END(ctx)	((void *)(long)(ctx)->data_end)

static __always_inline_ int parse_eth(struct xdp_md *ctx, struct xlb_pkt *p,
				      __be16 *proto)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	int i;

	if ((void *)(eth + 1) > end)
		return PARSE_MALFORMED;
	*proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < XLB_MAX_VLANS; i++) {
		struct vlan_hdr_ *vh = data + off;

		if (*proto != bpf_htons(ETH_P_8021Q) &&
		    *proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return PARSE_MALFORMED;
		*proto = vh->proto;
		off += VLAN_HLEN;
	}
	p->l3_off = off;
	return PARSE_OK;
}

static __always_inline_ int parse_ipv4(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct iphdr *ip = data + p->l3_off;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > end)
		return PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	/* A length shorter than the header, or longer than the frame, lies. */
	if (tot < hlen || (void *)ip + tot > end)
		return PARSE_MALFORMED;

	p->l3_len = tot;
	p->l4_off = p->l3_off + hlen;
	p->tos = ip->tos;
	p->ttl = ip->ttl;
	p->key.family = XLB_AF_INET;
	p->key.proto = ip->protocol;
	p->key.src.v4 = ip->saddr;
	p->key.dst.v4 = ip->daddr;
	if (ip->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET))
		p->flags |= PKT_F_FRAG;
	if (ip->frag_off & bpf_htons(IPV4_DF))
		p->flags |= PKT_F_DF;
	return PARSE_OK;
}

/* Walk the extension headers a VIP packet may carry; anything else ends the
 * chain and is taken as the upper-layer protocol. */
static __always_inline_ int skip_ipv6_ext(struct xdp_md *ctx, struct xlb_pkt *p,
					  __u32 l3_end)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	__u8 nh = p->key.proto;
	__u32 off = p->l4_off;
	int i;

#pragma unroll
	for (i = 0; i < XLB_MAX_EXTHDRS; i++) {
		struct ipv6_opt_hdr *oh = data + off;
		struct frag_hdr_ *fh = data + off;

		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)oh + 8 > end)
				return PARSE_MALFORMED;
			nh = oh->nexthdr;
			off += (oh->hdrlen + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(fh + 1) > end)
				return PARSE_MALFORMED;
			nh = fh->nexthdr;
			off += sizeof(*fh);
			p->flags |= PKT_F_FRAG;
			break;
		default:
			goto done;
		}
		if (off > l3_end)
			return PARSE_MALFORMED;
	}
	/* More headers than we walk: not something we forward. */
	if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	    nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT)
		return PARSE_MALFORMED;
done:
	p->key.proto = nh;
	p->l4_off = off;
	return PARSE_OK;
}

static __always_inline_ int parse_ipv6(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ipv6hdr *ip6 = data + p->l3_off;
	__u32 tot;

	if ((void *)(ip6 + 1) > end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if ((void *)ip6 + tot > end)
		return PARSE_MALFORMED;

	p->l3_len = tot;
	p->l4_off = p->l3_off + sizeof(*ip6);
	p->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	p->ttl = ip6->hop_limit;
	p->key.family = XLB_AF_INET6;
	p->key.proto = ip6->nexthdr;
	__builtin_memcpy(&p->key.src, &ip6->saddr, 16);
	__builtin_memcpy(&p->key.dst, &ip6->daddr, 16);
	return skip_ipv6_ext(ctx, p, p->l3_off + tot);
}

static __always_inline_ int icmp_is_error(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

/* The quoted packet went from the VIP to the client; the flow key is the
 * client-to-VIP direction, so addresses and ports are swapped. */
static __always_inline_ int parse_icmp_quote(struct xdp_md *ctx,
					     struct xlb_pkt *p, __u32 off)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	__be16 *ports;
	__u8 proto;

	if (p->key.family == XLB_AF_INET) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
			return PARSE_MALFORMED;
		proto = ip->protocol;
		p->key.src.v4 = ip->daddr;
		p->key.dst.v4 = ip->saddr;
		ports = (void *)ip + ip->ihl * 4;
	} else {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return PARSE_MALFORMED;
		proto = ip6->nexthdr;
		__builtin_memcpy(&p->key.src, &ip6->daddr, 16);
		__builtin_memcpy(&p->key.dst, &ip6->saddr, 16);
		ports = (void *)(ip6 + 1);
	}
	p->key.proto = proto;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return PARSE_OK;	/* about nothing a VIP serves */
	if ((void *)(ports + 2) > end)
		return PARSE_MALFORMED;
	p->key.sport = ports[1];
	p->key.dport = ports[0];
	p->flags |= PKT_F_ICMP_ERR;
	return PARSE_OK;
}

static __always_inline_ int parse_l4(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	__u32 l3_end = p->l3_off + p->l3_len;
	void *l4 = data + p->l4_off;
	struct icmphdr *icmp = l4;
	struct tcphdr *th = l4;
	struct udphdr *uh = l4;

	/* Fragments are balanced on addresses and protocol alone: later
	 * fragments carry no ports, and all must reach one backend. */
	if (p->flags & PKT_F_FRAG)
		return PARSE_OK;

	switch (p->key.proto) {
	case IPPROTO_TCP:
		if ((void *)(th + 1) > end || p->l4_off + sizeof(*th) > l3_end ||
		    th->doff < 5 || p->l4_off + th->doff * 4 > l3_end)
			return PARSE_MALFORMED;
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		return PARSE_OK;
	case IPPROTO_UDP:
		if ((void *)(uh + 1) > end || p->l4_off + sizeof(*uh) > l3_end)
			return PARSE_MALFORMED;
		p->key.sport = uh->source;
		p->key.dport = uh->dest;
		return PARSE_OK;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((p->key.proto == IPPROTO_ICMP) !=
		    (p->key.family == XLB_AF_INET))
			return PARSE_OK;	/* ICMP in IPv6, say: not ours */
		if ((void *)icmp + 8 > end || p->l4_off + 8 > l3_end)
			return PARSE_MALFORMED;
		if (!icmp_is_error(p->key.proto, icmp->type))
			return PARSE_OK;	/* echo etc.: matches no VIP */
		return parse_icmp_quote(ctx, p, p->l4_off + 8);
	default:
		return PARSE_OK;
	}
}

static __always_inline_ int parse_packet(struct xdp_md *ctx, struct xlb_pkt *p)
{
	__be16 proto;
	int rc;

	rc = parse_eth(ctx, p, &proto);
	if (rc)
		return rc;
	if (proto == bpf_htons(ETH_P_IP))
		rc = parse_ipv4(ctx, p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		rc = parse_ipv6(ctx, p);
	else
		return PARSE_NOT_IP;
	if (rc)
		return rc;
	return parse_l4(ctx, p);
}

#endif
