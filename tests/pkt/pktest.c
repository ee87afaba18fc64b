// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlb-pktest: runs packet fixtures through the balancer and the decap
 * program with BPF_PROG_TEST_RUN and compares verdicts and bytes exactly.
 *
 * Fixtures are lines (tests/pkt/gen_fixtures.py writes them with scapy):
 *   reset [flows=N] [ring=N]         fresh programs and maps
 *   config KEY=VAL...                src4 src6 gw mtu icmp rate gue fib
 *   vip VIP mode=ipip|gue|l2 [algo=NAME]  VIP as 198.18.1.1:80/tcp
 *   vip-del VIP
 *   backend VIP ADDR [weight=N] [mac=MAC]
 *   backend-del VIP ADDR
 *   weight VIP ADDR N
 *   run NAME lb|decap VERDICT HEXIN HEXOUT   HEXOUT '=' same as in, '*' any
 *   counter NAME N                   balancer counter total since reset
 *   decap-counter NAME N             decap counter total since reset
 *   decap-config KEY=VAL...          outer= balancers= inner= (comma lists
 *                                    of ADDR[/LEN]) gue=PORT reject=pass|drop
 *   flows N                          flow table entries
 *   traffic VIP [ADDR] new=N|A..B    new flows of a VIP or one backend
 *   conns VIP ADDR N|set=N           the backend's active connections as the
 *                                    data plane counts them (or set them)
 *   ingress IFNAME                   later runs arrive on IFNAME (FIB tests)
 *   health VIP ADDR up|down          a backend's health (xlb_vip_update)
 *   flows-zero                       every flow's value zeroed (gen 0)
 *   cpu N|any                        later runs on CPU N only (per-CPU
 *                                    state such as rr's position), or on any
 *   ring-prev-drop                   every VIP's previous ring dropped
 *   weights VIP ADDR=W...            several weights, one ring build
 *   sync-export N [all]              N entries a peer needs (all: live)
 *   sync-import N                    the last export imported: N new
 *   flows-clear                      both flow tables emptied
 *   race VIP ADDR1 ADDR2 MS HEXIN    for MS ms a thread swaps the VIP's one
 *                                    (IPv4, IPIP) backend between ADDR1 and
 *                                    ADDR2 (del, add: one slot) while HEXIN
 *                                    runs again and again: every tx must
 *                                    go to ADDR1 or ADDR2, never a mix
 *   slot-mid VIP ADDR                the backend's slot as a rewrite that
 *                                    frees it shows it midway: seq odd,
 *                                    flags still ACTIVE, address zeroed
 * Flow tables (the "flow table" section below):
 *   vip VIP ... [flowtable=off] [udp-idle=N]   per-VIP flow settings
 *   vip-set VIP [flowtable=off] [udp-idle=N]   change them (xlb_vip_set_opts)
 *   flows N                          entries in both tables
 *   confirmed N                      entries in the (confirmed) flow table
 *   flow TCP|UDP SRC:PORT VIP:PORT confirmed|unconfirmed|none [state=S]
 *        [idle=N] [backend=ADDR]     one entry as it stands
 *   flow-age TCP|UDP SRC:PORT VIP:PORT SECONDS   make an entry that old
 *   backends [>=]N TCP|UDP VIP:PORT SRC:PORT...  the entries of these
 *                                    flows name N (at least N) backends
 *   frags N                          fragments in flight (xlb_frags)
 *   ! COMMAND ...                    COMMAND must fail (bad settings)
 * Prints "ok NAME" or "FAIL NAME: why", then "pktest: N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "addr.h"
#include "decap.h"
#include "flowsync.h"
#include "settings.h"
#include "xlb.h"
#include "xlb_decap.skel.h"

#define MAX_PKT		9000
#define MAX_ARGS	32

struct runner {
	struct xlb *lb;
	struct xlb_decap_bpf *decap;
	struct xlb_decap_maps dmaps;
	struct xlb_config cfg;
	int passed, failed;
	int line;
	int ifindex;		/* ingress for test runs; 0: loopback */
	struct xlb_sync_flow *sync;	/* the last sync-export */
	size_t nsync;
};

static void fail(struct runner *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct runner *r, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s (line %d): ", name, r->line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	r->failed++;
}

static void pass(struct runner *r, const char *name)
{
	printf("ok %s\n", name);
	r->passed++;
}

static int unhex(const char *s, __u8 *out, size_t max)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (__u8)b;
	}
	return (int)(n / 2);
}

static void hexdump(const char *tag, const __u8 *p, size_t n)
{
	size_t i;

	printf("    %s (%zu bytes):", tag, n);
	for (i = 0; i < n; i++)
		printf("%s%02x", i % 16 ? " " : "\n      ", p[i]);
	printf("\n");
}

static void hexline(const __u8 *p, size_t n)
{
	while (n--)
		printf("%02x", *p++);
	printf("\n");
}

static const char *opt(char **argv, int argc, const char *key)
{
	size_t kl = strlen(key);
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], key, kl) && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	return NULL;
}

static int do_reset(struct runner *r, char **argv, int argc)
{
	struct xlb_opts o = {};
	const char *v;
	int err;

	xlb_close(r->lb);
	r->lb = NULL;
	xlb_decap_maps_close(&r->dmaps);
	xlb_decap_bpf__destroy(r->decap);
	r->decap = NULL;
	if ((v = opt(argv, argc, "flows")))
		o.flow_entries = strtoul(v, NULL, 0);
	if ((v = opt(argv, argc, "ring")))
		o.ring_size = strtoul(v, NULL, 0);
	err = xlb_open(&r->lb, &o);
	if (err)
		return err;
	r->decap = xlb_decap_bpf__open_and_load();
	if (!r->decap)
		return -errno;
	err = xlb_decap_maps_of(bpf_program__fd(r->decap->progs.xlb_decap),
				&r->dmaps);
	if (err)
		return err;
	xlb_config_defaults(&r->cfg);
	r->cfg.flags |= XLB_CFG_F_NO_FIB;
	return xlb_set_config(r->lb, &r->cfg);
}

static int do_config(struct runner *r, char **argv, int argc)
{
	struct xlb_config *c = &r->cfg;
	union xlb_addr a;
	const char *v;
	__u8 fam;

	if ((v = opt(argv, argc, "src4"))) {
		if (xlb_parse_addr(v, &a, &fam) || fam != XLB_AF_INET)
			return -EINVAL;
		c->src4 = a.v4;
		c->flags |= XLB_CFG_F_HAS_SRC4;
	}
	if ((v = opt(argv, argc, "src6"))) {
		if (xlb_parse_addr(v, &a, &fam) || fam != XLB_AF_INET6)
			return -EINVAL;
		memcpy(c->src6, a.v6, 16);
		c->flags |= XLB_CFG_F_HAS_SRC6;
	}
	if ((v = opt(argv, argc, "gw"))) {
		if (xlb_parse_mac(v, c->gw_mac))
			return -EINVAL;
		c->flags |= XLB_CFG_F_HAS_GW;
	}
	if ((v = opt(argv, argc, "mtu")))
		c->mtu = strtoul(v, NULL, 0);
	if ((v = opt(argv, argc, "rate")))
		c->icmp_rate = strtoul(v, NULL, 0);
	if ((v = opt(argv, argc, "gue")))
		c->gue_port = htons(strtoul(v, NULL, 0));
	if ((v = opt(argv, argc, "icmp")))
		c->flags = atoi(v) ? c->flags | XLB_CFG_F_ICMP_TOO_BIG :
				     c->flags & ~XLB_CFG_F_ICMP_TOO_BIG;
	if ((v = opt(argv, argc, "fib")))
		c->flags = atoi(v) ? c->flags & ~XLB_CFG_F_NO_FIB :
				     c->flags | XLB_CFG_F_NO_FIB;
	return xlb_set_config(r->lb, c);
}

/* The decap program's sets and settings, written as xlbctl writes them. */
static int do_decap_config(struct runner *r, char **argv, int argc)
{
	static const char *const sets[] = { "outer", "balancers", "inner" };
	struct xlb_decap_conf c = { .gue_port = XLB_GUE_PORT_DEFAULT };
	struct xlb_prefix_set *set[] = { &c.outer, &c.balancers, &c.inner };
	const char *v;
	size_t i;
	int err = 0;

	for (i = 0; i < 3 && !err; i++)
		if ((v = opt(argv, argc, sets[i])))
			err = xlb_prefix_list(v, set[i]);
	if ((v = opt(argv, argc, "gue")))
		c.gue_port = strtoul(v, NULL, 0);
	if ((v = opt(argv, argc, "reject")) &&
	    xlb_decap_parse_reject(v, &c.drop))
		err = -EINVAL;
	if (!err)
		err = xlb_decap_write(&r->dmaps, &c);
	xlb_decap_conf_free(&c);
	return err;
}

static int parse_mode(const char *s, __u8 *mode)
{
	if (!s || !strcmp(s, "ipip"))
		*mode = XLB_MODE_IPIP;
	else if (!strcmp(s, "gue"))
		*mode = XLB_MODE_GUE;
	else if (!strcmp(s, "l2"))
		*mode = XLB_MODE_L2;
	else
		return -EINVAL;
	return 0;
}

/* ---- flow table ---- */

static int map_count(struct runner *r, const char *name);

static int vip_opts(char **argv, int argc, struct xlb_vip_opts *o)
{
	const char *v;

	memset(o, 0, sizeof(*o));
	if ((v = opt(argv, argc, "flowtable")))
		o->no_flowtable = !strcmp(v, "off");
	if ((v = opt(argv, argc, "udp-idle")))
		o->udp_idle_s = strtoul(v, NULL, 0);
	return 0;
}

/* "tcp 198.19.0.1:1111 198.18.1.1:80" as a flow key. */
static int flow_key_of(char **argv, struct xlb_flow_key *fk)
{
	struct xlb_vip_key s, d;
	char a[80], b[80];

	snprintf(a, sizeof(a), "%s/%s", argv[1], argv[0]);
	snprintf(b, sizeof(b), "%s/%s", argv[2], argv[0]);
	if (xlb_parse_vip(a, &s) || xlb_parse_vip(b, &d) ||
	    s.family != d.family)
		return -EINVAL;
	memset(fk, 0, sizeof(*fk));
	fk->src = s.addr;
	fk->dst = d.addr;
	fk->sport = s.port;
	fk->dport = d.port;
	fk->proto = s.proto;
	fk->family = s.family;
	return 0;
}

static int table_fd(struct runner *r, bool confirmed)
{
	return bpf_object__find_map_fd_by_name(xlb_object(r->lb),
		confirmed ? XLB_STR(XLB_MAP_FLOWS) : XLB_STR(XLB_MAP_FLOWS_NEW));
}

static const char *const state_names[] = { "unconfirmed", "established",
					   "fin" };

static const char *entry_check(struct runner *r, char **argv, int argc,
			       const struct xlb_flow *f)
{
	static char why[128];
	struct xlb_backend be;
	const char *v;
	__u32 slot = f->backend;

	if ((v = opt(argv, argc, "state")) &&
	    (f->state >= 3 || strcmp(v, state_names[f->state])))
		snprintf(why, sizeof(why), "state %u, want %s", f->state, v);
	else if ((v = opt(argv, argc, "idle")) && f->idle_s != atoi(v))
		snprintf(why, sizeof(why), "idle bound %u, want %s", f->idle_s,
			 v);
	else if ((v = opt(argv, argc, "backend"))) {
		union xlb_addr a;
		__u8 fam;

		if (xlb_parse_addr(v, &a, &fam) ||
		    bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(
				xlb_object(r->lb), XLB_STR(XLB_MAP_BACKENDS)),
				&slot, &be) ||
		    memcmp(&be.addr, &a, sizeof(a)))
			snprintf(why, sizeof(why), "backend slot %u, want %s",
				 slot, v);
		else
			return NULL;
	} else
		return NULL;
	return why;
}

static void do_flow(struct runner *r, char **argv, int argc)
{
	struct xlb_flow_key k;
	struct xlb_flow c, u;
	bool in_c, in_u;
	const char *why = NULL, *want = argc > 3 ? argv[3] : "";

	if (argc < 4 || flow_key_of(argv, &k)) {
		fail(r, "flow", "usage: flow PROTO SRC DST TABLE ...");
		return;
	}
	in_c = !bpf_map_lookup_elem(table_fd(r, true), &k, &c);
	in_u = !bpf_map_lookup_elem(table_fd(r, false), &k, &u);
	if (!strcmp(want, "none"))
		why = in_c || in_u ? "entry present, want none" : NULL;
	else if (!strcmp(want, "confirmed"))
		why = !in_c ? "not in the flow table" :
		      in_u ? "also unconfirmed" : entry_check(r, argv, argc, &c);
	else if (!strcmp(want, "unconfirmed"))
		why = !in_u ? "not unconfirmed" :
		      in_c ? "also confirmed" : entry_check(r, argv, argc, &u);
	else
		why = "table must be confirmed, unconfirmed or none";
	if (why)
		fail(r, "flow", "%s %s %s: %s", argv[0], argv[1], argv[2], why);
	else
		pass(r, "flow");
}

/* Move an entry's last packet SECONDS into the past. */
static int do_flow_age(struct runner *r, char **argv, int argc)
{
	struct xlb_flow_key k;
	struct xlb_flow f;
	unsigned int hz;
	int i, fd, found = 0;

	if (argc < 4 || flow_key_of(argv, &k) || xlb_kernel_hz(&hz))
		return -EINVAL;
	for (i = 0; i < 2; i++) {
		fd = table_fd(r, i);
		if (bpf_map_lookup_elem(fd, &k, &f))
			continue;
		f.last_seen -= (__u64)strtoul(argv[3], NULL, 0) * hz;
		if (bpf_map_update_elem(fd, &k, &f, BPF_EXIST))
			return -errno;
		found++;
	}
	return found ? 0 : -ENOENT;
}

/* How many distinct backends the entries of the flows SRC... -> DST name
 * (each flow must have one entry). */
static void do_backends(struct runner *r, char **argv, int argc)
{
	__u32 seen[XLB_MAX_BACKENDS / 32 + 1] = {};
	bool atleast = argc && !strncmp(argv[0], ">=", 2);
	int i, n = 0, want = argc ? atoi(argv[0] + (atleast ? 2 : 0)) : -1;
	struct xlb_flow_key k;
	struct xlb_flow f;

	if (argc < 4) {
		fail(r, "backends", "usage: backends N PROTO DST SRC...");
		return;
	}
	for (i = 3; i < argc; i++) {
		char *kv[3] = { argv[1], argv[i], argv[2] };

		if (flow_key_of(kv, &k) ||
		    (bpf_map_lookup_elem(table_fd(r, true), &k, &f) &&
		     bpf_map_lookup_elem(table_fd(r, false), &k, &f)) ||
		    f.backend >= XLB_MAX_BACKENDS) {
			fail(r, "backends", "%s: no entry", argv[i]);
			return;
		}
		if (!(seen[f.backend / 32] & (1U << (f.backend % 32))))
			n++;
		seen[f.backend / 32] |= 1U << (f.backend % 32);
	}
	if (atleast ? n < want : n != want)
		fail(r, "backends", "%d flows name %d backends, want %s",
		     argc - 3, n, argv[0]);
	else
		pass(r, "backends");
}

static void do_confirmed(struct runner *r, char **argv, int argc)
{
	int n = map_count(r, XLB_STR(XLB_MAP_FLOWS));
	int want = argc ? atoi(argv[0]) : -1;

	if (n != want)
		fail(r, "confirmed", "%d entries, want %d", n, want);
	else
		pass(r, "confirmed");
}

/* ---- end of flow table ---- */

static int do_vip(struct runner *r, char **argv, int argc)
{
	struct xlb_vip_opts o;
	struct xlb_vip_key k;
	__u8 mode;
	int algo;

	if (argc < 1 || xlb_parse_vip(argv[0], &k) ||
	    parse_mode(opt(argv, argc, "mode"), &mode))
		return -EINVAL;
	if (!strcmp(argv[-1], "vip-del"))
		return xlb_vip_del(r->lb, &k);
	if (vip_opts(argv, argc, &o))
		return -EINVAL;
	if (!strcmp(argv[-1], "vip-set"))
		return xlb_vip_set_opts(r->lb, &k, &o);
	algo = settings_lookup(&settings_algo, opt(argv, argc, "algo") ?:
							 "maglev");
	if (algo < 0)
		return -EINVAL;
	return xlb_vip_add_opts(r->lb, &k, mode, (__u8)algo, &o);
}

static int do_backend(struct runner *r, char **argv, int argc)
{
	struct xlb_backend_spec b = { .weight = 1 };
	struct xlb_vip_key k;
	const char *v;

	if (argc < 2 || xlb_parse_vip(argv[0], &k) ||
	    xlb_parse_addr(argv[1], &b.addr, &b.family))
		return -EINVAL;
	if (!strcmp(argv[-1], "backend-del"))
		return xlb_backend_del(r->lb, &k, &b.addr, b.family);
	if (!strcmp(argv[-1], "weight"))
		return argc < 3 ? -EINVAL :
		       xlb_backend_set_weight(r->lb, &k, &b.addr, b.family,
					      strtoul(argv[2], NULL, 0));
	if ((v = opt(argv, argc, "weight")))
		b.weight = strtoul(v, NULL, 0);
	if ((v = opt(argv, argc, "mac"))) {
		if (xlb_parse_mac(v, b.mac))
			return -EINVAL;
		b.has_mac = true;
	}
	return xlb_backend_add(r->lb, &k, &b);
}

static const char *verdict_name(__u32 v)
{
	static const char *const names[] = { "aborted", "drop", "pass", "tx",
					     "redirect" };

	return v < 5 ? names[v] : "?";
}

static void do_run(struct runner *r, char **argv, int argc)
{
	static __u8 in[MAX_PKT], want[MAX_PKT], out[MAX_PKT + 256];
	const char *name = argc > 0 ? argv[0] : "?";
	int nin, nwant = -1, fd;
	struct xdp_md ctx = {};
	LIBBPF_OPTS(bpf_test_run_opts, t);

	if (argc < 5) {
		fail(r, name, "run needs NAME PROG VERDICT IN OUT");
		return;
	}
	nin = unhex(argv[3], in, sizeof(in));
	if (!strcmp(argv[4], "="))
		memcpy(want, in, nwant = nin);
	else if (strcmp(argv[4], "*"))
		nwant = unhex(argv[4], want, sizeof(want));
	if (nin < 0 || (nwant < 0 && strcmp(argv[4], "*"))) {
		fail(r, name, "bad hex");
		return;
	}
	fd = !strcmp(argv[1], "decap") ?
		     bpf_program__fd(r->decap->progs.xlb_decap) :
		     xlb_prog_fd(r->lb);
	t.data_in = in;
	t.data_size_in = nin;
	t.data_out = out;
	t.data_size_out = sizeof(out);
	t.repeat = 1;
	if (r->ifindex) {
		ctx.data_end = nin;
		ctx.ingress_ifindex = r->ifindex;
		t.ctx_in = &ctx;
		t.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(fd, &t)) {
		fail(r, name, "test run: %s", strerror(errno));
		return;
	}
	if (getenv("XLB_PKTEST_SHOW"))
		printf("out %s %s %s ", name, verdict_name(t.retval), argv[3]),
			hexline(out, t.data_size_out);
	if (strcmp(verdict_name(t.retval), argv[2])) {
		fail(r, name, "verdict %s, want %s", verdict_name(t.retval),
		     argv[2]);
		hexdump("got", out, t.data_size_out);
		return;
	}
	if (nwant >= 0 && ((int)t.data_size_out != nwant ||
			   memcmp(out, want, nwant))) {
		size_t i;

		for (i = 0; i < t.data_size_out && (int)i < nwant; i++)
			if (out[i] != want[i])
				break;
		fail(r, name, "bytes differ at offset %zu", i);
		hexdump("got", out, t.data_size_out);
		hexdump("want", want, nwant);
		return;
	}
	pass(r, name);
}


static int decap_counter_index(const char *name)
{
	int i;

	for (i = 0; i < XLB_DC_MAX; i++)
		if (!strcmp(xlb_decap_counter_names[i], name))
			return i;
	return -1;
}

static void do_counter(struct runner *r, char **argv, int argc, bool decap)
{
	__u64 vals[XLB_C_MAX + XLB_DC_MAX], want;
	char name[96];
	int i = -1, err;

	if (argc >= 2)
		i = decap ? decap_counter_index(argv[0]) :
			    xlb_counter_index(argv[0]);
	if (i < 0) {
		fail(r, argc ? argv[0] : "?", "unknown counter");
		return;
	}
	snprintf(name, sizeof(name), "%scounter %s", decap ? "decap-" : "",
		 argv[0]);
	want = strtoull(argv[1], NULL, 0);
	if (decap)
		err = xlb_decap_counters(&r->dmaps, vals);
	else
		err = xlb_counters_read(r->lb, vals);
	if (err)
		fail(r, name, "read: %s", strerror(-err));
	else if (vals[i] != want)
		fail(r, name, "is %llu, want %llu",
		     (unsigned long long)vals[i], (unsigned long long)want);
	else
		pass(r, name);
}

/* Entries of a map of the balancer, whatever its key. */
static int map_count(struct runner *r, const char *name)
{
	__u8 k[256], next[256];
	int fd, n = 0;
	void *prev = NULL;

	fd = bpf_object__find_map_fd_by_name(xlb_object(r->lb), name);
	if (fd < 0)
		return -1;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, sizeof(k));
		prev = k;
		n++;
	}
	return n;
}

/* "frags N": fragments in flight (xlb_frags entries). */
static void do_frags(struct runner *r, char **argv, int argc)
{
	int n = map_count(r, XLB_STR(XLB_MAP_FRAGS));
	int want = argc ? atoi(argv[0]) : -1;

	if (n != want)
		fail(r, "frags", "%d entries, want %d", n, want);
	else
		pass(r, "frags");
}

static int flow_count(struct runner *r)
{
	return map_count(r, XLB_STR(XLB_MAP_FLOWS)) +
	       map_count(r, XLB_STR(XLB_MAP_FLOWS_NEW));
}

static int do_health(struct runner *r, char **argv, int argc)
{
	struct xlb_backend_spec *all, b;
	struct xlb_vip_key k;
	int n, i, err = -ENOENT;

	if (argc < 3 || xlb_parse_vip(argv[0], &k) ||
	    xlb_parse_addr(argv[1], &b.addr, &b.family))
		return -EINVAL;
	all = calloc(XLB_MAX_BACKENDS, sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = xlb_vip_backends(r->lb, &k, all, XLB_MAX_BACKENDS);
	for (i = 0; i < n; i++)
		if (all[i].family == b.family &&
		    !memcmp(&all[i].addr, &b.addr, sizeof(b.addr))) {
			all[i].down = !strcmp(argv[2], "down");
			err = xlb_vip_update(r->lb, &k, &all[i], 1);
		}
	free(all);
	return err;
}

/* weights VIP ADDR=W...: new weights for several backends, one ring build. */
static int do_weights(struct runner *r, char **argv, int argc)
{
	struct xlb_backend_spec *all;
	struct xlb_vip_key k;
	int n, i, j, err = 0;

	if (argc < 2 || xlb_parse_vip(argv[0], &k))
		return -EINVAL;
	all = calloc(XLB_MAX_BACKENDS, sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = xlb_vip_backends(r->lb, &k, all, XLB_MAX_BACKENDS);
	for (j = 1; j < argc && !err; j++) {
		char *eq = strchr(argv[j], '=');
		union xlb_addr a;
		__u8 fam;

		err = -EINVAL;
		if (!eq)
			break;
		*eq = 0;
		if (xlb_parse_addr(argv[j], &a, &fam))
			break;
		for (i = 0; i < n; i++)
			if (all[i].family == fam &&
			    !memcmp(&all[i].addr, &a, sizeof(a))) {
				all[i].weight = atoi(eq + 1);
				err = 0;
			}
	}
	if (!err)
		err = xlb_vip_update(r->lb, &k, all, n);
	free(all);
	return err;
}

static int keep_synced(const struct xlb_sync_flow *f, void *ctx)
{
	struct runner *r = ctx;
	struct xlb_sync_flow *n = realloc(r->sync,
					  (r->nsync + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[r->nsync++] = *f;
	r->sync = n;
	return 0;
}

/* sync-export N [all]: the entries a peer needs (all: every live one). */
static int do_sync_export(struct runner *r, char **argv, int argc)
{
	struct xlb_sync_stats st;
	int err;

	if (argc < 1)
		return -EINVAL;
	free(r->sync);
	r->sync = NULL;
	r->nsync = 0;
	err = xlb_flow_export(r->lb, argc > 1 && !strcmp(argv[1], "all"),
			      keep_synced, r, &st);
	if (err)
		return err;
	if (r->nsync != (size_t)atoi(argv[0]))
		fail(r, "sync-export", "exported %zu of %lu, want %s",
		     r->nsync, st.scanned, argv[0]);
	else
		pass(r, "sync-export");
	return 0;
}

/* sync-import N: the last export written back; N of them new here. */
static int do_sync_import(struct runner *r, char **argv, int argc)
{
	int written = 0, rc;
	__u64 now;
	size_t i;

	if (argc < 1 || xlb_jiffies(&now))
		return -EINVAL;
	for (i = 0; i < r->nsync; i++) {
		rc = xlb_flow_import(r->lb, &r->sync[i], now);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		written += rc == 0;
	}
	if (written != atoi(argv[0]))
		fail(r, "sync-import", "wrote %d of %zu, want %s", written,
		     r->nsync, argv[0]);
	else
		pass(r, "sync-import");
	return 0;
}

struct racer {
	struct xlb *lb;
	struct xlb_vip_key k;
	struct xlb_backend_spec be[2];
	volatile int stop;
	long swaps;
	int err;
};

/* The writer: the backend leaves its slot (freed: zeroed) and the other
 * takes it, over and over. */
static void *race_writer(void *arg)
{
	struct racer *w = arg;
	int i = 0;

	while (!w->stop && !w->err) {
		w->err = xlb_backend_del(w->lb, &w->k, &w->be[i].addr,
					 w->be[i].family) ?:
			 xlb_backend_add(w->lb, &w->k, &w->be[!i]);
		i = !i;
		w->swaps++;
	}
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The reader: what a packet may see while slots are rewritten. */
static void do_race(struct runner *r, char **argv, int argc)
{
	static __u8 in[MAX_PKT], out[MAX_PKT + 256];
	struct racer w = { .lb = r->lb };
	long runs = 0, to[2] = { 0, 0 }, bad = 0, drops = 0;
	double end;
	pthread_t th;
	int nin, i;
	LIBBPF_OPTS(bpf_test_run_opts, t);

	if (argc < 5 || xlb_parse_vip(argv[0], &w.k) ||
	    (nin = unhex(argv[4], in, sizeof(in))) < 0) {
		fail(r, "race", "race needs VIP ADDR1 ADDR2 MS HEXIN");
		return;
	}
	for (i = 0; i < 2; i++) {
		w.be[i].weight = 1;
		if (xlb_parse_addr(argv[1 + i], &w.be[i].addr,
				   &w.be[i].family)) {
			fail(r, "race", "bad address %s", argv[1 + i]);
			return;
		}
	}
	if (xlb_backend_add(r->lb, &w.k, &w.be[0]) ||
	    pthread_create(&th, NULL, race_writer, &w)) {
		fail(r, "race", "setup: %s", strerror(errno));
		return;
	}
	end = now_ms() + atoi(argv[3]);
	while (now_ms() < end && !w.err) {
		t.data_in = in;
		t.data_size_in = nin;
		t.data_out = out;
		t.data_size_out = sizeof(out);
		t.repeat = 1;
		if (bpf_prog_test_run_opts(xlb_prog_fd(r->lb), &t))
			break;
		runs++;
		if (t.retval == XDP_DROP) {
			drops++;
			continue;
		}
		for (i = 0; i < 2; i++)
			if (t.retval == XDP_TX && t.data_size_out >= 34 &&
			    !memcmp(out + 30, &w.be[i].addr.v4, 4))
				break;
		if (i < 2)
			to[i]++;
		else if (bad++ < 3)
			hexdump("mixed", out, t.data_size_out > 34 ? 34 :
				t.data_size_out);
	}
	w.stop = 1;
	pthread_join(th, NULL);
	printf("race: %ld packets, %ld swaps: %ld to %s, %ld to %s, %ld "
	       "dropped, %ld elsewhere\n", runs, w.swaps, to[0], argv[1],
	       to[1], argv[2], drops, bad);
	if (w.err)
		fail(r, "race", "writer: %s", strerror(-w.err));
	else if (bad)
		fail(r, "race", "%ld packets went to a half-written slot", bad);
	else if (!to[0] || !to[1] || w.swaps < 2)
		fail(r, "race", "no race ran (to %ld/%ld, %ld swaps)", to[0],
		     to[1], w.swaps);
	else
		pass(r, "race");
}

/* What a packet racing slot_put (user/lib/lib.c) can load: the old flags
 * beside the new, zeroed address. A plain one-update rewrite exposed the
 * same with an even seq; backend_read must refuse it by the odd seq. */
static int do_slot_mid(struct runner *r, char **argv, int argc)
{
	int fd = bpf_object__find_map_fd_by_name(xlb_object(r->lb),
						 XLB_STR(XLB_MAP_BACKENDS));
	struct xlb_backend be;
	struct xlb_vip_key k;
	union xlb_addr a;
	__u8 fam;
	__u32 slot;

	if (argc < 2 || xlb_parse_vip(argv[0], &k) ||
	    xlb_parse_addr(argv[1], &a, &fam) ||
	    xlb_backend_slot(r->lb, &k, &a, fam, &slot))
		return -EINVAL;
	if (bpf_map_lookup_elem(fd, &slot, &be))
		return -errno;
	memset(&be.addr, 0, sizeof(be.addr));
	memset(be.mac, 0, sizeof(be.mac));
	be.seq |= 1;
	return bpf_map_update_elem(fd, &slot, &be, BPF_ANY) ? -errno : 0;
}

static int table_zero(struct runner *r, const char *name)
{
	int ncpu = 1, fd, err = 0;
	struct xlb_flow_key k, next;
	struct xlb_flow *zero;
	void *prev = NULL;

	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	fd = bpf_object__find_map_fd_by_name(xlb_object(r->lb), name);
	struct xlb_flow_key *keys = NULL;
	size_t n = 0, i;

	/* Keys first: an LRU update replaces the element, which would
	 * restart the walk. */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct xlb_flow_key *nk = realloc(keys, (n + 1) * sizeof(*nk));

		if (!nk)
			break;
		keys = nk;
		keys[n++] = next;
		k = next;
		prev = &k;
	}
	for (i = 0; i < n && !err; i++)
		if (bpf_map_update_elem(fd, &keys[i], zero, BPF_EXIST))
			err = -errno;
	free(keys);
	free(zero);
	return err;
}

static int do_flows_zero(struct runner *r)
{
	return table_zero(r, XLB_STR(XLB_MAP_FLOWS)) ?:
	       table_zero(r, XLB_STR(XLB_MAP_FLOWS_NEW));
}

static void do_flows(struct runner *r, char **argv, int argc)
{
	int n = flow_count(r), want = argc ? atoi(argv[0]) : -1;

	if (n != want)
		fail(r, "flows", "%d entries, want %d", n, want);
	else
		pass(r, "flows");
}

static void do_traffic(struct runner *r, char **argv, int argc)
{
	struct xlb_backend_spec b;
	struct xlb_traffic t;
	struct xlb_vip_key k;
	const char *want;
	__u32 id;
	int err;

	want = opt(argv, argc, "new");
	if (argc < 2 || !want || xlb_parse_vip(argv[0], &k)) {
		fail(r, "traffic", "needs VIP [ADDR] new=N");
		return;
	}
	if (argc == 3 && !xlb_parse_addr(argv[1], &b.addr, &b.family))
		err = xlb_backend_slot(r->lb, &k, &b.addr, b.family, &id) ?:
		      xlb_traffic_read(r->lb, true, id, &t);
	else
		err = xlb_vip_id(r->lb, &k, &id) ?:
		      xlb_traffic_read(r->lb, false, id, &t);
	if (err)
		fail(r, "traffic", "%s", strerror(-err));
	else if (strstr(want, "..") ?
		 t.new_flows < strtoull(want, NULL, 0) ||
		 t.new_flows > strtoull(strstr(want, "..") + 2, NULL, 0) :
		 t.new_flows != strtoull(want, NULL, 0))
		fail(r, "traffic", "%s %s: %llu new flows, want %s", argv[0],
		     argc == 3 ? argv[1] : "", (unsigned long long)t.new_flows,
		     want);
	else
		pass(r, "traffic");
}

/* A backend's count in XLB_MAP_CONNS: checked, or set (set=N). */
static void do_conns(struct runner *r, char **argv, int argc)
{
	int fd = bpf_object__find_map_fd_by_name(xlb_object(r->lb),
						 XLB_STR(XLB_MAP_CONNS));
	struct xlb_backend_spec b;
	struct xlb_vip_key k;
	__s64 v;
	__u32 slot;

	if (argc != 3 || xlb_parse_vip(argv[0], &k) ||
	    xlb_parse_addr(argv[1], &b.addr, &b.family) ||
	    xlb_backend_slot(r->lb, &k, &b.addr, b.family, &slot) || fd < 0) {
		fail(r, "conns", "usage: conns VIP ADDR N|set=N");
		return;
	}
	if (!strncmp(argv[2], "set=", 4)) {
		v = strtoll(argv[2] + 4, NULL, 0);
		if (bpf_map_update_elem(fd, &slot, &v, BPF_ANY))
			fail(r, "conns", "set: %s", strerror(errno));
		else
			pass(r, "conns");
		return;
	}
	if (bpf_map_lookup_elem(fd, &slot, &v) ||
	    v != strtoll(argv[2], NULL, 0))
		fail(r, "conns", "%s %s: %lld, want %s", argv[0], argv[1],
		     (long long)v, argv[2]);
	else
		pass(r, "conns");
}

/* Pin this thread to one CPU, or let it run anywhere again. */
static int do_cpu(char **argv, int argc)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc != 1)
		return -EINVAL;
	CPU_ZERO(&set);
	if (!strcmp(argv[0], "any")) {
		for (long i = 0; i < n && i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	} else {
		long c = strtol(argv[0], NULL, 10);

		if (c < 0 || c >= n || c >= CPU_SETSIZE)
			return -EINVAL;
		CPU_SET(c, &set);
	}
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static int exec_argv(struct runner *r, char **argv, int argc);

/* "! COMMAND": a command that must be refused (and change nothing). */
static int expect_failure(struct runner *r, char **argv, int argc)
{
	int err = exec_argv(r, argv, argc);

	if (err)
		pass(r, argv[0]);
	else
		fail(r, argv[0], "accepted, want refused");
	return 0;
}

/* One command; -errno when it could not be carried out (checks that fail
 * report themselves). */
static int exec_argv(struct runner *r, char **argv, int argc)
{
	int err = 0;

	if (!strcmp(argv[0], "reset"))
		err = do_reset(r, argv + 1, argc - 1);
	else if (!r->lb)
		err = -ENOTCONN;
	else if (!strcmp(argv[0], "config"))
		err = do_config(r, argv + 1, argc - 1);
	else if (!strncmp(argv[0], "vip", 3))
		err = do_vip(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "backend") || !strcmp(argv[0], "backend-del") ||
		 !strcmp(argv[0], "weight"))
		err = do_backend(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "run"))
		do_run(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "counter"))
		do_counter(r, argv + 1, argc - 1, false);
	else if (!strcmp(argv[0], "decap-counter"))
		do_counter(r, argv + 1, argc - 1, true);
	else if (!strcmp(argv[0], "decap-config"))
		err = do_decap_config(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "ingress"))
		err = argc < 2 || !(r->ifindex = if_nametoindex(argv[1])) ?
			      -ENODEV : 0;
	else if (!strcmp(argv[0], "traffic"))
		do_traffic(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "health"))
		err = do_health(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "race"))
		do_race(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "slot-mid"))
		err = do_slot_mid(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "sync-export"))
		err = do_sync_export(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "sync-import"))
		err = do_sync_import(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "flows-clear"))
		err = xlb_flows_clear(r->lb);
	else if (!strcmp(argv[0], "weights"))
		err = do_weights(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "ring-prev-drop"))
		xlb_ring_prev_expire(r->lb, 0);
	else if (!strcmp(argv[0], "conns"))
		do_conns(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "cpu"))
		err = do_cpu(argv + 1, argc - 1);
	else if (!strcmp(argv[0], "flows-zero"))
		err = do_flows_zero(r);
	else if (!strcmp(argv[0], "flows"))
		do_flows(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "confirmed"))
		do_confirmed(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "backends"))
		do_backends(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "frags"))
		do_frags(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "flow"))
		do_flow(r, argv + 1, argc - 1);
	else if (!strcmp(argv[0], "flow-age"))
		err = do_flow_age(r, argv + 1, argc - 1);
	else
		err = -EINVAL;
	return err;
}

static int exec_line(struct runner *r, char *line)
{
	char *argv[MAX_ARGS + 1], *tok, *save;
	int argc = 0, err;

	for (tok = strtok_r(line, " \t\n", &save); tok && argc <= MAX_ARGS;
	     tok = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = tok;
	if (!argc || argv[0][0] == '#')
		return 0;
	if (argc > MAX_ARGS) {	/* never drop words of a fixture */
		fail(r, argv[0], "more than %d words", MAX_ARGS);
		return -E2BIG;
	}
	if (!strcmp(argv[0], "!") && argc > 1)
		return expect_failure(r, argv + 1, argc - 1);
	err = exec_argv(r, argv, argc);
	if (err)
		fail(r, argv[0], "%s", strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	static char line[4 * MAX_PKT];
	struct runner r = { .dmaps = { -1, -1, -1, -1, -1 } };
	cpu_set_t cpus;
	FILE *f = stdin;

	if (argc > 1 && !(f = fopen(argv[1], "r"))) {
		perror(argv[1]);
		return 2;
	}
	/* One CPU: per-CPU flow entries and the ICMP budget stay in view. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	libbpf_set_print(NULL);

	while (fgets(line, sizeof(line), f)) {
		r.line++;
		exec_line(&r, line);
	}
	xlb_close(r.lb);
	xlb_decap_maps_close(&r.dmaps);
	xlb_decap_bpf__destroy(r.decap);
	printf("pktest: %d passed, %d failed\n", r.passed, r.failed);
	return r.failed || !r.passed;
}
