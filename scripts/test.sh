#!/usr/bin/env bash
# Install what the tests need, build, run every test. Run as root on
# Debian 12. Ends with the line "N passed, N failed".
# `make` builds the normal tree, the ASan+UBSan tree (build-san/) and the
# libFuzzer targets; tests/run.sh (what `make test` runs) runs user space
# under the sanitizers and each fuzzer bounded (FUZZ_SECONDS, default 25).
set -eu
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -j2
# As `make test` does, without make's own error line after the summary.
exec bash tests/run.sh
