// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The main loop's handlers for inputs that change the state model: health
 * verdicts here (control requests in ctl.c, reloads in main.c). Each runs
 * in the main loop only, with d->lock held while the model changes, and
 * re-applies every VIP whose effective backend set moved. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Add k to the set of n VIPs (at most XLB_MAX_VIPS). */
static void key_add(struct xlb_vip_key *set, size_t *n,
		    const struct xlb_vip_key *k)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!memcmp(&set[i], k, sizeof(*k)))
			return;
	if (*n < XLB_MAX_VIPS)
		set[(*n)++] = *k;
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
			key_add(moved, &nmoved, &v[i].vip);
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
