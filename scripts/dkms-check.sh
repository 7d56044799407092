#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh: the DKMS path a user takes, for every installed kernel with
# headers, as an upgrade: `make dkms-install` from an older copy of the
# sources (version 0.0.1), then from this checkout; only this version may
# stay registered and installed, with only the module's sources staged.
# Copies each installed module to build/<kver>/hvx-dkms.ko (HVX_USE_DKMS=1
# scripts/rig.sh check boots those and checks their version), then
# `make dkms-uninstall` must leave nothing.  Needs root.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
tmp=$(mktemp -d /tmp/hvx-dkms.XXXXXX)

die() { echo "dkms-check: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v dkms >/dev/null || die "dkms not installed: run 'make setup'"

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$top/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
old=0.0.1
{ [ -n "$name" ] && [ -n "$ver" ]; } || die "no PACKAGE_NAME/PACKAGE_VERSION in dkms.conf"
[ "$ver" != "$old" ] || die "dkms.conf's version is the test's old one"

cleanup() {
	"$top/scripts/dkms-install.sh" uninstall >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
cleanup_exit() { cleanup; exit 1; }
trap cleanup_exit INT TERM
trap cleanup EXIT
# Start from nothing: a previous run may have been interrupted.
"$top/scripts/dkms-install.sh" uninstall >/dev/null

# installed_version KVER: the version of the hvx.ko DKMS installed for KVER.
installed_ko() {
	find "/lib/modules/$1/updates/dkms" "/lib/modules/$1/kernel/drivers/virt" \
		-name "$name.ko*" 2>/dev/null | head -n 1
}
installed_version() {
	ko=$(installed_ko "$1")
	[ -n "$ko" ] || die "no $name.ko installed for $1"
	modinfo -F version "$ko"
}

# Version A: an older copy of the sources.
mkdir -p "$tmp/old/scripts"
(cd "$top" && tar cf - Kbuild kmod uapi) | (cd "$tmp/old" && tar xf -)
cp "$top/scripts/dkms-install.sh" "$tmp/old/scripts/"
sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$old\"/" "$top/dkms.conf" >"$tmp/old/dkms.conf"
echo "dkms-check: installing $name/$old (the older copy)"
"$tmp/old/scripts/dkms-install.sh" install >"$tmp/old.log" 2>&1 ||
	{ cat "$tmp/old.log" >&2; die "dkms-install of $old failed"; }

kvers=""
for d in /lib/modules/*/build; do
	[ -d "$d" ] || continue
	kver=$(basename "$(dirname "$d")")
	[ "$(installed_version "$kver")" = "$old" ] || die "$kver: $old not installed"
	kvers="$kvers $kver"
done
[ -n "$kvers" ] || die "no kernel with headers in /lib/modules"

# Version B, this checkout: the upgrade is the same one command.
echo "dkms-check: upgrading to $name/$ver (make dkms-install)"
make -s -C "$top" dkms-install >"$tmp/new.log" 2>&1 ||
	{ cat "$tmp/new.log" >&2; die "make dkms-install failed"; }

status=$(dkms status "$name")
echo "$status" | sed 's/^/dkms-check: status: /'
echo "$status" | grep -q "$name/$old" && die "$name/$old is still registered after the upgrade"
[ ! -e "/usr/src/$name-$old" ] || die "/usr/src/$name-$old is still there"

# Only the module's sources were staged.
src=/usr/src/$name-$ver
extra=$(cd "$src" && find . -type f ! -name Kbuild ! -name dkms.conf ! -name '*.[chS]')
[ -z "$extra" ] || die "$src holds more than the module's sources: $extra"
kb=$(du -sk "$src" | cut -f1)
echo "dkms-check: $src: $(find "$src" -type f | wc -l) files, ${kb} KiB"

n=0
for kver in $kvers; do
	echo "$status" | grep -q "$name/$ver, $kver, .*installed" ||
		die "$name/$ver not installed for $kver"
	[ "$(installed_version "$kver")" = "$ver" ] || die "$kver: the installed module is not $ver"
	ko=$(installed_ko "$kver")
	mkdir -p "$build/$kver"
	case $ko in
	*.xz) xz -dc "$ko" >"$build/$kver/hvx-dkms.ko" ;;
	*.gz) gzip -dc "$ko" >"$build/$kver/hvx-dkms.ko" ;;
	*.zst) zstd -qdc "$ko" >"$build/$kver/hvx-dkms.ko" ;;
	*) cp "$ko" "$build/$kver/hvx-dkms.ko" ;;
	esac
	modinfo -F vermagic "$build/$kver/hvx-dkms.ko" | grep -q "^$kver " ||
		die "$ko: vermagic does not match $kver"
	echo "dkms-check: $kver: $ko ($ver) -> $build/$kver/hvx-dkms.ko"
	n=$((n + 1))
done

make -s -C "$top" dkms-uninstall >"$tmp/rm.log" 2>&1 ||
	{ cat "$tmp/rm.log" >&2; die "make dkms-uninstall failed"; }
[ -z "$(dkms status "$name")" ] || die "dkms still lists $name after dkms-uninstall"
for kver in $kvers; do
	[ -z "$(installed_ko "$kver")" ] || die "$kver: $name.ko still installed after dkms-uninstall"
done
ls -d /usr/src/"$name"-* >/dev/null 2>&1 && die "sources left in /usr/src after dkms-uninstall"
echo "dkms-check: upgrade $old -> $ver and uninstall done for $n kernel(s)"
