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
	int vips_fd;
	__u32 ring_size;
	struct rings cur, prev;
	struct xlb_backend *be;		/* every slot, read in one batch */
	struct xlb_vip vip[XLB_MAX_VIPS];	/* by id, read on first use */
	bool vip_read[XLB_MAX_VIPS], vip_ok[XLB_MAX_VIPS];
	struct vip_cache {		/* flow key -> VIP, for the scan */
		struct xlb_vip_key k;	/* the flow's (address, port...) */
		struct xlb_vip_key vk;	/* its VIP's (port 0: wildcard) */
		__u32 id;		/* XLB_RING_NONE: no VIP */
		bool used;
	} cache[4096];
};

/* A whole array map of n values of size bytes in one batch: what it did
 * not give reads as bytes of fill. NULL on failure. */
static void *read_array(int fd, __u32 n, size_t size, int fill)
{
	__u32 *keys = calloc(n, sizeof(__u32));
	char *vals = calloc(n, size), *out = malloc((size_t)n * size);
	__u32 batch = 0, count = n, i;
	int err;

	if (!keys || !vals || !out) {
		free(keys);
		free(vals);
		free(out);
		return NULL;
	}
	memset(out, fill, (size_t)n * size);
	err = bpf_map_lookup_batch(fd, NULL, &batch, keys, vals, &count, NULL);
	if (err && errno != ENOENT)
		count = 0;
	for (i = 0; i < count && i < n; i++)
		if (keys[i] < n)
			memcpy(out + keys[i] * size, vals + i * size, size);
	free(keys);
	free(vals);
	return out;
}

/* A ring: slots it did not give read as no backend (0xff bytes). */
static __u32 *read_ring(int fd, __u32 size)
{
	_Static_assert(XLB_RING_NONE == 0xffffffffU, "fill byte");
	return read_array(fd, size, sizeof(__u32), 0xff);
}

static const __u32 *ring_of(struct export *e, struct rings *r, __u32 vip_id)
{
	__u32 inner_id;
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
	r->ring[vip_id] = read_ring(fd, e->ring_size);
	close(fd);
	return r->ring[vip_id];
}

/* The slot ring r gives the flow, if that slot is a live backend of the
 * VIP (as the balancer's backend_get): else XLB_RING_NONE. */
static __u32 ring_slot(struct export *e, struct rings *r, __u32 vip_id,
		       __u8 algo, const struct xlb_flow_key *k,
		       const struct xlb_flow *f)
{
	const __u32 *ring = ring_of(e, r, vip_id);
	const struct xlb_backend *be;
	__u32 slot;

	if (!ring || !e->ring_size)
		return XLB_RING_NONE;
	slot = ring[xlb_pick_hash(k, algo, f->hash) % e->ring_size];
	if (slot >= XLB_MAX_BACKENDS)
		return XLB_RING_NONE;
	be = &e->be[slot];
	if (!(be->flags & XLB_BE_F_ACTIVE) || be->vip_id != vip_id)
		return XLB_RING_NONE;
	return slot;
}

static const struct xlb_vip *vip_val(struct export *e,
				     const struct xlb_vip_key *vk,
				     __u32 vip_id)
{
	if (vip_id >= XLB_MAX_VIPS)
		return NULL;
	if (!e->vip_read[vip_id]) {
		e->vip_read[vip_id] = true;
		e->vip_ok[vip_id] = !bpf_map_lookup_elem(e->vips_fd, vk,
							 &e->vip[vip_id]);
	}
	return e->vip_ok[vip_id] ? &e->vip[vip_id] : NULL;
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
	const struct xlb_vip *v = vip_val(e, vk, vip_id);
	__u32 prev;

	if (!v || !xlb_algo_deterministic(v->algo) ||
	    ring_slot(e, &e->cur, vip_id, v->algo, k, f) != f->backend)
		return false;
	if (k->proto != IPPROTO_TCP || v->flags & XLB_VIP_F_NO_FLOWTABLE)
		return true;
	prev = ring_slot(e, &e->prev, vip_id, v->algo, k, f);
	return prev == XLB_RING_NONE || prev == f->backend;
}

/* vip_of through a small cache: a scan meets the same few VIPs again and
 * again, and libxlb's lookup walks every VIP. */
static int vip_cached(struct export *e, const struct xlb_flow_key *k,
		      struct xlb_vip_key *vk, __u32 *id)
{
	struct xlb_vip_key probe;
	struct vip_cache *c;
	__u32 h = 2166136261U;
	size_t i;

	memset(&probe, 0, sizeof(probe));
	probe.addr = k->dst;
	probe.port = k->dport;
	probe.proto = k->proto;
	probe.family = k->family;
	for (i = 0; i < sizeof(probe); i++)
		h = (h ^ ((const unsigned char *)&probe)[i]) * 16777619U;
	c = &e->cache[h % (sizeof(e->cache) / sizeof(e->cache[0]))];
	if (!c->used || memcmp(&c->k, &probe, sizeof(probe))) {
		c->used = true;
		c->k = probe;
		if (vip_of(e->x, k, &c->vk, &c->id))
			c->id = XLB_RING_NONE;
	}
	if (c->id == XLB_RING_NONE)
		return -ENOENT;
	*vk = c->vk;
	*id = c->id;
	return 0;
}

#define SCAN_BATCH	1024

struct scan {
	struct xlb_flow_key keys[SCAN_BATCH];
	struct xlb_flow vals[SCAN_BATCH];
};

int xlb_flow_export(struct xlb *x, bool all, xlb_sync_cb cb, void *ctx,
		    struct xlb_sync_stats *st)
{
	int flows_fd = fd_of(x, XLB_STR(XLB_MAP_FLOWS));
	int cfg_fd = fd_of(x, XLB_STR(XLB_MAP_CONFIG));
	int be_fd = fd_of(x, XLB_STR(XLB_MAP_BACKENDS));
	struct export *e;
	struct scan *sc;
	struct xlb_config cfg;
	unsigned int hz = 250;
	__u32 zero = 0, i, token = 0;
	bool first = true, more = true;
	__u64 now = 0;
	int err = 0;

	memset(st, 0, sizeof(*st));
	e = calloc(1, sizeof(*e));
	sc = malloc(sizeof(*sc));
	if (!e || !sc) {
		free(e);
		free(sc);
		return -ENOMEM;
	}
	e->x = x;
	e->cur.fd = fd_of(x, XLB_STR(XLB_MAP_MAGLEV));
	e->prev.fd = -1;
	e->vips_fd = fd_of(x, XLB_STR(XLB_MAP_VIPS));
	if (flows_fd < 0 || cfg_fd < 0 || e->cur.fd < 0 || be_fd < 0 ||
	    e->vips_fd < 0 || bpf_map_lookup_elem(cfg_fd, &zero, &cfg)) {
		err = -ENOENT;
		goto out;
	}
	e->be = read_array(be_fd, XLB_MAX_BACKENDS, sizeof(*e->be), 0);
	if (!e->be) {
		err = -ENOMEM;
		goto out;
	}
	e->ring_size = cfg.ring_size;
	xlb_kernel_hz(&hz);
	xlb_jiffies(&now);
	while (!err && more) {
		__u32 count = SCAN_BATCH, n;

		if (bpf_map_lookup_batch(flows_fd, first ? NULL : &token,
					 &token, sc->keys, sc->vals, &count,
					 NULL)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			more = false;	/* the last batch (count may be > 0) */
		}
		first = false;
		for (n = 0; n < count && !err; n++) {
			const struct xlb_flow_key *k = &sc->keys[n];
			const struct xlb_flow *f = &sc->vals[n];
			const struct xlb_backend *be;
			struct xlb_sync_flow s;
			struct xlb_vip_key vk;
			__u32 vip_id;

			st->scanned++;
			be = f->backend < XLB_MAX_BACKENDS ?
				     &e->be[f->backend] : NULL;
			if ((now && xlb_flow_expired(f, now, hz)) || !be ||
			    !(be->flags & XLB_BE_F_ACTIVE) ||
			    be->gen != f->gen ||
			    vip_cached(e, k, &vk, &vip_id) ||
			    be->vip_id != vip_id) {
				st->skipped++;
				continue;
			}
			if (!all && peer_agrees(e, &vk, vip_id, k, f))
				continue;
			memset(&s, 0, sizeof(s));
			s.key = *k;
			s.backend = be->addr;
			s.be_family = be->family;
			s.state = f->state;
			s.idle_s = f->idle_s;
			s.slot = f->backend;
			st->exported++;
			err = cb(&s, ctx);
		}
	}
out:
	for (i = 0; i < XLB_MAX_VIPS; i++) {
		free(e->cur.ring[i]);
		free(e->prev.ring[i]);
	}
	free(e->be);
	free(e);
	free(sc);
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
