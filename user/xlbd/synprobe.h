/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Half-open TCP probes ("syn" health checks): a SYN goes out on a raw
 * socket, the backend's SYN-ACK (listening) or RST (closed) comes back on
 * the same raw socket, and the kernel, which owns no connection for it,
 * resets the half-open one. No socket, connect or close per check: this is
 * the check for thousands of backends a second.
 *
 * The source ports are reserved by bound (not listening) TCP sockets, so
 * no local connection can take them and replies to them find no socket.
 * The caller picks the sequence number and gets it back (ack - 1) with the
 * reply, which is how it finds the probe a reply belongs to. */
#ifndef XLB_SYNPROBE_H
#define XLB_SYNPROBE_H

#include <stdbool.h>
#include <linux/types.h>
#include "xlb/flow.h"

#define SYNPROBE_PORTS	8

struct synprobe;

struct synprobe_reply {
	__u8 family;			/* XLB_AF_INET or XLB_AF_INET6 */
	union xlb_addr from;
	__u16 sport, dport;		/* host order: backend's, ours */
	__u32 seq;			/* the probe's sequence number */
	bool open;			/* SYN-ACK: listening; else RST */
	__u64 at;			/* arrival, CLOCK_REALTIME ns (0: ?) */
};

/* Raw sockets for both families (either may fail alone: -errno when
 * neither opens, e.g. without CAP_NET_RAW). */
int synprobe_open(struct synprobe **out);
void synprobe_close(struct synprobe *p);

/* The descriptors to poll for replies (-1: that family is not open). */
int synprobe_fd(const struct synprobe *p, __u8 family);

/* One of the reserved source ports, by index modulo SYNPROBE_PORTS. */
__u16 synprobe_port(const struct synprobe *p, unsigned int i);

/* Queue a SYN to dst:dport from sport with sequence number seq; queued
 * SYNs leave in one sendmmsg when 64 are waiting or on synprobe_flush().
 * IPv4 needs the source address the route picks (for the checksum): src;
 * see synprobe_source(). Returns 0 or -errno (a SYN the kernel refuses
 * later is not reported: its probe times out). */
int synprobe_send(struct synprobe *p, __u8 family, const union xlb_addr *src,
		  const union xlb_addr *dst, __u16 dport, __u16 sport,
		  __u32 seq);

int synprobe_flush(struct synprobe *p);

/* The source address the kernel would use towards dst (IPv4 only; no
 * packet is sent). Returns 0 or -errno. */
int synprobe_source(struct synprobe *p, const union xlb_addr *dst,
		    union xlb_addr *src);

/* Read one reply from fd (batched: recvmmsg): 1 with *r filled, 0 when
 * nothing (more) is queued, -errno on an error. Anything that is not a reply to one of our
 * ports is skipped (the socket filter drops most of it before). */
int synprobe_recv(struct synprobe *p, int fd, struct synprobe_reply *r);

#endif
