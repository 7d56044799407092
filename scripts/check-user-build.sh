#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-user-build.sh: `make` as a user runs it on a real host with only
# build-essential, the kernel headers, libnl-genl-3-dev and pkg-config: a
# copy of the tracked sources, no kernel tools extracted (so no kselftest
# headers), and a `sparse` on the PATH that fails if anything calls it.  A
# compiler warning planted in the module must not fail the build (a user's
# newer kernel or compiler brings new warnings).  Checks what `make` built.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/hvx-user-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

die() { echo "check-user-build: $*" >&2; exit 1; }

# The working tree's tracked files, as a fresh clone would have them.
(cd "$top" && git ls-files -z | tar --null -T - -cf -) | (mkdir "$tmp/src" && tar -xf - -C "$tmp/src")
[ ! -e "$tmp/src/build" ] || die "the copy has a build/ directory"

mkdir "$tmp/bin"
cat >"$tmp/bin/sparse" <<'EOS'
#!/bin/sh
echo "check-user-build: sparse was called: $*" >&2
exit 99
EOS
chmod +x "$tmp/bin/sparse"

# A warning the kernel's default flags report (-Wunused-variable).
echo 'static int hvx_user_build_unused;' >>"$tmp/src/kmod/core/stats.c"

echo "check-user-build: make in a copy of the sources ($tmp/src)"
if ! PATH="$tmp/bin:$PATH" make -C "$tmp/src" -j2 >"$tmp/make.log" 2>&1; then
	cat "$tmp/make.log" >&2
	die "make failed"
fi
grep -q "sparse was called" "$tmp/make.log" && die "the user build called sparse"
grep -q "hvx_user_build_unused.*defined but not used" "$tmp/make.log" ||
	die "the planted warning was not reported (is the module built?)"
grep -q "SKIP    selftests: no kselftest_harness.h" "$tmp/make.log" ||
	die "make did not say why the selftests were skipped"

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
n=0
for d in /lib/modules/*/build; do
	[ -d "$d" ] || continue
	kver=$(basename "$(dirname "$d")")
	ko=$tmp/src/build/$kver/hvx.ko
	[ -f "$ko" ] || die "no $ko"
	[ "$(modinfo -F version "$ko")" = "$ver" ] || die "$ko: version is not $ver"
	modinfo -F vermagic "$ko" | grep -q "^$kver " || die "$ko: vermagic is not $kver"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || die "no kernel headers in /lib/modules"
for f in bin/hvx-run bin/hvxstat lib/libhvx.a "lib/libhvx.so.$ver" include/libhvx.h; do
	[ -f "$tmp/src/build/$f" ] || die "no build/$f"
done
# The tools link the C library dynamically (no static glibc: getprotobyname).
for f in hvx-run hvxstat; do
	ldd "$tmp/src/build/bin/$f" | grep -q 'libc\.so' || die "$f is not dynamically linked"
done
echo "check-user-build: ok: module for $n kernel(s) despite a warning, tools, libhvx; no sparse, no selftests"
