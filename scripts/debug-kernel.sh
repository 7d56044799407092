#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [build|root|kver]: the rig's debug kernel.
#
# Builds Debian's linux-source-6.12 with scripts/debug-kernel/hvx-debug.config
# (allnoconfig, what the rig needs, and KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# DEBUG_LIST, KMEMLEAK, UBSAN, PREEMPT, SLUB_DEBUG) and installs it as a
# kernel root the rig and the Makefile take as KROOT:
#
#   <root>/boot/vmlinuz-<kver>
#   <root>/lib/modules/<kver>/{modules.dep,kernel/...,build -> the build tree}
#
# The result is cached outside the repository, keyed by the source
# package's version, the config fragment and this script, so a machine
# builds it once: $HVX_CACHE (default ~/.cache/hvx)/debug-kernel/<key>.
#
#   build   build if not cached, print the root (default)
#   root    print the root if it is built, else fail
#   kver    print the kernel release of the cached build
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
frag=$top/scripts/debug-kernel/hvx-debug.config
src_tar=/usr/src/linux-source-6.12.tar.xz
cache=${HVX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hvx}/debug-kernel

die() { echo "debug-kernel: $*" >&2; exit 1; }

[ -f "$src_tar" ] || die "$src_tar missing (make setup installs linux-source-6.12)"
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null) ||
	die "linux-source-6.12 is not installed (make setup)"
key=$( { echo "$srcver"; cat "$frag" "$0"; } | sha256sum | cut -c1-16)
dir=$cache/$key
root=$dir/root

built() {
	[ -f "$dir/ok" ]
}

kver() {
	cat "$dir/o/include/config/kernel.release"
}

build() {
	local jobs s o missing
	jobs=$(nproc)
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "debug-kernel: building $srcver in $dir (once per machine; about 15 min on 2 CPUs)" >&2
	tar -C "$dir" -xf "$src_tar"
	s=$dir/linux-source-6.12
	o=$dir/o
	mkdir -p "$o"
	make -s -C "$s" O="$o" allnoconfig >/dev/null
	"$s/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "$frag" >/dev/null
	make -s -C "$s" O="$o" olddefconfig
	# Every line of the fragment must have survived olddefconfig.
	missing=$(grep -E '^CONFIG_' "$frag" | while IFS= read -r l; do
		k=${l%%=*} v=${l#*=}
		if [ "$v" = n ]; then
			grep -qx "$k=[ym]" "$o/.config" && echo "$k=n (got set)"
		else
			grep -qxF "$l" "$o/.config" || echo "$l"
		fi
	done) || true
	[ -z "$missing" ] || die "config options lost (missing dependencies?): $missing"
	if ! make -C "$s" O="$o" -j"$jobs" bzImage modules >"$dir/build.log" 2>&1; then
		tail -n 40 "$dir/build.log" >&2
		die "kernel build failed (log: $dir/build.log)"
	fi
	make -s -C "$s" O="$o" INSTALL_MOD_PATH="$root" modules_install >/dev/null
	mkdir -p "$root/boot"
	cp "$o/arch/x86/boot/bzImage" "$root/boot/vmlinuz-$(kver)"
	ln -sfn "$o" "$root/lib/modules/$(kver)/build"
	# Only the build tree is needed from here on; the sources stay for
	# the external-module build (the tree's Makefile points at them).
	touch "$dir/ok"
	echo "debug-kernel: built $(kver)" >&2
}

case ${1:-build} in
build)
	built || build
	echo "$root"
	;;
root)
	built || die "not built yet (scripts/debug-kernel.sh build)"
	echo "$root"
	;;
kver)
	built || die "not built yet (scripts/debug-kernel.sh build)"
	kver
	;;
*)
	die "usage: $0 [build|root|kver]"
	;;
esac
