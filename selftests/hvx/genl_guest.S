/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for genl_test.c, all 64-bit. */
#include "guest.h"

/* A gpa outside every slot of the test's VM. */
#define NO_SLOT_GPA	0xd0000000

/* No IDT: #UD shuts the vCPU down (triple fault). */
GUEST_BEGIN(stats_shutdown)
	.code64
	ud2
	GUEST_DONE($0xbad)
GUEST_END(stats_shutdown)

/* Instruction fetch from a gpa outside every slot. */
GUEST_BEGIN(stats_fetch)
	.code64
	mov $NO_SLOT_GPA, %eax
	jmp *%rax
GUEST_END(stats_fetch)
