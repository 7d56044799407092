#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvx-bench.sh [BENCH OPTIONS]: hvx against KVM on this machine, side by side.
#
# Runs hvx-bench on hvx (hvx.ko loaded), then again with hvx's counters
# off (hvx.ko reloaded from $HVX_KO with stats=0) to show what they cost,
# unloads hvx, loads KVM from
# $HVX_KVM_DIR (default /kvm), runs hvx-kvm-bench with the same guests and
# options, and prints a table of microseconds per round trip and the hvx/KVM
# ratio.  The numbers are reported, never judged: the exit status is non-zero
# only when a client could not run.  Options (e.g. -n 5000) go to both
# clients.  busybox ash compatible.
#
# Environment:
#   HVX_KVM_DIR    KVM modules; insmod order from its ORDER file (one module
#                  file name per line) if there is one, else irqbypass ccp
#                  kvm kvm-amd (irqbypass kvm kvm-intel on Intel); .ko or .ko.xz
#   HVX_GUEST_DIR  the bench-TEST.bin guests; default ../guests next
#                  to this script, else /guests
#   HVX_BENCH_TIMEOUT  seconds allowed per client, default 600 (a hung guest
#                  must not hang the whole run)
#   HVX_KO         hvx.ko to reload with stats=0; without it that run is skipped

bindir=$(dirname "$0")
kvm_dir=${HVX_KVM_DIR:-/kvm}
guest_dir=${HVX_GUEST_DIR:-}
if [ -z "$guest_dir" ]; then
	guest_dir=$bindir/../guests
	[ -f "$guest_dir/bench-pio.bin" ] || guest_dir=/guests
fi
tmp=${TMPDIR:-/tmp}/hvx-bench.$$
status=0
limit=${HVX_BENCH_TIMEOUT:-600}

mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT

say() {
	echo "hvx-bench.sh: $*"
}

# run CMD...: CMD under the time limit, when a timeout command exists.
run() {
	if command -v timeout >/dev/null 2>&1; then
		timeout "$limit" "$@"
	else
		"$@"
	fi
}

# Value of TEST from a client's output FILE ("pio: N iterations, X us ...").
field() {
	awk -v t="$1:" '$1 == t { print $4; exit }' "$2"
}

load_module() {
	name=${1%.xz}
	name=${name%.ko}
	sysname=$(echo "$name" | tr - _)
	[ -d "/sys/module/$sysname" ] && return 0
	if [ -f "$kvm_dir/$name.ko" ]; then
		ko=$kvm_dir/$name.ko
	elif [ -f "$kvm_dir/$name.ko.xz" ]; then
		ko=$tmp/$name.ko
		xz -dc "$kvm_dir/$name.ko.xz" >"$ko" || return 1
	else
		say "no $name.ko or $name.ko.xz in $kvm_dir"
		return 1
	fi
	insmod "$ko" || { say "insmod $ko failed"; return 1; }
}

say "hvx: running hvx-bench -d $guest_dir $*"
if run "$bindir/hvx-bench" -d "$guest_dir" "$@" >"$tmp/hvx.out"; then
	cat "$tmp/hvx.out"
else
	cat "$tmp/hvx.out"
	say "hvx-bench failed or ran out of its ${limit}s"
	status=1
fi

# The same on hvx without counters: their cost is the difference.
: >"$tmp/nostats.out"
if [ -n "${HVX_KO:-}" ] && [ -f "$HVX_KO" ] && [ -d /sys/module/hvx ]; then
	if rmmod hvx && insmod "$HVX_KO" stats=0; then
		say "hvx, counters off (stats=0): running hvx-bench -d $guest_dir $*"
		if run "$bindir/hvx-bench" -d "$guest_dir" "$@" >"$tmp/nostats.out"; then
			cat "$tmp/nostats.out"
		else
			cat "$tmp/nostats.out"
			say "hvx-bench (stats=0) failed"
			status=1
		fi
	else
		say "could not reload $HVX_KO with stats=0"
		status=1
	fi
fi

if [ -d /sys/module/hvx ]; then
	rmmod hvx || { say "rmmod hvx failed: KVM cannot take over SVM/VMX"; status=1; }
fi

if [ -f "$kvm_dir/ORDER" ]; then
	kvm_modules=$(cat "$kvm_dir/ORDER")
elif grep -qw vmx /proc/cpuinfo; then
	kvm_modules="irqbypass kvm kvm-intel"
else
	kvm_modules="irqbypass ccp kvm kvm-amd"
fi
kvm_ok=1
for m in $kvm_modules; do
	load_module "$m" || { kvm_ok=0; break; }
done

if [ $kvm_ok = 1 ]; then
	say "KVM: running hvx-kvm-bench -d $guest_dir $*"
	if run "$bindir/hvx-kvm-bench" -d "$guest_dir" "$@" >"$tmp/kvm.out"; then
		cat "$tmp/kvm.out"
	else
		cat "$tmp/kvm.out"
		say "hvx-kvm-bench failed or ran out of its ${limit}s"
		status=1
	fi
else
	say "KVM modules did not load; no KVM numbers"
	status=1
	: >"$tmp/kvm.out"
fi

echo
tests="pio cpuid outsb outsb1 mmio mmio3 timer ipi ipihlt"
printf '%-8s %14s %14s %10s\n' test "hvx us/trip" "KVM us/trip" "hvx/KVM"
for t in $tests; do
	h=$(field $t "$tmp/hvx.out")
	k=$(field $t "$tmp/kvm.out")
	ratio=$(awk -v h="$h" -v k="$k" 'BEGIN {
		if (h == "" || k == "" || k + 0 == 0) print "-"; else if (h / k < 0.1) printf "%.4f", h / k; else printf "%.2f", h / k }')
	printf '%-8s %14s %14s %10s\n' $t "${h:--}" "${k:--}" "$ratio"
done
echo "(target: hvx/KVM <= 0.5 for every round trip; outsb1 and mmio3 are hvx without its run-page shortcuts; reported only)"

echo
printf '%-8s %14s %14s %10s\n' test "counters on" "counters off" "cost"
for t in $tests; do
	h=$(field $t "$tmp/hvx.out")
	n=$(field $t "$tmp/nostats.out")
	cost=$(awk -v h="$h" -v n="$n" 'BEGIN {
		if (h == "" || n == "" || n + 0 == 0) print "-"; else printf "%+.1f%%", (h - n) * 100 / n }')
	printf '%-8s %14s %14s %10s\n' $t "${h:--}" "${n:--}" "$cost"
done
echo "(target for the counters: at most 2%; reported only; emulated timings are noisy)"
exit $status
