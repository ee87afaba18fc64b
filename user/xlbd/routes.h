/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* What this node announces: the VIP addresses it can serve now, as the
 * text of BIRD include files (bird.h writes them and drives BIRD).
 *
 * A VIP can be served when at least one of its backends is healthy (not
 * down by its checks, or not checked) and takes new flows (effective
 * weight > 0, state_backend_spec). A VIP failing open with every backend
 * down is not servable: the data plane still forwards what arrives, but
 * the routers should prefer a node that has a healthy backend. Several
 * VIPs on one address (ports, protocols) share one route: the address is
 * announced while any of them can be served. The node announces nothing
 * when its program is not attached or when it is drained.
 *
 * Pure functions, no kernel: tests/unit/test_routes.c. */
#ifndef XLBD_ROUTES_H
#define XLBD_ROUTES_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"

/* Which addresses a file lists: both families (the contract file), or
 * one, for a BIRD static protocol, whose channel takes one family. */
enum routes_family {
	ROUTES_ALL = 0,
	ROUTES_V4 = XLB_AF_INET,
	ROUTES_V6 = XLB_AF_INET6,
};

/* The community BIRD adds while the node drains (RFC 8326). */
#define ROUTES_GRACEFUL_SHUTDOWN	"(65535,0)"

bool routes_vip_servable(const struct conf_vip *v);

/* Whether the caller holds VIP v back from the routes for now (bird.c: a
 * VIP new to the routes waits until its table is its peers'). */
typedef bool (*routes_held_fn)(const struct conf_vip *v, void *arg);

/* The include file: one line `route ADDR/32 via "DEV";` (/128 for IPv6)
 * per servable address of c when announce is true, sorted, each address
 * once; nothing when announce is false. A VIP held (held non-NULL and
 * true for it) counts as not servable. Returns the number of routes, or
 * -ENOMEM / -EIO. */
int routes_write(const struct xlb_conf *c, bool announce, routes_held_fn held,
		 void *arg, const char *dev, enum routes_family fam, FILE *f);

/* The drain file, included in the static protocol's import filter: the
 * statement that adds the graceful-shutdown community when drained,
 * nothing otherwise. */
int routes_drain_write(bool drained, FILE *f);

#endif
