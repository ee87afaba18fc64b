// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Views of a balancer built from its maps (see view.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "flowsync.h"
#include "settings.h"
#include "view.h"
#include "xlb.h"

static int open_one(const char *dir, const char *name, int *fd)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

int xlb_maps_open_pinned(const char *dir, struct xlb_maps *m)
{
	int err;

	memset(m, 0xff, sizeof(*m));
	m->owned = true;
	err = open_one(dir, XLB_STR(XLB_MAP_CONFIG), &m->config) ?:
	      open_one(dir, XLB_STR(XLB_MAP_VIPS), &m->vips) ?:
	      open_one(dir, XLB_STR(XLB_MAP_BACKENDS), &m->backends) ?:
	      open_one(dir, XLB_STR(XLB_MAP_FLOWS), &m->flows) ?:
	      open_one(dir, XLB_STR(XLB_MAP_COUNTERS), &m->counters) ?:
	      open_one(dir, XLB_STR(XLB_MAP_VIP_STATS), &m->vip_stats) ?:
	      open_one(dir, XLB_STR(XLB_MAP_BE_STATS), &m->be_stats);
	if (err)
		xlb_maps_close(m);
	return err;
}

void xlb_maps_close(struct xlb_maps *m)
{
	int *fds[] = { &m->config, &m->vips, &m->backends, &m->flows,
		       &m->counters, &m->vip_stats, &m->be_stats };
	size_t i;

	if (!m->owned)
		return;
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static void add_traffic(json_object *o, const struct xlb_traffic *t)
{
	json_object_object_add(o, "packets", json_object_new_int64(t->packets));
	json_object_object_add(o, "bytes", json_object_new_int64(t->bytes));
	json_object_object_add(o, "new_flows",
			       json_object_new_int64(t->new_flows));
}

static json_object *backend_json(const struct xlb_maps *m, __u32 slot,
				 const struct xlb_backend *be,
				 struct xlb_traffic *sum)
{
	json_object *o = json_object_new_object();
	char a[XLB_ADDR_STRLEN], mac[18];
	struct xlb_traffic t = {};

	xlb_percpu_sum(m->be_stats, slot, (__u64 *)&t, 3);
	sum->packets += t.packets;
	sum->bytes += t.bytes;
	sum->new_flows += t.new_flows;
	json_object_object_add(o, "addr", json_object_new_string(
		xlb_format_addr(&be->addr, be->family, a, sizeof(a))));
	json_object_object_add(o, "slot", json_object_new_int(slot));
	json_object_object_add(o, "weight", json_object_new_int(be->weight));
	json_object_object_add(o, "drained",
			       json_object_new_boolean(be->weight == 0));
	if (be->flags & XLB_BE_F_HAS_MAC) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 be->mac[0], be->mac[1], be->mac[2], be->mac[3],
			 be->mac[4], be->mac[5]);
		json_object_object_add(o, "mac", json_object_new_string(mac));
	}
	/* The maps know only whether checks took it out. */
	json_object_object_add(o, "health", json_object_new_string(
		be->flags & XLB_BE_F_DOWN ? "down" : "unknown"));
	add_traffic(o, &t);
	return o;
}

/* All live backend slots, read once. */
static struct xlb_backend *read_backends(const struct xlb_maps *m)
{
	struct xlb_backend *all = calloc(XLB_MAX_BACKENDS, sizeof(*all));
	__u32 i;

	if (!all)
		return NULL;
	for (i = 0; i < XLB_MAX_BACKENDS; i++)
		if (bpf_map_lookup_elem(m->backends, &i, &all[i]))
			memset(&all[i], 0, sizeof(all[i]));
	return all;
}

static json_object *vip_json(const struct xlb_maps *m,
			     const struct xlb_vip_key *k,
			     const struct xlb_vip *v,
			     const struct xlb_backend *all)
{
	json_object *o = json_object_new_object(), *bes;
	struct xlb_traffic sum = {}, gone = {};
	struct xlb_vip_opts fo;
	char buf[XLB_VIP_STRLEN];
	__u32 i;

	json_object_object_add(o, "vip", json_object_new_string(
		xlb_format_vip(k, buf, sizeof(buf))));
	json_object_object_add(o, "id", json_object_new_int(v->id));
	json_object_object_add(o, "algo",
			       json_object_new_string(conf_algo_name(v->algo)));
	json_object_object_add(o, "encap",
			       json_object_new_string(conf_mode_name(v->mode)));
	/* The flow settings as the data plane holds them. */
	xlb_vip_opts_get(v, &fo);
	json_object_object_add(o, "flow_table", json_object_new_string(
		conf_flow_table_name(fo.no_flowtable ? CONF_FLOW_TABLE_OFF :
						       CONF_FLOW_TABLE_ON)));
	json_object_object_add(o, "udp_idle",
			       json_object_new_int((int)fo.udp_idle_s));
	bes = json_object_new_array();
	for (i = 0; i < XLB_MAX_BACKENDS; i++)
		if ((all[i].flags & (XLB_BE_F_ACTIVE | XLB_BE_F_DOWN)) &&
		    all[i].vip_id == v->id)
			json_object_array_add(bes,
					      backend_json(m, i, &all[i], &sum));
	/* Backends that left the VIP were folded into its own entry. */
	xlb_percpu_sum(m->vip_stats, v->id, (__u64 *)&gone, 3);
	sum.packets += gone.packets;
	sum.bytes += gone.bytes;
	sum.new_flows += gone.new_flows;
	add_traffic(o, &sum);
	json_object_object_add(o, "backends", bes);
	return o;
}

json_object *view_vips(const struct xlb_maps *m)
{
	json_object *arr = json_object_new_array();
	struct xlb_vip_key k, next;
	struct xlb_backend *all;
	struct xlb_vip v;
	void *prev = NULL;

	all = read_backends(m);
	if (!all)
		return arr;
	while (!bpf_map_get_next_key(m->vips, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->vips, &k, &v))
			continue;
		json_object_array_add(arr, vip_json(m, &k, &v, all));
	}
	free(all);
	return arr;
}

static unsigned int flow_count(const struct xlb_maps *m)
{
	struct xlb_flow_key k, next;
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(m->flows, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

json_object *view_counters(const struct xlb_maps *m)
{
	json_object *o = json_object_new_object();
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	__u32 i;

	for (i = 0; i < XLB_C_MAX; i++) {
		__u64 v = 0;

		xlb_percpu_sum(m->counters, i, &v, 1);
		json_object_object_add(o, xlb_counter_names[i],
				       json_object_new_int64(v));
	}
	json_object_object_add(o, "flows_in_table",
			       json_object_new_int64(flow_count(m)));
	if (!bpf_obj_get_info_by_fd(m->flows, &info, &len))
		json_object_object_add(o, "flow_table_size",
				       json_object_new_int64(info.max_entries));
	return o;
}

/* Jiffies now and the kernel's HZ: /proc/timer_list tells jiffies
 * (xlb_jiffies); HZ is what it advances by in a measured interval, rounded
 * to a CONFIG_HZ. */
static int jiffies_clock(__u64 *now, unsigned int *hz)
{
	static const unsigned int hzs[] = { 100, 250, 300, 1000 };
	struct timespec d = { 0, 50 * 1000 * 1000 };
	double best = 1e9, rate;
	__u64 a, b;
	size_t i;

	if (xlb_jiffies(&a) || nanosleep(&d, NULL) || xlb_jiffies(&b))
		return -ENOENT;
	rate = (b - a) / 0.05;
	*hz = 250;
	for (i = 0; i < sizeof(hzs) / sizeof(hzs[0]); i++)
		if (abs((int)(rate - hzs[i])) < best) {
			best = abs((int)(rate - hzs[i]));
			*hz = hzs[i];
		}
	*now = b;
	return 0;
}

static bool flow_match(const struct view_filter *f,
		       const struct xlb_flow_key *k,
		       const struct xlb_backend *be)
{
	if (f->has_vip && (memcmp(&k->dst, &f->vip, sizeof(k->dst)) ||
			   k->family != f->vip_family ||
			   k->proto != f->vip_proto ||
			   (f->vip_port && ntohs(k->dport) != f->vip_port)))
		return false;
	if (f->has_client && (memcmp(&k->src, &f->client, sizeof(k->src)) ||
			      k->family != f->client_family))
		return false;
	if (f->has_backend && (memcmp(&be->addr, &f->backend,
				      sizeof(be->addr)) ||
			       be->family != f->backend_family))
		return false;
	return true;
}

static const char *const flow_state_names[XLB_FLOW_STATE_MAX] = {
	[XLB_FLOW_UNCONFIRMED] = "unconfirmed",
	[XLB_FLOW_ESTABLISHED] = "established",
	[XLB_FLOW_FIN] = "fin",
};

static json_object *flow_json(const struct xlb_flow_key *k,
			      const struct xlb_backend *be,
			      const struct xlb_flow *fl, __u64 now,
			      unsigned int hz)
{
	json_object *o = json_object_new_object();
	char a[XLB_ADDR_STRLEN], buf[XLB_VIP_STRLEN];
	struct xlb_vip_key vk = {};

	xlb_format_addr(&k->src, k->family, a, sizeof(a));
	snprintf(buf, sizeof(buf), k->family == XLB_AF_INET6 ? "[%s]:%u" :
							       "%s:%u",
		 a, ntohs(k->sport));
	json_object_object_add(o, "client", json_object_new_string(buf));
	vk.addr = k->dst;
	vk.port = k->dport;
	vk.proto = k->proto;
	vk.family = k->family;
	json_object_object_add(o, "vip", json_object_new_string(
		xlb_format_vip(&vk, buf, sizeof(buf))));
	json_object_object_add(o, "backend", json_object_new_string(
		xlb_format_addr(&be->addr, be->family, a, sizeof(a))));
	json_object_object_add(o, "state", json_object_new_string(
		fl->state < XLB_FLOW_STATE_MAX ? flow_state_names[fl->state] :
						 "?"));
	json_object_object_add(o, "idle_s", json_object_new_double(
		(double)xlb_flow_idle(fl, now) / hz));
	json_object_object_add(o, "idle_limit_s",
			       json_object_new_int(fl->idle_s));
	json_object_object_add(o, "expired", json_object_new_boolean(
		xlb_flow_expired(fl, now, hz)));
	return o;
}

json_object *view_flows(const struct xlb_maps *m, const struct view_filter *f,
			unsigned int limit, unsigned int *total)
{
	json_object *arr = json_object_new_array();
	struct xlb_flow_key k, next;
	struct xlb_flow *vals;
	unsigned int hz = 250;
	void *prev = NULL;
	__u64 now = 0;

	*total = 0;
	if (!(vals = calloc(1, sizeof(*vals))))
		return arr;
	jiffies_clock(&now, &hz);
	while (!bpf_map_get_next_key(m->flows, prev, &next)) {
		struct xlb_backend be;
		__u32 slot;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->flows, &k, vals))
			continue;
		slot = vals[0].backend;
		if (bpf_map_lookup_elem(m->backends, &slot, &be) ||
		    !flow_match(f, &k, &be))
			continue;
		(*total)++;
		if (!limit || *total <= limit)
			json_object_array_add(arr, flow_json(&k, &be, &vals[0],
							     now, hz));
	}
	free(vals);
	return arr;
}
