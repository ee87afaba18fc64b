// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Routing through BIRD 2 and node drain (bird.h). Everything here runs on
 * the main loop; what stats and metrics read (from other threads) changes
 * under d->lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "addr.h"
#include "bird.h"
#include "group.h"
#include "ctl.h"
#include "fileio.h"
#include "peer.h"
#include "routes.h"
#include "xlbd.h"

/* How long a VIP new to the routes waits for its table to equal its
 * peers' before it is announced anyway, with a warning. */
#define BIRD_HOLD_MS	10000

enum bird_file_id { BF_ALL, BF_V4, BF_V6, BF_DRAIN, BF_MAX };

/* Each file: its suffix after FILE and which routes it lists. */
static const struct {
	const char *ext;
	enum routes_family fam;
} bird_files[BF_MAX] = {
	[BF_ALL] = { "", ROUTES_ALL },
	[BF_V4] = { ".v4", ROUTES_V4 },
	[BF_V6] = { ".v6", ROUTES_V6 },
	[BF_DRAIN] = { BIRD_DRAIN_EXT, ROUTES_ALL },
};

struct bird {
	struct xlbd *d;
	bool routing;			/* --bird-include given */
	char dev[IF_NAMESIZE];
	int tun;			/* the device lives while it is open */
	bool up;
	char *text[BF_MAX];		/* as last written; NULL: not yet */
	int routes;			/* lines in FILE */
	/* the BIRD control connection */
	int fd;
	char line[512];
	size_t len;
	bool greeted;
	bool pending;			/* BIRD must re-read the files */
	unsigned int backoff_ms;
	struct loop_timer kick, retry, deadline, grace;
	uint64_t grace_until_ms;	/* drained, routes kept until then */
	/* VIPs seen servable: held until their table is their peers'. */
	struct hold {
		struct xlb_vip_key k;
		uint64_t since_ms;	/* first seen servable and announcing */
		bool held;		/* at the last write */
		bool latched;		/* announced once: never held again */
	} *holds;
	size_t nholds, holds_cap;
	struct loop_timer hold_timer;
	/* results, for stats and metrics */
	unsigned long long ok, failed;
	bool last_ok;
	char last[256];
};

/* ---- the tun device ---- */

static int tun_open(struct bird *b)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, b->dev, strlen(b->dev));
	/* Not TUNSETPERSIST: the device goes with the last fd. */
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	b->tun = fd;
	return 0;
}

static int tun_up(struct bird *b)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	memcpy(ifr.ifr_name, b->dev, strlen(b->dev));
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!rc && ioctl(s, SIOCSIFFLAGS, &ifr))
		rc = -errno;
	close(s);
	return rc;
}

/* Up once BIRD has had the first files (or could not be asked): a
 * restarted xlbd must not announce what the last one left behind. */
static void set_up(struct bird *b)
{
	int rc;

	if (b->up || b->tun < 0)
		return;
	rc = tun_up(b);
	if (rc) {
		xlbd_log(LOG_ERR_, "routing: cannot set %s up: %s", b->dev,
			 strerror(-rc));
		return;
	}
	b->up = true;
	xlbd_log(LOG_INFO_, "routing: %s up, %d route%s", b->dev, b->routes,
		 b->routes == 1 ? "" : "s");
}

/* ---- the files ---- */

static bool announcing(const struct bird *b)
{
	const struct xlbd *d = b->d;

	/* A node joining its peers announces once it has their flows
	 * (group.h, group_synced). */
	return d->xlb && group_synced(d) &&
	       (!d->node.drained || b->grace_until_ms);
}

/* The hold of VIP k, added (since now) when new; NULL when out of memory. */
static struct hold *hold_get(struct bird *b, const struct xlb_vip_key *k,
			     uint64_t now)
{
	struct hold *h;
	size_t i;

	for (i = 0; i < b->nholds; i++)
		if (!memcmp(&b->holds[i].k, k, sizeof(*k)))
			return &b->holds[i];
	if (b->nholds == b->holds_cap) {
		size_t cap = b->holds_cap ? b->holds_cap * 2 : 16;

		h = realloc(b->holds, cap * sizeof(*h));
		if (!h)
			return NULL;
		b->holds = h;
		b->holds_cap = cap;
	}
	h = &b->holds[b->nholds++];
	memset(h, 0, sizeof(*h));
	h->k = *k;
	h->since_ms = now;
	return h;
}

/* A VIP new to the routes is held back while a live peer's table of it
 * differs from ours (a node joining with its VIPs added one backend at a
 * time, a VIP added on every node in turn): announced at once, ECMP hands
 * it established connections that a partial table sends to the wrong
 * backend (docs/group.md). Latched once announced: a difference later (a
 * partition, drift) raises the table alarm and moves no route. Lock held;
 * only while announcing. */
static void holds_update(struct bird *b)
{
	struct xlbd *d = b->d;
	uint64_t now = loop_now_ms(), wait = 0, left;
	char who[XLB_ADDR_STRLEN], name[XLB_VIP_STRLEN];
	size_t i, j;

	/* A VIP deleted and added again waits again. */
	for (i = j = 0; i < b->nholds; i++)
		if (conf_vip_find(&d->conf, &b->holds[i].k))
			b->holds[j++] = b->holds[i];
	b->nholds = j;
	for (i = 0; i < d->conf.nvips; i++) {
		const struct conf_vip *v = &d->conf.vips[i];
		struct hold *h;
		bool differs;

		if (!routes_vip_servable(v))
			continue;
		h = hold_get(b, &v->key, now);
		if (!h || h->latched)
			continue;	/* out of memory: not held */
		differs = peer_table_differs(d, &v->key, who, sizeof(who));
		if (differs || h->held)	/* a line will be logged */
			xlb_format_vip(&v->key, name, sizeof(name));
		left = h->since_ms + BIRD_HOLD_MS - now;
		if (differs && now < h->since_ms + BIRD_HOLD_MS) {
			if (!h->held)
				xlbd_log(LOG_INFO_, "routing: %s held back: its "
					 "table differs from peer %s's "
					 "(announced when equal, at most "
					 "%d s)", name, who,
					 BIRD_HOLD_MS / 1000);
			h->held = true;
			wait = !wait || left < wait ? left : wait;
			continue;
		}
		if (differs)
			xlbd_log(LOG_WARN_, "routing: %s announced after %d s "
				 "although its table differs from peer %s's",
				 name, BIRD_HOLD_MS / 1000, who);
		else if (h->held)
			xlbd_log(LOG_INFO_, "routing: %s announced: its table "
				 "is its peers' (held %llu ms)", name,
				 (unsigned long long)(now - h->since_ms));
		h->held = false;
		h->latched = true;
	}
	if (wait)
		loop_timer_arm(d->loop, &b->hold_timer, (unsigned int)wait);
}

static bool vip_held(const struct conf_vip *v, void *arg)
{
	const struct bird *b = arg;
	size_t i;

	for (i = 0; i < b->nholds; i++)
		if (!memcmp(&b->holds[i].k, &v->key, sizeof(v->key)))
			return b->holds[i].held;
	return false;
}

static size_t holds_held(const struct bird *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->nholds; i++)
		n += b->holds[i].held;
	return n;
}

static int fill_text(FILE *f, const void *arg)
{
	fputs(arg, f);
	return ferror(f) ? -EIO : 0;
}

/* The text of file i now; NULL when out of memory. */
static char *render(struct bird *b, enum bird_file_id i, int *routes)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f)
		return NULL;
	if (i == BF_DRAIN)
		rc = routes_drain_write(b->d->node.drained, f);
	else
		rc = routes_write(&b->d->conf, announcing(b), vip_held, b,
				  b->dev, bird_files[i].fam, f);
	if (fclose(f) || rc < 0) {
		free(text);
		return NULL;
	}
	if (routes)
		*routes = rc;
	return text;
}

/* Write the files whose text changed; true when one did. */
static bool write_files(struct bird *b)
{
	const char *base = b->d->conf.node.bird_include;
	char path[CONF_PATH_MAX + 16], *text;
	bool changed = false;
	int i, rc, n = 0;

	if (announcing(b))
		holds_update(b);
	for (i = 0; i < BF_MAX; i++) {
		text = render(b, i, i == BF_ALL ? &n : NULL);
		if (!text) {
			xlbd_log(LOG_ERR_, "routing: out of memory");
			continue;
		}
		if (b->text[i] && !strcmp(b->text[i], text)) {
			free(text);
			continue;
		}
		snprintf(path, sizeof(path), "%s%s", base, bird_files[i].ext);
		rc = xlb_save_atomic(path, fill_text, text);
		if (rc) {
			xlbd_log(LOG_ERR_, "routing: cannot write %s: %s",
				 path, strerror(-rc));
			free(text);
			continue;	/* tried again at the next change */
		}
		if (i == BF_ALL && b->text[i] && n != b->routes)
			xlbd_log(LOG_INFO_, "routing: %d route%s in %s", n,
				 n == 1 ? "" : "s", path);
		if (i == BF_ALL)
			b->routes = n;
		free(b->text[i]);
		b->text[i] = text;
		changed = true;
	}
	return changed;
}

/* ---- BIRD's control socket ---- */

static void configure(struct bird *b);

static void conn_close(struct bird *b)
{
	if (b->fd < 0)
		return;
	loop_del(b->d->loop, b->fd);
	close(b->fd);
	b->fd = -1;
	loop_timer_cancel(b->d->loop, &b->deadline);
}

/* The end of an attempt: recorded, logged when it differs from the last
 * one, and tried again later when it failed. */
static void result(struct bird *b, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(struct bird *b, bool ok, const char *fmt, ...)
{
	char text[sizeof(b->last)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conn_close(b);
	pthread_mutex_lock(&b->d->lock);
	if (strcmp(text, b->last) || ok != b->last_ok)
		xlbd_log(ok ? LOG_INFO_ : LOG_WARN_, "routing: BIRD at %s: %s",
			 b->d->conf.node.bird_sock, text);
	snprintf(b->last, sizeof(b->last), "%s", text);
	b->last_ok = ok;
	if (ok)
		b->ok++;
	else
		b->failed++;
	pthread_mutex_unlock(&b->d->lock);
	set_up(b);
	if (ok) {
		b->backoff_ms = 0;
		configure(b);	/* a change that came meanwhile */
		return;
	}
	b->pending = true;
	b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : BIRD_RETRY_MIN_MS;
	if (b->backoff_ms > BIRD_RETRY_MAX_MS)
		b->backoff_ms = BIRD_RETRY_MAX_MS;
	loop_timer_arm(b->d->loop, &b->retry, b->backoff_ms);
}

/* Success codes of "configure" (BIRD's doc/reply_codes). */
static bool configure_ok(int code)
{
	return code == 3 || code == 4 || code == 5;
}

/* One reply line: "DDDD text" ends a reply, "DDDD-text" and " text"
 * continue it. The first reply is the greeting (0001). */
static void reply_line(struct bird *b, const char *l)
{
	int code;

	if (strlen(l) < 5 || l[4] != ' ' ||
	    strspn(l, "0123456789") != 4)
		return;
	code = atoi(l);
	if (!b->greeted) {
		b->greeted = true;
		if (code == 1)
			return;
	}
	if (configure_ok(code))
		result(b, true, "%s", l);
	else
		result(b, false, "configure failed: %s", l);
}

static void on_reply(void *arg, uint32_t revents)
{
	struct bird *b = arg;
	char buf[1024];
	ssize_t n, i;

	(void)revents;
	n = read(b->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		result(b, false, "connection closed before a reply%s%s",
		       n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		return;
	}
	for (i = 0; i < n && b->fd >= 0; i++) {
		if (buf[i] != '\n') {
			/* A longer line is kept cut: its code is in front. */
			if (b->len < sizeof(b->line) - 1)
				b->line[b->len++] = buf[i];
			continue;
		}
		b->line[b->len] = '\0';
		b->len = 0;
		reply_line(b, b->line);
	}
}

static void on_deadline(void *arg)
{
	struct bird *b = arg;

	result(b, false, "no reply within %d ms", BIRD_TIMEOUT_MS);
}

static int connect_bird(struct bird *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char cmd[] = "configure\n";
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s",
		 b->d->conf.node.bird_sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix socket connects at once or not at all (EAGAIN: BIRD's
	 * backlog is full, tried again later). BIRD reads the command after
	 * its greeting; the socket buffer holds it until then. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, cmd, sizeof(cmd) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(cmd) - 1) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* Ask BIRD to re-read the files, unless an attempt runs or waits. */
static void configure(struct bird *b)
{
	int fd, rc;

	if (!b->pending || b->fd >= 0 || loop_timer_armed(&b->retry))
		return;
	if (!b->d->conf.node.bird_sock[0]) {
		b->pending = false;	/* files only: BIRD is told by others */
		set_up(b);
		return;
	}
	b->pending = false;
	b->greeted = false;
	b->len = 0;
	fd = connect_bird(b);
	if (fd < 0) {
		result(b, false, "cannot connect: %s", strerror(-fd));
		return;
	}
	b->fd = fd;
	rc = loop_add(b->d->loop, fd, EPOLLIN, on_reply, b);
	if (!rc)
		rc = loop_timer_arm(b->d->loop, &b->deadline, BIRD_TIMEOUT_MS);
	if (rc)
		result(b, false, "%s", strerror(-rc));
}

static void on_retry(void *arg)
{
	configure(arg);
}

/* Files first, then BIRD: only a change in the files asks BIRD again. */
static void on_kick(void *arg)
{
	struct bird *b = arg;
	bool changed;

	pthread_mutex_lock(&b->d->lock);
	changed = write_files(b);
	pthread_mutex_unlock(&b->d->lock);
	if (changed)
		b->pending = true;
	if (b->pending)
		configure(b);
	else
		set_up(b);
}

void bird_kick(struct xlbd *d)
{
	if (d->bird && d->bird->routing)
		loop_timer_arm(d->loop, &d->bird->kick, 0);
}

/* ---- drain ---- */

static void on_grace(void *arg)
{
	struct bird *b = arg;

	pthread_mutex_lock(&b->d->lock);
	b->grace_until_ms = 0;
	pthread_mutex_unlock(&b->d->lock);
	xlbd_log(LOG_INFO_, "drain: grace period over, routes withdrawn");
	bird_kick(b->d);
}

/* A held VIP's wait is over: announce it (holds_update). */
static void on_hold(void *arg)
{
	struct bird *b = arg;

	bird_kick(b->d);
}

static const char *phase(const struct bird *b)
{
	if (!b->d->node.drained)
		return "serving";
	return b->grace_until_ms ? "graceful" : "withdrawn";
}

/* Synced: BIRD has the files as they are (or nobody is to be told). */
static bool synced(const struct bird *b)
{
	if (!b->routing)
		return true;
	if (loop_timer_armed(&b->kick) || b->pending || b->fd >= 0)
		return false;
	return !b->d->conf.node.bird_sock[0] || b->last_ok;
}

/* How long the routes stay marked before they go (ctlproto checked it). */
static unsigned int grace_arg(json_object *in)
{
	json_object *v;

	if (!json_object_object_get_ex(in, "grace", &v))
		return CTL_GRACE_DEFAULT_S;
	return (unsigned int)json_object_get_int64(v);
}

static int drain(struct xlbd *d, json_object *in, char *err, size_t len)
{
	struct bird *b = d->bird;
	unsigned int grace = grace_arg(in);
	int rc;

	if (d->node.drained)
		return 0;	/* already: the grace period keeps running */
	d->node.drained = true;
	rc = xlbd_save_node(d);
	if (rc) {
		d->node.drained = false;
		snprintf(err, len, "not saved: %s; node not drained",
			 strerror(-rc));
		return rc;
	}
	if (grace && b->routing && d->xlb) {
		b->grace_until_ms = loop_now_ms() + grace * 1000ULL;
		loop_timer_arm(d->loop, &b->grace, grace * 1000U);
	}
	xlbd_log(LOG_INFO_, "drain: node drained; routes %s", grace ?
		 "marked graceful-shutdown, withdrawn after the grace period" :
		 "withdrawn");
	bird_kick(d);
	return 0;
}

static int undrain(struct xlbd *d, char *err, size_t len)
{
	struct bird *b = d->bird;
	int rc;

	if (!d->node.drained)
		return 0;
	d->node.drained = false;
	rc = xlbd_save_node(d);
	if (rc) {
		d->node.drained = true;
		snprintf(err, len, "not saved: %s; node still drained",
			 strerror(-rc));
		return rc;
	}
	b->grace_until_ms = 0;
	loop_timer_cancel(d->loop, &b->grace);
	xlbd_log(LOG_INFO_, "drain: node undrained; routes announced");
	bird_kick(d);
	return 0;
}

json_object *bird_stats_json(struct xlbd *d)
{
	struct bird *b = d->bird;
	json_object *o = json_object_new_object();
	uint64_t now = loop_now_ms();

#define ADD(k, v)	json_object_object_add(o, (k), (v))
	ADD("drained", json_object_new_boolean(d->node.drained));
	if (!b)
		return o;
	ADD("phase", json_object_new_string(phase(b)));
	if (b->grace_until_ms)
		ADD("grace_left_ms", json_object_new_int64(
			    b->grace_until_ms > now ? b->grace_until_ms - now
						    : 0));
	ADD("routing", json_object_new_boolean(b->routing));
	if (!b->routing)
		return o;
	ADD("device", json_object_new_string(b->dev));
	ADD("device_up", json_object_new_boolean(b->up));
	ADD("include", json_object_new_string(d->conf.node.bird_include));
	ADD("routes", json_object_new_int(b->routes));
	ADD("vips_held", json_object_new_int64((int64_t)holds_held(b)));
	ADD("synced", json_object_new_boolean(synced(b)));
	if (!d->conf.node.bird_sock[0])
		return o;
	ADD("socket", json_object_new_string(d->conf.node.bird_sock));
	ADD("configures_ok", json_object_new_int64((int64_t)b->ok));
	ADD("configures_failed", json_object_new_int64((int64_t)b->failed));
	ADD("last_ok", json_object_new_boolean(b->last_ok));
	ADD("last_result", json_object_new_string(b->last));
#undef ADD
	return o;
}

static long long jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v)
						    : 0;
}

static bool jbool(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) &&
	       json_object_get_boolean(v);
}

void bird_metrics(FILE *f, json_object *r)
{
	fprintf(f, "# HELP xlb_node_drained 1 while the node is drained\n"
		"# TYPE xlb_node_drained gauge\nxlb_node_drained %d\n",
		jbool(r, "drained"));
	if (!jbool(r, "routing"))
		return;
	fprintf(f, "# HELP xlb_routes_announced VIP routes in the BIRD "
		"include file\n# TYPE xlb_routes_announced gauge\n"
		"xlb_routes_announced %lld\n", jint(r, "routes"));
	fprintf(f, "# HELP xlb_vips_held VIPs new to the routes held back "
		"while their table differs from a peer's\n"
		"# TYPE xlb_vips_held gauge\nxlb_vips_held %lld\n",
		jint(r, "vips_held"));
	if (!json_object_object_get_ex(r, "socket", NULL))
		return;
	fprintf(f, "# HELP xlb_bird_configures_total BIRD reconfigurations "
		"asked, by result\n# TYPE xlb_bird_configures_total counter\n"
		"xlb_bird_configures_total{result=\"ok\"} %lld\n"
		"xlb_bird_configures_total{result=\"failed\"} %lld\n",
		jint(r, "configures_ok"), jint(r, "configures_failed"));
	fprintf(f, "# HELP xlb_bird_last_ok 1 when the last reconfiguration "
		"succeeded\n# TYPE xlb_bird_last_ok gauge\n"
		"xlb_bird_last_ok %d\n", jbool(r, "last_ok"));
}

int bird_ctl(struct xlbd *d, const char *cmd, json_object *in,
	     json_object *out, char *err, size_t len)
{
	int rc = 0;

	if (!strcmp(cmd, "node-drain"))
		rc = drain(d, in, err, len);
	else if (!strcmp(cmd, "node-undrain"))
		rc = undrain(d, err, len);
	else if (strcmp(cmd, "node-status"))
		return -ENOENT;
	if (!rc)
		json_object_object_add(out, "node", bird_stats_json(d));
	return rc;
}

/* ---- start and stop ---- */

int bird_check(const struct conf_node *n)
{
	if (n->bird_sock[0] && !n->bird_include[0]) {
		xlbd_log(LOG_ERR_, "bird-socket needs bird-include (the file "
			 "BIRD includes)");
		return -EINVAL;
	}
	if (n->bird_include[0] &&
	    strlen(BIRD_DEV_PREFIX) + strlen(n->ifname) >= IF_NAMESIZE) {
		xlbd_log(LOG_ERR_, "routing: interface name %s too long for "
			 "the device %s%s (at most %zu characters)", n->ifname,
			 BIRD_DEV_PREFIX, n->ifname,
			 IF_NAMESIZE - 1 - strlen(BIRD_DEV_PREFIX));
		return -ENAMETOOLONG;
	}
	return 0;
}

int bird_start(struct xlbd *d)
{
	struct bird *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	b->d = d;
	b->tun = b->fd = -1;
	loop_timer_init(&b->kick, on_kick, b);
	loop_timer_init(&b->retry, on_retry, b);
	loop_timer_init(&b->deadline, on_deadline, b);
	loop_timer_init(&b->grace, on_grace, b);
	loop_timer_init(&b->hold_timer, on_hold, b);
	d->bird = b;
	xlbd_load_node(d);
	if (d->node.drained)
		xlbd_log(LOG_INFO_, "node is drained (xlbctl node undrain "
			 "announces its routes)");
	b->routing = d->conf.node.bird_include[0] != '\0';
	if (!b->routing)
		return 0;
	rc = bird_check(&d->conf.node);
	if (rc)
		return rc;
	snprintf(b->dev, sizeof(b->dev), BIRD_DEV_PREFIX "%s",
		 d->conf.node.ifname);
	rc = tun_open(b);
	if (rc) {
		xlbd_log(LOG_ERR_, "routing: cannot create %s: %s", b->dev,
			 strerror(-rc));
		return rc;
	}
	bird_kick(d);
	return 0;
}

void bird_stop(struct xlbd *d)
{
	struct bird *b = d->bird;
	int i;

	if (!b)
		return;
	conn_close(b);
	loop_timer_cancel(d->loop, &b->kick);
	loop_timer_cancel(d->loop, &b->retry);
	loop_timer_cancel(d->loop, &b->grace);
	loop_timer_cancel(d->loop, &b->hold_timer);
	if (b->tun >= 0)
		close(b->tun);	/* the device goes: BIRD withdraws */
	for (i = 0; i < BF_MAX; i++)
		free(b->text[i]);
	free(b->holds);
	pthread_mutex_lock(&d->lock);
	d->bird = NULL;
	pthread_mutex_unlock(&d->lock);
	free(b);
}
