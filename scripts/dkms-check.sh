#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh: check that hvx builds and installs through DKMS for every
# installed kernel with headers, as a user's `dkms add . && dkms install
# hvx/0.1` would.  Copies each DKMS-built module to build/<kver>/hvx-dkms.ko
# (HVX_USE_DKMS=1 scripts/rig.sh check boots those) and removes the DKMS
# entry again.  Needs root: DKMS writes /usr/src, /var/lib/dkms and
# /lib/modules.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}

die() { echo "dkms-check: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v dkms >/dev/null || die "dkms not installed: run 'make setup'"

conf_val() { sed -n "s/^$1=\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}$/\\1/p" "$top/dkms.conf"; }
name=$(conf_val PACKAGE_NAME)
ver=$(conf_val PACKAGE_VERSION)
[ -n "$name" ] && [ -n "$ver" ] || die "no PACKAGE_NAME/PACKAGE_VERSION in dkms.conf"
src=/usr/src/$name-$ver

cleanup() {
	dkms remove "$name/$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src"
}

# Start from nothing: a previous run may have been interrupted.
cleanup
trap cleanup EXIT INT TERM

mkdir -p "$src"
(cd "$top" && tar cf - Kbuild kmod uapi dkms.conf) | (cd "$src" && tar xf -)
dkms add "$name/$ver"

n=0
for d in /lib/modules/*/build; do
	[ -d "$d" ] || continue
	kver=$(basename "$(dirname "$d")")
	echo "dkms-check: $kver"
	if ! dkms build "$name/$ver" -k "$kver"; then
		log=/var/lib/dkms/$name/$ver/build/make.log
		[ -f "$log" ] && cat "$log" >&2
		die "dkms build failed for $kver"
	fi
	dkms install "$name/$ver" -k "$kver" || die "dkms install failed for $kver"
	ko=$(find "/lib/modules/$kver/updates/dkms" "/lib/modules/$kver/extra" \
		-name "$name.ko*" 2>/dev/null | head -n 1)
	[ -n "$ko" ] || die "no $name.ko under /lib/modules/$kver/{updates/dkms,extra}"
	mkdir -p "$build/$kver"
	case $ko in
	*.xz) xz -dc "$ko" >"$build/$kver/hvx-dkms.ko" ;;
	*.gz) gzip -dc "$ko" >"$build/$kver/hvx-dkms.ko" ;;
	*.zst) zstd -qdc "$ko" >"$build/$kver/hvx-dkms.ko" ;;
	*) cp "$ko" "$build/$kver/hvx-dkms.ko" ;;
	esac
	modinfo -F vermagic "$build/$kver/hvx-dkms.ko" | grep -q "^$kver " ||
		die "$ko: vermagic does not match $kver"
	echo "dkms-check: $kver: $ko -> $build/$kver/hvx-dkms.ko"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || die "no kernel with headers in /lib/modules"
echo "dkms-check: $name/$ver built and installed for $n kernel(s)"
