#!/usr/bin/env bash
# End to end: xlbd's live dashboard (/ on the metrics address) in headless
# Chromium (Debian's chromium, chromium-driver, python3-selenium), driven
# from the lab's client by tests/e2e/dashboard_check.py, one page for all
# cases: it is never reloaded, so it must follow xlbd by polling.
#
#   [P-c] client 198.18.0.2: chromium -> http://198.18.0.10:9100/
#   [P-lb] xlbd --metrics 198.18.0.10:9100
#          VIP 198.18.1.1:80/tcp  http:/health every 0.5 s, timeout 0.3,
#                                 rise 2, fall 2
#   [P-b1..b3] 198.18.0.11-13, HTTP servers (lab.sh)
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some (page first: it opens the page).
# KEEP=DIR: the logs and a screenshot of the live page there.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

VIP=$VIP4:80/tcp
URL=http://198.18.0.10:9100
INTERVAL_MS=500
RISE=2
FALL=2
# On the page within fall checks (the first up to one interval after the
# kill), one poll of the page (1 s) and slack for a loaded machine.
DOWN_MS=$((INTERVAL_MS * FALL + 3000))
UP_MS=$((INTERVAL_MS * RISE + 3000))

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

no_browser() { [ -z "$(lab_pids c chromium)" ]; }

# The driver first (it quits its browser on SIGTERM), then the lab, which
# kills whatever is left in its namespaces: chromium, chromedriver.
cleanup() {
	local pid
	if [ -n "$LAB" ]; then
		for pid in $(lab_pids c python3); do kill "$pid"; done
		lab_wait 10 no_browser
	fi
	[ -n "${KEEP:-}" ] && [ -n "$LAB" ] && cp "$LAB"/*.log "$KEEP/" 2>/dev/null
	lab_down
}
trap cleanup EXIT

# dash_open: the page in a browser on the client; 0 once it loaded.
# HOME and TMPDIR in the lab: Chromium writes to both.
dash_open() {
	mkdir -p "$LAB/home" "$LAB/tmp"
	coproc DASH { lab_ns c env HOME="$LAB/home" TMPDIR="$LAB/tmp" \
		"$LAB_PY" -u tests/e2e/dashboard_check.py "$URL/" \
		"$LAB/chrome" 2>> "$LAB/dashboard.log"; }
	dash_answer
}

# dash CMD...: one command to the page's driver (see dashboard_check.py);
# its answer, without "ok"/"fail", in ANSWER; 0 for "ok".
dash() {
	# Not to a driver that is gone: a write there would be SIGPIPE.
	[ -n "${DASH_PID:-}" ] && kill -0 "$DASH_PID" 2>/dev/null ||
		{ ANSWER="no browser"; return 1; }
	echo "$*" >&"${DASH[1]}"
	dash_answer
}

dash_answer() {
	local line
	# Bounded: the longest wait asked for is 30 s.
	if ! IFS= read -r -t 60 line <&"${DASH[0]}"; then
		ANSWER="no answer from the driver ($(tail -2 "$LAB/dashboard.log" | tr '\n' ' '))"
		return 1
	fi
	ANSWER=${line#* }
	[ "${line%% *}" = ok ]
}

# client_loop N MS: in the background, at most N requests to the VIP (a
# new connection each, one every ~20 ms) for at most MS milliseconds.
client_loop() {
	lab_ns c bash -c '
		n=$1 end=$((${EPOCHREALTIME/./} / 1000 + $2))
		for ((i = 0; i < n; i++)); do
			curl -s --max-time 1 "http://$3/" > /dev/null
			[ $((${EPOCHREALTIME/./} / 1000)) -lt "$end" ] || break
			sleep 0.02
		done' loop "$1" "$2" "$VIP4" > /dev/null 2>&1 &
	CLIENT_PID=$!
}

# page: the VIP and its 3 backends up, with weights; no errors.
t_page() {
	if ! dash_open; then
		fail page "no page: $ANSWER"
	elif ! dash backends "$VIP" 3 15; then
		fail page "$ANSWER"
	else
		local shown=$ANSWER
		if dash errors; then
			pass "page (3 backends up in ${shown%% *} ms: ${shown#* }; $ANSWER, no JS errors)"
		else
			fail page "JS errors: $ANSWER"
		fi
	fi
}

# live: under a bounded request loop the VIP's pps on the page turns
# non-zero and its pps plot has points.
t_live() {
	client_loop 500 15000
	if dash traffic "$VIP" 12; then
		pass "live (pps on the page after ${ANSWER%% *} ms: ${ANSWER#* })"
	else
		fail live "$ANSWER"
	fi
	# KEEP=DIR: what it looked like.
	[ -z "${KEEP:-}" ] || dash shot "$(cd "$KEEP" && pwd)/dashboard.png"
	kill "$CLIENT_PID" 2>/dev/null
	wait "$CLIENT_PID" 2>/dev/null
}

# down: b2's HTTP server killed; the page shows b2 down within DOWN_MS of
# the kill, then up again after a restart.
t_down() {
	local tk ms why=""
	dash health "$VIP" 198.18.0.12 up 10 ||
		{ fail down "b2 not up before the kill: $ANSWER"; return; }
	tk=$(now_ms)
	lab_backend_kill 2
	if dash health "$VIP" 198.18.0.12 down $((DOWN_MS / 1000 + 5)); then
		ms=$(($(now_ms) - tk))
		echo "  down: b2 down on the page $ms ms after its server died (limit $DOWN_MS)"
		[ "$ms" -le "$DOWN_MS" ] || why="b2 down after $ms ms, over $DOWN_MS;"
	else
		why="b2 never down: $ANSWER;"
	fi
	lab_backend_start 2
	lab_backend_up 2 || why="$why b2's server did not restart;"
	tk=$(now_ms)
	if dash health "$VIP" 198.18.0.12 up $((UP_MS / 1000 + 5)); then
		echo "  down: b2 up again on the page $(($(now_ms) - tk)) ms after its server answered"
	else
		why="$why b2 not up again: $ANSWER"
	fi
	if [ -n "$why" ]; then
		fail down "$why"
	else
		pass "down (b2 down on the page in $ms ms, limit $DOWN_MS; up again)"
	fi
}

# away: xlbd stopped, the page says it is not answering; started again,
# the same page (no reload) is live again with the backends up.
t_away() {
	local why="" away
	lab_xlbd_kill TERM
	if dash status away 10; then
		away=${ANSWER#* }
	else
		why="no 'not answering' with xlbd stopped: $ANSWER;"
	fi
	lab_xlbd_start || why="$why xlbd did not start again;"
	dash status ok 20 || why="$why not live again: $ANSWER;"
	dash backends "$VIP" 3 20 || why="$why $ANSWER;"
	dash same || why="$why $ANSWER;"
	dash errors || why="$why JS errors: $ANSWER"
	if [ -n "$why" ]; then
		fail away "$why"
	else
		pass "away (shown '${away//_/ }', then live again without a reload)"
	fi
}

# code METHOD PATH: the status xlbd answers.
code() {
	lab_ns c curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		-X "$1" "$URL$2"
}

# header PATH NAME: one response header's value.
header() {
	lab_ns c curl -s -D - -o /dev/null --max-time 2 "$URL$1" |
		tr -d '\r' | awk -v n="$2" 'tolower($1) == tolower(n) ":" {
			sub(/^[^:]*: */, ""); print }'
}

# readonly: only GET; no other paths; the page's and the API's headers.
t_readonly() {
	local why="" p m c
	for p in / /api/state /metrics; do
		for m in POST PUT DELETE; do
			c=$(code "$m" "$p")
			[ "$c" = 405 ] || why="$why $m $p: $c;"
		done
	done
	c=$(code GET /nothing)
	[ "$c" = 404 ] || why="$why GET /nothing: $c;"
	[[ $(header / Content-Type) == text/html* ]] ||
		why="$why / is $(header / Content-Type);"
	[[ $(header / Content-Security-Policy) == "default-src 'none'"* ]] ||
		why="$why / CSP: $(header / Content-Security-Policy);"
	[ "$(header /api/state Cache-Control)" = no-store ] ||
		why="$why /api/state Cache-Control: $(header /api/state Cache-Control);"
	lab_ns c curl -s --max-time 2 "$URL/api/state" | "$LAB_PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["time_ms"] > 0 and "counters" in s and s["vips"][0]["backends"]
' 2> /dev/null || why="$why /api/state not the state;"
	if [ -n "$why" ]; then
		fail readonly "$why"
	else
		pass "readonly (POST, PUT, DELETE 405 on /, /api/state, /metrics; 404 elsewhere; CSP, no-store)"
	fi
}

CASES=${TESTS:-"page live down away readonly"}

for bin in /usr/bin/chromium /usr/bin/chromedriver; do
	if [ ! -x "$bin" ]; then
		echo "FAIL dashboard: no $bin (scripts/install-deps.sh installs it)"
		echo "e2e: 0 passed, 1 failed"
		exit 1
	fi
done
LAB_XLBD_ARGS=(--metrics 198.18.0.10:9100)
lab_checked "$VIP" "$RISE" "$FALL"
lab_run_cases $CASES
