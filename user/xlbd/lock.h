/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* One xlbd per data plane. A daemon owns two things another must not
 * share: its pin directory (<pin-root>/xlb/<ifname>, the data plane) and
 * its state file. It holds an exclusive flock(2) on each for its whole
 * life, taken before it touches either: on the pin directory itself (a
 * bpffs directory can be locked, and its identity is the data plane's,
 * whatever path or mount namespace names it), and on "<state-file>.lock"
 * beside the state file (which is replaced by rename, so cannot be locked
 * itself). The kernel drops the locks when the daemon exits, however it
 * exits: nothing stale to clean up. */
#ifndef XLBD_LOCK_H
#define XLBD_LOCK_H

#include <sys/types.h>

/* Lock path exclusively without waiting: a directory as it is, a file
 * created (0600) when missing. Returns the fd that holds the lock (closing
 * it releases), -EBUSY with *holder the PID that holds it (0 when the
 * kernel does not say), or -errno. */
int lock_take(const char *path, pid_t *holder);

#endif
