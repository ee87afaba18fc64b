/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* xlbd's shared state, for its parts: lifecycle and event loop (main.c,
 * loop.c), control socket (ctl.c), metrics (metrics.c). */
#ifndef XLBD_H
#define XLBD_H

#include <pthread.h>
#include <stdbool.h>
#include <json-c/json.h>

#include "conf.h"
#include "loop.h"
#include "view.h"
#include "xlb.h"

enum log_level { LOG_ERR_, LOG_WARN_, LOG_INFO_, LOG_DEBUG_ };

struct xlbd {
	struct xlb_conf conf;		/* the running configuration */
	const char *conf_path;		/* -c FILE, or NULL */
	struct xlb *xlb;
	struct xlb_maps maps;		/* fds of xlb's maps, for views */
	char pin_dir[CONF_PATH_MAX + 64];
	int ifindex;
	int ctl_fd;			/* the listening control socket */
	struct ctl_server *ctl;		/* it and its connections (ctl.c) */
	struct loop *loop;		/* the main thread's events (loop.h) */
	bool stop, shutdown;
	pthread_mutex_t lock;		/* conf and xlb, vs. the other threads */
	void *metrics;			/* struct MHD_Daemon */
	struct health *health;		/* the checker (xlbd_health.c) */
	unsigned long conf_gen;		/* bumped on every configuration change */
};

/* ---- health checks (xlbd_health.c) ----
 * One thread runs every check (libcurl multi for TCP/HTTP/HTTPS, its own
 * sockets for UDP, one poll loop); results move backends up and down and
 * scale weights; the thread applies them through xlbd_refresh_vip(). */
enum health_state { HEALTH_UNKNOWN = 0, HEALTH_UP, HEALTH_DOWN };

struct health_info {
	enum health_state state;
	double latency_ms;		/* EWMA of successful checks */
	double factor;			/* adaptive weight factor, 0.1..1 */
	unsigned int transitions;	/* up <-> down changes */
	char last[64];			/* "ok" or "fail: reason" */
};

int health_start(struct xlbd *d);
void health_stop(struct xlbd *d);
/* Current health of a VIP's backend; false when it is not checked. */
bool health_get(struct xlbd *d, const struct xlb_vip_key *vip,
		const union xlb_addr *a, __u8 family, struct health_info *out);
/* "checks" object for stats: run, late_p50_ms, late_p99_ms, late_max_ms. */
json_object *health_stats_json(struct xlbd *d);
/* Check latency histogram for the metrics: counts per bucket (cumulative
 * not applied), sum in seconds, count. */
#define HEALTH_BUCKETS 9
extern const double health_bucket_le[HEALTH_BUCKETS];
void health_histogram(struct xlbd *d, unsigned long long counts[HEALTH_BUCKETS],
		      double *sum, unsigned long long *count);

/* Re-apply one VIP's backends (weights, drain, health) to the data plane;
 * called with d->lock held. */
int xlbd_refresh_vip(struct xlbd *d, const struct conf_vip *cv);

void xlbd_log(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Make the data plane and the running configuration match want; only VIPs
 * that differ are touched. On failure the error names what failed. */
int xlbd_apply(struct xlbd *d, const struct xlb_conf *want, char *err,
	       size_t len);
/* Save the running configuration to the state file (atomically). */
void xlbd_save(struct xlbd *d);

/* Bind the control socket and serve it on d->loop (connections are
 * non-blocking, CTL_TIMEOUT_MS each); ctl_close() closes them all. */
int ctl_open(struct xlbd *d);
/* Handle one request (the bytes read, newline included when one came):
 * fills out (members of the reply, "error" on failure); 0 or -errno. */
int ctl_request(struct xlbd *d, const char *buf, size_t len,
		json_object *out);
void ctl_close(struct xlbd *d);

int metrics_start(struct xlbd *d);
void metrics_stop(struct xlbd *d);

/* "vips" as the control socket and metrics show them: the maps' view plus
 * what only the daemon knows (check settings, health). */
json_object *xlbd_vips_json(struct xlbd *d);

#endif
