#!/usr/bin/env bash
# End to end: the package. `make install` (DESTDIR, PREFIX, uninstall);
# `make deb`, installed with dpkg -i; then xlbd from the package run as its
# unit runs it, without systemd as PID 1 (the CI's fresh root has none):
# readiness through a NOTIFY_SOCKET listener (notify_listen.py), the
# unit's capability set through setpriv, its ExecReload against refused and
# accepted files, the unit through systemd-analyze verify. The package is
# purged at the end (case purge) and at exit, whatever happened.
#
#   [P-n] eth0 198.18.0.10/24 ─veth─ peer0 (up; nothing behind it)
#         xlbd -i eth0 --pin-root $T/bpf --state $T/NAME.yaml
#
# On a machine where a file of the package exists already (/usr/sbin/xlbd,
# say: not ours to replace, nor to remove at purge), the deb cases fail
# saying so, and the daemon cases run a DESTDIR install of the tree.
# Prints "PASS name" / "FAIL name: why" per case, then "e2e: N passed, N
# failed". TESTS="case1 case2" runs some.
set -u
cd "$(dirname "$0")/../.."
P=xlbpk$$
. tests/e2e/lab.sh

PY=/usr/bin/python3
T=$(mktemp -d /tmp/xlb-pkg.XXXXXX)
VER=$(cat VERSION)
OURS=0			# 1 once dpkg -i installed our package
INST=xlbpk$$		# the unit's instance name in the reload case
RUN_MADE=0		# 1 when this test created /run/xlb
LISTENER=""

cleanup() {
	local ns
	[ -z "$LISTENER" ] || kill "$LISTENER" 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
		ip netns pids "$ns" | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ $OURS = 0 ] || dpkg -P xlb > /dev/null 2>&1
	rm -f "/run/xlb/$INST.sock"
	[ $RUN_MADE = 0 ] || rmdir /run/xlb 2>/dev/null
	! mountpoint -q "$T/bpf" || umount "$T/bpf"
	rm -rf "$T"
}
trap cleanup EXIT

# ---- where the binaries and the unit come from ----

# A DESTDIR install of the tree, made once: what the daemon cases run when
# the package could not be installed.
destdir() {
	[ -x "$T/root/usr/sbin/xlbd" ] ||
		make -s install DESTDIR="$T/root" > "$T/install.log" 2>&1
}

# SBIN and UNIT: the package's, or the DESTDIR install's.
SBIN=""
UNIT=""
pick() {
	if [ $OURS = 1 ]; then
		SBIN=/usr/sbin
		UNIT=/lib/systemd/system/xlbd@.service
	else
		destdir || return 1
		SBIN=$T/root/usr/sbin
		UNIT=$T/root/lib/systemd/system/xlbd@.service
	fi
}

from() { [ $OURS = 1 ] && echo "the package" || echo "a DESTDIR install"; }

# ---- the node ----

# node: the namespace with eth0 (its veth peer up, or XDP cannot attach)
# and a bpffs for the pins, made once; no daemon, program or state left.
node() {
	if ! ip netns list | awk '{ print $1 }' | grep -qx "$P-n"; then
		ip netns add "$P-n"
		ip -n "$P-n" link add eth0 type veth peer name peer0
		ip -n "$P-n" link set eth0 up
		ip -n "$P-n" link set peer0 up
		ip -n "$P-n" link set lo up
		ip -n "$P-n" addr add 198.18.0.10/24 dev eth0
		# Tunnelled backends need the FIB to forward (xlb.conf(5)).
		lab_ns n sysctl -qw net.ipv4.conf.all.forwarding=1
		mkdir -p "$T/bpf"
		mount -t bpf bpf "$T/bpf"
	fi
	stop_all
	ip netns exec "$P-n" "$SBIN/xlbd" -i eth0 --pin-root "$T/bpf" \
		--state "$T/state.yaml" --detach > /dev/null 2>&1
	rm -f "$T"/*state*
}

stop_all() {
	local pid
	for pid in $(lab_pids n xlbd); do
		kill "$pid" 2>/dev/null
		lab_wait 20 bash -c "! kill -0 $pid" || kill -9 "$pid"
	done
}

# conf FILE WEIGHT [CHECK]: one VIP with one tunnelled backend.
conf() {
	printf '%s\n' "vips:" "  - vip: 198.18.1.1:80/tcp" \
		${3:+"    check: $3"} "    backends:" \
		"      - addr: 198.18.0.11" "        weight: $2" > "$1"
}

# xlbd_bg SOCK [ARGS...]: xlbd in the node, in the background, its log in
# $T/xlbd.log; XLBD_PID its pid (ip netns exec execs it).
XLBD_PID=""
xlbd_bg() {
	local sock=$1
	shift
	ip netns exec "$P-n" "$@" -i eth0 -s "$sock" --pin-root "$T/bpf" \
		--state "$T/state.yaml" < /dev/null >> "$T/xlbd.log" 2>&1 &
	XLBD_PID=$!
}

attached() { ip -n "$P-n" link show eth0 | grep -q 'prog/xdp'; }

# ---- cases ----

# Every file of an install, relative to its root, sorted.
files() { (cd "$1" && find . -type f | sed 's|^\./||' | sort); }

t_install() {
	local want got why=""
	rm -rf "$T/root" "$T/local"
	want="etc/xlb/example.yaml
lib/systemd/system/xlbd@.service
usr/lib/xlb/xlb.bpf.o
usr/lib/xlb/xlb_decap.bpf.o
usr/sbin/xlbctl
usr/sbin/xlbd
usr/share/man/man5/xlb.conf.5
usr/share/man/man8/xlbctl.8
usr/share/man/man8/xlbd.8"
	if ! destdir; then
		fail install "make install: $(tail -3 "$T/install.log")"
		return
	fi
	got=$(files "$T/root")
	[ "$got" = "$want" ] ||
		why="DESTDIR install: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
	if [ -z "$why" ] &&
	   ! make -s install DESTDIR="$T/local" PREFIX=/usr/local > "$T/install.log" 2>&1; then
		why="PREFIX=/usr/local: $(tail -3 "$T/install.log")"
	fi
	want=$(echo "$want" | sed 's|^usr/|usr/local/|; s|^lib/|usr/local/lib/|' | sort)
	[ -n "$why" ] || [ "$(files "$T/local")" = "$want" ] ||
		why="PREFIX=/usr/local: $(diff <(echo "$want") <(files "$T/local") | grep '^[<>]' | tr '\n' ' ')"
	[ -n "$why" ] ||
		grep -q '^ExecStart=/usr/local/sbin/xlbd ' "$T/local/usr/local/lib/systemd/system/xlbd@.service" ||
		why="the /usr/local unit does not run /usr/local/sbin/xlbd"
	[ -n "$why" ] || ! grep -q '/usr/sbin' "$T/local/usr/local/lib/systemd/system/xlbd@.service" ||
		why="the /usr/local unit still names /usr/sbin"
	[ -n "$why" ] || "$T/root/usr/sbin/xlbd" -n -c "$T/root/etc/xlb/example.yaml" > /dev/null 2>&1 ||
		why="xlbd -n refuses the example config"
	# An edited example survives a second install.
	echo "# mine" >> "$T/local/etc/xlb/example.yaml"
	[ -n "$why" ] || make -s install DESTDIR="$T/local" PREFIX=/usr/local > /dev/null 2>&1 ||
		why="a second install failed"
	[ -n "$why" ] || tail -1 "$T/local/etc/xlb/example.yaml" | grep -q mine ||
		why="a second install overwrote an edited example"
	[ -n "$why" ] || make -s uninstall DESTDIR="$T/local" PREFIX=/usr/local > /dev/null 2>&1 ||
		why="make uninstall failed"
	[ -n "$why" ] || [ "$(files "$T/local")" = "etc/xlb/example.yaml" ] ||
		why="uninstall left $(files "$T/local" | tr '\n' ' ') (only the edited example should stay)"
	if [ -n "$why" ]; then
		fail install "$why"
	else
		pass "install (9 files under /usr and /usr/local; unit paths follow PREFIX; edited example kept; uninstall)"
	fi
}

# The package's files that exist on this machine already.
taken() {
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' |
		while read -r f; do [ ! -e "$f" ] || echo "$f"; done
}

t_deb() {
	local deb f why="" busy
	if dpkg-query -W -f='${Status}' xlb 2>/dev/null | grep -q installed; then
		fail deb "a package xlb is installed on this machine already; not touching it"
		return
	fi
	if ! make -s deb BUILD="$T/b" > "$T/deb.log" 2>&1; then
		fail deb "make deb: $(tail -5 "$T/deb.log" | tr '\n' ' ')"
		return
	fi
	deb=$(ls "$T/b"/xlb_"$VER"_*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || { fail deb "make deb made no $T/b/xlb_${VER}_*.deb"; return; }
	busy=$(taken "$deb")
	if [ -n "$busy" ]; then
		fail deb "$(echo "$busy" | tr '\n' ' ')exist on this machine: not ours to replace"
		return
	fi
	if ! dpkg -i "$deb" > "$T/dpkg.log" 2>&1; then
		fail deb "dpkg -i: $(tail -3 "$T/dpkg.log" | tr '\n' ' ')"
		dpkg -P xlb > /dev/null 2>&1
		return
	fi
	OURS=1
	for f in /usr/sbin/xlbd /usr/sbin/xlbctl /usr/lib/xlb/xlb.bpf.o \
		 /usr/share/man/man8/xlbd.8.gz /usr/share/man/man8/xlbctl.8.gz \
		 /usr/share/man/man5/xlb.conf.5.gz \
		 /lib/systemd/system/xlbd@.service /etc/xlb/example.yaml; do
		dpkg -L xlb | grep -qx "$f" || why="$why$f not in dpkg -L; "
	done
	[ -n "$why" ] || [ "$(/usr/sbin/xlbd --version)" = "xlbd $VER" ] ||
		why="/usr/sbin/xlbd --version: $(/usr/sbin/xlbd --version 2>&1)"
	[ -n "$why" ] || /usr/sbin/xlbctl --version | grep -q "$VER" ||
		why="/usr/sbin/xlbctl --version: $(/usr/sbin/xlbctl --version 2>&1)"
	[ -n "$why" ] || /usr/sbin/xlbd -n -c /etc/xlb/example.yaml > /dev/null ||
		why="xlbd -n refuses /etc/xlb/example.yaml"
	if [ -n "$why" ]; then
		fail deb "$why"
	else
		pass "deb ($(basename "$deb") installs with dpkg -i; binaries, BPF objects, man pages, unit, example; --version $VER)"
	fi
}

t_verify() {
	local out man=yes
	pick || { fail verify "no install to verify"; return; }
	[ $OURS = 1 ] || { fail verify "the package is not installed (see deb)"; return; }
	# Documentation= is checked by running man(1), which a minimal root
	# lacks (the deb case saw the pages installed).
	command -v man > /dev/null || man=no
	if ! out=$(systemd-analyze verify --man=$man /lib/systemd/system/xlbd@eth0.service 2>&1) ||
	   [ -n "$out" ]; then
		fail verify "systemd-analyze verify: $(echo "$out" | head -5 | tr '\n' ' ')"
	else
		pass "verify (systemd-analyze verify xlbd@eth0.service, man pages $man)"
	fi
}

# ready: READY=1 once the socket answers and the program is attached,
# RELOADING=1 then READY=1 around a reload, STOPPING=1 on SIGTERM.
t_ready() {
	local log=$T/notify.log why="" n
	pick || { fail ready "no install"; return; }
	node
	conf "$T/ready.yaml" 100
	rm -f "$log" "$T/notify.sock"
	$PY tests/e2e/notify_listen.py "$T/notify.sock" "$log" 60 -- \
		bash -c "ip -n '$P-n' link show eth0 | grep -q prog/xdp &&
			 '$SBIN/xlbctl' -s '$T/ready.sock' list" &
	LISTENER=$!
	lab_wait 5 test -S "$T/notify.sock" || { fail ready "no listener"; return; }
	NOTIFY_SOCKET=$T/notify.sock xlbd_bg "$T/ready.sock" "$SBIN/xlbd" \
		-c "$T/ready.yaml"
	if ! lab_wait 20 grep -q '^READY=1' "$log"; then
		why="no READY=1 in 20 s (got: $(tr '\n' ' ' < "$log"))"
	elif ! lab_wait 15 grep -q '^check rc=' "$log"; then
		why="the check at READY=1 did not finish"
	elif ! grep -q '^check rc=0$' "$log"; then
		why="at READY=1 the socket did not answer or nothing was attached ($(grep '^check' "$log"))"
	elif ! grep '^READY=1' "$log" | grep -q 'STATUS=1 VIPs on eth0'; then
		why="READY=1 without the STATUS: $(head -1 "$log")"
	fi
	# A start that fails (a daemon runs on eth0) says nothing.
	if [ -z "$why" ]; then
		NOTIFY_SOCKET=$T/notify.sock timeout 20 ip netns exec "$P-n" \
			"$SBIN/xlbd" -i eth0 -c "$T/ready.yaml" -s "$T/ready2.sock" \
			--pin-root "$T/bpf" --state "$T/state.yaml" \
			< /dev/null >> "$T/xlbd.log" 2>&1
		n=$?
		[ $n -eq 1 ] || why="a second xlbd on eth0: exit $n, not 1"
		[ -n "$why" ] || [ "$(grep -c . "$log")" -eq 2 ] ||
			why="a second xlbd that did not start said: $(tail -n +3 "$log" | tr '\n' ' ')"
	fi
	if [ -z "$why" ]; then
		conf "$T/ready.yaml" 50
		"$SBIN/xlbctl" -s "$T/ready.sock" reload > /dev/null 2>&1
		lab_wait 10 bash -c "[ \$(grep -c '^READY=1' '$log') -ge 2 ]" ||
			why="no second READY=1 after a reload"
		n=$(grep -n '^RELOADING=1' "$log" | cut -d: -f1)
		[ -n "$why" ] || { [ -n "$n" ] && grep -n '^READY=1' "$log" |
			tail -1 | awk -F: -v r="$n" '{ exit !($1 > r) }'; } ||
			why="no RELOADING=1 before the second READY=1"
		grep '^RELOADING=1' "$log" | grep -q 'MONOTONIC_USEC=' ||
			why=${why:-"RELOADING=1 without MONOTONIC_USEC"}
	fi
	kill "$XLBD_PID" 2>/dev/null
	[ -n "$why" ] || lab_wait 20 grep -q '^STOPPING=1' "$log" ||
		why="no STOPPING=1 after SIGTERM"
	wait "$LISTENER" 2>/dev/null
	LISTENER=""
	if [ -n "$why" ]; then
		fail ready "$why"
	else
		pass "ready ($(from): READY=1 with the socket answering and XDP attached; none from a start that failed; RELOADING=1/READY=1; STOPPING=1)"
	fi
	node
}

# The unit's capabilities in setpriv's spelling: +bpf,+perfmon,...
unit_caps() {
	sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr 'A-Z ' 'a-z\n' |
		sed -n 's/^cap_/+/p' | paste -sd, -
}

CAPS_CONF=""
# capd CAPS: xlbd under exactly CAPS (bounding set; root keeps no other,
# none inheritable or ambient; no new privileges, as the unit) with what
# needs each: syn checks (raw sockets), a control group (chown), BIRD's
# tun device, metrics. Returns once it answers (0) or exited (1).
capd() {
	xlbd_bg "$T/caps.sock" setpriv --no-new-privs --inh-caps=-all \
		--ambient-caps=-all --bounding-set="-all,$1" "$SBIN/xlbd" \
		-c "$CAPS_CONF"
	lab_wait 20 bash -c "'$SBIN/xlbctl' -s '$T/caps.sock' list ||
			     ! kill -0 $XLBD_PID" || return 1
	"$SBIN/xlbctl" -s "$T/caps.sock" list > /dev/null 2>&1
}

# The syn check's last result, once it has one.
syn_result() {
	lab_wait 10 bash -c "'$SBIN/xlbctl' -s '$T/caps.sock' list | grep -q 'last check' &&
		! '$SBIN/xlbctl' -s '$T/caps.sock' list | grep -q 'last check not yet'"
	"$SBIN/xlbctl" -s "$T/caps.sock" list | grep -o 'last check .*'
}

# caps_all CAPS: with all of them xlbd starts, attaches, checks, chowns,
# makes its tun device, and adopts its data plane after a restart.
caps_all() {
	: > "$T/xlbd.log"
	capd "$1" || { echo "did not start: $(tail -2 "$T/xlbd.log")"; return; }
	attached || { echo "started but nothing attached"; return; }
	[ "$(stat -c '%G %a' "$T/caps.sock")" = "daemon 660" ] ||
		{ echo "socket not daemon 660: $(stat -c '%G %a' "$T/caps.sock")"; return; }
	ip -n "$P-n" link show xlb-eth0 > /dev/null 2>&1 ||
		{ echo "no tun device xlb-eth0"; return; }
	syn_result | grep -q 'not permitted' &&
		{ echo "syn check: $(syn_result)"; return; }
	grep -E 'error|not applied' "$T/xlbd.log" | head -1
	kill "$XLBD_PID"
	lab_wait 20 bash -c "! kill -0 $XLBD_PID"
	capd "$1" && grep -q 'adopted the running data plane' "$T/xlbd.log" ||
		echo "a restart did not adopt the data plane: $(tail -2 "$T/xlbd.log")"
}

# caps_without CAP REST: what goes wrong without CAP (empty: nothing).
caps_without() {
	local cap=$1 rest=$2
	: > "$T/xlbd.log"
	case $cap in
	bpf|perfmon|net_admin)
		if capd "$rest"; then
			echo "started"
		elif ! grep -q 'needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN' "$T/xlbd.log"; then
			echo "unclear error: $(grep error "$T/xlbd.log" | head -1)"
		fi ;;
	net_raw)
		capd "$rest" || { echo "did not start"; return; }
		syn_result | grep -q 'Operation not permitted' ||
			echo "syn check: $(syn_result)" ;;
	chown)
		capd "$rest" || { echo "did not start"; return; }
		grep -q 'control group daemon not applied' "$T/xlbd.log" ||
			echo "no warning about the group" ;;
	*)	echo "no proof known for CAP_${cap^^}" ;;
	esac
}

t_caps() {
	local all cap rest why="" out proved=""
	pick || { fail caps "no install"; return; }
	all=$(unit_caps)
	[ -n "$all" ] || { fail caps "no CapabilityBoundingSet in $UNIT"; return; }
	CAPS_CONF=$T/caps.yaml
	conf "$CAPS_CONF" 100 '{type: syn, interval: 1}'
	printf '%s\n' "node:" "  control-group: daemon" \
		"  metrics: 198.18.0.10:9100" \
		"  bird-include: $T/routes" | cat - "$CAPS_CONF" > "$T/c" &&
		mv "$T/c" "$CAPS_CONF"
	node
	out=$(caps_all "$all")
	[ -z "$out" ] || why="with $all: $out"
	for cap in $(echo "$all" | tr -d + | tr , ' '); do
		[ -z "$why" ] || break
		node
		rest=$(echo ",$all," | sed "s/,+$cap,/,/; s/^,//; s/,$//")
		out=$(caps_without "$cap" "$rest")
		if [ -n "$out" ]; then
			why="without $cap: $out"
		else
			proved="$proved $cap"
		fi
	done
	node
	if [ -n "$why" ]; then
		fail caps "$why"
	else
		pass "caps ($(from), the unit's $all: starts, attaches, adopts; each needed:$proved)"
	fi
}

# reload: the unit's ExecReload, its %i this test's instance.
t_reload() {
	local cmd why="" out rc
	pick || { fail reload "no install"; return; }
	node
	[ -d /run/xlb ] || { mkdir -p /run/xlb && RUN_MADE=1; }
	# A DESTDIR unit names /usr/sbin still.
	read -ra cmd <<< "$(sed -n 's/^ExecReload=//p' "$UNIT" |
		sed "s/%i/$INST/g; s|^/usr/sbin/|$SBIN/|")"
	[ ${#cmd[@]} -gt 0 ] || { fail reload "no ExecReload in $UNIT"; return; }
	conf "$T/reload.yaml" 100
	xlbd_bg "/run/xlb/$INST.sock" "$SBIN/xlbd" -c "$T/reload.yaml"
	lab_wait 20 "$SBIN/xlbctl" -s "/run/xlb/$INST.sock" list ||
		{ fail reload "xlbd did not start: $(tail -2 "$T/xlbd.log")"; node; return; }
	echo "vips: [" > "$T/reload.yaml"
	out=$("${cmd[@]}" 2>&1)
	rc=$?
	[ $rc -ne 0 ] || why="a broken file: exit 0"
	[ -n "$why" ] || echo "$out" | grep -q 'reload.yaml:' ||
		why="a broken file: no file:line in '$out'"
	echo "vips: []" > "$T/reload.yaml"
	[ -n "$why" ] || ! "${cmd[@]}" > /dev/null 2>&1 ||
		why="a file removing every VIP: exit 0"
	conf "$T/reload.yaml" 50
	[ -n "$why" ] || out=$("${cmd[@]}" 2>&1) ||
		why="an accepted file: exit non-zero: $out"
	[ -n "$why" ] || "$SBIN/xlbctl" -s "/run/xlb/$INST.sock" list | grep -q 'weight 50 ' ||
		why="an accepted file: weight 50 not applied"
	if [ -n "$why" ]; then
		fail reload "$why"
	else
		pass "reload (${cmd[*]}: exit $rc on a broken file, non-zero on one removing every VIP, 0 on a good one)"
	fi
	node
	rm -f "/run/xlb/$INST.sock"
}

# purge: dpkg -P leaves none of the package's files.
t_purge() {
	local left=""
	[ $OURS = 1 ] || { fail purge "the package is not installed (see deb)"; return; }
	stop_all
	if ! dpkg -P xlb > "$T/dpkg.log" 2>&1; then
		fail purge "dpkg -P: $(tail -3 "$T/dpkg.log" | tr '\n' ' ')"
		return
	fi
	OURS=0
	for f in /usr/sbin/xlbd /usr/sbin/xlbctl /usr/lib/xlb /etc/xlb/example.yaml \
		 /lib/systemd/system/xlbd@.service /usr/share/man/man8/xlbd.8.gz; do
		[ ! -e "$f" ] || left="$left $f"
	done
	if [ -n "$left" ]; then
		fail purge "left:$left"
	else
		pass "purge (dpkg -P removed every file)"
	fi
}

lab_run_cases ${TESTS:-install deb verify ready caps reload purge}
