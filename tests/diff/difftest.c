// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlb-difftest: differential fuzzing of the data plane (issue 9 point 9).
 *
 * A reference model (model.c, written from the documented behaviour and
 * sharing only include/xlb/ with the BPF code) and the real programs
 * (loaded and configured through libxlb, run with BPF_PROG_TEST_RUN) get
 * the same frames; verdict and output bytes must agree, and for the
 * balancer the flow entry made, for the decap program the counter bumped.
 *
 * Frames: random clean frames of every kind (VIP and non-VIP traffic, TCP
 * with options and flags, UDP, every encap: IPIP 4in4/6in6/4in6/6in4, GUE,
 * L2; wildcard-port VIPs, VLAN stacks of 0-2 tags, IPv4 options, IPv6
 * extension header chains, sizes around the MTU, Ethernet padding; decap:
 * tunnels of each kind to and from allowed and foreign addresses, each
 * reject reason, and the balancer's own outputs), half of them then
 * mutated (truncated, bit flips, lying length fields, random bytes,
 * trailing bytes).
 *
 * State the model does not predict is reset: each balancer frame meets
 * empty flow tables (after the run the driver deletes the one entry the
 * model says the frame made - which must exist - and checks that both
 * tables are then empty), and the ICMP too-big budget is set too high to
 * run out. So every frame is a flow's first packet. One in five clean
 * TCP segments without SYN/FIN/RST and UDP datagrams that make an entry is
 * sent twice more (again()): the second must confirm the entry into the
 * flow table as the model says, the third, after the entry was aged a few
 * jiffies, must refresh last_seen; all three go to one backend.
 *
 * ICMP errors of every type (quoting packets with IPv4 options, IPv6
 * extension and fragment headers) and fragments are checked in full.
 * Fragments keep state the model does predict, the first fragment's ports
 * (xlb_frags, the model's dm_frags): each frame meets an empty table, so a
 * later fragment alone is an orphan; two in five clean later fragments
 * come after their first fragment (sent just before, its offset cleared),
 * their own leading bytes often changed so that only the first's ports
 * can take them to the right backend. After each frame, both tables are
 * emptied; a frame alone must leave an entry in xlb_frags exactly when
 * the model kept a first fragment's ports.
 *
 * Usage: xlb-difftest [--frames N] [--seed S] [--max-fail N] [--quiet]
 *                     [--stats]
 * A mismatch prints the seed and frame index (rerun with --seed S --frames
 * INDEX+1 to reproduce), the frame, expected and got. Ends with
 * "difftest: N passed, M failed" (one pass for a clean run) after
 * "difftest: frames F (lb L, ...; decap D), mismatches M". */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "addr.h"
#include "decap.h"
#include "xlb.h"
#include "xlb_decap.skel.h"
#include "model.h"

#define RING		251
#define MAX_FRAME	2048

static const __u8 LB_MAC[6] = { 2, 0, 0, 0, 0, 0x10 };
static const __u8 ROUTER_MAC[6] = { 2, 0, 0, 0, 0, 1 };
static const __u8 GW_MAC[6] = { 2, 0, 0, 0, 0, 0xfe };
static const __u8 BE_MAC[6] = { 2, 0, 0, 0, 0, 0xb1 };
#define SRC4	"198.18.0.10"
#define SRC6	"2001:db8::10"
#define GUE	6080

/* VIP, mode, flow table off, backends (comma list), algorithm (NULL:
 * maglev). */
static const struct {
	const char *vip, *mode;
	bool off;
	const char *bes;
	const char *algo;
} services[] = {
	{ "198.18.1.1:80/tcp", "ipip", false, "198.18.2.1,198.18.2.11,198.18.2.21", NULL },
	{ "198.18.1.2:53/udp", "gue", false, "198.18.2.2,198.18.2.12", NULL },
	{ "198.18.1.3:0/tcp", "ipip", false, "198.18.2.3,198.18.2.13", NULL },
	{ "198.18.1.3:0/udp", "gue", false, "2001:db8:2::3,2001:db8:2::13", NULL },
	{ "198.18.1.4:80/tcp", "l2", false, "198.18.2.4,198.18.2.14", NULL },
	{ "198.18.1.5:80/tcp", "ipip", false, "2001:db8:2::5,2001:db8:2::15", NULL },
	{ "198.18.1.6:443/tcp", "gue", false, "2001:db8:2::6", NULL },
	{ "198.18.1.9:80/tcp", "ipip", false, "", NULL },
	{ "198.18.1.10:80/tcp", "ipip", true, "198.18.2.10,198.18.2.20", NULL },
	{ "[2001:db8:1::1]:80/tcp", "ipip", false, "2001:db8:2::1,2001:db8:2::11", NULL },
	{ "[2001:db8:1::2]:443/udp", "gue", false, "2001:db8:2::2,2001:db8:2::12", NULL },
	{ "[2001:db8:1::3]:80/tcp", "ipip", false, "198.18.2.7,198.18.2.17", NULL },
	{ "[2001:db8:1::4]:0/udp", "gue", false, "198.18.2.8,198.18.2.18", NULL },
	{ "[2001:db8:1::5]:0/tcp", "l2", false, "2001:db8:2::9", NULL },
	/* Source hashing: the client address alone picks the slot. */
	{ "198.18.1.7:80/tcp", "ipip", false, "198.18.2.5,198.18.2.15,198.18.2.25", "sh" },
	{ "198.18.1.11:80/tcp", "ipip", true, "198.18.2.6,198.18.2.16", "sh" },
	{ "[2001:db8:1::6]:0/udp", "gue", false, "2001:db8:2::7,2001:db8:2::17", "sh" },
	{ "[2001:db8:1::6]:80/tcp", "ipip", true, "2001:db8:2::16", NULL },
	{ "[2001:db8:1::1]:53/udp", "gue", false, "2001:db8:2::21", NULL },
};
#define NSERV	(sizeof(services) / sizeof(services[0]))

/* Decap sets: outer = the backends, balancers = the node sources, inner =
 * the VIP addresses plus a prefix each. */
static const char *const d_outer = "198.18.2.1,198.18.2.2,198.18.2.3,"
	"198.18.2.7,198.18.2.8,2001:db8:2::1,2001:db8:2::2,2001:db8:2::3,"
	"2001:db8:2::5,2001:db8:2::6";
static const char *const d_bal = "198.18.0.10,2001:db8::10,198.18.0.0/29";
static const char *const d_inner = "198.18.1.1,198.18.1.2,198.18.1.3,"
	"198.18.1.5,2001:db8:1::1,2001:db8:1::2,2001:db8:1::3,198.18.100.0/24,"
	"2001:db8:100::/48";

/* ---- PRNG: xorshift64*, seeded ---- */
static __u64 rng_s;

static __u64 rnd(void)
{
	rng_s ^= rng_s >> 12;
	rng_s ^= rng_s << 25;
	rng_s ^= rng_s >> 27;
	return rng_s * 0x2545f4914f6cdd1dULL;
}

static __u32 rn(__u32 n)
{
	return n ? (__u32)(rnd() % n) : 0;
}

static bool chance(int pct)
{
	return rn(100) < (__u32)pct;
}

struct ctx {
	struct xlb *lb;
	struct xlb_decap_bpf *decap;
	struct xlb_decap_maps dmaps;
	struct dm_lb m;
	struct dm_decap dm;
	int flows_fd, flows_new_fd, frags_fd;
	struct dm_frags frags;	/* the model's first fragments */
	long frames, lb_frames, decap_frames, mismatches, max_fail;
	long sequences;		/* frames sent three times (again()) */
	long frag_seqs;		/* later fragments sent after their first */
	__u64 seed;
	long idx;
	bool quiet, stats;
	/* the last encapsulated output, fed to decap */
	__u8 last_tx[MAX_FRAME];
	size_t last_tx_len;
};

static int die(const char *what, int err)
{
	fprintf(stderr, "xlb-difftest: %s: %s\n", what, strerror(-err));
	return 1;
}

/* ---- setup ---- */

static int add_services(struct ctx *c)
{
	for (size_t i = 0; i < NSERV; i++) {
		struct xlb_vip_opts o = { .no_flowtable = services[i].off };
		struct xlb_backend_spec spec[4];
		struct xlb_vip_key k;
		char list[256], *save, *tok;
		__u8 mode;
		size_t n = 0;
		int err;

		mode = !strcmp(services[i].mode, "gue") ? XLB_MODE_GUE :
		       !strcmp(services[i].mode, "l2") ? XLB_MODE_L2 :
		       XLB_MODE_IPIP;
		if (xlb_parse_vip(services[i].vip, &k))
			return -EINVAL;
		err = xlb_vip_add_opts(c->lb, &k, mode,
				       services[i].algo &&
				       !strcmp(services[i].algo, "sh") ?
					       XLB_ALGO_SH : XLB_ALGO_MAGLEV,
				       &o);
		if (err)
			return err;
		snprintf(list, sizeof(list), "%s", services[i].bes);
		for (tok = strtok_r(list, ",", &save); tok && n < 4;
		     tok = strtok_r(NULL, ",", &save), n++) {
			memset(&spec[n], 0, sizeof(spec[n]));
			if (xlb_parse_addr(tok, &spec[n].addr,
					   &spec[n].family))
				return -EINVAL;
			spec[n].weight = 1 + n;
			spec[n].has_mac = mode == XLB_MODE_L2;
			memcpy(spec[n].mac, BE_MAC, 6);
			spec[n].mac[5] += n;
		}
		if (n && (err = xlb_backends_add(c->lb, &k, spec, n)))
			return err;
	}
	return 0;
}

static int map_fd(struct ctx *c, const char *name)
{
	return bpf_object__find_map_fd_by_name(xlb_object(c->lb), name);
}

/* A ring not yet rebuilt after its slots changed hands: some entries of
 * the first VIP's ring name a slot of another VIP, some a free slot. The
 * data plane must not use them (the model: no backend). */
static int stale_ring(struct ctx *c)
{
	int rfd = map_fd(c, XLB_STR(XLB_MAP_MAGLEV));
	struct xlb_vip_key a, b;
	__u32 id, ring_id, other, j, free_slot = DM_MAX_BE - 1;
	int fd, err = 0;

	union xlb_addr ba;
	__u8 fam;

	if (xlb_parse_vip(services[0].vip, &a) ||
	    xlb_parse_vip(services[9].vip, &b) ||
	    xlb_parse_addr("2001:db8:2::1", &ba, &fam))
		return -EINVAL;
	err = xlb_vip_id(c->lb, &a, &id) ?:
	      xlb_backend_slot(c->lb, &b, &ba, fam, &other);
	if (err)
		return err;
	if (bpf_map_lookup_elem(rfd, &id, &ring_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(ring_id);
	if (fd < 0)
		return -errno;
	for (j = 0; j < RING && !err; j += 7)
		if (bpf_map_update_elem(fd, &j, j % 2 ? &other : &free_slot, 0))
			err = -errno;
	close(fd);
	return err;
}

static int map_fd(struct ctx *c, const char *name);

/* Previous rings: every service with two or more backends changes its
 * weights once, so its first ring becomes its previous one (bpf/maps.h,
 * XLB_MAP_RING_PREV). libxlb keeps none for a VIP without flow table; one
 * is put there by hand all the same, which the balancer must ignore. */
static int prev_rings(struct ctx *c)
{
	int rfd = map_fd(c, XLB_STR(XLB_MAP_MAGLEV));
	int pfd = map_fd(c, XLB_STR(XLB_MAP_RING_PREV));
	struct xlb_backend_spec spec[4];
	struct xlb_vip_key k;
	__u32 id, ring_id;
	int n, i, fd, err;

	for (size_t s = 0; s < NSERV; s++) {
		if (xlb_parse_vip(services[s].vip, &k))
			return -EINVAL;
		n = xlb_vip_backends(c->lb, &k, spec, 4);
		if (n < 2)
			continue;
		for (i = 0; i < n; i++)
			spec[i].weight = n - i;
		fd = -1;
		if (services[s].off &&
		    !xlb_vip_id(c->lb, &k, &id) &&
		    !bpf_map_lookup_elem(rfd, &id, &ring_id))
			fd = bpf_map_get_fd_by_id(ring_id);
		err = xlb_vip_update(c->lb, &k, spec, n);
		if (!err && fd >= 0 &&
		    bpf_map_update_elem(pfd, &id, &fd, BPF_ANY))
			err = -errno;
		if (fd >= 0)
			close(fd);
		if (err)
			return err;
	}
	return 0;
}

static int read_ring(int outer_fd, __u32 i, __u32 **out)
{
	__u32 id, j;
	int fd;

	free(*out);
	*out = NULL;
	if (bpf_map_lookup_elem(outer_fd, &i, &id))
		return 0;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	*out = calloc(RING, sizeof(__u32));
	for (j = 0; *out && j < RING; j++)
		if (bpf_map_lookup_elem(fd, &j, &(*out)[j]))
			(*out)[j] = ~0U;
	close(fd);
	return *out ? 0 : -ENOMEM;
}

/* The model's configuration, read back from the balancer's maps. */
static int snapshot(struct ctx *c)
{
	int vfd = map_fd(c, XLB_STR(XLB_MAP_VIPS));
	int bfd = map_fd(c, XLB_STR(XLB_MAP_BACKENDS));
	int rfd = map_fd(c, XLB_STR(XLB_MAP_MAGLEV));
	int pfd = map_fd(c, XLB_STR(XLB_MAP_RING_PREV));
	struct xlb_vip_key k, *prev = NULL;
	__u32 i, zero = 0;
	int cfd = map_fd(c, XLB_STR(XLB_MAP_CONFIG));

	if (vfd < 0 || bfd < 0 || rfd < 0 || pfd < 0 || cfd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(cfd, &zero, &c->m.cfg))
		return -errno;
	c->m.nvips = 0;
	while (!bpf_map_get_next_key(vfd, prev, &k) &&
	       c->m.nvips < DM_MAX_VIPS) {
		struct dm_vip *v = &c->m.vips[c->m.nvips++];

		v->key = k;
		if (bpf_map_lookup_elem(vfd, &k, &v->v))
			return -errno;
		prev = &v->key;
	}
	for (i = 0; i < DM_MAX_BE; i++)
		if (bpf_map_lookup_elem(bfd, &i, &c->m.be[i]))
			return -errno;
	c->m.ring_size = RING;
	for (i = 0; i < DM_MAX_VIPS; i++) {
		int err = read_ring(rfd, i, &c->m.ring[i]) ?:
			  read_ring(pfd, i, &c->m.prev[i]);

		if (err)
			return err;
	}
	return 0;
}

static void dm_set(struct dm_prefix *set, int *n, const char *list)
{
	char buf[512], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok && *n < DM_MAX_PFX;
	     tok = strtok_r(NULL, ",", &save)) {
		struct xlb_prefix p;

		if (xlb_parse_prefix(tok, &p))
			continue;
		set[*n].family = p.family;
		set[*n].len = p.len;
		memcpy(set[*n].addr, p.addr.bytes, 16);
		(*n)++;
	}
}

/* Decap settings, epoch e of four: source check and drop on or off. */
static int decap_epoch(struct ctx *c, int e)
{
	struct xlb_decap_conf d = { .gue_port = GUE, .drop = e & 1 };
	int err;

	err = xlb_prefix_list(d_outer, &d.outer) ?:
	      (e & 2 ? xlb_prefix_list(d_bal, &d.balancers) : 0) ?:
	      xlb_prefix_list(d_inner, &d.inner) ?:
	      xlb_decap_write(&c->dmaps, &d);
	xlb_decap_conf_free(&d);
	memset(&c->dm, 0, sizeof(c->dm));
	c->dm.gue_port = GUE;
	c->dm.drop = e & 1;
	c->dm.check_src = e & 2;
	dm_set(c->dm.outer, &c->dm.nouter, d_outer);
	if (e & 2)
		dm_set(c->dm.bal, &c->dm.nbal, d_bal);
	dm_set(c->dm.inner, &c->dm.ninner, d_inner);
	return err;
}

static int setup(struct ctx *c)
{
	struct xlb_opts o = { .flow_entries = 4096, .ring_size = RING };
	struct xlb_config *cfg = &c->m.cfg;
	union xlb_addr a;
	__u8 fam;
	int err;

	err = xlb_open(&c->lb, &o);
	if (err)
		return die("xlb_open", err);
	xlb_config_defaults(cfg);
	cfg->flags |= XLB_CFG_F_NO_FIB | XLB_CFG_F_HAS_GW |
		      XLB_CFG_F_HAS_SRC4 | XLB_CFG_F_HAS_SRC6;
	memcpy(cfg->gw_mac, GW_MAC, 6);
	xlb_parse_addr(SRC4, &a, &fam);
	cfg->src4 = a.v4;
	xlb_parse_addr(SRC6, &a, &fam);
	memcpy(cfg->src6, a.v6, 16);
	cfg->mtu = 1500;
	cfg->gue_port = htons(GUE);
	cfg->icmp_rate = ~0U;	/* never runs out: the model has no budget */
	err = xlb_set_config(c->lb, cfg) ?: add_services(c) ?:
	      prev_rings(c) ?: stale_ring(c) ?: snapshot(c);
	if (err)
		return die("configuring the balancer", err);
	c->m.frags = &c->frags;
	c->frags_fd = map_fd(c, XLB_STR(XLB_MAP_FRAGS));
	c->flows_fd = map_fd(c, XLB_STR(XLB_MAP_FLOWS));
	c->flows_new_fd = map_fd(c, XLB_STR(XLB_MAP_FLOWS_NEW));
	c->decap = xlb_decap_bpf__open_and_load();
	if (!c->decap)
		return die("loading xlb_decap", -errno);
	err = xlb_decap_maps_of(bpf_program__fd(c->decap->progs.xlb_decap),
				&c->dmaps) ?: decap_epoch(c, 0);
	if (err)
		return die("configuring xlb_decap", err);
	return 0;
}

/* ---- frames ---- */

static void put16(__u8 *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static unsigned int be16(const __u8 *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static void rbytes(__u8 *p, size_t n)
{
	while (n--)
		*p++ = rnd();
}

static size_t l2_hdr(__u8 *f, const __u8 *dst, unsigned int type)
{
	size_t off = 12;
	int r = rn(100), tags = r < 70 ? 0 : r < 98 ? 1 + rn(2) : 3;

	/* three tags: one more than the parsers take, so not IP to them */

	memcpy(f, dst, 6);
	memcpy(f + 6, ROUTER_MAC, 6);
	for (int i = 0; i < tags; i++) {
		put16(f + off, i == 0 && tags == 2 && chance(50) ? 0x88a8 :
			       0x8100);
		put16(f + off + 2, rn(4096));
		off += 4;
	}
	put16(f + off, type);
	return off + 2;
}

static unsigned int csum(const __u8 *p, size_t n, __u32 s)
{
	for (; n > 1; n -= 2, p += 2)
		s += (unsigned int)p[0] << 8 | p[1];
	if (n)
		s += (unsigned int)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* Where ip_hdr() put the fragment offset field (IPv4: flags and offset;
 * IPv6: the fragment header's), from the IP header's start; 0: none. */
static size_t frag_at;

/* An IP header from src to dst, protocol proto, payload plen bytes
 * following; IPv4 options or IPv6 extension headers at random, fragment
 * fields when frag_ok. Returns its length. */
static size_t ip_hdr(__u8 *ip, int fam, const union xlb_addr *src,
		     const union xlb_addr *dst, __u8 proto, size_t plen,
		     bool frag_ok)
{
	frag_at = 0;
	if (fam == 4) {
		size_t opt = chance(20) ? 4 * (1 + rn(10)) : 0;

		ip[0] = 0x40 | (5 + opt / 4);
		ip[1] = rnd();
		put16(ip + 2, 20 + opt + plen);
		put16(ip + 4, rnd());
		put16(ip + 6, chance(80) ? 0x4000 : 0);
		if (frag_ok && chance(50)) {
			put16(ip + 6, (chance(50) ? 0x2000 : 0) |
				      (chance(50) ? rn(0x2000) : 0));
			frag_at = 6;
		}
		ip[8] = 1 + rn(255);
		ip[9] = proto;
		memcpy(ip + 12, &src->v4, 4);
		memcpy(ip + 16, &dst->v4, 4);
		for (size_t i = 0; i < opt; i++)
			ip[20 + i] = i == 0 && chance(50) ? 0x94 : 1;
		if (opt && ip[20] == 0x94) {
			ip[21] = 4;
			ip[22] = ip[23] = 0;
		}
		ip[10] = ip[11] = 0;
		put16(ip + 10, csum(ip, 20 + opt, 0));
		return 20 + opt;
	}
	{
		size_t off = 40;
		int n = chance(25) ? rn(5) + (chance(10) ? 1 : 0) : 0;
		__u8 *nh = ip + 6;

		ip[0] = 0x60 | rn(16);
		ip[1] = rnd();
		put16(ip + 2, rnd());
		ip[7] = rnd();
		memcpy(ip + 8, src->bytes, 16);
		memcpy(ip + 24, dst->bytes, 16);
		if (frag_ok && chance(50)) {
			/* a fragment header somewhere in the chain */
			n = n ? n : 1;
		}
		for (int i = 0; i < n; i++) {
			static const __u8 types[] = { 0, 43, 60, 60 };
			bool fr = frag_ok && i == n - 1;
			__u8 t = fr ? 44 : types[rn(4)];
			size_t hl = t == 44 ? 8 : 8 * (1 + rn(3));

			*nh = t;
			memset(ip + off, 0, hl);
			if (t == 44) {
				put16(ip + off + 2, (chance(50) ? rn(0x2000) << 3
					      : 0) | (chance(50) ? 1 : 0));
				put16(ip + off + 4, rnd());
				put16(ip + off + 6, rnd());
				frag_at = off + 2;
			} else {
				ip[off + 1] = hl / 8 - 1;
			}
			if (t == 43)
				ip[off + 2] = 0, ip[off + 3] = 0;
			nh = ip + off;
			off += hl;
		}
		*nh = proto;
		put16(ip + 4, off - 40 + plen);
		return off;
	}
}

static void rand_addr(union xlb_addr *a, int fam)
{
	memset(a, 0, sizeof(*a));
	if (fam == 4) {
		a->bytes[0] = 198;
		a->bytes[1] = 19;
		a->bytes[2] = rn(4);
		a->bytes[3] = rnd();
	} else {
		inet_pton(AF_INET6, "2001:db8:c::", a->bytes);
		a->bytes[14] = rn(4);
		a->bytes[15] = rnd();
	}
}

/* L4 header and payload at p; returns its length. */
static size_t l4_hdr(__u8 *p, __u8 proto, __u16 sport, __u16 dport,
		     size_t pay)
{
	size_t hl;

	if (proto == 6) {
		size_t doff = chance(70) ? 5 : 5 + rn(11);
		static const __u8 flags[] = { 0x02, 0x10, 0x18, 0x04, 0x11,
					      0x14, 0x12, 0x01 };

		hl = doff * 4;
		memset(p, 0, hl);
		put16(p, sport);
		put16(p + 2, dport);
		put16(p + 4, rnd());
		p[12] = doff << 4;
		p[13] = chance(90) ? flags[rn(8)] : rnd();
		put16(p + 14, rnd());
		for (size_t i = 20; i < hl; i++)
			p[i] = 1;
	} else if (proto == 17) {
		hl = 8;
		put16(p, sport);
		put16(p + 2, dport);
		put16(p + 4, 8 + pay);
		put16(p + 6, rnd());
	} else {
		hl = 8;
		rbytes(p, 8);
	}
	rbytes(p + hl, pay);
	return hl + pay;
}

static size_t payload_len(void)
{
	switch (rn(4)) {
	case 0:
		return 1380 + rn(120);	/* near the MTU with encap */
	case 1:
		return rn(1600);
	default:
		return rn(64);
	}
}

/* Make the too-big reply to the IPv4 TCP packet at ip (header ihl bytes,
 * to an IPIP VIP with an IPv4 backend: MTU 1500 - 20) need two folds of
 * its checksum: choose the sequence number (quoted) so that the 32-bit sum
 * of the ICMP message folds once to more than 16 bits. */
static void carry_twice(__u8 *ip, size_t ihl)
{
	__u8 *seq = ip + ihl + 4;
	__u32 base, x;
	size_t i;

	/* Either word order: one's complement sums agree in the end, their
	 * 32-bit carries do not, and the program sums memory-order words
	 * (little-endian here). The message: type 3 code 4, zero, MTU. */
	memset(seq, 0xff, 4);
	base = 0x0403 + ((1500 - 20) >> 8 | ((1500 - 20) & 0xff) << 8);
	for (i = 0; i < ihl + 8; i += 2)
		base += (__u32)ip[i] | (__u32)ip[i + 1] << 8;
	base -= 0xffff;		/* seq's first word, chosen below */
	for (x = 0; x <= 0xffff; x++) {
		__u32 t = base + x;

		if ((t & 0xffff) + (t >> 16) > 0xffff) {
			seq[0] = x;
			seq[1] = x >> 8;
			return;
		}
	}
}

/* A later fragment's first (first_len 0: none), sent before it. */
static __u8 first[MAX_FRAME];
static size_t first_len;

/* The first fragment of the later fragment at ip (frame f, n bytes): the
 * same frame with its offset cleared and more fragments set; then the
 * later fragment's leading bytes, where the first has its ports, often
 * changed. */
static void first_of(__u8 *f, size_t n, __u8 *ip, int fam, size_t l4)
{
	size_t at = ip - f + frag_at;

	memcpy(first, f, n);
	first_len = n;
	if (fam == 4) {
		put16(first + at, (first[at] & 0x40) << 8 | 0x2000);
		put16(first + (ip - f) + 10, 0);
		put16(first + (ip - f) + 10,
		      csum(first + (ip - f), (ip[0] & 15) * 4, 0));
	} else {
		put16(first + at, (first[at + 1] & 6) | 1);
	}
	if (chance(50))
		rbytes(f + l4, 4);
}

/* A packet from a client to a VIP (or near one), or the other way when an
 * ICMP error quotes it. */
static size_t gen_lb(__u8 *f)
{
	const struct dm_vip *v = NULL;
	union xlb_addr src, dst;
	struct xlb_vip_key k;
	int fam, what = rn(100);
	__u16 sport = 1024 + rn(64000), dport;
	__u8 proto;
	size_t off, ihl, l4, pay = payload_len();
	static __u8 body[MAX_FRAME];
	size_t ipo;
	bool later;

	first_len = 0;
	if (what < 3) {			/* not IP */
		off = l2_hdr(f, LB_MAC, chance(50) ? 0x0806 : rnd() & 0xffff);
		rbytes(f + off, 28 + rn(40));
		return off + 28 + rn(40);
	}
	bool edge = what >= 97;	/* a too-big reply whose sum carries twice */

	xlb_parse_vip(services[edge ? 0 : rn(NSERV)].vip, &k);
	fam = k.family;
	dst = k.addr;
	proto = k.proto;
	dport = k.port ? ntohs(k.port) : rn(65536);
	if (chance(10))
		dport = rn(65536);
	if (chance(5))
		proto = chance(50) ? 6 : 17;
	if (chance(5))
		dst.bytes[fam == 4 ? 3 : 15] ^= 1 + rn(255);	/* non-VIP */
	if (chance(3))
		proto = (__u8[]){ 1, 58, 47, 50, 132 }[rn(5)];
	rand_addr(&src, fam);
	(void)v;
	off = l2_hdr(f, LB_MAC, fam == 4 ? 0x0800 : 0x86dd);
	if (what < 13) {
		/* an ICMP error to the VIP address (or another), quoting a
		 * packet from the VIP to the client */
		__u8 *q = body;
		size_t qh, ql, ql4;
		__u8 ip_p = fam == 4 ? 1 : 58;

		/* sometimes quoting a fragment: only a first one is followed */
		qh = ip_hdr(q, fam, &dst, &src, proto, 0, chance(20));
		ql4 = l4_hdr(q + qh, proto, dport, sport, 0);
		ql = qh + ql4;
		if (fam == 4)
			put16(q + 2, ql + 100);
		else
			put16(q + 4, ql - 40 + 100);
		if (chance(30))
			ql = qh + 8;
		if (chance(10))
			ql = rn(ql + 1);
		if (chance(10))
			rand_addr(&dst, fam);
		ihl = ip_hdr(f + off, fam, &src, &dst, ip_p, 8 + ql, false);
		l4 = off + ihl;
		f[l4] = fam == 4 ? (__u8[]){ 3, 11, 12, 3, 5 }[rn(5)] :
				   (__u8[]){ 1, 2, 3, 4, 128 }[rn(5)];
		f[l4 + 1] = rn(5);
		put16(f + l4 + 2, 0);
		put16(f + l4 + 4, 0);
		put16(f + l4 + 6, 1280 + rn(200));
		memcpy(f + l4 + 8, q, ql);
		return l4 + 8 + ql;
	}
	if (edge) {
		proto = 6;
		dport = 80;
		dst = k.addr;
		pay = 1500;
	}
	ihl = ip_hdr(f + off, fam, &src, &dst, proto, 0,
		     what < 23 && !edge);
	l4 = l4_hdr(f + off + ihl, proto, sport, dport, pay);
	if (fam == 4)
		put16(f + off + 2, ihl + l4);
	else
		put16(f + off + 4, ihl - 40 + l4);
	if (fam == 4) {
		f[off + 10] = f[off + 11] = 0;
		put16(f + off + 10, csum(f + off, ihl, 0));
	}
	if (edge) {
		f[off + 6] |= 0x40;	/* DF */
		f[off + 10] = f[off + 11] = 0;
		put16(f + off + 10, csum(f + off, ihl, 0));
		carry_twice(f + off, ihl);
	}
	ipo = off;
	later = frag_at && (fam == 4 ? be16(f + off + 6) & 0x1fff :
			be16(f + off + frag_at) & 0xfff8);
	off += ihl + l4;
	if (off < 60 && chance(50)) {	/* Ethernet padding */
		memset(f + off, 0, 60 - off);
		off = 60;
	}
	if (later && chance(40))
		first_of(f, off, f + ipo, fam, ipo + ihl);
	return off;
}

/* A tunnel to the decap program: outer and inner addresses from the sets
 * or foreign, IPIP or GUE. */
static size_t gen_decap(struct ctx *c, __u8 *f)
{
	static const char *const outer[] = { "198.18.2.1", "2001:db8:2::1",
		"198.18.2.7", "2001:db8:2::6", "198.18.77.77",
		"2001:db8:77::7" };
	static const char *const bal[] = { "198.18.0.10", "2001:db8::10",
		"198.18.0.5", "198.19.99.99", "2001:db8:99::9" };
	static const char *const inner[] = { "198.18.1.1", "2001:db8:1::1",
		"198.18.100.7", "2001:db8:100:5::7", "198.18.1.9",
		"2001:db8:1::9", "::ffff:198.18.1.1" };
	union xlb_addr os, od, is, id;
	__u8 fam, ifam, osfam;
	size_t off, ohl, ihl, l4, pay = rn(4) ? rn(64) : rn(1400);
	bool gue = chance(40);
	__u8 *ip;

	if (c->last_tx_len && chance(25)) {
		memcpy(f, c->last_tx, c->last_tx_len);
		return c->last_tx_len;
	}
	xlb_parse_addr(outer[rn(6)], &od, &fam);
	do
		xlb_parse_addr(bal[rn(5)], &os, &osfam);
	while (osfam != fam);
	xlb_parse_addr(inner[rn(7)], &id, &ifam);
	rand_addr(&is, ifam);
	off = l2_hdr(f, LB_MAC, fam == 4 ? 0x0800 : 0x86dd);
	ip = f + off;
	/* outer header without extension headers or options mostly */
	if (fam == 4) {
		memset(ip, 0, 20);
		ip[0] = chance(95) ? 0x45 : 0x46;
		ip[6] = chance(90) ? 0x40 : (__u8[]){ 0x20, 0x00, 0x01 }[rn(3)];
		ip[8] = 64;
		ip[9] = gue ? 17 : ifam == 4 ? 4 : 41;
		memcpy(ip + 12, &os.v4, 4);
		memcpy(ip + 16, &od.v4, 4);
		ohl = (ip[0] & 15) * 4;
		memset(ip + 20, 1, ohl - 20);
	} else {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[6] = gue ? 17 : ifam == 4 ? 4 : 41;
		ip[7] = 64;
		memcpy(ip + 8, os.bytes, 16);
		memcpy(ip + 24, od.bytes, 16);
		ohl = 40;
	}
	if (gue) {
		put16(ip + ohl, 0xc000 | rn(0x4000));
		put16(ip + ohl + 2, chance(90) ? GUE : GUE + 1);
		ohl += 8;
	}
	ihl = ip_hdr(ip + ohl, ifam, &is, &id, 6, 0, false);
	l4 = l4_hdr(ip + ohl + ihl, 6, 1024 + rn(60000), 80, pay);
	if (ifam == 4) {
		put16(ip + ohl + 2, ihl + l4);
		put16(ip + ohl + 10, 0);
		put16(ip + ohl + 10, csum(ip + ohl, ihl, 0));
	} else {
		put16(ip + ohl + 4, ihl - 40 + l4);
	}
	if (fam == 4) {
		put16(ip + 2, ohl + ihl + l4);
		put16(ip + 10, csum(ip, (ip[0] & 15) * 4, 0));
	} else {
		put16(ip + 4, ohl - 40 + ihl + l4);
	}
	if (gue)
		put16(ip + (fam == 4 ? (ip[0] & 15) * 4 : 40) + 4,
		      ohl - (fam == 4 ? (ip[0] & 15) * 4 : 40) + ihl + l4);
	off += ohl + ihl + l4;
	if (off < 60 && chance(50)) {
		memset(f + off, 0, 60 - off);
		off = 60;
	}
	return off;
}

/* Offsets of length fields a mutation may make lie. */
static size_t mutate(__u8 *f, size_t n)
{
	int times = 1 + rn(3);

	while (times--) {
		size_t at = rn(n);

		switch (rn(7)) {
		case 0:		/* truncate */
			n = rn(n + 1);
			break;
		case 1:		/* bit flip */
			if (n)
				f[at] ^= 1 << rn(8);
			break;
		case 2:		/* random byte */
			if (n)
				f[at] = rnd();
			break;
		case 3:		/* trailing bytes */
			if (n + 16 < MAX_FRAME) {
				size_t k = 1 + rn(16);

				rbytes(f + n, k);
				n += k;
			}
			break;
		case 4:		/* a 16-bit field off by a little */
			if (at + 1 < n) {
				unsigned int v = (f[at] << 8 | f[at + 1]) +
						 (int)rn(9) - 4;

				put16(f + at, v);
			}
			break;
		case 5:		/* a header length nibble */
			if (n)
				f[at] = (f[at] & 0xf0) | rn(16);
			break;
		default:	/* a length field at a typical offset */
		{
			static const size_t offs[] = { 16, 18, 20, 24, 26, 38,
				46, 54, 58, 60, 62, 66, 74 };
			size_t o = offs[rn(13)];

			if (o + 1 < n)
				put16(f + o, chance(50) ? rn(65536) :
					     (f[o] << 8 | f[o + 1]) + rn(9) - 4);
		}
		}
	}
	return n;
}

/* ---- running and comparing ---- */

/* How often each of the model's reasons came up (--stats): coverage. */
static struct {
	const char *why;
	long n, bad;
} reasons[64];
static int last_reason = -1;

static void tally(const char *prog, const struct dm_out *e)
{
	static char names[64][64];
	char name[64];
	int i;

	if (!strcmp(prog, "decap"))
		snprintf(name, sizeof(name), "decap: %s",
			 xlb_decap_counter_names[e->counter]);
	else
		snprintf(name, sizeof(name), "lb: %s", e->why ? e->why : "-");
	for (i = 0; i < 64 && reasons[i].why; i++)
		if (!strcmp(reasons[i].why, name))
			break;
	last_reason = i < 64 ? i : -1;
	if (i == 64)
		return;
	if (!reasons[i].why) {
		snprintf(names[i], sizeof(names[i]), "%s", name);
		reasons[i].why = names[i];
	}
	reasons[i].n++;
}

static void hexdump(const char *tag, const __u8 *p, size_t n)
{
	size_t shown = n > 256 && !getenv("DIFFTEST_FULL") ? 256 : n;

	printf("  %s (%zu bytes%s):", tag, n,
	       shown < n ? ", first 256; DIFFTEST_FULL=1 shows all" : "");
	for (size_t i = 0; i < shown; i++)
		printf("%s%02x", i % 32 ? "" : "\n    ", p[i]);
	printf("\n");
}

static const char *vname(int v)
{
	return v == DM_DROP ? "drop" : v == DM_PASS ? "pass" :
	       v == DM_TX ? "tx" : v == 4 ? "redirect" : "aborted";
}

static int test_run(int fd, const __u8 *in, size_t n, __u8 *out,
		    __u32 *out_len, __u32 *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, t);

	t.data_in = in;
	t.data_size_in = n;
	t.data_out = out;
	t.data_size_out = DM_MAX_PKT;
	t.repeat = 1;
	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	*out_len = t.data_size_out;
	*ret = t.retval;
	return 0;
}

/* Keys of any of the tables looked at (flows, xlb_frags). */
#define KEY_MAX	64

static bool table_empty(int fd)
{
	__u8 k[KEY_MAX];

	return bpf_map_get_next_key(fd, NULL, k) && errno == ENOENT;
}

static void clear_table(int fd)
{
	__u8 k[KEY_MAX];

	while (!bpf_map_get_next_key(fd, NULL, k))
		bpf_map_delete_elem(fd, k);
}

static void report(struct ctx *c, const char *prog, const char *why,
		   const __u8 *in, size_t n, const struct dm_out *e,
		   const __u8 *got, size_t glen, __u32 ret)
{
	c->mismatches++;
	if (last_reason >= 0)
		reasons[last_reason].bad++;
	if (c->quiet || c->mismatches > c->max_fail)
		return;
	printf("MISMATCH %s seed %llu frame %ld: %s (model: %s, verdict %s; "
	       "got %s)\n", prog, (unsigned long long)c->seed, c->idx, why,
	       e->why ? e->why : "-", vname(e->verdict), vname(ret));
	hexdump("frame", in, n);
	if (e->verdict != DM_DROP)
		hexdump("expected", e->pkt, e->len);
	hexdump("got", got, glen);
}

static bool is_too_big_reply(const __u8 *in, const __u8 *out, size_t n)
{
	/* the MACs swapped is what only a reply does */
	return n >= 12 && !memcmp(out, in + 6, 6) && !memcmp(out + 6, in, 6);
}

static bool entry_is(struct xlb_flow *got, const struct xlb_flow *want)
{
	struct xlb_flow g = *got;

	g.last_seen = 0;
	return got->last_seen && !memcmp(&g, want, sizeof(g));
}

/* The same frame twice more: the second packet confirms the entry (flow
 * table, the unconfirmed one emptied), and a third, after the entry was
 * aged a few jiffies, refreshes last_seen. Both go where the first went. */
static void again(struct ctx *c, const __u8 *in, size_t n,
		  const struct dm_out *e)
{
	static __u8 got[DM_MAX_PKT];
	struct xlb_flow fv, tmp;
	__u64 aged = 0;
	__u32 glen, ret;
	const char *why = NULL;

	c->sequences++;
	for (int round = 0; round < 2 && !why; round++) {
		if (test_run(xlb_prog_fd(c->lb), in, n, got, &glen, &ret))
			why = "test run failed";
		else if ((int)ret != e->verdict ||
			 (ret != DM_DROP && (glen != e->len ||
					     memcmp(got, e->pkt, glen))))
			why = round ? "third packet: not where the first went" :
				      "second packet: not where the first went";
		else if (!bpf_map_lookup_elem(c->flows_new_fd, &e->key, &tmp))
			why = "confirmed, yet still unconfirmed";
		else if (bpf_map_lookup_elem(c->flows_fd, &e->key, &fv) ||
			 !entry_is(&fv, &e->cval))
			why = "no flow table entry as the model's";
		else if (round && fv.last_seen <= aged)
			why = "third packet: last_seen not refreshed";
		else if (!round) {
			aged = fv.last_seen - 3;	/* 3 jiffies older */
			fv.last_seen = aged;
			if (bpf_map_update_elem(c->flows_fd, &e->key, &fv,
						BPF_EXIST))
				why = "aging the entry failed";
		}
	}
	if (why)
		report(c, "lb", why, in, n, e, got, glen, ret);
}

/* One frame to the balancer. first: a datagram's first fragment, whose
 * kept ports the next frame (its later fragment) uses. */
static int one_lb(struct ctx *c, const __u8 *in, size_t n, bool clean,
		  bool first)
{
	static struct dm_out e;
	static __u8 got[DM_MAX_PKT];
	struct xlb_flow fv;
	bool alone = table_empty(c->frags_fd);
	__u32 glen, ret;
	int err;

	dm_lb_run(&c->m, in, n, &e);
	err = test_run(xlb_prog_fd(c->lb), in, n, got, &glen, &ret);
	if (err)
		return err;
	c->lb_frames++;
	tally("lb", &e);
	if ((int)ret != e.verdict)
		report(c, "lb", "verdict", in, n, &e, got, glen, ret);
	else if (ret != DM_DROP &&
		 (glen != e.len || memcmp(got, e.pkt, glen)))
		report(c, "lb", "bytes", in, n, &e, got, glen, ret);
	else if (e.entry && bpf_map_lookup_elem(c->flows_new_fd, &e.key, &fv))
		report(c, "lb", "no unconfirmed entry made", in, n, &e, got,
		       glen, ret);
	else if (e.entry && (!fv.last_seen || (fv.last_seen = 0) ||
			     memcmp(&fv, &e.val, sizeof(fv)))) {
		char why[128];

		snprintf(why, sizeof(why), "entry {slot %u gen %u idle %u "
			 "state %u hash %08x}, model {%u %u %u %u %08x}",
			 fv.backend, fv.gen, fv.idle_s, fv.state, fv.hash,
			 e.val.backend, e.val.gen, e.val.idle_s, e.val.state,
			 e.val.hash);
		report(c, "lb", why, in, n, &e, got, glen, ret);
	} else if (e.entry && e.confirms && clean && chance(20)) {
		again(c, in, n, &e);
	} else if (e.entry && bpf_map_delete_elem(c->flows_new_fd, &e.key))
		report(c, "lb", "entry vanished", in, n, &e, got, glen, ret);
	else if (!table_empty(c->flows_new_fd) || !table_empty(c->flows_fd))
		report(c, "lb", e.entry ? "an entry besides the model's" :
			     "an entry made, the model makes none", in, n, &e,
		       got, glen, ret);
	else if (alone && table_empty(c->frags_fd) == e.frag_kept)
		report(c, "lb", e.frag_kept ? "first fragment's ports not kept"
			     : "fragment ports kept, the model keeps none",
		       in, n, &e, got, glen, ret);
	clear_table(c->flows_new_fd);
	clear_table(c->flows_fd);
	if (!first) {
		clear_table(c->frags_fd);
		c->frags.n = 0;
	}
	if (ret == DM_TX && glen <= MAX_FRAME && !is_too_big_reply(in, got, glen)) {
		memcpy(c->last_tx, got, glen);
		c->last_tx_len = glen;
	}
	return 0;
}

static int one_decap(struct ctx *c, const __u8 *in, size_t n)
{
	static struct dm_out e;
	static __u8 got[DM_MAX_PKT];
	__u64 before[XLB_DC_MAX], after[XLB_DC_MAX];
	__u32 glen, ret;
	int err, i, bumped = -1;

	dm_decap_run(&c->dm, in, n, &e);
	err = xlb_decap_counters(&c->dmaps, before) ?:
	      test_run(bpf_program__fd(c->decap->progs.xlb_decap), in, n,
		       got, &glen, &ret) ?:
	      xlb_decap_counters(&c->dmaps, after);
	if (err)
		return err;
	c->decap_frames++;
	tally("decap", &e);
	for (i = 0; i < XLB_DC_MAX; i++)
		if (after[i] != before[i])
			bumped = bumped == -1 && after[i] == before[i] + 1 ?
				 i : -2;
	if ((int)ret != e.verdict)
		report(c, "decap", "verdict", in, n, &e, got, glen, ret);
	else if (ret != DM_DROP &&
		 (glen != e.len || memcmp(got, e.pkt, glen)))
		report(c, "decap", "bytes", in, n, &e, got, glen, ret);
	else if (bumped != e.counter) {
		char why[96];

		snprintf(why, sizeof(why), "counter %s, model %s",
			 bumped >= 0 ? xlb_decap_counter_names[bumped] :
				       "(not one)",
			 xlb_decap_counter_names[e.counter]);
		report(c, "decap", why, in, n, &e, got, glen, ret);
	}
	return 0;
}

/* A whole non-negative number, or -1. */
static long long number(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	return errno || end == s || *end || v < 0 ? -1 : v;
}

int main(int argc, char **argv)
{
	static struct ctx c = { .max_fail = 10 };
	static __u8 f[MAX_FRAME + 64];
	long long frames = 200000, seed = -2;	/* -2: not given */
	int err, i;

	c.seed = (__u64)time(NULL);	/* unless --seed */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--quiet"))
			c.quiet = true;
		else if (!strcmp(a, "--stats"))
			c.stats = true;
		else if (v && !strcmp(a, "--frames") && ++i)
			frames = number(v);
		else if (v && !strcmp(a, "--seed") && ++i)
			seed = number(v);
		else if (v && !strcmp(a, "--max-fail") && ++i)
			c.max_fail = number(v);
		else {
			fprintf(stderr, "usage: xlb-difftest [--frames N] "
				"[--seed S] [--max-fail N] [--quiet] "
				"[--stats]\n");
			return 2;
		}
	}
	if (frames < 0 || seed == -1 || c.max_fail < 0) {
		fprintf(stderr, "xlb-difftest: --frames, --seed and --max-fail "
			"take whole numbers\n");
		return 2;
	}
	if (seed >= 0)
		c.seed = seed;
	libbpf_set_print(NULL);
	if (setup(&c))
		return 1;
	rng_s = c.seed * 0x9e3779b97f4a7c15ULL + 1;
	printf("difftest: seed %llu\n", (unsigned long long)c.seed);
	for (c.idx = 0; c.idx < frames; c.idx++) {
		bool decap = rn(100) < 30, clean;
		size_t n;

		if (c.idx % 50000 == 0 && c.idx &&
		    (err = decap_epoch(&c, (int)(c.idx / 50000) % 4)))
			return die("decap settings", err);
		n = decap ? gen_decap(&c, f) : gen_lb(f);
		clean = chance(50);
		if (!clean)
			n = mutate(f, n);
		if (n > MAX_FRAME)
			n = MAX_FRAME;
		if (n < 14)	/* the kernel's minimum for a test run */
			n = 14;
		if (!decap && first_len) {
			c.frag_seqs++;
			err = one_lb(&c, first, first_len, true, true);
			if (err)
				return die("BPF_PROG_TEST_RUN", err);
		}
		err = decap ? one_decap(&c, f, n) : one_lb(&c, f, n, clean,
							   false);
		if (err)
			return die("BPF_PROG_TEST_RUN", err);
		c.frames++;
	}
	printf("difftest: frames %ld (lb %ld, of them %ld sent thrice, %ld "
	       "later fragments after their first; decap %ld), mismatches "
	       "%ld\n", c.frames, c.lb_frames, c.sequences, c.frag_seqs,
	       c.decap_frames, c.mismatches);
	for (i = 0; c.stats && i < 64 && reasons[i].why; i++)
		printf("  %8ld %6ld mismatched  %s\n", reasons[i].n,
		       reasons[i].bad, reasons[i].why);
	printf("difftest: %d passed, %d failed\n", c.mismatches == 0,
	       c.mismatches != 0);
	return c.mismatches != 0;
}
