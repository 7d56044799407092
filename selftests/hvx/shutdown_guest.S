/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for shutdown_test.c: triple faults in each mode. */
#include "guest.h"

/* Long mode, the empty IDT of hvx_setup_mode: #UD -> #DF -> shutdown. */
GUEST_BEGIN(shut_long)
	.code64
	ud2
	GUEST_DONE($0xbad)
GUEST_END(shut_long)

/* 32-bit protected mode: null IDT loaded by the guest, then INT3. */
GUEST_BEGIN(shut_prot32)
	.code32
	lidt GPA(shut_prot32_start, shut_null_idtr)
	int3
	GUEST_DONE($0xbad)
shut_null_idtr:
	.word 0
	.long 0
GUEST_END(shut_prot32)

/* Real mode: IVT limit 0, then INT3 (#GP on the limit, #DF, shutdown). */
GUEST_BEGIN(shut_real)
	.code16
	lidt (shut_real_idtr - shut_real_start)
	int3
	GUEST_DONE($0xbad)
shut_real_idtr:
	.word 0
	.long 0
GUEST_END(shut_real)

GUEST_BEGIN(shut_ok)
	.code64
	GUEST_DONE($0x600d)
GUEST_END(shut_ok)
