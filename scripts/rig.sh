#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rig.sh check|demo|bench|shell: run hvx in emulated AMD-V and VT-x machines.
#
# For each vendor and each kernel with headers in /lib/modules, build a
# busybox initramfs holding that kernel's hvx.ko, the tools, the selftests,
# the guests and the kernel's own KVM modules, boot it and read the results
# from the serial console: AMD SVM ("svm") under QEMU TCG (-cpu max exposes
# SVM and NPT), the same without NPT ("svm-nonpt": every VM gets shadow
# paging), Intel VMX ("vmx") under Bochs (VMX with EPT, VPID and
# unrestricted guest), booted straight into the kernel's PVH entry by
# scripts/rig-boot.S.  Each emulator's settings are in scripts/rig/:
# qemu.conf and bochs.conf.  See Documentation/testing.rst.
#
#   check  run the selftests listed in build/selftests/hvx/TESTS; print
#          per-kernel results, then "skipped: N" and, last, "N passed,
#          N failed"; exit non-zero on any failure, kernel splat or crash
#   demo   run DEMO_CMD (below) on one kernel and show the guest's output
#   bench  run hvx-bench.sh on each kernel; never fails on a number
#   shell  boot one kernel to an interactive busybox shell
#   parse LOG...  summarise saved check logs again (no boot)
#   kernels  list the kernels a run covers, oldest first
#
# Environment:
#   HVX_TESTS="a b"    run only these tests (names from TESTS)
#   HVX_KVERS="v1 v2"  only these kernels (default: all with headers)
#   HVX_EXTRA_KROOT=D  also run the kernels installed under D (D/boot and
#                      D/lib/modules, as scripts/debug-kernel.sh makes them),
#                      for the vendors in HVX_EXTRA_VENDORS (default svm),
#                      before the others
#   HVX_VENDORS="svm vmx"  only these vendors (default: DEFAULT_VENDORS below):
#                      svm, svm-nonpt, vmx
#   HVX_QEMU_GDB=1     start QEMU halted with its gdbstub on :1234 (-s -S)
#   HVX_USE_DKMS=1     boot build/<kver>/hvx-dkms.ko (make dkms-check)
#   HVX_BOOT_TIMEOUT   seconds for one boot, default 1200 (svm), 3600 (vmx),
#                      twice that for the debug kernel
#   HVX_TEST_TIMEOUT   seconds (guest time) for one test executable,
#                      default 600 (svm), 1800 (vmx)
#   HVX_DEMO_TIMEOUT   seconds (guest time) for the demo command, default
#                      120 (svm), 480 (vmx)
#   HVX_QEMU_MEM       memory of the QEMU machine in MiB, default 2048
#   HVX_BOCHS_CPUS     CPUs of the Bochs machine, default 2
#   HVX_BOCHS_IPS      its emulated instructions per second, default
#                      50000000
#   HVX_BOCHS_MEM      its memory in MiB, default 2048
#   HVX_RIG_JOBS=N     up to N runs (kernel and vendor) at once, default 1;
#                      each run's progress is shown when it is done
#   HVX_RIG_LOCK       lock file that keeps to one rig per host
#   HVX_VERBOSE=1      show the whole serial console while it runs
#   HVX_KERNEL_APPEND  more on the emulated host's command line (nokaslr)
#   HVX_QEMU_EXTRA     more QEMU options ("-d int -D /tmp/q.log")
#   HVX_FUZZ_SEED, _CALLS, _SECS, _SKIP  passed to fuzz_test
#   HVX_GUESTFUZZ_SEED, _ITERS, _FIRST, _VERBOSE  passed to guestfuzz_test
#   HVX_DEMO_CMD       command line of the demo
#   BUILD              build directory, default <top>/build
set -eu

# The demo: what `make demo` runs in the emulated machine.
# Debian's kernel (the emulated host's own) boots under hvx-run to a busybox
# initramfs (scripts/guest-init.sh), runs guest_cmd and powers off.
DEMO_APPEND="console=ttyS0 earlyprintk=serial,ttyS0,115200"
DEMO_APPEND+=" panic=-1 guest_cmd=\"uname -a; grep -c ^processor /proc/cpuinfo; cat /proc/interrupts\""
DEMO_CMD=${HVX_DEMO_CMD:-"hvx-run --cpus 2 --kernel /guests/linux/vmlinuz --initrd /guests/linux/initrd.gz --append '$DEMO_APPEND'"}
BENCH_CMD=/usr/bin/hvx-bench.sh

# Run on HVX_EXTRA_KROOT's kernels (the debug kernel) after the others:
# fuzz_test's default run (20,000 calls, at most 60 s) under the checkers.
DEBUG_TESTS="fuzz_test"

# The tests that run a second time with HVX_PAGING=shadow (as NAME@shadow):
# their VMs use shadow paging instead of EPT/NPT.  paging_test compares the
# two modes itself; the launcher tests choose the mode per case.
SHADOW_TESTS="exits_test stringio_test syncregs_test intercept_test modes_test state_test memory_test multi_test signal_test
	shutdown_test virt_insn_test emul_test apic_test"

# The tests of svm-nonpt (a CPU without NPT) when HVX_TESTS is not set: the
# vendor-neutral ones, whose VMs get shadow paging there by default, and
# those about the paging mode a VM gets.
NONPT_TESTS="badinput_test exits_test stringio_test syncregs_test intercept_test modes_test state_test edge_test memory_test
	multi_test signal_test shutdown_test virt_insn_test emul_test stats_test genl_test trace_test
	hvxstat_test launcher_test paging_test pagestress_test torture_test module_test apic_test"

# The vendors a run covers when HVX_VENDORS is not set.  svm-nonpt last: its
# short runs fill a slot that a shorter vmx run leaves (HVX_RIG_JOBS=2); it
# is a default of check only (bench runs it when named).  The demo shows one
# guest on the fastest emulated machine, QEMU's AMD one, unless named.
DEFAULT_VENDORS="svm vmx svm-nonpt"
DEMO_VENDORS="svm"

# oops=panic with panic=-1 and -no-reboot: an oops ends the run at once
# (QEMU exits) instead of leaving a half-dead kernel to time out.  WARNs do
# not panic: the suite goes on and the host finds them in the log.
# loglevel=4 keeps routine messages off the console so they cannot split
# the tests' TAP lines; the init prints dmesg after each test instead.
# no_timer_check: the emulated host's kernel counts timer interrupts over a
# busy-wait at boot and panics ("IO-APIC + timer doesn't work") when they
# come late, which a single-threaded emulator on a loaded host can make
# them do (seen once with two runs and Bochs sharing two host cores);
# Linux skips the same check itself under KVM.
CMDLINE="console=ttyS0,115200 loglevel=4 printk.time=1 panic=-1 oops=panic"
CMDLINE+=" cryptomgr.notests no_timer_check"

top=$(cd "$(dirname "$0")/.." && pwd)
# The emulators' settings: the QEMU machine (svm, svm-nonpt) and the Bochs
# one (vmx), each with its default timeouts (*_TIMEOUT_SVM, *_TIMEOUT_VMX),
# which HVX_*_TIMEOUT override.
# shellcheck source=/dev/null # checked on its own by make check-static
. "$top/scripts/rig/qemu.conf"
# shellcheck source=/dev/null # likewise
. "$top/scripts/rig/bochs.conf"
BOOT_TIMEOUT=${HVX_BOOT_TIMEOUT:-}
TEST_TIMEOUT=${HVX_TEST_TIMEOUT:-}
DEMO_TIMEOUT=${HVX_DEMO_TIMEOUT:-}
BUILD=${BUILD:-$top/build}
# The module loaded in the emulated machine must report this version.
HVX_VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
RIG=$BUILD/rig

die() { echo "rig: $*" >&2; exit 2; }
usage() { sed -n '3,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# Kernel messages that fail the run wherever they appear.  Matched only on
# kernel log lines (they carry a "[ seconds.micros]" timestamp), never on
# the tests' own output.
SPLAT_RE='WARNING:|BUG:|KASAN:|UBSAN:|KFENCE:|general protection|Oops|'
SPLAT_RE+='possible circular locking|possible recursive locking|INFO: |'
SPLAT_RE+='Kernel panic|kernel BUG at|Call Trace:|detected stalls|'
SPLAT_RE+='refcount_t: |list_(add|del) corruption|\[#[0-9]+\]'
# Benign messages of the emulated machine that match the above, each with
# its reason.  Extended regular expression, empty for none.
SPLAT_ALLOW=''
# Terminal resets the firmware and kernel send, and the serial line's CRs
# (scripts/rig-summary.py drops them the same way).
CLEAN_SED='s/\x1b\(c\|\[[0-9;?]*[A-Za-z]\)//g; s/\r$//'
TS_RE='\[ *[0-9]+\.[0-9]+\]'

# Seconds since $1 (an $EPOCHREALTIME), with one decimal.
since() {
	local d=$(( ${EPOCHREALTIME/./} - ${1/./} ))
	printf '%d.%d' $((d / 1000000)) $((d / 100000 % 10))
}

kernels() {
	local v
	if [ -n "${HVX_KVERS:-}" ]; then
		for v in $HVX_KVERS; do
			[ -f "$(kroot "$v")/boot/vmlinuz-$v" ] ||
				die "no /boot/vmlinuz-$v (HVX_KVERS)"
			echo "$v"
		done
		return
	fi
	system_kernels
}

# The kernels installed on this system, oldest first.
system_kernels() {
	local d v
	for d in /lib/modules/*/build; do
		[ -d "$d" ] || continue
		v=$(basename "$(dirname "$d")")
		[ -f "/boot/vmlinuz-$v" ] && echo "$v"
	done | sort -V
}

# Kernels installed under HVX_EXTRA_KROOT (the debug kernel).
extra_kernels() {
	local d
	[ -n "${HVX_EXTRA_KROOT:-}" ] || return 0
	for d in "$HVX_EXTRA_KROOT"/lib/modules/*/build; do
		[ -d "$d" ] || continue
		d=$(basename "$(dirname "$d")")
		[ -f "$HVX_EXTRA_KROOT/boot/vmlinuz-$d" ] && echo "$d"
	done | sort -V
}

# The root kernel $1 is installed under: "" for /, or HVX_EXTRA_KROOT.
kroot() {
	if [ -n "${HVX_EXTRA_KROOT:-}" ] && [ -d "$HVX_EXTRA_KROOT/lib/modules/$1" ]; then
		echo "$HVX_EXTRA_KROOT"
	fi
}

# Modules needed to load $2 in kernel $1, in load order, as paths relative
# to /lib/modules/$1.  A modules.dep line ("path: dep dep ...") already
# lists the whole closure; like modprobe, load it from the last one.
mod_closure() {
	local kver=$1 name=$2 dep line d order=""
	dep=$(kroot "$kver")/lib/modules/$kver/modules.dep
	line=$(grep -E "(^|/)$name\.ko(\.[gx]z|\.zst)?:" "$dep" | head -n 1) ||
		die "$name not found in $dep"
	for d in ${line#*:}; do
		order="$d $order"
	done
	echo "$order${line%%:*}"
}

# by_vendor VENDOR SET SVM VMX: SET if not empty, else VENDOR's default
# (svm-nonpt has svm's).
by_vendor() {
	if [ -n "$2" ]; then
		echo "$2"
	elif [ "$1" = vmx ]; then
		echo "$4"
	else
		echo "$3"
	fi
}

# The KVM module of vendor $1.
kvm_module() {
	case $1 in
	svm) echo kvm-amd ;;
	vmx) echo kvm-intel ;;
	esac
}

# Copy a module file, decompressed, to $2.
copy_module() {
	case $1 in
	*.xz) xz -dc "$1" >"$2" ;;
	*.gz) gzip -dc "$1" >"$2" ;;
	*.zst) zstd -qdc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# Copy the shared libraries of dynamic executables in $1... into $root.
copy_libs() {
	local f lib
	for f in "$@"; do
		[ -f "$f" ] || continue
		for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
			[ -e "$root$lib" ] || cp -L --parents "$lib" "$root/"
		done
	done
}

# test_list VENDOR KVER: the tests to run: TESTS (NONPT_TESTS of it for
# svm-nonpt), or the HVX_TESTS subset of it, one per line.
test_list() {
	local tests=$BUILD/selftests/hvx/TESTS t
	if [ ! -f "$tests" ]; then
		return 0
	fi
	if [ -z "${HVX_TESTS:-}" ] && [ "$1" = svm-nonpt ]; then
		# No @shadow runs: the default mode is shadow paging already.
		for t in $NONPT_TESTS; do
			grep -qx "$t" "$tests" && echo "$t"
		done
		return 0
	fi
	if [ -z "${HVX_TESTS:-}" ]; then
		grep -v '^[[:space:]]*$' "$tests" || true
		# The vendor-neutral tests again, in VMs with shadow paging.
		for t in $SHADOW_TESTS; do
			grep -qx "$t" "$tests" && echo "$t@shadow"
		done
		# On the debug kernel, a short fuzz run with its checkers on.
		if [ -n "$(kroot "$2")" ]; then
			for t in $DEBUG_TESTS; do
				[ -x "$BUILD/selftests/hvx/$t" ] && echo "$t"
			done
		fi
		return 0
	fi
	for t in $HVX_TESTS; do
		grep -qx "${t%@shadow}" "$tests" || [ -x "$BUILD/selftests/hvx/${t%@shadow}" ] ||
			die "HVX_TESTS: no test '$t' (see $tests)"
		echo "$t"
	done
}

# build_guest_initrd FILE: the busybox initramfs of Linux guests under
# hvx-run (scripts/guest-init.sh as /init), once per rig run (built in a
# directory of its own and renamed into place: runs may go in parallel).
build_guest_initrd() {
	local g=$RIG/guest-initrd t=$RIG/guest-initrd.$BASHPID
	if [ ! -f "$g.cpio.gz" ]; then
		rm -rf "$t"
		mkdir -p "$t"/{bin,sbin,proc,sys,dev,tmp}
		cp /bin/busybox "$t/bin/busybox"
		install -m 755 "$top/scripts/guest-init.sh" "$t/init"
		(cd "$t" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
			gzip -9 >"$t.cpio.gz"
		mv -f "$t.cpio.gz" "$g.cpio.gz"
		rm -rf "$t"
	fi
	cp "$g.cpio.gz" "$1"
}

# build_initramfs KVER MODE VENDOR DIR: writes DIR/initramfs.cpio from
# DIR/root, uncompressed: unpacking it is the kernel's work, slow under
# emulation (Bochs took 10 s of guest time to gunzip it).
build_initramfs() {
	local kver=$1 mode=$2 vendor=$3 dir=$4 ko m v p
	root=$dir/root
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc}
	mkdir -p "$root"/{hvx,kvm,selftests,guests}
	cp /bin/busybox "$root/bin/busybox"
	cp "$top/scripts/rig-init.sh" "$root/init"
	chmod 755 "$root/init"
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

	ko=$BUILD/$kver/hvx.ko
	[ "${HVX_USE_DKMS:-0}" = 1 ] && ko=$BUILD/$kver/hvx-dkms.ko
	if [ -f "$ko" ]; then
		[ "${HVX_USE_DKMS:-0}" = 1 ] && echo "   module: $ko (DKMS)"
		cp "$ko" "$root/hvx/hvx.ko"
		# Modules of the kernel that hvx.ko needs (none so far).
		for m in $(modinfo -F depends "$ko" | tr ',' ' '); do
			for p in $(mod_closure "$kver" "$m"); do
				m=$(basename "${p%%.ko*}").ko
				[ -f "$root/hvx/$m" ] && continue
				copy_module "$(kroot "$kver")/lib/modules/$kver/$p" "$root/hvx/$m"
				echo "$m" >>"$root/hvx/deps"
			done
		done
	else
		echo "rig: warning: no $ko" >&2
	fi

	# The kernel's own KVM, for side-by-side benchmarks and coexistence
	# tests, for both vendors: /kvm/ORDER-svm and /kvm/ORDER-vmx list them
	# in insmod order; the init makes /kvm/ORDER of the one its CPU has.
	for v in svm vmx; do
		for p in $(mod_closure "$kver" "$(kvm_module "$v")"); do
			m=$(basename "${p%%.ko*}").ko
			[ -f "$root/kvm/$m" ] ||
				copy_module "$(kroot "$kver")/lib/modules/$kver/$p" "$root/kvm/$m"
			echo "$m" >>"$root/kvm/ORDER-$v"
		done
	done

	if [ -d "$BUILD/bin" ]; then
		cp -a "$BUILD/bin/." "$root/usr/bin/"
		copy_libs "$root"/usr/bin/*
	fi
	if [ -d "$BUILD/selftests/hvx" ]; then
		cp -a "$BUILD/selftests/hvx/." "$root/selftests/"
		find "$root/selftests" -name '*.o' -delete
		copy_libs "$root"/selftests/*
	fi
	test_list "$vendor" "$kver" >"$root/selftests/TESTS"
	if [ -d "$BUILD/guests" ]; then
		cp -a "$BUILD/guests/." "$root/guests/"
	fi
	# With the other guest artefacts, where HVX_GUEST_DIR points.
	[ -f "$root/selftests/mbkernel.elf" ] && mv "$root/selftests/mbkernel.elf" "$root/guests/"
	# A Linux guest: this very kernel (a Debian one for a debug kernel,
	# whose checkers would only slow the guest), and a busybox initramfs.
	mkdir -p "$root/guests/linux"
	if [ -n "$(kroot "$kver")" ]; then
		cp "/boot/vmlinuz-$(system_kernels | tail -n 1)" "$root/guests/linux/vmlinuz"
	else
		cp "/boot/vmlinuz-$kver" "$root/guests/linux/vmlinuz"
	fi
	build_guest_initrd "$root/guests/linux/initrd.gz"

	{
		echo "MODE=$mode"
		echo "TEST_TIMEOUT=$(by_vendor "$vendor" "$TEST_TIMEOUT" \
			"$TEST_TIMEOUT_SVM" "$TEST_TIMEOUT_VMX")"
		echo "DEMO_TIMEOUT=$(by_vendor "$vendor" "$DEMO_TIMEOUT" \
			"$DEMO_TIMEOUT_SVM" "$DEMO_TIMEOUT_VMX")"
		echo "HVX_VERSION=$HVX_VERSION"
		# The fuzzer's knobs (make fuzz), passed on to the tests.
		for v in HVX_FUZZ_SEED HVX_FUZZ_CALLS HVX_FUZZ_SECS HVX_FUZZ_SKIP \
			HVX_GUESTFUZZ_SEED HVX_GUESTFUZZ_ITERS HVX_GUESTFUZZ_FIRST \
			HVX_GUESTFUZZ_VERBOSE; do
			[ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"
		done
		printf 'DEMO_CMD=%q\n' "$DEMO_CMD"
		echo "BENCH_CMD=$BENCH_CMD"
	} >"$root/hvx/rig.conf"

	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
		>"$dir/initramfs.cpio"
}

# summarise LOG LIST: the summary of one check log, "PASS|FAIL|SKIP <count>
# <what>" lines, for the tests in LIST (blank-separated; if empty, those of
# the log's HVX-SUITE-BEGIN).  scripts/rig-summary.py says how results are
# counted (also in Documentation/testing.rst).
summarise() {
	"$top/scripts/rig-summary.py" --tests "$2" --splat "$SPLAT_RE" \
		--allow "$SPLAT_ALLOW" "$1"
}

# report WHAT SUM WALL UPTIME INIT: prints the report of one run (kernel and
# vendor) from its summary SUM and adds to the totals.
report() {
	local kver=$1 sum=$2 wall=$3 boot=$4 init=$5 p f s
	p=$(awk '$1 == "PASS" { n += $2 } END { print n + 0 }' "$sum")
	f=$(awk '$1 == "FAIL" { n += $2 } END { print n + 0 }' "$sum")
	s=$(awk '$1 == "SKIP" { n += $2 } END { print n + 0 }' "$sum")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	echo "== $kver: $p passed, $f failed, $s skipped" \
		"(init after ${init}s, at guest uptime ${boot}s; wall ${wall}s)"
	sed -n 's/^FAIL [0-9]* /   FAIL /p' "$sum"
}

# fail_details LOG FAILLINE RUN: for a failed test case ("FAIL 1 NAME: not ok
# N CASE" of a summary), what LOG holds of why, 12 lines at most, each cut
# to 160 characters: a timed-out launch's digest ("# launch: ..." lines,
# selftests/hvx/lib/launch.c), then the harness's messages that name a
# source line (failed assertions, TH_LOG), between the case's RUN line and
# its "not ok" line.  The check's output ends with these, so that its last
# lines alone say why a run failed.
fail_details() {
	local name tcase
	[[ $2 =~ ^FAIL\ [0-9]+\ ([^ :]+):\ not\ ok\ [0-9]+\ ([^ ]+) ]] || return 0
	name=${BASH_REMATCH[1]}
	tcase=${BASH_REMATCH[2]}
	echo "   why $3 $name: $tcase:"
	tr -d '\r' <"$1" | awk -v sect="$name" -v tc="$tcase" '
		/HVX-TEST-BEGIN / { insec = ($NF == sect); grab = 0; next }
		/HVX-TEST-END / { insec = 0; next }
		!insec { next }
		$1 == "#" && $2 == "RUN" && $3 == tc { grab = 1; nl = 0; nw = 0; next }
		!grab { next }
		/^[ \t]*not ok [0-9]+ / && index($0, " " tc) {
			for (i = 0; i < nl && i < 12; i++)
				print launch[i]
			for (i = 0; i < nw && nl + i < 12; i++)
				print where[i]
			exit
		}
		/^# launch: / { launch[nl++] = $0; next }
		/^# [^ ]+\.c:[0-9]+:/ { where[nw++] = $0 }
	' | cut -c1-160 | sed 's/^/     /'
}

# why_failed LOG SUM RUN: fail_details of SUM's failed test cases, the
# first three of the whole output (why_shown counts them).
why_shown=0
why_failed() {
	local line
	[ -f "$2" ] || return 0
	while IFS= read -r line && [ "$why_shown" -lt 3 ]; do
		case $line in
		"FAIL "*": not ok "*)
			fail_details "$1" "$line" "$3"
			why_shown=$((why_shown + 1)) ;;
		esac
	done <"$2"
}

# The boot sector of the Bochs disk, assembled from scripts/rig-boot.S.
boot_sector() {
	local src=$top/scripts/rig-boot.S out=$RIG/rig-boot.bin
	if [ ! -f "$out" ] || [ "$src" -nt "$out" ]; then
		{ as --32 -o "$RIG/rig-boot.o" "$src" &&
			ld -m elf_i386 -Ttext 0x7c00 --oformat binary \
				-o "$out" "$RIG/rig-boot.o"; } ||
			die "cannot build the boot sector from $src"
		[ "$(stat -c %s "$out")" = 512 ] || die "$out is not 512 bytes"
	fi
}

# pvh_kernel KVER: the kernel as Bochs boots it, extracted once per vmlinuz
# into $RIG/KVER/: vmlinux.bin, the vmlinux flattened from its physical
# load address (objcopy -O binary) with its trailing zeros (bss, scratch)
# cut, and vmlinux.env: KADDR (load address), ENTRY (the PVH entry point,
# XEN_ELFNOTE_PHYS32_ENTRY = note 18), KEND (end of the image in memory,
# bss included) and KBYTES (size of vmlinux.bin).
pvh_kernel() {
	local kver=$1 img dir=$RIG/$1 setup start len magic
	local t pa ms kaddr=0 kend=0 entry bytes
	img=$(kroot "$kver")/boot/vmlinuz-$kver
	[ -f "$dir/vmlinux.env" ] && [ "$dir/vmlinux.env" -nt "$img" ] && return
	mkdir -p "$dir"
	# The compressed payload, from the boot protocol's setup_sects
	# (0x1f1), payload_offset (0x248) and payload_length (0x24c); its last
	# 4 bytes are the decompressed size, not part of the stream.
	setup=$(od -An -tu1 -j $((0x1f1)) -N 1 "$img" | tr -d ' ')
	[ "$setup" -eq 0 ] && setup=4
	start=$(( (setup + 1) * 512 + $(od -An -tu4 -j $((0x248)) -N 4 "$img") ))
	len=$(od -An -tu4 -j $((0x24c)) -N 4 "$img" | tr -d ' ')
	magic=$(tail -c +$((start + 1)) "$img" | od -An -tx1 -N 4 | tr -d ' ')
	case $magic in
	fd377a58) set -- xz -dc ;;
	28b52ffd) set -- zstd -qdc ;;
	1f8b*) set -- gzip -dc ;;
	*) die "$img: payload compressed in an unknown way (magic $magic)" ;;
	esac
	tail -c +$((start + 1)) "$img" | head -c $((len - 4)) | "$@" \
		>"$dir/vmlinux" || die "$img: cannot decompress its payload"

	entry=$(readelf -n "$dir/vmlinux" |
		awk '/\(0x00000012\)|PHYS32_ENTRY/ { f = 1; next }
		     f && /description data:/ { print "0x" $6 $5 $4 $3; exit }')
	[ -n "$entry" ] || die "$img: no PVH entry point (CONFIG_PVH=y needed)"
	while read -r t _ _ pa _ ms _; do
		[ "$t" = LOAD ] || continue
		{ [ "$kaddr" = 0 ] || [ $((pa)) -lt $((kaddr)) ]; } && kaddr=$((pa))
		[ $((pa + ms)) -gt "$kend" ] && kend=$((pa + ms))
	done < <(readelf -lW "$dir/vmlinux")
	objcopy -O binary "$dir/vmlinux" "$dir/vmlinux.full" ||
		die "$img: objcopy failed"
	rm -f "$dir/vmlinux"
	# RAM starts zeroed: what follows the last non-zero byte need not load.
	bytes=$(perl -e 'open(my $f, "<:raw", $ARGV[0]) or die "$ARGV[0]: $!";
		local $/; my $s = <$f>; my $i = length($s);
		while ($i > 0) {
			my $o = $i > 65536 ? $i - 65536 : 0;
			my $c = substr($s, $o, $i - $o);
			if ($c =~ /[^\0]\0*$/) { print $o + $-[0] + 1; exit }
			$i = $o;
		}
		print 0' "$dir/vmlinux.full")
	head -c "$bytes" "$dir/vmlinux.full" >"$dir/vmlinux.bin"
	rm -f "$dir/vmlinux.full"
	printf 'KADDR=%d\nENTRY=%d\nKEND=%d\nKBYTES=%d\n' \
		"$kaddr" "$entry" "$kend" "$bytes" >"$dir/vmlinux.env"
}

# Little-endian 32- and 64-bit words on stdout.
le32() {
	# shellcheck disable=SC2059 # the format is the octal escapes of the bytes
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) \
		$(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}
le64() { le32 $(($1 & 0xffffffff)); le32 $(($1 >> 32)); }

# pvh_disk KVER INITRD CMDLINE DISK: writes the disk Bochs boots, laid out
# as scripts/rig-boot.S describes: boot sector, parameters (a PVH
# hvm_start_info, the initramfs as its one module, where to load what, the
# command line), the kernel and the initramfs.
pvh_disk() {
	local kver=$1 initrd=$2 cmdline=$3 disk=$4 par=$4.par
	local KADDR ENTRY KEND KBYTES ksec iaddr isize isec P=$((0x7e00))
	pvh_kernel "$kver"
	boot_sector
	# shellcheck source=/dev/null # written by pvh_kernel
	. "$RIG/$kver/vmlinux.env"
	ksec=$(( (KBYTES + 511) / 512 ))
	iaddr=$(( (KEND + 0x1fffff) & ~0x1fffff ))
	isize=$(stat -c %s "$initrd")
	isec=$(( (isize + 511) / 512 ))
	[ $((iaddr + isize)) -lt $(( (BOCHS_MEM - 1) << 20 )) ] ||
		die "kernel and initramfs do not fit in ${BOCHS_MEM} MiB (HVX_BOCHS_MEM)"
	[ ${#cmdline} -lt 384 ] || die "kernel command line over 383 bytes"
	{
		# struct hvm_start_info: magic, version 1, flags, one module,
		# modlist_paddr, cmdline_paddr; the rest the boot sector fills.
		le32 0x336ec578; le32 1; le32 0; le32 1
		le64 $((P + 64)); le64 $((P + 128)); le64 0; le64 0; le64 0; le64 0
		# struct hvm_modlist_entry: paddr, size, cmdline_paddr, reserved
		le64 "$iaddr"; le64 "$isize"; le64 0; le64 0
		le32 2; le32 "$ksec"; le32 "$KADDR"; le32 "$ENTRY"
		le32 $((2 + ksec)); le32 "$isec"; le32 "$iaddr"; le32 0
		printf '%s\0' "$cmdline"
	} >"$par"
	truncate -s 512 "$par"
	cat "$RIG/rig-boot.bin" "$par" "$RIG/$kver/vmlinux.bin" >"$disk"
	rm -f "$par"
	truncate -s $(( (2 + ksec) * 512 )) "$disk"
	cat "$initrd" >>"$disk"
	# Whole cylinders of 16 heads and 63 sectors, as Bochs wants them.
	truncate -s $(( ($(stat -c %s "$disk") + 516095) / 516096 * 516096 )) \
		"$disk"
}

# emu_start PIDFILE SECONDS CMD...: runs the emulator CMD for at most
# SECONDS (0: no limit), its pid in PIDFILE for stop_emulators.
emu_start() {
	local pidf=$1 tmo=$2
	shift 2
	sh -c 'echo $$ >"$0"; exec "$@"' "$pidf" \
		nice timeout --foreground -k 10 "$tmo" "$@"
}

# run_kernel KVER MODE VENDOR: boots and shows progress; sets wall_s,
# boot_s, init_s, qrc.  Everything of the run is in $RIG/KVER-VENDOR-MODE/
# (initramfs, and Bochs's disk, configuration and messages), next to its
# serial log $RIG/KVER-VENDOR-MODE.log.
run_kernel() {
	local kver=$1 mode=$2 vendor=$3 log t0 line gdb_args=() append=$CMDLINE
	[ -n "${HVX_KERNEL_APPEND:-}" ] && append+=" $HVX_KERNEL_APPEND"
	local state="" emu emu_out tmo dir cpu_model
	tmo=$(by_vendor "$vendor" "$BOOT_TIMEOUT" "$BOOT_TIMEOUT_SVM" \
		"$BOOT_TIMEOUT_VMX")
	# The debug kernel (KASAN, lockdep) runs the suite in 850-930 s
	# when the host is quiet, and 1.6 times slower when it is not:
	# twice the budget, unless HVX_BOOT_TIMEOUT says otherwise.
	if [ -z "$BOOT_TIMEOUT" ] && extra_kernels | grep -qx "$kver"; then
		tmo=$((tmo * 2))
	fi
	dir=$RIG/$kver-$vendor-$mode
	log=$dir.log
	: >"$log"
	rm -rf "$dir"
	mkdir -p "$dir"
	build_initramfs "$kver" "$mode" "$vendor" "$dir"

	if [ "$vendor" != vmx ]; then
		# QEMU's TCG takes the emulated TSC from the machine's own TSC,
		# which leaps when that machine is itself a VM that its host
		# pauses or moves (seen: 19,680 s at once, on two QEMU runs at
		# the same moment).  A kernel timing itself by the TSC then
		# leaps its monotonic clock and jiffies with it, and every test
		# timeout running then fires.  The HPET counts QEMU's virtual
		# clock, which the machine's clock keeps steady; Bochs's TSC is
		# its own.
		append+=" clocksource=hpet"
		if [ "${HVX_QEMU_GDB:-0}" = 1 ]; then
			gdb_args=(-s -S)
			append+=" nokaslr"
			tmo=0
			echo "rig: QEMU waits for gdb on :1234 (see Documentation/testing.rst)"
		fi
		cpu_model=$QEMU_CPU_SVM
		[ "$vendor" = svm-nonpt ] && cpu_model=$QEMU_CPU_SVM_NONPT
		emu=(qemu-system-x86_64 -accel "$QEMU_ACCEL" -cpu "$cpu_model"
			-smp "$QEMU_SMP" -m "$QEMU_MEM" "${QEMU_OPTS[@]}"
			-kernel "$(kroot "$kver")/boot/vmlinuz-$kver"
			-initrd "$dir/initramfs.cpio"
			-append "$append" "${gdb_args[@]}")
		# For debugging the emulated host: e.g. "-d int -D /tmp/q.log".
		# shellcheck disable=SC2206
		[ -n "${HVX_QEMU_EXTRA:-}" ] && emu+=($HVX_QEMU_EXTRA)
	else
		append+=" $CMDLINE_VMX"
		# Bochs locks its disk image: each run has its own.
		pvh_disk "$kver" "$dir/initramfs.cpio" "$append" "$dir/disk.img"
		# COM1 goes to the rig's file descriptor 3 (below), Bochs's own
		# messages to bochs.out.
		if [ "$mode" = shell ]; then
			bochs_rc "$dir" "$(tty)" term
		else
			bochs_rc "$dir" /proc/self/fd/3 file
		fi
		emu=(bochs -q -f "$dir/bochsrc" -rc "$dir/cmds")
		emu_out=$dir/bochs.out
	fi

	echo "== $kver $vendor: booting ($mode)"
	t0=$EPOCHREALTIME
	boot_s="?"
	init_s="?"
	if [ "$mode" = shell ] && [ "$vendor" != vmx ]; then
		"${emu[@]}" | tee "$log"
		qrc=${PIPESTATUS[0]}
	elif [ "$mode" = shell ]; then
		# The console is this terminal (COM1 in Bochs's term mode).
		qrc=0
		"${emu[@]}" </dev/null >"$emu_out" 2>&1 || qrc=$?
	else
		# --foreground keeps the emulator in our process group, so that
		# an interrupt of the rig ends it too; the rig waits in the
		# background so a TERM trap runs at once.  QEMU's console is its
		# standard output; Bochs writes COM1 to descriptor 3.
		{
			if [ "$vendor" != vmx ]; then
				emu_start "$dir.pid" "$tmo" "${emu[@]}" \
					</dev/null 2>&1
			else
				emu_start "$dir.pid" "$tmo" "${emu[@]}" \
					</dev/null >"$emu_out" 2>&1
			fi
			echo $? >"$dir/emu.rc"
		} 3>&1 |
		sed -u "$CLEAN_SED" |
		while IFS= read -r line; do
			printf '%s\n' "$line" >>"$log"
			case $line in
			*HVX-INIT*) since "$t0" >"$dir/init.wall" ;;
			esac
			if [ "${HVX_VERBOSE:-0}" = 1 ]; then
				printf '%s\n' "$line"
				continue
			fi
			case $line in
			*HVX-INIT*)
				echo "   init after $(since "$t0")s ($line)" ;;
			HVX-TEST-END*|HVX-TIMEOUT*|HVX-STUCK*|HVX-INSMOD-FAILED*|"# hvx-run: "*)
				echo "   $line" ;;
			HVX-DEMO-BEGIN|HVX-BENCH-BEGIN) state=show ;;
			HVX-DEMO-END*|HVX-BENCH-END*) state=""; echo "   $line" ;;
			HVX-*) ;;
			*)
				if [ "$state" = show ]; then
					printf '%s\n' "$line"
				elif [[ $line =~ ^[[:space:]]*not\ ok ||
					( $line =~ $TS_RE && $line =~ $SPLAT_RE ) ]]; then
					echo "   | $line"
				fi ;;
			esac
		done &
		wait $! || true
		qrc=$(cat "$dir/emu.rc" 2>/dev/null || echo "?")
		init_s=$(cat "$dir/init.wall" 2>/dev/null || echo "?")
		rm -f "$dir.pid"
	fi
	wall_s=$(since "$t0")
	boot_s=$(sed -n 's/.*HVX-INIT uptime=\([0-9.]*\).*/\1/p' "$log" | head -n 1)
	boot_s=${boot_s:-?}
	[ "$qrc" = 124 ] && echo "   boot timed out after ${tmo}s (HVX_BOOT_TIMEOUT)"
	if [ "$vendor" = vmx ] && ! grep -q '^HVX-POWEROFF ' "$log"; then
		# Why Bochs stopped (triple fault, panic of its own, ...).
		grep -a -A 1 'Bochs is exiting' "$emu_out" | tail -n 1 |
			sed 's/^/   bochs: /'
	fi
	echo "   wall time ${wall_s}s, log $log"
}

# The vendors to run on, checked: HVX_VENDORS or DEFAULT_VENDORS.
vendor_list() {
	local v
	local all=$DEFAULT_VENDORS
	[ "$mode" = demo ] && all=$DEMO_VENDORS
	for v in ${HVX_VENDORS-$all}; do
		if [ -z "${HVX_VENDORS+set}" ] && [ "$v" = svm-nonpt ] &&
			[ "$mode" != check ]; then
			continue
		fi
		case $v in
		svm|svm-nonpt|vmx) echo "$v" ;;
		*) die "HVX_VENDORS: unknown vendor '$v' (svm, svm-nonpt or vmx)" ;;
		esac
	done
}

check_tools() {
	local t v
	for t in cpio gzip xz modinfo ldd timeout flock python3; do
		command -v "$t" >/dev/null || die "$t not found: run 'make setup'"
	done
	[ -x /bin/busybox ] || die "/bin/busybox missing: run 'make setup'"
	for v in $vendors; do
		case $v in
		svm|svm-nonpt) set -- qemu-system-x86_64 ;;
		vmx) set -- bochs as ld objcopy readelf perl zstd od ;;
		esac
		for t in "$@"; do
			command -v "$t" >/dev/null ||
				die "$t not found (for $v): run 'make setup'"
		done
	done
	case $vendors in
	*vmx*)
		for t in /usr/share/bochs/BIOS-bochs-latest \
			/usr/share/vgabios/vgabios.bin; do
			[ -f "$t" ] || die "$t missing (for vmx): run 'make setup'"
		done
		for t in "CPUS=$BOCHS_CPUS" "IPS=$BOCHS_IPS" "MEM=$BOCHS_MEM"; do
			case ${t#*=} in
			''|*[!0-9]*|0*) die "HVX_BOCHS_$t: not a positive number" ;;
			esac
		done ;;
	esac
}

mode=${1:-}
case $mode in
check|demo|bench|shell) ;;
kernels)
	kernels
	exit
	;;
parse)
	shift
	total_pass=0 total_fail=0 total_skip=0
	for log in "$@"; do
		summarise "$log" "" >"$log.sum"
		report "$(basename "$log")" "$log.sum" "?" "?" "?"
	done
	for log in "$@"; do
		why_failed "$log" "$log.sum" "($(basename "$log"))"
	done
	echo "skipped: $total_skip"
	echo "$total_pass passed, $total_fail failed"
	[ "$total_fail" -eq 0 ]
	exit
	;;
*) usage ;;
esac
vendors=$(vendor_list)
[ -n "$vendors" ] || die "HVX_VENDORS is empty"
check_tools
mkdir -p "$RIG"

# One rig at a time on this host, whoever starts it, and one emulator at a
# time unless HVX_RIG_JOBS says more: an emulator wants a core of its own,
# and timings are worth nothing otherwise.
lock=${HVX_RIG_LOCK:-/tmp/hvx-rig.lock}
exec 9>>"$lock"
if ! flock -n 9; then
	echo "rig: waiting for another rig run to finish ($lock)"
	flock 9
fi
# Ends the emulators of the runs still going (called from the traps).
# shellcheck disable=SC2317
stop_emulators() {
	local f pid
	for f in "$RIG"/*.pid; do
		pid=$(cat "$f" 2>/dev/null) || continue
		kill "$pid" 2>/dev/null || true
		rm -f "$f"
	done
}
# shellcheck disable=SC2317
stop_rig() {
	stop_emulators
	# Runs in the background (HVX_RIG_JOBS) and their readers.
	# shellcheck disable=SC2046 # one pid a word
	kill $(jobs -p) 2>/dev/null || true
}
trap 'stop_rig; echo "rig: interrupted" >&2; exit 130' INT
trap 'stop_rig; echo "rig: terminated" >&2; exit 143' TERM

# run_one KVER VENDOR: one run (boot, mode, checks); its verdict goes to
# files, so that runs can go in parallel: for check the summary
# $RIG/KVER-VENDOR-check.sum and "WALL UPTIME INIT" in .res next to it;
# for demo and bench 0 or 1 in $RIG/KVER-VENDOR-MODE.status.
run_one() {
	local kver=$1 vendor=$2 dir log sum list cpu npt splats end st=0
	dir=$RIG/$kver-$vendor-$mode
	log=$dir.log
	run_kernel "$kver" "$mode" "$vendor"
	case $mode in
	check)
		sum=$dir.sum
		list=$(tr '\n' ' ' <"$dir/root/selftests/TESTS")
		summarise "$log" "$list" >"$sum"
		if [ ! -s "$dir/root/selftests/TESTS" ]; then
			echo "FAIL 1 no tests to run: $BUILD/selftests/hvx/TESTS missing or empty" \
				>>"$sum"
		fi
		if [ ! -f "$dir/root/hvx/hvx.ko" ]; then
			echo "FAIL 1 no hvx.ko for $kver" >>"$sum"
		fi
		cpu=$(sed -n 's/^HVX-INIT .* cpu=\([a-z]*\).*/\1/p' "$log" | head -n 1)
		if [ -n "$cpu" ] && [ "$cpu" != "${vendor%-nonpt}" ]; then
			echo "FAIL 1 the emulated CPU has $cpu, not ${vendor%-nonpt}" >>"$sum"
		fi
		# The CPU really lacks NPT (or has it): else the run proves nothing.
		npt=$(sed -n 's/^HVX-INIT .* npt=\([a-z]*\).*/\1/p' "$log" | head -n 1)
		case $vendor:$npt in
		svm:no|svm-nonpt:yes)
			echo "FAIL 1 the emulated CPU has npt=$npt on $vendor" >>"$sum" ;;
		esac
		echo "$wall_s $boot_s $init_s" >"$dir.res"
		;;
	demo|bench)
		splats=$(sed "$CLEAN_SED" "$log" | grep -aE "$TS_RE" |
			grep -aE "$SPLAT_RE" | if [ -n "$SPLAT_ALLOW" ]; then
				grep -avE "$SPLAT_ALLOW"; else cat; fi)
		if [ -n "$splats" ]; then
			echo "rig: kernel splat on $kver $vendor during $mode:" >&2
			echo "$splats" | head -n 5 >&2
			st=1
		fi
		end=$(grep -a -m 1 "^HVX-${mode^^}-END rc=" "$log" || true)
		if [ -z "$end" ]; then
			echo "rig: $mode on $kver $vendor did not finish (see $log)" >&2
			st=1
		elif [ "$mode" = demo ] && [ "$end" != "HVX-DEMO-END rc=0" ]; then
			echo "rig: demo failed on $kver $vendor: $end" >&2
			st=1
		fi
		echo "$st" >"$dir.status"
		;;
	shell) ;;
	esac
}

rm -f "$RIG/guest-initrd.cpio.gz"	# built afresh by each run
kvers=$(kernels)
[ -n "$kvers" ] || die "no kernel with headers in /lib/modules: run 'make setup'"
if [ "$mode" = demo ] || [ "$mode" = shell ]; then
	# One kernel is enough to show a guest: the first one, or HVX_KVERS.
	kvers=$(echo "$kvers" | head -n 1)
fi
if [ "$mode" = demo ]; then
	case " ${vendors//$'\n'/ } " in
	*" vmx "*)
		echo "rig: the Intel demo runs under Bochs, an instruction-level emulator:"
		echo "rig: expect several minutes (the emulated host boots, then its guest"
		echo "rig: needs 1-2 minutes of emulated time to reach its shell)."
		;;
	esac
fi
if [ "$mode" = shell ]; then
	vendors=$(echo "$vendors" | head -n 1)
	if [ "$vendors" = vmx ] && ! tty -s; then
		die "shell on vmx needs a terminal (Bochs's COM1 goes to it)"
	fi
fi
jobs_max=${HVX_RIG_JOBS:-1}
case $jobs_max in
''|*[!0-9]*|0*) die "HVX_RIG_JOBS=$jobs_max: not a positive number" ;;
esac
[ "$mode" = shell ] && jobs_max=1

# The runs, as pairs of kernel and vendor: HVX_EXTRA_KROOT's kernels first
# (the debug kernel is slower than the others), then each vendor's.
run_k=()
run_v=()
runs=()
add_run() {
	run_k+=("$1")
	run_v+=("$2")
	runs+=("$1-$2")
	rm -f "$RIG/$1-$2-$mode".{sum,res,status,out,done}
}
if [ "$mode" = check ] || [ "$mode" = bench ]; then
	for kver in $(extra_kernels); do
		for vendor in ${HVX_EXTRA_VENDORS:-svm}; do
			case " ${vendors//$'\n'/ } " in
			*" $vendor "*) add_run "$kver" "$vendor" ;;
			esac
		done
	done
fi
for vendor in $vendors; do
	for kver in $kvers; do
		# Named in HVX_KVERS, a kernel under HVX_EXTRA_KROOT ran above.
		[ -n "$(kroot "$kver")" ] || add_run "$kver" "$vendor"
	done
done

# Shows the output of the parallel runs that are done, once each.
show_done() {
	local r
	for r in "${runs[@]}"; do
		{ [ -f "$RIG/$r-$mode.done" ] && [ ! -f "$RIG/$r-$mode.shown" ]; } ||
			continue
		cat "$RIG/$r-$mode.out"
		touch "$RIG/$r-$mode.shown"
	done
}

if [ "$jobs_max" -eq 1 ]; then
	for i in "${!runs[@]}"; do
		run_one "${run_k[$i]}" "${run_v[$i]}"
	done
else
	# Up to HVX_RIG_JOBS emulators at once, each run's progress in
	# $RIG/<run>.out, shown when the run is done.
	rm -f "$RIG"/*-"$mode".shown
	for i in "${!runs[@]}"; do
		kver=${run_k[$i]}
		vendor=${run_v[$i]}
		while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
			wait -n || true
			show_done
		done
		echo "== $kver $vendor: started ($mode, output when done)"
		( run_one "$kver" "$vendor"; touch "$RIG/$kver-$vendor-$mode.done" ) \
			>"$RIG/$kver-$vendor-$mode.out" 2>&1 &
	done
	while [ -n "$(jobs -rp)" ]; do
		wait -n || true
		show_done
	done
	show_done
	rm -f "$RIG"/*-"$mode".shown
fi

total_pass=0 total_fail=0 total_skip=0
rc=0
if [ "$mode" = check ]; then
	echo
	for i in "${!runs[@]}"; do
		r=${runs[$i]}
		if [ ! -f "$RIG/$r-check.res" ]; then
			# The run itself failed (the rig's error is above).
			echo "FAIL 1 the run did not complete" >"$RIG/$r-check.sum"
			echo "? ? ?" >"$RIG/$r-check.res"
		fi
		read -r wall_s boot_s init_s <"$RIG/$r-check.res"
		report "${run_k[$i]} ${run_v[$i]}" "$RIG/$r-check.sum" "$wall_s" "$boot_s" \
			"$init_s"
	done
	for r in "${runs[@]}"; do
		why_failed "$RIG/$r-check.log" "$RIG/$r-check.sum" "($r)"
	done
	echo "skipped: $total_skip"
	echo "$total_pass passed, $total_fail failed"
	[ "$total_fail" -eq 0 ] || rc=1
elif [ "$mode" != shell ]; then
	for r in "${runs[@]}"; do
		[ "$(cat "$RIG/$r-$mode.status" 2>/dev/null)" = 0 ] || rc=1
	done
fi
exit "$rc"
