#!/usr/bin/env bash
# End to end: the backend's decap program takes the balancer's tunnels and
# no one else's. In the lab of lab.sh (picture there), xlbd sends VIP4:80
# (IPIP) and [VIP6]:80 (GUE) to b1, which runs `xlbctl decap attach eth0`
# with its defaults. The client then forges tunnels with scapy
# (tunnel_probe.py), each carrying a SYN to port 80 of the VIP, where b1's
# HTTP server listens: a SYN-ACK back means the forged tunnel was opened.
#
#   [c] 198.18.0.2 --- forged IPIP/GUE, L2 to b1 --------------+
#   [lb] xlbd 198.18.0.10 --- IPIP/GUE --> [b1] 198.18.0.11   eth0: xlb_decap
#                                           lo: VIP4, VIP6, HTTP on :80
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh

trap lab_down EXIT

B1=198.18.0.11
B1_6=2001:db8::11
B1_MAC=$(lab_mac 0 11)
C4=198.18.0.2
C6=2001:db8::2
PROBE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tunnel_probe.py

b1ctl() { lab_ns b1 "$LAB_BUILD/xlbctl" "$@"; }

# dcount NAME: a counter of b1's decap program.
dcount() {
	b1ctl -j decap stats eth0 | "$LAB_PY" -c '
import json, sys
print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

# probe OUTER_SRC OUTER_DST INNER_DST [--gue PORT]: a forged tunnel from
# the client to b1's MAC; prints answered or silent.
probe() {
	local isrc=$C4
	case $3 in *:*) isrc=$C6 ;; esac
	lab_ns c "$LAB_PY" "$PROBE" eth0 "$B1_MAC" "$1" "$2" "$isrc" "$3" 80 \
		"${@:4}"
}

# forged NAME COUNTER EXPECT OUTER_SRC OUTER_DST INNER_DST [--gue PORT]:
# one forged tunnel; EXPECT answered|silent, and COUNTER must move.
forged() {
	local name=$1 counter=$2 want=$3 before after got
	before=$(dcount "$counter")
	got=$(probe "${@:4}")
	after=$(dcount "$counter")
	if [ "$got" != "$want" ]; then
		fail "$name" "the forged SYN was $got, want $want"
	elif [ "$after" -le "$before" ]; then
		fail "$name" "$counter stayed at $before"
	else
		pass "$name ($got, $counter +$((after - before)))"
	fi
}

# real NAME: the lab's own traffic still reaches b1 through xlb.
real() {
	local a b c4 c6
	c4=$(dcount decap_ipip4)
	c6=$(dcount decap_gue6)
	a=$(lab_get "$VIP4")
	b=$(lab_get "$VIP6")
	if [ "$a" != b1 ] || [ "$b" != b1 ]; then
		fail "$1" "VIP4 answered '$a', VIP6 '$b' (want b1 twice)"
	elif [ "$(dcount decap_ipip4)" -le "$c4" ] ||
		[ "$(dcount decap_gue6)" -le "$c6" ]; then
		fail "$1" "decap_ipip4 or decap_gue6 did not move"
	else
		pass "$1 (VIP4 over IPIP, VIP6 over GUE, both decapsulated)"
	fi
}

t_defaults() {
	local j
	j=$(b1ctl -j decap stats eth0) || { fail defaults "no stats"; return; }
	echo "$j" | "$LAB_PY" -c '
import json, sys
d = json.load(sys.stdin)
b1, b1_6, v4, v6 = sys.argv[1:]
assert b1 in d["outer"] and b1_6 in d["outer"], d["outer"]
assert v4 not in d["outer"], d["outer"]
assert {b1, v4, v6} <= set(d["inner"]), d["inner"]
assert "127.0.0.1" not in d["inner"] and "::1" not in d["inner"]
assert d["balancers"] is None and d["reject"] == "pass"
assert d["gue_port"] == 6080
' "$B1" "$B1_6" "$VIP4" "$VIP6" 2>"$LAB/defaults.err" &&
		pass "defaults (outer: eth0's addresses, inner: the host's, any source)" ||
		fail defaults "$(tail -1 "$LAB/defaults.err")"
}

# The probe can see a tunnel being opened: one the sets allow is answered.
t_control() {
	forged control decap_ipip4 answered "$C4" "$B1" "$VIP4"
}

t_foreign_dst() {
	forged foreign-dst reject_outer_dst silent 198.19.99.99 198.18.77.77 \
		"$VIP4"
	forged foreign-dst-gue6 reject_outer_dst silent 2001:db8:99::99 \
		2001:db8::77 "$VIP6" --gue 6080
}

t_inner_dst() {
	# To b2's address: b1 does not hold it.
	forged inner-dst reject_inner_dst silent "$C4" "$B1" 198.18.0.12
}

t_balancers() {
	local id0 id1
	id0=$(b1ctl -j decap stats eth0 | "$LAB_PY" -c '
import json, sys; print(json.load(sys.stdin)["program_id"])')
	b1ctl decap attach eth0 --balancers 198.18.0.10,2001:db8::10 || {
		fail balancers "attach --balancers refused"; return; }
	id1=$(b1ctl -j decap stats eth0 | "$LAB_PY" -c '
import json, sys; print(json.load(sys.stdin)["program_id"])')
	[ "$id0" = "$id1" ] || fail balancers "program replaced ($id0 -> $id1)"
	forged foreign-src reject_outer_src silent "$C4" "$B1" "$VIP4"
	forged foreign-src-6in6 reject_outer_src silent "$C6" "$B1_6" "$VIP6"
	real balancers-real
	b1ctl decap attach eth0 --balancers 198.18.0.10,2001:db8::10 \
		--reject drop || { fail balancers "attach --reject drop refused"
		return; }
	forged foreign-src-drop reject_outer_src silent "$C4" "$B1" "$VIP4"
	real drop-real
	# Back to the defaults: any source again.
	b1ctl decap attach eth0 && forged defaults-again decap_ipip4 answered \
		"$C4" "$B1" "$VIP4"
}

t_real() { real real; }

CASES=${TESTS:-"defaults real control foreign_dst inner_dst balancers"}

if ! lab_up 2; then
	echo "FAIL lab: could not build the lab"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
if ! lab_xlbd_start ||
	! xlbctl vip add "$VIP4:80/tcp" --encap ipip ||
	! xlbctl backend add "$VIP4:80/tcp" "$B1" ||
	! xlbctl vip add "[$VIP6]:80/tcp" --encap gue ||
	! xlbctl backend add "[$VIP6]:80/tcp" "$B1_6"; then
	echo "FAIL xlbd: did not start ($(tail -3 "$LAB/xlbd.log"))"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
# Neighbour discovery starts once link-local addresses leave DAD: until
# then a first IPv6 request can time out. Wait for one to get through.
lab_wait 10 lab_get "$VIP6" || echo "  (no IPv6 answer within 10 s)"
lab_run_cases $CASES
