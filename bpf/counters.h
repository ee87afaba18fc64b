/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The outcome counters map (one u64 per enum xlb_counter, per CPU). Each
 * program object that includes this has its own. */
#ifndef XLB_BPF_COUNTERS_H
#define XLB_BPF_COUNTERS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_C_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} XLB_MAP_COUNTERS SEC(".maps");

_Static_assert(XLB_C_MAX <= XLB_C_SLOTS, "raise XLB_C_SLOTS");

static __always_inline_ void count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&XLB_MAP_COUNTERS, &c);

	if (v)
		*v += 1;
}

#endif
