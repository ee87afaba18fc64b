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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "addr.h"
#include "ctl.h"
#include "ctlproto.h"
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

/* The check settings a request may carry (ctlproto.c's vip-add row). */
static int check_args(struct req *r, struct conf_check *c)
{
	static const enum setting_id ids[] = {
		SET_INTERVAL, SET_TIMEOUT, SET_RISE, SET_FALL, SET_ERROR_RATE,
		SET_CHECK_PORT,
	};
	const char *s = str_arg(r, settings[SET_CHECK].member);
	bool has, timeout_given = false;
	unsigned long long v;
	char want[128];
	size_t i;
	int rc;

	conf_check_defaults(c);
	if (s && conf_parse_check(s, c))
		return fail(r, -EINVAL, "bad check '%s' (want %s)", s,
			    settings_check_list(want, sizeof(want)));
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		rc = setting_arg(r, ids[i], &v, &has);
		if (rc)
			return rc;
		if (has)
			settings_check_store(c, ids[i], v);
		timeout_given |= has && ids[i] == SET_TIMEOUT;
	}
	return settings_timeout_fits(c, timeout_given, r->err, sizeof(r->err));
}

static int do_vip_add(struct req *r, struct xlb_conf *c)
{
	struct conf_vip v = {
		.algo = (__u8)settings[SET_ALGO].def,
		.mode = (__u8)settings[SET_ENCAP].def,
		.all_down = (__u8)settings[SET_ALL_DOWN].def,
		.adaptive = (__u8)settings[SET_ADAPTIVE].def,
	};
	char name[XLB_VIP_STRLEN];
	int rc;

	rc = vip_arg(r, &v.key);
	if (!rc)
		rc = xlb_vip_addr_ok(&v.key, r->err, sizeof(r->err));
	rc = rc ?: name_arg(r, SET_ALGO, &v.algo) ?:
	     name_arg(r, SET_ENCAP, &v.mode) ?:
	     name_arg(r, SET_ALL_DOWN, &v.all_down) ?:
	     name_arg(r, SET_ADAPTIVE, &v.adaptive) ?:
	     check_args(r, &v.check);
	if (!rc)
		rc = settings_check_fits(&v.key, &v.check, r->err,
					 sizeof(r->err)) ?:
		     settings_adaptive_fits(v.adaptive, &v.check, r->err,
					    sizeof(r->err));
	if (rc)
		return rc;
	rc = conf_vip_add(c, &v);
	if (rc == -EEXIST)
		return fail(r, rc, "VIP %s exists",
			    xlb_format_vip(&v.key, name, sizeof(name)));
	return rc;
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
	if ((s = str_arg(r, settings[SET_MAC].member))) {
		if (xlb_parse_mac(s, nb->mac))
			return fail(r, -EINVAL, "bad MAC '%s'", s);
		nb->has_mac = true;
	}
	if (v->mode == XLB_MODE_L2 && nb->family != v->key.family)
		return fail(r, -EINVAL, "l2 cannot change the address "
			    "family (%s behind %s)", addr, name);
	rc = conf_backend_add(v, nb);
	if (rc == -EEXIST)
		return fail(r, rc, "backend %s already in VIP %s", addr, name);
	return rc;
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
	rc = setting_arg(r, SET_WEIGHT, &w, &has);
	if (!rc && !has)
		return fail(r, -EINVAL, "missing weight");
	if (!rc)
		b->weight = (__u32)w;
	return rc;
}

static void reply_vips(struct xlbd *d, struct req *r)
{
	json_object_object_add(r->out, "vips", xlbd_vips_json(d));
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
	"vip-add", "vip-del", "backend-add", "backend-del",
	"backend-set-weight", "backend-drain", "backend-undrain", NULL
};

static int dispatch(struct xlbd *d, struct req *r)
{
	const char *cmd = str_arg(r, "cmd");
	size_t i;

	if (!cmd)
		return fail(r, -EINVAL, "missing cmd");
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
	return fail(r, -EINVAL, "unknown command '%s'", cmd);
}

static void send_reply(int fd, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
						       JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s), off = 0;
	ssize_t n;

	/* A client that hung up must not take the daemon with it. */
	while (off < len && (n = send(fd, s + off, len - off,
				      MSG_NOSIGNAL)) > 0)
		off += n;
	if (send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
		return;
}

/* Read one request line, at most CTL_MSG_MAX bytes, within the timeout. */
static int read_request(int fd, char *buf, size_t max)
{
	size_t len = 0;
	ssize_t n;

	while (len < max - 1) {
		n = read(fd, buf + len, max - 1 - len);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += n;
		if (memchr(buf + len - n, '\n', n))
			break;
	}
	if (len >= max - 1)
		return -EMSGSIZE;
	buf[len] = '\0';
	return (int)len;
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

void ctl_serve_one(struct xlbd *d)
{
	struct timeval tv = { CTL_TIMEOUT_MS / 1000, 0 };
	json_object *out;
	const char *err = NULL;
	char *buf;
	int fd, rc;

	fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	out = json_object_new_object();
	buf = malloc(CTL_MSG_MAX + 1);
	rc = buf ? read_request(fd, buf, CTL_MSG_MAX + 1) : -ENOMEM;
	if (rc == -EMSGSIZE)
		err = "request too long";
	else if (rc < 0)
		err = strerror(-rc);
	if (err)
		json_object_object_add(out, "error",
				       json_object_new_string(err));
	else
		rc = ctl_request(d, buf, (size_t)rc, out);
	json_object_object_add(out, "ok", json_object_new_boolean(rc >= 0 && !err));
	if (rc < 0 || err) {
		json_object *e;

		json_object_object_get_ex(out, "error", &e);
		xlbd_log(LOG_INFO_, "control: refused: %s",
			 json_object_get_string(e));
	}
	send_reply(fd, out);
	close(fd);
	free(buf);
	json_object_put(out);
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
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rc || fd < 0) {
		rc = rc ?: -errno;
		goto err;
	}
	/* A socket file left by a killed daemon: nobody answers on it. */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
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
	if (!rc && listen(fd, 16))
		rc = -errno;
	if (rc)
		goto err;
	d->ctl_fd = fd;
	return 0;
err:
	xlbd_log(LOG_ERR_, "control socket %s: %s", path, strerror(-rc));
	if (fd >= 0)
		close(fd);
	return rc;
}

void ctl_close(struct xlbd *d)
{
	if (d->ctl_fd < 0)
		return;
	close(d->ctl_fd);
	unlink(d->conf.node.ctl_sock);
	d->ctl_fd = -1;
}
