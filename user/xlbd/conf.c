// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#define _GNU_SOURCE
/* xlb.conf (see conf.h and xlb.conf(5)). Reading goes through libyaml's
 * document API and a table of keys per kind of mapping; writing goes
 * through libyaml's emitter, so that any string we accept is quoted in a
 * way libyaml reads back byte for byte. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "addr.h"
#include "fileio.h"
#include "conf.h"
#include "ctl.h"
#include "maglev.h"
#include "xlb/config.h"
#include "xlb/maps.h"

#define FLOWS_MIN		1024
#define FLOWS_MAX		67108864
#define UNCONFIRMED_MIN		256
#define RING_MIN		251
#define RING_MAX		1000003
#define MTU_MIN			576
#define MTU_MAX			9216
#define ICMP_RATE_MAX		1000000
/* Refuses /dev/zero and friends; real files are far smaller. */
#define CONF_FILE_MAX		(64 << 20)

#define PIN_ROOT_DEFAULT	"/sys/fs/bpf"
#define STATE_DIR		"/var/lib/xlb"
#define STATE_FILE_DEFAULT	STATE_DIR "/state.yaml"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

static void vip_defaults(struct conf_vip *v)
{
	memset(v, 0, sizeof(*v));
	v->mode = (__u8)settings[SET_ENCAP].def;
	v->algo = (__u8)settings[SET_ALGO].def;
	v->all_down = (__u8)settings[SET_ALL_DOWN].def;
	v->adaptive = (__u8)settings[SET_ADAPTIVE].def;
	v->flow_table = (__u8)settings[SET_FLOW_TABLE].def;
	v->udp_idle = (__u32)settings[SET_UDP_IDLE].def;
	v->start_down = (__u8)settings[SET_START_DOWN].def;
	v->panic_pct = (__u32)settings[SET_PANIC].def;
	v->slow_start_ms = (__u32)settings[SET_SLOW_START].def;
	conf_check_defaults(&v->check);
}

static void backend_defaults(struct conf_backend *b)
{
	memset(b, 0, sizeof(*b));
	b->weight = (__u32)settings[SET_WEIGHT].def;
	conf_check_defaults(&b->check);
}

void conf_init(struct xlb_conf *c)
{
	struct conf_node *n = &c->node;

	memset(c, 0, sizeof(*c));
	n->xdp_mode = CONF_XDP_AUTO;
	n->flow_entries = XLB_FLOWS_DEFAULT;
	n->unconfirmed_entries = XLB_FLOWS_NEW_DEFAULT;
	n->ring_size = XLB_RING_DEFAULT;
	n->mtu = XLB_MTU_DEFAULT;
	n->icmp_too_big = true;
	n->icmp_rate = XLB_ICMP_RATE_DEFAULT;
	n->gue_port = XLB_GUE_PORT_DEFAULT;
	strcpy(n->ctl_sock, CTL_SOCK_DEFAULT);
	strcpy(n->pin_root, PIN_ROOT_DEFAULT);
	strcpy(n->state_file, STATE_FILE_DEFAULT);
	n->peer_interval_ms = CONF_PEER_INTERVAL_DEF;
	n->peer_dead = CONF_PEER_DEAD_DEF;
}

void conf_free(struct xlb_conf *c)
{
	size_t i;

	for (i = 0; i < c->nvips; i++)
		free(c->vips[i].be);
	free(c->vips);
	/* Back to the init state, so a second conf_free is harmless. */
	conf_init(c);
}

static int vip_copy(struct conf_vip *dst, const struct conf_vip *src)
{
	*dst = *src;
	dst->be = NULL;
	if (!src->nbe)
		return 0;
	dst->be = malloc(src->nbe * sizeof(*dst->be));
	if (!dst->be) {
		dst->nbe = 0;
		return -ENOMEM;
	}
	memcpy(dst->be, src->be, src->nbe * sizeof(*dst->be));
	return 0;
}

int conf_copy(struct xlb_conf *dst, const struct xlb_conf *src)
{
	struct xlb_conf c = *src;
	size_t i;

	c.vips = NULL;
	c.nvips = 0;
	if (src->nvips) {
		c.vips = calloc(src->nvips, sizeof(*c.vips));
		if (!c.vips)
			goto nomem;
	}
	for (i = 0; i < src->nvips; i++) {
		c.nvips++;	/* a failed copy leaves be NULL: freeable */
		if (vip_copy(&c.vips[i], &src->vips[i]))
			goto nomem;
	}
	*dst = c;
	return 0;
nomem:
	conf_free(&c);
	conf_init(dst);
	return -ENOMEM;
}

/* Append one element to a malloc'd array of n. Exact-size growth: the
 * arrays are public and may come from callers who sized them exactly. */
static int append(void *arrp, size_t n, size_t size, const void *item)
{
	void **arr = arrp;
	void *p = realloc(*arr, (n + 1) * size);

	if (!p)
		return -ENOMEM;
	memcpy((char *)p + n * size, item, size);
	*arr = p;
	return 0;
}

/* ---- comparisons and edits ---- */

/* Whole 16 bytes, as libxlb compares them: flow.h keeps the unused IPv4
 * words zero. */
static bool addr_equal(const union xlb_addr *a, __u8 fa,
		       const union xlb_addr *b, __u8 fb)
{
	return fa == fb && !memcmp(a, b, sizeof(*a));
}

static bool key_equal(const struct xlb_vip_key *a, const struct xlb_vip_key *b)
{
	return addr_equal(&a->addr, a->family, &b->addr, b->family) &&
	       a->port == b->port && a->proto == b->proto;
}

static bool check_equal(const struct conf_check *a, const struct conf_check *b)
{
	return a->type == b->type && !strcmp(a->path, b->path) &&
	       !strcmp(a->host, b->host) && !strcmp(a->body, b->body) &&
	       !strcmp(a->payload, b->payload) &&
	       a->expect_status == b->expect_status &&
	       a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->rise == b->rise &&
	       a->fall == b->fall && a->error_pct == b->error_pct &&
	       a->port == b->port;
}

static bool backend_equal(const struct conf_backend *a,
			  const struct conf_backend *b)
{
	if (!addr_equal(&a->addr, a->family, &b->addr, b->family) ||
	    a->weight != b->weight || a->drained != b->drained ||
	    a->maint != b->maint || a->capacity != b->capacity ||
	    a->has_mac != b->has_mac || a->has_check != b->has_check)
		return false;
	if (a->has_mac && memcmp(a->mac, b->mac, sizeof(a->mac)))
		return false;
	return !a->has_check || check_equal(&a->check, &b->check);
}

struct conf_vip *conf_vip_find(const struct xlb_conf *c,
			       const struct xlb_vip_key *k)
{
	size_t i;

	for (i = 0; i < c->nvips; i++)
		if (key_equal(&c->vips[i].key, k))
			return &c->vips[i];
	return NULL;
}

struct conf_backend *conf_backend_find(const struct conf_vip *v,
				       const union xlb_addr *a, __u8 family)
{
	size_t i;

	for (i = 0; i < v->nbe; i++)
		if (addr_equal(&v->be[i].addr, v->be[i].family, a, family))
			return &v->be[i];
	return NULL;
}

/* Every backend of a has an equal one in b. The same index is tried first:
 * two loads of one file list backends in the same order. */
static bool backends_within(const struct conf_vip *a, const struct conf_vip *b)
{
	const struct conf_backend *o;
	size_t i;

	for (i = 0; i < a->nbe; i++) {
		o = &b->be[i];
		if (!addr_equal(&a->be[i].addr, a->be[i].family, &o->addr,
				o->family))
			o = conf_backend_find(b, &a->be[i].addr,
					      a->be[i].family);
		if (!o || !backend_equal(&a->be[i], o))
			return false;
	}
	return true;
}

bool conf_vip_equal(const struct conf_vip *a, const struct conf_vip *b)
{
	/* Both directions: one alone would be fooled by duplicates, which
	 * only a hand-built VIP can hold. */
	return key_equal(&a->key, &b->key) && a->mode == b->mode &&
	       a->algo == b->algo && a->all_down == b->all_down &&
	       a->adaptive == b->adaptive && a->flow_table == b->flow_table &&
	       a->udp_idle == b->udp_idle && a->start_down == b->start_down &&
	       a->panic_pct == b->panic_pct &&
	       a->slow_start_ms == b->slow_start_ms &&
	       check_equal(&a->check, &b->check) &&
	       a->nbe == b->nbe && backends_within(a, b) &&
	       backends_within(b, a);
}

static bool family_ok(__u8 family)
{
	return family == XLB_AF_INET || family == XLB_AF_INET6;
}

static bool text_ok(const char *s)
{
	size_t n = strnlen(s, CONF_STR_MAX);

	return n < CONF_STR_MAX && settings_text_ok(s, n);
}

static bool in_range(enum setting_id id, unsigned long long v)
{
	return v >= settings[id].min && v <= settings[id].max;
}

/* What the file would accept, so that conf_write never writes a check
 * conf_load refuses. */
static bool check_ok(const struct conf_check *c)
{
	return (unsigned int)c->type < settings_check.n &&
	       text_ok(c->path) && settings_http_path_ok(c->path) && text_ok(c->host) &&
	       settings_http_token_ok(c->host) && text_ok(c->body) &&
	       text_ok(c->payload) && in_range(SET_EXPECT, c->expect_status) &&
	       in_range(SET_INTERVAL, c->interval_ms) &&
	       in_range(SET_TIMEOUT, c->timeout_ms) &&
	       c->timeout_ms <= c->interval_ms && in_range(SET_RISE, c->rise) &&
	       in_range(SET_FALL, c->fall) &&
	       in_range(SET_ERROR_RATE, c->error_pct);
}

static bool backend_ok(const struct conf_vip *v, const struct conf_backend *b)
{
	char err[CONF_ERR_MAX];

	if (!family_ok(b->family) || !in_range(SET_WEIGHT, b->weight) ||
	    xlb_backend_addr_ok(&v->key, &b->addr, b->family, err, sizeof(err)))
		return false;
	if (b->has_check && (!check_ok(&b->check) ||
			     settings_check_fits(&v->key, &b->check, err,
						 sizeof(err))))
		return false;
	/* L2 DSR only rewrites the MAC: the packet keeps the VIP's family. */
	return v->mode != XLB_MODE_L2 || b->family == v->key.family;
}

static int vip_ok(const struct conf_vip *v)
{
	char err[CONF_ERR_MAX];
	size_t i;

	if (!family_ok(v->key.family) ||
	    xlb_vip_addr_ok(&v->key, err, sizeof(err)) ||
	    settings_check_fits(&v->key, &v->check, err, sizeof(err)) ||
	    settings_adaptive_fits(v->adaptive, &v->check, err, sizeof(err)) ||
	    v->mode >= XLB_MODE_MAX ||
	    v->algo >= XLB_ALGO_MAX ||
	    v->all_down >= settings_all_down.n ||
	    v->adaptive >= settings_adaptive.n ||
	    settings_flow_table_fits(v->flow_table, v->algo, err,
				     sizeof(err)) ||
	    v->flow_table >= settings_flow_table.n ||
	    v->start_down >= settings_onoff.n ||
	    v->panic_pct > settings[SET_PANIC].max ||
	    v->slow_start_ms > settings[SET_SLOW_START].max ||
	    settings_start_down_fits(v->start_down, &v->check, err,
				     sizeof(err)) ||
	    (v->udp_idle && v->udp_idle < settings[SET_UDP_IDLE].min) ||
	    v->udp_idle > settings[SET_UDP_IDLE].max ||
	    (v->key.proto != IPPROTO_TCP && v->key.proto != IPPROTO_UDP) ||
	    !check_ok(&v->check))
		return -EINVAL;
	for (i = 0; i < v->nbe; i++) {
		struct conf_vip before = { .be = v->be, .nbe = i };

		if (!backend_ok(v, &v->be[i]) ||
		    conf_backend_find(&before, &v->be[i].addr, v->be[i].family))
			return -EINVAL;
	}
	return 0;
}

int conf_vip_add(struct xlb_conf *c, const struct conf_vip *v)
{
	struct conf_vip copy;
	int err;

	err = vip_ok(v);
	if (err)
		return err;
	if (conf_vip_find(c, &v->key))
		return -EEXIST;
	err = vip_copy(&copy, v);
	if (err)
		return err;
	/* A VIP built by hand (zeroed) has the default idle bound. */
	if (!copy.udp_idle)
		copy.udp_idle = (__u32)settings[SET_UDP_IDLE].def;
	err = append(&c->vips, c->nvips, sizeof(copy), &copy);
	if (err) {
		free(copy.be);
		return err;
	}
	c->nvips++;
	return 0;
}

int conf_vip_del(struct xlb_conf *c, const struct xlb_vip_key *k)
{
	struct conf_vip *v = conf_vip_find(c, k);
	size_t i;

	if (!v)
		return -ENOENT;
	i = v - c->vips;
	free(v->be);
	/* Keep the order: it is the order the file is written in. */
	memmove(v, v + 1, (c->nvips - i - 1) * sizeof(*v));
	if (!--c->nvips) {
		free(c->vips);
		c->vips = NULL;
	}
	return 0;
}

int conf_backend_add(struct conf_vip *v, const struct conf_backend *b)
{
	int err;

	if (!backend_ok(v, b))
		return -EINVAL;
	if (conf_backend_find(v, &b->addr, b->family))
		return -EEXIST;
	err = append(&v->be, v->nbe, sizeof(*b), b);
	if (err)
		return err;
	v->nbe++;
	return 0;
}

int conf_backend_del(struct conf_vip *v, const union xlb_addr *a, __u8 family)
{
	struct conf_backend *b = conf_backend_find(v, a, family);
	size_t i;

	if (!b)
		return -ENOENT;
	i = b - v->be;
	memmove(b, b + 1, (v->nbe - i - 1) * sizeof(*b));
	if (!--v->nbe) {
		free(v->be);
		v->be = NULL;
	}
	return 0;
}

/* ---- reading ---- */

static void __attribute__((format(printf, 5, 0)))
verr(char *err, size_t len, const char *name, size_t line, const char *fmt,
     va_list ap)
{
	int n;

	if (!err || !len)
		return;
	if (line)
		n = snprintf(err, len, "%s:%zu: ", name, line);
	else
		n = snprintf(err, len, "%s: ", name);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(err + n, len - n, fmt, ap);
}

static void __attribute__((format(printf, 5, 6)))
set_err(char *err, size_t len, const char *name, size_t line,
	const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, len, name, line, fmt, ap);
	va_end(ap);
}

struct parser {
	yaml_document_t doc;
	const char *name;
	char *err;
	size_t errlen;
	size_t nbackends;	/* in all VIPs, against XLB_MAX_BACKENDS */
};

static size_t node_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static void __attribute__((format(printf, 3, 4)))
report(struct parser *p, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p->err, p->errlen, p->name, node_line(n), fmt, ap);
	va_end(ap);
}

/* Report at node n's line and give -EINVAL for the caller to return. A
 * macro, so that the compiler sees the error is never 0. */
#define fail(p, n, ...)	(report((p), (n), __VA_ARGS__), -EINVAL)

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* An empty value ("key:", "~", "null") counts as if the key were absent.
 * Only unquoted: "null" in quotes is a string. */
static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *kind_name(const yaml_node_t *n)
{
	if (is_null(n))
		return "an empty value";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	default:
		return "a scalar";
	}
}

struct key;
typedef int (*key_fn)(struct parser *p, const struct key *k, yaml_node_t *v,
		      void *obj);

/* One key of a mapping: its handler and, for the generic handlers, where
 * the value goes in the object and its bounds. */
struct key {
	const char *name;		/* NULL: st's name in the file */
	const struct setting *st;	/* a row of the settings table */
	key_fn set;
	size_t off;			/* of the field in the object */
	size_t size;			/* of the field */
	unsigned long long min, max;	/* numbers (ms for durations) */
};

struct kind {
	const char *what;		/* in messages: "node", "backend" */
	const struct key *keys;
	size_t nkeys;			/* at most 64: a bit each */
	const char *required;		/* key that must be given, or NULL */
};

/* A key whose handler knows where its value goes. */
#define KEY(n, fn)	{ .name = (n), .set = (fn) }
/* A key that a generic handler stores in field f of type, within lo..hi
 * for numbers. */
#define FKEY(n, fn, type, f, lo, hi)					\
	{ .name = (n), .set = (fn), .off = offsetof(type, f),		\
	  .size = sizeof(((type *)0)->f), .min = (lo), .max = (hi) }

/* A row of the settings table in field f of type. */
#define SKEY(id, fn, type, f)						\
	{ .st = &settings[id], .set = (fn), .off = offsetof(type, f),	\
	  .size = sizeof(((type *)0)->f) }

static const char *key_name(const struct key *k)
{
	return k->name ? k->name : k->st->file;
}

static void *field(void *obj, const struct key *k)
{
	return (char *)obj + k->off;
}

static const struct key *kind_key(const struct kind *kind, const char *s)
{
	size_t i;

	for (i = 0; i < kind->nkeys; i++)
		if (!strcmp(key_name(&kind->keys[i]), s))
			return &kind->keys[i];
	return NULL;
}

static unsigned long long key_bit(const struct kind *kind, const char *s)
{
	const struct key *k = kind_key(kind, s);

	return k ? 1ULL << (k - kind->keys) : 0;
}

/* Call each key's handler on obj. *given gets a bit per key with a
 * non-empty value. */
static int walk(struct parser *p, yaml_node_t *map, const struct kind *kind,
		void *obj, unsigned long long *given)
{
	unsigned long long seen = 0, set = 0, bit;
	yaml_node_pair_t *pair;
	const struct key *k;
	yaml_node_t *kn, *vn;
	int err;

	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "expected a mapping for %s, got %s",
			    kind->what, kind_name(map));
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(&p->doc, pair->key);
		vn = yaml_document_get_node(&p->doc, pair->value);
		if (kn->type != YAML_SCALAR_NODE)
			return fail(p, kn, "expected a plain key in %s, got %s",
				    kind->what, kind_name(kn));
		k = kind_key(kind, scalar(kn));
		if (!k)
			return fail(p, kn, "unknown key '%s' in %s",
				    scalar(kn), kind->what);
		bit = 1ULL << (k - kind->keys);
		/* YAML wants unique keys; libyaml does not check. */
		if (seen & bit)
			return fail(p, kn, "duplicate key '%s' in %s", key_name(k),
				    kind->what);
		seen |= bit;
		if (is_null(vn))
			continue;
		set |= bit;
		err = k->set(p, k, vn, obj);
		if (err)
			return err;
	}
	if (kind->required && !(set & key_bit(kind, kind->required)))
		return fail(p, map, "%s has no '%s'", kind->what,
			    kind->required);
	if (given)
		*given = set;
	return 0;
}

/* The text of a scalar value; libyaml lets "\0" through in double
 * quotes, which no C string can carry. */
static int get_str(struct parser *p, const struct key *k, yaml_node_t *v,
		   const char **s)
{
	if (v->type != YAML_SCALAR_NODE)
		return fail(p, v, "expected a scalar for '%s', got %s",
			    key_name(k), kind_name(v));
	if (strlen(scalar(v)) != v->data.scalar.length)
		return fail(p, v, "'%s' contains a NUL character", key_name(k));
	/* libyaml's reader already holds the file to this; the control
	 * socket's text goes through the same function. */
	if (!settings_text_ok(scalar(v), v->data.scalar.length))
		return fail(p, v, "'%s' is not UTF-8 text", key_name(k));
	/* Escapes give control characters; only free text may have them,
	 * the rest is quoted in messages that must stay one line. */
	if ((!k->st || k->st->type != SETTING_TEXT) &&
	    !settings_line_ok(scalar(v), v->data.scalar.length))
		return fail(p, v, "'%s' contains a control character",
			    key_name(k));
	*s = scalar(v);
	return 0;
}

static void store_uint(void *dst, size_t size, unsigned long long v)
{
	switch (size) {
	case 1:
		*(__u8 *)dst = (__u8)v;
		break;
	case 2:
		*(__u16 *)dst = (__u16)v;
		break;
	default:
		*(__u32 *)dst = (__u32)v;
		break;
	}
}

static int get_uint(struct parser *p, const struct key *k, yaml_node_t *v,
		    unsigned long long *out)
{
	const char *s;
	int err;

	err = get_str(p, k, v, &s);
	if (err)
		return err;
	if (settings_parse_uint(s, out))
		return fail(p, v, "bad number '%s' for %s", s, key_name(k));
	if (*out < k->min || *out > k->max)
		return fail(p, v, "%s %s out of range %llu..%llu", key_name(k), s,
			    k->min, k->max);
	return 0;
}

static int set_uint(struct parser *p, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	unsigned long long n;
	int err;

	err = get_uint(p, k, v, &n);
	if (!err)
		store_uint(field(obj, k), k->size, n);
	return err;
}

/* A row of the settings table, through the parser all three share. */
static int set_setting(struct parser *p, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	char msg[CONF_ERR_MAX];
	unsigned long long n;
	const char *s;
	int err;

	err = get_str(p, k, v, &s);
	if (err)
		return err;
	if (settings_parse(k->st - settings, key_name(k), s, &n, msg,
			   sizeof(msg)))
		return fail(p, v, "%s", msg);
	store_uint(field(obj, k), k->size, n);
	return 0;
}

/* YAML 1.2's core schema spellings; yes/no/on/off are refused, not
 * guessed. */
static int set_bool(struct parser *p, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	static const char *const names[] = {
		"false", "False", "FALSE", "true", "True", "TRUE",
	};
	static const struct settings_names bools = {
		names, sizeof(names[0]), ARRAY_SIZE(names)
	};
	const char *s;
	int err, i;

	err = get_str(p, k, v, &s);
	if (err)
		return err;
	i = settings_lookup(&bools, s);
	if (i < 0)
		return fail(p, v, "bad boolean '%s' for %s (want true or false)",
			    s, key_name(k));
	*(bool *)field(obj, k) = i >= 3;
	return 0;
}

static int get_sized_str(struct parser *p, const struct key *k,
			 yaml_node_t *v, const char **s)
{
	int err = get_str(p, k, v, s);

	if (!err && strlen(*s) >= k->size)
		return fail(p, v, "%s is too long (at most %zu bytes)",
			    key_name(k), k->size - 1);
	return err;
}

static int set_str(struct parser *p, const struct key *k, yaml_node_t *v,
		   void *obj)
{
	const char *s;
	int err = get_sized_str(p, k, v, &s);

	if (!err)
		strcpy(field(obj, k), s);
	return err;
}

/* The daemon may chdir; a relative path would move with it. */
static int set_abs_path(struct parser *p, const struct key *k, yaml_node_t *v,
			void *obj)
{
	const char *s;
	int err = get_sized_str(p, k, v, &s);

	if (err)
		return err;
	if (s[0] != '/')
		return fail(p, v, "%s '%s' is not an absolute path", key_name(k),
			    s);
	strcpy(field(obj, k), s);
	return 0;
}

/* One of the names of t, its list in the message. */
static int get_name(struct parser *p, const struct key *k, yaml_node_t *v,
		    const struct settings_names *t)
{
	char want[128];
	const char *s;
	int err, i;

	err = get_str(p, k, v, &s);
	if (err)
		return err;
	i = settings_lookup(t, s);
	if (i < 0)
		return fail(p, v, "bad %s '%s' (want %s)", key_name(k), s,
			    settings_names_list(t, want, sizeof(want)));
	return i;
}

/* ---- node ---- */

/* As the kernel's dev_valid_name(): what it would refuse cannot exist. */
static int set_ifname(struct parser *p, const struct key *k, yaml_node_t *v,
		      void *obj)
{
	const char *s;
	int err = get_str(p, k, v, &s);

	if (err)
		return err;
	if (!*s || strlen(s) >= IF_NAMESIZE || !strcmp(s, ".") ||
	    !strcmp(s, "..") || strpbrk(s, "/: \t\n\r\v\f"))
		return fail(p, v, "bad interface name '%s'", s);
	strcpy(((struct conf_node *)obj)->ifname, s);
	return 0;
}

static int set_xdp_mode(struct parser *p, const struct key *k, yaml_node_t *v,
			void *obj)
{
	int i = get_name(p, k, v, &settings_xdp);

	if (i < 0)
		return i;
	((struct conf_node *)obj)->xdp_mode = i;
	return 0;
}

static int get_addr(struct parser *p, const struct key *k, yaml_node_t *v,
		    __u8 want, union xlb_addr *a)
{
	const char *s;
	__u8 family;
	int err;

	err = get_str(p, k, v, &s);
	if (err)
		return err;
	if (xlb_parse_addr(s, a, &family) || family != want)
		return fail(p, v, "bad IPv%u address '%s' for %s", want, s,
			    key_name(k));
	return 0;
}

static int set_src4(struct parser *p, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	struct conf_node *n = obj;
	union xlb_addr a;
	int err;

	err = get_addr(p, k, v, XLB_AF_INET, &a);
	if (err)
		return err;
	n->src4 = a.v4;
	n->has_src4 = true;
	return 0;
}

static int set_src6(struct parser *p, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	struct conf_node *n = obj;
	union xlb_addr a;
	int err;

	err = get_addr(p, k, v, XLB_AF_INET6, &a);
	if (err)
		return err;
	memcpy(n->src6, a.v6, sizeof(n->src6));
	n->has_src6 = true;
	return 0;
}

static int get_mac(struct parser *p, const struct key *k, yaml_node_t *v,
		   __u8 mac[6])
{
	const char *s;
	int err;

	err = get_str(p, k, v, &s);
	if (err)
		return err;
	if (xlb_parse_mac(s, mac))
		return fail(p, v, "bad MAC address '%s' for %s", s, key_name(k));
	return 0;
}

static int set_gw_mac(struct parser *p, const struct key *k, yaml_node_t *v,
		      void *obj)
{
	struct conf_node *n = obj;
	int err = get_mac(p, k, v, n->gw_mac);

	if (!err)
		n->has_gw = true;
	return err;
}

/* Maglev needs a prime ring size. */
static int set_ring(struct parser *p, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	unsigned long long n;
	int err;

	err = get_uint(p, k, v, &n);
	if (err)
		return err;
	if (!maglev_is_prime((uint32_t)n))
		return fail(p, v, "%s %llu is not prime", key_name(k), n);
	((struct conf_node *)obj)->ring_size = (__u32)n;
	return 0;
}

/* Validated through the VIP parser, which knows the bracket rules. */
int conf_metrics_set(struct conf_node *n, const char *s)
{
	char buf[CONF_STR_MAX + 8];
	struct xlb_vip_key vk;

	if (!strcmp(s, "off"))
		s = "";
	snprintf(buf, sizeof(buf), "%s/tcp", s);
	if (strlen(s) >= sizeof(n->metrics) ||
	    (*s && (xlb_parse_vip(buf, &vk) || !vk.port)))
		return -EINVAL;
	strcpy(n->metrics, s);
	n->has_metrics = true;
	return 0;
}

static int set_metrics(struct parser *p, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	const char *s;
	int err;

	err = get_sized_str(p, k, v, &s);
	if (err)
		return err;
	if (conf_metrics_set(obj, s))
		return fail(p, v, "bad metrics address '%s' (want ADDR:PORT, [ADDR]:PORT or off)",
			    s);
	return 0;
}

int conf_peer_add(struct conf_node *n, const char *s, char *err, size_t len)
{
	char text[XLB_ADDR_STRLEN + 2], *have, *save, *t;
	size_t npeers = 0, used = strlen(n->peers);
	union xlb_addr a;
	const char *why;
	__u8 family;

	if (xlb_parse_addr(s, &a, &family)) {
		snprintf(err, len, "bad peer address '%s'", s);
		return -EINVAL;
	}
	why = xlb_addr_unusable(&a, family);
	if (why) {
		snprintf(err, len, "peer address '%s' is %s", s, why);
		return -EINVAL;
	}
	xlb_format_addr(&a, family, text + 1, sizeof(text) - 1);
	text[0] = ' ';
	have = strdup(n->peers);
	if (!have) {
		snprintf(err, len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (t = strtok_r(have, " ", &save); t;
	     t = strtok_r(NULL, " ", &save), npeers++)
		if (!strcmp(t, text + 1)) {
			free(have);
			snprintf(err, len, "peer %s given twice", text + 1);
			return -EEXIST;
		}
	free(have);
	if (npeers >= CONF_PEERS_MAX ||
	    used + strlen(text) + 1 > sizeof(n->peers)) {
		snprintf(err, len, "more than %d peers", CONF_PEERS_MAX);
		return -E2BIG;
	}
	strcpy(n->peers + used, used ? text : text + 1);
	return 0;
}

/* A list of addresses; the file's list replaces any before it. */
static int set_peers(struct parser *p, const struct key *k, yaml_node_t *v,
		     void *obj)
{
	struct conf_node *n = obj;
	char err[CONF_ERR_MAX];
	yaml_node_item_t *it;
	yaml_node_t *item;
	const char *s;
	int rc;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, "expected a sequence for %s, got %s",
			    key_name(k), kind_name(v));
	n->peers[0] = '\0';
	for (it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&p->doc, *it);
		rc = get_str(p, k, item, &s);
		if (rc)
			return rc;
		if (conf_peer_add(n, s, err, sizeof(err)))
			return fail(p, item, "%s", err);
	}
	return 0;
}

static const struct key node_keys[] = {
	KEY("interface", set_ifname),
	KEY("xdp-mode", set_xdp_mode),
	KEY("source4", set_src4),
	KEY("source6", set_src6),
	KEY("gateway-mac", set_gw_mac),
	FKEY("flow-entries", set_uint, struct conf_node, flow_entries,
	     FLOWS_MIN, FLOWS_MAX),
	FKEY("unconfirmed-entries", set_uint, struct conf_node,
	     unconfirmed_entries, UNCONFIRMED_MIN, FLOWS_MAX),
	FKEY("confirm-rate", set_uint, struct conf_node, confirm_rate,
	     0, UINT32_MAX),
	FKEY("ring-size", set_ring, struct conf_node, ring_size,
	     RING_MIN, RING_MAX),
	FKEY("mtu", set_uint, struct conf_node, mtu, MTU_MIN, MTU_MAX),
	FKEY("icmp-too-big", set_bool, struct conf_node, icmp_too_big, 0, 0),
	FKEY("icmp-rate", set_uint, struct conf_node, icmp_rate,
	     0, ICMP_RATE_MAX),
	FKEY("gue-port", set_uint, struct conf_node, gue_port, 1, 65535),
	FKEY("metrics", set_metrics, struct conf_node, metrics, 0, 0),
	FKEY("control-socket", set_abs_path, struct conf_node, ctl_sock, 0, 0),
	FKEY("control-group", set_str, struct conf_node, ctl_group, 0, 0),
	FKEY("pin-root", set_abs_path, struct conf_node, pin_root, 0, 0),
	FKEY("state-file", set_abs_path, struct conf_node, state_file, 0, 0),
	FKEY("peer-key", set_abs_path, struct conf_node, peer_key, 0, 0),
	KEY("peers", set_peers),
	FKEY("peer-interval", set_uint, struct conf_node, peer_interval_ms,
	     CONF_PEER_INTERVAL_MIN, CONF_PEER_INTERVAL_MAX),
	FKEY("peer-dead", set_uint, struct conf_node, peer_dead,
	     CONF_PEER_DEAD_MIN, CONF_PEER_DEAD_MAX),
	FKEY("bird-socket", set_abs_path, struct conf_node, bird_sock, 0, 0),
	FKEY("bird-include", set_abs_path, struct conf_node, bird_include,
	     0, 0),
};

static const struct kind node_kind = {
	"node", node_keys, ARRAY_SIZE(node_keys), NULL,
};

static int set_node(struct parser *p, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	struct conf_node *n = &((struct xlb_conf *)obj)->node;
	unsigned long long given = 0;
	int err;

	(void)k;
	err = walk(p, v, &node_kind, n, &given);
	if (err)
		return err;
	/* One state file per interface, so that two daemons on one host
	 * keep apart. */
	if (!(given & key_bit(&node_kind, "state-file")) && n->ifname[0])
		snprintf(n->state_file, sizeof(n->state_file),
			 STATE_DIR "/%s.yaml", n->ifname);
	return 0;
}

/* ---- checks ---- */

struct check_parse {
	struct conf_check c;
	yaml_node_t *timeout;		/* where timeout was given */
};

static int set_http_path(struct parser *p, const struct key *k,
			 yaml_node_t *v, void *obj)
{
	const char *s;
	int err = get_sized_str(p, k, v, &s);

	if (err)
		return err;
	if (!settings_http_path_ok(s))
		return fail(p, v, "bad path '%s' (want /PATH, no blanks)", s);
	strcpy(((struct check_parse *)obj)->c.path, s);
	return 0;
}

static int set_host(struct parser *p, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	const char *s;
	int err = get_sized_str(p, k, v, &s);

	if (err)
		return err;
	if (!settings_http_token_ok(s))
		return fail(p, v, "bad host '%s' (no blanks)", s);
	strcpy(((struct check_parse *)obj)->c.host, s);
	return 0;
}

static int set_timeout(struct parser *p, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	((struct check_parse *)obj)->timeout = v;
	return set_setting(p, k, v, obj);
}

static const struct key check_keys[] = {
	SKEY(SET_CHECK_TYPE, set_setting, struct check_parse, c.type),
	SKEY(SET_PATH, set_http_path, struct check_parse, c.path),
	SKEY(SET_HOST, set_host, struct check_parse, c.host),
	SKEY(SET_EXPECT, set_setting, struct check_parse, c.expect_status),
	SKEY(SET_BODY, set_str, struct check_parse, c.body),
	SKEY(SET_PAYLOAD, set_str, struct check_parse, c.payload),
	SKEY(SET_INTERVAL, set_setting, struct check_parse, c.interval_ms),
	SKEY(SET_TIMEOUT, set_timeout, struct check_parse, c.timeout_ms),
	SKEY(SET_RISE, set_setting, struct check_parse, c.rise),
	SKEY(SET_FALL, set_setting, struct check_parse, c.fall),
	SKEY(SET_ERROR_RATE, set_setting, struct check_parse, c.error_pct),
	SKEY(SET_CHECK_PORT, set_setting, struct check_parse, c.port),
};

static const struct kind check_kind = {
	"check", check_keys, ARRAY_SIZE(check_keys), "type",
};

/* A check as a shorthand string or as a mapping, over the defaults. */
static int parse_check(struct parser *p, yaml_node_t *v, struct conf_check *c)
{
	static const struct key shorthand = { .name = "check" };
	struct check_parse cp = { .timeout = NULL };
	char msg[CONF_ERR_MAX];
	const char *s;
	int err;

	conf_check_defaults(&cp.c);
	if (v->type == YAML_SCALAR_NODE) {
		err = get_str(p, &shorthand, v, &s);
		if (err)
			return err;
		if (conf_parse_check(s, &cp.c))
			return fail(p, v, "bad check '%s' (want a mapping or %s)",
				    s, settings_check_list(msg, sizeof(msg)));
		*c = cp.c;
		return 0;
	}
	if (v->type != YAML_MAPPING_NODE)
		return fail(p, v, "expected a string or a mapping for check, got %s",
			    kind_name(v));
	err = walk(p, v, &check_kind, &cp, NULL);
	if (err)
		return err;
	if (settings_timeout_fits(&cp.c, cp.timeout != NULL, msg, sizeof(msg)))
		return fail(p, cp.timeout, "%s", msg);
	*c = cp.c;
	return 0;
}

/* ---- backends ---- */

struct be_parse {
	struct conf_backend b;
	yaml_node_t *addr;
	yaml_node_t *check;
};

static int set_be_addr(struct parser *p, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	struct be_parse *bp = obj;
	const char *s;
	int err;

	err = get_str(p, k, v, &s);
	if (err)
		return err;
	if (xlb_parse_addr(s, &bp->b.addr, &bp->b.family))
		return fail(p, v, "bad backend address '%s'", s);
	bp->addr = v;
	return 0;
}

static int set_be_mac(struct parser *p, const struct key *k, yaml_node_t *v,
		      void *obj)
{
	struct conf_backend *b = &((struct be_parse *)obj)->b;
	int err = get_mac(p, k, v, b->mac);

	if (!err)
		b->has_mac = true;
	return err;
}

static int set_be_check(struct parser *p, const struct key *k, yaml_node_t *v,
			void *obj)
{
	struct be_parse *bp = obj;
	int err;

	(void)k;
	err = parse_check(p, v, &bp->b.check);
	if (!err) {
		bp->b.has_check = true;
		bp->check = v;
	}
	return err;
}

static const struct key backend_keys[] = {
	SKEY(SET_ADDR, set_be_addr, struct be_parse, b.addr),
	SKEY(SET_WEIGHT, set_setting, struct be_parse, b.weight),
	SKEY(SET_MAC, set_be_mac, struct be_parse, b.mac),
	FKEY("drained", set_bool, struct be_parse, b.drained, 0, 0),
	FKEY("maint", set_bool, struct be_parse, b.maint, 0, 0),
	SKEY(SET_CAPACITY, set_setting, struct be_parse, b.capacity),
	SKEY(SET_CHECK, set_be_check, struct be_parse, b.check),
};

static const struct kind backend_kind = {
	"backend", backend_keys, ARRAY_SIZE(backend_keys), "addr",
};

/* What only the VIP tells: its address, protocol and mode. */
static int backend_fits(struct parser *p, const struct be_parse *bp,
			const struct conf_vip *v)
{
	char a[XLB_ADDR_STRLEN], vs[XLB_VIP_STRLEN], msg[CONF_ERR_MAX];

	xlb_format_addr(&bp->b.addr, bp->b.family, a, sizeof(a));
	xlb_format_vip(&v->key, vs, sizeof(vs));
	if (xlb_backend_addr_ok(&v->key, &bp->b.addr, bp->b.family, msg,
				sizeof(msg)))
		return fail(p, bp->addr, "%s", msg);
	if (conf_backend_find(v, &bp->b.addr, bp->b.family))
		return fail(p, bp->addr, "duplicate backend %s in VIP %s", a,
			    vs);
	if (v->mode == XLB_MODE_L2 && bp->b.family != v->key.family)
		return fail(p, bp->addr, "backend %s of VIP %s: l2 cannot change the address family",
			    a, vs);
	if (bp->b.has_check &&
	    settings_check_fits(&v->key, &bp->b.check, msg, sizeof(msg)))
		return fail(p, bp->check, "%s", msg);
	return 0;
}

static int parse_backend(struct parser *p, yaml_node_t *n, struct conf_vip *v)
{
	struct be_parse bp = { .addr = NULL };
	int err;

	backend_defaults(&bp.b);
	bp.b.line = (int)node_line(n);
	err = walk(p, n, &backend_kind, &bp, NULL) ?: backend_fits(p, &bp, v);
	if (err)
		return err;
	if (++p->nbackends > XLB_MAX_BACKENDS)
		return fail(p, n, "too many backends (at most %d in all VIPs)",
			    XLB_MAX_BACKENDS);
	err = append(&v->be, v->nbe, sizeof(bp.b), &bp.b);
	if (err)
		return err;
	v->nbe++;
	return 0;
}

/* ---- VIPs ---- */

struct vip_parse {
	struct conf_vip v;
	yaml_node_t *vip;		/* the vip: value, for messages */
	yaml_node_t *check;		/* the check: value, or NULL */
	yaml_node_t *adaptive;		/* the adaptive: value, or NULL */
	yaml_node_t *backends;		/* read last: they need mode and key */
};

static int set_vip_key(struct parser *p, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	struct vip_parse *vp = obj;
	char msg[CONF_ERR_MAX];
	const char *s;
	int err;

	err = get_str(p, k, v, &s);
	if (err)
		return err;
	if (xlb_parse_vip(s, &vp->v.key))
		return fail(p, v, "bad VIP '%s' (want " XLB_VIP_FORM ")", s);
	if (xlb_vip_addr_ok(&vp->v.key, msg, sizeof(msg)))
		return fail(p, v, "%s", msg);
	vp->vip = v;
	return 0;
}

static int set_vip_check(struct parser *p, const struct key *k,
			 yaml_node_t *v, void *obj)
{
	struct vip_parse *vp = obj;

	(void)k;
	vp->check = v;
	return parse_check(p, v, &vp->v.check);
}

static int set_vip_adaptive(struct parser *p, const struct key *k,
			    yaml_node_t *v, void *obj)
{
	((struct vip_parse *)obj)->adaptive = v;
	return set_setting(p, k, v, obj);
}

static int set_vip_backends(struct parser *p, const struct key *k,
			    yaml_node_t *v, void *obj)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, "expected a sequence for %s, got %s",
			    key_name(k), kind_name(v));
	((struct vip_parse *)obj)->backends = v;
	return 0;
}

static const struct key vip_keys[] = {
	SKEY(SET_VIP, set_vip_key, struct vip_parse, v.key),
	SKEY(SET_ALGO, set_setting, struct vip_parse, v.algo),
	SKEY(SET_ENCAP, set_setting, struct vip_parse, v.mode),
	SKEY(SET_CHECK, set_vip_check, struct vip_parse, v.check),
	SKEY(SET_ALL_DOWN, set_setting, struct vip_parse, v.all_down),
	SKEY(SET_ADAPTIVE, set_vip_adaptive, struct vip_parse, v.adaptive),
	SKEY(SET_FLOW_TABLE, set_setting, struct vip_parse, v.flow_table),
	SKEY(SET_UDP_IDLE, set_setting, struct vip_parse, v.udp_idle),
	SKEY(SET_START_DOWN, set_setting, struct vip_parse, v.start_down),
	SKEY(SET_PANIC, set_setting, struct vip_parse, v.panic_pct),
	SKEY(SET_SLOW_START, set_setting, struct vip_parse, v.slow_start_ms),
	KEY("backends", set_vip_backends),
};

static const struct kind vip_kind = {
	"VIP", vip_keys, ARRAY_SIZE(vip_keys), "vip",
};

/* The check against the VIP, adaptive weights against the check. */
static int vip_fits(struct parser *p, const struct vip_parse *vp)
{
	char msg[CONF_ERR_MAX];

	if (settings_check_fits(&vp->v.key, &vp->v.check, msg, sizeof(msg)))
		return fail(p, vp->check ?: vp->vip, "%s", msg);
	if (settings_adaptive_fits(vp->v.adaptive, &vp->v.check, msg,
				   sizeof(msg)))
		return fail(p, vp->adaptive, "%s", msg);
	if (settings_flow_table_fits(vp->v.flow_table, vp->v.algo, msg,
				     sizeof(msg)))
		return fail(p, vp->vip, "%s", msg);
	if (settings_start_down_fits(vp->v.start_down, &vp->v.check, msg,
				     sizeof(msg)))
		return fail(p, vp->vip, "%s", msg);
	return 0;
}

static int parse_backends(struct parser *p, yaml_node_t *seq,
			  struct conf_vip *v)
{
	yaml_node_item_t *it;
	int err;

	for (it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		err = parse_backend(p, yaml_document_get_node(&p->doc, *it), v);
		if (err)
			return err;
	}
	return 0;
}

static int parse_vip(struct parser *p, yaml_node_t *n, struct xlb_conf *c)
{
	struct vip_parse vp = { .vip = NULL };
	char vs[XLB_VIP_STRLEN];
	int err;

	vip_defaults(&vp.v);
	vp.v.line = (int)node_line(n);
	err = walk(p, n, &vip_kind, &vp, NULL) ?: vip_fits(p, &vp);
	if (err)
		return err;
	if (conf_vip_find(c, &vp.v.key))
		return fail(p, vp.vip, "duplicate VIP %s",
			    xlb_format_vip(&vp.v.key, vs, sizeof(vs)));
	if (c->nvips >= XLB_MAX_VIPS)
		return fail(p, n, "too many VIPs (at most %d)", XLB_MAX_VIPS);
	if (vp.backends)
		err = parse_backends(p, vp.backends, &vp.v);
	if (!err)
		err = append(&c->vips, c->nvips, sizeof(vp.v), &vp.v);
	if (err) {
		free(vp.v.be);
		return err;
	}
	c->nvips++;
	return 0;
}

static int set_vips(struct parser *p, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	yaml_node_item_t *it;
	int err;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, "expected a sequence for %s, got %s",
			    key_name(k), kind_name(v));
	for (it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		err = parse_vip(p, yaml_document_get_node(&p->doc, *it), obj);
		if (err)
			return err;
	}
	return 0;
}

static const struct key top_keys[] = {
	KEY("node", set_node),
	KEY("vips", set_vips),
};

static const struct kind top_kind = {
	"the top level", top_keys, ARRAY_SIZE(top_keys), NULL,
};

/* ---- documents ---- */

/* libyaml gives reader errors (bad UTF-8, control characters) as a byte
 * offset only. */
static size_t offset_line(const char *text, size_t len, size_t off)
{
	size_t i, line = 1;

	for (i = 0; i < off && i < len; i++)
		line += text[i] == '\n';
	return line;
}

static int syntax_error(struct parser *p, const yaml_parser_t *yp,
			const char *text, size_t len)
{
	const char *problem = yp->problem ? yp->problem : "syntax error";
	size_t line;

	if (yp->error == YAML_MEMORY_ERROR) {
		set_err(p->err, p->errlen, p->name, 0, "out of memory");
		return -ENOMEM;
	}
	if (yp->error == YAML_READER_ERROR)
		line = offset_line(text, len, yp->problem_offset);
	else
		line = yp->problem_mark.line + 1;
	if (yp->context)
		set_err(p->err, p->errlen, p->name, line, "%s (%s at line %zu)",
			problem, yp->context, yp->context_mark.line + 1);
	else
		set_err(p->err, p->errlen, p->name, line, "%s", problem);
	return -EINVAL;
}

/* A second document would be silently ignored: refuse it. */
static int no_second_document(struct parser *p, yaml_parser_t *yp,
			      const char *text, size_t len)
{
	yaml_document_t doc;
	yaml_node_t *root;
	int err = 0;

	if (!yaml_parser_load(yp, &doc))
		return syntax_error(p, yp, text, len);
	root = yaml_document_get_root_node(&doc);
	if (root)
		err = fail(p, root, "more than one YAML document");
	yaml_document_delete(&doc);
	return err;
}

static int parse_text(const char *text, size_t len, const char *name,
		      struct xlb_conf *out, char *err, size_t errlen)
{
	struct parser p = { .name = name, .err = err, .errlen = errlen };
	yaml_parser_t yp;
	yaml_node_t *root;
	struct xlb_conf c;
	int ret;

	conf_init(out);
	if (err && errlen)
		err[0] = '\0';
	if (!yaml_parser_initialize(&yp)) {
		set_err(err, errlen, name, 0, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &p.doc)) {
		ret = syntax_error(&p, &yp, text, len);
		yaml_parser_delete(&yp);
		return ret;
	}
	conf_init(&c);
	root = yaml_document_get_root_node(&p.doc);
	ret = 0;
	/* An empty file, or one with only comments, is the defaults. */
	if (root && !is_null(root))
		ret = walk(&p, root, &top_kind, &c, NULL);
	if (!ret && root)
		ret = no_second_document(&p, &yp, text, len);
	yaml_document_delete(&p.doc);
	yaml_parser_delete(&yp);
	if (ret)
		conf_free(&c);
	else
		*out = c;
	return ret;
}

int conf_parse_string(const char *text, const char *name,
		      struct xlb_conf *out, char *err, size_t len)
{
	return parse_text(text, strlen(text), name ? name : "<string>", out,
			  err, len);
}

static int read_file(const char *path, char **text, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			nb = cap > CONF_FILE_MAX ? NULL : realloc(buf, cap);
			if (!nb) {
				err = cap > CONF_FILE_MAX ? -EFBIG : -ENOMEM;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = n;
	return 0;
}

int conf_load(const char *path, struct xlb_conf *out, char *err, size_t len)
{
	char *text = NULL;
	size_t n = 0;
	int ret;

	conf_init(out);
	ret = read_file(path, &text, &n);
	if (ret) {
		set_err(err, len, path, 0, "%s", strerror(-ret));
		return ret;
	}
	/* By length: a NUL byte in the file is libyaml's to refuse. */
	ret = parse_text(text ? text : "", n, path, out, err, len);
	free(text);
	return ret;
}

/* ---- writing ---- */

struct writer {
	yaml_emitter_t em;
	int err;			/* first error, sticky */
};

/* Hand ev (initialised if ok) to the emitter, which owns it from here. */
static void emit(struct writer *w, yaml_event_t *ev, int ok)
{
	if (!ok) {
		/* Init fails on memory or on text that is not UTF-8. */
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	if (w->err) {
		yaml_event_delete(ev);
		return;
	}
	if (yaml_emitter_emit(&w->em, ev))
		return;
	switch (w->em.error) {
	case YAML_MEMORY_ERROR:
		w->err = -ENOMEM;
		break;
	case YAML_WRITER_ERROR:
		w->err = -EIO;
		break;
	default:
		w->err = -EINVAL;
		break;
	}
}

static void w_map(struct writer *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						YAML_BLOCK_MAPPING_STYLE));
}

static void w_map_end(struct writer *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void w_seq(struct writer *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						YAML_BLOCK_SEQUENCE_STYLE));
}

static void w_seq_end(struct writer *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_sequence_end_event_initialize(&ev));
}

/* Plain where the emitter allows it (it quotes "[2001:db8::1]:80/tcp"
 * by itself). */
static void w_scalar(struct writer *w, const char *s, size_t len,
		     yaml_scalar_style_t style)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
						  (const yaml_char_t *)s,
						  (int)len, 1, 1, style));
}

static void w_key(struct writer *w, const char *key)
{
	w_scalar(w, key, strlen(key), YAML_PLAIN_SCALAR_STYLE);
}

static void w_plain(struct writer *w, const char *key, const char *val)
{
	w_key(w, key);
	w_scalar(w, val, strlen(val), YAML_PLAIN_SCALAR_STYLE);
}

/* Free text always in double quotes: "true", "100" or "" stay strings for
 * any YAML reader, and escapes carry any character back. */
static void w_text(struct writer *w, const char *key, const char *val,
		   size_t size)
{
	w_key(w, key);
	w_scalar(w, val, strnlen(val, size), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void w_uint(struct writer *w, const char *key, unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", v);
	w_plain(w, key, buf);
}

static void w_bool(struct writer *w, const char *key, bool v)
{
	w_plain(w, key, v ? "true" : "false");
}

static void w_ms(struct writer *w, const char *key, unsigned long long ms)
{
	char buf[24];

	w_plain(w, key, settings_fmt_ms(ms, buf, sizeof(buf)));
}

static void w_addr(struct writer *w, const char *key, const void *a,
		   __u8 family)
{
	union xlb_addr u = { .v4 = 0 };
	char buf[XLB_ADDR_STRLEN];

	memcpy(&u, a, family == XLB_AF_INET ? 4 : 16);
	w_plain(w, key, xlb_format_addr(&u, family, buf, sizeof(buf)));
}

static void w_mac(struct writer *w, const char *key, const __u8 m[6])
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	w_plain(w, key, buf);
}

/* Only when set: a node without peers writes what it always wrote. */
static void write_peers(struct writer *w, const struct conf_node *n)
{
	const char *p = n->peers, *sp;

	if (n->peer_key[0])
		w_text(w, "peer-key", n->peer_key, sizeof(n->peer_key));
	if (*p) {
		w_key(w, "peers");
		w_seq(w);
		for (; *p; p = *sp ? sp + 1 : sp) {
			sp = strchrnul(p, ' ');
			w_scalar(w, p, (size_t)(sp - p),
				 YAML_DOUBLE_QUOTED_SCALAR_STYLE);
		}
		w_seq_end(w);
	}
	if (n->peer_interval_ms != CONF_PEER_INTERVAL_DEF)
		w_uint(w, "peer-interval", n->peer_interval_ms);
	if (n->peer_dead != CONF_PEER_DEAD_DEF)
		w_uint(w, "peer-dead", n->peer_dead);
}

static void write_node(struct writer *w, const struct conf_node *n)
{
	w_map(w);
	if (n->ifname[0])
		w_text(w, "interface", n->ifname, sizeof(n->ifname));
	w_plain(w, "xdp-mode",
		(unsigned int)n->xdp_mode < settings_xdp.n ?
		settings_name(&settings_xdp, n->xdp_mode) : "?");
	if (n->has_src4)
		w_addr(w, "source4", &n->src4, XLB_AF_INET);
	if (n->has_src6)
		w_addr(w, "source6", n->src6, XLB_AF_INET6);
	if (n->has_gw)
		w_mac(w, "gateway-mac", n->gw_mac);
	w_uint(w, "flow-entries", n->flow_entries);
	w_uint(w, "unconfirmed-entries", n->unconfirmed_entries);
	w_uint(w, "confirm-rate", n->confirm_rate);
	w_uint(w, "ring-size", n->ring_size);
	w_uint(w, "mtu", n->mtu);
	w_bool(w, "icmp-too-big", n->icmp_too_big);
	w_uint(w, "icmp-rate", n->icmp_rate);
	w_uint(w, "gue-port", n->gue_port);
	if (n->has_metrics)	/* "" too: off is not the default */
		w_text(w, "metrics", n->metrics, sizeof(n->metrics));
	w_text(w, "control-socket", n->ctl_sock, sizeof(n->ctl_sock));
	if (n->ctl_group[0])
		w_text(w, "control-group", n->ctl_group, sizeof(n->ctl_group));
	w_text(w, "pin-root", n->pin_root, sizeof(n->pin_root));
	w_text(w, "state-file", n->state_file, sizeof(n->state_file));
	write_peers(w, n);
	if (n->bird_sock[0])
		w_text(w, "bird-socket", n->bird_sock, sizeof(n->bird_sock));
	if (n->bird_include[0])
		w_text(w, "bird-include", n->bird_include,
		       sizeof(n->bird_include));
	w_map_end(w);
}

/* The full mapping, less what is both irrelevant to the type and at its
 * default: reading it back gives the same check. */
static void write_check(struct writer *w, const struct conf_check *c)
{
	struct conf_check def;
	char buf[16];

	conf_check_defaults(&def);
	if (c->type == CONF_CHECK_NONE && check_equal(c, &def)) {
		w_plain(w, "check", "none");
		return;
	}
	w_key(w, "check");
	w_map(w);
	w_plain(w, "type", conf_check_name(c->type));
	if (settings_applies(SET_PATH, c->type) || strcmp(c->path, def.path))
		w_text(w, "path", c->path, sizeof(c->path));
	if (c->host[0])
		w_text(w, "host", c->host, sizeof(c->host));
	if (settings_applies(SET_EXPECT, c->type) ||
	    c->expect_status != def.expect_status)
		w_uint(w, "expect", c->expect_status);
	if (c->body[0])
		w_text(w, "body", c->body, sizeof(c->body));
	if (c->payload[0])
		w_text(w, "payload", c->payload, sizeof(c->payload));
	w_ms(w, "interval", c->interval_ms);
	w_ms(w, "timeout", c->timeout_ms);
	w_uint(w, "rise", c->rise);
	w_uint(w, "fall", c->fall);
	if (c->error_pct != def.error_pct)
		w_plain(w, "error-rate", settings_fmt_pct(c->error_pct, buf,
						 sizeof(buf)));
	if (c->port)
		w_uint(w, "port", c->port);
	w_map_end(w);
}

static void write_backend(struct writer *w, const struct conf_backend *b)
{
	w_map(w);
	w_addr(w, "addr", &b->addr, b->family);
	w_uint(w, "weight", b->weight);
	if (b->has_mac)
		w_mac(w, "mac", b->mac);
	if (b->drained)
		w_bool(w, "drained", true);
	if (b->maint)
		w_bool(w, "maint", true);
	if (b->capacity)
		w_uint(w, "capacity", b->capacity);
	if (b->has_check)
		write_check(w, &b->check);
	w_map_end(w);
}

static void write_vip(struct writer *w, const struct conf_vip *v)
{
	char buf[XLB_VIP_STRLEN];
	size_t i;

	w_map(w);
	w_plain(w, "vip", xlb_format_vip(&v->key, buf, sizeof(buf)));
	w_plain(w, "algo", conf_algo_name(v->algo));
	w_plain(w, "encap", conf_mode_name(v->mode));
	write_check(w, &v->check);
	/* The defaults are left out: files written before these keys
	 * existed stay as they were. */
	if (v->all_down != CONF_ALL_DOWN_OPEN)
		w_plain(w, "all-down", conf_all_down_name(v->all_down));
	if (v->adaptive != CONF_ADAPTIVE_OFF)
		w_plain(w, "adaptive", conf_adaptive_name(v->adaptive));
	if (v->flow_table != settings[SET_FLOW_TABLE].def)
		w_plain(w, "flow-table", conf_flow_table_name(v->flow_table));
	if (v->udp_idle != settings[SET_UDP_IDLE].def)
		w_uint(w, "udp-idle", v->udp_idle);
	if (v->start_down != settings[SET_START_DOWN].def)
		w_plain(w, "start-down", conf_onoff_name(v->start_down));
	if (v->panic_pct)
		w_plain(w, "panic", settings_fmt_pct(v->panic_pct, buf,
						     sizeof(buf)));
	if (v->slow_start_ms)
		w_plain(w, "slow-start", settings_fmt_ms(v->slow_start_ms, buf,
							 sizeof(buf)));
	w_key(w, "backends");
	w_seq(w);
	for (i = 0; i < v->nbe; i++)
		write_backend(w, &v->be[i]);
	w_seq_end(w);
	w_map_end(w);
}

int conf_write(const struct xlb_conf *c, FILE *f)
{
	struct writer w = { .err = 0 };
	yaml_event_t ev;
	size_t i;

	if (!yaml_emitter_initialize(&w.em))
		return -ENOMEM;
	yaml_emitter_set_output_file(&w.em, f);
	yaml_emitter_set_unicode(&w.em, 1);
	/* No folding of long strings: one key, one line. */
	yaml_emitter_set_width(&w.em, -1);
	fputs("# xlb configuration, see xlb.conf(5)\n", f);
	emit(&w, &ev,
	     yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(&w, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL,
							   NULL, 1));
	w_map(&w);
	w_key(&w, "node");
	write_node(&w, &c->node);
	w_key(&w, "vips");
	w_seq(&w);
	for (i = 0; i < c->nvips; i++)
		write_vip(&w, &c->vips[i]);
	w_seq_end(&w);
	w_map_end(&w);
	emit(&w, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&w, &ev, yaml_stream_end_event_initialize(&ev));
	yaml_emitter_delete(&w.em);
	if (!w.err && ferror(f))
		w.err = -EIO;
	return w.err;
}

/* ---- saving ---- */

static int write_conf(FILE *f, const void *c)
{
	return conf_write(c, f);
}

int conf_save(const struct xlb_conf *c, const char *path)
{
	return xlb_save_atomic(path, write_conf, c);
}
