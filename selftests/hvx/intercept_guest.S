/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for intercept_test.c: the exceptions and instructions that
 * hvx intercepts for the host's sake (#DB, #AC, INVD, WBINVD, RDPMC,
 * INVPCID under shadow paging), seen from the guest.
 */
#include "guest.h"

/* As in intercept_test.c. */
#define USER_CS		0x33
#define USER_SS		0x3b
#define USER_STACK	0x60000
#define SCRATCH		(GUEST_DATA_GPA + 0x100)
#define RFLAGS_TF	0x100
#define RFLAGS_RF	0x10000
#define RFLAGS_IOPL3	0x3000
#define RFLAGS_AC	0x40000
#define CR0_AM		0x40000
#define DR6_INIT	0xffff0ff0
#define DR7_INIT	0x400

/*
 * 64-bit: single-step, an instruction breakpoint (DR0) and a data
 * breakpoint (DR1) at CPL 0; INVD, WBINVD, RDPMC and (R14 = 1, shadow
 * paging) INVPCID.
 */
GUEST_BEGIN(icpt_main)
	.code64
	/* 1. POPF sets TF: the instruction after it traps. */
	pushfq
	orq $RFLAGS_TF, (%rsp)
	popfq
GLABEL(ss_insn)
	nop
GLABEL(ss_after)
	/* 2. An execute breakpoint: a fault, RIP at the instruction. */
	lea bp_target(%rip), %rax
	mov %rax, %dr0
	mov $(DR7_INIT | 0x1), %eax
	mov %rax, %dr7
GLABEL(bp_target)
	nop
	mov $DR7_INIT, %eax
	mov %rax, %dr7
	/* 3. A 4-byte write breakpoint on SCRATCH: a trap after the write. */
	mov $SCRATCH, %eax
	mov %rax, %dr1
	mov $(DR7_INIT | 0x4 | (0x1 << 20) | (0x3 << 22)), %eax
	mov %rax, %dr7
	mov $SCRATCH, %ebx
GLABEL(wp_insn)
	movl $0x1234, (%rbx)
GLABEL(wp_after)
	mov $DR7_INIT, %eax
	mov %rax, %dr7
	/* 4. INVD and WBINVD keep what was written (and WBNOINVD, f3 0f 09). */
	invd
	wbinvd
	.byte 0xf3, 0x0f, 0x09
	mov (%rbx), %ecx
	GUEST_ASSERT_EQ(%ecx, 0x1234)
	GUEST_REPORT($0x1d)
	/* 5. RDPMC: #GP(0) at the instruction, 2 bytes. */
	xor %ecx, %ecx
	mov $2, %r15d
GLABEL(rdpmc_insn)
	rdpmc
	/* 6. INVPCID (66 0f 38 82 /r, 5 bytes) type 2 under shadow paging: #UD. */
	cmp $1, %r14d
	jne 1f
	mov $SCRATCH + 0x10, %eax
	movq $0, (%rax)
	movq $0, 8(%rax)
	mov $2, %ecx
	mov $5, %r15d
GLABEL(invpcid_insn)
	invpcid (%rax), %rcx
1:
	GUEST_DONE($0x600d)

/*
 * #DB: reports DR6, RIP and RFLAGS of the frame, resets DR6, and returns
 * with TF clear and RF set (so that an execute breakpoint does not hit
 * again; a handler has to do that, the CPU does not).
 */
GLABEL(icpt_db)
	push %rax
	push %rdx
	push %rcx
	mov %dr6, %rcx
	GUEST_REPORT(%ecx)
	mov 24(%rsp), %rcx
	GUEST_REPORT(%ecx)
	mov 40(%rsp), %rcx
	GUEST_REPORT(%ecx)
	mov $DR6_INIT, %ecx
	mov %rcx, %dr6
	andq $~RFLAGS_TF, 40(%rsp)
	orq $RFLAGS_RF, 40(%rsp)
	pop %rcx
	pop %rdx
	pop %rax
	iretq
GUEST_END(icpt_main)

/*
 * 64-bit: CR0.AM, then CPL 3 with RFLAGS.AC (and IOPL 3, so that the port
 * protocol works there): a misaligned load faults.  0xa11 if it did not.
 */
GUEST_BEGIN(icpt_align)
	.code64
	mov %cr0, %rax
	or $CR0_AM, %rax
	mov %rax, %cr0
	push $USER_SS
	push $USER_STACK
	push $(RFLAGS_AC | RFLAGS_IOPL3 | 0x2)
	push $USER_CS
	lea user_code(%rip), %rax
	push %rax
	iretq
user_code:
	mov $SCRATCH + 1, %ebx
	mov $2, %r15d
GLABEL(ac_insn)
	mov (%rbx), %eax
	test %r15d, %r15d
	jz 1f
	GUEST_DONE($0xa11)
1:	GUEST_DONE($0x600d)

/* #AC: reports the error code, RIP, CS and RFLAGS of the frame; skips R15 bytes. */
GLABEL(icpt_ac)
	push %rax
	push %rdx
	push %rcx
	mov 24(%rsp), %rcx
	GUEST_REPORT(%ecx)
	mov 32(%rsp), %rcx
	GUEST_REPORT(%ecx)
	mov 40(%rsp), %rcx
	GUEST_REPORT(%ecx)
	mov 48(%rsp), %rcx
	GUEST_REPORT(%ecx)
	add %r15, 32(%rsp)
	xor %r15d, %r15d
	pop %rcx
	pop %rdx
	pop %rax
	add $8, %rsp
	iretq
GUEST_END(icpt_align)

/*
 * 32-bit protected mode: the #AC of CVE-2015-5307.  The #AC gate leads to
 * CPL 3, so the CPU pushes the frame on the CPL 3 stack, which is
 * misaligned: delivering #AC raises #AC, for ever.  The guest reports 1
 * once at CPL 3, then never gets anywhere again (0xa11: no #AC at all;
 * 0xbad: delivered without one).
 */
GUEST_BEGIN(icpt_acloop)
	.code32
	mov %cr0, %eax
	or $CR0_AM, %eax
	mov %eax, %cr0
	push $USER_SS
	push $USER_STACK
	push $(RFLAGS_AC | RFLAGS_IOPL3 | 0x2)
	push $USER_CS
	call 1f
1:	addl $(acloop_user - 1b), (%esp)
	iret
acloop_user:
	GUEST_REPORT($1)
	mov $(USER_STACK + 1), %esp
	mov (%esp), %eax
	GUEST_DONE($0xa11)
GLABEL(acloop_handler)
	GUEST_DONE($0xbad)
GUEST_END(icpt_acloop)

/*
 * 64-bit: the #DB of CVE-2015-8104.  The #DB gate uses IST1, so every
 * delivery pushes its frame at the same place, and DR0 watches writes to
 * the first slot it pushes there: the guest's own write to it raises a
 * #DB whose delivery raises the next, for ever.  The handler reports
 * 0xbad if it ever runs (a CPU that did not see the frame write).
 */
#define DBLOOP_SLOT	(DBLOOP_IST - 8)
#define DBLOOP_IST	0x70000

GUEST_BEGIN(icpt_dbloop)
	.code64
	mov $DBLOOP_SLOT, %ebx
	mov %rbx, %dr0
	mov $(DR7_INIT | 0x1 | (0x1 << 16) | (0x2 << 18)), %eax
	mov %rax, %dr7
	GUEST_REPORT($1)
	movq $0, (%rbx)
	GUEST_DONE($0xbad)
GLABEL(dbloop_handler)
	GUEST_DONE($0xbad)
GUEST_END(icpt_dbloop)

/* 64-bit: ICEBP (INT1, f1), a #DB that traps after the instruction. */
GUEST_BEGIN(icpt_icebp)
	.code64
	.byte 0xf1
GLABEL(icebp_after)
	GUEST_DONE($0x600d)
GUEST_END(icpt_icebp)
