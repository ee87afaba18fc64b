// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Half-open TCP probes on raw sockets: see synprobe.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "addr.h"
#include "csum.h"
#include "synprobe.h"

#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_ACK		0x10
#define SYN_LEN		24	/* TCP header + MSS option */
#define IP4_LEN		20
#define BATCH		64
#define RX_LEN		128	/* IP (with options) + TCP headers */

/* SYNs waiting for one sendmmsg per family. */
struct txq {
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage to[BATCH];
	__u8 pkt[BATCH][IP4_LEN + SYN_LEN];	/* v4: IP header first */
	unsigned int n;
};

/* Replies read by one recvmmsg, handed out one by one. */
struct rxq {
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in6 from[BATCH];
	__u8 buf[BATCH][RX_LEN];
	char ctl[BATCH][CMSG_SPACE(sizeof(struct timespec))];
	unsigned int n, next;
};

struct synprobe {
	int fd4, fd6;			/* raw IPPROTO_TCP sockets */
	int route4;			/* UDP socket for source lookups */
	int hold[SYNPROBE_PORTS];	/* bound TCP sockets: the ports */
	__u16 port[SYNPROBE_PORTS];
	struct txq tx4, tx6;
	struct rxq rx4, rx6;
	__u16 ip_id;
};

/* Reserve a port for both families: a TCP socket bound to port 0 (the
 * kernel picks a free one) and never listening or connecting. */
static int hold_port(int *fd, __u16 *port)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int off = 0, err;

	*fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd >= 0) {
		setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		if (bind(*fd, (struct sockaddr *)&s6, sizeof(s6)))
			goto fail;
	} else {
		*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (*fd < 0 || bind(*fd, (struct sockaddr *)&s4, sizeof(s4)))
			goto fail;
	}
	if (getsockname(*fd, (struct sockaddr *)&ss, &sl))
		goto fail;
	*port = ntohs(ss.ss_family == AF_INET6 ?
			      ((struct sockaddr_in6 *)&ss)->sin6_port :
			      ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
fail:
	err = -errno;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return err;
}

/* Keep only replies to our ports that are SYN-ACKs or RSTs, so the raw
 * socket does not queue a copy of every TCP packet the host receives.
 * v4 sees the IP header first (x = its length), v6 the TCP header. */
static int attach_filter(int fd, const __u16 *ports, bool v4)
{
	struct sock_filter f[8 + 2 * SYNPROBE_PORTS];
	struct sock_fprog prog = { .filter = f };
	unsigned int n = 0, i;

	if (v4) {
		/* Fragments other than the first have no TCP header. */
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6);
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
						      0x1fff, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0);
	} else {
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_IMM, 0);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2);
	/* Port i matches: jump over the remaining compares and the drop. */
	for (i = 0; i < SYNPROBE_PORTS; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      ports[i],
						      SYNPROBE_PORTS - i, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
					      TCP_RST, 3, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K,
					      TCP_SYN | TCP_ACK);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					      TCP_SYN | TCP_ACK, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	prog.len = n;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog)) ? -errno : 0;
}

static int open_raw(int family, const __u16 *ports)
{
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			IPPROTO_TCP);
	int off = 16;	/* v6: the kernel fills the TCP checksum */

	/* A second of replies at 10,000 probes a second (~1 KiB each in
	 * the kernel), should the reader be held up. */
	int rcvbuf = 16 << 20;
	/* Replies are read in batches: their arrival time is the kernel's. */
	int on = 1;

	int err;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	/* v4 SYNs carry their own IP header: the kernel's shorter path
	 * (no corking, no ID generation), and the source is ours anyway. */
	if (family == AF_INET ?
		    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on)) :
		    setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off,
			       sizeof(off))) {
		err = -errno;
		goto fail;
	}
	err = attach_filter(fd, ports, family == AF_INET);
	if (err)
		goto fail;
	return fd;
fail:
	close(fd);
	return err;
}

void synprobe_close(struct synprobe *p)
{
	unsigned int i;

	if (!p)
		return;
	if (p->fd4 >= 0)
		close(p->fd4);
	if (p->fd6 >= 0)
		close(p->fd6);
	if (p->route4 >= 0)
		close(p->route4);
	for (i = 0; i < SYNPROBE_PORTS; i++)
		if (p->hold[i] >= 0)
			close(p->hold[i]);
	free(p);
}

int synprobe_open(struct synprobe **out)
{
	struct synprobe *p = calloc(1, sizeof(*p));
	unsigned int i;
	int err = 0;

	if (!p)
		return -ENOMEM;
	p->fd4 = p->fd6 = p->route4 = -1;
	for (i = 0; i < SYNPROBE_PORTS; i++)
		p->hold[i] = -1;
	for (i = 0; i < SYNPROBE_PORTS && !err; i++)
		err = hold_port(&p->hold[i], &p->port[i]);
	if (err)
		goto fail;
	p->fd4 = open_raw(AF_INET, p->port);
	p->fd6 = open_raw(AF_INET6, p->port);
	p->route4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd4 < 0 && p->fd6 < 0) {
		err = p->fd4;
		goto fail;
	}
	*out = p;
	return 0;
fail:
	synprobe_close(p);
	return err;
}

int synprobe_fd(const struct synprobe *p, __u8 family)
{
	return family == XLB_AF_INET ? p->fd4 : p->fd6;
}

__u16 synprobe_port(const struct synprobe *p, unsigned int i)
{
	return p->port[i % SYNPROBE_PORTS];
}

int synprobe_source(struct synprobe *p, const union xlb_addr *dst,
		    union xlb_addr *src)
{
	struct sockaddr_storage ss;
	socklen_t sl = xlb_sockaddr(dst, XLB_AF_INET, htons(9), &ss);

	if (p->route4 < 0)
		return -EBADF;
	/* A UDP connect routes and picks the source; nothing is sent. */
	if (connect(p->route4, (struct sockaddr *)&ss, sl) ||
	    getsockname(p->route4, (struct sockaddr *)&ss, &sl))
		return -errno;
	memset(src, 0, sizeof(*src));
	src->v4 = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
	return 0;
}

static void build_syn(__u8 *syn, __u16 sport, __u16 dport, __u32 seq)
{
	memset(syn, 0, SYN_LEN);
	syn[0] = sport >> 8;
	syn[1] = sport & 0xff;
	syn[2] = dport >> 8;
	syn[3] = dport & 0xff;
	syn[4] = seq >> 24;
	syn[5] = seq >> 16;
	syn[6] = seq >> 8;
	syn[7] = seq;
	syn[12] = (SYN_LEN / 4) << 4;
	syn[13] = TCP_SYN;
	syn[14] = 0xfa;		/* window 64240 */
	syn[15] = 0xf0;
	syn[20] = 2;		/* MSS 1460: some stacks want one */
	syn[21] = 4;
	syn[22] = 1460 >> 8;
	syn[23] = 1460 & 0xff;
}

/* The kernel fills the header checksum of IP_HDRINCL packets (and the ID
 * when it is 0: ours is never 0). */
static void ip4_header(__u8 *ip, const union xlb_addr *src,
		       const union xlb_addr *dst, __u16 id)
{
	memset(ip, 0, IP4_LEN);
	ip[0] = 0x45;
	ip[3] = IP4_LEN + SYN_LEN;
	ip[4] = id >> 8;
	ip[5] = id & 0xff;
	ip[6] = 0x40;		/* DF */
	ip[8] = 64;		/* TTL */
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &src->v4, 4);
	memcpy(ip + 16, &dst->v4, 4);
}

static int flush(int fd, struct txq *q)
{
	unsigned int done = 0;
	int n = 0;

	/* A message the kernel refuses (no route, say) is skipped: its
	 * probe times out. */
	while (done < q->n) {
		n = sendmmsg(fd, q->m + done, q->n - done, 0);
		done += n > 0 ? (unsigned int)n : 1;
	}
	q->n = 0;
	return n < 0 ? -errno : 0;
}

int synprobe_flush(struct synprobe *p)
{
	int a = p->tx4.n ? flush(p->fd4, &p->tx4) : 0;
	int b = p->tx6.n ? flush(p->fd6, &p->tx6) : 0;

	return a ? a : b;
}

int synprobe_send(struct synprobe *p, __u8 family, const union xlb_addr *src,
		  const union xlb_addr *dst, __u16 dport, __u16 sport,
		  __u32 seq)
{
	bool v4 = family == XLB_AF_INET;
	struct txq *q = v4 ? &p->tx4 : &p->tx6;
	int fd = v4 ? p->fd4 : p->fd6;
	unsigned int k, tolen;
	__u8 *syn;

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (q->n == BATCH)
		flush(fd, q);
	k = q->n++;
	syn = v4 ? q->pkt[k] + IP4_LEN : q->pkt[k];
	build_syn(syn, sport, dport, seq);
	/* Raw sockets take no port (v6: 0 or the protocol). */
	tolen = xlb_sockaddr(dst, family, 0, &q->to[k]);
	if (v4) {
		__u8 pseudo[12] = {};
		__u16 c;

		memcpy(pseudo, &src->v4, 4);
		memcpy(pseudo + 4, &dst->v4, 4);
		pseudo[9] = IPPROTO_TCP;
		pseudo[11] = SYN_LEN;
		c = xlb_csum_fold(xlb_csum_add(syn, SYN_LEN,
					       xlb_csum_add(pseudo, 12, 0)));
		memcpy(syn + 16, &c, 2);	/* memory order: see csum.h */
		if (!++p->ip_id)
			p->ip_id = 1;	/* 0 would have the kernel pick one */
		ip4_header(q->pkt[k], src, dst, p->ip_id);
	}
	/* v6: IPV6_CHECKSUM, the kernel fills it in. */
	q->iov[k] = (struct iovec){ .iov_base = q->pkt[k],
				    .iov_len = v4 ? IP4_LEN + SYN_LEN : SYN_LEN };
	q->m[k] = (struct mmsghdr){ .msg_hdr = {
		.msg_name = &q->to[k], .msg_namelen = tolen,
		.msg_iov = &q->iov[k], .msg_iovlen = 1 } };
	return 0;
}

static bool ours(const struct synprobe *p, __u16 port)
{
	unsigned int i;

	for (i = 0; i < SYNPROBE_PORTS; i++)
		if (p->port[i] == port)
			return true;
	return false;
}

/* Refill q from fd: the number of messages, 0 or -errno. */
static int refill(int fd, struct rxq *q)
{
	unsigned int k;
	int n;

	for (k = 0; k < BATCH; k++) {
		q->iov[k] = (struct iovec){ .iov_base = q->buf[k],
					    .iov_len = RX_LEN };
		q->m[k] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &q->from[k],
			.msg_namelen = sizeof(q->from[k]),
			.msg_iov = &q->iov[k], .msg_iovlen = 1,
			.msg_control = q->ctl[k],
			.msg_controllen = sizeof(q->ctl[k]) } };
	}
	n = recvmmsg(fd, q->m, BATCH, MSG_DONTWAIT, NULL);
	q->next = 0;
	q->n = n > 0 ? (unsigned int)n : 0;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return n;
}

static __u64 stamp_of(struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		}
	return 0;
}

int synprobe_recv(struct synprobe *p, int fd, struct synprobe_reply *r)
{
	struct rxq *q = fd == p->fd4 ? &p->rx4 : &p->rx6;

	for (;;) {
		struct msghdr *mh;
		const __u8 *buf, *tcp;
		size_t len;
		__u32 ack;
		int rc;

		if (q->next == q->n) {
			rc = refill(fd, q);
			if (rc <= 0)
				return rc;
		}
		mh = &q->m[q->next].msg_hdr;
		len = q->m[q->next].msg_len;
		buf = tcp = q->buf[q->next];
		q->next++;
		memset(r, 0, sizeof(*r));
		if (fd == p->fd4) {
			size_t ihl = (buf[0] & 0xf) * 4u;

			if (len < 20 || ihl < 20 || len < ihl + 20)
				continue;
			tcp = buf + ihl;
			r->family = XLB_AF_INET;
			memcpy(&r->from.v4, buf + 12, 4);
		} else {
			const struct sockaddr_in6 *s6 = mh->msg_name;

			if (len < 20 || s6->sin6_family != AF_INET6)
				continue;
			r->family = XLB_AF_INET6;
			memcpy(r->from.v6, &s6->sin6_addr, 16);
		}
		r->sport = (__u16)(tcp[0] << 8 | tcp[1]);
		r->dport = (__u16)(tcp[2] << 8 | tcp[3]);
		ack = (__u32)tcp[8] << 24 | (__u32)tcp[9] << 16 |
		      (__u32)tcp[10] << 8 | tcp[11];
		/* Only replies that acknowledge a SYN of ours. */
		if (!ours(p, r->dport) || !(tcp[13] & TCP_ACK))
			continue;
		if (tcp[13] & TCP_RST)
			r->open = false;
		else if ((tcp[13] & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
			r->open = true;
		else
			continue;
		r->seq = ack - 1;
		r->at = stamp_of(mh);
		return 1;
	}
}
