/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Atomic file replacement: what a daemon's state files need so that a
 * crash leaves the old file or the new one, never half of one. */
#ifndef XLB_FILEIO_H
#define XLB_FILEIO_H

#include <stdio.h>

/* Writes the content; 0 or -errno. */
typedef int (*xlb_fill_fn)(FILE *f, const void *arg);

/* Write path through fill into a temporary file in the same directory
 * (created when it is the one thing missing), fsync it, rename it over
 * path and fsync the directory. 0 or -errno; on error path is untouched. */
int xlb_save_atomic(const char *path, xlb_fill_fn fill, const void *arg);

#endif
