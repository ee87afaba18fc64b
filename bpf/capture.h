/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The capture build's recording (include/xlb/capture.h): the frame is
 * copied as it comes in, the balancer runs, and if the packet matches the
 * filter and the sample, the frame as it leaves is copied beside it and
 * the record goes into the ring. Only in xlb_capture.bpf.o. */
#ifndef XLB_BPF_CAPTURE_H
#define XLB_BPF_CAPTURE_H

#include "common.h"
#include "maps.h"
#include "xlb/capture.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XLB_CAP_RING_BYTES);
} XLB_MAP_CAP_RING SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_cap_cfg);
} XLB_MAP_CAP_CFG SEC(".maps");

/* Per CPU: the record being made (too big for the stack), the sample
 * counter and the records the ring had no room for. */
struct cap_scratch {
	struct xlb_cap_rec rec;
	__u64 seen;
	__u64 lost;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cap_scratch);
} XLB_MAP_CAP_SCRATCH SEC(".maps");

/* Up to XLB_CAP_SNAP bytes of the frame into buf; how many. */
static __always_inline_ __u16 cap_copy(struct xdp_md *ctx, __u8 *buf,
				       __u32 *len)
{
	/* 64 bits: a 32-bit n is zero-extended into another register for
	 * the test than the one passed, whose bounds the verifier lacks. */
	__u64 n = ctx->data_end - ctx->data;

	*len = (__u32)n;
	if (n >= XLB_CAP_SNAP)
		return bpf_xdp_load_bytes(ctx, 0, buf, XLB_CAP_SNAP) ? 0 :
								XLB_CAP_SNAP;
	/* A mask the verifier follows (XLB_CAP_SNAP is a power of 2): a
	 * compare alone may land on another copy of n. */
	n &= XLB_CAP_SNAP - 1;
	asm volatile("" : "+r"(n));	/* this register, masked, is passed */
	if (!n || bpf_xdp_load_bytes(ctx, 0, buf, n))
		return 0;
	return (__u16)n;
}

/* The frame as it came in, while a capture runs; NULL otherwise. */
static __always_inline_ struct cap_scratch *cap_in(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xlb_cap_cfg *cfg = bpf_map_lookup_elem(&XLB_MAP_CAP_CFG, &zero);
	struct cap_scratch *s;

	if (!cfg || bpf_ktime_get_ns() > cfg->until_ns)
		return NULL;
	s = bpf_map_lookup_elem(&XLB_MAP_CAP_SCRATCH, &zero);
	if (!s)
		return NULL;
	s->rec.in_cap = cap_copy(ctx, s->rec.in, &s->rec.in_len);
	s->rec.ifindex = ctx->ingress_ifindex;
	return s;
}

/* What the balancer made of it: recorded if it matches. */
static __always_inline_ void cap_out(struct xdp_md *ctx, struct cap_scratch *s,
				     int action, __u32 slot)
{
	__u32 zero = 0, vip_id = XLB_CAP_ANY;
	struct xlb_cap_cfg *cfg = bpf_map_lookup_elem(&XLB_MAP_CAP_CFG, &zero);
	struct xlb_backend *be;

	if (!cfg)
		return;
	if (slot != XLB_CAP_ANY) {
		be = bpf_map_lookup_elem(&XLB_MAP_BACKENDS, &slot);
		if (be)
			vip_id = be->vip_id;
	}
	if ((cfg->backend != XLB_CAP_ANY && cfg->backend != slot) ||
	    (cfg->vip_id != XLB_CAP_ANY && cfg->vip_id != vip_id))
		return;
	if (cfg->sample > 1 && s->seen++ % cfg->sample)
		return;
	s->rec.out_cap = 0;
	s->rec.out_len = 0;
	if (action == XDP_TX || action == XDP_REDIRECT)
		s->rec.out_cap = cap_copy(ctx, s->rec.out, &s->rec.out_len);
	s->rec.ts_ns = bpf_ktime_get_ns();
	s->rec.action = action;
	s->rec.backend = slot;
	s->rec.vip_id = vip_id;
	if (bpf_ringbuf_output(&XLB_MAP_CAP_RING, &s->rec, sizeof(s->rec), 0))
		s->lost++;
}

#endif
