#!/usr/bin/env bash
# End to end: what the FIB and the interface's forwarding settings allow.
# xlbd refuses, with the sysctl to set, a backend whose packets need a FIB
# next hop that the kernel would refuse; refuses an mtu too small for
# IPv6 tunnels; and an L2 DSR backend behind a gateway is a counted drop,
# not a loop. In the lab of lab.sh (picture there), one backend:
#
#   [c] 198.18.0.2 ----------------------------------+
#   [g] 198.18.0.3 (a router: forwards, VIP4 via lb) -+
#   [lb] xlbd 198.18.0.10 eth0 -----------------------+ br0
#   [b1] 198.18.0.11 / 2001:db8::11 ------------------+
#   lb: 198.18.5.0/24 via 198.18.0.3 (an off-link "backend" behind g)
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh

trap lab_down EXIT

B1=198.18.0.11
B1_6=2001:db8::11
CONF=

# conf FILE: a configuration with the given node and VIP lines (stdin).
conf() {
	CONF=$LAB/conf.yaml
	cat > "$CONF"
}

# stop: a clean slate (lab.sh).
stop() { lab_xlbd_reset; }

# xlbd_refused: xlbd with $CONF exits at once (not running); its log
# ends with the reason.
xlbd_refused() {
	: > "$LAB/xlbd.log"
	timeout 20 ip netns exec "$P-lb" "$LAB_BUILD/xlbd" -i eth0 \
		-s "$LAB/xlbd.sock" --pin-root "$LAB/bpf" \
		--state "$LAB/state.yaml" -c "$CONF" < /dev/null \
		>> "$LAB/xlbd.log" 2>&1
	local rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ]
}

fwd6() { lab_ns lb sysctl -qw "net.ipv6.conf.eth0.forwarding=$1"; }
fwd4() { lab_ns lb sysctl -qw "net.ipv4.conf.eth0.forwarding=$1"; }

# counter NAME: a balancer counter, from the pins (no daemon needed).
counter() {
	xlbctl -j stats --interval 0.1 | "$LAB_PY" -c '
import json, sys
j = json.load(sys.stdin)
c = j.get("counters", j)
print(c[sys.argv[1]])' "$1"
}

SYSCTL6="sysctl -w net.ipv6.conf.eth0.forwarding=1"
SYSCTL4="sysctl -w net.ipv4.conf.eth0.forwarding=1"

# IPv6 forwarding off, IPv4 on: an IPv6-outer tunnel is refused at start
# with the IPv6 sysctl named; an IPv4-outer one starts.
t_fwd6_start() {
	stop
	fwd6 0
	conf <<-EOF
	vips:
	  - vip: "[$VIP6]:80/tcp"
	    encap: ipip
	    backends:
	      - addr: $B1_6
	EOF
	if ! xlbd_refused; then
		fail fwd6_start "xlbd started with IPv6 forwarding off"
	elif ! grep -qF "$SYSCTL6" "$LAB/xlbd.log"; then
		fail fwd6_start "no '$SYSCTL6' in: $(tail -2 "$LAB/xlbd.log")"
	else
		fwd6 1
		if ! lab_xlbd_start -c "$CONF"; then
			fail fwd6_start "forwarding on, xlbd still refused"
		elif ! lab_wait 10 lab_get "$VIP6"; then
			fail fwd6_start "forwarding on, [$VIP6] did not answer"
		else
			pass "fwd6_start (refused: $(grep -o "IPv6 forwarding is off[^:]*" \
				"$LAB/xlbd.log" | head -1))"
		fi
	fi
	fwd6 1
	stop
}

# The same check for a backend added at run time, and by a reload: refused
# with the same line; an IPv4 backend of the same IPv6 VIP is fine.
t_fwd6_runtime() {
	local out
	stop
	conf <<-EOF
	vips:
	  - vip: "[$VIP6]:80/tcp"
	    encap: ipip
	EOF
	lab_xlbd_start -c "$CONF" || { fail fwd6_runtime "no xlbd"; return; }
	fwd6 0
	out=$(xlbctl backend add "[$VIP6]:80/tcp" "$B1_6" 2>&1)
	if [ $? -eq 0 ]; then
		fail fwd6_runtime "backend add accepted with IPv6 forwarding off"
	elif ! echo "$out" | grep -qF "$SYSCTL6"; then
		fail fwd6_runtime "reason without the sysctl: $out"
	elif ! xlbctl backend add "[$VIP6]:80/tcp" "$B1" > /dev/null; then
		fail fwd6_runtime "an IPv4-outer backend was refused too"
	else
		cat >> "$CONF" <<-EOF
		    backends:
		      - addr: $B1_6
		EOF
		out=$(xlbctl reload 2>&1)
		if [ $? -eq 0 ]; then
			fail fwd6_runtime "reload accepted with IPv6 forwarding off"
		elif ! echo "$out" | grep -qF "$SYSCTL6"; then
			fail fwd6_runtime "reload reason without the sysctl: $out"
		else
			pass "fwd6_runtime (backend add and reload refused: $out)"
		fi
	fi
	fwd6 1
	stop
}

# A gateway MAC stands in for the FIB of tunnels: no refusal. IPv4
# forwarding off refuses IPv4 tunnels with the IPv4 sysctl.
t_fwd4_gw() {
	stop
	fwd4 0
	conf <<-EOF
	vips:
	  - vip: "$VIP4:80/tcp"
	    backends:
	      - addr: $B1
	EOF
	if ! xlbd_refused || ! grep -qF "$SYSCTL4" "$LAB/xlbd.log"; then
		fail fwd4_gw "IPv4 forwarding off: not refused with '$SYSCTL4'"
		fwd4 1
		stop
		return
	fi
	conf <<-EOF
	node:
	  gateway-mac: "$(lab_mac 0 11)"
	vips:
	  - vip: "$VIP4:80/tcp"
	    backends:
	      - addr: $B1
	EOF
	if ! lab_xlbd_start -c "$CONF"; then
		fail fwd4_gw "refused with a gateway-mac: $(tail -1 "$LAB/xlbd.log")"
	elif [ "$(lab_get "$VIP4")" != b1 ]; then
		fail fwd4_gw "no answer through the gateway MAC"
	else
		pass "fwd4_gw (IPv4 off refused; with gateway-mac served)"
	fi
	fwd4 1
	stop
}

# mtu below 1280 + the tunnel's overhead with an IPv6 VIP: refused; the
# least mtu that fits starts.
t_mtu6() {
	stop
	conf <<-EOF
	node:
	  mtu: 1319
	vips:
	  - vip: "[$VIP6]:80/tcp"
	    encap: ipip
	    backends:
	      - addr: $B1_6
	EOF
	if ! xlbd_refused; then
		fail mtu6 "mtu 1319 accepted for an IPv6-in-IPv6 VIP"
	elif ! grep -q "mtu 1319 is too small.*needs 1320" "$LAB/xlbd.log"; then
		fail mtu6 "reason: $(tail -1 "$LAB/xlbd.log")"
	else
		sed -i 's/mtu: 1319/mtu: 1320/' "$CONF"
		if ! lab_xlbd_start -c "$CONF"; then
			fail mtu6 "mtu 1320 refused: $(tail -1 "$LAB/xlbd.log")"
		else
			pass "mtu6 ($(grep -o "mtu 1319 is too small[^(]*" \
				"$LAB/xlbd.log" | head -1))"
		fi
	fi
	stop
}

# L2 DSR to a backend the FIB reaches through a gateway (g, which routes
# the VIP back to lb): each packet would go round until its TTL ran out
# (about 60 times). Dropped and counted instead: tx does not move.
t_l2_offlink() {
	local tx0 tx1 d0 d1
	stop
	if [ ! -e "/run/netns/$P-g" ]; then
		lab_host g 3
		lab_ns g sysctl -qw net.ipv4.conf.all.forwarding=1 \
			net.ipv4.conf.all.send_redirects=0 \
			net.ipv4.conf.eth0.send_redirects=0
		ip -n "$P-g" route add 198.18.1.0/24 via 198.18.0.10
		ip -n "$P-lb" neigh replace 198.18.0.3 lladdr "$(lab_mac 0 3)" \
			dev eth0 nud permanent
	fi
	ip -n "$P-lb" route replace 198.18.5.0/24 via 198.18.0.3
	conf <<-EOF
	vips:
	  - vip: "$VIP4:80/tcp"
	    encap: l2
	    backends:
	      - addr: 198.18.5.1
	EOF
	lab_xlbd_start -c "$CONF" || { fail l2_offlink "no xlbd"; return; }
	tx0=$(counter tx)
	d0=$(counter drop_l2_offlink)
	# curl waits its full second: a loop, if any, ends within it (TTL).
	lab_ns c curl -s --max-time 1 "http://$VIP4/" > /dev/null
	tx1=$(counter tx)
	d1=$(counter drop_l2_offlink)
	if [ "$d1" -le "$d0" ]; then
		fail l2_offlink "drop_l2_offlink stayed at $d0 (tx $tx0 -> $tx1)"
	elif [ "$tx1" -ne "$tx0" ]; then
		fail l2_offlink "tx moved $tx0 -> $tx1: the packet went round"
	else
		pass "l2_offlink (drop_l2_offlink +$((d1 - d0)), tx unchanged)"
	fi
	ip -n "$P-lb" route del 198.18.5.0/24
	stop
}

# vip_field VIP FIELD: a member of the VIP in xlbctl list -j.
vip_field() {
	xlbctl -j list | "$LAB_PY" -c '
import json, sys
for v in json.load(sys.stdin)["vips"]:
    if v["vip"] == sys.argv[1]:
        print(v[sys.argv[2]])' "$1" "$2"
}

# flow_total: entries xlbctl flows counts.
flow_total() {
	xlbctl -j flows | "$LAB_PY" -c '
import json, sys
print(json.load(sys.stdin)["total"])'
}

# flow-table: off in the file: requests are served, no entry is kept;
# turned on by a reload (no restart), entries appear, with their state.
t_flow_off() {
	local got n ft
	stop
	conf <<-EOF
	vips:
	  - vip: "$VIP4:80/tcp"
	    flow-table: off
	    backends:
	      - addr: $B1
	EOF
	lab_xlbd_start -c "$CONF" || { fail flow_off "no xlbd"; return; }
	got=$(spread 5)
	n=$(flow_total)
	ft=$(vip_field "$VIP4:80/tcp" flow_table)
	if [ "$got" != "5 0 0 0" ]; then
		fail flow_off "requests: $got (b1 b2 b3 failed)"
	elif [ "$n" != 0 ] || [ "$ft" != off ]; then
		fail flow_off "flow-table off: $n entries, list says '$ft'"
	else
		sed -i '/flow-table: off/d' "$CONF"
		xlbctl reload > /dev/null
		spread 2 > /dev/null
		if [ "$(vip_field "$VIP4:80/tcp" flow_table)" != on ] ||
			[ "$(flow_total)" -lt 1 ]; then
			fail flow_off "reload to on: no entries"
		elif ! xlbctl flows | grep -q "STATE"; then
			fail flow_off "xlbctl flows shows no STATE column"
		else
			pass "flow_off (5 requests, 0 entries; on by reload: $(
				flow_total) entries)"
		fi
	fi
	stop
}

# udp-idle from xlbctl and from the file, visible in list -j, changed by
# a reload in place; out of range refused.
t_udp_idle() {
	local vip="$VIP4:53/udp"
	stop
	conf <<-EOF
	vips:
	  - vip: "$vip"
	    udp-idle: 30
	EOF
	lab_xlbd_start -c "$CONF" || { fail udp_idle "no xlbd"; return; }
	if [ "$(vip_field "$vip" udp_idle)" != 30 ]; then
		fail udp_idle "file udp-idle 30: list says $(vip_field "$vip" udp_idle)"
	elif ! xlbctl vip add "$VIP4:54/udp" --udp-idle 7 > /dev/null ||
		[ "$(vip_field "$VIP4:54/udp" udp_idle)" != 7 ]; then
		fail udp_idle "xlbctl --udp-idle 7 not shown"
	elif xlbctl vip add "$VIP4:55/udp" --udp-idle 0 > /dev/null 2>&1; then
		fail udp_idle "udp-idle 0 accepted"
	else
		sed -i 's/udp-idle: 30/udp-idle: 45/' "$CONF"
		xlbctl reload > /dev/null
		if [ "$(vip_field "$vip" udp_idle)" != 45 ]; then
			fail udp_idle "reload to 45: $(vip_field "$vip" udp_idle)"
		else
			pass "udp_idle (file 30, xlbctl 7, reload 45; 0 refused)"
		fi
	fi
	stop
}

CASES=${TESTS:-"fwd6_start fwd6_runtime fwd4_gw mtu6 l2_offlink flow_off udp_idle"}

if ! lab_up 1; then
	echo "FAIL lab: did not come up"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
for c in $CASES; do
	"t_$c"
done
echo "e2e: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
