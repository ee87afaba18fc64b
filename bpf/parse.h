/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Parsing: Ethernet with up to two VLAN tags, IPv4 (with options), IPv6 (with
 * hop-by-hop, routing, destination-options and fragment headers), then the
 * ports of TCP/UDP, or the flow an ICMP/ICMPv6 error speaks about. A
 * fragment is noted (id, protocol); a first fragment is parsed as a whole
 * packet, a later one has no ports until frag.h gives it its first's.
 * Parsers only read; they fill struct xlb_pkt and return enum parse_rc. */
#ifndef XLB_BPF_PARSE_H
#define XLB_BPF_PARSE_H

#include "common.h"

enum parse_rc {
	PARSE_OK = 0,
	PARSE_NOT_IP,		/* not IPv4/IPv6: not ours */
	PARSE_MALFORMED,	/* headers cut short or lying: not ours */
};

#define PKT_F_FRAG	(1U << 0)	/* a fragment: IPv4 MF or offset, IPv6
					 * fragment header (not an atomic one) */
#define PKT_F_ICMP_ERR	(1U << 1)	/* key is the flow an ICMP error quotes */
#define PKT_F_DF	(1U << 2)	/* IPv4 don't-fragment */
#define PKT_F_FRAG_LATER (1U << 3)	/* a fragment after the first: no L4
					 * header, ports from frag.h */
/* Packets that follow a flow's entry (or the ring) and never make or
 * change one: ICMP errors about a flow, and later fragments (their first
 * fragment did what a packet of the flow does). */
#define PKT_F_FOLLOW	(PKT_F_ICMP_ERR | PKT_F_FRAG_LATER)

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
	__u8 frag_nh;		/* fragments: the protocol the IPv4 header or
				 * the IPv6 fragment header names */
	__u8 pad_[2];
	__be32 frag_id;		/* fragments: IPv4 id or IPv6 identification */
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

#define IPV6_FRAG_OFFSET	0xfff8	/* offset, in 8-byte units, << 3 */
#define IPV6_FRAG_MF		0x0001	/* more fragments */

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

/* What a checked IPv4 header of tot bytes in all gives the packet, for
 * the general parse and parse_fast alike. */
static __always_inline_ void ipv4_take(struct xlb_pkt *p,
				       const struct iphdr *ip, __u32 tot,
				       __u32 l4_off)
{
	p->l3_len = tot;
	p->l4_off = l4_off;
	p->tos = ip->tos;
	p->ttl = ip->ttl;
	p->key.family = XLB_AF_INET;
	p->key.proto = ip->protocol;
	p->key.src.v4 = ip->saddr;
	p->key.dst.v4 = ip->daddr;
	if (ip->frag_off & bpf_htons(IPV4_DF))
		p->flags |= PKT_F_DF;
}

/* The same for an IPv6 header; the protocol is what its chain ends in. */
static __always_inline_ void ipv6_take(struct xlb_pkt *p,
				       const struct ipv6hdr *ip6, __u32 tot)
{
	p->l3_len = tot;
	p->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	p->ttl = ip6->hop_limit;
	p->key.family = XLB_AF_INET6;
	addr6_copy(&p->key.src, &ip6->saddr);
	addr6_copy(&p->key.dst, &ip6->daddr);
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

	ipv4_take(p, ip, tot, p->l3_off + hlen);
	if (ip->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET)) {
		p->flags |= PKT_F_FRAG;
		if (ip->frag_off & bpf_htons(IPV4_OFFSET))
			p->flags |= PKT_F_FRAG_LATER;
		p->frag_nh = ip->protocol;
		p->frag_id = ip->id;
	}
	return PARSE_OK;
}

/* An IPv6 header chain: in, where its first header starts and the
 * next-header value naming it; out, the upper-layer header and protocol,
 * and the fragment header met on the way, if any. */
struct ipv6_chain {
	__u32 off;
	__u8 nh;
	__u8 frag;		/* PKT_F_FRAG, PKT_F_FRAG_LATER */
	__u8 frag_nh;		/* the fragment header's next header */
	__u8 pad;
	__be32 frag_id;
};

/* Walk the extension headers a VIP packet may carry; anything else ends the
 * chain and is taken as the upper-layer protocol. After the fragment header
 * of a later fragment come data, not headers: the walk ends there. An atomic
 * fragment (offset 0, no more fragments) is a whole packet (RFC 6946). */
static __always_inline_ int ipv6_walk(struct xdp_md *ctx, struct ipv6_chain *c,
				      __u32 l3_end)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	__u32 off = c->off;
	__u8 nh = c->nh;
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
			if (!(fh->frag_off &
			      bpf_htons(IPV6_FRAG_OFFSET | IPV6_FRAG_MF)))
				break;		/* atomic */
			c->frag = PKT_F_FRAG;
			c->frag_nh = nh;
			c->frag_id = fh->id;
			if (!(fh->frag_off & bpf_htons(IPV6_FRAG_OFFSET)))
				break;
			c->frag |= PKT_F_FRAG_LATER;
			goto done;
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
	if (off > l3_end)
		return PARSE_MALFORMED;
	c->off = off;
	c->nh = nh;
	return PARSE_OK;
}

static __always_inline_ int parse_ipv6(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ipv6hdr *ip6 = data + p->l3_off;
	struct ipv6_chain c = {};
	__u32 tot;
	int rc;

	if ((void *)(ip6 + 1) > end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if ((void *)ip6 + tot > end)
		return PARSE_MALFORMED;

	ipv6_take(p, ip6, tot);
	c.off = p->l3_off + sizeof(*ip6);
	c.nh = ip6->nexthdr;
	rc = ipv6_walk(ctx, &c, p->l3_off + tot);
	if (rc)
		return rc;
	p->l4_off = c.off;
	p->key.proto = c.nh;
	p->flags |= c.frag;
	p->frag_nh = c.frag_nh;
	p->frag_id = c.frag_id;
	return PARSE_OK;
}

static __always_inline_ int icmp_is_error(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

static __always_inline_ int addr6_eq(const void *a, const void *b)
{
	const __u32 *x = a, *y = b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) |
		 (x[3] ^ y[3]));
}

/* An ICMP error about a VIP flow quotes a packet a backend sent from the
 * VIP to the client, and is addressed to that packet's source, the VIP. An
 * error addressed elsewhere (to this node, quoting what looks like a VIP
 * flow) is not the VIP's: it stays the ICMP packet it is, which matches no
 * VIP. The quote's IPv4 options (IHL) and IPv6 extension headers are
 * skipped; a quoted later fragment has no ports. The key becomes the
 * client-to-VIP flow: the quote's destination and ports swapped. */
static __always_inline_ int parse_icmp_quote(struct xdp_md *ctx,
					     struct xlb_pkt *p, __u32 off,
					     __u32 l3_end)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	union xlb_addr client;
	__be16 *ports;
	__u32 l4;
	__u8 proto;

	/* All of it: "= {}" zeroes a union's first member only, and an
	 * IPv4 key's other words must be zero (clang left them as they were
	 * once the IPv6 branch changed). */
	__builtin_memset(&client, 0, sizeof(client));
	if (p->key.family == XLB_AF_INET) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
			return PARSE_MALFORMED;
		if (ip->saddr != p->key.dst.v4 ||
		    (ip->frag_off & bpf_htons(IPV4_OFFSET)))
			return PARSE_OK;
		proto = ip->protocol;
		client.v4 = ip->daddr;
		l4 = off + ip->ihl * 4;
	} else {
		struct ipv6hdr *ip6 = data + off;
		struct ipv6_chain c = {};

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return PARSE_MALFORMED;
		if (!addr6_eq(&ip6->saddr, &p->key.dst))
			return PARSE_OK;
		addr6_copy(&client, &ip6->daddr);
		c.off = off + sizeof(*ip6);
		c.nh = ip6->nexthdr;
		if (ipv6_walk(ctx, &c, l3_end))
			return PARSE_MALFORMED;
		if (c.frag & PKT_F_FRAG_LATER)
			return PARSE_OK;
		proto = c.nh;
		l4 = c.off;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return PARSE_OK;	/* about nothing a VIP serves */
	ports = data + l4;
	if ((void *)(ports + 2) > end || l4 + 4 > l3_end)
		return PARSE_MALFORMED;
	__builtin_memcpy(&p->key.src, &client, sizeof(client));
	p->key.proto = proto;
	p->key.sport = ports[1];
	p->key.dport = ports[0];
	p->flags |= PKT_F_ICMP_ERR;
	return PARSE_OK;
}

/* The ports (and TCP flags) of the TCP or UDP header (p->key.proto) at
 * l4, l4_off bytes into the frame: it must fit the frame and the IP packet
 * (l3_end), a TCP header with its options. PARSE_OK or PARSE_MALFORMED;
 * the general parse and parse_fast alike. */
static __always_inline_ int parse_ports(struct xlb_pkt *p, void *l4,
					void *end, __u32 l4_off, __u32 l3_end)
{
	struct tcphdr *th = l4;
	struct udphdr *uh = l4;

	if (p->key.proto == IPPROTO_TCP) {
		if ((void *)(th + 1) > end || l4_off + sizeof(*th) > l3_end ||
		    th->doff < 5 || l4_off + th->doff * 4 > l3_end)
			return PARSE_MALFORMED;
		p->tcp_flags = ((__u8 *)th)[13];
	} else if ((void *)(uh + 1) > end || l4_off + sizeof(*uh) > l3_end) {
		return PARSE_MALFORMED;
	}
	p->key.sport = th->source;	/* the first two words of either */
	p->key.dport = th->dest;
	return PARSE_OK;
}

static __always_inline_ int parse_l4(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	__u32 l3_end = p->l3_off + p->l3_len;
	void *l4 = data + p->l4_off;
	struct icmphdr *icmp = l4;

	/* A later fragment has no L4 header: it takes its first fragment's
	 * ports (frag.h). A first fragment is parsed as a whole packet. */
	if (p->flags & PKT_F_FRAG_LATER)
		return PARSE_OK;

	switch (p->key.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		return parse_ports(p, l4, end, p->l4_off, l3_end);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((p->key.proto == IPPROTO_ICMP) !=
		    (p->key.family == XLB_AF_INET))
			return PARSE_OK;	/* ICMP in IPv6, say: not ours */
		if (p->flags & PKT_F_FRAG)
			return PARSE_OK;	/* a fragmented error: not ours */
		if ((void *)icmp + 8 > end || p->l4_off + 8 > l3_end)
			return PARSE_MALFORMED;
		if (!icmp_is_error(p->key.proto, icmp->type))
			return PARSE_OK;	/* echo etc.: matches no VIP */
		return parse_icmp_quote(ctx, p, p->l4_off + 8, l3_end);
	default:
		return PARSE_OK;
	}
}

/* parse_fast's ports: TCP or UDP only. 0 or -1. */
static __always_inline_ int fast_ports(struct xlb_pkt *p, void *l4, void *end,
				       __u32 l3_end)
{
	if (p->key.proto != IPPROTO_TCP && p->key.proto != IPPROTO_UDP)
		return -1;
	return parse_ports(p, l4, end, p->l4_off, l3_end) ? -1 : 0;
}

/* Most VIP traffic, in straight line: untagged Ethernet, IPv4 without
 * options or fragmentation, or IPv6 without extension headers, carrying
 * TCP or UDP. Every offset is a constant, and no VLAN tag, option, header
 * chain or ICMP quote is looked for. p (zeroed) ends as parse_packet would
 * leave it: 0. Anything else (the packet may still be good): -1, and the
 * general parse starts over on p zeroed again. */
static __always_inline_ int parse_fast(struct xdp_md *ctx, struct xlb_pkt *p)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	__u32 tot;

	if ((void *)(ip + 1) > end)
		return -1;
	p->l3_off = ETH_HLEN;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		/* version 4, IHL 5; neither more fragments nor an offset */
		if (*(__u8 *)ip != 0x45 ||
		    (ip->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET)))
			return -1;
		tot = bpf_ntohs(ip->tot_len);
		if (tot < sizeof(*ip) || (void *)ip + tot > end)
			return -1;
		ipv4_take(p, ip, tot, ETH_HLEN + sizeof(*ip));
		return fast_ports(p, ip + 1, end, ETH_HLEN + tot);
	}
	if (eth->h_proto != bpf_htons(ETH_P_IPV6) || (void *)(ip6 + 1) > end ||
	    ip6->version != 6)
		return -1;
	tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if ((void *)ip6 + tot > end)
		return -1;
	ipv6_take(p, ip6, tot);
	p->l4_off = ETH_HLEN + sizeof(*ip6);
	p->key.proto = ip6->nexthdr;
	return fast_ports(p, ip6 + 1, end, ETH_HLEN + tot);
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
