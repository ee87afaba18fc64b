#!/usr/bin/env bash
# End to end: xlbd drives a real BIRD 2 running in the lb namespace
# (lab.sh's lab, one backend). BIRD's config is the example of
# docs/bird-node.conf with the lab's paths: static protocols over
# xlb-eth0 with `check link`, including xlbd's route files, the drain file
# in their import filters. Every assertion is on BIRD's own view
# (`birdc show route [all]`) or on the files and the device.
#
#   [P-lb] xlbd -i eth0 --bird-socket $LAB/bird.ctl --bird-include $LAB/routes
#          bird -c $LAB/bird.conf        xlb-eth0 (tun, xlbd's)
#   VIP 198.18.1.1:80/tcp   backend b1, http:/health every 0.2 s
#   VIP 198.18.1.2:80/tcp   (case second) b1, no check
#   VIP [2001:db8:1::1]:80/tcp  (case second) b1, no check
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

bird_down() {
	local pid
	[ -n "$LAB" ] && [ -f "$LAB/bird.pid" ] || return 0
	pid=$(cat "$LAB/bird.pid" 2>/dev/null)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -f "$LAB/bird.pid"
}
trap '[ -n "${KEEP:-}" ] && [ -n "$LAB" ] && cp "$LAB"/*.log "$LAB"/routes* "$KEEP/" 2>/dev/null; bird_down; lab_down' EXIT

VIP=$VIP4:80/tcp
VIP2=198.18.1.2:80/tcp
VIP3=[$VIP6]:80/tcp
BE=198.18.0.11
ROUTES=""		# $LAB/routes, once the lab is up
BSOCK=""

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

birdc() { lab_ns lb birdc -s "$BSOCK" "$@"; }

# bird_has PREFIX: BIRD has a route for PREFIX.
bird_has() { birdc show route | grep -q "^${1//./\\.} "; }
bird_lacks() { ! bird_has "$1"; }
# bird_gshut PREFIX: BIRD's route for PREFIX carries (65535,0).
bird_gshut() {
	birdc show route all for "$1" | grep -q "BGP.community:.*(65535,0)"
}
bird_plain() { bird_has "$1" && ! bird_gshut "$1"; }

bird_conf() {
	sed -e "s|/var/lib/xlb/eth0.routes|$ROUTES|g" \
		docs/bird-node.conf > "$LAB/bird.conf"
	echo "log \"$LAB/bird.log\" all;" >> "$LAB/bird.conf"
}

bird_start() {
	# BIRD reads the files at its start: they must exist.
	touch "$ROUTES" "$ROUTES.v4" "$ROUTES.v6" "$ROUTES.drain"
	lab_ns lb bird -c "$LAB/bird.conf" -s "$BSOCK" -P "$LAB/bird.pid" ||
		return 1
	lab_wait 5 birdc show status
}

start() {
	lab_xlbd_start --bird-socket "$BSOCK" --bird-include "$ROUTES" &&
		xlbctl vip add "$VIP" --check http:/health --interval 0.2 \
			--timeout 0.2 --rise 1 --fall 1 &&
		xlbctl backend add "$VIP" "$BE"
}

setup() {
	ROUTES=$LAB/routes
	BSOCK=$LAB/bird.ctl
	bird_conf
	bird_start || { fail setup "BIRD did not start"; return 1; }
	start || { fail setup "xlbd did not start"; return 1; }
	lab_wait 10 bird_has "$VIP4/32" ||
		{ fail setup "no route: $(cat "$ROUTES")"; return 1; }
	pass setup
}

# The file holds exactly the contract's line, and the device is up.
t_file() {
	local want="route $VIP4/32 via \"xlb-eth0\";"
	if [ "$(cat "$ROUTES")" != "$want" ]; then
		fail file "$ROUTES: '$(cat "$ROUTES")', want '$want'"
	elif ! lab_ns lb ip link show xlb-eth0 | grep -q "[<,]UP[,>]"; then
		fail file "xlb-eth0 not up: $(lab_ns lb ip link show xlb-eth0)"
	elif [ -s "$ROUTES.drain" ]; then
		fail file "drain file not empty: $(cat "$ROUTES.drain")"
	else
		pass file
	fi
}

# Every backend down: the route goes; back up: it returns.
t_health() {
	lab_backend_kill 1
	if ! lab_wait 10 bird_lacks "$VIP4/32"; then
		fail health "route stays with the backend down: $(cat "$ROUTES")"
	elif [ -s "$ROUTES" ]; then
		fail health "$ROUTES not empty: $(cat "$ROUTES")"
	else
		lab_backend_start 1
		if lab_wait 10 bird_plain "$VIP4/32"; then
			pass health
		else
			fail health "route not back after the backend recovered"
		fi
	fi
	lab_backend_up 1
}

# drain: community first, the route kept for the grace period, then
# gone; --wait reports it and exits 0; undrain: back without it.
t_drain() {
	local out t0 t1
	t0=$(now_ms)
	if ! out=$(xlbctl node drain --grace 2 2>&1); then
		fail drain "node drain: $out"
	elif ! lab_wait 5 bird_gshut "$VIP4/32"; then
		fail drain "no graceful-shutdown community: $(birdc show route all)"
	elif ! lab_wait 10 bird_lacks "$VIP4/32"; then
		fail drain "route not withdrawn after the grace period"
	elif t1=$(now_ms) && [ $((t1 - t0)) -lt 1800 ]; then
		fail drain "withdrawn after $((t1 - t0)) ms, before the 2 s grace"
	elif ! xlbctl node status | grep -q "drained (withdrawn)"; then
		fail drain "status: $(xlbctl node status)"
	elif ! out=$(xlbctl node undrain 2>&1); then
		fail drain "node undrain: $out"
	elif ! lab_wait 5 bird_plain "$VIP4/32"; then
		fail drain "route not back without community after undrain"
	else
		pass drain
	fi
}

t_drain_wait() {
	local out
	if ! out=$(xlbctl node drain --wait --grace 1 --timeout 20 2>&1); then
		fail drain_wait "exit $?: $out"
	elif ! echo "$out" | grep -q "near zero" || bird_has "$VIP4/32"; then
		fail drain_wait "$out / $(birdc show route)"
	else
		pass drain_wait
	fi
	xlbctl node undrain > /dev/null
	lab_wait 5 bird_plain "$VIP4/32"
}

# traffic MS: requests to the VIP from the client, in the background, for
# at most MS milliseconds and 2,000 requests (each ~10 packets); $! is
# its PID (xlbd is a background job too: never a bare `wait`).
traffic() {
	lab_ns c bash -c 'end=$((${EPOCHREALTIME/./} / 1000 + $1))
		for ((i = 0; i < 2000; i++)); do
			curl -s --max-time 1 "http://$2/" > /dev/null
			[ $((${EPOCHREALTIME/./} / 1000)) -lt "$end" ] || break
		done' _ "$1" "$VIP4" &
}

# The lab's client routes to the VIP statically, so withdrawing moves no
# traffic here: --wait must wait for the traffic itself to stop (3 s), and
# give up with exit 1 when it does not stop within --timeout.
t_drain_traffic() {
	local out rc secs tpid
	traffic 3000
	tpid=$!
	out=$(xlbctl node drain --wait --grace 0 --timeout 20 2>&1)
	rc=$?
	wait "$tpid"
	xlbctl node undrain > /dev/null
	lab_wait 5 bird_plain "$VIP4/32"
	secs=$(echo "$out" | sed -n 's/.*near zero .* \([0-9.]*\) s after.*/\1/p')
	if [ "$rc" -ne 0 ] || [ -z "$secs" ]; then
		fail drain_traffic "exit $rc: $out"
		return
	elif [ "${secs%.*}" -lt 2 ]; then
		fail drain_traffic "near zero after $secs s with traffic for 3 s"
		return
	fi
	traffic 8000
	tpid=$!
	out=$(xlbctl node drain --wait --grace 0 --timeout 2 2>&1)
	rc=$?
	wait "$tpid"
	xlbctl node undrain > /dev/null
	lab_wait 5 bird_plain "$VIP4/32"
	if [ "$rc" -ne 1 ] || ! echo "$out" | grep -q "still [0-9]* pps"; then
		fail drain_traffic "timeout: exit $rc: $out"
	else
		echo "  traffic stopped at 3 s: near zero reported at $secs s"
		pass drain_traffic
	fi
}

# A drained node stays drained across a restart; undrain brings it back.
t_restart() {
	xlbctl node drain --grace 0 > /dev/null
	lab_wait 5 bird_lacks "$VIP4/32"
	lab_xlbd_kill TERM
	if ! lab_xlbd_start --bird-socket "$BSOCK" --bird-include "$ROUTES"; then
		fail restart "xlbd did not start again"
	elif ! lab_wait 5 lab_ns lb ip link show xlb-eth0 ||
		! lab_wait 5 bash -c "[ ! -s '$ROUTES' ]"; then
		fail restart "drained node: $(cat "$ROUTES")"
	elif ! lab_wait 5 routing_is synced true ||
		! lab_wait 5 routing_is device_up true; then
		fail restart "not synced: $(xlbctl node status)"
	elif bird_has "$VIP4/32"; then
		fail restart "a drained node announces after a restart"
	elif ! xlbctl node undrain > /dev/null ||
		! lab_wait 10 bird_plain "$VIP4/32"; then
		fail restart "no route after undrain: $(cat "$ROUTES")"
	else
		pass restart
	fi
}

# A planned restart: the routes leave with the old daemon and come back
# with the new one; prints how long BIRD had none.
t_term() {
	local t0 t1 t2
	lab_wait 5 bird_plain "$VIP4/32" || { fail term "no route before"; return; }
	t0=$(now_ms)
	lab_xlbd_kill TERM
	if ! lab_wait 5 bird_lacks "$VIP4/32"; then
		fail term "route stays after SIGTERM"
		return
	fi
	t1=$(now_ms)
	lab_xlbd_start --bird-socket "$BSOCK" --bird-include "$ROUTES"
	if ! lab_wait 10 bird_plain "$VIP4/32"; then
		fail term "route not back after the restart"
		return
	fi
	t2=$(now_ms)
	echo "  SIGTERM -> route gone $((t1 - t0)) ms; restart -> route back $((t2 - t1)) ms"
	pass term
}

# A second VIP on another address, and an IPv6 one: in the files and in
# BIRD while they exist; a VIP on the same address adds no line.
t_second() {
	local v4 v6
	xlbctl vip add "$VIP2" && xlbctl backend add "$VIP2" "$BE" &&
		xlbctl vip add "$VIP3" && xlbctl backend add "$VIP3" "$BE" &&
		xlbctl vip add "$VIP4:443/tcp" &&
		xlbctl backend add "$VIP4:443/tcp" "$BE" ||
		{ fail second "adding the VIPs"; return; }
	v4="route $VIP4/32 via \"xlb-eth0\";
route 198.18.1.2/32 via \"xlb-eth0\";"
	v6="route $VIP6/128 via \"xlb-eth0\";"
	if ! lab_wait 5 bird_has 198.18.1.2/32 ||
		! lab_wait 5 bird_has "$VIP6/128"; then
		fail second "not in BIRD: $(birdc show route)"
	elif [ "$(cat "$ROUTES")" != "$v4
$v6" ] || [ "$(cat "$ROUTES.v4")" != "$v4" ] ||
		[ "$(cat "$ROUTES.v6")" != "$v6" ]; then
		fail second "files: $(cat "$ROUTES") / $(cat "$ROUTES.v4") / $(cat "$ROUTES.v6")"
	else
		xlbctl vip del "$VIP2" && xlbctl vip del "$VIP3" &&
			xlbctl vip del "$VIP4:443/tcp"
		if ! lab_wait 5 bird_lacks 198.18.1.2/32 ||
			! lab_wait 5 bird_lacks "$VIP6/128"; then
			fail second "still in BIRD: $(birdc show route)"
		elif grep -q 198.18.1.2 "$ROUTES" || ! bird_has "$VIP4/32"; then
			fail second "after vip del: $(cat "$ROUTES")"
		else
			pass second
		fi
	fi
}

# routing KEY: a member of node-status's "node" object.
routing() {
	xlbctl -j node status | "$LAB_PY" -c '
import json, sys
print(json.dumps(json.load(sys.stdin)["node"].get(sys.argv[1])))' "$1"
}
routing_is() { [ "$(routing "$1")" = "$2" ]; }

# BIRD stopped: xlbd counts the failure, retries, and once BIRD is back
# the routes follow without anything else happening.
t_bird_restart() {
	local failed
	bird_down
	lab_wait 5 bash -c "! ip netns exec $P-lb birdc -s '$BSOCK' show status"
	xlbctl vip add "$VIP2" && xlbctl backend add "$VIP2" "$BE"
	if ! lab_wait 5 routing_is last_ok false; then
		fail bird_restart "no failed configure shown: $(xlbctl node status)"
		return
	fi
	failed=$(routing configures_failed)
	bird_start
	if ! lab_wait 40 bird_has 198.18.1.2/32; then
		fail bird_restart "BIRD back, route missing: $(birdc show route)"
	elif ! lab_wait 40 routing_is last_ok true; then
		fail bird_restart "status: $(xlbctl node status)"
	elif [ "$failed" -lt 1 ]; then
		fail bird_restart "configures_failed $failed"
	else
		pass bird_restart
	fi
	xlbctl vip del "$VIP2"
	lab_wait 5 bird_lacks 198.18.1.2/32
}

# The node keys of a -c file, from a clean slate (no state file that
# remembers the command line's).
t_conf_keys() {
	lab_xlbd_reset
	lab_wait 5 bird_lacks "$VIP4/32"
	cat > "$LAB/xlb.yaml" <<-EOF
	node:
	  interface: eth0
	  bird-socket: $BSOCK
	  bird-include: $ROUTES
	vips:
	  - vip: $VIP
	    backends:
	      - addr: $BE
	EOF
	if ! lab_xlbd_start -c "$LAB/xlb.yaml"; then
		fail conf_keys "xlbd did not start: $(tail -3 "$LAB/xlbd.log")"
	elif ! lab_wait 10 bird_plain "$VIP4/32"; then
		fail conf_keys "no route: $(cat "$ROUTES") / $(birdc show route)"
	elif ! xlbctl config | grep -q "bird-include: \"\?$ROUTES"; then
		fail conf_keys "config: $(xlbctl config | grep bird)"
	else
		pass conf_keys
	fi
}

# BIRD refuses its configuration: BIRD's reason shows, xlbd tries again,
# and once the configuration is fixed the change gets through.
t_bird_error() {
	local last
	echo "this is not bird syntax;" >> "$LAB/bird.conf"
	xlbctl vip add "$VIP2" && xlbctl backend add "$VIP2" "$BE"
	if ! lab_wait 5 routing_is last_ok false; then
		fail bird_error "no failure shown: $(xlbctl node status)"
		bird_conf
		return
	fi
	last=$(routing last_result)
	bird_conf
	if ! echo "$last" | grep -q "configure failed: 8002 .*bird.conf"; then
		fail bird_error "last_result $last"
	elif ! lab_wait 40 bird_has 198.18.1.2/32 ||
		! routing_is last_ok true; then
		fail bird_error "not retried after the fix: $(xlbctl node status)"
	elif ! grep -q "routing: BIRD at .*: configure failed: 8002" "$LAB/xlbd.log"; then
		fail bird_error "not logged"
	else
		pass bird_error
	fi
	xlbctl vip del "$VIP2"
	lab_wait 5 bird_lacks 198.18.1.2/32
}

# SIGKILL: the device goes with the process, and BIRD's route with it.
t_kill() {
	local t0 t1
	lab_wait 5 bird_has "$VIP4/32" || { fail kill "no route before"; return; }
	t0=$(now_ms)
	kill -9 "$(lab_pids lb xlbd)"
	if ! lab_wait 5 bird_lacks "$VIP4/32"; then
		fail kill "route stays after SIGKILL: $(birdc show route)"
		return
	fi
	t1=$(now_ms)
	if lab_ns lb ip link show xlb-eth0 > /dev/null 2>&1; then
		fail kill "xlb-eth0 still exists"
	else
		echo "  kill -9 -> route gone in BIRD: $((t1 - t0)) ms (polled)"
		pass kill
	fi
	lab_wait 5 bash -c "! kill -0 $(cat "$LAB/xlbd.pid" 2>/dev/null || echo 0)"
	rm -f "$LAB/xlbd.pid"
}

t_long_name() {
	local out
	out=$(lab_ns lb "$LAB_BUILD/xlbd" -i eth0longname0 -s "$LAB/x2.sock" \
		--pin-root "$LAB/bpf" --state "$LAB/x2.yaml" \
		--bird-include "$LAB/r2" 2>&1)
	if echo "$out" | grep -q "too long.*at most 11"; then
		pass long_name
	else
		fail long_name "$out"
	fi
}

run() {
	lab_up 1 || { echo "FAIL lab: could not build the lab"; echo "e2e: 0 passed, 1 failed"; exit 1; }
	setup || { echo "e2e: $PASSES passed, $FAILS failed"; exit 1; }
	lab_run_cases ${TESTS:-file health drain drain_wait drain_traffic restart term second \
		bird_restart bird_error long_name conf_keys kill}
}
PASSES=0
run
