#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# build-module.sh KVER OUTDIR [STRICT]: build hvx.ko for kernel KVER.
# STRICT=1 (make check, developers): W=1 and sparse (C=1), and any compiler
# or sparse warning fails the build.  Otherwise a plain Kbuild build, as
# DKMS does it: warnings are shown, not fatal.
set -eu
kver=$1
out=$2
strict=${3:-0}
top=$(cd "$(dirname "$0")/.." && pwd)
# KROOT: a kernel installed elsewhere than / (scripts/debug-kernel.sh).
kdir=${KROOT:-}/lib/modules/$kver/build
[ -d "$kdir" ] || { echo "build-module: no headers for $kver ($kdir)" >&2; exit 1; }

mkdir -p "$out/src"
# A private copy of the sources per kernel: Kbuild builds in place.
(cd "$top" && tar cf - Kbuild dkms.conf kmod uapi) | (cd "$out/src" && tar xf -)
log=$out/build.log
set -- modules
if [ "$strict" = 1 ]; then
	command -v sparse >/dev/null ||
		{ echo "build-module: STRICT=1 needs sparse (apt install sparse)" >&2; exit 1; }
	set -- W=1 C=1 HVX_STRICT=1 modules
fi
if ! make -C "$kdir" M="$out/src" "$@" >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: build for $kver failed" >&2
	exit 1
fi
if [ "$strict" = 1 ]; then
	# Kbuild prints sparse's warnings without failing; treat any as fatal.
	if grep -E 'warning:|error:' "$log" >&2; then
		echo "build-module: warnings in the build for $kver (see above)" >&2
		exit 1
	fi
else
	grep -E 'warning:' "$log" >&2 || true
fi
cp "$out/src/hvx.ko" "$out/hvx.ko"
echo "  MODULE  $out/hvx.ko"
