// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The reference model (model.h). Plain C over a byte buffer: every read is
 * checked against the frame's length, every write goes to a fresh output.
 *
 * State it does not predict is reset by the driver, so the model is
 * stateless: each frame meets empty flow tables (it is a flow's first
 * packet: it takes the ring's backend and makes an unconfirmed entry unless
 * it is an RST, or its VIP keeps no flow table) and an ICMP budget too large
 * to run out. The one step of state it does predict is the next: the same
 * frame again confirms that entry (cval) when it is no SYN, FIN or RST.
 * Fragments (README "fragments stay with their flow") are the exception:
 * the model keeps first fragments' ports in its own table (dm_frags),
 * which the driver empties with the program's xlb_frags after each frame
 * or datagram.
 *
 * Where the documents leave a choice open, the model follows what the
 * programs were seen to do (found by this fuzzer, checked in the code);
 * each is a fact a document should state:
 *
 *   L2 DSR                      no MTU check (nothing is added)
 *   IPv6 too-big reply          headers + 8 bytes quoted up to 256 bytes;
 *                               a longer chain: no reply, dropped
 *   later fragment to a         the non-VIP filter (include/xlb/hash.h)
 *   non-VIP address             decides: where a VIP's bit collides, an
 *                               orphan is dropped, elsewhere it passes
 *   decap: order of checks      tunnel kind (protocol; UDP port right after
 *                               a 20/40-byte header; later IPv4 fragment:
 *                               no tunnel), outer header (version, IHL 5),
 *                               fragment, lengths, outer destination,
 *                               outer source, inner header, inner dest. */
#include <string.h>
#include "model.h"
#include "xlb/hash.h"

#define ETH_HLEN	14
#define P_V4		0x0800
#define P_V6		0x86dd

static unsigned int be16(const __u8 *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static void put16(__u8 *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* RFC 1071 over big-endian words, folded until it fits: written here again
 * on purpose, so that the program's checksum is checked by another one. */
static unsigned int sum16(const __u8 *p, size_t n, unsigned long s)
{
	for (; n > 1; n -= 2, p += 2)
		s += be16(p);
	if (n)
		s += (unsigned int)p[0] << 8;
	return s;
}

static unsigned int fold(unsigned long s)
{
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* ---- the balancer ---- */

struct pkt {
	const __u8 *b;
	size_t len;
	size_t l3;		/* offset of the IP header */
	size_t l2type;		/* offset of the last EtherType */
	int fam;
	size_t l3len;		/* IP packet length from its header */
	size_t l4;		/* offset of the L4 header */
	__u8 proto;
	bool frag, later_frag, df;
	__u8 frag_nh;		/* fragments: the protocol the fragment names */
	__u32 frag_id;		/* fragments: the datagram's identification */
	bool quote;		/* a quoted header: lengths may exceed it */
	__u8 tos, ttl;
	union xlb_addr src, dst;
};

static void res(struct dm_out *o, int verdict, const char *why)
{
	o->verdict = verdict;
	o->why = why;
}

static void pass(struct dm_out *o, const struct pkt *p, const char *why)
{
	res(o, DM_PASS, why);
	memcpy(o->pkt, p->b, p->len);
	o->len = p->len;
}

/* Ethernet and up to two tags; 0 when not IP. */
static int parse_l2(struct pkt *p)
{
	size_t off = 12;
	unsigned int t;
	int tags = 0;

	if (p->len < ETH_HLEN)
		return 0;
	t = be16(p->b + off);
	while ((t == 0x8100 || t == 0x88a8) && tags < 2) {
		if (p->len < off + 6)
			return 0;
		off += 4;
		t = be16(p->b + off);
		tags++;
	}
	p->l2type = off;
	p->l3 = off + 2;
	return t == P_V4 ? 4 : t == P_V6 ? 6 : 0;
}

/* IP header and extension headers; -1 malformed. */
static int parse_ip(struct pkt *p)
{
	const __u8 *ip = p->b + p->l3;
	size_t room = p->len - p->l3;

	memset(&p->src, 0, sizeof(p->src));
	memset(&p->dst, 0, sizeof(p->dst));
	if (p->fam == 4) {
		size_t ihl;
		unsigned int fo;

		if (room < 20 || ip[0] >> 4 != 4)
			return -1;
		ihl = (ip[0] & 15) * 4;
		p->l3len = p->quote ? room : be16(ip + 2);
		if (ihl < 20 || p->l3len < ihl || p->l3len > room)
			return -1;
		fo = be16(ip + 6);
		p->df = fo & 0x4000;
		p->frag = fo & 0x3fff;
		p->later_frag = fo & 0x1fff;
		p->frag_nh = ip[9];
		p->frag_id = be16(ip + 4);
		p->tos = ip[1];
		p->ttl = ip[8];
		p->proto = ip[9];
		memcpy(&p->src.v4, ip + 12, 4);
		memcpy(&p->dst.v4, ip + 16, 4);
		p->l4 = p->l3 + ihl;
		return 0;
	}
	if (room < 40 || ip[0] >> 4 != 6)
		return -1;
	p->l3len = p->quote ? room : 40 + be16(ip + 4);
	if (p->l3len > room)
		return -1;
	p->tos = (ip[0] & 15) << 4 | ip[1] >> 4;
	p->ttl = ip[7];
	memcpy(p->src.bytes, ip + 8, 16);
	memcpy(p->dst.bytes, ip + 24, 16);
	p->frag = p->later_frag = false;
	p->proto = ip[6];
	p->l4 = p->l3 + 40;
	for (int n = 0;; n++) {
		const __u8 *h = p->b + p->l4;
		size_t hl;

		if (p->proto != 0 && p->proto != 43 && p->proto != 60 &&
		    p->proto != 44)
			return 0;
		if (n == 4 || p->l4 + 8 > p->l3 + p->l3len)
			return -1;
		if (p->proto == 44) {
			unsigned int fo = be16(h + 2);

			hl = 8;
			if (p->l4 + hl > p->l3 + p->l3len)
				return -1;
			p->proto = h[0];
			p->l4 += hl;
			if (!(fo & 0xfff9))
				continue;	/* atomic: a whole packet */
			p->frag = true;
			p->frag_nh = h[0];
			p->frag_id = (__u32)be16(h + 4) << 16 | be16(h + 6);
			if (!(fo & 0xfff8))
				continue;	/* first: headers go on */
			p->later_frag = true;	/* then data, not headers */
			return 0;
		}
		hl = (h[1] + 1) * 8;
		if (p->l4 + hl > p->l3 + p->l3len)
			return -1;
		p->proto = h[0];
		p->l4 += hl;
	}
}

static const struct dm_vip *vip_find(const struct dm_lb *m,
				     const union xlb_addr *a, int fam,
				     __u16 port, __u8 proto)
{
	for (int i = 0; i < m->nvips; i++) {
		const struct xlb_vip_key *k = &m->vips[i].key;

		if (k->family == fam && k->proto == proto &&
		    be16((const __u8 *)&k->port) == port &&
		    !memcmp(&k->addr, a, 16))
			return &m->vips[i];
	}
	return NULL;
}

static const struct dm_vip *vip_lookup(const struct dm_lb *m,
				       const union xlb_addr *a, int fam,
				       __u16 port, __u8 proto)
{
	const struct dm_vip *v = vip_find(m, a, fam, port, proto);

	return v ? v : vip_find(m, a, fam, 0, proto);
}

static bool vip_addr(const struct dm_lb *m, const union xlb_addr *a, int fam)
{
	for (int i = 0; i < m->nvips; i++)
		if (m->vips[i].key.family == fam &&
		    !memcmp(&m->vips[i].key.addr, a, 16))
			return true;
	return false;
}

static void key_of(struct xlb_flow_key *k, const union xlb_addr *s,
		   const union xlb_addr *d, int fam, __u16 sport, __u16 dport,
		   __u8 proto)
{
	memset(k, 0, sizeof(*k));
	k->src = *s;
	k->dst = *d;
	put16((__u8 *)&k->sport, sport);
	put16((__u8 *)&k->dport, dport);
	k->proto = proto;
	k->family = fam;
}

/* The backend slot ring r gives, -1 when none. */
static int ring_slot(const struct dm_lb *m, const __u32 *r,
		     const struct dm_vip *v, __u32 hash)
{
	__u32 s;

	if (!r || !m->ring_size)
		return -1;
	s = r[hash % m->ring_size];
	/* A ring entry naming a slot that is not live or is another VIP's
	 * (a ring not yet rebuilt after the slot changed hands) is none. */
	if (s >= DM_MAX_BE || !(m->be[s].flags & XLB_BE_F_ACTIVE) ||
	    m->be[s].vip_id != v->v.id)
		return -1;
	return (int)s;
}

/* The backend slot for a flow without entry. A TCP packet that is no SYN
 * (an ICMP error or later fragment about TCP counts: no flags) began
 * before the VIP's last change: the previous ring's slot, if it has a
 * live one; VIPs without flow table and everything else: the ring's. */
static int pick(const struct dm_lb *m, const struct dm_vip *v, __u32 hash,
		int proto, bool syn)
{
	bool id_ok = v->v.id < DM_MAX_VIPS;
	int s = -1;

	if (id_ok && proto == 6 && !syn &&
	    !(v->v.flags & XLB_VIP_F_NO_FLOWTABLE))
		s = ring_slot(m, m->prev[v->v.id], v, hash);
	return s >= 0 ? s : ring_slot(m, id_ok ? m->ring[v->v.id] : NULL, v,
					hash);
}

static size_t overhead(const struct xlb_backend *be)
{
	if (be->mode == XLB_MODE_L2)
		return 0;
	return (be->family == XLB_AF_INET6 ? 40 : 20) +
	       (be->mode == XLB_MODE_GUE ? 8 : 0);
}

/* Too big: ICMP(v6) too-big from the VIP back to the client, behind the
 * same L2 header with the MACs swapped. */
static void too_big(const struct dm_lb *m, const struct pkt *p,
		    size_t ovh, struct dm_out *o)
{
	__u8 *w = o->pkt, *ip = w + p->l3, *ic;
	size_t q = p->l4 + 8 - p->l3, icl;
	unsigned int mtu = m->cfg.mtu - ovh;

	/* Not documented (reported): an IPv6 quote is bounded at 256
	 * bytes; a longer header chain gets no reply, the packet drops. */
	if (p->fam == 6 && q > 256)
		return res(o, DM_DROP, "too big, headers too long to quote");
	memcpy(w, p->b, p->l3);
	memcpy(w, p->b + 6, 6);
	memcpy(w + 6, p->b, 6);
	if (p->fam == 4) {
		icl = 8 + q;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, 20 + icl);
		ip[8] = 64;
		ip[9] = 1;
		memcpy(ip + 12, p->b + p->l3 + 16, 4);
		memcpy(ip + 16, p->b + p->l3 + 12, 4);
		put16(ip + 10, fold(sum16(ip, 20, 0)));
		ic = ip + 20;
		memset(ic, 0, 8);
		ic[0] = 3;
		ic[1] = 4;
		put16(ic + 6, mtu);
		memcpy(ic + 8, p->b + p->l3, q);
		put16(ic + 2, fold(sum16(ic, icl, 0)));
		o->len = p->l3 + 20 + icl;
	} else {
		unsigned long s;

		icl = 8 + q;
		memset(ip, 0, 40);
		ip[0] = 0x60;
		put16(ip + 4, icl);
		ip[6] = 58;
		ip[7] = 64;
		memcpy(ip + 8, p->b + p->l3 + 24, 16);
		memcpy(ip + 24, p->b + p->l3 + 8, 16);
		ic = ip + 40;
		memset(ic, 0, 8);
		ic[0] = 2;
		ic[4] = mtu >> 24;
		ic[5] = mtu >> 16;
		ic[6] = mtu >> 8;
		ic[7] = mtu;
		memcpy(ic + 8, p->b + p->l3, q);
		s = sum16(ip + 8, 32, 0) + icl + 58;
		put16(ic + 2, fold(sum16(ic, icl, s)));
		o->len = p->l3 + 40 + icl;
	}
	res(o, DM_TX, "too big: ICMP reply");
}

/* Forward the IP packet at p->l3 (length p->l3len, then any padding) to
 * backend slot s. never_answer: an ICMP error or a fragment, dropped when
 * too big. */
static void forward(const struct dm_lb *m, const struct pkt *p, int s,
		    __u32 hash, bool never_answer, struct dm_out *o)
{
	const struct xlb_backend *be = &m->be[s];
	size_t ovh = overhead(be), hl = ovh, tail = p->len - p->l3;
	__u8 *w = o->pkt, *ip;

	/* L2 DSR adds nothing: no MTU check. */
	if (be->mode != XLB_MODE_L2 && p->l3len + ovh > m->cfg.mtu) {
		if (never_answer || !(m->cfg.flags & XLB_CFG_F_ICMP_TOO_BIG) ||
		    (p->fam == 4 && !p->df))
			return res(o, DM_DROP, "too big, not answered");
		return too_big(m, p, ovh, o);
	}
	if (be->mode == XLB_MODE_L2) {
		memcpy(w, p->b, p->len);
		memcpy(w, be->mac, 6);
		memcpy(w + 6, p->b, 6);
		o->len = p->len;
		return res(o, DM_TX, "L2 DSR");
	}
	memcpy(w, p->b, p->l3);
	memcpy(w, m->cfg.gw_mac, 6);
	memcpy(w + 6, p->b, 6);
	ip = w + p->l3;
	memset(ip, 0, hl);
	if (be->family == XLB_AF_INET) {
		put16(w + p->l2type, P_V4);
		ip[0] = 0x45;
		ip[1] = p->tos;
		put16(ip + 2, p->l3len + hl);
		ip[6] = 0x40;
		ip[8] = p->ttl;
		ip[9] = be->mode == XLB_MODE_GUE ? 17 : p->fam == 4 ? 4 : 41;
		memcpy(ip + 12, &m->cfg.src4, 4);
		memcpy(ip + 16, &be->addr.v4, 4);
		put16(ip + 10, fold(sum16(ip, 20, 0)));
		ip += 20;
	} else {
		__u32 fl = hash & 0xfffff;

		put16(w + p->l2type, P_V6);
		ip[0] = 0x60 | p->tos >> 4;
		ip[1] = (p->tos & 15) << 4 | fl >> 16;
		put16(ip + 2, fl & 0xffff);
		put16(ip + 4, p->l3len + hl - 40);
		ip[6] = be->mode == XLB_MODE_GUE ? 17 : p->fam == 4 ? 4 : 41;
		ip[7] = p->ttl;
		memcpy(ip + 8, m->cfg.src6, 16);
		memcpy(ip + 24, be->addr.bytes, 16);
		ip += 40;
	}
	if (be->mode == XLB_MODE_GUE) {
		put16(ip, xlb_gue_sport(hash));
		memcpy(ip + 2, &m->cfg.gue_port, 2);
		put16(ip + 4, 8 + p->l3len);
		ip += 8;
	}
	memcpy(ip, p->b + p->l3, tail);
	o->len = p->l3 + hl + tail;
	res(o, DM_TX, "encapsulated");
}

static bool icmp_error(int fam, __u8 type)
{
	if (fam == 4)
		return type == 3 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* An ICMP error of any type addressed to a VIP, quoting a packet from that
 * VIP, goes to the backend of the quoted flow (quoted IPv4 options and IPv6
 * extension headers skipped); a quoted later fragment has no ports. */
static void lb_icmp_error(const struct dm_lb *m, const struct pkt *p,
			  struct dm_out *o)
{
	struct pkt q = { .b = p->b, .len = p->l3 + p->l3len,
			 .l3 = p->l4 + 8, .fam = p->fam, .quote = true };
	const struct dm_vip *v;
	struct xlb_flow_key k;
	__u16 sport, dport;
	int s;

	if (q.l3 > q.len || parse_ip(&q))
		return pass(o, p, "icmp error: quote cut");
	if (!vip_addr(m, &p->dst, p->fam) ||
	    memcmp(&q.src, &p->dst, 16) || q.later_frag ||
	    (q.proto != 6 && q.proto != 17) || q.l4 + 4 > q.len)
		return pass(o, p, "icmp error: not about a VIP flow");
	sport = be16(p->b + q.l4);
	dport = be16(p->b + q.l4 + 2);
	v = vip_lookup(m, &q.src, p->fam, sport, q.proto);
	if (!v)
		return pass(o, p, "icmp error: no VIP");
	key_of(&k, &q.dst, &q.src, p->fam, dport, sport, q.proto);
	s = pick(m, v, xlb_pick_hash(&k, v->v.algo, xlb_flow_hash(&k)),
		 q.proto, false);
	if (s < 0)
		return res(o, DM_DROP, "icmp error: no backend");
	forward(m, p, s, xlb_flow_hash(&k), true, o);
}

/* The non-VIP filter (include/xlb/hash.h): one bit per address hash, set
 * for every VIP address. Only a later fragment's fate depends on it being
 * a filter (a dropped orphan, not a pass): it is modelled as such. */
static bool vip_filter_maybe(const struct dm_lb *m, const union xlb_addr *a)
{
	__u32 bit = xlb_vip_filter_bit(a) % (XLB_VIP_FILTER_WORDS * 64);

	for (int i = 0; i < m->nvips; i++)
		if (xlb_vip_filter_bit(&m->vips[i].key.addr) %
		    (XLB_VIP_FILTER_WORDS * 64) == bit)
			return true;
	return false;
}

/* Fragments kept or dropped: those of the protocols a VIP serves (TCP,
 * UDP, and for IPv6 a destination-options header before them). */
static bool frag_may_be_vip(const struct pkt *p)
{
	return p->frag_nh == 6 || p->frag_nh == 17 ||
	       (p->frag_nh == 60 && p->fam == 6);
}

static struct dm_frag *frag_find(struct dm_frags *t, const struct pkt *p)
{
	for (int i = 0; t && i < t->n; i++) {
		struct dm_frag *f = &t->e[i];

		if (f->family == p->fam && f->proto == p->frag_nh &&
		    f->id == p->frag_id && !memcmp(&f->src, &p->src, 16) &&
		    !memcmp(&f->dst, &p->dst, 16))
			return f;
	}
	return NULL;
}

/* A first fragment: its ports kept (a datagram's first again replaces). */
static void frag_keep(const struct dm_lb *m, const struct pkt *p,
		      __u16 sport, __u16 dport, struct dm_out *o)
{
	struct dm_frags *t = m->frags;
	struct dm_frag *f = frag_find(t, p);

	if (!t || (!f && t->n == DM_MAX_FRAGS))
		return;
	if (!f) {
		f = &t->e[t->n++];
		memset(f, 0, sizeof(*f));
		f->src = p->src;
		f->dst = p->dst;
		f->id = p->frag_id;
		f->proto = p->frag_nh;
		f->family = p->fam;
	}
	f->sport = sport;
	f->dport = dport;
	f->l4proto = p->proto;
	o->frag_kept = true;
}

void dm_lb_run(const struct dm_lb *m, const __u8 *in, size_t len,
	       struct dm_out *o)
{
	struct pkt p = { .b = in, .len = len };
	const struct dm_vip *v;
	struct xlb_flow_key k;
	__u16 sport = 0, dport = 0;
	bool rst = false, plain = true, syn = false, whole;
	__u32 hash;
	int s;

	memset(o, 0, offsetof(struct dm_out, pkt));
	o->entry = o->confirms = o->frag_kept = false;
	p.fam = parse_l2(&p);
	if (!p.fam)
		return pass(o, &p, "not IP");
	if (parse_ip(&p))
		return pass(o, &p, "malformed IP");
	/* A fragmented error is no error about a flow. */
	if (!p.frag && p.proto == (p.fam == 4 ? 1 : 58) &&
	    p.l4 + 8 <= p.l3 + p.l3len && icmp_error(p.fam, in[p.l4]))
		return lb_icmp_error(m, &p, o);
	/* A later fragment has no L4 header; the rest are parsed whole. */
	if (p.later_frag) {
	} else if (p.proto == 6) {
		size_t doff;

		if (p.l4 + 20 > p.l3 + p.l3len)
			return pass(o, &p, "TCP cut");
		doff = (in[p.l4 + 12] >> 4) * 4;
		if (doff < 20 || p.l4 + doff > p.l3 + p.l3len)
			return pass(o, &p, "TCP data offset lies");
		rst = in[p.l4 + 13] & 0x04;
		syn = (in[p.l4 + 13] & 0x16) == 0x02;	/* SYN, no ACK/RST */
		plain = !(in[p.l4 + 13] & 0x07);	/* no FIN, SYN, RST */
		sport = be16(in + p.l4);
		dport = be16(in + p.l4 + 2);
	} else if (p.proto == 17) {
		if (p.l4 + 8 > p.l3 + p.l3len)
			return pass(o, &p, "UDP cut");
		sport = be16(in + p.l4);
		dport = be16(in + p.l4 + 2);
	}
	if (!vip_filter_maybe(m, &p.dst))
		return pass(o, &p, "not a VIP address");
	if (p.frag && frag_may_be_vip(&p)) {
		const struct dm_frag *f = frag_find(m->frags, &p);

		if (!p.later_frag) {
			frag_keep(m, &p, sport, dport, o);
		} else if (!f) {
			return res(o, DM_DROP, "later fragment, orphan");
		} else {
			sport = f->sport;
			dport = f->dport;
			p.proto = f->l4proto;
		}
	}
	whole = !p.frag;
	v = vip_lookup(m, &p.dst, p.fam, dport, p.proto);
	if (!v || (whole && p.proto != 6 && p.proto != 17))
		return pass(o, &p, !v ? (p.frag ? "fragment: no VIP" :
				     "no VIP") : "other protocol");
	key_of(&k, &p.src, &p.dst, p.fam, sport, dport, p.proto);
	hash = xlb_flow_hash(&k);
	s = pick(m, v, xlb_pick_hash(&k, v->v.algo, hash), p.proto, syn);
	if (s < 0)
		return res(o, DM_DROP, p.later_frag ?
			   "later fragment: no backend" : "no backend");
	/* Later fragments follow (the ring, in a fresh table) and never
	 * make an entry; a first fragment is a packet of its flow. */
	if (!p.later_frag && !rst &&
	    !(v->v.flags & XLB_VIP_F_NO_FLOWTABLE)) {
		o->entry = true;
		o->key = k;
		memset(&o->val, 0, sizeof(o->val));
		o->val.backend = s;
		o->val.gen = m->be[s].gen;
		o->val.idle_s = XLB_IDLE_UNCONFIRMED_S;
		o->val.state = XLB_FLOW_UNCONFIRMED;
		o->val.hash = hash;
		/* The flow's second packet promotes the entry, its backend
		 * kept: TCP for XLB_IDLE_TCP_S, the rest for the VIP's
		 * udp_idle_s (0: XLB_IDLE_UDP_S). */
		o->confirms = plain;
		o->cval = o->val;
		o->cval.state = XLB_FLOW_ESTABLISHED;
		o->cval.idle_s = p.proto == 6 ? XLB_IDLE_TCP_S :
				 v->v.udp_idle_s ? v->v.udp_idle_s :
				 XLB_IDLE_UDP_S;
	}
	/* Fragments are never answered too big. */
	forward(m, &p, s, hash, p.frag, o);
}

/* ---- the decap program ---- */

static bool in_set(const struct dm_prefix *set, int n, int fam,
		   const __u8 *a)
{
	for (int i = 0; i < n; i++) {
		const struct dm_prefix *p = &set[i];
		int full = p->len / 8, bits = p->len % 8;

		if (p->family != fam || memcmp(p->addr, a, full))
			continue;
		if (!bits || !((p->addr[full] ^ a[full]) &
			       (0xff00 >> bits & 0xff)))
			return true;
	}
	return false;
}

static void decap_res(const struct dm_decap *m, const struct pkt *p,
		      struct dm_out *o, int counter)
{
	o->counter = counter;
	if (counter >= XLB_DC_FIRST_REJECT && m->drop)
		res(o, DM_DROP, "rejected, dropped");
	else
		pass(o, p, counter >= XLB_DC_FIRST_REJECT ? "rejected" :
			   "not a tunnel");
}

/* Tunnel kind of an outer IP header whose payload starts at l4: 0 none. */
enum { T_NONE, T_IPIP4, T_IPIP6, T_GUE };

void dm_decap_run(const struct dm_decap *m, const __u8 *in, size_t len,
		  struct dm_out *o)
{
	struct pkt p = { .b = in, .len = len };
	const __u8 *ip, *inner;
	size_t room, hl, olen, ilen, plen;
	int t = T_NONE, ifam;
	__u8 proto;

	memset(o, 0, offsetof(struct dm_out, pkt));
	p.fam = parse_l2(&p);
	if (!p.fam)
		return decap_res(m, &p, o, XLB_DC_NOT_TUNNEL);
	ip = in + p.l3;
	room = len - p.l3;
	/* What looks like ours: the protocol, and for UDP the port. */
	if (p.fam == 4) {
		if (room < 20)
			return decap_res(m, &p, o, XLB_DC_NOT_TUNNEL);
		proto = ip[9];
		hl = 20;
	} else {
		if (room < 40)
			return decap_res(m, &p, o, XLB_DC_NOT_TUNNEL);
		proto = ip[6];
		hl = 40;
	}
	/* The UDP header is looked for right after a fixed-size header; a
	 * later IPv4 fragment carries none. */
	if (proto == 4)
		t = T_IPIP4;
	else if (proto == 41)
		t = T_IPIP6;
	else if (proto == 17 && m->gue_port &&
		 !(p.fam == 4 && (be16(ip + 6) & 0x1fff)) && room >= hl + 8 &&
		 be16(ip + hl + 2) == m->gue_port)
		t = T_GUE;
	if (t == T_NONE)
		return decap_res(m, &p, o, XLB_DC_NOT_TUNNEL);
	/* Headers as encap writes them, checked before the addresses. */
	if (p.fam == 4) {
		if (ip[0] != 0x45)
			return decap_res(m, &p, o, XLB_DC_MALFORMED);
		if (be16(ip + 6) & 0x3fff)
			return decap_res(m, &p, o, XLB_DC_FRAGMENT);
		olen = be16(ip + 2);
		if (olen < 20 || olen > room)
			return decap_res(m, &p, o, XLB_DC_MALFORMED);
	} else {
		olen = 40 + be16(ip + 4);
		if (ip[0] >> 4 != 6 || olen > room)
			return decap_res(m, &p, o, XLB_DC_MALFORMED);
	}
	if (t == T_GUE && (olen < hl + 8 || be16(ip + hl + 4) != olen - hl))
		return decap_res(m, &p, o, XLB_DC_MALFORMED);
	if (!in_set(m->outer, m->nouter, p.fam, ip + (p.fam == 4 ? 16 : 24)))
		return decap_res(m, &p, o, XLB_DC_OUTER_DST);
	if (m->check_src &&
	    !in_set(m->bal, m->nbal, p.fam, ip + (p.fam == 4 ? 12 : 8)))
		return decap_res(m, &p, o, XLB_DC_OUTER_SRC);
	if (t == T_GUE)
		hl += 8;
	if (olen < hl + 1)
		return decap_res(m, &p, o, XLB_DC_MALFORMED);
	inner = ip + hl;
	ilen = olen - hl;
	ifam = inner[0] >> 4;
	if ((t == T_IPIP4 && ifam != 4) || (t == T_IPIP6 && ifam != 6) ||
	    (ifam != 4 && ifam != 6))
		return decap_res(m, &p, o, XLB_DC_MALFORMED);
	if (ifam == 4) {
		if (ilen < 20 || (inner[0] & 15) < 5 ||
		    (size_t)(inner[0] & 15) * 4 > ilen || be16(inner + 2) != ilen)
			return decap_res(m, &p, o, XLB_DC_MALFORMED);
	} else {
		if (ilen < 40 || 40 + be16(inner + 4) != ilen)
			return decap_res(m, &p, o, XLB_DC_MALFORMED);
	}
	if (!in_set(m->inner, m->ninner, ifam,
		    inner + (ifam == 4 ? 16 : 24)))
		return decap_res(m, &p, o, XLB_DC_INNER_DST);
	/* Open it: the L2 header, then the inner packet and any padding. */
	memcpy(o->pkt, in, p.l3);
	put16(o->pkt + p.l2type, ifam == 4 ? P_V4 : P_V6);
	plen = len - p.l3 - hl;
	memcpy(o->pkt + p.l3, inner, plen);
	o->len = p.l3 + plen;
	o->counter = t == T_GUE ? (p.fam == 4 ? XLB_DC_GUE4 : XLB_DC_GUE6) :
		     (p.fam == 4 ? XLB_DC_IPIP4 : XLB_DC_IPIP6);
	res(o, DM_PASS, "decapsulated");
}
