#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: GPL-2.0
#
# /init of the busybox initramfs the rig builds for Linux guests under
# hvx-run (scripts/rig.sh, selftests/hvx/linux_test.c, make demo).  Prints
# GUEST-INIT with the guest's uptime, then runs guest_cmd from the kernel
# command line and powers off, or, without it, starts a shell on the
# serial console.

/bin/busybox --install -s /bin
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

echo "GUEST-INIT uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
if [ -n "${guest_cmd:-}" ]; then
	sh -c "$guest_cmd"
	poweroff -f
fi
export PS1='guest# '
exec setsid cttyhack sh
