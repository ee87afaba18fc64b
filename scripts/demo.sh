#!/usr/bin/env bash
# The main job: install, build, then the anycast demo. Two xlb nodes
# announce one VIP over BGP to a router that spreads connections over them
# (ECMP, BFD 100 ms x 3); three backends run HTTP servers. Every host is a
# network namespace: scripts/anycast-lab.sh draws the lab, docs/lab.md
# describes it. The nodes are peers: they agree on one table and sync the
# flows a peer would not pick by itself (docs/group.md). In plain words
# and live counts:
#   1. spread     new connections over both nodes and the three backends
#   2. backend    b3's HTTP server killed: the checks take it out, the VIP
#                 keeps answering from b1 and b2; b3 comes back
#   3. node dies  n1's xlbd SIGKILLed and its program detached under 40
#                 long-lived connections: none is reset
#   4. node back  n1 restarts and announces again, the connections go on
#   5. drain      `xlbctl node drain --wait` on n1, then `node undrain`
#                 (needs the xlbd that keeps BIRD's routes itself: with
#                 one that does not, the step says so and is skipped)
# then one summary line. Bounded: ~200 short requests and two long-lived
# runs of a minute at most; every wait has a deadline; the namespaces go
# on exit, failure and Ctrl-C included. Root on Debian 12.
# The single-node demo is scripts/demo-single.sh.
set -u
cd "$(dirname "$0")/.." || exit 1
bash scripts/install-deps.sh || exit 1
make -j2 || exit 1

# The router's routes come from xlbd itself when it keeps the tun and
# BIRD's include file (--bird-socket); with an xlbd that does not, the lab
# plays that part (scripts/anycast-lab.sh, "routes"). ALAB_XLBD_BIRD=0|1
# forces either.
want_bird=${ALAB_XLBD_BIRD:-}
. scripts/anycast-lab.sh
if [ -n "$want_bird" ]; then
	ALAB_XLBD_BIRD=$want_bird
elif "$LAB_BUILD/xlbd" --help 2>&1 | grep -q -- --bird-socket; then
	ALAB_XLBD_BIRD=1
else
	ALAB_XLBD_BIRD=0
fi

trap alab_down EXIT
trap 'exit 130' INT TERM

LC_CONNS=40		# long-lived connections while n1 dies and returns
LC_DRAIN=20		# and while it drains
LC_MAX_S=60		# bound of one long-lived run; the steps end it sooner
GRACE_S=2		# node drain: graceful-shutdown routes kept this long
B3=198.18.0.13

if [ -t 1 ]; then
	say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	say() { printf '\n%s\n' "$*"; }
fi
tell() { echo "   $*"; }
# die WHY: the demo stops (the lab goes with it), showing what the lab's
# servers and daemons complained of first.
die() {
	local f
	echo "demo: $*" >&2
	for f in "${LAB:-/nonexistent}"/http-b*.err "${LAB:-/nonexistent}"/n*/xlbd.log; do
		[ -s "$f" ] && { echo "--- $f:"; tail -n 5 "$f"; } >&2
	done
	exit 1
}

# live TEXT: a line of counts that changes in place on a terminal; once
# done, live_done leaves its last text (the only one printed elsewhere).
LIVE=""
live() {
	LIVE=$1
	[ -t 1 ] && printf '\r   %s\033[K' "$1"
	return 0
}
live_done() { if [ -t 1 ]; then echo; else echo "   $LIVE"; fi; }

now() { printf '%s' "$EPOCHREALTIME"; }
ms_since() {
	local a=${1/./} b=${EPOCHREALTIME/./}
	echo $(((10#$b - 10#$a) / 1000))
}

# node_counts I: node I's VIP counters "packets new_flows" (xlbctl list:
# stats would wait a second for its rates), "- -" while its xlbd is down.
node_counts() {
	alab_ctl "$1" -j list 2>/dev/null | "$LAB_PY" -c '
import json, sys
try:
    v = [v for v in json.load(sys.stdin)["vips"] if v["vip"] == sys.argv[1]]
    print(sum(x["packets"] for x in v), sum(x["new_flows"] for x in v))
except Exception:
    print("- -")' "$ALAB_VIP"
}

new_flows() { node_counts "$1" | cut -d' ' -f2; }

# minus A B: A - B, or "-" when either is unknown.
minus() {
	if [ "$1" = - ] || [ "$2" = - ]; then echo -; else echo $(($1 - $2)); fi
}

# hops: the nodes the router sends the VIP to, by name.
hops() {
	local h
	h=$(alab_nexthops | awk -F. '{ printf "n%d ", $4 - 20 }')
	echo "${h:-nobody}"
}

# be_health I ADDR: backend ADDR as node I sees it: its checks' verdict,
# then what its table follows: with peers what the group agreed (at the
# next epoch, docs/group.md), without them the same verdict.
be_health() {
	alab_ctl "$1" -j list 2>/dev/null | "$LAB_PY" -c '
import json, sys
try:
    print(*[b["health"] + " " + b.get("agreed", b["health"])
            for v in json.load(sys.stdin)["vips"]
            for b in v.get("backends", []) if b["addr"] == sys.argv[1]])
except Exception:
    print("? ?")' "$2"
}

# Shows for watch (each sets LINE).
declare -A R_PK=()
R_T=0
R_LINE=""
# show_rates: each node's VIP packets per second over the last 0.2 s or
# more ("xlbd down" while it is), and where the router sends the VIP.
show_rates() {
	local i p t out=""
	t=${EPOCHREALTIME/./}
	if [ -n "$R_LINE" ] && [ $((t - R_T)) -lt 200000 ]; then
		LINE=$R_LINE
		return
	fi
	for i in 1 2; do
		read -r p _ < <(node_counts "$i")
		if [ "$p" = - ]; then
			out+="n$i: xlbd down      "
		elif [ "${R_PK[$i]:--}" != - ] && [ "$p" -ge "${R_PK[$i]}" ]; then
			out+=$(printf 'n%d: %5d pkt/s      ' "$i" \
				$(((p - R_PK[$i]) * 1000000 / (t - R_T))))
		else
			out+="n$i: ...            "
		fi
		R_PK[$i]=$p
	done
	R_T=$t
	R_LINE="${out}router -> $(hops)"
	LINE=$R_LINE
}
show_b3() {
	local h1 t1 h2 t2
	read -r h1 t1 < <(be_health 1 $B3)
	read -r h2 t2 < <(be_health 2 $B3)
	LINE="b3 checked from n1: $h1, from n2: $h2; in the tables of n1: $t1, n2: $t2"
}

# watch SECONDS SHOW CMD...: wait until CMD succeeds (SECONDS at most),
# showing meanwhile the live line SHOW sets, and its last state at the
# end (nothing when CMD succeeds at once); WAITED_MS is how long it took.
watch() {
	local deadline=$((SECONDS + $1)) show=$2 t0 rc=0 shown=0
	shift 2
	t0=$(now)
	R_PK=()
	R_LINE=""
	$show
	while ! "$@" > /dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			rc=1
			break
		fi
		live "$LINE"
		shown=1
		sleep 0.2
		$show
	done
	WAITED_MS=$(ms_since "$t0")
	if [ "$shown" = 1 ]; then
		$show
		live "$LINE"
		live_done
	fi
	return $rc
}

# observe SECONDS: the live counts for SECONDS, to see the traffic go (a
# time to look, not a wait for anything).
OBS_END=0
obs_over() { [ "${EPOCHREALTIME/./}" -ge "$OBS_END" ]; }
observe() {
	OBS_END=$((${EPOCHREALTIME/./} + $1 * 1000000))
	watch $(($1 + 2)) show_rates obs_over
}

# burst N: N new connections from the client, one request each; counts
# the answers per backend and the new connections per node as they go.
# Leaves B_b1 B_b2 B_b3 B_failed B_n1 B_n2.
burst() {
	local n=$1 i out a1 a2
	declare -A c=()
	B_failed=0
	a1=$(new_flows 1) a2=$(new_flows 2)
	for i in $(seq "$n"); do
		if out=$(lab_get 2>/dev/null) && [ -n "$out" ]; then
			c[$out]=$((${c[$out]:-0} + 1))
		else
			B_failed=$((B_failed + 1))
		fi
		if [ $((i % 5)) -eq 0 ] || [ "$i" -eq "$n" ]; then
			B_n1=$(minus "$(new_flows 1)" "$a1")
			B_n2=$(minus "$(new_flows 2)" "$a2")
			live "$(printf '%3d connections: answered by b1 %-3d b2 %-3d b3 %-3d failed %-3d| new on n1 %-3s n2 %s' \
				"$i" "${c[b1]:-0}" "${c[b2]:-0}" "${c[b3]:-0}" \
				"$B_failed" "$B_n1" "$B_n2")"
		fi
	done
	live_done
	B_b1=${c[b1]:-0} B_b2=${c[b2]:-0} B_b3=${c[b3]:-0}
}

# lc_start N: N long-lived connections from the client, a keep-alive
# request every 100 ms each, in the background until lc_stop (LC_MAX_S at
# most); returns once every one has had its first answer.
LC=""
lc_start() {
	LC=$LAB/lc.$RANDOM.json
	rm -f "$LAB/lc.ready"
	lab_ns c "$LAB_PY" tests/e2e/longconn.py "$VIP4" --conns "$1" \
		--duration "$LC_MAX_S" --ready "$LAB/lc.ready" \
		< /dev/null > "$LC" 2> "$LC.err" &
	lab_wait 10 test -s "$LAB/lc.ready"
}

# lc_stop: end the run (SIGTERM: it prints its summary), then set
# LC_CONNECTED LC_REQUESTS LC_RESETS LC_FAILED LC_LATE LC_PAUSE (the
# longest wait for an answer, ms) LC_SWITCHED (connections answered by
# more than one backend) and LC_SHARE ("b1 N b2 N b3 N": connections
# per backend).
lc_stop() {
	local pid
	for pid in $(lab_pids c python3); do
		kill -TERM "$pid" 2>/dev/null
		lab_wait 5 bash -c "! kill -0 $pid"
	done
	lab_wait 5 test -s "$LC" || return 1
	[ -z "${DEMO_DEBUG:-}" ] || cp "$LC" "$DEMO_DEBUG/"
	read -r LC_CONNECTED LC_REQUESTS LC_RESETS LC_FAILED LC_LATE LC_PAUSE \
		LC_SWITCHED LC_SHARE < <("$LAB_PY" - "$LC" <<'EOF'
import collections, json, sys
d = json.load(open(sys.argv[1]))
share = collections.Counter(b for c in d["per_conn"] for b in c["backends"])
print(d["connected"], d["requests"], d["resets"], d["failed"], d["stalls"],
      round(d["max_ms"]), sum(len(c["backends"]) > 1 for c in d["per_conn"]),
      " ".join("%s %d" % (b, share[b]) for b in ("b1", "b2", "b3")))
EOF
	)
}

lc_report() {
	tell "$LC_CONNECTED connections, $LC_REQUESTS requests: $LC_RESETS reset," \
		"$LC_FAILED failed, $LC_LATE late (>150 ms); longest pause $LC_PAUSE ms;" \
		"$LC_SWITCHED changed backend; per backend: $LC_SHARE"
}

# node_start I: xlbd on node I with the VIP (kept in its state file across
# a restart, added when missing), every backend healthy, announced.
node_start() {
	alab_xlbd_start "$1" || return 1
	alab_ctl "$1" vip list 2>/dev/null | grep -q "$VIP4" || alab_vip "$1" ||
		return 1
	lab_wait 10 alab_healthy "$1" || return 1
	alab_announce "$1"
}

# group_stat I FIELD: a counter of node I's anycast group (xlbctl peers:
# sync_rounds, flows_confirmed, flows_exceptions, flows_imported...), "-"
# when it has none.
group_stat() {
	alab_ctl "$1" -j peers 2>/dev/null | "$LAB_PY" -c '
import json, sys
try:
    print(json.load(sys.stdin)["group"][sys.argv[1]])
except Exception:
    print("-")' "$2"
}

# rounds_past I R: node I's flow sync has run past round R (so the flows
# it had then have gone to its peers).
rounds_past() {
	local r
	r=$(group_stat "$1" sync_rounds)
	[ "$r" != - ] && [ "$r" -gt "$2" ]
}

# sync_shown I: wait until node I's flow sync has sent its peer every flow
# there is now (two rounds: the first may have begun before), then say
# how many of them the peer needed.
sync_shown() {
	local r0
	r0=$(group_stat "$1" sync_rounds)
	if [ "$r0" = - ]; then
		tell "(no flow sync: n$1 has no peers)"
		return 0
	fi
	lab_wait 5 rounds_past "$1" $((r0 + 1)) || return 1
	tell "flow sync: n$1 sent its peer the $(group_stat "$1" flows_exceptions) of its" \
		"$(group_stat "$1" flows_confirmed) flows in its table that the peer would pick differently"
}

# both_see STATE: b3 is STATE (up, down) in both nodes' tables.
both_see() {
	local h t i
	for i in 1 2; do
		read -r h t < <(be_health "$i" $B3)
		[ "$t" = "$1" ] || return 1
	done
}
# n_settled I: node I has new flows, and no more since the last call.
SETTLE=""
n_settled() {
	local f last=$SETTLE
	f=$(new_flows "$1")
	SETTLE=$f
	[ "$f" != - ] && [ "$f" -gt 0 ] && [ "$f" = "$last" ]
}
ended() { ! kill -0 "$1" 2>/dev/null; }

# --- the lab ---------------------------------------------------------------

say "The anycast lab: a client, a router (BIRD, BGP + BFD, ECMP), two xlb nodes (xlbd + BIRD), three HTTP backends"
if [ "$ALAB_XLBD_BIRD" = 1 ]; then
	tell "each node's xlbd announces the VIP itself (its tun xlb-eth0 and BIRD include file)"
else
	tell "this xlbd does not talk to BIRD: the lab announces the VIP for it (a tun held open, BIRD's include file)"
fi
t=$(now)
alab_up 2 || die "could not build the lab (see $LAB)"
for i in 1 2; do
	node_start "$i" || die "n$i did not come up (see $LAB/n$i/xlbd.log)"
done
{ lab_wait 10 alab_has_path 1 && lab_wait 10 alab_has_path 2; } ||
	die "the router does not route to both nodes: $(hops)"
tell "up after $(ms_since "$t") ms in namespaces $P-*; VIP $ALAB_VIP, backends b1-b3 healthy on both nodes"
tell "router -> $(hops)(two equal paths: it hashes each connection's addresses and ports to one node)"

say "1. Traffic spreads over both nodes"
tell "60 new connections. The router picks a node per connection; each node's Maglev table"
tell "picks the backend, the same table on both nodes, so either node picks the same one."
burst 60
S1="$B_n1/$B_n2 on n1/n2, b1/b2/b3 $B_b1/$B_b2/$B_b3, $B_failed failed"

say "2. A backend dies: b3's HTTP server is killed"
tell "Each node checks GET /health every 0.5 s; after 2 failures it sees b3 down, and at the next"
tell "epoch (every 0.5 s) both nodes take it out of their tables together: any node seeing it down is enough."
lab_backend_kill 3
watch 10 show_b3 both_see down || die "the nodes did not see b3 go down"
S2_MS=$WAITED_MS
tell "both nodes took b3 out ${S2_MS} ms after the kill. The VIP keeps answering, from b1 and b2:"
burst 40
S2="out after ${S2_MS} ms, then $B_failed failed, b3 got $B_b3"
tell "b3's HTTP server starts again; after 2 good checks on each node it is back in both tables:"
lab_backend_start 3
watch 10 show_b3 both_see up || die "the nodes did not see b3 come back"
burst 30

say "3. A node dies: n1's xlbd is SIGKILLed, then its XDP program detached"
tell "$LC_CONNS long-lived connections, each sending a request every 100 ms. With xlbd goes n1's tun: BIRD"
tell "withdraws n1's route and the router moves n1's connections to n2, which knows their backends: its table"
tell "is the one both nodes agreed on, and flow sync sent it the flows its table would pick differently."
a1=$(new_flows 1) a2=$(new_flows 2)
lc_start "$LC_CONNS" || die "the long-lived connections did not start: $(cat "$LC.err")"
f1=$(minus "$(new_flows 1)" "$a1")
tell "connections on n1: $f1, on n2: $(minus "$(new_flows 2)" "$a2")"
sync_shown 1 || die "n1's flow sync did not run"
N_BASE=$(new_flows 2)
alab_crash 1
watch 5 show_rates alab_no_path 1 || die "the router still routes to n1"
route_ms=$(alab_route_ms "$ALAB_T_CRASH" 1) || route_ms=$(ms_since "$ALAB_T_CRASH")
alab_xdp_detach 1
tell "route to n1 gone from the router ${route_ms} ms after the kill; n1's program detached"
SETTLE=""
watch 10 show_rates n_settled 2
tell "n2 carries n1's $f1 connections: $(minus "$(new_flows 2)" "$N_BASE") it picked by its table (new flows since the kill),"
tell "the others it had from the sync; they go on through n2 alone:"
observe 2

say "4. The node comes back: xlbd restarted on n1"
tell "It attaches again, takes n2's flow sync, finds b1-b3 healthy and announces; the router gives it its share again."
t=$(now)
node_start 1 || die "n1 did not come back (see $LAB/n1/xlbd.log)"
lab_wait 10 alab_has_path 1 || die "the router does not route to n1 again"
S4_MS=$(ms_since "$t")
tell "n1 announced and back on the router after ${S4_MS} ms"
SETTLE=""
watch 5 show_rates n_settled 1
tell "n1 carries $(new_flows 1) of the long-lived connections again, with their backends:"
observe 2
lc_stop || die "no summary from the long-lived connections: $(cat "$LC.err")"
lc_report
S3="$LC_RESETS reset of $LC_CONNECTED, longest pause $LC_PAUSE ms, route gone in $route_ms ms, back in $S4_MS ms"

say "5. Graceful drain of n1: xlbctl node drain --wait, then undrain"
if [ "$ALAB_XLBD_BIRD" != 1 ]; then
	tell "skipped: this xlbd does not keep BIRD's routes (no --bird-socket), so it has no node drain;"
	tell "that comes with xlbd's BIRD support (issue 10, the bird branch)."
	S5="skipped (xlbd without BIRD support)"
else
	tell "n1's route gets the GRACEFUL_SHUTDOWN community: the router takes it out of its ECMP set at once"
	tell "and n2 takes its connections; ${GRACE_S} s later the route is withdrawn; --wait returns once n1 is idle."
	a1=$(new_flows 1)
	lc_start "$LC_DRAIN" || die "the long-lived connections did not start: $(cat "$LC.err")"
	tell "$LC_DRAIN long-lived connections, on n1: $(minus "$(new_flows 1)" "$a1")"
	sync_shown 1 || die "n1's flow sync did not run"
	alab_ctl 1 node drain --grace "$GRACE_S" --wait --timeout 20 \
		> "$LAB/drain.out" 2>&1 &
	drain=$!
	watch 30 show_rates ended "$drain"
	wait "$drain"
	rc=$?
	sed 's/^/   xlbctl: /' "$LAB/drain.out"
	[ "$rc" = 0 ] || die "xlbctl node drain --wait failed ($rc)"
	S5_MS=$WAITED_MS
	tell "drained in $S5_MS ms; new connections go to n2 alone:"
	burst 20
	S5_N1=$B_n1
	tell "xlbctl node undrain: n1 announces again"
	alab_ctl 1 node undrain | sed 's/^/   xlbctl: /'
	watch 10 show_rates alab_has_path 1 || die "n1 did not come back after undrain"
	tell "the router sends n1 its share again, long-lived connections included:"
	observe 2
	burst 20
	lc_stop || die "no summary from the long-lived connections: $(cat "$LC.err")"
	lc_report
	S5="n1 idle after $S5_MS ms, took $S5_N1 new while drained, $LC_RESETS reset of $LC_CONNECTED"
fi

say "Summary: spread $S1 | b3 killed: $S2 | n1 killed: $S3 | drain: $S5"
