/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MMIO round-trip benchmark: every iteration is a 4-byte MOV to a
 * guest-physical address no memory backs, which the client completes in
 * userspace.  Protocol in guest.h.
 */
#include "guest.h"

	.code64
	.section .text.entry, "ax"
	.globl _start
_start:
	mov	$GUEST_STACK_TOP, %rsp
	mov	$BENCH_MMIO_GPA, %ebx
	BENCH_ROUND_BEGIN
1:	mov	%r8d, (%rbx)
	dec	%r8d
	jnz	1b
	BENCH_ROUND_END
