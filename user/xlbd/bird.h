/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Routing through BIRD 2, and node drain (docs/bird.md).
 *
 * xlbd owns a tun device, xlb-IFACE, open for as long as it runs: the
 * kernel deletes it when the last fd closes, SIGKILL included. BIRD's
 * static protocol announces the routes of the include file over it with
 * `check link`, so they vanish with the device, within milliseconds.
 *
 * Files, each replaced atomically and only when its text changes (the
 * text is routes.h's):
 *   FILE        (--bird-include) `route ADDR/32 via "xlb-IFACE";` per
 *               address this node can serve now, both families;
 *   FILE.v4, FILE.v6   the same lines split by family: a static
 *               protocol's channel takes one family, so a dual-stack
 *               node includes these in two protocols;
 *   FILE.drain  `bgp_community.add((65535,0));` while drained, else
 *               empty: included in the static protocols' import filter.
 * After a change, xlbd asks BIRD at SOCK (--bird-socket) to re-read its
 * configuration over BIRD's control socket: connect, greeting (0001),
 * "configure", reply lines until a final one (0003 Reconfigured, 0004
 * in progress, 0005 queued: success; anything else fails and is logged
 * with BIRD's text). Non-blocking on the main loop, BIRD_TIMEOUT_MS per
 * attempt; a failure (BIRD not up yet, a refused configuration) is tried
 * again after BIRD_RETRY_MIN_MS, doubling up to BIRD_RETRY_MAX_MS.
 *
 * Drain: `node drain` marks the node drained (kept across restarts in
 * the node file, state.h); its routes stay, with the graceful-shutdown
 * community, for the grace period (node-drain's grace, ctl.h), then
 * go. `node undrain` brings them back without the community. */
#ifndef XLBD_BIRD_H
#define XLBD_BIRD_H

#include <stdio.h>
#include <json-c/json.h>

struct xlbd;

#define BIRD_DEV_PREFIX		"xlb-"
#define BIRD_TIMEOUT_MS		3000
#define BIRD_RETRY_MIN_MS	500
#define BIRD_RETRY_MAX_MS	30000
#define BIRD_DRAIN_EXT		".drain"

struct conf_node;

/* The routing settings make sense (bird-socket with bird-include, an
 * interface name that leaves room for the device's); 0 or -errno,
 * logged. main.c asks before anything is loaded. */
int bird_check(const struct conf_node *n);
/* At start, after the program is attached: the node state, and when
 * routing is configured the tun device and the first sync (the device is
 * set up once BIRD has the files). 0 or -errno, logged. */
int bird_start(struct xlbd *d);
/* Closes the device (BIRD withdraws) and the BIRD connection. */
void bird_stop(struct xlbd *d);
/* The model changed: write the files and reconfigure BIRD soon, once the
 * current event is done (a zero timer: the caller may still be changing
 * the model). A no-op before bird_start. */
void bird_kick(struct xlbd *d);

/* The control verbs node-drain, node-undrain, node-status; called with
 * d->lock held. 0, -ENOENT for another verb, or -errno (reason in err). */
int bird_ctl(struct xlbd *d, const char *cmd, json_object *in,
	     json_object *out, char *err, size_t len);
/* "routing" object for stats: drained, phase, routes, configures_ok,
 * configures_failed, last_ok, last_result, ...; d->lock held. */
json_object *bird_stats_json(struct xlbd *d);
/* The same as Prometheus metrics. */
void bird_metrics(FILE *f, json_object *routing);

#endif
