#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-ioctl-magic.sh: hvx's ioctl magic (HVXIO in uapi/linux/hvx.h) must
# be unclaimed in the kernel's registry of ioctl numbers,
# Documentation/userspace-api/ioctl/ioctl-number.rst, as extracted by
# `make setup` (Documentation/api.rst, ABI rules).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
reg=${BUILD:-$top/build}/kernel-tools/Documentation/userspace-api/ioctl/ioctl-number.rst

die() { echo "check-ioctl-magic: $*" >&2; exit 1; }

[ -f "$reg" ] || die "$reg missing: run 'make setup'"
magic=$(sed -n 's/^#define HVXIO[[:space:]]*\(0x[0-9A-Fa-f]*\).*/\1/p' "$top/uapi/linux/hvx.h")
[ -n "$magic" ] || die "no HVXIO in uapi/linux/hvx.h"
# The registry writes magics as 0xAB, upper case.
want=$(printf '0x%02X' "$magic")
# Guard against a registry whose format changed: it must list KVM's.
grep -q '^0xAE .*linux/kvm.h' "$reg" || die "$reg: format not understood"
if grep -i "^${want}[[:space:]]" "$reg"; then
	die "$want (HVXIO) is registered to the driver above in $reg"
fi
# 0xB8 was hvx's until 0.2.0; it must still read as taken (the check works).
grep -q '^0xB8[[:space:]]' "$reg" || die "$reg: 0xB8 not found registered"
echo "check-ioctl-magic: $want is free in the kernel's ioctl registry"
