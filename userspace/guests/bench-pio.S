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
next_round:
	in	$PORT_BENCH_COUNT, %eax
	test	%eax, %eax
	jz	done
	mov	%eax, %ecx
	out	%al, $PORT_BENCH_START
1:	out	%al, $PORT_BENCH_PIO
	dec	%ecx
	jnz	1b
	out	%al, $PORT_BENCH_STOP
	jmp	next_round
done:
	xor	%eax, %eax
	out	%eax, $PORT_DEBUG_EXIT
	hlt
	jmp	done
