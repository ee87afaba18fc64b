#!/usr/bin/env bash
# Install what the tests need, build, run every test. Run as root on
# Debian 12. Ends with the line "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -j2
make test
