// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#define _GNU_SOURCE
/* Text forms of addresses, VIPs and MACs (see addr.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int xlb_parse_addr(const char *s, union xlb_addr *a, __u8 *family)
{
	char buf[XLB_ADDR_STRLEN + 2];
	size_t n = strlen(s);

	memset(a, 0, sizeof(*a));
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		*family = XLB_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->v6) == 1) {
		*family = XLB_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int xlb_parse_proto(const char *s, __u8 *proto)
{
	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

static int parse_port(const char *s, size_t len, __be16 *port)
{
	char buf[8], *end;
	unsigned long v;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	v = strtoul(buf, &end, 10);
	if (*end || v > 65535)
		return -EINVAL;
	*port = htons((uint16_t)v);
	return 0;
}

/* ADDR:PORT/PROTO with IPv6 in brackets; PORT 0 means every port. */
int xlb_parse_vip(const char *s, struct xlb_vip_key *k)
{
	char host[XLB_ADDR_STRLEN + 3];
	const char *slash, *colon;
	size_t hlen;

	memset(k, 0, sizeof(*k));
	slash = strrchr(s, '/');
	if (!slash || xlb_parse_proto(slash + 1, &k->proto))
		return -EINVAL;
	colon = memrchr(s, ':', slash - s);
	if (!colon)
		return -EINVAL;
	hlen = colon - s;
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	/* An IPv6 VIP must be bracketed, or its last group reads as a port. */
	if (strchr(host, ':') && host[0] != '[')
		return -EINVAL;
	if (xlb_parse_addr(host, &k->addr, &k->family))
		return -EINVAL;
	return parse_port(colon + 1, slash - colon - 1, &k->port);
}

int xlb_parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	/* %x alone would also take blanks, a sign or a 0x prefix. */
	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -EINVAL;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return 0;
}

const char *xlb_format_addr(const union xlb_addr *a, __u8 family, char *buf,
			    size_t len)
{
	if (!inet_ntop(family == XLB_AF_INET ? AF_INET : AF_INET6, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *xlb_addr_unusable(const union xlb_addr *a, __u8 family)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const __u8 zero[16];
	__u32 h = ntohl(a->v4);

	if (family == XLB_AF_INET) {
		if (h >> 24 == 0)
			return "unspecified";
		if (h >> 24 == 127)
			return "loopback";
		if (h >> 28 == 0xe)
			return "multicast";
		if (h == 0xffffffff)
			return "broadcast";
		return NULL;
	}
	if (!memcmp(a->v6, zero, 16))
		return "unspecified";
	if (!memcmp(a->v6, zero, 15) && ((const __u8 *)a->v6)[15] == 1)
		return "loopback";
	if (((const __u8 *)a->v6)[0] == 0xff)
		return "multicast";
	if (!memcmp(a->v6, mapped, sizeof(mapped)))
		return "IPv4-mapped";
	return NULL;
}

static int addr_refused(const char *what, const union xlb_addr *a,
			__u8 family, const char *why, char *err, size_t len)
{
	char s[XLB_ADDR_STRLEN];

	xlb_format_addr(a, family, s, sizeof(s));
	if (!strcmp(why, "IPv4-mapped"))
		snprintf(err, len, "%s %s is IPv4-mapped: write it as %s", what,
			 s, s + 7);
	else
		snprintf(err, len, "%s %s is a%s %s address", what, s,
			 strchr("aeiou", why[0]) ? "n" : "", why);
	return -EINVAL;
}

int xlb_vip_addr_ok(const struct xlb_vip_key *k, char *err, size_t len)
{
	const char *why = xlb_addr_unusable(&k->addr, k->family);

	return why ? addr_refused("VIP", &k->addr, k->family, why, err, len) :
		     0;
}

int xlb_backend_addr_ok(const struct xlb_vip_key *k, const union xlb_addr *a,
			__u8 family, char *err, size_t len)
{
	const char *why = xlb_addr_unusable(a, family);
	char s[XLB_ADDR_STRLEN];

	if (why)
		return addr_refused("backend", a, family, why, err, len);
	if (family == k->family && !memcmp(a, &k->addr, sizeof(*a))) {
		snprintf(err, len, "backend %s is the VIP's own address",
			 xlb_format_addr(a, family, s, sizeof(s)));
		return -EINVAL;
	}
	return 0;
}

const char *xlb_proto_name(__u8 proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

unsigned int xlb_sockaddr(const union xlb_addr *a, __u8 family, __be16 port,
			  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == XLB_AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = port;
		s->sin_addr.s_addr = a->v4;
		return sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = port;
		memcpy(&s->sin6_addr, a->v6, 16);
		return sizeof(*s);
	}
}

const char *xlb_format_vip(const struct xlb_vip_key *k, char *buf, size_t len)
{
	char a[XLB_ADDR_STRLEN];

	xlb_format_addr(&k->addr, k->family, a, sizeof(a));
	snprintf(buf, len, k->family == XLB_AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s",
		 a, ntohs(k->port), xlb_proto_name(k->proto));
	return buf;
}
