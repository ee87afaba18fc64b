#!/usr/bin/python3
"""Write the packet fixtures for xlb-pktest.

Every expected packet is built here with scapy, independently of the C code:
scapy computes lengths and checksums, and the flow hash (which picks the GUE
source port and the IPv6 flow label) is re-implemented below from its
definition in include/xlb/hash.h. Cases are tables: a name, the packet in,
the verdict and the packet out.
"""
import struct
import sys

from scapy.all import (ARP, Dot1Q, Ether, ICMP, ICMPv6DestUnreach,
                       ICMPv6EchoRequest, ICMPv6PacketTooBig,
                       ICMPv6ParamProblem, ICMPv6TimeExceeded, IP, IPOption,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, TCP, UDP,
                       fragment, raw)
from scapy.utils import checksum

import decap_fixtures

LB_MAC = "02:00:00:00:00:10"       # ours: clients' packets arrive to it
ROUTER_MAC = "02:00:00:00:00:01"   # the router that sent them
GW_MAC = "02:00:00:00:00:fe"       # configured next hop
BE_MAC = "02:00:00:00:00:b1"       # the L2 DSR backend
SRC4, SRC6 = "198.18.0.10", "2001:db8::10"
CLIENT4, CLIENT6 = "198.19.7.7", "2001:db8:c::7"
GUE_PORT = 6080
MTU = 1500

# VIP -> (mode, backend)
VIPS = {
    "198.18.1.1:80/tcp": ("ipip", "198.18.2.1"),
    "198.18.1.2:53/udp": ("gue", "198.18.2.2"),
    "198.18.1.3:0/tcp": ("ipip", "198.18.2.3"),      # every port
    "198.18.1.4:80/tcp": ("l2", "198.18.2.4"),
    "198.18.1.5:80/tcp": ("ipip", "2001:db8:2::5"),  # IPv4 in IPv6
    "198.18.1.6:80/tcp": ("gue", "2001:db8:2::6"),
    "[2001:db8:1::1]:80/tcp": ("ipip", "2001:db8:2::1"),
    "[2001:db8:1::2]:443/udp": ("gue", "2001:db8:2::2"),
    "[2001:db8:1::3]:80/tcp": ("ipip", "198.18.2.7"),  # IPv6 in IPv4
    "[2001:db8:1::4]:0/udp": ("gue", "198.18.2.8"),
    "198.18.1.9:80/tcp": ("ipip", None),              # no backend
}

out = []
counts = {}
flow_keys = set()   # distinct 5-tuples that made a flow entry


def emit(line):
    out.append(line)


def bump(counter, n=1):
    counts[counter] = counts.get(counter, 0) + n


# ---- the flow hash, from include/xlb/hash.h -------------------------------
def rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & 0xffffffff


def murmur_words(words, seed=0x786c6221):
    h = seed
    for k in words:
        k = (k * 0xcc9e2d51) & 0xffffffff
        k = rotl(k, 15)
        k = (k * 0x1b873593) & 0xffffffff
        h ^= k
        h = rotl(h, 13)
        h = (h * 5 + 0xe6546b64) & 0xffffffff
    h ^= len(words) * 4
    h ^= h >> 16
    h = (h * 0x85ebca6b) & 0xffffffff
    h ^= h >> 13
    h = (h * 0xc2b2ae35) & 0xffffffff
    h ^= h >> 16
    return h


def addr_bytes(a):
    import ipaddress
    ip = ipaddress.ip_address(a)
    return ip.packed.ljust(16, b"\0"), 4 if ip.version == 4 else 6


def flow_hash(src, dst, sport, dport, proto):
    s, fam = addr_bytes(src)
    d, _ = addr_bytes(dst)
    key = s + d + struct.pack("!HHBB", sport, dport, proto, fam) + b"\0\0"
    return murmur_words(struct.unpack("<10I", key))


def is6(a):
    return ":" in a


# ---- building expected packets ---------------------------------------------
def l2_of(pkt):
    """The Ethernet + VLAN layers of pkt, as a fresh chain without payload."""
    layers, p = [], pkt
    while isinstance(p, (Ether, Dot1Q)):
        c = p.copy()
        c.remove_payload()
        layers.append(c)
        p = p.payload
    return layers, p


def chain(layers, payload, l3type):
    head = layers[0].copy()
    cur = head
    for c in layers[1:]:
        c = c.copy()
        cur.add_payload(c)
        cur = c
    cur.type = l3type
    cur.add_payload(payload)
    return head


def encap_expect(pkt, mode, backend, hsrc, hdst, sport, dport, proto):
    """What xlb must send: outer IP (+UDP) in front of the inner packet."""
    layers, inner = l2_of(pkt)
    inner_b = raw(inner)
    v6in = isinstance(inner, IPv6)
    l3len = (40 + inner.plen) if v6in else inner.len
    tos = inner.tc if v6in else inner.tos
    ttl = inner.hlim if v6in else inner.ttl
    h = flow_hash(hsrc, hdst, sport, dport, proto)
    if mode == "gue":
        nh = 17
        payload = UDP(sport=0xc000 | (h & 0x3fff), dport=GUE_PORT,
                      len=8 + l3len, chksum=0) / Raw(inner_b)
        plen = 8 + l3len
    else:
        nh = 41 if v6in else 4
        payload = Raw(inner_b)
        plen = l3len
    if is6(backend):
        outer = IPv6(src=SRC6, dst=backend, tc=tos, fl=h & 0xfffff,
                     hlim=ttl, nh=nh, plen=plen) / payload
        l3type = 0x86DD
    else:
        outer = IP(src=SRC4, dst=backend, tos=tos, ttl=ttl, id=0,
                   flags="DF", proto=nh, len=20 + plen) / payload
        l3type = 0x0800
    layers[0].dst, layers[0].src = GW_MAC, LB_MAC
    return chain(layers, outer, l3type)


def client_pkt(vip, sport=40000, dport=None, payload=b"hello", vlans=(),
               tos=0xb9, ttl=61, proto=None, ip_extra=None, l4=None):
    addr, port, pr = parse_vip(vip)
    dport = port if dport is None else dport
    pr = proto or pr
    src = CLIENT6 if is6(addr) else CLIENT4
    e = Ether(dst=LB_MAC, src=ROUTER_MAC)
    for i, v in enumerate(vlans):
        e = e / Dot1Q(vlan=v)
        if i == 0 and len(vlans) == 2:
            e.type = 0x88A8
    if l4 is None:
        l4 = TCP(sport=sport, dport=dport, flags="PA") if pr == "tcp" else \
            UDP(sport=sport, dport=dport)
    if is6(addr):
        ip = IPv6(src=src, dst=addr, tc=tos, hlim=ttl, fl=0x12345)
        if ip_extra:
            ip = ip / ip_extra
    else:
        ip = IP(src=src, dst=addr, tos=tos, ttl=ttl, flags="DF", id=4242,
                options=ip_extra or [])
    return Ether(raw(e / ip / l4 / Raw(payload)))


def parse_vip(v):
    hostport, proto = v.split("/")
    host, port = hostport.rsplit(":", 1)
    return host.strip("[]"), int(port), proto


def hexs(p):
    return raw(p).hex()


def run(name, verdict, pkt, expect, prog="lb"):
    exp = "=" if expect == "=" else ("*" if expect is None else hexs(expect))
    emit(f"run {name} {prog} {verdict} {hexs(pkt)} {exp}")


def forward(name, vip, pkt=None, **kw):
    """A VIP packet and the encapsulation it must get; also checks decap."""
    mode, be = VIPS[vip]
    pkt = pkt or client_pkt(vip, **kw)
    layers, inner = l2_of(pkt)
    src, dst = inner.src, inner.dst
    l4 = inner.payload
    while not isinstance(l4, (TCP, UDP)):
        l4 = l4.payload
    proto = 6 if isinstance(l4, TCP) else 17
    exp = encap_expect(pkt, mode, be, src, dst, l4.sport, l4.dport, proto)
    run(name, "tx", pkt, exp)
    bump("tx")
    flow_keys.add((src, dst, l4.sport, l4.dport, proto))
    # The backend's decap must give back the client's packet unchanged;
    # only the MACs are those the encapsulated frame arrived with.
    dl, _ = l2_of(exp)
    back = chain(dl, Raw(raw(inner)), 0x86DD if isinstance(inner, IPv6)
                 else 0x0800)
    run(name + "/decap", "pass", exp, back, prog="decap")
    bump(f"decap:decap_{'gue' if mode == 'gue' else 'ipip'}"
         f"{6 if is6(be) else 4}")
    return pkt, exp


def setup(rate=None):
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} src6={SRC6} gw={GW_MAC} mtu={MTU} gue={GUE_PORT}"
         + (f" rate={rate}" if rate else ""))
    for vip, (mode, be) in VIPS.items():
        emit(f"vip {vip} mode={mode}")
        if be:
            mac = f" mac={BE_MAC}" if mode == "l2" else ""
            emit(f"backend {vip} {be}{mac}")
    # The backends' decap takes what this balancer sends to them.
    emit(decap_config(outer=[be for _, be in VIPS.values() if be],
                      balancers=[SRC4, SRC6],
                      inner=[parse_vip(v)[0] for v in VIPS]))
    counts.clear()
    flow_keys.clear()


def decap_config(outer, inner, balancers=None, reject=None, gue=GUE_PORT):
    line = (f"decap-config outer={','.join(sorted(set(outer)))} "
            f"inner={','.join(sorted(set(inner)))} gue={gue}")
    if balancers:
        line += f" balancers={','.join(balancers)}"
    return line + (f" reject={reject}" if reject else "")


def check_counters():
    for c, n in sorted(counts.items()):
        if c.startswith("decap:"):
            emit(f"decap-counter {c[6:]} {n}")
        else:
            emit(f"counter {c} {n}")


# ---- the tables -------------------------------------------------------------
def forwarding_cases():
    setup()
    forward("ipip4/tcp", "198.18.1.1:80/tcp")
    forward("ipip4/tcp-vlan", "198.18.1.1:80/tcp", vlans=(10,))
    forward("ipip4/tcp-qinq", "198.18.1.1:80/tcp", vlans=(100, 10))
    forward("ipip4/tcp-ipopts", "198.18.1.1:80/tcp", ip_extra=[
        IPOption(b"\x94\x04\x00\x00")])   # router alert
    forward("gue4/udp", "198.18.1.2:53/udp", sport=5353)
    forward("gue4/udp-vlan", "198.18.1.2:53/udp", sport=5354, vlans=(7,))
    forward("ipip4/wildcard-port", "198.18.1.3:0/tcp", dport=8443)
    forward("ipip4/wildcard-port2", "198.18.1.3:0/tcp", dport=22)
    forward("ipip4in6/tcp", "198.18.1.5:80/tcp")
    forward("gue4in6/tcp", "198.18.1.6:80/tcp", vlans=(10,))
    forward("ipip6/tcp", "[2001:db8:1::1]:80/tcp")
    forward("ipip6/tcp-vlan", "[2001:db8:1::1]:80/tcp", vlans=(20,))
    forward("ipip6/tcp-exthdrs", "[2001:db8:1::1]:80/tcp",
            ip_extra=IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
            IPv6ExtHdrRouting(addresses=[]))
    forward("gue6/udp", "[2001:db8:1::2]:443/udp", sport=7000)
    forward("ipip6in4/tcp", "[2001:db8:1::3]:80/tcp")
    forward("gue6in4/udp-wildcard", "[2001:db8:1::4]:0/udp", dport=9999)
    # Minimum-size frame with Ethernet padding: the outer length comes
    # from the IP header, the padding rides along at the end.
    p = client_pkt("198.18.1.1:80/tcp", payload=b"")
    p = Ether(raw(p) + b"\0" * (60 - len(raw(p))))
    forward("ipip4/padded-min-frame", "198.18.1.1:80/tcp", pkt=p)

    # L2 DSR: only the MACs change.
    p = client_pkt("198.18.1.4:80/tcp")
    e = p.copy()
    e.dst, e.src = BE_MAC, LB_MAC
    run("l2dsr/tcp", "tx", p, e)
    bump("tx")
    p = client_pkt("198.18.1.4:80/tcp", vlans=(5,))
    e = p.copy()
    e.dst, e.src = BE_MAC, LB_MAC
    run("l2dsr/tcp-vlan", "tx", p, e)
    bump("tx")
    flow_keys.add((CLIENT4, "198.18.1.4", 40000, 80, 6))

    # Not VIP traffic: passes byte-identical.
    vip = "198.18.1.1:80/tcp"
    run("pass/arp", "pass", Ether(dst="ff:ff:ff:ff:ff:ff", src=ROUTER_MAC) /
        ARP(psrc=CLIENT4, pdst="198.18.1.1"), "=")
    bump("pass_not_ip")
    run("pass/other-addr", "pass", client_pkt("198.18.9.9:80/tcp"), "=")
    run("pass/other-port", "pass", client_pkt(vip, dport=81), "=")
    run("pass/other-proto", "pass", client_pkt("198.18.1.1:80/udp"), "=")
    run("pass/icmp-echo", "pass", Ether(dst=LB_MAC, src=ROUTER_MAC) /
        IP(src=CLIENT4, dst="198.18.1.1") / ICMP(), "=")
    run("pass/icmp6-echo", "pass", Ether(dst=LB_MAC, src=ROUTER_MAC) /
        IPv6(src=CLIENT6, dst="2001:db8:1::1") / ICMPv6EchoRequest(), "=")
    run("pass/other-addr6", "pass", client_pkt("[2001:db8:9::9]:80/tcp"), "=")
    run("pass/vlan-other", "pass",
        client_pkt("198.18.9.9:80/tcp", vlans=(3,)), "=")
    bump("pass_not_vip", 7)

    # No backend.
    run("drop/no-backend", "drop", client_pkt("198.18.1.9:80/tcp"), None)
    bump("drop_no_backend")

    # ICMP errors about a VIP flow go to the backend that owns the flow;
    # the hash is over the flow as the client sent it.
    quote = IP(src="198.18.1.1", dst=CLIENT4, id=1, flags="DF") / \
        TCP(sport=80, dport=40000)
    p = Ether(dst=LB_MAC, src=ROUTER_MAC) / \
        IP(src="198.18.3.3", dst="198.18.1.1", ttl=60, tos=0, id=9) / \
        ICMP(type=3, code=4, nexthopmtu=1400) / Raw(raw(quote)[:28])
    p = Ether(raw(p))
    exp = encap_expect(p, "ipip", "198.18.2.1", CLIENT4, "198.18.1.1",
                       40000, 80, 6)
    run("icmp-error/v4-to-owner", "tx", p, exp)
    quote6 = IPv6(src="2001:db8:1::1", dst=CLIENT6) / TCP(sport=80,
                                                          dport=41000)
    p = Ether(dst=LB_MAC, src=ROUTER_MAC) / \
        IPv6(src="2001:db8:3::3", dst="2001:db8:1::1", hlim=60) / \
        ICMPv6PacketTooBig(mtu=1400) / Raw(raw(quote6)[:48])
    p = Ether(raw(p))
    exp = encap_expect(p, "ipip", "2001:db8:2::1", CLIENT6, "2001:db8:1::1",
                       41000, 80, 6)
    run("icmp-error/v6-to-owner", "tx", p, exp)
    p = Ether(dst=LB_MAC, src=ROUTER_MAC) / \
        IPv6(src="2001:db8:3::3", dst="2001:db8:1::1") / \
        ICMPv6DestUnreach() / Raw(raw(IPv6(src="2001:db8:1::1",
                                           dst=CLIENT6) / TCP(sport=99))[:48])
    run("icmp-error/v6-other-port", "pass", p, "=")
    bump("pass_not_vip")
    bump("tx", 2)
    bump("icmp_error_forwarded", 2)
    # Every distinct 5-tuple forwarded above made one flow entry; ICMP
    # errors made none.
    emit("flows %d" % len(flow_keys))
    check_counters()


def fragment_cases():
    """The old 3-tuple cases, now with their flow's ports (frag_cases has
    the rest)."""
    setup()
    # Fragments to a wildcard VIP: hashed with the first fragment's ports.
    inner = IP(src=CLIENT4, dst="198.18.1.3", flags="MF", frag=0, id=77,
               proto=6) / TCP(sport=1, dport=2) / Raw(b"x" * 16)
    p = Ether(raw(Ether(dst=LB_MAC, src=ROUTER_MAC) / inner))
    exp = encap_expect(p, "ipip", "198.18.2.3", CLIENT4, "198.18.1.3", 1, 2, 6)
    run("frag/v4-first-wildcard", "tx", p, exp)
    inner = IP(src=CLIENT4, dst="198.18.1.3", frag=3, id=77, proto=6) / \
        Raw(b"y" * 16)
    p = Ether(raw(Ether(dst=LB_MAC, src=ROUTER_MAC) / inner))
    exp = encap_expect(p, "ipip", "198.18.2.3", CLIENT4, "198.18.1.3", 1, 2, 6)
    run("frag/v4-later-wildcard", "tx", p, exp)
    # v6 fragment to a wildcard UDP VIP via GUE (the hash shows in sport).
    p = Ether(dst=LB_MAC, src=ROUTER_MAC) / \
        IPv6(src=CLIENT6, dst="2001:db8:1::4") / \
        IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=5) / \
        UDP(sport=1000, dport=2000) / Raw(b"z" * 16)
    p = Ether(raw(p))
    exp = encap_expect(p, "gue", "198.18.2.8", CLIENT6, "2001:db8:1::4",
                       1000, 2000, 17)
    run("frag/v6-wildcard", "tx", p, exp)
    flow_keys.update({(CLIENT4, "198.18.1.3", 1, 2, 6),
                      (CLIENT6, "2001:db8:1::4", 1000, 2000, 17)})
    bump("tx", 3)
    bump("fragment_forwarded", 3)
    bump("fragment_first", 2)
    bump("fragment_followed", 1)
    # To a port-specific VIP: its first fragment has the port.
    inner = IP(src=CLIENT4, dst="198.18.1.1", flags="MF", proto=6) / \
        TCP(sport=1, dport=80)
    p = Ether(raw(Ether(dst=LB_MAC, src=ROUTER_MAC) / inner))
    run("frag/v4-port-vip-first", "tx", p,
        encap_expect(p, "ipip", "198.18.2.1", CLIENT4, "198.18.1.1", 1, 80,
                     6))
    flow_keys.add((CLIENT4, "198.18.1.1", 1, 80, 6))
    bump("tx")
    bump("fragment_forwarded")
    bump("fragment_first")
    # A later fragment whose first was never seen: dropped.
    p = Ether(dst=LB_MAC, src=ROUTER_MAC) / \
        IPv6(src=CLIENT6, dst="2001:db8:1::1") / \
        IPv6ExtHdrFragment(nh=6, offset=1, m=0, id=6) / Raw(b"q" * 16)
    run("frag/v6-later-no-first-drop", "drop", p, None)
    bump("drop_frag_orphan")
    emit("flows %d" % len(flow_keys))
    check_counters()


def too_big_v4(p, mtu):
    layers, ip = l2_of(p)
    quote = raw(ip)[:ip.ihl * 4 + 8]
    icmp = bytearray(struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quote)
    struct.pack_into("!H", icmp, 2, checksum(bytes(icmp)))
    reply = IP(src=ip.dst, dst=ip.src, ttl=64, id=0, flags=0, proto=1) / \
        Raw(bytes(icmp))
    layers[0].dst, layers[0].src = ROUTER_MAC, LB_MAC
    return chain(layers, reply, 0x0800)


def too_big_v6(p, mtu, quote_len):
    layers, ip = l2_of(p)
    reply = IPv6(src=ip.dst, dst=ip.src, hlim=64) / \
        ICMPv6PacketTooBig(mtu=mtu) / Raw(raw(ip)[:quote_len])
    layers[0].dst, layers[0].src = ROUTER_MAC, LB_MAC
    return chain(layers, reply, 0x86DD)


def mtu_cases():
    setup(rate=3)
    vip = "198.18.1.1:80/tcp"
    # Exactly fits: 40 + payload + 20 outer == MTU.
    forward("mtu/v4-fits", vip, payload=b"a" * (MTU - 20 - 40))
    p = client_pkt(vip, payload=b"a" * (MTU - 20 - 40 + 1))
    run("mtu/v4-too-big-icmp", "tx", p, too_big_v4(p, MTU - 20))
    p = client_pkt(vip, payload=b"b" * 1600, vlans=(10,))
    run("mtu/v4-too-big-icmp-vlan", "tx", p, too_big_v4(p, MTU - 20))
    p = client_pkt(vip, payload=b"c" * 1500, ip_extra=[
        IPOption(b"\x94\x04\x00\x00")])
    run("mtu/v4-too-big-ipopts", "tx", p, too_big_v4(p, MTU - 20))
    bump("tx", 4)
    bump("icmp_too_big_sent", 3)
    p = client_pkt("198.18.1.2:53/udp", payload=b"d" * 1500)
    p6 = client_pkt("[2001:db8:1::1]:80/tcp", payload=b"e" * (MTU - 60))
    # the budget is 3 a second: the 4th is dropped (budget is per CPU and
    # pktest runs on one CPU).
    run("mtu/icmp-rate-limited", "drop", p, None)
    bump("drop_icmp_rate")
    emit("reset flows=4096 ring=251")
    setup()
    run("mtu/gue-too-big-icmp", "tx", p, too_big_v4(p, MTU - 28))
    run("mtu/v6-too-big-icmp6", "tx", p6, too_big_v6(p6, MTU - 40, 40 + 8))
    p6x = client_pkt("[2001:db8:1::1]:80/tcp", payload=b"f" * 1500,
                     ip_extra=IPv6ExtHdrDestOpt(), vlans=(4, 5))
    run("mtu/v6-too-big-exthdr-qinq", "tx", p6x,
        too_big_v6(p6x, MTU - 40, 40 + 8 + 8))
    bump("tx", 3)
    bump("icmp_too_big_sent", 3)
    # IPv4 without DF cannot be answered: dropped, counted.
    p = client_pkt(vip, payload=b"g" * 1500)
    p[IP].flags = 0
    p = Ether(raw(p))
    run("mtu/v4-no-df-drop", "drop", p, None)
    bump("drop_too_big")
    check_counters()
    emit("config icmp=0")
    run("mtu/icmp-off-drop", "drop", client_pkt(vip, payload=b"h" * 1500),
        None)
    bump("drop_too_big")
    check_counters()


def flow_cases():
    """Sticky flows across backend set changes."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    vip = "198.18.1.1:80/tcp"
    emit(f"vip {vip} mode=ipip")
    emit(f"backend {vip} 198.18.2.1")
    f1 = client_pkt(vip, sport=1111)

    def to(be, pkt):
        return encap_expect(pkt, "ipip", be, CLIENT4, "198.18.1.1",
                            pkt[TCP].sport, 80, 6)
    run("flow/first", "tx", f1, to("198.18.2.1", f1))
    emit(f"backend {vip} 198.18.2.2")
    emit(f"backend {vip} 198.18.2.3")
    run("flow/kept-after-add", "tx", f1, to("198.18.2.1", f1))
    emit(f"weight {vip} 198.18.2.1 0")
    run("flow/kept-after-drain", "tx", f1, to("198.18.2.1", f1))
    # New flows (SYNs) never go to the drained backend.
    for i in range(40):
        f = client_pkt(vip, sport=20000 + i,
                       l4=TCP(sport=20000 + i, dport=80, flags="S"))
        run(f"flow/new-avoids-drained-{i}", "tx", f, None)
    emit("counter flow_new 41")
    emit("counter flow_hit 2")
    # Only f1 ever went to the drained backend; the others share the 40.
    emit(f"traffic {vip} 198.18.2.1 new=1")
    emit(f"traffic {vip} new=41")
    emit(f"backend-del {vip} 198.18.2.1")
    # Its backend is gone: the flow chooses again (not the removed one).
    emit(f"backend-del {vip} 198.18.2.2")
    run("flow/moves-after-remove", "tx", f1, to("198.18.2.3", f1))
    emit("counter flow_reselect 1")
    # The VIP's totals keep what its removed backends carried: 41 new flows
    # before, one more (the reselected f1) now.
    emit(f"traffic {vip} new=42")
    # A backend that reuses a freed slot starts from zero.
    emit(f"weight {vip} 198.18.2.3 0")
    emit(f"backend {vip} 198.18.2.7")
    emit(f"traffic {vip} 198.18.2.7 new=0")
    emit(f"weight {vip} 198.18.2.3 1")
    emit(f"backend-del {vip} 198.18.2.7")
    run("flow/sticks-to-new-choice", "tx", f1, to("198.18.2.3", f1))
    emit("counter flow_hit 3")
    # A zeroed flow value (generation 0, never a slot's) is a miss: Maglev
    # picks the backend again - the same one while the set is unchanged -
    # not "slot 0, generation 0".
    f2 = client_pkt(vip, sport=3333)
    run("flow/percpu-first", "tx", f2, to("198.18.2.3", f2))
    emit("flows-zero")
    run("flow/percpu-empty-value-is-miss", "tx", f2, to("198.18.2.3", f2))
    # f1's reselect kept its (confirmed) entry with the new backend: not a
    # new entry, though a new flow for that backend (traffic above).
    emit("counter flow_new 43")
    emit("counter flow_hit 3")
    emit("counter flow_reselect 1")
    emit(f"vip-del {vip}")
    run("flow/vip-deleted-pass", "pass", f1, "=")

    # A removed backend's slot reused at once by another backend: the flow
    # must notice (slot generation) and choose again, not follow the slot.
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    emit(f"vip {vip} mode=ipip")
    emit(f"backend {vip} 198.18.2.1")
    run("flow/slot-reuse-first", "tx", f1, to("198.18.2.1", f1))
    emit(f"backend {vip} 198.18.2.2")
    emit(f"backend-del {vip} 198.18.2.1")
    emit(f"backend {vip} 198.18.2.9")
    run("flow/slot-reuse-reselects", "tx", f1, None)
    emit("counter flow_reselect 1")
    emit("counter flow_hit 0")


def health_cases():
    """A backend that fails its checks is not drained: it leaves the ring
    and its established flows choose again; back up, it takes new flows."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    vip = "198.18.1.1:80/tcp"
    emit(f"vip {vip} mode=ipip")
    emit(f"backend {vip} 198.18.2.1")
    f1 = client_pkt(vip, sport=4444)

    def to(be):
        return encap_expect(f1, "ipip", be, CLIENT4, "198.18.1.1", 4444,
                            80, 6)
    run("health/first", "tx", f1, to("198.18.2.1"))
    emit(f"backend {vip} 198.18.2.2")
    run("health/sticky", "tx", f1, to("198.18.2.1"))
    emit(f"health {vip} 198.18.2.1 down")
    run("health/down-flow-moves", "tx", f1, to("198.18.2.2"))
    emit("counter flow_reselect 1")
    for i in range(30):
        run(f"health/new-avoids-down-{i}", "tx",
            client_pkt(vip, sport=30000 + i), None)
    emit(f"traffic {vip} 198.18.2.1 new=1")
    emit(f"health {vip} 198.18.2.1 up")
    emit(f"backend-del {vip} 198.18.2.2")
    p = client_pkt(vip, sport=5555)
    run("health/up-again-takes-flows", "tx", p,
        encap_expect(p, "ipip", "198.18.2.1", CLIENT4, "198.18.1.1", 5555,
                     80, 6))


def slot_rewrite_cases():
    """A backend slot is rewritten in three updates (lib.c, slot_put); a
    packet that loads it midway (the old ACTIVE flag, the new zeroed
    address) must not be sent anywhere: its flow picks again and, with no
    other backend, drops. A single plain update exposed exactly that."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    vip = "198.18.1.1:80/tcp"
    emit(f"vip {vip} mode=ipip")
    emit(f"backend {vip} 198.18.2.1")
    p = client_pkt(vip, sport=4545)
    to = encap_expect(p, "ipip", "198.18.2.1", CLIENT4, "198.18.1.1", 4545,
                      80, 6)
    run("slot/whole-before", "tx", p, to)
    run("slot/whole-confirmed", "tx", p, to)
    emit("confirmed 1")
    emit(f"slot-mid {vip} 198.18.2.1")
    run("slot/midway-established-drops", "drop", p, None)
    run("slot/midway-new-flow-drops", "drop", client_pkt(vip, sport=4546),
        None)
    emit("counter drop_no_backend 2")
    emit("counter tx 2")
    # A rewrite completed on the same slot is whole again.
    emit(f"backend-del {vip} 198.18.2.1")
    emit(f"backend {vip} 198.18.2.1")
    run("slot/whole-after", "tx", p, to)
    # Concurrent: a writer thread frees and refills the slot while the
    # packet runs again and again; no run may see a mix of two versions.
    # (Each swap rebuilds the ring, which waits for an RCU grace period:
    # tens of swaps a second, so this is a stress check of the new order;
    # slot/midway-* above is what fails with the old reader.)
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    emit(f"vip {vip} mode=ipip")
    emit(f"race {vip} 198.18.2.1 198.18.2.2 1000 {hexs(p)}")


def drained_flows_check():
    """A VIP whose every backend is drained still serves new flows (a drained
    backend gets new flows only when nothing else can); an empty VIP
    drops."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    vip = "198.18.1.1:80/tcp"
    emit(f"vip {vip} mode=ipip")
    run("drain/empty-vip-drop", "drop", client_pkt(vip), None)
    emit("counter drop_no_backend 1")
    emit(f"backend {vip} 198.18.2.1 weight=0")
    p = client_pkt(vip, sport=40001)
    run("drain/all-drained-serves", "tx", p,
        encap_expect(p, "ipip", "198.18.2.1", CLIENT4, "198.18.1.1",
                     40001, 80, 6))
    emit("counter drop_no_backend 1")
    emit(f"weight {vip} 198.18.2.1 5")
    p = client_pkt(vip)
    run("drain/undrained-forwards", "tx", p,
        encap_expect(p, "ipip", "198.18.2.1", CLIENT4, "198.18.1.1",
                     40000, 80, 6))


def config_cases():
    emit("reset flows=4096 ring=251")
    vip = "198.18.1.1:80/tcp"
    emit(f"vip {vip} mode=ipip")
    emit(f"backend {vip} 198.18.2.1")
    run("cfg/no-source-address-drop", "drop", client_pkt(vip), None)
    emit("counter drop_no_route 1")
    emit(f"config src4={SRC4}")
    run("cfg/no-gateway-drop", "drop", client_pkt(vip, sport=2), None)
    emit("counter drop_no_route 2")
    emit("vip 198.18.1.4:80/tcp mode=l2")
    emit("backend 198.18.1.4:80/tcp 198.18.2.4")
    run("cfg/l2-no-mac-no-fib-drop", "drop",
        client_pkt("198.18.1.4:80/tcp"), None)
    emit("counter drop_no_route 3")


def cut_points(pkt):
    """Lengths to cut pkt at: every byte up to the end of the L4 header
    (which includes every header boundary), then one inside the payload."""
    b = raw(pkt)
    layers, ip = l2_of(pkt)
    l4 = ip.payload
    while not isinstance(l4, (TCP, UDP, ICMP)) and l4.payload:
        l4 = l4.payload
    end = len(b) - len(raw(l4)) + (20 if isinstance(l4, TCP) else 8)
    return list(range(0, end)) + [len(b) - 1]


def malformed_cases():
    setup()
    n = 0
    bases = {
        "v4": client_pkt("198.18.1.1:80/tcp"),
        "v4opts-vlan": client_pkt("198.18.1.1:80/tcp", vlans=(1,),
                                  ip_extra=[IPOption(b"\x94\x04\x00\x00")]),
        "v4udp-qinq": client_pkt("198.18.1.2:53/udp", vlans=(2, 3)),
        "v6ext": client_pkt("[2001:db8:1::1]:80/tcp",
                            ip_extra=IPv6ExtHdrHopByHop() /
                            IPv6ExtHdrDestOpt()),
        "v6udp": client_pkt("[2001:db8:1::2]:443/udp"),
    }
    for name, p in bases.items():
        b = raw(p)
        for cut in cut_points(p):
            if cut < 14:
                continue   # test_run refuses frames shorter than Ethernet
            run(f"cut/{name}@{cut}", "pass", Raw(b[:cut]), "=")
            n += 1
            bump("pass_malformed")
    # Lying length fields.
    vip = "198.18.1.1:80/tcp"

    def v4(**kw):
        p = client_pkt(vip)
        for k, v in kw.items():
            setattr(p[IP], k, v)
        return p

    lies = {
        "v4-totlen-beyond-frame": v4(len=200),
        "v4-totlen-below-ihl": v4(len=16),
        "v4-ihl-4": v4(ihl=4),
        "v4-ihl-beyond-totlen": v4(ihl=15),
        "v4-version-5": v4(version=5),
        "v4-totlen-cuts-tcp": v4(len=30),
    }
    p = client_pkt(vip)
    p[TCP].dataofs = 4
    lies["tcp-doff-4"] = p
    p = client_pkt(vip)
    p[TCP].dataofs = 15
    lies["tcp-doff-beyond"] = p
    p = client_pkt("198.18.1.2:53/udp")
    p[IP].len = 24
    lies["udp-cut-by-totlen"] = p
    p = client_pkt("[2001:db8:1::1]:80/tcp")
    p[IPv6].plen = 500
    lies["v6-plen-beyond-frame"] = p
    p = client_pkt("[2001:db8:1::1]:80/tcp", ip_extra=IPv6ExtHdrDestOpt(
        len=30))
    lies["v6-exthdr-beyond"] = p
    p = client_pkt("[2001:db8:1::1]:80/tcp", ip_extra=IPv6ExtHdrDestOpt() /
                   IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                   IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt())
    lies["v6-too-many-exthdrs"] = p
    p = client_pkt("[2001:db8:1::1]:80/tcp")
    p[IPv6].version = 4
    lies["v6-version-4"] = p
    quote = IP(src="198.18.1.1", dst=CLIENT4) / TCP(sport=80, dport=1)
    p = Ether(dst=LB_MAC, src=ROUTER_MAC) / IP(src="198.18.3.3",
                                               dst="198.18.1.1") / \
        ICMP(type=3, code=4) / Raw(raw(quote)[:22])
    lies["icmp-quote-cut"] = p
    for name, p in lies.items():
        run(f"lie/{name}", "pass", Ether(raw(p)), "=")
        n += 1
        bump("pass_malformed")
    emit("flows 0")
    check_counters()


# Addresses of the FIB test namespace (tests/fib.sh builds it):
#   xa 02:00:00:00:00:10 198.18.0.10/24, neighbour 198.18.0.1 = 02:..:fe,
#      198.18.0.20 = 02:..:b1 (on-link L2 backend); 198.18.2.0/24 via .0.1
#   xc 02:00:00:00:00:20 198.18.4.10/24, neighbour 198.18.4.1 = 02:..:fd;
#      198.18.3.0/24 via 198.18.4.1
XC_MAC, XC_GW = "02:00:00:00:00:20", "02:00:00:00:00:fd"


def fib_cases():
    """Next hop from the kernel FIB: XDP_TX out of the ingress interface,
    bpf_redirect out of another, MACs from the neighbour table."""
    emit("reset flows=4096 ring=251")
    emit("ingress xa")
    emit(f"config src4={SRC4} fib=1")
    emit("vip 198.18.1.1:80/tcp mode=ipip")
    emit("backend 198.18.1.1:80/tcp 198.18.2.1")
    emit("vip 198.18.1.2:80/tcp mode=ipip")
    emit("backend 198.18.1.2:80/tcp 198.18.3.1")
    emit("vip 198.18.1.4:80/tcp mode=l2")
    emit("backend 198.18.1.4:80/tcp 198.18.0.20")
    p = client_pkt("198.18.1.1:80/tcp")
    run("fib/tx-same-interface", "tx", p,
        encap_expect(p, "ipip", "198.18.2.1", CLIENT4, "198.18.1.1",
                     40000, 80, 6))   # GW_MAC is the neighbour's MAC
    p = client_pkt("198.18.1.2:80/tcp")
    e = encap_expect(p, "ipip", "198.18.3.1", CLIENT4, "198.18.1.2",
                     40000, 80, 6)
    e.dst, e.src = XC_GW, XC_MAC
    run("fib/redirect-other-interface", "redirect", p, e)
    p = client_pkt("198.18.1.4:80/tcp")
    e = p.copy()
    e.dst, e.src = BE_MAC, LB_MAC
    run("fib/l2-neighbour-mac", "tx", p, e)
    emit("counter tx 2")
    emit("counter redirect 1")
    # No route and no gateway: dropped, counted.
    emit("vip 198.18.1.5:80/tcp mode=ipip")
    emit("backend 198.18.1.5:80/tcp 198.18.99.1")
    run("fib/no-route-drop", "drop", client_pkt("198.18.1.5:80/tcp"), None)
    emit("counter drop_no_route 1")
    # L2 DSR to a backend behind a gateway: the frame keeps the VIP as its
    # destination, so the gateway would route it back here until its TTL
    # ran out. Dropped, counted; an on-link backend still goes out.
    emit("vip 198.18.1.6:80/tcp mode=l2")
    emit("backend 198.18.1.6:80/tcp 198.18.2.9")
    run("fib/l2-offlink-no-loop", "drop", client_pkt("198.18.1.6:80/tcp"),
        None)
    emit("counter drop_l2_offlink 1")
    emit("counter tx 2")
    # IPv6 forwarding off on the ingress interface (IPv4 on): the FIB
    # refuses every IPv6 next hop, so an IPv6-outer tunnel drops. xlbd
    # refuses such a backend without a gateway-mac (tests/e2e/test_fib.sh).
    emit(f"config src4={SRC4} src6={SRC6} fib=1")
    emit("vip 198.18.1.7:80/tcp mode=ipip")
    emit("backend 198.18.1.7:80/tcp 2001:db8:2::7")
    run("fib/ipv6-forwarding-off-drop", "drop",
        client_pkt("198.18.1.7:80/tcp"), None)
    emit("counter drop_no_route 2")


# ---- flow tables: unconfirmed/confirmed, TCP state, idle, per-VIP --------
FT_VIP = "198.18.1.1:80/tcp"
FT_UDP = "198.18.1.2:53/udp"


def ft_setup():
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    emit(f"vip {FT_VIP} mode=ipip")
    emit(f"backend {FT_VIP} 198.18.2.1")


def tcp(sport, flags, vip=FT_VIP):
    return client_pkt(vip, sport=sport, l4=TCP(sport=sport, dport=80,
                                               flags=flags))


def ft_to(be, pkt, vip=FT_VIP, mode="ipip"):
    addr, port, pr = parse_vip(vip)
    l4 = pkt[TCP] if pr == "tcp" else pkt[UDP]
    return encap_expect(pkt, mode, be, CLIENT4, addr, l4.sport, l4.dport,
                        6 if pr == "tcp" else 17)


def ft_flow(sport, table, vip=FT_VIP, **kw):
    addr, port, pr = parse_vip(vip)
    extra = "".join(f" {k}={v}" for k, v in kw.items())
    emit(f"flow {pr} {CLIENT4}:{sport} {addr}:{port} {table}{extra}")


def ft_age(sport, secs, vip=FT_VIP):
    addr, port, pr = parse_vip(vip)
    emit(f"flow-age {pr} {CLIENT4}:{sport} {addr}:{port} {secs}")


def ft_only_b():
    """Ring of 198.18.2.2 alone: a fresh pick is .2.2, an entry's .2.1."""
    emit(f"backend {FT_VIP} 198.18.2.2")
    emit(f"weight {FT_VIP} 198.18.2.1 0")


def flowtable_tcp_cases():
    ft_setup()
    syn = tcp(5001, "S")
    run("ft/syn-first", "tx", syn, ft_to("198.18.2.1", syn))
    ft_flow(5001, "unconfirmed", state="unconfirmed", idle=10,
            backend="198.18.2.1")
    ft_only_b()
    # A retransmitted SYN goes where the first went, the ring changed.
    run("ft/syn-retransmit-same-backend", "tx", syn, ft_to("198.18.2.1", syn))
    ft_flow(5001, "unconfirmed")
    ack = tcp(5001, "A")
    run("ft/ack-confirms", "tx", ack, ft_to("198.18.2.1", ack))
    ft_flow(5001, "confirmed", state="established", idle=3600,
            backend="198.18.2.1")
    fin = tcp(5001, "FA")
    run("ft/fin-keeps-backend", "tx", fin, ft_to("198.18.2.1", fin))
    ft_flow(5001, "confirmed", state="fin", idle=30)
    # Half-close under DSR: the client's ACKs of a download go on.
    run("ft/ack-after-fin", "tx", ack, ft_to("198.18.2.1", ack))
    ft_flow(5001, "confirmed", state="fin", idle=30)
    # A new SYN on the tuple after FIN picks anew: not the drained one.
    run("ft/syn-after-fin-picks-anew", "tx", syn, ft_to("198.18.2.2", syn))
    ft_flow(5001, "unconfirmed", backend="198.18.2.2")
    emit("counter flow_syn_reuse 1")
    emit("counter flow_fin 1")

    # RST goes to the entry's backend and ends the entry.
    ft_setup()
    a = tcp(5002, "A")
    run("ft/rst-setup-1", "tx", a, ft_to("198.18.2.1", a))
    run("ft/rst-setup-2", "tx", a, ft_to("198.18.2.1", a))
    ft_only_b()
    rst = tcp(5002, "R")
    run("ft/rst-to-entry-backend", "tx", rst, ft_to("198.18.2.1", rst))
    ft_flow(5002, "none")
    emit("counter flow_rst 1")
    # RST without an entry: the previous ring's backend while the ring
    # changed recently (it may end a flow from before the change), then the
    # ring's; no entry made.
    run("ft/rst-no-entry-prev-ring", "tx", rst, ft_to("198.18.2.1", rst))
    emit("counter flow_prev_ring 1")
    emit("ring-prev-drop")
    run("ft/rst-no-entry", "tx", rst, ft_to("198.18.2.2", rst))
    ft_flow(5002, "none")
    emit("counter flow_untracked 2")
    # RST on an unconfirmed entry ends it too.
    s3 = tcp(5003, "S")
    run("ft/rst-unconfirmed-setup", "tx", s3, ft_to("198.18.2.2", s3))
    run("ft/rst-unconfirmed", "tx", tcp(5003, "R"),
        ft_to("198.18.2.2", tcp(5003, "R")))
    ft_flow(5003, "none")
    emit("counter flow_rst 2")

    # A flow arriving without its SYN: first ACK unconfirmed, second
    # confirms; the bare ACK of a flood never gets further.
    ft_setup()
    a = tcp(5004, "A")
    run("ft/synless-first", "tx", a, ft_to("198.18.2.1", a))
    ft_flow(5004, "unconfirmed")
    emit("confirmed 0")
    run("ft/synless-second-confirms", "tx", a, ft_to("198.18.2.1", a))
    ft_flow(5004, "confirmed", state="established")
    emit("counter flow_confirmed 1")
    for i in range(40):
        f = tcp(30000 + i, "S" if i % 2 else "A")
        run(f"ft/flood-{i}", "tx", f, ft_to("198.18.2.1", f))
    emit("confirmed 1")
    emit("flows 41")

    # Idle: every packet restarts the bound (last_seen refreshed); past
    # it the entry expires and the packet picks anew.
    ft_only_b()
    ft_age(5004, 3590)
    run("ft/refresh-within-bound", "tx", a, ft_to("198.18.2.1", a))
    ft_age(5004, 20)
    run("ft/refreshed-entry-lives", "tx", a, ft_to("198.18.2.1", a))
    ft_flow(5004, "confirmed", backend="198.18.2.1")
    emit("counter flow_expired 0")
    ft_age(5004, 3601)
    run("ft/expired-picks-anew", "tx", a, ft_to("198.18.2.2", a))
    ft_flow(5004, "unconfirmed", backend="198.18.2.2")
    emit("counter flow_expired 1")
    # A SYN on a live entry idle under XLB_SYN_REUSE_IDLE_S keeps it;
    # idle past it, the SYN is a new connection on an old tuple.
    run("ft/reconfirm", "tx", a, ft_to("198.18.2.2", a))
    ft_flow(5004, "confirmed", backend="198.18.2.2")
    emit(f"weight {FT_VIP} 198.18.2.1 1")
    emit(f"weight {FT_VIP} 198.18.2.2 0")
    syn = tcp(5004, "S")
    ft_age(5004, 4)
    run("ft/syn-recent-keeps", "tx", syn, ft_to("198.18.2.2", syn))
    ft_age(5004, 6)
    run("ft/syn-idle-picks-anew", "tx", syn, ft_to("198.18.2.1", syn))
    emit("counter flow_syn_reuse 1")


def flowtable_drained_cases():
    """A drained backend gets a new flow only when nothing else can."""
    ft_setup()
    emit(f"weight {FT_VIP} 198.18.2.1 0")
    s1 = tcp(8001, "S")
    run("ft/all-drained-takes-new", "tx", s1, ft_to("198.18.2.1", s1))
    emit(f"backend {FT_VIP} 198.18.2.2")
    s2 = tcp(8002, "S")
    run("ft/drained-avoided", "tx", s2, ft_to("198.18.2.2", s2))
    emit(f"health {FT_VIP} 198.18.2.2 down")
    run("ft/drained-over-down", "tx", tcp(8003, "S"),
        ft_to("198.18.2.1", tcp(8003, "S")))


def flowtable_icmp_cases():
    """An ICMP error about a flow goes to the flow's backend (not the
    ring's) and neither creates nor changes an entry."""
    ft_setup()
    a = tcp(9001, "A")
    run("ft/icmp-flow-1", "tx", a, ft_to("198.18.2.1", a))
    run("ft/icmp-flow-2", "tx", a, ft_to("198.18.2.1", a))
    ft_only_b()
    quote = IP(src="198.18.1.1", dst=CLIENT4, id=1, flags="DF") / \
        TCP(sport=80, dport=9001)
    p = Ether(dst=LB_MAC, src=ROUTER_MAC) / \
        IP(src="198.18.3.3", dst="198.18.1.1", ttl=60, tos=0, id=9) / \
        ICMP(type=3, code=4, nexthopmtu=1400) / Raw(raw(quote)[:28])
    p = Ether(raw(p))
    run("ft/icmp-to-flow-backend", "tx", p,
        encap_expect(p, "ipip", "198.18.2.1", CLIENT4, "198.18.1.1", 9001,
                     80, 6))
    ft_flow(9001, "confirmed", state="established", backend="198.18.2.1")
    # About an unknown flow: the ring's backend, no entry.
    emit("ring-prev-drop")
    quote = IP(src="198.18.1.1", dst=CLIENT4, id=1, flags="DF") / \
        TCP(sport=80, dport=9002)
    p = Ether(dst=LB_MAC, src=ROUTER_MAC) / \
        IP(src="198.18.3.3", dst="198.18.1.1", ttl=60, tos=0, id=9) / \
        ICMP(type=3, code=4, nexthopmtu=1400) / Raw(raw(quote)[:28])
    p = Ether(raw(p))
    run("ft/icmp-unknown-flow-ring", "tx", p,
        encap_expect(p, "ipip", "198.18.2.2", CLIENT4, "198.18.1.1", 9002,
                     80, 6))
    ft_flow(9002, "none")
    emit("flows 1")


def flowtable_udp_cases():
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC} gue={GUE_PORT}")
    emit(f"vip {FT_UDP} mode=gue udp-idle=7")
    emit(f"backend {FT_UDP} 198.18.2.1")
    d = client_pkt(FT_UDP, sport=6001)
    run("ft/udp-first", "tx", d, ft_to("198.18.2.1", d, FT_UDP, "gue"))
    ft_flow(6001, "unconfirmed", vip=FT_UDP, idle=10)
    emit(f"backend {FT_UDP} 198.18.2.2")
    emit(f"weight {FT_UDP} 198.18.2.1 0")
    run("ft/udp-second-confirms", "tx", d,
        ft_to("198.18.2.1", d, FT_UDP, "gue"))
    ft_flow(6001, "confirmed", vip=FT_UDP, state="established", idle=7)
    ft_age(6001, 6, FT_UDP)
    run("ft/udp-within-idle", "tx", d, ft_to("198.18.2.1", d, FT_UDP, "gue"))
    ft_age(6001, 8, FT_UDP)
    run("ft/udp-expired", "tx", d, ft_to("198.18.2.2", d, FT_UDP, "gue"))
    emit("counter flow_expired 1")
    # Bounds out of range are refused and change nothing.
    emit("! vip-set 198.18.1.2:53/udp udp-idle=65536")
    emit("! vip 198.18.1.7:53/udp mode=gue udp-idle=70000")
    ft_flow(6001, "unconfirmed", vip=FT_UDP, idle=10)
    # The VIP's default bound when none is set.
    emit("vip-set 198.18.1.2:53/udp udp-idle=0")
    d2 = client_pkt(FT_UDP, sport=6002)
    run("ft/udp-default-1", "tx", d2, ft_to("198.18.2.2", d2, FT_UDP, "gue"))
    run("ft/udp-default-2", "tx", d2, ft_to("198.18.2.2", d2, FT_UDP, "gue"))
    ft_flow(6002, "confirmed", vip=FT_UDP, idle=120)


def flowtable_prev_ring_cases():
    """A TCP packet with neither SYN nor entry began before the VIP's last
    ring change (ECMP moved it here from a peer with the same table): it
    takes the previous ring's backend while that ring is kept."""
    ft_setup()
    emit(f"backend {FT_VIP} 198.18.2.2 weight=0")
    # One build: the ring is .2.2 alone, the previous one .2.1 alone.
    emit(f"weights {FT_VIP} 198.18.2.1=0 198.18.2.2=1")
    # The same set again (a refresh: a health check that passes again)
    # builds no ring: the previous ring stays .2.1 alone.
    emit(f"weights {FT_VIP} 198.18.2.1=0 198.18.2.2=1")
    a = tcp(8001, "A")
    run("prev/ack-no-entry", "tx", a, ft_to("198.18.2.1", a))
    ft_flow(8001, "unconfirmed", backend="198.18.2.1")
    run("prev/ack-confirms", "tx", a, ft_to("198.18.2.1", a))
    ft_flow(8001, "confirmed", backend="198.18.2.1")
    emit("counter flow_prev_ring 1")
    s = tcp(8002, "S")
    run("prev/syn-current-ring", "tx", s, ft_to("198.18.2.2", s))
    emit("ring-prev-drop")
    a3 = tcp(8003, "A")
    run("prev/dropped-current-ring", "tx", a3, ft_to("198.18.2.2", a3))
    emit("counter flow_prev_ring 1")

    # The previous ring's backend removed: the current ring picks.
    ft_setup()
    emit(f"backend {FT_VIP} 198.18.2.2 weight=0")
    emit(f"backend-del {FT_VIP} 198.18.2.1")
    a4 = tcp(8004, "A")
    run("prev/removed-backend-current-ring", "tx", a4,
        ft_to("198.18.2.2", a4))
    emit("counter flow_prev_ring 0")

    # UDP: a first datagram looks like any other; the current ring.
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC} gue={GUE_PORT}")
    emit(f"vip {FT_UDP} mode=gue")
    emit(f"backend {FT_UDP} 198.18.2.1")
    emit(f"backend {FT_UDP} 198.18.2.2 weight=0")
    emit(f"weights {FT_UDP} 198.18.2.1=0 198.18.2.2=1")
    d = client_pkt(FT_UDP, sport=8005)
    run("prev/udp-current-ring", "tx", d,
        ft_to("198.18.2.2", d, FT_UDP, "gue"))
    emit("counter flow_prev_ring 0")


def flow_sync_cases():
    """Flow-state sync (user/lib/flowsync.c): only the entries whose
    backend the current ring would not pick are exported; imported, they
    steer flows on a node that never saw them."""
    ft_setup()
    emit(f"backend {FT_VIP} 198.18.2.2 weight=0")
    flows = [tcp(8100 + i, "A") for i in range(10)]
    for i, a in enumerate(flows):
        run(f"sync/setup-{i}-1", "tx", a, ft_to("198.18.2.1", a))
        run(f"sync/setup-{i}-2", "tx", a, ft_to("198.18.2.1", a))
    emit("confirmed 10")
    # The ring still picks .2.1 for each: a peer needs none of them.
    emit("sync-export 0")
    emit("sync-export 10 all")
    # One build: the ring is .2.2 alone; every entry is an exception.
    emit(f"weights {FT_VIP} 198.18.2.1=0 198.18.2.2=1")
    emit("sync-export 10")
    # A peer with the same configuration: empty tables, no previous ring.
    emit("flows-clear")
    emit("ring-prev-drop")
    emit("sync-import 10")
    emit("confirmed 10")
    for i, a in enumerate(flows):
        run(f"sync/imported-{i}", "tx", a, ft_to("198.18.2.1", a))
    ft_flow(8100, "confirmed", state="established", backend="198.18.2.1")
    # Entries we have are not replaced.
    emit("sync-import 0")
    s = tcp(8200, "S")
    run("sync/new-flow-current-ring", "tx", s, ft_to("198.18.2.2", s))
    # A backend gone: its entries are nobody's to sync.
    emit(f"backend-del {FT_VIP} 198.18.2.1")
    emit("sync-export 0 all")

    # A flow born after a change: the ring picks its backend, but a peer
    # that still keeps the previous ring would give it that ring's: an
    # exception while the previous ring is kept, none after.
    ft_setup()
    emit(f"backend {FT_VIP} 198.18.2.2 weight=0")
    emit(f"weights {FT_VIP} 198.18.2.1=0 198.18.2.2=1")
    s = tcp(8300, "S")
    a = tcp(8300, "A")
    run("sync/after-change-syn", "tx", s, ft_to("198.18.2.2", s))
    run("sync/after-change-ack", "tx", a, ft_to("198.18.2.2", a))
    emit("sync-export 1")
    emit("ring-prev-drop")
    emit("sync-export 0")


def sh_cases():
    """Source hashing (algo sh): every flow of a client reaches one
    backend, whatever its ports; clients still spread over the backends;
    a peer picks what we picked, so confirmed entries are no exceptions
    for flow sync. The same flows on a maglev VIP spread."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    sh, mg = "198.18.1.5:80/tcp", "198.18.1.6:80/tcp"
    emit(f"vip {sh} mode=ipip algo=sh")
    emit(f"vip {mg} mode=ipip")
    for v in (sh, mg):
        for i in range(1, 5):
            emit(f"backend {v} 198.18.2.{i}")
    clients = [f"198.19.8.{i}" for i in range(1, 9)]

    def pkt(vip, client, sport, flags):
        p = client_pkt(vip, sport=sport,
                       l4=TCP(sport=sport, dport=80, flags=flags))
        p[IP].src = client
        del p[IP].chksum
        del p[TCP].chksum
        return Ether(raw(p))

    ports = range(41000, 41020)
    for c in clients:
        for sp in ports:
            run(f"sh/{c}-{sp}", "tx", pkt(sh, c, sp, "S"), None)
        # 20 connections of one client: one backend.
        emit(f"backends 1 tcp {sh.split('/')[0]} " +
             " ".join(f"{c}:{sp}" for sp in ports))
    # Eight clients over four backends: more than one of them (the hash
    # is fixed, so this is a fact of these addresses, not luck).
    emit(f"backends >=2 tcp {sh.split('/')[0]} " +
         " ".join(f"{c}:41000" for c in clients))
    # Maglev: one client's 20 connections spread.
    for sp in ports:
        run(f"sh/maglev-{sp}", "tx", pkt(mg, clients[0], sp, "S"), None)
    emit(f"backends >=2 tcp {mg.split('/')[0]} " +
         " ".join(f"{clients[0]}:{sp}" for sp in ports))
    # Confirmed sh entries: a peer's ring gives the same backend (the
    # client's hash, user/lib/flowsync.c as the balancer): none to sync.
    for sp in list(ports)[:5]:
        run(f"sh/confirm-{sp}", "tx", pkt(sh, clients[1], sp, "A"), None)
    emit("confirmed 5")
    emit("sync-export 0")
    emit("sync-export 5 all")


def turn_cases():
    """rr and wrr read the VIP's ring in turn (a per-CPU position, so the
    runs are pinned to one CPU): 30 new flows over three backends are
    exactly 10 each for rr whatever the weights, 60 over weights 3:2:1 are
    30, 20, 10 for wrr; a drained backend takes no turn; a peer cannot
    pick what they picked, so every confirmed entry is one for flow sync."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    emit("cpu 0")
    rr, wrr = "198.18.1.7:80/tcp", "198.18.1.8:80/tcp"
    emit(f"vip {rr} mode=ipip algo=rr")
    emit(f"vip {wrr} mode=ipip algo=wrr")
    for i, (wr, ww) in enumerate(((1, 3), (5, 2), (9, 1)), 1):
        emit(f"backend {rr} 198.18.2.{i} weight={wr}")
        emit(f"backend {wrr} 198.18.2.{i} weight={ww}")
    for i in range(30):
        run(f"turn/rr-{i}", "tx", tcp(42000 + i, "S", rr), None)
    for i in range(1, 4):
        emit(f"traffic {rr} 198.18.2.{i} new=10")
    for i in range(60):
        run(f"turn/wrr-{i}", "tx", tcp(42000 + i, "S", wrr), None)
    for i, n in ((1, 30), (2, 20), (3, 10)):
        emit(f"traffic {wrr} 198.18.2.{i} new={n}")
    # Drained (weight 0): no more turns; the others share them.
    emit(f"weight {rr} 198.18.2.3 0")
    for i in range(20):
        run(f"turn/rr-drained-{i}", "tx", tcp(43000 + i, "S", rr), None)
    for i, n in ((1, 20), (2, 20), (3, 10)):
        emit(f"traffic {rr} 198.18.2.{i} new={n}")
    # Confirmed: each is an exception (not deterministic).
    for i in range(5):
        run(f"turn/rr-confirm-{i}", "tx", tcp(42000 + i, "A", rr), None)
    emit("confirmed 5")
    emit("sync-export 5")
    emit("cpu any")


def conns_cases():
    """The data plane's active connections per backend (XLB_MAP_CONNS,
    what p2c compares): +1 when a flow is confirmed, -1 at the client's
    FIN, at an RST, when its entry is found expired."""
    ft_setup()
    for sp, end in ((8400, "F"), (8401, "R")):
        s, a, e = tcp(sp, "S"), tcp(sp, "A"), tcp(sp, end + "A")
        run(f"conns/{sp}-syn", "tx", s, ft_to("198.18.2.1", s))
        emit(f"conns {FT_VIP} 198.18.2.1 0")
        run(f"conns/{sp}-ack", "tx", a, ft_to("198.18.2.1", a))
        emit(f"conns {FT_VIP} 198.18.2.1 1")
        run(f"conns/{sp}-end", "tx", e, ft_to("198.18.2.1", e))
        emit(f"conns {FT_VIP} 198.18.2.1 0")
    s, a = tcp(8402, "S"), tcp(8402, "A")
    run("conns/idle-syn", "tx", s, ft_to("198.18.2.1", s))
    run("conns/idle-ack", "tx", a, ft_to("198.18.2.1", a))
    emit(f"conns {FT_VIP} 198.18.2.1 1")
    ft_age(8402, 4000)
    run("conns/idle-expired", "tx", a, ft_to("198.18.2.1", a))
    emit(f"conns {FT_VIP} 198.18.2.1 0")
    # An entry of a removed backend, found expired after its slot went to
    # another backend, takes nothing from the new one's count.
    s, a = tcp(8403, "S"), tcp(8403, "A")
    run("conns/reuse-syn", "tx", s, ft_to("198.18.2.1", s))
    run("conns/reuse-ack", "tx", a, ft_to("198.18.2.1", a))
    emit(f"conns {FT_VIP} 198.18.2.1 1")
    emit(f"backend-del {FT_VIP} 198.18.2.1")
    emit(f"backend {FT_VIP} 198.18.2.9")
    emit(f"conns {FT_VIP} 198.18.2.9 set=3")
    ft_age(8403, 4000)
    run("conns/reuse-expired", "tx", a, None)
    emit(f"conns {FT_VIP} 198.18.2.9 3")


def algo_vip(v, algo, n):
    """Fresh maps, the node's settings, VIP v with algorithm algo and
    backends 198.18.2.1..n."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    emit(f"vip {v} mode=ipip algo={algo}")
    for i in range(1, n + 1):
        emit(f"backend {v} 198.18.2.{i}")


def p2c_cases():
    """p2c: two random slots of the weighted ring, the backend with fewer
    active connections per weight. Equal weights, .2.1 holding 1000
    connections and .2.2 none: .2.1 is taken only when both draws fall on
    it (1 in 4): of 200 new flows it gets 50 +- 30 (5 standard
    deviations), .2.2 the rest; a maglev VIP would give each 100."""
    v = "198.18.1.9:80/tcp"
    algo_vip(v, "p2c", 2)
    emit(f"conns {v} 198.18.2.1 set=1000")
    for i in range(200):
        run(f"p2c/syn-{i}", "tx", tcp(44000 + i, "S", v), None)
    emit(f"traffic {v} 198.18.2.1 new=20..80")
    emit(f"traffic {v} 198.18.2.2 new=120..180")


def lc_cases():
    """lc: the backend with the fewest active connections per weight, as
    the data plane counts them (unconfirmed flows count nothing: a SYN
    flood cannot steer it). Confirmed flows count at once: three new
    flows, each confirmed, land one on each of three idle backends."""
    v = "198.18.1.10:80/tcp"
    algo_vip(v, "lc", 3)
    for i, n in ((1, 5), (2, 0), (3, 2)):
        emit(f"conns {v} 198.18.2.{i} set={n}")
    for i in range(10):
        run(f"lc/syn-{i}", "tx", tcp(45000 + i, "S", v), None)
    emit(f"traffic {v} 198.18.2.2 new=10")
    # Per weight: .2.2 with 10 connections at weight 10 (1 each) is less
    # loaded than .2.3 with 2 at weight 1.
    emit(f"weight {v} 198.18.2.2 10")
    emit(f"conns {v} 198.18.2.2 set=10")
    for i in range(5):
        run(f"lc/weighted-{i}", "tx", tcp(45100 + i, "S", v), None)
    emit(f"traffic {v} 198.18.2.2 new=15")
    emit(f"weight {v} 198.18.2.2 1")
    for i in range(1, 4):
        emit(f"conns {v} 198.18.2.{i} set=0")
    for i in range(3):
        run(f"lc/c-syn-{i}", "tx", tcp(45200 + i, "S", v), None)
        run(f"lc/c-ack-{i}", "tx", tcp(45200 + i, "A", v), None)
    for i in range(1, 4):
        emit(f"conns {v} 198.18.2.{i} 1")
    # Ties spread: .2.1 busy, .2.2-.2.4 idle; 300 SYNs (counted only once
    # confirmed, so the tie holds) give each idle one 100 +- 30 (3.7 sd).
    # The first of equals from a rotating start gave .2.2, listed after the
    # busy one, 151; the first in slot order, all 300.
    algo_vip(v, "lc", 4)
    emit(f"conns {v} 198.18.2.1 set=5")
    for i in range(300):
        run(f"lc/tie-{i}", "tx", tcp(46000 + i, "S", v), None)
    for i in range(2, 5):
        emit(f"traffic {v} 198.18.2.{i} new=70..130")
    # At most XLB_LC_MAX (64) backends with weight: a 65th is refused.
    algo_vip(v, "lc", 64)
    emit(f"! backend {v} 198.18.2.65")


def flowtable_off_cases():
    """flow-table: off hashes every packet and keeps no state."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} gw={GW_MAC}")
    emit(f"vip {FT_VIP} mode=ipip flowtable=off")
    emit(f"backend {FT_VIP} 198.18.2.1")
    a = tcp(7001, "A")
    run("ft/off-1", "tx", a, ft_to("198.18.2.1", a))
    run("ft/off-2", "tx", a, ft_to("198.18.2.1", a))
    emit("flows 0")
    ft_only_b()
    run("ft/off-follows-ring", "tx", a, ft_to("198.18.2.2", a))
    emit("counter flow_untracked 3")
    emit("counter flow_new 0")
    # Switched off on a live VIP: its entries go at once.
    emit(f"vip-set {FT_VIP}")
    run("ft/on-1", "tx", a, ft_to("198.18.2.2", a))
    run("ft/on-2", "tx", a, ft_to("198.18.2.2", a))
    emit("confirmed 1")
    emit(f"vip-set {FT_VIP} flowtable=off")
    emit("flows 0")
    # Non-VIP traffic makes no entry and never reaches the tables.
    run("ft/non-vip-pass", "pass", client_pkt("198.18.9.9:80/tcp"), "=")
    emit("flows 0")
    emit("counter pass_not_vip 1")


# ---- fragments stay with their flow (bpf/frag.h) ----------------------------
FR_V4 = "198.18.1.3:0/udp"         # wildcard UDP, GUE: the hash shows
FR_V6 = "[2001:db8:1::4]:0/udp"    # wildcard UDP, IPv6 outer: flow label
FR_TCP = "198.18.1.1:80/tcp"
FR_BE = {FR_V4: ("gue", "198.18.2.1", "198.18.2.2"),
         FR_V6: ("ipip", "2001:db8:2::1", "2001:db8:2::2"),
         FR_TCP: ("ipip", "198.18.2.1", "198.18.2.2")}


def vip_of(vip, port):
    """A flow's VIP side as pktest's flow commands write it."""
    addr, _, pr = parse_vip(vip)
    return (f"[{addr}]:{port}" if is6(addr) else f"{addr}:{port}"), pr


def flow_line(vip, sport, dport, table, **kw):
    addr, _, pr = parse_vip(vip)
    client = f"[{CLIENT6}]" if is6(addr) else CLIENT4
    v, pr = vip_of(vip, dport)
    extra = "".join(f" {k}={v_}" for k, v_ in kw.items())
    emit(f"flow {pr} {client}:{sport} {v} {table}{extra}")


def fragments(vip, sport, dport, fid, payload, proto="udp", sizes=(24, 16),
              dstopts=False):
    """The fragments of one client datagram to vip: first, middle...,
    last; sizes are the first fragments' L4 byte counts (multiples of 8),
    the last takes the rest. The L4 checksum is the whole datagram's."""
    addr, _, _ = parse_vip(vip)
    l4 = TCP(sport=sport, dport=dport, flags="PA") if proto == "tcp" else \
        UDP(sport=sport, dport=dport)
    e = Ether(dst=LB_MAC, src=ROUTER_MAC)
    if is6(addr):
        whole = IPv6(src=CLIENT6, dst=addr, hlim=61)
        if dstopts:
            whole = whole / IPv6ExtHdrDestOpt()
        whole = IPv6(raw(whole / l4 / Raw(payload)))
        body = raw(whole.payload)
        nh = whole.nh
    else:
        whole = IP(raw(IP(src=CLIENT4, dst=addr, ttl=61, id=fid) / l4 /
                          Raw(payload)))
        body = raw(whole.payload)
        nh = whole.proto
    cuts, off = [], 0
    for n in sizes:
        cuts.append((off, body[off:off + n], True))
        off += n
    cuts.append((off, body[off:], False))
    out = []
    for off, chunk, more in cuts:
        if is6(addr):
            ip = IPv6(src=CLIENT6, dst=addr, hlim=61) / \
                IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=int(more),
                                   id=fid) / Raw(chunk)
        else:
            ip = IP(src=CLIENT4, dst=addr, ttl=61, id=fid, proto=nh,
                    flags="MF" if more else 0, frag=off // 8) / Raw(chunk)
        out.append(Ether(raw(e / ip)))
    return out


def fr_to(vip, which, pkt, sport, dport):
    mode, b1, b2 = FR_BE[vip]
    addr, _, pr = parse_vip(vip)
    return encap_expect(pkt, mode, b1 if which == 1 else b2,
                        CLIENT6 if is6(addr) else CLIENT4, addr, sport, dport,
                        6 if pr == "tcp" else 17)


def frag_cases():
    """Every packet of a flow, fragmented or not, reaches one backend: the
    issue's case (wildcard UDP VIP, flows whose fragments went elsewhere)
    made visible by moving the ring after the flows are confirmed: a
    fragment hashed on anything but its flow (or not following the flow's
    entry) lands on the ring's new backend."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} src6={SRC6} gw={GW_MAC} mtu={MTU} "
         f"gue={GUE_PORT}")
    for vip, (mode, b1, _) in FR_BE.items():
        emit(f"vip {vip} mode={mode}")
        emit(f"backend {vip} {b1}")
    n = {"tx": 0, "first": 0, "later": 0}
    flows = [(FR_V4, 1000 + i, 5000 + i) for i in range(4)] + \
        [(FR_V6, 1000 + i, 5000 + i) for i in range(4)]
    for vip, sp, dp in flows:
        d = client_pkt(vip, sport=sp, dport=dp)
        for k in (1, 2):
            run(f"fr/flow-{sp}-{vip[:6]}-datagram{k}", "tx", d,
                fr_to(vip, 1, d, sp, dp))
        flow_line(vip, sp, dp, "confirmed")
        n["tx"] += 2
    # The ring now holds the second backend alone.
    for vip, (mode, b1, b2) in FR_BE.items():
        emit(f"backend {vip} {b2}")
        emit(f"weight {vip} {b1} 0")
    for i, (vip, sp, dp) in enumerate(flows):
        frs = fragments(vip, sp, dp, 300 + i, b"F" * 60)
        for j, f in enumerate(frs):
            run(f"fr/flow-{sp}-{vip[:6]}-frag{j}", "tx", f,
                fr_to(vip, 1, f, sp, dp))
        d = client_pkt(vip, sport=sp, dport=dp)
        run(f"fr/flow-{sp}-{vip[:6]}-after", "tx", d, fr_to(vip, 1, d, sp, dp))
        n["tx"] += len(frs) + 1
        n["first"] += 1
        n["later"] += len(frs) - 1
    emit("frags 8")
    # A new flow whose first datagram is fragmented: the first fragment
    # takes the ring's backend and makes the unconfirmed entry; the later
    # ones follow it and confirm nothing; the next datagram confirms.
    for vip in (FR_V4, FR_V6):
        frs = fragments(vip, 7001, 53, 400, b"N" * 40, sizes=(16,))
        for j, f in enumerate(frs):
            run(f"fr/new-{vip[:6]}-frag{j}", "tx", f,
                fr_to(vip, 2, f, 7001, 53))
        flow_line(vip, 7001, 53, "unconfirmed", backend=FR_BE[vip][2])
        d = client_pkt(vip, sport=7001, dport=53)
        run(f"fr/new-{vip[:6]}-datagram", "tx", d, fr_to(vip, 2, d, 7001, 53))
        flow_line(vip, 7001, 53, "confirmed", backend=FR_BE[vip][2])
        n["tx"] += len(frs) + 1
        n["first"] += 1
        n["later"] += len(frs) - 1
    # A port-specific TCP VIP: its fragments follow the connection.
    frs = fragments(FR_TCP, 4444, 80, 500, b"T" * 50, proto="tcp")
    for j, f in enumerate(frs):
        run(f"fr/tcp-port-vip-frag{j}", "tx", f,
            fr_to(FR_TCP, 2, f, 4444, 80))
    n["tx"] += len(frs)
    n["first"] += 1
    n["later"] += len(frs) - 1
    # IPv6 with a destination-options header in the fragmentable part: the
    # first fragment walks past it, the later ones carry only data.
    frs = fragments(FR_V6, 1000, 5000, 600, b"D" * 40, dstopts=True)
    for j, f in enumerate(frs):
        run(f"fr/v6-dstopts-frag{j}", "tx", f, fr_to(FR_V6, 1, f, 1000, 5000))
    n["tx"] += len(frs)
    n["first"] += 1
    n["later"] += len(frs) - 1
    emit(f"counter tx {n['tx']}")
    emit(f"counter fragment_forwarded {n['first'] + n['later']}")
    emit(f"counter fragment_first {n['first']}")
    emit(f"counter fragment_followed {n['later']}")
    emit("counter drop_frag_orphan 0")
    emit("frags 12")

    # Reordered: a later fragment before its first is dropped, counted; the
    # first still reaches the flow's backend, and the retransmitted later
    # fragment then follows it.
    frs = fragments(FR_V4, 1001, 5001, 700, b"R" * 40, sizes=(16,))
    run("fr/orphan-later-first-drop", "drop", frs[1], None)
    emit("frags 12")
    run("fr/orphan-then-first", "tx", frs[0], fr_to(FR_V4, 1, frs[0], 1001,
                                                    5001))
    run("fr/orphan-resent", "tx", frs[1], fr_to(FR_V4, 1, frs[1], 1001,
                                                5001))
    frs6 = fragments(FR_V6, 1001, 5001, 701, b"R" * 40, sizes=(16,))
    run("fr/orphan6-drop", "drop", frs6[1], None)
    # A first fragment whose TCP header is cut (RFC 1858's tiny fragment)
    # is malformed; its later fragments are then orphans.
    tiny = fragments(FR_TCP, 4445, 80, 702, b"t" * 40, proto="tcp",
                     sizes=(8,))
    run("fr/tiny-first-malformed", "pass", tiny[0], "=")
    run("fr/tiny-later-orphan", "drop", tiny[1], None)
    emit("counter drop_frag_orphan 3")
    emit("counter pass_malformed 1")
    # Not a VIP's port, or a protocol no VIP serves (a large ping to a VIP
    # address): every fragment passes to the kernel, which reassembles.
    frs = fragments(FR_TCP, 4446, 81, 703, b"p" * 40, proto="tcp",
                    sizes=(24,))
    for j, f in enumerate(frs):
        run(f"fr/other-port-frag{j}-pass", "pass", f, "=")
    ping = Ether(raw(Ether(dst=LB_MAC, src=ROUTER_MAC) /
                     IP(src=CLIENT4, dst="198.18.1.3", id=704) /
                     ICMP(type=8) / Raw(b"i" * 40)))
    for j, f in enumerate(fragment(ping[IP], fragsize=24)):
        run(f"fr/ping-frag{j}-pass", "pass",
            Ether(raw(Ether(dst=LB_MAC, src=ROUTER_MAC) / f)), "=")
    emit("counter pass_fragment 4")
    # A first fragment for a port no VIP serves is kept too (its later
    # fragments must find their ports to pass); a ping's is not.
    emit("frags 14")
    # An atomic fragment (offset 0, no more) is a whole packet.
    d = Ether(raw(Ether(dst=LB_MAC, src=ROUTER_MAC) /
                  IPv6(src=CLIENT6, dst="2001:db8:1::4", hlim=61) /
                  IPv6ExtHdrFragment(nh=17, offset=0, m=0, id=705) /
                  UDP(sport=1002, dport=5002) / Raw(b"a" * 8)))
    run("fr/v6-atomic-whole", "tx", d, fr_to(FR_V6, 1, d, 1002, 5002))
    emit("frags 14")
    emit("counter fragment_first 14")

    # Too big once encapsulated: a fragment is never answered with a
    # too-big error (the sender already fragmented; IPv4 needs DF): dropped.
    big6 = fragments(FR_V6, 1003, 5003, 800, b"B" * 1600, sizes=(1472,))
    run("fr/v6-too-big-frag-drop", "drop", big6[0], None)
    big4 = fragments(FR_V4, 1003, 5003, 801, b"B" * 1600, sizes=(1472,))
    f = big4[0]
    f[IP].flags = "MF+DF"
    del f[IP].chksum
    f = Ether(raw(f))
    run("fr/v4-too-big-df-frag-drop", "drop", f, None)
    emit("counter drop_too_big 2")
    emit("counter icmp_too_big_sent 0")


# ---- ICMP errors: addressed to a VIP, every type, odd quotes ---------------
IC_V4 = "198.18.1.1:80/tcp"
IC_V6 = "[2001:db8:1::1]:80/tcp"
IC_UDP = "198.18.1.2:53/udp"
IC_BE = {IC_V4: ("ipip", "198.18.2.1", "198.18.2.2"),
         IC_V6: ("ipip", "2001:db8:2::1", "2001:db8:2::2"),
         IC_UDP: ("gue", "198.18.2.1", "198.18.2.2")}
# Other VIPs on the same port: an error addressed to one of them that
# quotes a packet of IC_V4/IC_V6 is not theirs.
IC_OTHER = {"198.18.1.5:80/tcp": "198.18.2.5",
            "[2001:db8:1::5]:80/tcp": "2001:db8:2::5"}


def err4(type_, code, quote, dst="198.18.1.1", qlen=None, **icmp):
    """An ICMP error from a router to dst quoting quote's first qlen bytes
    (default: its IP header and 8 bytes)."""
    q = raw(quote)
    q = q[:(qlen if qlen is not None else (q[0] & 15) * 4 + 8)]
    return Ether(raw(Ether(dst=LB_MAC, src=ROUTER_MAC) /
                     IP(src="198.18.3.3", dst=dst, ttl=60, id=9) /
                     ICMP(type=type_, code=code, **icmp) / Raw(q)))


def err6(icmp, quote, qlen, dst="2001:db8:1::1"):
    return Ether(raw(Ether(dst=LB_MAC, src=ROUTER_MAC) /
                     IPv6(src="2001:db8:3::3", dst=dst, hlim=60) / icmp /
                     Raw(raw(quote)[:qlen])))


def ic_to(vip, which, pkt, client_port):
    mode, b1, b2 = IC_BE[vip]
    addr, port, pr = parse_vip(vip)
    return encap_expect(pkt, mode, b1 if which == 1 else b2,
                        CLIENT6 if is6(addr) else CLIENT4, addr, client_port,
                        port, 6 if pr == "tcp" else 17)


def icmp_cases():
    """ICMP errors reach the backend that owns the quoted flow - its entry's
    backend, not the ring's - for every error type, and only when they are
    addressed to the VIP the quoted packet came from."""
    emit("reset flows=4096 ring=251")
    emit(f"config src4={SRC4} src6={SRC6} gw={GW_MAC} mtu={MTU} "
         f"gue={GUE_PORT}")
    for vip, (mode, b1, _) in IC_BE.items():
        emit(f"vip {vip} mode={mode}")
        emit(f"backend {vip} {b1}")
    for vip, be in IC_OTHER.items():
        emit(f"vip {vip} mode=ipip")
        emit(f"backend {vip} {be}")
    for vip, cp in ((IC_V4, 9100), (IC_V6, 9100), (IC_UDP, 9100)):
        d = client_pkt(vip, sport=cp)
        for k in (1, 2):
            run(f"ic/flow-{vip[:6]}-{k}", "tx", d, ic_to(vip, 1, d, cp))
    for vip, (mode, b1, b2) in IC_BE.items():
        emit(f"backend {vip} {b2}")
        emit(f"weight {vip} {b1} 0")
    tx = 6
    fwd = 0

    q4 = IP(src="198.18.1.1", dst=CLIENT4, id=1, flags="DF") / \
        TCP(sport=80, dport=9100)
    cases4 = {
        "v4-unreach-host": err4(3, 1, q4),
        "v4-unreach-port": err4(3, 3, q4),
        "v4-frag-needed": err4(3, 4, q4, nexthopmtu=1400),
        "v4-time-exceeded": err4(11, 0, q4),
        "v4-reassembly-time": err4(11, 1, q4),
        "v4-param-problem": err4(12, 0, q4, ptr=20),
        "v4-whole-quote": err4(3, 4, q4 / Raw(b"w" * 100), qlen=200),
        # The quote's IPv4 options: ports after IHL words, not after 20.
        "v4-quote-ipopts": err4(3, 4, IP(src="198.18.1.1", dst=CLIENT4,
                                          options=[IPOption(
                                              b"\x94\x04\x00\x00")]) /
                                 TCP(sport=80, dport=9100)),
        "v4-quote-ihl15": err4(11, 0, IP(src="198.18.1.1", dst=CLIENT4,
                                          options=[IPOption(b"\x01" * 40)]) /
                                TCP(sport=80, dport=9100)),
        # The reply was fragmented: its first fragment has the ports.
        "v4-quote-first-frag": err4(3, 4, IP(src="198.18.1.1", dst=CLIENT4,
                                              flags="MF") /
                                     TCP(sport=80, dport=9100)),
    }
    for name, p in cases4.items():
        run(f"ic/{name}", "tx", p, ic_to(IC_V4, 1, p, 9100))
        tx += 1
        fwd += 1
    # UDP, with options: GUE's source port is the hash of the quoted flow.
    p = err4(3, 3, IP(src="198.18.1.2", dst=CLIENT4, options=[
        IPOption(b"\x94\x04\x00\x00")]) / UDP(sport=53, dport=9100),
        dst="198.18.1.2")
    run("ic/v4-udp-quote-ipopts", "tx", p, ic_to(IC_UDP, 1, p, 9100))
    tx += 1
    fwd += 1

    q6 = IPv6(src="2001:db8:1::1", dst=CLIENT6) / TCP(sport=80, dport=9100)
    ext = IPv6(src="2001:db8:1::1", dst=CLIENT6) / \
        IPv6ExtHdrFragment(nh=6, offset=0, m=1, id=9) / \
        TCP(sport=80, dport=9100)
    ext2 = IPv6(src="2001:db8:1::1", dst=CLIENT6) / IPv6ExtHdrHopByHop() / \
        IPv6ExtHdrDestOpt() / IPv6ExtHdrFragment(nh=6, offset=0, m=1,
                                                 id=9) / \
        TCP(sport=80, dport=9100)
    cases6 = {
        "v6-unreach": err6(ICMPv6DestUnreach(code=1), q6, 48),
        "v6-too-big": err6(ICMPv6PacketTooBig(mtu=1400), q6, 60),
        "v6-time-exceeded": err6(ICMPv6TimeExceeded(), q6, 48),
        "v6-param-problem": err6(ICMPv6ParamProblem(ptr=6), q6, 48),
        # A fragmented reply: the quote carries a fragment header.
        "v6-quote-frag": err6(ICMPv6PacketTooBig(mtu=1280), ext, 56),
        "v6-quote-exthdrs": err6(ICMPv6TimeExceeded(), ext2, 72),
    }
    for name, p in cases6.items():
        run(f"ic/{name}", "tx", p, ic_to(IC_V6, 1, p, 9100))
        tx += 1
        fwd += 1

    # Not addressed to the VIP the quote came from: to this node's own
    # address, to another VIP: handed to the kernel untouched.
    nv = {
        "v4-to-node-pass": err4(3, 4, q4, dst=SRC4),
        "v4-to-other-vip-pass": err4(3, 4, q4, dst="198.18.1.2"),
        "v4-to-router-pass": err4(11, 0, q4, dst="198.18.3.4"),
        "v6-to-node-pass": err6(ICMPv6PacketTooBig(mtu=1400), q6, 48,
                                dst=SRC6),
        "v6-to-other-vip-pass": err6(ICMPv6DestUnreach(), q6, 48,
                                     dst="2001:db8:1::2"),
        "v4-to-other-vip-same-port-pass": err4(3, 4, q4, dst="198.18.1.5"),
        "v6-to-other-vip-same-port-pass": err6(ICMPv6DestUnreach(), q6, 48,
                                               dst="2001:db8:1::5"),
        # Quotes that name no flow: a later fragment (no ports: its data
        # looks like the flow's ports here), a protocol no VIP serves.
        "v4-quote-later-frag-pass": err4(3, 4, IP(src="198.18.1.1",
                                                  dst=CLIENT4, frag=10,
                                                  proto=6) /
                                         Raw(struct.pack("!HH", 80, 9100) +
                                             b"\0" * 4)),
        "v6-quote-later-frag-pass": err6(
            ICMPv6PacketTooBig(mtu=1280),
            IPv6(src="2001:db8:1::1", dst=CLIENT6) /
            IPv6ExtHdrFragment(nh=6, offset=10, m=1, id=9) /
            Raw(struct.pack("!HH", 80, 9100) + b"\0" * 4), 56),
        "v4-quote-icmp-pass": err4(3, 3, IP(src="198.18.1.1", dst=CLIENT4) /
                                   ICMP(type=0)),
    }
    for name, p in nv.items():
        run(f"ic/{name}", "pass", p, "=")
    # A fragmented error is not followed (errors are small; a fragment of
    # one is unusual): it passes, counted as a fragment.
    p = err4(3, 4, q4)
    p[IP].flags = "MF"
    del p[IP].chksum
    run("ic/v4-fragmented-error-pass", "pass", Ether(raw(p)), "=")
    # Malformed: the quote's ports beyond the IP length (frame padded), an
    # extension header beyond the quote.
    p = err4(3, 4, q4)
    p[IP].len = 20 + 8 + 20 + 2
    del p[IP].chksum
    run("ic/v4-quote-ports-beyond-len", "pass", Ether(raw(p)), "=")
    p = err6(ICMPv6TimeExceeded(), IPv6(src="2001:db8:1::1", dst=CLIENT6) /
             IPv6ExtHdrDestOpt(len=4) / TCP(sport=80, dport=9100), 64)
    run("ic/v6-quote-exthdr-beyond", "pass", p, "=")
    emit(f"counter tx {tx}")
    emit(f"counter icmp_error_forwarded {fwd}")
    emit(f"counter pass_not_vip {len(nv)}")
    emit("counter pass_fragment 1")
    emit("counter pass_malformed 2")
    # Errors made no entry and changed none.
    emit("flows 3")
    for vip in IC_BE:
        addr, port, pr = parse_vip(vip)
        flow_line(vip, 9100, port, "confirmed", state="established",
                  backend=IC_BE[vip][1])


# ---- L4 header bounds: the exact edge of each length check ----------------
def l4_bound_cases():
    """TCP's header (data offset) and UDP's 8 bytes must lie inside the IP
    packet: one byte short is malformed, exactly fitting is forwarded."""
    setup()
    n_tx = n_bad = 0
    for vip in ("198.18.1.1:80/tcp", "[2001:db8:1::1]:80/tcp"):
        v6 = is6(parse_vip(vip)[0])
        tag = "v6" if v6 else "v4"
        for doff, pay, ok in ((6, 3, False), (6, 0, False), (6, 4, True),
                              (15, 39, False), (15, 40, True),
                              (5, 0, True)):
            p = client_pkt(vip, payload=b"o" * pay,
                           l4=TCP(sport=40000, dport=80, flags="A",
                                  dataofs=doff))
            name = f"bound/{tag}-tcp-doff{doff}-seg{20 + pay}"
            if ok:
                forward(name, vip, pkt=p)
                n_tx += 1
            else:
                run(name, "pass", p, "=")
                n_bad += 1
    for vip in ("198.18.1.2:53/udp", "[2001:db8:1::2]:443/udp"):
        v6 = is6(parse_vip(vip)[0])
        tag = "v6" if v6 else "v4"
        for ulen, ok in ((7, False), (8, True), (1, False)):
            p = client_pkt(vip, payload=b"u" * 8)
            # The IP length ends the packet after ulen bytes of UDP; the
            # frame still holds the whole header (as padding would).
            if v6:
                p[IPv6].plen = ulen
            else:
                p[IP].len = 20 + ulen
                del p[IP].chksum
            p = Ether(raw(p))
            name = f"bound/{tag}-udp-len{ulen}"
            if ok:
                forward(name, vip, pkt=p)
                n_tx += 1
            else:
                run(name, "pass", p, "=")
                n_bad += 1
    emit(f"counter tx {n_tx}")
    emit(f"counter pass_malformed {n_bad}")


def main():
    if sys.argv[1:] == ["fib"]:
        fib_cases()
        sys.stdout.write("\n".join(out) + "\n")
        return
    forwarding_cases()
    fragment_cases()
    mtu_cases()
    flow_cases()
    health_cases()
    slot_rewrite_cases()
    drained_flows_check()
    config_cases()
    malformed_cases()
    flowtable_tcp_cases()
    flowtable_udp_cases()
    flowtable_off_cases()
    flowtable_prev_ring_cases()
    sh_cases()
    turn_cases()
    conns_cases()
    p2c_cases()
    lc_cases()
    flow_sync_cases()
    flowtable_drained_cases()
    flowtable_icmp_cases()
    frag_cases()
    icmp_cases()
    l4_bound_cases()
    decap_fixtures.cases(sys.modules[__name__])
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
