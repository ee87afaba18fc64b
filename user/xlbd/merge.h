/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Three-way merge of configurations, for xlbd's reload semantics.
 *
 * BASE is the -c file as the daemon last applied it, FILE is the file as
 * it reads now, RUNNING the configuration that runs (the state file:
 * BASE plus what xlbctl changed since). The merge carries the changes
 * FILE made since BASE onto RUNNING:
 *
 *   file left it alone (FILE == BASE)      RUNNING's value
 *   file changed it, runtime did not       FILE's value
 *   both made the same change              that value
 *   both changed it, differently           FILE's value, one conflict line
 *
 * Items: each node key; per VIP (keyed by address, port, protocol) its
 * presence, encap, algo, check, all-down and adaptive; per backend (keyed
 * by VIP and address) its presence, weight, drained, mac and check
 * override. Presence follows the same rule, with "modified" meaning "not
 * equal to BASE's": the file removing an item the runtime modified
 * removes it (conflict line); the runtime removing an item the file
 * modified restores the file's (conflict line); the runtime removing an
 * item the file left alone keeps it removed; items added on one side
 * only are kept; an item added on both sides merges as if BASE had an
 * item equal to neither (so FILE wins where they differ, reported).
 * A backend that does not fit the merged VIP (another family under L2)
 * is dropped, with a conflict line.
 *
 * Node keys bound at start (the daemon reads them only when it starts:
 * interface, xdp-mode, flow-entries, ring-size, metrics, control-socket,
 * control-group, pin-root, state-file) are not merged on reload: the
 * result keeps RUNNING's value, and when FILE changed one since BASE to
 * other than what runs, a "needs restart: KEY ..." notice says so. At
 * start (CONF_MERGE_START) nothing is bound yet and they take FILE's
 * value: xlbctl cannot change them, so the file is their only source, and
 * a restart applies what the notices announced. Pass FILE with the
 * command-line overrides applied, as the daemon runs it; else an override
 * differs from the file and shows as a notice when the file changes it.
 * (Every override is a bound key.) What the daemon derives into RUNNING
 * (source4/source6 from the interface) is a runtime value like any other:
 * it stays until the file sets the key.
 *
 * Pure: no I/O, no globals; the inputs are not modified. */
#ifndef XLB_MERGE_H
#define XLB_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include "conf.h"

#define CONF_DIGEST_LEN	32	/* SHA-256 */

enum conf_merge_when {
	CONF_MERGE_RELOAD = 0,	/* SIGHUP: start-bound node keys stay */
	CONF_MERGE_START,	/* start-up: they follow FILE */
};

struct merge_lines {
	char **line;		/* human-readable, no newline */
	size_t n;
};

struct merge_report {
	/* Where FILE won over a runtime change, or a backend was dropped:
	 * "VIP 198.18.1.1:80/tcp backend 198.18.0.11: weight 50 (runtime)
	 * -> 100 (file)". */
	struct merge_lines conflicts;
	/* "needs restart: flow-entries 65536 (running) -> 131072 (file)";
	 * the result keeps the running value. */
	struct merge_lines restart;
	/* The result has no VIP while RUNNING has some: the caller decides
	 * (xlbd refuses it unless forced). */
	bool removes_all;
};

/* Merge FILE's changes since BASE onto RUNNING into *out (overwritten,
 * not freed; must not be an input). base NULL: the empty configuration
 * (first start: everything in FILE counts as the file's change); running
 * NULL: nothing runs. *rep is overwritten; free it with
 * merge_report_free(). Returns 0; -ENOMEM; or -EINVAL/-EEXIST when an input
 * holds what no parsed configuration can (a duplicate or invalid VIP). On
 * error *out is initialised (conf_init) and *rep empty. */
int conf_merge(const struct xlb_conf *base, const struct xlb_conf *file,
	       const struct xlb_conf *running, enum conf_merge_when when,
	       struct xlb_conf *out, struct merge_report *rep);
void merge_report_free(struct merge_report *rep);

/* SHA-256 of the configuration's canonical text (conf_write), to tell
 * whether the file changed: comments, spacing and defaults written out or
 * left implicit do not count; the order of VIPs and backends does. 0,
 * -ENOMEM or -EIO. */
int conf_digest(const struct xlb_conf *c, unsigned char out[CONF_DIGEST_LEN]);

#endif
