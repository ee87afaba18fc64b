#!/usr/bin/env bash
# The main job for now: install, build, show what xlb does to packets, then
# measure it (a short bench run). Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -j2
/usr/bin/python3 scripts/demo.py build
echo "== Per-packet cost against floors (short run; 'make bench' for the full one)"
build/xlb-bench --rounds 3 --repeat 200000
ROUNDS=3 PACKETS=1000000 bash bench/live.sh 2>/dev/null
