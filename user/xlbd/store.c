// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* What xlbd keeps on disk (store in xlbd.h): the state file (the running
 * configuration, xlb.conf syntax) and beside it the verdict file (health
 * verdicts, state.h). Both are replaced atomically. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "state.h"
#include "xlbd.h"

void store_path(const char *state_file, const char *ext, char *out,
		size_t len)
{
	size_t n = strlen(state_file);

	/* eth0.yaml -> eth0.health; any other name gets the suffix added. */
	if (n > 5 && !strcmp(state_file + n - 5, ".yaml"))
		n -= 5;
	snprintf(out, len, "%.*s%s", (int)n, state_file, ext);
}

int xlbd_save(struct xlbd *d)
{
	int rc = conf_save(&d->conf, d->conf.node.state_file);

	if (rc)
		xlbd_log(LOG_ERR_, "cannot save state to %s: %s",
			 d->conf.node.state_file, strerror(-rc));
	return rc;
}

int xlbd_save_verdicts(struct xlbd *d)
{
	char path[CONF_PATH_MAX + 16];
	int rc;

	store_path(d->conf.node.state_file, STORE_VERDICTS, path,
		   sizeof(path));
	rc = state_verdicts_save(&d->conf, path);
	if (rc)
		xlbd_log(LOG_ERR_, "cannot save health verdicts to %s: %s",
			 path, strerror(-rc));
	d->verdicts_dirty = rc != 0;
	return rc;
}

int xlbd_load_verdicts(struct xlbd *d)
{
	char path[CONF_PATH_MAX + 16], err[CONF_ERR_MAX] = "";
	int rc;

	store_path(d->conf.node.state_file, STORE_VERDICTS, path,
		   sizeof(path));
	rc = state_verdicts_load(&d->conf, path, err, sizeof(err));
	if (rc)
		xlbd_log(LOG_WARN_, "health verdicts not restored: %s",
			 err[0] ? err : strerror(-rc));
	return rc;
}

int xlbd_save_node(struct xlbd *d)
{
	char path[CONF_PATH_MAX + 16];
	int rc;

	store_path(d->conf.node.state_file, STORE_NODE, path, sizeof(path));
	rc = state_node_save(&d->node, path);
	if (rc)
		xlbd_log(LOG_ERR_, "cannot save node state to %s: %s", path,
			 strerror(-rc));
	return rc;
}

int xlbd_load_node(struct xlbd *d)
{
	char path[CONF_PATH_MAX + 16], err[CONF_ERR_MAX] = "";
	int rc;

	store_path(d->conf.node.state_file, STORE_NODE, path, sizeof(path));
	rc = state_node_load(&d->node, path, err, sizeof(err));
	if (rc)
		xlbd_log(LOG_WARN_, "node state not restored (serving): %s",
			 err[0] ? err : strerror(-rc));
	return rc;
}
