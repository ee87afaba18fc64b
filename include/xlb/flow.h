/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Addresses and flows: the 5-tuple key of the flow table and what it maps to.
 * Shared by the BPF programs and user space; fixed-width types only. */
#ifndef XLB_FLOW_H
#define XLB_FLOW_H

#include <linux/types.h>

/* Address families as stored in keys (not AF_*, which BPF code lacks). */
enum xlb_family {
	XLB_AF_INET = 4,
	XLB_AF_INET6 = 6,
};

/* One address of either family. IPv4 lives in v4 (the first word), the other
 * three words are zero, so that a key compares equal byte for byte. */
union xlb_addr {
	__be32 v4;
	__be32 v6[4];
	__u8 bytes[16];
};

/* The flow table key: client to VIP, as seen on the wire. */
struct xlb_flow_key {
	union xlb_addr src;
	union xlb_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

/* The flow table value: which backend took the flow, and the generation of
 * that backend slot, so that a removed and reused slot is not mistaken for
 * the backend the flow started on. last_seen is the kernel's jiffies
 * (bpf_jiffies64(), which the verifier inlines into one load: a clock
 * helper call per packet cost ~25 ns here); user space turns it into an
 * age with the kernel's HZ. */
struct xlb_flow {
	__u32 backend;
	__u32 gen;
	__u64 last_seen;
};

#endif
