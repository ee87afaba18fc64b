/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Backend selection: the flow table first, then the VIP's Maglev ring. */
#ifndef XLB_BPF_SELECT_H
#define XLB_BPF_SELECT_H

#include "common.h"
#include "maps.h"
#include "parse.h"

#define MAGLEV_NONE_	0xffffffffU

static __always_inline_ struct xlb_vip *vip_lookup(const struct xlb_pkt *p)
{
	struct xlb_vip_key k = {};
	struct xlb_vip *vip;

	__builtin_memcpy(&k.addr, &p->key.dst, sizeof(k.addr));
	k.port = p->key.dport;
	k.proto = p->key.proto;
	k.family = p->key.family;
	vip = bpf_map_lookup_elem(&XLB_MAP_VIPS, &k);
	if (vip || !k.port)
		return vip;
	k.port = 0;	/* a wildcard VIP takes every port */
	return bpf_map_lookup_elem(&XLB_MAP_VIPS, &k);
}

/* A backend slot that is live and still belongs to this VIP. */
static __always_inline_ struct xlb_backend *backend_get(__u32 id, __u32 vip_id)
{
	struct xlb_backend *be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);

	if (!be || !(be->flags & XLB_BE_F_ACTIVE) || be->vip_id != vip_id)
		return NULL;
	return be;
}

static __always_inline_ int maglev_pick(const struct xlb_vip *vip, __u32 hash,
					__u32 ring_size, __u32 *id)
{
	__u32 vip_id = vip->id, slot;
	__u32 *ring_val;
	void *ring;

	if (!ring_size)
		return -1;
	ring = bpf_map_lookup_elem(&XLB_MAP_MAGLEV, &vip_id);
	if (!ring)
		return -1;
	slot = hash % ring_size;
	ring_val = bpf_map_lookup_elem(ring, &slot);
	if (!ring_val || *ring_val == MAGLEV_NONE_)
		return -1;
	*id = *ring_val;
	return 0;
}

struct pick {
	struct xlb_backend *be;
	__u32 id;
	int new_flow;
};

/* Established flows keep their backend while its slot is live; new flows
 * (and flows whose backend was removed) take the ring's choice. ICMP errors
 * and fragments follow the same choice but create no flow entry. */
static __always_inline_ int pick_backend(struct xlb_pkt *p,
					 const struct xlb_vip *vip,
					 const struct xlb_config *cfg,
					 struct pick *out)
{
	int stateless = p->flags & (PKT_F_FRAG | PKT_F_ICMP_ERR);
	/* Coarse time is enough for idle ageing and much cheaper. */
	__u64 now = bpf_ktime_get_coarse_ns();
	struct xlb_flow *f = NULL;
	struct xlb_flow nf;

	if (!(p->flags & PKT_F_FRAG))
		f = bpf_map_lookup_elem(&XLB_MAP_FLOWS, &p->key);
	if (f) {
		out->be = backend_get(f->backend, vip->id);
		if (out->be && out->be->gen == f->gen) {
			out->id = f->backend;
			f->last_seen_ns = now;
			count(XLB_C_FLOW_HIT);
			return 0;
		}
		count(XLB_C_FLOW_RESELECT);
	}

	if (maglev_pick(vip, pkt_hash(p), cfg->ring_size, &out->id))
		return -1;
	out->be = backend_get(out->id, vip->id);
	if (!out->be)
		return -1;
	if (stateless)
		return 0;

	nf.backend = out->id;
	nf.gen = out->be->gen;
	nf.last_seen_ns = now;
	bpf_map_update_elem(&XLB_MAP_FLOWS, &p->key, &nf, BPF_ANY);
	out->new_flow = 1;
	count(XLB_C_FLOW_NEW);
	return 0;
}

#endif
