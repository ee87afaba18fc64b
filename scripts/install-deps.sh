#!/usr/bin/env bash
# Install exactly the Debian packages xlb needs to build, test and benchmark.
# Idempotent; safe to run on a fresh Debian 12 machine as root.
set -euo pipefail

PKGS=(
	make gcc clang llvm pkg-config
	libbpf-dev libxdp-dev bpftool linux-libc-dev libc6-dev-i386
	libelf-dev zlib1g-dev
	libcmocka-dev
	iproute2 ethtool
	python3 python3-scapy
	curl
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
