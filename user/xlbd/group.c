// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The anycast group: agreement and flow sync between the state model and
 * the peer protocol (group.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "bird.h"
#include "group.h"
#include "state.h"
#include "xlbd.h"

/* The flow records last sent to one peer, sorted (sync_cmp). */
struct sent_set {
	struct xlb_sync_flow *f;
	size_t n;
};

struct group {
	struct agree agree;
	int npeers;
	group_send_flows send;
	struct agree_entry *view;	/* ours, as announced */
	size_t nview;
	uint64_t view_epoch;
	bool dirty;			/* liveness or a late view: apply at
					 * the next tick */
	bool live[AGREE_MAX_NODES];
	bool bulk_in[AGREE_MAX_NODES];	/* its bulk sync to us is complete */
	bool bulk_out[AGREE_MAX_NODES];	/* ours to it still to send */
	struct sent_set sent[AGREE_MAX_NODES];
	uint64_t started_ms;
	struct loop_timer tick_timer, sync_timer, wait_timer;
	struct group_stats st;
};

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_epoch(void)
{
	return agree_epoch_of(realtime_ms());
}

bool group_on(const struct xlbd *d)
{
	return d->group != NULL;
}

static int sync_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlb_sync_flow));
}

/* The agreement into the model; each VIP whose table moved re-applied. */
static void apply_agreement(struct xlbd *d)
{
	struct xlb_vip_key *moved = calloc(XLB_MAX_VIPS, sizeof(*moved));
	size_t n = 0, i;

	if (!moved || state_set_agreed(&d->conf, &d->group->agree, moved,
				       &n)) {
		xlbd_log(LOG_ERR_, "group: out of memory applying the "
			 "agreement");
		free(moved);
		return;
	}
	if (n)
		d->group->st.ticks_changed++;
	for (i = 0; i < n; i++) {
		const struct conf_vip *cv = conf_vip_find(&d->conf, &moved[i]);
		char vip[XLB_VIP_STRLEN];

		if (!cv)
			continue;
		xlbd_log(LOG_INFO_, "group: epoch %llu: %s follows the "
			 "agreed backend set",
			 (unsigned long long)d->group->agree.epoch,
			 xlb_format_vip(&moved[i], vip, sizeof(vip)));
		xlbd_refresh_vip(d, cv);
	}
	free(moved);
}

static void arm_tick(struct xlbd *d)
{
	uint64_t ms = realtime_ms() % AGREE_EPOCH_MS;

	loop_timer_arm(d->loop, &d->group->tick_timer,
		       (int)(AGREE_EPOCH_MS - ms) + 1);
}

static void on_tick(void *arg)
{
	struct xlbd *d = arg;
	struct group *g = d->group;
	bool changed;

	pthread_mutex_lock(&d->lock);
	changed = agree_tick(&g->agree, now_epoch());
	g->st.epoch = g->agree.epoch;
	if (changed || g->dirty)
		apply_agreement(d);
	g->dirty = false;
	pthread_mutex_unlock(&d->lock);
	arm_tick(d);
}

/* Our view from the model, in effect lead epochs from now. */
static void announce(struct xlbd *d, unsigned int lead)
{
	struct group *g = d->group;
	struct agree_entry *e;
	long n = state_local_view(&d->conf, &e);
	uint64_t now = now_epoch();
	int64_t at;

	if (n < 0)
		return;
	if (g->view && (size_t)n == g->nview &&
	    !memcmp(e, g->view, (size_t)n * sizeof(*e))) {
		free(e);
		return;
	}
	at = agree_local(&g->agree, e, (size_t)n, now, lead);
	if (at < 0) {
		free(e);
		return;
	}
	free(g->view);
	g->view = e;
	g->nview = (size_t)n;
	g->view_epoch = (uint64_t)at;
	g->st.view_epoch = g->view_epoch;
	g->st.view_len = g->nview;
	if (lead)
		xlbd_log(LOG_INFO_, "group: our view (%zu backends not up at "
			 "full weight) takes effect at epoch %llu", g->nview,
			 (unsigned long long)at);
}

void group_local_changed(struct xlbd *d)
{
	if (d->group)
		announce(d, AGREE_LEAD);
}

void group_model_changed(struct xlbd *d)
{
	if (!d->group)
		return;
	announce(d, AGREE_LEAD);
	d->group->dirty = true;
}

const struct agree_entry *group_view(const struct xlbd *d, size_t *n,
				     uint64_t *epoch)
{
	*n = d->group->nview;
	*epoch = d->group->view_epoch;
	return d->group->view;
}

void group_peer_view(struct xlbd *d, int idx, const struct agree_entry *e,
		     size_t n, uint64_t epoch)
{
	uint64_t now = now_epoch();

	if (agree_peer(&d->group->agree, idx, e, n, epoch, now))
		return;
	if (epoch <= now)
		d->group->dirty = true;	/* heard late: in effect at once */
}

static void sent_clear(struct sent_set *s)
{
	free(s->f);
	memset(s, 0, sizeof(*s));
}

void group_peer_live(struct xlbd *d, int idx, bool live)
{
	struct group *g = d->group;

	if (idx <= 0 || idx >= AGREE_MAX_NODES)
		return;
	agree_set_live(&g->agree, idx, live);
	g->live[idx] = live;
	g->dirty = true;
	/* Up: it gets all our exceptions (its bulk sync), and we wait for
	 * its bulk to us. Down: it will get them again when it returns. */
	sent_clear(&g->sent[idx]);
	g->bulk_out[idx] = live;
	g->bulk_in[idx] = false;
	bird_kick(d);
}

void group_flows_in(struct xlbd *d, int idx, const struct xlb_sync_flow *f,
		    size_t n, bool end)
{
	struct group *g = d->group;
	__u64 now = 0;
	size_t i;

	if (idx <= 0 || idx >= AGREE_MAX_NODES)
		return;
	if (n)
		xlb_jiffies(&now);
	g->st.flows_received += n;
	for (i = 0; i < n && now; i++) {
		int rc = xlb_flow_import(d->xlb, &f[i], now);

		if (rc == 0)
			g->st.flows_imported++;
		else if (rc < 0)
			g->st.flows_import_failed++;
	}
	if (end && !g->bulk_in[idx]) {
		g->bulk_in[idx] = true;
		xlbd_log(LOG_INFO_, "group: bulk flow sync from peer %d "
			 "complete", idx);
		bird_kick(d);	/* routes may wait for it */
	}
}

bool group_synced(const struct xlbd *d)
{
	const struct group *g = d->group;
	bool any = false;
	int i;

	if (!g || mono_ms() - g->started_ms >= GROUP_BULK_WAIT_MS)
		return true;
	for (i = 1; i <= g->npeers; i++) {
		if (!g->live[i])
			continue;
		if (!g->bulk_in[i])
			return false;
		any = true;
	}
	return any;
}

struct collect {
	struct xlb_sync_flow *f;
	size_t n, cap;
};

static int collect(const struct xlb_sync_flow *f, void *ctx)
{
	struct collect *c = ctx;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct xlb_sync_flow *nf = realloc(c->f, cap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		c->f = nf;
		c->cap = cap;
	}
	c->f[c->n++] = *f;
	return 0;
}

/* e[0..n) minus what s holds, into out (sorted inputs). */
static size_t delta(const struct xlb_sync_flow *e, size_t n,
		    const struct sent_set *s, struct xlb_sync_flow *out)
{
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		if (!s->n || !bsearch(&e[i], s->f, s->n, sizeof(*e),
				      sync_cmp))
			out[m++] = e[i];
	return m;
}

static void sync_round(struct xlbd *d)
{
	struct group *g = d->group;
	struct xlb_sync_stats xs;
	struct collect c = { 0 };
	struct xlb_sync_flow *out;
	int i;

	if (xlb_flow_export(d->xlb, false, collect, &c, &xs)) {
		free(c.f);
		return;
	}
	g->st.sync_rounds++;
	g->st.flows_exceptions = c.n;
	g->st.flows_confirmed = xs.scanned;
	if (c.n)
		qsort(c.f, c.n, sizeof(*c.f), sync_cmp);
	out = calloc(c.n ? c.n : 1, sizeof(*out));
	for (i = 1; out && i <= g->npeers; i++) {
		size_t m;

		if (!g->live[i])
			continue;
		m = delta(c.f, c.n, &g->sent[i], out);
		if ((m || g->bulk_out[i]) &&
		    g->send(d, i, out, m, g->bulk_out[i]))
			continue;	/* not sent: again next round */
		g->st.flows_sent += m;
		g->bulk_out[i] = false;
		sent_clear(&g->sent[i]);
		if (c.n) {
			g->sent[i].f = malloc(c.n * sizeof(*c.f));
			if (g->sent[i].f) {
				memcpy(g->sent[i].f, c.f, c.n * sizeof(*c.f));
				g->sent[i].n = c.n;
			}
		}
	}
	free(out);
	free(c.f);
}

/* The bulk-sync wait is over: routes need no more waiting. */
static void on_wait(void *arg)
{
	bird_kick(arg);
}

static void on_sync(void *arg)
{
	struct xlbd *d = arg;

	pthread_mutex_lock(&d->lock);
	sync_round(d);
	pthread_mutex_unlock(&d->lock);
	loop_timer_arm(d->loop, &d->group->sync_timer, GROUP_SYNC_MS);
}

int group_start(struct xlbd *d, int npeers, group_send_flows send)
{
	struct group *g;

	if (npeers <= 0 || npeers >= AGREE_MAX_NODES || !send)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	agree_init(&g->agree);
	g->npeers = npeers;
	g->send = send;
	g->started_ms = mono_ms();
	d->group = g;
	/* Saved verdicts are ours already: in effect at once. */
	announce(d, 0);
	agree_tick(&g->agree, now_epoch());
	apply_agreement(d);
	loop_timer_init(&g->tick_timer, on_tick, d);
	loop_timer_init(&g->sync_timer, on_sync, d);
	loop_timer_init(&g->wait_timer, on_wait, d);
	arm_tick(d);
	loop_timer_arm(d->loop, &g->wait_timer, GROUP_BULK_WAIT_MS + 1);
	loop_timer_arm(d->loop, &g->sync_timer, GROUP_SYNC_MS);
	return 0;
}

void group_stop(struct xlbd *d)
{
	struct group *g = d->group;
	int i;

	if (!g)
		return;
	loop_timer_cancel(d->loop, &g->tick_timer);
	loop_timer_cancel(d->loop, &g->sync_timer);
	loop_timer_cancel(d->loop, &g->wait_timer);
	for (i = 0; i < AGREE_MAX_NODES; i++)
		sent_clear(&g->sent[i]);
	agree_free(&g->agree);
	free(g->view);
	free(g);
	d->group = NULL;
}

void group_stats(const struct xlbd *d, struct group_stats *out)
{
	if (d->group)
		*out = d->group->st;
	else
		memset(out, 0, sizeof(*out));
}
