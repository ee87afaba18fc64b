/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Migration of pinned maps of a previous layout (libxlb internal). */
#ifndef XLB_UPGRADE_H
#define XLB_UPGRADE_H

#include <stdbool.h>
#include <bpf/libbpf.h>
#include "xlb/counters.h"
#include "xlb/flow.h"
#include "xlb/maps.h"
#include "xlb/service.h"

#define UPGRADE_MAPS	3	/* flows, vips, counters */

/* Whether dir holds a pin of a previous layout. */
bool upgrade_pins_exist(const char *dir);
/* Convert every previous-layout pin in dir into obj's (loaded) map of the
 * new layout; keep[] holds the old maps open for upgrade_finish. Entries
 * already in the new maps win, so running it twice is harmless. -EPROTO:
 * an old pin of an unknown layout. */
int upgrade_maps(const char *dir, struct bpf_object *obj,
		 int keep[UPGRADE_MAPS]);
/* After the new program replaced the old one: copy the flows the old
 * program made meanwhile, remove the old pins from dir, close the maps. */
int upgrade_finish(const char *dir, struct bpf_object *obj,
		   int keep[UPGRADE_MAPS]);

#endif
