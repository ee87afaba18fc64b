// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd's state model: effective weights, verdicts, the verdict file
 * (state.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "fileio.h"
#include "state.h"

static const char *const health_names[] = {
	[HEALTH_UNKNOWN] = "unknown",
	[HEALTH_UP] = "up",
	[HEALTH_DOWN] = "down",
};

const char *state_health_name(__u8 health)
{
	return health <= HEALTH_DOWN ? health_names[health] : "?";
}

static bool checked(const struct conf_vip *v, const struct conf_backend *b)
{
	return (b->has_check ? b->check.type : v->check.type) !=
	       CONF_CHECK_NONE;
}

__u8 state_initial_health(const struct conf_vip *v,
			  const struct conf_backend *b)
{
	return v->start_down == CONF_ON && checked(v, b) ? HEALTH_DOWN :
							   HEALTH_UNKNOWN;
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

void state_ramp_begin(const struct conf_vip *v, struct conf_backend *b,
		      __u64 now_ms)
{
	if (!v->slow_start_ms)
		return;
	b->ramp_since_ms = now_ms ?: 1;
	b->ramp_pct = STATE_RAMP_STEP;
}

void state_backend_new(const struct conf_vip *v, struct conf_backend *b,
		       bool ramp)
{
	static __u32 lives;	/* the main loop's alone: one writer */

	b->health = state_initial_health(v, b);
	b->factor = 0;
	b->born = ++lives ?: ++lives;	/* 0 is "any" (verdict.born) */
	b->ramp_since_ms = 0;
	b->ramp_pct = 0;
	/* Down until checked (start-down): it ramps once it comes up. */
	if (ramp && b->health != HEALTH_DOWN)
		state_ramp_begin(v, b, mono_ms());
}

__u8 state_ramp_pct(const struct conf_vip *v, const struct conf_backend *b,
		    __u64 now_ms)
{
	__u64 el, pct;

	if (!v->slow_start_ms || !b->ramp_since_ms)
		return 0;
	el = now_ms > b->ramp_since_ms ? now_ms - b->ramp_since_ms : 0;
	if (el >= v->slow_start_ms)
		return 0;
	/* Up to the next step: the first is never 0. */
	pct = (el * 100 / v->slow_start_ms / STATE_RAMP_STEP + 1) *
	      STATE_RAMP_STEP;
	return pct >= 100 ? 0 : (__u8)pct;
}

void state_moved_add(struct xlb_vip_key *set, size_t *n,
		     const struct xlb_vip_key *k)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!memcmp(&set[i], k, sizeof(*k)))
			return;
	if (*n < XLB_MAX_VIPS)
		set[(*n)++] = *k;
}

int state_ramp_tick(struct xlb_conf *c, __u64 now_ms, struct xlb_vip_key *moved,
		    size_t *nmoved, __u32 *next_ms)
{
	size_t i, j;
	int stepped = 0;

	*next_ms = 0;
	for (i = 0; i < c->nvips; i++) {
		struct conf_vip *v = &c->vips[i];
		bool moves = false;

		for (j = 0; j < v->nbe; j++) {
			struct conf_backend *b = &v->be[j];
			__u8 pct = state_ramp_pct(v, b, now_ms);

			if (!b->ramp_since_ms)
				continue;
			if (!pct)
				b->ramp_since_ms = 0;	/* done */
			moves |= pct != b->ramp_pct;
			stepped += pct != b->ramp_pct;
			b->ramp_pct = pct;
			if (pct) {
				__u32 step = v->slow_start_ms * STATE_RAMP_STEP /
					     100;

				if (step < STATE_RAMP_TICK_MS)
					step = STATE_RAMP_TICK_MS;
				if (!*next_ms || step < *next_ms)
					*next_ms = step;
			}
		}
		if (!moves)
			continue;
		state_moved_add(moved, nmoved, &v->key);
	}
	return stepped;
}

const char *state_backend_health(const struct conf_backend *b)
{
	return b->maint ? "maint" : state_health_name(b->health);
}

/* The health the table follows: agreed with the peers, or our own. */
static __u8 table_health(const struct conf_backend *b)
{
	return b->agreed ? b->agreed : b->health;
}

/* Drained for the table (by us, in maintenance, or by the group). */
static bool out_by_hand(const struct conf_backend *b)
{
	return b->drained || b->maint || (b->agreed && b->agreed_drained);
}

void state_up_count(const struct conf_vip *v, size_t *up, size_t *n)
{
	size_t i;

	*up = *n = 0;
	for (i = 0; i < v->nbe; i++) {
		if (out_by_hand(&v->be[i]))
			continue;
		(*n)++;
		*up += !checked(v, &v->be[i]) ||
		       table_health(&v->be[i]) != HEALTH_DOWN;
	}
}

bool state_panic(const struct conf_vip *v)
{
	size_t up, n;

	if (!v->panic_pct)
		return false;
	state_up_count(v, &up, &n);
	return n && up * 100 < (size_t)v->panic_pct * n;
}

bool state_fail_open(const struct conf_vip *v)
{
	size_t i;

	if (state_panic(v))
		return true;
	if (v->all_down != CONF_ALL_DOWN_OPEN || !v->nbe)
		return false;
	for (i = 0; i < v->nbe; i++)
		if (!checked(v, &v->be[i]) ||
		    table_health(&v->be[i]) != HEALTH_DOWN)
			return false;
	return true;
}

void state_backend_spec(const struct conf_vip *v, const struct conf_backend *b,
			bool all_down_open, struct xlb_backend_spec *s)
{
	/* Maintenance drains (flows stay), as the group agrees it. */
	double w = out_by_hand(b) ? 0 : b->weight;
	bool scaled = v->adaptive != CONF_ADAPTIVE_OFF || v->slow_start_ms;
	double f = 1;

	/* The factor in use: the group's (which took each node's adaptive
	 * factor and ramp into its view), or ours. */
	if (b->agreed) {
		f = b->agreed_pct / 100.0;
	} else {
		if (v->adaptive != CONF_ADAPTIVE_OFF && b->factor > 0)
			f = b->factor;
		if (b->ramp_pct)
			f *= b->ramp_pct / 100.0;
	}
	memset(s, 0, sizeof(*s));
	s->addr = b->addr;
	s->family = b->family;
	s->has_mac = b->has_mac;
	memcpy(s->mac, b->mac, 6);
	if (checked(v, b))
		s->down = table_health(b) == HEALTH_DOWN && !all_down_open;
	/* Adaptive weights and slow start scale, never zero, a weight in
	 * use. */
	if (scaled && w > 0 && !s->down) {
		w *= f;
		if (w < 1)
			w = 1;
	}
	s->weight = (__u32)(w + 0.5);
}

__u32 state_effective_weight(const struct conf_vip *v,
			     const struct conf_backend *b)
{
	struct xlb_backend_spec s;

	state_backend_spec(v, b, state_fail_open(v), &s);
	return s.down ? 0 : s.weight;
}

/* The effective spec of every backend of v would change if b changed
 * from old to new: either b's own spec moved, or the VIP's all-down
 * state flipped (which moves every backend). */
static bool vip_moves(const struct conf_vip *v, bool open_before,
		      const struct xlb_backend_spec *before,
		      const struct conf_backend *b)
{
	struct xlb_backend_spec after;
	bool open_after = state_fail_open(v);

	if (open_after != open_before)
		return true;
	state_backend_spec(v, b, open_after, &after);
	return after.down != before->down || after.weight != before->weight;
}

int state_set_verdict(struct xlb_conf *c, const struct verdict *ev,
		      __u8 *old)
{
	struct xlb_backend_spec before;
	struct conf_backend *b;
	struct conf_vip *v;
	bool open;

	v = conf_vip_find(c, &ev->vip);
	b = v ? conf_backend_find(v, &ev->addr, ev->family) : NULL;
	/* A verdict on an earlier life of the backend (deleted and added
	 * again, or put in maintenance, since its check ran) is not its. */
	if (!b || (ev->born && ev->born != b->born))
		return -ENOENT;
	*old = b->health;
	open = state_fail_open(v);
	state_backend_spec(v, b, open, &before);
	b->health = ev->state;
	b->factor = ev->factor;
	/* Back from down: slow start (coming up from unknown, at start,
	 * it took flows already). */
	if (*old == HEALTH_DOWN && ev->state == HEALTH_UP && ev->born)
		state_ramp_begin(v, b, mono_ms());
	if (ev->state == HEALTH_DOWN)
		b->ramp_since_ms = b->ramp_pct = 0;
	return vip_moves(v, open, &before, b) ? 1 : 0;
}

/* The factor a node publishes: its adaptive factor in 5 % steps, or its
 * ramp if lower (the group takes the least of them: docs/group.md). */
static __u8 view_pct(const struct conf_vip *v, const struct conf_backend *b)
{
	double f = b->factor > 0 ? b->factor : 1;
	int pct = 100;

	if (v->adaptive != CONF_ADAPTIVE_OFF)
		pct = (int)(f * 20 + 0.5) * 5;
	if (b->ramp_pct && b->ramp_pct < pct)
		pct = b->ramp_pct;
	return pct < 5 ? 5 : pct > 100 ? 100 : (__u8)pct;
}

long state_local_view(const struct xlb_conf *c, struct agree_entry **out)
{
	struct agree_entry *e = NULL, *grown;
	size_t n = 0, cap = 0, i, j;

	*out = NULL;
	for (i = 0; i < c->nvips; i++) {
		const struct conf_vip *v = &c->vips[i];

		for (j = 0; j < v->nbe; j++) {
			const struct conf_backend *b = &v->be[j];
			/* In maintenance its checks are paused: drained for
			 * the group, its verdict not news. */
			bool down = checked(v, b) && b->health == HEALTH_DOWN &&
				    !b->maint;
			bool drained = b->drained || b->maint;
			__u8 pct = view_pct(v, b);

			if (!down && !drained && pct == 100)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				grown = realloc(e, cap * sizeof(*e));
				if (!grown) {
					free(e);
					return -ENOMEM;
				}
				e = grown;
			}
			memset(&e[n], 0, sizeof(e[n]));
			e[n].vip = v->key;
			e[n].addr = b->addr;
			e[n].family = b->family;
			e[n].down = down;
			e[n].drained = drained;
			e[n].factor_pct = pct;
			n++;
		}
	}
	if (n)
		qsort(e, n, sizeof(*e), agree_cmp);
	*out = e;
	return (long)n;
}

int state_set_agreed(struct xlb_conf *c, const struct agree *a,
		     struct xlb_vip_key *moved, size_t *nmoved)
{
	size_t i, j;

	for (i = 0; i < c->nvips; i++) {
		struct conf_vip *v = &c->vips[i];
		struct xlb_backend_spec *before, after;
		struct agree_backend *ab;
		struct agree_state *st;
		bool open_before, open_after, moves = false;

		if (!v->nbe)
			continue;
		before = calloc(v->nbe, sizeof(*before));
		ab = calloc(v->nbe, sizeof(*ab));
		st = calloc(v->nbe, sizeof(*st));
		if (!before || !ab || !st) {
			free(before);
			free(ab);
			free(st);
			return -ENOMEM;
		}
		open_before = state_fail_open(v);
		for (j = 0; j < v->nbe; j++) {
			state_backend_spec(v, &v->be[j], open_before, &before[j]);
			ab[j].addr = v->be[j].addr;
			ab[j].family = v->be[j].family;
		}
		agree_vip(a, &v->key, ab, v->nbe, st);
		for (j = 0; j < v->nbe; j++) {
			struct conf_backend *b = &v->be[j];

			b->agreed = st[j].down ? HEALTH_DOWN : HEALTH_UP;
			b->agreed_drained = st[j].drained;
			b->agreed_pct = st[j].factor_pct;
		}
		free(ab);
		free(st);
		open_after = state_fail_open(v);
		for (j = 0; j < v->nbe && !moves; j++) {
			state_backend_spec(v, &v->be[j], open_after, &after);
			moves = after.down != before[j].down ||
				after.weight != before[j].weight;
		}
		free(before);
		if (!moves && open_after == open_before)
			continue;
		state_moved_add(moved, nmoved, &v->key);
	}
	return 0;
}

static int cmp_be(const void *a, const void *b)
{
	const struct conf_backend *x = a, *y = b;
	int c = (int)x->family - (int)y->family;

	return c ? c : memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* cur's backends of one VIP sorted by address, for carry's lookups: a
 * VIP may have 10,000 of them. */
static struct conf_backend *sorted_copy(const struct conf_vip *v)
{
	struct conf_backend *s = malloc((v->nbe + 1) * sizeof(*s));

	if (!s)
		return NULL;
	if (v->nbe)	/* a VIP without backends has no array */
		memcpy(s, v->be, v->nbe * sizeof(*s));
	qsort(s, v->nbe, sizeof(*s), cmp_be);
	return s;
}

int state_carry(struct xlb_conf *want, const struct xlb_conf *cur)
{
	size_t i, j;

	for (i = 0; i < want->nvips; i++) {
		struct conf_vip *w = &want->vips[i];
		const struct conf_vip *c = cur ? conf_vip_find(cur, &w->key) :
						 NULL;
		struct conf_backend *s, *hit;

		if (!c) {	/* a new VIP: its backends are new */
			for (j = 0; j < w->nbe; j++)
				state_backend_new(w, &w->be[j], false);
			continue;
		}
		w->panic = c->panic;
		w->panics = c->panics;
		s = sorted_copy(c);
		if (!s)
			return -ENOMEM;
		for (j = 0; j < w->nbe; j++) {
			hit = bsearch(&w->be[j], s, c->nbe, sizeof(*s), cmp_be);
			if (!hit)	/* new: as a backend added */
				state_backend_new(w, &w->be[j], true);
			if (hit) {
				w->be[j].born = hit->born;
				w->be[j].ramp_since_ms = hit->ramp_since_ms;
				w->be[j].ramp_pct = hit->ramp_pct;
				w->be[j].health = hit->health;
				w->be[j].factor = hit->factor;
				w->be[j].agreed = hit->agreed;
				w->be[j].agreed_drained = hit->agreed_drained;
				w->be[j].agreed_pct = hit->agreed_pct;
			}
		}
		free(s);
	}
	return 0;
}

/* ---- the verdict file ---- */

int state_verdicts_write(const struct xlb_conf *c, FILE *f)
{
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	size_t i, j;

	fprintf(f, "# xlbd health verdicts: VIP BACKEND STATE FACTOR\n");
	for (i = 0; i < c->nvips; i++) {
		const struct conf_vip *v = &c->vips[i];

		xlb_format_vip(&v->key, vip, sizeof(vip));
		for (j = 0; j < v->nbe; j++) {
			const struct conf_backend *b = &v->be[j];

			if (b->health == HEALTH_UNKNOWN)
				continue;
			fprintf(f, "%s %s %s %.3f\n", vip,
				xlb_format_addr(&b->addr, b->family, addr,
						sizeof(addr)),
				state_health_name(b->health),
				b->factor > 0 ? b->factor : 1.0);
		}
	}
	return ferror(f) ? -EIO : 0;
}

static int fill(FILE *f, const void *c)
{
	return state_verdicts_write(c, f);
}

int state_verdicts_save(const struct xlb_conf *c, const char *path)
{
	return xlb_save_atomic(path, fill, c);
}

static int parse_health(const char *s, __u8 *h)
{
	__u8 i;

	for (i = HEALTH_UP; i <= HEALTH_DOWN; i++)
		if (!strcmp(s, health_names[i])) {
			*h = i;
			return 0;
		}
	return -EINVAL;
}

/* One line into ev; -EINVAL when it is not "VIP ADDR STATE FACTOR". */
static int parse_line(char *line, struct verdict *ev)
{
	char *vip, *addr, *st, *fac, *end, *save;
	double f;

	vip = strtok_r(line, " \t\n", &save);
	addr = strtok_r(NULL, " \t\n", &save);
	st = strtok_r(NULL, " \t\n", &save);
	fac = strtok_r(NULL, " \t\n", &save);
	if (!fac || strtok_r(NULL, " \t\n", &save))
		return -EINVAL;
	memset(ev, 0, sizeof(*ev));
	if (xlb_parse_vip(vip, &ev->vip) ||
	    xlb_parse_addr(addr, &ev->addr, &ev->family) ||
	    parse_health(st, &ev->state))
		return -EINVAL;
	f = strtod(fac, &end);
	if (*end || !(f >= 0.1 && f <= 1))
		return -EINVAL;
	ev->factor = (float)f;
	return 0;
}

int state_verdicts_load(struct xlb_conf *c, const char *path, char *err,
			size_t len)
{
	struct verdict ev;
	char line[512];
	size_t n = 0;
	__u8 old;
	FILE *f;
	size_t i, j;
	int rc = 0;

	/* What a backend without a saved verdict starts with. */
	for (i = 0; i < c->nvips; i++)
		for (j = 0; j < c->vips[i].nbe; j++)
			state_backend_new(&c->vips[i], &c->vips[i].be[j],
					  false);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		n++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (parse_line(line, &ev)) {
			snprintf(err, len, "%s:%zu: not \"VIP BACKEND "
				 "up|down FACTOR\"", path, n);
			rc = -EINVAL;
			break;
		}
		/* A backend removed since: nothing to keep. */
		state_set_verdict(c, &ev, &old);
	}
	if (!rc && ferror(f))
		rc = -EIO;
	fclose(f);
	return rc;
}

/* ---- the node file ---- */

static int fill_node(FILE *f, const void *arg)
{
	const struct node_state *n = arg;

	fprintf(f, "# xlbd node state\ndrained %s\n",
		n->drained ? "yes" : "no");
	return ferror(f) ? -EIO : 0;
}

int state_node_save(const struct node_state *n, const char *path)
{
	return xlb_save_atomic(path, fill_node, n);
}

int state_node_load(struct node_state *n, const char *path, char *err,
		    size_t len)
{
	char line[128], val[8];
	size_t ln = 0;
	FILE *f;
	int rc = 0;

	memset(n, 0, sizeof(*n));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		ln++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "drained %7s", val) == 1 &&
		    (!strcmp(val, "yes") || !strcmp(val, "no"))) {
			n->drained = !strcmp(val, "yes");
			continue;
		}
		snprintf(err, len, "%s:%zu: not \"drained yes|no\"", path, ln);
		rc = -EINVAL;
	}
	fclose(f);
	return rc;
}
