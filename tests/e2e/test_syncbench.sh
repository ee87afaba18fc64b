#!/usr/bin/env bash
# Flow-state sync's traffic (user/lib/flowsync.c, peersync.c): xlb-bench
# sync --check makes 1,000 confirmed flows to one VIP of 3 equal Maglev
# backends through BPF_PROG_TEST_RUN (SYN, then ACK), changes the backend
# set, exports the exceptions and every flow, encodes both as sealed FLOWS
# messages and decodes them again. No network: the program runs on test
# frames only. `make bench` prints the same table with the export's times.
#
# Cases:
#   sync   1,000 flows, the default ring; the invariants bench/bench.c
#          sync_check() states:
#          - steady state: 0 exceptions, 0 messages; the full sync is every
#            flow, ceil(N/20) messages of 80 + 20 x 60 bytes at most
#          - exceptions = the share of ring positions that moved x N, within
#            5 binomial sd (+2), for every change
#          - a 4th backend added to 3: 1 .. N/4 x 1.5 exceptions (Maglev
#            gives it ~1/4 of the ring and disturbs a few % more)
#          - one weight halved: fewer than a quarter of the live flows
#          - a backend removed: its flows are not synced (live < 3N/4),
#            under a tenth of the rest are exceptions
#   bigger the same at 5,000 flows and a ring of 8,191 (the bounds scale
#          with N; the moved share is the ring's own)
#
# Prints "PASS name" / "FAIL name: why", then "e2e: N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${LAB_BUILD:-${BUILD:-build}}
PASSES=0
FAILS=0

check() {
	local name=$1 out
	shift
	out=$("$BUILD/xlb-bench" sync --check "$@" 2>&1)
	if [ $? -ne 0 ] || ! echo "$out" | grep -q '^check: 0 failed$'; then
		echo "FAIL $name: $(echo "$out" | grep -E '^check|xlb-bench: ' |
			tr '\n' ' ')"
		FAILS=$((FAILS + 1))
	else
		echo "PASS $name ($(echo "$out" | awk '/^4th backend added, prev ring kept/ {print "4th backend: " $(NF-6) " exceptions of " $(NF-7) " flows"}'))"
		PASSES=$((PASSES + 1))
	fi
}

t_sync() { check sync --flows 1000; }
# A smaller ring: reading one is a syscall per position.
t_bigger() { check bigger --flows 5000 --ring 8191; }

for c in ${TESTS:-sync bigger}; do
	"t_$c"
done
echo "e2e: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
