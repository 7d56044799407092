/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for module_test.c (64-bit): halts, and halts again. */
#include "guest.h"

GUEST_BEGIN(module_hlt)
	.code64
1:	hlt
	jmp 1b
GUEST_END(module_hlt)
