// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd: the xlb node daemon. Loads (or adopts) the balancer, pins it under
 * <pin-root>/xlb/<ifname>/, keeps the data plane equal to its running
 * configuration, serves xlbctl on a unix socket and metrics over HTTP.
 * SIGTERM/SIGINT stop the daemon and leave the data plane forwarding;
 * SIGHUP re-reads the configuration file; `xlbctl shutdown` or
 * `xlbd --detach` remove the program and its pins.
 *
 * One daemon per data plane: locks on the pin directory and the state
 * file (lock.h) are taken before either is touched. The main thread is
 * one event loop (loop.h): signals, the control socket and each control
 * connection are its sources; metrics and health checks have threads. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "addr.h"
#include "bird.h"
#include "ctl.h"
#include "lock.h"
#include "loop.h"
#include "maglev.h"
#include "group.h"
#include "peer.h"
#include "active.h"
#include "predict.h"
#include "xlbd.h"

/* A ring replaced younger than this does not become the previous ring:
 * one built up backend by backend (xlbctl, a node joining) carried no
 * flows, and its peers never had it (docs/group.md). */
#define RING_PREV_MIN_MS	2000


/* ---- start-up -------------------------------------------------------- */

static int iface_addr(const char *ifname, int family, void *out)
{
	struct ifaddrs *ifa, *i;
	int rc = -ENOENT;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && rc; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) ||
		    i->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET) {
			memcpy(out, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			       4);
			rc = 0;
		} else {
			struct in6_addr *a =
				&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a))
				continue;
			memcpy(out, a, 16);
			rc = 0;
		}
	}
	freeifaddrs(ifa);
	return rc;
}

/* The outer source defaults to the interface's primary address. */
void xlbd_default_sources(struct conf_node *n)
{
	if (!n->has_src4 && !iface_addr(n->ifname, AF_INET, &n->src4))
		n->has_src4 = true;
	if (!n->has_src6 && !iface_addr(n->ifname, AF_INET6, n->src6))
		n->has_src6 = true;
	if (!n->has_src4 && !n->has_src6)
		xlbd_log(LOG_WARN_, "%s has no address and no source4/source6 "
			 "is set: tunnelled VIPs will drop", n->ifname);
}

static int ensure_bpffs(const char *root)
{
	struct statfs st;

	if (mkdir(root, 0700) && errno != EEXIST)
		return -errno;
	if (!statfs(root, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (strcmp(root, "/sys/fs/bpf")) {
		xlbd_log(LOG_ERR_, "%s is not a bpffs (mount -t bpf bpf %s)",
			 root, root);
		return -ENOTDIR;
	}
	if (mount("bpf", root, "bpf", 0, NULL))
		return -errno;
	xlbd_log(LOG_INFO_, "mounted bpffs at %s", root);
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[CONF_PATH_MAX + 64], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0700) && errno != EEXIST ? -errno : 0;
}

static int maps_of(struct xlbd *d)
{
	struct bpf_object *o = xlb_object(d->xlb);

	d->maps.owned = false;
#define FD(field, name) \
	d->maps.field = bpf_object__find_map_fd_by_name(o, XLB_STR(name))
	FD(config, XLB_MAP_CONFIG);
	FD(vips, XLB_MAP_VIPS);
	FD(backends, XLB_MAP_BACKENDS);
	FD(flows, XLB_MAP_FLOWS);
	FD(counters, XLB_MAP_COUNTERS);
	FD(vip_stats, XLB_MAP_VIP_STATS);
	FD(be_stats, XLB_MAP_BE_STATS);
#undef FD
	return 0;
}

struct args {
	const char *ifname, *conf, *sock, *pin_root, *state, *metrics;
	const char *peer_key;
	char peer_key_abs[CONF_PATH_MAX];	/* a relative one, made absolute */
	char peers[CONF_PEERS_TEXT];	/* --peer ADDR, canonical */
	const char *bird_sock, *bird_include;
	bool check_only, detach;
};

/* The state file: --state, else the file's node.state-file, else one per
 * interface, so that two daemons on one host keep apart. */
static void state_path(const struct args *a, const struct conf_node *n,
		       char *out, size_t len)
{
	const char *ifname = a->ifname ? a->ifname : n->ifname;

	if (a->state)
		snprintf(out, len, "%s", a->state);
	else if (n->state_file[0] &&
		 strcmp(n->state_file, "/var/lib/xlb/state.yaml"))
		snprintf(out, len, "%s", n->state_file);
	else
		snprintf(out, len, "/var/lib/xlb/%s.yaml", ifname);
}

/* Which configuration to run: the state file, with the -c file's changes
 * since it was last applied merged onto it (reload.c). */
static int load_conf(struct xlbd *d, const struct args *a)
{
	char state[CONF_PATH_MAX];
	struct xlb_conf file;
	char err[CONF_ERR_MAX];

	/* The file may name the state file and the interface. */
	conf_init(&file);
	if (a->conf && conf_load(a->conf, &file, err, sizeof(err)))
		conf_init(&file);	/* xlbd_load_start says why */
	state_path(a, &file.node, state, sizeof(state));
	conf_free(&file);
	return xlbd_load_start(d, a->conf, state);
}

static void override(char *dst, size_t len, const char *src)
{
	if (src)
		snprintf(dst, len, "%s", src);
}

static int node_settings(struct xlbd *d, const struct args *a)
{
	struct conf_node *n = &d->conf.node;

	override(n->ifname, sizeof(n->ifname), a->ifname);
	override(n->ctl_sock, sizeof(n->ctl_sock), a->sock);
	if (!a->sock && !strcmp(n->ctl_sock, CTL_SOCK_DEFAULT))
		/* One socket per interface, as the state file. */
		snprintf(n->ctl_sock, sizeof(n->ctl_sock),
			 CTL_SOCK_DIR "/%s" CTL_SOCK_EXT, n->ifname);
	override(n->pin_root, sizeof(n->pin_root), a->pin_root);
	if (a->metrics)		/* check_overrides took it */
		conf_metrics_set(n, a->metrics);
	override(n->peer_key, sizeof(n->peer_key), a->peer_key);
	if (a->peers[0])
		snprintf(n->peers, sizeof(n->peers), "%s", a->peers);
	override(n->bird_sock, sizeof(n->bird_sock), a->bird_sock);
	override(n->bird_include, sizeof(n->bird_include), a->bird_include);
	if (!n->ifname[0]) {
		xlbd_log(LOG_ERR_, "no interface: give -i IFACE or "
			 "node.interface");
		return -EINVAL;
	}
	if (bird_check(n))
		return -EINVAL;
	d->ifindex = if_nametoindex(n->ifname);
	if (!d->ifindex) {
		xlbd_log(LOG_ERR_, "no interface %s", n->ifname);
		return -ENODEV;
	}
	snprintf(d->pin_dir, sizeof(d->pin_dir), "%s/xlb/%s", n->pin_root,
		 n->ifname);
	xlbd_default_sources(n);
	return 0;
}

static int start_dataplane(struct xlbd *d)
{
	struct xlb_opts o = { .flow_entries = d->conf.node.flow_entries,
			      .unconfirmed_entries =
				      d->conf.node.unconfirmed_entries,
			      .confirm_rate = d->conf.node.confirm_rate,
			      .ring_size = d->conf.node.ring_size,
			      .ring_prev_min_ms = RING_PREV_MIN_MS,
			      .pin_dir = d->pin_dir };
	struct xlb_conf want;
	char err[CONF_ERR_MAX] = "";
	bool generic;
	int rc;

	rc = ensure_bpffs(d->conf.node.pin_root);
	if (!rc)
		rc = mkdir_p(d->pin_dir);
	if (rc) {
		xlbd_log(LOG_ERR_, "pin directory %s: %s", d->pin_dir,
			 strerror(-rc));
		return rc;
	}
	rc = xlb_open(&d->xlb, &o);
	if (rc == -EPERM || rc == -EACCES) {
		/* A unit or container that took one away (xlbd(8)). */
		xlbd_log(LOG_ERR_, "cannot load the balancer: %s (xlbd needs "
			 "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)",
			 strerror(-rc));
		return rc;
	}
	if (rc) {
		xlbd_log(LOG_ERR_, "cannot load the balancer (pinned maps in "
			 "%s from another flow-entries/ring-size? xlbd "
			 "--detach removes them): %s", d->pin_dir,
			 strerror(-rc));
		return rc;
	}
	if (xlb_adopted(d->xlb))
		xlbd_log(LOG_INFO_, "adopted the running data plane in %s",
			 d->pin_dir);
	maps_of(d);

	/* Apply the configuration as a diff against what runs (nothing,
	 * or the adopted data plane): the running conf starts empty of
	 * VIPs, so every VIP is synced, and unchanged ones keep rings. */
	want = d->conf;
	conf_init(&d->conf);
	d->conf.node = want.node;
	rc = xlbd_apply(d, &want, err, sizeof(err));
	if (rc) {
		xlbd_log(LOG_ERR_, "applying the configuration: %s", err);
		conf_free(&want);
		return rc;
	}
	conf_free(&d->conf);
	d->conf = want;

	rc = xlb_attach(d->xlb, d->ifindex,
			d->conf.node.xdp_mode == CONF_XDP_NATIVE ?
				XLB_ATTACH_NATIVE :
			d->conf.node.xdp_mode == CONF_XDP_GENERIC ?
				XLB_ATTACH_GENERIC : XLB_ATTACH_AUTO,
			&generic);
	if (rc) {
		xlbd_log(LOG_ERR_, "cannot attach XDP to %s: %s",
			 d->conf.node.ifname, strerror(-rc));
		return rc;
	}
	if (generic)
		xlbd_log(LOG_WARN_, "native XDP not available on %s: running "
			 "in generic mode (slower)", d->conf.node.ifname);
	xlbd_log(LOG_INFO_, "attached to %s, pinned in %s, %zu VIPs",
		 d->conf.node.ifname, d->pin_dir, d->conf.nvips);
	xlbd_save(d);
	if (d->base_pending)
		xlbd_save_base(&d->file, d->conf.node.state_file);
	return 0;
}

static void reload(struct xlbd *d)
{
	char err[CONF_ERR_MAX] = "";

	int rc;

	pthread_mutex_lock(&d->lock);
	rc = xlbd_reload(d, false, err, sizeof(err));
	pthread_mutex_unlock(&d->lock);
	if (rc)
		xlbd_log(LOG_ERR_, "SIGHUP: %s; the running configuration "
			 "stays", err);
}

static void signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* Verdicts are saved in batches: the first change arms the timer, which
 * saves whatever changed by then (STORE_VERDICT_DELAY_MS later). */
static void on_save_timer(void *arg)
{
	struct xlbd *d = arg;

	if (d->verdicts_dirty && xlbd_save_verdicts(d))
		loop_timer_arm(d->loop, &d->save_timer,
			       STORE_VERDICT_DELAY_MS);
}

static void on_verdicts(void *arg, uint32_t revents)
{
	struct xlbd *d = arg;

	(void)revents;
	xlbd_on_verdicts(d);
	if (d->verdicts_dirty && !loop_timer_armed(&d->save_timer))
		loop_timer_arm(d->loop, &d->save_timer,
			       STORE_VERDICT_DELAY_MS);
}

/* Previous rings (bpf/maps.h, XLB_MAP_RING_PREV) live XLB_RING_PREV_S
 * after their VIP's last change, give or take this tick. */
#define PREV_RING_TICK_MS	1000

static void on_prev_timer(void *arg)
{
	struct xlbd *d = arg;

	xlb_ring_prev_expire(d->xlb, XLB_RING_PREV_S);
	loop_timer_arm(d->loop, &d->prev_timer, PREV_RING_TICK_MS);
}

struct sig_src {
	struct xlbd *d;
	int fd;
};

static void on_signal(void *arg, uint32_t revents)
{
	struct sig_src *s = arg;
	struct signalfd_siginfo si;

	(void)revents;
	while (!s->d->stop && read(s->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(s->d);
		else
			s->d->stop = true;
	}
}

/* The main loop: until a signal or `xlbctl shutdown` says stop. */
static int run(struct xlbd *d)
{
	struct sig_src s = { .d = d };
	sigset_t set;
	int rc;

	signals(&set);
	s.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.fd < 0)
		return -errno;
	rc = loop_add(d->loop, s.fd, EPOLLIN, on_signal, &s);
	loop_timer_init(&d->save_timer, on_save_timer, d);
	loop_timer_init(&d->prev_timer, on_prev_timer, d);
	loop_timer_arm(d->loop, &d->prev_timer, PREV_RING_TICK_MS);
	predict_start(d);
	active_start(d);
	if (!rc && health_fd(d) >= 0)
		rc = loop_add(d->loop, health_fd(d), EPOLLIN, on_verdicts, d);
	if (!rc) {
		xlbd_log(LOG_INFO_, "ready: control socket %s",
			 d->conf.node.ctl_sock);
		xlbd_notify_ready(d, NULL);
	}
	while (!rc && !d->stop)
		rc = loop_once(d->loop, -1);
	if (rc)
		xlbd_log(LOG_ERR_, "event loop: %s", strerror(-rc));
	xlbd_notify_stopping(d->shutdown ? "shutting down: detaching" :
			     "stopping; the data plane keeps forwarding");
	if (health_fd(d) >= 0)
		loop_del(d->loop, health_fd(d));
	loop_timer_cancel(d->loop, &d->save_timer);
	loop_timer_cancel(d->loop, &d->prev_timer);
	loop_timer_cancel(d->loop, &d->model_timer);
	active_stop(d);
	predict_stop(d);
	if (d->verdicts_dirty)
		xlbd_save_verdicts(d);
	loop_del(d->loop, s.fd);
	close(s.fd);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: xlbd -i IFACE [-c FILE] [-s SOCK] [--pin-root DIR] [--state FILE]\n"
"            [--metrics ADDR:PORT|off] [--peer-key FILE --peer ADDR ...]\n"
"            [--bird-socket SOCK --bird-include FILE] [-v|-q]\n"
"       xlbd -n [-c FILE]            check the configuration and exit\n"
"       xlbd -i IFACE --detach       remove the program and its pins\n"
"       xlbd --version | --help\n"
"One xlbd per interface; its socket is " CTL_SOCK_DIR "/IFACE" CTL_SOCK_EXT
" unless -s says.\n"
"Runs in the foreground; logs to stderr. See xlbd(8), xlb.conf(5).\n");
}

/* A relative path on the command line means from here, and the state file
 * keeps it: made absolute now (too long: left for the check to refuse). */
static const char *abs_path(const char *p, char *buf, size_t len)
{
	char cwd[CONF_PATH_MAX];

	if (p[0] == '/' || !getcwd(cwd, sizeof(cwd)) ||
	    (size_t)snprintf(buf, len, "%s/%s", cwd, p) >= len)
		return p;
	return buf;
}

/* --peer ADDR, checked as node.peers checks each. */
static int peer_arg(struct args *a, const char *addr)
{
	struct conf_node n = {};
	char err[CONF_ERR_MAX];

	snprintf(n.peers, sizeof(n.peers), "%s", a->peers);
	if (conf_peer_add(&n, addr, err, sizeof(err))) {
		fprintf(stderr, "xlbd: --peer: %s\n", err);
		return -EINVAL;
	}
	snprintf(a->peers, sizeof(a->peers), "%s", n.peers);
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "pin-root", required_argument, NULL, 'P' },
		{ "state", required_argument, NULL, 'S' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "peer-key", required_argument, NULL, 'K' },
		{ "peer", required_argument, NULL, 'p' },
		{ "bird-socket", required_argument, NULL, 'B' },
		{ "bird-include", required_argument, NULL, 'I' },
		{ "check", no_argument, NULL, 'n' },
		{ "detach", no_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:c:s:nvqh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': a->ifname = optarg; break;
		case 'c': a->conf = optarg; break;
		case 's': a->sock = optarg; break;
		case 'P': a->pin_root = optarg; break;
		case 'S': a->state = optarg; break;
		case 'm': a->metrics = optarg; break;
		case 'K': a->peer_key = abs_path(optarg, a->peer_key_abs,
						 sizeof(a->peer_key_abs));
			break;
		case 'p':
			if (peer_arg(a, optarg))
				return -EINVAL;
			break;
		case 'B': a->bird_sock = optarg; break;
		case 'I': a->bird_include = optarg; break;
		case 'n': a->check_only = true; break;
		case 'D': a->detach = true; break;
		case 'v': xlbd_log_level(LOG_DEBUG_); break;
		case 'q': xlbd_log_level(LOG_WARN_); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("xlbd %s\n", XLB_VERSION); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xlbd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- command-line overrides: the same checks as in a file ---- */

/* Each override of a node setting and the key that sets it in a file. */
static const struct {
	const char *opt, *key;
	size_t off;			/* of the value in struct args */
} overrides[] = {
	{ "--interface", "interface", offsetof(struct args, ifname) },
	{ "--socket", "control-socket", offsetof(struct args, sock) },
	{ "--pin-root", "pin-root", offsetof(struct args, pin_root) },
	{ "--state", "state-file", offsetof(struct args, state) },
	{ "--metrics", "metrics", offsetof(struct args, metrics) },
	{ "--peer-key", "peer-key", offsetof(struct args, peer_key) },
	{ "--bird-socket", "bird-socket", offsetof(struct args, bird_sock) },
	{ "--bird-include", "bird-include",
	  offsetof(struct args, bird_include) },
};

/* "node:\n  KEY: "VALUE"\n", VALUE in YAML's double-quoted form, which
 * carries any byte string libyaml accepts in a file. */
static char *override_doc(const char *key, const char *val)
{
	size_t len = strlen(val) * 4 + strlen(key) + 32, n;
	char *doc = malloc(len);
	const unsigned char *c;

	if (!doc)
		return NULL;
	n = snprintf(doc, len, "node:\n  %s: \"", key);
	for (c = (const unsigned char *)val; *c; c++) {
		if (*c == '"' || *c == '\\')
			n += snprintf(doc + n, len - n, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			n += snprintf(doc + n, len - n, "\\x%02x", *c);
		else
			doc[n++] = (char)*c;
	}
	snprintf(doc + n, len - n, "\"\n");
	return doc;
}

/* The parser's "NAME:LINE: reason", less "NAME:LINE: ". */
static const char *reason(const char *err, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(err, name, n) || err[n] != ':')
		return err;
	err += n;
	while (*err == ':' && err[1] >= '0' && err[1] <= '9')
		err += 1 + strspn(err + 1, "0123456789");
	if (*err == ':')
		err++;
	return err + strspn(err, " ");
}

/* Before anything is loaded, attached or saved: a value the file would
 * refuse is refused here, in one line, rather than saved into the state
 * file to be refused at every start after. */
static int check_overrides(const struct args *a)
{
	char err[CONF_ERR_MAX];
	struct xlb_conf c;
	const char *val;
	char *doc;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
		val = *(const char *const *)((const char *)a +
					     overrides[i].off);
		if (!val)
			continue;
		doc = override_doc(overrides[i].key, val);
		conf_init(&c);
		rc = doc ? conf_parse_string(doc, overrides[i].opt, &c, err,
					     sizeof(err)) : -ENOMEM;
		conf_free(&c);
		free(doc);
		if (rc == -ENOMEM)
			snprintf(err, sizeof(err), "%s", strerror(ENOMEM));
		if (rc) {
			fprintf(stderr, "xlbd: %s: %s\n", overrides[i].opt,
				reason(err, overrides[i].opt));
			return rc;
		}
	}
	return 0;
}

static int check_only(const struct args *a)
{
	char err[CONF_ERR_MAX];
	struct xlb_conf c;
	int rc;

	conf_init(&c);
	rc = a->conf ? conf_load(a->conf, &c, err, sizeof(err)) : 0;
	conf_free(&c);
	if (rc) {
		fprintf(stderr, "xlbd: %s\n", err);
		return 1;
	}
	printf("configuration OK\n");
	return 0;
}

/* ---- one daemon per data plane ---- */

struct locks {
	int pins, state;		/* fds holding the flocks, or -1 */
};

static int lock_one(const char *path, const char *what)
{
	pid_t pid;
	int fd = lock_take(path, &pid);

	if (fd == -EBUSY && pid)
		xlbd_log(LOG_ERR_, "xlbd (pid %d) runs on this %s (%s is "
			 "locked): stop it first, or use its socket", pid,
			 what, path);
	else if (fd == -EBUSY)
		xlbd_log(LOG_ERR_, "another xlbd runs on this %s (%s is "
			 "locked)", what, path);
	else if (fd < 0)
		xlbd_log(LOG_ERR_, "cannot lock %s: %s", path, strerror(-fd));
	return fd;
}

/* The pin directory, made to exist so that it can be locked. */
static int pin_dir_ready(struct xlbd *d)
{
	int rc = ensure_bpffs(d->conf.node.pin_root);

	if (!rc)
		rc = mkdir_p(d->pin_dir);
	if (rc)
		xlbd_log(LOG_ERR_, "pin directory %s: %s", d->pin_dir,
			 strerror(-rc));
	return rc;
}

/* The state file's lock first (it changes nothing on the data plane),
 * then the pin directory's, which must exist. */
static int take_locks(struct xlbd *d, struct locks *l)
{
	char path[CONF_PATH_MAX + 8], *slash;
	int rc;

	snprintf(path, sizeof(path), "%s.lock", d->conf.node.state_file);
	slash = strrchr(path, '/');
	if (slash && slash != path) {
		*slash = '\0';
		if (access(path, F_OK) && mkdir_p(path))
			xlbd_log(LOG_WARN_, "cannot create %s", path);
		*slash = '/';
	}
	l->state = lock_one(path, "state file");
	if (l->state < 0)
		return l->state;
	rc = pin_dir_ready(d);
	if (rc)
		return rc;
	l->pins = lock_one(d->pin_dir, "data plane");
	return l->pins < 0 ? l->pins : 0;
}

static void drop_locks(struct locks *l)
{
	if (l->pins >= 0)
		close(l->pins);
	if (l->state >= 0)
		close(l->state);
	l->pins = l->state = -1;
}

static int detach(struct xlbd *d, struct locks *l)
{
	struct xlb_opts o = { .flow_entries = d->conf.node.flow_entries,
			      .unconfirmed_entries =
				      d->conf.node.unconfirmed_entries,
			      .confirm_rate = d->conf.node.confirm_rate,
			      .ring_size = d->conf.node.ring_size,
			      .ring_prev_min_ms = RING_PREV_MIN_MS,
			      .pin_dir = d->pin_dir };
	int rc;

	if (access(d->pin_dir, F_OK)) {
		xlbd_log(LOG_INFO_, "nothing pinned in %s", d->pin_dir);
		return 0;
	}
	/* The pins only: detaching leaves the state file alone. */
	l->pins = lock_one(d->pin_dir, "data plane");
	if (l->pins < 0)
		return 1;
	rc = xlb_open(&d->xlb, &o);
	if (!rc)
		rc = xlb_detach(d->xlb);
	if (rc)
		xlbd_log(LOG_ERR_, "detach from %s: %s", d->pin_dir,
			 strerror(-rc));
	else
		xlbd_log(LOG_INFO_, "detached; removed %s", d->pin_dir);
	return rc ? 1 : 0;
}

/* Locks, then the control socket, the metrics address and the peer
 * socket, then the data plane and the checks: a socket another daemon
 * answers on, or an address that cannot be served, stops xlbd with nothing
 * attached or saved. */
static int start(struct xlbd *d, struct locks *l)
{
	int rc;

	rc = take_locks(d, l);
	if (!rc && !(d->loop = loop_new()))
		rc = -errno;
	if (!rc)
		xlbd_model_init(d);	/* the first apply kicks it */
	if (!rc)
		rc = ctl_open(d);
	if (!rc)
		rc = metrics_start(d);
	/* The peer socket too: heartbeats start with the loop. */
	if (!rc)
		rc = peer_start(d);
	if (!rc) {
		/* The metrics thread reads d->conf and d->xlb. */
		pthread_mutex_lock(&d->lock);
		rc = start_dataplane(d);
		/* With peers, the table follows the group's agreement. */
		if (!rc && peer_count(d))
			rc = group_start(d, peer_count(d), peer_send_flows);
		pthread_mutex_unlock(&d->lock);
	}
	if (!rc)
		rc = health_start(d);
	if (!rc)
		rc = bird_start(d);
	return rc;
}

int main(int argc, char **argv)
{
	struct xlbd d = { .ctl_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct locks l = { -1, -1 };
	struct args a = {};
	sigset_t set;
	int rc;

	if (parse_args(argc, argv, &a) || check_overrides(&a))
		return 2;
	if (a.check_only)
		return check_only(&a);
	libbpf_set_print(NULL);
	/* Replies carry fractional seconds: no 17-digit noise. */
	json_c_set_serialization_double_format("%.10g", JSON_C_OPTION_GLOBAL);
	d.conf_path = a.conf;
	d.version = XLB_VERSION;
	if (load_conf(&d, &a) || node_settings(&d, &a))
		return 1;
	d.reload_ok = true;		/* what it started with loaded */
	d.reload_time = time(NULL);
	/* A bad key is a usage error: nothing starts. */
	if (!a.detach && peer_init(&d))
		return 2;
	if (a.detach) {
		rc = detach(&d, &l);
		drop_locks(&l);
		xlb_close(d.xlb);
		conf_free(&d.conf);
		conf_free(&d.file);
		return rc;
	}
	/* Blocked before any thread starts (metrics), so that only the
	 * signalfd sees them. */
	signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);	/* peers that hang up: an error, not death */
	rc = start(&d, &l);
	if (!rc)
		rc = run(&d);
	group_stop(&d);
	peer_stop(&d);
	health_stop(&d);
	metrics_stop(&d);
	ctl_close(&d);
	bird_stop(&d);		/* routes first, then the data plane */
	if (d.shutdown && d.xlb) {
		rc = xlb_detach(d.xlb);
		xlbd_log(rc ? LOG_ERR_ : LOG_INFO_, "shutdown: %s",
			 rc ? strerror(-rc) : "detached, pins removed");
	} else if (d.xlb) {
		xlbd_log(LOG_INFO_, "stopping; the data plane keeps "
			 "forwarding (pinned in %s)", d.pin_dir);
	}
	xlb_close(d.xlb);
	conf_free(&d.conf);
	conf_free(&d.file);
	loop_free(d.loop);
	drop_locks(&l);
	return rc ? 1 : 0;
}
