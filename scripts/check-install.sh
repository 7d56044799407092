#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-install.sh: `make install` into a scratch DESTDIR as a packager or
# a user would run it; a C and a C++ client built against the installed
# libhvx with `pkg-config --cflags --libs libhvx` and nothing else, and run;
# the selftests built in a kernel tree (tools/testing/selftests/hvx, with
# the kernel's lib.mk) against that libhvx, installed and run by the
# kselftest runner; then `make uninstall` leaves nothing behind.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
tmp=$(mktemp -d /tmp/hvx-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
root=$tmp/root
prefix=/usr/local

die() { echo "check-install: $*" >&2; exit 1; }

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
major=${ver%%.*}

make -s -C "$top" BUILD="$build" DESTDIR="$root" PREFIX="$prefix" install >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; die "make install failed"; }

for f in bin/hvx-run bin/hvxstat lib/libhvx.a "lib/libhvx.so.$ver" lib/pkgconfig/libhvx.pc \
	include/libhvx.h include/linux/hvx.h include/linux/hvx_genl.h \
	share/man/man1/hvx-run.1 share/man/man1/hvxstat.1 \
	share/hvx/guests/hello.bin share/hvx/guests/mbkernel.elf; do
	[ -f "$root$prefix/$f" ] || die "not installed: $prefix/$f"
done
[ -f "$root/etc/udev/rules.d/60-hvx.rules" ] || die "not installed: the udev rule"
[ "$(readlink "$root$prefix/lib/libhvx.so.$major")" = "libhvx.so.$ver" ] ||
	die "libhvx.so.$major does not point at libhvx.so.$ver"
readelf -d "$root$prefix/lib/libhvx.so.$ver" | grep -q "SONAME.*\[libhvx.so.$major\]" ||
	die "libhvx.so.$ver has no SONAME libhvx.so.$major"
for m in hvx-run hvxstat; do
	grep -q "@VERSION@" "$root$prefix/share/man/man1/$m.1" && die "$m.1: version not filled in"
	grep -q "^\.TH .*$ver" "$root$prefix/share/man/man1/$m.1" || die "$m.1: no version $ver in .TH"
done
grep -q "^#define LIBHVX_VERSION[[:space:]]*\"$ver\"" "$root$prefix/include/libhvx.h" ||
	die "libhvx.h: LIBHVX_VERSION is not \"$ver\""
echo "check-install: installed into $root$prefix"

# Clients see only the installed tree, through pkg-config.
export PKG_CONFIG_SYSROOT_DIR="$root"
export PKG_CONFIG_LIBDIR="$root$prefix/lib/pkgconfig"
pc=$(pkg-config --cflags --libs libhvx) || die "pkg-config libhvx failed"
[ "$(pkg-config --modversion libhvx)" = "$ver" ] || die "libhvx.pc: version is not $ver"

cat >"$tmp/client.c" <<'EOC'
#include <stdio.h>
#include <string.h>
#include <libhvx.h>

int main(void)
{
	struct hvx_sys sys;
	int ret;

	if (strcmp(hvx_library_version(), LIBHVX_VERSION) != 0) {
		printf("header %s, library %s\n", LIBHVX_VERSION, hvx_library_version());
		return 1;
	}
	ret = hvx_open(&sys);
	if (ret == 0)
		hvx_close(&sys);
	printf("libhvx %s %s open=%d\n", hvx_library_version(), hvx_exit_name(HVX_EXIT_IO),
	       ret <= 0);
	return 0;
}
EOC
sed 's/^int main(void)$/int main()/' "$tmp/client.c" >"$tmp/client.cc"
# shellcheck disable=SC2086 # pkg-config's output is a list of words
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/client" "$tmp/client.c" $pc ||
	die "the C client does not build with pkg-config's flags: $pc"
# shellcheck disable=SC2086
g++ -std=c++11 -Wall -Wextra -Werror -o "$tmp/client++" "$tmp/client.cc" $pc ||
	die "the C++ client does not build with pkg-config's flags: $pc"
for c in client client++; do
	LD_LIBRARY_PATH="$root$prefix/lib" ldd "$tmp/$c" |
		grep -q "libhvx.so.$major => $root$prefix/lib/libhvx.so.$major" ||
		die "$c is not linked against the installed libhvx.so.$major"
	out=$(LD_LIBRARY_PATH="$root$prefix/lib" "$tmp/$c") || die "$c failed: $out"
	[ "$out" = "libhvx $ver IO open=1" ] || die "$c printed '$out'"
done
echo "check-install: a C and a C++ client built with '$pc' and ran"

# The selftests in a kernel tree: the skeleton `make setup` extracts, with
# selftests/hvx copied in as tools/testing/selftests/hvx.
ktree=$tmp/linux
ksrc=$build/kernel-tools
[ -f "$ksrc/tools/testing/selftests/lib.mk" ] || die "no kernel tree skeleton in $ksrc: run 'make setup'"
cp -a "$ksrc" "$ktree"
cp -a "$top/selftests/hvx" "$ktree/tools/testing/selftests/hvx"
make -s -C "$ktree/tools/testing/selftests" TARGETS=hvx >"$tmp/ksft.log" 2>&1 ||
	{ cat "$tmp/ksft.log" >&2; die "the in-tree kselftest build failed"; }
make -s -C "$ktree/tools/testing/selftests" TARGETS=hvx \
	KSFT_INSTALL_PATH="$tmp/ksft" install >>"$tmp/ksft.log" 2>&1 ||
	{ cat "$tmp/ksft.log" >&2; die "the in-tree kselftest install failed"; }
# shellcheck disable=SC1003 # tr deletes the Makefile's line-continuation backslashes
for t in $(sed -n 's/^TESTS[[:space:]]*:=//; /^TESTS/,/^$/p' "$top/selftests/hvx/Makefile" |
	tr -d '\\' | grep -o '[a-z_]*_test'); do
	[ -x "$tmp/ksft/hvx/$t" ] || die "the kselftest install has no hvx/$t"
	grep -qx "hvx:$t" "$tmp/ksft/kselftest-list.txt" || die "kselftest-list.txt lacks hvx:$t"
done
for f in settings config mbkernel.elf; do
	[ -f "$tmp/ksft/hvx/$f" ] || die "the kselftest install has no hvx/$f"
done
# This machine has no /dev/hvx: the runner must report a skip, not a failure.
if [ ! -e /dev/hvx ]; then
	LD_LIBRARY_PATH="$root$prefix/lib" "$tmp/ksft/run_kselftest.sh" -t hvx:badinput_test \
		>"$tmp/run.log" 2>&1 || true
	# Every case skips (its reason given); the executable passes or skips.
	if ! grep -q "^ok 1 selftests: hvx: badinput_test\( # SKIP\)\{0,1\}$" "$tmp/run.log" ||
	   ! grep -q "SKIP.*/dev/hvx" "$tmp/run.log" || grep -q "not ok" "$tmp/run.log"; then
		cat "$tmp/run.log" >&2
		die "run_kselftest.sh did not report hvx:badinput_test as skipped"
	fi
fi
echo "check-install: the selftests built, installed and ran as tools/testing/selftests/hvx"

make -s -C "$top" BUILD="$build" DESTDIR="$root" PREFIX="$prefix" uninstall >"$tmp/uninstall.log" 2>&1 ||
	{ cat "$tmp/uninstall.log" >&2; die "make uninstall failed"; }
left=$(find "$root" ! -type d)
[ -z "$left" ] || die "make uninstall left: $left"
echo "check-install: make uninstall removed everything"
