# shellcheck shell=bash
# The anycast lab: N xlb nodes announce the same VIP over BGP to a router
# that spreads client connections over them (ECMP); BFD takes a silent node
# out in ~0.3 s. Each host is a network namespace; sourced by
# tests/e2e/test_anycast.sh, or run by hand (docs/lab.md):
#   bash scripts/anycast-lab.sh up [NODES]   build it, print how to reach
#                                            it, tear it down on Enter
#   bash scripts/anycast-lab.sh down PREFIX  remove a lab left behind
#
#   [P-c] client 198.18.2.2
#      | eth0
#      | eth1 198.18.2.1
#   [P-r] router: BIRD 2, one BGP session + BFD (100 ms x 3) per node,
#      |          kernel protocol "merge paths on", L4 multipath hash
#      | eth0 198.18.0.1
#   ===+==============+==============+=========== br0 in [P-sw] ===========
#      |              |              |           |        |        |
#   [P-n1] xlb     [P-n2] xlb     [P-nN] ...   [P-b1]   [P-b2]   [P-b3]
#   198.18.0.21    198.18.0.22    198.18.0.2N  .0.11    .0.12    .0.13
#   xlbd (XDP,     xlbd           xlbd         VIP on lo, xlb_decap on
#   IPIP), BIRD:   BIRD ...                    eth0, HTTP server "bI",
#   static VIP     AS 6500N                    default via the router
#   via tun
#   xlb-eth0,
#   AS 65001
#
#   VIP 198.18.1.1:80/tcp. client -> router -(ECMP by 5-tuple)-> node
#   -(IPIP)-> backend -> router -> client (DSR: replies skip the nodes).
#
# Routing from a node: its BIRD has a static protocol with `check link`
# whose routes come from $LAB/nI/routes.v4 (`route VIP/32 via "xlb-eth0";`)
# and are exported over BGP to the router (the layout of xlbd's
# --bird-include FILE: FILE, FILE.v4, FILE.v6, FILE.drain; see
# docs/bird.md). The route lives while the tun
# xlb-eth0 exists: it is xlbd's (issue 10), so a killed xlbd withdraws the
# VIP within milliseconds. Until xlbd keeps the tun and the file itself,
# the lab does (alab_announce, alab_withdraw, alab_crash: the file, and a
# tun held open by a small process); ALAB_XLBD_BIRD=1 switches to the real
# thing (see "routes" below).
#
# Built on tests/e2e/lab.sh (lab_host, lab_backend, lab_wait, lab_down, the
# VIP and the backends' HTTP server); addresses only in 198.18.0.0/15.

ALAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
P=${P:-xlba$$}
. "$ALAB_DIR/tests/e2e/lab.sh"

# 1: xlbd keeps the tun and the include file and tells BIRD (the bird
# branch); 0: the lab does it by hand around an xlbd that knows no BIRD.
ALAB_XLBD_BIRD=${ALAB_XLBD_BIRD:-1}
# 1: the nodes are peers (--peer-key, --peer: one table agreed by all, flow
# sync; docs/group.md), each listing every node the lab may hold.
ALAB_PEERS=${ALAB_PEERS:-1}
ALAB_MAX_NODES=3
ALAB_NODES=""			# indices of the nodes built, "1 2"
ALAB_NB=3			# backends
ALAB_AS=65000			# the router's; node I is ALAB_AS + I
ALAB_R=198.18.0.1		# the router on br0
ALAB_CLIENT=198.18.2.2
ALAB_TUN=xlb-eth0
ALAB_VIP="$VIP4:80/tcp"
# BFD and the BGP timers: 100 ms x 3 detects a silent node; the rest makes
# sessions come up (and back) within a few seconds, not BIRD's defaults.
ALAB_BFD='min rx interval 100 ms; min tx interval 100 ms; multiplier 3;'
ALAB_BGP_TIMERS='hold time 9; keepalive time 3; connect delay time 1;
	connect retry time 2; error wait time 1, 4; error forget time 10;'

alab_node_addr() { echo "198.18.0.$((20 + $1))"; }

# alab_bird NS: start BIRD in namespace NS with $LAB/NS/bird.conf, control
# socket $LAB/NS/bird.ctl, in the foreground (lab_down kills it).
alab_bird() {
	lab_ns "$1" bird -f -c "$LAB/$1/bird.conf" -s "$LAB/$1/bird.ctl" \
		-P "$LAB/$1/bird.pid" < /dev/null >> "$LAB/$1/bird.out" 2>&1 &
	lab_wait 10 alab_birdc "$1" show status ||
		{ echo "alab: BIRD in $P-$1 did not start" >&2; return 1; }
}

alab_birdc() { birdc -s "$LAB/$1/bird.ctl" "${@:2}"; }

# The router's BIRD: one BGP session with BFD per node; routes into the
# kernel with all equal paths merged (ECMP); only /32s of the VIP range in;
# a draining node's routes least preferred.
alab_router_conf() {
	local i
	cat > "$LAB/r/bird.conf" <<EOF
router id $ALAB_R;
log "$LAB/r/bird.log" all;
protocol device { scan time 10; }
protocol kernel {
	ipv4 { import none; export all; };
	merge paths on;
}
protocol bfd { interface "eth0" { $ALAB_BFD }; }
template bgp node {
	local $ALAB_R as $ALAB_AS;
	ipv4 {
		import filter {
			if net !~ [ 198.18.1.0/24{32,32} ] then reject;
			# GRACEFUL_SHUTDOWN (RFC 8326, xlbctl node drain):
			# least preferred, so out of the ECMP set at once.
			if (65535, 0) ~ bgp_community then bgp_local_pref = 0;
			accept;
		};
		export none;
	};
	bfd on;
	$ALAB_BGP_TIMERS
}
EOF
	for i in $ALAB_NODES; do
		echo "protocol bgp n$i from node {" \
			"neighbor $(alab_node_addr "$i") as $((ALAB_AS + i)); }"
	done >> "$LAB/r/bird.conf"
}

# alab_routes I: node I's routes file, xlbd's --bird-include FILE.
alab_routes() { echo "$LAB/n$1/routes"; }

# A node's BIRD: the static VIP routes from its include files (the drain
# file tags them while xlbd drains), up only while their tun is (check
# link), exported to the router. BIRD reads `include` at a line's start.
alab_node_conf() {
	local i=$1 d="$LAB/n$1" f
	f=$(alab_routes "$i")
	cat > "$d/bird.conf" <<EOF
router id $(alab_node_addr "$i");
log "$d/bird.log" all;
protocol device { scan time 10; }
protocol static vips {
	ipv4 { import filter {
include "$f.drain";
		accept;
	}; };
	check link;
include "$f.v4";
}
protocol bfd { interface "eth0" { $ALAB_BFD }; }
protocol bgp uplink {
	local $(alab_node_addr "$i") as $((ALAB_AS + i));
	neighbor $ALAB_R as $ALAB_AS;
	ipv4 { import none; export where proto = "vips"; next hop self; };
	bfd on;
	$ALAB_BGP_TIMERS
}
EOF
}

# alab_router: the router namespace, its client link and BIRD.
alab_router() {
	lab_host r 1
	ip netns add "$P-c"
	ip link add eth1 netns "$P-r" type veth peer name eth0 netns "$P-c"
	ip -n "$P-r" addr add 198.18.2.1/24 dev eth1
	ip -n "$P-c" addr add "$ALAB_CLIENT/24" dev eth0
	ip -n "$P-r" link set eth1 up
	ip -n "$P-c" link set eth0 up
	ip -n "$P-c" link set lo up
	ip -n "$P-c" route add default via 198.18.2.1
	# Checksums left to a veth's "hardware" would reach the backends
	# unchecked through the nodes' XDP (lab.sh says why).
	lab_ns r ethtool -K eth1 tx off >/dev/null
	lab_ns c ethtool -K eth0 tx off >/dev/null
	# L4 hash: connections of one client spread over the nodes.
	lab_ns r sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
	mkdir -p "$LAB/r"
	# Every change of the router's routes, timed (alab_route_ms).
	(ip -n "$P-r" -ts monitor route > "$LAB/r/routes.log" 2>&1 &)
	alab_router_conf
	alab_bird r
}

# alab_node I: xlb node I (1..9) with its BIRD, announcing nothing yet,
# xlbd not started. The router learns of it with alab_node_add.
alab_node() {
	local i=$1 name="n$1" b
	lab_host "$name" $((20 + i))
	# XDP_TX into a veth is dropped unless the peer runs NAPI (lab.sh).
	ip -n "$P-sw" link set dev "v$name" xdpdrv \
		obj "$LAB_BUILD/xlb_pass.bpf.o" sec xdp
	lab_ns "$name" sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv6.conf.all.forwarding=1
	for b in $(seq "$ALAB_NB"); do
		ip -n "$P-$name" neigh replace "198.18.0.$((10 + b))" \
			lladdr "$(lab_mac 0 $((10 + b)))" dev eth0 nud permanent
	done
	mkdir -p "$LAB/$name" "$LAB/bpf/$name"
	# BIRD refuses a missing include.
	for b in "" .v4 .v6 .drain; do : > "$(alab_routes "$i")$b"; done
	alab_node_conf "$i"
	alab_bird "$name"
}

# alab_node_add I: build node I and give the router a session to it.
alab_node_add() {
	alab_node "$1" || return 1
	ALAB_NODES="$ALAB_NODES $1"
	alab_router_conf
	alab_birdc r configure > /dev/null
}

# alab_up [NODES]: the whole lab (default two nodes), xlbd not started.
alab_up() {
	local n=${1:-2} i
	LAB=$(mktemp -d /tmp/xlb-alab.XXXXXX)
	echo "$P" > "$LAB/prefix"
	# shellcheck disable=SC2034 # lab.sh's
	LAB_NB=$ALAB_NB
	mkdir -p "$LAB/bpf"
	mount -t bpf bpf "$LAB/bpf"
	ip netns add "$P-sw"
	ip -n "$P-sw" link add br0 type bridge
	ip -n "$P-sw" link set br0 up
	alab_router || return 1
	for i in $(seq "$ALAB_NB"); do
		lab_backend "$i"
		# Replies go straight to the client through the router (DSR).
		ip -n "$P-b$i" route add default via "$ALAB_R"
	done
	for i in $(seq "$n"); do
		alab_node "$i" || return 1
		ALAB_NODES="$ALAB_NODES $i"
	done
	alab_router_conf
	alab_birdc r configure > /dev/null
	for i in $(seq "$ALAB_NB"); do
		lab_backend_up "$i" 10 ||
			{ echo "alab: HTTP server on b$i did not start:" \
				"$(tail -3 "$LAB/http-b$i.err" 2>/dev/null)" >&2
			  return 1; }
	done
	for i in $ALAB_NODES; do
		lab_wait 20 alab_bgp_up "$i" ||
			{ echo "alab: no BGP session to n$i" >&2; return 1; }
		# Without BFD a silent node would wait for the hold timer.
		lab_wait 10 alab_bfd_up "$i" ||
			{ echo "alab: no BFD session to n$i" >&2; return 1; }
	done
}

alab_down() { lab_down; }

# alab_bgp_up I: the router's session to node I is established.
alab_bgp_up() { alab_birdc r show protocols "n$1" | grep -q Established; }

# alab_bfd_up I: the router's BFD session to node I is up.
alab_bfd_up() {
	alab_birdc r show bfd sessions | grep -q "$(alab_node_addr "$1") .*Up"
}

# --- xlbd on the nodes ---------------------------------------------------

alab_ctl() { "$LAB_BUILD/xlbctl" -s "$LAB/n$1/xlbd.sock" "${@:2}"; }

# alab_xlbd_start I [ARGS...]: xlbd on node I, in the background; with
# ALAB_XLBD_BIRD=1 it also keeps the node's routes (tun, include file).
alab_xlbd_start() {
	local i=$1 d="$LAB/n$1" bird=() peers=() j
	shift
	[ "$ALAB_XLBD_BIRD" = 1 ] && bird=(--bird-socket "$d/bird.ctl"
		--bird-include "$(alab_routes "$i")")
	if [ "$ALAB_PEERS" = 1 ]; then
		[ -s "$LAB/peer.key" ] || { head -c 32 /dev/urandom > "$LAB/peer.key"
			chmod 600 "$LAB/peer.key"; }
		peers=(--peer-key "$LAB/peer.key")
		for ((j = 1; j <= ALAB_MAX_NODES; j++)); do
			[ "$j" = "$i" ] || peers+=(--peer "$(alab_node_addr "$j")")
		done
	fi
	lab_ns "n$i" "$LAB_BUILD/xlbd" -i eth0 -s "$d/xlbd.sock" \
		--pin-root "$LAB/bpf/n$i" --state "$d/state.yaml" "${bird[@]}" \
		"${peers[@]}" "$@" < /dev/null >> "$d/xlbd.log" 2>&1 &
	lab_wait 10 alab_ctl "$i" list ||
		{ echo "alab: xlbd on n$i did not start" >&2; return 1; }
}

# alab_xlbd_kill I [SIG]: signal node I's xlbd (TERM) and wait for its end.
alab_xlbd_kill() {
	local pid
	pid=$(lab_pids "n$1" xlbd)
	[ -n "$pid" ] || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	lab_wait 10 bash -c "! kill -0 $pid"
}

# alab_crash I: what a crash of node I's xlbd does, at once: SIGKILL, and
# (by hand until xlbd owns it) its tun gone. Does not wait; sets
# ALAB_T_CRASH to the time of the kill ($EPOCHREALTIME).
alab_crash() {
	local pids
	pids="$(lab_pids "n$1" xlbd) $(alab_tun_pids "$1")"
	# shellcheck disable=SC2034 # for the caller
	ALAB_T_CRASH=$EPOCHREALTIME
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
}

# alab_xdp_detach I: node I's program detached and its pins removed, with
# xlbd's own tool (its XDP link is pinned: `ip link set xdp off` cannot);
# the state file stays, so a restarted xlbd has its VIPs again.
alab_xdp_detach() {
	lab_ns "n$1" "$LAB_BUILD/xlbd" -i eth0 --pin-root "$LAB/bpf/n$1" \
		--state "$LAB/n$1/state.yaml" --detach > /dev/null 2>&1
}

# alab_vip I [LAST]: the VIP with the three backends on node I (or the
# first LAST of them), HTTP checks every 0.5 s. Every node gets the same:
# their Maglev tables must be equal.
alab_vip() {
	alab_ctl "$1" vip add "$ALAB_VIP" --encap ipip --check http:/health \
		--interval 0.5 --timeout 0.3 --rise 2 --fall 2 > /dev/null &&
		alab_backends_add "$1" 1 "${2:-$ALAB_NB}"
}

# alab_backends_add I FIRST LAST: backends FIRST..LAST of the VIP on node I.
alab_backends_add() {
	local b
	for b in $(seq "$2" "$3"); do
		alab_ctl "$1" backend add "$ALAB_VIP" "198.18.0.$((10 + b))" \
			> /dev/null || return 1
	done
}

# alab_healthy I: node I has backends and every one of them is up (a
# case may have removed some).
alab_healthy() {
	alab_ctl "$1" -j list | "$LAB_PY" -c '
import json, sys
h = [b.get("health") for v in json.load(sys.stdin)["vips"]
     for b in v.get("backends", [])]
sys.exit(0 if h and all(x == "up" for x in h) else 1)'
}

# alab_backend_forget I ADDR: node I, down, loses backend ADDR from its
# configuration (the state file it starts from), as an operator's change
# made while it was away; fails when the file had no such backend.
alab_backend_forget() {
	local f="$LAB/n$1/state.yaml"
	grep -q "^ *- addr: $2\$" "$f" || return 1
	awk -v a="$2" '
		skip && match($0, /^ */) && RLENGTH > ind { next }
		{ skip = 0 }
		$0 ~ "^ *- addr: " a "$" { skip = 1; match($0, /^ */); ind = RLENGTH; next }
		{ print }' "$f" > "$f.tmp" && mv -f "$f.tmp" "$f"
}

# alab_partition I J / alab_heal I J: the switch drops the peer protocol
# (UDP 7946, XLB_PEER_PORT) between nodes I and J, and nothing else.
alab_partition() {
	lab_ns sw nft -f - <<EOF
table bridge alab_p$1$2 {
	chain peers {
		type filter hook forward priority 0; policy accept;
		iifname "vn$1" oifname "vn$2" udp dport 7946 drop
		iifname "vn$2" oifname "vn$1" udp dport 7946 drop
	}
}
EOF
}

alab_heal() { lab_ns sw nft delete table bridge "alab_p$1$2"; }

# alab_check_block I ADDR / alab_check_unblock I: node I's own TCP SYNs
# to ADDR:80 dropped as they leave (netfilter's output hook): its health
# checks fail, while the data plane's packets, sent by XDP, pass.
alab_check_block() {
	lab_ns "n$1" nft -f - <<EOF
table inet alab_check {
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr $2 tcp dport 80 tcp flags syn drop
	}
}
EOF
}

alab_check_unblock() { lab_ns "n$1" nft delete table inet alab_check; }

# --- routes: the switch between the lab's hand and xlbd's ------------------
#
# xlbd's part (issue 10): while it runs it holds the tun xlb-eth0 open, and
# its include file lists the VIPs it can serve now; after each change it
# has BIRD re-read its configuration. So a crash withdraws through the tun
# (`check link`), a VIP it cannot serve through the file. ALAB_XLBD_BIRD=0:
# the lab plays that part with the functions below; 1: xlbd does, and
# they only wait for its effect.

# alab_vips_file I [LINE]: node I's routes files (all, IPv4) hold LINE
# (or nothing); each written whole (rename), then BIRD re-reads them.
alab_vips_file() {
	local f x
	f=$(alab_routes "$1")
	for x in "" .v4; do
		echo "${2:-}" > "$f$x.tmp" && mv -f "$f$x.tmp" "$f$x" || return 1
	done
	alab_birdc "n$1" configure > /dev/null
}

# alab_announce I: node I announces the VIP, and returns once the router's
# BIRD has the route from it. By hand: the tun held open if it is not (a
# tun without its owner has no carrier: `check link` keeps the route
# down), the VIP's line in the file. xlbd does both itself once the VIP
# has a healthy backend: only the wait remains.
alab_announce() {
	local i=$1
	if [ "$ALAB_XLBD_BIRD" != 1 ]; then
		ip -n "$P-n$i" link show "$ALAB_TUN" > /dev/null 2>&1 ||
			alab_tun_hold "$i" || return 1
		alab_vips_file "$i" "route $VIP4/32 via \"$ALAB_TUN\";" ||
			return 1
	fi
	lab_wait 10 alab_bgp_route "$i"
}

# alab_withdraw I: node I stops announcing the VIP, as xlbd does when it
# can no longer serve it (no healthy backend): the file loses its line.
# With the real xlbd, wait until it has done so.
alab_withdraw() {
	if [ "$ALAB_XLBD_BIRD" = 1 ]; then
		lab_wait 10 bash -c "! grep -q '$VIP4/' '$(alab_routes "$1")'"
	else
		alab_vips_file "$1"
	fi
}

# alab_bgp_route I: the router's BIRD has the VIP's route from node I.
alab_bgp_route() {
	alab_birdc r show route "$VIP4/32" protocol "n$1" | grep -q unicast
}

# alab_tun_hold I: node I's tun, open in a background process (as xlbd
# holds it): SIGKILL to that process and the tun is gone.
alab_tun_hold() {
	lab_ns "n$1" "$LAB_PY" -c '
import fcntl, os, signal, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(),
                                        0x0001 | 0x1000))  # TUNSETIFF, TUN|NO_PI
signal.pause()' "$ALAB_TUN" < /dev/null > /dev/null 2>&1 &
	lab_wait 5 ip -n "$P-n$1" link show "$ALAB_TUN" || return 1
	ip -n "$P-n$1" link set "$ALAB_TUN" up
}

# alab_tun_pids I: the process holding node I's tun by hand (none when
# xlbd holds it).
alab_tun_pids() {
	local pid
	[ "$ALAB_XLBD_BIRD" = 1 ] && return 0
	for pid in $(lab_pids "n$1" python3); do
		grep -q "$ALAB_TUN" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
	done
}

# alab_nexthops: the router's kernel next hops for the VIP, one per line.
alab_nexthops() {
	ip -n "$P-r" route show "$VIP4" | grep -o 'via [0-9.]*' | cut -d' ' -f2
}

# alab_route_ms T I: milliseconds from T (an $EPOCHREALTIME) to the first
# change of the router's kernel route for the VIP that leaves node I out,
# from the route monitor's log; fails when there was none.
alab_route_ms() {
	"$LAB_PY" - "$LAB/r/routes.log" "$1" "$(alab_node_addr "$2")" "$VIP4" <<'EOF'
import datetime, re, sys
log, t0, addr, vip = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
entries = []
for line in open(log):
    m = re.match(r"\[(\S+)\] (.*)", line)
    if m:
        entries.append([datetime.datetime.fromisoformat(m[1]).timestamp(),
                        m[2].split()])
    elif entries:
        entries[-1][1] += line.split()
for t, w in entries:
    gone = w[:1] == ["Deleted"]
    dst = w[1 if gone else 0] if len(w) > gone else ""
    if t >= t0 and dst == vip and (gone or addr not in w):
        print(round((t - t0) * 1000))
        sys.exit(0)
sys.exit(1)
EOF
}

# alab_has_path I / alab_no_path I: node I is / is not a next hop.
alab_has_path() { alab_nexthops | grep -qx "$(alab_node_addr "$1")"; }
alab_no_path() { ! alab_has_path "$1"; }

# --- faults ----------------------------------------------------------------

# alab_drop I: node I's link stays up, but the switch drops every frame
# from and to it (BFD, BGP and data alike); alab_undrop I ends it.
alab_drop() {
	lab_ns sw nft -f - <<EOF
table bridge alab_n$1 {
	chain silence {
		type filter hook forward priority 0; policy accept;
		iifname "vn$1" drop
		oifname "vn$1" drop
	}
}
EOF
}

alab_undrop() { lab_ns sw nft delete table bridge "alab_n$1"; }

# alab_node_flows I: the new flows node I has balanced to the VIP (stats).
alab_node_flows() {
	alab_ctl "$1" -j stats | "$LAB_PY" -c '
import json, sys
print(sum(v["new_flows"] for v in json.load(sys.stdin)["vips"]
          if v["vip"] == sys.argv[1]))' "$ALAB_VIP"
}

# alab_leftover PREFIX: remove the lab of PREFIX that a killed shell left:
# its namespaces (and their processes), its directory and bpffs.
alab_leftover() {
	local d
	case $1 in xlba[0-9]*) ;; *) echo "alab: not a lab prefix: $1" >&2; return 2 ;; esac
	for d in /tmp/xlb-alab.*; do
		[ "$(cat "$d/prefix" 2>/dev/null)" = "$1" ] || continue
		P=$1 LAB=$d
		lab_down
		return 0
	done
	P=$1 LAB=/nonexistent lab_down
}

# Run by hand: bash scripts/anycast-lab.sh up [NODES] | down PREFIX
alab_main() {
	local i
	case ${1:-}:${2:-} in
	up:|up:[1-9]) ;;
	down:?*) alab_leftover "$2"; return ;;
	*) echo "usage: bash scripts/anycast-lab.sh up [NODES 1-9] | down PREFIX" >&2
	   return 2 ;;
	esac
	trap alab_down EXIT
	alab_up "${2:-2}" || return 1
	for i in $ALAB_NODES; do
		alab_xlbd_start "$i" && alab_vip "$i" || return 1
	done
	for i in $ALAB_NODES; do
		lab_wait 10 alab_healthy "$i" && alab_announce "$i" || return 1
	done
	echo "anycast lab up in $LAB, namespaces $P-* (down: $0 down $P)"
	alab_birdc r show route
	ip -n "$P-r" route show "$VIP4"
	echo "try: ip netns exec $P-c curl http://$VIP4/"
	echo "     birdc -s $LAB/r/bird.ctl show protocols"
	echo "     $LAB_BUILD/xlbctl -s $LAB/n1/xlbd.sock list"
	read -r -p "Enter tears it down. " _
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	alab_main "$@"
	exit $?
fi
