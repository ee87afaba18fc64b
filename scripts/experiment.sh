#!/usr/bin/env bash
# The seed's experiment with real servers (make experiment): five HTTP
# backends behind one xlb node in network namespaces (tests/e2e/lab.sh), a
# steady open-loop client (scripts/loadgen.py: RATE new connections a
# second, from CLIENTS addresses in turn), and for every algorithm three
# phases of PHASE_S seconds:
#
#   healthy   all five answer at once
#   slowed    b2 adds 100 ms to each answer (its checks too)
#   killed    b2 is fast again; b5's server is killed (SIGKILL) as the
#             phase starts: connections to it are refused until its
#             checks take it out
#
# The VIP is made afresh per algorithm with an HTTP check (every 0.5 s,
# down after 2 failures), as an operator would. Every request's outcome
# goes to a CSV; scripts/experiment_report.py turns them into
# docs/experiment.md and docs/experiment-*.png.
#
#   RATE=100 PHASE_S=10 ALGOS="maglev sh rr wrr p2c lc" OUT=docs
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
RATE=${RATE:-100}
PHASE_S=${PHASE_S:-10}
ALGOS=${ALGOS:-"maglev sh rr wrr p2c lc"}
OUT=${OUT:-docs}
CLIENTS=20	# client addresses, 198.18.0.100 on (source hashing needs many)
SLOW=2		# the backend slowed in phase 2
DEAD=5		# the backend killed in phase 3
NB=5

P=xlbx$$
# shellcheck source=../tests/e2e/lab.sh
. tests/e2e/lab.sh
trap lab_down EXIT
trap 'exit 130' INT TERM

V="$VIP4:80/tcp"
RAW=$(mktemp -d /tmp/xlb-exp.XXXXXX)
trap 'lab_down; rm -rf "$RAW"' EXIT

say() { echo "experiment: $*"; }

# vip ALGO: the VIP afresh with ALGO, five backends, an HTTP check.
vip() {
	local i
	xlbctl vip del "$V" > /dev/null 2>&1 || true
	xlbctl vip add "$V" --algo "$1" --check http:/health --interval 0.5 \
		--timeout 0.4 --rise 2 --fall 2 > /dev/null || return 1
	for i in $(seq $NB); do
		xlbctl backend add "$V" "198.18.0.$((10 + i))" > /dev/null ||
			return 1
	done
}

all_up() {
	[ "$(lab_backends "$V" | awk '$2 == "up"' | wc -l)" -eq $NB ]
}

# phase ALGO NAME: the load for PHASE_S seconds, its lines appended to
# $RAW/ALGO.csv.
phase() {
	lab_ns c "$LAB_PY" "$ROOT/scripts/loadgen.py" "$VIP4" 80 \
		--rate "$RATE" --duration "$PHASE_S" --timeout 2 --sources "$SRCS" \
		--label "$1,$2" >> "$RAW/$1.csv"
	say "$1 $2: $(awk -F, -v p="$2" '$2 == p { n++; if ($6 != "") f++ }
		END { printf "%d requests, %d failed", n, f }' "$RAW/$1.csv")"
}

lab_up $NB
SRCS=""
for i in $(seq 0 $((CLIENTS - 1))); do
	ip -n "$P-c" addr add "198.18.0.$((100 + i))/24" dev eth0
	SRCS="$SRCS${SRCS:+,}198.18.0.$((100 + i))"
done
lab_xlbd_start || { say "xlbd did not start: $(tail -5 "$LAB/xlbd.log")"; exit 1; }
for a in $ALGOS; do
	lab_backend_set $SLOW delay_ms
	if [ -z "$(lab_pids b$DEAD python3)" ]; then
		lab_backend_start $DEAD
		lab_backend_up $DEAD
	fi
	vip "$a" || { say "could not make the $a VIP"; exit 1; }
	lab_wait 20 all_up || { say "$a: backends not up: $(lab_backends "$V")"; exit 1; }
	: > "$RAW/$a.csv"
	phase "$a" healthy
	lab_backend_set $SLOW delay_ms 100
	phase "$a" slowed
	lab_backend_set $SLOW delay_ms
	lab_backend_kill $DEAD
	phase "$a" killed
done
"$LAB_PY" scripts/experiment_report.py --out "$OUT" --rate "$RATE" \
	--phase-s "$PHASE_S" --slow "b$SLOW" --dead "b$DEAD" --clients $CLIENTS \
	--commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	$(for a in $ALGOS; do echo "$RAW/$a.csv"; done)
