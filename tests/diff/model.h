/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* A reference model of the balancer's and the decap program's decisions,
 * written from their documented behaviour (README "What the data plane
 * does" and "Backend side", bpf/flowtab.h's header comment, include/xlb/,
 * the fixtures' expectations), never from the BPF code. It includes only
 * include/xlb/ headers. See difftest.c for how it is checked. */
#ifndef XLB_DIFF_MODEL_H
#define XLB_DIFF_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "xlb/config.h"
#include "xlb/counters.h"
#include "xlb/decap.h"
#include "xlb/flow.h"
#include "xlb/maps.h"
#include "xlb/service.h"

#define DM_MAX_PKT	4096
#define DM_MAX_VIPS	64
#define DM_MAX_BE	256
#define DM_MAX_PFX	32

/* Verdicts as XDP numbers them. */
enum { DM_DROP = 1, DM_PASS = 2, DM_TX = 3 };

/* What first fragments left for their later ones (README: fragments stay
 * with their flow): the model's own table, kept by the driver across the
 * frames of one datagram and emptied with the program's. */
#define DM_MAX_FRAGS	8

struct dm_frag {
	union xlb_addr src, dst;
	__u32 id;
	__u8 proto;		/* the protocol the fragment names */
	__u8 family;
	__u16 sport, dport;	/* host order: the first fragment's ports */
	__u8 l4proto;		/* and its upper-layer protocol */
};

struct dm_frags {
	struct dm_frag e[DM_MAX_FRAGS];
	int n;
};

struct dm_vip {
	struct xlb_vip_key key;
	struct xlb_vip v;
};

/* What the balancer decides with: its settings, VIPs, backend slots and
 * rings, as read back from its maps (the configuration, not the data
 * plane's state). */
struct dm_lb {
	struct xlb_config cfg;
	struct dm_vip vips[DM_MAX_VIPS];
	int nvips;
	struct xlb_backend be[DM_MAX_BE];	/* by slot */
	__u32 ring_size;
	__u32 *ring[DM_MAX_VIPS];		/* by VIP id; NULL: none */
	__u32 *prev[DM_MAX_VIPS];		/* the ring before the VIP's
						 * last change, while kept */
	struct dm_frags *frags;			/* state: first fragments */
};

struct dm_prefix {
	__u8 family, len;
	__u8 addr[16];
};

struct dm_decap {
	__u16 gue_port;		/* host order; 0: no GUE */
	bool drop;
	bool check_src;
	struct dm_prefix outer[DM_MAX_PFX], bal[DM_MAX_PFX], inner[DM_MAX_PFX];
	int nouter, nbal, ninner;
};

struct dm_out {
	int verdict;
	__u8 pkt[DM_MAX_PKT];
	size_t len;		/* meaningful for DM_TX and DM_PASS */
	bool frag_kept;		/* a first fragment's ports were kept */
	bool entry;		/* an unconfirmed flow entry is made ... */
	struct xlb_flow_key key; /* ... for this key, with this value (all
				  * but last_seen) */
	struct xlb_flow val;
	bool confirms;		/* the same frame again confirms the entry:
				 * UDP, or TCP with none of SYN, FIN, RST ... */
	struct xlb_flow cval;	/* ... into this value of the flow table */
	int counter;		/* decap: the xlb_decap_counter it bumps */
	const char *why;	/* the model's reason, for reports */
};

void dm_lb_run(const struct dm_lb *m, const __u8 *in, size_t len,
	       struct dm_out *o);
void dm_decap_run(const struct dm_decap *m, const __u8 *in, size_t len,
		  struct dm_out *o);

#endif
