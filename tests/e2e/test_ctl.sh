#!/usr/bin/env bash
# End to end: the real xlbd and xlbctl, real TCP (curl) to real HTTP servers
# behind the decap program, in the lab of lab.sh (one lab for all cases).
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh

trap lab_down EXIT

setup_vip() {
	xlbctl vip add "$VIP4:80/tcp" --encap ipip &&
		xlbctl backend add "$VIP4:80/tcp" 198.18.0.11 &&
		xlbctl backend add "$VIP4:80/tcp" 198.18.0.12 &&
		xlbctl backend add "$VIP4:80/tcp" 198.18.0.13
}

t_spread() {
	local r
	read -r -a r <<< "$(spread 90)"
	# Equal weights: each backend should get about 30 of 90; >= 12 is
	# > 3 standard deviations below (sd of a binomial(90, 1/3) is 4.5).
	if [ "${r[3]}" -ne 0 ]; then
		fail spread "${r[3]} failed requests"
	elif [ "${r[0]}" -lt 12 ] || [ "${r[1]}" -lt 12 ] || [ "${r[2]}" -lt 12 ]; then
		fail spread "uneven: b1=${r[0]} b2=${r[1]} b3=${r[2]}"
	else
		pass "spread (b1=${r[0]} b2=${r[1]} b3=${r[2]})"
	fi
}

# vip_remake ALGO W1 W2 W3: the VIP again with ALGO and backend weights.
vip_remake() {
	local v="$VIP4:80/tcp"
	xlbctl vip del "$v" > /dev/null &&
		xlbctl vip add "$v" --encap ipip --algo "$1" > /dev/null &&
		xlbctl backend add "$v" 198.18.0.11 --weight "$2" > /dev/null &&
		xlbctl backend add "$v" 198.18.0.12 --weight "$3" > /dev/null &&
		xlbctl backend add "$v" 198.18.0.13 --weight "$4" > /dev/null
}

# sh: a VIP with source hashing keeps each client on one backend: 20
# connections from one address all reach one backend, and so do every
# address's 5; six addresses reach more than one backend (a fact of these
# addresses: the hash is fixed). The VIP is put back as it was.
t_sh() {
	local v="$VIP4:80/tcp" a i out why="" used=""
	declare -A seen=()
	if ! vip_remake sh 100 100 100; then
		fail sh "could not make the sh VIP"
		xlbctl vip del "$v" > /dev/null 2>&1; setup_vip > /dev/null
		return
	fi
	xlbctl -j list | grep -q '"algo":"sh"' || why="list -j shows no algo sh;"
	lab_ns lb curl -sS --max-time 2 http://198.18.0.10:9100/metrics |
		grep -q "^xlb_vip_info{vip=\"$v\",algo=\"sh\",encap=\"ipip\"} 1\$" ||
		why="$why no xlb_vip_info with algo sh;"
	for i in 1 2 3 4 5 6; do
		ip -n "$P-c" addr add "198.18.0.10$i/24" dev eth0
	done
	for i in 1 2 3 4 5 6; do
		a=198.18.0.10$i
		declare -A c=()
		for n in $(seq $([ "$i" = 1 ] && echo 20 || echo 5)); do
			out=$(lab_ns c curl -sS --max-time 2 --connect-timeout 1 \
				--interface "$a" "http://$VIP4/" 2>/dev/null) ||
				out=failed
			c[$out]=1
		done
		[ "${#c[@]}" = 1 ] && [ -z "${c[failed]:-}" ] ||
			why="$why $a reached ${!c[*]};"
		seen[${!c[*]}]=1
		used="$used $a:${!c[*]}"
		unset c
	done
	[ "${#seen[@]}" -ge 2 ] || why="$why six clients, one backend:$used;"
	for i in 1 2 3 4 5 6; do
		ip -n "$P-c" addr del "198.18.0.10$i/24" dev eth0
	done
	xlbctl vip del "$v" > /dev/null && setup_vip > /dev/null ||
		why="$why VIP not restored"
	[ -z "$why" ] && pass "sh (one backend per client:$used)" ||
		fail sh "$why"
}

# turn: rr and wrr with real TCP. Each CPU that receives SYNs walks the
# ring from its own position; a run of k turns gives a backend k * w / W
# turns give or take less than 3 (tests/unit/test_algo.c; 1 for rr), so
# on this 2-CPU machine: rr, 30 connections over weights 1:5:9 (ignored):
# 10 each +-2; wrr, 60 over 3:2:1: 30, 20, 10, +-6.
t_turn() {
	local r why=""
	if ! vip_remake rr 1 5 9; then
		fail turn "could not make the rr VIP"
	else
		read -r -a r <<< "$(spread 30)"
		for i in 0 1 2; do
			[ "${r[$i]}" -ge 8 ] && [ "${r[$i]}" -le 12 ] ||
				why="$why rr: ${r[*]} (want 10 each +-2);"
		done
		[ "${r[3]}" = 0 ] || why="$why rr: ${r[3]} failed;"
		echo "  turn: rr 30 connections: b1=${r[0]} b2=${r[1]} b3=${r[2]}"
	fi
	if ! vip_remake wrr 3 2 1; then
		why="$why could not make the wrr VIP"
	else
		read -r -a r <<< "$(spread 60)"
		[ "${r[0]}" -ge 24 ] && [ "${r[0]}" -le 36 ] &&
			[ "${r[1]}" -ge 14 ] && [ "${r[1]}" -le 26 ] &&
			[ "${r[2]}" -ge 4 ] && [ "${r[2]}" -le 16 ] &&
			[ "${r[3]}" = 0 ] ||
			why="$why wrr: ${r[*]} (want 30 20 10 +-6, 0 failed);"
		echo "  turn: wrr 60 connections: b1=${r[0]} b2=${r[1]} b3=${r[2]}"
	fi
	xlbctl vip del "$VIP4:80/tcp" > /dev/null; setup_vip > /dev/null ||
		why="$why VIP not restored"
	[ -z "$why" ] && pass "turn (rr and wrr shares within their bounds)" ||
		fail turn "$why"
}

# active_sum: the VIP's backends' connections_active, summed (-j list).
active_sum() {
	xlbctl -j list | "$LAB_PY" -c '
import json, sys
print(sum(b.get("connections_active", 0) for v in json.load(sys.stdin)["vips"]
          for b in v.get("backends", [])))'
}
active_is() { [ "$(active_sum)" = "$1" ]; }

# active: 12 open connections are 12 active ones (list -j, metrics); 6
# half-closed by the client (FIN) leave 6; the other 6 reset (RST): 0.
t_active() {
	local why="" base m pid
	base=$(active_sum)
	lab_ns c "$LAB_PY" - "$VIP4" "$LAB/active" <<-'EOF' &
	import os, socket, struct, sys, time
	def wait_for(name):
	    for _ in range(200):		# at most 20 s
	        if os.path.exists(sys.argv[2] + name):
	            return
	        time.sleep(0.1)
	socks = []
	for i in range(12):
	    s = socket.create_connection((sys.argv[1], 80), timeout=2)
	    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	    s.recv(4096)
	    socks.append(s)
	open(sys.argv[2] + ".open", "w").close()
	wait_for(".fin")
	for s in socks[:6]:
	    s.shutdown(socket.SHUT_WR)		# FIN
	open(sys.argv[2] + ".fin-sent", "w").close()
	wait_for(".rst")
	for s in socks[6:]:			# RST: linger 0
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
	                 struct.pack("ii", 1, 0))
	    s.close()
	EOF
	pid=$!
	lab_wait 10 test -e "$LAB/active.open" || why="connections not open;"
	lab_wait 5 active_is $((base + 12)) ||
		why="$why $(active_sum) active, want $((base + 12));"
	m=$(lab_ns lb curl -sS --max-time 2 http://198.18.0.10:9100/metrics |
		awk '/^xlb_backend_connections_active/ {s += $2} END {print s + 0}')
	[ "$m" = $((base + 12)) ] || why="$why metrics say $m;"
	touch "$LAB/active.fin"
	lab_wait 5 test -e "$LAB/active.fin-sent" &&
		lab_wait 5 active_is $((base + 6)) ||
		why="$why $(active_sum) active after 6 FINs, want $((base + 6));"
	touch "$LAB/active.rst"
	wait "$pid"
	lab_wait 5 active_is "$base" ||
		why="$why $(active_sum) active after 6 RSTs, want $base"
	[ -z "$why" ] && pass "active (12 open, 6 after 6 FINs, $base after 6 RSTs)" ||
		fail active "$why"
}

# loaded ALGO MAX: b1 holds 20 open connections (b2 and b3 drained while
# they opened); then 60 new connections over all three; b1 must take at
# most MAX of them. p2c takes b1 only when both its draws are b1 (1 in 9):
# about 7, MAX 15; lc never while b2 or b3 hold fewer (the new ones close
# at once): MAX 2. Maglev would give b1 about 20, rr exactly 20.
loaded() {
	local algo=$1 max=$2 why="" pid r v="$VIP4:80/tcp"
	vip_remake "$algo" 100 100 100 ||
		{ fail "$algo" "could not make the $algo VIP"; return; }
	xlbctl backend drain "$v" 198.18.0.12 > /dev/null &&
		xlbctl backend drain "$v" 198.18.0.13 > /dev/null ||
		why="drain refused;"
	rm -f "$LAB/loaded.ready"
	lab_ns c "$LAB_PY" tests/e2e/longconn.py "$VIP4" --conns 20 \
		--duration 30 --ready "$LAB/loaded.ready" < /dev/null \
		> "$LAB/loaded.json" 2>&1 &
	pid=$!
	lab_wait 10 test -s "$LAB/loaded.ready" || why="$why longconn not ready;"
	xlbctl backend undrain "$v" 198.18.0.12 > /dev/null &&
		xlbctl backend undrain "$v" 198.18.0.13 > /dev/null ||
		why="$why undrain refused;"
	read -r -a r <<< "$(spread 60)"
	echo "  $algo: b1 holds 20 connections; 60 new: b1=${r[0]} b2=${r[1]} b3=${r[2]}"
	[ "${r[0]}" -le "$max" ] && [ "${r[3]}" = 0 ] ||
		why="$why b1 took ${r[0]} of 60 (want <= $max), ${r[3]} failed;"
	kill -TERM "$pid" 2> /dev/null
	wait "$pid"
	xlbctl vip del "$v" > /dev/null; setup_vip > /dev/null ||
		why="$why VIP not restored"
	[ -z "$why" ] && pass "$algo (the loaded backend took ${r[0]} of 60)" ||
		fail "$algo" "$why"
}
t_p2c() { loaded p2c 15; }
t_lc() { loaded lc 2; }

t_weights() {
	local r share
	xlbctl backend set-weight "$VIP4:80/tcp" 198.18.0.11 400 || {
		fail weights "set-weight refused"; return; }
	read -r -a r <<< "$(spread 120)"
	xlbctl backend set-weight "$VIP4:80/tcp" 198.18.0.11 100
	share=$((100 * r[0] / 120))
	# Weights 400:100:100 make b1's share 2/3; binomial sd over 120
	# requests is 4.3 %, so 50..83 % is a wide but telling window.
	if [ "${r[3]}" -ne 0 ] || [ "$share" -lt 50 ] || [ "$share" -gt 83 ]; then
		fail weights "b1=${r[0]} b2=${r[1]} b3=${r[2]} failed=${r[3]}"
	else
		pass "weights (b1 got $share %)"
	fi
}

t_drain() {
	local r
	xlbctl backend drain "$VIP4:80/tcp" 198.18.0.12 || {
		fail drain "drain refused"; return; }
	read -r -a r <<< "$(spread 60)"
	xlbctl backend undrain "$VIP4:80/tcp" 198.18.0.12
	if [ "${r[1]}" -ne 0 ] || [ "${r[3]}" -ne 0 ]; then
		fail drain "b2 got ${r[1]} new connections, ${r[3]} failed"
	elif ! xlbctl -j list | grep -q '"drained"'; then
		fail drain "list shows no drain state"
	else
		pass "drain (b1=${r[0]} b2=0 b3=${r[2]})"
	fi
}

# busiest: the VIP's backend with the most active connections (-j list).
busiest() {
	xlbctl -j list | "$LAB_PY" -c '
import json, sys
bes = [b for v in json.load(sys.stdin)["vips"] for b in v.get("backends", [])]
print(max(bes, key=lambda b: b.get("connections_active", 0))["addr"])'
}

sweeps() { xlbctl -j list | "$LAB_PY" -c 'import json, sys; print(json.load(sys.stdin)["active_sweeps"])'; }
sweeps_past() { [ "$(sweeps)" -ge "$1" ]; }

# drainwait: 6 open connections; the busiest backend drained with --wait
# gives up at its timeout (exit 1, "still active") and list says
# "draining"; a second --wait still waits two sweeps later, and returns 0
# once the client has closed them all (FIN), list then saying "drained".
t_drainwait() {
	local why="" base be out rc pid s v="$VIP4:80/tcp"
	# The count before, from a sweep after the previous case's
	# connections closed (one taken while they were open is stale).
	s=$(sweeps)
	lab_wait 5 sweeps_past $((s + 2))
	base=$(active_sum)
	lab_ns c "$LAB_PY" - "$VIP4" "$LAB/dw" <<-'EOF' &
	import os, socket, sys, time
	socks = []
	for i in range(6):
	    s = socket.create_connection((sys.argv[1], 80), timeout=2)
	    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	    s.recv(4096)
	    socks.append(s)
	open(sys.argv[2] + ".open", "w").close()
	for _ in range(300):			# at most 30 s
	    if os.path.exists(sys.argv[2] + ".close"):
	        break
	    time.sleep(0.1)
	for s in socks:
	    s.close()				# FIN
	EOF
	pid=$!
	lab_wait 10 test -e "$LAB/dw.open" && lab_wait 5 active_is $((base + 6)) ||
		why="connections not open ($(active_sum) active);"
	be=$(busiest)
	out=$(xlbctl backend drain "$v" "$be" --wait --timeout 1.5 2>&1); rc=$?
	[ "$rc" != 0 ] && [[ $out == *"still active"* ]] ||
		why="$why --wait with connections open: exit $rc, '$out';"
	xlbctl list | grep -F " $be " | grep -qw draining ||
		why="$why list: $(xlbctl list | grep -F " $be ");"
	xlbctl backend drain "$v" "$be" --wait --timeout 20 > "$LAB/dw.out" 2>&1 &
	local waiter=$!
	s=$(sweeps)
	lab_wait 5 sweeps_past $((s + 2)) || why="$why no sweeps;"
	kill -0 "$waiter" 2>/dev/null ||
		why="$why --wait returned with connections open: $(cat "$LAB/dw.out");"
	touch "$LAB/dw.close"
	wait "$pid"
	wait "$waiter"; rc=$?
	[ "$rc" = 0 ] && grep -q "no active connection" "$LAB/dw.out" ||
		why="$why --wait after the close: exit $rc, '$(cat "$LAB/dw.out")';"
	xlbctl list | grep -F " $be " | grep -qw drained ||
		why="$why list after: $(xlbctl list | grep -F " $be ");"
	xlbctl backend undrain "$v" "$be"
	if [ -z "$why" ]; then
		pass "drainwait ($be: --wait timed out while its connections were open, returned once they closed: $(cat "$LAB/dw.out"))"
	else
		fail drainwait "$why"
	fi
}

# link_prog: the id of the program the balancer's pinned link runs.
link_prog() {
	bpftool -j link show pinned "$LAB/bpf/xlb/eth0/link" |
		"$LAB_PY" -c 'import json, sys; print(json.load(sys.stdin)["prog_id"])'
}

# capture: xlbctl capture -c 20 of the VIP's packets under a request loop
# writes a pcap tcpdump reads: 20 client packets to the VIP as they came
# in, each beside the IPIP packet that left for a backend; --backend keeps
# only one backend's; afterwards the link runs the balancer it ran before.
# A capture killed with SIGKILL leaves the capture build in the link
# (still forwarding); capture --stop puts the balancer back.
t_capture() {
	local why="" v="$VIP4:80/tcp" p0 out in enc pid n
	p0=$(link_prog)
	spread 400 > /dev/null &
	local loop=$!
	out=$(xlbctl capture --vip "$v" -c 20 -w "$LAB/cap.pcap" 2>&1) ||
		why="capture failed: $out;"
	[ "$(link_prog)" = "$p0" ] || why="$why link runs $(link_prog), was $p0;"
	# A frame out shows as "IP lb > backend: IP client > VIP.80", so the
	# frames in are the VIP's lines without an outer header.
	enc=$(tcpdump -nr "$LAB/cap.pcap" 2>/dev/null | grep -cE "IP 198\.18\.0\.10 > 198\.18\.0\.1[123]: IP .* > $VIP4\.80: ")
	in=$(($(tcpdump -nr "$LAB/cap.pcap" 2>/dev/null | grep -c "> $VIP4.80: ") - enc))
	[ "$in" = 20 ] && [ "$enc" = 20 ] ||
		why="$why tcpdump: $in packets to the VIP, $enc of them in IPIP to a backend ($out);"
	xlbctl capture --vip "$v" --backend 198.18.0.12 -c 5 -w "$LAB/cap2.pcap" > /dev/null 2>&1 ||
		why="$why backend capture failed;"
	n=$(tcpdump -nr "$LAB/cap2.pcap" 2>/dev/null | grep -cE "IP 198\.18\.0\.10 > 198\.18\.0\.1[13]: ")
	[ "$n" = 0 ] && [ "$(tcpdump -nr "$LAB/cap2.pcap" 2>/dev/null | grep -c "> 198.18.0.12: ")" = 5 ] ||
		why="$why --backend: $(tcpdump -nr "$LAB/cap2.pcap" 2>/dev/null | head -3);"
	xlbctl capture -c 1000000 --seconds 60 -w "$LAB/cap3.pcap" > /dev/null 2>&1 &
	pid=$!
	lab_wait 5 eval '[ "$(link_prog)" != "$p0" ]' || why="$why no capture build swapped in;"
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	out=$(xlbctl capture -c 1 -w "$LAB/cap4.pcap" 2>&1) &&
		why="$why a second capture over a killed one was taken;"
	[[ $out == *"capture --stop"* ]] || why="$why refusal: $out;"
	xlbctl capture --stop > /dev/null || why="$why --stop failed;"
	[ "$(link_prog)" = "$p0" ] || why="$why after --stop the link runs $(link_prog), not $p0;"
	wait "$loop"
	read -r -a r <<< "$(spread 9)"
	[ "${r[3]}" = 0 ] || why="$why ${r[3]} requests failed after;"
	if [ -z "$why" ]; then
		pass "capture (20 packets: $in in to the VIP, $enc out in IPIP to backends, tcpdump reads them; --backend: b2's only; killed: --stop puts prog $p0 back)"
	else
		fail capture "$why"
	fi
}

# restart SIG: a bounded request loop runs while xlbd is stopped with SIG
# and started again; no request may fail.
t_restart() {
	local sig=$1 loop r
	spread 150 > "$LAB/loop.out" &
	loop=$!
	sleep 0.3	# let the loop get going: the restart must fall inside
	lab_xlbd_kill "$sig"
	lab_xlbd_start || { fail "restart-$sig" "xlbd did not come back"; }
	kill -0 "$loop" 2>/dev/null; local inside=$?
	wait "$loop"
	read -r -a r < "$LAB/loop.out"
	if [ "$inside" -ne 0 ]; then
		fail "restart-$sig" "the request loop ended before xlbd was back"
	elif [ "${r[3]}" -ne 0 ]; then
		fail "restart-$sig" "${r[3]} of 150 requests failed"
	elif ! grep -q "adopted the running data plane" "$LAB/xlbd.log"; then
		fail "restart-$sig" "the new xlbd did not adopt the pins"
	else
		pass "restart-$sig (150 requests, 0 failed)"
	fi
}

t_persist() {
	local before after
	xlbctl backend set-weight "$VIP4:80/tcp" 198.18.0.13 7
	before=$(xlbctl -j list | tr -d ' \n')
	lab_xlbd_kill TERM
	lab_ns lb "$LAB_BUILD/xlbd" -i eth0 --pin-root "$LAB/bpf" --detach \
		>> "$LAB/xlbd.log" 2>&1
	[ -e "$LAB/bpf/xlb/eth0" ] && { fail persist "detach left pins"; return; }
	lab_xlbd_start || { fail persist "no restart"; return; }
	after=$(xlbctl -j list | tr -d ' \n')
	xlbctl backend set-weight "$VIP4:80/tcp" 198.18.0.13 100
	if ! echo "$after" | grep -q '"addr":"198.18.0.13","slot":[0-9]*,"weight":7'; then
		fail persist "weight 7 lost across a cold restart: $after"
	elif [ "$(lab_get)" = "" ]; then
		fail persist "no traffic after cold restart"
	else
		pass "persist (xlbctl change survives detach + cold start)"
	fi
}

t_sighup_broken() {
	local r
	printf 'vips:\n  - vip: 198.18.1.1:80/tcp\n    weigth: 3\n' > "$LAB/broken.yaml"
	# xlbd reads -c only at start; give it the broken file via a restart
	# with a good one first, then SIGHUP.
	cp "$LAB/state.yaml" "$LAB/conf.yaml"
	lab_xlbd_kill TERM
	touch "$LAB/conf.yaml"
	lab_xlbd_start -c "$LAB/conf.yaml" || { fail sighup "no start"; return; }
	cp "$LAB/broken.yaml" "$LAB/conf.yaml"
	kill -HUP "$(cat "$LAB/xlbd.pid")"
	lab_wait 5 grep -q "conf.yaml:3: unknown key .weigth." "$LAB/xlbd.log" || { tail -5 "$LAB/xlbd.log";
		fail sighup "no file:line error logged"; return; }
	read -r -a r <<< "$(spread 30)"
	if [ "${r[3]}" -ne 0 ] || ! kill -0 "$(cat "$LAB/xlbd.pid")"; then
		fail sighup "traffic or daemon hurt: ${r[*]}"
	else
		pass "sighup-broken-file (error logged, 30/30 requests ok)"
	fi
}

t_bad_input() {
	local before after ok=1 out
	before=$(cat "$LAB/state.yaml"; lab_state vip)
	check() {	# check EXPECTED_WORD ARGS...: must fail, one line, naming
		local want=$1
		shift
		if out=$(xlbctl "$@" 2>&1); then
			echo "  accepted: xlbctl $*"; ok=0
		elif [ "$(echo "$out" | wc -l)" -ne 1 ] || ! echo "$out" | grep -qi -- "$want"; then
			echo "  xlbctl $*: '$out' (want one line naming '$want')"; ok=0
		fi
	}
	check "198.18.1.1:80" vip add 198.18.1.1:80
	check "300.1.1.1" backend add "$VIP4:80/tcp" 300.1.1.1
	check "198.18.9.9" backend add 198.18.9.9:80/tcp 198.18.0.11
	check "already" backend add "$VIP4:80/tcp" 198.18.0.11
	check "70000" backend add "$VIP4:80/tcp" 198.18.0.14 --weight 70000
	check "70000" backend set-weight "$VIP4:80/tcp" 198.18.0.11 70000
	check "--bogus" list --bogus
	check "exists" vip add "$VIP4:80/tcp"
	check "frobnicate" frobnicate
	check "ipx" vip add 198.18.1.2:80/tcp --encap ipx
	after=$(cat "$LAB/state.yaml"; lab_state vip)
	[ "$before" = "$after" ] || { echo "  state changed:"; diff <(echo "$before") <(echo "$after") | sed "s/^/    /"; ok=0; }
	[ $ok = 1 ] && pass "bad-input (10 cases: error, exit != 0, state unchanged)" ||
		fail bad-input "see above"
}

t_ipv6() {
	local out
	xlbctl vip add "[$VIP6]:80/tcp" &&
		xlbctl backend add "[$VIP6]:80/tcp" 2001:db8::11 || {
		fail ipv6 "vip add refused"; return; }
	out=$(lab_get "$VIP6")
	xlbctl vip del "[$VIP6]:80/tcp"
	[ "$out" = b1 ] && pass "ipv6 (VIP [$VIP6]:80 answered by b1)" ||
		fail ipv6 "got '$out'"
}

t_pinned() {
	local out
	lab_xlbd_kill TERM
	out=$("$LAB_BUILD/xlbctl" --pinned "$LAB/bpf/xlb/eth0" -j list)
	lab_xlbd_start
	if echo "$out" | grep -q '"198.18.0.12"'; then
		pass "pinned (list from the pinned maps with xlbd down)"
	else
		fail pinned "got: $out"
	fi
}

t_metrics() {
	local out
	out=$(lab_ns lb curl -sS --max-time 2 http://198.18.0.10:9100/metrics)
	if echo "$out" | grep -q '^xlb_vip_packets_total{vip="198.18.1.1:80/tcp"} [1-9]' &&
		echo "$out" | grep -q '^xlb_packets_total{outcome="tx"} [1-9]'; then
		pass "metrics (Prometheus text with VIP and outcome counters)"
	else
		fail metrics "$(echo "$out" | head -5)"
	fi
}

t_shutdown() {
	xlbctl shutdown || { fail shutdown "refused"; return; }
	lab_wait 10 bash -c "! kill -0 $(cat "$LAB/xlbd.pid")"
	rm -f "$LAB/xlbd.pid"
	if [ -e "$LAB/bpf/xlb/eth0" ]; then
		fail shutdown "pins left"
	elif ip -n "$P-lb" link show eth0 | grep -q xdp; then
		fail shutdown "XDP still attached"
	else
		pass "shutdown (program and pins removed)"
	fi
}

t_views() {
	local out ok=1
	lab_get > /dev/null
	out=$(xlbctl -j flows --vip "$VIP4:80/tcp" --client 198.18.0.2 --limit 5)
	echo "$out" | grep -q '"client":"198.18.0.2:[0-9]*"' ||
		echo "$out" | grep -q '"client": "198.18.0.2:' || { echo "  flows: $out" | head -3; ok=0; }
	out=$(xlbctl -j stats --interval 0.2)
	echo "$out" | grep -q '"flow_new"' || { echo "  stats: no counters"; ok=0; }
	out=$(xlbctl top --count 1 --interval 0.2)
	echo "$out" | grep -q "$VIP4:80/tcp" || { echo "  top: $out" | head -3; ok=0; }
	[ $ok = 1 ] && pass "views (flows filter, stats -j, top --count)" ||
		fail views "see above"
}

# SIGHUP with a good file: the difference is applied, and only the changed
# VIP gets a new Maglev ring (the inner map id of the other stays).
ring_id() {	# the id of the inner map (ring) of VIP slot $1
	bpftool map lookup pinned "$LAB/bpf/xlb/eth0/xlb_maglev" key "$1" 0 0 0 |
		awk '/value/ {print $(NF-3) $(NF-2) $(NF-1) $NF}'
}

t_sighup_diff() {
	local a0 b0 a1 b1 w
	xlbctl vip add 198.18.1.2:80/tcp &&
		xlbctl backend add 198.18.1.2:80/tcp 198.18.0.11 || {
		fail sighup-diff "vip add refused"; return; }
	cp "$LAB/state.yaml" "$LAB/conf.yaml"
	lab_xlbd_kill TERM
	touch "$LAB/conf.yaml"
	lab_xlbd_start -c "$LAB/conf.yaml" || { fail sighup-diff "no start"; return; }
	a0=$(ring_id 0); b0=$(ring_id 1)
	# 198.18.0.13 of the first VIP: weight 100 -> 50; nothing else changes.
	/usr/bin/python3 - "$LAB/conf.yaml" <<'PY'
import sys
t = open(sys.argv[1]).read()
i = t.index("addr: 198.18.0.13")
j = t.index("weight: 100", i)
open(sys.argv[1], "w").write(t[:j] + "weight: 50" + t[j + 11:])
PY
	kill -HUP "$(cat "$LAB/xlbd.pid")"
	lab_wait 5 grep -q "reload: applied" "$LAB/xlbd.log"
	w=$(xlbctl -j list | tr -d ' \n' |
		grep -o '"addr":"198.18.0.13","slot":[0-9]*,"weight":[0-9]*')
	a1=$(ring_id 0); b1=$(ring_id 1)
	xlbctl vip del 198.18.1.2:80/tcp
	xlbctl backend set-weight "$VIP4:80/tcp" 198.18.0.13 100
	if [ "${w##*:}" != 50 ]; then
		fail sighup-diff "weight not applied: $w"
	elif [ -z "$a0" ] || [ "$a0" = "$a1" ] || [ "$b0" != "$b1" ]; then
		fail sighup-diff "rings: changed VIP $a0->$a1, other $b0->$b1"
	else
		pass "sighup-diff (weight applied; only the changed VIP got a new ring)"
	fi
}

# Clients that hang up before the reply, or send junk, get nothing; the
# daemon goes on.
t_hangup() {
	local i
	for i in 1 2 3; do
		"$LAB_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"{\"cmd\":\"list\"}\n")
s.close()
' "$LAB/xlbd.sock"
	done
	printf 'not json\n' | timeout 2 "$LAB_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); print(s.recv(4096).decode())
' "$LAB/xlbd.sock" | grep -q '"ok":false' || { fail hangup "junk not refused"; return; }
	if xlbctl list > /dev/null && kill -0 "$(cat "$LAB/xlbd.pid")"; then
		pass "hangup (clients hanging up early and junk leave xlbd running)"
	else
		fail hangup "xlbd died"
	fi
}

# order: VIPs list by family, address (as numbers), port, protocol, and
# backends by address, in text and JSON, whatever order they were added
# in and however the maps hash them (string order would put 198.18.1.20
# before 198.18.1.3, and .100 before .25 before .9).
t_order() {
	local v want got why="" b
	local vips="198.18.1.20:443/tcp [2001:db8:1::5]:80/tcp 198.18.1.3:80/tcp 198.18.1.3:53/udp"
	for v in $vips; do
		xlbctl vip add "$v" > /dev/null || why="$why could not add $v;"
	done
	for b in 198.18.0.100 198.18.0.9 198.18.0.25; do
		xlbctl backend add 198.18.1.20:443/tcp "$b" > /dev/null ||
			why="$why could not add backend $b;"
	done
	want="$VIP4:80/tcp 198.18.1.3:53/udp 198.18.1.3:80/tcp 198.18.1.20:443/tcp [2001:db8:1::5]:80/tcp"
	got=$(xlbctl -j list | "$LAB_PY" -c '
import json, sys
print(" ".join(v["vip"] for v in json.load(sys.stdin)["vips"]))')
	[ "$got" = "$want" ] || why="$why JSON VIPs: $got;"
	got=$(xlbctl -j list | "$LAB_PY" -c '
import json, sys
for v in json.load(sys.stdin)["vips"]:
    if v["vip"] == "198.18.1.20:443/tcp":
        print(" ".join(b["addr"] for b in v["backends"]))')
	[ "$got" = "198.18.0.9 198.18.0.25 198.18.0.100" ] || why="$why JSON backends: $got;"
	got=$(xlbctl list | grep -oE '^[^ ]*(198\.18\.1\.[0-9]+:[0-9]+/[a-z]+|\[2001:db8:1::[0-9a-f]*\]:[0-9]+/[a-z]+)' |
		grep -oE '(198\.18\.1\.[0-9]+:[0-9]+/[a-z]+|\[2001:db8:1::[0-9a-f]*\]:[0-9]+/[a-z]+)' | tr '\n' ' ')
	[ "$got" = "$want " ] || why="$why text VIPs: $got;"
	for v in $vips; do
		xlbctl vip del "$v" > /dev/null
	done
	if [ -z "$why" ]; then
		pass "order (VIPs by address and port, backends by address)"
	else
		fail order "$why"
	fi
}

CASES=${TESTS:-"spread hangup weights drain drainwait capture bad_input ipv6 metrics views sighup_diff restart_TERM restart_KILL persist sighup_broken pinned sh turn active p2c lc order shutdown"}

if ! lab_up 3; then
	echo "FAIL lab: could not build the lab"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
LAB_XLBD_ARGS=(--metrics 198.18.0.10:9100)
if ! lab_xlbd_start || ! setup_vip; then
	echo "FAIL xlbd: did not start ($(tail -3 "$LAB/xlbd.log"))"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
for c in $CASES; do
	case $c in
	restart_*) t_restart "${c#restart_}" ;;
	*) "t_$c" ;;
	esac
done
echo "e2e: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
