// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Active connections per backend slot (active.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "active.h"
#include "predict.h"
#include "flowsync.h"
#include "xlb/flow.h"
#include "xlbd.h"

struct active {
	__u32 *count;			/* per slot, last sweep; NULL: none */
	unsigned long long sweeps;	/* completed, under d->lock */
	struct loop_timer timer;
};

static int tally(const struct xlb_sync_flow *f, void *ctx)
{
	__u32 *count = ctx;

	if (f->state != XLB_FLOW_FIN && f->slot < XLB_MAX_BACKENDS)
		count[f->slot]++;
	return 0;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Sweep without the model's lock (the maps are read, not the model), then
 * swap the new counts in under it. */
static void on_sweep(void *arg)
{
	struct xlbd *d = arg;
	struct active *a = d->active;
	struct xlb_sync_stats st;
	long long t0 = mono_ms(), took;
	__u32 *count = calloc(XLB_MAX_BACKENDS, sizeof(*count)), *old = NULL;

	if (count && !xlb_flow_export(d->xlb, true, tally, count, &st)) {
		/* Corrects the data plane's own counts (p2c's): flows
		 * confirmed or ended during the sweep are off by one until
		 * the next. */
		xlb_conns_write(d->xlb, count);
		pthread_mutex_lock(&d->lock);
		old = a->count;
		a->count = count;
		a->sweeps++;
		predict_sample(d, count);	/* one sample a sweep */
		pthread_mutex_unlock(&d->lock);
	} else {
		old = count;
	}
	free(old);
	took = mono_ms() - t0;
	loop_timer_arm(d->loop, &a->timer,
		       (int)(took * 10 > ACTIVE_SWEEP_MS ? took * 10 :
							   ACTIVE_SWEEP_MS));
}

void active_start(struct xlbd *d)
{
	struct active *a = calloc(1, sizeof(*a));

	if (!a) {
		xlbd_log(LOG_WARN_, "active connections: out of memory; "
			 "not counted");
		return;
	}
	d->active = a;
	loop_timer_init(&a->timer, on_sweep, d);
	loop_timer_arm(d->loop, &a->timer, 0);
}

void active_stop(struct xlbd *d)
{
	struct active *a = d->active;

	if (!a)
		return;
	loop_timer_cancel(d->loop, &a->timer);
	free(a->count);
	free(a);
	d->active = NULL;
}

bool active_get(const struct xlbd *d, __u32 slot, __u32 *n)
{
	const struct active *a = d->active;

	if (!a || !a->count || slot >= XLB_MAX_BACKENDS)
		return false;
	*n = a->count[slot];
	return true;
}

unsigned long long active_sweeps(const struct xlbd *d)
{
	return d->active ? d->active->sweeps : 0;
}
