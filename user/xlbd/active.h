/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Active connections per backend, for every algorithm: a sweep of the
 * confirmed flow table (libxlb's flow export) counts each backend slot's
 * live entries that are not half-closed (FIN seen), expired or stale. The
 * main loop sweeps every ACTIVE_SWEEP_MS, or ten times as long as the
 * last sweep took, whichever is longer (a 4M table takes seconds). */
#ifndef XLBD_ACTIVE_H
#define XLBD_ACTIVE_H

#include <stdbool.h>
#include <linux/types.h>

struct xlbd;

#define ACTIVE_SWEEP_MS	1000

/* Start sweeping (the first sweep at once); stop. */
void active_start(struct xlbd *d);
void active_stop(struct xlbd *d);

/* Slot's count from the last sweep; false before the first one. */
bool active_get(const struct xlbd *d, __u32 slot, __u32 *n);
/* Sweeps completed so far: a count read once this has moved by two since
 * a change was made counts flows after it (backend drain --wait). */
unsigned long long active_sweeps(const struct xlbd *d);

#endif
