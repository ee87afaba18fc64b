// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlb_pass: XDP_PASS and nothing else. Labs attach it to the receiving end
 * of a veth that xlb sends into with XDP_TX: a veth drops XDP frames unless
 * its peer runs NAPI, which an attached XDP program guarantees. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xlb_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
