// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Saturation forecasts per backend (predict.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "predict.h"
#include "state.h"
#include "xlbd.h"

struct trend {
	union xlb_addr addr;		/* whose: a slot goes to another */
	__u8 family;
	bool used, alerted;
	double t[PREDICT_SAMPLES];	/* seconds, CLOCK_MONOTONIC */
	double n[PREDICT_SAMPLES];	/* active connections */
	double nf[PREDICT_SAMPLES];	/* new flows per second */
	double lat[PREDICT_SAMPLES];	/* check latency, ms */
	__u64 nf_total;			/* the counter at the last sample */
	unsigned int len, pos;
	double base_ms;			/* lowest check latency seen */
	double learned;			/* active at the latency knee */
	struct predict_info last;
	bool has_last;
};

struct predict {
	struct trend *slot;		/* XLB_MAX_BACKENDS of them */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void predict_start(struct xlbd *d)
{
	struct predict *p = calloc(1, sizeof(*p));

	if (p)
		p->slot = calloc(XLB_MAX_BACKENDS, sizeof(*p->slot));
	if (!p || !p->slot) {
		free(p);
		xlbd_log(LOG_WARN_, "predict: out of memory; no forecasts");
		return;
	}
	d->predict = p;
}

void predict_stop(struct xlbd *d)
{
	if (!d->predict)
		return;
	free(d->predict->slot);
	free(d->predict);
	d->predict = NULL;
}

/* Least squares through the newest len samples of series y: slope and
 * the line's value now. */
static bool fit_y(const struct trend *tr, const double *y, unsigned int len,
		  double now, double *slope, double *at_now)
{
	double st = 0, sn = 0, stt = 0, stn = 0, k = len, den;
	unsigned int i, j;

	if (len < 3)
		return false;
	for (j = 0; j < len; j++) {
		double t;

		i = (tr->pos + PREDICT_SAMPLES - 1 - j) % PREDICT_SAMPLES;
		t = tr->t[i] - now;	/* small numbers */

		st += t;
		sn += y[i];
		stt += t * t;
		stn += t * y[i];
	}
	den = k * stt - st * st;
	if (den <= 0)
		return false;
	*slope = (k * stn - st * sn) / den;
	*at_now = (sn - *slope * st) / k;
	return true;
}

static bool fit(const struct trend *tr, unsigned int len, double now,
		double *slope, double *at_now)
{
	return fit_y(tr, tr->n, len, now, slope, at_now);
}

static void log_alert(const struct conf_vip *v, const struct conf_backend *b,
		      const struct predict_info *f, double active)
{
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];

	xlbd_log(LOG_WARN_, "predict: %s backend %s saturates in about %.0f s "
		 "(%.0f of %.0f%s connections active, +%.2f/s)",
		 xlb_format_vip(&v->key, vip, sizeof(vip)),
		 xlb_format_addr(&b->addr, b->family, addr, sizeof(addr)),
		 f->eta_s, active, f->capacity, f->learned ? " learned" : "",
		 f->slope);
}

/* The latency knee: the active connections when the check latency first
 * rose above PREDICT_KNEE times its lowest. */
static void knee(struct trend *tr, const struct conf_vip *v,
		 const struct conf_backend *b, double lat, double active)
{
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];

	if (lat <= 0)
		return;
	if (!tr->base_ms || lat < tr->base_ms)
		tr->base_ms = lat;
	if (tr->learned || lat < PREDICT_KNEE * tr->base_ms || active < 1)
		return;
	tr->learned = active;
	xlbd_log(LOG_INFO_, "predict: %s backend %s: latency knee at %.0f "
		 "active connections (check latency %.1f ms, lowest %.1f ms)",
		 xlb_format_vip(&v->key, vip, sizeof(vip)),
		 xlb_format_addr(&b->addr, b->family, addr, sizeof(addr)),
		 active, lat, tr->base_ms);
}

static void forecast(struct trend *tr, const struct conf_vip *v,
		     const struct conf_backend *b, double now)
{
	struct predict_info f = { .capacity = b->capacity };
	double at_now, recent, unused;

	tr->has_last = tr->len >= PREDICT_MIN_SAMPLES &&
		       fit(tr, tr->len, now, &f.slope, &at_now);
	if (!tr->has_last)
		return;
	fit_y(tr, tr->nf, tr->len, now, &f.nf_slope, &unused);
	fit_y(tr, tr->lat, tr->len, now, &f.lat_slope, &unused);
	if (!f.capacity && tr->learned) {
		f.capacity = tr->learned;
		f.learned = true;
	}
	/* Growing, not a step: the newer half of the window rises too (a
	 * jump, then flat, tilts the whole window's line for a while). */
	if (f.capacity > 0 && f.slope > PREDICT_MIN_SLOPE &&
	    fit(tr, tr->len / 2, now, &recent, &unused) &&
	    recent > PREDICT_MIN_SLOPE) {
		f.has_eta = true;
		f.eta_s = at_now >= f.capacity ? 0 :
			  (f.capacity - at_now) / f.slope;
	}
	if (f.has_eta && f.eta_s < PREDICT_ALERT_S && !tr->alerted) {
		log_alert(v, b, &f, at_now);
		tr->alerted = true;
	} else if (!f.has_eta || f.eta_s > 2 * PREDICT_ALERT_S) {
		tr->alerted = false;
	}
	tr->last = f;
}

static void sample(struct trend *tr, const struct conf_vip *v,
		   const struct conf_backend *b, double now, double active,
		   double lat, __u64 nf_total)
{
	unsigned int last;

	if (!tr->used || tr->family != b->family ||
	    memcmp(&tr->addr, &b->addr, sizeof(tr->addr))) {
		memset(tr, 0, sizeof(*tr));
		tr->used = true;
		tr->addr = b->addr;
		tr->family = b->family;
	}
	/* New flows per second since the last sample (none before). */
	last = (tr->pos + PREDICT_SAMPLES - 1) % PREDICT_SAMPLES;
	tr->nf[tr->pos] = tr->len && now > tr->t[last] &&
			  nf_total >= tr->nf_total ?
			  (nf_total - tr->nf_total) / (now - tr->t[last]) : 0;
	tr->nf_total = nf_total;
	tr->lat[tr->pos] = lat;
	tr->t[tr->pos] = now;
	tr->n[tr->pos] = active;
	tr->pos = (tr->pos + 1) % PREDICT_SAMPLES;
	if (tr->len < PREDICT_SAMPLES)
		tr->len++;
	knee(tr, v, b, lat, active);
	forecast(tr, v, b, now);
}

static int cmp_slot_of(const void *a, const void *b)
{
	const struct xlb_slot_of *x = a, *y = b;
	int c = (int)x->family - (int)y->family;

	return c ? c : memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* One VIP's backends: their slots sorted by address once, then each
 * found by bsearch (a VIP may have 10,000 backends, every second). */
static void sample_vip(struct xlbd *d, const struct conf_vip *v,
		       const __u32 *count, double now,
		       struct xlb_slot_of *slots)
{
	struct xlb_slot_of key = {}, *hit;
	struct health_info h;
	struct xlb_traffic t;
	int n = xlb_vip_slots(d->xlb, &v->key, slots, XLB_MAX_BACKENDS);
	size_t j;

	if (n <= 0)
		return;
	qsort(slots, (size_t)n, sizeof(*slots), cmp_slot_of);
	for (j = 0; j < v->nbe; j++) {
		const struct conf_backend *b = &v->be[j];
		double lat = 0;

		key.addr = b->addr;
		key.family = b->family;
		hit = bsearch(&key, slots, (size_t)n, sizeof(*slots),
			      cmp_slot_of);
		if (!hit || hit->slot >= XLB_MAX_BACKENDS)
			continue;
		if (health_get(d, &v->key, &b->addr, b->family, &h))
			lat = h.latency_ms;
		if (xlb_traffic_read(d->xlb, true, hit->slot, &t))
			t.new_flows = 0;
		sample(&d->predict->slot[hit->slot], v, b, now,
		       count[hit->slot], lat, t.new_flows);
	}
}

void predict_sample(struct xlbd *d, const __u32 *count)
{
	struct xlb_slot_of *slots;
	double now = mono_s();
	size_t i;

	if (!d->predict || !d->xlb)
		return;
	slots = malloc(XLB_MAX_BACKENDS * sizeof(*slots));
	if (!slots)
		return;
	for (i = 0; i < d->conf.nvips; i++)
		sample_vip(d, &d->conf.vips[i], count, now, slots);
	free(slots);
}

bool predict_get(const struct xlbd *d, __u32 slot, struct predict_info *out)
{
	const struct trend *tr;

	if (!d->predict || slot >= XLB_MAX_BACKENDS)
		return false;
	tr = &d->predict->slot[slot];
	if (!tr->used || !tr->has_last)
		return false;
	*out = tr->last;
	return true;
}
