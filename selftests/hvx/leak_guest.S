/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for leak_test.c (64-bit). */
#include "guest.h"

/* vCPU 0: touch one byte every 64 KiB of the first 4 MiB. */
GUEST_BEGIN(leak_guest)
	.code64
	mov $0x100000, %ebx		/* above the tables, code and stacks */
	mov $48, %ecx
1:	movb $1, (%rbx)
	add $0x10000, %rbx
	loop 1b
	GUEST_DONE($0x600d)
GLABEL(leak_guest_ap)
	/* vCPU 1 */
	GUEST_DONE($0xa9)
GUEST_END(leak_guest)
