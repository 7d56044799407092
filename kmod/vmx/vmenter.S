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

#include "hvx_regs.S"

#define HOST_RSP_FIELD	0x6c14

	.section .text, "ax"

SYM_FUNC_START(hvx_vmx_vmenter)
	HVX_SAVE_CALLEE_REGS
	/* @launched, then @regs: the top of the stack HOST_RSP points at. */
	push	%rsi
	push	%rdi

	mov	$HOST_RSP_FIELD, %eax
	vmwrite	%rsp, %rax
	jna	.Lfail_early

	mov	R_RAX(%rdi), %rax
	HVX_LOAD_GUEST_REGS
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
	HVX_STORE_GUEST_REGS
	mov	%rax, R_RAX(%rdi)
	xor	%eax, %eax
	HVX_CLEAR_GUEST_REGS

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
	HVX_RESTORE_CALLEE_REGS
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
