/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The peer protocol in xlbd (docs/peers.md): a UDP socket on XLB_PEER_PORT of
 * the interface's primary address, heartbeats every node.peer-interval ms
 * to each configured peer, and what the peers' heartbeats say - up/down,
 * configuration digest and per-VIP table fingerprints compared with ours,
 * drops counted by reason. Runs on the main loop; every function takes
 * d->lock itself except those marked "lock held". The messages are
 * peerproto.h's. */
#ifndef XLBD_PEER_H
#define XLBD_PEER_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

struct xlbd;

/* Read the key file and the peer list of d->conf.node; nothing to do when
 * no peer is configured. 0, or -errno with the reason logged (xlbd exits
 * 2: a key that is missing, short, or readable by others). */
int peer_init(struct xlbd *d);
/* Bind the socket and start the heartbeats on d->loop. 0 or -errno,
 * logged. */
int peer_start(struct xlbd *d);
void peer_stop(struct xlbd *d);

/* Lock held. Flow records to peer idx (1..: the order of --peer), in
 * FLOWS messages; the group's sender (group.h, group_send_flows). */
struct xlb_sync_flow;
int peer_send_flows(struct xlbd *d, int idx, const struct xlb_sync_flow *f,
		    size_t n, bool end);
/* How many peers are configured (0: none). */
int peer_count(const struct xlbd *d);

/* Lock held. Whether a live peer's table of VIP k, as its last heartbeat
 * gave its fingerprint, differs from ours (a peer without k does not
 * count); the first such peer's name into who. */
struct xlb_vip_key;
bool peer_table_differs(struct xlbd *d, const struct xlb_vip_key *k,
			char *who, size_t len);

/* The node's drained flag, sent in heartbeats (routing's drain). */
void peer_set_drained(struct xlbd *d, bool drained);

/* Lock held. Adds the control verb `peers`' members to out: "peers":
 * [{ "addr", "state" ("up|down"), "last_heartbeat_ms" (-1: never),
 * "epoch", "config" ("equal|differs|unknown"), "drained", "tables":
 * [{ "vip", "match" (bool) }], "tables_equal", "tables_differ",
 * "transitions", "received": { TYPE: N }, "dropped": { REASON: N } }],
 * "dropped": { REASON: N } (all drops, by reason), "sent": N. */
void peer_json(struct xlbd *d, json_object *out);
/* The xlb_peer_* metric families from peer_json's object. */
void peer_metrics(FILE *f, json_object *o);

#endif
