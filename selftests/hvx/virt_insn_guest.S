/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for virt_insn_test.c: the host patches the 3-byte instruction. */
#include "guest.h"

GUEST_BEGIN(virt_insn)
	.code64
	mov $3, %r15d			/* the #UD handler skips 3 bytes */
GLABEL(virt_insn_site)
	.byte 0x90, 0x90, 0x90
	GUEST_DONE($0x600d)
GUEST_END(virt_insn)
