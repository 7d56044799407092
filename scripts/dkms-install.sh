#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dkms-install.sh install|uninstall: hvx's module through DKMS, as root.
#
#   install    stage the module's sources (Kbuild, dkms.conf, kmod/, uapi/:
#              nothing else) in /usr/src/hvx-VERSION, register them, and
#              build and install the module for every kernel with headers
#              (DKMS rebuilds it for kernels installed later).  Any other
#              registered version of hvx is removed first, so running this
#              from a newer checkout is the whole upgrade.
#   uninstall  remove every registered version of hvx and its sources.
#
# VERSION is dkms.conf's PACKAGE_VERSION.  `make dkms-install` and
# `make dkms-uninstall` run this.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "dkms-install: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (DKMS writes /usr/src and /lib/modules)"
command -v dkms >/dev/null || die "dkms not installed (apt install dkms)"

conf_val() { sed -n "s/^$1=\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}$/\\1/p" "$top/dkms.conf"; }
name=$(conf_val PACKAGE_NAME)
ver=$(conf_val PACKAGE_VERSION)
{ [ -n "$name" ] && [ -n "$ver" ]; } || die "no PACKAGE_NAME/PACKAGE_VERSION in $top/dkms.conf"

# Every version of $name DKMS knows, one per line.
registered() {
	dkms status "$name" 2>/dev/null | sed -n "s|^$name/\\([^,:]*\\)[,:].*|\\1|p" | sort -u
	for d in /var/lib/dkms/"$name"/*/; do
		[ -d "$d" ] && [ ! -L "${d%/}" ] && basename "$d"
	done | sort -u
}

remove_all() {
	for v in $(registered | sort -u); do
		echo "dkms-install: removing $name/$v"
		dkms remove "$name/$v" --all >/dev/null 2>&1 || true
		rm -rf "/usr/src/$name-$v"
	done
	rm -rf "/usr/src/$name-$ver"
}

case ${1:-} in
install) ;;
uninstall)
	remove_all
	echo "dkms-install: $name removed"
	exit 0
	;;
*) die "usage: $0 install|uninstall" ;;
esac

remove_all
src=/usr/src/$name-$ver
mkdir -p "$src"
(cd "$top" && find Kbuild dkms.conf kmod uapi -type f \
	\( -name Kbuild -o -name dkms.conf -o -name '*.[chS]' \) -print0 |
	tar --null -T - -cf -) | (cd "$src" && tar -xf -)
dkms add "$name/$ver"

n=0
for d in /lib/modules/*/build; do
	[ -d "$d" ] || continue
	kver=$(basename "$(dirname "$d")")
	if ! dkms install "$name/$ver" -k "$kver"; then
		log=/var/lib/dkms/$name/$ver/build/make.log
		[ -f "$log" ] && cat "$log" >&2
		die "dkms install failed for $kver"
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || die "no kernel headers in /lib/modules (apt install linux-headers-\$(uname -r))"
echo "dkms-install: $name/$ver installed for $n kernel(s); 'modprobe $name' loads it"
