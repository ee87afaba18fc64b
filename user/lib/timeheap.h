/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* A min-heap of (time, id), 4-ary: half the levels of a binary heap, and a
 * node's children share a cache line. xlbd's checker keeps its idle checks
 * in one by due time and its checks in flight in another by deadline.
 *
 * With pos set (an array indexed by id, filled with TIMEHEAP_NO_POS), the
 * heap keeps pos[id] at the entry's place, so an entry can be taken out
 * from the middle (a check that ended before its deadline). Each id may
 * then be in the heap at most once. */
#ifndef XLB_TIMEHEAP_H
#define XLB_TIMEHEAP_H

#include <stddef.h>
#include <linux/types.h>

#define TIMEHEAP_NO_POS	0xffffffffU

struct timeheap_ent {
	__u64 due;
	__u32 id;
};

struct timeheap {
	struct timeheap_ent *e;
	size_t n, cap;
	__u32 *pos;			/* NULL: not tracked */
};

/* Room for cap entries, so that pushes up to it cannot fail. 0 or -ENOMEM. */
int timeheap_reserve(struct timeheap *hp, size_t cap);
/* 0, or -ENOMEM (growing past the reserve). */
int timeheap_push(struct timeheap *hp, __u64 due, __u32 id);
/* Take out the entry at place at (0: the earliest). */
void timeheap_del(struct timeheap *hp, size_t at);
/* Frees the entries (not pos) and empties the heap. */
void timeheap_free(struct timeheap *hp);

#endif
