// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The algorithms' ring builders (algo.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"

const struct algo algos[XLB_ALGO_MAX] = {
	[XLB_ALGO_MAGLEV] = { "maglev", maglev_build },
	[XLB_ALGO_SH] = { "sh", maglev_build },
	[XLB_ALGO_RR] = { "rr", rr_build },
	[XLB_ALGO_WRR] = { "wrr", swrr_build },
	/* The weighted ring is what p2c draws its two candidates from. */
	[XLB_ALGO_P2C] = { "p2c", maglev_build },
	[XLB_ALGO_LC] = { "lc", members_build },
};

static int id_cmp(const struct maglev_backend *a,
		  const struct maglev_backend *b)
{
	size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
	int c = memcmp(a->id, b->id, n);

	return c ? c : (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

int swrr_build(const struct maglev_backend *be, size_t n, uint32_t *ring,
	       uint32_t size)
{
	int64_t *credit, total = 0;
	uint32_t i;
	size_t j, best;

	for (j = 0; j < n; j++) {
		if (be[j].weight > MAGLEV_MAX_WEIGHT)
			return -EINVAL;
		total += be[j].weight;
	}
	if (!total) {
		for (i = 0; i < size; i++)
			ring[i] = MAGLEV_NONE;
		return -ENOENT;
	}
	credit = calloc(n, sizeof(*credit));
	if (!credit)
		return -ENOMEM;
	for (i = 0; i < size; i++) {
		best = n;
		for (j = 0; j < n; j++) {
			if (!be[j].weight)
				continue;
			credit[j] += be[j].weight;
			if (best == n || credit[j] > credit[best] ||
			    (credit[j] == credit[best] &&
			     id_cmp(&be[j], &be[best]) < 0))
				best = j;
		}
		credit[best] -= total;
		ring[i] = be[best].value;
	}
	free(credit);
	return 0;
}

int rr_build(const struct maglev_backend *be, size_t n, uint32_t *ring,
	     uint32_t size)
{
	struct maglev_backend *one = calloc(n ? n : 1, sizeof(*one));
	int err;

	if (!one)
		return -ENOMEM;
	for (size_t j = 0; j < n; j++) {
		one[j] = be[j];
		one[j].weight = be[j].weight ? 1 : 0;
	}
	err = swrr_build(one, n, ring, size);
	free(one);
	return err;
}

int members_build(const struct maglev_backend *be, size_t n, uint32_t *ring,
		  uint32_t size)
{
	uint32_t i, m = 0;
	size_t j;

	for (i = 0; i < size; i++)
		ring[i] = MAGLEV_NONE;
	for (j = 0; j < n; j++) {
		if (!be[j].weight)
			continue;
		if (m == XLB_LC_MAX || m == size)
			return -E2BIG;
		ring[m++] = be[j].value;
	}
	if (!m)
		return -ENOENT;
	/* The list again and again up to XLB_LC_MAX: a scan from any start
	 * meets them all, starting anywhere in the list, so ties spread. */
	for (i = m; i < XLB_LC_MAX && i < size; i++)
		ring[i] = ring[i - m];
	return 0;
}
