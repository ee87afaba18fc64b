#!/usr/bin/env bash
# End to end: what xlbd keeps across restarts and reloads (the state model:
# user/xlbd/state.h). One lab of 3 backends (lab.sh); each case starts and
# stops its own xlbd.
#
#   VIP 198.18.1.1:80/tcp  http:/health every 0.5 s, timeout 0.3, rise 2,
#                          fall 3; backends b1 b2 b3
#
# Cases:
#   nostate   started without --state, VIPs added with xlbctl, SIGKILL, the
#             same command: same `xlbctl list`, same data plane (the
#             default state file /var/lib/xlb/eth0.yaml, removed before
#             and after)
#   down      a backend that checks took down stays out across SIGKILL and
#             SIGTERM restarts: 0 of 30 requests fail right after, its
#             line in `xlbctl list` says down; back after rise good checks
#   strand    a SIGHUP that changes the VIP's check while a backend is
#             down, the backend recovering meanwhile: it comes back with a
#             weight and takes requests
#   durable   the state file's disk full: a drain is refused with the
#             reason and has no effect; with room again it is saved and
#             survives SIGKILL + restart
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

DEF_STATE=/var/lib/xlb/eth0.yaml
DEF_VERDICTS=/var/lib/xlb/eth0.health
# Everything xlbd keeps beside the default state file.
DEF_FILES=("$DEF_STATE" "$DEF_VERDICTS" /var/lib/xlb/eth0.base.yaml "$DEF_STATE.lock")
cleanup() {
	keep
	[ -n "$LAB" ] && umount "$LAB/small" 2>/dev/null
	rm -f "${DEF_FILES[@]}"
	lab_down
}
trap cleanup EXIT
# KEEP=DIR: the logs of a failed run.
keep() { [ -n "${KEEP:-}" ] && cp "$LAB"/*.log "$KEEP/" 2>/dev/null; }

VIP=$VIP4:80/tcp
CHECK=(--check http:/health --interval 0.5 --timeout 0.3 --rise 2 --fall 3)

# setup: the VIP and its 3 backends through xlbctl.
setup() {
	xlbctl vip add "$VIP" "${CHECK[@]}" &&
		xlbctl backend add "$VIP" 198.18.0.11 &&
		xlbctl backend add "$VIP" 198.18.0.12 &&
		xlbctl backend add "$VIP" 198.18.0.13
}

health_is() { [ "$(lab_be "$VIP" "$1" health)" = "$2" ]; }

# The text of `xlbctl list` without the traffic columns, for comparing.
list_shape() {
	xlbctl -j list | "$LAB_PY" -c '
import json, sys
for v in json.load(sys.stdin)["vips"]:
    print(v["vip"], v["encap"], v["check"]["type"])
    for b in sorted(v["backends"], key=lambda b: b["addr"]):
        print(" ", b["addr"], b["weight"], b["drained"])
'
}

# stop_xlbd: a clean slate (lab.sh).
stop_xlbd() { lab_xlbd_reset; }

t_nostate() {
	local before after out
	rm -f "${DEF_FILES[@]}"
	nostate_start() {
		lab_ns lb "$LAB_BUILD/xlbd" -i eth0 -s "$LAB/xlbd.sock" \
			--pin-root "$LAB/bpf" < /dev/null >> "$LAB/xlbd.log" 2>&1 &
		lab_wait 10 xlbctl list
	}
	nostate_start && setup || { fail nostate "no start"; stop_xlbd; return; }
	xlbctl backend set-weight "$VIP" 198.18.0.13 50
	before=$(list_shape)
	lab_xlbd_kill KILL
	nostate_start || { fail nostate "no restart"; stop_xlbd; return; }
	after=$(list_shape)
	out=$(spread 30)
	stop_xlbd
	rm -f "${DEF_FILES[@]}"
	if [ "$before" != "$after" ]; then
		fail nostate "list before: $(echo $before) / after: $(echo $after)"
	elif [ "${out##* }" != 0 ] || [ -z "$before" ]; then
		fail nostate "requests after the restart: $out (b1 b2 b3 failed)"
	else
		pass "nostate (default state file read back: same list, 30/30 served)"
	fi
}

# restart_keeps SIG: b2's server is dead and b2 is down; after SIG and a
# restart b2 must still be down before any check ran, and take nothing.
restart_keeps() {
	local sig=$1 out line
	lab_xlbd_kill "$sig"
	lab_xlbd_start || { echo "no restart"; return 1; }
	line=$(xlbctl list | grep -F 198.18.0.12)
	out=$(spread 30)
	case $line in *down*) ;; *) echo "after $sig: list says '$line'"; return 1 ;; esac
	[ "${out##* }" = 0 ] || { echo "after $sig: $out (b1 b2 b3 failed)"; return 1; }
	echo "after $sig: $out"
}

t_down() {
	local r1 r2
	lab_xlbd_start && setup || { fail down "no start"; stop_xlbd; return; }
	lab_wait 5 health_is 198.18.0.12 up || { fail down "b2 never up"; stop_xlbd; return; }
	lab_backend_kill 2
	# Verdicts are saved in batches, up to a second late: a SIGKILL
	# before that loses the last second, as documented.
	if ! lab_wait 5 health_is 198.18.0.12 down ||
		! lab_wait 5 grep -q "198.18.0.12 down" "$LAB/state.health"; then
		fail down "b2 not down (or not saved) after its server died"
	elif ! r1=$(restart_keeps KILL) || ! r2=$(restart_keeps TERM); then
		fail down "${r1:-} ${r2:-}"
	else
		lab_backend_start 2
		if lab_backend_up 2 && lab_wait 5 health_is 198.18.0.12 up; then
			pass "down (b2 stays down across restarts: $r1; $r2; up again after rise)"
		else
			fail down "b2 not up again after its server came back"
		fi
	fi
	lab_backend_start 2 2>/dev/null; lab_backend_up 2
	stop_xlbd
}

t_strand() {
	local w out
	cat > "$LAB/conf.yaml" <<-EOF
	vips:
	  - vip: $VIP
	    check:
	      type: http
	      path: /health
	      interval: 0.5
	      timeout: 0.3
	      rise: 2
	      fall: 3
	    backends:
	      - addr: 198.18.0.11
	      - addr: 198.18.0.12
	      - addr: 198.18.0.13
	EOF
	lab_xlbd_start -c "$LAB/conf.yaml" || { fail strand "no start"; stop_xlbd; return; }
	lab_wait 5 health_is 198.18.0.12 up
	lab_backend_kill 2
	lab_wait 5 health_is 198.18.0.12 down || { fail strand "b2 not down"; stop_xlbd; return; }
	sed -i 's/timeout: 0.3/timeout: 0.4/' "$LAB/conf.yaml"
	lab_backend_start 2
	kill -HUP "$(cat "$LAB/xlbd.pid")"
	lab_backend_up 2
	if ! lab_wait 8 health_is 198.18.0.12 up; then
		fail strand "b2 not up after the reload"
	else
		w=$(lab_be "$VIP" 198.18.0.12 effective_weight)
		out=$(spread 30)
		if [ "${w:-0}" = 0 ] || [ "$(echo "$out" | cut -d' ' -f2)" = 0 ]; then
			fail strand "b2 up with effective weight $w, requests $out"
		else
			pass "strand (b2 back after the reload: weight $w, requests $out)"
		fi
	fi
	stop_xlbd
}

t_durable() {
	local out rc line
	mkdir -p "$LAB/small"
	mount -t tmpfs -o size=64k tmpfs "$LAB/small"
	lab_xlbd_start --state "$LAB/small/state.yaml" && setup ||
		{ fail durable "no start"; umount "$LAB/small"; stop_xlbd; return; }
	# Fill the file system to the last block.
	dd if=/dev/zero of="$LAB/small/fill" bs=1k 2>/dev/null
	out=$(xlbctl backend drain "$VIP" 198.18.0.11 2>&1); rc=$?
	line=$(xlbctl list | grep -F 198.18.0.11)
	if [ $rc = 0 ] || [[ $out != *"not saved"* ]]; then
		fail durable "drain on a full disk: exit $rc, '$out'"
	elif [[ $line == *drain* ]] || [ "$(spread 30 | cut -d' ' -f1)" = 0 ]; then
		fail durable "refused drain took effect: $line"
	else
		rm -f "$LAB/small/fill"
		xlbctl backend drain "$VIP" 198.18.0.11 || fail durable "drain refused with room"
		lab_xlbd_kill KILL
		lab_xlbd_start --state "$LAB/small/state.yaml" || fail durable "no restart"
		out=$(spread 30)
		if [ "$(echo "$out" | cut -d' ' -f1)" != 0 ]; then
			fail durable "drain lost across SIGKILL: $out"
		else
			pass "durable (full disk: drain refused, no effect; with room: saved, kept across SIGKILL: $out)"
		fi
	fi
	lab_xlbd_kill TERM
	umount "$LAB/small"
	stop_xlbd
}

CASES=${TESTS:-"nostate down strand durable"}

lab_main 3 $CASES
