#!/usr/bin/env bash
# End to end: the saturation forecast (user/xlbd/predict.h) against a load
# that grows on one backend until its latency knee, in the lab of lab.sh.
#
#   VIP 198.18.1.1:80/tcp  b1 only, http:/health every 1 s; b1 saturates
#                          beyond CAP open connections (backend.py:
#                          capacity: each one more delays its /health by
#                          20 ms); xlbctl backend set --capacity CAP
#
# The client holds FLAT connections for FLAT_S seconds (a flat load), then
# opens one more every STEP_S seconds up to TOP. Cases:
#   flat     during the flat load: no forecast, no warning
#   ramp     half-way from the start of the ramp to the knee, the forecast
#            (xlb_backend_saturation_eta_seconds) names a time within
#            +-30 % of when the knee is then observed (b1's check latency
#            above 3 times its flat value); the warning is logged, and so
#            is the knee xlbd saw itself; list -j and the metrics name b1
#            as the backend that saturates first; past the knee its check
#            latency trend rises
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". The load is bounded: TOP connections, at most LOAD_MAX_S.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

trap '[ -n "${KEEP:-}" ] && [ -n "$LAB" ] && cp "$LAB"/*.log "$KEEP/" 2>/dev/null; lab_down' EXIT

VIP=$VIP4:80/tcp
CAP=30
FLAT=10
FLAT_S=12
STEP_S=1
TOP=40
LOAD_MAX_S=90

now() { date +%s.%N; }

# load_start: the client's schedule in the background; its timeline
# ("UNIX_TIME flat|ramp|n COUNT" lines) in $LAB/load.log.
load_start() {
	lab_ns c "$LAB_PY" - "${VIP%%:*}" "$FLAT" "$FLAT_S" "$STEP_S" "$TOP" \
		"$LAB/load.log" "$LAB/load.stop" "$LOAD_MAX_S" <<-'EOF' &
	import os, socket, sys, time
	vip, flat, flat_s, step, top = (sys.argv[1], int(sys.argv[2]),
	                                float(sys.argv[3]), float(sys.argv[4]),
	                                int(sys.argv[5]))
	out, stop, max_s = sys.argv[6], sys.argv[7], float(sys.argv[8])
	end = time.time() + max_s
	conns = []			# [socket, time of its last request]
	log = open(out, "w", buffering=1)
	def ask(c):
	    c[0].sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	    c[0].recv(4096)
	    c[1] = time.time()
	def add():
	    c = [socket.create_connection((vip, 80), timeout=3), 0]
	    ask(c)
	    conns.append(c)
	    log.write("%f n %d\n" % (time.time(), len(conns)))
	# The server closes a connection silent for 5 s: each asks every 2 s.
	def tick():
	    for c in conns:
	        if time.time() - c[1] > 2:
	            ask(c)
	    time.sleep(0.05)
	for _ in range(flat):
	    add()
	log.write("%f flat %d\n" % (time.time(), len(conns)))
	t0 = time.time() + flat_s
	while time.time() < t0:		# the schedule: a flat load this long
	    tick()
	log.write("%f ramp %d\n" % (t0, len(conns)))
	while time.time() < end and not os.path.exists(stop):
	    if len(conns) < top and \
	       time.time() >= t0 + step * (len(conns) - flat + 1):
	        add()
	    tick()
	EOF
	LOAD_PID=$!
}

load_stop() { touch "$LAB/load.stop"; wait "$LOAD_PID" 2>/dev/null; }

# b1's member of list -j (latency_ms, or forecast.saturation_eta_s).
b1() {
	xlbctl -j list | "$LAB_PY" -c '
import json, sys
for v in json.load(sys.stdin)["vips"]:
    for b in v.get("backends", []):
        if v["vip"] == sys.argv[1] and b["addr"] == "198.18.0.11":
            x = b
            for k in sys.argv[2].split("."):
                x = x.get(k, {}) if isinstance(x, dict) else {}
            print(x if x != {} else "-")' "$VIP" "$1"
}

timeline() { awk -v k="$1" '$2 == k { print $1; exit }' "$LAB/load.log"; }

# The time the client's count reached N.
reached() { awk -v n="$1" '$2 == "n" && $3 == n { print $1; exit }' "$LAB/load.log"; }

since() { "$LAB_PY" -c 'import sys; print("%.1f" % (float(sys.argv[1]) - float(sys.argv[2])))' "$1" "$2"; }

t_flat() {
	local why="" t
	lab_wait 15 eval '[ -n "$(timeline flat)" ]' || { fail flat "no flat load"; return; }
	# Wait out most of the flat phase (the forecast needs samples).
	t=$(timeline flat)
	lab_wait $((FLAT_S + 5)) eval '[ "$(since "$(now)" "$t" | cut -d. -f1)" -ge $((FLAT_S - 1)) ]'
	lab_scrape flat || why="$(cat "$LAB/flat.prom")"
	grep -q "^xlb_backend_saturation_eta_seconds" "$LAB/flat.prom" &&
		why="$why a forecast under a flat load: $(grep eta "$LAB/flat.prom");"
	grep -q "predict: .*saturates" "$LAB/xlbd.log" &&
		why="$why warned: $(grep "predict:" "$LAB/xlbd.log");"
	[ "$(b1 forecast.active_per_s)" != - ] || why="$why no trend in list -j;"
	BASE_MS=$(b1 latency_ms)
	if [ -z "$why" ]; then
		pass "flat ($FLAT connections for ${FLAT_S} s: trend $(b1 forecast.active_per_s)/s, no forecast, no warning; check latency ${BASE_MS} ms)"
	else
		fail flat "$why"
	fi
}

t_ramp() {
	local why="" t0 half tk pred obs eta err lat
	lab_wait 20 eval '[ -n "$(timeline ramp)" ]' || { fail ramp "no ramp"; return; }
	t0=$(timeline ramp)
	# Half-way: the count midway from the flat load to the capacity.
	lab_wait 60 eval '[ -n "$(reached $(((FLAT + CAP) / 2)))" ]' ||
		why="the ramp stalled;"
	half=$(now)
	eta=$(b1 forecast.saturation_eta_s)
	xlbctl -j list | "$LAB_PY" -c 'import json, sys; f = json.load(sys.stdin)["saturates_first"]; sys.exit(f["backend"] != "198.18.0.11")' 2>/dev/null ||
		why="$why list -j names no saturates_first b1;"
	lab_scrape half || why="$why $(cat "$LAB/half.prom");"
	grep -q '^xlb_saturation_first_eta_seconds{backend="198.18.0.11"' "$LAB/half.prom" ||
		why="$why no xlb_saturation_first_eta_seconds for b1;"
	pred=$("$LAB_PY" -c 'import sys; print("%.1f" % (float(sys.argv[1]) - float(sys.argv[2]) + float(sys.argv[3])))' "$half" "$t0" "${eta/-/nan}")
	# The knee as observed: b1's check latency above 3 times its flat
	# value (and above 10 ms: a 1 ms baseline moves by noise).
	lab_wait 60 eval 'lat=$(b1 latency_ms); "$LAB_PY" -c "import sys; sys.exit(not float(sys.argv[1]) > max(3 * float(sys.argv[2]), 10))" "$lat" "$BASE_MS"' ||
		why="$why no knee: latency $(b1 latency_ms) ms;"
	tk=$(now)
	obs=$(since "$tk" "$t0")
	# Past the knee its check latency climbs: a rising latency trend.
	lab_wait 5 eval '"$LAB_PY" -c "import sys; sys.exit(not float(sys.argv[1]) > 0)" "$(b1 forecast.latency_ms_per_s)"' ||
		why="$why latency trend $(b1 forecast.latency_ms_per_s)/s;"
	err=$("$LAB_PY" -c 'import sys; p, o = float(sys.argv[1]), float(sys.argv[2]); print("%.0f" % (100 * abs(p - o) / o))' "$pred" "$obs" 2>/dev/null || echo 999)
	[ "$err" -le 30 ] 2>/dev/null ||
		why="$why predicted at $(since "$half" "$t0") s: knee at $pred s (eta $eta), observed $obs s ($err %);"
	lab_wait 5 grep -q "predict: .*198.18.0.11 saturates" "$LAB/xlbd.log" ||
		why="$why no warning logged;"
	lab_wait 10 grep -q "predict: .*198.18.0.11: latency knee at" "$LAB/xlbd.log" ||
		why="$why xlbd saw no knee;"
	if [ -z "$why" ]; then
		pass "ramp (+1 connection/${STEP_S} s from $FLAT, capacity $CAP: at $(since "$half" "$t0") s the forecast said the knee at $pred s; observed at $obs s, off by $err %; warned; $(grep -o 'latency knee at [0-9]* active' "$LAB/xlbd.log" | head -1))"
	else
		fail ramp "$why"
	fi
}

LAB_XLBD_ARGS=(--metrics 198.18.0.10:9100)
if ! lab_up 1 || ! lab_xlbd_start ||
	! xlbctl vip add "$VIP" --check http:/health --interval 1 \
		--timeout 1 > /dev/null ||
	! xlbctl backend add "$VIP" 198.18.0.11 --capacity "$CAP" > /dev/null; then
	echo "FAIL lab: could not build the lab ($(tail -3 "$LAB/xlbd.log" 2>/dev/null))"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
lab_backend_set 1 capacity "$CAP"
lab_wait 10 eval '[ "$(b1 health)" = up ]'
BASE_MS=0
load_start
# shellcheck disable=SC2086
lab_run_cases ${TESTS:-flat ramp}
load_stop
