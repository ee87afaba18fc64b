#!/usr/bin/env bash
# xlb-bench's table (bench/bench.c), briefly: it is how performance claims
# are made, so its rows must run the path they name. No network: the
# programs run on test frames only (BPF_PROG_TEST_RUN behind bench_wrap).
#
# Cases:
#   floors   the least-balancer floors (IPv4 and IPv6) and the forwarder
#            floor find their flow on every iteration, and xlb's
#            established rows hit their flow entry on every iteration
#   against  --against OBJ loads another build of the balancer on the same
#            maps: its rows run the same paths (every iteration proven),
#            and the A/B ratio is printed for each; a file that is no
#            balancer is refused with an error, not a table
#
# Prints "PASS name" / "FAIL name: why", then "e2e: N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
ROWS='least balancer|established IPv4 IPIP|established IPv6 IPIP'
PASSES=0
FAILS=0

pass() { echo "PASS $1"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }

# Rows of a table whose proof is all iterations: "N/N" with equal N.
proven() {
	echo "$1" | awk '$NF ~ /^[0-9]+\/[0-9]+$/ { split($NF, a, "/");
		if (a[1] == a[2] && a[1] > 0) n++ } END { print n + 0 }'
}

t_floors() {
	local out
	out=$("$BUILD/xlb-bench" --rounds 1 --repeat 2000 --only "$ROWS" 2>&1)
	# forwarder floor, two least-balancer floors, two xlb rows
	if [ "$(proven "$out")" -ne 5 ] || echo "$out" | grep -q MISMATCH; then
		fail floors "$(echo "$out" | tr '\n' ' ')"
		return
	fi
	pass "floors ($(echo "$out" | grep -c 'least balancer') least-balancer rows proven)"
}

t_against() {
	local out bad
	out=$("$BUILD/xlb-bench" --rounds 1 --repeat 2000 --only "$ROWS" \
		--against "$BUILD/xlb.bpf.o" 2>&1)
	if [ "$(proven "$out")" -ne 7 ] ||
	   [ "$(echo "$out" | grep -c '^against / this build')" -ne 2 ]; then
		fail against "$(echo "$out" | tr '\n' ' ')"
		return
	fi
	bad=$("$BUILD/xlb-bench" --rounds 1 --repeat 2000 --only "$ROWS" \
		--against "$BUILD/xlb_pass.bpf.o" 2>&1)
	if [ $? -eq 0 ] || ! echo "$bad" | grep -q '^xlb-bench: setup'; then
		fail against "a non-balancer object was taken: $bad"
		return
	fi
	pass "against ($(echo "$out" | grep '^against / this build' |
		sed 's/  */ /g' | tr '\n' ';'))"
}

for c in ${TESTS:-floors against}; do
	"t_$c"
done
echo "e2e: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
