// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* What this node announces, as BIRD include text (routes.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "routes.h"
#include "state.h"

bool routes_vip_servable(const struct conf_vip *v)
{
	bool open = state_fail_open(v);
	struct xlb_backend_spec s;
	size_t i;

	for (i = 0; i < v->nbe; i++) {
		if (v->be[i].health == HEALTH_DOWN)
			continue;
		state_backend_spec(v, &v->be[i], open, &s);
		if (!s.down && s.weight > 0)
			return true;
	}
	return false;
}

struct route {
	__u8 family;
	union xlb_addr addr;
};

static int cmp_route(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	int c = (int)x->family - (int)y->family;

	return c ? c : memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* The servable addresses of c in fam not held, sorted, each once; *n of
 * them. */
static struct route *servable(const struct xlb_conf *c, routes_held_fn held,
			      void *arg, enum routes_family fam, size_t *n)
{
	struct route *r = calloc(c->nvips + 1, sizeof(*r));
	size_t i, k = 0;

	if (!r)
		return NULL;
	for (i = 0; i < c->nvips; i++) {
		const struct conf_vip *v = &c->vips[i];

		if ((fam && v->key.family != fam) || !routes_vip_servable(v) ||
		    (held && held(v, arg)))
			continue;
		r[k].family = v->key.family;
		r[k].addr = v->key.addr;
		k++;
	}
	qsort(r, k, sizeof(*r), cmp_route);
	for (i = 0, *n = 0; i < k; i++)
		if (!*n || cmp_route(&r[*n - 1], &r[i]))
			r[(*n)++] = r[i];
	return r;
}

int routes_write(const struct xlb_conf *c, bool announce, routes_held_fn held,
		 void *arg, const char *dev, enum routes_family fam, FILE *f)
{
	char a[XLB_ADDR_STRLEN];
	struct route *r;
	size_t n = 0, i;

	if (!announce)
		return ferror(f) ? -EIO : 0;
	r = servable(c, held, arg, fam, &n);
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		fprintf(f, "route %s/%d via \"%s\";\n",
			xlb_format_addr(&r[i].addr, r[i].family, a, sizeof(a)),
			r[i].family == XLB_AF_INET ? 32 : 128, dev);
	free(r);
	return ferror(f) ? -EIO : (int)n;
}

int routes_drain_write(bool drained, FILE *f)
{
	if (drained)
		fprintf(f, "bgp_community.add(%s);\n",
			ROUTES_GRACEFUL_SHUTDOWN);
	return ferror(f) ? -EIO : 0;
}
