/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for signal_test.c (64-bit). */
#include "guest.h"

/* Spins, counting, until the host sets the flag; returns the count's low half. */
GUEST_BEGIN(sig_spin)
	.code64
1:	incq sig_count(%rip)
	cmpl $0, sig_flag(%rip)
	je 1b
	GUEST_DONE($0x600d)
	.balign 8
GLABEL(sig_count)
	.quad 0
GLABEL(sig_flag)
	.long 0
GUEST_END(sig_spin)
