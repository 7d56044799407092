/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: what the two world switches (svm/vmrun.S, vmx/vmenter.S) share: the
 * layout of vcpu->regs (the HVX_RAX... order of hvx_core.h, 8 bytes each)
 * and the moves of the general-purpose registers in and out of it.
 * Included by them; not assembled on its own.
 */
#ifndef HVX_REGS_S
#define HVX_REGS_S

#define R_RAX	(0 * 8)
#define R_RCX	(1 * 8)
#define R_RDX	(2 * 8)
#define R_RBX	(3 * 8)
#define R_RSP	(4 * 8)
#define R_RBP	(5 * 8)
#define R_RSI	(6 * 8)
#define R_RDI	(7 * 8)
#define R_R8	(8 * 8)
#define R_R9	(9 * 8)
#define R_R10	(10 * 8)
#define R_R11	(11 * 8)
#define R_R12	(12 * 8)
#define R_R13	(13 * 8)
#define R_R14	(14 * 8)
#define R_R15	(15 * 8)

/* A frame, and the registers the C calling convention wants kept. */
.macro HVX_SAVE_CALLEE_REGS
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
.endm

.macro HVX_RESTORE_CALLEE_REGS
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
.endm

/*
 * The guest's registers from @regs in RDI, RDI last; RAX and RSP are the
 * backend's (VMCB, VMCS or its own).
 */
.macro HVX_LOAD_GUEST_REGS
	mov	R_RCX(%rdi), %rcx
	mov	R_RDX(%rdi), %rdx
	mov	R_RBX(%rdi), %rbx
	mov	R_RBP(%rdi), %rbp
	mov	R_RSI(%rdi), %rsi
	mov	R_R8(%rdi), %r8
	mov	R_R9(%rdi), %r9
	mov	R_R10(%rdi), %r10
	mov	R_R11(%rdi), %r11
	mov	R_R12(%rdi), %r12
	mov	R_R13(%rdi), %r13
	mov	R_R14(%rdi), %r14
	mov	R_R15(%rdi), %r15
	mov	R_RDI(%rdi), %rdi
.endm

/*
 * After the exit, with @regs at the top of the stack: the guest's
 * registers into it, but RAX and RSP.  RDI then points at @regs.
 */
.macro HVX_STORE_GUEST_REGS
	push	%rdi
	mov	8(%rsp), %rdi
	popq	R_RDI(%rdi)
	mov	%rcx, R_RCX(%rdi)
	mov	%rdx, R_RDX(%rdi)
	mov	%rbx, R_RBX(%rdi)
	mov	%rbp, R_RBP(%rdi)
	mov	%rsi, R_RSI(%rdi)
	mov	%r8, R_R8(%rdi)
	mov	%r9, R_R9(%rdi)
	mov	%r10, R_R10(%rdi)
	mov	%r11, R_R11(%rdi)
	mov	%r12, R_R12(%rdi)
	mov	%r13, R_R13(%rdi)
	mov	%r14, R_R14(%rdi)
	mov	%r15, R_R15(%rdi)
.endm

/*
 * Leave no guest value in a caller-saved register the host might
 * speculate on (the callee-saved ones are restored, RAX is the result).
 */
.macro HVX_CLEAR_GUEST_REGS
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
.endm

#endif
