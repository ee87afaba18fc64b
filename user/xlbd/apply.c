// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The one module that writes VIPs, backends and rings into the data plane:
 * it makes the maps match a configuration, touching only what differs. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "addr.h"
#include "bird.h"
#include "state.h"
#include "xlbd.h"

/* ---- applying a configuration ------------------------------------------ */

static int cmp_spec(const void *a, const void *b)
{
	const struct xlb_backend_spec *x = a, *y = b;
	int c = (int)x->family - (int)y->family;

	return c ? c : memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* Sorted by address, so that matching is a bsearch, not a scan: a VIP may
 * have thousands of backends and health changes refresh it often. */
static struct xlb_backend_spec *find_spec(struct xlb_backend_spec *arr,
					  size_t n,
					  const struct xlb_backend_spec *k)
{
	return bsearch(k, arr, n, sizeof(*arr), cmp_spec);
}

static int sync_backends(struct xlbd *d, const struct conf_vip *want,
			 char *err, size_t len)
{
	struct xlb_backend_spec *have, *upd, *add, *wanted, *h;
	bool open = state_fail_open(want);
	char a[XLB_ADDR_STRLEN];
	size_t j, nupd = 0, nadd = 0;
	int n, i, rc = 0;

	have = calloc(XLB_MAX_BACKENDS, sizeof(*have));
	upd = calloc(want->nbe + 1, sizeof(*upd));
	add = calloc(want->nbe + 1, sizeof(*add));
	wanted = calloc(want->nbe + 1, sizeof(*wanted));
	if (!have || !upd || !add || !wanted) {
		rc = -ENOMEM;
		goto out;
	}
	for (j = 0; j < want->nbe; j++)
		state_backend_spec(want, &want->be[j], open, &wanted[j]);
	qsort(wanted, want->nbe, sizeof(*wanted), cmp_spec);
	n = xlb_vip_backends(d->xlb, &want->key, have, XLB_MAX_BACKENDS);
	for (i = 0; i < n && !rc; i++) {
		struct xlb_backend_spec *w = find_spec(wanted, want->nbe,
						       &have[i]);

		/* Gone, or changed in what a slot holds: take it out. */
		if (!w || w->has_mac != have[i].has_mac ||
		    (w->has_mac && memcmp(w->mac, have[i].mac, 6)))
			rc = xlb_backend_del(d->xlb, &want->key, &have[i].addr,
					     have[i].family);
	}
	n = rc ? 0 : xlb_vip_backends(d->xlb, &want->key, have,
				      XLB_MAX_BACKENDS);
	qsort(have, n > 0 ? n : 0, sizeof(*have), cmp_spec);
	for (j = 0; j < want->nbe && !rc; j++) {
		h = find_spec(have, n > 0 ? n : 0, &wanted[j]);
		if (!h)
			add[nadd++] = wanted[j];
		else if (h->weight != wanted[j].weight ||
			 h->down != wanted[j].down)
			upd[nupd++] = wanted[j];
	}
	/* New backends: one ring build for all of them. */
	if (!rc && nadd) {
		rc = xlb_backends_add(d->xlb, &want->key, add, nadd);
		if (rc && nadd == 1)
			snprintf(err, len, "backend %s: %s",
				 xlb_format_addr(&add[0].addr, add[0].family, a,
						 sizeof(a)), strerror(-rc));
		else if (rc)
			snprintf(err, len, "adding %zu backends: %s", nadd,
				 strerror(-rc));
	}
	/* Weight and health changes: one ring build for all of them. */
	if (!rc && nupd) {
		rc = xlb_vip_update(d->xlb, &want->key, upd, nupd);
		if (rc)
			snprintf(err, len, "updating %zu backends: %s", nupd,
				 strerror(-rc));
	}
out:
	free(have);
	free(upd);
	free(add);
	free(wanted);
	return rc;
}

int xlbd_refresh_vip(struct xlbd *d, const struct conf_vip *cv)
{
	char err[CONF_ERR_MAX] = "";
	int rc = sync_backends(d, cv, err, sizeof(err));

	if (rc)
		xlbd_log(LOG_ERR_, "health: %s", err);
	bird_kick(d);
	xlbd_model_kick(d);
	return rc;
}

/* A VIP's flow settings as the data plane takes them. */
static void vip_opts(const struct conf_vip *v, struct xlb_vip_opts *o)
{
	o->no_flowtable = v->flow_table == CONF_FLOW_TABLE_OFF;
	o->udp_idle_s = v->udp_idle;
}

/* Changed flow settings are set in place: no restart, the ring stays. */
static bool opts_differ(const struct xlb_vip *have,
			const struct xlb_vip_opts *want)
{
	struct xlb_vip_opts o;

	xlb_vip_opts_get(have, &o);
	return o.no_flowtable != want->no_flowtable ||
	       o.udp_idle_s != want->udp_idle_s;
}

static int sync_vip(struct xlbd *d, const struct conf_vip *want, char *err,
		    size_t len)
{
	struct xlb_vip_opts o;
	char name[XLB_VIP_STRLEN];
	struct xlb_vip_key k;
	struct xlb_vip v;
	size_t i, n = xlb_vip_count(d->xlb);
	int rc = 0;
	bool have = false;

	xlb_format_vip(&want->key, name, sizeof(name));
	for (i = 0; i < n && !have; i++)
		if (!xlb_vip_at(d->xlb, i, &k, &v) &&
		    !memcmp(&k, &want->key, sizeof(k)))
			have = true;
	vip_opts(want, &o);
	if (!have) {
		rc = xlb_vip_add_opts(d->xlb, &want->key, want->mode,
				      want->algo, &o);
	} else if (o.no_flowtable) {
		/* Edited in place (xlbctl vip set), flows kept. Turning the
		 * flow table off needs the new (deterministic) algorithm
		 * first; turning it on goes first. */
		rc = xlb_vip_reshape(d->xlb, &want->key, want->mode,
				     want->algo);
		if (!rc && opts_differ(&v, &o))
			rc = xlb_vip_set_opts(d->xlb, &want->key, &o);
	} else {
		if (opts_differ(&v, &o))
			rc = xlb_vip_set_opts(d->xlb, &want->key, &o);
		rc = rc ?: xlb_vip_reshape(d->xlb, &want->key, want->mode,
					   want->algo);
	}
	if (rc) {
		snprintf(err, len, "VIP %s: %s", name, strerror(-rc));
		return rc;
	}
	rc = sync_backends(d, want, err, len);
	if (rc) {
		size_t l = strlen(err);

		snprintf(err + l, len - l, " (VIP %s)", name);
	}
	return rc;
}

static int apply_node(struct xlbd *d, const struct conf_node *n)
{
	struct xlb_config c;

	xlb_config_defaults(&c);
	c.mtu = n->mtu;
	c.icmp_rate = n->icmp_rate;
	c.gue_port = htons(n->gue_port);
	c.flags = n->icmp_too_big ? XLB_CFG_F_ICMP_TOO_BIG : 0;
	if (n->has_src4) {
		c.src4 = n->src4;
		c.flags |= XLB_CFG_F_HAS_SRC4;
	}
	if (n->has_src6) {
		memcpy(c.src6, n->src6, 16);
		c.flags |= XLB_CFG_F_HAS_SRC6;
	}
	if (n->has_gw) {
		memcpy(c.gw_mac, n->gw_mac, 6);
		c.flags |= XLB_CFG_F_HAS_GW;
	}
	return xlb_set_config(d->xlb, &c);
}

/* ---- what the data plane would refuse -------------------------------- */

/* Whether the kernel forwards family on ifname: bpf_fib_lookup answers
 * BPF_FIB_LKUP_RET_FWD_DISABLED on an ingress interface that does not,
 * for IPv4 and IPv6 each by its own sysctl. Unreadable reads as on: the
 * check must not refuse what it cannot see. */
static bool forwards(const char *ifname, __u8 family)
{
	char path[128], v = '1';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/forwarding",
		 family == XLB_AF_INET ? "ipv4" : "ipv6", ifname);
	f = fopen(path, "r");
	if (f) {
		v = (char)fgetc(f);
		fclose(f);
	}
	return v != '0';
}

/* The sysctl that turns it on, as sysctl(8) spells it (a dot in an
 * interface name, as in a VLAN's, becomes a slash). */
static const char *forward_sysctl(const char *ifname, __u8 family, char *buf,
				  size_t len)
{
	char name[IF_NAMESIZE];
	size_t i;

	snprintf(name, sizeof(name), "%s", ifname);
	for (i = 0; name[i]; i++)
		if (name[i] == '.')
			name[i] = '/';
	snprintf(buf, len, "sysctl -w net.%s.conf.%s.forwarding=1",
		 family == XLB_AF_INET ? "ipv4" : "ipv6", name);
	return buf;
}

/* Whether the backend's packets need a next hop from the FIB: tunnels do
 * unless a gateway MAC stands in (bpf/xmit.h, xmit); L2 DSR does unless the
 * backend has a MAC, and no gateway helps it (xmit_l2). */
static bool needs_fib(const struct conf_node *n, const struct conf_vip *v,
		      const struct conf_backend *b)
{
	if (v->mode == XLB_MODE_L2)
		return !b->has_mac;
	return !n->has_gw;
}

/* Already running with the same node: checked when it was added. */
static bool checked_before(const struct xlb_conf *cur,
			   const struct conf_node *n, const struct conf_vip *v,
			   const struct conf_backend *b)
{
	const struct conf_vip *cv = conf_vip_find(cur, &v->key);
	const struct conf_backend *cb;

	if (!cv || cv->mode != v->mode || cur->node.has_gw != n->has_gw ||
	    strcmp(cur->node.ifname, n->ifname))
		return false;
	cb = conf_backend_find(cv, &b->addr, b->family);
	return cb && cb->has_mac == b->has_mac;
}

/* Forwarding on the interface, read once per check: [0] IPv4, [1] IPv6. */
struct fwd_state {
	bool on[2];
};

static int check_backend(const struct xlb_conf *cur, const struct conf_node *n,
			 const struct fwd_state *fw, const struct conf_vip *v,
			 const struct conf_backend *b, char *err, size_t len)
{
	char vip[XLB_VIP_STRLEN], be[XLB_ADDR_STRLEN], cmd[96];
	__u32 need;

	xlb_format_vip(&v->key, vip, sizeof(vip));
	xlb_format_addr(&b->addr, b->family, be, sizeof(be));
	if (needs_fib(n, v, b) && !fw->on[b->family == XLB_AF_INET6] &&
	    !checked_before(cur, n, v, b)) {
		snprintf(err, len, "VIP %s backend %s needs a FIB next hop but "
			 "IPv%c forwarding is off on %s%s: %s", vip, be,
			 b->family == XLB_AF_INET ? '4' : '6', n->ifname,
			 v->mode == XLB_MODE_L2 ? " (or give the backend a mac)" :
			 " and no gateway-mac is set",
			 forward_sysctl(n->ifname, b->family, cmd, sizeof(cmd)));
		return -EINVAL;
	}
	/* An IPv6 client is never told of an MTU below 1280: a smaller room
	 * after the tunnel would make it retry at 1280 forever. */
	need = XLB_IPV6_MIN_MTU + xlb_encap_overhead(b->family, v->mode);
	if (v->key.family == XLB_AF_INET6 && v->mode != XLB_MODE_L2 &&
	    n->mtu < need) {
		snprintf(err, len, "mtu %u is too small for VIP %s to backend "
			 "%s: IPv6 needs %u (1280 and the tunnel's %u bytes)",
			 n->mtu, vip, be, need, need - XLB_IPV6_MIN_MTU);
		return -EINVAL;
	}
	return 0;
}

/* What the data plane could not carry, refused before anything is written,
 * with one line saying what to change. */
static int check_conf(const struct xlbd *d, const struct xlb_conf *want,
		      char *err, size_t len)
{
	const struct conf_node *n = &want->node;
	struct fwd_state fw = { { forwards(n->ifname, XLB_AF_INET),
				  forwards(n->ifname, XLB_AF_INET6) } };
	size_t i, j;
	int rc = 0;

	for (i = 0; i < want->nvips && !rc; i++)
		for (j = 0; j < want->vips[i].nbe && !rc; j++)
			rc = check_backend(&d->conf, n, &fw, &want->vips[i],
					   &want->vips[i].be[j], err, len);
	return rc;
}

static int apply(struct xlbd *d, const struct xlb_conf *want, char *err,
		 size_t len)
{
	struct xlb_vip_key *keys;
	struct xlb_vip v;
	size_t i, n;
	int rc;

	rc = apply_node(d, &want->node);
	if (rc) {
		snprintf(err, len, "node settings: %s", strerror(-rc));
		return rc;
	}
	n = xlb_vip_count(d->xlb);
	keys = calloc(n + 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		xlb_vip_at(d->xlb, i, &keys[i], &v);
	for (i = 0; i < n && !rc; i++)
		if (!conf_vip_find(want, &keys[i]))
			rc = xlb_vip_del(d->xlb, &keys[i]);
	free(keys);
	/* The checker reads it without the lock. */
	__atomic_add_fetch(&d->conf_gen, 1, __ATOMIC_RELEASE);
	for (i = 0; i < want->nvips && !rc; i++) {
		const struct conf_vip *cur = conf_vip_find(&d->conf,
							   &want->vips[i].key);

		/* Unchanged VIPs are not touched: their rings stay. */
		if (cur && conf_vip_equal(cur, &want->vips[i]) &&
		    xlb_vip_id(d->xlb, &cur->key, &(__u32){ 0 }) == 0)
			continue;
		rc = sync_vip(d, &want->vips[i], err, len);
	}
	return rc;
}

int xlbd_apply(struct xlbd *d, const struct xlb_conf *want, char *err,
	       size_t len)
{
	/* Whatever the outcome: routing reads the model once the caller
	 * has made it final (bird.h), and so do ramps and panic notes. */
	bird_kick(d);
	xlbd_model_kick(d);
	return check_conf(d, want, err, len) ?: apply(d, want, err, len);
}

void xlbd_revert(struct xlbd *d, struct xlb_conf *tried)
{
	struct xlb_conf keep = d->conf;
	char err[CONF_ERR_MAX] = "";

	/* The diff runs against d->conf, which must say what the maps may
	 * hold (tried) while the model's own version is applied again. */
	d->conf = *tried;
	if (apply(d, &keep, err, sizeof(err)))
		xlbd_log(LOG_ERR_, "undoing a change: %s", err);
	d->conf = keep;
}
