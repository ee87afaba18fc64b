#!/usr/bin/env bash
# Health checker at scale: one VIP with 10,000 backends checked over TCP
# every second. Measures xlbd's CPU use and how late checks start.
#
#   [ns L] xlbd -i x0 (taskset CPU 0)      [ns S] listener (taskset CPU 1)
#          x0 ==veth== x1                          lo: local 198.18.128.0/18
#          h0 198.18.2.1/30 ======veth======= h1 198.18.2.2/30
#          198.18.128.0/18 via 198.18.2.2
#
# The backends live in their own namespace: one listener on [::]:80 answers
# every address of 198.18.128.0/18 (a local route, no 10,000 addresses),
# accepting and closing. Both ends of h0/h1 receive in threaded NAPI
# (GRO on, TSO off so TCP takes that path, not the sender's backlog), the
# NAPI threads and the listener on CPU 1, xlbd on CPU 0: as on a real host,
# where the backends are other machines and receive work is the NIC's
# softirq, xlbd's CPU is then its own checks (sockets, connects, polls,
# closes, sends), not the backends' half of every handshake run inline.
# The backends come from a config file (-c): adding 10,000 through xlbctl
# one by one would take minutes. After a warm-up, CPU is xlbd's utime +
# stime over the window (% of one core, all threads); lateness is what xlbd
# reports in the stats reply (`xlbctl -j stats`) member "checks" (run,
# late_p50_ms, late_p99_ms, late_max_ms).
#
# WARMUP=10 MEASURE=30 READY=900 (seconds) and N=10000 (at most 16,384)
# may be set.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
N=${N:-10000}
CHECK=${CHECK:-tcp}	# tcp (connect) or syn (half-open)
WARMUP=${WARMUP:-10}
READY=${READY:-900}	# xlbd's start with N backends (one ring build each)
MEASURE=${MEASURE:-30}
P=xlbh$$
S=xlbs$$
# lab_wait (poll a command until it succeeds) is the lab's own helper.
. tests/e2e/lab.sh
TMP=""
LISTENER=""
XLBD=""

cleanup() {
	if [ -n "$XLBD" ] && kill "$XLBD" 2>/dev/null; then
		wait "$XLBD" 2>/dev/null	# it unpins; do not -9 it midway
	fi
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	local n
	for n in "$P" "$S"; do
		if ip netns list | grep -qw "$n"; then
			ip netns pids "$n" | xargs -r kill -9 2>/dev/null
			ip netns del "$n"
		fi
	done
	if [ -n "$TMP" ]; then
		umount "$TMP/bpf" 2>/dev/null
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

die() { echo "health_scale: $*" >&2; exit 1; }
ns() { ip netns exec "$P" "$@"; }
srv() { ip netns exec "$S" "$@"; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# ctl CMD [PYTHON-EXPR]: one request on xlbd's control socket (the protocol
# of user/lib/ctl.h), spoken directly rather than through xlbctl: xlbctl
# refuses replies over CTL_MSG_MAX (64 KiB), which `list` and `stats` of
# thousands of backends exceed. Prints EXPR of the reply r (default: the
# whole reply as JSON); fails when xlbd cannot be reached or says no.
ctl() {
	"$PY" - "$TMP/xlbd.sock" "$1" "${2:-json.dumps(r)}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall(json.dumps({"cmd": sys.argv[2]}).encode() + b"\n")
data = b""
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    data += b
r = json.loads(data)
if not r.get("ok"):
    sys.exit("xlbd: %s" % r.get("error"))
print(eval(sys.argv[3]))
PY
}

# cpu_ticks: xlbd's "utime stime" (all threads), in clock ticks.
cpu_ticks() {
	# comm may hold blanks: fields count from the last ')'.
	sed 's/.*) //' "/proc/$XLBD/stat" | awk '{ print $12, $13 }'
}

# checks_json: the "checks" member of the stats reply, or nothing.
checks_json() {
	ctl stats 'json.dumps(r["checks"]) if r.get("checks") else ""' 2>/dev/null
}

# jfield JSON KEY: one member of a flat JSON object ("" if absent).
jfield() {
	"$PY" -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

# health_counts: "up down unknown" over the VIP's backends.
health_counts() {
	ctl list '" ".join(str(sum(b.get("health", "unknown") == h
			for v in r["vips"] for b in v["backends"]))
		for h in ("up", "down", "unknown"))'
}

all_up() { [ "$(health_counts | awk '{ print $1 }')" = "$N" ]; }

[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$BUILD/xlbd" ] || die "no $BUILD/xlbd, run make"
[ "$N" -ge 1 ] && [ "$N" -le 16384 ] || die "N=$N: want 1..16384"

TMP=$(mktemp -d /tmp/xlb-hscale.XXXXXX)
mkdir "$TMP/bpf"
mount -t bpf bpf "$TMP/bpf" || die "cannot mount a bpffs"

ip netns add "$P"
ip netns add "$S"
ip -n "$P" link set lo up
ip -n "$S" link set lo up
ip -n "$P" link add x0 type veth peer name x1
ip -n "$P" addr add 198.18.0.10/24 dev x0
ip -n "$P" link set x0 up
ip -n "$P" link set x1 up
ns sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
ip -n "$P" link add h0 type veth peer name h1 netns "$S"
ip -n "$P" addr add 198.18.2.1/30 dev h0
ip -n "$S" addr add 198.18.2.2/30 dev h1
ip -n "$P" link set h0 up
ip -n "$S" link set h1 up
ip -n "$P" route add 198.18.128.0/18 via 198.18.2.2
ip -n "$S" route add local 198.18.128.0/18 dev lo
# Receive work off xlbd's CPU (one CPU: all shares it).
ns ethtool -K h0 gro on tso off > /dev/null || die "ethtool h0"
srv ethtool -K h1 gro on tso off > /dev/null || die "ethtool h1"
ns sh -c 'echo 1 > /sys/class/net/h0/threaded' || die "threaded NAPI h0"
srv sh -c 'echo 1 > /sys/class/net/h1/threaded' || die "threaded NAPI h1"
PIN_L="" PIN_S=""
if [ "$(nproc)" -ge 2 ]; then
	# "napi/<dev>-<id>": names are not per namespace, and pinning
	# another h0's thread to CPU 1 as well does no harm.
	for pid in $(pgrep '^napi/h[01]-'); do
		taskset -pc 1 "$pid" > /dev/null
	done
	PIN_L="taskset -c 0" PIN_S="taskset -c 1"
fi
# Every check leaves a socket behind on the listener side until it is
# accepted and closed: room for a second of them.
srv sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535

# The listener: accept and close, as fast as one thread can; dual stack.
ip netns exec "$S" $PIN_S "$PY" -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 80))
s.listen(65535)
while True:
    try:
        c, _ = s.accept()
        c.close()
    except OSError:
        pass' < /dev/null > "$TMP/listener.log" 2>&1 &
LISTENER=$!
lab_wait 5 ns bash -c "exec 3<>/dev/tcp/198.18.128.0/80" || die "listener did not start"

{
	echo "vips:"
	echo "  - vip: 198.18.1.1:80/tcp"
	echo "    check:"
	echo "      type: $CHECK"
	echo "      interval: 1"
	echo "    backends:"
	seq 0 $((N - 1)) | awk '{ printf "      - addr: 198.18.%d.%d\n", 128 + int($1 / 256), $1 % 256 }'
} > "$TMP/xlb.yaml"

t0=$(now_ms)
ip netns exec "$P" $PIN_L "$BUILD/xlbd" -i x0 -c "$TMP/xlb.yaml" -s "$TMP/xlbd.sock" \
	--pin-root "$TMP/bpf" --state "$TMP/state.yaml" \
	< /dev/null > "$TMP/xlbd.log" 2>&1 &
XLBD=$!	# ip netns exec and taskset exec xlbd: same pid
lab_wait "$READY" ctl vip-list ||
	die "xlbd not ready in $READY s: $(tail -3 "$TMP/xlbd.log")"
[ "$(cat "/proc/$XLBD/comm" 2>/dev/null)" = xlbd ] || die "xlbd pid $XLBD not found"
t_ready=$(($(now_ms) - t0))
if lab_wait 60 all_up; then
	t_up="$((($(now_ms) - t0) / 1000)).$(((($(now_ms) - t0) % 1000) / 100)) s"
else
	t_up="not within 60 s ($(health_counts) up/down/unknown)"
fi

sleep "$WARMUP"	# a timed warm-up, not a wait for anything

tc0=$(now_ms)
c0=$(checks_json)
w0=$(now_ms)
k0=$(cpu_ticks)
sleep "$MEASURE"
k1=$(cpu_ticks)
w1=$(now_ms)
c1=$(checks_json)
tc1=$(now_ms)
counts=$(health_counts)
hz=$(getconf CLK_TCK)
kill -0 "$XLBD" 2>/dev/null || die "xlbd died: $(tail -3 "$TMP/xlbd.log")"

cpu=$(echo "$k0 $k1" | awk -v hz="$hz" -v ms=$((w1 - w0)) '{
	f = 100 / hz / (ms / 1000)
	printf "%.1f %% of one core (user %.1f, system %.1f)",
		($3 + $4 - $1 - $2) * f, ($3 - $1) * f, ($4 - $2) * f }')
echo "health_scale: $N backends, $CHECK check every 1 s; ${WARMUP} s warm-up, ${MEASURE} s measured"
printf '  %-24s %s\n' "xlbd ready after" "$((t_ready / 1000)).$(((t_ready % 1000) / 100)) s"
printf '  %-24s %s\n' "all up after" "$t_up"
printf '  %-24s %s\n' "up / down / unknown" "$(echo "$counts" | sed 's| | / |g') (at the end)"
printf '  %-24s %s\n' "xlbd CPU" "$cpu"
if [ -n "$c0" ] && [ -n "$c1" ]; then
	r0=$(jfield "$c0" run) r1=$(jfield "$c1" run)
	if [ -n "$r0" ] && [ -n "$r1" ]; then
		printf '  %-24s %s (%s/s, want %s/s)\n' "checks run" "$((r1 - r0))" \
			"$(awk -v n=$((r1 - r0)) -v ms=$((tc1 - tc0)) 'BEGIN { printf "%.0f", n / (ms / 1000) }')" "$N"
	fi
	p50=$(jfield "$c1" late_p50_ms) p99=$(jfield "$c1" late_p99_ms)
	max=$(jfield "$c1" late_max_ms)
	if [ -n "$p50$p99$max" ]; then
		ms() { [ -n "$1" ] && printf '%.2f' "$1" || echo -; }
		printf '  %-24s p50 %s  p99 %s  max %s ms\n' \
			"check lateness" "$(ms "$p50")" "$(ms "$p99")" "$(ms "$max")"
		# The issue's targets: CPU under 10 % of a core, p99 lateness
		# under 100 ms.
		printf '  %-24s CPU < 10 %%: %s; p99 lateness < 100 ms: %s\n' "targets" \
			"$(awk -v c="${cpu%% *}" 'BEGIN { print (c < 10 ? "met" : "not met") }')" \
			"$(awk -v p="${p99:-1e9}" 'BEGIN { print (p < 100 ? "met" : "not met") }')"
	else
		echo "  lateness: not reported"
	fi
else
	echo "  lateness: not reported"
fi
