/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Weighted Maglev lookup tables (Eisenbud et al., NSDI'16, section 3.4). */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#include "xlb/maps.h"

#define MAGLEV_NONE	XLB_RING_NONE	/* slot value when no backend has weight */
#define MAGLEV_MAX_WEIGHT	65535

struct maglev_backend {
	const void *id;		/* stable identity (e.g. address bytes) */
	size_t id_len;
	uint32_t weight;	/* 0: takes no slot (drained) */
	uint32_t value;		/* what the table stores for this backend */
};

/* Fill table[0..size) with the backends' values. Deterministic: the result
 * depends only on the set of (id, weight, value), not on the order of be[].
 * size must be prime. Returns 0; -EINVAL for a bad size, a weight above
 * MAGLEV_MAX_WEIGHT or duplicate ids; -ENOENT when no backend has weight
 * (table is then filled with MAGLEV_NONE); -ENOMEM. */
int maglev_build(const struct maglev_backend *be, size_t n,
		 uint32_t *table, uint32_t size);

/* Whether n is prime (table sizes must be). */
int maglev_is_prime(uint32_t n);

#endif
