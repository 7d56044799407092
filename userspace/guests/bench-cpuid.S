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
next_round:
	in	$PORT_BENCH_COUNT, %eax
	test	%eax, %eax
	jz	done
	mov	%eax, %r8d
	out	%al, $PORT_BENCH_START
1:	xor	%eax, %eax
	xor	%ecx, %ecx
	cpuid
	dec	%r8d
	jnz	1b
	out	%al, $PORT_BENCH_STOP
	jmp	next_round
done:
	xor	%eax, %eax
	out	%eax, $PORT_DEBUG_EXIT
	hlt
	jmp	done
