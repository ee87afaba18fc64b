#!/usr/bin/env bash
# End to end: the peer protocol (user/xlbd/peer.c, user/lib/peerproto.c)
# between two xlbd nodes, and a third host that forges, replays and
# truncates their messages.
#
#        [P-n1] xlbd 198.18.0.21 ──┐
#        [P-n2] xlbd 198.18.0.22 ──┤ br0 in [P-sw]
#        [P-x]  attacker 198.18.0.23 .25 ┘
#
# n1 and n2 run the same -c file and peer with each other over UDP 7946
# with one key file. Heartbeats every 200 ms; a peer is down after 3 missed.
#   VIP 198.18.1.1:80/tcp  backends .11 .12 (need not exist: no checks)
#   VIP 198.18.1.2:80/tcp  TCP checks, all-down: drop; backends .23 and
#                          .25 (P-x serves port 80 on both), backend .24
#                          (absent: down on both nodes)
#
# Cases:
#   key       a key file that is missing, short, or readable by others:
#             xlbd exits 2 with a clear message; its own address as a peer:
#             exits 1 with nothing attached
#   up        both nodes show the other `up`, configuration and table equal
#   down      SIGKILL n2: n1 shows it `down` within the bound (logged once)
#   restart   n2 back: both `up` again (its new sequence numbers accepted)
#   health    n2 cannot reach .23 (a blackhole route): its check says down
#             while n1's says up; the group drains it (a live node sees it
#             down), so both tables drop it together and stay equal; n2
#             then loses .25 too, sees every backend down and is cut off:
#             its view stops counting, .23 back in on both; reachable
#             again: back on both
#   drift     a weight changed on n2: n1 alarms config and table drift
#             (peers output, metrics, one log line each), then equal again
#   ipv6      the same pair peered over IPv6: both `up`, tables equal
#   attacks   from P-x: a forged, a wrongly keyed, a replayed, two truncated,
#             an unknown sender's and a stale message: each dropped and
#             counted by its reason; n2 stays `up`, no transition
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

# SIGTERM first: a clean exit, so a sanitizer build checks for leaks.
trap '[ -n "${KEEP:-}" ] && [ -n "$LAB" ] && cp "$LAB"/*.log "$KEEP/" 2>/dev/null
[ -n "$LAB" ] && { node_kill 1; node_kill 2; }; lab_down' EXIT

N1=198.18.0.21
N2=198.18.0.22
NX=198.18.0.23
NY=198.18.0.25
VIP=$VIP4:80/tcp
VIP2=198.18.1.2:80/tcp
BOUND_MS=1500		# 3 x 200 ms, plus polling and scheduling slack

peer_lab() {
	LAB=$(mktemp -d /tmp/xlb-lab.XXXXXX)
	mkdir -p "$LAB/bpf"
	mount -t bpf bpf "$LAB/bpf"
	ip netns add "$P-sw"
	ip -n "$P-sw" link add br0 type bridge
	ip -n "$P-sw" link set br0 up
	lab_host n1 21
	lab_host n2 22
	lab_host x 23
	# Backends are reached by FIB lookup: forwarding on.
	lab_ns n1 sysctl -qw net.ipv4.conf.all.forwarding=1
	lab_ns n2 sysctl -qw net.ipv4.conf.all.forwarding=1
	head -c 32 /dev/urandom > "$LAB/peer.key"
	chmod 600 "$LAB/peer.key"
	cat > "$LAB/conf.yaml" <<-EOF
	vips:
	  - vip: $VIP
	    backends:
	      - addr: 198.18.0.11
	      - addr: 198.18.0.12
	  - vip: $VIP2
	    all-down: drop
	    check:
	      type: tcp
	      interval: 0.2
	      fall: 2
	      rise: 1
	    backends:
	      - addr: 198.18.0.23
	      - addr: 198.18.0.24
	      - addr: $NY
	EOF
	ip -n "$P-x" addr add "$NY/24" dev eth0
	for a in "$NX" "$NY"; do
		lab_ns x "$LAB_PY" -m http.server 80 --bind "$a" \
			> "$LAB/http-x-$a.log" 2>&1 < /dev/null &
		lab_wait 5 lab_ns x bash -c "exec 3<>/dev/tcp/$a/80"
	done
}

# node_start N OTHER: xlbd on node N peered with OTHER, metrics on :9100.
node_start() {
	local n=$1 other=$2 ip
	ip=198.18.0.$((20 + n))
	lab_ns "n$n" "$LAB_BUILD/xlbd" -i eth0 -s "$LAB/n$n.sock" \
		--pin-root "$LAB/bpf/n$n" --state "$LAB/n$n.yaml" \
		-c "$LAB/conf.yaml" --metrics "$ip:9100" \
		--peer-key "$LAB/peer.key" --peer "$other" \
		< /dev/null >> "$LAB/n$n.log" 2>&1 &
	lab_wait 10 ctl "$n" list
}

# both: each node running (a case run alone starts them).
both() {
	lab_pids n1 xlbd | grep -q . || node_start 1 "$N2" || return 1
	lab_pids n2 xlbd | grep -q . || node_start 2 "$N1" || return 1
	lab_wait 5 is_state 1 "$N2" up
}

node_kill() {
	local pid
	pid=$(lab_pids "n$1" xlbd)
	[ -n "$pid" ] || return 0
	kill -"${2:-TERM}" "$pid"
	lab_wait 10 bash -c "! kill -0 $pid"
}

ctl() { "$LAB_BUILD/xlbctl" -s "$LAB/n$1.sock" "${@:2}"; }

# peer_field N ADDR FIELD: a member of node N's view of peer ADDR (JSON).
peer_field() {
	ctl "$1" -j peers | "$LAB_PY" -c '
import json, sys
r = json.load(sys.stdin)
p = [p for p in r["peers"] if p["addr"] == sys.argv[1]][0]
v = p
for k in sys.argv[2].split("."):
    v = v[k]
print(json.dumps(v) if not isinstance(v, str) else v)' "$2" "$3"
}

# drop N REASON: node N's count of drops for REASON (all senders).
drop() {
	ctl "$1" -j peers | "$LAB_PY" -c '
import json, sys
print(json.load(sys.stdin)["dropped"][sys.argv[1]])' "$2"
}

# peer_line N ADDR: node N's text line for ADDR.
peer_line() { ctl "$1" peers | awk -v a="$2" '$1 == a'; }

is_state() { peer_line "$1" "$2" | grep -q "^$2 $3 "; }

metric() {
	lab_ns "n$1" curl -s --max-time 2 "http://198.18.0.$((20 + $1)):9100/metrics" |
		awk -v m="$2" '$1 == m { print $2 }'
}

now_ms() { date +%s%3N; }

t_key() {
	local why="" out rc
	out=$(lab_ns n1 "$LAB_BUILD/xlbd" -i eth0 -s "$LAB/k.sock" \
		--pin-root "$LAB/bpf/k" --state "$LAB/k.yaml" \
		--peer-key "$LAB/nokey" --peer "$N2" 2>&1 < /dev/null)
	rc=$?
	[ $rc -eq 2 ] && [[ $out == *"peer key $LAB/nokey"* ]] ||
		why="missing key: rc $rc, '$out'"
	head -c 31 /dev/urandom > "$LAB/short.key"
	chmod 600 "$LAB/short.key"
	out=$(lab_ns n1 "$LAB_BUILD/xlbd" -i eth0 -s "$LAB/k.sock" \
		--pin-root "$LAB/bpf/k" --state "$LAB/k.yaml" \
		--peer-key "$LAB/short.key" --peer "$N2" 2>&1 < /dev/null)
	rc=$?
	[ $rc -eq 2 ] && [[ $out == *"31 bytes"* ]] ||
		why="$why short key: rc $rc, '$out'"
	cp "$LAB/peer.key" "$LAB/open.key"
	chmod 640 "$LAB/open.key"
	out=$(lab_ns n1 "$LAB_BUILD/xlbd" -i eth0 -s "$LAB/k.sock" \
		--pin-root "$LAB/bpf/k" --state "$LAB/k.yaml" \
		--peer-key "$LAB/open.key" --peer "$N2" 2>&1 < /dev/null)
	rc=$?
	[ $rc -eq 2 ] && [[ $out == *"group or others"* ]] ||
		why="$why open key: rc $rc, '$out'"
	out=$(lab_ns n1 "$LAB_BUILD/xlbd" -i eth0 -s "$LAB/k.sock" \
		--pin-root "$LAB/bpf/k" --state "$LAB/k.yaml" \
		--peer-key "$LAB/peer.key" --peer "$N1" 2>&1 < /dev/null)
	rc=$?
	[ $rc -eq 1 ] && [[ $out == *"$N1 is this node's own address"* ]] &&
		[[ $out != *attached* ]] || why="$why own address: rc $rc, '$out'"
	out=$(lab_ns n1 "$LAB_BUILD/xlbd" -i eth0 --peer 127.0.0.1 2>&1 < /dev/null)
	rc=$?
	[ $rc -eq 2 ] && [[ $out == *"loopback"* ]] ||
		why="$why --peer 127.0.0.1: rc $rc, '$out'"
	[ -z "$why" ] && pass key || fail key "$why"
}

metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }

t_up() {
	local why=""
	node_start 1 "$N2" || why="n1 did not start"
	node_start 2 "$N1" || why="$why n2 did not start"
	lab_wait 5 is_state 1 "$N2" up || why="$why n1 sees n2: $(peer_line 1 "$N2")"
	lab_wait 5 is_state 2 "$N1" up || why="$why n2 sees n1: $(peer_line 2 "$N1")"
	[ "$(peer_field 1 "$N2" config)" = equal ] ||
		why="$why config: $(peer_field 1 "$N2" config)"
	# Both tables equal once both nodes' checks have settled.
	lab_wait 5 tables_are 1 2 0 || why="$why tables: $(peer_line 1 "$N2")"
	[ "$(metric 1 "xlb_peer_up{peer=\"$N2\"}")" = 1 ] ||
		why="$why metric xlb_peer_up: '$(metric 1 "xlb_peer_up{peer=\"$N2\"}")'"
	grep -q "peer $N2: up" "$LAB/n1.log" || why="$why no 'up' log line"
	# The group: its peer's bulk sync (empty: no flows) done, nothing to
	# sync in a healthy pair.
	lab_wait 5 metric_is 1 xlb_group_synced 1 ||
		why="$why xlb_group_synced '$(metric 1 xlb_group_synced)'"
	[ "$(metric 1 xlb_sync_exceptions)" = 0 ] ||
		why="$why xlb_sync_exceptions '$(metric 1 xlb_sync_exceptions)'"
	# The whole page, peer and group families included, as a scraper
	# parses it (tests/e2e/prom.py).
	lab_ns n1 curl -s --max-time 2 "http://$N1:9100/metrics" > "$LAB/n1.metrics"
	"$LAB_PY" tests/e2e/prom.py "$LAB/n1.metrics" > "$LAB/n1.prom" ||
		why="$why page: $(cat "$LAB/n1.prom")"
	[ -z "$why" ] && pass up || fail up "$why"
}

t_down() {
	both || { fail "${FUNCNAME#t_}" "nodes not up"; return; }
	local why="" t0 t1 lines
	lab_wait 5 is_state 1 "$N2" up || why="n2 not up before"
	lines=$(grep -c "peer $N2: down" "$LAB/n1.log")
	t0=$(now_ms)
	node_kill 2 KILL
	lab_wait 5 is_state 1 "$N2" down || why="$why n2 never down"
	t1=$(now_ms)
	echo "  n2 killed -> down on n1 in $((t1 - t0)) ms (bound $BOUND_MS)"
	[ $((t1 - t0)) -le $BOUND_MS ] || why="$why took $((t1 - t0)) ms"
	sleep 1		# the log line must not repeat
	[ "$(grep -c "peer $N2: down" "$LAB/n1.log")" -eq $((lines + 1)) ] ||
		why="$why down logged $(grep -c "peer $N2: down" "$LAB/n1.log") times"
	[ "$(metric 1 "xlb_peer_up{peer=\"$N2\"}")" = 0 ] || why="$why metric not 0"
	[ -z "$why" ] && pass down || fail down "$why"
}

t_restart() {
	local why=""
	lab_pids n1 xlbd | grep -q . || node_start 1 "$N2"
	lab_pids n2 xlbd | grep -q . && node_kill 2 KILL
	node_start 2 "$N1" || why="n2 did not start"
	lab_wait 5 is_state 1 "$N2" up || why="$why n1 sees n2: $(peer_line 1 "$N2")"
	lab_wait 5 is_state 2 "$N1" up || why="$why n2 sees n1: $(peer_line 2 "$N1")"
	[ "$(drop 1 replay)" = 0 ] || why="$why restarted sender refused: replay $(drop 1 replay)"
	[ -z "$why" ] && pass restart || fail restart "$why"
}

# tables_are N EQUAL DIFFER: node N's counts for its peer.
tables_are() {
	local p=$N2
	[ "$1" = 2 ] && p=$N1
	[ "$(peer_field "$1" "$p" tables_equal)" = "$2" ] &&
	[ "$(peer_field "$1" "$p" tables_differ)" = "$3" ]
}

# be_field N ADDR FIELD: node N's FIELD for backend ADDR of VIP2.
be_field() {
	ctl "$1" -j list | "$LAB_PY" -c '
import json, sys
for v in json.load(sys.stdin)["vips"]:
    for b in v.get("backends", []):
        if v["vip"] == sys.argv[1] and b["addr"] == sys.argv[2]:
            print(b.get(sys.argv[3]))' "$VIP2" "$2" "$3"
}
be_health() { be_field "$1" "$2" health; }
health_is() { [ "$(be_health "$1" "$NX")" = "$2" ]; }
be_health_is() { [ "$(be_health "$1" "$2")" = "$3" ]; }
eff_is() { [ "$(be_field "$1" "$NX" effective_weight)" = "$2" ]; }

# The peers disagree: n2 cannot reach .23, n1 can. The group agrees that
# it is drained (a live node sees it down: docs/group.md), so both tables
# drop it at the same epoch and stay equal; back when n2 sees it again.
t_health() {
	both || { fail health "nodes not up"; return; }
	local why="" m w
	lab_wait 5 tables_are 1 2 0 || why="tables before: $(peer_line 1 "$N2")"
	w=$(be_field 1 "$NX" effective_weight)
	ip -n "$P-n2" route add blackhole "$NX/32"
	lab_wait 5 health_is 2 down || why="$why n2 sees .23 $(be_health 2 "$NX")"
	[ "$(be_health 1 "$NX")" = up ] || why="$why n1 sees .23 $(be_health 1 "$NX")"
	lab_wait 3 eff_is 1 0 ||
		why="$why n1 keeps .23 at $(be_field 1 "$NX" effective_weight)"
	eff_is 2 0 || why="$why n2 keeps .23 at $(be_field 2 "$NX" effective_weight)"
	lab_wait 3 tables_are 1 2 0 || why="$why tables: $(peer_line 1 "$N2")"
	config_is equal || why="$why config: $(peer_field 1 "$N2" config)"
	m=$(metric 1 "xlb_peer_table_match{peer=\"$N2\",vip=\"$VIP2\"}")
	[ "$m" = 1 ] || why="$why table metric '$m'"
	grep -q "follows the agreed backend set" "$LAB/n1.log" ||
		why="$why n1 logged no agreed change"
	# n2 loses .25 as well: every backend down for it, cut off; the
	# group keeps .23 at full weight (n1 reaches it) on both nodes.
	ip -n "$P-n2" route add blackhole "$NY/32"
	lab_wait 5 be_health_is 2 "$NY" down || why="$why n2 sees .25 $(be_health 2 "$NY")"
	lab_wait 3 eff_is 1 "$w" ||
		why="$why n2 cut off: n1 keeps .23 at $(be_field 1 "$NX" effective_weight)"
	lab_wait 3 eff_is 2 "$w" ||
		why="$why n2 cut off: n2 keeps .23 at $(be_field 2 "$NX" effective_weight)"
	lab_wait 3 tables_are 1 2 0 || why="$why tables (cut off): $(peer_line 1 "$N2")"
	ip -n "$P-n2" route del blackhole "$NY/32"
	ip -n "$P-n2" route del blackhole "$NX/32"
	lab_wait 10 eff_is 1 "$w" ||
		why="$why n1: .23 not back ($(be_field 1 "$NX" effective_weight))"
	lab_wait 3 eff_is 2 "$w" || why="$why n2: .23 not back"
	lab_wait 5 tables_are 1 2 0 || why="$why not equal after: $(peer_line 1 "$N2")"
	m=$(grep -c "table of $VIP2 differs" "$LAB/n1.log")
	[ "$m" = 0 ] || why="$why tables differed $m times on the way"
	[ -z "$why" ] && pass health "(.23 out and back on both nodes, tables equal throughout)" ||
		fail health "$why"
}

# group12 (last: its maintenance on one node is a drift the drift case
# would count): maintenance and panic are group facts (docs/group.md). n1 puts
# .23 in maintenance: drained on both nodes, tables equal; ready: back on
# both. With panic 0.7 on both, 2 of 3 up (.24 never answers) is panic:
# .24 takes flows on both nodes, tables equal; panic 0: out again. With
# slow-start 4 on both, .23 down and up again ramps on both, the same.
t_group12() {
	both || { fail group12 "nodes not up"; return; }
	local why="" w ramp
	lab_wait 5 eval 'health_is 1 up && health_is 2 up' || why="$NX not up before"
	lab_wait 3 tables_are 1 2 0 || why="$why tables before: $(peer_line 1 "$N2")"
	w=$(be_field 1 "$NX" effective_weight)
	ctl 1 backend maint "$VIP2" "$NX" > /dev/null || why="$why maint refused"
	lab_wait 3 eff_is 1 0 || why="$why n1 keeps .23 at $(be_field 1 "$NX" effective_weight)"
	lab_wait 3 eff_is 2 0 || why="$why n2 keeps .23 at $(be_field 2 "$NX" effective_weight)"
	[ "$(be_field 2 "$NX" agreed)" = drained ] || why="$why n2's agreed: $(be_field 2 "$NX" agreed)"
	lab_wait 3 tables_are 1 2 0 || why="$why tables in maint: $(peer_line 1 "$N2")"
	ctl 1 backend ready "$VIP2" "$NX" > /dev/null || why="$why ready refused"
	lab_wait 5 eff_is 1 "$w" || why="$why n1: .23 not back"
	lab_wait 3 eff_is 2 "$w" || why="$why n2: .23 not back"
	[ "$(be_field 1 198.18.0.24 effective_weight)" = 0 ] || why="$why .24 in use before panic"
	ctl 1 vip set "$VIP2" --panic 0.7 > /dev/null && ctl 2 vip set "$VIP2" --panic 0.7 > /dev/null ||
		why="$why panic refused"
	lab_wait 3 eval '[ "$(be_field 1 198.18.0.24 effective_weight)" != 0 ] && [ "$(be_field 2 198.18.0.24 effective_weight)" != 0 ]' ||
		why="$why no panic: .24 at $(be_field 1 198.18.0.24 effective_weight)/$(be_field 2 198.18.0.24 effective_weight)"
	lab_wait 3 tables_are 1 2 0 || why="$why tables in panic: $(peer_line 1 "$N2")"
	ctl 1 vip set "$VIP2" --panic 0 > /dev/null; ctl 2 vip set "$VIP2" --panic 0 > /dev/null
	lab_wait 3 eval '[ "$(be_field 1 198.18.0.24 effective_weight)" = 0 ] && [ "$(be_field 2 198.18.0.24 effective_weight)" = 0 ]' ||
		why="$why panic not over"
	lab_wait 3 tables_are 1 2 0 || why="$why tables after: $(peer_line 1 "$N2")"
	# Slow start: .23 down on both and back; it ramps on both, from the
	# steps of their views (the least), to full weight, tables equal.
	ctl 1 vip set "$VIP2" --slow-start 4 > /dev/null && ctl 2 vip set "$VIP2" --slow-start 4 > /dev/null ||
		why="$why slow-start refused"
	ip -n "$P-n1" route add blackhole "$NX/32"
	ip -n "$P-n2" route add blackhole "$NX/32"
	lab_wait 5 eval 'health_is 1 down && health_is 2 down' || why="$why .23 not down"
	ip -n "$P-n1" route del blackhole "$NX/32"
	ip -n "$P-n2" route del blackhole "$NX/32"
	lab_wait 5 eval 'health_is 1 up && health_is 2 up' || why="$why .23 not up"
	lab_wait 5 eval 'r1=$(be_field 1 "$NX" effective_weight); [ "$r1" -gt 0 ] && [ "$r1" -lt "$w" ] && [ "$r1" = "$(be_field 2 "$NX" effective_weight)" ]' ||
		why="$why no common ramp: .23 at $(be_field 1 "$NX" effective_weight) on n1, $(be_field 2 "$NX" effective_weight) on n2 of $w"
	# The steps as the table took them (one a poll, at most ~10 s): a
	# ramp that moves, not one stuck at its first step.
	ramp=""
	for _ in $(seq 50); do
		r1=$(be_field 1 "$NX" effective_weight)
		[ "$r1" = "$w" ] && break
		[[ " $ramp " == *" $r1 "* ]] || ramp="$ramp $r1"
		sleep 0.2
	done
	[ "$(echo $ramp | wc -w)" -ge 3 ] || why="$why ramp steps:$ramp"
	lab_wait 10 eval 'eff_is 1 "$w" && eff_is 2 "$w"' || why="$why ramp not over"
	lab_wait 3 tables_are 1 2 0 || why="$why tables after the ramp: $(peer_line 1 "$N2")"
	ctl 1 vip set "$VIP2" --slow-start 0 > /dev/null; ctl 2 vip set "$VIP2" --slow-start 0 > /dev/null
	[ -z "$why" ] && pass group12 "(maint on n1: .23 drained on both, back on both; panic 0.7 with 2 of 3 up: .24 in both tables; slow start: .23 at$ramp of $w, then full)" ||
		fail group12 "$why"
}

config_is() { [ "$(peer_field 1 "$N2" config)" = "$1" ]; }

t_drift() {
	both || { fail "${FUNCNAME#t_}" "nodes not up"; return; }
	local why="" m
	lab_wait 5 is_state 1 "$N2" up || why="n2 not up before"
	ctl 2 backend set-weight "$VIP" 198.18.0.12 40 || why="$why set-weight"
	lab_wait 3 config_is differs || why="$why config: $(peer_field 1 "$N2" config)"
	lab_wait 3 tables_are 1 1 1 || why="$why tables: $(peer_line 1 "$N2")"
	peer_line 1 "$N2" | grep -q "config differs tables 1 equal 1 differ $VIP " ||
		why="$why line: $(peer_line 1 "$N2")"
	m=$(metric 1 "xlb_peer_config_match{peer=\"$N2\"}")
	[ "$m" = 0 ] || why="$why config metric '$m'"
	m=$(metric 1 "xlb_peer_table_match{peer=\"$N2\",vip=\"$VIP\"}")
	[ "$m" = 0 ] || why="$why table metric '$m'"
	sleep 1		# several heartbeats: still one line each
	[ "$(grep -c "peer $N2: configuration differs" "$LAB/n1.log")" = 1 ] ||
		why="$why drift logged $(grep -c "peer $N2: configuration differs" "$LAB/n1.log") times"
	[ "$(grep -c "peer $N2: table of $VIP differs" "$LAB/n1.log")" = 1 ] ||
		why="$why table drift logged $(grep -c "table of $VIP differs" "$LAB/n1.log") times"
	ctl 2 backend set-weight "$VIP" 198.18.0.12 100 || why="$why set-weight back"
	lab_wait 3 config_is equal || why="$why not equal again"
	lab_wait 3 tables_are 1 2 0 || why="$why tables still differ"
	grep -q "peer $N2: configuration equal to ours again" "$LAB/n1.log" ||
		why="$why no 'equal again' line"
	m=$(metric 1 "xlb_peer_table_match{peer=\"$N2\",vip=\"$VIP\"}")
	[ "$m" = 1 ] || why="$why table metric after '$m'"
	[ -z "$why" ] && pass drift || fail drift "$why"
}

# capture: one of n2's heartbeats to n1 as it arrives on n1's eth0 (hex).
capture() {
	lab_ns n1 timeout 5 "$LAB_PY" -c '
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0))
src = socket.inet_aton(sys.argv[1])
for _ in range(200):
    f = s.recv(70000)
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 17 or ip[12:16] != src:
        continue
    udp = ip[ihl:]
    if struct.unpack("!H", udp[2:4])[0] != 7946:
        continue
    print(udp[8:].hex())
    break' "$N2"
}

# attack HEX: the datagrams of the attack, sent from P-x (scapy; the
# source address spoofed where the attack needs it).
attack() {
	lab_ns x "$LAB_PY" - "$1" "$LAB/peer.key" "$N1" "$N2" "$NX" <<-'EOF'
	import hashlib, hmac, struct, sys, time
	from scapy.all import IP, UDP, Raw, send, conf
	conf.verb = 0
	cap = bytes.fromhex(sys.argv[1])
	key = open(sys.argv[2], "rb").read()
	n1, n2, nx = sys.argv[3:6]
	def msg(sender, seq, sent_ns, k=key):
	    addr = bytes(map(int, sender.split("."))) + bytes(12)
	    body = struct.pack("!HH", 3, 1) + b"\0"
	    hdr = (b"XLBP" + bytes([1, 1]) + struct.pack("!H", len(body)) +
	           bytes([4, 0, 0, 0]) + addr + struct.pack("!QQ", seq, sent_ns))
	    m = hdr + body
	    return m + hmac.new(k, m, hashlib.sha256).digest()
	def to_n1(payload, src):
	    send(IP(src=src, dst=n1) / UDP(sport=7946, dport=7946) / Raw(payload))
	now = time.time_ns()
	forged = bytearray(cap); forged[50] ^= 0xff
	to_n1(bytes(forged), n2)                            # mac
	to_n1(msg(n2, now + 10**15, now, b"k" * 32), n2)    # mac (another key)
	to_n1(cap, n2)                                      # replay
	to_n1(cap[:-10], n2)                                # length
	to_n1(cap[:20], n2)                                 # short
	to_n1(msg(nx, now + 10**15, now), nx)               # unknown_sender
	to_n1(msg(n2, now + 10**15, now - 60 * 10**9), n2)  # time
	EOF
}

t_attacks() {
	both || { fail "${FUNCNAME#t_}" "nodes not up"; return; }
	local why="" hex tr rx r want
	lab_wait 5 is_state 1 "$N2" up || why="n2 not up before"
	declare -A before
	for r in mac replay length short unknown_sender time tlv version magic; do
		before[$r]=$(drop 1 $r)
	done
	tr=$(peer_field 1 "$N2" transitions)
	hex=$(capture)
	[ -n "$hex" ] || why="$why no heartbeat captured"
	attack "$hex" || why="$why attack script failed"
	sleep 0.5
	for r in mac:2 replay:1 length:1 short:1 unknown_sender:1 time:1 \
		 tlv:0 version:0 magic:0; do
		want=$((before[${r%:*}] + ${r#*:}))
		[ "$(drop 1 "${r%:*}")" = "$want" ] ||
			why="$why ${r%:*} $(drop 1 "${r%:*}") not $want"
	done
	[ "$(metric 1 'xlb_peer_dropped_total{reason="mac"}')" = \
	  "$((before[mac] + 2))" ] || why="$why metric mac"
	# Unaffected: still up, no transition, its heartbeats still taken.
	rx=$(peer_field 1 "$N2" received.heartbeat)
	sleep 0.5
	is_state 1 "$N2" up || why="$why n2 not up"
	[ "$(peer_field 1 "$N2" transitions)" = "$tr" ] || why="$why transitions moved"
	[ "$(peer_field 1 "$N2" received.heartbeat)" -gt "$rx" ] ||
		why="$why n2's heartbeats no longer taken"
	[ -z "$why" ] && pass attacks || fail attacks "$why"
}

v6_tables_equal() { [ "$(peer_field 1 2001:db8::22 tables_equal)" = 2 ]; }

t_ipv6() {
	local why=""
	node_kill 1
	node_kill 2
	node_start 1 2001:db8::22 || why="n1 did not start"
	node_start 2 2001:db8::21 || why="$why n2 did not start"
	lab_wait 5 is_state 1 2001:db8::22 up ||
		why="$why n1 sees n2: $(peer_line 1 2001:db8::22)"
	lab_wait 5 is_state 2 2001:db8::21 up ||
		why="$why n2 sees n1: $(peer_line 2 2001:db8::21)"
	lab_wait 5 v6_tables_equal ||
		why="$why tables: $(peer_line 1 2001:db8::22)"
	grep -q "listening on 2001:db8::21 port 7946" "$LAB/n1.log" ||
		why="$why not bound to the IPv6 address"
	node_kill 1
	node_kill 2
	[ -z "$why" ] && pass ipv6 || fail ipv6 "$why"
}

peer_lab || { echo "FAIL lab: could not build"; echo "e2e: 0 passed, 1 failed"; exit 1; }
# shellcheck disable=SC2086
lab_run_cases ${TESTS:-key up down restart health drift attacks ipv6 group12}
