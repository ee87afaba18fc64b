// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd's event loop (loop.h): epoll for fds, a binary min-heap of timer
 * pointers for deadlines. Sources live in a table indexed by fd; each
 * registration gets a generation number that rides in the epoll event, so
 * that an event queued for an fd deleted (and perhaps reused) earlier in
 * the same round is recognised and dropped. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "loop.h"

#define LOOP_BATCH	64	/* events taken per epoll_wait */

struct loop_src {
	loop_fd_fn cb;
	void *arg;
	uint32_t gen;			/* 0: the slot is free */
};

struct loop {
	int epfd;
	struct loop_src *src;		/* indexed by fd */
	size_t nsrc;
	uint32_t gen;			/* last generation handed out */
	struct loop_timer **heap;	/* by due_ms, earliest first */
	size_t nheap, capheap;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nheap; i++)
		l->heap[i]->slot = LOOP_IDLE;
	close(l->epfd);
	free(l->src);
	free(l->heap);
	free(l);
}

/* ---- fds ---- */

static struct loop_src *src_of(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nsrc || !l->src[fd].gen)
		return NULL;
	return &l->src[fd];
}

static int src_room(struct loop *l, int fd)
{
	size_t n = l->nsrc ? l->nsrc : 64;
	struct loop_src *s;

	while (n <= (size_t)fd)
		n *= 2;
	if (n == l->nsrc)
		return 0;
	s = realloc(l->src, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + l->nsrc, 0, (n - l->nsrc) * sizeof(*s));
	l->src = s;
	l->nsrc = n;
	return 0;
}

static uint64_t ev_data(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_fn cb,
	     void *arg)
{
	struct epoll_event ev = { .events = events };
	struct loop_src *s;
	int rc;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (src_of(l, fd))
		return -EEXIST;
	rc = src_room(l, fd);
	if (rc)
		return rc;
	if (!++l->gen)		/* 0 marks a free slot */
		l->gen = 1;
	ev.data.u64 = ev_data(fd, l->gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	s = &l->src[fd];
	s->cb = cb;
	s->arg = arg;
	s->gen = l->gen;
	return 0;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	struct loop_src *s = src_of(l, fd);

	if (!s)
		return -ENOENT;
	ev.data.u64 = ev_data(fd, s->gen);
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int loop_del(struct loop *l, int fd)
{
	struct loop_src *s = src_of(l, fd);

	if (!s)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(s, 0, sizeof(*s));
	return 0;
}

/* ---- timers: a binary min-heap; each timer knows its slot ---- */

static void heap_set(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->slot = (uint32_t)i;
}

static void heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	while (i) {
		size_t up = (i - 1) / 2;

		if (l->heap[up]->due_ms <= t->due_ms)
			break;
		heap_set(l, i, l->heap[up]);
		i = up;
	}
	heap_set(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap &&
		    l->heap[c + 1]->due_ms < l->heap[c]->due_ms)
			c++;
		if (t->due_ms <= l->heap[c]->due_ms)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn cb, void *arg)
{
	t->cb = cb;
	t->arg = arg;
	t->due_ms = 0;
	t->slot = LOOP_IDLE;
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	size_t i = t->slot;
	struct loop_timer *last;

	if (t->slot == LOOP_IDLE)
		return;
	t->slot = LOOP_IDLE;
	if (i == --l->nheap)
		return;
	/* The last entry fills the hole, then moves up or down. */
	last = l->heap[l->nheap];
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->slot);
}

int loop_timer_arm(struct loop *l, struct loop_timer *t,
		   unsigned int delay_ms)
{
	if (t->slot == LOOP_IDLE && l->nheap == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 64;
		struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->capheap = cap;
	}
	loop_timer_cancel(l, t);
	t->due_ms = loop_now_ms() + delay_ms;
	heap_set(l, l->nheap++, t);
	heap_up(l, t->slot);
	return 0;
}

/* Fire what is due; at most the timers there were when it began, so that
 * a callback re-arming with delay 0 cannot hold the loop. */
static void fire_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();
	size_t n = l->nheap;
	struct loop_timer *t;

	while (n-- && l->nheap && l->heap[0]->due_ms <= now) {
		t = l->heap[0];
		loop_timer_cancel(l, t);
		t->cb(t->arg);
	}
}

static int wait_ms(struct loop *l, int max_ms)
{
	uint64_t now, due;

	if (!l->nheap)
		return max_ms;
	now = loop_now_ms();
	due = l->heap[0]->due_ms;
	if (due <= now)
		return 0;
	if (max_ms >= 0 && due - now > (uint64_t)max_ms)
		return max_ms;
	return due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
}

int loop_once(struct loop *l, int max_ms)
{
	struct epoll_event ev[LOOP_BATCH];
	struct loop_src *s;
	int n, i, fd;

	n = epoll_wait(l->epfd, ev, LOOP_BATCH, wait_ms(l, max_ms));
	if (n < 0 && errno != EINTR)
		return -errno;
	for (i = 0; i < n; i++) {
		fd = (int)(uint32_t)ev[i].data.u64;
		s = src_of(l, fd);
		/* Deleted, or deleted and added again, earlier this round. */
		if (!s || s->gen != (uint32_t)(ev[i].data.u64 >> 32))
			continue;
		s->cb(s->arg, ev[i].events);
	}
	fire_timers(l);
	return 0;
}
