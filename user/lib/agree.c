// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Agreement on the runtime facts that shape a table (agree.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"

uint64_t agree_epoch_of(uint64_t realtime_ms)
{
	return realtime_ms / AGREE_EPOCH_MS;
}

static int key_cmp(const struct xlb_vip_key *va, __u8 fa,
		   const union xlb_addr *aa, const struct xlb_vip_key *vb,
		   __u8 fb, const union xlb_addr *ab)
{
	int c = memcmp(va, vb, sizeof(*va));

	if (c)
		return c;
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(aa, ab, sizeof(*aa));
}

int agree_cmp(const void *a, const void *b)
{
	const struct agree_entry *x = a, *y = b;

	return key_cmp(&x->vip, x->family, &x->addr, &y->vip, y->family,
		       &y->addr);
}

static void view_free(struct agree_view *v)
{
	free(v->e);
	memset(v, 0, sizeof(*v));
}

/* A sorted copy of e[0..n), or -ENOMEM. Keys are copied whole, padding
 * included, so equal views compare equal byte for byte. */
static int view_make(struct agree_view *v, const struct agree_entry *e,
		     size_t n, uint64_t epoch)
{
	memset(v, 0, sizeof(*v));
	v->epoch = epoch;
	if (!n)
		return 0;
	v->e = calloc(n, sizeof(*e));
	if (!v->e)
		return -ENOMEM;
	memcpy(v->e, e, n * sizeof(*e));
	qsort(v->e, n, sizeof(*e), agree_cmp);
	v->n = n;
	return 0;
}

static bool view_same(const struct agree_view *a, const struct agree_view *b)
{
	return a->n == b->n &&
	       (!a->n || !memcmp(a->e, b->e, a->n * sizeof(*a->e)));
}

void agree_init(struct agree *a)
{
	memset(a, 0, sizeof(*a));
	a->node[0].used = true;
	a->node[0].live = true;
}

void agree_free(struct agree *a)
{
	for (int i = 0; i < AGREE_MAX_NODES; i++) {
		view_free(&a->node[i].cur);
		view_free(&a->node[i].next);
	}
}

/* Install view v (taken over) for node n, heard at epoch now. */
static void node_offer(struct agree_node *n, struct agree_view *v,
		       uint64_t now)
{
	if (v->epoch <= now) {		/* late, or the same view again */
		if (n->has_next && n->next.epoch <= v->epoch) {
			view_free(&n->next);
			n->has_next = false;
		}
		view_free(&n->cur);
		n->cur = *v;
		return;
	}
	view_free(&n->next);
	n->next = *v;
	n->has_next = true;
}

int64_t agree_local(struct agree *a, const struct agree_entry *e, size_t n,
		    uint64_t now, unsigned int lead)
{
	struct agree_view v;
	int err = view_make(&v, e, n, now + lead);

	if (err)
		return err;
	node_offer(&a->node[0], &v, now);
	return (int64_t)(now + lead);
}

int agree_peer(struct agree *a, int idx, const struct agree_entry *e,
	       size_t n, uint64_t epoch, uint64_t now)
{
	struct agree_node *nd;
	struct agree_view v;
	int err;

	if (idx <= 0 || idx >= AGREE_MAX_NODES)
		return -EINVAL;
	nd = &a->node[idx];
	err = view_make(&v, e, n, epoch);
	if (err)
		return err;
	/* Heartbeats repeat the view: the one already known changes
	 * nothing (and a repeat must not pull a pending one forward). */
	if ((nd->has_next && nd->next.epoch == epoch &&
	     view_same(&nd->next, &v)) ||
	    (nd->used && nd->cur.epoch == epoch && view_same(&nd->cur, &v))) {
		view_free(&v);
		return 0;
	}
	nd->used = true;
	node_offer(nd, &v, now);
	return 0;
}

void agree_set_live(struct agree *a, int idx, bool live)
{
	struct agree_node *nd;

	if (idx <= 0 || idx >= AGREE_MAX_NODES)
		return;
	nd = &a->node[idx];
	nd->live = live;
	if (!live) {
		view_free(&nd->cur);
		view_free(&nd->next);
		nd->has_next = false;
		nd->used = false;
	}
}

bool agree_tick(struct agree *a, uint64_t now)
{
	bool changed = false;

	a->epoch = now;
	for (int i = 0; i < AGREE_MAX_NODES; i++) {
		struct agree_node *nd = &a->node[i];

		if (!nd->has_next || nd->next.epoch > now)
			continue;
		changed |= !view_same(&nd->cur, &nd->next);
		view_free(&nd->cur);
		nd->cur = nd->next;
		memset(&nd->next, 0, sizeof(nd->next));
		nd->has_next = false;
	}
	return changed;
}

static const struct agree_entry *view_find(const struct agree_view *v,
					   const struct agree_entry *key)
{
	return v->n ? bsearch(key, v->e, v->n, sizeof(*key), agree_cmp) :
		      NULL;
}

/* The entries of v for vip that say down. */
static size_t view_down(const struct agree_view *v,
			const struct xlb_vip_key *vip)
{
	size_t i, n = 0;

	for (i = 0; i < v->n; i++)
		n += v->e[i].down && !memcmp(&v->e[i].vip, vip, sizeof(*vip));
	return n;
}

/* Which live nodes witness vip's backends: those that see at least one of
 * its n backends not down. A node that sees them all down is cut off (its
 * link, a partition it just left, a start before its first checks): its
 * view says nothing of the backends. When every live node is cut off they
 * all witness: the backends are down. Returns how many witness. */
static int witnesses(const struct agree *a, const struct xlb_vip_key *vip,
		     size_t n, bool *w)
{
	int nw = 0, i;

	for (i = 0; i < AGREE_MAX_NODES; i++) {
		const struct agree_node *nd = &a->node[i];

		w[i] = nd->used && nd->live && view_down(&nd->cur, vip) < n;
		nw += w[i];
	}
	if (nw)
		return nw;
	for (i = 0; i < AGREE_MAX_NODES; i++) {
		w[i] = a->node[i].used && a->node[i].live;
		nw += w[i];
	}
	return nw;
}

void agree_vip(const struct agree *a, const struct xlb_vip_key *vip,
	       const struct agree_backend *be, size_t n,
	       struct agree_state *out)
{
	bool w[AGREE_MAX_NODES], open = false;
	int nw = witnesses(a, vip, n, w);
	struct agree_entry key;
	size_t j;

	memset(&key, 0, sizeof(key));
	key.vip = *vip;
	for (j = 0; j < n; j++) {
		struct agree_state *o = &out[j];
		int down = 0;

		key.addr = be[j].addr;
		key.family = be[j].family;
		memset(o, 0, sizeof(*o));
		o->factor_pct = 100;
		for (int i = 0; i < AGREE_MAX_NODES; i++) {
			const struct agree_node *nd = &a->node[i];
			const struct agree_entry *e;

			if (!nd->used || !nd->live)
				continue;
			e = view_find(&nd->cur, &key);
			if (!e)
				continue;
			/* An operator's drain counts from any node. */
			o->drained |= e->drained;
			if (!w[i])
				continue;
			down += e->down;
			if (e->factor_pct && e->factor_pct < o->factor_pct)
				o->factor_pct = e->factor_pct;
		}
		o->down = nw && down == nw;
		o->suspect = down && down < nw;
		open |= !o->down && !o->drained && !o->suspect;
	}
	/* Suspects take no new flows while another backend can; when none
	 * can, new flows go to what some node still reaches. */
	for (j = 0; j < n; j++)
		out[j].drained |= out[j].suspect && open;
}
