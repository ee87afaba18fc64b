#!/usr/bin/env bash
# FIB next-hop fixtures, run inside a namespace that has the routes and
# neighbours they need. Prints pktest's lines; exit status is pktest's.
#
#   [ns xlbf$$]
#     xa 02:..:10 198.18.0.10/24 --- (peer ya) neighbours .0.1 (gw), .0.20
#     xc 02:..:20 198.18.4.10/24 --- (peer yc) neighbour .4.1 (gw)
#     198.18.2.0/24 via 198.18.0.1 dev xa; 198.18.3.0/24 via 198.18.4.1 dev xc
#     xa 2001:db8::10/64, 2001:db8:2::/64 via 2001:db8::1; IPv6 forwarding off
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
NS=xlbf$$
trap 'ip netns del $NS 2>/dev/null || true' EXIT
ip netns add $NS
n() { ip -n $NS "$@"; }
n link add xa address 02:00:00:00:00:10 type veth peer name ya
n link add xc address 02:00:00:00:00:20 type veth peer name yc
for i in xa ya xc yc; do n link set $i up; done
n addr add 198.18.0.10/24 dev xa
n addr add 198.18.4.10/24 dev xc
n neigh add 198.18.0.1 lladdr 02:00:00:00:00:fe dev xa nud permanent
n neigh add 198.18.0.20 lladdr 02:00:00:00:00:b1 dev xa nud permanent
n neigh add 198.18.4.1 lladdr 02:00:00:00:00:fd dev xc nud permanent
n route add 198.18.2.0/24 via 198.18.0.1 dev xa
n route add 198.18.3.0/24 via 198.18.4.1 dev xc
n addr add 2001:db8::10/64 dev xa nodad
n neigh add 2001:db8::1 lladdr 02:00:00:00:00:fe dev xa nud permanent
n -6 route add 2001:db8:2::/64 via 2001:db8::1 dev xa
# IPv4 forwards, IPv6 does not (a new namespace's default, said here).
ip netns exec $NS sysctl -qw net.ipv4.conf.all.forwarding=1 \
	net.ipv6.conf.all.forwarding=0 net.ipv6.conf.xa.forwarding=0
/usr/bin/python3 tests/pkt/gen_fixtures.py fib > "$BUILD/fixtures-fib.txt"
ip netns exec $NS "$BUILD/xlb-pktest" "$BUILD/fixtures-fib.txt"
