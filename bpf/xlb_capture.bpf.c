// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The capture build of the balancer: the same program (xlb.bpf.c) with
 * recording around it (capture.h). Swapped into the running link only
 * while xlbctl capture runs (user/lib/capture.c), so the normal build
 * carries none of its cost. */
#define XLB_CAPTURE 1
#include "xlb.bpf.c"
