/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* xlbd's shared state, for its parts: lifecycle (xlbd.c), control socket
 * (xlbd_ctl.c), metrics (xlbd_metrics.c). */
#ifndef XLBD_H
#define XLBD_H

#include <pthread.h>
#include <stdbool.h>
#include <json-c/json.h>

#include "conf.h"
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
	int ctl_fd;
	bool stop, shutdown;
	pthread_mutex_t lock;		/* conf and xlb, vs. the metrics thread */
	void *metrics;			/* struct MHD_Daemon */
};

void xlbd_log(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Make the data plane and the running configuration match want; only VIPs
 * that differ are touched. On failure the error names what failed. */
int xlbd_apply(struct xlbd *d, const struct xlb_conf *want, char *err,
	       size_t len);
/* Save the running configuration to the state file (atomically). */
void xlbd_save(struct xlbd *d);

int ctl_open(struct xlbd *d);
void ctl_serve_one(struct xlbd *d);
void ctl_close(struct xlbd *d);

int metrics_start(struct xlbd *d);
void metrics_stop(struct xlbd *d);

/* "vips" as the control socket and metrics show them: the maps' view plus
 * what only the daemon knows (check settings, health). */
json_object *xlbd_vips_json(struct xlbd *d);

#endif
