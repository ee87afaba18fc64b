/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* VIP matching and the VIP's Maglev ring. The flow tables are flowtab.h. */
#ifndef XLB_BPF_SELECT_H
#define XLB_BPF_SELECT_H

#include "common.h"
#include "maps.h"
#include "parse.h"


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

/* A whole version of backend slot id, copied to out. User space rewrites
 * a slot in three map updates (user/lib/lib.c, slot_put): seq made odd,
 * then the new contents (seq still odd), then seq made even and new. A
 * copy taken between two reads of one even seq is therefore one version,
 * never the old flags with the new address: a packet racing a rewrite
 * sees a miss (the flow picks again) instead. Loads stay in program order
 * (barrier() here, the JIT, and x86's load ordering). 0, or -1: no slot,
 * not ACTIVE, or being rewritten. */
static __always_inline_ int backend_read(__u32 id, struct xlb_backend *out)
{
	struct xlb_backend *be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &id);
	__u8 seq;

	if (!be)
		return -1;
	seq = *(volatile __u8 *)&be->seq;
	if (seq & 1)
		return -1;
	asm volatile("" ::: "memory");
	__builtin_memcpy(out, be, sizeof(*out));
	asm volatile("" ::: "memory");
	if (*(volatile __u8 *)&be->seq != seq ||
	    !(out->flags & XLB_BE_F_ACTIVE))
		return -1;
	return 0;
}

/* A backend slot that is live and still belongs to this VIP. */
static __always_inline_ int backend_get(__u32 id, __u32 vip_id,
					struct xlb_backend *out)
{
	if (backend_read(id, out) || out->vip_id != vip_id)
		return -1;
	return 0;
}

/* The slot the VIP's ring in rings (XLB_MAP_MAGLEV, or the previous one)
 * gives hash. */
static __always_inline_ int ring_pick(void *rings, const struct xlb_vip *vip,
				      __u32 hash, __u32 ring_size, __u32 *id)
{
	__u32 vip_id = vip->id, slot;
	__u32 *ring_val;
	void *ring;

	if (!ring_size)
		return -1;
	ring = bpf_map_lookup_elem(rings, &vip_id);
	if (!ring)
		return -1;
	slot = hash % ring_size;
	ring_val = bpf_map_lookup_elem(ring, &slot);
	if (!ring_val || *ring_val == XLB_RING_NONE)
		return -1;
	*id = *ring_val;
	return 0;
}

/* The next position in the VIP's ring for an algorithm that reads it in
 * turn; each CPU starts where its number puts it, so that CPUs do not all
 * begin with the same backend. */
static __always_inline_ __u32 turn_next(__u32 vip_id)
{
	__u32 *t = bpf_map_lookup_elem(&XLB_MAP_TURN, &vip_id);

	if (!t)
		return 0;
	if (!*t)
		*t = bpf_get_smp_processor_id() * 7919U;
	return (*t)++;
}

/* Power of two choices: two random slots of the VIP's ring (its weights
 * drew them), the backend with fewer active connections per weight. */
static __always_inline_ __u32 p2c_index(const struct xlb_vip *vip,
					__u32 ring_size)
{
	__u32 a = bpf_get_prandom_u32() % ring_size;
	__u32 b = bpf_get_prandom_u32() % ring_size;
	__u32 vip_id = vip->id, *sa, *sb;
	struct xlb_backend ba, bb;
	void *ring;

	ring = bpf_map_lookup_elem(&XLB_MAP_MAGLEV, &vip_id);
	if (!ring)
		return a;
	sa = bpf_map_lookup_elem(ring, &a);
	sb = bpf_map_lookup_elem(ring, &b);
	if (!sa || !sb || *sa == *sb || backend_read(*sb, &bb))
		return a;
	if (backend_read(*sa, &ba))
		return b;
	/* conns_a / w_a > conns_b / w_b, without division. */
	if ((__s64)conns_of(*sa) * (bb.weight ?: 1) >
	    (__s64)conns_of(*sb) * (ba.weight ?: 1))
		return b;
	return a;
}

/* Weighted least connections: the ring lists the VIP's backends with
 * weight, over and over, in its first XLB_LC_MAX slots (user/lib/algo.c,
 * members_build); the one with the fewest active connections per weight.
 * The scan starts at the next turn (XLB_LC_MAX is a power of two), so that
 * ties do not all go to one backend (a burst, too, before any of it is
 * confirmed and counted); the first of equals in scan order wins. The
 * weight is read without the slot's sequence check: a torn read costs one
 * flow a worse pick, never a wrong backend (ring_pick reads the slot
 * again). */
static __always_inline_ __u32 lc_index(const struct xlb_vip *vip)
{
	__u32 vip_id = vip->id, start = turn_next(vip->id), best = 0, i;
	void *ring = bpf_map_lookup_elem(&XLB_MAP_MAGLEV, &vip_id);
	__s64 best_c = -1, best_w = 1;

	if (!ring)
		return 0;
	for (i = 0; i < XLB_LC_MAX; i++) {
		__u32 k = (start + i) & (XLB_LC_MAX - 1), *s;
		struct xlb_backend *be;
		__s64 c, w;

		s = bpf_map_lookup_elem(ring, &k);
		if (!s || *s == XLB_RING_NONE)
			continue;
		be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, s);
		if (!be)
			continue;
		c = conns_of(*s);
		w = be->weight ?: 1;
		if (best_c < 0 || c * best_w < best_c * w) {
			best = k;
			best_c = c;
			best_w = w;
		}
	}
	return best;
}

/* Where a new flow reads the VIP's ring: its pick hash, the next turn, or
 * the better of two random slots, or the least loaded. */
static __always_inline_ __u32 ring_index(struct xlb_pkt *p,
					 const struct xlb_vip *vip,
					 __u32 ring_size)
{
	if (xlb_algo_in_turn(vip->algo))
		return turn_next(vip->id);
	if (vip->algo == XLB_ALGO_P2C && ring_size)
		return p2c_index(vip, ring_size);
	if (vip->algo == XLB_ALGO_LC)
		return lc_index(vip);
	return xlb_pick_hash(&p->key, vip->algo, pkt_hash(p));
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
