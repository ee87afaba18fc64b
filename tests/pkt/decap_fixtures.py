"""Fixtures of the backend's decap program (bpf/xlb_decap.bpf.c).

Tunnels are built here with scapy as the balancer sends them (bpf/encap.h:
outer IPv4 with DF, or IPv6; IPIP with protocol 4 or 41, or GUE variant 1,
the inner packet directly after UDP), and the expected output is the inner
packet behind the same L2 header. cases(g) writes them through the helpers
of gen_fixtures.py (g): run, emit, bump, check_counters.
"""
from scapy.all import (ARP, Dot1Q, Ether, IP, IPOption, IPv6,
                       IPv6ExtHdrDestOpt, Raw, TCP, UDP, raw)

BE_MAC, LB_MAC = "02:00:00:00:00:11", "02:00:00:00:00:10"
BE4, BE6 = "198.18.0.11", "2001:db8::11"          # the backend: outer dst
LB4, LB6 = "198.18.0.10", "2001:db8::10"          # the balancer: outer src
VIP4, VIP6 = "198.18.1.1", "2001:db8:1::1"        # held by the backend
NET4, NET6 = "198.18.100.0/24", "2001:db8:100::/48"  # held, as prefixes
CLIENT4, CLIENT6 = "198.19.7.7", "2001:db8:c::7"
FOREIGN4, FOREIGN6 = "198.19.99.99", "2001:db8:99::99"
GUE_PORT = 6080

OUTER = [BE4, BE6]
INNER = [VIP4, VIP6, NET4, NET6]
BALANCERS = [LB4, LB6]


def v6(a):
    return ":" in a


def syn(dst, dport=80):
    """The client's packet inside the tunnel."""
    if v6(dst):
        return IPv6(src=CLIENT6, dst=dst, hlim=60, fl=0x54321) / \
            TCP(sport=40000, dport=dport, flags="S")
    return IP(src=CLIENT4, dst=dst, ttl=60, id=7) / \
        TCP(sport=40000, dport=dport, flags="S")


def l2(vlans=()):
    e = Ether(dst=BE_MAC, src=LB_MAC)
    for v in vlans:
        e = e / Dot1Q(vlan=v)
    return e


def tunnel(src, dst, inner, mode="ipip", vlans=(), options=None, frag=None,
           port=GUE_PORT):
    """inner (bytes or a scapy packet) in an outer header from src to dst;
    frag=(flags, offset) makes the outer IPv4 header a fragment's."""
    body = raw(inner)
    if mode == "gue":
        nh, payload = 17, UDP(sport=0xc123, dport=port, chksum=0) / \
            Raw(body)
    else:
        nh = 41 if (isinstance(inner, IPv6) or
                    (isinstance(inner, bytes) and inner[:1] == b"\x60")) else 4
        payload = Raw(body)
    if v6(dst):
        outer = IPv6(src=src, dst=dst, nh=nh, hlim=64) / payload
    else:
        flags, off = frag or ("DF", 0)
        outer = IP(src=src, dst=dst, proto=nh, ttl=64, id=0, flags=flags,
                   frag=off, options=options or []) / payload
    return Ether(raw(l2(vlans) / outer))


def inner_out(inner, vlans=()):
    return Ether(raw(l2(vlans) / inner))


def with_bytes(pkt, off, data):
    b = bytearray(raw(pkt))
    b[off:off + len(data)] = data
    return Ether(bytes(b))


def accepted(g):
    """(name, frame, expected frame, counter)."""
    rows = []
    for mode in ("ipip", "gue"):
        for osrc, odst in ((LB4, BE4), (LB6, BE6)):
            for dst in (VIP4, VIP6):
                fam = f"{6 if v6(dst) else 4}in{6 if v6(odst) else 4}"
                rows.append((f"{mode}-{fam}", tunnel(osrc, odst, syn(dst),
                                                     mode),
                             inner_out(syn(dst)),
                             f"decap_{mode}{6 if v6(odst) else 4}"))
    rows += [
        ("ipip-4in4-vlan", tunnel(LB4, BE4, syn(VIP4), vlans=(10,)),
         inner_out(syn(VIP4), (10,)), "decap_ipip4"),
        ("gue-6in6-qinq", tunnel(LB6, BE6, syn(VIP6), "gue", (100, 10)),
         inner_out(syn(VIP6), (100, 10)), "decap_gue6"),
        ("ipip-4in4-inner-prefix", tunnel(LB4, BE4, syn("198.18.100.7")),
         inner_out(syn("198.18.100.7")), "decap_ipip4"),
        ("gue-6in6-inner-prefix",
         tunnel(LB6, BE6, syn("2001:db8:100:5::7"), "gue"),
         inner_out(syn("2001:db8:100:5::7")), "decap_gue6"),
    ]
    # Ethernet padding after a short tunnel stays behind the inner packet.
    p = tunnel(LB4, BE4, IP(src=CLIENT4, dst=VIP4, proto=17, ttl=60, id=7))
    rows.append(("ipip-4in4-padded", Ether(raw(p) + b"\0" * 6),
                 Ether(raw(inner_out(IP(src=CLIENT4, dst=VIP4, proto=17,
                                        ttl=60, id=7))) + b"\0" * 6),
                 "decap_ipip4"))
    return rows


def rejected():
    """(name, frame, counter): tunnels that must not be opened."""
    s4, s6 = syn(VIP4), syn(VIP6)
    rows = [
        # The case: a tunnel to an address that is not ours.
        ("outer-dst-foreign", tunnel(FOREIGN4, "198.18.77.77",
                                     syn(BE4, 22)), "reject_outer_dst"),
        ("outer-dst-other-host", tunnel(LB4, "198.18.0.12", s4),
         "reject_outer_dst"),
        ("outer-dst-v6", tunnel(LB6, "2001:db8::12", s6), "reject_outer_dst"),
        ("outer-dst-gue", tunnel(LB4, "198.18.0.12", s4, "gue"),
         "reject_outer_dst"),
        # The inner destination is ours, the source is no balancer.
        ("outer-src-foreign", tunnel(FOREIGN4, BE4, s4), "reject_outer_src"),
        ("outer-src-foreign-v6", tunnel(FOREIGN6, BE6, s4),
         "reject_outer_src"),
        ("outer-src-foreign-gue", tunnel(FOREIGN6, BE6, s6, "gue"),
         "reject_outer_src"),
        ("outer-src-neighbour", tunnel("198.18.0.13", BE4, s4),
         "reject_outer_src"),
        # A balancer's tunnel to an address this host does not hold.
        ("inner-dst-4in4", tunnel(LB4, BE4, syn("198.18.1.2")),
         "reject_inner_dst"),
        ("inner-dst-ssh-of-host", tunnel(LB4, BE4, syn(BE4, 22)),
         "reject_inner_dst"),
        ("inner-dst-6in6", tunnel(LB6, BE6, syn("2001:db8:1::2")),
         "reject_inner_dst"),
        ("inner-dst-gue-4in6", tunnel(LB6, BE6, syn("198.18.101.1"), "gue"),
         "reject_inner_dst"),
        ("inner-dst-beyond-prefix", tunnel(LB4, BE4, syn("2001:db8:101::1")),
         "reject_inner_dst"),
        # ::ffff:198.18.1.1 is IPv6: it must not match the IPv4 VIP.
        ("inner-dst-v4-mapped", tunnel(LB4, BE4, syn("::ffff:198.18.1.1")),
         "reject_inner_dst"),
        # xlb sets DF: an outer fragment is never the balancer's.
        ("fragment-first", tunnel(LB4, BE4, s4, frag=("MF", 0)),
         "reject_fragment"),
        ("fragment-later", tunnel(LB4, BE4, s4, frag=(0, 8)),
         "reject_fragment"),
        ("fragment-gue-first", tunnel(LB4, BE4, s4, "gue", frag=("MF", 0)),
         "reject_fragment"),
    ]
    return rows + malformed()


def malformed():
    """Tunnels to us whose headers are cut short or lie."""
    s4, s6 = syn(VIP4), syn(VIP6)
    t4 = tunnel(LB4, BE4, s4)
    t6 = tunnel(LB6, BE6, s6)
    g4 = tunnel(LB4, BE4, s4, "gue")
    n4 = len(raw(s4))
    rows = [
        ("outer4-totlen-beyond-frame", with_bytes(t4, 16, b"\x01\x00")),
        ("outer4-totlen-cuts-inner",
         with_bytes(t4, 16, (20 + n4 - 4).to_bytes(2, "big"))),
        ("outer4-ihl-3", with_bytes(t4, 14, b"\x43")),
        # encap() writes no options: a header with them is not xlb's.
        ("outer4-options",
         tunnel(LB4, BE4, s4, options=[IPOption(b"\x94\x04\0\0")])),
        ("outer4-version-5", with_bytes(t4, 14, b"\x55")),
        ("outer6-plen-beyond-frame", with_bytes(t6, 18, b"\x04\x00")),
        ("outer6-version-4", with_bytes(t6, 14, b"\x40")),
        ("inner4-totlen-long", with_bytes(t4, 34 + 2,
                                          (n4 + 4).to_bytes(2, "big"))),
        ("inner4-totlen-short", with_bytes(t4, 34 + 2,
                                           (n4 - 4).to_bytes(2, "big"))),
        ("inner4-ihl-4", with_bytes(t4, 34, b"\x44")),
        ("inner6-plen-lies", with_bytes(t6, 54 + 4, b"\x00\x30")),
        ("inner-cut", tunnel(LB4, BE4, b"\x45" * 10)),
        ("inner-not-ip", tunnel(LB4, BE4, b"\x99" * 40)),
        ("proto4-carries-ipv6", with_bytes(tunnel(LB4, BE4, s6), 23,
                                           b"\x04")),
        ("proto41-carries-ipv4", with_bytes(t4, 23, b"\x29")),
        ("gue-udplen-long", with_bytes(g4, 38, (8 + n4 + 1).to_bytes(
            2, "big"))),
        ("gue-udplen-short", with_bytes(g4, 38, (8 + n4 - 1).to_bytes(
            2, "big"))),
        ("gue-variant-0", tunnel(LB4, BE4, b"\x00\x00\x00\x00" + raw(s4),
                                 "gue")),
    ]
    return [(n, p, "reject_malformed") for n, p in rows]


def not_tunnels():
    """What no tunnel of ours is: passed untouched whatever the switch."""
    g4 = tunnel(LB4, BE4, syn(VIP4), "gue")
    return [
        ("plain-tcp", Ether(raw(l2() / IP(src=LB4, dst=BE4) /
                                TCP(dport=22, flags="S")))),
        ("arp", Ether(raw(l2() / ARP(psrc=LB4, pdst=BE4)))),
        ("udp-other-port", Ether(raw(l2() / IP(src=LB4, dst=BE4) /
                                     UDP(sport=1, dport=GUE_PORT + 1) /
                                     raw(syn(VIP4))))),
        ("gue-udp-cut", Ether(raw(g4)[:14 + 20 + 4])),
        ("outer4-cut", Ether(raw(g4)[:14 + 12])),
        # A later fragment of a datagram: its payload is no UDP header.
        ("udp-later-fragment", Ether(raw(l2() / IP(
            src=LB4, dst=BE4, proto=17, frag=2) /
            UDP(sport=1, dport=GUE_PORT) / raw(syn(VIP4))))),
        # xlb writes no IPv6 extension headers.
        ("ipv6-exthdr-then-ipip", Ether(raw(l2() / IPv6(src=LB6, dst=BE6) /
                                            IPv6ExtHdrDestOpt(nh=41) /
                                            syn(VIP6)))),
    ]


def run_all(g, verdict_reject, tag):
    for name, pkt, want, counter in accepted(g):
        g.run(f"decap/{tag}/{name}", "pass", pkt, want, prog="decap")
        g.bump("decap:" + counter)
    for name, pkt, counter in rejected():
        g.run(f"decap/{tag}/{name}", verdict_reject, pkt,
              "=" if verdict_reject == "pass" else None, prog="decap")
        g.bump("decap:" + counter)
    for name, pkt in not_tunnels():
        g.run(f"decap/{tag}/{name}", "pass", pkt, "=", prog="decap")
        g.bump("decap:pass_not_tunnel")


def cases(g):
    # A fresh program decapsulates nothing until its sets are written.
    g.emit("reset flows=4096 ring=251")
    g.counts.clear()
    g.run("decap/unset/ipip", "pass", tunnel(LB4, BE4, syn(VIP4)), "=",
          prog="decap")
    g.run("decap/unset/gue", "pass", tunnel(LB4, BE4, syn(VIP4), "gue"), "=",
          prog="decap")
    g.bump("decap:reject_outer_dst")
    g.bump("decap:pass_not_tunnel")
    g.check_counters()

    # Every kind of tunnel and every reason, rejects passed, then dropped;
    # the counters add up across both.
    g.emit(g.decap_config(OUTER, INNER, BALANCERS))
    run_all(g, "pass", "pass")
    g.check_counters()
    g.emit(g.decap_config(OUTER, INNER, BALANCERS, reject="drop"))
    run_all(g, "drop", "drop")
    g.check_counters()

    # Without a balancers' set any source will do; the rest still holds.
    g.emit(g.decap_config(OUTER, INNER))
    g.run("decap/any-source/accepted", "pass",
          tunnel(FOREIGN4, BE4, syn(VIP4)), inner_out(syn(VIP4)),
          prog="decap")
    g.bump("decap:decap_ipip4")
    g.run("decap/any-source/inner-dst", "pass",
          tunnel(FOREIGN4, BE4, syn("198.18.1.2")), "=", prog="decap")
    g.bump("decap:reject_inner_dst")
    # Balancers as prefixes.
    g.emit(g.decap_config(OUTER, INNER, ["198.18.0.0/28", "2001:db8:b::/48"]))
    for name, src, want, counter in (
            ("in-prefix4", "198.18.0.9", "taken", "decap_ipip4"),
            ("past-prefix4", "198.18.0.16", "=", "reject_outer_src"),
            ("in-prefix6", "2001:db8:b:7::1", "taken", "decap_ipip6"),
            ("past-prefix6", "2001:db8:c::1", "=", "reject_outer_src")):
        dst = BE6 if v6(src) else BE4
        g.run(f"decap/balancer-prefix/{name}", "pass",
              tunnel(src, dst, syn(VIP4)),
              inner_out(syn(VIP4)) if want == "taken" else "=",
              prog="decap")
        g.bump("decap:" + counter)
    # A new set replaces the old one: BE4 is gone, BE6 stays.
    g.emit(g.decap_config(["198.18.0.12", BE6], [VIP4, VIP6]))
    g.run("decap/replaced/old-outer", "pass",
          tunnel(LB4, BE4, syn(VIP4)), "=", prog="decap")
    g.bump("decap:reject_outer_dst")
    g.run("decap/replaced/new-outer", "pass",
          tunnel(LB4, "198.18.0.12", syn(VIP4)), inner_out(syn(VIP4)),
          prog="decap")
    g.bump("decap:decap_ipip4")
    g.run("decap/replaced/kept-outer", "pass",
          tunnel(LB6, BE6, syn(VIP6)), inner_out(syn(VIP6)), prog="decap")
    g.bump("decap:decap_ipip6")
    g.run("decap/replaced/old-inner-prefix", "pass",
          tunnel(LB6, BE6, syn("2001:db8:100::7")), "=", prog="decap")
    g.bump("decap:reject_inner_dst")
    # Another GUE port: 6080 is no tunnel any more.
    g.emit(g.decap_config(OUTER, INNER, gue=7777))
    g.run("decap/gue-port/old", "pass",
          tunnel(LB4, BE4, syn(VIP4), "gue"), "=", prog="decap")
    g.bump("decap:pass_not_tunnel")
    g.run("decap/gue-port/new", "pass",
          tunnel(LB4, BE4, syn(VIP4), "gue", port=7777), inner_out(syn(VIP4)),
          prog="decap")
    g.bump("decap:decap_gue4")
    g.check_counters()
