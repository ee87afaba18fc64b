// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd's control socket: the protocol of ctl.h. Each write verb edits a
 * copy of the running configuration and applies it as a diff, so the data
 * plane, the running configuration and the state file change together or
 * not at all. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "active.h"
#include "addr.h"
#include "bird.h"
#include "ctl.h"
#include "ctlproto.h"
#include "loop.h"
#include "group.h"
#include "peer.h"
#include "xlbd.h"

struct req {
	json_object *in;
	json_object *out;
	char err[CONF_ERR_MAX];
};

static int fail(struct req *r, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct req *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc ? rc : -EINVAL;
}

static const char *str_arg(struct req *r, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(r->in, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A setting given as a number or a name, read through the parser the file
 * uses (ctl_parse_request has checked its JSON type; a number's text is
 * as the client wrote it). Absent is fine: *present false. */
static int setting_arg(struct req *r, enum setting_id id,
		       unsigned long long *out, bool *present)
{
	const char *name = settings[id].member;
	json_object *v;

	*present = json_object_object_get_ex(r->in, name, &v);
	if (!*present)
		return 0;
	if (settings_parse(id, name, json_object_get_string(v), out, r->err,
			   sizeof(r->err)))
		return -EINVAL;
	return 0;
}

/* A name setting into a __u8 field, kept at its default if absent. */
static int name_arg(struct req *r, enum setting_id id, __u8 *field)
{
	unsigned long long v;
	bool has;
	int rc = setting_arg(r, id, &v, &has);

	if (!rc && has)
		*field = (__u8)v;
	return rc;
}

static int vip_arg(struct req *r, struct xlb_vip_key *k)
{
	const char *s = str_arg(r, "vip");

	if (!s)
		return fail(r, -EINVAL, "missing vip");
	if (xlb_parse_vip(s, k))
		return fail(r, -EINVAL, "bad VIP '%s' (want " XLB_VIP_FORM ")",
			    s);
	return 0;
}

static int addr_arg(struct req *r, union xlb_addr *a, __u8 *family)
{
	const char *s = str_arg(r, "addr");

	if (!s)
		return fail(r, -EINVAL, "missing addr");
	if (xlb_parse_addr(s, a, family))
		return fail(r, -EINVAL, "bad address '%s'", s);
	return 0;
}

static struct conf_vip *find_vip(struct req *r, struct xlb_conf *c,
				 const struct xlb_vip_key *k)
{
	struct conf_vip *v = conf_vip_find(c, k);
	char name[XLB_VIP_STRLEN];

	if (!v)
		fail(r, -ENOENT, "no VIP %s",
		     xlb_format_vip(k, name, sizeof(name)));
	return v;
}

static struct conf_backend *find_be(struct req *r, struct conf_vip *v,
				    const union xlb_addr *a, __u8 family)
{
	struct conf_backend *b = conf_backend_find(v, a, family);
	char name[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];

	if (!b)
		fail(r, -ENOENT, "no backend %s in VIP %s",
		     xlb_format_addr(a, family, addr, sizeof(addr)),
		     xlb_format_vip(&v->key, name, sizeof(name)));
	return b;
}

/* The check settings a request may carry (ctlproto.c's CHECK_MEMBERS),
 * onto c: a new VIP's defaults, or the check being edited. Whether any
 * was given: *given. */
static int check_args(struct req *r, struct conf_check *c, bool *given)
{
	static const enum setting_id nums[] = {
		SET_INTERVAL, SET_TIMEOUT, SET_RISE, SET_FALL, SET_ERROR_RATE,
		SET_CHECK_PORT, SET_EXPECT,
	};
	static const enum setting_id texts[] = {
		SET_PATH, SET_HOST, SET_BODY, SET_PAYLOAD,
	};
	const char *s = str_arg(r, settings[SET_CHECK].member);
	bool has, timeout_given = false;
	unsigned long long v;
	char want[128];
	size_t i;
	int rc;

	*given = s != NULL;
	if (s && conf_parse_check(s, c))
		return fail(r, -EINVAL, "bad check '%s' (want %s)", s,
			    settings_check_list(want, sizeof(want)));
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		rc = setting_arg(r, nums[i], &v, &has);
		if (rc)
			return rc;
		if (has)
			settings_check_store(c, nums[i], v);
		timeout_given |= has && nums[i] == SET_TIMEOUT;
		*given |= has;
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		s = str_arg(r, settings[texts[i]].member);
		if (s && settings_check_text(c, texts[i],
					     settings[texts[i]].member, s,
					     r->err, sizeof(r->err)))
			return -EINVAL;
		*given |= s != NULL;
	}
	return settings_timeout_fits(c, timeout_given, r->err, sizeof(r->err));
}

/* A VIP's settings from a request onto v (a new VIP's defaults, or the
 * VIP being edited), then whether they fit together. */
static int vip_settings(struct req *r, struct conf_vip *v)
{
	unsigned long long idle, panic, slow;
	bool has_idle, has_check, has_panic, has_slow;
	int rc;

	rc = name_arg(r, SET_ALGO, &v->algo) ?:
	     name_arg(r, SET_ENCAP, &v->mode) ?:
	     name_arg(r, SET_ALL_DOWN, &v->all_down) ?:
	     name_arg(r, SET_ADAPTIVE, &v->adaptive) ?:
	     name_arg(r, SET_FLOW_TABLE, &v->flow_table) ?:
	     name_arg(r, SET_START_DOWN, &v->start_down) ?:
	     setting_arg(r, SET_UDP_IDLE, &idle, &has_idle) ?:
	     setting_arg(r, SET_PANIC, &panic, &has_panic) ?:
	     setting_arg(r, SET_SLOW_START, &slow, &has_slow) ?:
	     check_args(r, &v->check, &has_check);
	if (rc)
		return rc;
	if (has_idle)
		v->udp_idle = (__u32)idle;
	if (has_panic)
		v->panic_pct = (__u32)panic;
	if (has_slow)
		v->slow_start_ms = (__u32)slow;
	return settings_check_fits(&v->key, &v->check, r->err,
				   sizeof(r->err)) ?:
	       settings_adaptive_fits(v->adaptive, &v->check, r->err,
				      sizeof(r->err)) ?:
	       settings_flow_table_fits(v->flow_table, v->algo, r->err,
					sizeof(r->err)) ?:
	       settings_start_down_fits(v->start_down, &v->check, r->err,
					sizeof(r->err));
}

static int do_vip_add(struct req *r, struct xlb_conf *c)
{
	struct conf_vip v = {
		.algo = (__u8)settings[SET_ALGO].def,
		.mode = (__u8)settings[SET_ENCAP].def,
		.all_down = (__u8)settings[SET_ALL_DOWN].def,
		.adaptive = (__u8)settings[SET_ADAPTIVE].def,
		.flow_table = (__u8)settings[SET_FLOW_TABLE].def,
		.udp_idle = (__u32)settings[SET_UDP_IDLE].def,
		.start_down = (__u8)settings[SET_START_DOWN].def,
	};
	char name[XLB_VIP_STRLEN];
	int rc;

	conf_check_defaults(&v.check);
	rc = vip_arg(r, &v.key);
	if (!rc)
		rc = xlb_vip_addr_ok(&v.key, r->err, sizeof(r->err));
	rc = rc ?: vip_settings(r, &v);
	if (rc)
		return rc;
	rc = conf_vip_add(c, &v);
	if (rc == -EEXIST)
		return fail(r, rc, "VIP %s exists",
			    xlb_format_vip(&v.key, name, sizeof(name)));
	return rc;
}

/* Any setting of a VIP in place (ipvsadm -E): what is not given stays;
 * apply.c rebuilds only what changed, backends and flows kept. */
static int do_vip_set(struct req *r, struct xlb_conf *c)
{
	char name[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	struct xlb_vip_key k;
	struct conf_vip *v;
	size_t i;
	int rc = vip_arg(r, &k);

	if (rc)
		return rc;
	v = find_vip(r, c, &k);
	if (!v)
		return -ENOENT;
	if (json_object_object_length(r->in) <= 2)	/* cmd, vip */
		return fail(r, -EINVAL, "nothing to set");
	rc = vip_settings(r, v);
	if (rc)
		return rc;
	xlb_format_vip(&k, name, sizeof(name));
	for (i = 0; i < v->nbe; i++)
		if (v->mode == XLB_MODE_L2 && v->be[i].family != k.family)
			return fail(r, -EINVAL, "l2 cannot change the address "
				    "family (%s behind %s)",
				    xlb_format_addr(&v->be[i].addr,
						    v->be[i].family, addr,
						    sizeof(addr)), name);
	return 0;
}

static int do_vip_del(struct req *r, struct xlb_conf *c)
{
	struct xlb_vip_key k;
	int rc = vip_arg(r, &k);

	if (!rc && !find_vip(r, c, &k))
		return -ENOENT;
	return rc ?: conf_vip_del(c, &k);
}

static int backend_add(struct req *r, struct conf_vip *v,
		       struct conf_backend *nb)
{
	char name[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	unsigned long long w = settings[SET_WEIGHT].def;
	const char *s;
	bool has;
	int rc;

	xlb_format_vip(&v->key, name, sizeof(name));
	xlb_format_addr(&nb->addr, nb->family, addr, sizeof(addr));
	rc = xlb_backend_addr_ok(&v->key, &nb->addr, nb->family, r->err,
				 sizeof(r->err)) ?:
	     setting_arg(r, SET_WEIGHT, &w, &has);
	if (rc)
		return rc;
	nb->weight = (__u32)w;
	rc = setting_arg(r, SET_CAPACITY, &w, &has);
	if (rc)
		return rc;
	if (has)
		nb->capacity = (__u32)w;
	if ((s = str_arg(r, settings[SET_MAC].member))) {
		if (xlb_parse_mac(s, nb->mac))
			return fail(r, -EINVAL, "bad MAC '%s'", s);
		nb->has_mac = true;
	}
	if (v->mode == XLB_MODE_L2 && nb->family != v->key.family)
		return fail(r, -EINVAL, "l2 cannot change the address "
			    "family (%s behind %s)", addr, name);
	state_backend_new(v, nb, v->nbe > 0);	/* ramps among others */
	rc = conf_backend_add(v, nb);
	if (rc == -EEXIST)
		return fail(r, rc, "backend %s already in VIP %s", addr, name);
	return rc;
}

/* A backend's weight and its own check, which overrides the VIP's: the
 * settings given go onto its check (or a copy of the VIP's); check_inherit
 * drops it, back to the VIP's. */
static int backend_set(struct req *r, struct conf_vip *v,
		       struct conf_backend *b)
{
	struct conf_check ck = b->has_check ? b->check : v->check;
	unsigned long long w, cap;
	bool has_w, has_check, has_cap, inherit = false;
	json_object *o;
	int rc;

	if (json_object_object_get_ex(r->in, "check_inherit", &o))
		inherit = json_object_get_boolean(o);
	rc = setting_arg(r, SET_WEIGHT, &w, &has_w) ?:
	     setting_arg(r, SET_CAPACITY, &cap, &has_cap) ?:
	     check_args(r, &ck, &has_check);
	if (rc)
		return rc;
	if (inherit && has_check)
		return fail(r, -EINVAL, "check-inherit drops the backend's "
			    "check: give no check setting with it");
	if (!has_w && !has_check && !inherit && !has_cap)
		return fail(r, -EINVAL, "nothing to set (weight, capacity, a "
			    "check setting or check-inherit)");
	if (has_cap)
		b->capacity = (__u32)cap;
	if (has_check) {
		rc = settings_check_fits(&v->key, &ck, r->err, sizeof(r->err));
		if (rc)
			return rc;
		b->check = ck;
		b->has_check = true;
	}
	if (inherit)
		b->has_check = false;
	if (has_w)
		b->weight = (__u32)w;
	return 0;
}

static int do_backend(struct req *r, struct xlb_conf *c, const char *verb)
{
	struct conf_backend nb = {}, *b;
	struct xlb_vip_key k;
	struct conf_vip *v;
	unsigned long long w;
	bool has;
	int rc;

	rc = vip_arg(r, &k) ?: addr_arg(r, &nb.addr, &nb.family);
	if (rc)
		return rc;
	v = find_vip(r, c, &k);
	if (!v)
		return -ENOENT;
	if (!strcmp(verb, "backend-add"))
		return backend_add(r, v, &nb);
	b = find_be(r, v, &nb.addr, nb.family);
	if (!b)
		return -ENOENT;
	if (!strcmp(verb, "backend-del"))
		return conf_backend_del(v, &nb.addr, nb.family);
	if (!strcmp(verb, "backend-drain") || !strcmp(verb, "backend-undrain")) {
		b->drained = !strcmp(verb, "backend-drain");
		return 0;
	}
	if (!strcmp(verb, "backend-maint")) {
		b->maint = true;
		return 0;
	}
	if (!strcmp(verb, "backend-ready")) {
		/* Its checks start afresh: back as a new one would be. */
		if (b->maint)
			state_backend_new(v, b, true);
		b->maint = false;
		return 0;
	}
	if (!strcmp(verb, "backend-set"))
		return backend_set(r, v, b);
	rc = setting_arg(r, SET_WEIGHT, &w, &has);
	if (!rc && !has)
		return fail(r, -EINVAL, "missing weight");
	if (!rc)
		b->weight = (__u32)w;
	return rc;
}

static void reply_vips(struct xlbd *d, struct req *r)
{
	json_object *vips = xlbd_vips_json(d), *first;

	first = xlbd_first_saturation(vips);
	if (first)
		json_object_object_add(r->out, "saturates_first", first);
	json_object_object_add(r->out, "vips", vips);
	json_object_object_add(r->out, "active_sweeps",
			       json_object_new_int64(active_sweeps(d)));
}

static int do_flows(struct xlbd *d, struct req *r)
{
	struct view_filter f = {};
	struct xlb_vip_key k;
	unsigned int total;
	json_object *lim = NULL;
	unsigned int n = 0;
	const char *s;
	int rc;

	if (str_arg(r, "vip")) {
		rc = vip_arg(r, &k);
		if (rc)
			return rc;
		f.has_vip = true;
		f.vip = k.addr;
		f.vip_family = k.family;
		f.vip_port = ntohs(k.port);
		f.vip_proto = k.proto;
	}
	if ((s = str_arg(r, "backend"))) {
		if (xlb_parse_addr(s, &f.backend, &f.backend_family))
			return fail(r, -EINVAL, "bad backend '%s'", s);
		f.has_backend = true;
	}
	if ((s = str_arg(r, "client"))) {
		if (xlb_parse_addr(s, &f.client, &f.client_family))
			return fail(r, -EINVAL, "bad client '%s'", s);
		f.has_client = true;
	}
	/* In range: ctl_parse_request checked it. */
	if (json_object_object_get_ex(r->in, "limit", &lim))
		n = (unsigned int)json_object_get_int64(lim);
	json_object_object_add(r->out, "flows",
			       view_flows(&d->maps, &f, n, &total));
	json_object_object_add(r->out, "total", json_object_new_int(total));
	return 0;
}

/* Write verbs: edit a copy of the model, apply it as a diff, save it, and
 * keep it only if all of that took. A change that cannot be saved would
 * be lost at the next restart, so it is undone and refused: an "ok" means
 * durable. */
static int write_verb(struct xlbd *d, struct req *r, const char *cmd)
{
	struct xlb_conf want, old;
	int rc;

	rc = conf_copy(&want, &d->conf);
	if (rc)
		return fail(r, rc, "out of memory");
	if (!strcmp(cmd, "vip-add"))
		rc = do_vip_add(r, &want);
	else if (!strcmp(cmd, "vip-set"))
		rc = do_vip_set(r, &want);
	else if (!strcmp(cmd, "vip-del"))
		rc = do_vip_del(r, &want);
	else
		rc = do_backend(r, &want, cmd);
	if (!rc) {
		rc = xlbd_apply(d, &want, r->err, sizeof(r->err));
		if (rc)
			xlbd_revert(d, &want);
	}
	if (rc) {
		conf_free(&want);
		return rc;
	}
	old = d->conf;
	d->conf = want;
	rc = xlbd_save(d);
	if (rc) {
		d->conf = old;
		xlbd_revert(d, &want);
		conf_free(&want);
		return fail(r, rc, "not saved to %s: %s; change undone",
			    d->conf.node.state_file, strerror(-rc));
	}
	conf_free(&old);
	group_model_changed(d);
	xlbd_log(LOG_INFO_, "control: %s", json_object_to_json_string_ext(
			 r->in, JSON_C_TO_STRING_PLAIN |
			 JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

/* SIGHUP's work, answered: the reason when the file is refused. */
static int do_reload(struct xlbd *d, struct req *r)
{
	json_object *f;
	bool force = json_object_object_get_ex(r->in, "force", &f) &&
		     json_object_get_boolean(f);
	int rc = xlbd_reload(d, force, r->err, sizeof(r->err));

	if (rc)
		xlbd_log(LOG_ERR_, "reload: %s", r->err);
	return rc;
}

/* The running configuration as a file xlbd -n accepts (ipvsadm -S). */
static int do_config(struct xlbd *d, struct req *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f)
		return fail(r, -ENOMEM, "out of memory");
	rc = conf_write(&d->conf, f);
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (!rc)
		json_object_object_add(r->out, "config",
				       json_object_new_string_len(text,
								  (int)len));
	free(text);
	return rc ? fail(r, rc, "writing the configuration: %s",
			 strerror(-rc)) : 0;
}

static const char *const write_verbs[] = {
	"vip-add", "vip-set", "vip-del", "backend-add", "backend-del",
	"backend-set-weight", "backend-set", "backend-drain",
	"backend-undrain", "backend-maint", "backend-ready", NULL
};

static int dispatch(struct xlbd *d, struct req *r)
{
	const char *cmd = str_arg(r, "cmd");
	size_t i;
	int rc;

	if (!cmd)
		return fail(r, -EINVAL, "missing cmd");
	rc = bird_ctl(d, cmd, r->in, r->out, r->err, sizeof(r->err));
	if (rc != -ENOENT)
		return rc;
	for (i = 0; write_verbs[i]; i++)
		if (!strcmp(cmd, write_verbs[i]))
			return write_verb(d, r, cmd);
	if (!strcmp(cmd, "list") || !strcmp(cmd, "vip-list")) {
		reply_vips(d, r);
		return 0;
	}
	if (!strcmp(cmd, "stats")) {
		json_object_object_add(r->out, "counters",
				       view_counters(&d->maps));
		json_object_object_add(r->out, "checks", health_stats_json(d));
		json_object_object_add(r->out, "routing", bird_stats_json(d));
		/* Where its maps are pinned: xlbctl capture works on them. */
		json_object_object_add(r->out, "pin_dir",
				       json_object_new_string(d->pin_dir));
		reply_vips(d, r);
		return 0;
	}
	if (!strcmp(cmd, "flows"))
		return do_flows(d, r);
	if (!strcmp(cmd, "shutdown")) {
		d->stop = d->shutdown = true;
		return 0;
	}
	if (!strcmp(cmd, "reload"))
		return do_reload(d, r);
	if (!strcmp(cmd, "config"))
		return do_config(d, r);
	if (!strcmp(cmd, "peers")) {
		peer_json(d, r->out);
		return 0;
	}
	return fail(r, -EINVAL, "unknown command '%s'", cmd);
}

/* One request as read from a connection (its newline included when one
 * came) into the reply object out; 0 or -errno, the reason in "error". */
int ctl_request(struct xlbd *d, const char *buf, size_t len, json_object *out)
{
	struct req r = { .out = out };
	int rc;

	/* Framing, JSON, members and their types: a request that fails here
	 * reaches no verb. */
	rc = ctl_parse_request(buf, len, &r.in, r.err, sizeof(r.err));
	if (!rc) {
		pthread_mutex_lock(&d->lock);
		rc = dispatch(d, &r);
		pthread_mutex_unlock(&d->lock);
	}
	json_object_put(r.in);
	if (rc)
		json_object_object_add(out, "error",
				       json_object_new_string(r.err));
	return rc;
}

/* ---- connections ----
 * Each control connection is a small state machine on the main loop:
 * reading (until a newline, EOF, or more than CTL_MSG_MAX bytes), then
 * writing its reply, then closed. Nothing blocks: a client that sends
 * nothing, or a byte now and then, or reads its reply slowly, costs a
 * buffer and a slot until its deadline (CTL_TIMEOUT_MS for the whole
 * request, as much again for the reply), never the loop's time. At most
 * CTL_CONN_MAX are open; a new one closes the oldest. */
#define CTL_CONN_MAX		64
#define CTL_BUF_MIN		1024	/* first size of a request buffer */
#define CTL_ACCEPT_PAUSE_MS	100	/* out of fds: accept again after */

struct ctl_conn {
	struct ctl_server *srv;
	int fd;
	char *buf;			/* the request so far, NUL-terminated */
	size_t len, cap;
	char *out;			/* the reply and its newline, or NULL */
	size_t outlen, outoff;
	struct loop_timer deadline;
	struct ctl_conn *prev, *next;	/* oldest first */
};

struct ctl_server {
	struct xlbd *d;
	int fd;
	struct ctl_conn *head, *tail;
	unsigned int n;
	struct loop_timer resume;	/* accepting again after EMFILE */
};

static void conn_close(struct ctl_conn *c)
{
	struct ctl_server *s = c->srv;

	loop_timer_cancel(s->d->loop, &c->deadline);
	loop_del(s->d->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	s->n--;
	free(c->buf);
	free(c->out);
	free(c);
}

/* Write what the socket takes; the rest when it says EPOLLOUT. */
static void send_reply(struct ctl_conn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {		/* the client hung up: its loss */
			conn_close(c);
			return;
		}
		c->outoff += n;
	}
	conn_close(c);
}

/* The reply object becomes text; the connection turns to writing. */
static void start_reply(struct ctl_conn *c, json_object *out, bool ok)
{
	const char *s;
	json_object *e;

	json_object_object_add(out, "ok", json_object_new_boolean(ok));
	if (!ok && json_object_object_get_ex(out, "error", &e))
		xlbd_log(LOG_INFO_, "control: refused: %s",
			 json_object_get_string(e));
	s = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
	c->outlen = strlen(s) + 1;
	c->out = malloc(c->outlen);
	free(c->buf);
	c->buf = NULL;
	if (!c->out) {
		json_object_put(out);
		conn_close(c);
		return;
	}
	memcpy(c->out, s, c->outlen - 1);
	c->out[c->outlen - 1] = '\n';
	json_object_put(out);
	loop_timer_arm(c->srv->d->loop, &c->deadline, CTL_TIMEOUT_MS);
	loop_mod(c->srv->d->loop, c->fd, EPOLLOUT);
	send_reply(c);
}

static void reply_error(struct ctl_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply_error(struct ctl_conn *c, const char *fmt, ...)
{
	json_object *out = json_object_new_object();
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(out, "error", json_object_new_string(msg));
	start_reply(c, out, false);
}

/* A whole request: every byte read, the newline included when one came. */
static void serve(struct ctl_conn *c)
{
	json_object *out = json_object_new_object();
	int rc;

	c->buf[c->len] = '\0';
	rc = ctl_request(c->srv->d, c->buf, c->len, out);
	start_reply(c, out, rc >= 0);
}

/* 1 when the buffer has room for more, 0 when it is full, or -ENOMEM. */
static int grow(struct ctl_conn *c)
{
	size_t cap;
	char *b;

	if (c->cap && c->len < c->cap - 1)
		return 1;
	if (c->cap == CTL_MSG_MAX + 2)
		return 0;
	cap = c->cap ? c->cap * 2 : CTL_BUF_MIN;
	if (cap > CTL_MSG_MAX + 2)
		cap = CTL_MSG_MAX + 2;
	b = realloc(c->buf, cap);
	if (!b)
		return -ENOMEM;
	c->buf = b;
	c->cap = cap;
	return 1;
}

/* Read what has come. One byte past CTL_MSG_MAX tells a request that is
 * too long; the last byte of the buffer is for the NUL. */
static int read_request(struct ctl_conn *c)
{
	ssize_t n;
	int rc;

	for (;;) {
		rc = grow(c);
		if (rc < 0)
			return rc;
		if (!rc || c->len > CTL_MSG_MAX)
			return -EMSGSIZE;
		n = read(c->fd, c->buf + c->len, c->cap - 1 - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 1;	/* EOF: the request is what came */
		c->len += n;
		if (c->len > CTL_MSG_MAX)
			return -EMSGSIZE;
		if (memchr(c->buf + c->len - n, '\n', n))
			return 1;
	}
}

static void conn_event(void *arg, uint32_t revents)
{
	struct ctl_conn *c = arg;
	int rc;

	(void)revents;
	if (c->out) {
		send_reply(c);
		return;
	}
	rc = read_request(c);
	if (rc == 1)
		serve(c);
	else if (rc == -EMSGSIZE)
		reply_error(c, "request too long (over %d bytes)", CTL_MSG_MAX);
	else if (rc == -ENOMEM)
		reply_error(c, "out of memory");
	else if (rc != -EAGAIN && rc != -EWOULDBLOCK)
		conn_close(c);		/* reset by the client */
}

static void conn_deadline(void *arg)
{
	struct ctl_conn *c = arg;

	if (c->out) {
		xlbd_log(LOG_INFO_, "control: reply not taken within %d ms; "
			 "closing", CTL_TIMEOUT_MS);
		conn_close(c);
		return;
	}
	reply_error(c, "no complete request within %d ms", CTL_TIMEOUT_MS);
}

static void conn_new(struct ctl_server *s, int fd)
{
	struct ctl_conn *c;

	if (s->n >= CTL_CONN_MAX) {
		xlbd_log(LOG_DEBUG_, "control: %d connections open; closing "
			 "the oldest", CTL_CONN_MAX);
		conn_close(s->head);
	}
	c = calloc(1, sizeof(*c));
	if (!c || loop_add(s->d->loop, fd, EPOLLIN, conn_event, c)) {
		free(c);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	loop_timer_init(&c->deadline, conn_deadline, c);
	c->prev = s->tail;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->n++;
	/* No connection without its deadline. */
	if (loop_timer_arm(s->d->loop, &c->deadline, CTL_TIMEOUT_MS))
		conn_close(c);
}

static void resume_accept(void *arg)
{
	struct ctl_server *s = arg;

	loop_mod(s->d->loop, s->fd, EPOLLIN);
}

static void ctl_accept(void *arg, uint32_t revents)
{
	struct ctl_server *s = arg;
	int fd, i;

	(void)revents;
	for (i = 0; i < CTL_CONN_MAX; i++) {
		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_new(s, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			/* Out of fds or memory: a level-triggered listener
			 * would spin; pause it a little. */
			xlbd_log(LOG_WARN_, "control: accept: %s",
				 strerror(errno));
			loop_mod(s->d->loop, s->fd, 0);
			loop_timer_arm(s->d->loop, &s->resume,
				       CTL_ACCEPT_PAUSE_MS);
		}
		return;
	}
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
}

/* The listening socket, non-blocking, on d->loop. */
static int ctl_listen(struct xlbd *d, int fd)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->d = d;
	s->fd = fd;
	loop_timer_init(&s->resume, resume_accept, s);
	rc = loop_add(d->loop, fd, EPOLLIN, ctl_accept, s);
	if (rc) {
		free(s);
		return rc;
	}
	d->ctl = s;
	d->ctl_fd = fd;
	return 0;
}

int ctl_open(struct xlbd *d)
{
	const char *path = d->conf.node.ctl_sock;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		xlbd_log(LOG_ERR_, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	rc = mkdir_parent(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (rc || fd < 0) {
		rc = rc ?: -errno;
		goto err;
	}
	/* A socket file left by a killed daemon: nobody answers on it. */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    errno == EAGAIN) {
		xlbd_log(LOG_ERR_, "another xlbd answers on %s", path);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	old = umask(0177);	/* created 0600 */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!rc && d->conf.node.ctl_group[0]) {
		struct group *g = getgrnam(d->conf.node.ctl_group);

		if (!g || chown(path, 0, g->gr_gid) || chmod(path, 0660))
			xlbd_log(LOG_WARN_, "control group %s not applied",
				 d->conf.node.ctl_group);
	}
	if (!rc && listen(fd, CTL_CONN_MAX))
		rc = -errno;
	if (!rc)
		rc = ctl_listen(d, fd);
	if (rc)
		goto err;
	return 0;
err:
	xlbd_log(LOG_ERR_, "control socket %s: %s", path, strerror(-rc));
	if (fd >= 0)
		close(fd);
	return rc;
}

void ctl_close(struct xlbd *d)
{
	struct ctl_server *s = d->ctl;

	if (!s)
		return;
	while (s->head)
		conn_close(s->head);
	loop_timer_cancel(d->loop, &s->resume);
	loop_del(d->loop, s->fd);
	close(s->fd);
	unlink(d->conf.node.ctl_sock);
	free(s);
	d->ctl = NULL;
	d->ctl_fd = -1;
}
