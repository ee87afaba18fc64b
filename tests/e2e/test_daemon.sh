#!/usr/bin/env bash
# End to end: xlbd's lifecycle. One daemon per data plane (locks), one
# control socket per interface, command-line overrides checked before
# anything changes, and an event loop no client can stall. The lab of
# lab.sh with one backend, plus what a case adds:
#
#        [P-c] client 198.18.0.2 ──┐
#        [P-lb] xlbd 198.18.0.10 ──┤ br0 in [P-sw]     VIP 198.18.1.1:80/tcp
#               eth1 (socket case)─┤
#        [P-lb2] xlbd 198.18.0.20 ─┤ (two-nodes case: own pins and state)
#        [P-b1] 198.18.0.11 ───────┘
#
# Each case starts from nothing (no daemon, no pins, no state) and leaves
# nothing. Prints "PASS name" / "FAIL name: why" per case, then "e2e: N
# passed, N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lab.sh

RUN_XLB=/run/xlb	# the default socket directory (ctl.h CTL_SOCK_DIR)
HOLD=""			# holder.py, written by main
HOLD_PID=""

cleanup() {
	rm -f "$RUN_XLB/eth0.sock" "$RUN_XLB/eth1.sock"
	lab_down
}
trap cleanup EXIT

ARGS=()	# the lab daemon's arguments, set by main
VIP="$VIP4:80/tcp"

# xlbd_once SECONDS ARGS...: xlbd in the lb node, in the foreground, at
# most SECONDS; its output in $OUT, its exit code returned (124: still
# running when the time was up). Runs in $LAB, so that a relative path
# given to it lands there.
OUT=""
xlbd_once() {
	local t=$1 rc
	shift
	OUT=$(cd "$LAB" && timeout "$t" ip netns exec "$P-lb" \
		"$LAB_BUILD/xlbd" "$@" < /dev/null 2>&1)
	rc=$?
	echo "$OUT" >> "$LAB/xlbd.log"
	return $rc
}

# No daemon, no program, no pins, no state, in the lb node.
fresh() {
	local pid
	for pid in $(lab_pids lb xlbd); do
		kill -9 "$pid" 2>/dev/null
		lab_wait 10 bash -c "! kill -0 $pid"
	done
	rm -f "$LAB/xlbd.pid"
	lab_ns lb "$LAB_BUILD/xlbd" -i eth0 --pin-root "$LAB/bpf" \
		--state "$LAB/state.yaml" --detach >> "$LAB/xlbd.log" 2>&1
	# What a broken daemon may leave behind even so.
	rm -rf "$LAB/bpf/xlb"
	ip -n "$P-lb" link set dev eth0 xdp off 2>/dev/null
	rm -f "$LAB"/state.yaml* "$LAB"/*.sock "$LAB"/other.yaml* \
		"$LAB"/hold.* "$LAB/big.yaml"
}

# A daemon with the VIP and backend b1.
started() {
	fresh
	lab_xlbd_start && xlbctl vip add "$VIP" &&
		xlbctl backend add "$VIP" 198.18.0.11
}

# What must not change: the VIPs as xlbctl lists them (less counters), the
# state file, the pins, the program on eth0.
snapshot() {
	lab_state
	cat "$LAB/state.yaml" 2>/dev/null
	ls -R "$LAB/bpf" 2>/dev/null
	ip -n "$P-lb" -d link show eth0 | grep -o 'prog/xdp id [0-9]*'
}

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# ---- one daemon per data plane ----

# A second xlbd on the same data plane: with the same arguments, with its
# own socket, with its own socket and state file. Each must exit non-zero,
# name the running PID, and change nothing.
t_second_daemon() {
	local pid before after rc why="" args
	started || { fail second-daemon "no start"; return; }
	pid=$(cat "$LAB/xlbd.pid")
	before=$(snapshot)
	for args in "-s $LAB/xlbd.sock --state $LAB/state.yaml" \
		"-s $LAB/other.sock --state $LAB/state.yaml" \
		"-s $LAB/other.sock --state $LAB/other.yaml"; do
		# shellcheck disable=SC2086 # args is a list of words
		xlbd_once 10 -i eth0 --pin-root "$LAB/bpf" $args
		rc=$?
		after=$(snapshot)
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
			why="exit $rc with $args"
		elif ! echo "$OUT" | grep -q "pid $pid"; then
			why="message does not name pid $pid: $OUT"
		elif [ "$before" != "$after" ]; then
			why="changed with $args: $(diff <(echo "$before") <(echo "$after") | head -5 | tr "\n" " ")"
		elif [ "$(lab_get)" != b1 ]; then
			why="traffic broken after $args"
		fi
		[ -z "$why" ] || break
	done
	for pid in $(lab_pids lb xlbd); do	# any second daemon still up
		[ "$pid" = "$(cat "$LAB/xlbd.pid")" ] || kill -9 "$pid"
	done
	if [ -n "$why" ]; then
		fail second-daemon "$why"
	else
		pass "second-daemon (3 ways refused, naming pid; nothing changed)"
	fi
	fresh
}

# xlbd --detach while a daemon runs: refused, nothing changed; once the
# daemon is stopped it works.
t_detach_running() {
	local pid before after rc why=""
	started || { fail detach-running "no start"; return; }
	pid=$(cat "$LAB/xlbd.pid")
	before=$(snapshot)
	xlbd_once 10 -i eth0 --pin-root "$LAB/bpf" --state "$LAB/state.yaml" \
		--detach
	rc=$?
	after=$(snapshot)
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
		why="--detach exit $rc while xlbd runs"
	elif ! echo "$OUT" | grep -q "pid $pid"; then
		why="message does not name pid $pid: $OUT"
	elif [ "$before" != "$after" ]; then
		why="changed: $(diff <(echo "$before") <(echo "$after") | head -5 | tr "\n" " ")"
	elif [ "$(lab_get)" != b1 ]; then
		why="traffic broken"
	else
		lab_xlbd_kill TERM
		xlbd_once 10 -i eth0 --pin-root "$LAB/bpf" \
			--state "$LAB/state.yaml" --detach ||
			why="--detach after the daemon stopped: $OUT"
		[ -e "$LAB/bpf/xlb/eth0" ] && why="pins left after --detach"
	fi
	if [ -n "$why" ]; then
		fail detach-running "$why"
	else
		pass "detach-running (refused naming pid $pid; works once stopped)"
	fi
	fresh
}

# Two nodes of one test host, each in its own namespace with its own pin
# root and state, both on an interface named eth0: the locks are the data
# plane's and the state file's, not the interface name's.
t_two_nodes() {
	local why="" out
	started || { fail two-nodes "no start"; return; }
	lab_host lb2 20
	mkdir -p "$LAB/bpf2"
	mount -t bpf bpf "$LAB/bpf2"
	lab_ns lb2 "$LAB_BUILD/xlbd" -i eth0 -s "$LAB/xlbd2.sock" \
		--pin-root "$LAB/bpf2" --state "$LAB/state2.yaml" \
		< /dev/null >> "$LAB/xlbd2.log" 2>&1 &
	if ! lab_wait 10 "$LAB_BUILD/xlbctl" -s "$LAB/xlbd2.sock" list; then
		why="second node did not start: $(tail -2 "$LAB/xlbd2.log")"
	else
		out=$("$LAB_BUILD/xlbctl" -s "$LAB/xlbd2.sock" list)
		echo "$out" | grep -q "$VIP4" && why="node 2 lists node 1's VIP"
		xlbctl list | grep -q "$VIP4" || why="node 1 lost its VIP"
		[ "$(lab_get)" = b1 ] || why="node 1 traffic broken"
	fi
	"$LAB_BUILD/xlbctl" -s "$LAB/xlbd2.sock" shutdown > /dev/null 2>&1
	lab_wait 10 bash -c "[ -z \"\$(ip netns pids $P-lb2)\" ]"
	umount "$LAB/bpf2"
	ip netns del "$P-lb2"
	if [ -n "$why" ]; then
		fail two-nodes "$why"
	else
		pass "two-nodes (own pin root and state: both run on eth0)"
	fi
	fresh
}

# ---- the default socket: one per interface ----

# The default metrics address, 127.0.0.1:9100 in the lb node, with two
# daemons there: one serves it, the other warned (once) that it cannot
# and runs without.
default_metrics() {
	[ "$(grep -c 'cannot serve metrics on 127.0.0.1:9100 (the default' \
		"$LAB/xlbd.log")" -eq $(($1 + 1)) ] &&
		lab_ns lb curl -sf --max-time 2 http://127.0.0.1:9100/metrics \
			> /dev/null
}

# Two daemons, on eth0 and eth1, with no -s: each its own socket in
# /run/xlb; xlbctl -i picks one, and without -i names both. No --metrics
# either: the default address, which only one can have.
t_default_socket() {
	local why="" out rc warned
	fresh
	warned=$(grep -c 'cannot serve metrics on 127.0.0.1:9100' "$LAB/xlbd.log")
	rm -f "$RUN_XLB/eth0.sock" "$RUN_XLB/eth1.sock"
	ip -n "$P-sw" link add vlb1 type veth peer name eth1 netns "$P-lb"
	ip -n "$P-sw" link set vlb1 master br0 up
	ip -n "$P-lb" link set eth1 up
	lab_ns lb "$LAB_BUILD/xlbd" -i eth0 --pin-root "$LAB/bpf" \
		--state "$LAB/state.yaml" < /dev/null >> "$LAB/xlbd.log" 2>&1 &
	lab_ns lb "$LAB_BUILD/xlbd" -i eth1 --pin-root "$LAB/bpf" \
		--state "$LAB/state1.yaml" < /dev/null >> "$LAB/xlbd.log" 2>&1 &
	if ! lab_wait 10 "$LAB_BUILD/xlbctl" -i eth0 list ||
		! lab_wait 10 "$LAB_BUILD/xlbctl" -i eth1 list; then
		why="both should run: $(tail -3 "$LAB/xlbd.log")"
	elif ! default_metrics "$warned"; then
		why="default metrics address: not one served, one warned: $(grep metrics "$LAB/xlbd.log" | tail -3)"
	elif ! "$LAB_BUILD/xlbctl" -i eth0 vip add "$VIP" ||
		! "$LAB_BUILD/xlbctl" -s "$RUN_XLB/eth0.sock" list | grep -q "$VIP4"; then
		why="-i eth0 / -s $RUN_XLB/eth0.sock"
	elif "$LAB_BUILD/xlbctl" -i eth1 list | grep -q "$VIP4"; then
		why="eth1's daemon lists eth0's VIP"
	else
		out=$("$LAB_BUILD/xlbctl" list 2>&1); rc=$?
		if [ "$rc" -eq 0 ] || ! echo "$out" | grep -q "eth0.sock" ||
			! echo "$out" | grep -q "eth1.sock" ||
			[ "$(echo "$out" | wc -l)" -ne 1 ]; then
			why="two sockets, no -i: want one line naming both, got: $out"
		fi
	fi
	"$LAB_BUILD/xlbctl" -i eth1 shutdown > /dev/null 2>&1
	lab_wait 10 test ! -e "$RUN_XLB/eth1.sock"
	# The only socket left (when no one else has one here now).
	if [ -z "$why" ] && [ "$(ls "$RUN_XLB" 2>/dev/null | grep -c '\.sock$')" = 1 ] &&
		! "$LAB_BUILD/xlbctl" list | grep -q "$VIP4"; then
		why="the only socket was not used"
	fi
	"$LAB_BUILD/xlbctl" -i eth0 shutdown > /dev/null 2>&1
	lab_wait 10 test ! -e "$RUN_XLB/eth0.sock"
	# None left (when no one else has one here now): one line saying so.
	if [ -z "$why" ] && [ "$(ls "$RUN_XLB" 2>/dev/null | grep -c '\.sock$')" = 0 ]; then
		out=$("$LAB_BUILD/xlbctl" list 2>&1) &&
			why="no socket, yet xlbctl list succeeded"
		[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "no xlbd socket" ||
			why="no socket: want one line saying so, got: $out"
	fi
	for pid in $(lab_pids lb xlbd); do kill -9 "$pid" 2>/dev/null; done
	ip -n "$P-lb" link del eth1 2>/dev/null
	rm -f "$RUN_XLB/eth0.sock" "$RUN_XLB/eth1.sock" "$LAB/state1.yaml"*
	if [ -n "$why" ]; then
		fail default-socket "$why"
	else
		pass "default-socket ($RUN_XLB/eth0.sock and eth1.sock; -i; several, the only one, none; one has the default metrics address, the other warned)"
	fi
	fresh
}

# ---- overrides checked as the file's values ----

# A bad -s or --metrics: one line, exit non-zero, nothing on disk or in
# the data plane; then the right flags start.
t_bad_override() {
	local before after rc why="" bad
	started || { fail bad-override "no start"; return; }
	lab_xlbd_kill TERM
	before=$(cat "$LAB/state.yaml"; ls -R "$LAB/bpf"; ls "$LAB")
	for bad in "-s rel.sock" "--metrics 198.18.0.10:99999" \
		"--pin-root bpf" "--state rel.yaml" "-i a/b"; do
		# shellcheck disable=SC2086 # bad is a list of words
		xlbd_once 10 -i eth0 -s "$LAB/xlbd.sock" --pin-root "$LAB/bpf" \
			--state "$LAB/state.yaml" $bad
		rc=$?
		after=$(cat "$LAB/state.yaml"; ls -R "$LAB/bpf"; ls "$LAB")
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
			why="$bad: exit $rc"
		elif [ "$(echo "$OUT" | wc -l)" -ne 1 ] ||
			! echo "$OUT" | grep -q -- "'${bad#* }'"; then
			why="$bad: want one line naming '${bad#* }': $OUT"
		elif [ "$before" != "$after" ]; then
			why="$bad changed: $(diff <(echo "$before") <(echo "$after") | head -5 | tr "\n" " ")"
		fi
		[ -z "$why" ] || break
		for pid in $(lab_pids lb xlbd); do kill -9 "$pid" 2>/dev/null; done
	done
	# Well formed, but no address of the node: refused when it is bound,
	# which is before the data plane is loaded or the state saved.
	if [ -z "$why" ]; then
		xlbd_once 10 -i eth0 -s "$LAB/xlbd.sock" --pin-root "$LAB/bpf" \
			--state "$LAB/state.yaml" --metrics 198.18.0.99:9100
		rc=$?
		after=$(cat "$LAB/state.yaml"; ls -R "$LAB/bpf"; ls "$LAB")
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
			why="--metrics 198.18.0.99:9100: exit $rc"
		elif ! echo "$OUT" | grep -q "198.18.0.99:9100"; then
			why="--metrics 198.18.0.99:9100 not named: $OUT"
		elif [ "$before" != "$after" ]; then
			why="--metrics 198.18.0.99:9100 changed: $(diff <(echo "$before") <(echo "$after") | head -5 | tr "\n" " ")"
		fi
		for pid in $(lab_pids lb xlbd); do kill -9 "$pid" 2>/dev/null; done
	fi
	[ -z "$why" ] && { lab_xlbd_start ||
		why="the right flags do not start: $(tail -2 "$LAB/xlbd.log")"; }
	[ -z "$why" ] && ! xlbctl list | grep -q "$VIP4" &&
		why="VIP lost"
	if [ -n "$why" ]; then
		fail bad-override "$why"
	else
		pass "bad-override (5 refused in one line, an unbindable metrics address refused; nothing changed, then a clean start)"
	fi
	fresh
}

# ---- no client can stall the loop ----

# hold.py KIND TARGET N SECONDS DRIP OUT: N connections (unix path or
# ADDR:PORT) held open, sending a space on each every DRIP seconds (0:
# nothing), for at most SECONDS or until OUT.stop exists; OUT.ready once
# they are open; "SECONDS REPLY" in OUT when the first gets a reply.
write_hold() {
	HOLD="$LAB/holder.py"
	cat > "$HOLD" <<'PY'
import os, resource, select, socket, sys, time
kind, target, n, limit, drip, out = sys.argv[1:7]
n, limit, drip = int(n), float(limit), float(drip)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 64)), hard))
socks = []
for i in range(n):
    if kind == "unix":
        s, addr = socket.socket(socket.AF_UNIX), target
    else:
        host, port = target.rsplit(":", 1)
        s, addr = socket.socket(), (host, int(port))
    s.setblocking(False)
    try:
        s.connect(addr)
    except (BlockingIOError, OSError):
        pass
    socks.append(s)
time.sleep(0.5)
open(out + ".ready", "w").close()
start = time.monotonic()
next_drip = start + drip
p = select.poll()
p.register(socks[0], select.POLLIN)
while time.monotonic() - start < limit and not os.path.exists(out + ".stop"):
    if drip and time.monotonic() >= next_drip:
        for s in socks:
            try:
                s.send(b" ")
            except OSError:
                pass
        next_drip += drip
    if p.poll(100):
        try:
            data = socks[0].recv(4096)
        except OSError:
            data = b""
        with open(out, "a") as f:
            f.write("%.1f %s\n" % (time.monotonic() - start,
                                   data.decode(errors="replace").strip()))
        p.unregister(socks[0])
PY
}

# hold NS KIND TARGET N SECONDS DRIP NAME: start hold.py in namespace NS,
# wait until its connections are open.
hold() {
	rm -f "$LAB/hold.$7"*
	lab_ns "$1" "$LAB_PY" "$HOLD" "$2" "$3" "$4" "$5" "$6" \
		"$LAB/hold.$7" > /dev/null 2>&1 &
	HOLD_PID=$!
	lab_wait 20 test -e "$LAB/hold.$7.ready"
}

unhold() { touch "$LAB/hold.$1.stop"; wait "$HOLD_PID"; }

# How long `xlbctl list` takes, in ms (99999 when it fails).
list_ms() {
	local t0
	t0=$(date +%s%N)
	xlbctl list > /dev/null 2>&1 || { echo 99999; return; }
	ms_since "$t0"
}

# SIGHUP to the daemon; ms until it logs having handled it.
sighup_ms() {
	local t0 n
	n=$(grep -c "SIGHUP" "$LAB/xlbd.log")
	t0=$(date +%s%N)
	kill -HUP "$(cat "$LAB/xlbd.pid")"
	lab_wait 20 bash -c "[ \$(grep -c SIGHUP '$LAB/xlbd.log') -gt $n ]" ||
		{ echo 99999; return; }
	ms_since "$t0"
}

# 100 control clients that connect and send nothing (more than the 64
# connections xlbd keeps): xlbctl and SIGHUP must not wait for them.
t_idle_clients() {
	local ms hup why=""
	started || { fail idle-clients "no start"; return; }
	hold lb unix "$LAB/xlbd.sock" 100 30 0 idle ||
		{ fail idle-clients "hold.py did not start"; return; }
	ms=$(list_ms)
	hup=$(sighup_ms)
	unhold idle
	# Without them, a list takes a few ms; 1 s leaves room for load.
	[ "$ms" -lt 1000 ] || why="xlbctl list took $ms ms"
	[ "$hup" -lt 1000 ] || why="$why; SIGHUP handled after $hup ms"
	if [ -n "$why" ]; then
		fail idle-clients "$why"
	else
		pass "idle-clients (100 idle: list in $ms ms, SIGHUP in $hup ms)"
	fi
	fresh
}

# A client that sends a byte every 3 s (each within any per-read timeout):
# it must get an error reply at its deadline (CTL_TIMEOUT_MS, 5 s), and
# meanwhile xlbctl and SIGHUP go on.
t_slow_client() {
	local ms hup why="" reply t
	started || { fail slow-client "no start"; return; }
	hold lb unix "$LAB/xlbd.sock" 1 20 3 slow ||
		{ fail slow-client "hold.py did not start"; return; }
	sleep 3.5	# the client has sent a byte; the daemon has read it
	ms=$(list_ms)
	hup=$(sighup_ms)
	lab_wait 15 test -s "$LAB/hold.slow"
	reply=$(head -1 "$LAB/hold.slow" 2>/dev/null)
	unhold slow
	t=${reply%% *}
	[ "$ms" -lt 1000 ] || why="xlbctl list took $ms ms"
	[ "$hup" -lt 1000 ] || why="$why; SIGHUP handled after $hup ms"
	if ! echo "$reply" | grep -q '"ok":false'; then
		why="$why; the slow client got no error reply: '$reply'"
	elif [ "${t%.*}" -gt 8 ]; then
		why="$why; its error reply came after $t s (deadline 5 s)"
	fi
	if [ -n "$why" ]; then
		fail slow-client "${why#; }"
	else
		pass "slow-client (list in $ms ms, SIGHUP in $hup ms, its error after ${t} s)"
	fi
	fresh
}

# A client that asks for a list bigger than the socket buffer (2,000
# backends, about 0.5 MB) and never reads it: others are served meanwhile,
# and its connection is closed at the reply's deadline.
t_slow_reader() {
	local ms why="" i
	fresh
	{
		printf 'vips:\n  - vip: %s\n    backends:\n' "$VIP"
		for i in $(seq 0 1999); do
			printf '      - addr: 198.18.%d.%d\n' $((100 + i / 250)) $((1 + i % 250))
		done
	} > "$LAB/big.yaml"
	lab_xlbd_start -c "$LAB/big.yaml" || { fail slow-reader "no start"; return; }
	lab_ns lb "$LAB_PY" -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"{\"cmd\":\"list\"}\n")
open(sys.argv[2] + ".ready", "w").close()
t = time.monotonic()
while time.monotonic() - t < 15 and not os.path.exists(sys.argv[2] + ".stop"):
    time.sleep(0.1)
' "$LAB/xlbd.sock" "$LAB/hold.reader" > /dev/null 2>&1 &
	HOLD_PID=$!
	lab_wait 10 test -e "$LAB/hold.reader.ready"
	sleep 0.5	# the daemon has its request and fills the socket
	ms=$(list_ms)
	lab_wait 10 grep -q "reply not taken within" "$LAB/xlbd.log" ||
		why="the reader was not closed at its deadline"
	unhold reader
	# A list of 2,000 backends takes some 100 ms (about 1 s under ASan on
	# a loaded machine); a daemon stalled by the reader would answer only
	# at its 5 s deadline, so 4 s tells the two apart.
	[ "$ms" -lt 4000 ] || why="xlbctl list took $ms ms${why:+; $why}"
	if [ -n "$why" ]; then
		fail slow-reader "$why"
	else
		pass "slow-reader (a 2,000-backend list unread: another in $ms ms; closed at its deadline)"
	fi
	fresh
}

# About 1,000 idle TCP connections to the metrics port from the client:
# a scrape from elsewhere must still answer within 2 s.
t_metrics_flood() {
	local t0 ms why="" out
	started || { fail metrics-flood "no start"; return; }
	hold c tcp 198.18.0.10:9100 1000 30 0 flood ||
		{ fail metrics-flood "hold.py did not start"; return; }
	t0=$(date +%s%N)
	out=$(lab_ns lb curl -sS --max-time 5 http://198.18.0.10:9100/metrics 2>&1)
	ms=$(ms_since "$t0")
	unhold flood
	if ! echo "$out" | grep -q '^xlb_packets_total'; then
		why="no metrics: $(echo "$out" | head -2)"
	elif [ "$ms" -gt 2000 ]; then
		why="the scrape took $ms ms"
	fi
	if [ -n "$why" ]; then
		fail metrics-flood "$why"
	else
		pass "metrics-flood (1000 idle connections; a scrape in $ms ms)"
	fi
	fresh
}

CASES=${TESTS:-"second_daemon detach_running two_nodes default_socket bad_override idle_clients slow_client slow_reader metrics_flood"}

if ! lab_up 1; then
	echo "FAIL lab: could not build the lab"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
write_hold
LAB_XLBD_ARGS=(--metrics 198.18.0.10:9100)
lab_run_cases $CASES
