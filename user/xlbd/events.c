// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The main loop's handlers for inputs that change the state model: health
 * verdicts here (control requests in ctl.c, reloads in main.c). Each runs
 * in the main loop only, with d->lock held while the model changes, and
 * re-applies every VIP whose effective backend set moved. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "bird.h"
#include "state.h"
#include "group.h"
#include "xlbd.h"

static void log_transition(const struct verdict *v, __u8 old)
{
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];

	xlbd_log(v->state == HEALTH_DOWN ? LOG_WARN_ : LOG_INFO_,
		 "health: %s backend %s %s -> %s (%s)",
		 xlb_format_vip(&v->vip, vip, sizeof(vip)),
		 xlb_format_addr(&v->addr, v->family, addr, sizeof(addr)),
		 state_health_name(old), state_health_name(v->state), v->why);
}

void xlbd_on_verdicts(struct xlbd *d)
{
	struct xlb_vip_key *moved = calloc(XLB_MAX_VIPS, sizeof(*moved));
	struct verdict *v;
	size_t n = health_take(d, &v), i, nmoved = 0;
	__u8 old;
	int rc;

	if (!moved) {
		xlbd_log(LOG_ERR_, "health: out of memory: %zu verdicts lost",
			 n);
		free(v);
		return;
	}
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < n; i++) {
		rc = state_set_verdict(&d->conf, &v[i], &old);
		if (rc < 0)
			continue;	/* the backend went away meanwhile */
		if (old != v[i].state)
			log_transition(&v[i], old);
		d->verdicts_dirty = true;
		if (rc > 0)
			state_moved_add(moved, &nmoved, &v[i].vip);
	}
	/* With peers, verdicts move nothing here: they change our view,
	 * which the group agrees on (group.h). What this node announces
	 * follows its own verdicts, agreed or not (routes.h). */
	group_local_changed(d);
	if (n)
		bird_kick(d);
	/* Level-triggered: each VIP that moved is made to match the model,
	 * once, however many of its backends changed. */
	for (i = 0; i < nmoved; i++) {
		const struct conf_vip *cv = conf_vip_find(&d->conf, &moved[i]);

		if (cv)
			xlbd_refresh_vip(d, cv);
	}
	pthread_mutex_unlock(&d->lock);
	free(moved);
	free(v);
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* Panic begins and ends where the model says, each said once (log) and
 * counted (metrics): the model decides, this notes it. */
static void note_panic(struct xlbd *d)
{
	char name[XLB_VIP_STRLEN];
	size_t i, up, n;

	for (i = 0; i < d->conf.nvips; i++) {
		struct conf_vip *v = &d->conf.vips[i];
		bool p = state_panic(v);

		if (p == v->panic)
			continue;
		v->panic = p;
		v->panics += p;
		state_up_count(v, &up, &n);
		xlb_format_vip(&v->key, name, sizeof(name));
		if (p)
			xlbd_log(LOG_WARN_, "panic: %s: %zu of %zu backends up, "
				 "under %u %%: spreading over all of them",
				 name, up, n, v->panic_pct);
		else
			xlbd_log(LOG_INFO_, "panic: %s: over", name);
	}
}

/* What moves by time alone: slow-start ramps, a step at a time; and the
 * panic notes after any change. Armed at once by xlbd_model_kick, again
 * while a ramp runs. */
static void on_model_timer(void *arg)
{
	struct xlbd *d = arg;
	struct xlb_vip_key *moved = calloc(XLB_MAX_VIPS, sizeof(*moved));
	size_t nmoved = 0, i;
	__u32 next = 0;
	int stepped = 0;

	pthread_mutex_lock(&d->lock);
	if (moved)
		stepped = state_ramp_tick(&d->conf, now_ms(), moved, &nmoved,
					  &next);
	/* With peers a step is news for the group, which agrees on it (our
	 * table follows the agreement, so it may not have moved). */
	if (stepped)
		group_local_changed(d);
	for (i = 0; i < nmoved; i++) {
		const struct conf_vip *cv = conf_vip_find(&d->conf, &moved[i]);

		if (cv)
			xlbd_refresh_vip(d, cv);
	}
	note_panic(d);
	pthread_mutex_unlock(&d->lock);
	free(moved);
	if (next)
		loop_timer_arm(d->loop, &d->model_timer, next);
}

void xlbd_model_init(struct xlbd *d)
{
	loop_timer_init(&d->model_timer, on_model_timer, d);
}

void xlbd_model_kick(struct xlbd *d)
{
	if (d->loop)
		loop_timer_arm(d->loop, &d->model_timer, 0);
}
