/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Predictive analytics: which backend saturates first, and when, at the
 * current growth.
 *
 * After every sweep of the flow table (active.h) each backend gets a
 * sample: its active connections, its new flows per second since the last
 * sample, and its check latency (the checker's EWMA). Each has a trend
 * (per second), and the forecast follows the active connections': an
 * ordinary least-squares line through the last
 * PREDICT_SAMPLES samples (about 10 s): connections per second; a trend
 * counts as growth when the newer half of those samples rises too (a step
 * up, then flat, is no growth). The
 * capacity is the backend's `capacity` setting, or learned: the active
 * connections it had when its check latency first rose above
 * PREDICT_KNEE times the lowest it has shown (its latency knee). With a
 * capacity and a rising trend (above PREDICT_MIN_SLOPE), the forecast is
 * the time until the line reaches the capacity; below PREDICT_ALERT_S a
 * warning is logged, once, until the forecast recovers. A flat or falling
 * load has no forecast and raises nothing. */
#ifndef XLBD_PREDICT_H
#define XLBD_PREDICT_H

#include <stdbool.h>
#include <linux/types.h>

struct xlbd;

#define PREDICT_SAMPLES		10
#define PREDICT_MIN_SAMPLES	5
#define PREDICT_MIN_SLOPE	0.05	/* connections/s: below is flat */
#define PREDICT_KNEE		3.0
#define PREDICT_ALERT_S		300

struct predict_info {
	double slope;			/* active connections per second */
	double nf_slope;		/* new flows/s, per second */
	double lat_slope;		/* check latency ms, per second */
	double capacity;		/* 0: unknown */
	bool learned;			/* capacity from the latency knee */
	bool has_eta;
	double eta_s;			/* until the trend reaches capacity */
};

void predict_start(struct xlbd *d);
void predict_stop(struct xlbd *d);
/* One sample of every backend (the main loop, d->lock held, after a
 * sweep); count[slot]: its active connections. */
void predict_sample(struct xlbd *d, const __u32 *count);
/* Slot's forecast; false while it has too few samples. */
bool predict_get(const struct xlbd *d, __u32 slot, struct predict_info *out);

#endif
