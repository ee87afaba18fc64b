#!/usr/bin/env bash
# End to end: xlbd's health checker against the lab's backends (lab.sh,
# backend.py), one lab of 3 backends for all cases. The backends' health is
# steered through their control files (health_status, delay_ms) or by
# killing their HTTP server; times are measured with EPOCHREALTIME and
# every wait is a poll with a deadline derived from the check settings.
#
#   VIP 198.18.1.1:80/tcp  http:/health every 0.5 s, timeout 0.3, rise 2,
#                          fall 3, error-rate default (0.3 of the last 10)
#   VIP 198.18.1.2:80/tcp  (case slow only) http:/health every 0.5 s,
#                          adaptive latency
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some (kill includes re-enter).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

# KEEP=DIR: copy the lab's logs to DIR before tearing it down.
trap '[ -n "${KEEP:-}" ] && [ -n "$LAB" ] && cp "$LAB"/*.log "$LAB"/*.yaml "$KEEP/" 2>/dev/null; lab_down' EXIT

VIP=$VIP4:80/tcp
VIP2=198.18.1.2:80/tcp
INTERVAL_MS=500
RISE=2
FALL=3
# Out within fall checks, the first of which may come up to one interval
# after the change; 500 ms for scheduling and the polls.
DOWN_MS=$((INTERVAL_MS * FALL + INTERVAL_MS + 500))
UP_MS=$((INTERVAL_MS * RISE + INTERVAL_MS + 500))

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# healths VIP: "198.18.0.11=up 198.18.0.12=down ..." for messages.
healths() { lab_backends "$1" | awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2 }'; }

all_up() { [ "$(lab_backends "$1" | awk '$2 == "up"' | wc -l)" -eq 3 ]; }

# wait_ms MS CMD...: poll CMD every 0.05 s until it succeeds or MS pass.
wait_ms() {
	local deadline=$(($(now_ms) + $1))
	shift
	until "$@" > /dev/null 2>&1; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

health_is() { [ "$(lab_be "$1" "$2" health)" = "$3" ]; }

# need_up CASE [VIP]: every backend up (within a few checks), or FAIL CASE.
need_up() {
	wait_ms $((UP_MS + 2000)) all_up "${2:-$VIP}" && return 0
	fail "$1" "backends not all up: $(healths "${2:-$VIP}")"
	return 1
}

# health_checks I [STATUS]: how many /health requests backend I has
# answered (with STATUS). The line is logged before the answer is sent.
health_checks() {
	grep -cE "GET /health HTTP/1\.[01]\" ${2:-}" "$LAB/http-b$1.log" 2>/dev/null
}

# client_loop N MS FILE: in the background, at most N requests (a new
# connection each, curl --max-time 1, one every ~20 ms) for at most MS
# milliseconds; one line per request to FILE: "start_ms end_ms ok|fail
# backend".
client_loop() {
	lab_ns c bash -c '
		n=$1 end=$((${EPOCHREALTIME/./} / 1000 + $2))
		for ((i = 0; i < n; i++)); do
			t0=$((${EPOCHREALTIME/./} / 1000))
			if out=$(curl -sS --max-time 1 "http://$3/" 2>/dev/null); then
				r=ok
			else
				r=fail out=-
			fi
			t1=$((${EPOCHREALTIME/./} / 1000))
			echo "$t0 $t1 $r $out"
			[ "$t1" -lt "$end" ] || break
			sleep 0.02
		done' loop "$1" "$2" "$VIP4" > "$3" 2>/dev/null &
	CLIENT_PID=$!
}

# Contract of the listing: every member a backend of a checked VIP shows.
t_fields() {
	local rows bad
	need_up fields || return
	rows=$(lab_backends "$VIP")
	bad=$(echo "$rows" | awk '$3 == "-" || $4 == "-" || $5 == "-" ||
		$6 == "-" || $3 !~ /^[0-9]+$/ || $3 == 0')
	if [ -n "$bad" ]; then
		fail fields "missing or zero members (addr health effective_weight transitions latency_ms last_check): $bad"
	else
		pass "fields (health, effective_weight, transitions, latency_ms, last_check)"
	fi
}

# kill: b2's HTTP server dies under a request loop; b2 must be out within
# fall checks, and requests may fail only until then.
t_kill() {
	local tr0 tk td=0 win_end ok=1 why="" log="$LAB/kill.log" stats
	local -a s
	need_up kill || return
	# A full window of passed checks, so that only fall can take it out.
	wait_ms 8000 eval '[ "$(health_checks 2 200)" -ge 10 ]'
	tr0=$(lab_be "$VIP" 198.18.0.12 transitions)
	client_loop 400 12000 "$log"
	# Traffic before the kill, b2 included.
	if ! wait_ms 5000 bash -c "[ \$(grep -c ' ok b2' '$log') -ge 5 ]"; then
		kill "$CLIENT_PID" 2>/dev/null; wait "$CLIENT_PID"
		fail kill "no traffic reached b2 before the kill: $(sort "$log" | awk '{print $3, $4}' | uniq -c | tr '\n' ' ')"
		return
	fi
	tk=$(now_ms)
	lab_backend_kill 2
	if wait_ms $((tk + DOWN_MS - $(now_ms))) health_is "$VIP" 198.18.0.12 down; then
		td=$(now_ms)
	else
		ok=0 why="b2 not down within $DOWN_MS ms ($(healths "$VIP"))"
	fi
	[ $ok = 1 ] && [ "$(lab_be "$VIP" 198.18.0.12 effective_weight)" != 0 ] && {
		ok=0 why="b2 down but effective_weight $(lab_be "$VIP" 198.18.0.12 effective_weight)"; }
	wait "$CLIENT_PID"
	win_end=$((tk + INTERVAL_MS * FALL + INTERVAL_MS + 1000))
	# Failed requests by second since the kill; failures outside
	# [kill, window end] (a request overlapping it counts as inside);
	# requests after the window.
	stats=$(awk -v k="$tk" -v w="$win_end" '
		{ s = int(($1 - k + 100000) / 1000) - 100; n[s]++; if (s < lo) lo = s; if (s > hi) hi = s }
		$3 == "fail" { f[s]++; if ($2 < k || $1 > w) out++ }
		$1 > w { after++; if ($3 == "fail") afterf++ }
		$3 == "ok" && $4 == "b2" && $1 > w { b2after++ }
		END {
			for (s = lo; s <= hi; s++) if (n[s]) line = line sprintf(" %+d:%d/%d", s, f[s] + 0, n[s])
			printf "%d %d %d %d %d%s\n", NR, out + 0, after + 0, afterf + 0, b2after + 0, line
		}' "$log")
	read -r -a s <<< "$stats"
	echo "  kill: ${s[0]} requests; failed/total by second since the kill: ${s[*]:5}"
	[ "$td" -gt 0 ] && echo "  kill: b2 down $((td - tk)) ms after the kill (limit $DOWN_MS)"
	if [ $ok = 1 ]; then
		# fall failed checks span fall - 1 intervals (-2 % jitter) at
		# least, the first at the kill at the earliest.
		if [ $((td - tk)) -lt $(((FALL - 1) * INTERVAL_MS * 95 / 100)) ]; then
			ok=0 why="b2 down $((td - tk)) ms after the kill: before $FALL checks can have failed"
		elif [ "${s[1]}" -ne 0 ]; then
			ok=0 why="${s[1]} requests failed outside [kill, kill + $((win_end - tk)) ms]"
		elif [ "${s[2]}" -lt 50 ]; then
			ok=0 why="only ${s[2]} requests after the window (the loop ended early?)"
		elif [ "${s[3]}" -ne 0 ] || [ "${s[4]}" -ne 0 ]; then
			ok=0 why="after the window: ${s[3]} failed, ${s[4]} answered by b2"
		fi
	fi
	if [ $ok = 1 ]; then
		pass "kill (b2 down after $((td - tk)) ms; $(awk '$3 == "fail"' "$log" | wc -l) of ${s[0]} requests failed, all in the window; ${s[2]} after it, 0 failed)"
	else
		fail kill "$why"
	fi
	t_reenter "$tr0"
}

# re-enter: b2's server is back; b2 up after rise checks, takes new
# connections, and its transitions grew by 2 (down, up).
t_reenter() {
	local tr0=$1 t0 tr r
	lab_backend_start 2
	lab_backend_up 2 || { fail re-enter "b2's server did not restart"; return; }
	t0=$(now_ms)
	if ! wait_ms "$UP_MS" health_is "$VIP" 198.18.0.12 up; then
		# How late, for the message: wait some more.
		if wait_ms 8000 health_is "$VIP" 198.18.0.12 up; then
			fail re-enter "b2 up only $(($(now_ms) - t0)) ms after its restart, want <= $UP_MS (rise $RISE x ${INTERVAL_MS} ms + 1 interval + 500 ms)"
		else
			fail re-enter "b2 not up within $((UP_MS + 8000)) ms of its restart ($(healths "$VIP"))"
		fi
		return
	fi
	t0=$(($(now_ms) - t0))
	read -r -a r <<< "$(spread 30)"
	tr=$(lab_be "$VIP" 198.18.0.12 transitions)
	if [ "${r[1]}" -lt 3 ] || [ "${r[3]}" -ne 0 ]; then
		fail re-enter "30 requests after up: b1=${r[0]} b2=${r[1]} b3=${r[2]} failed=${r[3]}"
	elif ! [ "$tr" -eq $((tr0 + 2)) ] 2>/dev/null; then
		fail re-enter "b2's transitions went $tr0 -> $tr, want +2"
	else
		pass "re-enter (b2 up $t0 ms after its restart; got ${r[1]} of 30; transitions $tr0 -> $tr)"
	fi
}

# http500: b3 answers /health with 500: out within fall checks (and not
# before fall of them failed: its last 10 checks passed), no new
# connections while out; back after rise checks (and not before rise of
# them passed) once it answers 200.
t_http500() {
	local t0 td tu r n0 nf np
	need_up http500 || return
	# A full window of passed checks, so that only fall can take it out.
	wait_ms 8000 eval '[ "$(health_checks 3 200)" -ge 10 ]'
	n0=$(health_checks 3 500)
	t0=$(now_ms)
	lab_backend_set 3 health_status 500
	if ! wait_ms $((t0 + DOWN_MS - $(now_ms))) health_is "$VIP" 198.18.0.13 down; then
		lab_backend_set 3 health_status
		fail http500 "b3 not down within $DOWN_MS ms of answering 500 ($(healths "$VIP"))"
		return
	fi
	td=$(($(now_ms) - t0))
	nf=$(($(health_checks 3 500) - n0))
	read -r -a r <<< "$(spread 15)"
	n0=$(health_checks 3 200)
	t0=$(now_ms)
	lab_backend_set 3 health_status 200
	if ! wait_ms $((t0 + UP_MS - $(now_ms))) health_is "$VIP" 198.18.0.13 up; then
		if wait_ms 8000 health_is "$VIP" 198.18.0.13 up; then
			fail http500 "b3 up only $(($(now_ms) - t0)) ms ($(($(health_checks 3 200) - n0)) passed checks) after answering 200 again, want <= $UP_MS (rise $RISE)"
		else
			fail http500 "b3 not up within $((UP_MS + 8000)) ms of answering 200 ($(healths "$VIP"))"
		fi
		lab_backend_set 3 health_status
		return
	fi
	tu=$(($(now_ms) - t0))
	np=$(($(health_checks 3 200) - n0))
	if [ "$nf" -lt "$FALL" ]; then
		fail http500 "b3 down after $nf failed checks (fall $FALL, the 10 before passed)"
	elif [ "$np" -lt "$RISE" ]; then
		fail http500 "b3 up after $np passed checks (rise $RISE)"
	elif [ "${r[2]}" -ne 0 ] || [ "${r[3]}" -ne 0 ]; then
		fail http500 "while b3 was down: b1=${r[0]} b2=${r[1]} b3=${r[2]} failed=${r[3]}"
	else
		pass "http500 (b3 down $td ms / $nf failed checks after answering 500, 0 of 15 new connections; up $tu ms / $np checks after 200)"
	fi
	lab_backend_set 3 health_status
}

# flap: b1's /health alternates 500, 200, 500, ... from one check to the
# next (backend.py takes the statuses in turn): never fall failures in a
# row, but half of them fail. The error rate takes b1 out once; it must
# not flip with every check. 12 checks are watched (~6 s).
t_flap() {
	local tr0 tr1 n0 seen="" h prev="" deadline ok=1 why
	need_up flap || return
	tr0=$(lab_be "$VIP" 198.18.0.11 transitions)
	n0=$(health_checks 1)
	lab_backend_set 1 health_status "500 200"
	deadline=$(($(now_ms) + 12 * INTERVAL_MS + 3000))
	while [ "$(health_checks 1)" -lt $((n0 + 12)) ] && [ "$(now_ms)" -lt "$deadline" ]; do
		h=$(lab_be "$VIP" 198.18.0.11 health)
		[ "$h" = "$prev" ] || seen="$seen${seen:+ }$h"
		prev=$h
		sleep 0.1
	done
	tr1=$(lab_be "$VIP" 198.18.0.11 transitions)
	h=$(lab_be "$VIP" 198.18.0.11 health)
	lab_backend_set 1 health_status 200
	echo "  flap: $(($(health_checks 1) - n0)) checks; b1 was: $seen; transitions $tr0 -> $tr1"
	if ! [ "$tr1" -ge 0 ] 2>/dev/null || ! [ "$tr0" -ge 0 ] 2>/dev/null; then
		ok=0 why="no transitions count (got '$tr0', '$tr1')"
	elif [ $((tr1 - tr0)) -gt 2 ]; then
		ok=0 why="b1 flipped: transitions $tr0 -> $tr1 in 12 alternating checks"
	elif [ "$h" != down ]; then
		ok=0 why="b1 is '$h' after 12 alternating checks (50 % failed): want down (error rate)"
	fi
	# Healthy again: back in (rise, perhaps after the error window clears).
	if ! wait_ms 8000 health_is "$VIP" 198.18.0.11 up; then
		[ $ok = 0 ] && why="$why; " || why=""
		ok=0 why="${why}b1 not up within 8 s of answering 200 again"
	fi
	lab_backend_set 1 health_status
	if [ $ok = 1 ]; then
		pass "flap (b1 out once in 12 alternating checks: transitions +$((tr1 - tr0)); back up)"
	else
		fail flap "$why"
	fi
}

# ew_slow: b1's effective weight under half of b2's and b3's.
ew_slow() {
	lab_backends "$VIP2" | awk '{ w[$1] = $3 } END {
		b1 = w["198.18.0.11"]; b2 = w["198.18.0.12"]; b3 = w["198.18.0.13"]
		exit !(b1 ~ /^[0-9.]+$/ && b2 > 0 && b3 > 0 && 2 * b1 < b2 && 2 * b1 < b3) }'
}

# slow: with adaptive latency weights, b1 answering 200 ms late gets a
# much smaller weight and share of new connections.
t_slow() {
	local i r share ew ok=1 why=""
	for i in 1 2 3; do
		ip -n "$P-b$i" addr replace 198.18.1.2/32 dev lo
		# Decap takes the inner destinations the host held when it
		# was attached: attaching again adds the new VIP.
		lab_ns "b$i" "$LAB_BUILD/xlbctl" decap attach eth0
	done
	if ! xlbctl vip add "$VIP2" --check http:/health --interval 0.5 --adaptive latency ||
		! xlbctl backend add "$VIP2" 198.18.0.11 ||
		! xlbctl backend add "$VIP2" 198.18.0.12 ||
		! xlbctl backend add "$VIP2" 198.18.0.13; then
		xlbctl vip del "$VIP2" 2>/dev/null
		fail slow "vip add/backend add refused"
		return
	fi
	if need_up slow "$VIP2"; then
		ew=$(lab_backends "$VIP2" | awk '{ printf " %s", $3 }')
		lab_backend_set 1 delay_ms 200
		if ! wait_ms 8000 ew_slow; then
			ok=0 why="effective weights before:$ew, 8 s after b1 got 200 ms slower:$(lab_backends "$VIP2" | awk '{ printf " %s", $3 }') (want b1 < half of b2, b3)"
		else
			ew="$ew ->$(lab_backends "$VIP2" | awk '{ printf " %s", $3 }')"
			read -r -a r <<< "$(spread 90 198.18.1.2)"
			share=$((100 * r[0] / 90))
			if [ "${r[3]}" -ne 0 ] || [ "$share" -ge 20 ]; then
				ok=0 why="90 new connections: b1=${r[0]} b2=${r[1]} b3=${r[2]} failed=${r[3]} (want b1 < 20 %); effective weights$ew"
			fi
		fi
		lab_backend_set 1 delay_ms 0
		if [ $ok = 1 ]; then
			pass "slow (effective weights$ew; b1 got $share % of 90)"
		else
			fail slow "$why"
		fi
	fi
	lab_backend_set 1 delay_ms
	xlbctl vip del "$VIP2"
}

# TCP and UDP checks: a VIP per kind; b1 answers UDP (a small responder),
# b2 does not, so b2 must go down and b1 stay up; TCP finds all three up.
t_tcp_udp() {
	local vt=198.18.1.3:80/tcp vu=198.18.1.4:53/udp i ok=1
	lab_ns b1 "$LAB_PY" -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 53))
while True:
    d, a = s.recvfrom(512)
    s.sendto(d, a)
' < /dev/null > /dev/null 2>&1 &
	xlbctl vip add "$vt" --check tcp --interval 0.5 --timeout 0.3 &&
		xlbctl vip add "$vu" --check udp --interval 0.5 --timeout 0.3 || {
		fail tcp-udp "vip add refused"; return; }
	for i in 1 2 3; do xlbctl backend add "$vt" "198.18.0.1$i"; done
	for i in 1 2; do xlbctl backend add "$vu" "198.18.0.1$i"; done
	wait_ms 4000 all_up "$vt" || { echo "  tcp: $(healths "$vt")"; ok=0; }
	wait_ms 4000 test_udp "$vu" || { echo "  udp: $(healths "$vu")"; ok=0; }
	tcp_no_time_wait || ok=0
	xlbctl vip del "$vt"
	xlbctl vip del "$vu"
	[ $ok = 1 ] && pass "tcp-udp (TCP check: 3 up, no TIME_WAIT left by checks; UDP check: responder up, silent backend down)" ||
		fail tcp-udp "see above"
}
# tcp_no_time_wait: TCP checks close with a reset, so the xlb node keeps no
# TIME_WAIT socket per check (10,000 backends would leave 600,000). A port
# of its own (8081, an accept-and-close listener on b1) keeps the HTTP
# checks' sockets out of the count.
tcp_no_time_wait() {
	local v=198.18.1.8:8081/tcp tw
	lab_ns b1 "$LAB_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8081))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
' < /dev/null > /dev/null 2>&1 &
	xlbctl vip add "$v" --check tcp --interval 0.2 --timeout 0.15 --rise 3 &&
		xlbctl backend add "$v" 198.18.0.11 || { echo "  tcp: vip add refused"; return 1; }
	# Up after 3 good checks: 3 connections made and closed.
	wait_ms 4000 eval '[ "$(lab_be "$v" 198.18.0.11 health)" = up ]' || {
		echo "  tcp: 8081 $(healths "$v")"; xlbctl vip del "$v"; return 1; }
	tw=$(lab_ns lb ss -Htan state time-wait '( dport = :8081 )') || {
		echo "  tcp: ss failed"; xlbctl vip del "$v"; return 1; }
	xlbctl vip del "$v"
	[ -z "$tw" ] || { echo "  tcp: TIME_WAIT on the xlb node after checks: $tw"; return 1; }
}
test_udp() {
	[ "$(lab_be "$1" 198.18.0.11 health)" = up ] &&
		[ "$(lab_be "$1" 198.18.0.12 health)" = down ]
}

# SYN (half-open) checks, v4 and v6: listening servers up; a closed port
# down on the RST, in its first checks (not by timeout); an address
# nobody holds down by timeout. The kernel resets every half-open
# connection, so the backends keep no SYN-RECV socket from the probes.
t_syn() {
	local v4=198.18.1.6:80/tcp v6="[2001:db8:1::6]:80/tcp" vc=198.18.1.7:81/tcp
	local ok=1 i syn_recv=0 n lat
	xlbctl vip add "$v4" --check syn --interval 0.3 --timeout 0.2 &&
		xlbctl vip add "$v6" --check syn --interval 0.3 --timeout 0.2 &&
		xlbctl vip add "$vc" --check syn --interval 0.3 --timeout 0.2 || {
		fail syn "vip add refused"; return; }
	for i in 1 2 3; do
		xlbctl backend add "$v4" "198.18.0.1$i"
		xlbctl backend add "$v6" "2001:db8::1$i"
	done
	xlbctl backend add "$vc" 198.18.0.11
	xlbctl backend add "$vc" 198.18.0.99	# no such host
	wait_ms 4000 all_up "$v4" || { echo "  syn v4: $(healths "$v4")"; ok=0; }
	wait_ms 4000 all_up "$v6" || { echo "  syn v6: $(healths "$v6")"; ok=0; }
	wait_ms 4000 syn_down "$vc" || { echo "  syn closed/absent: $(healths "$vc")" \
		"$(lab_be "$vc" 198.18.0.11 last_check) $(lab_be "$vc" 198.18.0.99 last_check)"; ok=0; }
	# Probes keep going out every 0.3 s while we look, 10 times.
	for i in $(seq 10); do
		n=$(lab_ns b1 ss -Htn state syn-recv) || { ok=0; echo "  syn: ss failed"; break; }
		syn_recv=$((syn_recv + $(printf '%s' "$n" | grep -c .)))
		sleep 0.1	# sampling, not waiting for a condition
	done
	[ "$syn_recv" -eq 0 ] || { echo "  syn: $syn_recv SYN-RECV sockets seen on b1"; ok=0; }
	syn_forged || ok=0
	lat=$(lab_be "$v4" 198.18.0.11 latency_ms)
	xlbctl vip del "$v4"
	xlbctl vip del "$v6"
	xlbctl vip del "$vc"
	[ $ok = 1 ] && pass "syn (v4 and v6 up, closed port down on RST, absent host down on timeout; no half-open left on b1; latency ${lat} ms)" ||
		fail syn "see above"
}
# syn_forged: 200 SYN-ACKs and RSTs "from" the absent host 198.18.0.99
# (spoofed by the client) to every port xlbd's SYN replies come back to,
# with made-up sequence numbers: each is counted as stray, none brings the
# backend up, xlbd keeps answering.
syn_forged() {
	local st ports s0 s1
	st=$(xlbctl -j stats --interval 0.1) || { echo "  syn: stats failed"; return 1; }
	ports=$(printf '%s' "$st" | "$LAB_PY" -c 'import json, sys
print(" ".join(map(str, json.load(sys.stdin)["checks"]["syn_ports"])))') ||
		{ echo "  syn: no syn_ports in stats"; return 1; }
	s0=$(syn_stray) || return 1
	lab_ns c "$LAB_PY" - $ports <<'PY' || { echo "  syn: scapy failed"; return 1; }
import random, sys
from scapy.all import IP, TCP, send
random.seed(7)
pkts = []
for i in range(200):
    port = int(sys.argv[1 + i % (len(sys.argv) - 1)])
    pkts.append(IP(src="198.18.0.99", dst="198.18.0.10") /
                TCP(sport=81, dport=port, flags="SA" if i % 4 else "RA",
                    seq=random.getrandbits(32), ack=random.getrandbits(32)))
send(pkts, verbose=0)
PY
	wait_ms 2000 stray_grew "$s0" 200 || {
		echo "  syn: syn_stray $s0 -> $(syn_stray), want +200"; return 1; }
	s1=$(syn_stray)
	[ "$(lab_be 198.18.1.7:81/tcp 198.18.0.99 health)" = down ] || {
		echo "  syn: forged replies brought 198.18.0.99 up"; return 1; }
	echo "  syn: 200 forged replies: syn_stray $s0 -> $s1, 198.18.0.99 still down"
}
syn_stray() {
	xlbctl -j stats --interval 0.1 | "$LAB_PY" -c 'import json, sys
print(json.load(sys.stdin)["checks"]["syn_stray"])'
}
stray_grew() { [ "$(syn_stray)" -ge $(($1 + $2)) ]; }

syn_down() {
	[ "$(lab_be "$1" 198.18.0.11 health)" = down ] &&
		[ "$(lab_be "$1" 198.18.0.11 last_check)" = "fail:_refused_(RST)" ] &&
		[ "$(lab_be "$1" 198.18.0.99 health)" = down ] &&
		[ "$(lab_be "$1" 198.18.0.99 last_check)" = "fail:_timeout" ]
}

# HTTPS check against a TLS server on b3 (self-signed: checks go to
# addresses, so xlbd does not verify names); b1 has no TLS: down.
t_https() {
	local v=198.18.1.5:443/tcp ok=1
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=b3 \
		-keyout "$LAB/tls.key" -out "$LAB/tls.crt" > /dev/null 2>&1 || {
		fail https "openssl"; return; }
	lab_ns b3 "$LAB_PY" -c '
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("0.0.0.0", 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
' "$LAB/tls.crt" "$LAB/tls.key" < /dev/null > /dev/null 2>&1 &
	xlbctl vip add "$v" --check https:/health --interval 0.5 --timeout 0.3 || {
		fail https "vip add refused"; return; }
	xlbctl backend add "$v" 198.18.0.13
	xlbctl backend add "$v" 198.18.0.11
	wait_ms 5000 test_https "$v" || { echo "  https: $(healths "$v")"; ok=0; }
	xlbctl vip del "$v"
	[ $ok = 1 ] && pass "https (TLS backend up, backend without TLS down)" ||
		fail https "see above"
}
test_https() {
	[ "$(lab_be "$1" 198.18.0.13 health)" = up ] &&
		[ "$(lab_be "$1" 198.18.0.11 health)" = down ]
}

# readd: a VIP deleted and added again at once, with the same backends and
# check: every backend comes up again. The checker (its own thread) may
# see the delete and the add in one look; its targets for the same
# backend and check then kept their old verdict, and the new backend,
# "unknown" in the model, never got one (the experiment met it: 1 of 4
# re-adds left b1 unknown; here round 2 of 2 runs). Tried 8 times.
t_readd() {
	local v=198.18.1.3:80/tcp r b why=""
	for r in $(seq 8); do
		xlbctl vip del "$v" > /dev/null 2>&1
		xlbctl vip add "$v" --check http:/health --interval 0.2 \
			--timeout 0.15 --rise 1 --fall 2 > /dev/null || { why="vip add failed"; break; }
		for b in 11 12 13; do
			xlbctl backend add "$v" "198.18.0.$b" > /dev/null
		done
		if ! wait_ms 3000 all_up "$v"; then
			why="round $r: $(healths "$v")"
			break
		fi
	done
	xlbctl vip del "$v" > /dev/null 2>&1
	if [ -z "$why" ]; then
		pass "readd (8 rounds, every backend up again)"
	else
		fail readd "$why"
	fi
}

# keep_start: 6 keep-alive connections to the VIP from the client, held
# by a python process that takes commands from a FIFO: each "req" line
# makes one request on every connection and appends their answers (the
# backends' names, "reset" or "error") as one line to $LAB/keep.out.
keep_start() {
	rm -f "$LAB/keep.in" "$LAB/keep.out"
	mkfifo "$LAB/keep.in"
	lab_ns c "$LAB_PY" - "$VIP4" "$LAB/keep.in" "$LAB/keep.out" <<-'EOF' &
	import socket, sys
	def get(s):
	    s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	    data = b""
	    while b"\r\n\r\n" not in data:
	        d = s.recv(4096)
	        if not d:
	            return "closed"
	        data += d
	    head, body = data.split(b"\r\n\r\n", 1)
	    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
	         if l.lower().startswith(b"content-length")][0]
	    while len(body) < n:
	        body += s.recv(4096)
	    return body.decode().strip()
	conns = [socket.create_connection((sys.argv[1], 80), timeout=3)
	         for _ in range(6)]
	with open(sys.argv[2]) as cmds:
	    for line in cmds:
	        if line.strip() != "req":
	            break
	        out = []
	        for s in conns:
	            try:
	                out.append(get(s))
	            except ConnectionResetError:
	                out.append("reset")
	            except OSError:
	                out.append("error")
	        with open(sys.argv[3], "a") as f:
	            f.write(" ".join(out) + "\n")
	EOF
	KEEP_PID=$!
	exec 7> "$LAB/keep.in"
}

# keep_req: one round on every connection; prints its line.
keep_req() {
	local n
	n=$(cat "$LAB/keep.out" 2>/dev/null | wc -l)
	echo req >&7
	wait_ms 5000 eval '[ "$(cat "$LAB/keep.out" 2>/dev/null | wc -l)" -gt '"$n"' ]' &&
		tail -1 "$LAB/keep.out"
}

keep_stop() { echo quit >&7; exec 7>&-; wait "$KEEP_PID" 2>/dev/null; }

vip_field() {
	xlbctl -j list | "$LAB_PY" -c '
import json, sys
v = [v for v in json.load(sys.stdin)["vips"] if v["vip"] == sys.argv[1]][0]
for k in sys.argv[2].split("."):
    v = v.get(k, "-") if isinstance(v, dict) else "-"
print(v)' "$VIP" "$1"
}

# vipset: xlbctl vip set changes a VIP in place under 6 keep-alive
# connections: algorithm (maglev -> sh), encapsulation (ipip -> gue), the
# check's expected status (204: every backend down; 200: up again) and
# Host; every connection keeps its backend through all of it, the check
# goes out with the new Host, and back as it was.
t_vipset() {
	local why="" first line n0
	need_up vipset || return
	keep_start
	first=$(keep_req) || why="keep-alive connections did not answer;"
	xlbctl vip set "$VIP" --algo sh > /dev/null || why="$why set algo refused;"
	[ "$(vip_field algo)" = sh ] || why="$why algo $(vip_field algo);"
	line=$(keep_req); [ "$line" = "$first" ] || why="$why after algo: $line (was $first);"
	xlbctl vip set "$VIP" --encap gue > /dev/null || why="$why set encap refused;"
	[ "$(vip_field encap)" = gue ] || why="$why encap $(vip_field encap);"
	line=$(keep_req); [ "$line" = "$first" ] || why="$why after encap: $line (was $first);"
	xlbctl vip set "$VIP" --expect 204 > /dev/null || why="$why set expect refused;"
	wait_ms $((DOWN_MS + 1000)) eval '[ "$(lab_backends "$VIP" | awk '"'"'$2 == "down"'"'"' | wc -l)" = 3 ]' ||
		why="$why expect 204: $(healths "$VIP");"
	xlbctl vip set "$VIP" --expect 200 --host lab.test > /dev/null ||
		why="$why set expect/host refused;"
	wait_ms $((UP_MS + 1000)) all_up "$VIP" || why="$why expect 200: $(healths "$VIP");"
	n0=$(grep -c "GET /health .* host=lab.test" "$LAB/http-b1.log")
	[ "$n0" -gt 0 ] || why="$why no check with Host lab.test;"
	[ "$(vip_field check.host)" = lab.test ] || why="$why list -j check.host $(vip_field check.host);"
	line=$(keep_req); [ "$line" = "$first" ] || why="$why after the checks: $line (was $first);"
	out=$(xlbctl vip set "$VIP" 2>&1) && why="$why a set of nothing was taken;"
	xlbctl vip set "$VIP" --algo maglev --encap ipip --host "" > /dev/null ||
		why="$why setting back refused;"
	[ "$(vip_field check.host)" = - ] || why="$why host not cleared: $(vip_field check.host);"
	line=$(keep_req); [ "$line" = "$first" ] || why="$why back: $line (was $first);"
	keep_stop
	read -r -a r <<< "$(spread 15)"
	[ "${r[3]}" = 0 ] || why="$why ${r[3]} new requests failed;"
	if [ -z "$why" ]; then
		pass "vipset (6 connections kept their backends ($first) through algo sh, encap gue, expect 204/200, Host lab.test; a set of nothing refused: '$out')"
	else
		fail vipset "$why"
	fi
}

# override: b2 gets its own check path (/nothere: 404): b2 down, b1 and b3
# up; list -j shows b2's check; check-inherit puts the VIP's back: up.
t_override() {
	local why="" b="198.18.0.12" out
	need_up override || return
	xlbctl backend set "$VIP" "$b" --path /nothere > /dev/null ||
		why="backend set refused;"
	wait_ms $((DOWN_MS + 1000)) health_is "$VIP" "$b" down ||
		why="$why b2 not down: $(healths "$VIP");"
	health_is "$VIP" 198.18.0.11 up && health_is "$VIP" 198.18.0.13 up ||
		why="$why others: $(healths "$VIP");"
	xlbctl -j list | grep -q '"path":"/nothere"' || why="$why list -j shows no /nothere;"
	out=$(xlbctl backend set "$VIP" "$b" 2>&1) && why="$why a set of nothing was taken;"
	xlbctl backend set "$VIP" "$b" --check-inherit > /dev/null ||
		why="$why check-inherit refused;"
	wait_ms $((UP_MS + 1000)) health_is "$VIP" "$b" up ||
		why="$why b2 not up again: $(healths "$VIP");"
	if [ -z "$why" ]; then
		pass "override (b2's own path: down, the others up; inherit: up; '$out')"
	else
		fail override "$why"
	fi
}

# maint: with start-down on, b2 in maintenance takes no new connection,
# its checks stop, list says maint, and so does a restarted xlbd; ready:
# down until rise checks pass, then it takes connections again. A backend
# added under start-down starts down too.
t_maint() {
	local why="" b="198.18.0.12" n1 n2 r t0
	need_up maint || return
	xlbctl vip set "$VIP" --start-down on > /dev/null || why="start-down refused;"
	xlbctl backend maint "$VIP" "$b" > /dev/null || why="$why maint refused;"
	xlbctl list | grep -F "$b" | grep -qw maint || why="$why list: $(xlbctl list | grep -F "$b");"
	read -r -a r <<< "$(spread 30)"
	[ "${r[1]}" = 0 ] && [ "${r[3]}" = 0 ] || why="$why in maint b2 took ${r[1]}, ${r[3]} failed;"
	n2=$(health_checks 2); n1=$(health_checks 1)
	wait_ms 5000 eval '[ "$(health_checks 1)" -ge $((n1 + 4)) ]' || why="$why b1 not checked;"
	[ "$(health_checks 2)" -le $((n2 + 1)) ] ||
		why="$why b2 checked in maint: $n2 -> $(health_checks 2);"
	lab_xlbd_kill TERM
	lab_xlbd_start || why="$why xlbd did not restart;"
	[ "$(lab_be "$VIP" "$b" health)" = maint ] || why="$why after a restart: $(healths "$VIP");"
	t0=$(now_ms)
	xlbctl backend ready "$VIP" "$b" > /dev/null || why="$why ready refused;"
	[ "$(lab_be "$VIP" "$b" health)" = down ] || why="$why ready, start-down: $(healths "$VIP");"
	read -r -a r <<< "$(spread 15)"
	health_is "$VIP" "$b" down && [ "${r[1]}" != 0 ] &&
		why="$why down after ready yet took ${r[1]};"
	wait_ms $((UP_MS + 1000)) health_is "$VIP" "$b" up || why="$why b2 not up: $(healths "$VIP");"
	local tu=$(($(now_ms) - t0))
	read -r -a r <<< "$(spread 30)"
	[ "${r[1]}" -gt 0 ] || why="$why b2 up but took none;"
	xlbctl backend del "$VIP" 198.18.0.13 > /dev/null
	xlbctl backend add "$VIP" 198.18.0.13 > /dev/null
	[ "$(lab_be "$VIP" 198.18.0.13 health)" = down ] ||
		why="$why added under start-down: $(healths "$VIP");"
	wait_ms $((UP_MS + 1000)) health_is "$VIP" 198.18.0.13 up || why="$why b3 not up;"
	xlbctl vip set "$VIP" --start-down off > /dev/null
	if [ -z "$why" ]; then
		pass "maint (no new connection and no check in maint, kept across a restart; ready: down, up after $tu ms; added under start-down: down, then up)"
	else
		fail maint "$why"
	fi
}

# panic: threshold 0.5 on the VIP; b2 and b3 fail their checks: 1 of 3
# up, the VIP panics (log, list, metrics) and new connections reach all
# three; b3 back: 2 of 3, over, b2 gets none; b2 back.
t_panic() {
	local why="" r p0 n0
	need_up panic || return
	xlbctl vip set "$VIP" --panic 0.5 > /dev/null || why="panic refused;"
	p0=$(grep -c "panic: $VIP" "$LAB/xlbd.log")
	lab_backend_set 2 health_status 500
	lab_backend_set 3 health_status 500
	wait_ms $((DOWN_MS + 1000)) eval 'health_is "$VIP" 198.18.0.12 down && health_is "$VIP" 198.18.0.13 down' ||
		why="$why b2, b3 not down: $(healths "$VIP");"
	wait_ms 2000 eval 'xlbctl list | grep -q PANIC' || why="$why list shows no PANIC;"
	read -r -a r <<< "$(spread 30)"
	[ "${r[1]}" -gt 0 ] && [ "${r[2]}" -gt 0 ] && [ "${r[3]}" = 0 ] ||
		why="$why in panic: b1=${r[0]} b2=${r[1]} b3=${r[2]} failed=${r[3]};"
	lab_scrape pa || why="$why $(cat "$LAB/pa.prom");"
	[ "$(lab_metric pa "xlb_vip_panic{vip=\"$VIP\"}")" = 1 ] &&
		[ "$(lab_metric pa "xlb_vip_panics_total{vip=\"$VIP\"}")" -ge 1 ] ||
		why="$why metrics: $(grep panic "$LAB/pa.prom" | tr '\n' ' ');"
	lab_backend_set 3 health_status
	wait_ms $((UP_MS + 1000)) health_is "$VIP" 198.18.0.13 up || why="$why b3 not up;"
	wait_ms 2000 eval '! xlbctl list | grep -q PANIC' || why="$why still PANIC;"
	read -r -a r <<< "$(spread 30)"
	[ "${r[1]}" = 0 ] && [ "${r[3]}" = 0 ] ||
		why="$why after: b1=${r[0]} b2=${r[1]} b3=${r[2]} failed=${r[3]};"
	n0=$(($(grep -c "panic: $VIP" "$LAB/xlbd.log") - p0))
	[ "$n0" = 2 ] || why="$why $n0 panic log lines, want 2 (in, over);"
	lab_backend_set 2 health_status
	wait_ms $((UP_MS + 1000)) all_up "$VIP" || why="$why not all up;"
	xlbctl vip set "$VIP" --panic 0 > /dev/null
	if [ -z "$why" ]; then
		pass "panic (1 of 3 up under 0.5: logged, PANIC, xlb_vip_panic 1, spread over all; 2 of 3: over, b2 none)"
	else
		fail panic "$why"
	fi
}

# slowstart: slow-start 4 s; b2 down, then up: its effective weight
# starts low (<= 25 of 100), never falls, and reaches 100 between 3 and 6
# seconds after it came up; list shows the ramp.
t_slowstart() {
	local why="" t0 w seq="" prev=0 full=""
	need_up slowstart || return
	xlbctl vip set "$VIP" --slow-start 4 > /dev/null || why="slow-start refused;"
	lab_backend_set 2 health_status 500
	wait_ms $((DOWN_MS + 1000)) health_is "$VIP" 198.18.0.12 down || why="$why b2 not down;"
	lab_backend_set 2 health_status
	wait_ms $((UP_MS + 1000)) health_is "$VIP" 198.18.0.12 up || why="$why b2 not up;"
	t0=$(now_ms)
	xlbctl list | grep -F 198.18.0.12 | grep -qE ' ramp +[0-9]+' ||
		xlbctl -j list | grep -q '"ramp_pct"' || why="$why no ramp shown;"
	for _ in $(seq 60); do		# at most ~9 s
		w=$(lab_be "$VIP" 198.18.0.12 effective_weight)
		seq="$seq $w"
		[ "$w" -ge "$prev" ] 2>/dev/null || why="$why weight fell: $seq;"
		prev=$w
		[ "$w" = 100 ] && { full=$(($(now_ms) - t0)); break; }
		sleep 0.15
	done
	first=${seq# }; first=${first%% *}
	[ "$first" -le 25 ] 2>/dev/null || why="$why first weight $first;"
	[ -n "$full" ] && [ "$full" -ge 2500 ] && [ "$full" -le 6000 ] ||
		why="$why full after ${full:-never} ms: $seq;"
	xlbctl vip set "$VIP" --slow-start 0 > /dev/null
	if [ -z "$why" ]; then
		pass "slowstart (b2's weight after it came up:$(echo "$seq" | tr ' ' '\n' | uniq | tr '\n' ' ')full after $full ms)"
	else
		fail slowstart "$why"
	fi
}

# metrics: the page parses as Prometheus text under the conventions (one
# help per family, samples together, counters *_total, cumulative
# histograms), and its values follow b2 going down and up again: up 0/1,
# the health state series 0/1 with stable labels, failed checks counted,
# transitions counted, b2's own latency histogram; build info, reload
# result and attachment (attached goes 0 when the program is detached
# behind xlbd's back, 1 again after a restart).
t_metrics() {
	# prom.py sorts labels: backend, then result or state, then vip.
	local why="" be="backend=\"198.18.0.12\"" vi="vip=\"$VIP\"" b k v ok0 f0 t0 n0
	b="$be,$vi"
	need_up metrics || return
	lab_scrape m1 || { fail metrics "$(cat "$LAB/m1.prom")"; return; }
	for k in "xlb_backend_up{$b} 1" "xlb_backend_health{$be,state=\"up\",$vi} 1" \
		"xlb_backend_health{$be,state=\"down\",$vi} 0" \
		"xlb_dataplane_attached 1" "xlb_reload_success 1" \
		"xlb_build_info{version=\"$(cat VERSION)\"} 1"; do
		[ "$(lab_metric m1 "${k% *}")" = "${k##* }" ] ||
			why="$why ${k% *} is $(lab_metric m1 "${k% *}"), want ${k##* };"
	done
	v=$(lab_metric m1 xlb_reload_timestamp_seconds)
	[ "$v" -gt $(($(date +%s) - 3600)) ] 2>/dev/null ||
		why="$why reload timestamp $v;"
	ok0=$(lab_metric m1 "xlb_health_checks_total{$be,result=\"ok\",$vi}")
	f0=$(lab_metric m1 "xlb_health_checks_total{$be,result=\"failed\",$vi}")
	t0=$(lab_metric m1 "xlb_backend_transitions_total{$b}")
	n0=$(lab_metric m1 "xlb_health_check_duration_seconds_count{$b}")
	[ "${n0:-0}" -gt 0 ] && [ "$n0" = "$ok0" ] ||
		why="$why b2's latency count $n0, ok checks $ok0;"
	lab_backend_set 2 health_status 500
	wait_ms $((DOWN_MS + 1000)) health_is "$VIP" 198.18.0.12 down ||
		why="$why b2 not down;"
	lab_scrape m2 || why="$why $(cat "$LAB/m2.prom");"
	lab_backend_set 2 health_status
	[ "$(lab_metric m2 "xlb_backend_up{$b}")" = 0 ] &&
		[ "$(lab_metric m2 "xlb_backend_health{$be,state=\"down\",$vi}")" = 1 ] &&
		[ "$(lab_metric m2 "xlb_backend_health{$be,state=\"up\",$vi}")" = 0 ] ||
		why="$why down b2: $(grep -F "$b" "$LAB/m2.prom" | grep -E 'up|health' | tr '\n' ' ');"
	[ "$(lab_metric m2 "xlb_health_checks_total{$be,result=\"failed\",$vi}")" -ge $((f0 + FALL)) ] ||
		why="$why failed checks $f0 -> $(lab_metric m2 "xlb_health_checks_total{$be,result=\"failed\",$vi}");"
	[ "$(lab_metric m2 "xlb_backend_transitions_total{$b}")" = $((t0 + 1)) ] ||
		why="$why transitions $t0 -> $(lab_metric m2 "xlb_backend_transitions_total{$b}");"
	wait_ms $((UP_MS + 2000)) health_is "$VIP" 198.18.0.12 up ||
		why="$why b2 not up again;"
	# Detached behind xlbd's back (an operator, another tool): it says so.
	bpftool link detach pinned "$LAB/bpf/xlb/eth0/link" ||
		why="$why bpftool could not detach;"
	lab_scrape m3 && [ "$(lab_metric m3 xlb_dataplane_attached)" = 0 ] ||
		why="$why after a detach attached is $(lab_metric m3 xlb_dataplane_attached);"
	lab_xlbd_kill TERM
	lab_xlbd_start || why="$why xlbd did not start again;"
	wait_ms 5000 lab_scrape m4 &&
		[ "$(lab_metric m4 xlb_dataplane_attached)" = 1 ] ||
		why="$why after a restart attached is $(lab_metric m4 xlb_dataplane_attached);"
	if [ -z "$why" ]; then
		pass "metrics (parsed as Prometheus text; b2 up 1 -> 0, checks failed $f0 -> $(lab_metric m2 "xlb_health_checks_total{$be,result=\"failed\",$vi}"), transitions $t0 -> $((t0 + 1)); attached 1 -> 0 when detached)"
	else
		fail metrics "$why"
	fi
}

CASES=${TESTS:-"fields kill http500 flap slow tcp_udp syn https readd vipset override maint panic slowstart metrics"}

LAB_XLBD_ARGS=(--metrics 198.18.0.10:9100)
lab_checked "$VIP" "$RISE" "$FALL"
lab_run_cases $CASES
