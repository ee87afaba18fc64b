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

/* An established flow whose backend slot is still live and of the same
 * generation keeps its backend. Looked up before the VIP: the slot knows its
 * VIP and mode, and a deleted VIP frees its slots, so a hit is always a live
 * VIP's. Fragments have no ports and so no flow. */
static __always_inline_ int flow_established(const struct xlb_pkt *p,
					     struct pick *out)
{
	struct xlb_backend *be;
	struct xlb_flow *f;
	__u64 now;
	__u32 id;

	if (p->flags & PKT_F_FRAG)
		return -1;
	f = bpf_map_lookup_elem(&XLB_MAP_FLOWS, &p->key);
	/* Generation 0 is never a slot's: a zeroed value is a miss. */
	if (!f || !f->gen)
		return -1;
	id = f->backend;
	be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);
	if (!be || !(be->flags & XLB_BE_F_ACTIVE) || be->gen != f->gen) {
		count(XLB_C_FLOW_RESELECT);
		return -1;
	}
	/* Write only when it changed: fewer dirtied cache lines. */
	now = bpf_jiffies64();
	if (f->last_seen != now)
		f->last_seen = now;
	out->be = be;
	out->id = id;
	count(XLB_C_FLOW_HIT);
	return 0;
}

/* A new flow (or one whose backend is gone) takes the ring's choice. ICMP
 * errors and fragments follow the same choice but create no flow entry. */
static __always_inline_ int select_new(struct xlb_pkt *p,
				       const struct xlb_vip *vip,
				       const struct xlb_config *cfg,
				       struct pick *out)
{
	struct xlb_flow nf;

	if (maglev_pick(vip, pkt_hash(p), cfg->ring_size, &out->id))
		return -1;
	out->be = backend_get(out->id, vip->id);
	if (!out->be)
		return -1;
	if (p->flags & (PKT_F_FRAG | PKT_F_ICMP_ERR))
		return 0;

	nf.backend = out->id;
	nf.gen = out->be->gen;
	nf.last_seen = bpf_jiffies64();
	bpf_map_update_elem(&XLB_MAP_FLOWS, &p->key, &nf, BPF_ANY);
	out->new_flow = 1;
	count(XLB_C_FLOW_NEW);
	return 0;
}

#endif
