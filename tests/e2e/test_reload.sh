#!/usr/bin/env bash
# End to end: reload and start semantics (user/xlbd/reload.c, merge.h) and
# the log lines an operator reads afterwards. One lab of 3 backends
# (lab.sh); each case starts xlbd with its own -c file and stops it.
#
#   -c file:  VIP 198.18.1.1:80/tcp, backends b1 b2 b3 (no checks unless
#             the case adds them)
#
# Cases:
#   merge     runtime changes survive a SIGHUP that changed other things;
#             where both changed the same thing the file wins, logged
#   content   a restart after `touch` on an unchanged -c file keeps the
#             runtime changes (content decides, not mtimes)
#   restart   a node setting that needs a restart, changed in the file:
#             SIGHUP logs it as such and leaves it
#   empty     a file with no VIP: SIGHUP refuses it (VIPs stay, logged);
#             at start the saved state runs, and the log says why
#   force     `xlbctl reload` answers why an empty file is refused;
#             `xlbctl reload --force` applies it
#   config    `xlbctl config` prints the running configuration (runtime
#             changes included) as a file `xlbd -n` accepts
#   logs      one line per change with its source, per health transition
#             with its reason, per refused request
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

trap '[ -n "${KEEP:-}" ] && [ -n "$LAB" ] && cp "$LAB"/*.log "$LAB"/*.yaml "$KEEP/" 2>/dev/null; lab_down' EXIT

VIP=$VIP4:80/tcp
CONF=""

# write_conf [WEIGHT_B3] [EXTRA_NODE_LINE]: the case's -c file.
write_conf() {
	{
		[ -n "${2:-}" ] && printf 'node:\n  %s\n' "$2"
		cat <<-EOF
		vips:
		  - vip: $VIP
		    backends:
		      - addr: 198.18.0.11
		      - addr: 198.18.0.12
		      - addr: 198.18.0.13
		        weight: ${1:-100}
		EOF
	} > "$CONF.tmp" && mv "$CONF.tmp" "$CONF"
}

start() {
	CONF=$LAB/conf.yaml
	[ -f "$CONF" ] || write_conf
	lab_xlbd_start -c "$CONF"
}

# stop: a clean slate (lab.sh), and no -c file.
stop() {
	lab_xlbd_reset
	rm -f "$LAB/conf.yaml"
}

# hup: SIGHUP and wait for the n-th reload verdict in the log.
hup() {
	local n
	n=$(grep -cE "reload: applied|SIGHUP: " "$LAB/xlbd.log")
	kill -HUP "$(cat "$LAB/xlbd.pid")"
	lab_wait 5 bash -c "[ \$(grep -cE 'reload: applied|SIGHUP: ' '$LAB/xlbd.log') -gt $n ]"
}

# be ADDR FIELD: weight or drained of a backend, from xlbctl -j list.
be() {
	xlbctl -j list | "$LAB_PY" -c '
import json, sys
for v in json.load(sys.stdin)["vips"]:
    for b in v["backends"]:
        if b["addr"] == sys.argv[1]:
            print(b[sys.argv[2]])
' "$1" "$2"
}

has_be() { [ -n "$(be "$1" weight)" ]; }

t_merge() {
	local d1 w2 w3 a4 line
	start || { fail merge "no start"; stop; return; }
	# Runtime: drain b1, a fourth backend, b2's weight.
	xlbctl backend drain "$VIP" 198.18.0.11 &&
		xlbctl backend add "$VIP" 198.18.0.14 &&
		xlbctl backend set-weight "$VIP" 198.18.0.12 50 ||
		{ fail merge "xlbctl refused"; stop; return; }
	# File: b3's weight (untouched at runtime) and b2's (touched).
	write_conf 30
	sed -i 's/      - addr: 198.18.0.12/      - addr: 198.18.0.12\n        weight: 70/' "$CONF"
	hup
	d1=$(be 198.18.0.11 drained); w2=$(be 198.18.0.12 weight)
	w3=$(be 198.18.0.13 weight); a4=$(be 198.18.0.14 weight)
	line=$(grep "file wins" "$LAB/xlbd.log" | grep -F 198.18.0.12)
	grep -q "reload: VIP $VIP changed" "$LAB/xlbd.log" || line=""
	stop
	if [ "$d1" != True ] || [ "$a4" != 100 ]; then
		fail merge "runtime changes lost: b1 drained=$d1, b4 weight=$a4"
	elif [ "$w3" != 30 ] || [ "$w2" != 70 ]; then
		fail merge "file changes not applied: b2 $w2 (want 70), b3 $w3 (want 30)"
	elif [ -z "$line" ]; then
		fail merge "no log line for the b2 conflict or the changed VIP"
	else
		pass "merge (runtime drain and add kept, file weights applied, conflict logged: ${line#*: })"
	fi
}

t_content() {
	local d1
	start || { fail content "no start"; stop; return; }
	xlbctl backend drain "$VIP" 198.18.0.11
	lab_xlbd_kill KILL
	touch -d '+1 minute' "$CONF"
	lab_xlbd_start -c "$CONF" || { fail content "no restart"; stop; return; }
	d1=$(be 198.18.0.11 drained)
	stop
	if [ "$d1" = True ]; then
		pass "content (newer mtime, same content: runtime drain kept)"
	else
		fail content "runtime drain lost after a touch and a restart"
	fi
}

t_restart() {
	start || { fail restart "no start"; stop; return; }
	write_conf 100 "flow-entries: 131072"
	hup
	if grep -q "needs restart: flow-entries.*not applied until xlbd restarts" \
		"$LAB/xlbd.log"; then
		pass "restart (flow-entries change logged as needing a restart)"
	else
		fail restart "no log line: $(grep -E 'reload|SIGHUP' "$LAB/xlbd.log" | tail -2)"
	fi
	stop
}

t_empty() {
	local n
	start || { fail empty "no start"; stop; return; }
	printf '# nothing\n' > "$CONF"
	hup
	n=$(xlbctl -j list | tr -d ' \n' | grep -o '"vip":' | wc -l)
	if [ "$n" != 1 ] || ! grep -q "would remove every VIP" "$LAB/xlbd.log"; then
		fail empty "SIGHUP with an empty file: $n VIPs left"
		stop; return
	fi
	lab_xlbd_kill TERM
	lab_xlbd_start -c "$CONF" || { fail empty "no restart"; stop; return; }
	n=$(xlbctl -j list | tr -d ' \n' | grep -o '"vip":' | wc -l)
	if [ "$n" = 1 ] && grep -q "would remove all 1 VIPs; refused" "$LAB/xlbd.log"; then
		pass "empty (SIGHUP and start refuse a file without VIPs: 1 VIP runs, logged)"
	else
		fail empty "start with an empty file: $n VIPs"
	fi
	stop
}

t_force() {
	local out rc n s0 s1 t0 t1
	start || { fail force "no start"; stop; return; }
	printf '# nothing\n' > "$CONF"
	out=$(xlbctl reload 2>&1); rc=$?
	n=$(xlbctl -j list | tr -d ' \n' | grep -o '"vip":' | wc -l)
	if [ $rc = 0 ] || [[ $out != *"remove every VIP"* ]] || [ "$n" != 1 ]; then
		fail force "xlbctl reload of an empty file: exit $rc, '$out', $n VIPs"
		stop; return
	fi
	lab_scrape refused || { fail force "$(cat "$LAB/refused.prom")"; stop; return; }
	sleep 1		# a later second for the timestamp to move to
	xlbctl reload --force
	n=$(xlbctl -j list | tr -d ' \n' | grep -o '"vip":' | wc -l)
	lab_scrape forced || { fail force "$(cat "$LAB/forced.prom")"; stop; return; }
	read -r s0 s1 t0 t1 <<< "$(lab_metric refused xlb_reload_success) \
$(lab_metric forced xlb_reload_success) \
$(lab_metric refused xlb_reload_timestamp_seconds) \
$(lab_metric forced xlb_reload_timestamp_seconds)"
	if [ "$n" != 0 ]; then
		fail force "reload --force left $n VIPs"
	elif [ "$s0" != 0 ] || [ "$s1" != 1 ] || [ "$t1" -le "$t0" ]; then
		fail force "metrics: xlb_reload_success $s0 after the refusal, $s1 after --force; timestamp $t0 -> $t1"
	else
		pass "force (reload refused with the reason: '$out', xlb_reload_success 0; --force applied it: 1, timestamp +$((t1 - t0)) s)"
	fi
	stop
}

t_config() {
	local out
	start || { fail config "no start"; stop; return; }
	xlbctl backend drain "$VIP" 198.18.0.12
	xlbctl config > "$LAB/running.yaml"
	out=$(lab_ns lb "$LAB_BUILD/xlbd" -n -c "$LAB/running.yaml" 2>&1)
	if [ "$out" != "configuration OK" ]; then
		fail config "xlbd -n on xlbctl config: $out"
	elif ! grep -A2 "addr: 198.18.0.12" "$LAB/running.yaml" | grep -q "drained: true"; then
		fail config "the runtime drain is not in it: $(cat "$LAB/running.yaml")"
	else
		pass "config (the running configuration, drain included, passes xlbd -n)"
	fi
	stop
}

t_logs() {
	local miss=""
	cat > "$LAB/conf.yaml" <<-EOF
	vips:
	  - vip: $VIP
	    check:
	      type: http
	      path: /health
	      interval: 0.5
	      timeout: 0.3
	    backends:
	      - addr: 198.18.0.11
	      - addr: 198.18.0.12
	EOF
	start || { fail logs "no start"; stop; return; }
	xlbctl backend set-weight "$VIP" 198.18.0.11 60
	xlbctl backend set-weight "$VIP" 198.18.0.99 60 2>/dev/null
	lab_wait 5 grep -q "198.18.0.12 unknown -> up" "$LAB/xlbd.log"
	lab_backend_kill 2
	lab_wait 5 grep -q "198.18.0.12 up -> down" "$LAB/xlbd.log"
	grep -q 'control: .*backend-set-weight.*198.18.0.11' "$LAB/xlbd.log" ||
		miss="$miss control-change"
	grep -q 'refused: .*198.18.0.99' "$LAB/xlbd.log" || miss="$miss refused"
	grep -qE 'health: .*198.18.0.12 up -> down \(fail: ' "$LAB/xlbd.log" ||
		miss="$miss health-transition"
	lab_backend_start 2
	lab_backend_up 2
	stop
	if [ -n "$miss" ]; then
		fail logs "missing:$miss"
	else
		pass "logs (a line for the control change, the refusal and the health transition with its reason)"
	fi
}

CASES=${TESTS:-"merge content restart empty force config logs"}

LAB_XLBD_ARGS=(--metrics 198.18.0.10:9100)
lab_main 3 $CASES
