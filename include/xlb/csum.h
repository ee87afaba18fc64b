/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The Internet checksum (RFC 1071), one definition for the BPF programs
 * (bpf/csum.h builds on it) and user space (the SYN probes, the bench's
 * frames), unit-tested in tests/unit/test_csum.c. Words are summed in
 * memory order, so the folded result is stored as it is, with no byte
 * swap, on any host. */
#ifndef XLB_CSUM_H
#define XLB_CSUM_H

#include <linux/types.h>

/* The checksum field's value: a sum of 16-bit words folded to 16 bits,
 * complemented. Two folds are enough for any 32-bit sum: the first leaves
 * at most 0x1fffe, the second at most 0xffff. No loop, for the verifier. */
static inline __attribute__((always_inline)) __u16 xlb_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#ifndef __bpf__
#include <stddef.h>
#include <string.h>

/* Add n bytes at p to a running sum (an odd last byte padded with 0). */
static inline __u32 xlb_csum_add(const void *p, size_t n, __u32 sum)
{
	const __u8 *b = p;
	__u16 w;

	for (; n > 1; n -= 2, b += 2) {
		memcpy(&w, b, 2);
		sum += w;
	}
	if (n) {
		w = 0;
		memcpy(&w, b, 1);
		sum += w;
	}
	return sum;
}
#endif

#endif
