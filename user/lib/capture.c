// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Packet capture from a running balancer (capture.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "xlb/maps.h"
#include "xlb_capture.skel.h"


struct xlb_capture {
	struct xlb_capture_bpf *skel;
	struct ring_buffer *rb;
	xlb_capture_cb cb;
	void *ctx;
	int link_fd;
	int saved_fd;			/* the balancer it replaced */
	char saved_path[512];
};

static int pinned_fd(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* The id of the program a link runs. */
static int link_prog_id(int link_fd, __u32 *id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	*id = info.prog_id;
	return 0;
}

/* The map of prog whose name is name (a capture build has the ring, a
 * balancer its .rodata): its fd, or -ENOENT. */
static int prog_map(int prog_fd, const char *name)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[64], i, n;
	int fd;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	n = info.nr_map_ids < 64 ? info.nr_map_ids : 64;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = n;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (i = 0; i < n; i++) {
		struct bpf_map_info mi = {};
		__u32 ml = sizeof(mi);

		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &ml) &&
		    strstr(mi.name, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* The running balancer's read-only data (its load-time settings, such as
 * the confirmation budget) into the capture build's, which has the same
 * layout: it is the same source. */
static int copy_rodata(struct xlb_capture_bpf *skel, int prog_fd)
{
	int fd = prog_map(prog_fd, ".rodata"), err = 0;
	__u32 zero = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, skel->rodata))
		err = -errno;
	close(fd);
	return err;
}

/* Every map the balancer has pinned is the capture build's too. */
static int reuse_maps(struct xlb_capture_bpf *skel, const char *dir)
{
	struct bpf_map *m;
	int fd, err;

	bpf_object__for_each_map(m, skel->obj) {
		if (bpf_map__is_internal(m))
			continue;
		fd = pinned_fd(dir, bpf_map__name(m));
		if (fd == -ENOENT)
			continue;	/* the capture maps: made anew */
		if (fd < 0)
			return fd;
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/* The filter's VIP id and backend slot from the pinned maps. */
static int filter_ids(const struct xlb_capture_opts *o, struct xlb_cap_cfg *cfg)
{
	struct xlb_backend be;
	struct xlb_vip v;
	__u32 i;
	int fd, err = 0;

	cfg->vip_id = cfg->backend = XLB_CAP_ANY;
	if (o->vip) {
		fd = pinned_fd(o->pin_dir, XLB_STR(XLB_MAP_VIPS));
		if (fd < 0)
			return fd;
		if (bpf_map_lookup_elem(fd, o->vip, &v))
			err = -ENOENT;
		close(fd);
		if (err)
			return err;
		cfg->vip_id = v.id;
	}
	if (!o->backend)
		return 0;
	fd = pinned_fd(o->pin_dir, XLB_STR(XLB_MAP_BACKENDS));
	if (fd < 0)
		return fd;
	for (i = 0; i < XLB_MAX_BACKENDS && cfg->backend == XLB_CAP_ANY; i++)
		if (!bpf_map_lookup_elem(fd, &i, &be) &&
		    be.flags & XLB_BE_F_ACTIVE &&
		    be.family == o->backend_family &&
		    !memcmp(&be.addr, o->backend, sizeof(be.addr)) &&
		    (cfg->vip_id == XLB_CAP_ANY || be.vip_id == cfg->vip_id))
			cfg->backend = i;
	close(fd);
	return cfg->backend == XLB_CAP_ANY ? -ENOENT : 0;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct xlb_capture *c = ctx;

	if (len < sizeof(struct xlb_cap_rec))
		return 0;
	return c->cb(data, c->ctx);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns's */
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void capture_free(struct xlb_capture *c)
{
	ring_buffer__free(c->rb);
	xlb_capture_bpf__destroy(c->skel);
	if (c->saved_fd >= 0)
		close(c->saved_fd);
	if (c->link_fd >= 0)
		close(c->link_fd);
	free(c);
}

/* Load the capture build on the balancer's maps, told what to record. */
static int capture_load(struct xlb_capture *c, const struct xlb_capture_opts *o)
{
	struct xlb_cap_cfg cfg = {};
	__u32 zero = 0;
	int err;

	err = filter_ids(o, &cfg);
	if (err)
		return err;
	cfg.sample = o->sample;
	cfg.until_ns = mono_ns() + (__u64)o->seconds * 1000000000ULL;
	c->skel = xlb_capture_bpf__open();
	if (!c->skel)
		return -errno ?: -ENOMEM;
	err = reuse_maps(c->skel, o->pin_dir) ?:
	      copy_rodata(c->skel, c->saved_fd) ?:
	      xlb_capture_bpf__load(c->skel);
	if (err)
		return err;
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.XLB_MAP_CAP_CFG),
				&zero, &cfg, BPF_ANY))
		return -errno;
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.XLB_MAP_CAP_RING),
				 on_record, c, NULL);
	return c->rb ? 0 : -errno ?: -ENOMEM;
}

int xlb_capture_start(const struct xlb_capture_opts *o, xlb_capture_cb cb,
		      void *ctx, struct xlb_capture **out)
{
	LIBBPF_OPTS(bpf_link_update_opts, u, .flags = BPF_F_REPLACE);
	struct xlb_capture *c = calloc(1, sizeof(*c));
	__u32 id = 0;
	int err;

	if (!c)
		return -ENOMEM;
	c->cb = cb;
	c->ctx = ctx;
	c->saved_fd = -1;
	snprintf(c->saved_path, sizeof(c->saved_path), "%s/%s", o->pin_dir,
		 XLB_CAP_SAVED_PIN);
	c->link_fd = pinned_fd(o->pin_dir, "link");
	err = c->link_fd < 0 ? c->link_fd : link_prog_id(c->link_fd, &id);
	if (!err) {
		c->saved_fd = bpf_prog_get_fd_by_id(id);
		if (c->saved_fd < 0)
			err = -errno;
	}
	if (!err && !access(c->saved_path, F_OK))
		err = -EBUSY;
	err = err ?: capture_load(c, o);
	if (!err && bpf_obj_pin(c->saved_fd, c->saved_path))
		err = -errno;
	if (err) {
		capture_free(c);
		return err;
	}
	u.old_prog_fd = c->saved_fd;
	if (bpf_link_update(c->link_fd,
			    bpf_program__fd(c->skel->progs.xlb_balancer), &u)) {
		err = -errno;
		unlink(c->saved_path);
		capture_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int xlb_capture_poll(struct xlb_capture *c, int timeout_ms)
{
	int n = ring_buffer__poll(c->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

__u64 xlb_capture_lost(const struct xlb_capture *c)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct { struct xlb_cap_rec rec; __u64 seen, lost; } *s;
	__u32 zero = 0;
	__u64 lost = 0;

	if (ncpu <= 0)
		return 0;
	s = calloc((size_t)ncpu, sizeof(*s));
	if (s && !bpf_map_lookup_elem(
			bpf_map__fd(c->skel->maps.XLB_MAP_CAP_SCRATCH), &zero,
			s))
		for (i = 0; i < ncpu; i++)
			lost += s[i].lost;
	free(s);
	return lost;
}

int xlb_capture_stop(struct xlb_capture *c, bool *replaced)
{
	LIBBPF_OPTS(bpf_link_update_opts, u, .flags = BPF_F_REPLACE);
	int err = 0;

	*replaced = false;
	/* Only if it still runs our build: xlbd may have put a new
	 * balancer in since (it restarted), which must stay. */
	u.old_prog_fd = bpf_program__fd(c->skel->progs.xlb_balancer);
	if (bpf_link_update(c->link_fd, c->saved_fd, &u)) {
		err = -errno;
		if (err == -EPERM) {
			*replaced = true;
			err = 0;
		}
	}
	if (!err)
		unlink(c->saved_path);
	capture_free(c);
	return err;
}

int xlb_capture_restore(const char *pin_dir)
{
	LIBBPF_OPTS(bpf_link_update_opts, u, .flags = BPF_F_REPLACE);
	int saved = pinned_fd(pin_dir, XLB_CAP_SAVED_PIN), link = -1, cur = -1, ring;
	char path[512];
	__u32 id = 0;
	int err;

	if (saved < 0)
		return saved;
	link = pinned_fd(pin_dir, "link");
	err = link < 0 ? link : link_prog_id(link, &id);
	if (!err && (cur = bpf_prog_get_fd_by_id(id)) < 0)
		err = -errno;
	if (!err) {
		/* A capture build has the ring; anything else is a balancer
		 * put in since, which stays. */
		ring = prog_map(cur, XLB_STR(XLB_MAP_CAP_RING));
		if (ring >= 0) {
			close(ring);
			u.old_prog_fd = cur;
			if (bpf_link_update(link, saved, &u))
				err = -errno;
		}
	}
	if (!err) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, XLB_CAP_SAVED_PIN);
		unlink(path);
	}
	if (cur >= 0)
		close(cur);
	if (link >= 0)
		close(link);
	close(saved);
	return err;
}
