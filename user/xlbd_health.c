// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd's health checker: one thread, one poll loop, no thread per check.
 * TCP (connect), HTTP and HTTPS (GET, status, optional body match, Host
 * header, X-Load) run on libcurl's multi interface; UDP (send a payload,
 * expect any reply) on our own non-blocking sockets, polled together with
 * curl's through curl_multi_poll's extra descriptors.
 *
 * Every (VIP, backend) with a check is a target with a due time. First due
 * times are spread over one interval and every later one moves by a little
 * jitter, so checks do not fire in bursts. A target is down after `fall`
 * failures in a row, or when more than error_pct % of its last
 * CONF_CHECK_WINDOW results failed (a flapping server; judged once the
 * window is full); it is up again after
 * `rise` successes in a row, with its failure record cleared. Unknown (not
 * yet decided) counts as up. */
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
#include <sys/socket.h>
#include <curl/curl.h>

#include "addr.h"
#include "xlbd.h"

#define MAX_UDP_INFLIGHT	1024
#define LATE_SAMPLES		65536
#define BODY_MAX		4096
#define EWMA_ALPHA		0.3
#define ADAPT_MIN		0.1	/* never below 10 % of the weight */
#define ADAPT_STEP		0.10	/* apply only moves above 10 % */
#define ADAPT_SLACK_MS		20.0	/* latency differences this small are noise */

const double health_bucket_le[HEALTH_BUCKETS] = {
	0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, INFINITY
};

struct target {
	struct xlb_vip_key vip;
	union xlb_addr addr;
	__u8 family;
	struct conf_check check;
	__u16 port;
	__u64 due;			/* ns, CLOCK_MONOTONIC */
	__u64 started;
	bool busy, seen;
	/* result state */
	enum health_state state;
	unsigned int ok_run, fail_run, transitions;
	__u16 window;			/* last results, bit set = failed */
	unsigned int nwin;
	double ewma_ms, factor, applied_factor;
	int load;			/* X-Load, -1 none */
	char last[64];
	/* in flight */
	CURL *easy;
	struct curl_slist *hdrs;
	char body[BODY_MAX + 1];
	size_t body_len;
	int udp_fd;
};

struct health {
	struct xlbd *d;
	struct target **idx;		/* targets sorted by key, for find() */
	__u64 next_due;			/* earliest due time of an idle target */
	__u64 last_scan;
	size_t nudp;			/* socket checks in flight */
	size_t *inflight;		/* their target indices */
	pthread_t thread;
	pthread_mutex_t lock;		/* targets' visible state */
	volatile bool stop;
	CURLM *multi;
	struct target *t;
	size_t n;
	unsigned long gen;
	/* lateness samples (ms) and latency histogram */
	double late[LATE_SAMPLES];
	size_t nlate, late_pos;
	unsigned long long run;
	unsigned long long hist[HEALTH_BUCKETS], hist_count;
	double hist_sum;
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

static void finish_io(struct health *h, struct target *t)
{
	if (t->easy) {
		curl_multi_remove_handle(h->multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	curl_slist_free_all(t->hdrs);
	t->hdrs = NULL;
	if (t->udp_fd >= 0)
		close(t->udp_fd);
	t->udp_fd = -1;
	t->busy = false;
}

/* Rebuild the target list from the running configuration, keeping the
 * state of targets that stay. Called with d->lock held. */
static void sync_targets(struct health *h)
{
	const struct xlb_conf *c = &h->d->conf;
	struct target *nt, **idx;
	size_t i, j, n = 0, k = 0;
	__u64 now = now_ns();

	for (i = 0; i < c->nvips; i++)
		for (j = 0; j < c->vips[i].nbe; j++)
			n += check_of(&c->vips[i], &c->vips[i].be[j])->type !=
			     CONF_CHECK_NONE;
	nt = calloc(n + 1, sizeof(*nt));
	if (!nt)
		return;
	for (i = 0; i < c->nvips; i++) {
		const struct conf_vip *v = &c->vips[i];

		for (j = 0; j < v->nbe; j++) {
			const struct conf_check *ck = check_of(v, &v->be[j]);
			struct target *old, *t = &nt[k];

			if (ck->type == CONF_CHECK_NONE)
				continue;
			old = find(h, &v->key, &v->be[j].addr, v->be[j].family);
			if (old && !memcmp(&old->check, ck, sizeof(*ck))) {
				*t = *old;
				old->easy = NULL;	/* moved, not freed */
				old->hdrs = NULL;
				old->udp_fd = -1;
			} else {
				memset(t, 0, sizeof(*t));
				t->vip = v->key;
				t->addr = v->be[j].addr;
				t->family = v->be[j].family;
				t->check = *ck;
				t->udp_fd = -1;
				t->load = -1;
				t->factor = t->applied_factor = 1;
				snprintf(t->last, sizeof(t->last), "not yet");
				/* Spread first checks over one interval. */
				t->due = now + rnd((__u64)ck->interval_ms *
						   1000000ULL);
			}
			t->port = ck->port ? ck->port :
				  ntohs(v->key.port) ? ntohs(v->key.port) : 80;
			t->seen = true;
			k++;
		}
	}
	/* Checks of targets that went away end here. */
	for (i = 0; i < h->n; i++)
		finish_io(h, &h->t[i]);
	idx = calloc(k + 1, sizeof(*idx));
	for (i = 0; idx && i < k; i++)
		idx[i] = &nt[i];
	if (idx)
		qsort(idx, k, sizeof(*idx), cmp_targets);
	pthread_mutex_lock(&h->lock);
	free(h->t);
	free(h->idx);
	h->t = nt;
	h->idx = idx;
	h->n = k;
	h->next_due = 0;
	free(h->inflight);
	h->inflight = calloc(k + 1, sizeof(*h->inflight));
	h->nudp = 0;
	for (i = 0; h->inflight && i < k; i++)
		if (nt[i].busy && !nt[i].easy)
			h->inflight[h->nudp++] = i;
	/* curl handles moved with their targets: fix their private ptrs. */
	for (i = 0; i < k; i++)
		if (nt[i].easy)
			curl_easy_setopt(nt[i].easy, CURLOPT_PRIVATE, &nt[i]);
	pthread_mutex_unlock(&h->lock);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct target *t = arg;
	size_t len = size * nmemb, room = BODY_MAX - t->body_len;

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
		 scheme, a, t->port,
		 t->check.type == CONF_CHECK_TCP ? "/" : t->check.path);
}

static int start_curl(struct health *h, struct target *t)
{
	char url[CONF_STR_MAX + 80], host[CONF_STR_MAX + 8];

	t->easy = curl_easy_init();
	if (!t->easy)
		return -ENOMEM;
	url_of(t, url, sizeof(url));
	curl_easy_setopt(t->easy, CURLOPT_URL, url);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)t->check.timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(t->easy, CURLOPT_PROXY, "");
	if (t->check.type == CONF_CHECK_TCP) {
		curl_easy_setopt(t->easy, CURLOPT_CONNECT_ONLY, 1L);
	} else {
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
	}
	t->body_len = 0;
	t->body[0] = '\0';
	t->load = -1;
	return curl_multi_add_handle(h->multi, t->easy) == CURLM_OK ? 0 : -EIO;
}

static int start_sock(struct target *t, int type)
{
	struct sockaddr_storage ss = {};
	socklen_t sl;
	const char *payload = t->check.payload[0] ? t->check.payload : "ping";
	int fd;

	if (t->family == XLB_AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(t->port);
		s->sin_addr.s_addr = t->addr.v4;
		sl = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(t->port);
		memcpy(&s->sin6_addr, t->addr.v6, 16);
		sl = sizeof(*s);
	}
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (type == SOCK_STREAM) {
		/* A TCP check is a connect: done when the socket is writable,
		 * its verdict in SO_ERROR. No curl handle per check. */
		if (connect(fd, (struct sockaddr *)&ss, sl) &&
		    errno != EINPROGRESS) {
			close(fd);
			return -errno;
		}
	} else if (connect(fd, (struct sockaddr *)&ss, sl) ||
		   send(fd, payload, strlen(payload), 0) < 0) {
		close(fd);
		return -errno;
	}
	t->udp_fd = fd;
	return 0;
}

static void record_late(struct health *h, double ms)
{
	h->late[h->late_pos] = ms;
	h->late_pos = (h->late_pos + 1) % LATE_SAMPLES;
	if (h->nlate < LATE_SAMPLES)
		h->nlate++;
	h->run++;
}

/* A result: move the state machine; returns true when the data plane must
 * change (state or a large enough weight factor move). */
static bool result(struct health *h, struct target *t, bool ok, double ms,
		   const char *why, enum conf_adaptive adaptive)
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
		h->hist[b < HEALTH_BUCKETS ? b : HEALTH_BUCKETS - 1]++;
		h->hist_sum += ms / 1000;
		h->hist_count++;
	} else {
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
		t->transitions++;
	pthread_mutex_unlock(&h->lock);
	(void)adaptive;
	return t->state != old &&
	       !(old == HEALTH_UNKNOWN && t->state == HEALTH_UP);
}

/* Adaptive factors of a VIP's targets: latency (fastest = 1) and load. */
static bool adapt(struct health *h, const struct conf_vip *v)
{
	double best = 0, f;
	bool changed = false;
	size_t i;

	if (v->adaptive == CONF_ADAPTIVE_OFF)
		return false;
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->n; i++)
		if (!memcmp(&h->t[i].vip, &v->key, sizeof(v->key)) &&
		    h->t[i].state != HEALTH_DOWN && h->t[i].ewma_ms > 0 &&
		    (!best || h->t[i].ewma_ms < best))
			best = h->t[i].ewma_ms;
	for (i = 0; i < h->n; i++) {
		struct target *t = &h->t[i];

		if (memcmp(&t->vip, &v->key, sizeof(v->key)))
			continue;
		f = 1;
		/* +ADAPT_SLACK_MS: a few ms between fast backends is noise,
		 * not a reason to move traffic. */
		if (v->adaptive != CONF_ADAPTIVE_LOAD && best > 0 &&
		    t->ewma_ms > 0)
			f = (best + ADAPT_SLACK_MS) / (t->ewma_ms + ADAPT_SLACK_MS);
		if (v->adaptive != CONF_ADAPTIVE_LATENCY && t->load >= 0 &&
		    t->load <= 100)
			f *= (100 - t->load) / 100.0;
		if (f < ADAPT_MIN)
			f = ADAPT_MIN;
		t->factor = f;
		/* Small moves are noise: keep the ring until one counts. */
		if (fabs(f - t->applied_factor) > ADAPT_STEP * t->applied_factor) {
			t->applied_factor = f;
			changed = true;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return changed;
}

static void start_due(struct health *h, __u64 now)
{
	__u64 next = UINT64_MAX;
	size_t i;

	/* One pass over the targets at most once a millisecond, and only
	 * when something is due: the loop wakes on every socket event. */
	if (now < h->next_due || now < h->last_scan + 1000000ULL)
		return;
	h->last_scan = now;
	for (i = 0; i < h->n; i++) {
		struct target *t = &h->t[i];
		__u64 iv = (__u64)t->check.interval_ms * 1000000ULL;
		int rc;

		if (t->busy)
			continue;
		if (t->due > now) {
			if (t->due < next)
				next = t->due;
			continue;
		}
		record_late(h, (now - t->due) / 1e6);
		/* Next one interval after this due time, +-2 % jitter. */
		t->due += iv - iv / 50 + rnd(iv / 25 + 1);
		if (t->due < now)
			t->due = now + rnd(iv / 10 + 1);
		t->started = now;
		t->busy = true;
		rc = t->check.type == CONF_CHECK_UDP ?
			     start_sock(t, SOCK_DGRAM) :
		     t->check.type == CONF_CHECK_TCP ?
			     start_sock(t, SOCK_STREAM) : start_curl(h, t);
		if (rc) {
			finish_io(h, t);
			t->busy = true;	/* reported below as failed */
			t->started = 0;
		}
		/* Socket checks (and failed starts) are reported by the
		 * pass over the in-flight list. */
		if ((rc || t->udp_fd >= 0) && h->inflight)
			h->inflight[h->nudp++] = i;
		if (t->due < next)
			next = t->due;
	}
	h->next_due = next;
}

static void mark_vip(struct health *h, const struct xlb_vip_key *k,
		     struct xlb_vip_key *dirty, size_t *ndirty)
{
	size_t i;

	for (i = 0; i < *ndirty; i++)
		if (!memcmp(&dirty[i], k, sizeof(*k)))
			return;
	if (*ndirty < XLB_MAX_VIPS)
		dirty[(*ndirty)++] = *k;
	(void)h;
}

static enum conf_adaptive adaptive_of(struct health *h,
				      const struct xlb_vip_key *k)
{
	const struct conf_vip *v = conf_vip_find(&h->d->conf, k);

	return v ? v->adaptive : CONF_ADAPTIVE_OFF;
}

static void collect(struct health *h, __u64 now, struct xlb_vip_key *dirty,
		    size_t *ndirty)
{
	CURLMsg *m;
	int left;
	size_t i;

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
		if (ok && t->check.type != CONF_CHECK_TCP &&
		    (unsigned long)status != t->check.expect_status) {
			ok = false;
			snprintf(why, sizeof(why), "status %ld", status);
		}
		if (ok && t->check.body[0] && !strstr(t->body, t->check.body)) {
			ok = false;
			snprintf(why, sizeof(why), "body lacks '%.20s'",
				 t->check.body);
		}
		finish_io(h, t);
		if (result(h, t, ok, (now - t->started) / 1e6, why,
			   adaptive_of(h, &t->vip)))
			mark_vip(h, &t->vip, dirty, ndirty);
	}
	for (i = 0; i < h->nudp; i++) {
		struct target *t = &h->t[h->inflight[i]];
		char buf[16];
		bool done = false, ok = false;

		if (!t->busy || t->easy)
			continue;
		if (!t->started) {
			done = true;	/* could not even start */
		} else if (t->check.type == CONF_CHECK_TCP) {
			struct pollfd p = { .fd = t->udp_fd, .events = POLLOUT };
			int e = 0;
			socklen_t el = sizeof(e);

			if (poll(&p, 1, 0) == 1) {
				getsockopt(t->udp_fd, SOL_SOCKET, SO_ERROR, &e,
					   &el);
				done = true;
				ok = !e;
			}
		} else if (t->udp_fd >= 0 && recv(t->udp_fd, buf, sizeof(buf),
						  0) >= 0) {
			done = ok = true;
		}
		if (!done && now - t->started >
			   (__u64)t->check.timeout_ms * 1000000ULL) {
			done = true;
		}
		if (!done)
			continue;
		finish_io(h, t);
		/* Out of the in-flight list: the last one takes its place. */
		h->inflight[i--] = h->inflight[--h->nudp];
		if (!ok && t->check.type == CONF_CHECK_TCP && t->started &&
		    now - t->started <= (__u64)t->check.timeout_ms * 1000000ULL) {
			if (result(h, t, false, (now - t->started) / 1e6,
				   "connection refused", CONF_ADAPTIVE_OFF))
				mark_vip(h, &t->vip, dirty, ndirty);
			continue;
		}
		if (result(h, t, ok, t->started ? (now - t->started) / 1e6 : 0,
			   t->started ? "timeout" : "cannot send",
			   CONF_ADAPTIVE_OFF))
			mark_vip(h, &t->vip, dirty, ndirty);
	}
}

static int next_wait_ms(struct health *h, __u64 now)
{
	__u64 next = now + 100000000ULL;	/* at most 100 ms */

	/* Finished checks' next due times are later than the cached one. */
	if (h->next_due < next)
		next = h->next_due;
	if (next < h->last_scan + 1000000ULL)
		next = h->last_scan + 1000000ULL;
	return next > now ? (int)((next - now) / 1000000ULL) : 0;
}

/* Apply what changed: health moves and adaptive factors, per VIP. */
static void apply(struct health *h, struct xlb_vip_key *dirty, size_t ndirty)
{
	struct xlbd *d = h->d;
	size_t i;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->conf.nvips; i++) {
		const struct conf_vip *v = &d->conf.vips[i];
		bool now_dirty = adapt(h, v);
		size_t j;

		for (j = 0; j < ndirty && !now_dirty; j++)
			now_dirty = !memcmp(&dirty[j], &v->key, sizeof(v->key));
		if (now_dirty)
			xlbd_refresh_vip(d, v);
	}
	pthread_mutex_unlock(&d->lock);
}

static void *run(void *arg)
{
	struct health *h = arg;
	struct xlb_vip_key *dirty = calloc(XLB_MAX_VIPS, sizeof(*dirty));
	struct curl_waitfd *ufds = calloc(MAX_UDP_INFLIGHT, sizeof(*ufds));
	__u64 last_adapt = 0;

	while (!h->stop && dirty && ufds) {
		size_t ndirty = 0, i, nu = 0;
		__u64 now = now_ns();
		int running;

		pthread_mutex_lock(&h->d->lock);
		if (h->gen != h->d->conf_gen) {
			h->gen = h->d->conf_gen;
			sync_targets(h);
		}
		pthread_mutex_unlock(&h->d->lock);

		start_due(h, now);
		for (i = 0; i < h->nudp && nu < MAX_UDP_INFLIGHT; i++) {
			struct target *t = &h->t[h->inflight[i]];

			if (t->udp_fd < 0)
				continue;
			ufds[nu].fd = t->udp_fd;
			ufds[nu].events = t->check.type == CONF_CHECK_TCP ?
					  CURL_WAIT_POLLOUT : CURL_WAIT_POLLIN;
			ufds[nu].revents = 0;
			nu++;
		}
		curl_multi_poll(h->multi, ufds, nu, next_wait_ms(h, now), NULL);
		curl_multi_perform(h->multi, &running);
		now = now_ns();
		collect(h, now, dirty, &ndirty);
		/* Adaptive weights settle at most once a second. */
		if (ndirty || now - last_adapt > 1000000000ULL) {
			last_adapt = now;
			apply(h, dirty, ndirty);
		}
	}
	free(dirty);
	free(ufds);
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
	if (!h->multi || pthread_create(&h->thread, NULL, run, h)) {
		xlbd_log(LOG_ERR_, "cannot start the health checker");
		if (h->multi)
			curl_multi_cleanup(h->multi);
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
	free(h->t);
	free(h->idx);
	free(h->inflight);
	free(h);
	d->health = NULL;
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
		out->transitions = t->transitions;
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
	double *s;
	size_t n;

	if (!h)
		return o;
	pthread_mutex_lock(&h->lock);
	n = h->nlate;
	s = malloc((n + 1) * sizeof(*s));
	if (s)
		memcpy(s, h->late, n * sizeof(*s));
	json_object_object_add(o, "run", json_object_new_int64(h->run));
	json_object_object_add(o, "targets", json_object_new_int64(h->n));
	pthread_mutex_unlock(&h->lock);
	if (s && n) {
		qsort(s, n, sizeof(*s), cmp_d);
		json_object_object_add(o, "late_p50_ms",
				       json_object_new_double(s[n / 2]));
		json_object_object_add(o, "late_p99_ms",
				       json_object_new_double(s[n * 99 / 100]));
		json_object_object_add(o, "late_max_ms",
				       json_object_new_double(s[n - 1]));
	}
	free(s);
	return o;
}

void health_histogram(struct xlbd *d, unsigned long long counts[HEALTH_BUCKETS],
		      double *sum, unsigned long long *count)
{
	struct health *h = d->health;

	memset(counts, 0, HEALTH_BUCKETS * sizeof(*counts));
	*sum = 0;
	*count = 0;
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	memcpy(counts, h->hist, sizeof(h->hist));
	*sum = h->hist_sum;
	*count = h->hist_count;
	pthread_mutex_unlock(&h->lock);
}
