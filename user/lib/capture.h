/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Packet capture from a running balancer (include/xlb/capture.h): the
 * capture build is loaded on the balancer's pinned maps and swapped into
 * its pinned link, records are read from its ring, and the balancer it
 * replaced goes back. Each swap is a compare-and-swap on the link
 * (BPF_F_REPLACE): a balancer that changed meanwhile (xlbd restarted) is
 * never overwritten. The replaced program stays pinned as capture_saved
 * while the capture runs, so that a capture whose process died can be
 * undone (xlb_capture_restore); until then the capture build forwards as
 * the balancer does and records nothing after its deadline. */
#ifndef XLB_LIB_CAPTURE_H
#define XLB_LIB_CAPTURE_H

#include <stdbool.h>
#include <linux/types.h>

#include "xlb/capture.h"
#include "xlb/service.h"

struct xlb_capture;

struct xlb_capture_opts {
	const char *pin_dir;		/* the balancer's pins (xlbd's) */
	const struct xlb_vip_key *vip;	/* only this VIP's packets; NULL */
	const union xlb_addr *backend;	/* only those sent there; NULL */
	__u8 backend_family;
	__u32 sample;			/* 1 in sample; 0 or 1: every one */
	unsigned int seconds;		/* the capture build records no
					 * longer than this */
};

/* Called for each record; non-zero stops the poll and is returned. */
typedef int (*xlb_capture_cb)(const struct xlb_cap_rec *r, void *ctx);

/* Swap the capture build in. -ENOENT: no such VIP or backend, or no
 * balancer pinned there; -EBUSY: a capture runs (or its process died:
 * xlb_capture_restore). */
int xlb_capture_start(const struct xlb_capture_opts *o, xlb_capture_cb cb,
		      void *ctx, struct xlb_capture **out);
/* Deliver what the ring holds, waiting up to timeout_ms for the first:
 * how many, or the callback's value, or -errno. */
int xlb_capture_poll(struct xlb_capture *c, int timeout_ms);
/* Records the ring had no room for, over all CPUs. */
__u64 xlb_capture_lost(const struct xlb_capture *c);
/* Swap the balancer back (unless it was replaced meanwhile: *replaced
 * says so) and free c. */
int xlb_capture_stop(struct xlb_capture *c, bool *replaced);
/* Undo a capture whose process died: the saved balancer back in the link
 * if the link still runs a capture build. -ENOENT: none to undo. */
int xlb_capture_restore(const char *pin_dir);

#endif
