/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Flow-state sync between peers: which entries of the flow table a peer
 * needs, and writing a peer's entries into ours.
 *
 * A peer with the same table picks the same backend for a flow that ECMP
 * moves to it, so most entries need no sync. What it cannot know are the
 * exceptions: confirmed flows whose backend differs from what the current
 * ring picks (the ring changed since the flow began: a backend added,
 * weights moved), and entries of VIPs whose algorithm is not
 * deterministic. Only those are exported; a full export (every confirmed
 * flow) is for measuring what the exceptions save, and for a peer whose
 * table may differ.
 *
 * Entries travel by address: the VIP is the key's destination, port and
 * protocol; the backend its address. Slot numbers differ between nodes.
 * An imported entry never replaces one we have: this node saw that flow
 * itself. */
#ifndef XLB_FLOWSYNC_H
#define XLB_FLOWSYNC_H

#include <stdbool.h>

#include "xlb.h"

struct xlb_sync_flow {
	struct xlb_flow_key key;	/* client -> VIP */
	union xlb_addr backend;
	__u8 be_family;
	__u8 state;			/* enum xlb_flow_state */
	__u16 idle_s;			/* the entry's idle bound */
	__u32 slot;			/* the backend's slot here: exports
					 * only, never sent (slots differ
					 * between nodes) */
};

struct xlb_sync_stats {
	unsigned long scanned;		/* confirmed entries looked at */
	unsigned long exported;		/* handed to the callback */
	unsigned long skipped;		/* expired, or backend gone */
};

typedef int (*xlb_sync_cb)(const struct xlb_sync_flow *f, void *ctx);

/* Call cb for each confirmed entry a peer needs (all: every live one). A
 * non-zero return from cb stops the walk and is returned. */
int xlb_flow_export(struct xlb *x, bool all, xlb_sync_cb cb, void *ctx,
		    struct xlb_sync_stats *st);

/* Write a peer's entry into the flow table, unless we have one for the
 * flow. 0: written; 1: we had one; -ENOENT: no such VIP or backend here;
 * -errno otherwise. now_jiffies: see xlb_jiffies(). */
int xlb_flow_import(struct xlb *x, const struct xlb_sync_flow *f,
		    __u64 now_jiffies);

/* The kernel's jiffies now (what flow entries count time in). */
int xlb_jiffies(__u64 *now);

#endif
