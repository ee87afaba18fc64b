#!/usr/bin/python3
"""Send a tunnelled TCP SYN the way a balancer would, from any source, and
say whether the inner SYN reached a TCP stack: "answered" when a SYN-ACK or
RST comes back from the inner destination, "silent" when none does within
the timeout. Used by tests/e2e/test_decap.sh from the client namespace.

tunnel_probe.py IFACE DST_MAC OUTER_SRC OUTER_DST INNER_SRC INNER_DST PORT
                [--gue UDP_PORT] [--timeout S]
"""
import argparse
import logging
import random

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (AsyncSniffer, Ether, IP, IPv6, TCP,  # noqa: E402
                       UDP, conf, get_if_hwaddr, sendp)


def ip(src, dst, **kw):
    return IPv6(src=src, dst=dst, **kw) if ":" in dst else \
        IP(src=src, dst=dst, flags="DF", **kw)


def main():
    a = argparse.ArgumentParser()
    for n in ("iface", "dst_mac", "outer_src", "outer_dst", "inner_src",
              "inner_dst"):
        a.add_argument(n)
    a.add_argument("port", type=int)
    a.add_argument("--gue", type=int)
    a.add_argument("--timeout", type=float, default=2.0)
    o = a.parse_args()
    conf.verb = 0
    sport = random.randint(20000, 60000)
    inner = ip(o.inner_src, o.inner_dst) / TCP(sport=sport, dport=o.port,
                                               flags="S", seq=4242)
    if o.gue:
        outer = ip(o.outer_src, o.outer_dst) / UDP(sport=50000, dport=o.gue,
                                                   chksum=0) / inner
    else:
        outer = ip(o.outer_src, o.outer_dst) / inner
    l3 = IPv6 if ":" in o.inner_dst else IP

    def reply(p):
        # In Python: this scapy has no libpcap to compile a filter.
        return (l3 in p and TCP in p and p[l3].src == o.inner_dst and
                p[TCP].sport == o.port and p[TCP].dport == sport)
    started = []
    sniff = AsyncSniffer(
        iface=o.iface, count=1, timeout=o.timeout,
        lfilter=reply,
        started_callback=lambda: started.append(1))
    sniff.start()
    for _ in range(500):        # the capture is open within 5 s
        if started:
            break
        sniff.join(0.01)
    # Our MAC as the source: scapy would look it up by routing the outer
    # destination, which a forged one need not have.
    sendp(Ether(src=get_if_hwaddr(o.iface), dst=o.dst_mac) / outer,
          iface=o.iface, count=2, inter=0.2)
    sniff.join()
    print("answered" if sniff.results else "silent")


if __name__ == "__main__":
    main()
