// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The decap program's address sets and settings (see decap.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "decap.h"
#include "xlb.h"
#include "xlb/maps.h"

static const char *const reject_names[] = { "pass", "drop" };

int xlb_decap_parse_reject(const char *s, bool *drop)
{
	int i;

	for (i = 0; i < 2; i++)
		if (!strcmp(s, reject_names[i])) {
			*drop = i;
			return 0;
		}
	return -EINVAL;
}

const char *xlb_decap_reject_name(bool drop)
{
	return reject_names[drop];
}

/* ---- prefixes ---- */

static __u8 max_len(__u8 family)
{
	return family == XLB_AF_INET ? 32 : 128;
}

static void mask_host_bits(struct xlb_prefix *p)
{
	int bits = p->len, i;

	for (i = 0; i < 16; i++, bits -= 8) {
		if (bits >= 8)
			continue;
		p->addr.bytes[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

int xlb_parse_prefix(const char *s, struct xlb_prefix *p)
{
	char buf[XLB_PREFIX_STRLEN], *slash, *end;
	unsigned long len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (xlb_parse_addr(buf, &p->addr, &p->family))
		return -EINVAL;
	p->len = max_len(p->family);
	if (!slash)
		return 0;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (*end || errno || len > p->len)
		return -EINVAL;
	p->len = (__u8)len;
	mask_host_bits(p);
	return 0;
}

const char *xlb_format_prefix(const struct xlb_prefix *p, char *buf,
			      size_t len)
{
	char a[XLB_ADDR_STRLEN];

	xlb_format_addr(&p->addr, p->family, a, sizeof(a));
	if (p->len == max_len(p->family))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

static bool prefix_eq(const struct xlb_prefix *a, const struct xlb_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static bool set_has(const struct xlb_prefix_set *set,
		    const struct xlb_prefix *p)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (prefix_eq(&set->p[i], p))
			return true;
	return false;
}

int xlb_prefix_add(struct xlb_prefix_set *set, const struct xlb_prefix *p)
{
	struct xlb_prefix *np;

	if (set_has(set, p))
		return 0;
	np = realloc(set->p, (set->n + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	set->p = np;
	set->p[set->n++] = *p;
	return 0;
}

int xlb_prefix_list(const char *s, struct xlb_prefix_set *set)
{
	char *copy = strdup(s), *tok, *save;
	struct xlb_prefix p;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	if (!*s)
		err = -EINVAL;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save))
		err = xlb_parse_prefix(tok, &p) ?: xlb_prefix_add(set, &p);
	/* "a,,b" and a trailing comma are typos, not empty entries. */
	if (!err && (strstr(s, ",,") || s[0] == ',' ||
		     s[strlen(s) - 1] == ','))
		err = -EINVAL;
	free(copy);
	return err;
}

void xlb_prefix_set_free(struct xlb_prefix_set *set)
{
	free(set->p);
	set->p = NULL;
	set->n = 0;
}

/* ---- the host's addresses ---- */

static bool not_for_tunnels(const struct xlb_prefix *p)
{
	const struct in6_addr *a6 = (const void *)&p->addr;

	if (p->family == XLB_AF_INET)
		return (ntohl(p->addr.v4) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_LINKLOCAL(a6);
}

static int ifaddr_prefix(const struct sockaddr *sa, struct xlb_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (sa->sa_family == AF_INET) {
		p->family = XLB_AF_INET;
		p->addr.v4 = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	} else if (sa->sa_family == AF_INET6) {
		p->family = XLB_AF_INET6;
		memcpy(&p->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		       16);
	} else {
		return -EAFNOSUPPORT;
	}
	p->len = max_len(p->family);
	return 0;
}

int xlb_host_addrs(const char *ifname, struct xlb_prefix_set *set)
{
	struct ifaddrs *all, *i;
	struct xlb_prefix p;
	int err = 0;

	if (getifaddrs(&all))
		return -errno;
	for (i = all; i && !err; i = i->ifa_next) {
		if (!i->ifa_addr || ifaddr_prefix(i->ifa_addr, &p))
			continue;
		if (ifname ? strcmp(i->ifa_name, ifname) : not_for_tunnels(&p))
			continue;
		err = xlb_prefix_add(set, &p);
	}
	freeifaddrs(all);
	return err;
}

void xlb_decap_conf_free(struct xlb_decap_conf *c)
{
	xlb_prefix_set_free(&c->outer);
	xlb_prefix_set_free(&c->balancers);
	xlb_prefix_set_free(&c->inner);
}

/* ---- the program's maps ---- */

static void key_of(const struct xlb_prefix *p, struct xlb_decap_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = XLB_DECAP_FAMILY_BITS + p->len;
	k->family = p->family;
	memcpy(k->addr, &p->addr, 16);
}

static int prefix_of(const struct xlb_decap_key *k, struct xlb_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if ((k->family != XLB_AF_INET && k->family != XLB_AF_INET6) ||
	    k->prefixlen < XLB_DECAP_FAMILY_BITS)
		return -EINVAL;
	p->family = k->family;
	if (k->prefixlen - XLB_DECAP_FAMILY_BITS > max_len(p->family))
		return -EINVAL;
	p->len = (__u8)(k->prefixlen - XLB_DECAP_FAMILY_BITS);
	memcpy(&p->addr, k->addr, 16);
	return 0;
}

static const struct {
	const char *name;
	size_t off;
} decap_maps[] = {
	{ XLB_STR(XLB_MAP_DECAP_CFG), offsetof(struct xlb_decap_maps, cfg) },
	{ XLB_STR(XLB_MAP_DECAP_DST), offsetof(struct xlb_decap_maps, outer) },
	{ XLB_STR(XLB_MAP_DECAP_SRC),
	  offsetof(struct xlb_decap_maps, balancers) },
	{ XLB_STR(XLB_MAP_DECAP_INNER),
	  offsetof(struct xlb_decap_maps, inner) },
	{ XLB_STR(XLB_MAP_DECAP_STATS), offsetof(struct xlb_decap_maps, stats) },
};

#define NDECAP_MAPS	(sizeof(decap_maps) / sizeof(decap_maps[0]))
#define MAX_PROG_MAPS	16

static int *map_slot(struct xlb_decap_maps *m, size_t i)
{
	return (int *)((char *)m + decap_maps[i].off);
}

/* Keep fd if map id is one of ours (by name), else close it. */
static void adopt_map(struct xlb_decap_maps *m, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t i;

	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (i = 0; i < NDECAP_MAPS; i++)
			if (!strcmp(info.name, decap_maps[i].name) &&
			    *map_slot(m, i) < 0) {
				*map_slot(m, i) = fd;
				return;
			}
	close(fd);
}

int xlb_decap_maps_of(int prog_fd, struct xlb_decap_maps *m)
{
	__u32 ids[MAX_PROG_MAPS], len, n, i;
	struct bpf_prog_info info;
	int fd;

	for (i = 0; i < NDECAP_MAPS; i++)
		*map_slot(m, i) = -1;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	n = info.nr_map_ids < MAX_PROG_MAPS ? info.nr_map_ids : MAX_PROG_MAPS;
	for (i = 0; i < n; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd >= 0)
			adopt_map(m, fd);
	}
	for (i = 0; i < NDECAP_MAPS; i++)
		if (*map_slot(m, i) < 0) {
			xlb_decap_maps_close(m);
			return -ENOENT;
		}
	return 0;
}

void xlb_decap_maps_close(struct xlb_decap_maps *m)
{
	size_t i;

	for (i = 0; i < NDECAP_MAPS; i++) {
		if (*map_slot(m, i) >= 0)
			close(*map_slot(m, i));
		*map_slot(m, i) = -1;
	}
}

/* Every entry of an LPM trie, as prefixes. */
static int set_read(int fd, struct xlb_prefix_set *set)
{
	struct xlb_decap_key k, next;
	struct xlb_prefix p;
	void *prev = NULL;
	int err = 0;

	while (!err && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		err = prefix_of(&k, &p) ?: xlb_prefix_add(set, &p);
	}
	return err;
}

static int set_write(int fd, const struct xlb_prefix_set *want, size_t max)
{
	struct xlb_prefix_set have = {};
	struct xlb_decap_key k;
	__u8 one = 1;
	size_t i;
	int err;

	if (want->n > max)
		return -E2BIG;
	err = set_read(fd, &have);
	for (i = 0; i < have.n && !err; i++) {
		if (set_has(want, &have.p[i]))
			continue;
		key_of(&have.p[i], &k);
		if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
			err = -errno;
	}
	for (i = 0; i < want->n && !err; i++) {
		key_of(&want->p[i], &k);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
			err = -errno;
	}
	xlb_prefix_set_free(&have);
	return err;
}

int xlb_decap_write(const struct xlb_decap_maps *m,
		    const struct xlb_decap_conf *c)
{
	struct xlb_decap_config cfg = {
		.gue_port = htons(c->gue_port),
		.flags = (c->drop ? XLB_DECAP_F_DROP : 0) |
			 (c->balancers.n ? XLB_DECAP_F_CHECK_SRC : 0),
	};
	__u32 zero = 0;
	int err;

	/* Sets first: the source check turns on only once its set is full. */
	err = set_write(m->outer, &c->outer, XLB_MAX_DECAP_DST) ?:
	      set_write(m->balancers, &c->balancers, XLB_MAX_DECAP_SRC) ?:
	      set_write(m->inner, &c->inner, XLB_MAX_DECAP_INNER);
	if (err)
		return err;
	if (bpf_map_update_elem(m->cfg, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

int xlb_decap_read(const struct xlb_decap_maps *m, struct xlb_decap_conf *c)
{
	struct xlb_decap_config cfg;
	__u32 zero = 0;
	int err;

	memset(c, 0, sizeof(*c));
	if (bpf_map_lookup_elem(m->cfg, &zero, &cfg))
		return -errno;
	c->gue_port = ntohs(cfg.gue_port);
	c->drop = cfg.flags & XLB_DECAP_F_DROP;
	err = set_read(m->outer, &c->outer) ?:
	      set_read(m->inner, &c->inner);
	/* Without the check its set says nothing: show "any". */
	if (!err && (cfg.flags & XLB_DECAP_F_CHECK_SRC))
		err = set_read(m->balancers, &c->balancers);
	if (err)
		xlb_decap_conf_free(c);
	return err;
}

int xlb_decap_counters(const struct xlb_decap_maps *m, __u64 out[XLB_DC_MAX])
{
	__u32 i;
	int err;

	for (i = 0; i < XLB_DC_MAX; i++) {
		err = xlb_percpu_sum(m->stats, i, &out[i], 1);
		if (err)
			return err;
	}
	return 0;
}

static json_object *set_json(const struct xlb_prefix_set *set)
{
	json_object *a = json_object_new_array();
	char buf[XLB_PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < set->n; i++)
		json_object_array_add(a, json_object_new_string(
			xlb_format_prefix(&set->p[i], buf, sizeof(buf))));
	return a;
}

int xlb_decap_view(const struct xlb_decap_maps *m, json_object **out)
{
	struct xlb_decap_conf c;
	__u64 n[XLB_DC_MAX];
	json_object *o, *cnt;
	int err, i;

	err = xlb_decap_counters(m, n) ?: xlb_decap_read(m, &c);
	if (err)
		return err;
	o = json_object_new_object();
	json_object_object_add(o, "gue_port", json_object_new_int(c.gue_port));
	json_object_object_add(o, "reject", json_object_new_string(
				       xlb_decap_reject_name(c.drop)));
	json_object_object_add(o, "outer", set_json(&c.outer));
	json_object_object_add(o, "balancers", c.balancers.n ?
				       set_json(&c.balancers) : NULL);
	json_object_object_add(o, "inner", set_json(&c.inner));
	cnt = json_object_new_object();
	for (i = 0; i < XLB_DC_MAX; i++)
		json_object_object_add(cnt, xlb_decap_counter_names[i],
				       json_object_new_int64((int64_t)n[i]));
	json_object_object_add(o, "counters", cnt);
	xlb_decap_conf_free(&c);
	*out = o;
	return 0;
}
