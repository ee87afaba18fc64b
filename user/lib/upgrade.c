// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Versioned maps: a map whose layout changes takes a new name (xlb/maps.h),
 * so a new program never reuses a pin of another layout. When a pin of the
 * previous layout is found beside the new maps, its entries are converted
 * into the new map; the old program (still attached) goes on with the old
 * map until the new one replaces it, then upgrade_finish copies what it
 * added meanwhile and removes the old pins. Until then the old pins stay,
 * so the old daemon can still be started on them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>

#include "upgrade.h"
#include "xlb/hash.h"

/* Counter names of layout 1 (xlb_counters), by index. */
static const char *const counters_v1[] = {
	"pass_not_ip", "pass_not_vip", "pass_malformed", "pass_fragment",
	"drop_no_backend", "drop_too_big", "drop_no_route", "drop_encap",
	"drop_icmp_rate", "tx", "redirect", "icmp_too_big_sent",
	"icmp_error_forwarded", "fragment_forwarded", "flow_new", "flow_hit",
	"flow_reselect", "decap", "decap_pass", "decap_malformed",
};

/* A v1 flow entry was made by any first packet and served every later
 * one: it is carried over as a confirmed flow with the default bound. */
static int flow_v1(const void *key, const void *old, void *new)
{
	const struct xlb_flow_key *k = key;
	const struct xlb_flow_v1 *o = old;
	struct xlb_flow *n = new;

	memset(n, 0, sizeof(*n));
	n->backend = o->backend;
	n->gen = o->gen;
	n->last_seen = o->last_seen;
	n->state = XLB_FLOW_ESTABLISHED;
	n->hash = xlb_flow_hash(k);
	n->idle_s = k->proto == IPPROTO_TCP ? XLB_IDLE_TCP_S : XLB_IDLE_UDP_S;
	return 0;
}

static int vip_v1(const void *key, const void *old, void *new)
{
	const struct xlb_vip_v1 *o = old;
	struct xlb_vip *n = new;

	(void)key;
	memset(n, 0, sizeof(*n));
	n->id = o->id;
	n->mode = o->mode;
	n->algo = o->algo;
	n->flags = o->flags;
	return 0;
}

/* Per-CPU counters move by name: indices differ between layouts. */
static int counter_v1(void *key, const void *old, void *new, int ncpu)
{
	__u32 *k = key;
	int i;

	if (*k >= sizeof(counters_v1) / sizeof(counters_v1[0]))
		return -ENOENT;
	i = xlb_counter_index(counters_v1[*k]);
	if (i < 0)
		return -ENOENT;
	*k = i;
	memcpy(new, old, ncpu * sizeof(__u64));
	return 0;
}

struct map_upgrade {
	const char *old;		/* pin name of the previous layout */
	const char *now;		/* the map that replaces it */
	__u32 key_size, old_value, new_value;
	int (*convert)(const void *key, const void *old, void *new);
	int (*convert_percpu)(void *key, const void *old, void *new, int ncpu);
};

static const struct map_upgrade upgrades[UPGRADE_MAPS] = {
	{ "xlb_flows", XLB_STR(XLB_MAP_FLOWS), sizeof(struct xlb_flow_key),
	  sizeof(struct xlb_flow_v1), sizeof(struct xlb_flow), flow_v1, NULL },
	{ "xlb_vips", XLB_STR(XLB_MAP_VIPS), sizeof(struct xlb_vip_key),
	  sizeof(struct xlb_vip_v1), sizeof(struct xlb_vip), vip_v1, NULL },
	{ "xlb_counters", XLB_STR(XLB_MAP_COUNTERS), sizeof(__u32),
	  sizeof(__u64), sizeof(__u64), NULL, counter_v1 },
};

bool upgrade_pins_exist(const char *dir)
{
	char path[512];
	size_t i;

	for (i = 0; i < UPGRADE_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, upgrades[i].old);
		if (!access(path, F_OK))
			return true;
	}
	return false;
}

static int layout_check(int fd, const struct map_upgrade *u)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.key_size != u->key_size || info.value_size != u->old_value)
		return -EPROTO;
	return 0;
}

/* Copy every entry of old into new through u's conversion. Entries the
 * new map already has win (BPF_NOEXIST): they are newer. */
static int copy_entries(int old, int new, const struct map_upgrade *u)
{
	int ncpu = u->convert_percpu ? libbpf_num_possible_cpus() : 1;
	__u8 key[64], next[64], ov[8192], nv[8192];
	void *prev = NULL;
	int err = 0;

	if (ncpu < 1 || u->key_size > sizeof(key) ||
	    (size_t)ncpu * u->old_value > sizeof(ov) ||
	    (size_t)ncpu * u->new_value > sizeof(nv))
		return -E2BIG;
	while (!err && !bpf_map_get_next_key(old, prev, next)) {
		memcpy(key, next, u->key_size);
		prev = key;
		if (bpf_map_lookup_elem(old, key, ov))
			continue;	/* evicted meanwhile */
		if (u->convert_percpu) {
			__u8 nk[64];

			memcpy(nk, key, u->key_size);
			if (u->convert_percpu(nk, ov, nv, ncpu))
				continue;
			err = bpf_map_update_elem(new, nk, nv, BPF_ANY);
		} else if (!u->convert(key, ov, nv)) {
			err = bpf_map_update_elem(new, key, nv, BPF_NOEXIST);
			if (err && errno == EEXIST)
				err = 0;
		}
		if (err)
			err = -errno;
	}
	return err;
}

int upgrade_maps(const char *dir, struct bpf_object *obj,
		 int keep[UPGRADE_MAPS])
{
	char path[512];
	int i, fd, new, err = 0;

	for (i = 0; i < UPGRADE_MAPS; i++)
		keep[i] = -1;
	for (i = 0; i < UPGRADE_MAPS && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, upgrades[i].old);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		new = bpf_object__find_map_fd_by_name(obj, upgrades[i].now);
		err = new < 0 ? -ENOENT : layout_check(fd, &upgrades[i]);
		err = err ?: copy_entries(fd, new, &upgrades[i]);
		keep[i] = fd;
	}
	return err;
}

int upgrade_finish(const char *dir, struct bpf_object *obj,
		   int keep[UPGRADE_MAPS])
{
	char path[512];
	int i, new, err = 0;

	for (i = 0; i < UPGRADE_MAPS; i++) {
		if (keep[i] < 0)
			continue;
		/* Only flows change while the old program runs; counters
		 * were already carried over once. */
		new = bpf_object__find_map_fd_by_name(obj, upgrades[i].now);
		if (!err && upgrades[i].convert == flow_v1 && new >= 0)
			err = copy_entries(keep[i], new, &upgrades[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, upgrades[i].old);
		if (!err && unlink(path) && errno != ENOENT)
			err = -errno;
		close(keep[i]);
		keep[i] = -1;
	}
	return err;
}
