#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: GPL-2.0
#
# /init of the rig's initramfs (see scripts/rig.sh, Documentation/testing.rst).
# Runs in the emulated machine: loads hvx.ko, then runs the selftests, the
# demo or the benchmark as /hvx/rig.conf says, and powers off.  The host
# reads the results from the serial console; every line starting with HVX-
# is a marker for it.  This script prints no TAP of its own: every TAP line
# between HVX-TEST-BEGIN and HVX-TEST-END comes from that test.

/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ln -sf /proc/self/fd /dev/fd 2>/dev/null
hostname hvx-rig

# MODE, TEST_TIMEOUT, DEMO_CMD, DEMO_TIMEOUT, BENCH_CMD, HVX_VERSION
# shellcheck source=/dev/null # written by scripts/rig.sh
. /hvx/rig.conf

export HVX_KO=/hvx/hvx.ko
export HVX_KVM_DIR=/kvm
# The tests' guest artefacts: mbkernel.elf, the flat guests, linux/.
export HVX_GUEST_DIR=/guests
export HOME=/root

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# Kernel messages since the last call, between markers, then cleared, so
# the host can tell which test a splat happened under.
dmesg_section() {
	echo "HVX-DMESG-BEGIN $1"
	dmesg -c
	echo "HVX-DMESG-END $1"
}

# The vendor of the emulated CPU (svm under QEMU, vmx under Bochs) picks
# the kernel's KVM modules: /kvm/ORDER is the insmod order for this CPU.
cpu=none
grep -qw svm /proc/cpuinfo && cpu=svm
grep -qw vmx /proc/cpuinfo && cpu=vmx
# Bochs runs a guest second in about a host second: tests that boot whole
# Linux guests allow them more time there (HVX_SLOW_CPU).
[ "$cpu" = vmx ] && export HVX_SLOW_CPU=1
[ -f "/kvm/ORDER-$cpu" ] && cp "/kvm/ORDER-$cpu" /kvm/ORDER

# Whether it has AMD nested paging: the rig's svm-nonpt runs must not.
npt=no
grep -qw npt /proc/cpuinfo && npt=yes

echo
echo "HVX-INIT uptime=$(uptime_s) kernel=$(uname -r) mode=$MODE cpus=$(nproc) cpu=$cpu npt=$npt"

# Modules hvx.ko depends on, if any, in load order.
if [ -f /hvx/deps ]; then
	while read -r m; do
		insmod "/hvx/$m" || echo "HVX-INSMOD-FAILED $m"
	done </hvx/deps
fi
if [ -f /hvx/hvx.ko ]; then
	if insmod /hvx/hvx.ko; then
		# The module loaded is the one of this checkout (DKMS
		# upgrades included): its version is dkms.conf's.
		v=$(cat /sys/module/hvx/version 2>/dev/null || echo none)
		[ "$v" = "$HVX_VERSION" ] ||
			echo "HVX-INSMOD-FAILED hvx.ko version $v, want $HVX_VERSION"
		# For gdb's add-symbol-file (Documentation/testing.rst).
		secs=""
		for sec in .text .data .bss; do
			f=/sys/module/hvx/sections/$sec
			[ -r "$f" ] && secs="$secs $sec=$(cat "$f")"
		done
		echo "HVX-INSMOD-OK$secs"
	else
		echo "HVX-INSMOD-FAILED hvx.ko rc=$?"
	fi
else
	echo "HVX-INSMOD-FAILED hvx.ko missing"
fi
dmesg_section boot

# Live (not zombie) processes of process group $1.
pgrp_members() {
	for p in /proc/[0-9]*; do
		read -r n comm state _ pgrp _ <"$p/stat" 2>/dev/null || continue
		[ "$pgrp" = "$1" ] && [ "$state" != Z ] && echo "$n$comm"
	done
}

# stuck NAME PGID: processes that cannot be killed are stuck in the kernel,
# which is not worth going on with: show where they are, dump blocked
# tasks and power off.
stuck() {
	echo "HVX-STUCK $1: cannot be killed; kernel stacks:"
	for p in /proc/[0-9]*; do
		read -r n comm state _ pgrp _ <"$p/stat" 2>/dev/null || continue
		[ "$pgrp" = "$2" ] || continue
		echo "$n $comm state $state:"
		cat "$p/stack" 2>/dev/null
	done
	echo l >/proc/sysrq-trigger
	echo w >/proc/sysrq-trigger
	dmesg_section "$1"
	echo "HVX-POWEROFF uptime=$(uptime_s) (stuck)"
	poweroff -f
}

# watchdog PID NAME SECONDS: kills a run that outlives SECONDS, with its
# whole process group (the kselftest harness forks a child per test case).
watchdog() {
	i=0
	while [ "$i" -lt "$3" ]; do
		sleep 1
		i=$((i + 1))
	done
	echo "HVX-TIMEOUT $2 after ${3}s"
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
	sleep 5
	kill -KILL -- "-$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null
	sleep 20
	[ -e "/tmp/done.$2" ] || stuck "$2" "$1"
}

# User processes (not kernel threads), one pid per line.
user_pids() {
	for p in /proc/[0-9]*; do
		[ -e "$p/exe" ] && echo "${p#/proc/}"
	done
}

# kill_strays NAME PIDS: kills the user processes that are not in PIDS (the
# list from before NAME ran) nor in this shell's session (the watchdog's
# last sleep may still be there): what NAME left behind outside its process
# group, e.g. a launcher in a session of its own whose test was killed on a
# timeout, still holding /dev/hvx.  Builtins only, so that the loop starts
# no process of its own.
kill_strays() {
	read -r _ _ _ _ _ mysid _ </proc/$$/stat
	for p in /proc/[0-9]*; do
		[ -e "$p/exe" ] || continue
		case " $2 " in *" ${p#/proc/} "*) continue ;; esac
		read -r n comm _ _ _ sid _ <"$p/stat" 2>/dev/null ||
			continue
		[ "$sid" = "$mysid" ] && continue
		echo "# left behind by $1 outside its process group: $n $comm - killing it"
		kill -KILL "$n" 2>/dev/null
	done
}

# run_watched NAME SECONDS DIR CMD...: runs CMD in DIR, in a session of its
# own, under a watchdog; sets rc.  Processes of the session left behind
# (a harness child stuck in an ioctl) are killed; if they do not die, the
# run ends here.  So are processes it started elsewhere (kill_strays).
run_watched() {
	name=$1
	secs=$2
	dir=$3
	shift 3
	before=$(user_pids | tr '\n' ' ')
	(cd "$dir" && exec setsid "$@") </dev/null &
	pid=$!
	watchdog "$pid" "$name" "$secs" &
	wd=$!
	wait "$pid"
	rc=$?
	touch "/tmp/done.$name"
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	left=$(pgrp_members "$pid")
	if [ -n "$left" ]; then
		# shellcheck disable=SC2086 # split: the pids on one line
		echo "# left behind by $name:" $left "- killing them"
		kill -KILL -- "-$pid" 2>/dev/null
		i=0
		while [ "$i" -lt 10 ] && [ -n "$(pgrp_members "$pid")" ]; do
			sleep 1
			i=$((i + 1))
		done
		[ -z "$(pgrp_members "$pid")" ] || stuck "$name" "$pid"
	fi
	kill_strays "$name" "$before"
}

# run_test NAME: runs /selftests/NAME; NAME@shadow runs it with VMs in
# shadow paging (HVX_PAGING=shadow, read by the tests' VM setup).
run_test() {
	name=$1
	exe=${name%@shadow}
	echo "HVX-TEST-BEGIN $name"
	t0=$(uptime_s)
	if [ "$exe" != "$name" ]; then
		export HVX_PAGING=shadow
	else
		unset HVX_PAGING
	fi
	if [ -x "/selftests/$exe" ]; then
		run_watched "$name" "$TEST_TIMEOUT" /selftests "./$exe"
	else
		echo "# /selftests/$exe: no such executable"
		rc=127
	fi
	unset HVX_PAGING
	dmesg_section "$name"
	echo "HVX-TEST-END $name rc=$rc start=$t0 end=$(uptime_s)"
}

# A kernel with kmemleak (the debug kernel): what the boot left is not
# ours; after the suite, anything unreferenced is a leak and fails the run.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_check() {
	[ -w $KMEMLEAK ] || return 0
	# Objects younger than 5 s are never reported: let the last test's age.
	sleep 6
	echo scan >$KMEMLEAK
	echo scan >$KMEMLEAK
	if grep -q 'unreferenced object' $KMEMLEAK; then
		echo "HVX-KMEMLEAK-FOUND $(grep -c 'unreferenced object' $KMEMLEAK) objects"
		cat $KMEMLEAK
	else
		echo "HVX-KMEMLEAK clean"
	fi
}

case $MODE in
check)
	[ -w $KMEMLEAK ] && echo clear >$KMEMLEAK
	echo "HVX-SUITE-BEGIN $(tr '\n' ' ' </selftests/TESTS)"
	while read -r t; do
		[ -n "$t" ] && run_test "$t"
	done </selftests/TESTS
	kmemleak_check
	echo "HVX-SUITE-END"
	;;
demo)
	echo "HVX-DEMO-BEGIN"
	echo "\$ $DEMO_CMD"
	run_watched demo "$DEMO_TIMEOUT" / sh -c "$DEMO_CMD"
	echo "HVX-DEMO-END rc=$rc"
	;;
bench)
	echo "HVX-BENCH-BEGIN"
	if [ -x "$BENCH_CMD" ]; then
		"$BENCH_CMD"
		rc=$?
	else
		echo "no $BENCH_CMD in this build: nothing to measure"
		rc=0
	fi
	echo "HVX-BENCH-END rc=$rc"
	;;
shell)
	echo "HVX-SHELL (exit or poweroff -f to leave)"
	setsid cttyhack sh
	;;
esac

# The machine goes down under a running guest: the reboot notifier takes
# every CPU out of SVM/VMX operation, and the vCPU, which keeps entering
# the guest at each host timer tick, must not touch SVM/VMX again (a VMX
# instruction would oops; SVM would be turned back on).
if [ "$MODE" = check ] && [ -e /dev/hvx ] && command -v hvx-run >/dev/null; then
	printf '\353\376' >/tmp/spin.bin	# jmp .
	hvx-run --mem 16 --flat /tmp/spin.bin --entry long:0x100000 \
		</dev/null >/tmp/spin.out 2>&1 &
	sleep 1
	if kill -0 $! 2>/dev/null; then
		echo "HVX-POWEROFF-GUEST running (pid $!)"
	else
		echo "HVX-POWEROFF-GUEST did not start: $(cat /tmp/spin.out)"
	fi
fi

dmesg_section end
echo "HVX-POWEROFF uptime=$(uptime_s)"
sync
poweroff -f
