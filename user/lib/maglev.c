// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Weighted Maglev lookup tables (Eisenbud et al., NSDI'16, section 3.4).
 *
 * Every backend walks its own permutation of the table slots and claims the
 * next free one when it is its turn. Turns are handed out by weight: in
 * round r (1, 2, ...) a backend has earned r * weight / max_weight turns, and
 * claims a slot in each round where that count passes a whole number. The
 * heaviest backend therefore claims once per round and the others in
 * proportion, which makes slot counts proportional to weights to within a
 * slot or two. Within a round backends go in id order.
 *
 * Running this round by round costs O(rounds * backends), which is slow when
 * one heavy backend stretches the fill over many rounds in which light ones
 * rarely claim. Instead each backend's next claim round is computed directly
 * and a min-heap on (round, id order) picks who claims next: the same table
 * in O(size * log(backends)) plus the usual Maglev probing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"

/* Seeds for the two permutation hashes; any two distinct values will do,
 * but they must never change or every deployed table would reshuffle. */
#define MAGLEV_SEED_OFFSET	0x6d61676c65763031ULL	/* "maglev01" */
#define MAGLEV_SEED_SKIP	0x6d61676c65763032ULL	/* "maglev02" */

#define FNV64_OFFSET	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL

struct maglev_slot_walk {
	uint64_t pos;		/* next slot of the permutation to try */
	uint64_t skip;		/* step between permutation entries */
	uint64_t turn;		/* round in which the next claim falls */
	uint64_t claims;	/* slots claimed so far */
	uint32_t weight;
	uint32_t value;
};

int maglev_is_prime(uint32_t n)
{
	uint64_t d;

	if (n < 2)
		return 0;
	if (n % 2 == 0)
		return n == 2;
	/* 64-bit d so d * d cannot wrap for n near UINT32_MAX. */
	for (d = 3; d * d <= n; d += 2)
		if (n % d == 0)
			return 0;
	return 1;
}

/* Final avalanche of splitmix64: FNV-1a alone mixes its last bytes poorly,
 * and offset/skip are taken modulo the table size, so low bits must depend on
 * every input bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Seeded 64-bit hash of the id bytes. The seed goes in both before (so the
 * byte walk differs) and after (so two seeds decorrelate even for empty ids). */
static uint64_t id_hash(const void *id, size_t len, uint64_t seed)
{
	const unsigned char *p = id;
	uint64_t h = FNV64_OFFSET ^ mix64(seed);
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return mix64(h ^ seed ^ len);
}

static int id_cmp(const struct maglev_backend *a,
		  const struct maglev_backend *b)
{
	size_t len = a->id_len < b->id_len ? a->id_len : b->id_len;
	int r = 0;

	/* memcmp() on a NULL id is undefined even for zero bytes. */
	if (len)
		r = memcmp(a->id, b->id, len);
	if (r)
		return r;
	return (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

static int backend_ptr_cmp(const void *a, const void *b)
{
	return id_cmp(*(const struct maglev_backend * const *)a,
		      *(const struct maglev_backend * const *)b);
}

static void fill_none(uint32_t *table, uint32_t size)
{
	uint32_t i;

	for (i = 0; i < size; i++)
		table[i] = MAGLEV_NONE;
}

/* Sort by id so the fill order, and hence the table, does not depend on the
 * caller's array order. Sorting also puts duplicates next to each other.
 * On success *sorted holds pointers into be[], *max_weight the top weight. */
static int sort_backends(const struct maglev_backend *be, size_t n,
			 const struct maglev_backend ***sorted,
			 uint32_t *max_weight)
{
	const struct maglev_backend **s;
	size_t i;

	*max_weight = 0;
	for (i = 0; i < n; i++) {
		if (be[i].weight > MAGLEV_MAX_WEIGHT)
			return -EINVAL;
		if (be[i].weight > *max_weight)
			*max_weight = be[i].weight;
	}

	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		s[i] = &be[i];
	qsort(s, n, sizeof(*s), backend_ptr_cmp);

	/* Duplicates would make the result depend on which copy sorted first. */
	for (i = 1; i < n; i++) {
		if (!id_cmp(s[i - 1], s[i])) {
			free(s);
			return -EINVAL;
		}
	}
	*sorted = s;
	return 0;
}

/* First round r with r * weight >= (claims + 1) * max_weight, i.e. the round
 * in which the backend has earned its next whole turn. */
static uint64_t next_turn(const struct maglev_slot_walk *w,
			  uint32_t max_weight)
{
	return ((w->claims + 1) * max_weight + w->weight - 1) / w->weight;
}

/* Set up the permutation walks of the backends that have weight, in id
 * order; returns how many there are. */
static size_t init_walks(const struct maglev_backend **s, size_t n,
			 uint32_t size, uint32_t max_weight,
			 struct maglev_slot_walk *w)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!s[i]->weight)
			continue;
		w[k].pos = id_hash(s[i]->id, s[i]->id_len, MAGLEV_SEED_OFFSET) %
			   size;
		/* skip in [1, size - 1] is coprime with a prime size, so the
		 * walk visits every slot before repeating. */
		w[k].skip = id_hash(s[i]->id, s[i]->id_len, MAGLEV_SEED_SKIP) %
			    (size - 1) + 1;
		w[k].claims = 0;
		w[k].weight = s[i]->weight;
		w[k].value = s[i]->value;
		w[k].turn = next_turn(&w[k], max_weight);
		k++;
	}
	return k;
}

/* Heap order: earlier round first, ties by id order (the walk index). */
static int turn_before(const struct maglev_slot_walk *w, size_t a, size_t b)
{
	if (w[a].turn != w[b].turn)
		return w[a].turn < w[b].turn;
	return a < b;
}

static void sift_down(const struct maglev_slot_walk *w, size_t *heap,
		      size_t nh, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;

		if (l < nh && turn_before(w, heap[l], heap[m]))
			m = l;
		if (r < nh && turn_before(w, heap[r], heap[m]))
			m = r;
		if (m == i)
			return;
		t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
}

/* Claim the walk's next free slot. One always exists while the table is not
 * full, because the walk covers every slot. */
static void claim_slot(struct maglev_slot_walk *w, uint64_t *taken,
		       uint32_t *table, uint32_t size)
{
	uint64_t pos = w->pos;

	while (taken[pos / 64] & (1ULL << (pos % 64))) {
		pos += w->skip;
		if (pos >= size)
			pos -= size;
	}
	taken[pos / 64] |= 1ULL << (pos % 64);
	table[pos] = w->value;

	pos += w->skip;
	if (pos >= size)
		pos -= size;
	w->pos = pos;
}

/* heap must have room for nw entries. */
static void fill_table(struct maglev_slot_walk *w, size_t nw, size_t *heap,
		       uint32_t max_weight, uint64_t *taken,
		       uint32_t *table, uint32_t size)
{
	uint32_t filled;
	size_t i;

	for (i = 0; i < nw; i++)
		heap[i] = i;
	for (i = nw / 2; i-- > 0;)
		sift_down(w, heap, nw, i);

	for (filled = 0; filled < size; filled++) {
		struct maglev_slot_walk *top = &w[heap[0]];

		claim_slot(top, taken, table, size);
		top->claims++;
		top->turn = next_turn(top, max_weight);
		sift_down(w, heap, nw, 0);
	}
}

int maglev_build(const struct maglev_backend *be, size_t n,
		 uint32_t *table, uint32_t size)
{
	const struct maglev_backend **sorted;
	struct maglev_slot_walk *walks;
	uint32_t max_weight;
	uint64_t *taken;
	size_t *heap, nw;
	int err;

	if (!maglev_is_prime(size))
		return -EINVAL;
	if (!n) {
		fill_none(table, size);
		return -ENOENT;
	}

	err = sort_backends(be, n, &sorted, &max_weight);
	if (err)
		return err;
	if (!max_weight) {
		free(sorted);
		fill_none(table, size);
		return -ENOENT;
	}

	walks = malloc(n * sizeof(*walks));
	heap = malloc(n * sizeof(*heap));
	taken = calloc(size / 64 + 1, sizeof(*taken));
	if (!walks || !heap || !taken) {
		err = -ENOMEM;
		goto out;
	}

	nw = init_walks(sorted, n, size, max_weight, walks);
	fill_table(walks, nw, heap, max_weight, taken, table, size);
out:
	free(taken);
	free(heap);
	free(walks);
	free(sorted);
	return err;
}
