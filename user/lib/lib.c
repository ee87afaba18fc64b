// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* libxlb: the balancer's loader and its configuration model (see xlb.h).
 * User space keeps the VIP and backend sets; every change rewrites the
 * affected map entries and, when the backend set changed, the VIP's Maglev
 * ring, which is built aside and swapped in with one map update. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "algo.h"
#include "maglev.h"
#include "upgrade.h"
#include "xlb/hash.h"
#include "xlb.h"
#include "xlb/capture.h"
#include "xlb.skel.h"

struct be_state {
	struct xlb_backend_spec spec;
	__u32 slot;
};

/* One backend as the ring builder saw it. */
struct ring_in {
	union xlb_addr addr;
	__u32 slot;
	__u32 weight;
};

struct vip_state {
	bool used;
	struct xlb_vip_key key;
	struct xlb_vip val;
	struct be_state *be;
	size_t nbe;
	bool has_sync;			/* sync_fd: the previous ring, kept
					 * longer for flow sync (ring_keep_prev) */
	int sync_fd;
	time_t sync_since;
	__u64 ring_ms;			/* CLOCK_MONOTONIC ms of the current
					 * ring's install; 0: none */
	struct ring_in *ring_in;	/* what the current ring was built
					 * from (ring_install) */
	size_t ring_in_n;
	time_t prev_since;		/* CLOCK_MONOTONIC s when the ring in
					 * XLB_MAP_RING_PREV was replaced; 0:
					 * none kept */
};

struct xlb {
	struct xlb_bpf *skel;
	char pin_dir[256];		/* "" when not pinned */
	bool adopted;
	int link_fd;
	int upgrade_fd[UPGRADE_MAPS];	/* maps of a previous layout */
	__u32 ring_size;
	__u32 ring_prev_min_ms;
	__u32 *ring;			/* scratch for ring builds */
	__u32 *ring_keys;		/* 0..ring_size-1 for batch updates */
	__u64 ring_gen;			/* rings installed so far */
	struct vip_state vips[XLB_MAX_VIPS];
	__u32 slot_gen[XLB_MAX_BACKENDS];
	bool slot_used[XLB_MAX_BACKENDS];
};

void xlb_config_defaults(struct xlb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = XLB_MTU_DEFAULT;
	cfg->flags = XLB_CFG_F_ICMP_TOO_BIG;
	cfg->gue_port = htons(XLB_GUE_PORT_DEFAULT);
	cfg->icmp_rate = XLB_ICMP_RATE_DEFAULT;
}

static struct vip_state *vip_find(const struct xlb *x,
				  const struct xlb_vip_key *k);

static bool path_exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* Pin every map under dir; libbpf reuses maps already pinned there (their
 * type and sizes must match, or the load fails). */
static int pin_paths(struct xlb *x, const char *dir)
{
	struct bpf_map *m;
	char path[512];
	bool any = false;

	snprintf(x->pin_dir, sizeof(x->pin_dir), "%s", dir);
	bpf_object__for_each_map(m, x->skel->obj) {
		/* .rodata, .kconfig: the program's own, frozen at load. */
		if (bpf_map__is_internal(m))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		any |= path_exists(path);
		if (bpf_map__set_pin_path(m, path))
			return -errno ?: -EINVAL;
	}
	x->adopted = any || upgrade_pins_exist(dir);
	return 0;
}

/* Rebuild the model from the maps of a running data plane: VIPs from
 * xlb_vips, backends (with weights and generations) from xlb_backends. */
static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static int adopt(struct xlb *x)
{
	int vfd = bpf_map__fd(x->skel->maps.XLB_MAP_VIPS);
	int bfd = bpf_map__fd(x->skel->maps.XLB_MAP_BACKENDS);
	struct xlb_vip_key k, next;
	struct xlb_backend be;
	struct vip_state *v;
	struct xlb_vip val;
	void *prev = NULL;
	__u32 slot, inner_id;

	while (!bpf_map_get_next_key(vfd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(vfd, &k, &val) || val.id >= XLB_MAX_VIPS)
			return -EINVAL;
		v = &x->vips[val.id];
		v->used = true;
		v->key = k;
		v->val = val;
		/* A previous ring the last process kept lives one more
		 * window from now: its age went with that process. */
		if (!bpf_map_lookup_elem(
			    bpf_map__fd(x->skel->maps.XLB_MAP_RING_PREV),
			    &val.id, &inner_id))
			v->prev_since = mono_s() ?: 1;
	}
	for (slot = 0; slot < XLB_MAX_BACKENDS; slot++) {
		struct be_state *arr, *b;

		if (bpf_map_lookup_elem(bfd, &slot, &be))
			return -errno;
		x->slot_gen[slot] = be.gen;
		/* A writer stopped within slot_put: each update is whole, so
		 * the contents are one version; publish it. */
		if (be.seq & 1) {
			be.seq++;
			if (bpf_map_update_elem(bfd, &slot, &be, BPF_ANY))
				return -errno;
		}
		if (!(be.flags & (XLB_BE_F_ACTIVE | XLB_BE_F_DOWN)))
			continue;
		if (be.vip_id >= XLB_MAX_VIPS || !x->vips[be.vip_id].used)
			return -EINVAL;
		v = &x->vips[be.vip_id];
		arr = realloc(v->be, (v->nbe + 1) * sizeof(*arr));
		if (!arr)
			return -ENOMEM;
		v->be = arr;
		b = &v->be[v->nbe++];
		memset(b, 0, sizeof(*b));
		b->spec.addr = be.addr;
		b->spec.family = be.family;
		b->spec.has_mac = be.flags & XLB_BE_F_HAS_MAC;
		memcpy(b->spec.mac, be.mac, sizeof(be.mac));
		b->spec.weight = be.weight;
		b->spec.down = be.flags & XLB_BE_F_DOWN;
		b->slot = slot;
		x->slot_used[slot] = true;
	}
	return 0;
}

bool xlb_adopted(const struct xlb *x)
{
	return x->adopted;
}

static int link_create(int prog, int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = flags);
	int fd = bpf_link_create(prog, ifindex, BPF_XDP, &o);

	return fd < 0 ? -errno : fd;
}

/* Our balancer is in the link now: a capture that was running (xlbctl
 * capture, include/xlb/capture.h) was swapped out by it, and the balancer
 * it saved is nobody's to put back. */
static void capture_pin_drop(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, XLB_CAP_SAVED_PIN);
	unlink(path);
}

int xlb_attach(struct xlb *x, int ifindex, enum xlb_attach_mode mode,
	       bool *generic)
{
	int prog = xlb_prog_fd(x), fd;
	char path[512];

	*generic = false;
	snprintf(path, sizeof(path), "%s/link", x->pin_dir);
	if (x->pin_dir[0] && (fd = bpf_obj_get(path)) >= 0) {
		/* A running data plane: swap the program in its link. */
		int err = bpf_link_update(fd, prog, NULL) ? -errno : 0;

		if (!err) {
			x->link_fd = fd;
			capture_pin_drop(x->pin_dir);
			return upgrade_finish(x->pin_dir, x->skel->obj,
					      x->upgrade_fd);
		}
		close(fd);
		/* Detached behind our back (bpftool link detach, the device
		 * gone and back): the pin names a dead link. The maps are
		 * still ours: attach anew below and pin the new link. */
		if (err != -ENOLINK || unlink(path))
			return err;
	}
	fd = link_create(prog, ifindex, mode == XLB_ATTACH_GENERIC ?
				      XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	if (fd < 0 && mode == XLB_ATTACH_AUTO) {
		fd = link_create(prog, ifindex, XDP_FLAGS_SKB_MODE);
		*generic = fd >= 0;
	}
	if (fd < 0)
		return fd;
	if (x->pin_dir[0] && bpf_obj_pin(fd, path)) {
		int err = -errno;

		close(fd);
		return err;
	}
	x->link_fd = fd;
	if (!x->pin_dir[0])
		return 0;
	capture_pin_drop(x->pin_dir);
	return upgrade_finish(x->pin_dir, x->skel->obj, x->upgrade_fd);
}

int xlb_detach(struct xlb *x)
{
	char path[512];
	struct bpf_map *m;
	int err = 0;

	snprintf(path, sizeof(path), "%s/link", x->pin_dir);
	if (x->link_fd < 0 && x->pin_dir[0])
		x->link_fd = bpf_obj_get(path);
	if (x->link_fd >= 0 && bpf_link_detach(x->link_fd))
		err = -errno;
	if (!x->pin_dir[0])
		return err;
	unlink(path);
	capture_pin_drop(x->pin_dir);
	bpf_object__for_each_map(m, x->skel->obj)
		if (bpf_map__is_pinned(m))
			bpf_map__unpin(m, NULL);
	if (rmdir(x->pin_dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

size_t xlb_vip_count(const struct xlb *x)
{
	size_t i, n = 0;

	for (i = 0; i < XLB_MAX_VIPS; i++)
		n += x->vips[i].used;
	return n;
}

int xlb_vip_at(const struct xlb *x, size_t idx, struct xlb_vip_key *k,
	       struct xlb_vip *v)
{
	size_t i;

	for (i = 0; i < XLB_MAX_VIPS; i++) {
		if (!x->vips[i].used || idx--)
			continue;
		*k = x->vips[i].key;
		*v = x->vips[i].val;
		return 0;
	}
	return -ENOENT;
}

int xlb_vip_slots(const struct xlb *x, const struct xlb_vip_key *k,
		  struct xlb_slot_of *out, size_t max)
{
	const struct vip_state *v = vip_find(x, k);
	size_t i;

	if (!v)
		return -ENOENT;
	for (i = 0; i < v->nbe && i < max; i++) {
		out[i].addr = v->be[i].spec.addr;
		out[i].family = v->be[i].spec.family;
		out[i].slot = v->be[i].slot;
	}
	return (int)v->nbe;
}

int xlb_vip_backends(const struct xlb *x, const struct xlb_vip_key *k,
		     struct xlb_backend_spec *out, size_t max)
{
	const struct vip_state *v = vip_find(x, k);
	size_t i;

	if (!v)
		return -ENOENT;
	for (i = 0; i < v->nbe && i < max; i++)
		out[i] = v->be[i].spec;
	return (int)v->nbe;
}

static int ring_create(__u32 size)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_ring", sizeof(__u32),
				sizeof(__u32), size, NULL);

	return fd < 0 ? -errno : fd;
}

static __u32 unconfirmed_entries(const struct xlb_opts *o)
{
	return o && o->unconfirmed_entries ? o->unconfirmed_entries :
					     XLB_FLOWS_NEW_DEFAULT;
}

/* The non-VIP filter from the VIP set: one map update. */
static int filter_sync(struct xlb *x)
{
	struct xlb_vip_filter *vf = calloc(1, sizeof(*vf));
	__u32 zero = 0, bit;
	int err = 0;
	size_t i;

	if (!vf)
		return -ENOMEM;
	for (i = 0; i < XLB_MAX_VIPS; i++) {
		if (!x->vips[i].used)
			continue;
		bit = xlb_vip_filter_bit(&x->vips[i].key.addr);
		vf->words[bit / 64] |= 1ULL << (bit % 64);
	}
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.XLB_MAP_VIP_FILTER),
				&zero, vf, BPF_ANY))
		err = -errno;
	free(vf);
	return err;
}

int xlb_open(struct xlb **out, const struct xlb_opts *opts)
{
	__u32 flows = opts && opts->flow_entries ? opts->flow_entries :
						   XLB_FLOWS_DEFAULT;
	__u32 ring = opts && opts->ring_size ? opts->ring_size :
					       XLB_RING_DEFAULT;
	struct xlb_config cfg;
	struct xlb *x;
	int err, inner;
	__u32 i;

	if (!maglev_is_prime(ring))
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->ring_size = ring;
	x->ring_prev_min_ms = opts ? opts->ring_prev_min_ms : 0;
	x->link_fd = -1;
	for (i = 0; i < UPGRADE_MAPS; i++)
		x->upgrade_fd[i] = -1;
	x->ring = calloc(ring, sizeof(*x->ring));
	x->ring_keys = calloc(ring, sizeof(*x->ring_keys));
	x->skel = xlb_bpf__open();
	if (!x->ring || !x->ring_keys || !x->skel) {
		err = -errno ?: -ENOMEM;
		goto fail;
	}
	for (i = 0; i < ring; i++)
		x->ring_keys[i] = i;
	/* Slot generations start at 1: 0 marks an empty per-CPU flow value. */
	for (i = 0; i < XLB_MAX_BACKENDS; i++)
		x->slot_gen[i] = 1;

	x->skel->rodata->confirm_rate = opts ? opts->confirm_rate : 0;
	err = bpf_map__set_max_entries(x->skel->maps.XLB_MAP_FLOWS, flows) ?:
	      bpf_map__set_max_entries(x->skel->maps.XLB_MAP_FLOWS_NEW,
				       unconfirmed_entries(opts));
	if (err)
		goto fail;
	/* The rings' size is the inner map template's; libbpf 1.1 cannot
	 * resize the template it made, so hand it one of the right size. */
	inner = ring_create(ring);
	if (inner < 0) {
		err = inner;
		goto fail;
	}
	err = bpf_map__set_inner_map_fd(x->skel->maps.XLB_MAP_MAGLEV, inner) ?:
	      bpf_map__set_inner_map_fd(x->skel->maps.XLB_MAP_RING_PREV, inner);
	if (!err && opts && opts->pin_dir)
		err = pin_paths(x, opts->pin_dir);
	if (!err)
		err = xlb_bpf__load(x->skel);
	close(inner);
	if (err)
		goto fail;
	if (x->pin_dir[0])
		err = upgrade_maps(x->pin_dir, x->skel->obj, x->upgrade_fd);
	if (!err && x->adopted)
		err = adopt(x);
	err = err ?: filter_sync(x);
	if (err)
		goto fail;

	/* A running data plane keeps its settings until the caller sets
	 * its own; a new one starts from the defaults. */
	if (!x->adopted) {
		xlb_config_defaults(&cfg);
		err = xlb_set_config(x, &cfg);
		if (err)
			goto fail;
	}
	*out = x;
	return 0;
fail:
	xlb_close(x);
	return err < 0 ? err : -EINVAL;
}

void xlb_close(struct xlb *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < XLB_MAX_VIPS; i++) {
		free(x->vips[i].be);
		free(x->vips[i].ring_in);
	}
	for (i = 0; i < UPGRADE_MAPS; i++)
		if (x->upgrade_fd[i] >= 0)
			close(x->upgrade_fd[i]);
	if (x->link_fd >= 0)
		close(x->link_fd);
	xlb_bpf__destroy(x->skel);
	free(x->ring);
	free(x->ring_keys);
	free(x);
}

int xlb_prog_fd(const struct xlb *x)
{
	return bpf_program__fd(x->skel->progs.xlb_balancer);
}

int xlb_attached(const struct xlb *x, int ifindex)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id = 0;

	if (bpf_xdp_query_id(ifindex, 0, &id))
		return -errno;
	if (bpf_obj_get_info_by_fd(xlb_prog_fd(x), &info, &len))
		return -errno;
	return id && id == info.id;
}

struct bpf_object *xlb_object(const struct xlb *x)
{
	return x->skel->obj;
}

static int map_fd(const struct xlb *x, const struct bpf_map *m)
{
	(void)x;
	return bpf_map__fd(m);
}

int xlb_set_config(struct xlb *x, const struct xlb_config *cfg)
{
	struct xlb_config c = *cfg;
	__u32 zero = 0;

	c.ring_size = x->ring_size;
	if (c.mtu < 576)
		return -EINVAL;
	if (bpf_map_update_elem(map_fd(x, x->skel->maps.XLB_MAP_CONFIG), &zero,
				&c, BPF_ANY))
		return -errno;
	return 0;
}

static struct vip_state *vip_find(const struct xlb *x,
				  const struct xlb_vip_key *k)
{
	size_t i;

	for (i = 0; i < XLB_MAX_VIPS; i++)
		if (x->vips[i].used &&
		    !memcmp(&x->vips[i].key, k, sizeof(*k)))
			return (struct vip_state *)&x->vips[i];
	return NULL;
}

int xlb_vip_id(const struct xlb *x, const struct xlb_vip_key *k, __u32 *id)
{
	struct vip_state *v = vip_find(x, k);

	if (!v)
		return -ENOENT;
	*id = v->val.id;
	return 0;
}

/* The ring about to be replaced becomes the VIP's previous ring (bpf/maps.h,
 * XLB_MAP_RING_PREV). Best effort: without it, flows older than the change
 * that arrive without an entry take the new ring, as before. */
static void ring_keep_prev(struct xlb *x, struct vip_state *v)
{
	__u32 inner_id;
	int fd;

	if (v->val.flags & XLB_VIP_F_NO_FLOWTABLE)
		return;		/* its packets follow the current ring */
	/* A ring that lived a moment (a VIP built up backend by backend)
	 * named no flow's backend: the previous ring stays what it was. */
	if (x->ring_prev_min_ms && v->ring_ms &&
	    mono_ms() - v->ring_ms < x->ring_prev_min_ms)
		return;
	if (bpf_map_lookup_elem(map_fd(x, x->skel->maps.XLB_MAP_MAGLEV),
				&v->val.id, &inner_id))
		return;		/* the VIP's first ring */
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return;
	if (bpf_map_update_elem(map_fd(x, x->skel->maps.XLB_MAP_RING_PREV),
				&v->val.id, &fd, BPF_ANY)) {
		close(fd);
		return;
	}
	v->prev_since = mono_s() ?: 1;
	v->sync_since = v->prev_since;
	/* Flow sync judges what a peer may still pick with its previous
	 * ring, which it may keep a little longer than we do (its change and
	 * its expiry tick are its own): ours is kept for that, in user space
	 * only (xlb_ring_prev_sync_fd). */
	if (v->has_sync)
		close(v->sync_fd);
	v->sync_fd = fd;
	v->has_sync = true;
}

static void ring_sync_drop(struct vip_state *v)
{
	if (v->has_sync)
		close(v->sync_fd);
	v->has_sync = false;
}

static void ring_prev_drop(struct xlb *x, struct vip_state *v)
{
	bpf_map_delete_elem(map_fd(x, x->skel->maps.XLB_MAP_RING_PREV),
			    &v->val.id);
	v->prev_since = 0;
}

int xlb_ring_prev_sync_fd(const struct xlb *x, __u32 vip_id)
{
	if (vip_id >= XLB_MAX_VIPS || !x->vips[vip_id].used ||
	    !x->vips[vip_id].has_sync)
		return -1;
	return x->vips[vip_id].sync_fd;
}

int xlb_ring_prev_expire(struct xlb *x, unsigned int max_age_s)
{
	time_t now = mono_s();
	int n = 0;
	__u32 i;

	for (i = 0; i < XLB_MAX_VIPS; i++) {
		struct vip_state *v = &x->vips[i];
		time_t sync_age = max_age_s ? 2 * (time_t)max_age_s + 5 : 0;

		if (v->has_sync && now - v->sync_since >= sync_age)
			ring_sync_drop(v);
		if (!v->prev_since || now - v->prev_since < (time_t)max_age_s)
			continue;
		ring_prev_drop(x, v);
		n++;
	}
	return n;
}

/* Whether mb[n] is what the current ring was built from; if not, it is
 * recorded as such (the caller installs a ring from it). */
static bool ring_same(struct vip_state *v, const struct maglev_backend *mb,
		      size_t n)
{
	struct ring_in *in;
	size_t i;

	if (v->ring_in && v->ring_in_n == n) {
		for (i = 0; i < n; i++)
			if (memcmp(&v->ring_in[i].addr, mb[i].id,
				   sizeof(v->ring_in[i].addr)) ||
			    v->ring_in[i].slot != mb[i].value ||
			    v->ring_in[i].weight != mb[i].weight)
				break;
		if (i == n)
			return true;
	}
	in = calloc(n ? n : 1, sizeof(*in));
	if (!in) {		/* unknown next time: install then */
		free(v->ring_in);
		v->ring_in = NULL;
		return false;
	}
	for (i = 0; i < n; i++) {
		memcpy(&in[i].addr, mb[i].id, sizeof(in[i].addr));
		in[i].slot = mb[i].value;
		in[i].weight = mb[i].weight;
	}
	free(v->ring_in);
	v->ring_in = in;
	v->ring_in_n = n;
	return false;
}

/* Build the VIP's ring from its backend set and swap it in - unless the
 * set is what the current ring was built from: a refresh that changes
 * nothing must not make the current ring the previous one (it would evict
 * the ring that older flows still need, bpf/flowtab.h prev_pick). */
static int ring_install(struct xlb *x, struct vip_state *v)
{
	struct maglev_backend *mb = NULL;
	__u32 count = x->ring_size;
	bool any_weight = false;
	int inner, err = 0;
	size_t i;

	if (v->nbe) {
		mb = calloc(v->nbe, sizeof(*mb));
		if (!mb)
			return -ENOMEM;
	}
	for (i = 0; i < v->nbe; i++)
		any_weight |= !v->be[i].spec.down && v->be[i].spec.weight;
	for (i = 0; i < v->nbe; i++) {
		/* Identity = address; the family is implied by it. */
		mb[i].id = &v->be[i].spec.addr;
		mb[i].id_len = sizeof(v->be[i].spec.addr);
		/* Drained backends take new flows only when nothing else
		 * can: every live backend drained. */
		mb[i].weight = v->be[i].spec.down ? 0 :
			       any_weight ? v->be[i].spec.weight : 1;
		mb[i].value = v->be[i].slot;
	}
	if (ring_same(v, mb, v->nbe)) {
		free(mb);
		return 0;
	}
	err = algos[v->val.algo < XLB_ALGO_MAX ? v->val.algo : 0].build(
		mb, v->nbe, x->ring, x->ring_size);
	free(mb);
	if (err && err != -ENOENT)
		goto fail;

	inner = ring_create(x->ring_size);
	if (inner < 0) {
		err = inner;
		goto fail;
	}
	ring_keep_prev(x, v);
	v->ring_ms = mono_ms();
	if (bpf_map_update_batch(inner, x->ring_keys, x->ring, &count, NULL) ||
	    bpf_map_update_elem(map_fd(x, x->skel->maps.XLB_MAP_MAGLEV),
				&v->val.id, &inner, BPF_ANY))
		err = -errno;
	else
		err = 0;
	close(inner);
	if (err)
		goto fail;
	x->ring_gen++;
	return 0;
fail:
	free(v->ring_in);	/* not installed: the next call tries again */
	v->ring_in = NULL;
	return err;
}

__u64 xlb_ring_gen(const struct xlb *x)
{
	return x->ring_gen;
}

__u32 xlb_ring_size(const struct xlb *x)
{
	return x->ring_size;
}

/* From the map, not from memory: an adopted data plane's rings were built
 * by the previous process. */
int xlb_vip_ring(const struct xlb *x, const struct xlb_vip_key *k,
		 __u32 *ring, __u32 size)
{
	struct vip_state *v = vip_find(x, k);
	__u32 inner_id, count = size, batch, *keys;
	int inner, err = 0;

	if (!v)
		return -ENOENT;
	if (size != x->ring_size)
		return -EINVAL;
	keys = malloc(size * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd(x, x->skel->maps.XLB_MAP_MAGLEV),
				&v->val.id, &inner_id)) {
		err = -errno;
		goto out;
	}
	inner = bpf_map_get_fd_by_id(inner_id);
	if (inner < 0) {
		err = -errno;
		goto out;
	}
	/* One batch: an array answers all of it, then ENOENT at the end. */
	if (bpf_map_lookup_batch(inner, NULL, &batch, keys, ring, &count,
				 NULL) && errno != ENOENT)
		err = -errno;
	else if (count != size)
		err = -EIO;
	close(inner);
out:
	free(keys);
	return err;
}

static int vip_opts_check(const struct xlb_vip_opts *o, __u8 algo)
{
	if (o->no_flowtable && !xlb_algo_deterministic(algo))
		return -EINVAL;
	if (o->udp_idle_s && (o->udp_idle_s < XLB_IDLE_UDP_MIN_S ||
			      o->udp_idle_s > XLB_IDLE_UDP_MAX_S))
		return -ERANGE;
	return 0;
}

static void vip_opts_apply(struct xlb_vip *v, const struct xlb_vip_opts *o)
{
	v->flags &= ~XLB_VIP_F_NO_FLOWTABLE;
	if (o->no_flowtable)
		v->flags |= XLB_VIP_F_NO_FLOWTABLE;
	v->udp_idle_s = (__u16)o->udp_idle_s;
}

int xlb_vip_add_opts(struct xlb *x, const struct xlb_vip_key *k, __u8 mode,
		     __u8 algo, const struct xlb_vip_opts *opts)
{
	struct vip_state *v = NULL;
	__u32 i;
	int err;

	if (mode >= XLB_MODE_MAX || algo >= XLB_ALGO_MAX ||
	    (k->family != XLB_AF_INET && k->family != XLB_AF_INET6))
		return -EINVAL;
	err = opts ? vip_opts_check(opts, algo) : 0;
	if (err)
		return err;
	if (vip_find(x, k))
		return -EEXIST;
	for (i = 0; i < XLB_MAX_VIPS && !v; i++)
		if (!x->vips[i].used)
			v = &x->vips[i];
	if (!v)
		return -ENOSPC;

	memset(v, 0, sizeof(*v));
	v->key = *k;
	v->val.id = v - x->vips;
	v->val.mode = mode;
	v->val.algo = algo;
	if (opts)
		vip_opts_apply(&v->val, opts);
	err = ring_install(x, v);
	/* The filter lets the VIP's packets in before the VIP exists: they
	 * pass as before, none is lost to a filter that lags. */
	v->used = true;
	err = err ?: filter_sync(x);
	if (!err && bpf_map_update_elem(map_fd(x, x->skel->maps.XLB_MAP_VIPS),
					k, &v->val, BPF_NOEXIST))
		err = -errno;
	if (err) {
		v->used = false;
		filter_sync(x);
	}
	return err;
}

int xlb_vip_add(struct xlb *x, const struct xlb_vip_key *k, __u8 mode,
		__u8 algo)
{
	return xlb_vip_add_opts(x, k, mode, algo, NULL);
}

/* Delete the entries of one VIP (all VIPs: k NULL) from a flow table. */
static int flows_drop(int fd, const struct xlb_vip_key *k)
{
	struct xlb_flow_key key, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		if (k && (key.family != k->family || key.proto != k->proto ||
			  memcmp(&key.dst, &k->addr, sizeof(key.dst)) ||
			  (k->port && key.dport != k->port))) {
			prev = &key;
			continue;
		}
		/* Deleted: the walk goes on from the previous key. */
		if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

static int vip_flows_drop(struct xlb *x, const struct xlb_vip_key *k)
{
	return flows_drop(map_fd(x, x->skel->maps.XLB_MAP_FLOWS), k) ?:
	       flows_drop(map_fd(x, x->skel->maps.XLB_MAP_FLOWS_NEW), k);
}

int xlb_vip_set_opts(struct xlb *x, const struct xlb_vip_key *k,
		     const struct xlb_vip_opts *opts)
{
	struct vip_state *v = vip_find(x, k);
	struct xlb_vip val;
	int err;

	if (!v)
		return -ENOENT;
	err = vip_opts_check(opts, v->val.algo);
	if (err)
		return err;
	val = v->val;
	vip_opts_apply(&val, opts);
	if (bpf_map_update_elem(map_fd(x, x->skel->maps.XLB_MAP_VIPS), k, &val,
				BPF_EXIST))
		return -errno;
	/* Flows of a VIP without flow table followed the current ring
	 * whatever came before: none belongs to its previous ring. */
	if ((val.flags ^ v->val.flags) & XLB_VIP_F_NO_FLOWTABLE) {
		ring_prev_drop(x, v);
		ring_sync_drop(v);
	}
	v->val = val;
	/* Off: no entry may outlive the switch. A new idle bound applies to
	 * flows confirmed from now on. */
	return opts->no_flowtable ? vip_flows_drop(x, k) : 0;
}

void xlb_vip_opts_get(const struct xlb_vip *v, struct xlb_vip_opts *o)
{
	o->no_flowtable = v->flags & XLB_VIP_F_NO_FLOWTABLE;
	o->udp_idle_s = v->udp_idle_s ? v->udp_idle_s : XLB_IDLE_UDP_S;
}

static int percpu_values(int fd, __u32 key, __u64 **vals, size_t *n)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu < 0)
		return ncpu;
	*n = (size_t)ncpu * (sizeof(struct xlb_traffic) / sizeof(__u64));
	*vals = calloc(*n, sizeof(__u64));
	if (!*vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, *vals)) {
		free(*vals);
		return -errno;
	}
	return 0;
}

/* Add a slot's traffic to its VIP's (keep) or discard it, and zero the
 * slot, so that a reused slot starts from nothing. Called after the slot
 * was freed, so the data plane no longer counts on it. */
static int stats_fold(struct xlb *x, __u32 slot, __u32 vip_id, bool keep)
{
	int be_fd = map_fd(x, x->skel->maps.XLB_MAP_BE_STATS);
	int vip_fd = map_fd(x, x->skel->maps.XLB_MAP_VIP_STATS);
	__u64 *be = NULL, *vip = NULL;
	size_t n, i;
	int err;

	err = percpu_values(be_fd, slot, &be, &n);
	if (!err && keep) {
		err = percpu_values(vip_fd, vip_id, &vip, &n);
		for (i = 0; !err && i < n; i++)
			vip[i] += be[i];
		if (!err && bpf_map_update_elem(vip_fd, &vip_id, vip, BPF_ANY))
			err = -errno;
	}
	if (!err) {
		memset(be, 0, n * sizeof(*be));
		if (bpf_map_update_elem(be_fd, &slot, be, BPF_ANY))
			err = -errno;
	}
	free(be);
	free(vip);
	return err;
}

/* A deleted VIP's slot in the per-VIP maps starts from zero when reused. */
static void stats_vip_reset(struct xlb *x, __u32 vip_id)
{
	int fd = map_fd(x, x->skel->maps.XLB_MAP_VIP_STATS);
	__u64 *vals;
	size_t n;

	if (percpu_values(fd, vip_id, &vals, &n))
		return;
	memset(vals, 0, n * sizeof(*vals));
	bpf_map_update_elem(fd, &vip_id, vals, BPF_ANY);
	free(vals);
}

/* Whether going from a to b changes only what a packet reads in one load
 * (the flags byte) or never reads (the weight): one update is then whole. */
static bool slot_change_atomic(const struct xlb_backend *a,
			       const struct xlb_backend *b)
{
	struct xlb_backend t = *a;

	t.flags = b->flags;
	t.weight = b->weight;
	return !memcmp(&t, b, sizeof(t));
}

/* Write slot so that no packet takes a mix of two versions: a map update
 * copies the value in no set order, so a packet could read the old ACTIVE
 * flag with the new (zeroed) address. Three updates instead: seq made odd
 * (contents as they were), the new contents under that odd seq, then seq
 * made even; bpf/select.h, backend_read, takes a copy only between two
 * reads of one even seq. Each update changes the seq byte alone or the
 * contents alone, so no update can show a new seq with old contents. */
static int slot_put(struct xlb *x, __u32 slot, struct xlb_backend *nb)
{
	int fd = map_fd(x, x->skel->maps.XLB_MAP_BACKENDS);
	struct xlb_backend old;
	__u8 odd;

	if (bpf_map_lookup_elem(fd, &slot, &old))
		return -errno;
	nb->seq = old.seq;
	if (!(old.seq & 1) && slot_change_atomic(&old, nb))
		return bpf_map_update_elem(fd, &slot, nb, BPF_ANY) ? -errno : 0;
	odd = old.seq | 1;
	old.seq = odd;
	nb->seq = odd;
	if (bpf_map_update_elem(fd, &slot, &old, BPF_ANY) ||
	    bpf_map_update_elem(fd, &slot, nb, BPF_ANY))
		return -errno;
	nb->seq = (__u8)(odd + 1);
	return bpf_map_update_elem(fd, &slot, nb, BPF_ANY) ? -errno : 0;
}

int xlb_conns_write(struct xlb *x, const __u32 *count)
{
	int fd = map_fd(x, x->skel->maps.XLB_MAP_CONNS);
	__u32 *keys = malloc(XLB_MAX_BACKENDS * sizeof(*keys));
	__s64 *vals = malloc(XLB_MAX_BACKENDS * sizeof(*vals));
	__u32 i, n = XLB_MAX_BACKENDS;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < XLB_MAX_BACKENDS; i++) {
		keys[i] = i;
		vals[i] = count[i];
	}
	if (bpf_map_update_batch(fd, keys, vals, &n, NULL))
		err = -errno;
out:
	free(keys);
	free(vals);
	return err;
}

static void slot_free(struct xlb *x, __u32 slot)
{
	struct xlb_backend be = {};
	__s64 zero = 0;

	/* The next backend in this slot starts with no connections. */
	bpf_map_update_elem(map_fd(x, x->skel->maps.XLB_MAP_CONNS), &slot,
			    &zero, BPF_ANY);

	/* A new generation makes flows that remember this slot choose
	 * again, even if the slot is reused at once. */
	x->slot_gen[slot]++;
	be.gen = x->slot_gen[slot];
	slot_put(x, slot, &be);
	x->slot_used[slot] = false;
}

int xlb_vip_del(struct xlb *x, const struct xlb_vip_key *k)
{
	struct vip_state *v = vip_find(x, k);
	size_t i;

	if (!v)
		return -ENOENT;
	if (bpf_map_delete_elem(map_fd(x, x->skel->maps.XLB_MAP_VIPS), k))
		return -errno;
	v->used = false;
	filter_sync(x);
	bpf_map_delete_elem(map_fd(x, x->skel->maps.XLB_MAP_MAGLEV),
			    &v->val.id);
	bpf_map_delete_elem(map_fd(x, x->skel->maps.XLB_MAP_RING_PREV),
			    &v->val.id);
	ring_sync_drop(v);
	for (i = 0; i < v->nbe; i++) {
		slot_free(x, v->be[i].slot);
		stats_fold(x, v->be[i].slot, v->val.id, false);
	}
	stats_vip_reset(x, v->val.id);
	free(v->be);
	free(v->ring_in);
	memset(v, 0, sizeof(*v));
	return 0;
}

static struct be_state *be_find(struct vip_state *v, const union xlb_addr *a,
				__u8 family)
{
	size_t i;

	for (i = 0; i < v->nbe; i++)
		if (v->be[i].spec.family == family &&
		    !memcmp(&v->be[i].spec.addr, a, sizeof(*a)))
			return &v->be[i];
	return NULL;
}

static int slot_write(struct xlb *x, const struct vip_state *v,
		      const struct be_state *b)
{
	struct xlb_backend be = {};

	be.addr = b->spec.addr;
	be.family = b->spec.family;
	be.flags = b->spec.down ? XLB_BE_F_DOWN : XLB_BE_F_ACTIVE;
	if (b->spec.has_mac) {
		be.flags |= XLB_BE_F_HAS_MAC;
		memcpy(be.mac, b->spec.mac, sizeof(be.mac));
	}
	be.vip_id = v->val.id;
	be.mode = v->val.mode;
	be.weight = (__u16)b->spec.weight;
	be.gen = x->slot_gen[b->slot];
	return slot_put(x, b->slot, &be);
}

/* Give a new backend a live slot; the caller rebuilds the ring. */
static int backend_place(struct xlb *x, struct vip_state *v,
			 const struct xlb_backend_spec *spec)
{
	struct be_state *arr, *b;
	__u32 slot;
	int err;

	if (spec->weight > MAGLEV_MAX_WEIGHT ||
	    (spec->family != XLB_AF_INET && spec->family != XLB_AF_INET6))
		return -EINVAL;
	if (v->val.mode == XLB_MODE_L2 && spec->family != v->key.family)
		return -EINVAL;	/* L2 DSR cannot change the family */
	if (be_find(v, &spec->addr, spec->family))
		return -EEXIST;
	for (slot = 0; slot < XLB_MAX_BACKENDS; slot++)
		if (!x->slot_used[slot])
			break;
	if (slot == XLB_MAX_BACKENDS)
		return -ENOSPC;

	arr = realloc(v->be, (v->nbe + 1) * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	v->be = arr;
	b = &v->be[v->nbe];
	b->spec = *spec;
	b->slot = slot;
	/* The slot must be live before any ring points at it. */
	err = slot_write(x, v, b);
	if (err)
		return err;
	v->nbe++;
	x->slot_used[slot] = true;
	return 0;
}

int xlb_backends_add(struct xlb *x, const struct xlb_vip_key *k,
		     const struct xlb_backend_spec *spec, size_t n)
{
	struct vip_state *v = vip_find(x, k);
	size_t i, placed = 0;
	int err = 0;

	if (!v)
		return -ENOENT;
	for (i = 0; i < n && !err; i++) {
		err = backend_place(x, v, &spec[i]);
		placed += !err;
	}
	/* One ring for all of them. */
	if (!err)
		err = ring_install(x, v);
	if (err)
		while (placed--)
			slot_free(x, v->be[--v->nbe].slot);
	return err;
}

int xlb_backend_add(struct xlb *x, const struct xlb_vip_key *k,
		    const struct xlb_backend_spec *spec)
{
	return xlb_backends_add(x, k, spec, 1);
}

int xlb_backend_del(struct xlb *x, const struct xlb_vip_key *k,
		    const union xlb_addr *addr, __u8 family)
{
	struct vip_state *v = vip_find(x, k);
	struct be_state *b, gone;
	int err;

	if (!v)
		return -ENOENT;
	b = be_find(v, addr, family);
	if (!b)
		return -ENOENT;
	gone = *b;
	*b = v->be[--v->nbe];
	/* Take it out of the ring first, then free the slot. */
	err = ring_install(x, v);
	if (err) {
		v->be[v->nbe++] = gone;
		return err;
	}
	slot_free(x, gone.slot);
	return stats_fold(x, gone.slot, v->val.id, true);
}

int xlb_backend_set_weight(struct xlb *x, const struct xlb_vip_key *k,
			   const union xlb_addr *addr, __u8 family,
			   __u32 weight)
{
	struct vip_state *v = vip_find(x, k);
	struct be_state *b;
	__u32 old;
	int err;

	if (!v)
		return -ENOENT;
	if (weight > MAGLEV_MAX_WEIGHT)
		return -EINVAL;
	b = be_find(v, addr, family);
	if (!b)
		return -ENOENT;
	old = b->spec.weight;
	b->spec.weight = weight;
	err = ring_install(x, v);
	if (err) {
		b->spec.weight = old;
		return err;
	}
	/* Recorded in the slot for a restarted daemon to read back. */
	return slot_write(x, v, b);
}

int xlb_vip_reshape(struct xlb *x, const struct xlb_vip_key *k, __u8 mode,
		    __u8 algo)
{
	struct vip_state *v = vip_find(x, k);
	struct xlb_vip_opts o;
	struct xlb_vip val;
	size_t i;
	int err;

	if (!v)
		return -ENOENT;
	if (mode >= XLB_MODE_MAX || algo >= XLB_ALGO_MAX)
		return -EINVAL;
	if (v->val.mode == mode && v->val.algo == algo)
		return 0;
	xlb_vip_opts_get(&v->val, &o);
	err = vip_opts_check(&o, algo);
	if (err)
		return err;
	val = v->val;
	val.mode = mode;
	val.algo = algo;
	if (bpf_map_update_elem(map_fd(x, x->skel->maps.XLB_MAP_VIPS), k, &val,
				BPF_EXIST))
		return -errno;
	/* Slots carry the mode (an established flow reads no VIP): each is
	 * rewritten, generation kept, so its flows stay with it and take
	 * the new encapsulation from their next packet. */
	algo = v->val.algo;	/* the old one */
	v->val = val;
	for (i = 0; i < v->nbe && !err; i++)
		err = slot_write(x, v, &v->be[i]);
	if (err || val.algo == algo)
		return err;
	/* A new algorithm: a new ring from the same backends. The old ring
	 * is no previous ring: its positions meant another hash (or none),
	 * and the flows it named keep their entries. */
	ring_prev_drop(x, v);
	ring_sync_drop(v);
	free(v->ring_in);
	v->ring_in = NULL;
	v->ring_ms = 0;
	return ring_install(x, v);
}

int xlb_vip_update(struct xlb *x, const struct xlb_vip_key *k,
		   const struct xlb_backend_spec *upd, size_t n)
{
	struct vip_state *v = vip_find(x, k);
	struct be_state **hit;
	size_t i;
	int err = 0;

	if (!v)
		return -ENOENT;
	hit = calloc(n + 1, sizeof(*hit));
	if (!hit)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		hit[i] = be_find(v, &upd[i].addr, upd[i].family);
		if (!hit[i] || upd[i].weight > MAGLEV_MAX_WEIGHT)
			err = hit[i] ? -EINVAL : -ENOENT;
	}
	/* Coming up: the slot is live before the ring points at it. */
	for (i = 0; i < n && !err; i++) {
		hit[i]->spec.weight = upd[i].weight;
		if (hit[i]->spec.down && !upd[i].down) {
			hit[i]->spec.down = false;
			err = slot_write(x, v, hit[i]);
		}
	}
	for (i = 0; i < n && !err; i++)
		hit[i]->spec.down = upd[i].down;
	if (!err)
		err = ring_install(x, v);
	/* Going down, or a new weight: the slot follows the ring. A slot
	 * that is not ACTIVE makes its established flows choose again. */
	for (i = 0; i < n && !err; i++)
		err = slot_write(x, v, hit[i]);
	free(hit);
	return err;
}

int xlb_backend_slot(const struct xlb *x, const struct xlb_vip_key *k,
		     const union xlb_addr *addr, __u8 family, __u32 *slot)
{
	struct vip_state *v = vip_find(x, k);
	struct be_state *b;

	if (!v)
		return -ENOENT;
	b = be_find(v, addr, family);
	if (!b)
		return -ENOENT;
	*slot = b->slot;
	return 0;
}

int xlb_percpu_sum(int fd, __u32 key, __u64 *out, size_t words)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	size_t i, w;

	if (ncpu < 0)
		return ncpu;
	vals = calloc((size_t)ncpu * words, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		free(vals);
		return -errno;
	}
	memset(out, 0, words * sizeof(*out));
	for (i = 0; i < (size_t)ncpu; i++)
		for (w = 0; w < words; w++)
			out[w] += vals[i * words + w];
	free(vals);
	return 0;
}

int xlb_counters_read(const struct xlb *x, __u64 out[XLB_C_MAX])
{
	int fd = map_fd(x, x->skel->maps.XLB_MAP_COUNTERS);
	__u32 i;
	int err;

	for (i = 0; i < XLB_C_MAX; i++) {
		err = xlb_percpu_sum(fd, i, &out[i], 1);
		if (err)
			return err;
	}
	return 0;
}

int xlb_traffic_read(const struct xlb *x, bool backend, __u32 id,
		     struct xlb_traffic *out)
{
	const size_t words = sizeof(*out) / sizeof(__u64);
	int be_fd = map_fd(x, x->skel->maps.XLB_MAP_BE_STATS);
	const struct vip_state *v;
	struct xlb_traffic t;
	size_t i;
	int err;

	if (backend)
		return xlb_percpu_sum(be_fd, id, (__u64 *)out, words);
	if (id >= XLB_MAX_VIPS || !x->vips[id].used)
		return -ENOENT;
	/* Backends that left, plus the live ones. */
	v = &x->vips[id];
	err = xlb_percpu_sum(map_fd(x, x->skel->maps.XLB_MAP_VIP_STATS), id,
			     (__u64 *)out, words);
	for (i = 0; !err && i < v->nbe; i++) {
		err = xlb_percpu_sum(be_fd, v->be[i].slot, (__u64 *)&t, words);
		out->packets += t.packets;
		out->bytes += t.bytes;
		out->new_flows += t.new_flows;
	}
	return err;
}

int xlb_flows_clear(struct xlb *x)
{
	return vip_flows_drop(x, NULL);
}

int xlb_kernel_hz(unsigned int *hz)
{
	gzFile f = gzopen("/proc/config.gz", "r");
	char line[128];
	int err = -ENOENT;

	if (!f)
		return -ENOENT;
	while (gzgets(f, line, sizeof(line)))
		if (sscanf(line, "CONFIG_HZ=%u", hz) == 1 && *hz) {
			err = 0;
			break;
		}
	gzclose(f);
	return err;
}
