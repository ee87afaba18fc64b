// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The peer protocol in xlbd (peer.h, docs/peers.md). One socket per
 * address family the peers use, bound to XLB_PEER_PORT on the interface's
 * primary address of that family; one heartbeat timer; one timer per peer
 * that marks it down when its heartbeats stop. State changes are logged
 * once each: up/down, configuration drift, a VIP's table differing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>

#include "addr.h"
#include "bird.h"
#include "group.h"
#include "merge.h"
#include "peer.h"
#include "peerproto.h"
#include "peersync.h"
#include "xlbd.h"

#define RX_BURST	64		/* datagrams per readable event */
/* Heartbeats in a row with a differing fingerprint before a VIP's table
 * is said to differ: longer than an agreement epoch (docs/group.md). */
#define TABLE_DIFF_STREAK	5

/* A heartbeat of a node with every VIP fits one message. */
_Static_assert(XLB_MAX_VIPS * (PEER_TLV_HDR + PEER_VIP_FP_LEN) + 256 <
	       PEER_MSG_MAX, "heartbeat size");

enum view { VIEW_UNKNOWN, VIEW_EQUAL, VIEW_DIFFERS };

struct peer {
	struct peer_addr addr;
	char name[XLB_ADDR_STRLEN];
	bool up;
	uint64_t last_seq;
	uint64_t last_rx_ms;		/* CLOCK_MONOTONIC; 0: never */
	unsigned int transitions;
	uint64_t rx[PEER_MSG_TYPES];	/* by type, accepted; [0]: others */
	uint64_t dropped[PEER_DROP_MAX];	/* from its address */
	struct loop_timer dead;		/* fires when heartbeats stop */
	struct peers *all;
	uint64_t epoch;			/* of its view, last heard */
	/* Its last heartbeat. */
	enum view config;
	bool drained;
	struct peer_vip_fp *vips;	/* sorted by VIP */
	bool *differs;			/* per vips[], vs. ours */
	uint8_t *raw;			/* per vips[]: heartbeats in a row whose
					 * fingerprint differed (differs needs
					 * TABLE_DIFF_STREAK: tables switch at
					 * an epoch boundary, within the nodes'
					 * clock skew and timer delays) */
	bool *known;			/* per vips[]: we have that VIP */
	size_t nvips;
};

struct peers {
	struct xlbd *d;
	struct peer_key key;
	struct peer p[CONF_PEERS_MAX];
	struct peer_addr addrs[CONF_PEERS_MAX];	/* p[i].addr, for lookups */
	size_t n;
	struct peer_addr self[2];	/* [0] IPv4, [1] IPv6 */
	struct psock {
		struct peers *ps;
		int fd;			/* -1: no peer of that family */
	} sock[2];
	uint64_t seq;
	uint64_t sent;
	uint64_t flow_msgs, flow_bytes;	/* FLOWS messages sent */
	uint64_t dropped[PEER_DROP_MAX];
	struct loop_timer hb;
	unsigned int interval_ms, dead;
	bool drained;
	/* Ours, refreshed when the configuration or a ring changed. */
	bool has_digest;
	uint8_t digest[PEER_DIGEST_LEN];
	struct peer_vip_fp *fps;	/* sorted by VIP */
	size_t nfps;
	unsigned long fp_conf_gen;
	uint64_t fp_ring_gen;
	bool fp_valid;
	uint8_t buf[PEER_MSG_MAX];
};

static int fam_idx(uint8_t family)
{
	return family == XLB_AF_INET6;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- the key ---- */

/* The whole file is the key: shared by all nodes, kept like a private
 * key (no access for group or others). */
static int key_load(const char *path, struct peer_key *k)
{
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		xlbd_log(LOG_ERR_, "peer key %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		xlbd_log(LOG_ERR_, "peer key %s: not a regular file", path);
		rc = -EINVAL;
	} else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		xlbd_log(LOG_ERR_, "peer key %s: readable or writable by group "
			 "or others (mode %03o): chmod 600 it", path,
			 (unsigned int)(st.st_mode & 0777));
		rc = -EPERM;
	} else {
		n = read(fd, k->k, sizeof(k->k));
		k->len = n > 0 ? (size_t)n : 0;
		if (n < 0) {
			rc = -errno;
			xlbd_log(LOG_ERR_, "peer key %s: %s", path,
				 strerror(errno));
		} else if (k->len < PEER_KEY_MIN || st.st_size > PEER_KEY_MAX) {
			xlbd_log(LOG_ERR_, "peer key %s: %lld bytes; want %d to "
				 "%d (e.g. head -c 32 /dev/urandom)", path,
				 (long long)st.st_size, PEER_KEY_MIN,
				 PEER_KEY_MAX);
			rc = -EINVAL;
		}
	}
	close(fd);
	return rc;
}

static int peers_parse(struct peers *ps, const char *text)
{
	char *copy = strdup(text), *t, *save;
	union xlb_addr a;
	struct peer *p;
	__u8 family;

	if (!copy)
		return -ENOMEM;
	for (t = strtok_r(copy, " ", &save); t && ps->n < CONF_PEERS_MAX;
	     t = strtok_r(NULL, " ", &save)) {
		if (xlb_parse_addr(t, &a, &family))
			continue;	/* conf_peer_add checked it */
		p = &ps->p[ps->n++];
		p->all = ps;
		p->addr.family = family;
		memcpy(p->addr.addr, &a, family == XLB_AF_INET ? 4 : 16);
		xlb_format_addr(&a, family, p->name, sizeof(p->name));
		ps->addrs[ps->n - 1] = p->addr;
	}
	free(copy);
	return 0;
}

static void on_heartbeat_timer(void *arg);
static void on_dead(void *arg);

int peer_init(struct xlbd *d)
{
	const struct conf_node *n = &d->conf.node;
	struct peers *ps;
	size_t i;
	int rc;

	if (!n->peers[0] && !n->peer_key[0])
		return 0;
	if (!n->peers[0] || !n->peer_key[0]) {
		xlbd_log(LOG_ERR_, "peers need both a key and addresses: give "
			 "--peer-key FILE and --peer ADDR (node.peer-key, "
			 "node.peers)");
		return -EINVAL;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->d = d;
	ps->sock[0].fd = ps->sock[1].fd = -1;
	ps->sock[0].ps = ps->sock[1].ps = ps;
	ps->interval_ms = n->peer_interval_ms;
	ps->dead = n->peer_dead;
	/* Never back, even after a restart within the same nanosecond's
	 * clock step: the sequence only has to exceed the last one seen. */
	ps->seq = realtime_ns();
	rc = key_load(n->peer_key, &ps->key);
	if (!rc)
		rc = peers_parse(ps, n->peers);
	if (rc) {
		free(ps);
		return rc;
	}
	/* Here, not at start: peer_stop cancels them whatever happened. */
	loop_timer_init(&ps->hb, on_heartbeat_timer, ps);
	for (i = 0; i < ps->n; i++)
		loop_timer_init(&ps->p[i].dead, on_dead, &ps->p[i]);
	d->peers = ps;
	return 0;
}

/* ---- our side: digest and fingerprints ---- */

static int vip_cmp(const void *a, const void *b)
{
	/* family, proto, port, address: the first 20 bytes */
	const struct peer_vip_fp *x = a, *y = b;
	int c = (int)x->family - (int)y->family;

	if (!c)
		c = (int)x->proto - (int)y->proto;
	if (!c)
		c = memcmp(&x->port, &y->port, 2);
	return c ? c : memcmp(x->addr, y->addr, 16);
}

static void vip_to_fp(const struct xlb_vip_key *k, struct peer_vip_fp *v)
{
	memset(v, 0, sizeof(*v));
	v->family = k->family;
	v->proto = k->proto;
	v->port = k->port;
	memcpy(v->addr, &k->addr, k->family == XLB_AF_INET ? 4 : 16);
}

static void fp_to_vip(const struct peer_vip_fp *v, struct xlb_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = v->family;
	k->proto = v->proto;
	k->port = v->port;
	memcpy(&k->addr, v->addr, v->family == XLB_AF_INET ? 4 : 16);
}

/* What must be equal on every node: the VIPs and backends, and the ring
 * size; the node's own settings (interface, sources, sockets, peers) are
 * left out. */
static int shared_digest(const struct xlb_conf *c, uint8_t *out)
{
	struct xlb_conf s;

	conf_init(&s);
	s.node.ring_size = c->node.ring_size;
	s.vips = c->vips;
	s.nvips = c->nvips;
	return conf_digest(&s, out);
}

/* The ring as addresses: slot numbers differ between nodes, addresses
 * do not. SHA-256, truncated to PEER_FP_LEN. */
static int ring_fp(struct xlb *x, const struct xlb_vip_key *k, __u32 *ring,
		   __u32 size, int *slot_idx, struct xlb_backend_spec *be,
		   uint8_t out[PEER_FP_LEN])
{
	static const uint8_t none[17] = { [0 ... 16] = 0xff };
	uint8_t md[EVP_MAX_MD_SIZE], rec[17];
	EVP_MD_CTX *ctx;
	__u32 i, slot;
	int n, j, rc;

	n = xlb_vip_backends(x, k, be, XLB_MAX_BACKENDS);
	rc = n < 0 ? n : xlb_vip_ring(x, k, ring, size);
	if (rc)
		return rc;
	for (j = 0; j < n; j++)
		if (!xlb_backend_slot(x, k, &be[j].addr, be[j].family, &slot) &&
		    slot < XLB_MAX_BACKENDS)
			slot_idx[slot] = j;
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		rc = -ENOMEM;
	for (i = 0; i < size && !rc; i++) {
		j = ring[i] < XLB_MAX_BACKENDS ? slot_idx[ring[i]] : -1;
		if (j < 0) {
			EVP_DigestUpdate(ctx, none, sizeof(none));
			continue;
		}
		rec[0] = be[j].family;
		memset(rec + 1, 0, 16);
		memcpy(rec + 1, &be[j].addr,
		       be[j].family == XLB_AF_INET ? 4 : 16);
		EVP_DigestUpdate(ctx, rec, sizeof(rec));
	}
	if (!rc && !EVP_DigestFinal_ex(ctx, md, NULL))
		rc = -EIO;
	EVP_MD_CTX_free(ctx);
	memcpy(out, md, PEER_FP_LEN);
	for (j = 0; j < n; j++)
		if (!xlb_backend_slot(x, k, &be[j].addr, be[j].family, &slot) &&
		    slot < XLB_MAX_BACKENDS)
			slot_idx[slot] = -1;
	return rc;
}

static int fps_build(struct peers *ps)
{
	struct xlb *x = ps->d->xlb;
	__u32 size = xlb_ring_size(x);
	size_t nv = xlb_vip_count(x), i, m = 0;
	struct xlb_backend_spec *be = calloc(XLB_MAX_BACKENDS, sizeof(*be));
	int *slot_idx = malloc(XLB_MAX_BACKENDS * sizeof(int));
	__u32 *ring = calloc(size, sizeof(*ring));
	struct peer_vip_fp *fps = calloc(nv + 1, sizeof(*fps));
	struct xlb_vip_key k;
	struct xlb_vip v;
	int rc = 0;

	if (!be || !slot_idx || !ring || !fps)
		rc = -ENOMEM;
	for (i = 0; !rc && i < XLB_MAX_BACKENDS; i++)
		slot_idx[i] = -1;
	for (i = 0; !rc && i < nv; i++) {
		if (xlb_vip_at(x, i, &k, &v))
			continue;
		vip_to_fp(&k, &fps[m]);
		rc = ring_fp(x, &k, ring, size, slot_idx, be, fps[m].fp);
		m++;
	}
	free(be);
	free(slot_idx);
	free(ring);
	if (rc) {
		free(fps);
		return rc;
	}
	qsort(fps, m, sizeof(*fps), vip_cmp);
	free(ps->fps);
	ps->fps = fps;
	ps->nfps = m;
	return 0;
}

/* Lock held. */
static void ours_refresh(struct peers *ps)
{
	struct xlbd *d = ps->d;
	int rc;

	if (!d->xlb || (ps->fp_valid && ps->fp_conf_gen == d->conf_gen &&
			ps->fp_ring_gen == xlb_ring_gen(d->xlb)))
		return;
	ps->has_digest = !shared_digest(&d->conf, ps->digest);
	rc = fps_build(ps);
	if (rc) {
		xlbd_log(LOG_WARN_, "peers: table fingerprints: %s",
			 strerror(-rc));
		return;
	}
	ps->fp_valid = true;
	ps->fp_conf_gen = d->conf_gen;
	ps->fp_ring_gen = xlb_ring_gen(d->xlb);
}

/* ---- sending ---- */

static void send_to(struct peers *ps, struct peer *p, size_t len)
{
	struct sockaddr_storage ss;
	union xlb_addr a = {};
	socklen_t sl;
	int fd = ps->sock[fam_idx(p->addr.family)].fd;

	memcpy(&a, p->addr.addr, sizeof(a));
	sl = xlb_sockaddr(&a, p->addr.family, htons(XLB_PEER_PORT), &ss);
	if (fd >= 0 && sendto(fd, ps->buf, len, 0, (struct sockaddr *)&ss,
			      sl) == (ssize_t)len)
		ps->sent++;
}

/* One heartbeat per family (the sender's address differs), to each peer
 * of that family. Lock held. */
static void heartbeat_send(struct peers *ps)
{
	struct peer_heartbeat hb = { .drained = ps->drained ||
						ps->d->node.drained };
	struct peer_msg m = { .type = PEER_MSG_HEARTBEAT };
	struct peer_enc e;
	size_t i;
	int f, len;

	ours_refresh(ps);
	hb.has_digest = ps->has_digest;
	memcpy(hb.digest, ps->digest, sizeof(hb.digest));
	hb.vips = ps->fps;
	hb.nvips = ps->nfps;
	for (f = 0; f < 2; f++) {
		if (ps->sock[f].fd < 0)
			continue;
		m.family = ps->self[f].family;
		memcpy(m.addr, ps->self[f].addr, 16);
		m.seq = ++ps->seq;
		m.sent_ns = realtime_ns();
		peer_enc_start(&e, ps->buf, sizeof(ps->buf), &m);
		peer_enc_heartbeat(&e, &hb);	/* too many VIPs: cut */
		if (group_on(ps->d)) {
			const struct agree_entry *v;
			uint64_t epoch;
			size_t n;

			v = group_view(ps->d, &n, &epoch);
			if (peer_enc_view(&e, epoch, v, n))
				xlbd_log(LOG_WARN_, "peers: our view (%zu "
					 "backends) does not fit a heartbeat",
					 n);
		}
		len = peer_enc_seal(&e, &ps->key);
		for (i = 0; len > 0 && i < ps->n; i++)
			if (fam_idx(ps->p[i].addr.family) == f)
				send_to(ps, &ps->p[i], (size_t)len);
	}
}

static void on_heartbeat_timer(void *arg)
{
	struct peers *ps = arg;

	pthread_mutex_lock(&ps->d->lock);
	heartbeat_send(ps);
	pthread_mutex_unlock(&ps->d->lock);
	loop_timer_arm(ps->d->loop, &ps->hb, ps->interval_ms);
}

/* ---- receiving ---- */

static void on_dead(void *arg)
{
	struct peer *p = arg;
	struct peers *ps = p->all;

	pthread_mutex_lock(&ps->d->lock);
	if (p->up) {
		p->up = false;
		p->transitions++;
		xlbd_log(LOG_WARN_, "peer %s: down (no valid heartbeat for "
			 "%u ms, %u intervals)", p->name,
			 ps->interval_ms * ps->dead, ps->dead);
		if (group_on(ps->d))
			group_peer_live(ps->d, (int)(p - ps->p) + 1, false);
	}
	pthread_mutex_unlock(&ps->d->lock);
}

static void vip_name(const struct peer_vip_fp *v, char *buf, size_t len)
{
	struct xlb_vip_key k;

	fp_to_vip(v, &k);
	xlb_format_vip(&k, buf, len);
}

/* The digest: logged when it starts to differ and when equal again. */
static void compare_config(struct peers *ps, struct peer *p,
			   const struct peer_heartbeat *hb)
{
	enum view cfg = !hb->has_digest || !ps->has_digest ? VIEW_UNKNOWN :
			memcmp(hb->digest, ps->digest, PEER_DIGEST_LEN) ?
			VIEW_DIFFERS : VIEW_EQUAL;

	if (cfg != p->config && cfg != VIEW_UNKNOWN &&
	    !(cfg == VIEW_EQUAL && p->config == VIEW_UNKNOWN))
		xlbd_log(cfg == VIEW_DIFFERS ? LOG_WARN_ : LOG_INFO_,
			 "peer %s: configuration %s", p->name,
			 cfg == VIEW_DIFFERS ? "differs from ours (drift)" :
			 "equal to ours again");
	p->config = cfg;
}

/* Each VIP both have: logged when its table starts to differ and when
 * equal again. vips sorted; differs[], known[] filled. */
static void compare_tables(struct peers *ps, const struct peer *p,
			   const struct peer_vip_fp *vips, size_t n,
			   bool *differs, bool *known, uint8_t *raw)
{
	const struct peer_vip_fp *ours, *old;
	char name[XLB_VIP_STRLEN];
	uint8_t streak;
	bool was, now;
	size_t i;

	for (i = 0; i < n; i++) {
		ours = bsearch(&vips[i], ps->fps, ps->nfps, sizeof(*ours),
			       vip_cmp);
		known[i] = ours;
		now = ours && memcmp(ours->fp, vips[i].fp, PEER_FP_LEN);
		old = p->vips ? bsearch(&vips[i], p->vips, p->nvips,
					sizeof(*old), vip_cmp) : NULL;
		was = old && p->differs[old - p->vips];
		/* Differs: TABLE_DIFF_STREAK heartbeats in a row (or once
		 * more while it already did). Equal: at the first equal one. */
		streak = old ? p->raw[old - p->vips] : 0;
		raw[i] = !now ? 0 : streak < 255 ? streak + 1 : 255;
		/* Routes may wait for this VIP's table to be equal
		 * (peer_table_differs): tell them when that changes. */
		if (!old || !raw[i] != !streak)
			bird_kick(ps->d);
		differs[i] = now && (was || raw[i] >= TABLE_DIFF_STREAK);
		if (differs[i] == was || (!differs[i] && !old))
			continue;
		vip_name(&vips[i], name, sizeof(name));
		xlbd_log(differs[i] ? LOG_WARN_ : LOG_INFO_,
			 "peer %s: table of %s %s", p->name, name,
			 differs[i] ? "differs from ours" : "equal to ours again");
	}
}

/* Compare the peer's view with ours and keep it; takes vips. */
static void compare(struct peers *ps, struct peer *p,
		    const struct peer_heartbeat *hb, struct peer_vip_fp *vips,
		    size_t n)
{
	bool *differs = calloc(n + 1, sizeof(bool));
	bool *known = calloc(n + 1, sizeof(bool));
	uint8_t *raw = calloc(n + 1, sizeof(*raw));

	if (!differs || !known || !raw) {
		free(differs);
		free(known);
		free(raw);
		free(vips);
		return;
	}
	compare_config(ps, p, hb);
	qsort(vips, n, sizeof(*vips), vip_cmp);
	compare_tables(ps, p, vips, n, differs, known, raw);
	free(p->vips);
	free(p->differs);
	free(p->known);
	free(p->raw);
	p->vips = vips;
	p->differs = differs;
	p->known = known;
	p->raw = raw;
	p->nvips = n;
	p->drained = hb->drained;
}

bool peer_table_differs(struct xlbd *d, const struct xlb_vip_key *k,
			char *who, size_t len)
{
	struct peers *ps = d->peers;
	const struct peer_vip_fp *ours, *theirs;
	struct peer_vip_fp key;
	size_t i;

	if (!ps)
		return false;
	ours_refresh(ps);
	vip_to_fp(k, &key);
	ours = ps->fp_valid ? bsearch(&key, ps->fps, ps->nfps, sizeof(key),
				      vip_cmp) : NULL;
	for (i = 0; i < ps->n; i++) {
		const struct peer *p = &ps->p[i];

		if (!p->up || !p->vips)
			continue;
		theirs = bsearch(&key, p->vips, p->nvips, sizeof(key),
				 vip_cmp);
		if (theirs && (!ours || memcmp(ours->fp, theirs->fp,
					       PEER_FP_LEN))) {
			snprintf(who, len, "%s", p->name);
			return true;
		}
	}
	return false;
}

/* A heartbeat's view, for the group; malformed, the whole message is
 * dropped before anything of it is believed. */
static enum peer_drop take_view(struct peers *ps, struct peer *p,
				const struct peer_msg *m)
{
	struct peer_sync s;
	enum peer_drop why = peer_sync_parse(m, &s);

	if (why)
		return why;
	if (s.has_epoch) {
		p->epoch = s.epoch;
		if (group_on(ps->d))
			group_peer_view(ps->d, (int)(p - ps->p) + 1, s.view,
					s.nview, s.epoch);
	}
	peer_sync_free(&s);
	return PEER_OK;
}

static enum peer_drop take_flows(struct peers *ps, struct peer *p,
				 const struct peer_msg *m)
{
	struct peer_sync s;
	enum peer_drop why = peer_sync_parse(m, &s);

	if (why)
		return why;
	if (group_on(ps->d))
		group_flows_in(ps->d, (int)(p - ps->p) + 1, s.flows, s.nflows,
			       s.bulk_end);
	peer_sync_free(&s);
	return PEER_OK;
}

static enum peer_drop take(struct peers *ps, struct peer *p,
			   const struct peer_msg *m)
{
	struct peer_heartbeat hb;
	struct peer_vip_fp *vips;
	size_t max = m->body_len / (PEER_TLV_HDR + PEER_VIP_FP_LEN) + 1;
	enum peer_drop why;

	why = peer_check_fresh(m, p->last_seq, realtime_ns());
	if (why)
		return why;
	if (m->type == PEER_MSG_FLOWS)
		return take_flows(ps, p, m);
	if (m->type != PEER_MSG_HEARTBEAT)
		return why;	/* other types: reserved, counted, ignored */
	vips = calloc(max, sizeof(*vips));
	if (!vips)
		return PEER_OK;
	why = peer_parse_heartbeat(m, &hb, vips, max);
	if (!why)
		why = take_view(ps, p, m);
	if (why) {
		free(vips);
		return why;
	}
	ours_refresh(ps);
	compare(ps, p, &hb, vips, hb.nvips);
	return PEER_OK;
}

static void accepted(struct peers *ps, struct peer *p,
		     const struct peer_msg *m)
{
	p->last_seq = m->seq;
	p->last_rx_ms = loop_now_ms();
	p->rx[m->type < PEER_MSG_TYPES ? m->type : 0]++;
	loop_timer_arm(ps->d->loop, &p->dead, ps->interval_ms * ps->dead);
	if (!p->up) {
		p->up = true;
		p->transitions++;
		xlbd_log(LOG_INFO_, "peer %s: up (valid heartbeat)", p->name);
		if (group_on(ps->d))
			group_peer_live(ps->d, (int)(p - ps->p) + 1, true);
	}
}

static struct peer *peer_by_addr(struct peers *ps,
				 const struct peer_addr *a)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (ps->p[i].addr.family == a->family &&
		    !memcmp(ps->p[i].addr.addr, a->addr, 16))
			return &ps->p[i];
	return NULL;
}

/* Lock held. */
static void receive(struct peers *ps, size_t len,
		    const struct peer_addr *from)
{
	struct peer *p = NULL;
	struct peer_msg m;
	enum peer_drop why;
	int i;

	why = peer_decode(ps->buf, len, &ps->key, &m);
	if (!why) {
		i = peer_sender(&m, from, ps->addrs, ps->n);
		p = i >= 0 ? &ps->p[i] : NULL;
		why = p ? take(ps, p, &m) : PEER_DROP_UNKNOWN_SENDER;
	}
	if (!why) {
		accepted(ps, p, &m);
		return;
	}
	ps->dropped[why]++;
	p = peer_by_addr(ps, from);
	if (p)
		p->dropped[why]++;
	xlbd_log(LOG_DEBUG_, "peers: dropped a message: %s",
		 peer_drop_names[why]);
}

/* Byte copies: getifaddrs' addresses need not be aligned for their type. */
static void from_sockaddr(const struct sockaddr *sa, struct peer_addr *a)
{
	const char *p = (const char *)sa;
	sa_family_t af;

	memset(a, 0, sizeof(*a));
	memcpy(&af, p + offsetof(struct sockaddr, sa_family), sizeof(af));
	if (af == AF_INET) {
		a->family = XLB_AF_INET;
		memcpy(a->addr, p + offsetof(struct sockaddr_in, sin_addr), 4);
	} else if (af == AF_INET6) {
		a->family = XLB_AF_INET6;
		memcpy(a->addr, p + offsetof(struct sockaddr_in6, sin6_addr),
		       16);
	}
}

static void on_readable(void *arg, uint32_t revents)
{
	struct psock *sk = arg;
	struct peers *ps = sk->ps;
	struct sockaddr_storage ss;
	struct peer_addr from;
	socklen_t sl;
	ssize_t n;
	int i;

	(void)revents;
	for (i = 0; i < RX_BURST; i++) {
		sl = sizeof(ss);
		n = recvfrom(sk->fd, ps->buf, sizeof(ps->buf), MSG_TRUNC,
			     (struct sockaddr *)&ss, &sl);
		if (n < 0)
			break;
		from_sockaddr((struct sockaddr *)&ss, &from);
		pthread_mutex_lock(&ps->d->lock);
		/* Longer than any message: refused by its length. */
		receive(ps, (size_t)n > sizeof(ps->buf) ? sizeof(ps->buf) + 1 :
			(size_t)n, &from);
		pthread_mutex_unlock(&ps->d->lock);
	}
}

/* ---- the socket ---- */

/* The interface's primary address of a family: the first one it lists
 * (IPv6: not link-local). */
static int iface_primary(const char *ifname, uint8_t family,
			 struct peer_addr *out)
{
	int af = family == XLB_AF_INET ? AF_INET : AF_INET6;
	struct ifaddrs *ifa, *i;
	struct in6_addr a6;
	struct peer_addr a;
	int rc = -EADDRNOTAVAIL;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && rc; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) ||
		    i->ifa_addr->sa_family != af)
			continue;
		from_sockaddr(i->ifa_addr, &a);
		memcpy(&a6, a.addr, sizeof(a6));
		if (af == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a6))
			continue;
		*out = a;
		rc = 0;
	}
	freeifaddrs(ifa);
	return rc;
}

static int sock_open(struct peers *ps, int f)
{
	struct xlbd *d = ps->d;
	struct sockaddr_storage ss;
	union xlb_addr a;
	char name[XLB_ADDR_STRLEN];
	uint8_t family = f ? XLB_AF_INET6 : XLB_AF_INET;
	socklen_t sl;
	int fd, rc;

	rc = iface_primary(d->conf.node.ifname, family, &ps->self[f]);
	if (rc) {
		xlbd_log(LOG_ERR_, "peers: %s has no IPv%u address to send "
			 "from", d->conf.node.ifname, family);
		return rc;
	}
	memcpy(&a, ps->self[f].addr, sizeof(a));
	xlb_format_addr(&a, family, name, sizeof(name));
	if (peer_by_addr(ps, &ps->self[f])) {
		xlbd_log(LOG_ERR_, "peers: %s is this node's own address",
			 name);
		return -EINVAL;
	}
	sl = xlb_sockaddr(&a, family, htons(XLB_PEER_PORT), &ss);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl)) {
		rc = -errno;
		xlbd_log(LOG_ERR_, "peers: cannot bind %s port %d: %s", name,
			 XLB_PEER_PORT, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	ps->sock[f].fd = fd;
	rc = loop_add(d->loop, fd, EPOLLIN, on_readable, &ps->sock[f]);
	if (!rc)
		xlbd_log(LOG_INFO_, "peers: listening on %s port %d", name,
			 XLB_PEER_PORT);
	return rc;
}

int peer_start(struct xlbd *d)
{
	struct peers *ps = d->peers;
	bool need[2] = {};
	size_t i;
	int f, rc = 0;

	if (!ps)
		return 0;
	for (i = 0; i < ps->n; i++)
		need[fam_idx(ps->p[i].addr.family)] = true;
	for (f = 0; f < 2 && !rc; f++)
		if (need[f])
			rc = sock_open(ps, f);
	if (!rc)
		rc = loop_timer_arm(d->loop, &ps->hb, 0);
	return rc;
}

void peer_stop(struct xlbd *d)
{
	struct peers *ps = d->peers;
	size_t i;
	int f;

	if (!ps)
		return;
	if (d->loop) {
		loop_timer_cancel(d->loop, &ps->hb);
		for (i = 0; i < ps->n; i++)
			loop_timer_cancel(d->loop, &ps->p[i].dead);
	}
	for (f = 0; f < 2; f++) {
		if (ps->sock[f].fd < 0)
			continue;
		if (d->loop)
			loop_del(d->loop, ps->sock[f].fd);
		close(ps->sock[f].fd);
	}
	for (i = 0; i < ps->n; i++) {
		free(ps->p[i].vips);
		free(ps->p[i].differs);
		free(ps->p[i].raw);
		free(ps->p[i].known);
	}
	free(ps->fps);
	free(ps);
	d->peers = NULL;
}

int peer_count(const struct xlbd *d)
{
	return d->peers ? (int)d->peers->n : 0;
}

void peer_set_drained(struct xlbd *d, bool drained)
{
	if (d->peers)
		d->peers->drained = drained;
}

/* ---- views ---- */

static json_object *drops_json(const uint64_t *dropped)
{
	json_object *o = json_object_new_object();
	int r;

	for (r = PEER_DROP_SHORT; r < PEER_DROP_MAX; r++)
		json_object_object_add(o, peer_drop_names[r],
				       json_object_new_int64((int64_t)dropped[r]));
	return o;
}

static json_object *tables_json(const struct peer *p, int *eq, int *ne)
{
	json_object *arr = json_object_new_array(), *t;
	char name[XLB_VIP_STRLEN];
	size_t i;

	*eq = *ne = 0;
	for (i = 0; i < p->nvips; i++) {
		if (!p->known[i])
			continue;	/* a VIP only the peer has */
		vip_name(&p->vips[i], name, sizeof(name));
		t = json_object_new_object();
		json_object_object_add(t, "vip", json_object_new_string(name));
		json_object_object_add(t, "match",
				       json_object_new_boolean(!p->differs[i]));
		json_object_array_add(arr, t);
		if (p->differs[i])
			(*ne)++;
		else
			(*eq)++;
	}
	return arr;
}

static json_object *one_json(const struct peer *p, uint64_t now)
{
	static const char *const views[] = { "unknown", "equal", "differs" };
	json_object *o = json_object_new_object(), *rx;
	int eq, ne, t;

	json_object_object_add(o, "addr", json_object_new_string(p->name));
	json_object_object_add(o, "state",
			       json_object_new_string(p->up ? "up" : "down"));
	json_object_object_add(o, "last_heartbeat_ms", json_object_new_int64(
		p->last_rx_ms ? (int64_t)(now - p->last_rx_ms) : -1));
	json_object_object_add(o, "epoch",
			       json_object_new_int64((int64_t)p->epoch));
	json_object_object_add(o, "config",
			       json_object_new_string(views[p->config]));
	json_object_object_add(o, "drained",
			       json_object_new_boolean(p->drained));
	json_object_object_add(o, "tables", tables_json(p, &eq, &ne));
	json_object_object_add(o, "tables_equal", json_object_new_int(eq));
	json_object_object_add(o, "tables_differ", json_object_new_int(ne));
	json_object_object_add(o, "transitions",
			       json_object_new_int((int)p->transitions));
	rx = json_object_new_object();
	for (t = 0; t < PEER_MSG_TYPES; t++)
		if (peer_msg_names[t] || p->rx[t])
			json_object_object_add(rx, peer_msg_name((uint8_t)t),
				json_object_new_int64((int64_t)p->rx[t]));
	json_object_object_add(o, "received", rx);
	json_object_object_add(o, "dropped", drops_json(p->dropped));
	return o;
}

static json_object *group_json(struct xlbd *d, const struct peers *ps)
{
	json_object *o = json_object_new_object();
	struct group_stats st;

	group_stats(d, &st);
#define ADD(name, v) \
	json_object_object_add(o, name, json_object_new_int64((int64_t)(v)))
	ADD("epoch", st.epoch);
	ADD("view_epoch", st.view_epoch);
	ADD("view_backends", st.view_len);
	ADD("flows_confirmed", st.flows_confirmed);
	ADD("flows_exceptions", st.flows_exceptions);
	ADD("flows_sent", st.flows_sent);
	ADD("flow_messages_sent", ps->flow_msgs);
	ADD("flow_bytes_sent", ps->flow_bytes);
	ADD("flows_received", st.flows_received);
	ADD("flows_imported", st.flows_imported);
	ADD("flows_import_failed", st.flows_import_failed);
	ADD("sync_rounds", st.sync_rounds);
#undef ADD
	json_object_object_add(o, "synced",
			       json_object_new_boolean(group_synced(d)));
	return o;
}

/* group_send_flows: batches of PEER_FLOWS_PER_MSG records to peer idx,
 * the end mark with the last. Lock held. */
int peer_send_flows(struct xlbd *d, int idx, const struct xlb_sync_flow *f,
		    size_t n, bool end)
{
	struct peers *ps = d->peers;
	struct peer_msg m = { .type = PEER_MSG_FLOWS };
	struct peer *p;
	struct peer_enc e;
	size_t i = 0, k;
	int len;

	if (!ps || idx < 1 || (size_t)idx > ps->n)
		return -EINVAL;
	p = &ps->p[idx - 1];
	m.family = ps->self[fam_idx(p->addr.family)].family;
	memcpy(m.addr, ps->self[fam_idx(p->addr.family)].addr, 16);
	do {
		k = n - i < PEER_FLOWS_PER_MSG ? n - i : PEER_FLOWS_PER_MSG;
		m.seq = ++ps->seq;
		m.sent_ns = realtime_ns();
		peer_enc_start(&e, ps->buf, sizeof(ps->buf), &m);
		if (peer_enc_flows(&e, f + i, k, end && i + k == n))
			return -EMSGSIZE;
		len = peer_enc_seal(&e, &ps->key);
		if (len < 0)
			return len;
		send_to(ps, p, (size_t)len);
		ps->flow_msgs++;
		ps->flow_bytes += (uint64_t)len;
		i += k;
	} while (i < n);
	return 0;
}

void peer_json(struct xlbd *d, json_object *out)
{
	struct peers *ps = d->peers;
	json_object *arr = json_object_new_array();
	uint64_t none[PEER_DROP_MAX] = {}, now = loop_now_ms();
	size_t i;

	for (i = 0; ps && i < ps->n; i++)
		json_object_array_add(arr, one_json(&ps->p[i], now));
	json_object_object_add(out, "peers", arr);
	json_object_object_add(out, "dropped",
			       drops_json(ps ? ps->dropped : none));
	json_object_object_add(out, "sent",
			       json_object_new_int64(ps ? (int64_t)ps->sent : 0));
	if (group_on(d))
		json_object_object_add(out, "group", group_json(d, ps));
}

/* ---- metrics ---- */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	return v ? json_object_get_string(v) : "";
}

static void help(FILE *f, const char *name, const char *type,
		 const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void peer_gauges(FILE *f, json_object *peers)
{
	size_t i, n = json_object_array_length(peers);
	json_object *p;

	help(f, "xlb_peer_up", "gauge", "1 while the peer's heartbeats arrive");
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(peers, i);
		fprintf(f, "xlb_peer_up{peer=\"%s\"} %d\n", jstr(p, "addr"),
			!strcmp(jstr(p, "state"), "up"));
	}
	help(f, "xlb_peer_config_match", "gauge",
	     "1 when the peer's configuration digest equals ours");
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(peers, i);
		if (strcmp(jstr(p, "config"), "unknown"))
			fprintf(f, "xlb_peer_config_match{peer=\"%s\"} %d\n",
				jstr(p, "addr"),
				!strcmp(jstr(p, "config"), "equal"));
	}
}

static void table_gauges(FILE *f, json_object *peers)
{
	size_t i, j, n = json_object_array_length(peers);
	json_object *p, *tabs, *t;

	help(f, "xlb_peer_table_match", "gauge",
	     "1 when the peer's table of the VIP equals ours");
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(peers, i);
		tabs = jget(p, "tables");
		for (j = 0; tabs && j < json_object_array_length(tabs); j++) {
			t = json_object_array_get_idx(tabs, j);
			fprintf(f, "xlb_peer_table_match{peer=\"%s\",vip=\"%s\"} "
				"%d\n", jstr(p, "addr"), jstr(t, "vip"),
				json_object_get_boolean(jget(t, "match")));
		}
	}
}

static void counter_metrics(FILE *f, json_object *o, json_object *peers)
{
	size_t i, n = json_object_array_length(peers);
	json_object *p, *rx;

	help(f, "xlb_peer_messages_total", "counter",
	     "valid messages received from the peer, by type");
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(peers, i);
		rx = jget(p, "received");
		json_object_object_foreach(rx, type, v)
			fprintf(f, "xlb_peer_messages_total{peer=\"%s\","
				"type=\"%s\"} %lld\n", jstr(p, "addr"), type,
				(long long)json_object_get_int64(v));
	}
	help(f, "xlb_peer_dropped_total", "counter",
	     "peer messages dropped, by reason");
	json_object_object_foreach(jget(o, "dropped"), reason, v)
		fprintf(f, "xlb_peer_dropped_total{reason=\"%s\"} %lld\n",
			reason, (long long)json_object_get_int64(v));
}

/* The group's agreement and flow sync, from peer_json's "group". */
static void group_metrics(FILE *f, json_object *g)
{
	static const struct {
		const char *key, *name, *type, *help;
	} rows[] = {
		{ "epoch", "xlb_group_epoch", "gauge",
		  "The agreement's epoch at the last tick (500 ms units)." },
		{ "view_backends", "xlb_group_view_backends", "gauge",
		  "Backends in this node's view: down, drained or scaled." },
		{ "flows_exceptions", "xlb_sync_exceptions", "gauge",
		  "Flow entries a peer would not pick by itself, last round." },
		{ "flows_confirmed", "xlb_sync_confirmed_flows", "gauge",
		  "Confirmed flow entries scanned in the last sync round." },
		{ "flows_sent", "xlb_sync_flows_sent_total", "counter",
		  "Flow records sent to peers." },
		{ "flow_bytes_sent", "xlb_sync_bytes_sent_total", "counter",
		  "Bytes of FLOWS messages sent to peers." },
		{ "flows_imported", "xlb_sync_flows_imported_total", "counter",
		  "Flow records from peers written into the flow table." },
		{ "flows_import_failed", "xlb_sync_import_failed_total",
		  "counter", "Flow records naming a VIP or backend unknown here." },
		{ "synced", "xlb_group_synced", "gauge",
		  "1 when this node may announce: its peers' bulk syncs are done." },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_object *v = jget(g, rows[i].key);

		if (!v)
			continue;
		help(f, rows[i].name, rows[i].type, rows[i].help);
		fprintf(f, "%s %lld\n", rows[i].name,
			(long long)json_object_get_int64(v));
	}
}

void peer_metrics(FILE *f, json_object *o)
{
	json_object *peers = jget(o, "peers"), *g = jget(o, "group");

	if (!peers || !json_object_array_length(peers))
		return;
	peer_gauges(f, peers);
	table_gauges(f, peers);
	counter_metrics(f, o, peers);
	if (g)
		group_metrics(f, g);
}
