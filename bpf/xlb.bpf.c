// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlb: the XDP load balancer. Parse, drop out early when the destination is
 * no VIP's address, find the flow (flowtab.h) or match the VIP and pick a
 * backend, encapsulate or rewrite, send. Everything that is not VIP traffic
 * leaves with XDP_PASS untouched. A confirmed flow's plain packets take a
 * straight-line version of the same (fast.h); the rest the general path. */
#include "common.h"
#include "counters.h"
#include "maps.h"
#include "parse.h"
#include "select.h"
#include "flowtab.h"
#include "frag.h"
#include "encap.h"
#include "xmit.h"
#include "icmp.h"
#include "fast.h"
#ifdef XLB_CAPTURE
#include "capture.h"
#else
#include "xlb/capture.h"	/* XLB_CAP_ANY */
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline_ int verdict(__u32 counter, int action)
{
	count(counter);
	return action;
}

static __always_inline_ int forward(struct xdp_md *ctx, struct xlb_pkt *p,
				    const struct xlb_config *cfg,
				    const struct xlb_backend *be)
{
	struct encap_args a;
	__u32 overhead;

	__u8 mode = be->mode;

	if (mode == XLB_MODE_L2)
		return xmit_l2(ctx, cfg, p, be);
	a.src = outer_source(cfg, be->family);
	if (!a.src)
		return verdict(XLB_C_DROP_NO_ROUTE, XDP_DROP);

	overhead = encap_overhead(be->family, mode);
	if (p->l3_len + overhead > cfg->mtu)
		return too_big(ctx, p, cfg, overhead);

	a.dst = &be->addr;
	a.hash = (mode == XLB_MODE_GUE || be->family == XLB_AF_INET6) ?
			 pkt_hash(p) : 0;
	a.family = be->family;
	a.mode = mode;
	a.gue_port = cfg->gue_port;
	if (encap(ctx, p, &a))
		return verdict(XLB_C_DROP_ENCAP, XDP_DROP);
	return xmit(ctx, cfg, a.family, a.src, a.dst);
}

/* The general path: every packet the fast path (fast.h) did not finish,
 * with what it found (struct flow_pre): the parse, the node's settings,
 * the flow table's answer. */
static __always_inline_ int balance_general(struct xdp_md *ctx,
					    struct xlb_pkt *p,
					    const struct flow_pre *pre,
					    __u32 *slot)
{
	struct pick pk = {};
	struct xlb_config *cfg;
	struct xlb_vip *vip;
	int rc;

	if (!pre->parsed) {
		__builtin_memset(p, 0, sizeof(*p));
		rc = parse_packet(ctx, p);
		if (rc == PARSE_NOT_IP)
			return verdict(XLB_C_PASS_NOT_IP, XDP_PASS);
		if (rc != PARSE_OK)
			return verdict(XLB_C_PASS_MALFORMED, XDP_PASS);
		if (!vip_addr_maybe(&p->key.dst))
			return verdict(XLB_C_PASS_NOT_VIP, XDP_PASS);
	}
	cfg = pre->cfg ? pre->cfg : get_config();
	if (!cfg)
		return verdict(XLB_C_PASS_NOT_VIP, XDP_PASS);

	if ((p->flags & PKT_F_FRAG) && frag_follow(p))
		return verdict(XLB_C_DROP_FRAG_ORPHAN, XDP_DROP);
	if (flow_lookup(p, &pk, pre)) {
		vip = vip_lookup(p);
		if (!vip)
			return verdict(p->flags & PKT_F_FRAG ?
					       XLB_C_PASS_FRAGMENT :
					       XLB_C_PASS_NOT_VIP,
				       XDP_PASS);
		if (flow_select(p, vip, cfg, &pk))
			return verdict(XLB_C_DROP_NO_BACKEND, XDP_DROP);
	}

	*slot = pk.id;
	count_traffic(&XLB_MAP_BE_STATS, pk.id, p->l3_len, pk.new_flow);
	if (p->flags & PKT_F_ICMP_ERR)
		count(XLB_C_ICMP_ERR_FWD);
	if (p->flags & PKT_F_FRAG)
		count(XLB_C_FRAG_FWD);
	return forward(ctx, p, cfg, &pk.be);
}

/* The balancer; *slot gets the backend slot it sent the packet to (for
 * the capture build's filter; the normal build drops the store). */
static __always_inline_ int balance(struct xdp_md *ctx, __u32 *slot)
{
	struct flow_pre pre = {};
	struct xlb_pkt p = {};
	int rc;

	rc = fast_path(ctx, &p, &pre, slot);
	if (rc != FAST_NO)
		return rc;
	return balance_general(ctx, &p, &pre, slot);
}

SEC("xdp")
int xlb_balancer(struct xdp_md *ctx)
{
	__u32 slot = XLB_CAP_ANY;
#ifdef XLB_CAPTURE
	struct cap_scratch *s = cap_in(ctx);
	int action = balance(ctx, &slot);

	if (s)
		cap_out(ctx, s, action, slot);
	return action;
#else
	return balance(ctx, &slot);
#endif
}
