/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The table of algorithms (enum xlb_algo): each one's name and how it fills
 * a VIP's ring. The data plane reads a ring by hash (maglev, sh: the hash
 * is xlb_pick_hash) or in turn (rr, wrr: xlb_algo_in_turn). A new
 * algorithm is a row here and its enum value; one that picks in a new way
 * also needs its selector in bpf/select.h. */
#ifndef XLB_ALGO_H
#define XLB_ALGO_H

#include <stddef.h>
#include <stdint.h>

#include "maglev.h"
#include "xlb/service.h"

struct algo {
	const char *name;
	/* Fill ring[0..size) from the backends (maglev_build's contract:
	 * -ENOENT when none has weight, the ring then all MAGLEV_NONE). */
	int (*build)(const struct maglev_backend *be, size_t n,
		     uint32_t *ring, uint32_t size);
};

extern const struct algo algos[XLB_ALGO_MAX];

/* Smooth weighted round robin (as nginx's): each step every backend gains
 * its weight, the one with most credit is taken and pays the total. Over
 * any W = sum of weights consecutive steps each backend appears exactly
 * its weight times, spread out; ring[i] is step i. Ties go to the lesser
 * id, so the sequence depends only on the set. */
int swrr_build(const struct maglev_backend *be, size_t n, uint32_t *ring,
	       uint32_t size);

/* Round robin: swrr_build with every weighted backend at weight 1. */
int rr_build(const struct maglev_backend *be, size_t n, uint32_t *ring,
	     uint32_t size);

/* lc's ring: the backends with weight from ring[0], repeated up to
 * XLB_LC_MAX entries (the data plane scans them all and breaks ties at
 * random, so by how often a backend is listed); the rest MAGLEV_NONE.
 * -E2BIG past XLB_LC_MAX of them. */
int members_build(const struct maglev_backend *be, size_t n, uint32_t *ring,
		  uint32_t size);

#endif
