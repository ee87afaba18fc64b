#!/usr/bin/env bash
# The single-node demo (the main one, scripts/demo.sh, runs the anycast
# pair): install, build, then the lab demo - a client, an xlb node and
# three HTTP backends in network namespaces, driven with xlbctl (see
# scripts/lab-demo.sh). DEMO=packets shows the packet demo and a short
# bench instead. Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -j2
if [ "${DEMO:-lab}" = packets ]; then
	/usr/bin/python3 scripts/demo.py build
	echo "== Per-packet cost against floors (short run; 'make bench' for the full one)"
	build/xlb-bench --rounds 3 --repeat 200000
	ROUNDS=3 PACKETS=1000000 bash bench/live.sh 2>/dev/null
else
	bash scripts/lab-demo.sh
fi
