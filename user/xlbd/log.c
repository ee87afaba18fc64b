// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd's log: one line per event on standard error, with a level, which
 * is what systemd collects. A leaf every part of the daemon may call. */
#include <stdarg.h>
#include <stdio.h>

#include "xlbd.h"

static enum log_level log_level = LOG_INFO_;

void xlbd_log_level(enum log_level lvl)
{
	log_level = lvl;
}

void xlbd_log(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	char line[1024];
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One call per line: the checker and metrics threads log too, and
	 * their lines must not interleave with the main loop's. */
	fprintf(stderr, "xlbd: %s: %s\n", names[lvl], line);
}
