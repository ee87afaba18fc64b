// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlb_decap: the backend side. Strips the IPIP (4in4, 6in6, 4in6, 6in4) or
 * GUE variant 1 header that xlb put in front of a client packet and hands
 * the inner packet to the kernel, which delivers it to the VIP bound on lo.
 *
 * Only tunnels the balancer could have sent are opened: the outer
 * destination must be in XLB_MAP_DECAP_DST, the outer source in
 * XLB_MAP_DECAP_SRC when that check is on, the inner destination in
 * XLB_MAP_DECAP_INNER, and every length must agree. Anyone who reaches a
 * backend could otherwise hand its stack packets with any inner addresses,
 * past filters that look at the outer ones. A tunnel that fails is
 * rejected: passed untouched (the kernel has no tunnel device for it and
 * drops it) or dropped, as XLB_DECAP_F_DROP says; everything that is no
 * tunnel of ours passes. Each packet bumps one counter saying why.
 * Attached with a plain netlink attach, it needs no daemon and no bpffs. */
#include "common.h"
#include "parse.h"
#include "encap.h"
#include "decap_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Stages return DC_OK to go on, or the counter the packet ends with. */
#define DC_OK		XLB_DC_MAX
#define OUTER_HDR_MAX	(40 + 8)	/* IPv6, plus UDP */

struct tunnel {
	__u32 l3_off;		/* outer IP header, after L2 */
	__u32 hdr;		/* bytes to strip: outer IP (+ UDP) */
	__u32 len;		/* outer IP packet, from its header */
	__u8 gue;		/* UDP to the GUE port, not IPIP */
	__u8 inner_family;	/* from the outer protocol; 0 for GUE */
	__u8 kind;		/* the counter of a success */
	struct xlb_decap_key src, dst;
};

static __always_inline_ void key4(struct xlb_decap_key *k, __be32 a)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->prefixlen = XLB_DECAP_FAMILY_BITS + 32;
	k->family = XLB_AF_INET;
	__builtin_memcpy(k->addr, &a, 4);
}

static __always_inline_ void key6(struct xlb_decap_key *k, const void *a)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->prefixlen = XLB_DECAP_FAMILY_BITS + 128;
	k->family = XLB_AF_INET6;
	__builtin_memcpy(k->addr, a, 16);
}

/* Is the IP payload at l4 a tunnel of ours? Looks at the protocol, and for
 * UDP at the destination port, nothing else. */
static __always_inline_ int tunnel_of(void *l4, void *end, __u8 proto,
				      __be16 gue_port, struct tunnel *t)
{
	struct udphdr *uh = l4;

	switch (proto) {
	case IPPROTO_IPIP:
		t->inner_family = XLB_AF_INET;
		return DC_OK;
	case IPPROTO_IPV6:
		t->inner_family = XLB_AF_INET6;
		return DC_OK;
	case IPPROTO_UDP:
		if ((void *)(uh + 1) > end || !gue_port || uh->dest != gue_port)
			return XLB_DC_NOT_TUNNEL;
		t->gue = 1;
		t->hdr = sizeof(*uh);
		return DC_OK;
	}
	return XLB_DC_NOT_TUNNEL;
}

/* GUE: the UDP length is the whole outer payload, as encap() writes it. */
static __always_inline_ int gue_len_ok(void *l4, void *end, __u32 payload)
{
	struct udphdr *uh = l4;

	return (void *)(uh + 1) <= end && payload >= sizeof(*uh) &&
	       bpf_ntohs(uh->len) == payload;
}

static __always_inline_ int outer4(struct xdp_md *ctx, struct tunnel *t,
				   __be16 gue_port)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct iphdr *ip = data + t->l3_off;
	int rc;

	if ((void *)(ip + 1) > end)
		return XLB_DC_NOT_TUNNEL;
	/* A later fragment's payload is no UDP header: nothing to tell. */
	if (ip->protocol == IPPROTO_UDP &&
	    (ip->frag_off & bpf_htons(IPV4_OFFSET)))
		return XLB_DC_NOT_TUNNEL;
	rc = tunnel_of(ip + 1, end, ip->protocol, gue_port, t);
	if (rc != DC_OK)
		return rc;
	/* encap() writes no options. A fixed header length also keeps the
	 * strip offset a constant the verifier can follow. */
	if (ip->version != 4 || ip->ihl != 5)
		return XLB_DC_MALFORMED;
	/* xlb sets DF: a fragmented tunnel is not the balancer's. */
	if (ip->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET))
		return XLB_DC_FRAGMENT;
	t->len = bpf_ntohs(ip->tot_len);
	if (t->len < sizeof(*ip) || (void *)ip + t->len > end)
		return XLB_DC_MALFORMED;
	if (t->gue && !gue_len_ok(ip + 1, end, t->len - sizeof(*ip)))
		return XLB_DC_MALFORMED;
	t->hdr += sizeof(*ip);
	t->kind = t->gue ? XLB_DC_GUE4 : XLB_DC_IPIP4;
	key4(&t->src, ip->saddr);
	key4(&t->dst, ip->daddr);
	return DC_OK;
}

/* xlb writes no extension headers: a packet with one is no tunnel of ours
 * (its nexthdr is neither 4, 41 nor UDP). */
static __always_inline_ int outer6(struct xdp_md *ctx, struct tunnel *t,
				   __be16 gue_port)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ipv6hdr *ip6 = data + t->l3_off;
	int rc;

	if ((void *)(ip6 + 1) > end)
		return XLB_DC_NOT_TUNNEL;
	rc = tunnel_of(ip6 + 1, end, ip6->nexthdr, gue_port, t);
	if (rc != DC_OK)
		return rc;
	if (ip6->version != 6)
		return XLB_DC_MALFORMED;
	t->len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if ((void *)ip6 + t->len > end)
		return XLB_DC_MALFORMED;
	if (t->gue && !gue_len_ok(ip6 + 1, end, t->len - sizeof(*ip6)))
		return XLB_DC_MALFORMED;
	t->hdr += sizeof(*ip6);
	t->kind = t->gue ? XLB_DC_GUE6 : XLB_DC_IPIP6;
	key6(&t->src, &ip6->saddr);
	key6(&t->dst, &ip6->daddr);
	return DC_OK;
}

static __always_inline_ int outer(struct xdp_md *ctx, struct tunnel *t,
				  const struct xlb_decap_config *cfg)
{
	struct xlb_pkt p = {};
	__be16 proto;

	if (parse_eth(ctx, &p, &proto) || p.l3_off > L2_MAX)
		return XLB_DC_NOT_TUNNEL;
	t->l3_off = p.l3_off;
	if (proto == bpf_htons(ETH_P_IP))
		return outer4(ctx, t, cfg->gue_port);
	if (proto == bpf_htons(ETH_P_IPV6))
		return outer6(ctx, t, cfg->gue_port);
	return XLB_DC_NOT_TUNNEL;
}

static __always_inline_ int outer_allowed(const struct tunnel *t,
					  const struct xlb_decap_config *cfg)
{
	if (!in_set(&XLB_MAP_DECAP_DST, &t->dst))
		return XLB_DC_OUTER_DST;
	if ((cfg->flags & XLB_DECAP_F_CHECK_SRC) &&
	    !in_set(&XLB_MAP_DECAP_SRC, &t->src))
		return XLB_DC_OUTER_SRC;
	return DC_OK;
}

/* The inner packet fills the outer payload exactly; its family is the one
 * the outer protocol names (GUE: its version nibble). */
static __always_inline_ int inner(struct xdp_md *ctx, struct tunnel *t,
				  struct xlb_decap_key *dst)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	__u32 off = t->l3_off + t->hdr, len = t->len - t->hdr;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__u8 family;

	if (t->l3_off > L2_MAX || t->hdr > OUTER_HDR_MAX)
		return XLB_DC_MALFORMED;
	ip = data + off;
	ip6 = data + off;
	if ((void *)ip + 1 > end)
		return XLB_DC_MALFORMED;
	family = *(__u8 *)ip >> 4;
	if (t->inner_family && family != t->inner_family)
		return XLB_DC_MALFORMED;
	if (family == XLB_AF_INET) {
		if ((void *)(ip + 1) > end || ip->ihl < 5 ||
		    ip->ihl * 4 > len || bpf_ntohs(ip->tot_len) != len)
			return XLB_DC_MALFORMED;
		key4(dst, ip->daddr);
	} else if (family == XLB_AF_INET6) {
		if ((void *)(ip6 + 1) > end ||
		    sizeof(*ip6) + bpf_ntohs(ip6->payload_len) != len)
			return XLB_DC_MALFORMED;
		key6(dst, &ip6->daddr);
	} else {
		return XLB_DC_MALFORMED;
	}
	t->inner_family = family;
	return DC_OK;
}

/* Remove hdr bytes of outer header(s), keeping L2; returns the success
 * counter. */
static __always_inline_ int strip_n(struct xdp_md *ctx,
				    const struct tunnel *t, const __u32 hdr)
{
	void *data, *end;

	if (t->l3_off > L2_MAX)
		return XLB_DC_MALFORMED;
	if (move_l2_back(ctx, t->l3_off, hdr) ||
	    bpf_xdp_adjust_head(ctx, (int)hdr))
		return XLB_DC_MALFORMED;
	data = PKT(ctx);
	end = PKT_END(ctx);
	if (data + L2_MAX > end)
		return XLB_DC_MALFORMED;
	set_l2_proto(data, end, t->l3_off, t->inner_family);
	return t->kind;
}

/* One call per header length, each a constant: the verifier then knows
 * how far the L2 header moves (a length read back from the stack it would
 * not). */
static __always_inline_ int strip(struct xdp_md *ctx, const struct tunnel *t)
{
	switch (t->kind) {
	case XLB_DC_IPIP4:
		return strip_n(ctx, t, sizeof(struct iphdr));
	case XLB_DC_GUE4:
		return strip_n(ctx, t, sizeof(struct iphdr) +
					       sizeof(struct udphdr));
	case XLB_DC_IPIP6:
		return strip_n(ctx, t, sizeof(struct ipv6hdr));
	case XLB_DC_GUE6:
		return strip_n(ctx, t, sizeof(struct ipv6hdr) +
					       sizeof(struct udphdr));
	}
	return XLB_DC_MALFORMED;
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	struct xlb_decap_config *cfg;
	struct xlb_decap_key dst;
	struct tunnel t = {};
	__u32 zero = 0;
	int rc;

	cfg = bpf_map_lookup_elem(&XLB_MAP_DECAP_CFG, &zero);
	if (!cfg)
		return XDP_PASS;
	rc = outer(ctx, &t, cfg);
	if (rc == DC_OK)
		rc = outer_allowed(&t, cfg);
	if (rc == DC_OK)
		rc = inner(ctx, &t, &dst);
	if (rc == DC_OK && !in_set(&XLB_MAP_DECAP_INNER, &dst))
		rc = XLB_DC_INNER_DST;
	if (rc == DC_OK)
		rc = strip(ctx, &t);
	decap_count(rc);
	if (rc >= XLB_DC_FIRST_REJECT && (cfg->flags & XLB_DECAP_F_DROP))
		return XDP_DROP;
	return XDP_PASS;
}
