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
 * Ties are broken at random over the tied slots (reservoir sampling: the
 * n-th tie replaces the pick with probability 1/n), so by weight among
 * equals: a burst before any of it is counted spreads, and the turns a
 * busy backend loses spread evenly over the others (the first of equals
 * from a rotating start, as before, gave them all to the backend listed
 * after it: 31-33 % of the new flows instead of 20 in make experiment).
 * The scan runs in bpf_loop: the verifier checks its body once, not 64
 * times over every path into it (unrolled, it took 475k of the 720k
 * instructions the verifier walked for the whole program, of its 1M
 * limit; the tie-break would have passed the limit). The weight is read
 * without the slot's sequence check: a torn read costs one flow a worse
 * pick, never a wrong backend (ring_pick reads the slot again). */
struct lc_scan {
	void *ring;
	__u32 best, ties, rnd;
	__s64 best_c, best_w;
};

static long lc_visit(__u32 k, void *arg)
{
	struct lc_scan *sc = arg;
	struct xlb_backend *be;
	__s64 c, w, l, r;
	__u32 *s;

	s = bpf_map_lookup_elem(sc->ring, &k);
	if (!s || *s == XLB_RING_NONE)
		return 0;
	be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, s);
	if (!be)
		return 0;
	c = conns_of(*s);
	w = be->weight ?: 1;
	l = c * sc->best_w;
	r = sc->best_c * w;
	if (sc->best_c < 0 || l < r) {
		sc->best = k;
		sc->best_c = c;
		sc->best_w = w;
		sc->ties = 1;
	} else if (l == r) {
		/* xorshift32 from one draw per flow: a helper call per
		 * tie doubled the cost of a scan of equals */
		sc->rnd ^= sc->rnd << 13;
		sc->rnd ^= sc->rnd >> 17;
		sc->rnd ^= sc->rnd << 5;
		if (sc->rnd % ++sc->ties == 0)
			sc->best = k;
	}
	return 0;
}

static __always_inline_ __u32 lc_index(const struct xlb_vip *vip)
{
	struct lc_scan sc = { .best_c = -1, .best_w = 1,
			      .rnd = bpf_get_prandom_u32() | 1 };
	__u32 vip_id = vip->id;

	sc.ring = bpf_map_lookup_elem(&XLB_MAP_MAGLEV, &vip_id);
	if (!sc.ring)
		return 0;
	bpf_loop(XLB_LC_MAX, lc_visit, &sc, 0);
	return sc.best;
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
static __always_inline_ int vip_addr_maybe(const union xlb_addr *dst)
{
	__u32 bit = xlb_vip_filter_bit(dst), zero = 0;
	struct xlb_vip_filter *vf;

	vf = bpf_map_lookup_elem(&XLB_MAP_VIP_FILTER, &zero);
	if (!vf)
		return 0;
	return (vf->words[(bit >> 6) & (XLB_VIP_FILTER_WORDS - 1)] >>
		(bit & 63)) & 1;
}

#endif
