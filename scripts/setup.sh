#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh: prepare a Debian 12 machine (as root) to build and test hvx.
#
# Installs the kernels and headers the module is built and tested against,
# QEMU (AMD SVM) and Bochs (Intel VMX), busybox and the build tools, then extracts the kselftest harness,
# checkpatch.pl and .clang-format from linux-source-6.12 into
# build/kernel-tools/ (never committed).  Idempotent: a second run only
# checks what is there.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
tools=${BUILD:-$top/build}/kernel-tools
src_tar=/usr/src/linux-source-6.12.tar.xz

die() { echo "setup: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get install)"
command -v apt-get >/dev/null || die "needs a Debian system (apt-get)"

# Kernels come from meta packages (the 6.1 LTS default and 6.12 LTS, both
# in Debian 12): they resolve to the current ABI, never hard-coded here.
# bochs needs one display plugin package: bochs-term is the smallest (the
# rig uses the built-in rfb display), else apt would pull in wxWidgets.
pkgs="linux-image-amd64 linux-headers-amd64
linux-image-6.12-amd64 linux-headers-6.12-amd64
qemu-system-x86 busybox-static sparse dkms linux-source-6.1 linux-source-6.12
libnl-genl-3-dev libnl-3-dev cpio xz-utils gzip build-essential pkg-config kmod
bochs bochs-term bochsbios vgabios zstd rsync g++
flex bison bc libelf-dev libssl-dev python3-docutils shellcheck"

missing() {
	for p in $pkgs; do
		dpkg-query -W -f '${db:Status-Status}\n' "$p" 2>/dev/null |
			grep -qx installed || echo "$p"
	done
}

export DEBIAN_FRONTEND=noninteractive
need=$(missing)
if [ -n "$need" ]; then
	# shellcheck disable=SC2086 # split: the packages on one line
	echo "setup: installing" $need
	apt-get update -q
	# shellcheck disable=SC2086 # the list is split on purpose
	apt-get install -y -q --no-install-recommends $pkgs
fi

# The module is built for every kernel with headers; say which those are.
for d in /lib/modules/*/; do
	kver=$(basename "$d")
	if [ -d "$d/build" ] && [ -f "/boot/vmlinuz-$kver" ]; then
		echo "setup: kernel $kver (headers and image present)"
	fi
done

[ -f "$src_tar" ] || die "$src_tar missing (linux-source-6.12)"

# Extract the few files the project uses from the kernel sources: a skeleton
# of a kernel tree, enough for the kselftest build (lib.mk) too.  The stamp
# holds the tarball's size and date and the list's version, so a new
# linux-source or a longer list re-extracts.
stamp=$tools/.stamp
want="$(stat -c '%s %Y' "$src_tar") 2"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "setup: kernel tools up to date in $tools"
	exit 0
fi

echo "setup: extracting kernel tools into $tools"
rm -rf "$tools"
mkdir -p "$tools"
p=linux-source-6.12
tar -xJf "$src_tar" -C "$tools" --strip-components=1 \
	"$p/tools/testing/selftests/kselftest.h" \
	"$p/tools/testing/selftests/kselftest_harness.h" \
	"$p/tools/testing/selftests/kselftest" \
	"$p/tools/testing/selftests/Makefile" \
	"$p/tools/testing/selftests/lib.mk" \
	"$p/tools/testing/selftests/run_kselftest.sh" \
	"$p/scripts/subarch.include" \
	"$p/Documentation/userspace-api/ioctl/ioctl-number.rst" \
	"$p/scripts/checkpatch.pl" \
	"$p/scripts/spelling.txt" \
	"$p/scripts/const_structs.checkpatch" \
	"$p/.clang-format"
echo "$want" >"$stamp"
echo "setup: done"
