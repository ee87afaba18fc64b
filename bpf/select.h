/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* VIP matching and the VIP's Maglev ring. The flow tables are flowtab.h. */
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

/* Whether the destination may be a VIP's address. A clear filter bit
 * proves it is not, so non-VIP traffic (the host's own, scans) passes
 * after an inlined array load: no hash lookup, no flow table. */
static __always_inline_ int vip_addr_maybe(const struct xlb_pkt *p)
{
	__u32 bit = xlb_vip_filter_bit(&p->key.dst), zero = 0;
	struct xlb_vip_filter *vf;

	vf = bpf_map_lookup_elem(&XLB_MAP_VIP_FILTER, &zero);
	if (!vf)
		return 0;
	return (vf->words[(bit >> 6) & (XLB_VIP_FILTER_WORDS - 1)] >>
		(bit & 63)) & 1;
}

#endif
