/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The decap program's maps, defined once; names and key types come from
 * xlb/decap.h. None is pinned: they live as long as the attached program,
 * and user space finds them through it (see xlb/decap.h). */
#ifndef XLB_BPF_DECAP_MAPS_H
#define XLB_BPF_DECAP_MAPS_H

#include "common.h"
#include "xlb/decap.h"

/* Settings: one entry, written before attach and on each re-attach. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_decap_config);
} XLB_MAP_DECAP_CFG SEC(".maps");

/* Outer destinations a tunnel may be sent to: this host's addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XLB_MAX_DECAP_DST);
	__type(key, struct xlb_decap_key);
	__type(value, __u8);
} XLB_MAP_DECAP_DST SEC(".maps");

/* Outer sources allowed (the balancers), read with XLB_DECAP_F_CHECK_SRC. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XLB_MAX_DECAP_SRC);
	__type(key, struct xlb_decap_key);
	__type(value, __u8);
} XLB_MAP_DECAP_SRC SEC(".maps");

/* Inner destinations this host holds (its addresses, VIPs on lo). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XLB_MAX_DECAP_INNER);
	__type(key, struct xlb_decap_key);
	__type(value, __u8);
} XLB_MAP_DECAP_INNER SEC(".maps");

/* One counter per enum xlb_decap_counter, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} XLB_MAP_DECAP_STATS SEC(".maps");

static __always_inline_ void decap_count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&XLB_MAP_DECAP_STATS, &c);

	if (v)
		*v += 1;
}

static __always_inline_ int in_set(void *set, const struct xlb_decap_key *k)
{
	return bpf_map_lookup_elem(set, k) != NULL;
}

#endif
