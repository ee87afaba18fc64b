/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The flow tables: which backend a flow keeps, and what no flood can touch.
 *
 * Design. Two LRU tables with the same key (the client-to-VIP 5-tuple):
 *
 *   xlb_flows_new  unconfirmed: a flow's first packet makes an entry here
 *                  (its backend from the ring). Small, churned by floods.
 *   xlb_flows_v2   the flow table: confirmed flows only. A flow's second
 *                  packet (a TCP segment that is not a bare SYN, or a second
 *                  UDP datagram) promotes its unconfirmed entry here, with
 *                  the backend that entry holds.
 *
 * A packet of one kind only ever inserts into the unconfirmed table, so the
 * flow table's LRU evicts only for promotions, and a promotion needs two
 * packets of one 5-tuple. The cases:
 *
 *   SYN flood, random sources   each SYN misses both tables, takes the ring's
 *                               backend and one unconfirmed entry; nothing
 *                               is ever promoted; confirmed flows untouched.
 *   random-ACK flood            the same: an ACK without an entry is a first
 *                               packet like a SYN. Never promoted.
 *   random-UDP flood            the same; the second datagram of a 5-tuple
 *                               is what confirms it.
 *   flow without its SYN        (moved here by ECMP, older than the table):
 *                               its first packet takes the ring's backend -
 *                               the one it had, while the ring is unchanged
 *                               (Maglev picks by the same hash everywhere) -
 *                               and its next packet confirms it.
 *   two packets per 5-tuple     (spoofed SYN+ACK or ACK+ACK pairs) look like
 *                               a client to a DSR balancer, which never sees
 *                               the server's side: they are confirmed and
 *                               compete in the flow table's LRU, where flows
 *                               in use (referenced) outlast them. A per-CPU
 *                               budget of confirmations a second
 *                               (confirm_rate, set at load; 0: none) bounds
 *                               them as Katran bounds new connections: over
 *                               it, a second packet follows its unconfirmed
 *                               entry and is not confirmed.
 *   retransmitted SYN           finds its unconfirmed entry (idle bound
 *                               XLB_IDLE_UNCONFIRMED_S, not refreshed by
 *                               SYNs) and goes where the first went, even
 *                               after a ring change. A SYN never confirms.
 *   RST                         goes to the entry's backend and ends the
 *                               entry (either table); without an entry it
 *                               takes the ring's backend and makes none.
 *   FIN                         the entry enters FIN state, idle bound
 *                               XLB_IDLE_TCP_FIN_S; every later packet (the
 *                               client's ACKs of a download under DSR, a
 *                               half-close) restarts that bound.
 *   new SYN on an old tuple     an entry that saw FIN, or idled longer than
 *                               XLB_SYN_REUSE_IDLE_S, is dropped and the SYN
 *                               picks anew from the ring, which holds no
 *                               drained (weight 0) or down backend.
 *   idle bounds                 each entry holds its bound (idle_s); one
 *                               past it is expired (xlb/flow.h,
 *                               xlb_flow_expired): deleted on sight, the
 *                               packet picked anew. LRU reclaims the rest.
 *   UDP expiry per VIP          a confirmed non-TCP entry takes the VIP's
 *                               udp_idle_s (0: XLB_IDLE_UDP_S).
 *   flow-table: off (per VIP)   every packet takes the ring's backend; no
 *                               entry is read or written
 *                               (XLB_C_FLOW_UNTRACKED).
 *   ring changed, no entry      a TCP packet that is no SYN, without entry
 *                               in either table, takes the VIP's previous
 *                               ring (prev_pick), kept XLB_RING_PREV_S
 *                               after a change: the flow is older than
 *                               the change (moved here by ECMP).
 *   backend gone                (slot not ACTIVE or of another generation)
 *                               the flow picks from the ring again and keeps
 *                               its entry with the new backend. A slot read
 *                               while user space rewrites it (select.h,
 *                               backend_read) counts as gone: never half.
 *
 * ICMP errors and later fragments (PKT_F_FOLLOW) follow an entry if there
 * is one, or the ring, and never create or change one; a first fragment is
 * a packet of its flow like any other (frag.h). Non-VIP traffic never
 * reaches these tables (select.h, vip_addr_maybe). The flow table is looked
 * up before the VIP: an entry exists only for a live VIP with its flow
 * table on, and a hit needs no VIP lookup. A hit on a confirmed entry by an
 * untagged tunnelled or L2 packet without SYN, FIN or RST is served by the
 * fast path (fast.h) exactly as here; it hands every other packet on with
 * the table's answer (struct flow_pre). */
#ifndef XLB_BPF_FLOWTAB_H
#define XLB_BPF_FLOWTAB_H

#include "common.h"
#include "counters.h"
#include "maps.h"
#include "parse.h"
#include "select.h"

#define TCPF_FIN_	0x01
#define TCPF_SYN_	0x02
#define TCPF_RST_	0x04
#define TCPF_ACK_	0x10

/* Confirmations allowed per second per CPU; 0: no limit. Set at load. */
const volatile __u32 confirm_rate = 0;

/* The kernel's HZ, for idle bounds in seconds against jiffies. */
extern unsigned int CONFIG_HZ __kconfig __weak;

static __always_inline_ __u32 kernel_hz(void)
{
	return CONFIG_HZ ? CONFIG_HZ : 250;
}

struct pick {
	struct xlb_backend be;	/* one whole version of the slot */
	__u32 id;
	int new_flow;
	struct xlb_flow *moved;	/* confirmed entry, its backend gone */
};

static __always_inline_ int is_syn(const struct xlb_pkt *p)
{
	__u8 fl = p->tcp_flags & (TCPF_SYN_ | TCPF_ACK_ | TCPF_RST_);

	return p->key.proto == IPPROTO_TCP && fl == TCPF_SYN_;
}

static __always_inline_ int is_rst(const struct xlb_pkt *p)
{
	return p->key.proto == IPPROTO_TCP && (p->tcp_flags & TCPF_RST_);
}

/* The entry's backend, if that slot still holds it: 0 and out filled. */
static __always_inline_ int entry_backend(const struct xlb_flow *f,
					  struct xlb_backend *out)
{
	/* Generation 0 is never a slot's: a zeroed value is a miss. */
	if (!f->gen || backend_read(f->backend, out) || out->gen != f->gen)
		return -1;
	return 0;
}

/* A packet followed the entry at jiffies now. Written only when it
 * changed: fewer dirtied cache lines. */
static __always_inline_ void flow_touch(struct xlb_flow *f, __u64 now)
{
	if (f->last_seen != now)
		f->last_seen = now;
}

enum track { TRACK_KEEP, TRACK_PICK, TRACK_ENDED };

/* A confirmed entry meets a TCP segment: RST ends it (the segment still
 * goes to its backend), FIN half-closes it, a SYN on a closed or long-idle
 * entry asks for a new pick. */
static __always_inline_ enum track tcp_track(struct xlb_pkt *p,
					     struct xlb_flow *f, __u64 now)
{
	__u8 fl = p->tcp_flags;

	if (fl & TCPF_RST_) {
		if (f->state != XLB_FLOW_FIN)
			conns_add(f->backend, -1);
		bpf_map_delete_elem(&XLB_MAP_FLOWS, &p->key);
		count(XLB_C_FLOW_RST);
		return TRACK_ENDED;
	}
	if (is_syn(p) && (f->state == XLB_FLOW_FIN ||
			  xlb_flow_idle(f, now) >
				  (__u64)XLB_SYN_REUSE_IDLE_S * kernel_hz())) {
		bpf_map_delete_elem(&XLB_MAP_FLOWS, &p->key);
		count(XLB_C_FLOW_SYN_REUSE);
		return TRACK_PICK;
	}
	if ((fl & TCPF_FIN_) && f->state != XLB_FLOW_FIN) {
		conns_add(f->backend, -1);
		f->state = XLB_FLOW_FIN;
		f->idle_s = XLB_IDLE_TCP_FIN_S;
		count(XLB_C_FLOW_FIN);
	}
	return TRACK_KEEP;
}

/* What the fast path (fast.h) found before it handed a packet on, so that
 * the general path does none of it again. */
struct flow_pre {
	struct xlb_flow *f;
	struct xlb_config *cfg;	/* the node's settings, once read */
	__u8 done;		/* f is the flow table's answer (NULL: none) */
	__u8 parsed;		/* the packet was parsed (parse_fast) */
};

/* The flow table. 0: the packet follows its entry (out filled); -1: pick
 * (out->moved set when a confirmed flow lost its backend). */
static __always_inline_ int flow_lookup(struct xlb_pkt *p, struct pick *out,
					const struct flow_pre *pre)
{
	struct xlb_flow *f;
	__u64 now;

	f = pre->done ? pre->f : bpf_map_lookup_elem(&XLB_MAP_FLOWS, &p->key);
	if (!f)
		return -1;
	now = bpf_jiffies64();
	if (xlb_flow_expired(f, now, kernel_hz())) {
		struct xlb_backend *be;

		/* Its backend's count, unless the slot went to another
		 * backend since (the new one's count is not this flow's). */
		be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &f->backend);
		if (f->state != XLB_FLOW_FIN && be && f->gen &&
		    be->gen == f->gen)
			conns_add(f->backend, -1);
		bpf_map_delete_elem(&XLB_MAP_FLOWS, &p->key);
		count(XLB_C_FLOW_EXPIRED);
		return -1;
	}
	if (entry_backend(f, &out->be)) {
		if (f->gen)	/* a zeroed value is a plain miss */
			count(XLB_C_FLOW_RESELECT);
		if (!(p->flags & PKT_F_FOLLOW))
			out->moved = f;
		return -1;
	}
	/* Read before tracking: a deleted entry is not ours to read. */
	out->id = f->backend;
	p->hash = f->hash;
	p->hashed = 1;
	if (!(p->flags & PKT_F_FOLLOW)) {
		enum track t = p->key.proto == IPPROTO_TCP ?
				       tcp_track(p, f, now) : TRACK_KEEP;

		if (t == TRACK_PICK)
			return -1;
		/* A deleted entry's memory may already be another flow's. */
		if (t == TRACK_KEEP)
			flow_touch(f, now);
	}
	count(XLB_C_FLOW_HIT);
	return 0;
}

/* Whether this CPU may confirm one more flow in the current second. */
static __always_inline_ int confirm_allowed(__u64 now)
{
	struct xlb_confirm_rl *rl;
	__u32 zero = 0;
	__u64 sec;

	if (!confirm_rate)
		return 1;
	rl = bpf_map_lookup_elem(&XLB_MAP_CONFIRM_RL, &zero);
	if (!rl)
		return 1;
	sec = now / kernel_hz();
	if (rl->second != sec) {
		rl->second = sec;
		rl->used = 0;
	}
	if (rl->used >= confirm_rate)
		return 0;
	rl->used++;
	return 1;
}

/* The flow's second packet: its unconfirmed entry joins the flow table. */
static __always_inline_ void promote(struct xlb_pkt *p,
				     const struct xlb_vip *vip,
				     const struct xlb_flow *u, __u64 now)
{
	struct xlb_flow nf = {};

	nf.backend = u->backend;
	nf.gen = u->gen;
	nf.hash = u->hash;
	nf.last_seen = now;
	nf.state = XLB_FLOW_ESTABLISHED;
	if (p->key.proto != IPPROTO_TCP)
		nf.idle_s = vip->udp_idle_s ? vip->udp_idle_s : XLB_IDLE_UDP_S;
	else if (p->tcp_flags & TCPF_FIN_)
		nf.state = XLB_FLOW_FIN, nf.idle_s = XLB_IDLE_TCP_FIN_S;
	else
		nf.idle_s = XLB_IDLE_TCP_S;
	bpf_map_update_elem(&XLB_MAP_FLOWS, &p->key, &nf, BPF_ANY);
	bpf_map_delete_elem(&XLB_MAP_FLOWS_NEW, &p->key);
	if (nf.state != XLB_FLOW_FIN)
		conns_add(nf.backend, 1);
	count(XLB_C_FLOW_CONFIRMED);
}

/* The unconfirmed table. 0: the packet follows its entry; -1: pick. */
static __always_inline_ int unconfirmed_lookup(struct xlb_pkt *p,
					       const struct xlb_vip *vip,
					       struct pick *out)
{
	struct xlb_flow *u;
	__u64 now;
	int have;

	u = bpf_map_lookup_elem(&XLB_MAP_FLOWS_NEW, &p->key);
	if (!u)
		return -1;
	now = bpf_jiffies64();
	have = !entry_backend(u, &out->be);
	if (!have || xlb_flow_expired(u, now, kernel_hz())) {
		bpf_map_delete_elem(&XLB_MAP_FLOWS_NEW, &p->key);
		if (have || u->gen)
			count(have ? XLB_C_FLOW_EXPIRED : XLB_C_FLOW_RESELECT);
		return -1;
	}
	out->id = u->backend;
	p->hash = u->hash;
	p->hashed = 1;
	count(XLB_C_FLOW_HIT);
	if (p->flags & PKT_F_FOLLOW || is_syn(p))
		return 0;	/* errors, later fragments, retransmitted SYNs
				 * confirm nothing */
	if (is_rst(p)) {
		bpf_map_delete_elem(&XLB_MAP_FLOWS_NEW, &p->key);
		count(XLB_C_FLOW_RST);
		return 0;
	}
	if (!confirm_allowed(now)) {
		count(XLB_C_FLOW_CONFIRM_LIMITED);
		return 0;
	}
	promote(p, vip, u, now);
	return 0;
}

/* A TCP packet that is no SYN and has no entry belongs to a flow that
 * began earlier. While the VIP's previous ring is kept (its last change
 * less than XLB_RING_PREV_S ago), that ring names the backend the flow
 * had, wherever the flow was balanced before: on this node, or on a peer
 * that had the same table, before ECMP moved the flow here. A backend
 * that is gone (its slot no longer this VIP's) leaves the current ring to
 * pick. Anything else (SYNs, UDP, where a first datagram looks like any
 * other) takes the current ring, and so does every packet of a VIP
 * without flow table: there a connection's SYN took the current ring and
 * nothing would keep its next packets with it. 0: out filled. */
static __always_inline_ int prev_pick(struct xlb_pkt *p,
				      const struct xlb_vip *vip,
				      const struct xlb_config *cfg,
				      struct pick *out)
{
	if (p->key.proto != IPPROTO_TCP || is_syn(p) ||
	    vip->flags & XLB_VIP_F_NO_FLOWTABLE ||
	    !xlb_algo_deterministic(vip->algo))	/* flow sync's alone */
		return -1;
	if (ring_pick(&XLB_MAP_RING_PREV, vip,
		      xlb_pick_hash(&p->key, vip->algo, pkt_hash(p)),
		      cfg->ring_size, &out->id) ||
	    backend_get(out->id, vip->id, &out->be))
		return -1;
	count(XLB_C_FLOW_PREV_RING);
	return 0;
}

/* A flow without an entry takes the ring's backend; its first packet
 * makes an unconfirmed entry (a confirmed flow that lost its backend gets
 * the new one in place). */
static __always_inline_ int flow_pick(struct xlb_pkt *p,
				      const struct xlb_vip *vip,
				      const struct xlb_config *cfg,
				      struct pick *out)
{
	struct xlb_flow nf = {};

	if (prev_pick(p, vip, cfg, out) &&
	    (ring_pick(&XLB_MAP_MAGLEV, vip,
		       ring_index(p, vip, cfg->ring_size), cfg->ring_size,
		       &out->id) ||
	     backend_get(out->id, vip->id, &out->be)))
		return -1;
	if (p->flags & PKT_F_FOLLOW)
		return 0;
	if (vip->flags & XLB_VIP_F_NO_FLOWTABLE || is_rst(p)) {
		count(XLB_C_FLOW_UNTRACKED);
		return 0;
	}
	nf.last_seen = bpf_jiffies64();
	out->new_flow = 1;	/* new to this backend */
	if (out->moved) {
		out->moved->backend = out->id;
		out->moved->gen = out->be.gen;
		out->moved->last_seen = nf.last_seen;
		out->moved->hash = pkt_hash(p);
		return 0;
	}
	nf.backend = out->id;
	nf.gen = out->be.gen;
	nf.hash = pkt_hash(p);
	nf.idle_s = XLB_IDLE_UNCONFIRMED_S;
	nf.state = XLB_FLOW_UNCONFIRMED;
	bpf_map_update_elem(&XLB_MAP_FLOWS_NEW, &p->key, &nf, BPF_ANY);
	count(XLB_C_FLOW_NEW);
	return 0;
}

/* Backend for a VIP packet that the flow table did not answer. */
static __always_inline_ int flow_select(struct xlb_pkt *p,
					const struct xlb_vip *vip,
					const struct xlb_config *cfg,
					struct pick *out)
{
	if (!(vip->flags & XLB_VIP_F_NO_FLOWTABLE) && !out->moved &&
	    !unconfirmed_lookup(p, vip, out))
		return 0;
	return flow_pick(p, vip, cfg, out);
}

#endif
