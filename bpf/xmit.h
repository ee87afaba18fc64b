/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Sending a rewritten frame: next hop from the kernel FIB (MACs and egress
 * interface), else the configured gateway MAC; XDP_TX when the egress is the
 * ingress interface, bpf_redirect otherwise. */
#ifndef XLB_BPF_XMIT_H
#define XLB_BPF_XMIT_H

#include "common.h"
#include "maps.h"
#include "parse.h"

#define AF_INET_	2
#define AF_INET6_	10

static __always_inline_ int fib_next_hop(struct xdp_md *ctx, __u8 family,
					 const union xlb_addr *src,
					 const union xlb_addr *dst,
					 struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	if (family == XLB_AF_INET) {
		fib->family = AF_INET_;
		fib->ipv4_src = src->v4;
		fib->ipv4_dst = dst->v4;
	} else {
		fib->family = AF_INET6_;
		__builtin_memcpy(fib->ipv6_src, src, 16);
		__builtin_memcpy(fib->ipv6_dst, dst, 16);
	}
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/* The FIB answered: its MACs, out of the interface it names. */
static __always_inline_ int fib_send(struct xdp_md *ctx, struct ethhdr *eth,
				     const struct bpf_fib_lookup *fib)
{
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	if (fib->ifindex == ctx->ingress_ifindex) {
		count(XLB_C_TX);
		return XDP_TX;
	}
	count(XLB_C_REDIRECT);
	return bpf_redirect(fib->ifindex, 0);
}

/* Send the frame at ctx towards dst. The frame's destination MAC is still
 * the one it arrived with, i.e. ours: it becomes the source MAC when the
 * gateway fallback is used. */
static __always_inline_ int xmit(struct xdp_md *ctx,
				 const struct xlb_config *cfg, __u8 family,
				 const union xlb_addr *src,
				 const union xlb_addr *dst)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	if (!(cfg->flags & XLB_CFG_F_NO_FIB) &&
	    fib_next_hop(ctx, family, src, dst, &fib) ==
		    BPF_FIB_LKUP_RET_SUCCESS) {
		return fib_send(ctx, eth, &fib);
	}
	if (!(cfg->flags & XLB_CFG_F_HAS_GW)) {
		count(XLB_C_DROP_NO_ROUTE);
		return XDP_DROP;
	}
	mac_copy(eth->h_source, eth->h_dest);
	mac_copy(eth->h_dest, cfg->gw_mac);
	count(XLB_C_TX);
	return XDP_TX;
}

/* Whether the FIB's next hop is dst itself. On a route with a gateway
 * bpf_fib_lookup writes the gateway's address over the destination. */
static __always_inline_ int fib_onlink(const struct bpf_fib_lookup *fib,
				       __u8 family, const union xlb_addr *dst)
{
	if (family == XLB_AF_INET)
		return fib->ipv4_dst == dst->v4;
	return !((fib->ipv6_dst[0] ^ dst->v6[0]) |
		 (fib->ipv6_dst[1] ^ dst->v6[1]) |
		 (fib->ipv6_dst[2] ^ dst->v6[2]) |
		 (fib->ipv6_dst[3] ^ dst->v6[3]));
}

/* L2 DSR: the packet is unchanged but for the MACs. Its destination is the
 * VIP, so only a backend on-link can take it: a gateway would route it
 * back to us. */
static __always_inline_ int xmit_l2(struct xdp_md *ctx,
				    const struct xlb_config *cfg,
				    const struct xlb_pkt *p,
				    const struct xlb_backend *be)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	if (be->flags & XLB_BE_F_HAS_MAC) {
		mac_copy(eth->h_source, eth->h_dest);
		mac_copy(eth->h_dest, be->mac);
		count(XLB_C_TX);
		return XDP_TX;
	}
	if (!(cfg->flags & XLB_CFG_F_NO_FIB) &&
	    fib_next_hop(ctx, be->family, &p->key.src, &be->addr, &fib) ==
		    BPF_FIB_LKUP_RET_SUCCESS) {
		if (!fib_onlink(&fib, be->family, &be->addr)) {
			count(XLB_C_DROP_L2_OFFLINK);
			return XDP_DROP;
		}
		return fib_send(ctx, eth, &fib);
	}
	count(XLB_C_DROP_NO_ROUTE);
	return XDP_DROP;
}

#endif
