/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The backend's decap program seen from user space: the address sets and
 * settings it is given (xlb/decap.h), written into the maps of a loaded or
 * attached program, and read back with its counters. The maps are found
 * from the program itself (its map ids), never from pins, so the same code
 * serves a program just loaded, one attached long ago by another process,
 * and the packet tests. Functions return 0 or -errno and never print. */
#ifndef XLB_LIB_DECAP_H
#define XLB_LIB_DECAP_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "xlb/flow.h"
#include "xlb/decap.h"

/* One address (len 32 or 128) or prefix of either family; host bits are
 * zero. */
struct xlb_prefix {
	union xlb_addr addr;
	__u8 family;
	__u8 len;
};

struct xlb_prefix_set {
	struct xlb_prefix *p;
	size_t n;
};

/* What the decap program decides with (see xlb/decap.h). */
struct xlb_decap_conf {
	__u16 gue_port;			/* host order; 0: no GUE */
	bool drop;			/* rejected tunnels: drop, else pass */
	struct xlb_prefix_set outer;	/* outer destinations */
	struct xlb_prefix_set balancers; /* outer sources; empty: any */
	struct xlb_prefix_set inner;	/* inner destinations */
};

#define XLB_PREFIX_STRLEN	(46 + 4)

/* --reject: "pass" or "drop" (drop true). */
int xlb_decap_parse_reject(const char *s, bool *drop);
const char *xlb_decap_reject_name(bool drop);

/* ADDR or ADDR/LEN, either family. */
int xlb_parse_prefix(const char *s, struct xlb_prefix *p);
const char *xlb_format_prefix(const struct xlb_prefix *p, char *buf,
			      size_t len);
/* Add to set, once: a comma-separated list of ADDR or ADDR/LEN. */
int xlb_prefix_list(const char *s, struct xlb_prefix_set *set);
int xlb_prefix_add(struct xlb_prefix_set *set, const struct xlb_prefix *p);
void xlb_prefix_set_free(struct xlb_prefix_set *set);

/* Addresses the host holds, each as a full-length prefix: those of ifname,
 * or with ifname NULL those of every interface except loopback addresses
 * (127.0.0.0/8, ::1) and IPv6 link-local ones. */
int xlb_host_addrs(const char *ifname, struct xlb_prefix_set *set);

void xlb_decap_conf_free(struct xlb_decap_conf *c);

struct xlb_decap_maps {
	int cfg, outer, balancers, inner, stats;	/* -1: not open */
};

/* The maps of decap program prog_fd, by name; -ENOENT when one is missing
 * (an xlb_decap of another layout). */
int xlb_decap_maps_of(int prog_fd, struct xlb_decap_maps *m);
void xlb_decap_maps_close(struct xlb_decap_maps *m);

/* Replace the program's sets and settings with c. Entries that stay are
 * never removed, so a packet that both the old and the new sets accept is
 * accepted throughout; stale entries go first, so a full map never
 * overflows. */
int xlb_decap_write(const struct xlb_decap_maps *m,
		    const struct xlb_decap_conf *c);
/* Read back what the program decides with; free with xlb_decap_conf_free. */
int xlb_decap_read(const struct xlb_decap_maps *m, struct xlb_decap_conf *c);
int xlb_decap_counters(const struct xlb_decap_maps *m,
		       __u64 out[XLB_DC_MAX]);

/* {"gue_port", "reject": "pass"|"drop", "outer": [...], "balancers": [...]
 * or null (any source), "inner": [...], "counters": {name: n}}. */
int xlb_decap_view(const struct xlb_decap_maps *m, json_object **out);

#endif
