#!/usr/bin/env bash
# Run every xlb test layer and print one closing line "N passed, N failed".
#   1. unit tests (cmocka) of the user-space code
#   2. packet fixtures through BPF_PROG_TEST_RUN (byte-exact)
#   3. FIB next-hop fixtures in a namespace with routes and neighbours
#   4. end to end: xlbd, xlbctl, curl and HTTP servers in the lab
# Needs root (BPF) and a built tree (`make`). TESTS=unit|pkt|fib|e2e runs one.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=/usr/bin/python3	# Debian's, which has scapy
passed=0
failed=0
only=${TESTS:-}

add() { passed=$((passed + $1)); failed=$((failed + $2)); }

run_unit() {
	local t out p f
	for t in "$BUILD"/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" 2>&1)
		echo "$out" | grep -E '^\[  (FAILED|ERROR) |^\[  PASSED' | sed "s|^|$(basename "$t"): |"
		p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
		f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
		# A binary that crashed or printed no summary counts as a failure.
		if [ -z "$p" ] && [ -z "$f" ]; then
			echo "$(basename "$t"): no cmocka summary (crashed?)"
			f=1
		fi
		add "${p:-0}" "${f:-0}"
	done
}

pktest_summary() {
	local out=$1 p f
	echo "$out" | grep -v '^ok ' || true
	p=$(echo "$out" | sed -n 's/^pktest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$out" | sed -n 's/^pktest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	[ -n "$p" ] || { echo "pktest: no summary (crashed?)"; p=0; f=1; }
	add "$p" "$f"
}

run_pkt() {
	local fx="$BUILD/fixtures.txt"
	if ! $PY tests/pkt/gen_fixtures.py > "$fx"; then
		echo "pktest: fixture generation failed"
		add 0 1
		return
	fi
	pktest_summary "$("$BUILD/xlb-pktest" "$fx" 2>&1)"
}

run_fib() {
	pktest_summary "$(bash tests/fib.sh 2>&1)"
}

run_e2e() {
	local t out p f
	for t in tests/e2e/test_*.sh; do
		out=$(TESTS= bash "$t" 2>&1)
		echo "$out" | grep -E '^(PASS|FAIL|  )' | sed "s|^|$(basename "$t" .sh): |"
		p=$(echo "$out" | sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
		f=$(echo "$out" | sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
		[ -n "$p" ] || { echo "$t: no summary"; p=0; f=1; }
		add "$p" "$f"
	done
}

[ -z "$only" ] || [ "$only" = unit ] && run_unit
[ -z "$only" ] || [ "$only" = pkt ] && run_pkt
[ -z "$only" ] || [ "$only" = fib ] && run_fib
[ -z "$only" ] || [ "$only" = e2e ] && run_e2e

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
