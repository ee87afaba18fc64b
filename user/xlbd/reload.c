// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Where the running configuration comes from, at start and on reload.
 *
 * Three versions meet here: the state file (RUNNING: what runs, with every
 * xlbctl change), the -c file as it reads now (FILE, the operator's), and
 * BASE, the -c file as xlbd last applied it, kept beside the state file
 * (store_path(..., STORE_BASE)). FILE's changes since BASE are merged onto
 * RUNNING (merge.h): runtime changes to what the file did not touch
 * survive; where both changed the same thing the file wins, and each such
 * revert is logged. Content decides what changed, never mtimes. A FILE
 * that would remove every VIP is refused unless forced; a FILE refused at
 * start does not stop xlbd, which runs the saved state and says why. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "merge.h"
#include "state.h"
#include "group.h"
#include "xlbd.h"

static void log_report(const char *src, const struct merge_report *rep)
{
	size_t i;

	for (i = 0; i < rep->conflicts.n; i++)
		xlbd_log(LOG_WARN_, "%s: file wins over a runtime change: %s",
			 src, rep->conflicts.line[i]);
	for (i = 0; i < rep->restart.n; i++)
		xlbd_log(LOG_WARN_, "%s: %s (not applied until xlbd restarts)",
			 src, rep->restart.line[i]);
}

/* One line per VIP a reload added, removed or changed. */
static void log_changes(const struct xlb_conf *old, const struct xlb_conf *now)
{
	char k[XLB_VIP_STRLEN];
	const struct conf_vip *v;
	size_t i;

	for (i = 0; i < now->nvips; i++) {
		v = conf_vip_find(old, &now->vips[i].key);
		if (!v || !conf_vip_equal(v, &now->vips[i]))
			xlbd_log(LOG_INFO_, "reload: VIP %s %s (%zu backends)",
				 xlb_format_vip(&now->vips[i].key, k, sizeof(k)),
				 v ? "changed" : "added", now->vips[i].nbe);
	}
	for (i = 0; i < old->nvips; i++)
		if (!conf_vip_find(now, &old->vips[i].key))
			xlbd_log(LOG_INFO_, "reload: VIP %s removed",
				 xlb_format_vip(&old->vips[i].key, k,
						sizeof(k)));
}

/* BASE as saved beside the state file; empty when there is none (first
 * start, or a state from before BASE was kept). */
static int load_base(const char *state_file, struct xlb_conf *base,
		     bool *have)
{
	char path[CONF_PATH_MAX + 16], err[CONF_ERR_MAX];
	int rc;

	conf_init(base);
	*have = false;
	store_path(state_file, STORE_BASE, path, sizeof(path));
	if (access(path, F_OK))
		return 0;
	rc = conf_load(path, base, err, sizeof(err));
	if (rc) {
		/* Without BASE everything in FILE counts as its change: the
		 * file wins everywhere, which is safe, and said. */
		xlbd_log(LOG_WARN_, "%s; merging as if the file were new", err);
		conf_free(base);
		conf_init(base);
		return 0;
	}
	*have = true;
	return 0;
}

int xlbd_save_base(const struct xlb_conf *file, const char *state_file)
{
	char path[CONF_PATH_MAX + 16];
	int rc;

	store_path(state_file, STORE_BASE, path, sizeof(path));
	rc = conf_save(file, path);
	if (rc)
		xlbd_log(LOG_ERR_, "cannot save %s: %s", path, strerror(-rc));
	return rc;
}

/* Merge file onto running (either may be NULL) into *out, with running's
 * verdicts carried over. 1 when the merge was refused (removes every VIP,
 * not forced: *out is then running's copy), 0, or -errno. */
static int merge_onto(const char *src, const struct xlb_conf *file,
		      const struct xlb_conf *running, const char *state_file,
		      enum conf_merge_when when, bool force,
		      struct xlb_conf *out)
{
	struct merge_report rep = {};
	struct xlb_conf base;
	bool have_base;
	int rc;

	rc = load_base(state_file, &base, &have_base);
	if (!rc)
		rc = conf_merge(have_base ? &base : NULL, file, running, when,
				out, &rep);
	conf_free(&base);
	if (rc) {
		xlbd_log(LOG_ERR_, "%s: merging the file: %s", src,
			 strerror(-rc));
		return rc;
	}
	if (rep.removes_all && !force) {
		xlbd_log(LOG_ERR_, "%s: the file would remove all %zu VIPs; "
			 "refused (xlbctl reload --force applies it)", src,
			 running ? running->nvips : 0);
		merge_report_free(&rep);
		conf_free(out);
		conf_init(out);
		return 1;
	}
	log_report(src, &rep);
	merge_report_free(&rep);
	return state_carry(out, running);
}

int xlbd_load_start(struct xlbd *d, const char *conf_path,
		    const char *state_file)
{
	char err[CONF_ERR_MAX];
	struct xlb_conf file, running;
	bool have_file = false, have_state = false;
	int rc;

	conf_init(&file);
	conf_init(&running);
	if (conf_path) {
		rc = conf_load(conf_path, &file, err, sizeof(err));
		if (!rc)
			have_file = true;
		else if (access(state_file, F_OK))
			goto refuse;	/* nothing else to run */
		else
			xlbd_log(LOG_ERR_, "%s; running the saved state %s "
				 "instead", err, state_file);
	}
	if (!access(state_file, F_OK)) {
		rc = conf_load(state_file, &running, err, sizeof(err));
		if (rc && !have_file)
			goto refuse;
		if (rc)
			xlbd_log(LOG_ERR_, "state file: %s; starting from %s",
				 err, conf_path);
		have_state = !rc;
	}
	if (have_state) {
		/* Verdicts belong to the running state. */
		snprintf(running.node.state_file,
			 sizeof(running.node.state_file), "%s", state_file);
		d->conf = running;
		xlbd_load_verdicts(d);
		running = d->conf;
		conf_init(&d->conf);
	}
	if (have_file) {
		rc = merge_onto("start", &file, have_state ? &running : NULL,
				state_file, CONF_MERGE_START, false, &d->conf);
		if (rc < 0)
			goto out;
		if (rc == 0)
			d->base_pending = true;
		else if (conf_copy(&d->conf, &running))
			rc = -ENOMEM;
		if (rc > 0)
			rc = 0;
	} else {
		d->conf = running;
		conf_init(&running);
	}
	d->file = file;		/* saved as BASE once it runs */
	conf_init(&file);
	xlbd_log(LOG_INFO_, "configuration: %s%s%s", have_state ?
		 "state file " : "", have_state ? state_file : "",
		 have_file ? (have_state ? " merged with the changes in the "
			      "file" : "the file") : "");
	rc = 0;
	goto out;
refuse:
	xlbd_log(LOG_ERR_, "%s", err);
out:
	conf_free(&running);
	conf_free(&file);
	if (!rc)
		snprintf(d->conf.node.state_file, sizeof(d->conf.node.state_file),
			 "%s", state_file);
	return rc;
}

static int reload_file(struct xlbd *d, bool force, char *err, size_t len)
{
	struct xlb_conf file, want, old;
	int rc;

	conf_init(&file);
	conf_init(&want);
	rc = conf_load(d->conf_path, &file, err, len);
	if (rc) {
		d->reload_ok = false;
		conf_free(&file);
		return rc;
	}
	rc = merge_onto("reload", &file, &d->conf, d->conf.node.state_file,
			CONF_MERGE_RELOAD, force, &want);
	if (rc > 0) {
		snprintf(err, len, "the file would remove every VIP; use "
			 "xlbctl reload --force to apply it");
		rc = -ECANCELED;
		goto out;
	}
	if (rc) {
		snprintf(err, len, "merging %s: %s", d->conf_path,
			 strerror(-rc));
		goto out;
	}
	xlbd_default_sources(&want.node);
	rc = xlbd_apply(d, &want, err, len);
	if (rc) {
		xlbd_revert(d, &want);
		goto out;
	}
	old = d->conf;
	d->conf = want;
	conf_init(&want);
	rc = xlbd_save(d);
	if (!rc)
		rc = xlbd_save_base(&file, d->conf.node.state_file);
	if (rc) {
		/* As for control changes: not durable, not done. */
		want = d->conf;
		d->conf = old;
		xlbd_revert(d, &want);
		xlbd_save(d);
		snprintf(err, len, "not saved: %s; reload undone",
			 strerror(-rc));
		goto out;
	}
	log_changes(&old, &d->conf);
	conf_free(&old);
	group_model_changed(d);
	xlbd_log(LOG_INFO_, "reload: applied %s, %zu VIPs", d->conf_path,
		 d->conf.nvips);
	d->reload_time = time(NULL);
out:
	d->reload_ok = !rc;
	conf_free(&want);
	conf_free(&file);
	return rc;
}

/* The service manager sees the reload begin and end, taken or refused:
 * either way the node runs (the old configuration when refused). */
int xlbd_reload(struct xlbd *d, bool force, char *err, size_t len)
{
	int rc;

	if (!d->conf_path) {
		snprintf(err, len, "no configuration file (-c)");
		return -ENOENT;	/* nothing to load: not a failed load */
	}
	xlbd_notify_reloading();
	rc = reload_file(d, force, err, len);
	xlbd_notify_ready(d, rc ? err : NULL);
	return rc;
}
