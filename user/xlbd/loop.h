/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* xlbd's event loop: one epoll set and one-shot timers, run by the main
 * thread. Every input of the main thread is a source on it: the signalfd,
 * the control socket and each control connection; more may be added (an
 * eventfd another thread writes, a timer that batches saves).
 *
 * Rules for a source:
 *  - its callback runs on the loop's thread and must not block: sockets
 *    are non-blocking, work that waits is split by events or timers;
 *  - a callback may add, modify or delete any source or timer, itself
 *    included; an fd deleted during a round gets no further callback in
 *    that round, even when its number is reused at once;
 *  - loop_del() before close(): epoll forgets a closed fd only when every
 *    duplicate of it is closed, and the loop's table is keyed by number.
 *
 * Timers: struct loop_timer belongs to the caller (embed it), set up once
 * with loop_timer_init(); loop_timer_arm() (re)starts it to fire once
 * after delay_ms, loop_timer_cancel() stops it; both are no-ops when there
 * is nothing to do. Times come from CLOCK_MONOTONIC, in milliseconds. A
 * timer fires after at least its delay, in order of deadline, after the
 * fd events of the same round. */
#ifndef XLBD_LOOP_H
#define XLBD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

/* revents: the EPOLL* bits that happened (EPOLLERR, EPOLLHUP included). */
typedef void (*loop_fd_fn)(void *arg, uint32_t revents);
typedef void (*loop_timer_fn)(void *arg);

struct loop_timer {
	loop_timer_fn cb;
	void *arg;
	uint64_t due_ms;
	uint32_t slot;			/* in the loop's heap, or LOOP_IDLE */
};

#define LOOP_IDLE	UINT32_MAX

/* NULL when out of memory or file descriptors (errno says). */
struct loop *loop_new(void);
/* Closes the epoll fd, not the sources' fds; armed timers are dropped. */
void loop_free(struct loop *l);

/* Watch fd for events (EPOLLIN, EPOLLOUT, ...; level-triggered unless
 * EPOLLET is given). 0, -EEXIST when fd is watched already, or -errno. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_fn cb,
	     void *arg);
/* Change the events of a watched fd. 0, -ENOENT, or -errno. */
int loop_mod(struct loop *l, int fd, uint32_t events);
/* Stop watching fd (before closing it). 0 or -ENOENT. */
int loop_del(struct loop *l, int fd);

void loop_timer_init(struct loop_timer *t, loop_timer_fn cb, void *arg);
/* 0, or -ENOMEM (the timer stays as it was). */
int loop_timer_arm(struct loop *l, struct loop_timer *t,
		   unsigned int delay_ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t)
{
	return t->slot != LOOP_IDLE;
}

/* One round: wait for events or the next timer, at most max_ms (-1: no
 * limit), then run the callbacks. 0, or -errno from epoll_wait (EINTR is
 * not an error). */
int loop_once(struct loop *l, int max_ms);
/* CLOCK_MONOTONIC in ms, the clock of the timers. */
uint64_t loop_now_ms(void);

#endif
