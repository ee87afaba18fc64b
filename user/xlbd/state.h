/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* xlbd's state model: the one description of what the node runs.
 *
 * The model is a struct xlb_conf (conf.h): node settings, VIPs with their
 * settings and backends, and per backend its configured weight, drain and
 * check plus two runtime facts, the health verdict and the adaptive factor.
 * Everything the data plane holds for a VIP follows from it by
 * state_backend_spec(): nothing else decides a backend's effective weight.
 *
 * One writer: only xlbd's main loop changes the model. The other inputs
 * reach it as events - control requests (ctl.c), reloads (main.c), health
 * verdicts (struct verdict, from the checker thread) - and every change to
 * a VIP's effective backend set re-applies that VIP (apply.c, the only code
 * that writes VIPs, backends and rings). Readers in other threads (the
 * checker, metrics) take xlbd's lock.
 *
 * Verdicts survive restarts: they are saved beside the state file
 * (state_verdicts_save), in batches, and read back at start, so a backend
 * that was down stays out until it passes `rise` checks again.
 *
 * Pure functions, no kernel: unit-tested in tests/unit/test_state.c. */
#ifndef XLBD_STATE_H
#define XLBD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "agree.h"
#include "conf.h"
#include "xlb.h"

enum health_state { HEALTH_UNKNOWN = 0, HEALTH_UP, HEALTH_DOWN };

/* A checker's finding about one (VIP, backend), for the main loop. */
struct verdict {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
	__u8 state;			/* enum health_state */
	float factor;			/* adaptive factor, 1 when off */
	__u32 born;			/* the backend's life it judged
					 * (conf_backend.born); 0: any */
	char why[64];			/* "ok" or "fail: reason" */
};

/* The words xlbctl and metrics show for a health state. */
const char *state_health_name(__u8 health);
/* ... and for a backend: "maint" while in maintenance, else its state. */
const char *state_backend_health(const struct conf_backend *b);

/* The health a backend starts with (added, or back from maintenance):
 * down under a VIP with start-down on and checks (it must pass rise of
 * them first), else unknown (counts as up). */
__u8 state_initial_health(const struct conf_vip *v,
			  const struct conf_backend *b);
/* b begins a new life: its initial health, no factor, a new born; with
 * ramp (added among others, back from maint) its slow start begins, or
 * once it comes up if it starts down. */
void state_backend_new(const struct conf_vip *v, struct conf_backend *b,
		       bool ramp);

/* Slow start: a backend back from down (or added) takes a rising share of
 * its weight over the VIP's slow-start window, in STATE_RAMP_STEP %
 * steps; with peers the step is part of its view, and the group takes the
 * least (docs/group.md). */
#define STATE_RAMP_STEP		5
/* Steps at least this far apart (a short window takes bigger steps): with
 * peers each step is a new view, which takes effect 0.5-1 s after it is
 * announced (docs/group.md, epochs); faster, each would replace the last
 * before it took effect, and the table would keep the first. */
#define STATE_RAMP_TICK_MS	1500
void state_ramp_begin(const struct conf_vip *v, struct conf_backend *b,
		      __u64 now_ms);
/* b's step at now_ms (CLOCK_MONOTONIC): 5..95, 0 when not ramping. */
__u8 state_ramp_pct(const struct conf_vip *v, const struct conf_backend *b,
		    __u64 now_ms);
/* Move every ramp to now_ms; VIPs whose table moves go into moved (as
 * state_set_agreed); *next_ms: when the next step is due, 0 if none.
 * Returns how many ramps stepped: with peers a step changes the view
 * (the factor), not our table, which follows the agreement. */
int state_ramp_tick(struct xlb_conf *c, __u64 now_ms, struct xlb_vip_key *moved,
		    size_t *nmoved, __u32 *next_ms);

/* Add k to the set of n VIPs that moved (at most XLB_MAX_VIPS). */
void state_moved_add(struct xlb_vip_key *set, size_t *n,
		     const struct xlb_vip_key *k);

/* Panic (per VIP, panic: F): fewer than F of its backends not drained or
 * in maintenance are up, so every one of them stays in the ring, down or
 * not (better a share on each than all on the few left). */
bool state_panic(const struct conf_vip *v);
/* What panic counts: n backends not drained or in maintenance, up of them
 * not down (as the table follows: agreed with peers). */
void state_up_count(const struct conf_vip *v, size_t *up, size_t *n);

/* Down backends stay in the ring: the VIP is in panic, or every checked
 * backend of v is down and v fails open (all-down: open). */
bool state_fail_open(const struct conf_vip *v);

/* What the data plane holds for backend b of v: weight after drain, health
 * and adaptive factor; down when checks took it out (unless open). */
void state_backend_spec(const struct conf_vip *v, const struct conf_backend *b,
			bool all_down_open, struct xlb_backend_spec *s);

/* The weight b takes in its ring (0: none, drained or down). */
__u32 state_effective_weight(const struct conf_vip *v,
			     const struct conf_backend *b);

/* Record a verdict in the model. Returns 1 when the backend's VIP must be
 * re-applied (its effective set changed), 0 when not, -ENOENT when the
 * model has no such backend (it went away while the check ran). *old is
 * the state before. */
int state_set_verdict(struct xlb_conf *c, const struct verdict *v,
		      __u8 *old);

/* This node's view for its peers (agree.h): each backend it sees down,
 * drains, or scales below full weight (factor in 5 % steps, so that small
 * moves of an adaptive factor do not make a new view). Sorted; *out is
 * malloc'd (NULL when none). Returns the count or -ENOMEM. */
long state_local_view(const struct xlb_conf *c, struct agree_entry **out);

/* Write the group's agreement into every backend of the model (its agreed
 * facts). Each VIP whose table changes is added to moved (n of them, at
 * most XLB_MAX_VIPS). -ENOMEM leaves the model as it was. */
int state_set_agreed(struct xlb_conf *c, const struct agree *a,
		     struct xlb_vip_key *moved, size_t *nmoved);

/* Copy the runtime facts (verdict, factor) of backends that want shares
 * with cur, the running model (NULL: none): a configuration read from a
 * file knows none, and a reload must not bring a dead backend back. The
 * others start as state_initial_health says. 0 or -ENOMEM. */
int state_carry(struct xlb_conf *want, const struct xlb_conf *cur);

/* Verdict file: one line per backend that has one, "VIP ADDR STATE
 * FACTOR". Written atomically; read at start into a model whose
 * configuration came from the state file (the others start as
 * state_initial_health says). Lines naming backends the model
 * lacks are skipped; a malformed line is an error (-EINVAL, line in err). */
int state_verdicts_write(const struct xlb_conf *c, FILE *f);
int state_verdicts_save(const struct xlb_conf *c, const char *path);
int state_verdicts_load(struct xlb_conf *c, const char *path, char *err,
			size_t len);

/* Node-wide state, beside the VIPs: what routing (bird.h) and, later, the
 * peers read. Kept in its own file beside the state file ("drained yes" or
 * "drained no"), so that a drained node stays drained after a restart. */
struct node_state {
	bool drained;			/* `xlbctl node drain`: no routes */
};

int state_node_save(const struct node_state *n, const char *path);
/* A missing file is the default state (serving); a malformed one -EINVAL
 * with the reason in err. */
int state_node_load(struct node_state *n, const char *path, char *err,
		    size_t len);

#endif
