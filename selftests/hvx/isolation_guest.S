/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for isolation_test.c (64-bit, libhvx's identity map).
 *
 * In: RBX = this VM's seed, R11 = end of its RAM; RBP and R12-R15 hold
 * values derived from the seed that the guest never touches (the host
 * checks them at every exit).  ISO_PASSES passes over [ISO_DATA_START,
 * R11): each stores ISO_PATTERN(address, pass) at every ISO_STRIDE-th
 * byte, after checking there what the previous pass stored.  Every
 * ISO_REPORT_PAGES pages the guest reports ISO_PROGRESS(pass, page) on
 * PORT_REPORT and halts with interrupts on; the host wakes it with an
 * interrupt, which guest_idt64's stub reports.  A wrong value ends the
 * guest with its address on PORT_FAIL; the end is PORT_DONE with the low
 * half of the seed.
 */
#include "guest.h"
#include "isolation_guest.h"

GUEST_BEGIN(isolation_guest)
	.code64
	movabs $ISO_MUL, %r9
	xor %r10d, %r10d			/* pass */
1:	mov $ISO_DATA_START, %rdi
2:	xor %ecx, %ecx
	/* RAX = ISO_PATTERN(RDI + RCX, 0); the pass is added below. */
3:	lea (%rdi,%rcx), %rax
	imul %r9, %rax
	xor %rbx, %rax
	test %r10, %r10
	jz 4f
	lea -1(%rax,%r10), %r8
	cmp %r8, (%rdi,%rcx)
	jne 9f
4:	add %r10, %rax
	mov %rax, (%rdi,%rcx)
	add $ISO_STRIDE, %ecx
	cmp $4096, %ecx
	jb 3b
	add $4096, %rdi
	test $(ISO_REPORT_PAGES * 4096 - 1), %edi
	jnz 5f
	/* ISO_PROGRESS(pass, page number of RDI) */
	mov %r10d, %eax
	shl $ISO_PROGRESS_PASS_SHIFT, %eax
	mov %rdi, %rdx
	shr $12, %rdx
	or %edx, %eax
	mov $PORT_REPORT, %dx
	out %eax, %dx
	/* The host answers the HLT with an interrupt (guest_idt64's stubs). */
	sti
	hlt
GLABEL(isolation_guest_woken)
	cli
5:	cmp %r11, %rdi
	jb 2b
	inc %r10
	cmp $ISO_PASSES, %r10
	jb 1b
	GUEST_DONE(%ebx)

	/* Not what the previous pass stored: report where. */
9:	lea (%rdi,%rcx), %rax
	mov $PORT_FAIL, %dx
	out %eax, %dx
8:	hlt
	jmp 8b
GUEST_END(isolation_guest)
