// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Flow-state sync: exporting the entries a peer needs, importing a peer's
 * (flowsync.h). Works through the maps and libxlb's public calls only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowsync.h"
#include "xlb/hash.h"

int xlb_jiffies(__u64 *now)
{
	char line[256];
	FILE *f = fopen("/proc/timer_list", "r");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "jiffies: %llu",
			   (unsigned long long *)now) == 1) {
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

static int fd_of(struct xlb *x, const char *name)
{
	return bpf_object__find_map_fd_by_name(xlb_object(x), name);
}

/* The VIP a flow key belongs to: its port, else the wildcard. */
static int vip_of(struct xlb *x, const struct xlb_flow_key *k,
		  struct xlb_vip_key *vk, __u32 *id)
{
	memset(vk, 0, sizeof(*vk));
	vk->addr = k->dst;
	vk->port = k->dport;
	vk->proto = k->proto;
	vk->family = k->family;
	if (!xlb_vip_id(x, vk, id))
		return 0;
	vk->port = 0;
	return xlb_vip_id(x, vk, id);
}

/* A VIP's rings, read on first use. */
struct rings {
	int fd;				/* outer map; -1: the previous rings,
					 * from xlb_ring_prev_sync_fd */
	__u32 *ring[XLB_MAX_VIPS];	/* NULL: none */
	bool read[XLB_MAX_VIPS];
};

struct export {
	struct xlb *x;
	int backends_fd, vips_fd;
	__u32 ring_size;
	struct rings cur, prev;
};

static const __u32 *ring_of(struct export *e, struct rings *r, __u32 vip_id)
{
	__u32 inner_id, i;
	int fd;

	if (vip_id >= XLB_MAX_VIPS)
		return NULL;
	if (r->read[vip_id])
		return r->ring[vip_id];
	r->read[vip_id] = true;
	if (r->fd < 0) {
		fd = xlb_ring_prev_sync_fd(e->x, vip_id);
		if (fd < 0)
			return NULL;
		fd = dup(fd);
	} else if (!bpf_map_lookup_elem(r->fd, &vip_id, &inner_id)) {
		fd = bpf_map_get_fd_by_id(inner_id);
	} else {
		return NULL;
	}
	if (fd < 0)
		return NULL;
	r->ring[vip_id] = calloc(e->ring_size, sizeof(__u32));
	for (i = 0; r->ring[vip_id] && i < e->ring_size; i++)
		if (bpf_map_lookup_elem(fd, &i, &r->ring[vip_id][i]))
			r->ring[vip_id][i] = XLB_RING_NONE;
	close(fd);
	return r->ring[vip_id];
}

/* The slot ring r gives the flow, if that slot is a live backend of the
 * VIP (as the balancer's backend_get): else XLB_RING_NONE. */
static __u32 ring_slot(struct export *e, struct rings *r, __u32 vip_id,
		       const struct xlb_flow *f)
{
	const __u32 *ring = ring_of(e, r, vip_id);
	struct xlb_backend be;
	__u32 slot;

	if (!ring || !e->ring_size)
		return XLB_RING_NONE;
	slot = ring[f->hash % e->ring_size];
	if (slot == XLB_RING_NONE ||
	    bpf_map_lookup_elem(e->backends_fd, &slot, &be) ||
	    !(be.flags & XLB_BE_F_ACTIVE) || be.vip_id != vip_id)
		return XLB_RING_NONE;
	return slot;
}

/* Whether a peer with our rings picks this entry's backend by itself for
 * a packet of the flow that finds no entry there: a deterministic
 * algorithm, the current ring's slot, and for TCP while a previous ring is
 * kept (the balancer's prev_pick) that ring's slot too - a peer's previous
 * ring may be in use for it. */
static bool peer_agrees(struct export *e, const struct xlb_vip_key *vk,
			__u32 vip_id, const struct xlb_flow_key *k,
			const struct xlb_flow *f)
{
	struct xlb_vip v;
	__u32 prev;

	if (bpf_map_lookup_elem(e->vips_fd, vk, &v) ||
	    !xlb_algo_deterministic(v.algo) ||
	    ring_slot(e, &e->cur, vip_id, f) != f->backend)
		return false;
	if (k->proto != IPPROTO_TCP || v.flags & XLB_VIP_F_NO_FLOWTABLE)
		return true;
	prev = ring_slot(e, &e->prev, vip_id, f);
	return prev == XLB_RING_NONE || prev == f->backend;
}

int xlb_flow_export(struct xlb *x, bool all, xlb_sync_cb cb, void *ctx,
		    struct xlb_sync_stats *st)
{
	int flows_fd = fd_of(x, XLB_STR(XLB_MAP_FLOWS));
	int cfg_fd = fd_of(x, XLB_STR(XLB_MAP_CONFIG));
	struct xlb_flow_key k, next;
	struct export *e;
	struct xlb_config cfg;
	unsigned int hz = 250;
	void *prev = NULL;
	__u64 now = 0;
	__u32 zero = 0, i;
	int err = 0;

	memset(st, 0, sizeof(*st));
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->x = x;
	e->cur.fd = fd_of(x, XLB_STR(XLB_MAP_MAGLEV));
	e->prev.fd = -1;
	e->backends_fd = fd_of(x, XLB_STR(XLB_MAP_BACKENDS));
	e->vips_fd = fd_of(x, XLB_STR(XLB_MAP_VIPS));
	if (flows_fd < 0 || cfg_fd < 0 || e->cur.fd < 0 ||
	    e->backends_fd < 0 || e->vips_fd < 0 ||
	    bpf_map_lookup_elem(cfg_fd, &zero, &cfg)) {
		free(e);
		return -ENOENT;
	}
	e->ring_size = cfg.ring_size;
	xlb_kernel_hz(&hz);
	xlb_jiffies(&now);
	while (!err && !bpf_map_get_next_key(flows_fd, prev, &next)) {
		struct xlb_sync_flow s;
		struct xlb_vip_key vk;
		struct xlb_backend be;
		struct xlb_flow f;
		__u32 vip_id;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(flows_fd, &k, &f))
			continue;
		st->scanned++;
		if ((now && xlb_flow_expired(&f, now, hz)) ||
		    bpf_map_lookup_elem(e->backends_fd, &f.backend, &be) ||
		    !(be.flags & XLB_BE_F_ACTIVE) || be.gen != f.gen ||
		    vip_of(x, &k, &vk, &vip_id) || be.vip_id != vip_id) {
			st->skipped++;
			continue;
		}
		if (!all && peer_agrees(e, &vk, vip_id, &k, &f))
			continue;
		memset(&s, 0, sizeof(s));
		s.key = k;
		s.backend = be.addr;
		s.be_family = be.family;
		s.state = f.state;
		s.idle_s = f.idle_s;
		st->exported++;
		err = cb(&s, ctx);
	}
	for (i = 0; i < XLB_MAX_VIPS; i++) {
		free(e->cur.ring[i]);
		free(e->prev.ring[i]);
	}
	free(e);
	return err;
}

int xlb_flow_import(struct xlb *x, const struct xlb_sync_flow *s,
		    __u64 now_jiffies)
{
	int flows_fd = fd_of(x, XLB_STR(XLB_MAP_FLOWS));
	int backends_fd = fd_of(x, XLB_STR(XLB_MAP_BACKENDS));
	struct xlb_vip_key vk;
	struct xlb_backend be;
	struct xlb_flow f;
	__u32 vip_id, slot;
	int err;

	if (flows_fd < 0 || backends_fd < 0)
		return -ENOENT;
	if (s->state != XLB_FLOW_ESTABLISHED && s->state != XLB_FLOW_FIN)
		return -EINVAL;
	err = vip_of(x, &s->key, &vk, &vip_id) ?:
	      xlb_backend_slot(x, &vk, &s->backend, s->be_family, &slot);
	if (err)
		return -ENOENT;
	if (bpf_map_lookup_elem(backends_fd, &slot, &be))
		return -errno;
	if (!(be.flags & XLB_BE_F_ACTIVE))
		return -ENOENT;
	memset(&f, 0, sizeof(f));
	f.backend = slot;
	f.gen = be.gen;
	f.last_seen = now_jiffies;
	f.idle_s = s->idle_s;
	f.state = s->state;
	f.hash = xlb_flow_hash(&s->key);
	if (bpf_map_update_elem(flows_fd, &s->key, &f, BPF_NOEXIST))
		return errno == EEXIST ? 1 : -errno;
	return 0;
}
