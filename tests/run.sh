#!/usr/bin/env bash
# Run every xlb test layer and print one closing line "N passed, N failed".
#   1. unit tests (cmocka) of the user-space code
#   2. packet fixtures through BPF_PROG_TEST_RUN (byte-exact)
# Needs root (BPF) and a built tree (`make`). TESTS=unit|pkt runs one layer.
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

run_pkt() {
	local fx="$BUILD/fixtures.txt" out p f
	if ! $PY tests/pkt/gen_fixtures.py > "$fx"; then
		echo "pktest: fixture generation failed"
		add 0 1
		return
	fi
	out=$("$BUILD/xlb-pktest" "$fx" 2>&1)
	echo "$out" | grep -v '^ok ' || true
	p=$(echo "$out" | sed -n 's/^pktest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$out" | sed -n 's/^pktest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	[ -n "$p" ] || { echo "pktest: no summary (crashed?)"; p=0; f=1; }
	add "$p" "$f"
}

[ -z "$only" ] || [ "$only" = unit ] && run_unit
[ -z "$only" ] || [ "$only" = pkt ] && run_pkt

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
