/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Packet capture (xlbctl capture): what the capture build of the balancer
 * (bpf/xlb_capture.bpf.c) records and how it is told what to record.
 * The normal build has none of it: capturing swaps the capture build into
 * the running link and back (user/lib/capture.c), so capture off costs
 * the data plane nothing. */
#ifndef XLB_CAPTURE_H
#define XLB_CAPTURE_H

#include <linux/types.h>

/* Bytes kept of each frame, as it came in and as it went out (a power of
 * 2: bpf/capture.h bounds a copy with a mask). */
#define XLB_CAP_SNAP		256
/* The ring records wait in for xlbctl: bounded, a full ring drops (the
 * loss is counted), it never slows the packet path. */
#define XLB_CAP_RING_BYTES	(4U << 20)
#define XLB_CAP_ANY		0xffffffffU

/* Beside the balancer's pins while a capture runs: the balancer it
 * replaced (user/lib/capture.c). */
#define XLB_CAP_SAVED_PIN	"capture_saved"

#define XLB_MAP_CAP_RING	xlb_cap_ring
#define XLB_MAP_CAP_CFG		xlb_cap_cfg
#define XLB_MAP_CAP_SCRATCH	xlb_cap_scratch

/* What to record (one entry, written by user space before the swap). */
struct xlb_cap_cfg {
	__u32 vip_id;		/* only packets sent for this VIP; ANY */
	__u32 backend;		/* only packets sent to this slot; ANY */
	__u32 sample;		/* 1 in sample of those (per CPU); 0, 1: all */
	__u32 pad;
	__u64 until_ns;		/* bpf_ktime_get_ns() deadline: after it the
				 * build records nothing (a capture whose
				 * xlbctl died stays idle, not costly) */
};

/* One packet: its frame in, its frame out (when sent), the action. */
struct xlb_cap_rec {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u32 in_len;		/* the frame's length as it came in */
	__u32 out_len;		/* as it went out; 0: not sent */
	__u16 in_cap;		/* bytes of it in in[] */
	__u16 out_cap;
	__u32 action;		/* XDP_PASS, XDP_TX, XDP_DROP, XDP_REDIRECT */
	__u32 backend;		/* the slot it went to; ANY: none */
	__u32 vip_id;		/* that slot's VIP; ANY: none */
	__u32 ifindex;		/* where it came in */
	__u8 in[XLB_CAP_SNAP];
	__u8 out[XLB_CAP_SNAP];
};

#endif
