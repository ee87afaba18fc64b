/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Fragments stay with their flow. Only a datagram's first fragment carries
 * the TCP/UDP header: it is balanced as any packet of its flow (flow
 * tables, VIP by port) and its ports are kept in xlb_frags, an LRU keyed by
 * what identifies a datagram's fragments (source, destination, id,
 * protocol). A later fragment takes those ports, then follows its flow's
 * entry or the ring exactly as the first did, so every packet of a flow,
 * fragmented or not, reaches one backend; it never makes or changes an
 * entry (PKT_F_FOLLOW).
 *
 * A later fragment whose first is not in the LRU (it came first, reordered,
 * or a flood of first fragments evicted the entry) is dropped, counted
 * (drop_frag_orphan). Neither a backend nor this host's kernel could
 * complete its datagram: the first fragment goes to the flow's backend and
 * the sender's retransmission recovers. Passing it would park it in the
 * kernel's reassembly queue until its timeout (a cheap flood of fake later
 * fragments), or route it back out when the VIP is not local. Only
 * protocols a VIP serves are kept or dropped: TCP, UDP (and, for IPv6, a
 * destination-options header before them); fragments of anything else
 * (large pings to a VIP address) pass to the kernel like the rest of their
 * datagram. */
#ifndef XLB_BPF_FRAG_H
#define XLB_BPF_FRAG_H

#include "common.h"
#include "counters.h"
#include "maps.h"
#include "parse.h"

static __always_inline_ int frag_may_be_vip(const struct xlb_pkt *p)
{
	return p->frag_nh == IPPROTO_TCP || p->frag_nh == IPPROTO_UDP ||
	       (p->frag_nh == IPPROTO_DSTOPTS &&
		p->key.family == XLB_AF_INET6);
}

/* A fragment (PKT_F_FRAG): the first keeps its ports, a later one takes
 * them. 0: go on; -1: a later fragment without its first. */
static __always_inline_ int frag_follow(struct xlb_pkt *p)
{
	struct xlb_frag_key k = {};
	struct xlb_frag *f;

	if (!frag_may_be_vip(p))
		return 0;
	__builtin_memcpy(&k.src, &p->key.src, sizeof(k.src));
	__builtin_memcpy(&k.dst, &p->key.dst, sizeof(k.dst));
	k.id = p->frag_id;
	k.proto = p->frag_nh;
	k.family = p->key.family;
	if (!(p->flags & PKT_F_FRAG_LATER)) {
		struct xlb_frag v = {
			.sport = p->key.sport,
			.dport = p->key.dport,
			.proto = p->key.proto,
		};

		bpf_map_update_elem(&XLB_MAP_FRAGS, &k, &v, BPF_ANY);
		count(XLB_C_FRAG_FIRST);
		return 0;
	}
	f = bpf_map_lookup_elem(&XLB_MAP_FRAGS, &k);
	if (!f)
		return -1;
	p->key.sport = f->sport;
	p->key.dport = f->dport;
	p->key.proto = f->proto;
	count(XLB_C_FRAG_FOLLOWED);
	return 0;
}

#endif
