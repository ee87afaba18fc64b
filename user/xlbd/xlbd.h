/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* xlbd's shared state, for its parts: lifecycle and event loop (main.c,
 * loop.c), control socket (ctl.c), metrics (metrics.c). */
#ifndef XLBD_H
#define XLBD_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <json-c/json.h>

#include "conf.h"
#include "state.h"
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
	struct peers *peers;		/* the peer protocol (peer.h), or NULL */
	unsigned long conf_gen;		/* bumped on every configuration change */
	bool verdicts_dirty;		/* verdicts changed since the last save */
	struct loop_timer save_timer;	/* saves them, in batches */
	struct loop_timer prev_timer;	/* drops old previous rings */
	struct loop_timer model_timer;	/* ramps, panic notes (events.c) */
	struct group *group;		/* peers: agreement, flow sync
					 * (group.h); NULL alone */
	struct xlb_conf file;		/* the -c file read at start, saved as
					 * BASE once it runs (base_pending) */
	bool base_pending;
	struct node_state node;		/* drained or not (state.h) */
	struct bird *bird;		/* routing through BIRD (bird.h) */
	struct active *active;		/* connections per backend (active.h) */
	struct predict *predict;	/* saturation forecasts (predict.h) */
	const char *version;		/* the release (VERSION) */
	bool reload_ok;			/* the last load of the file took */
	time_t reload_time;		/* when the file last loaded (UNIX s) */
};

/* ---- health checks (health.c) ----
 * One thread runs every check (libcurl multi for HTTP/HTTPS, its own
 * sockets for TCP, UDP and SYN, one poll loop). It reads the model under
 * d->lock when conf_gen moves and posts verdicts (state.h); the main loop
 * takes them (health_take) when health_fd() is readable. */
struct health_info {
	enum health_state state;	/* the checker's own view */
	double latency_ms;		/* EWMA of successful checks */
	double factor;			/* adaptive weight factor, 0.1..1 */
	unsigned int transitions;	/* up <-> down changes */
	char last[64];			/* "ok" or "fail: reason" */
};

int health_start(struct xlbd *d);
void health_stop(struct xlbd *d);
/* Readable when verdicts wait; health_take hands them over (the caller
 * frees *out) and returns how many. */
int health_fd(struct xlbd *d);
size_t health_take(struct xlbd *d, struct verdict **out);
/* Current health of a VIP's backend; false when it is not checked. */
bool health_get(struct xlbd *d, const struct xlb_vip_key *vip,
		const union xlb_addr *a, __u8 family, struct health_info *out);
/* "checks" object for stats: run, late_p50_ms, late_p99_ms, late_max_ms. */
json_object *health_stats_json(struct xlbd *d);
/* Per checked backend, for the metrics: results, verdict changes and the
 * latency of successful checks (per bucket, not cumulative). */
#define HEALTH_BUCKETS 9
extern const double health_bucket_le[HEALTH_BUCKETS];
struct health_counts {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
	unsigned long long ok, failed;
	unsigned int transitions;	/* up <-> down changes */
	unsigned long long hist[HEALTH_BUCKETS];
	double hist_sum;		/* seconds */
};
/* Every target's counts in key order (VIP, then backend) into *out (the
 * caller frees it); returns how many. */
size_t health_counts(struct xlbd *d, struct health_counts **out);
/* How late checks start after their due time: the median and 99th
 * percentile of the last 65,536, the sum and count of all. */
struct health_lateness {
	double p50_s, p99_s, max_s;	/* of the last samples of them */
	size_t samples;
	double sum_s;			/* of all */
	unsigned long long count;
};
int health_lateness(struct xlbd *d, struct health_lateness *out);

/* The backend whose forecast saturates first ({vip, backend,
 * saturation_eta_s}) among the VIPs of xlbd_vips_json, or NULL
 * (metrics.c, predict.h). */
json_object *xlbd_first_saturation(json_object *vips);

/* Take the checker's verdicts into the model and re-apply the VIPs that
 * moved (events.c); the main loop calls it when health_fd() is readable. */
void xlbd_on_verdicts(struct xlbd *d);
/* After any change of the model: slow-start ramps step on by time and
 * panic is noted (log, count), from the main loop, soon (events.c). */
void xlbd_model_init(struct xlbd *d);
void xlbd_model_kick(struct xlbd *d);

/* Re-apply one VIP's backends (weights, drain, health) to the data plane;
 * called by the main loop with d->lock held. */
int xlbd_refresh_vip(struct xlbd *d, const struct conf_vip *cv);

/* log.c: lines at or above the level set (default info) go to stderr. */
void xlbd_log_level(enum log_level lvl);
void xlbd_log(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* notify.c: the service manager's readiness protocol (sd_notify(3));
 * nothing without NOTIFY_SOCKET. Ready: after start or a reload (refused:
 * the reason, NULL when it took); stopping: why, for systemctl status. */
void xlbd_notify_ready(const struct xlbd *d, const char *refused);
void xlbd_notify_reloading(void);
void xlbd_notify_stopping(const char *why);

/* The maps may hold tried (partly): make them hold d->conf again. */
void xlbd_revert(struct xlbd *d, struct xlb_conf *tried);

/* ---- configuration sources (reload.c) ----
 * Start: the state file, the -c file's changes since BASE merged onto it
 * (merge.h); 0 or -errno (logged). Reload: the same onto the running
 * model, applied and saved, or nothing (err says why); force applies a
 * file that removes every VIP; called with d->lock held. */
int xlbd_load_start(struct xlbd *d, const char *conf_path,
		    const char *state_file);
int xlbd_reload(struct xlbd *d, bool force, char *err, size_t len);
int xlbd_save_base(const struct xlb_conf *file, const char *state_file);
/* Fill node source4/source6 from the interface where unset. */
void xlbd_default_sources(struct conf_node *n);

/* Make the data plane and the running configuration match want; only VIPs
 * that differ are touched. On failure the error names what failed. */
int xlbd_apply(struct xlbd *d, const struct xlb_conf *want, char *err,
	       size_t len);
/* ---- what is kept on disk (store.c) ----
 * The state file (the running configuration) and beside it, named by
 * store_path(), the verdict file. Saves are atomic; 0 or -errno, logged. */
#define STORE_VERDICTS	".health"
#define STORE_BASE	".base.yaml"	/* the -c file as last applied */
#define STORE_NODE	".node"		/* node state: drained */
void store_path(const char *state_file, const char *ext, char *out,
		size_t len);
int xlbd_save(struct xlbd *d);
/* Verdicts are saved in batches, at most about a second late: 10,000
 * backends coming up must not mean 10,000 file writes. */
#define STORE_VERDICT_DELAY_MS	1000
int xlbd_save_verdicts(struct xlbd *d);
/* Into the model just loaded from the state file; a missing file is no
 * error (nothing was decided yet). */
int xlbd_load_verdicts(struct xlbd *d);
/* The node state (d->node); a missing file is no error. */
int xlbd_save_node(struct xlbd *d);
int xlbd_load_node(struct xlbd *d);

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
