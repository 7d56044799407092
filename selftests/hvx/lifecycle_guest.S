/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for lifecycle_test.c (64-bit). */
#include "guest.h"

#define SLOT1_GPA	0x200000

/* Writes the first dword of slot 1 (its page is the host's to stall), reports it. */
GUEST_BEGIN(lc_touch)
	.code64
	mov $SLOT1_GPA, %ebx
	movl $0x1234, (%rbx)
	mov (%rbx), %ecx
	GUEST_REPORT(%ecx)
	GUEST_DONE($0x600d)
GUEST_END(lc_touch)
