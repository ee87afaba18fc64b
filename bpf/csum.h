/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Internet checksums (RFC 1071) over headers we write ourselves. The fold
 * is user space's too (xlb/csum.h, unit-tested). */
#ifndef XLB_BPF_CSUM_H
#define XLB_BPF_CSUM_H

#include "common.h"
#include "xlb/csum.h"

#define csum_fold xlb_csum_fold

static __always_inline_ void ipv4_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;
	int i;

	ip->check = 0;
#pragma unroll
	for (i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	ip->check = csum_fold(sum);
}

/* Sum of 16-bit words from p for len bytes (len even, at most max), with
 * every read checked against end so the verifier can follow. */
static __always_inline_ __u32 csum_add_bytes(__u32 sum, void *p, void *end,
					     __u32 len, const __u32 max)
{
	__u16 *w = p;
	__u32 i;

	for (i = 0; i < max / 2; i++) {
		if (i * 2 >= len || (void *)(w + i + 1) > end)
			break;
		sum += w[i];
	}
	return sum;
}

static __always_inline_ __u32 csum_add_addr6(__u32 sum, const __be32 *a)
{
	const __u16 *w = (const __u16 *)a;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++)
		sum += w[i];
	return sum;
}

#endif
