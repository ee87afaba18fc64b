// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd: the xlb node daemon. Loads (or adopts) the balancer, pins it under
 * <pin-root>/xlb/<ifname>/, keeps the data plane equal to its running
 * configuration, serves xlbctl on a unix socket and metrics over HTTP.
 * SIGTERM/SIGINT stop the daemon and leave the data plane forwarding;
 * SIGHUP re-reads the configuration file; `xlbctl shutdown` or
 * `xlbd --detach` remove the program and its pins. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "addr.h"
#include "ctl.h"
#include "maglev.h"
#include "xlbd.h"

static enum log_level log_level = LOG_INFO_;

void xlbd_log(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	va_list ap;

	if (lvl > log_level)
		return;
	fprintf(stderr, "xlbd: %s: ", names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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

/* bpf_fib_lookup finds no next hop on an interface that does not forward;
 * without a gateway MAC every tunnelled packet would then drop. */
static void check_forwarding(const struct conf_node *n)
{
	char path[128], v = '0';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding",
		 n->ifname);
	f = fopen(path, "r");
	if (f) {
		v = (char)fgetc(f);
		fclose(f);
	}
	if (v != '1' && !n->has_gw)
		xlbd_log(LOG_WARN_, "IPv4 forwarding is off on %s and no "
			 "gateway-mac is set: the FIB gives no next hop and "
			 "tunnelled packets drop (sysctl "
			 "net.ipv4.conf.%s.forwarding=1)", n->ifname,
			 n->ifname);
}

/* The outer source defaults to the interface's primary address. */
static void default_sources(struct conf_node *n)
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

static time_t mtime(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_mtime;
}

struct args {
	const char *ifname, *conf, *sock, *pin_root, *state, *metrics;
	bool check_only, detach;
};

/* Which configuration to run: the state file holds the last running one
 * (with xlbctl's changes) and wins unless the -c file is newer. */
static int load_conf(struct xlbd *d, const struct args *a)
{
	char err[CONF_ERR_MAX];
	const char *path = a->conf;
	int rc = 0;

	conf_init(&d->conf);
	if (a->state && access(a->state, R_OK) == 0 &&
	    (!a->conf || mtime(a->state) >= mtime(a->conf)))
		path = a->state;
	if (path)
		rc = conf_load(path, &d->conf, err, sizeof(err));
	if (rc) {
		xlbd_log(LOG_ERR_, "%s", err);
		return rc;
	}
	if (path)
		xlbd_log(LOG_INFO_, "configuration from %s", path);
	return 0;
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
	override(n->pin_root, sizeof(n->pin_root), a->pin_root);
	override(n->metrics, sizeof(n->metrics), a->metrics);
	if (a->state)
		override(n->state_file, sizeof(n->state_file), a->state);
	else if (!n->state_file[0] ||
		 !strcmp(n->state_file, "/var/lib/xlb/state.yaml"))
		/* The default names the interface once we know it. */
		snprintf(n->state_file, sizeof(n->state_file),
			 "/var/lib/xlb/%s.yaml", n->ifname);
	if (!n->ifname[0]) {
		xlbd_log(LOG_ERR_, "no interface: give -i IFACE or "
			 "node.interface");
		return -EINVAL;
	}
	d->ifindex = if_nametoindex(n->ifname);
	if (!d->ifindex) {
		xlbd_log(LOG_ERR_, "no interface %s", n->ifname);
		return -ENODEV;
	}
	snprintf(d->pin_dir, sizeof(d->pin_dir), "%s/xlb/%s", n->pin_root,
		 n->ifname);
	default_sources(n);
	check_forwarding(n);
	return 0;
}

static int start_dataplane(struct xlbd *d)
{
	struct xlb_opts o = { .flow_entries = d->conf.node.flow_entries,
			      .ring_size = d->conf.node.ring_size,
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
	return 0;
}

static void reload(struct xlbd *d)
{
	char err[CONF_ERR_MAX] = "";
	struct xlb_conf want;
	int rc;

	if (!d->conf_path) {
		xlbd_log(LOG_WARN_, "SIGHUP: no configuration file (-c)");
		return;
	}
	conf_init(&want);
	rc = conf_load(d->conf_path, &want, err, sizeof(err));
	if (rc) {
		xlbd_log(LOG_ERR_, "SIGHUP: %s; keeping the running "
			 "configuration", err);
		conf_free(&want);
		return;
	}
	/* What is bound at start stays; the rest may change. */
	memcpy(want.node.ifname, d->conf.node.ifname, sizeof(want.node.ifname));
	memcpy(want.node.ctl_sock, d->conf.node.ctl_sock,
	       sizeof(want.node.ctl_sock));
	memcpy(want.node.pin_root, d->conf.node.pin_root,
	       sizeof(want.node.pin_root));
	memcpy(want.node.state_file, d->conf.node.state_file,
	       sizeof(want.node.state_file));
	memcpy(want.node.metrics, d->conf.node.metrics,
	       sizeof(want.node.metrics));
	want.node.flow_entries = d->conf.node.flow_entries;
	want.node.ring_size = d->conf.node.ring_size;
	default_sources(&want.node);
	pthread_mutex_lock(&d->lock);
	rc = xlbd_apply(d, &want, err, sizeof(err));
	if (rc) {
		xlbd_log(LOG_ERR_, "SIGHUP: %s; restoring", err);
		xlbd_apply(d, &d->conf, err, sizeof(err));
		conf_free(&want);
	} else {
		conf_free(&d->conf);
		d->conf = want;
		xlbd_save(d);
		xlbd_log(LOG_INFO_, "SIGHUP: applied %s, %zu VIPs",
			 d->conf_path, d->conf.nvips);
	}
	pthread_mutex_unlock(&d->lock);
}

static void signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

static int run(struct xlbd *d)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	sigset_t set;

	signals(&set);
	pfd[0].fd = signalfd(-1, &set, SFD_CLOEXEC);
	pfd[0].events = POLLIN;
	pfd[1].fd = d->ctl_fd;
	pfd[1].events = POLLIN;
	if (pfd[0].fd < 0)
		return -errno;
	xlbd_log(LOG_INFO_, "ready: control socket %s", d->conf.node.ctl_sock);
	while (!d->stop) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((pfd[0].revents & POLLIN) &&
		    read(pfd[0].fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP)
				reload(d);
			else
				d->stop = true;
		}
		if (pfd[1].revents & POLLIN)
			ctl_serve_one(d);
	}
	close(pfd[0].fd);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: xlbd -i IFACE [-c FILE] [-s SOCK] [--pin-root DIR] [--state FILE]\n"
"            [--metrics ADDR:PORT] [-v|-q]\n"
"       xlbd -n [-c FILE]            check the configuration and exit\n"
"       xlbd -i IFACE --detach       remove the program and its pins\n"
"Runs in the foreground; logs to stderr. See xlbd(8), xlb.conf(5).\n");
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
		{ "check", no_argument, NULL, 'n' },
		{ "detach", no_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
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
		case 'n': a->check_only = true; break;
		case 'D': a->detach = true; break;
		case 'v': log_level = LOG_DEBUG_; break;
		case 'q': log_level = LOG_WARN_; break;
		case 'h': usage(stdout); exit(0);
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

static int detach(struct xlbd *d)
{
	struct xlb_opts o = { .flow_entries = d->conf.node.flow_entries,
			      .ring_size = d->conf.node.ring_size,
			      .pin_dir = d->pin_dir };
	int rc;

	if (access(d->pin_dir, F_OK)) {
		xlbd_log(LOG_INFO_, "nothing pinned in %s", d->pin_dir);
		return 0;
	}
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

int main(int argc, char **argv)
{
	struct xlbd d = { .ctl_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct args a = {};
	sigset_t set;
	int rc;

	if (parse_args(argc, argv, &a))
		return 2;
	if (a.check_only)
		return check_only(&a);
	libbpf_set_print(NULL);
	/* Replies carry fractional seconds: no 17-digit noise. */
	json_c_set_serialization_double_format("%.10g", JSON_C_OPTION_GLOBAL);
	d.conf_path = a.conf;
	if (load_conf(&d, &a) || node_settings(&d, &a))
		return 1;
	if (a.detach) {
		rc = detach(&d);
		xlb_close(d.xlb);
		conf_free(&d.conf);
		return rc;
	}
	/* Blocked before any thread starts (metrics), so that only the
	 * signalfd sees them. */
	signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);	/* peers that hang up: an error, not death */
	rc = start_dataplane(&d);
	if (!rc)
		rc = ctl_open(&d);
	if (!rc)
		rc = metrics_start(&d);
	if (!rc)
		rc = health_start(&d);
	if (!rc)
		rc = run(&d);
	health_stop(&d);
	metrics_stop(&d);
	ctl_close(&d);
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
	return rc ? 1 : 0;
}
