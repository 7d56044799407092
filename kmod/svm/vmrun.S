/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: the SVM world switch.
 *
 * void hvx_svm_vmrun(u64 *regs, u64 vmcb_pa, u64 host_pa)
 *
 * Called with GIF clear and host interrupts disabled.  VMSAVEs the host's
 * FS/GS/TR/LDTR and SYSCALL/SYSENTER MSRs to @host_pa, loads the guest's
 * general-purpose registers (RAX and RSP are in the VMCB) from @regs,
 * VMLOADs and VMRUNs the guest; on #VMEXIT VMSAVEs the guest, VMLOADs the
 * host back before any C code can touch GS, and stores the guest
 * registers.  STI before VMRUN makes host interrupts exit the
 * guest (the host's RFLAGS.IF is what VMRUN saves, APM §15.21.1); GIF
 * keeps them pending until the caller's STGI.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

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

	.section .text, "ax"

SYM_FUNC_START(hvx_svm_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* @host_pa and @regs, for after the exit. */
	push	%rdx
	push	%rdi

	mov	%rdx, %rax
	vmsave	%rax
	mov	%rsi, %rax
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

	vmload	%rax
	/* The host's buffers are of no use to the guest (VERW; clobbers ZF). */
	VM_CLEAR_CPU_BUFFERS
	sti
	vmrun	%rax
	cli
	vmsave	%rax

	/* RAX holds the VMCB address again (host RAX is restored by #VMEXIT). */
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

	/* The host's GS base (per-CPU data) and the rest come back. */
	mov	8(%rsp), %rax
	vmload	%rax

	/*
	 * Before the first RET: no return prediction the guest planted may
	 * be used by the host (the RSB is refilled, and on CPUs that need it
	 * return predictions are untrained), as the host kernel's mitigation
	 * state asks (X86_FEATURE_RSB_VMEXIT, IBPB_ON_VMEXIT, retbleed/SRSO).
	 */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
#ifdef UNTRAIN_RET_VM
	UNTRAIN_RET_VM
#else
	UNTRAIN_RET
#endif

	/* Leave no guest value in a register the host might speculate on. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	add	$16, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(hvx_svm_vmrun)
