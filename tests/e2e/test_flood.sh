#!/usr/bin/env bash
# The flow table under floods (bpf/flowtab.h): 1,000 confirmed TCP and
# 1,000 confirmed UDP flows, then 1M SYNs, 1M bare ACKs and 1M UDP
# datagrams from random sources, generated in the kernel (xlb-bench flood,
# BPF_PROG_TEST_RUN behind bench_wrap), a backend added halfway through
# each. No network: the programs run on test frames only. `make bench`
# runs the same with 10M per flood.
#
# Cases:
#   flood   after each flood all 2,000 flows are in the flow table with
#           their backend slot, and none of their next packets goes to
#           another backend; no flood packet was confirmed except tuples
#           the random draw repeated
#   pairs   floods of two packets per tuple (ACK pairs, UDP pairs), which
#           confirm, against a budget of 1,000 confirmations a second per
#           CPU: the same 2,000 kept, none moved, the rest over budget
#
# Prints "PASS name" / "FAIL name: why", then "e2e: N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PACKETS=${PACKETS:-1000000}
PASSES=0
FAILS=0

t_flood() {
	local out bad
	out=$("$BUILD/xlb-bench" flood --packets "$PACKETS" 2>&1)
	bad=$(echo "$out" | grep '^flood ' | grep -cv 'kept 2000/2000 moved 0 ')
	if [ "$(echo "$out" | grep -c '^flood ')" -ne 3 ] || [ "$bad" -ne 0 ]; then
		echo "FAIL flood: $(echo "$out" | tr '\n' ' ')"
		FAILS=$((FAILS + 1))
	else
		echo "PASS flood ($(echo "$out" | grep '^flood ' | sed 's/ *(.*//' | tr '\n' ';'))"
		PASSES=$((PASSES + 1))
	fi
}

t_pairs() {
	local out bad
	out=$("$BUILD/xlb-bench" flood --pairs --confirm-rate 1000 \
		--packets "$PACKETS" 2>&1)
	bad=$(echo "$out" | grep '^flood ' |
		grep -cv 'kept 2000/2000 moved 0 .*over budget [1-9]')
	if [ "$(echo "$out" | grep -c '^flood ')" -ne 2 ] || [ "$bad" -ne 0 ]; then
		echo "FAIL pairs: $(echo "$out" | tr '\n' ' ')"
		FAILS=$((FAILS + 1))
	else
		echo "PASS pairs ($(echo "$out" | grep '^flood ' | sed 's/ *(.*//' | tr '\n' ';'))"
		PASSES=$((PASSES + 1))
	fi
}

for c in ${TESTS:-flood pairs}; do
	"t_$c"
done
echo "e2e: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
