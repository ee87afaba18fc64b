/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The live dashboard metrics.c serves at /: one HTML page with its CSS and
 * script inline, which polls /api/state. */
#ifndef XLBD_DASHBOARD_H
#define XLBD_DASHBOARD_H

/* The page's bytes, from xlbd_dashboard up to xlbd_dashboard_end. */
extern const char xlbd_dashboard[], xlbd_dashboard_end[];

#endif
