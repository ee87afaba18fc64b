/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The anycast group in xlbd: between the state model and the peer protocol
 * (peer.c), the agreement on runtime facts (agree.h) and flow-state sync
 * (flowsync.h).
 *
 * Agreement: this node's view (state_local_view) is announced in every
 * heartbeat with the epoch it takes effect; an epoch timer on wall-clock
 * boundaries makes announced views take effect and writes the agreement
 * into the model (state_set_agreed), re-applying each VIP that moved.
 *
 * Flow sync: every GROUP_SYNC_MS, the flow entries a peer needs (the
 * exceptions, flowsync.h) are computed once; each live peer is sent those
 * it was not sent yet (a peer that comes up gets all of them: its bulk
 * sync, closed by an end mark). Entries from peers are imported.
 *
 * Main loop only; functions marked "lock held" expect d->lock. */
#ifndef XLBD_GROUP_H
#define XLBD_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agree.h"
#include "flowsync.h"

#define GROUP_SYNC_MS		1000
/* A node that starts waits at most this long for its peers' bulk syncs
 * before it announces its routes. */
#define GROUP_BULK_WAIT_MS	3000

struct xlbd;

/* Sends n flow records to peer idx (end: the last batch of a round that
 * was that peer's bulk sync); set by peer.c. Returns 0 or -errno. */
typedef int (*group_send_flows)(struct xlbd *d, int idx,
				const struct xlb_sync_flow *f, size_t n,
				bool end);

struct group_stats {
	uint64_t epoch;			/* of the last tick */
	uint64_t view_epoch;		/* our view in effect from */
	size_t view_len;		/* backends in our view */
	unsigned long ticks_changed;	/* ticks that changed the model */
	unsigned long flows_sent, flows_received, flows_imported;
	unsigned long flows_import_failed;	/* no such VIP or backend */
	unsigned long sync_rounds;
	unsigned long flows_exceptions;	/* in the last round */
	unsigned long flows_confirmed;	/* confirmed entries in it */
};

/* Peers configured: set up the agreement (our saved verdicts in effect at
 * once) and the timers. Lock held. 0 or -errno. */
int group_start(struct xlbd *d, int npeers, group_send_flows send);
void group_stop(struct xlbd *d);
bool group_on(const struct xlbd *d);

/* Lock held: the model's local facts may have changed (verdicts, control
 * edits, reloads); announce our view if it did. */
void group_local_changed(struct xlbd *d);

/* Lock held: the model was replaced (control edit, reload): announce our
 * view if it changed, and write the agreement into the new model at the
 * next tick (new backends have none yet: their local facts rule until
 * then). */
void group_model_changed(struct xlbd *d);

/* Our view as heartbeats carry it. */
const struct agree_entry *group_view(const struct xlbd *d, size_t *n,
				     uint64_t *epoch);

/* Lock held: peer idx (1..) sent its view / came up or went silent. */
void group_peer_view(struct xlbd *d, int idx, const struct agree_entry *e,
		     size_t n, uint64_t epoch);
void group_peer_live(struct xlbd *d, int idx, bool live);

/* Lock held: flow records from peer idx; end: its bulk sync is complete. */
void group_flows_in(struct xlbd *d, int idx, const struct xlb_sync_flow *f,
		    size_t n, bool end);

/* Whether this node may announce its routes: every peer that is up (one
 * at least) finished its bulk sync to us, or GROUP_BULK_WAIT_MS passed.
 * Latched: once true, true until xlbd stops (a lost peer must not take
 * our routes away). */
bool group_synced(const struct xlbd *d);

void group_stats(const struct xlbd *d, struct group_stats *out);

#endif
