#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.sh: run the kernel's checkpatch.pl --strict over the module
# sources and the uapi headers.  Any error, warning or check fails.
# checkpatch.pl comes from linux-source-6.12 (make setup).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
cp=$build/kernel-tools/scripts/checkpatch.pl

[ -f "$cp" ] || { echo "checkpatch: $cp missing: run 'make setup'" >&2; exit 2; }

cd "$top"
kfiles=$(find kmod -name '*.[chS]' 2>/dev/null | LC_ALL=C sort)
ufiles=$(find uapi/linux -name '*.h' 2>/dev/null | LC_ALL=C sort)
[ -n "$kfiles$ufiles" ] || { echo "checkpatch: no sources in kmod/ or uapi/linux/" >&2; exit 2; }

# Run from a scratch directory: checkpatch.pl leaves a CamelCase cache file
# in the current directory.  It knows uapi headers by their place in the
# kernel tree (include/uapi/: no BIT(), no __packed there), so ours are
# checked from that place; kmod/ is linked in as it is.
stage=$build/checkpatch
rm -rf "$stage"
mkdir -p "$stage/include/uapi/linux"
ln -s "$top/kmod" "$stage/kmod"
# shellcheck disable=SC2086 # file names have no spaces
[ -z "$ufiles" ] || cp $ufiles "$stage/include/uapi/linux/"
names=$(cd "$stage" && find -L kmod include -name '*.[chS]' | LC_ALL=C sort)
# checkpatch.pl finds spelling.txt and const_structs.checkpatch next to
# itself (the setup step extracted them there).
# shellcheck disable=SC2086 # file names have no spaces
out=$(cd "$stage" && GIT_DIR=$top/.git perl "$cp" --strict --no-tree --terse \
	--show-types --no-summary -f $names 2>&1 | sed 's@^include/uapi/@uapi/@') || true

nfiles=$(printf '%s\n%s\n' "$kfiles" "$ufiles" | sed '/^$/d' | wc -l)
if [ -n "$out" ]; then
	echo "$out"
	n=$(echo "$out" | grep -c ': \(ERROR\|WARNING\|CHECK\):' || true)
	echo "checkpatch: $n problem(s) in $nfiles files" >&2
	exit 1
fi
echo "checkpatch: $nfiles files clean"
