// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The dashboard page (dashboard.html, kept readable in the tree) as bytes
 * in the binary: the assembler includes the file, so the build needs no
 * generator and the daemon reads no file at run time. The Makefile makes
 * this object depend on the page; paths are from the top of the tree,
 * where make runs. */
#include "dashboard.h"

__asm__(".section .rodata\n"
	".global xlbd_dashboard\n"
	".type xlbd_dashboard, @object\n"
	"xlbd_dashboard:\n"
	".incbin \"user/xlbd/dashboard.html\"\n"
	".global xlbd_dashboard_end\n"
	"xlbd_dashboard_end:\n"
	".byte 0\n"
	".previous\n");
