// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd's views: the VIP list the control socket returns, and on the
 * metrics address (libmicrohttpd, its own epoll thread; it takes d->lock
 * for the running configuration) the same data in Prometheus text format,
 * as JSON for the dashboard, and the dashboard page itself. All read
 * only. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <bpf/bpf.h>

#include "active.h"
#include "addr.h"
#include "bird.h"
#include "dashboard.h"
#include "peer.h"
#include "predict.h"
#include "xlbd.h"

/* Idle or slow clients must not keep a scraper out: few connections per
 * client address (a scraper needs one or two), a cap on all of them, and
 * a deadline for a connection that says nothing. */
#define METRICS_CONN_MAX	64
#define METRICS_CONN_PER_IP	8
#define METRICS_IDLE_S		10

static json_object *check_json(const struct conf_check *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type",
			       json_object_new_string(conf_check_name(c->type)));
	if (c->type == CONF_CHECK_HTTP || c->type == CONF_CHECK_HTTPS)
		json_object_object_add(o, "path",
				       json_object_new_string(c->path));
	json_object_object_add(o, "interval",
			       json_object_new_double(c->interval_ms / 1000.0));
	json_object_object_add(o, "timeout",
			       json_object_new_double(c->timeout_ms / 1000.0));
	json_object_object_add(o, "rise", json_object_new_int(c->rise));
	json_object_object_add(o, "fall", json_object_new_int(c->fall));
	json_object_object_add(o, "error_rate",
			       json_object_new_double(c->error_pct / 100.0));
	/* The rest where set: what a check edited in place shows. */
	if (c->port)
		json_object_object_add(o, "port", json_object_new_int(c->port));
	if (settings_applies(SET_HOST, c->type) && c->host[0])
		json_object_object_add(o, "host",
				       json_object_new_string(c->host));
	if (settings_applies(SET_EXPECT, c->type))
		json_object_object_add(o, "expect",
				       json_object_new_int(c->expect_status));
	if (settings_applies(SET_BODY, c->type) && c->body[0])
		json_object_object_add(o, "body",
				       json_object_new_string(c->body));
	if (settings_applies(SET_PAYLOAD, c->type) && c->payload[0])
		json_object_object_add(o, "payload",
				       json_object_new_string(c->payload));
	return o;
}

/* The saturation forecast (predict.h), once it has enough samples. */
static void add_forecast(struct xlbd *d, __u32 slot, json_object *b)
{
	struct predict_info f;
	json_object *o;

	if (!predict_get(d, slot, &f))
		return;
	o = json_object_new_object();
	json_object_object_add(o, "active_per_s",
			       json_object_new_double(round(f.slope * 100) /
						      100));
	json_object_object_add(o, "new_flows_ps_per_s",
			       json_object_new_double(round(f.nf_slope * 100) /
						      100));
	json_object_object_add(o, "latency_ms_per_s",
			       json_object_new_double(round(f.lat_slope * 100) /
						      100));
	if (f.capacity > 0) {
		json_object_object_add(o, "capacity",
				       json_object_new_int64((long long)
							     f.capacity));
		json_object_object_add(o, "capacity_learned",
				       json_object_new_boolean(f.learned));
	}
	if (f.has_eta)
		json_object_object_add(o, "saturation_eta_s",
				       json_object_new_double(round(f.eta_s *
								    10) / 10));
	json_object_object_add(b, "forecast", o);
}

/* Health: the verdict is the model's (the one that decides the data
 * plane); latency, last result and transitions are the checker's. The
 * effective weight is the one the data plane uses (the slot records it). */
static void add_health(struct xlbd *d, const struct conf_vip *cv,
		       const struct conf_backend *cb, json_object *b)
{
	struct health_info h;
	json_object *slot;
	__u32 eff = 0;

	if (json_object_object_get_ex(b, "slot", &slot)) {
		struct xlb_backend be;
		__u32 id = json_object_get_int(slot);

		__u32 n;

		if (!bpf_map_lookup_elem(d->maps.backends, &id, &be))
			eff = be.flags & XLB_BE_F_ACTIVE ? be.weight : 0;
		add_forecast(d, id, b);
		if (active_get(d, id, &n)) {
			json_object_object_add(b, "connections_active",
					       json_object_new_int64(n));
			/* A drain is done when its connections are gone
			 * (as of the last sweep: backend drain --wait waits
			 * for one after the drain). */
			if (cb->drained)
				json_object_object_add(b, "drain",
					json_object_new_string(n ? "draining" :
								   "drained"));
		}
	}
	json_object_object_add(b, "effective_weight", json_object_new_int(eff));
	/* With peers: what the group agreed (docs/group.md), which the table
	 * follows; "health" below stays this node's own verdict. */
	if (cb->agreed)
		json_object_object_add(b, "agreed", json_object_new_string(
			cb->agreed_drained ? "drained" :
			state_health_name(cb->agreed)));
	if (cb->maint) {	/* checks paused: no checker's view */
		json_object_object_add(b, "health",
				       json_object_new_string("maint"));
		return;
	}
	if (!health_get(d, &cv->key, &cb->addr, cb->family, &h))
		return;
	json_object_object_add(b, "health", json_object_new_string(
		state_backend_health(cb)));
	json_object_object_add(b, "latency_ms",
			       json_object_new_double(h.latency_ms));
	json_object_object_add(b, "last_check", json_object_new_string(h.last));
	json_object_object_add(b, "transitions",
			       json_object_new_int(h.transitions));
}

static int cmp_be(const void *a, const void *b)
{
	const struct conf_backend *x = *(struct conf_backend *const *)a;
	const struct conf_backend *y = *(struct conf_backend *const *)b;
	int c = (int)x->family - (int)y->family;

	return c ? c : memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* A VIP's backends sorted by address: listing 10k backends must not scan
 * the list once per backend. */
static const struct conf_backend *be_lookup(const struct conf_backend **idx,
					    size_t n, const union xlb_addr *a,
					    __u8 family)
{
	struct conf_backend k = { .addr = *a, .family = family };
	const struct conf_backend *kp = &k, **hit;

	hit = bsearch(&kp, idx, n, sizeof(*idx), cmp_be);
	return hit ? *hit : NULL;
}

/* Listing order, what ipvsadm users expect rather than map order: VIPs by
 * family, address, port, protocol; backends by family and address. Keys
 * that do not parse (none should) sort last. */
static int json_vip_cmp(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	json_object *sx = NULL, *sy = NULL;
	struct xlb_vip_key kx, ky;
	int bx, by, c;

	json_object_object_get_ex(x, "vip", &sx);
	json_object_object_get_ex(y, "vip", &sy);
	bx = !sx || xlb_parse_vip(json_object_get_string(sx), &kx);
	by = !sy || xlb_parse_vip(json_object_get_string(sy), &ky);
	if (bx || by)
		return bx - by;
	c = (int)kx.family - (int)ky.family;
	if (!c)
		c = memcmp(&kx.addr, &ky.addr, sizeof(kx.addr));
	if (!c)
		c = (int)ntohs(kx.port) - (int)ntohs(ky.port);
	return c ? c : (int)kx.proto - (int)ky.proto;
}

static int json_be_cmp(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	json_object *sx = NULL, *sy = NULL;
	union xlb_addr ax, ay;
	__u8 fx, fy;
	int bx, by;

	json_object_object_get_ex(x, "addr", &sx);
	json_object_object_get_ex(y, "addr", &sy);
	bx = !sx || xlb_parse_addr(json_object_get_string(sx), &ax, &fx);
	by = !sy || xlb_parse_addr(json_object_get_string(sy), &ay, &fy);
	if (bx || by)
		return bx - by;
	if (fx != fy)
		return (int)fx - (int)fy;
	return memcmp(&ax, &ay, sizeof(ax));
}

/* The maps' view, plus configured weights, drain state and checks, in
 * listing order. */
json_object *xlbd_vips_json(struct xlbd *d)
{
	json_object *vips = view_vips(&d->maps), *v, *bes, *b, *s;
	const struct conf_backend **idx = NULL;
	struct xlb_vip_key k;
	union xlb_addr a;
	size_t i, j;
	__u8 fam;

	for (i = 0; i < json_object_array_length(vips); i++) {
		const struct conf_vip *cv;

		v = json_object_array_get_idx(vips, i);
		if (!json_object_object_get_ex(v, "vip", &s) ||
		    xlb_parse_vip(json_object_get_string(s), &k) ||
		    !(cv = conf_vip_find(&d->conf, &k)))
			continue;
		json_object_object_add(v, "check", check_json(&cv->check));
		if (!json_object_object_get_ex(v, "backends", &bes))
			continue;
		json_object_array_sort(bes, json_be_cmp);
		free(idx);
		idx = calloc(cv->nbe + 1, sizeof(*idx));
		if (!idx)
			break;
		for (j = 0; j < cv->nbe; j++)
			idx[j] = &cv->be[j];
		qsort(idx, cv->nbe, sizeof(*idx), cmp_be);
		for (j = 0; j < json_object_array_length(bes); j++) {
			const struct conf_backend *cb;

			b = json_object_array_get_idx(bes, j);
			if (!json_object_object_get_ex(b, "addr", &s) ||
			    xlb_parse_addr(json_object_get_string(s), &a, &fam) ||
			    !(cb = be_lookup(idx, cv->nbe, &a, fam)))
				continue;
			json_object_object_add(b, "weight",
					       json_object_new_int(cb->weight));
			json_object_object_add(b, "drained",
					       json_object_new_boolean(cb->drained));
			if (cb->maint)
				json_object_object_add(b, "maint",
					json_object_new_boolean(true));
			if (cb->ramp_pct)	/* slow start under way */
				json_object_object_add(b, "ramp_pct",
					json_object_new_int(cb->ramp_pct));
			if (cb->has_check)	/* its own, not the VIP's */
				json_object_object_add(b, "check",
						       check_json(&cb->check));
			add_health(d, cv, cb, b);
		}
		if (cv->all_down != CONF_ALL_DOWN_OPEN)
			json_object_object_add(v, "all_down",
				json_object_new_string(
					conf_all_down_name(cv->all_down)));
		if (cv->adaptive != CONF_ADAPTIVE_OFF)
			json_object_object_add(v, "adaptive",
				json_object_new_string(
					conf_adaptive_name(cv->adaptive)));
		if (cv->start_down != CONF_OFF)
			json_object_object_add(v, "start_down",
				json_object_new_string(
					conf_onoff_name(cv->start_down)));
		if (cv->slow_start_ms)
			json_object_object_add(v, "slow_start",
				json_object_new_double(cv->slow_start_ms /
						       1000.0));
		if (cv->panic_pct) {
			json_object_object_add(v, "panic_threshold",
				json_object_new_double(cv->panic_pct / 100.0));
			json_object_object_add(v, "panic",
				json_object_new_boolean(state_panic(cv)));
			json_object_object_add(v, "panics",
				json_object_new_int64(cv->panics));
		}
	}
	free(idx);
	json_object_array_sort(vips, json_vip_cmp);
	return vips;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		       json_object_get_string(v) : "";
}

static long long jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		       (long long)json_object_get_int64(v) : 0;
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Panic (state_panic): now, and how often it began. */
static void panic_metrics(FILE *f, json_object *vips)
{
	size_t i;

	family(f, "xlb_vip_panic", "gauge",
	       "1 while the VIP is in panic: too few backends up, so traffic "
	       "spreads over all of them.");
	for (i = 0; i < json_object_array_length(vips); i++) {
		json_object *v = json_object_array_get_idx(vips, i), *p;

		fprintf(f, "xlb_vip_panic{vip=\"%s\"} %d\n", jstr(v, "vip"),
			json_object_object_get_ex(v, "panic", &p) &&
			json_object_get_boolean(p));
	}
	family(f, "xlb_vip_panics_total", "counter",
	       "Times the VIP went into panic.");
	for (i = 0; i < json_object_array_length(vips); i++) {
		json_object *v = json_object_array_get_idx(vips, i);

		fprintf(f, "xlb_vip_panics_total{vip=\"%s\"} %lld\n",
			jstr(v, "vip"), jint(v, "panics"));
	}
}

/* One series per VIP naming its settings (the "info" convention): how
 * it picks backends and reaches them. */
static void vip_info(FILE *f, json_object *vips)
{
	size_t i;

	family(f, "xlb_vip_info", "gauge",
	       "1 per VIP, labelled with its algorithm and encapsulation.");
	for (i = 0; i < json_object_array_length(vips); i++) {
		json_object *v = json_object_array_get_idx(vips, i);

		fprintf(f, "xlb_vip_info{vip=\"%s\",algo=\"%s\",encap=\"%s\"} 1\n",
			jstr(v, "vip"), jstr(v, "algo"), jstr(v, "encap"));
	}
}

/* The traffic families: one help text each. */
static const struct {
	const char *key, *vip_help, *be_help;
} traffic[] = {
	{ "packets", "Packets a VIP forwarded.",
	  "Packets forwarded to a backend." },
	{ "bytes", "Bytes a VIP forwarded (as received, before encapsulation).",
	  "Bytes forwarded to a backend (as received)." },
	{ "new_flows", "Flows a VIP balanced (a backend picked).",
	  "Flows balanced to a backend." },
};

/* fn(VIP, backend, ctx) for every backend of every VIP in the list. */
typedef void (*backend_fn)(json_object *v, json_object *b, void *ctx);

static void each_backend(json_object *vips, backend_fn fn, void *ctx)
{
	size_t i, j;

	for (i = 0; i < json_object_array_length(vips); i++) {
		json_object *v = json_object_array_get_idx(vips, i), *bes;

		if (!json_object_object_get_ex(v, "backends", &bes))
			continue;
		for (j = 0; j < json_object_array_length(bes); j++)
			fn(v, json_object_array_get_idx(bes, j), ctx);
	}
}

/* One per-backend family: name, and where its value is in a backend's
 * JSON: member, of the object in (NULL: the backend's own). */
struct series {
	FILE *f;
	const char *name, *in, *member;
};

static void series_sample(json_object *v, json_object *b, void *ctx)
{
	const struct series *s = ctx;
	json_object *o = b, *x;

	if ((s->in && !json_object_object_get_ex(b, s->in, &o)) ||
	    !json_object_object_get_ex(o, s->member, &x))
		return;		/* not known for it (e.g. connections_active) */
	fprintf(s->f, "%s{vip=\"%s\",backend=\"%s\"} ", s->name,
		jstr(v, "vip"), jstr(b, "addr"));
	if (json_object_is_type(x, json_type_double))
		fprintf(s->f, "%.10g\n", json_object_get_double(x));
	else
		fprintf(s->f, "%lld\n", (long long)json_object_get_int64(x));
}

static void backend_series(FILE *f, json_object *vips, const char *name,
			   const char *in, const char *member)
{
	struct series s = { f, name, in, member };

	each_backend(vips, series_sample, &s);
}

static void traffic_metrics(FILE *f, json_object *vips)
{
	size_t i, w;

	for (w = 0; w < sizeof(traffic) / sizeof(traffic[0]); w++) {
		char name[64];

		snprintf(name, sizeof(name), "xlb_vip_%s_total", traffic[w].key);
		family(f, name, "counter", traffic[w].vip_help);
		for (i = 0; i < json_object_array_length(vips); i++) {
			json_object *v = json_object_array_get_idx(vips, i);

			fprintf(f, "%s{vip=\"%s\"} %lld\n", name,
				jstr(v, "vip"), jint(v, traffic[w].key));
		}
		snprintf(name, sizeof(name), "xlb_backend_%s_total",
			 traffic[w].key);
		family(f, name, "counter", traffic[w].be_help);
		backend_series(f, vips, name, NULL, traffic[w].key);
	}
}

/* The health states, each its own series, 1 for the current one: a flip
 * changes values, not label sets. The checker's states (state.h) and
 * maint. */
static const char *health_state(size_t i)
{
	return i <= HEALTH_DOWN ? state_health_name((__u8)i) :
	       i == HEALTH_DOWN + 1 ? "maint" : NULL;
}

static void up_sample(json_object *v, json_object *b, void *ctx)
{
	const char *h = jstr(b, "health");

	fprintf(ctx, "xlb_backend_up{vip=\"%s\",backend=\"%s\"} %d\n",
		jstr(v, "vip"), jstr(b, "addr"), !*h || !strcmp(h, "up"));
}

static void health_samples(json_object *v, json_object *b, void *ctx)
{
	const char *h = jstr(b, "health"), *st;
	size_t i;

	if (!*h)
		return;		/* not checked */
	for (i = 0; (st = health_state(i)); i++)
		fprintf(ctx, "xlb_backend_health{vip=\"%s\",backend=\"%s\","
			"state=\"%s\"} %d\n", jstr(v, "vip"),
			jstr(b, "addr"), st, !strcmp(h, st));
}

static void backend_health(FILE *f, json_object *vips)
{
	family(f, "xlb_backend_up", "gauge",
	       "1 when this node's checks see the backend up, else 0 "
	       "(unchecked backends are up).");
	each_backend(vips, up_sample, f);
	family(f, "xlb_backend_health", "gauge",
	       "1 for the backend's health state as checked (up, down, "
	       "unknown) or maint (checks paused), 0 for the others.");
	each_backend(vips, health_samples, f);
}

struct first {
	json_object *best;
	double min;
};

static void first_sample(json_object *v, json_object *b, void *ctx)
{
	struct first *fs = ctx;
	json_object *fc, *eta;

	if (!json_object_object_get_ex(b, "forecast", &fc) ||
	    !json_object_object_get_ex(fc, "saturation_eta_s", &eta) ||
	    (fs->best && json_object_get_double(eta) >= fs->min))
		return;
	fs->min = json_object_get_double(eta);
	json_object_put(fs->best);
	fs->best = json_object_new_object();
	json_object_object_add(fs->best, "vip",
			       json_object_new_string(jstr(v, "vip")));
	json_object_object_add(fs->best, "backend",
			       json_object_new_string(jstr(b, "addr")));
	json_object_object_add(fs->best, "saturation_eta_s",
			       json_object_new_double(fs->min));
}

json_object *xlbd_first_saturation(json_object *vips)
{
	struct first fs = { NULL, 0 };

	each_backend(vips, first_sample, &fs);
	return fs.best;
}

static void forecast_metrics(FILE *f, json_object *vips)
{
	json_object *first = xlbd_first_saturation(vips);

	static const struct {
		const char *name, *member, *help;
	} fam[] = {
		{ "xlb_backend_connections_trend", "active_per_s",
		  "Active connections per second, least squares over the "
		  "last 10 s." },
		{ "xlb_backend_new_flows_trend", "new_flows_ps_per_s",
		  "Change of the new flows per second, per second, least "
		  "squares over the last 10 s." },
		{ "xlb_backend_check_latency_trend", "latency_ms_per_s",
		  "Change of the check latency (ms) per second, least squares "
		  "over the last 10 s." },
		{ "xlb_backend_capacity", "capacity",
		  "Active connections the backend can hold: configured, or "
		  "learned at its check latency's knee." },
		{ "xlb_backend_saturation_eta_seconds", "saturation_eta_s",
		  "Seconds until the trend reaches the capacity (only while "
		  "the load grows)." },
	};
	size_t k;

	for (k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		family(f, fam[k].name, "gauge", fam[k].help);
		backend_series(f, vips, fam[k].name, "forecast",
			       fam[k].member);
	}
	family(f, "xlb_saturation_first_eta_seconds", "gauge",
	       "The backend that saturates first at the current growth, and "
	       "in how many seconds.");
	if (first)
		fprintf(f, "xlb_saturation_first_eta_seconds{vip=\"%s\","
			"backend=\"%s\"} %g\n", jstr(first, "vip"),
			jstr(first, "backend"),
			json_object_get_double(json_object_object_get(
				first, "saturation_eta_s")));
	json_object_put(first);
}

static void backend_gauges(FILE *f, json_object *vips)
{
	family(f, "xlb_backend_weight", "gauge", "Configured weight.");
	backend_series(f, vips, "xlb_backend_weight", NULL, "weight");
	family(f, "xlb_backend_effective_weight", "gauge",
	       "Weight in use (0 when down or drained; adaptive).");
	backend_series(f, vips, "xlb_backend_effective_weight", NULL,
		       "effective_weight");
	family(f, "xlb_backend_drained", "gauge", "1 when drained.");
	backend_series(f, vips, "xlb_backend_drained", NULL, "drained");
	family(f, "xlb_backend_connections_active", "gauge",
	       "Confirmed flows not half-closed, from the last flow table "
	       "sweep.");
	backend_series(f, vips, "xlb_backend_connections_active", NULL,
		       "connections_active");
	backend_health(f, vips);
	forecast_metrics(f, vips);
}

static void outcome_metrics(FILE *f, json_object *counters)
{
	int i;

	family(f, "xlb_packets_total", "counter",
	       "Packets by outcome (pass_*, drop_*, tx, redirect).");
	for (i = 0; i < XLB_C_MAX; i++)
		if (!strncmp(xlb_counter_names[i], "pass_", 5) ||
		    !strncmp(xlb_counter_names[i], "drop_", 5) ||
		    !strcmp(xlb_counter_names[i], "tx") ||
		    !strcmp(xlb_counter_names[i], "redirect"))
			fprintf(f, "xlb_packets_total{outcome=\"%s\"} %lld\n",
				xlb_counter_names[i],
				jint(counters, xlb_counter_names[i]));
	family(f, "xlb_events_total", "counter",
	       "Data-plane events (flows, ICMP, fragments).");
	for (i = 0; i < XLB_C_MAX; i++)
		if (strncmp(xlb_counter_names[i], "pass_", 5) &&
		    strncmp(xlb_counter_names[i], "drop_", 5) &&
		    strcmp(xlb_counter_names[i], "tx") &&
		    strcmp(xlb_counter_names[i], "redirect") &&
		    strncmp(xlb_counter_names[i], "decap", 5))
			fprintf(f, "xlb_events_total{event=\"%s\"} %lld\n",
				xlb_counter_names[i],
				jint(counters, xlb_counter_names[i]));
	family(f, "xlb_flow_table_entries", "gauge", "Flows in the table.");
	fprintf(f, "xlb_flow_table_entries %lld\n",
		jint(counters, "flows_in_table"));
	family(f, "xlb_flow_table_size", "gauge", "Flow table capacity.");
	fprintf(f, "xlb_flow_table_size %lld\n",
		jint(counters, "flow_table_size"));
}

/* Per checked backend: results, verdict changes, latency of successful
 * checks (Prometheus buckets are cumulative); the checker's lateness. */
static void check_metrics(FILE *f, struct xlbd *d)
{
	static const char *const le[HEALTH_BUCKETS] = {
		"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf"
	};
	struct health_counts *c;
	struct health_lateness late;
	size_t n = health_counts(d, &c), i, b;
	char (*lbl)[XLB_VIP_STRLEN + XLB_ADDR_STRLEN + 24] = calloc(n ? n : 1,
						       sizeof(*lbl));

	for (i = 0; lbl && i < n; i++) {
		char vb[XLB_VIP_STRLEN], ab[XLB_ADDR_STRLEN];

		snprintf(lbl[i], sizeof(lbl[i]), "vip=\"%s\",backend=\"%s\"",
			 xlb_format_vip(&c[i].vip, vb, sizeof(vb)),
			 xlb_format_addr(&c[i].addr, c[i].family, ab,
					 sizeof(ab)));
	}
	if (!lbl)
		n = 0;
	family(f, "xlb_health_checks_total", "counter",
	       "Health checks by result (ok, failed).");
	for (i = 0; i < n; i++)
		fprintf(f, "xlb_health_checks_total{%s,result=\"ok\"} %llu\n"
			   "xlb_health_checks_total{%s,result=\"failed\"} %llu\n",
			lbl[i], c[i].ok, lbl[i], c[i].failed);
	family(f, "xlb_backend_transitions_total", "counter",
	       "Health verdict changes between up and down.");
	for (i = 0; i < n; i++)
		fprintf(f, "xlb_backend_transitions_total{%s} %u\n", lbl[i],
			c[i].transitions);
	family(f, "xlb_health_check_duration_seconds", "histogram",
	       "Latency of successful health checks.");
	for (i = 0; i < n; i++) {
		unsigned long long cum = 0;

		for (b = 0; b < HEALTH_BUCKETS; b++) {
			cum += c[i].hist[b];
			fprintf(f, "xlb_health_check_duration_seconds_bucket"
				"{%s,le=\"%s\"} %llu\n", lbl[i], le[b], cum);
		}
		fprintf(f, "xlb_health_check_duration_seconds_sum{%s} %.6f\n"
			   "xlb_health_check_duration_seconds_count{%s} %llu\n",
			lbl[i], c[i].hist_sum, lbl[i], cum);
	}
	free(lbl);
	free(c);
	health_lateness(d, &late);
	family(f, "xlb_health_check_lateness_seconds", "summary",
	       "How long after its due time a check started (the checker "
	       "falling behind).");
	fprintf(f, "xlb_health_check_lateness_seconds{quantile=\"0.5\"} %.6f\n"
		   "xlb_health_check_lateness_seconds{quantile=\"0.99\"} %.6f\n"
		   "xlb_health_check_lateness_seconds_sum %.6f\n"
		   "xlb_health_check_lateness_seconds_count %llu\n",
		late.p50_s, late.p99_s, late.sum_s, late.count);
}

/* The daemon itself: its release, its configuration, its program. */
static void node_metrics(FILE *f, struct xlbd *d, int attached,
			 bool reload_ok, time_t reload_time)
{
	family(f, "xlb_build_info", "gauge",
	       "1, labelled with the release of xlbd.");
	fprintf(f, "xlb_build_info{version=\"%s\"} 1\n", d->version);
	family(f, "xlb_reload_success", "gauge",
	       "1 when the last load of the configuration file took, 0 when "
	       "it was refused.");
	fprintf(f, "xlb_reload_success %d\n", reload_ok);
	family(f, "xlb_reload_timestamp_seconds", "gauge",
	       "UNIX time the configuration last loaded (start or reload).");
	fprintf(f, "xlb_reload_timestamp_seconds %lld\n",
		(long long)reload_time);
	family(f, "xlb_dataplane_attached", "gauge",
	       "1 when the balancer is the XDP program on its interface.");
	fprintf(f, "xlb_dataplane_attached %d\n", attached == 1);
}

/* The Prometheus page, or NULL while the data plane is not up yet. */
static char *render(struct xlbd *d, size_t *len)
{
	json_object *vips, *counters, *peers, *routing;
	char *buf = NULL;
	bool reload_ok;
	time_t reload_time;
	int attached;
	FILE *f;

	pthread_mutex_lock(&d->lock);
	if (!d->xlb) {
		pthread_mutex_unlock(&d->lock);
		return NULL;
	}
	vips = xlbd_vips_json(d);
	counters = view_counters(&d->maps);
	peers = json_object_new_object();
	peer_json(d, peers);
	routing = bird_stats_json(d);
	attached = xlb_attached(d->xlb, d->ifindex);
	reload_ok = d->reload_ok;
	reload_time = d->reload_time;
	pthread_mutex_unlock(&d->lock);
	f = open_memstream(&buf, len);
	if (f) {
		vip_info(f, vips);
		panic_metrics(f, vips);
		traffic_metrics(f, vips);
		backend_gauges(f, vips);
		outcome_metrics(f, counters);
		check_metrics(f, d);
		node_metrics(f, d, attached, reload_ok, reload_time);
		peer_metrics(f, peers);
		bird_metrics(f, routing);
		fclose(f);
	}
	json_object_put(peers);
	json_object_put(routing);
	json_object_put(vips);
	json_object_put(counters);
	return buf;
}

/* What the dashboard polls: the VIPs with their backends as list -j shows
 * them, the node's counters, and the server's clock in ms, by which the
 * page divides counter deltas into rates (a busy browser polls late). */
static char *state_page(struct xlbd *d, size_t *len)
{
	json_object *o;
	struct timespec ts;
	const char *s;
	char *buf;

	pthread_mutex_lock(&d->lock);
	if (!d->xlb) {
		pthread_mutex_unlock(&d->lock);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "vips", xlbd_vips_json(d));
	json_object_object_add(o, "counters", view_counters(&d->maps));
	json_object_object_add(o, "interface",
			       json_object_new_string(d->conf.node.ifname));
	json_object_object_add(o, "attached", json_object_new_boolean(
		xlb_attached(d->xlb, d->ifindex) == 1));
	pthread_mutex_unlock(&d->lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(o, "time_ms", json_object_new_int64(
		(int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
	json_object_object_add(o, "version",
			       json_object_new_string(d->version));
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, len);
	buf = s ? strdup(s) : NULL;
	json_object_put(o);
	return buf;
}

static char *dashboard_page(struct xlbd *d, size_t *len)
{
	char *buf;

	(void)d;
	*len = xlbd_dashboard_end - xlbd_dashboard;
	buf = malloc(*len);
	if (buf)
		memcpy(buf, xlbd_dashboard, *len);
	return buf;
}

/* The page runs its own inline script and fetches from here, nothing
 * else: no other origin, no plugins, no frames, no forms. */
#define DASHBOARD_CSP "default-src 'none'; script-src 'unsafe-inline'; " \
	"style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

/* Every path served; a body of NULL means the data plane is not up yet
 * (metrics start before it, so that an address that cannot be served
 * stops xlbd before anything is attached or saved). */
static const struct route {
	const char *url, *type, *cache, *csp;
	char *(*body)(struct xlbd *d, size_t *len);
} routes[] = {
	{ "/", "text/html; charset=utf-8", "no-cache", DASHBOARD_CSP,
	  dashboard_page },
	{ "/api/state", "application/json", "no-store", NULL, state_page },
	{ "/metrics", "text/plain; version=0.0.4", NULL, NULL, render },
};

static const struct route *route_find(const char *url)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(url, routes[i].url))
			return &routes[i];
	return NULL;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
			     const struct route *r, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", r && status ==
				MHD_HTTP_OK ? r->type : "text/plain");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r && r->cache)
		MHD_add_response_header(resp, "Cache-Control", r->cache);
	if (r && r->csp)
		MHD_add_response_header(resp, "Content-Security-Policy",
					r->csp);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, "Allow", "GET");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	const struct route *r = route_find(url);
	unsigned int status = MHD_HTTP_OK;
	const char *text = NULL;
	char *body = NULL;
	size_t len = 0;

	(void)version; (void)upload; (void)upload_len; (void)state;
	if (strcmp(method, "GET")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		text = "GET only\n";
	} else if (!r) {
		status = MHD_HTTP_NOT_FOUND;
		text = "xlbd: the dashboard is at /, metrics at /metrics\n";
	} else if (!(body = r->body(cls, &len))) {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		text = "xlbd: starting\n";
	}
	if (text) {
		body = strdup(text);
		len = body ? strlen(body) : 0;
	}
	if (!body)
		return MHD_NO;
	return reply(c, status, r, body, len);
}

/* The address given, or the default: local only, and best effort, since a
 * second xlbd on the host (another interface) finds it taken and must
 * still run. */
int metrics_start(struct xlbd *d)
{
	bool given = d->conf.node.has_metrics;
	const char *spec = given ? d->conf.node.metrics : CONF_METRICS_DEFAULT;
	struct xlb_vip_key k;
	struct sockaddr_storage ss = {};
	/* epoll, not select: no FD_SETSIZE ceiling on the sockets. */
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD;
	char buf[CONF_STR_MAX + 8];

	if (!spec[0])
		return 0;
	/* Reuse the VIP parser: ADDR:PORT with a protocol suffix. */
	snprintf(buf, sizeof(buf), "%s/tcp", spec);
	if (xlb_parse_vip(buf, &k) || !k.port) {
		xlbd_log(LOG_ERR_, "bad metrics address '%s' (want ADDR:PORT)",
			 spec);
		return -EINVAL;
	}
	xlb_sockaddr(&k.addr, k.family, k.port, &ss);
	if (k.family == XLB_AF_INET6)
		flags |= MHD_USE_IPv6;
	d->metrics = MHD_start_daemon(flags, ntohs(k.port), NULL, NULL, handle,
				      d, MHD_OPTION_SOCK_ADDR, &ss,
				      MHD_OPTION_CONNECTION_LIMIT,
				      (unsigned int)METRICS_CONN_MAX,
				      MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				      (unsigned int)METRICS_CONN_PER_IP,
				      MHD_OPTION_CONNECTION_TIMEOUT,
				      (unsigned int)METRICS_IDLE_S,
				      MHD_OPTION_END);
	if (!d->metrics && !given) {
		xlbd_log(LOG_WARN_, "cannot serve metrics on %s (the "
			 "default; taken by another xlbd?): running without, "
			 "give --metrics ADDR:PORT or off", spec);
		return 0;
	}
	if (!d->metrics) {
		xlbd_log(LOG_ERR_, "cannot serve metrics on %s", spec);
		return -EADDRNOTAVAIL;
	}
	xlbd_log(LOG_INFO_, "metrics on http://%s/metrics, dashboard on "
		 "http://%s/", spec, spec);
	return 0;
}

void metrics_stop(struct xlbd *d)
{
	if (d->metrics)
		MHD_stop_daemon(d->metrics);
	d->metrics = NULL;
}
