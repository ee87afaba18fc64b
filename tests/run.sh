#!/usr/bin/env bash
# Run every xlb test layer and print one closing line "N passed, N failed".
#   1. unit tests (cmocka) of the user-space code
#   2. packet fixtures through BPF_PROG_TEST_RUN (byte-exact)
#   3. FIB next-hop fixtures in a namespace with routes and neighbours
#   4. end to end: xlbd, xlbctl, curl and HTTP servers in the lab
#   5. fuzz: each libFuzzer target FUZZ_SECONDS (25) over its seeds, one
#      pass per target that ran clean
#   6. diff: xlb-difftest, DIFF_FRAMES (200000) random and mutated frames
#      through the balancer and decap programs and the reference model
#      (tests/diff/), one pass for a run with no mismatch; DIFF_SEED fixes
#      the seed (default: a new one, printed); ICMP errors and fragments
#      are checked in full
# Needs root (BPF) and built trees (`make` builds them). User space runs
# from the sanitizer build (RUN_BUILD, default build-san/ when built: `make
# san`), BPF objects come with it; every ASan/UBSan/LSan report - from a test
# binary, xlbctl or a daemon in a namespace - lands in a file under
# $RUN_BUILD/san/ and counts as a failure of the layer that made it.
# TESTS=unit|pkt|fib|e2e|fuzz|diff runs one layer.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUN_BUILD=${RUN_BUILD:-build-san}
[ -x "$RUN_BUILD/xlbd" ] || {
	echo "run.sh: no sanitizer build in $RUN_BUILD ('make san'); testing $BUILD"
	RUN_BUILD=$BUILD
}
PY=/usr/bin/python3	# Debian's, which has scapy
passed=0
failed=0
only=${TESTS:-}
FUZZ_SECONDS=${FUZZ_SECONDS:-25}
DIFF_FRAMES=${DIFF_FRAMES:-200000}

add() { passed=$((passed + $1)); failed=$((failed + $2)); }

# Sanitizer reports go to files, not to stderr that a test may swallow or a
# lab may delete: PREFIX.PID per process that reported. Leaks at exit count
# (LSan, on with ASan); tests/lsan.supp holds the known library leaks.
rm -rf "$RUN_BUILD/san"
SAN_DIR=$(mkdir -p "$RUN_BUILD/san" && cd "$RUN_BUILD/san" && pwd)
export ASAN_OPTIONS="log_path=$SAN_DIR/asan:halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$SAN_DIR/ubsan:halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"

# san_check LAYER: one failure per report written since the last check; the
# reports stay in $SAN_DIR/LAYER/.
san_check() {
	local f n=0
	for f in "$SAN_DIR"/asan.* "$SAN_DIR"/ubsan.*; do
		[ -f "$f" ] || continue
		mkdir -p "$SAN_DIR/$1"
		echo "$1: sanitizer report ($(basename "$f")):"
		grep -E 'ERROR|SUMMARY|runtime error|^    #[0-9] ' "$f" | head -n 12 | sed 's/^/  /'
		mv "$f" "$SAN_DIR/$1/"
		n=$((n + 1))
	done
	[ $n -eq 0 ] || echo "$1: $n sanitizer report(s), in $SAN_DIR/$1/"
	add 0 "$n"
}

run_unit() {
	local t out p f
	for t in "$RUN_BUILD"/test_*; do
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
	local fx="$RUN_BUILD/fixtures.txt"
	if ! $PY tests/pkt/gen_fixtures.py > "$fx"; then
		echo "pktest: fixture generation failed"
		add 0 1
		return
	fi
	pktest_summary "$("$RUN_BUILD/xlb-pktest" "$fx" 2>&1)"
}

run_fib() {
	pktest_summary "$(BUILD=$RUN_BUILD bash tests/fib.sh 2>&1)"
}

run_e2e() {
	local t out p f
	for t in tests/e2e/test_*.sh; do
		out=$(TESTS= LAB_BUILD="$(cd "$RUN_BUILD" && pwd)" bash "$t" 2>&1)
		echo "$out" | grep -E '^(PASS|FAIL|  )' | sed "s|^|$(basename "$t" .sh): |"
		p=$(echo "$out" | sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
		f=$(echo "$out" | sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
		[ -n "$p" ] || { echo "$t: no summary"; p=0; f=1; }
		add "$p" "$f"
	done
}

# Fuzzers carry their own sanitizers and report through their exit code.
run_fuzz() {
	local src f
	for src in tests/fuzz/fuzz_*.c; do
		f=$BUILD/fuzz/$(basename "$src" .c)
		if bash tests/fuzz/run.sh "$f" "$FUZZ_SECONDS"; then
			add 1 0
		else
			add 0 1
		fi
	done
}

run_diff() {
	local out p f
	out=$("$RUN_BUILD/xlb-difftest" --frames "$DIFF_FRAMES" \
		${DIFF_SEED:+--seed "$DIFF_SEED"} 2>&1)
	echo "$out" | grep -v '^difftest: [0-9]* passed'
	p=$(echo "$out" | sed -n 's/^difftest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$out" | sed -n 's/^difftest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	[ -n "$p" ] || { echo "difftest: no summary (crashed?)"; p=0; f=1; }
	add "$p" "$f"
}

for layer in unit pkt fib e2e fuzz diff; do
	[ -z "$only" ] || [ "$only" = $layer ] || continue
	"run_$layer"
	san_check $layer
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
