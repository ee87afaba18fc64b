/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The flow hash, one definition for BPF and user space. It picks the Maglev
 * slot, the GUE source port and the IPv6 flow label, so tests and tools can
 * predict all three. It is MurmurHash3's 32-bit mixing over the 40-byte flow
 * key read as ten little-endian words. */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>
#include "flow.h"
#include "maps.h"
#include "service.h"

#define XLB_HASH_SEED	0x786c6221U	/* "xlb!" */

static inline __u32 xlb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline __u32 xlb_hash_words(const __u32 *w, int n, __u32 seed)
{
	__u32 h = seed;
	int i;

	for (i = 0; i < n; i++) {
		__u32 k = w[i];

		k *= 0xcc9e2d51U;
		k = xlb_rotl32(k, 15);
		k *= 0x1b873593U;
		h ^= k;
		h = xlb_rotl32(h, 13);
		h = h * 5 + 0xe6546b64U;
	}
	h ^= (__u32)(n * 4);
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

static inline __u32 xlb_flow_hash(const struct xlb_flow_key *k)
{
	return xlb_hash_words((const __u32 *)k, sizeof(*k) / 4, XLB_HASH_SEED);
}

/* Source hashing's seed: a client's slot is not its flows' slots. */
#define XLB_HASH_SEED_SH	0x73686821U	/* "shh!" */

/* The hash that picks a flow's slot on its VIP's ring: the flow hash, or
 * for source hashing the client address alone (every family's address
 * is four words, IPv4 zero-padded). */
static inline __u32 xlb_pick_hash(const struct xlb_flow_key *k, __u8 algo,
				  __u32 flow_hash)
{
	if (algo == XLB_ALGO_SH)
		return xlb_hash_words(k->src.v6, 4, XLB_HASH_SEED_SH);
	return flow_hash;
}

/* GUE outer source port: in 49152..65535 so that backends' RSS spreads. */
static inline __u16 xlb_gue_sport(__u32 hash)
{
	return 0xc000 | (hash & 0x3fff);
}

/* The non-VIP filter's bit for a destination address: the address words
 * folded by XOR, then a multiplicative hash. A clear bit proves the address
 * is no VIP's; a set bit sends the packet on to the VIP lookup. */
static inline __u32 xlb_vip_filter_bit(const union xlb_addr *a)
{
	__u32 x = a->v6[0] ^ a->v6[1] ^ a->v6[2] ^ a->v6[3];

	return (x * 0x9e3779b1U) >> (32 - XLB_VIP_FILTER_SHIFT);
}

struct xlb_vip_filter {
	__u64 words[XLB_VIP_FILTER_WORDS];
};

#endif
