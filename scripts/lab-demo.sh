#!/usr/bin/env bash
# The xlb lab demo: a client, one xlb node and three backends running real
# HTTP servers, each in its own network namespace (picture in
# tests/e2e/lab.sh). Shows in plain words and live counts how requests
# spread, what a drain does, how health checks take a dead server out and
# bring it back, and that a daemon restart loses nothing.
# Bounded: a few hundred requests in all. Cleans up on exit.
set -eu
cd "$(dirname "$0")/.."
. tests/e2e/lab.sh
trap lab_down EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# load N: N requests from the client, one connection each; prints the
# share per backend as it goes.
load() {
	local n=$1 i out failed=0
	declare -A c=()
	for i in $(seq "$n"); do
		if out=$(lab_get 2>/dev/null); then
			c[$out]=$((${c[$out]:-0} + 1))
		else
			failed=$((failed + 1))
		fi
		if [ $((i % 10)) -eq 0 ] || [ "$i" -eq "$n" ]; then
			printf '\r  %3d requests:  b1 %-4d b2 %-4d b3 %-4d failed %d' \
				"$i" "${c[b1]:-0}" "${c[b2]:-0}" "${c[b3]:-0}" "$failed"
		fi
	done
	echo
}

say "Building the lab: client, xlb node, three backends (HTTP servers, xlb_decap on eth0)"
lab_up 3
echo "  lab in $LAB, namespaces $P-*"

say "Starting xlbd on the xlb node (pins under $LAB/bpf/xlb/eth0)"
lab_xlbd_start
echo "  $(tail -1 "$LAB/xlbd.log")"

# health ADDR: that backend's health and last check, as xlbd sees them.
health() {
	echo "$(lab_be "$VIP4:80/tcp" "$1" health)" \
		"$(lab_be "$VIP4:80/tcp" "$1" last_check | tr _ ' ')"
}
is_health() { [ "$(lab_be "$VIP4:80/tcp" "$1" health)" = "$2" ]; }

say "xlbctl vip add $VIP4:80/tcp; three backends, weight 100 each, GET /health every 0.5 s"
xlbctl vip add "$VIP4:80/tcp" --encap ipip --check http:/health \
	--interval 0.5 --timeout 0.3 --rise 2 --fall 2
for i in 1 2 3; do xlbctl backend add "$VIP4:80/tcp" "198.18.0.1$i"; done
xlbctl list

say "90 requests from the client to http://$VIP4/ (Maglev spreads new connections)"
load 90

say "Weights 300/100/100: b1 should take about 3/5 of new connections"
xlbctl backend set-weight "$VIP4:80/tcp" 198.18.0.11 300
load 100
xlbctl backend set-weight "$VIP4:80/tcp" 198.18.0.11 100

say "Draining b2: it takes no new connections (existing ones would stay)"
xlbctl backend drain "$VIP4:80/tcp" 198.18.0.12
load 60
xlbctl backend undrain "$VIP4:80/tcp" 198.18.0.12

say "Killing b3's HTTP server: after 2 failed checks it leaves the Maglev ring"
lab_wait 10 is_health 198.18.0.13 up
t0=${EPOCHREALTIME/./}
lab_backend_kill 3
lab_wait 10 is_health 198.18.0.13 down
echo "  b3: $(health 198.18.0.13), $(((${EPOCHREALTIME/./} - t0) / 1000)) ms after the kill"
load 60

say "Starting b3 again: back after 2 good checks"
lab_backend_start 3
lab_wait 10 is_health 198.18.0.13 up
echo "  b3: $(health 198.18.0.13)"
load 60

say "Restarting xlbd (SIGTERM, then SIGKILL) while 150 requests run"
load 150 &
loader=$!
sleep 0.5
lab_xlbd_kill TERM
echo "  xlbd stopped; the pinned data plane keeps forwarding"
lab_xlbd_start
lab_xlbd_kill KILL
echo "  xlbd killed with SIGKILL; still forwarding"
lab_xlbd_start
echo "  xlbd back: $(grep -c 'adopted the running data plane' "$LAB/xlbd.log") adoptions logged"
wait "$loader"

say "Counters (xlbctl stats)"
xlbctl stats --interval 0.5 || true

say "Done: cleaning up the lab"
