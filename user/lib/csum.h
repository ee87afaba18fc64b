/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The Internet checksum: one definition with the data plane's, in
 * include/xlb/csum.h. This name stays for the files that include it. */
#ifndef XLB_LIB_CSUM_H
#define XLB_LIB_CSUM_H

#include "xlb/csum.h"

#endif
