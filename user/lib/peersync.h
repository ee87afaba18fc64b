/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* What peers sync, as it travels: a node's view of its backends (agree.h)
 * and flow entries (flowsync.h), each a fixed-size record in network
 * order, many to a TLV. Pure; every decoder checks what it reads (families,
 * states, zero padding) and refuses the record otherwise.
 *
 * View record (PEER_VIEW_REC bytes):
 *   0 VIP family  1 VIP protocol  2 VIP port (2)  4 VIP address (16)
 *  20 backend family  21 down (0/1)  22 factor % (1..100)  23 drained (0/1)
 *  24 backend address (16)
 *
 * Flow record (PEER_FLOW_REC bytes):
 *   0 family  1 protocol  2 state  3 backend family
 *   4 client port (2)  6 VIP port (2)  8 client address (16)
 *  24 VIP address (16)  40 backend address (16)  56 idle bound s (2)
 *  58 zero (2)
 */
#ifndef XLB_PEERSYNC_H
#define XLB_PEERSYNC_H

#include <stddef.h>
#include <stdint.h>

#include "agree.h"
#include "flowsync.h"
#include "peerproto.h"

#define PEER_VIEW_REC	40
#define PEER_FLOW_REC	60

void peer_view_put(uint8_t out[PEER_VIEW_REC], const struct agree_entry *e);
/* 0, or -EINVAL when the record is not one we would send. */
int peer_view_get(const uint8_t in[PEER_VIEW_REC], struct agree_entry *e);

void peer_flow_put(uint8_t out[PEER_FLOW_REC], const struct xlb_sync_flow *f);
int peer_flow_get(const uint8_t in[PEER_FLOW_REC], struct xlb_sync_flow *f);

/* Flow records per FLOWS message: one datagram without IP fragments on a
 * 1500-byte path. */
#define PEER_FLOWS_PER_MSG	20

/* Add to a heartbeat our view in effect from epoch: an EPOCH TLV and the
 * records in HEALTH_VIEW TLVs. -EMSGSIZE when they do not fit. */
int peer_enc_view(struct peer_enc *e, uint64_t epoch,
		  const struct agree_entry *v, size_t n);
/* A FLOWS message's body: records, and the end mark of a bulk sync. */
int peer_enc_flows(struct peer_enc *e, const struct xlb_sync_flow *f,
		   size_t n, bool end);

/* What a message says for the group: a heartbeat's view (has_epoch), a
 * FLOWS message's records. Arrays malloc'd; peer_sync_free. */
struct peer_sync {
	bool has_epoch;
	uint64_t epoch;
	struct agree_entry *view;
	size_t nview;
	struct xlb_sync_flow *flows;
	size_t nflows;
	bool bulk_end;
};
/* PEER_OK, or PEER_DROP_MALFORMED: a record refused, a TLV of the wrong
 * size or given twice, a view without its epoch. */
enum peer_drop peer_sync_parse(const struct peer_msg *m, struct peer_sync *s);
void peer_sync_free(struct peer_sync *s);

#endif
