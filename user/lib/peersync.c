// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Records peers sync: views and flow entries (peersync.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peersync.h"

static bool family_ok(uint8_t f)
{
	return f == XLB_AF_INET || f == XLB_AF_INET6;
}

/* An address as it travels: IPv4 in the first 4 bytes, the rest zero. A
 * record whose IPv4 address has bytes after the first 4 is refused: one
 * address, one encoding. */
static int addr_get(const uint8_t *in, uint8_t family, union xlb_addr *a)
{
	static const uint8_t zero[12];

	memcpy(a, in, sizeof(*a));
	if (family == XLB_AF_INET && memcmp(in + 4, zero, sizeof(zero)))
		return -EINVAL;
	return 0;
}

void peer_view_put(uint8_t out[PEER_VIEW_REC], const struct agree_entry *e)
{
	memset(out, 0, PEER_VIEW_REC);
	out[0] = e->vip.family;
	out[1] = e->vip.proto;
	memcpy(out + 2, &e->vip.port, 2);	/* network order already */
	memcpy(out + 4, &e->vip.addr, 16);
	out[20] = e->family;
	out[21] = e->down ? 1 : 0;
	out[22] = e->factor_pct;
	out[23] = e->drained ? 1 : 0;
	memcpy(out + 24, &e->addr, 16);
}

int peer_view_get(const uint8_t in[PEER_VIEW_REC], struct agree_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (!family_ok(in[0]) || !family_ok(in[20]) || in[21] > 1 ||
	    !in[22] || in[22] > 100 || in[23] > 1)
		return -EINVAL;
	e->vip.family = in[0];
	e->vip.proto = in[1];
	memcpy(&e->vip.port, in + 2, 2);
	e->family = in[20];
	e->down = in[21];
	e->factor_pct = in[22];
	e->drained = in[23];
	if (addr_get(in + 4, in[0], &e->vip.addr) ||
	    addr_get(in + 24, in[20], &e->addr))
		return -EINVAL;
	return 0;
}

void peer_flow_put(uint8_t out[PEER_FLOW_REC], const struct xlb_sync_flow *f)
{
	memset(out, 0, PEER_FLOW_REC);
	out[0] = f->key.family;
	out[1] = f->key.proto;
	out[2] = f->state;
	out[3] = f->be_family;
	memcpy(out + 4, &f->key.sport, 2);
	memcpy(out + 6, &f->key.dport, 2);
	memcpy(out + 8, &f->key.src, 16);
	memcpy(out + 24, &f->key.dst, 16);
	memcpy(out + 40, &f->backend, 16);
	out[56] = f->idle_s >> 8;
	out[57] = f->idle_s & 0xff;
}

int peer_flow_get(const uint8_t in[PEER_FLOW_REC], struct xlb_sync_flow *f)
{
	memset(f, 0, sizeof(*f));
	if (!family_ok(in[0]) || !family_ok(in[3]) ||
	    (in[2] != XLB_FLOW_ESTABLISHED && in[2] != XLB_FLOW_FIN) ||
	    (in[1] != 6 && in[1] != 17) || in[58] || in[59])
		return -EINVAL;
	f->key.family = in[0];
	f->key.proto = in[1];
	f->state = in[2];
	f->be_family = in[3];
	memcpy(&f->key.sport, in + 4, 2);
	memcpy(&f->key.dport, in + 6, 2);
	f->idle_s = (uint16_t)(in[56] << 8 | in[57]);
	if (!f->idle_s || addr_get(in + 8, in[0], &f->key.src) ||
	    addr_get(in + 24, in[0], &f->key.dst) ||
	    addr_get(in + 40, in[3], &f->backend))
		return -EINVAL;
	return 0;
}

/* Records per TLV: its length is 16 bits. */
#define VIEW_PER_TLV	(65535 / PEER_VIEW_REC)
#define FLOWS_PER_TLV	(65535 / PEER_FLOW_REC)

int peer_enc_view(struct peer_enc *e, uint64_t epoch,
		  const struct agree_entry *v, size_t n)
{
	uint8_t be[8], *rec;
	size_t i, k, m;
	int err;

	for (i = 0; i < 8; i++)
		be[i] = (uint8_t)(epoch >> (56 - 8 * i));
	err = peer_enc_tlv(e, PEER_TLV_EPOCH, be, sizeof(be));
	for (i = 0; !err && i < n; i += m) {
		m = n - i < VIEW_PER_TLV ? n - i : VIEW_PER_TLV;
		rec = malloc(m * PEER_VIEW_REC);
		if (!rec)
			return -ENOMEM;
		for (k = 0; k < m; k++)
			peer_view_put(rec + k * PEER_VIEW_REC, &v[i + k]);
		err = peer_enc_tlv(e, PEER_TLV_HEALTH_VIEW, rec,
				   m * PEER_VIEW_REC);
		free(rec);
	}
	return err;
}

int peer_enc_flows(struct peer_enc *e, const struct xlb_sync_flow *f,
		   size_t n, bool end)
{
	uint8_t *rec;
	size_t i, k, m;
	int err = 0;

	for (i = 0; !err && i < n; i += m) {
		m = n - i < FLOWS_PER_TLV ? n - i : FLOWS_PER_TLV;
		rec = malloc(m * PEER_FLOW_REC);
		if (!rec)
			return -ENOMEM;
		for (k = 0; k < m; k++)
			peer_flow_put(rec + k * PEER_FLOW_REC, &f[i + k]);
		err = peer_enc_tlv(e, PEER_TLV_FLOWS, rec, m * PEER_FLOW_REC);
		free(rec);
	}
	if (!err && end)
		err = peer_enc_tlv(e, PEER_TLV_BULK_END, "", 0);
	return err;
}

void peer_sync_free(struct peer_sync *s)
{
	free(s->view);
	free(s->flows);
	memset(s, 0, sizeof(*s));
}

/* Room for add more elements of size in *arr (n of them now). */
static int grow(void **arr, size_t *n, size_t size, size_t add)
{
	void *a = realloc(*arr, (*n + add) * size);

	if (!a)
		return -ENOMEM;
	*arr = a;
	return 0;
}

enum peer_drop peer_sync_parse(const struct peer_msg *m, struct peer_sync *s)
{
	struct peer_tlv_it it;
	const uint8_t *val;
	uint16_t t, l;
	size_t k, c;
	int rc;

	memset(s, 0, sizeof(*s));
	peer_tlv_begin(&it, m);
	while ((rc = peer_tlv_next(&it, &t, &val, &l)) > 0) {
		switch (t) {
		case PEER_TLV_EPOCH:
			if (l != 8 || s->has_epoch)
				goto bad;
			for (k = 0; k < 8; k++)
				s->epoch = s->epoch << 8 | val[k];
			s->has_epoch = true;
			break;
		case PEER_TLV_HEALTH_VIEW:
			if (!l || l % PEER_VIEW_REC)
				goto bad;
			c = l / PEER_VIEW_REC;
			if (grow((void **)&s->view, &s->nview,
				 sizeof(*s->view), c))
				goto bad;
			for (k = 0; k < c; k++, s->nview++)
				if (peer_view_get(val + k * PEER_VIEW_REC,
						  &s->view[s->nview]))
					goto bad;
			break;
		case PEER_TLV_FLOWS:
			if (!l || l % PEER_FLOW_REC)
				goto bad;
			c = l / PEER_FLOW_REC;
			if (grow((void **)&s->flows, &s->nflows,
				 sizeof(*s->flows), c))
				goto bad;
			for (k = 0; k < c; k++, s->nflows++)
				if (peer_flow_get(val + k * PEER_FLOW_REC,
						  &s->flows[s->nflows]))
					goto bad;
			break;
		case PEER_TLV_BULK_END:
			if (l || s->bulk_end)
				goto bad;
			s->bulk_end = true;
			break;
		default:
			break;
		}
	}
	if (rc || (s->nview && !s->has_epoch))
		goto bad;
	return PEER_OK;
bad:
	peer_sync_free(s);
	return PEER_DROP_MALFORMED;
}
