/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Text forms of addresses, VIPs and MACs, as operators write them:
 * 198.18.1.1, 2001:db8::1, 198.18.1.1:80/tcp, [2001:db8::1]:443/udp,
 * 02:00:00:00:00:01. All parsers return 0 or -EINVAL. */
#ifndef XLB_ADDR_H
#define XLB_ADDR_H

#include <stddef.h>
#include "xlb/flow.h"
#include "xlb/service.h"

#define XLB_ADDR_STRLEN	46	/* INET6_ADDRSTRLEN */
#define XLB_VIP_STRLEN	(XLB_ADDR_STRLEN + 16)
/* How a VIP is written, for messages. */
#define XLB_VIP_FORM	"ADDR:PORT/PROTO, IPv6 as [ADDR]:PORT/PROTO"

int xlb_parse_addr(const char *s, union xlb_addr *a, __u8 *family);
int xlb_parse_vip(const char *s, struct xlb_vip_key *k);
int xlb_parse_mac(const char *s, __u8 mac[6]);
int xlb_parse_proto(const char *s, __u8 *proto);

const char *xlb_format_addr(const union xlb_addr *a, __u8 family, char *buf,
			    size_t len);
const char *xlb_format_vip(const struct xlb_vip_key *k, char *buf, size_t len);
const char *xlb_proto_name(__u8 proto);

/* Why a cannot be a VIP or a backend: "unspecified", "loopback",
 * "multicast", "broadcast", "IPv4-mapped"; NULL if it can. An IPv4-mapped
 * IPv6 address is refused rather than read as IPv4: it would be a second
 * spelling of one host. */
const char *xlb_addr_unusable(const union xlb_addr *a, __u8 family);
/* A VIP's address, a backend's address behind VIP k: 0 or -EINVAL with a
 * one-line reason in err. A backend cannot be its VIP's own address. */
int xlb_vip_addr_ok(const struct xlb_vip_key *k, char *err, size_t len);
int xlb_backend_addr_ok(const struct xlb_vip_key *k, const union xlb_addr *a,
			__u8 family, char *err, size_t len);

struct sockaddr_storage;
/* The socket address of a (address, family, port in network order), for
 * bind/connect/sendto; returns its length. */
unsigned int xlb_sockaddr(const union xlb_addr *a, __u8 family, __be16 port,
			  struct sockaddr_storage *ss);

#endif
