/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for state_test.c (64-bit). */
#include "guest.h"
#include "state_guest.h"

/* Fails unless reg == val (64-bit); clobbers RAX and flags. */
.macro CHECK64 reg, val
	movabs $\val, %rax
	cmp %rax, \reg
	je 1f
	GUEST_FAIL
1:
.endm

/* Checks the GPRs the host set, sets new ones, HLTs, then finishes. */
GUEST_BEGIN(state_regs)
	.code64
	jc 1f			/* the host set CF */
	GUEST_FAIL
1:	CHECK64 %rbx, REG_IN(1)
	CHECK64 %rcx, REG_IN(2)
	CHECK64 %rdx, REG_IN(3)
	CHECK64 %rsi, REG_IN(4)
	CHECK64 %rdi, REG_IN(5)
	CHECK64 %rbp, REG_IN(6)
	CHECK64 %r8, REG_IN(7)
	CHECK64 %r9, REG_IN(8)
	CHECK64 %r10, REG_IN(9)
	CHECK64 %r11, REG_IN(10)
	CHECK64 %r12, REG_IN(11)
	CHECK64 %r13, REG_IN(12)
	CHECK64 %r14, REG_IN(13)
	CHECK64 %r15, REG_IN(14)
	movabs $REG_OUT(1), %rbx
	movabs $REG_OUT(2), %rcx
	movabs $REG_OUT(3), %rdx
	movabs $REG_OUT(4), %rsi
	movabs $REG_OUT(5), %rdi
	movabs $REG_OUT(6), %rbp
	movabs $REG_OUT(7), %r8
	movabs $REG_OUT(8), %r9
	movabs $REG_OUT(9), %r10
	movabs $REG_OUT(10), %r11
	movabs $REG_OUT(11), %r12
	movabs $REG_OUT(12), %r13
	movabs $REG_OUT(13), %r14
	movabs $REG_OUT(14), %r15
	movabs $REG_OUT(0), %rax
	stc
GLABEL(state_regs_hlt)
	hlt
	GUEST_DONE($0x600d)
GUEST_END(state_regs)

/* FS/GS bases set by the host, then FS_BASE written by the guest. */
GUEST_BEGIN(state_seg)
	.code64
	mov %fs:0, %ebx
	GUEST_REPORT(%ebx)
	mov %gs:8, %ebx
	GUEST_REPORT(%ebx)
	mov $0xc0000100, %ecx
	mov $(GUEST_DATA_GPA + 0x200), %eax
	xor %edx, %edx
	wrmsr
	mov %fs:0, %ebx
	GUEST_REPORT(%ebx)
	hlt
	GUEST_DONE($0x600d)
GUEST_END(state_seg)

/* CR2 and CR8 set by the host; new values from the guest. */
GUEST_BEGIN(state_cr)
	.code64
	mov %cr2, %rbx
	mov %rbx, %rcx
	GUEST_REPORT(%ebx)
	shr $32, %rcx
	GUEST_REPORT(%ecx)
	mov %cr8, %rbx
	GUEST_REPORT(%ebx)
	movabs $0x5555000066, %rbx
	mov %rbx, %cr2
	hlt
	GUEST_DONE($0x600d)
GUEST_END(state_cr)

/* DR0-DR3 set by the host; DR3 written by the guest. */
GUEST_BEGIN(state_dr)
	.code64
	mov %dr0, %rbx
	GUEST_REPORT(%ebx)
	mov %dr1, %rbx
	GUEST_REPORT(%ebx)
	mov %dr2, %rbx
	GUEST_REPORT(%ebx)
	mov %dr3, %rbx
	GUEST_REPORT(%ebx)
	mov $0x7000, %ebx
	mov %rbx, %dr3
	hlt
	GUEST_DONE($0x600d)
GUEST_END(state_dr)

/* LSTAR set by the host is read; SFMASK written for the host to read. */
GUEST_BEGIN(state_msr)
	.code64
	mov $0xc0000082, %ecx
	rdmsr
	mov %eax, %ebx
	mov %edx, %esi
	GUEST_REPORT(%ebx)
	GUEST_REPORT(%esi)
	mov $0xc0000084, %ecx
	mov $0x300, %eax
	xor %edx, %edx
	wrmsr
	hlt
	GUEST_DONE($0x600d)
GUEST_END(state_msr)

/*
 * Vector registers.  RBX = 1 asks for AVX.  Report 1: 1 if AVX is used
 * (guest CPUID has XSAVE and AVX), else 0.  Loads the VEC_* pattern, reports
 * 2 (the host inspects and replaces the state), stores the registers at
 * GUEST_DATA_GPA (32 bytes apart) and finishes.
 */
GUEST_BEGIN(state_fpu)
	.code64
	mov %ebx, %r12d
	test %r12d, %r12d
	jz 1f
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	and $((1 << 26) | (1 << 28)), %ecx
	cmp $((1 << 26) | (1 << 28)), %ecx
	je 2f
1:	xor %r12d, %r12d
2:	GUEST_REPORT(%r12d)
	test %r12d, %r12d
	jz 3f
	mov %cr4, %rax
	or $(1 << 18), %rax		/* OSXSAVE */
	mov %rax, %cr4
	xor %ecx, %ecx
	xor %edx, %edx
	mov $7, %eax			/* x87 | SSE | AVX */
	xsetbv
3:	lea fpu_pattern(%rip), %rsi
	test %r12d, %r12d
	jz 4f
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu \n * 32(%rsi), %ymm\n
	.endr
	jmp 5f
4:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu \n * 32(%rsi), %xmm\n
	.endr
5:	GUEST_REPORT($2)
	mov $GUEST_DATA_GPA, %edi
	test %r12d, %r12d
	jz 6f
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu %ymm\n, \n * 32(%rdi)
	.endr
	jmp 7f
6:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu %xmm\n, \n * 32(%rdi)
	.endr
7:	GUEST_DONE($0x600d)

	.balign 32
fpu_pattern:
	i = 0
	.rept 16
	j = 0
	.rept 16
	.byte VEC_LO(i, j)
	j = j + 1
	.endr
	j = 0
	.rept 16
	.byte VEC_HI(i, j)
	j = j + 1
	.endr
	i = i + 1
	.endr
GUEST_END(state_fpu)

/* Two reports and done: the host queues events through HVX_STATE_EVENTS. */
GUEST_BEGIN(state_events)
	.code64
	GUEST_REPORT($1)
GLABEL(state_events_after)
	GUEST_REPORT($2)
	GUEST_DONE($0x600d)
GUEST_END(state_events)

/* Reads XCR0 with XGETBV and reports its halves, HLTs, and again. */
GUEST_BEGIN(state_xcr0)
	.code64
1:	xor %ecx, %ecx
	xgetbv
	mov %edx, %ebx
	GUEST_REPORT(%eax)
	GUEST_REPORT(%ebx)
	hlt
	jmp 1b
GUEST_END(state_xcr0)

/*
 * XSETBV faults (SDM vol. 2 XSETBV): #UD with CR4.OSXSAVE clear, #GP(0)
 * for ECX != 0 and for XCR0 = SSE without x87.  R15 holds the length of
 * the faulting instruction for the IDT handler.  Then a valid XSETBV of
 * x87|SSE, read back with XGETBV and reported.
 */
GUEST_BEGIN(state_xsetbv)
	.code64
	mov %cr4, %rax
	and $~(1 << 18), %rax
	mov %rax, %cr4
	xor %ecx, %ecx
	xor %edx, %edx
	mov $3, %eax
	mov $3, %r15d
GLABEL(xsetbv_ud)
	xsetbv
	mov %cr4, %rax
	or $(1 << 18), %rax
	mov %rax, %cr4
	mov $1, %ecx
	xor %edx, %edx
	mov $3, %eax
	mov $3, %r15d
GLABEL(xsetbv_gp_ecx)
	xsetbv
	xor %ecx, %ecx
	xor %edx, %edx
	mov $2, %eax
	mov $3, %r15d
GLABEL(xsetbv_gp_val)
	xsetbv
	xor %ecx, %ecx
	xor %edx, %edx
	mov $3, %eax
	mov $3, %r15d
	xsetbv
	xor %r15d, %r15d
	xor %ecx, %ecx
	xgetbv
	mov %eax, %ebx
	GUEST_REPORT(%ebx)
	GUEST_DONE($0x600d)
GUEST_END(state_xsetbv)

/*
 * Protection keys: sets CR4.PKE, writes PKRU_GUEST1 with WRPKRU and
 * reports 1 (the host inspects and replaces PKRU), then reports what
 * RDPKRU reads; clears CR4.PKE, reports 3, sets it again and reports
 * RDPKRU once more.
 */
GUEST_BEGIN(state_pkru)
	.code64
	mov %cr4, %rax
	or $(1 << 22), %rax
	mov %rax, %cr4
	xor %ecx, %ecx
	xor %edx, %edx
	mov $PKRU_GUEST1, %eax
	wrpkru
	GUEST_REPORT($1)
	xor %ecx, %ecx
	rdpkru
	mov %eax, %ebx
	GUEST_REPORT(%ebx)
	/* CR4.PKE off across an exit, then on: PKRU kept its value. */
	mov %cr4, %rax
	and $~(1 << 22), %rax
	mov %rax, %cr4
	GUEST_REPORT($3)
	mov %cr4, %rax
	or $(1 << 22), %rax
	mov %rax, %cr4
	xor %ecx, %ecx
	rdpkru
	mov %eax, %ebx
	GUEST_REPORT(%ebx)
	GUEST_DONE($0x600d)
GUEST_END(state_pkru)

/* Reports DR0-DR3, low half then high half each, HLTs, and again. */
GUEST_BEGIN(state_dr_loop)
	.code64
1:	.irp n, 0, 1, 2, 3
	mov %dr\n, %rbx
	mov %rbx, %rcx
	shr $32, %rcx
	GUEST_REPORT(%ebx)
	GUEST_REPORT(%ecx)
	.endr
	hlt
	jmp 1b
GUEST_END(state_dr_loop)

/*
 * XSETBV of each value of the list at GUEST_DATA_GPA (a count, then
 * 64-bit values at GUEST_DATA_GPA + 8), each expected to #GP (R15 is the
 * length for the IDT handler); then XCR0 reported with XGETBV.
 */
GUEST_BEGIN(state_xsetbv_list)
	.code64
	mov %cr4, %rax
	or $(1 << 18), %rax
	mov %rax, %cr4
	mov $GUEST_DATA_GPA, %rsi
	mov (%rsi), %r12d
	lea 8(%rsi), %r13
1:	test %r12d, %r12d
	jz 2f
	mov (%r13), %eax
	mov 4(%r13), %edx
	xor %ecx, %ecx
	mov $3, %r15d
GLABEL(xsetbv_list_insn)
	xsetbv
	add $8, %r13
	dec %r12d
	jmp 1b
2:	xor %r15d, %r15d
	xor %ecx, %ecx
	xgetbv
	mov %edx, %ebx
	GUEST_REPORT(%eax)
	GUEST_REPORT(%ebx)
	GUEST_DONE($0x600d)
GUEST_END(state_xsetbv_list)
