/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: the VMX world switch.
 *
 * int hvx_vmx_vmenter(u64 *regs, bool launched)
 *
 * Called with host interrupts disabled and the vCPU's VMCS current.
 * Clears the CPU's buffers before entry (VERW) and refills the return
 * stack buffer after the exit, before the first RET, as the host kernel's
 * mitigation state asks.
 * Writes the stack pointer to HOST_RSP, loads the guest's general-purpose
 * registers but RSP (it is in the VMCS) from @regs and enters the guest
 * with VMRESUME if @launched, else VMLAUNCH.  A VM exit lands at
 * hvx_vmx_vmexit (HOST_RIP) on the same stack; the guest registers are
 * stored back and 0 returned.  A failed VMLAUNCH/VMRESUME (VMfail, the
 * reason in VM_INSTRUCTION_ERROR) returns 1.  VM exit restores the host's
 * CR0/3/4, RSP, RIP, segment selectors, FS/GS/TR/GDTR/IDTR bases, SYSENTER
 * MSRs, PAT and EFER from the host-state area; the caller restores the rest.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/segment.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>
#include <asm/ibt.h>

#define R_RAX	(0 * 8)
#define R_RCX	(1 * 8)
#define R_RDX	(2 * 8)
#define R_RBX	(3 * 8)
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

#define HOST_RSP_FIELD	0x6c14

	.section .text, "ax"

SYM_FUNC_START(hvx_vmx_vmenter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* @launched, then @regs: the top of the stack HOST_RSP points at. */
	push	%rsi
	push	%rdi

	mov	$HOST_RSP_FIELD, %eax
	vmwrite	%rsp, %rax
	jna	.Lfail_early

	mov	R_RAX(%rdi), %rax
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
	/* The host's buffers are of no use to the guest (VERW; clobbers ZF). */
	VM_CLEAR_CPU_BUFFERS
	/* The exit comes back with the stack as it is here. */
	UNWIND_HINT_SAVE
	cmpb	$0, 8(%rsp)
	jnz	1f
	vmlaunch
	jmp	.Lfail
1:	vmresume
.Lfail:
	/* VMfail: the guest was never entered; the pops below restore the host's. */
.Lfail_early:
	mov	$1, %eax
	jmp	.Lout

SYM_INNER_LABEL(hvx_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	/* RSP is HOST_RSP: @regs on top. */
	push	%rdi
	mov	8(%rsp), %rdi
	popq	R_RDI(%rdi)
	mov	%rax, R_RAX(%rdi)
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
	xor	%eax, %eax

	/* Leave no guest value in a register the host might speculate on. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	/*
	 * Before the first RET: no return prediction the guest planted may
	 * be used by the host (X86_FEATURE_RSB_VMEXIT, or the lighter
	 * refill enhanced IBRS needs, RSB_VMEXIT_LITE).
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE
	xor	%ecx, %ecx
.Lout:
	add	$16, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(hvx_vmx_vmenter)

/*
 * void hvx_vmx_do_nmi(unsigned long entry)
 *
 * An NMI that made a VM exit was consumed by it: run the host's handler
 * with the interrupt frame the CPU would have pushed.  Interrupts are off.
 */
SYM_FUNC_START(hvx_vmx_do_nmi)
	push	%rbp
	mov	%rsp, %rbp
	and	$-16, %rsp
	push	$__KERNEL_DS
	push	%rbp
	pushf
	push	$__KERNEL_CS
	CALL_NOSPEC rdi
	mov	%rbp, %rsp
	pop	%rbp
	RET
SYM_FUNC_END(hvx_vmx_do_nmi)
