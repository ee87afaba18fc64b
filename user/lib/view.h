/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Views of a running balancer built from its maps alone, as json-c objects
 * in the shapes of the control protocol (ctl.h). xlbd adds what only it
 * knows (health, checks); xlbctl --pinned shows them as they are. */
#ifndef XLB_VIEW_H
#define XLB_VIEW_H

#include <stdbool.h>
#include <json-c/json.h>
#include "xlb/flow.h"

/* File descriptors of the maps a view reads. */
struct xlb_maps {
	int config, vips, backends, flows, counters, vip_stats, be_stats;
	bool owned;		/* close them in xlb_maps_close */
};

/* Open the maps pinned in DIR (<pin-root>/xlb/<ifname>). */
int xlb_maps_open_pinned(const char *dir, struct xlb_maps *m);
void xlb_maps_close(struct xlb_maps *m);

struct view_filter {
	bool has_vip, has_backend, has_client;
	union xlb_addr vip, backend, client;
	__u8 vip_family, backend_family, client_family;
	__u16 vip_port;		/* host order; with has_vip */
	__u8 vip_proto;		/* with has_vip */
};

/* "vips" array: VIPs with their backends and traffic. */
json_object *view_vips(const struct xlb_maps *m);
/* "counters" object, with flows_in_table and flow_table_size. */
json_object *view_counters(const struct xlb_maps *m);
/* "flows" array of at most limit entries (0: all) matching f; *total is
 * the number that matched. */
json_object *view_flows(const struct xlb_maps *m, const struct view_filter *f,
			unsigned int limit, unsigned int *total);

#endif
