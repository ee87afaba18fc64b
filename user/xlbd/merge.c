// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#define _GNU_SOURCE
/* Three-way merge of configurations (see merge.h). Every mergeable setting
 * is one row of a field table (node, VIP, backend): one function merges a
 * row for all three levels, so a new setting is one new row here. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "addr.h"
#include "merge.h"

_Static_assert(CONF_DIGEST_LEN == SHA256_DIGEST_LENGTH, "digest size");

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define TEXT_MAX	512	/* a value as text; a check's is the longest */
#define WHO_MAX		(16 + XLB_VIP_STRLEN + 9 + XLB_ADDR_STRLEN)

enum kind {
	K_STR,		/* char[] */
	K_UINT,		/* unsigned, 1, 2 or 4 bytes */
	K_BOOL,
	K_MS,		/* unsigned int, milliseconds */
	K_PCT,		/* unsigned int, percent */
	K_NAME,		/* __u8 enum, named by .name */
	K_XDP,		/* enum conf_xdp_mode */
	K_IP4,
	K_IP6,
	K_MAC,
	K_CHECK,	/* struct conf_check */
};

struct field {
	const char *key;		/* as xlb.conf names it */
	enum kind kind;
	size_t off, size;		/* the value in its struct */
	int has;			/* offset of its "is set" bool, or -1 */
	const char *unset;		/* the text when not set */
	const char *(*name)(__u8);	/* K_NAME */
	bool bound;			/* node: read only at start (main.c) */
};

#define F(type, k, kd, m) \
	.key = k, .kind = kd, .off = offsetof(type, m), \
	.size = sizeof(((type *)0)->m), .has = -1
#define FH(type, k, kd, m, flag, text) \
	.key = k, .kind = kd, .off = offsetof(type, m), \
	.size = sizeof(((type *)0)->m), .has = offsetof(type, flag), \
	.unset = text

/* Bound: main.c reads them to load, pin, attach and open the sockets
 * (node_settings, start_dataplane, ctl_open, metrics_start); reload()
 * keeps the running ones. The others reach the data plane on every
 * apply (apply_node). */
static const struct field node_fields[] = {
	{ F(struct conf_node, "interface", K_STR, ifname), .bound = true },
	{ F(struct conf_node, "xdp-mode", K_XDP, xdp_mode), .bound = true },
	{ FH(struct conf_node, "source4", K_IP4, src4, has_src4,
	     "(the interface's)") },
	{ FH(struct conf_node, "source6", K_IP6, src6, has_src6,
	     "(the interface's)") },
	{ FH(struct conf_node, "gateway-mac", K_MAC, gw_mac, has_gw,
	     "(none)") },
	{ F(struct conf_node, "flow-entries", K_UINT, flow_entries),
	  .bound = true },
	{ F(struct conf_node, "unconfirmed-entries", K_UINT,
	    unconfirmed_entries), .bound = true },
	{ F(struct conf_node, "confirm-rate", K_UINT, confirm_rate),
	  .bound = true },
	{ F(struct conf_node, "ring-size", K_UINT, ring_size), .bound = true },
	{ F(struct conf_node, "mtu", K_UINT, mtu) },
	{ F(struct conf_node, "icmp-too-big", K_BOOL, icmp_too_big) },
	{ F(struct conf_node, "icmp-rate", K_UINT, icmp_rate) },
	{ F(struct conf_node, "gue-port", K_UINT, gue_port) },
	{ FH(struct conf_node, "metrics", K_STR, metrics, has_metrics,
	     "(default " CONF_METRICS_DEFAULT ")"), .bound = true },
	{ F(struct conf_node, "control-socket", K_STR, ctl_sock),
	  .bound = true },
	{ F(struct conf_node, "control-group", K_STR, ctl_group),
	  .bound = true },
	{ F(struct conf_node, "pin-root", K_STR, pin_root), .bound = true },
	{ F(struct conf_node, "state-file", K_STR, state_file), .bound = true },
	/* The peer protocol's socket, key and timers are set up at start. */
	{ F(struct conf_node, "peer-key", K_STR, peer_key), .bound = true },
	{ F(struct conf_node, "peers", K_STR, peers), .bound = true },
	{ F(struct conf_node, "peer-interval", K_UINT, peer_interval_ms),
	  .bound = true },
	{ F(struct conf_node, "peer-dead", K_UINT, peer_dead), .bound = true },
	{ F(struct conf_node, "bird-socket", K_STR, bird_sock), .bound = true },
	{ F(struct conf_node, "bird-include", K_STR, bird_include),
	  .bound = true },
};

static const struct field vip_fields[] = {
	{ F(struct conf_vip, "encap", K_NAME, mode), .name = conf_mode_name },
	{ F(struct conf_vip, "algo", K_NAME, algo), .name = conf_algo_name },
	{ F(struct conf_vip, "check", K_CHECK, check) },
	{ F(struct conf_vip, "all-down", K_NAME, all_down),
	  .name = conf_all_down_name },
	{ F(struct conf_vip, "adaptive", K_NAME, adaptive),
	  .name = conf_adaptive_name },
	{ F(struct conf_vip, "flow-table", K_NAME, flow_table),
	  .name = conf_flow_table_name },
	{ F(struct conf_vip, "udp-idle", K_UINT, udp_idle) },
	{ F(struct conf_vip, "start-down", K_NAME, start_down),
	  .name = conf_onoff_name },
	{ F(struct conf_vip, "panic", K_PCT, panic_pct) },
	{ F(struct conf_vip, "slow-start", K_MS, slow_start_ms) },
};

static const struct field be_fields[] = {
	{ F(struct conf_backend, "weight", K_UINT, weight) },
	{ F(struct conf_backend, "drained", K_BOOL, drained) },
	{ F(struct conf_backend, "maint", K_BOOL, maint) },
	{ F(struct conf_backend, "capacity", K_UINT, capacity) },
	{ FH(struct conf_backend, "mac", K_MAC, mac, has_mac, "(none)") },
	{ FH(struct conf_backend, "check", K_CHECK, check, has_check,
	     "(the VIP's)") },
};

/* A check's parts, only to say which of them differ in a report line;
 * what makes two checks equal is conf.c's to say (check_same). */
static const struct field check_fields[] = {
	{ F(struct conf_check, "path", K_STR, path) },
	{ F(struct conf_check, "host", K_STR, host) },
	{ F(struct conf_check, "expect", K_UINT, expect_status) },
	{ F(struct conf_check, "body", K_STR, body) },
	{ F(struct conf_check, "payload", K_STR, payload) },
	{ F(struct conf_check, "interval", K_MS, interval_ms) },
	{ F(struct conf_check, "timeout", K_MS, timeout_ms) },
	{ F(struct conf_check, "rise", K_UINT, rise) },
	{ F(struct conf_check, "fall", K_UINT, fall) },
	{ F(struct conf_check, "error-rate", K_PCT, error_pct) },
	{ F(struct conf_check, "port", K_UINT, port) },
};

struct merger {
	enum conf_merge_when when;
	struct merge_report *rep;
	int err;			/* the first -ENOMEM of a report line */
};

/* ---- report lines ---- */

static void __attribute__((format(printf, 3, 4)))
say(struct merger *m, struct merge_lines *l, const char *fmt, ...)
{
	char *s, **p;
	va_list ap;
	int n;

	if (m->err)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		m->err = -ENOMEM;
		return;
	}
	p = realloc(l->line, (l->n + 1) * sizeof(*p));
	if (!p) {
		free(s);
		m->err = -ENOMEM;
		return;
	}
	p[l->n++] = s;
	l->line = p;
}

static void lines_free(struct merge_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
	l->line = NULL;
	l->n = 0;
}

void merge_report_free(struct merge_report *rep)
{
	lines_free(&rep->conflicts);
	lines_free(&rep->restart);
	rep->removes_all = false;
}

/* ---- one field: equality and text ---- */

static const void *at(const void *obj, size_t off)
{
	return (const char *)obj + off;
}

static bool is_set(const struct field *fd, const void *obj)
{
	return fd->has < 0 || *(const bool *)at(obj, fd->has);
}

static unsigned long long uint_of(const void *p, size_t size)
{
	__u16 v16;
	__u32 v32;

	if (size == 1)
		return *(const __u8 *)p;
	if (size == 2) {
		memcpy(&v16, p, 2);
		return v16;
	}
	memcpy(&v32, p, 4);
	return v32;
}

/* conf.c owns what makes two checks equal: two VIPs that differ only in
 * their checks ask it. */
static bool check_same(const struct conf_check *a, const struct conf_check *b)
{
	struct conf_vip x = { .check = *a }, y = { .check = *b };

	return conf_vip_equal(&x, &y);
}

static bool value_equal(const struct field *fd, const void *a, const void *b)
{
	const void *pa = at(a, fd->off), *pb = at(b, fd->off);

	switch (fd->kind) {
	case K_STR:
		return !strncmp(pa, pb, fd->size);
	case K_CHECK:
		return check_same(pa, pb);
	default:
		return !memcmp(pa, pb, fd->size);
	}
}

/* Equal, "not set" included; a missing object (NULL) equals none. */
static bool field_equal(const struct field *fd, const void *a, const void *b)
{
	if (!a || !b)
		return false;
	if (is_set(fd, a) != is_set(fd, b))
		return false;
	return !is_set(fd, a) || value_equal(fd, a, b);
}

static bool fields_equal(const struct field *tab, size_t n, const void *a,
			 const void *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!field_equal(&tab[i], a, b))
			return false;
	return true;
}

static const char *field_text(const struct field *fd, const void *obj,
			      const void *other, char *buf, size_t len);

/* The type, then the parts that differ from the other check. */
static const char *check_text(const struct conf_check *c,
			      const struct conf_check *other, char *buf,
			      size_t len)
{
	char part[TEXT_MAX];
	size_t i, l;

	snprintf(buf, len, "%s", conf_check_name(c->type));
	for (i = 0; i < ARRAY_SIZE(check_fields); i++) {
		if (field_equal(&check_fields[i], c, other))
			continue;
		l = strlen(buf);
		snprintf(buf + l, len - l, " %s=%s", check_fields[i].key,
			 field_text(&check_fields[i], c, NULL, part,
				    sizeof(part)));
	}
	return buf;
}

static const char *field_text(const struct field *fd, const void *obj,
			      const void *other, char *buf, size_t len)
{
	const void *p = at(obj, fd->off);
	union xlb_addr a = { .v4 = 0 };
	unsigned long long v = 0;
	const __u8 *mac = p;

	if (!is_set(fd, obj))
		return fd->unset;
	if (fd->kind != K_STR && fd->kind != K_CHECK && fd->size <= 4)
		v = uint_of(p, fd->size);
	switch (fd->kind) {
	case K_STR:
		snprintf(buf, len, "\"%.*s\"", (int)fd->size, (const char *)p);
		break;
	case K_BOOL:
		return v ? "true" : "false";
	case K_MS:
		snprintf(buf, len, "%llums", v);
		break;
	case K_PCT:
		snprintf(buf, len, "%llu%%", v);
		break;
	case K_NAME:
		return fd->name((__u8)v) ?: "?";
	case K_XDP:
		return settings_name(&settings_xdp, v) ?: "?";
	case K_IP4:
	case K_IP6:
		memcpy(&a, p, fd->size);
		return xlb_format_addr(&a, fd->kind == K_IP4 ? XLB_AF_INET :
				       XLB_AF_INET6, buf, len);
	case K_MAC:
		snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
			 mac[1], mac[2], mac[3], mac[4], mac[5]);
		break;
	case K_CHECK:
		return check_text(p, other && is_set(fd, other) ?
				  at(other, fd->off) : p, buf, len);
	default:
		snprintf(buf, len, "%llu", v);
	}
	return buf;
}

static void field_copy(const struct field *fd, void *dst, const void *src)
{
	if (fd->has >= 0)
		*(bool *)((char *)dst + fd->has) = is_set(fd, src);
	memcpy((char *)dst + fd->off, at(src, fd->off), fd->size);
}

/* ---- the rule ---- */

enum pick { KEEP_RUNNING, TAKE_FILE, FILE_OVER_RUNNING };

/* base NULL: the item is new on both sides, so neither equals it. */
static enum pick pick(const struct field *fd, const void *base,
		      const void *file, const void *run)
{
	if (field_equal(fd, file, base) || field_equal(fd, file, run))
		return KEEP_RUNNING;
	return field_equal(fd, run, base) ? TAKE_FILE : FILE_OVER_RUNNING;
}

static void conflict(struct merger *m, const char *who, const struct field *fd,
		     const void *file, const void *run)
{
	char a[TEXT_MAX], b[TEXT_MAX];

	say(m, &m->rep->conflicts, "%s: %s %s (runtime) -> %s (file)", who,
	    fd->key, field_text(fd, run, file, a, sizeof(a)),
	    field_text(fd, file, run, b, sizeof(b)));
}

/* A start-bound node key: see merge.h. */
static void bound(struct merger *m, const struct field *fd, const void *base,
		  const void *file, void *out)
{
	char a[TEXT_MAX], b[TEXT_MAX];

	if (m->when == CONF_MERGE_START) {
		field_copy(fd, out, file);
		return;
	}
	if (field_equal(fd, file, base) || field_equal(fd, file, out))
		return;
	say(m, &m->rep->restart, "needs restart: %s %s (running) -> %s (file)",
	    fd->key, field_text(fd, out, file, a, sizeof(a)),
	    field_text(fd, file, out, b, sizeof(b)));
}

/* out starts as a copy of run. */
static void merge_fields(struct merger *m, const struct field *tab, size_t n,
			 const char *who, const void *base, const void *file,
			 const void *run, void *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (tab[i].bound) {
			bound(m, &tab[i], base, file, out);
			continue;
		}
		switch (pick(&tab[i], base, file, run)) {
		case KEEP_RUNNING:
			break;
		case FILE_OVER_RUNNING:
			conflict(m, who, &tab[i], file, run);
			/* fall through */
		case TAKE_FILE:
			field_copy(&tab[i], out, file);
		}
	}
}

enum presence { GONE, KEEP_RUNNING_ONE, TAKE_FILE_ONE, MERGE_BOTH };

/* Whether one VIP or backend stays, and from which side; same() says
 * whether two of them are equal. */
static enum presence presence(struct merger *m, const char *who,
			      const void *base, const void *file,
			      const void *run,
			      bool (*same)(const void *, const void *))
{
	if (!file && !run)
		return GONE;
	if (!file) {
		if (!base)
			return KEEP_RUNNING_ONE;	/* a runtime addition */
		if (!same(base, run))
			say(m, &m->rep->conflicts, "%s: removed by the file, "
			    "with its runtime changes", who);
		return GONE;
	}
	if (!run) {
		if (!base)
			return TAKE_FILE_ONE;		/* the file's addition */
		if (same(base, file))
			return GONE;		/* the runtime's removal */
		say(m, &m->rep->conflicts, "%s: removed at runtime, restored: "
		    "the file changed it", who);
		return TAKE_FILE_ONE;
	}
	return MERGE_BOTH;
}

/* ---- backends ---- */

static bool backend_same(const void *a, const void *b)
{
	return fields_equal(be_fields, ARRAY_SIZE(be_fields), a, b);
}

static int be_cmp(const void *pa, const void *pb)
{
	const struct conf_backend *a = *(const struct conf_backend *const *)pa;
	const struct conf_backend *b = *(const struct conf_backend *const *)pb;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

/* A VIP's backends sorted by address: a VIP may have thousands. */
struct be_index {
	const struct conf_backend **p;
	size_t n;
};

static int index_build(struct be_index *ix, const struct conf_vip *v)
{
	size_t i;

	ix->n = v ? v->nbe : 0;
	ix->p = calloc(ix->n + 1, sizeof(*ix->p));
	if (!ix->p)
		return -ENOMEM;
	for (i = 0; i < ix->n; i++)
		ix->p[i] = &v->be[i];
	qsort(ix->p, ix->n, sizeof(*ix->p), be_cmp);
	return 0;
}

static const struct conf_backend *index_find(const struct be_index *ix,
					     const struct conf_backend *k)
{
	const struct conf_backend **hit;

	hit = bsearch(&k, ix->p, ix->n, sizeof(*ix->p), be_cmp);
	return hit ? *hit : NULL;
}

static void merge_backend(struct merger *m, const char *vip,
			  const struct conf_backend *base,
			  const struct conf_backend *file,
			  const struct conf_backend *run,
			  struct conf_vip *out)
{
	const struct conf_backend *any = file ? file : run;
	char who[WHO_MAX], a[XLB_ADDR_STRLEN];
	struct conf_backend *b = &out->be[out->nbe];

	snprintf(who, sizeof(who), "%s backend %s", vip,
		 xlb_format_addr(&any->addr, any->family, a, sizeof(a)));
	switch (presence(m, who, base, file, run, backend_same)) {
	case GONE:
		return;
	case KEEP_RUNNING_ONE:
		*b = *run;
		break;
	case TAKE_FILE_ONE:
		*b = *file;
		break;
	case MERGE_BOTH:
		*b = *run;
		merge_fields(m, be_fields, ARRAY_SIZE(be_fields), who, base,
			     file, run, b);
	}
	out->nbe++;
}

/* out->be: the file's backends in its order, then the runtime's own. */
static int merge_backends(struct merger *m, const char *who,
			  const struct conf_vip *base,
			  const struct conf_vip *file,
			  const struct conf_vip *run, struct conf_vip *out)
{
	struct be_index ib, ifile, ir;
	size_t i;
	int rc;

	out->nbe = 0;
	out->be = calloc(file->nbe + run->nbe + 1, sizeof(*out->be));
	rc = out->be ? 0 : -ENOMEM;
	ib.p = ifile.p = ir.p = NULL;
	if (!rc)
		rc = index_build(&ib, base);
	if (!rc)
		rc = index_build(&ifile, file);
	if (!rc)
		rc = index_build(&ir, run);
	for (i = 0; !rc && i < file->nbe; i++)
		merge_backend(m, who, index_find(&ib, &file->be[i]),
			      &file->be[i], index_find(&ir, &file->be[i]),
			      out);
	for (i = 0; !rc && i < run->nbe; i++)
		if (!index_find(&ifile, &run->be[i]))
			merge_backend(m, who, index_find(&ib, &run->be[i]),
				      NULL, &run->be[i], out);
	free(ib.p);
	free(ifile.p);
	free(ir.p);
	return rc;
}

/* ---- VIPs ---- */

static bool vip_same(const void *a, const void *b)
{
	return conf_vip_equal(a, b);
}

/* conf.c checks the VIP as it adds it. A backend that does not fit the
 * merged settings (another family under L2) is dropped and reported. */
static int add_vip(struct merger *m, const char *who, struct xlb_conf *out,
		   const struct conf_vip *v, const struct conf_vip *file)
{
	struct conf_vip bare = *v, *nv;
	char a[XLB_ADDR_STRLEN];
	size_t i;
	int rc;

	rc = conf_vip_add(out, v);
	if (rc != -EINVAL)
		return rc;
	bare.be = NULL;
	bare.nbe = 0;
	rc = conf_vip_add(out, &bare);
	if (rc == -EINVAL && file) {
		/* Settings merged field by field may not fit together (the
		 * runtime's adaptive weights, the file's check removed):
		 * the file's settings then win whole. */
		bare.mode = file->mode;
		bare.algo = file->algo;
		bare.check = file->check;
		bare.all_down = file->all_down;
		bare.adaptive = file->adaptive;
		bare.flow_table = file->flow_table;
		bare.udp_idle = file->udp_idle;
		bare.start_down = file->start_down;
		bare.panic_pct = file->panic_pct;
		bare.slow_start_ms = file->slow_start_ms;
		say(m, &m->rep->conflicts, "%s: settings taken whole from the "
		    "file: merged with the runtime's they do not fit", who);
		rc = conf_vip_add(out, &bare);
	}
	if (rc)
		return rc;
	nv = conf_vip_find(out, &v->key);
	for (i = 0; i < v->nbe; i++) {
		rc = conf_backend_add(nv, &v->be[i]);
		if (rc == -EINVAL)
			say(m, &m->rep->conflicts, "%s backend %s: dropped: it "
			    "does not fit the VIP's merged settings", who,
			    xlb_format_addr(&v->be[i].addr, v->be[i].family,
					    a, sizeof(a)));
		else if (rc)
			return rc;
	}
	return 0;
}

static int merge_vip(struct merger *m, const struct conf_vip *base,
		     const struct conf_vip *file, const struct conf_vip *run,
		     struct xlb_conf *out)
{
	const struct conf_vip *any = file ? file : run;
	char who[WHO_MAX], k[XLB_VIP_STRLEN];
	struct conf_vip v;
	int rc;

	snprintf(who, sizeof(who), "VIP %s",
		 xlb_format_vip(&any->key, k, sizeof(k)));
	switch (presence(m, who, base, file, run, vip_same)) {
	case GONE:
		return 0;
	case KEEP_RUNNING_ONE:
		return add_vip(m, who, out, run, NULL);
	case TAKE_FILE_ONE:
		return add_vip(m, who, out, file, NULL);
	default:
		break;
	}
	v = *run;
	merge_fields(m, vip_fields, ARRAY_SIZE(vip_fields), who, base, file,
		     run, &v);
	rc = merge_backends(m, who, base, file, run, &v);
	if (!rc)
		rc = add_vip(m, who, out, &v, file);
	free(v.be);
	return rc;
}

static int merge_vips(struct merger *m, const struct xlb_conf *base,
		      const struct xlb_conf *file, const struct xlb_conf *run,
		      struct xlb_conf *out)
{
	const struct conf_vip *v;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < file->nvips; i++) {
		v = &file->vips[i];
		rc = merge_vip(m, conf_vip_find(base, &v->key), v,
			       conf_vip_find(run, &v->key), out);
	}
	for (i = 0; !rc && i < run->nvips; i++) {
		v = &run->vips[i];
		if (!conf_vip_find(file, &v->key))
			rc = merge_vip(m, conf_vip_find(base, &v->key), NULL,
				       v, out);
	}
	return rc;
}

int conf_merge(const struct xlb_conf *base, const struct xlb_conf *file,
	       const struct xlb_conf *running, enum conf_merge_when when,
	       struct xlb_conf *out, struct merge_report *rep)
{
	struct merger m = { .when = when, .rep = rep };
	struct xlb_conf empty, res;
	int rc;

	memset(rep, 0, sizeof(*rep));
	conf_init(&empty);	/* holds no memory: nothing to free */
	base = base ? base : &empty;
	running = running ? running : &empty;
	conf_init(&res);
	res.node = running->node;
	merge_fields(&m, node_fields, ARRAY_SIZE(node_fields), "node",
		     &base->node, &file->node, &running->node, &res.node);
	rc = merge_vips(&m, base, file, running, &res);
	if (!rc)
		rc = m.err;
	if (rc) {
		conf_free(&res);
		merge_report_free(rep);
		conf_init(out);
		return rc;
	}
	rep->removes_all = !res.nvips && running->nvips;
	*out = res;
	return 0;
}

/* ---- digest ---- */

int conf_digest(const struct xlb_conf *c, unsigned char out[CONF_DIGEST_LEN])
{
	size_t len = 0;
	char *text = NULL;
	FILE *f;
	int rc;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	rc = conf_write(c, f);
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (!rc && !EVP_Digest(text, len, out, NULL, EVP_sha256(), NULL))
		rc = -EIO;
	free(text);
	return rc;
}
