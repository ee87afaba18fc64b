/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Agreement: peers that compute one table.
 *
 * Every node of an anycast group must hold the same ring for a VIP, or an
 * ECMP rehash sends a flow to a node that picks another backend. A ring
 * follows from the configuration (the same on every node: peers compare
 * digests) and from runtime facts each node judges alone: health verdicts
 * and adaptive weight factors. Those facts are agreed here.
 *
 * Views. Each node publishes its view: the backends it sees down, those it
 * drains, the adaptive factors below 1 (in percent), and nothing for the
 * rest (up, full weight) - so a healthy group exchanges empty views.
 *
 * Rule, per VIP. The witnesses of a VIP are the live nodes that see at
 * least one of its backends not down; a node that sees every one down is
 * cut off (its own link, a partition it is leaving, a start before its
 * first checks) and its view says nothing of the backends - unless every
 * live node is cut off, when all witness. Then a backend is down when
 * every witness sees it down (its flows move on); suspect when some do:
 * drained, no new flows, its established connections stay (the nodes that
 * reach it keep them alive) - unless no backend of the VIP could take new
 * flows then, when suspects take them; drained when any live node drains
 * it; with the least factor any witness gives it. Why: a node that cannot
 * reach a backend would black-hole its share of new flows if the backend
 * took them; one answer for every node costs capacity only while views
 * differ; one node's view must not break connections other nodes still
 * carry, nor one cut-off node take a VIP's backends away from the group.
 * A majority rule would send new flows through nodes that cannot reach
 * the backend. A silent peer (no heartbeat for the down
 * bound) is not live: its view stops counting, so a dead peer cannot hold
 * backends out. A partition leaves each side with the views it still
 * hears; the sides may then disagree (alarmed through the table
 * fingerprints) until it heals.
 *
 * Epochs. Time is cut into epochs of AGREE_EPOCH_MS of wall-clock time
 * (peers need NTP-synced clocks, as for the peer protocol's replay
 * window). A node that changes its view announces it at once, marked to
 * take effect AGREE_LEAD epochs later; every node that heard it switches
 * at that epoch's start, so all nodes change their tables together, within
 * their clock skew. A view heard too late (its epoch passed) takes effect
 * at once; heartbeats repeat the view, so a lost message costs nothing
 * more. Changes of liveness take effect at the next tick.
 *
 * Pure: no I/O, no clock of its own. Unit-tested in tests/unit/test_agree.c.
 */
#ifndef XLBD_AGREE_H
#define XLBD_AGREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xlb.h"

#define AGREE_EPOCH_MS		500
#define AGREE_LEAD		2
#define AGREE_MAX_NODES		16	/* this node and its peers */

/* One backend's state in one node's view, when not the default. */
struct agree_entry {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
	__u8 down;			/* 1: the node sees it down */
	__u8 factor_pct;		/* adaptive factor, 1..100 */
	__u8 drained;			/* 1: the node drains it */
};

struct agree_view {
	uint64_t epoch;			/* in effect from this epoch */
	struct agree_entry *e;		/* sorted (agree_cmp) */
	size_t n;
};

struct agree_node {
	bool used;
	bool live;
	bool has_next;
	struct agree_view cur;		/* in effect */
	struct agree_view next;		/* announced, epoch still to come */
};

/* Node 0 is this node; peers are 1..AGREE_MAX_NODES-1. */
struct agree {
	struct agree_node node[AGREE_MAX_NODES];
	uint64_t epoch;			/* of the last tick */
};

/* The epoch a wall-clock time (ms since 1970) falls in. */
uint64_t agree_epoch_of(uint64_t realtime_ms);

/* Order of entries within a view: by VIP, family, address. */
int agree_cmp(const void *a, const void *b);

void agree_init(struct agree *a);
void agree_free(struct agree *a);

/* This node's new view (entries copied and sorted), made at epoch now: in
 * effect from now + lead (AGREE_LEAD; 0 at start, for what this node knew
 * before it joined), which is returned (to announce). -ENOMEM leaves the
 * old view. */
int64_t agree_local(struct agree *a, const struct agree_entry *e, size_t n,
		    uint64_t now, unsigned int lead);

/* Peer idx's view, in effect from epoch; heard at epoch now. The same
 * view again (heartbeats repeat it) changes nothing. 0 or -errno. */
int agree_peer(struct agree *a, int idx, const struct agree_entry *e,
	       size_t n, uint64_t epoch, uint64_t now);

/* A peer came up or went silent. A peer that goes down forgets its view:
 * it announces it again when it returns. */
void agree_set_live(struct agree *a, int idx, bool live);

/* Epoch now began: announced views whose epoch came take effect. Returns
 * true when a view in effect changed (the agreed result may have). */
bool agree_tick(struct agree *a, uint64_t now);

/* A backend of a VIP, as this node's configuration names it. */
struct agree_backend {
	union xlb_addr addr;
	__u8 family;
};

/* The agreed state of a backend (the rule above). */
struct agree_state {
	bool down;		/* every witness sees it down */
	bool drained;		/* no new flows: drained, or suspect */
	bool suspect;		/* some witnesses see it down, not all */
	__u8 factor_pct;	/* least factor of the witnesses; 100: full */
};

/* The agreed states of vip's n backends be, into out[n]. */
void agree_vip(const struct agree *a, const struct xlb_vip_key *vip,
	       const struct agree_backend *be, size_t n,
	       struct agree_state *out);

#endif
