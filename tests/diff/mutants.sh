#!/usr/bin/env bash
# Issue 9 finding 12's surviving mutants, and mutants of the fragment and
# ICMP error rules, against the differential fuzzer.
# Each mutant is one substitution put into a scratch copy of this tree (the
# working tree as it is, committed or not); xlb-difftest is built there
# and run on FRAMES frames with a fixed seed. A mutant is killed when the
# run reports mismatches. Needs root (BPF) and the build tools; touches
# nothing here. Prints one line per mutant and "mutants: K killed, S
# survived"; exits 1 when a mutant expected to die survives.
#   bash tests/diff/mutants.sh [FRAMES [SEED [NAME...]]]
set -u
cd "$(dirname "$0")/../.."
FRAMES=${1:-200000}
SEED=${2:-1}
shift $(($# > 2 ? 2 : $#))
SCRATCH=$(mktemp -d /tmp/xlb-mutants.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT

# name ~ file ~ perl substitution (-0: the whole file) ~ expected
MUTANTS=(
"csum-fold-once~include/xlb/csum.h~s/(\tsum = \(sum & 0xffff\) \+ \(sum >> 16\);\n)\tsum = \(sum & 0xffff\) \+ \(sum >> 16\);\n/\$1/~killed"
"quote-ihl-ignored~bpf/parse.h~s/l4 = off \+ ip->ihl \* 4;/l4 = off + sizeof(*ip);/~killed"
"icmp-two-types~bpf/parse.h~s/type == ICMP_DEST_UNREACH \|\| type == ICMP_TIME_EXCEEDED \|\|\s*type == ICMP_PARAMETERPROB;/type == ICMP_DEST_UNREACH;/; s/type == ICMPV6_DEST_UNREACH \|\| type == ICMPV6_PKT_TOOBIG \|\|\s*type == ICMPV6_TIME_EXCEED \|\| type == ICMPV6_PARAMPROB;/type == ICMPV6_PKT_TOOBIG;/~killed"
"decap-outer-fragment~bpf/xlb_decap.bpf.c~s/\tif \(ip->frag_off & bpf_htons\(IPV4_MF \| IPV4_OFFSET\)\)\n\t\treturn XLB_DC_FRAGMENT;\n//~killed"
"too-big-for-fragments~bpf/icmp.h~s/\(p->flags & \(PKT_F_ICMP_ERR \| PKT_F_FRAG\)\)/(p->flags & PKT_F_ICMP_ERR)/~killed"
"tcp-doff-bound-plus4~bpf/parse.h~s/l4_off \+ th->doff \* 4 > l3_end/l4_off + th->doff * 4 + 4 > l3_end/~killed"
"udp-bound-plus1~bpf/parse.h~s/l4_off \+ sizeof\(\*uh\) > l3_end/l4_off + sizeof(*uh) + 1 > l3_end/~killed"
"pick-ignores-owning-vip~bpf/select.h~s/ \|\| out->vip_id != vip_id\)/)/~killed"
"last-seen-never-refreshed~bpf/flowtab.h~s/\tif \(f->last_seen != now\)\n\t\tf->last_seen = now;\n//~killed"
"frag-later-own-ports~bpf/frag.h~s/\tp->key.sport = f->sport;\n\tp->key.dport = f->dport;\n//~killed"
"frag-orphan-passes~bpf/xlb.bpf.c~s/XLB_C_DROP_FRAG_ORPHAN, XDP_DROP/XLB_C_DROP_FRAG_ORPHAN, XDP_PASS/~killed"
"ipv6-atomic-is-fragment~bpf/parse.h~s/break;(\t\t\/\* atomic \*\/)/;\$1/~killed"
"icmp-error-to-any-dst~bpf/parse.h~s/ip->saddr != p->key.dst.v4 \|\|/0 ||/~killed"
"quote-later-frag-followed~bpf/parse.h~s/\t\tif \(c.frag & PKT_F_FRAG_LATER\)\n\t\t\treturn PARSE_OK;\n//~killed"
)

git ls-files -z --cached --others --exclude-standard |
	tar --null -T - -cf - 2>/dev/null | tar -C "$SCRATCH" -xf -
killed=0
survived=0
bad=0
for m in "${MUTANTS[@]}"; do
	IFS='~' read -r name file subst want <<<"$m"
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
		continue
	fi
	cp "$file" "$SCRATCH/$file"
	perl -0pi -e "$subst" "$SCRATCH/$file"
	if cmp -s "$file" "$SCRATCH/$file"; then
		echo "mutant $name: substitution did not apply to $file"
		bad=$((bad + 1))
		continue
	fi
	if ! make -C "$SCRATCH" -j2 build/xlb-difftest >"$SCRATCH/make.log" 2>&1; then
		echo "mutant $name: build failed"; tail -5 "$SCRATCH/make.log"
		bad=$((bad + 1))
	else
		out=$("$SCRATCH/build/xlb-difftest" --frames "$FRAMES" \
			--seed "$SEED" --quiet 2>&1)
		n=$(echo "$out" | sed -n 's/.*mismatches \([0-9]*\)$/\1/p')
		if [ "${n:-0}" -gt 0 ]; then
			echo "mutant $name: killed ($n mismatches in $FRAMES frames)"
			killed=$((killed + 1))
		else
			echo "mutant $name: survived ($want)"
			survived=$((survived + 1))
			bad=$((bad + 1))
		fi
	fi
	cp "$file" "$SCRATCH/$file"
done
echo "mutants: $killed killed, $survived survived"
[ $bad -eq 0 ]
