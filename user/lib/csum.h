/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The Internet checksum (RFC 1071) for packets user space builds: the SYN
 * probes and the bench's frames. Words are summed in memory order, so the
 * folded result is stored as it is, with no byte swap, on any host. */
#ifndef XLB_CSUM_H
#define XLB_CSUM_H

#include <stddef.h>
#include <string.h>
#include <linux/types.h>

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

/* The checksum field's value: the sum folded to 16 bits, complemented. */
static inline __u16 xlb_csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#endif
