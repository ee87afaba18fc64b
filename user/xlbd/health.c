// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd's health checker: one thread, one poll loop, no thread per check.
 * HTTP and HTTPS (GET, status, optional body match, Host header, X-Load)
 * run on libcurl's multi interface; TCP (connect) and UDP (send a payload,
 * expect any reply) on our own non-blocking sockets in an epoll set, whose
 * descriptor curl_multi_poll watches beside curl's own; SYN (half-open TCP,
 * synprobe.h) on two raw sockets shared by every probe, read in batches.
 *
 * Every (VIP, backend) with a check is a target with a due time; idle
 * targets sit in a min-heap by due time and socket and SYN checks in
 * flight in another by deadline, so a wake-up costs what is due, not a
 * pass over every target. First due times are spread over one interval and
 * every later one moves by a little jitter, so checks do not fire in
 * bursts. A target is down after `fall` failures in a row, or when more
 * than error_pct % of its last CONF_CHECK_WINDOW results failed (a
 * flapping server; judged once the window is full); it is up again after
 * `rise` successes in a row, with its failure record cleared. Unknown (not
 * yet decided) counts as up. A target starts from the verdict the state
 * model holds (a backend that was down stays down until `rise` good
 * checks, also across restarts). The checker never changes the model nor
 * the data plane: it posts verdicts (state.h) for xlbd's main loop, which
 * is woken through an eventfd. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <curl/curl.h>

#include "addr.h"
#include "state.h"
#include "synprobe.h"
#include "timeheap.h"
#include "xlbd.h"

#define EPOLL_BATCH		256
#define TIMEOUT_SCAN_NS		10000000ULL	/* socket timeouts: 10 ms grain */
/* Due checks start in batches at most this often: every wake-up of the
 * thread costs a context switch or two, and 10,000 checks a second must
 * not mean 10,000 wake-ups. Lateness stays below one grain. */
#define START_GRAIN_NS		5000000ULL
#define SYN_INDEX_BITS		24	/* target index bits in a SYN's seq */
/* SYN replies wait in their socket (with the kernel's arrival time) and
 * are read at wake-ups, at least this often while probes are out: not a
 * wake-up per reply. */
#define SYN_READ_NS		10000000ULL
#define LATE_SAMPLES		65536
#define BODY_MAX		4096
#define EWMA_ALPHA		0.3
#define ADAPT_MIN		0.1	/* never below 10 % of the weight */
#define ADAPT_STEP		0.10	/* apply only moves above 10 % */
#define ADAPT_SLACK_MS		20.0	/* latency differences this small are noise */
#define ADAPT_EVERY_NS		1000000000ULL	/* adaptive weights settle this often */

const double health_bucket_le[HEALTH_BUCKETS] = {
	0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, INFINITY
};

struct target {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
	struct conf_check check;
	__u16 port;
	__u8 adaptive;			/* the VIP's enum conf_adaptive */
	__u64 due;			/* ns, CLOCK_MONOTONIC */
	__u64 started;
	bool busy;
	/* result state */
	enum health_state state;
	__u32 born;			/* the backend's life (conf.h) */
	unsigned int ok_run, fail_run;
	struct health_counts cnt;	/* for the metrics; kept while the
					 * backend is, across check changes */
	__u16 window;			/* last results, bit set = failed */
	unsigned int nwin;
	double ewma_ms, factor, applied_factor;
	int load;			/* X-Load, -1 none */
	char last[64];
	/* in flight */
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;			/* BODY_MAX + 1, HTTP(S) only */
	size_t body_len;
	int fd;				/* TCP or UDP check socket */
	/* SYN probes */
	union xlb_addr src;		/* IPv4 source, for the checksum */
	bool has_src;
	__u8 probe;			/* probe count, in the sequence number */
	bool syn_out;			/* a probe is out */
	__u16 sport;
};

struct health {
	struct xlbd *d;
	struct target **idx;		/* targets sorted by key, for find() */
	struct timeheap idle;		/* idle targets by due time */
	struct timeheap dl;		/* socket/SYN checks out, by deadline;
					 * a check that ends leaves it, so it
					 * holds what is in flight only */
	int ep;				/* epoll set of the check sockets */
	struct synprobe *sp;		/* raw sockets, opened on first use */
	int sp_err;			/* why they could not be opened */
	__u32 secret;			/* mixed into SYN sequence numbers */
	size_t nsyn;			/* probes out */
	unsigned long long syn_stray;	/* replies that matched no probe */
	__u64 last_tscan;
	__u64 last_start;		/* last start_due pass that ran */
	pthread_t thread;
	pthread_mutex_t lock;		/* targets' visible state, out */
	/* Verdicts for the main loop, taken by health_take(); efd wakes it.
	 * Ring rebuilds run there, never here: a 10,000-backend rebuild
	 * takes tens of ms, which must not hold up checks (nor the replies
	 * SYN probes leave in a socket buffer). */
	struct verdict *out;
	size_t nout, capout;
	int efd;
	__u64 last_adapt;
	volatile bool stop;
	CURLM *multi;
	struct target *t;
	size_t n;
	unsigned long gen;
	/* lateness samples (ms): the last LATE_SAMPLES, and all of them */
	double late[LATE_SAMPLES];
	size_t nlate, late_pos;
	unsigned long long run;
	double late_sum_ms;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Uniform in [0, max) from a small xorshift: spread and jitter only. */
static __u64 rnd(__u64 max)
{
	static __u64 s = 0x9e3779b97f4a7c15ULL;

	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return max ? s % max : 0;
}

static const struct conf_check *check_of(const struct conf_vip *v,
					 const struct conf_backend *b)
{
	return b->has_check ? &b->check : &v->check;
}

struct tkey {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
};

static int cmp_key(const struct tkey *k, const struct target *t)
{
	int c = memcmp(&k->vip, &t->vip, sizeof(k->vip));

	if (!c)
		c = memcmp(&k->addr, &t->addr, sizeof(k->addr));
	return c ? c : (int)k->family - (int)t->family;
}

static int cmp_targets(const void *a, const void *b)
{
	const struct target *x = *(struct target *const *)a;
	struct tkey k = { .vip = x->vip, .addr = x->addr, .family = x->family };

	return cmp_key(&k, *(struct target *const *)b);
}

/* Binary search in the sorted index: lookups happen per backend on every
 * list, refresh and metrics scrape, so 10k backends must not cost n^2. */
static struct target *find(struct health *h, const struct xlb_vip_key *vip,
			   const union xlb_addr *a, __u8 family)
{
	struct tkey k = { .vip = *vip, .addr = *a, .family = family };
	size_t lo = 0, hi = h->n;

	if (!h->idx)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_key(&k, h->idx[mid]);

		if (!c)
			return h->idx[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static __u64 deadline(const struct target *t)
{
	return t->started + (__u64)t->check.timeout_ms * 1000000ULL;
}

/* A TCP check is done when its connect is (writable); UDP on a reply. */
static __u32 sock_events(const struct target *t)
{
	return t->check.type == CONF_CHECK_TCP ? EPOLLOUT : EPOLLIN;
}

/* End a check's I/O; the target stays busy until it is re-queued. */
static void finish_io(struct health *h, struct target *t)
{
	if (t->easy) {
		curl_multi_remove_handle(h->multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	curl_slist_free_all(t->hdrs);
	t->hdrs = NULL;
	free(t->body);
	t->body = NULL;
	if (t->fd >= 0)
		close(t->fd);	/* also leaves the epoll set */
	t->fd = -1;
	if (t->syn_out) {
		t->syn_out = false;
		h->nsyn--;
	}
	if (h->dl.pos[t - h->t] != TIMEHEAP_NO_POS)
		timeheap_del(&h->dl, h->dl.pos[t - h->t]);
}

/* The raw sockets of SYN probes, opened when the first SYN check comes. */
static void syn_open(struct health *h)
{
	struct synprobe *sp = NULL;

	if (h->sp || h->sp_err)
		return;
	h->sp_err = synprobe_open(&sp);
	/* Published for the stats reply, read by another thread. */
	__atomic_store_n(&h->sp, sp, __ATOMIC_RELEASE);
	if (h->sp_err) {
		xlbd_log(LOG_ERR_, "health: SYN checks cannot run: raw "
			 "sockets: %s", strerror(-h->sp_err));
		return;
	}
	if (getrandom(&h->secret, sizeof(h->secret), 0) != sizeof(h->secret))
		h->secret = (__u32)now_ns();
}

/* A target that stays: its state and its check in flight move over. */
static void target_take(struct target *t, struct target *old)
{
	*t = *old;
	old->easy = NULL;	/* moved, not freed */
	old->hdrs = NULL;
	old->body = NULL;
	old->fd = -1;
}

static void target_init(struct target *t, const struct conf_vip *v,
			const struct conf_backend *b,
			const struct conf_check *ck, __u64 now)
{
	memset(t, 0, sizeof(*t));
	/* The model's verdict: down stays down until `rise` good checks. */
	t->state = b->health;
	t->born = b->born;
	t->vip = v->key;
	t->addr = b->addr;
	t->family = b->family;
	t->check = *ck;
	t->port = ck->port ? ck->port :
		  ntohs(v->key.port) ? ntohs(v->key.port) : 80;
	t->fd = -1;
	t->load = -1;
	t->factor = t->applied_factor = b->factor > 0 ? b->factor : 1;
	snprintf(t->last, sizeof(t->last), "not yet");
	/* Spread first checks over one interval. */
	t->due = now + rnd((__u64)ck->interval_ms * 1000000ULL);
}

/* The new target array is in place: every target goes where it waits,
 * under its new index. */
static void requeue(struct health *h, __u64 now)
{
	size_t i;

	h->nsyn = 0;	/* SYN probes out are all called back below */
	for (i = 0; i < h->n; i++) {
		struct target *t = &h->t[i];
		struct epoll_event ev = { .events = sock_events(t),
					  .data.u32 = (__u32)i };

		if (t->busy && t->check.type == CONF_CHECK_SYN) {
			/* Its reply would name the old index: probe again
			 * now instead, nothing recorded. */
			t->busy = false;
			t->syn_out = false;
			t->due = now;
		}
		if (!t->busy) {
			timeheap_push(&h->idle, t->due, i);
		} else if (t->fd >= 0) {
			timeheap_push(&h->dl, deadline(t), i);
			epoll_ctl(h->ep, EPOLL_CTL_MOD, t->fd, &ev);
		} else if (t->easy) {
			/* The target moved: every pointer curl holds to it. */
			curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
			curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
			curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
		}
	}
}

/* Rebuild the target list from the running configuration, keeping the
 * state of targets that stay. Called with d->lock held. */
static void sync_targets(struct health *h)
{
	const struct xlb_conf *c = &h->d->conf;
	struct target *nt, **idx;
	struct timeheap idle = {}, dl = {};
	size_t i, j, n = 0, k = 0;
	__u64 now = now_ns();

	for (i = 0; i < c->nvips; i++)
		for (j = 0; j < c->vips[i].nbe; j++)
			n += check_of(&c->vips[i], &c->vips[i].be[j])->type !=
			     CONF_CHECK_NONE;
	nt = calloc(n + 1, sizeof(*nt));
	idx = calloc(n + 1, sizeof(*idx));
	/* Room for every target in both heaps (a target is in each at most
	 * once): no push can fail later. All before anything moves, so that
	 * running out of memory leaves the old set checking as it was. */
	dl.pos = malloc((n + 1) * sizeof(*dl.pos));
	if (!nt || !idx || !dl.pos || timeheap_reserve(&idle, n + 1) ||
	    timeheap_reserve(&dl, n + 1)) {
		xlbd_log(LOG_ERR_, "health: out of memory for %zu targets", n);
		free(nt);
		free(idx);
		free(dl.pos);
		timeheap_free(&idle);
		timeheap_free(&dl);
		return;
	}
	memset(dl.pos, 0xff, (n + 1) * sizeof(*dl.pos));	/* NO_POS */
	for (i = 0; i < c->nvips; i++) {
		const struct conf_vip *v = &c->vips[i];

		for (j = 0; j < v->nbe; j++) {
			const struct conf_check *ck = check_of(v, &v->be[j]);
			struct target *old, *t = &nt[k];

			/* In maintenance: checks paused (backend ready
			 * starts them afresh). */
			if (ck->type == CONF_CHECK_NONE || v->be[j].maint)
				continue;
			old = find(h, &v->key, &v->be[j].addr, v->be[j].family);
			/* A target of an earlier life of the backend (deleted
			 * and added again between two looks of this thread,
			 * back from maint): taken over, it would never post
			 * the new one's first verdict, since it thinks it
			 * did. */
			if (old && old->born != v->be[j].born)
				old = NULL;
			if (old && !memcmp(&old->check, ck, sizeof(*ck))) {
				target_take(t, old);
			} else {
				target_init(t, v, &v->be[j], ck, now);
				if (old)	/* its check changed */
					t->cnt = old->cnt;
			}
			t->adaptive = v->adaptive;
			if (ck->type == CONF_CHECK_SYN)
				syn_open(h);
			k++;
		}
	}
	/* Checks of targets that went away end here. */
	for (i = 0; i < h->n; i++)
		finish_io(h, &h->t[i]);
	for (i = 0; i < k; i++)
		idx[i] = &nt[i];
	qsort(idx, k, sizeof(*idx), cmp_targets);
	pthread_mutex_lock(&h->lock);
	free(h->t);
	free(h->idx);
	timeheap_free(&h->idle);
	timeheap_free(&h->dl);
	free(h->dl.pos);
	h->t = nt;
	h->idx = idx;
	h->n = k;
	h->idle = idle;
	h->dl = dl;
	requeue(h, now);
	pthread_mutex_unlock(&h->lock);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct target *t = arg;
	size_t len = size * nmemb, room = BODY_MAX - t->body_len;

	if (!t->body)
		return 0;	/* cannot happen: allocated with the handle */
	if (len > room)
		len = room;
	memcpy(t->body + t->body_len, p, len);
	t->body_len += len;
	t->body[t->body_len] = '\0';
	return size * nmemb;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct target *t = arg;
	size_t len = size * nmemb;

	if (len > 7 && !strncasecmp(p, "X-Load:", 7))
		t->load = atoi(p + 7);
	return len;
}

static void url_of(const struct target *t, char *buf, size_t len)
{
	char a[XLB_ADDR_STRLEN];
	const char *scheme = t->check.type == CONF_CHECK_HTTPS ? "https" :
							       "http";

	xlb_format_addr(&t->addr, t->family, a, sizeof(a));
	snprintf(buf, len, t->family == XLB_AF_INET6 ? "%s://[%s]:%u%s" :
						       "%s://%s:%u%s",
		 scheme, a, t->port, t->check.path);
}

static int start_curl(struct health *h, struct target *t)
{
	char url[CONF_STR_MAX + 80], host[CONF_STR_MAX + 8];

	t->easy = curl_easy_init();
	t->body = malloc(BODY_MAX + 1);
	if (!t->easy || !t->body)
		return -ENOMEM;
	url_of(t, url, sizeof(url));
	curl_easy_setopt(t->easy, CURLOPT_URL, url);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)t->check.timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(t->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "xlbd-health");
	/* Backends are checked by address: no name to verify. */
	curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	if (t->check.host[0]) {
		snprintf(host, sizeof(host), "Host: %s", t->check.host);
		t->hdrs = curl_slist_append(NULL, host);
		curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs);
	}
	t->body_len = 0;
	t->body[0] = '\0';
	t->load = -1;
	return curl_multi_add_handle(h->multi, t->easy) == CURLM_OK ? 0 : -EIO;
}

/* A socket or SYN check's deadline goes on the deadlines' heap; without
 * room the check cannot start (it would never time out). */
static int arm_timeout(struct health *h, size_t i)
{
	return timeheap_push(&h->dl, deadline(&h->t[i]), i);
}

/* Start a TCP (connect) or UDP (send, await a reply) check on a socket of
 * our own in the epoll set: no curl handle for what needs no protocol. */
static int start_sock(struct health *h, size_t i)
{
	struct target *t = &h->t[i];
	struct sockaddr_storage ss;
	struct epoll_event ev = { .events = sock_events(t), .data.u32 = i };
	/* Linger 0: close() resets instead of a FIN exchange and leaves no
	 * TIME_WAIT socket behind per check (10,000 a second add up). */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	const char *payload = t->check.payload[0] ? t->check.payload : "ping";
	bool tcp = t->check.type == CONF_CHECK_TCP;
	socklen_t sl = xlb_sockaddr(&t->addr, t->family, htons(t->port), &ss);
	int fd, err;

	fd = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
			 SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (tcp) {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		err = connect(fd, (struct sockaddr *)&ss, sl) &&
		      errno != EINPROGRESS;
	} else {
		err = connect(fd, (struct sockaddr *)&ss, sl) ||
		      send(fd, payload, strlen(payload), 0) < 0;
	}
	if (err || epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (arm_timeout(h, i)) {
		close(fd);
		return -ENOMEM;
	}
	t->fd = fd;
	return 0;
}

/* Send a SYN; the reply names the probe by its sequence number: target
 * index, an 8-bit probe count (a late reply to the previous probe does
 * not count) and a secret (nor does a guessed one). */
static int start_syn(struct health *h, size_t i)
{
	struct target *t = &h->t[i];
	__u32 seq;
	int rc;

	if (!h->sp)
		return h->sp_err ? h->sp_err : -EOPNOTSUPP;
	if (i >= 1U << SYN_INDEX_BITS)
		return -E2BIG;
	/* The source (for the checksum) is looked up again after a failure:
	 * the route may have moved. */
	if (t->family == XLB_AF_INET && (!t->has_src || t->fail_run)) {
		rc = synprobe_source(h->sp, &t->addr, &t->src);
		if (rc)
			return rc;
		t->has_src = true;
	}
	t->probe++;
	t->sport = synprobe_port(h->sp, t->probe);
	seq = ((__u32)t->probe << SYN_INDEX_BITS | (__u32)i) ^ h->secret;
	rc = synprobe_send(h->sp, t->family, &t->src, &t->addr, t->port,
			   t->sport, seq);
	if (rc)
		return rc;
	rc = arm_timeout(h, i);
	if (!rc) {
		t->syn_out = true;
		h->nsyn++;
	}
	return rc;
}

static void record_late(struct health *h, double ms)
{
	h->late[h->late_pos] = ms;
	h->late_pos = (h->late_pos + 1) % LATE_SAMPLES;
	if (h->nlate < LATE_SAMPLES)
		h->nlate++;
	h->run++;
	h->late_sum_ms += ms;
}

/* A result: move the state machine; returns true when the data plane must
 * change (state or a large enough weight factor move). */
static bool result(struct health *h, struct target *t, bool ok, double ms,
		   const char *why)
{
	enum health_state old = t->state;
	unsigned int fails = 0, i, need;
	size_t b;

	pthread_mutex_lock(&h->lock);
	t->window = (__u16)((t->window << 1) | !ok);
	if (t->nwin < CONF_CHECK_WINDOW)
		t->nwin++;
	for (i = 0; i < t->nwin; i++)
		fails += (t->window >> i) & 1;
	if (ok) {
		t->ok_run++;
		t->fail_run = 0;
		t->ewma_ms = t->ewma_ms ? EWMA_ALPHA * ms +
					  (1 - EWMA_ALPHA) * t->ewma_ms : ms;
		snprintf(t->last, sizeof(t->last), "ok");
		for (b = 0; b < HEALTH_BUCKETS; b++)
			if (ms / 1000 <= health_bucket_le[b])
				break;
		t->cnt.hist[b < HEALTH_BUCKETS ? b : HEALTH_BUCKETS - 1]++;
		t->cnt.hist_sum += ms / 1000;
		t->cnt.ok++;
	} else {
		t->cnt.failed++;
		t->fail_run++;
		t->ok_run = 0;
		snprintf(t->last, sizeof(t->last), "fail: %s", why);
	}
	/* Out on `fall` in a row, or on a high recent failure ratio. */
	need = (t->check.error_pct * t->nwin) / 100;
	if (t->state != HEALTH_DOWN &&
	    (t->fail_run >= t->check.fall ||
	     (t->check.error_pct < 100 && t->nwin >= CONF_CHECK_WINDOW &&
	      fails > need)))
		t->state = HEALTH_DOWN;
	else if (t->state != HEALTH_UP && t->ok_run >= t->check.rise) {
		/* Back after `rise` in a row, with a clean record: the
		 * failures that took it out must not take it out again. */
		t->state = HEALTH_UP;
		t->window = 0;
		t->nwin = 0;
	}
	if (t->state != old && old != HEALTH_UNKNOWN)
		t->cnt.transitions++;
	pthread_mutex_unlock(&h->lock);
	return t->state != old;
}

/* A verdict for the main loop (called with h->lock held). Out of memory
 * drops it, loudly: the next change of that target posts again. */
static void post(struct health *h, const struct target *t)
{
	struct verdict *v;

	if (h->nout == h->capout) {
		size_t cap = h->capout ? 2 * h->capout : 64;

		v = realloc(h->out, cap * sizeof(*v));
		if (!v) {
			xlbd_log(LOG_ERR_, "health: out of memory for a verdict");
			return;
		}
		h->out = v;
		h->capout = cap;
	}
	v = &h->out[h->nout++];
	memset(v, 0, sizeof(*v));
	v->vip = t->vip;
	v->addr = t->addr;
	v->family = t->family;
	v->state = t->state;
	v->born = t->born;
	v->factor = (float)t->applied_factor;
	snprintf(v->why, sizeof(v->why), "%s", t->last);
}

/* Adaptive factors of one VIP's targets, idx[0..n): latency (fastest =
 * 1) and load. A factor that moves by more than ADAPT_STEP is posted. */
static void adapt_vip(struct health *h, struct target **idx, size_t n)
{
	__u8 mode = idx[0]->adaptive;
	double best = 0, f;
	size_t i;

	for (i = 0; i < n; i++)
		if (idx[i]->state != HEALTH_DOWN && idx[i]->ewma_ms > 0 &&
		    (!best || idx[i]->ewma_ms < best))
			best = idx[i]->ewma_ms;
	for (i = 0; i < n; i++) {
		struct target *t = idx[i];

		f = 1;
		/* +ADAPT_SLACK_MS: a few ms between fast backends is noise,
		 * not a reason to move traffic. */
		if (mode != CONF_ADAPTIVE_LOAD && best > 0 && t->ewma_ms > 0)
			f = (best + ADAPT_SLACK_MS) / (t->ewma_ms + ADAPT_SLACK_MS);
		if (mode != CONF_ADAPTIVE_LATENCY && t->load >= 0 &&
		    t->load <= 100)
			f *= (100 - t->load) / 100.0;
		if (f < ADAPT_MIN)
			f = ADAPT_MIN;
		t->factor = f;
		/* Small moves are noise: keep the ring until one counts. */
		if (fabs(f - t->applied_factor) > ADAPT_STEP * t->applied_factor) {
			t->applied_factor = f;
			post(h, t);
		}
	}
}

/* Every adaptive VIP, once per ADAPT_EVERY_NS: the index is sorted by
 * VIP first, so a VIP's targets are one run of it. */
static void adapt_all(struct health *h, __u64 now)
{
	size_t i, j;

	if (now < h->last_adapt + ADAPT_EVERY_NS)
		return;
	h->last_adapt = now;
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->n; i = j) {
		for (j = i + 1; j < h->n && !memcmp(&h->idx[j]->vip,
						    &h->idx[i]->vip,
						    sizeof(h->idx[i]->vip)); j++)
			;
		if (h->idx[i]->adaptive != CONF_ADAPTIVE_OFF)
			adapt_vip(h, &h->idx[i], j - i);
	}
	pthread_mutex_unlock(&h->lock);
}

/* Wake the main loop when verdicts wait. */
static void notify(struct health *h)
{
	__u64 one = 1;
	bool any;

	pthread_mutex_lock(&h->lock);
	any = h->nout > 0;
	pthread_mutex_unlock(&h->lock);
	if (any && write(h->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		xlbd_log(LOG_ERR_, "health: eventfd: %s", strerror(errno));
}

/* A check's end: its result moves the state machine (a change is posted
 * to the main loop) and the target waits for its next due time in the
 * heap. */
static void done(struct health *h, struct target *t, bool ok, double ms,
		 const char *why)
{
	finish_io(h, t);
	if (result(h, t, ok, ms, why)) {
		pthread_mutex_lock(&h->lock);
		post(h, t);
		pthread_mutex_unlock(&h->lock);
	}
	t->busy = false;
	/* Cannot fail: the idle heap has room for every target. */
	timeheap_push(&h->idle, t->due, (__u32)(t - h->t));
}

/* Start every check that is due. */
static void start_due(struct health *h, __u64 now)
{
	if (now < h->last_start + START_GRAIN_NS)
		return;
	if (h->idle.n && h->idle.e[0].due <= now)
		h->last_start = now;
	while (h->idle.n && h->idle.e[0].due <= now) {
		size_t i = h->idle.e[0].id;
		struct target *t = &h->t[i];
		__u64 iv = (__u64)t->check.interval_ms * 1000000ULL;
		int rc;

		timeheap_del(&h->idle, 0);
		record_late(h, (now - t->due) / 1e6);
		/* Next one interval after this due time, +-2 % jitter. */
		t->due += iv - iv / 50 + rnd(iv / 25 + 1);
		if (t->due < now)
			t->due = now + rnd(iv / 10 + 1);
		t->started = now;
		t->busy = true;
		rc = t->check.type == CONF_CHECK_SYN ? start_syn(h, i) :
		     t->check.type == CONF_CHECK_UDP ||
		     t->check.type == CONF_CHECK_TCP ? start_sock(h, i) :
						       start_curl(h, t);
		if (rc) {
			char why[48];

			snprintf(why, sizeof(why), "cannot start: %s",
				 strerror(-rc));
			done(h, t, false, 0, why);
		}
	}
	if (h->sp)
		synprobe_flush(h->sp);
}

/* A socket check's descriptor is ready: its verdict. */
static void sock_ready(struct health *h, struct target *t, __u64 now)
{
	char buf[16], why[48] = "ok";
	int e = 0;
	socklen_t el = sizeof(e);

	if (t->fd < 0)
		return;		/* ended earlier in this batch */
	if (t->check.type == CONF_CHECK_TCP) {
		getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &e, &el);
	} else if (recv(t->fd, buf, sizeof(buf), 0) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		e = errno;
	}
	if (e)
		snprintf(why, sizeof(why), "%s", strerror(e));
	done(h, t, !e, (now - t->started) / 1e6, why);
}

/* Replies to SYN probes queued on one raw socket. Latency runs to the
 * kernel's arrival stamp (realtime; off = realtime - monotonic). */
static void syn_replies(struct health *h, int fd, __u64 now, __u64 off)
{
	struct synprobe_reply r;

	while (synprobe_recv(h->sp, fd, &r) > 0) {
		__u32 v = r.seq ^ h->secret;
		size_t i = v & ((1U << SYN_INDEX_BITS) - 1);
		struct target *t = i < h->n ? &h->t[i] : NULL;
		__u64 at = r.at > off && r.at - off <= now ? r.at - off : now;

		if (!t || !t->syn_out ||
		    t->probe != (__u8)(v >> SYN_INDEX_BITS) ||
		    t->family != r.family || t->port != r.sport ||
		    t->sport != r.dport ||
		    memcmp(&t->addr, &r.from, sizeof(r.from))) {
			/* Late, stray or forged; read by the stats reply. */
			__atomic_fetch_add(&h->syn_stray, 1, __ATOMIC_RELAXED);
			continue;
		}
		done(h, t, r.open,
		     at > t->started ? (at - t->started) / 1e6 : 0,
		     r.open ? "ok" : "refused (RST)");
	}
}

static void collect_syn(struct health *h, __u64 now)
{
	struct timespec ts;
	__u64 off;
	int fd;

	if (!h->nsyn)
		return;		/* no probe out: no reply to read */
	clock_gettime(CLOCK_REALTIME, &ts);
	off = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec - now_ns();
	fd = synprobe_fd(h->sp, XLB_AF_INET);
	if (fd >= 0)
		syn_replies(h, fd, now, off);
	fd = synprobe_fd(h->sp, XLB_AF_INET6);
	if (fd >= 0)
		syn_replies(h, fd, now, off);
}

/* Socket and SYN checks past their deadline fail; at most once per
 * TIMEOUT_SCAN_NS, so that a crowd of deadlines costs one wake-up. */
static void sock_timeouts(struct health *h, __u64 now)
{
	if (now < h->last_tscan + TIMEOUT_SCAN_NS)
		return;
	h->last_tscan = now;
	/* done() takes each out of the heap. */
	while (h->dl.n && h->dl.e[0].due <= now) {
		struct target *t = &h->t[h->dl.e[0].id];

		done(h, t, false, (now - t->started) / 1e6, "timeout");
	}
}

/* Results of finished curl checks. */
static void collect_curl(struct health *h, __u64 now)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct target *t;
		long status = 0;
		bool ok;
		char why[48];

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE,
				  &status);
		ok = m->data.result == CURLE_OK;
		snprintf(why, sizeof(why), "%s",
			 curl_easy_strerror(m->data.result));
		if (ok && (unsigned long)status != t->check.expect_status) {
			ok = false;
			snprintf(why, sizeof(why), "status %ld", status);
		}
		if (ok && t->check.body[0] &&
		    !strstr(t->body ? t->body : "", t->check.body)) {
			ok = false;
			snprintf(why, sizeof(why), "body lacks '%.20s'",
				 t->check.body);
		}
		done(h, t, ok, (now - t->started) / 1e6, why);
	}
}

/* Results of socket checks whose descriptors are ready. */
static void collect_sock(struct health *h, __u64 now)
{
	struct epoll_event ev[EPOLL_BATCH];
	int n, k;

	do {
		n = epoll_wait(h->ep, ev, EPOLL_BATCH, 0);
		for (k = 0; k < n; k++)
			if (ev[k].data.u32 < h->n)
				sock_ready(h, &h->t[ev[k].data.u32], now);
	} while (n == EPOLL_BATCH);
}

/* How long the loop may sleep: until the next due check or socket
 * deadline (starts no closer than START_GRAIN_NS), rounded up to whole
 * milliseconds (rounding down would spin on a zero timeout), and at most
 * 100 ms (configuration changes). */
static int next_wait_ms(struct health *h, __u64 now)
{
	__u64 next = now + 100000000ULL;

	if (h->idle.n && h->idle.e[0].due < next) {
		next = h->idle.e[0].due;
		if (next < h->last_start + START_GRAIN_NS)
			next = h->last_start + START_GRAIN_NS;
	}
	if (h->nsyn && now + SYN_READ_NS < next)
		next = now + SYN_READ_NS;
	if (h->dl.n) {
		__u64 tn = h->dl.e[0].due;

		if (tn < h->last_tscan + TIMEOUT_SCAN_NS)
			tn = h->last_tscan + TIMEOUT_SCAN_NS;
		if (tn < next)
			next = tn;
	}
	return next > now ? (int)((next - now + 999999ULL) / 1000000ULL) : 0;
}

static void *run(void *arg)
{
	struct health *h = arg;

	while (!h->stop) {
		struct curl_waitfd wfd = { .fd = h->ep, .events = CURL_WAIT_POLLIN };
		__u64 now = now_ns();
		int running;

		/* The lock only when the configuration moved: the main
		 * loop may hold it through a long rebuild. */
		if (h->gen != __atomic_load_n(&h->d->conf_gen, __ATOMIC_ACQUIRE)) {
			pthread_mutex_lock(&h->d->lock);
			h->gen = h->d->conf_gen;
			sync_targets(h);
			pthread_mutex_unlock(&h->d->lock);
		}

		start_due(h, now);
		curl_multi_poll(h->multi, &wfd, 1, next_wait_ms(h, now_ns()),
				NULL);
		curl_multi_perform(h->multi, &running);
		now = now_ns();
		collect_curl(h, now);
		collect_sock(h, now);
		collect_syn(h, now);
		sock_timeouts(h, now);
		adapt_all(h, now);
		notify(h);
	}
	return NULL;
}

int health_start(struct xlbd *d)
{
	struct health *h = calloc(1, sizeof(*h));

	if (!h || curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(h);
		return -ENOMEM;
	}
	h->d = d;
	h->gen = (unsigned long)-1;
	pthread_mutex_init(&h->lock, NULL);
	h->multi = curl_multi_init();
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!h->multi || h->ep < 0 || h->efd < 0 ||
	    pthread_create(&h->thread, NULL, run, h)) {
		xlbd_log(LOG_ERR_, "cannot start the health checker");
		if (h->multi)
			curl_multi_cleanup(h->multi);
		if (h->ep >= 0)
			close(h->ep);
		if (h->efd >= 0)
			close(h->efd);
		curl_global_cleanup();
		free(h);
		return -ENOMEM;
	}
	d->health = h;
	return 0;
}

void health_stop(struct xlbd *d)
{
	struct health *h = d->health;
	size_t i;

	if (!h)
		return;
	h->stop = true;
	curl_multi_wakeup(h->multi);
	pthread_join(h->thread, NULL);
	for (i = 0; i < h->n; i++)
		finish_io(h, &h->t[i]);
	curl_multi_cleanup(h->multi);
	curl_global_cleanup();
	close(h->ep);
	close(h->efd);
	synprobe_close(h->sp);
	free(h->t);
	free(h->idx);
	timeheap_free(&h->idle);
	timeheap_free(&h->dl);
	free(h->dl.pos);
	free(h->out);
	free(h);
	d->health = NULL;
}

int health_fd(struct xlbd *d)
{
	return d->health ? d->health->efd : -1;
}

size_t health_take(struct xlbd *d, struct verdict **out)
{
	struct health *h = d->health;
	__u64 n;
	size_t k;

	*out = NULL;
	if (!h)
		return 0;
	if (read(h->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		xlbd_log(LOG_ERR_, "health: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&h->lock);
	*out = h->out;
	k = h->nout;
	h->out = NULL;
	h->nout = h->capout = 0;
	pthread_mutex_unlock(&h->lock);
	return k;
}

bool health_get(struct xlbd *d, const struct xlb_vip_key *vip,
		const union xlb_addr *a, __u8 family, struct health_info *out)
{
	struct health *h = d->health;
	struct target *t;
	bool found = false;

	if (!h)
		return false;
	pthread_mutex_lock(&h->lock);
	t = find(h, vip, a, family);
	if (t) {
		out->state = t->state;
		out->latency_ms = t->ewma_ms;
		out->factor = t->applied_factor;
		out->transitions = t->cnt.transitions;
		snprintf(out->last, sizeof(out->last), "%s", t->last);
		found = true;
	}
	pthread_mutex_unlock(&h->lock);
	return found;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

json_object *health_stats_json(struct xlbd *d)
{
	json_object *o = json_object_new_object();
	struct health *h = d->health;
	struct health_lateness late;
	struct synprobe *sp;

	if (!h)
		return o;
	if (!health_lateness(d, &late) && late.samples) {
		json_object_object_add(o, "late_p50_ms",
				       json_object_new_double(late.p50_s * 1000));
		json_object_object_add(o, "late_p99_ms",
				       json_object_new_double(late.p99_s * 1000));
		json_object_object_add(o, "late_max_ms",
				       json_object_new_double(late.max_s * 1000));
	}
	pthread_mutex_lock(&h->lock);
	json_object_object_add(o, "run", json_object_new_int64(h->run));
	json_object_object_add(o, "targets", json_object_new_int64(h->n));
	sp = __atomic_load_n(&h->sp, __ATOMIC_ACQUIRE);
	if (sp) {
		json_object *ports = json_object_new_array();
		unsigned int i;

		/* Where SYN-ACKs come back: for firewalls and for tests. */
		for (i = 0; i < SYNPROBE_PORTS; i++)
			json_object_array_add(ports, json_object_new_int(
					synprobe_port(sp, i)));
		json_object_object_add(o, "syn_ports", ports);
		json_object_object_add(o, "syn_stray", json_object_new_int64(
			__atomic_load_n(&h->syn_stray, __ATOMIC_RELAXED)));
	}
	pthread_mutex_unlock(&h->lock);
	return o;
}

size_t health_counts(struct xlbd *d, struct health_counts **out)
{
	struct health *h = d->health;
	struct health_counts *c;
	size_t i, n;

	*out = NULL;
	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	n = h->n;
	c = calloc(n ? n : 1, sizeof(*c));
	for (i = 0; c && i < n; i++) {
		const struct target *t = h->idx[i];	/* in key order */

		c[i] = t->cnt;
		c[i].vip = t->vip;
		c[i].addr = t->addr;
		c[i].family = t->family;
	}
	pthread_mutex_unlock(&h->lock);
	*out = c;
	return c ? n : 0;
}

int health_lateness(struct xlbd *d, struct health_lateness *out)
{
	struct health *h = d->health;
	double *s;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	n = h->nlate;
	s = malloc((n + 1) * sizeof(*s));
	if (s)
		memcpy(s, h->late, n * sizeof(*s));
	out->count = h->run;
	out->sum_s = h->late_sum_ms / 1000;
	pthread_mutex_unlock(&h->lock);
	if (!s)
		return -ENOMEM;
	out->samples = n;
	if (n) {
		qsort(s, n, sizeof(*s), cmp_d);
		out->p50_s = s[n / 2] / 1000;
		out->p99_s = s[n * 99 / 100] / 1000;
		out->max_s = s[n - 1] / 1000;
	}
	free(s);
	return 0;
}
