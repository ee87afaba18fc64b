#!/usr/bin/env bash
# Install exactly the Debian packages xlb needs to build, test and benchmark.
# Idempotent; safe to run on a fresh Debian 12 machine as root.
set -euo pipefail

PKGS=(
	make gcc clang			# build: user space, BPF (clang -target bpf)
	libclang-rt-dev llvm		# libFuzzer + clang's ASan runtime, llvm-symbolizer
					# (pulls 32-bit runtime libs, not the i386
					# headers: the BPF build must not need them)
	libbpf-dev bpftool linux-libc-dev	# libbpf, skeletons, UAPI headers
	libelf-dev zlib1g-dev		# libbpf's link dependencies
	libxdp-dev			# decap attach (single-program fallback)
	libyaml-dev libjson-c-dev	# xlb.conf parsing, control protocol, -j
	libmicrohttpd-dev		# Prometheus metrics endpoint
	libsystemd-dev			# sd_notify: readiness under Type=notify
	libcmocka-dev			# unit tests
	iproute2 ethtool procps		# namespaces, veth, GRO, sysctl and pgrep for the lab
	python3-scapy			# packet fixtures (Debian's python3)
	python3-prometheus-client	# the metrics tests parse the page as a scraper does
	curl libcurl4-openssl-dev	# the lab's HTTP clients; health checks
	openssl				# a TLS backend for the HTTPS check test
	libssl-dev			# libcrypto: SHA-256 of configurations (merge.c)
	git				# test_upgrade builds the previous map layout's commit
	bird2 nftables			# the anycast lab: BGP+BFD router and nodes, a silenced node
	tmux				# test_top drives xlbctl top on a terminal
	libpcap-dev tcpdump		# xlbctl capture writes pcap; the test reads it
	build-essential dpkg-dev debhelper	# make deb (dpkg-buildpackage wants
					# build-essential; dh); test_package
	systemd				# systemd-analyze verify of the unit (test_package)
	chromium chromium-driver python3-selenium	# test_dashboard: the page
					# in headless Chromium, driven by selenium
)
# "install-deps.sh experiment": also what make experiment plots with.
[ "${1:-}" != experiment ] || PKGS+=(python3-matplotlib)

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
