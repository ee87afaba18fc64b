// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Benchmark helpers, not part of the product.
 *
 * With BPF_PROG_TEST_RUN and repeat=N the kernel runs the program again on
 * the frame it already rewrote, so an encapsulating program would measure
 * its own output from the second iteration on. bench_wrap restores the
 * original frame before every iteration (and for new-flow rows gives each
 * one a new source port), then tail-calls the program under test. The
 * floors - XDP_TX, a minimal forwarder, a minimal IPIP encapsulator - run
 * behind the same wrapper, so the wrapper's cost is in every row alike.
 * Floods (xlb-bench flood) use the same wrapper with a random source port
 * and source address bits per iteration. live_gen is the frame generator for BPF_F_TEST_XDP_LIVE_FRAMES and
 * count_rx counts (and drops) what comes back. */
#include "common.h"
#include "csum.h"
#include "parse.h"
#include "encap.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define BENCH_FRAME	128

/* Set by user space before each run. */
__u8 frame[BENCH_FRAME];
__u32 sport_off;		/* offset of the TCP/UDP source port */
__u32 saddr_off;		/* offset of the last 2 bytes of the source */
__u32 vary_sport;		/* new 5-tuple every iteration */
__u32 vary_random;		/* ... drawn at random (floods) */
__u32 vary_pairs;		/* ... each tuple twice in a row (floods) */
__u32 sport_next;
__u64 hits;			/* floor_fwd lookups that found the flow */
__u64 rx;			/* count_rx */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_progs SEC(".maps");

/* The forwarder floor's flow table: same key and map type as xlb's. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_flow);
} floor_flows SEC(".maps");

static __always_inline_ int restore_frame(struct xdp_md *ctx)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	int delta = (int)(end - data) - BENCH_FRAME;

	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return -1;
	data = PKT(ctx);
	end = PKT_END(ctx);
	if (data + BENCH_FRAME > end)
		return -1;
	__builtin_memcpy(data, frame, BENCH_FRAME);
	if (vary_sport) {
		__be16 *sport = data + (sport_off & 0x7f);
		__be16 *saddr = data + (saddr_off & 0x7f);
		__u32 n = sport_next++;

		/* Odd multiplier: distinct pairs, scattered like random. */
		if (vary_pairs)
			n = (n >> 1) * 0x9e3779b1U + hits;
		else if (vary_random)
			n = bpf_get_prandom_u32();

		if ((void *)(sport + 1) > end || (void *)(saddr + 1) > end)
			return -1;
		/* 2^32 distinct flows before a 5-tuple comes back. */
		*sport = bpf_htons(n & 0xffff);
		*saddr = bpf_htons(n >> 16);
	}
	return 0;
}

SEC("xdp")
int bench_wrap(struct xdp_md *ctx)
{
	if (restore_frame(ctx))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &bench_progs, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int floor_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

/* Minimal forwarder: Ethernet/IPv4/TCP parse, 5-tuple lookup, MAC swap. */
SEC("xdp")
int floor_fwd(struct xdp_md *ctx)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);
	struct xlb_flow_key k = {};
	__u8 mac[ETH_ALEN];

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	k.src.v4 = ip->saddr;
	k.dst.v4 = ip->daddr;
	k.sport = th->source;
	k.dport = th->dest;
	k.proto = ip->protocol;
	k.family = XLB_AF_INET;
	if (!bpf_map_lookup_elem(&floor_flows, &k))
		return XDP_DROP;
	hits++;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	return XDP_TX;
}

/* Minimal IPIP encapsulator with fixed outer addresses. */
SEC("xdp")
int floor_ipip(struct xdp_md *ctx)
{
	struct ethhdr *eth;
	struct iphdr *ip, *inner;
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*ip)))
		return XDP_ABORTED;
	data = PKT(ctx);
	end = PKT_END(ctx);
	eth = data;
	ip = data + ETH_HLEN;
	inner = (void *)(ip + 1);
	if ((void *)(inner + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(eth, data + sizeof(*ip), ETH_HLEN);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(*ip));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_IPIP;
	ip->saddr = bpf_htonl(0xc612000a);	/* 198.18.0.10 */
	ip->daddr = bpf_htonl(0xc6120201);	/* 198.18.2.1 */
	ipv4_csum(ip);
	return XDP_TX;
}

/* Backend addresses of the balancer floors: [0] IPv4, [1] IPv6. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, union xlb_addr);
} floor_backends SEC(".maps");

/* The backend address of flow k, or NULL. */
static __always_inline_ const union xlb_addr *
floor_backend(const struct xlb_flow_key *k)
{
	struct xlb_flow *f = bpf_map_lookup_elem(&floor_flows, k);

	return f ? bpf_map_lookup_elem(&floor_backends, &f->backend) : NULL;
}

/* The frame grown by hdr bytes, its Ethernet header moved to the front
 * with its addresses swapped (the frame goes back the way it came): where
 * the outer header goes, or NULL. */
static __always_inline_ void *floor_grow(struct xdp_md *ctx, __u32 hdr)
{
	void *data, *end;
	__u8 mac[ETH_ALEN];

	if (bpf_xdp_adjust_head(ctx, -(int)hdr))
		return NULL;
	data = PKT(ctx);
	end = PKT_END(ctx);
	if (data + hdr + ETH_HLEN > end ||
	    data + ETH_HLEN + sizeof(struct ipv6hdr) > end)
		return NULL;
	eth_copy(data, data + hdr);
	__builtin_memcpy(mac, data, ETH_ALEN);
	mac_copy(data, data + ETH_ALEN);
	mac_copy(data + ETH_ALEN, mac);
	return data + ETH_HLEN;
}

/* The least a balancer does for an established IPv4 flow: parse, find
 * the flow, read its backend's address, encapsulate (IPIP), send back.
 * No VIP filter, counters, flow states, slot checks, VLANs or options: a
 * bound for scale, which no balancer with those reaches. The outer header
 * is xlb's own (encap.h). */
SEC("xdp")
int floor_lb4(struct xdp_md *ctx)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1), *outer;
	struct tcphdr *th = (void *)(ip + 1);
	const union xlb_addr *be;
	struct xlb_flow_key k = {};
	__u32 len;

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	k.src.v4 = ip->saddr;
	k.dst.v4 = ip->daddr;
	k.sport = th->source;
	k.dport = th->dest;
	k.proto = ip->protocol;
	k.family = XLB_AF_INET;
	be = floor_backend(&k);
	if (!be)
		return XDP_DROP;
	len = bpf_ntohs(ip->tot_len) + sizeof(*outer);
	outer = floor_grow(ctx, sizeof(*outer));
	if (!outer)
		return XDP_ABORTED;
	write_outer4(outer, 0, 64, bpf_htonl(0xc612000a),	/* 198.18.0.10 */
		     be->v4, len, IPPROTO_IPIP);
	hits++;
	return XDP_TX;
}

/* The same for IPv6 in IPv6. */
SEC("xdp")
int floor_lb6(struct xdp_md *ctx)
{
	void *data = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1), *outer;
	struct tcphdr *th = (void *)(ip6 + 1);
	union xlb_addr src = { .v6 = { bpf_htonl(0x20010db8), 0, 0,
				       bpf_htonl(0x10) } };	/* 2001:db8::10 */
	const union xlb_addr *be;
	struct xlb_flow_key k = {};
	__u32 len;

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	addr6_copy(&k.src, &ip6->saddr);
	addr6_copy(&k.dst, &ip6->daddr);
	k.sport = th->source;
	k.dport = th->dest;
	k.proto = ip6->nexthdr;
	k.family = XLB_AF_INET6;
	be = floor_backend(&k);
	if (!be)
		return XDP_DROP;
	len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len) + sizeof(*outer);
	outer = floor_grow(ctx, sizeof(*outer));
	if (!outer)
		return XDP_ABORTED;
	write_outer6(outer, 0, 64, 0, &src, be, len, IPPROTO_IPV6);
	hits++;
	return XDP_TX;
}

/* Live-frames generator: the page may hold an old frame; write ours. */
SEC("xdp")
int live_gen(struct xdp_md *ctx)
{
	if (restore_frame(ctx))
		return XDP_ABORTED;
	return XDP_TX;
}

SEC("xdp")
int count_rx(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&rx, 1);
	return XDP_DROP;
}
