# shellcheck shell=bash
# The xlb lab: a client, one xlb node and N backends on one L2 segment, each
# host in its own network namespace. Sourced by the demo and the e2e tests.
#
#        [P-c] client 198.18.0.2 ──┐
#        [P-lb] xlbd 198.18.0.10 ──┤ br0 in [P-sw]     VIP 198.18.1.1:80/tcp
#        [P-b1] 198.18.0.11 ───────┤                   (and [2001:db8:1::1])
#        [P-b2] 198.18.0.12 ───────┤   backends: VIP on lo, xlb_decap on eth0,
#        [P-bN] 198.18.0.1N ───────┘   an HTTP server answering "bN"
#
# The client routes the VIPs to xlb; xlb encapsulates (IPIP by default) to a
# backend, whose decap program hands the inner packet to its stack; the
# backend answers the client directly (DSR).
#
# Everything lives under $LAB (a temp dir): a bpffs for xlbd's pins that
# outlives any one process, the control socket, state, logs. lab_down
# removes it all; callers trap it.

LAB_BUILD=${LAB_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
LAB_PY=/usr/bin/python3
P=${P:-xlbl$$}
LAB=""
LAB_NB=0
VIP4=198.18.1.1
VIP6=2001:db8:1::1

lab_ns() { ip netns exec "$P-$1" "${@:2}"; }

lab_mac() { printf '02:00:00:00:%02x:%02x' "$1" "$2"; }

# lab_host NAME IDX: a namespace with eth0 on the bridge.
lab_host() {
	local name=$1 idx=$2
	ip netns add "$P-$name"
	ip -n "$P-sw" link add "v$name" type veth peer name eth0 netns "$P-$name"
	ip -n "$P-sw" link set "v$name" master br0 up
	ip -n "$P-$name" link set eth0 address "$(lab_mac 0 "$idx")"
	ip -n "$P-$name" link set eth0 up
	ip -n "$P-$name" link set lo up
	ip -n "$P-$name" addr add "198.18.0.$idx/24" dev eth0
	ip -n "$P-$name" addr add "2001:db8::$idx/64" dev eth0 nodad
	# A veth leaves checksums to "hardware" that never computes them; a
	# packet XDP forwards as it is would reach the backend with a bad one.
	lab_ns "$name" ethtool -K eth0 tx off >/dev/null
}

# lab_backend I: backend I (1..9) with the VIPs on lo, decap, HTTP server.
lab_backend() {
	local i=$1 name="b$1" idx=$((10 + $1))
	lab_host "$name" "$idx"
	ip -n "$P-$name" addr add "$VIP4/32" dev lo
	ip -n "$P-$name" addr add "$VIP6/128" dev lo nodad
	lab_ns "$name" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2
	lab_ns "$name" "$LAB_BUILD/xlbctl" decap attach eth0
	mkdir -p "$LAB/www-$name"
	lab_backend_start "$i"
}

# The HTTP server of backend I is tests/e2e/backend.py: GET / answers "bI",
# GET /health answers as the files in $LAB/www-bI say (health_status,
# delay_ms, load; see backend.py), read again on every request.
LAB_BACKEND_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/backend.py

# lab_backend_start I: (re)start backend I's HTTP server (not waiting).
lab_backend_start() {
	lab_ns "b$1" "$LAB_PY" "$LAB_BACKEND_PY" "b$1" "$LAB/www-b$1" \
		--log "$LAB/http-b$1.log" < /dev/null >> "$LAB/http-b$1.err" 2>&1 &
}

# lab_backend_up I [SECONDS]: wait until backend I's server accepts.
lab_backend_up() {
	lab_wait "${2:-5}" lab_ns "b$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/80"
}

# lab_backend_kill I: kill backend I's HTTP server (SIGKILL) and wait.
lab_backend_kill() {
	local pid
	for pid in $(lab_pids "b$1" python3); do
		kill -9 "$pid" 2>/dev/null
		lab_wait 5 bash -c "! kill -0 $pid"
	done
}

# lab_backend_set I FILE [VALUE]: write a control file of backend I (atomic
# rename, so the server never reads half of it); no VALUE removes it.
lab_backend_set() {
	local f="$LAB/www-b$1/$2"
	if [ $# -ge 3 ]; then
		echo "$3" > "$f.tmp.$BASHPID" && mv -f "$f.tmp.$BASHPID" "$f"
	else
		rm -f "$f"
	fi
}

# lab_up N: the whole lab with N backends (not xlbd).
lab_up() {
	local n=$1 i
	LAB=$(mktemp -d /tmp/xlb-lab.XXXXXX)
	LAB_NB=$n
	mkdir -p "$LAB/bpf"
	mount -t bpf bpf "$LAB/bpf"
	ip netns add "$P-sw"
	ip -n "$P-sw" link add br0 type bridge
	ip -n "$P-sw" link set br0 up
	lab_host c 2
	lab_host lb 10
	# XDP_TX into a veth is dropped unless the peer runs NAPI: an XDP
	# program there guarantees it (GRO alone did not, here).
	ip -n "$P-sw" link set dev vlb xdpdrv obj "$LAB_BUILD/xlb_pass.bpf.o" sec xdp
	# bpf_fib_lookup answers only where the kernel would forward.
	lab_ns lb sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv6.conf.all.forwarding=1
	ip -n "$P-c" route add 198.18.1.0/24 via 198.18.0.10
	ip -n "$P-c" -6 route add 2001:db8:1::/64 via 2001:db8::10
	for i in $(seq "$n"); do
		lab_backend "$i"
		# xlb sends to backends by FIB lookup: know their MACs.
		ip -n "$P-lb" neigh replace "198.18.0.$((10 + i))" \
			lladdr "$(lab_mac 0 $((10 + i)))" dev eth0 nud permanent
		ip -n "$P-lb" neigh replace "2001:db8::$((10 + i))" \
			lladdr "$(lab_mac 0 $((10 + i)))" dev eth0 nud permanent
	done
	for i in $(seq "$n"); do
		lab_backend_up "$i" ||
			{ echo "lab: HTTP server on b$i did not start" >&2; return 1; }
	done
}

# Processes of a namespace, by name (ip netns exec leaves no useful $!).
lab_pids() { ip netns pids "$P-$1" 2>/dev/null | while read -r p; do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"; done; }

lab_down() {
	local ns
	[ -n "$LAB" ] || return 0
	# A clean exit first, so a sanitizer build checks xlbd for leaks.
	lab_xlbd_kill TERM
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
		ip netns pids "$ns" | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	umount "$LAB/bpf" 2>/dev/null
	rm -rf "$LAB"
	LAB=""
}

# lab_wait SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
lab_wait() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

LAB_XLBD_ARGS=()
# lab_xlbd_start [ARGS...]: xlbd on the lb node, in the background.
lab_xlbd_start() {
	lab_ns lb "$LAB_BUILD/xlbd" -i eth0 -s "$LAB/xlbd.sock" \
		--pin-root "$LAB/bpf" --state "$LAB/state.yaml" \
		"${LAB_XLBD_ARGS[@]}" "$@" < /dev/null >> "$LAB/xlbd.log" 2>&1 &
	# Bounded, and generous: a sanitizer build on a loaded 2-core machine
	# (the whole suite in a fresh root) starts in seconds, not tenths.
	lab_wait 20 xlbctl list || return 1
	lab_pids lb xlbd > "$LAB/xlbd.pid"
}

lab_xlbd_kill() {
	local sig=${1:-TERM} pid
	pid=$(lab_pids lb xlbd)
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	lab_wait 20 bash -c "! kill -0 $pid"
	rm -f "$LAB/xlbd.pid"
	# A SIGKILLed daemon leaves its socket file behind: xlbd replaces it.
	return 0
}

# lab_xlbd_reset: a clean slate on the lb node: xlbd stopped (SIGTERM), its
# program and pins removed, its state files ($LAB/state.*) gone.
lab_xlbd_reset() {
	lab_xlbd_kill TERM
	lab_ns lb "$LAB_BUILD/xlbd" -i eth0 --pin-root "$LAB/bpf" \
		--state "$LAB/state.yaml" --detach > /dev/null 2>&1
	rm -f "$LAB"/state.*
}

xlbctl() { "$LAB_BUILD/xlbctl" -s "$LAB/xlbd.sock" "$@"; }

# lab_scrape NAME: the metrics page (LAB_XLBD_ARGS with --metrics
# 198.18.0.10:9100) through a Prometheus parser (prom.py), flattened into
# $LAB/NAME.prom, one sample a line with its labels sorted; fails with the
# parser's complaint there.
lab_scrape() {
	lab_ns lb curl -sS --max-time 2 http://198.18.0.10:9100/metrics \
		> "$LAB/$1.txt" || return 1
	"$LAB_PY" tests/e2e/prom.py "$LAB/$1.txt" > "$LAB/$1.prom"
}

# lab_metric NAME SERIES: a sample's value in scrape NAME, as an integer.
lab_metric() {
	awk -v s="$2" '$1 == s { printf "%d\n", $2; f = 1 } END { exit !f }' \
		"$LAB/$1.prom"
}

# lab_state [vip]: xlbctl -j list (or vip list) less what moves by itself:
# counters, sweeps and their active counts, check latency and results,
# forecasts. What a refused request must leave as it was.
lab_state() {
	xlbctl -j ${1:+"$1"} list | grep -vE \
		'packets|bytes|new_flows|active|_per_s|latency|last_check|saturat|capacity|"drain":'
}

# lab_backends VIP: "addr health effective_weight transitions latency_ms
# last_check" per backend of VIP, "-" for a member the reply lacks.
lab_backends() {
	xlbctl -j list 2>/dev/null | "$LAB_PY" -c '
import json, sys
try:
    vips = json.load(sys.stdin)["vips"]
except Exception:
    sys.exit(1)
keys = ("health", "effective_weight", "transitions", "latency_ms",
        "last_check")
for v in vips:
    if v.get("vip") == sys.argv[1]:
        for b in v.get("backends", []):
            print(b.get("addr"), *("-" if b.get(k) is None else
                                   str(b[k]).replace(" ", "_") for k in keys))
' "$1"
}

# lab_be VIP ADDR FIELD: one field (health effective_weight transitions
# latency_ms last_check) of one backend.
lab_be() {
	local col
	case $3 in
	health) col=2 ;; effective_weight) col=3 ;; transitions) col=4 ;;
	latency_ms) col=5 ;; last_check) col=6 ;; *) return 1 ;;
	esac
	lab_backends "$1" | awk -v a="$2" -v c="$col" '$1 == a { print $c }'
}

# lab_get [VIP]: one HTTP request from the client; prints the backend name.
lab_get() {
	local vip=${1:-$VIP4}
	case $vip in *:*) vip="[$vip]" ;; esac
	lab_ns c curl -sS --max-time 2 --connect-timeout 1 "http://$vip/"
}

# Test cases report through these; the file prints the closing line.
PASSES=0
FAILS=0
pass() { echo "PASS $1"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }

# spread N [VIP]: N requests from the client, a new connection each; prints
# the counts "b1 b2 b3 failed".
spread() {
	local n=$1 vip=${2:-$VIP4} i out failed=0
	declare -A c=()
	for i in $(seq "$n"); do
		if out=$(lab_get "$vip" 2>/dev/null); then
			c[$out]=$((${c[$out]:-0} + 1))
		else
			failed=$((failed + 1))
		fi
	done
	echo "${c[b1]:-0} ${c[b2]:-0} ${c[b3]:-0} $failed"
}

# lab_run_cases CASE...: run t_CASE for each, then print the closing line
# "e2e: N passed, N failed"; fails when a case did.
lab_run_cases() {
	local c
	for c in "$@"; do
		"t_$c"
	done
	echo "e2e: $PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# lab_checked VIP RISE FALL: the lab with 3 backends and xlbd, VIP over
# b1..b3 with an http:/health check every 0.5 s (timeout 0.3); or the
# closing line of one failure, and exit.
lab_checked() {
	if ! lab_up 3; then
		echo "FAIL lab: could not build the lab"
		echo "e2e: 0 passed, 1 failed"
		exit 1
	fi
	if ! lab_xlbd_start ||
		! xlbctl vip add "$1" --check http:/health --interval 0.5 \
			--timeout 0.3 --rise "$2" --fall "$3" ||
		! xlbctl backend add "$1" 198.18.0.11 ||
		! xlbctl backend add "$1" 198.18.0.12 ||
		! xlbctl backend add "$1" 198.18.0.13; then
		echo "FAIL xlbd: did not start ($(tail -3 "$LAB/xlbd.log"))"
		echo "e2e: 0 passed, 1 failed"
		exit 1
	fi
}

# lab_main N CASE...: the lab with N backends, then lab_run_cases; a lab
# that cannot be built is one failure.
lab_main() {
	local n=$1
	shift
	if ! lab_up "$n"; then
		echo "FAIL lab: could not build the lab"
		echo "e2e: 0 passed, 1 failed"
		return 1
	fi
	lab_run_cases "$@"
}
