/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Port-I/O round-trip benchmark: every iteration is an OUT that exits to
 * the client in userspace.  Protocol in guest.h.
 */
#include "guest.h"

	.code64
	.section .text.entry, "ax"
	.globl _start
_start:
	mov	$GUEST_STACK_TOP, %rsp
	BENCH_ROUND_BEGIN
1:	out	%al, $PORT_BENCH_PIO
	dec	%r8d
	jnz	1b
	BENCH_ROUND_END
