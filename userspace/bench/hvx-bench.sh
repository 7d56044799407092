#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvx-bench.sh [BENCH OPTIONS]: hvx against KVM on this machine, side by side.
#
# Runs hvx-bench on hvx (hvx.ko loaded), unloads hvx, loads KVM from
# $HVX_KVM_DIR (default /kvm: irqbypass.ko, ccp.ko, kvm.ko, kvm-amd.ko, or
# kvm-intel.ko on Intel; .ko.xz accepted), runs hvx-kvm-bench with the same
# guests and options, and prints a table of microseconds per round trip and
# the hvx/KVM ratio.  The numbers are reported, never judged: the exit status
# is non-zero only when a client could not run.  Options (e.g. -n 5000) go to
# both clients.  busybox ash compatible.

bindir=$(dirname "$0")
kvm_dir=${HVX_KVM_DIR:-/kvm}
tmp=${TMPDIR:-/tmp}/hvx-bench.$$
status=0

mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT

say() {
	echo "hvx-bench.sh: $*"
}

# Value of TEST from a client's output FILE ("pio: N iterations, X us ...").
field() {
	awk -v t="$1:" '$1 == t { print $4; exit }' "$2"
}

load_module() {
	name=$1
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

say "hvx: running hvx-bench $*"
if "$bindir/hvx-bench" "$@" >"$tmp/hvx.out"; then
	cat "$tmp/hvx.out"
else
	cat "$tmp/hvx.out"
	say "hvx-bench failed"
	status=1
fi

if [ -d /sys/module/hvx ]; then
	rmmod hvx || { say "rmmod hvx failed: KVM cannot take over SVM/VMX"; status=1; }
fi

if grep -qw vmx /proc/cpuinfo; then
	kvm_modules="irqbypass kvm kvm-intel"
else
	kvm_modules="irqbypass ccp kvm kvm-amd"
fi
kvm_ok=1
for m in $kvm_modules; do
	load_module "$m" || { kvm_ok=0; break; }
done

if [ $kvm_ok = 1 ]; then
	say "KVM: running hvx-kvm-bench $*"
	if "$bindir/hvx-kvm-bench" "$@" >"$tmp/kvm.out"; then
		cat "$tmp/kvm.out"
	else
		cat "$tmp/kvm.out"
		say "hvx-kvm-bench failed"
		status=1
	fi
else
	say "KVM modules did not load; no KVM numbers"
	status=1
	: >"$tmp/kvm.out"
fi

echo
printf '%-8s %14s %14s %10s\n' test "hvx us/trip" "KVM us/trip" "hvx/KVM"
for t in pio cpuid; do
	h=$(field $t "$tmp/hvx.out")
	k=$(field $t "$tmp/kvm.out")
	ratio=$(awk -v h="$h" -v k="$k" 'BEGIN {
		if (h == "" || k == "" || k + 0 == 0) print "-"; else printf "%.2f", h / k }')
	printf '%-8s %14s %14s %10s\n' $t "${h:--}" "${k:--}" "$ratio"
done
echo "(target for pio: hvx/KVM <= 0.75; reported only)"
exit $status
