// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlb_decap: the backend side. Strips the IPIP (4in4, 6in6, 4in6, 6in4) or
 * GUE variant 1 header that xlb put in front of a client packet and hands
 * the inner packet to the kernel, which delivers it to the VIP bound on lo.
 * Everything else passes untouched. Attached with a plain netlink attach,
 * it needs no daemon and no bpffs. */
#include "common.h"
#include "counters.h"
#include "parse.h"
#include "encap.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* GUE destination port we accept, network order; set before load. */
const volatile __be16 gue_port = bpf_htons(XLB_GUE_PORT_DEFAULT);

struct outer {
	__u32 hdr;		/* bytes to strip after L2 */
	__u8 inner_family;	/* 0: learn from the inner version nibble */
};

/* Returns 1 when the L3 payload at ip is a tunnel of ours, 0 when not, -1
 * when it is but the headers are cut short. */
static __always_inline_ int tunnel_of(void *l4, void *end, __u8 proto,
				      __u32 l3_hdr, struct outer *o)
{
	struct udphdr *uh = l4;

	o->inner_family = 0;
	switch (proto) {
	case IPPROTO_IPIP:
		o->inner_family = XLB_AF_INET;
		o->hdr = l3_hdr;
		return 1;
	case IPPROTO_IPV6:
		o->inner_family = XLB_AF_INET6;
		o->hdr = l3_hdr;
		return 1;
	case IPPROTO_UDP:
		if ((void *)(uh + 1) > end)
			return -1;
		if (uh->dest != gue_port)
			return 0;
		o->hdr = l3_hdr + sizeof(*uh);
		return 1;
	}
	return 0;
}

static __always_inline_ int classify(struct xdp_md *ctx, __be16 proto,
				     __u32 l3_off, struct outer *o)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + l3_off;

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return -1;
		/* A fragmented tunnel packet is the kernel's to reassemble. */
		if (ip->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET))
			return 0;
		return tunnel_of((void *)ip + ip->ihl * 4, end, ip->protocol,
				 ip->ihl * 4, o);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + l3_off;

		if ((void *)(ip6 + 1) > end)
			return -1;
		return tunnel_of(ip6 + 1, end, ip6->nexthdr, sizeof(*ip6), o);
	}
	return 0;
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	struct xlb_pkt p = {};
	struct outer o = {};
	void *data, *end;
	__be16 proto;
	__u8 *inner;
	int rc;

	if (parse_eth(ctx, &p, &proto))
		goto pass;
	rc = classify(ctx, proto, p.l3_off, &o);
	if (rc == 0)
		goto pass;
	if (rc < 0 || p.l3_off > L2_MAX || o.hdr > 60 + 8)
		goto malformed;

	data = PKT(ctx);
	end = PKT_END(ctx);
	inner = data + p.l3_off + o.hdr;
	if ((void *)(inner + 20) > end)
		goto malformed;
	if (!o.inner_family)
		o.inner_family = *inner >> 4;
	if (o.inner_family != (*inner >> 4) ||
	    (o.inner_family != XLB_AF_INET && o.inner_family != XLB_AF_INET6))
		goto malformed;

	if (move_l2_back(ctx, p.l3_off, o.hdr) ||
	    bpf_xdp_adjust_head(ctx, (int)o.hdr))
		goto malformed;
	data = PKT(ctx);
	end = PKT_END(ctx);
	if (data + L2_MAX > end)
		goto malformed;
	set_l2_proto(data, end, p.l3_off, o.inner_family);
	count(XLB_C_DECAP);
	return XDP_PASS;
malformed:
	count(XLB_C_DECAP_MALFORMED);
	return XDP_PASS;
pass:
	count(XLB_C_DECAP_PASS);
	return XDP_PASS;
}
