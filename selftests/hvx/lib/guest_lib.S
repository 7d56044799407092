/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code shared by the tests: 64-bit exception/interrupt stubs.
 *
 * Vector v's stub sits at guest_idt64_start + 16 * v.  Each stub pushes a
 * dummy error code where the CPU pushes none, then its vector, and jumps to
 * a common handler that reports (vector, error code, RIP) on PORT_EXC.  For
 * an exception (vector < 32) the handler adds R15 to the saved RIP and
 * clears R15: a test that expects a fault puts the length of the faulting
 * instruction in R15 first.  Events injected by the host find R15 = 0.
 */
#include "guest.h"

GUEST_BEGIN(guest_idt64)
	.code64
	vector = 0
	.rept 256
	/* .org fails the build if the previous stub was too long. */
	.org guest_idt64_start + vector * GUEST_STUB_SIZE, 0xcc
	.if (vector == 8) || (vector >= 10 && vector <= 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
	.else
	push $0
	.endif
	push $vector
	/* jmp rel32, spelled out so that every stub has a fixed size */
	.byte 0xe9
	.long idt64_common - . - 4
	vector = vector + 1
	.endr

	.org guest_idt64_start + 256 * GUEST_STUB_SIZE, 0xcc
idt64_common:
	push %rax
	push %rdx
	/* Stack: rdx, rax, vector, error code, rip, cs, rflags, rsp, ss. */
	mov $PORT_EXC, %dx
	mov 16(%rsp), %eax
	out %eax, %dx
	mov 24(%rsp), %eax
	out %eax, %dx
	mov 32(%rsp), %eax
	out %eax, %dx
	cmpq $32, 16(%rsp)
	jae 1f
	add %r15, 32(%rsp)
	xor %r15d, %r15d
1:	pop %rdx
	pop %rax
	add $16, %rsp
	iretq
GUEST_END(guest_idt64)
