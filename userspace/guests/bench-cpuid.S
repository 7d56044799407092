/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPUID round-trip benchmark: every iteration is a CPUID, which the
 * hypervisor handles in the kernel.  Protocol in guest.h.
 */
#include "guest.h"

	.code64
	.section .text.entry, "ax"
	.globl _start
_start:
	mov	$GUEST_STACK_TOP, %rsp
	BENCH_ROUND_BEGIN
1:	xor	%eax, %eax
	xor	%ecx, %ecx
	cpuid
	dec	%r8d
	jnz	1b
	BENCH_ROUND_END
