#!/usr/bin/python3
"""Packet demo: what xlb makes of a few client packets, decoded by scapy.

Runs fixtures through the real XDP program (BPF_PROG_TEST_RUN) with
xlb-pktest and prints each packet before and after."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "pkt"))
import gen_fixtures as g  # noqa: E402
from scapy.all import IP, UDP, Ether, IPv6  # noqa: E402


def describe(b):
    p = Ether(bytes.fromhex(b))
    line = f"{p.src} > {p.dst} | "
    ip = p.payload
    while not isinstance(ip, (IP, IPv6)):
        ip = ip.payload
    inner = ip.payload
    if isinstance(inner, UDP) and inner.dport == g.GUE_PORT:
        line += f"outer {ip.src} > {ip.dst} GUE udp/{inner.sport} | "
        inner = IP(bytes(inner.payload)) if bytes(inner.payload)[0] >> 4 \
            == 4 else IPv6(bytes(inner.payload))
    elif isinstance(inner, (IP, IPv6)):
        line += f"outer {ip.src} > {ip.dst} IPIP | "
    else:
        inner = ip
    return line + inner.summary()

CASES = [
    ("IPv4 TCP to 198.18.1.1:80 (IPIP VIP)", "198.18.1.1:80/tcp", {}),
    ("IPv4 UDP to 198.18.1.2:53 (GUE VIP)", "198.18.1.2:53/udp",
     {"sport": 5353}),
    ("IPv6 TCP to [2001:db8:1::1]:80 (IPIP VIP)", "[2001:db8:1::1]:80/tcp",
     {}),
    ("IPv4 TCP to 198.18.1.4:80 (L2 DSR VIP)", "198.18.1.4:80/tcp", {}),
    ("IPv4 TCP to 198.18.1.5:80 (IPv4 in IPv6)", "198.18.1.5:80/tcp", {}),
    ("IPv4 TCP to 198.18.9.9:80 (not a VIP)", "198.18.9.9:80/tcp", {}),
]


def main(build):
    g.setup()
    for i, (_, vip, kw) in enumerate(CASES):
        g.run(f"case{i}", "tx", g.client_pkt(vip, **kw), None)
    fx = os.path.join(build, "demo-fixtures.txt")
    with open(fx, "w") as f:
        f.write("\n".join(g.out) + "\n")
    env = dict(os.environ, XLB_PKTEST_SHOW="1")
    res = subprocess.run([os.path.join(build, "xlb-pktest"), fx], env=env,
                         capture_output=True, text=True)
    outs = {}
    for line in res.stdout.splitlines():
        if line.startswith("out "):
            _, name, verdict, hin, hout = line.split()
            outs[name] = (verdict, hin, hout)
    print("xlb packet demo: each client packet goes through the XDP program"
          " (BPF_PROG_TEST_RUN); VIPs and backends as in tests/pkt.\n")
    for i, (title, _, _) in enumerate(CASES):
        verdict, hin, hout = outs[f"case{i}"]
        print(f"== {title}")
        print("   in : " + describe(hin))
        word = {"tx": "XDP_TX (sent back out)", "pass": "XDP_PASS (to the "
                "kernel, untouched)"}.get(verdict, verdict)
        print(f"   verdict: {word}")
        if verdict != "pass":
            print("   out: " + describe(hout))
        print()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build")
