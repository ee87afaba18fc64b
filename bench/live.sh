#!/usr/bin/env bash
# Live packet rate over veth, xlb against the forwarder floor, same run.
#
#   [ns gen]  vg ===veth=== vl  [ns lb]
#   live_gen (BPF_F_TEST_XDP_LIVE_FRAMES) pushes frames out of vg with XDP_TX;
#   the program under test on vl (native XDP) sends them back with XDP_TX;
#   count_rx on vg counts what returns. Mpps = returned / generator time.
# Rounds interleave the programs; the table shows medians.
set -eu
cd "$(dirname "$0")/.."
BENCH=${BUILD:-build}/xlb-bench
ROUNDS=${ROUNDS:-5}
PACKETS=${PACKETS:-4000000}
PROGS=${PROGS:-"floor_fwd floor_ipip xlb"}
P=xlbb$$

cleanup() {
	ip netns del ${P}gen 2>/dev/null || true
	ip netns del ${P}lb 2>/dev/null || true
}
trap cleanup EXIT

ip netns add ${P}gen
ip netns add ${P}lb
ip -n ${P}gen link add vg type veth peer name vl netns ${P}lb
ip -n ${P}gen link set vg up
ip -n ${P}lb link set vl up

declare -A results
for r in $(seq "$ROUNDS"); do
	for p in $PROGS; do
		ip netns exec ${P}lb "$BENCH" attach vl "$p"
		out=$(ip netns exec ${P}gen "$BENCH" gen vg --packets "$PACKETS")
		mpps=$(echo "$out" | awk '/^mpps/ {print $2}')
		rx=$(echo "$out" | awk '/^mpps/ {print $4}')
		# A program that lost frames is not measured at full rate: say so.
		results[$p]="${results[$p]:-} $mpps"
		echo "  round $r $p: $mpps Mpps ($rx of $PACKETS returned)" >&2
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# The machine drifts between rounds: compare each program with the floor
# of the same round, then take the median of those ratios.
ratios() {
	paste -d' ' <(echo "${results[$1]}" | tr ' ' '\n' | grep -v '^$') \
		<(echo "${results[floor_fwd]}" | tr ' ' '\n' | grep -v '^$') |
		awk '{printf "%s ", 100 * $1 / $2}'
}
echo "live: veth, native XDP, $PACKETS frames x $ROUNDS rounds, medians"
printf '%-12s %8s %10s\n' program Mpps "of floor"
for p in $PROGS; do
	m=$(echo "${results[$p]}" | median)
	pct=$(ratios "$p" | median)
	printf '%-12s %8.3f %9.0f%%\n' "$p" "$m" "$pct"
done
