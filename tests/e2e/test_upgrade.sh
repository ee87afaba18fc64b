#!/usr/bin/env bash
# End to end: an upgrade keeps flows. The xlbd of the previous map layout
# (flow table xlb_flows, VIPs xlb_vips: layout 1, built from OLD_REV in a
# temp dir) pins its maps and carries live TCP connections; SIGTERM leaves
# its data plane forwarding; this tree's xlbd starts on those pins, migrates
# them (user/lib/upgrade.c) and swaps its program into the pinned link.
# Lab of lab.sh with 3 backends, then a 4th for a ring change:
#
#        [P-c] client ── br0 ── [P-lb] old xlbd, then new xlbd on its pins
#                          └─── [P-b1..b4] HTTP servers behind decap
#
# Cases:
#   upgrade   20 connections opened through the old data plane, each
#             sending a header line a second; after the upgrade and a
#             backend added, every one completes its request (a moved
#             connection meets a backend without its socket: RST); every
#             old flow entry is in xlb_flows_v2 with its backend slot and
#             state established; the old pins are gone
#
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed,
# N failed". OLD_REV=commit picks the old tree (default: the last commit of
# layout 1).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lab.sh

OLD_REV=${OLD_REV:-9a0ed287c659acb60d17d2039b5f5858478ca5b3}
PASSES=0
FAILS=0
pass() { echo "PASS $1"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }

cleanup() {
	[ -n "${CONN_PID:-}" ] && kill "$CONN_PID" 2>/dev/null
	lab_down
}
trap cleanup EXIT

VIP="$VIP4:80/tcp"
PIN=""

# The old tree, built apart (only what the case runs).
build_old() {
	mkdir -p "$LAB/old" &&
		git archive "$OLD_REV" | tar -x -C "$LAB/old" &&
		make -C "$LAB/old" -j2 build/xlbd build/xlbctl \
			> "$LAB/old-build.log" 2>&1
}

old_ctl() { "$LAB/old/build/xlbctl" -s "$LAB/xlbd.sock" "$@"; }

# Client side: N connections, each a request sent one header a second
# until $LAB/go exists (bounded: 60 s), then finished; prints one line per
# connection, the backend's answer or "error ...".
conn_client() {
	lab_ns c "$LAB_PY" - "$VIP4" 20 "$LAB/go" "$LAB/conn.ready" <<'EOF'
import os, socket, sys, time
vip, n, go, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = []
for i in range(n):
    s = socket.create_connection((vip, 80), timeout=5)
    s.sendall(b"GET / HTTP/1.0\r\n")
    socks.append(s)
open(ready, "w").close()
end = time.time() + 60
while not os.path.exists(go) and time.time() < end:
    for s in socks:
        try:
            s.sendall(b"X-Wait: 1\r\n")
        except OSError:
            pass
    time.sleep(1)
for s in socks:
    try:
        s.sendall(b"\r\n")
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        print(data.split(b"\r\n\r\n", 1)[-1].decode().strip() or "error empty")
    except OSError as e:
        print("error", e)
EOF
}

# "proto saddr sport backend-slot" per flow entry of a pinned table.
dump_flows() {
	bpftool -j map dump pinned "$1" | "$LAB_PY" -c '
import json, sys
for e in json.load(sys.stdin):
    k = bytes(int(x, 16) for x in e["key"])
    v = bytes(int(x, 16) for x in e["value"])
    extra = (" state=%d" % v[18]) if len(v) > 16 else ""
    print(k[36], ".".join(map(str, k[0:4])), int.from_bytes(k[32:34], "big"),
          int.from_bytes(v[0:4], "little"), extra.strip())
'
}

t_upgrade() {
	local out old new n ok
	if ! build_old; then
		fail upgrade "old tree $OLD_REV did not build (see old-build.log)"
		return
	fi
	lab_ns lb "$LAB/old/build/xlbd" -i eth0 -s "$LAB/xlbd.sock" \
		--pin-root "$LAB/bpf" --state "$LAB/state.yaml" \
		< /dev/null >> "$LAB/xlbd.log" 2>&1 &
	if ! lab_wait 10 old_ctl list; then
		fail upgrade "old xlbd did not start"
		return
	fi
	PIN="$LAB/bpf/xlb/eth0"
	old_ctl vip add "$VIP" --encap ipip > /dev/null &&
		old_ctl backend add "$VIP" 198.18.0.11 > /dev/null &&
		old_ctl backend add "$VIP" 198.18.0.12 > /dev/null &&
		old_ctl backend add "$VIP" 198.18.0.13 > /dev/null ||
		{ fail upgrade "old xlbctl could not configure"; return; }
	conn_client > "$LAB/conn.out" 2>&1 &
	CONN_PID=$!
	if ! lab_wait 20 test -e "$LAB/conn.ready"; then
		fail upgrade "connections did not open: $(cat "$LAB/conn.out")"
		return
	fi
	lab_wait 10 bash -c "[ \$(bpftool -j map dump pinned $PIN/xlb_flows | grep -c '\"key\"') -ge 20 ]"
	old=$(dump_flows "$PIN/xlb_flows" | awk '{print $1, $2, $3, $4}' | sort)
	n=$(echo "$old" | grep -c .)
	lab_xlbd_kill TERM
	lab_xlbd_start || { fail upgrade "new xlbd did not start on old pins"; return; }
	xlbctl backend add "$VIP" 198.18.0.14 > /dev/null ||
		{ fail upgrade "backend add after upgrade failed"; return; }
	new=$(dump_flows "$PIN/xlb_flows_v2" | sort)
	touch "$LAB/go"
	wait "$CONN_PID"
	CONN_PID=""
	out=$(cat "$LAB/conn.out")
	ok=$(echo "$out" | grep -c '^b[1-3]$')
	if [ -e "$PIN/xlb_flows" ] || [ -e "$PIN/xlb_vips" ]; then
		fail upgrade "old pins left: $(ls "$PIN")"
	elif [ "$n" -lt 20 ]; then
		fail upgrade "only $n flows in the old table"
	elif ! diff <(echo "$old") <(echo "$new" | grep 'state=1$' |
			awk '{print $1, $2, $3, $4}' | grep -Fxf <(echo "$old")) \
			> "$LAB/flows.diff"; then
		fail upgrade "flows lost or moved in migration: $(grep -c '^<' "$LAB/flows.diff") of $n, e.g. $(grep -m1 '^<' "$LAB/flows.diff")"
	elif [ "$ok" -ne 20 ]; then
		fail upgrade "$ok of 20 connections kept their backend: $(echo "$out" | sort | uniq -c | tr '\n' ' ')"
	else
		pass "upgrade ($n flows migrated with their backends; 20 of 20 live connections kept theirs across the upgrade and a ring change: $(echo "$out" | sort | uniq -c | tr -s ' \n' ' '))"
	fi
	lab_xlbd_kill TERM
}

CASES=${TESTS:-"upgrade"}

if ! git rev-parse -q --verify "$OLD_REV^{commit}" > /dev/null; then
	echo "FAIL upgrade: no commit $OLD_REV in this repository"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
lab_main 4 $CASES
