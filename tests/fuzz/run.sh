#!/usr/bin/env bash
# run.sh BIN SECONDS [CORPUS_ROOT]: run one libFuzzer target for SECONDS over
# its seeds tests/fuzz/corpus/NAME/ (BIN is .../fuzz_NAME). New inputs go to
# CORPUS_ROOT/NAME (kept; `make fuzz`) or, without CORPUS_ROOT, to a temp dir
# removed at exit (`make test`): the seeds in the repo are only read. A crash,
# leak or timeout leaves its input in BUILD/fuzz/crashes/ (replay: BIN FILE)
# and exits non-zero. Prints "fuzz_NAME: ok (...)" or the report's tail.
set -u
cd "$(dirname "$0")/../.."
bin=$1 secs=$2 root=${3:-}
name=$(basename "$bin")
seeds=tests/fuzz/corpus/${name#fuzz_}
crashes=$(dirname "$bin")/crashes
log=$(dirname "$bin")/$name.log
[ -x "$bin" ] || { echo "$name: not built"; exit 1; }
[ -d "$seeds" ] || { echo "$name: no seeds in $seeds: starting from nothing"; seeds=; }
extra=()
if [ -n "$root" ]; then
	work=$root/${name#fuzz_}
	mkdir -p "$work"
	# Long runs: also keep inputs that bring a comparison's operands
	# closer (lengths, ranges), not only those that reach new code.
	extra=(-use_value_profile=1)
else
	work=$(mktemp -d /tmp/xlb-fuzz.XXXXXX)
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$crashes"
# The caller's sanitizer options (tests/run.sh sends reports to files) do
# not apply here: libFuzzer prints the report and reports it in its exit code.
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS= \
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-malloc_limit_mb=512 -print_final_stats=1 "${extra[@]}" \
	-artifact_prefix="$crashes/$name-" "$work" ${seeds:+"$seeds"} > "$log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
	echo "$name: ok ($(sed -n 's/^stat::number_of_executed_units: *//p' "$log") runs" \
		"in ${secs}s, $(find "$work" -type f | wc -l) corpus files)"
else
	tail -n 40 "$log"
	echo "$name: FAILED (exit $rc; log $log)"
fi
exit $rc
