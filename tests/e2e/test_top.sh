#!/usr/bin/env bash
# End to end: xlbctl top on a real terminal (a detached tmux session,
# driven with send-keys and read with capture-pane) and with -j, against
# the real xlbd in the lab of lab.sh (3 backends):
#
#   VIP 198.18.1.1:80/tcp  b1..b3 (198.18.0.11-13), http:/health every
#                          0.5 s, timeout 0.3, rise 2, fall 3
#   VIP 198.18.1.2:80/tcp  20 backends 198.18.0.100-119, no check (the
#                          list is longer than the screen)
#
# The tmux server has its own socket (-L xlbtop$$) and is killed at exit;
# its one pane runs an interactive bash with the prompt "top$ ", in which
# top starts and ends. Every wait polls the pane with a deadline.
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

TMUX_SOCK=xlbtop$$
tm() { tmux -L "$TMUX_SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; lab_down' EXIT

VA=$VIP4:80/tcp
VB=198.18.1.2:80/tcp
INTERVAL=0.5
# Down within fall checks, the first up to one interval after the change,
# plus two refreshes of top and scheduling on a loaded machine.
DOWN_S=6

setup_vips() {
	local i
	xlbctl vip add "$VA" --check http:/health --interval 0.5 \
		--timeout 0.3 --rise 2 --fall 3 || return 1
	for i in 1 2 3; do
		xlbctl backend add "$VA" "198.18.0.1$i" || return 1
	done
	xlbctl vip add "$VB" || return 1
	for i in $(seq 100 119); do
		xlbctl backend add "$VB" "198.18.0.$i" || return 1
	done
}

# The pane as text, one line per row (-J: a wrapped line stays one line,
# so a line wider than the pane shows as such).
pane() { tm capture-pane -p -J -t top; }
pane_has() { pane | grep -qE -- "$1"; }
pane_cmd() { tm display -p -t top '#{pane_current_command}'; }
running() { [ "$(pane_cmd)" = xlbctl ]; }
at_prompt() { [ "$(pane_cmd)" = bash ]; }
# What a failure shows: the pane, its lines joined with "|".
pane_dump() { pane | sed 's/ *$//' | grep -v '^$' | tr '\n' '|'; }

# done_case CASE TEXT: top ended with q, then PASS CASE (TEXT) when the
# case gathered no reason to fail in its $why, else FAIL with the pane.
done_case() {
	top_quit || why="$why q did not end top;"
	if [ -z "$why" ]; then
		pass "$1 ($2)"
	else
		fail "$1" "$why pane: $(pane_dump)"
	fi
}

# size COLS ROWS: the window's size.
size() { tm resize-window -t top -x "$1" -y "$2"; }

# top_run [ARGS...]: clear the pane and start top in it (the pane's
# shell at its prompt); waits for the first frame.
top_run() {
	tm send-keys -t top "clear; $LAB_BUILD/xlbctl -s $LAB/xlbd.sock top $*" Enter
	lab_wait 10 pane_has '^xlbctl top '
}

# top_quit: q, and the pane's shell back at its prompt.
top_quit() {
	running || return 0
	tm send-keys -t top q
	lab_wait 5 at_prompt
}

# be_line ADDR: the pane's line of backend ADDR (its first).
be_line() { pane | grep -E "^  $1 " | head -1; }
be_health() { be_line "$1" | awk '{ print $2 }'; }
be_health_is() { [ "$(be_health "$1")" = "$2" ]; }

# widest: the widest line of the pane.
widest() { pane | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'; }

# pane_fits COLS ROWS: the frame fills the pane as it should when the list
# is longer than the pane: at most ROWS rows, none wider than COLS, the
# header on the first (nothing scrolled off), "... N more" on the last.
pane_fits() {
	local out
	out=$(pane)
	[ "$(echo "$out" | wc -l)" -le "$2" ] && [ "$(widest)" -le "$1" ] &&
		echo "$out" | head -1 | grep -q '^xlbctl top ' &&
		echo "$out" | tail -1 | grep -qE '^\.\.\. [0-9]+ more$'
}

# fits: 80x12 with 28 lines to show: 12 rows, the header on the first,
# the last "... N more"; health and weights on a backend's line; at
# 120x40 every backend; at 40x12 every line cut at 40 columns.
t_fits() {
	local why="" out n0 n1 w
	size 80 12
	top_run --interval "$INTERVAL" || { fail fits "no frame: $(pane_dump)"; top_quit; return; }
	lab_wait 10 be_health_is 198.18.0.11 up ||
		why="$why b1 not up on screen;"
	lab_wait 5 pane_fits 80 12 || why="$why not fitted to 80x12;"
	out=$(pane)
	# address, health, weight, effective weight
	be_line 198.18.0.11 | grep -qE '^  198\.18\.0\.11 +up +100 +100 ' ||
		why="$why b1 line: $(be_line 198.18.0.11);"
	n0=$(echo "$out" | grep -cE '^  198\.18\.0\.')
	size 120 40
	lab_wait 5 pane_has '^  198\.18\.0\.119 ' || why="$why last backend not shown at 120x40;"
	n1=$(pane | grep -cE '^  198\.18\.0\.')
	[ "$n1" = 23 ] && [ "$n0" -lt "$n1" ] || why="$why backends shown: $n0 at 80x12, $n1 at 120x40;"
	pane_has 'more$' && why="$why a more line at 120x40;"
	size 40 12
	lab_wait 5 pane_fits 40 12 || why="$why not fitted to 40x12;"
	w=$(widest)
	size 80 12
	done_case fits "80x12: 12 rows, \"$(echo "$out" | tail -1)\" last; $n0 backends at 80x12, $n1 at 120x40; widest line $w at 40x12"
}

# health: b3's checks fail (HTTP 500): top shows it down within DOWN_S,
# then up again once they pass.
t_health() {
	local why="" t0 t1
	size 120 40
	top_run --interval "$INTERVAL" || { fail health "no frame"; top_quit; return; }
	lab_wait 10 be_health_is 198.18.0.13 up || why="$why b3 not up at first;"
	t0=$SECONDS
	lab_backend_set 3 health_status 500
	lab_wait "$DOWN_S" be_health_is 198.18.0.13 down ||
		why="$why b3 not down on screen within ${DOWN_S}s ($(be_line 198.18.0.13));"
	t1=$SECONDS
	be_health_is 198.18.0.12 up || why="$why b2 not up;"
	lab_backend_set 3 health_status
	lab_wait 10 be_health_is 198.18.0.13 up || why="$why b3 not up again;"
	done_case health "b3 down on screen after ~$((t1 - t0))s of failing checks, up again"
}

# vip_rates: "PPS NEW/S" of VIP A's line, when both are non-zero numbers.
vip_rates() {
	pane | awk -v v="$VA" '$1 == v && $3 ~ /^[0-9.]+[kMGT]?$/ &&
		$3 + 0 > 0 && $4 + 0 > 0 { print $3, $4; f = 1 } END { exit !f }'
}

# rates: a bounded client loop (at most 60 requests, 15 s): VIP A's line
# shows packets and new flows per second, and so does the header.
t_rates() {
	local why="" r pid
	size 120 40
	top_run --interval "$INTERVAL" || { fail rates "no frame"; top_quit; return; }
	lab_ns c bash -c 'end=$((SECONDS + 15))
		for i in $(seq 60); do
			curl -s --max-time 1 -o /dev/null "http://$1/"
			sleep 0.1
			[ $SECONDS -lt $end ] || break
		done' _ "$VIP4" &
	pid=$!
	lab_wait 10 vip_rates || why="$why no rate on $VA's line;"
	r=$(vip_rates)
	pane_has '^total  pps [0-9.]+[kMGT]?  bps [0-9.]+[kMGT]?  new flows/s [0-9.]' ||
		why="$why header: $(pane | sed -n 2p);"
	pane | sed -n 2p | grep -q 'pps 0\.0 ' && why="$why header pps 0;"
	wait "$pid"
	done_case rates "$VA: pps/new flows per second $r"
}

# reconnect: xlbd SIGKILLed under top: top stays and says it retries;
# xlbd started again: the same top shows the VIPs again.
t_reconnect() {
	local why="" pid
	size 120 40
	top_run --interval "$INTERVAL" || { fail reconnect "no frame"; top_quit; return; }
	lab_wait 5 pane_has "^$VA " || why="$why no VIP at first;"
	lab_xlbd_kill KILL
	lab_wait 5 pane_has 'not answering.*retrying' ||
		why="$why no retrying message;"
	pane_has "^$VA " && why="$why VIP still shown while away;"
	sleep 1		# a few failed polls: top must still be there
	running || why="$why top exited;"
	lab_xlbd_start || why="$why xlbd did not start again;"
	pid=$(cat "$LAB/xlbd.pid" 2>/dev/null)
	lab_wait 10 pane_has "^$VA " || why="$why VIP not back;"
	lab_wait 5 pane_has '^xlbctl top .* xlbd ' || why="$why header not back;"
	lab_wait 5 be_health_is 198.18.0.11 up || why="$why b1 not up again;"
	running || why="$why top not running;"
	done_case reconnect "top retried while xlbd was gone, showed the VIPs of the new xlbd $pid"
}

# check_json FILE MIN: every line a JSON object; prints "ok error" counts
# and fails unless the ok lines have per-backend health and weights and
# rates (after the first of a run), and an error line its reason.
check_json() {
	"$LAB_PY" - "$1" "$VA" <<-'EOF'
	import json, sys
	ok = err = 0
	back = False	# an ok line after an error line
	prev_ok = True
	for n, line in enumerate(open(sys.argv[1]), 1):
	    if "\033" in line:
	        sys.exit(f"line {n}: control code")
	    d = json.loads(line)
	    assert isinstance(d["time"], float), f"line {n}: time"
	    if "error" in d:
	        assert d["error"] and "vips" not in d, f"line {n}: {line}"
	        err += 1
	        prev_ok = False
	        continue
	    v = [v for v in d["vips"] if v["vip"] == sys.argv[2]]
	    assert v, f"line {n}: no {sys.argv[2]}"
	    for b in v[0]["backends"]:
	        assert b["health"] in ("up", "down", "unknown"), f"line {n}: {b}"
	        assert isinstance(b["weight"], int), f"line {n}: {b}"
	        assert isinstance(b["effective_weight"], int), f"line {n}: {b}"
	    if prev_ok:		# rates from the sample before
	        assert "pps" in v[0] and "new_flows_ps" in v[0], f"line {n}"
	        assert "pps" in d["totals"] and "rates" in d, f"line {n}"
	    if err:
	        back = True
	    ok += 1
	    prev_ok = True
	print(ok, err, int(back))
	EOF
}

# json: --count 5 is five lines, each a document; across a SIGKILL and a
# start of xlbd, one run goes on: lines with VIPs, then errors, then VIPs
# again; SIGTERM ends it with 0.
t_json() {
	local why="" out f="$LAB/top.json" pid rc r n
	out=$(timeout 20 "$LAB_BUILD/xlbctl" -s "$LAB/xlbd.sock" -j top \
		--interval 0.2 --count 5)
	rc=$?
	echo "$out" > "$f.5"
	[ "$rc" = 0 ] || why="$why --count 5 exit $rc;"
	[ "$(echo "$out" | wc -l)" = 5 ] || why="$why $(echo "$out" | wc -l) lines, not 5;"
	r=$(check_json "$f.5" 2>&1) && [ "$r" = "5 0 0" ] ||
		why="$why --count 5: $r;"
	timeout 60 "$LAB_BUILD/xlbctl" -s "$LAB/xlbd.sock" -j top \
		--interval 0.2 > "$f" 2> "$f.err" &
	pid=$!
	lab_wait 10 bash -c "[ \$(grep -c '\"vips\"' $f) -ge 3 ]" ||
		why="$why no VIP lines before the kill;"
	lab_xlbd_kill KILL
	lab_wait 10 grep -q '"error"' "$f" || why="$why no error line;"
	lab_xlbd_start || why="$why xlbd did not start again;"
	lab_wait 10 bash -c "tail -1 $f | grep -q '\"vips\"'" ||
		why="$why no VIP line after the start;"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] || why="$why SIGTERM: exit $rc ($(head -c 200 "$f.err"));"
	r=$(check_json "$f" 2>&1)
	read -r -a n <<< "$r"
	[ "${#n[@]}" = 3 ] && [ "${n[0]}" -ge 4 ] && [ "${n[1]}" -ge 1 ] &&
		[ "${n[2]}" = 1 ] || why="$why across the restart: $r;"
	if [ -z "$why" ]; then
		pass "json (5 lines of --count 5; across the restart ${n[0]} with VIPs, ${n[1]} errors, VIPs again; SIGTERM exit 0)"
	else
		fail json "$why"
	fi
}

# tty_modes: the pane's terminal's icanon and echo flags, through stty.
tty_modes() {
	tm send-keys -t top "clear; stty -a | tr ' ' '\\n' | grep -E -x -e '-?icanon' -e '-?echo' | tr '\\n' ' '; echo =modes" Enter
	lab_wait 5 pane_has '=modes$' && pane | grep -E '=modes$' | tail -1
}

# keys: q ends top, and so does Ctrl-C; each time the shell's prompt comes
# back with the terminal as it was (icanon echo).
t_keys() {
	local why="" key m
	size 80 12
	for key in q C-c; do
		top_run --interval "$INTERVAL" || why="$why no frame ($key);"
		running || why="$why top not running ($key);"
		tm send-keys -t top "$key"
		lab_wait 5 at_prompt || why="$why $key did not end top;"
		m=$(tty_modes)
		[ "$m" = "icanon echo =modes" ] || why="$why after $key: $m;"
	done
	if [ -z "$why" ]; then
		pass "keys (q and Ctrl-C end top; prompt back, terminal: $m)"
	else
		fail keys "$why pane: $(pane_dump)"
	fi
}

if ! lab_up 3; then
	echo "FAIL lab: could not build the lab"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
if ! lab_xlbd_start || ! setup_vips > /dev/null; then
	echo "FAIL xlbd: did not start ($(tail -3 "$LAB/xlbd.log"))"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
if ! tm new-session -d -s top -x 80 -y 12 \
	"env PS1='top\$ ' HISTFILE=/dev/null bash --norc --noprofile -i" ||
	! lab_wait 5 pane_has '^top\$'; then
	echo "FAIL tmux: no session"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
CASES=${TESTS:-"fits health rates reconnect json keys"}
# shellcheck disable=SC2086
lab_run_cases $CASES
