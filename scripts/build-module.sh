#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# build-module.sh KVER OUTDIR: build hvx.ko for kernel KVER with W=1 and
# sparse (C=1); any compiler or sparse warning fails the build.
set -eu
kver=$1
out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
kdir=/lib/modules/$kver/build
[ -d "$kdir" ] || { echo "build-module: no headers for $kver ($kdir)" >&2; exit 1; }

mkdir -p "$out/src"
# A private copy of the sources per kernel: Kbuild builds in place.
(cd "$top" && tar cf - Kbuild dkms.conf kmod uapi) | (cd "$out/src" && tar xf -)
log=$out/build.log
if ! make -C "$kdir" M="$out/src" W=1 C=1 modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: build for $kver failed" >&2
	exit 1
fi
# Kbuild prints warnings without failing on sparse; treat any as fatal.
if grep -E 'warning:|error:' "$log" >&2; then
	echo "build-module: warnings in the build for $kver (see above)" >&2
	exit 1
fi
cp "$out/src/hvx.ko" "$out/hvx.ko"
echo "  MODULE  $out/hvx.ko"
