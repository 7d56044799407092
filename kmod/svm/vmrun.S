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

#include "hvx_regs.S"

	.section .text, "ax"

SYM_FUNC_START(hvx_svm_vmrun)
	HVX_SAVE_CALLEE_REGS
	/* @host_pa and @regs, for after the exit. */
	push	%rdx
	push	%rdi

	mov	%rdx, %rax
	vmsave	%rax
	mov	%rsi, %rax
	HVX_LOAD_GUEST_REGS

	vmload	%rax
	/* The host's buffers are of no use to the guest (VERW; clobbers ZF). */
	VM_CLEAR_CPU_BUFFERS
	sti
	vmrun	%rax
	cli
	vmsave	%rax

	/* RAX holds the VMCB address again (host RAX is restored by #VMEXIT). */
	HVX_STORE_GUEST_REGS

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

	HVX_CLEAR_GUEST_REGS
	add	$16, %rsp
	HVX_RESTORE_CALLEE_REGS
	RET
SYM_FUNC_END(hvx_svm_vmrun)
