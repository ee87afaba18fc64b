// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Telling the service manager how xlbd is doing (sd_notify(3)), for a
 * unit of Type=notify: READY=1 once the control socket answers and the
 * program is attached, RELOADING=1 then READY=1 around a reload, STOPPING=1
 * on the way out, each with a STATUS= line for systemctl status. Without
 * NOTIFY_SOCKET (a shell, the tests) libsystemd sends nothing. A failed
 * send changes nothing: the service manager's view is not ours to fix. */
#include <time.h>
#include <systemd/sd-daemon.h>

#include "xlbd.h"

void xlbd_notify_ready(const struct xlbd *d, const char *refused)
{
	if (refused)
		sd_notifyf(0, "READY=1\nSTATUS=%zu VIPs on %s; the last reload "
			   "was refused: %s", d->conf.nvips,
			   d->conf.node.ifname, refused);
	else
		sd_notifyf(0, "READY=1\nSTATUS=%zu VIPs on %s, control socket "
			   "%s", d->conf.nvips, d->conf.node.ifname,
			   d->conf.node.ctl_sock);
}

/* MONOTONIC_USEC ties the reload to its READY=1 (systemd 253 and later
 * want it; 252 ignores it). */
void xlbd_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
			   (unsigned long long)ts.tv_nsec / 1000);
}

void xlbd_notify_stopping(const char *why)
{
	sd_notifyf(0, "STOPPING=1\nSTATUS=%s", why);
}
