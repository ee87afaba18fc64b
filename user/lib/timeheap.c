// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* A 4-ary min-heap of (time, id): see timeheap.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "timeheap.h"

#define D	4

static void place(struct timeheap *hp, size_t at)
{
	if (hp->pos)
		hp->pos[hp->e[at].id] = (__u32)at;
}

static void swap(struct timeheap *hp, size_t a, size_t b)
{
	struct timeheap_ent e = hp->e[a];

	hp->e[a] = hp->e[b];
	hp->e[b] = e;
	place(hp, a);
	place(hp, b);
}

static void up(struct timeheap *hp, size_t c)
{
	while (c && hp->e[(c - 1) / D].due > hp->e[c].due) {
		swap(hp, c, (c - 1) / D);
		c = (c - 1) / D;
	}
}

static void down(struct timeheap *hp, size_t c)
{
	for (;;) {
		size_t k, l = D * c + 1, m = c;

		for (k = l; k < l + D && k < hp->n; k++)
			if (hp->e[k].due < hp->e[m].due)
				m = k;
		if (m == c)
			break;
		swap(hp, c, m);
		c = m;
	}
}

int timeheap_reserve(struct timeheap *hp, size_t cap)
{
	struct timeheap_ent *e;

	if (cap <= hp->cap)
		return 0;
	e = realloc(hp->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	hp->e = e;
	hp->cap = cap;
	return 0;
}

int timeheap_push(struct timeheap *hp, __u64 due, __u32 id)
{
	size_t c = hp->n;

	if (c == hp->cap && timeheap_reserve(hp, hp->cap ? 2 * hp->cap : 64))
		return -ENOMEM;
	hp->n++;
	hp->e[c] = (struct timeheap_ent){ .due = due, .id = id };
	place(hp, c);
	up(hp, c);
	return 0;
}

void timeheap_del(struct timeheap *hp, size_t at)
{
	if (hp->pos)
		hp->pos[hp->e[at].id] = TIMEHEAP_NO_POS;
	if (at == --hp->n)
		return;
	/* The last entry fills the hole and moves whichever way it must. */
	hp->e[at] = hp->e[hp->n];
	place(hp, at);
	down(hp, at);
	up(hp, at);
}

void timeheap_free(struct timeheap *hp)
{
	free(hp->e);
	hp->e = NULL;
	hp->n = hp->cap = 0;
}
