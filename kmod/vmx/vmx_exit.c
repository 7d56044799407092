// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: VMX exit handlers.  Each returns 1 (resume the guest), 0 (return
 * to userspace, run page filled) or a negative errno, as on SVM.  The exit
 * information was read in vmx_run() while the VMCS was current; a handler
 * that touches the VMCS goes through vmx_get()/vmx_put().
 */
#include <linux/kernel.h>
#include <asm/trapnr.h>
#include <asm/processor-flags.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/cpu.h>

#include "vmx.h"

/*
 * The instruction is done: an STI or MOV SS shadow ended with it.  Cleared
 * in the VMCS now, not at the next entry, so that the vCPU reads as
 * interruptible at once (ready_for_interrupt after a HLT exit).
 */
static void vmx_end_shadow(struct hvx_vcpu *vcpu)
{
	u32 intr;

	vmx_get(vcpu);
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
	vmx_put(vcpu);
}

/* The exiting instruction is done: step over it (SDM vol. 3C §28.2.5). */
void vmx_skip(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vcpu->rip += vmx->exit_insn_len;
	vmx_end_shadow(vcpu);
}

static int vmx_fault(struct hvx_vcpu *vcpu, u8 vector)
{
	hvx_queue_exception(vcpu, vector, 0);
	return 1;
}

static int vmx_exit_nop(struct hvx_vcpu *vcpu)
{
	/* A host interrupt or NMI: the host has taken it. */
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_HOST_INTR);
	return 1;
}

/*
 * Shadow paging: a #PF on the shadow tables.  Either the guest's tables
 * allow the access (fill the shadow entry, resume), or the guest gets its
 * own #PF, with CR2, or the address is MMIO.
 */
static int vmx_exit_shadow_pf(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 ec = 0;
	int ret;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_NPF);
	ret = hvx_shadow_fault(vcpu, &vcpu->shadow, vmx->exit_qual, vmx->exit_intr_error, &ec);
	if (ret != 2)
		return ret;
	return hvx_shadow_pf_deliver(vcpu, vmx->exit_qual, ec);
}

/* Shadow paging: INVLPG drops the page from the virtual TLB. */
static int vmx_exit_invlpg(struct hvx_vcpu *vcpu)
{
	struct hvx_paging pg;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	vmx_get_paging(vcpu, &pg);
	hvx_shadow_invlpg(&vcpu->shadow, to_vmx(vcpu)->exit_qual, pg.efer & EFER_LMA);
	vmx_skip(vcpu);
	return 1;
}

/* Bits of the exit qualification of a #DB (SDM vol. 3C table 28-1). */
#define VMX_DB_QUAL_BD		BIT(13)
#define VMX_DB_QUAL_RTM		BIT(16)
#define VMX_DR6_RTM		BIT(16)		/* active low in DR6 */
#define VMX_DR7_GD		BIT(13)

/*
 * #DB: a #DB that exits leaves DR6 alone and reports the cause in the
 * exit qualification (SDM vol. 3C §28.1), so DR6 is updated here as the
 * CPU would have: B0-B3 replaced, BD and BS added, RTM active low
 * (KVM's kvm_deliver_exception_payload()).  Delivering #DB clears
 * DR7.GD.  RFLAGS.RF stays as it is: a #DB does not set it in the frame.
 */
static int vmx_exit_db(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 q = vmx->exit_qual;
	u32 intr;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	vmx->dr6 = ((vmx->dr6 & ~DR_TRAP_BITS) | DR6_RESERVED |
		    (q & (DR_TRAP_BITS | VMX_DB_QUAL_BD | DR_STEP))) &
		   ~((q & VMX_DB_QUAL_RTM) ? VMX_DR6_RTM : 0);
	/*
	 * ICEBP (INT1) exits on the instruction itself, as a privileged
	 * software exception: step over it, its #DB is a trap.
	 */
	if ((vmx->exit_intr_info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmx_skip(vcpu);
	vmx_get(vcpu);
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	/*
	 * VM entry checks that a single-step #DB is pending when TF is set
	 * under STI or MOV SS blocking (SDM vol. 3C §26.3.1.5); the exit
	 * does not record it, and the injected #DB is not seen as one.
	 */
	if ((vcpu->rflags & X86_EFLAGS_TF) &&
	    (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)))
		vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS,
			   vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) | DR_STEP);
	vmcs_write(GUEST_DR7, vmcs_read(GUEST_DR7) & ~VMX_DR7_GD);
	vmx_put(vcpu);
	hvx_reflect_exception(vcpu, X86_TRAP_DB);
	return 1;
}

/*
 * #AC.  With the host's split-lock detection on (MSR_TEST_CTRL), a split
 * locked access raises #AC in the guest whatever its CR0.AM and
 * RFLAGS.AC; that one is the host's business, and its policy (warn and
 * let the task go on, or SIGBUS) applies to the vCPU thread, as KVM does.
 * The guest's own alignment check (CPL 3, CR0.AM, RFLAGS.AC) is a fault,
 * and faults other than #DB set RF in the RFLAGS image they push (SDM
 * vol. 3A §6.13): set it before the injection pushes RFLAGS.
 */
static int vmx_exit_ac(struct hvx_vcpu *vcpu)
{
	struct hvx_paging pg;
	struct hvx_sregs s;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	if (boot_cpu_has(X86_FEATURE_SPLIT_LOCK_DETECT)) {
		vmx_get_paging(vcpu, &pg);
		vmx_get_sregs(vcpu, &s);
		if (s.ss.dpl != 3 || !(pg.cr0 & X86_CR0_AM) || !(vcpu->rflags & X86_EFLAGS_AC)) {
			handle_guest_split_lock(vcpu->rip);
			return 1;
		}
	}
	vcpu->rflags |= X86_EFLAGS_RF;
	hvx_reflect_exception(vcpu, X86_TRAP_AC);
	return 1;
}

static int vmx_exit_exception_nmi(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u8 vector = vmx->exit_intr_info & INTR_INFO_VECTOR_MASK;

	if ((vmx->exit_intr_info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		return vmx_exit_nop(vcpu);
	if (vmx->shadow && vector == X86_TRAP_PF) {
		if (unlikely(vmx->rm_ran) && vmx_rm_tss_fault(vcpu))
			return 1;
		return vmx_exit_shadow_pf(vcpu);
	}
	if (vector == X86_TRAP_DB)
		return vmx_exit_db(vcpu);
	if (vector == X86_TRAP_AC)
		return vmx_exit_ac(vcpu);
	/* A machine check: vmx_run() has handed it to the host's handler. */
	if (vector == X86_TRAP_MC) {
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
		return 1;
	}
	/* Virtual-8086 mode intercepts every exception. */
	if (vmx->rm_ran)
		return vmx_rm_exception(vcpu, vector);
	/* No other exception is intercepted: this cannot happen. */
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return hvx_exit_internal(vcpu, HVX_INTERNAL_UNKNOWN_EXIT, vmx->exit_reason,
				 vmx->exit_intr_info);
}

static int vmx_exit_other(struct hvx_vcpu *vcpu)
{
	/*
	 * NMI window, INIT, the preemption-timer backstop; a TPR below the
	 * threshold (vmx_tpr_exit() has told the APIC): enter again.
	 */
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return 1;
}

/* CPUID.80000001H:EDX.RDTSCP and CPUID.(EAX=7,ECX=0):ECX.RDPID */
#define CPUID_8000_0001_EDX_RDTSCP	BIT(27)
#define CPUID_7_ECX_RDPID		BIT(22)

static int vmx_exit_cpuid(struct hvx_vcpu *vcpu)
{
	u32 fn = vcpu->regs[HVX_RAX], idx = vcpu->regs[HVX_RCX];
	int ret;

	vmx_skip(vcpu);
	ret = hvx_exit_cpuid(vcpu);
	/* Without "enable RDTSCP" both raise #UD (SDM vol. 3C §26.3): not offered. */
	if (!vmx_caps.rdtscp && fn == 0x80000001)
		vcpu->regs[HVX_RDX] &= ~CPUID_8000_0001_EDX_RDTSCP;
	else if (!vmx_caps.rdtscp && fn == 7 && idx == 0)
		vcpu->regs[HVX_RCX] &= ~CPUID_7_ECX_RDPID;
	return ret;
}

int vmx_exit_hlt(struct hvx_vcpu *vcpu)
{
	vmx_skip(vcpu);
	return hvx_exit_hlt(vcpu);
}

int vmx_exit_invd(struct hvx_vcpu *vcpu)
{
	/* Guest memory is always coherent: nothing to invalidate. */
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	vmx_skip(vcpu);
	return 1;
}

/*
 * WBINVD: guest memory is ordinary write-back host memory and no device
 * is assigned, so there is nothing to write back for the guest, and the
 * host's caches are not the guest's to flush (KVM: kvm_emulate_wbinvd()).
 */
int vmx_exit_wbinvd(struct hvx_vcpu *vcpu)
{
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	vmx_skip(vcpu);
	return 1;
}

/* No virtual PMU: RDPMC raises #GP(0), as on a CPU without the counter. */
static int vmx_exit_rdpmc(struct hvx_vcpu *vcpu)
{
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return vmx_fault(vcpu, X86_TRAP_GP);
}

static int vmx_exit_vmcall(struct hvx_vcpu *vcpu)
{
	vmx_skip(vcpu);
	return hvx_exit_hypercall(vcpu);
}

/* VMX, SMX and SGX instructions in the guest: hvx does not nest. */
static int vmx_exit_ud(struct hvx_vcpu *vcpu)
{
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return vmx_fault(vcpu, X86_TRAP_UD);
}

/* A general-purpose register as the exit qualification names it. */
static u64 *vmx_gpr(struct hvx_vcpu *vcpu, unsigned int reg)
{
	return &vcpu->regs[reg & 15];
}

static bool vmx_long64(struct hvx_vcpu *vcpu)
{
	struct hvx_sregs s;
	struct hvx_paging pg;

	vmx_get_paging(vcpu, &pg);
	if (!(pg.efer & EFER_LMA))
		return false;
	vmx_get_sregs(vcpu, &s);
	return s.cs.l;
}

/*
 * MOV to CR0: only writes that change a host-owned bit exit (NE, or PE/PG
 * without unrestricted guest).  The checks are those of the instruction
 * (SDM vol. 2 MOV to CR; vol. 3A §2.5); entering or leaving long mode
 * updates EFER.LMA as the hardware would.
 */
static int vmx_mov_to_cr0(struct hvx_vcpu *vcpu, u64 val)
{
	struct hvx_paging pg;
	u64 efer, pdpte[4];
	bool pae;

	vmx_get_paging(vcpu, &pg);
	efer = pg.efer;
	if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)) ||
	    (val & ~(u32)vmx_caps.cr0_fixed1 & ~(X86_CR0_PE | X86_CR0_PG)))
		return -EINVAL;
	/* Shadow paging runs real mode as virtual-8086 mode (vmx_rmode.c). */
	if (!vmx_caps.ug && !to_vmx(vcpu)->shadow &&
	    (val & (X86_CR0_PE | X86_CR0_PG)) != (X86_CR0_PE | X86_CR0_PG))
		return -EINVAL;
	if ((val & X86_CR0_PG) && !(pg.cr0 & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(pg.cr4 & X86_CR4_PAE))
			return -EINVAL;
		efer |= EFER_LMA;
	} else if (!(val & X86_CR0_PG) && (pg.cr0 & X86_CR0_PG) && (efer & EFER_LMA)) {
		/* Paging stays on in 64-bit mode: leave it for compatibility mode first. */
		if (vmx_long64(vcpu))
			return -EINVAL;
		efer &= ~EFER_LMA;
	}
	pae = !to_vmx(vcpu)->shadow && vmx_pae_paging(val, pg.cr4, efer);
	if (pae)
		vmx_read_pdptrs(vcpu, pg.cr3, pdpte);
	vmx_get(vcpu);
	vmx_set_cr0(vcpu, val);
	vmx_set_efer(vcpu, efer);
	if (to_vmx(vcpu)->shadow)
		vmx_shadow_sync(vcpu);
	else if (pae)
		vmx_write_pdptrs(pdpte);
	vmx_put(vcpu);
	return 0;
}

static int vmx_mov_to_cr4(struct hvx_vcpu *vcpu, u64 val)
{
	struct hvx_paging pg;
	u64 pdpte[4];
	bool pae;

	vmx_get_paging(vcpu, &pg);
	/* VMXE is reserved to a guest without VMX; so is what the CPU lacks. */
	if ((val & X86_CR4_VMXE) || (val & ~vmx_caps.cr4_fixed1) ||
	    ((pg.efer & EFER_LMA) && !(val & X86_CR4_PAE)))
		return -EINVAL;
	pae = !to_vmx(vcpu)->shadow && vmx_pae_paging(pg.cr0, val, pg.efer);
	if (pae)
		vmx_read_pdptrs(vcpu, pg.cr3, pdpte);
	vmx_get(vcpu);
	vmx_set_cr4(vcpu, val);
	if (to_vmx(vcpu)->shadow)
		vmx_shadow_sync(vcpu);
	else if (pae)
		vmx_write_pdptrs(pdpte);
	vmx_put(vcpu);
	return 0;
}

int vmx_exit_cr(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 q = vmx->exit_qual;
	unsigned int cr = q & 15, type = (q >> 4) & 3;
	u64 *reg = vmx_gpr(vcpu, (q >> 8) & 15);
	u64 val = vmx_long64(vcpu) ? *reg : (u32)*reg;
	struct hvx_paging pg;
	int ret = 0;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	switch (type) {
	case 0:		/* MOV to CR */
		if (cr == 0) {
			ret = vmx_mov_to_cr0(vcpu, val);
		} else if (cr == 3) {
			vmx_get(vcpu);
			if (vmx->shadow) {
				/* A new address space: only global pages stay. */
				vmx->guest_cr3 = val;
				hvx_shadow_new_cr3(&vcpu->shadow, vmx->guest_efer & EFER_LMA);
			} else {
				vmcs_write(GUEST_CR3, val);
			}
			vmx_put(vcpu);
		} else if (cr == 4) {
			ret = vmx_mov_to_cr4(vcpu, val);
		} else if (cr == 8) {
			if (val > 15)
				ret = -EINVAL;
			else if (vcpu->apic)
				hvx_lapic_set_cr8(vcpu, val);
			else
				vmx->cr8 = val;
		} else {
			ret = -EOPNOTSUPP;
		}
		break;
	case 1:		/* MOV from CR; of CR0, CR2, CR4 only in virtual-8086 mode */
		if (cr == 0 || cr == 3 || cr == 4) {
			vmx_get(vcpu);
			*reg = cr == 0 ? vmx_guest_cr0(vcpu) : cr == 3 ? vmx_guest_cr3(vcpu) :
			       vmx_guest_cr4(vcpu);
			vmx_put(vcpu);
		} else if (cr == 2) {
			*reg = vmx->cr2;
		} else if (cr == 8) {
			*reg = vcpu->apic ? hvx_lapic_get_cr8(vcpu) : vmx->cr8;
		} else {
			ret = -EOPNOTSUPP;
		}
		break;
	case 2:		/* CLTS */
		vmx_get_paging(vcpu, &pg);
		ret = vmx_mov_to_cr0(vcpu, pg.cr0 & ~X86_CR0_TS);
		break;
	default:	/* LMSW: sets PE but cannot clear it, and MP, EM, TS */
		vmx_get_paging(vcpu, &pg);
		ret = vmx_mov_to_cr0(vcpu, (pg.cr0 & ~0xeULL) | ((q >> 16) & 0xf) |
				     (pg.cr0 & X86_CR0_PE));
		break;
	}
	if (ret == -EINVAL)
		return vmx_fault(vcpu, X86_TRAP_GP);
	if (ret)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_UNKNOWN_EXIT, vmx->exit_reason, q);
	vmx_skip(vcpu);
	return 1;
}

/*
 * The guest's first debug-register access: hand DR0-3 and DR6 over to it
 * and run the instruction again, now without an exit.
 */
static int vmx_exit_dr(struct hvx_vcpu *vcpu)
{
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	vmx_get(vcpu);
	vmcs_clear_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_MOV_DR_EXITING);
	vmx_put(vcpu);
	to_vmx(vcpu)->guest_dr = true;
	return 1;
}

static int vmx_exit_io(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 q = vmx->exit_qual;

	/* Exit qualification for I/O instructions: SDM vol. 3C table 28-5. */
	vmx_end_shadow(vcpu);
	return hvx_exit_io(vcpu, q >> 16, (q & 7) + 1, q & BIT(3), q & BIT(4), q & BIT(5),
			   vcpu->rip + vmx->exit_insn_len);
}

int vmx_exit_rdmsr(struct hvx_vcpu *vcpu)
{
	vmx_skip(vcpu);
	return hvx_exit_msr(vcpu, vcpu->regs[HVX_RCX], false, 0);
}

int vmx_exit_wrmsr(struct hvx_vcpu *vcpu)
{
	u64 data = (u32)vcpu->regs[HVX_RAX] | (vcpu->regs[HVX_RDX] << 32);

	vmx_skip(vcpu);
	return hvx_exit_msr(vcpu, vcpu->regs[HVX_RCX], true, data);
}

static int vmx_exit_xsetbv(struct hvx_vcpu *vcpu)
{
	u64 xcr0 = (u32)vcpu->regs[HVX_RAX] | (vcpu->regs[HVX_RDX] << 32);
	struct hvx_sregs s;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	/* XSETBV exits only with CR4.OSXSAVE set (else #UD): #GP for the rest. */
	vmx_get_sregs(vcpu, &s);
	if ((u32)vcpu->regs[HVX_RCX] != 0 || s.ss.dpl || hvx_check_xcr0(vcpu, xcr0))
		return vmx_fault(vcpu, X86_TRAP_GP);
	vcpu->xcr0 = xcr0;
	vmx_skip(vcpu);
	return 1;
}

static int vmx_exit_ept_violation(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_NPF);
	/* An IRET that unblocked NMIs faulted: block them again (SDM §28.2.3). */
	if ((vmx->exit_qual & BIT(12)) && !(vmx->idt_info & VECTORING_INFO_VALID_MASK)) {
		vmx_get(vcpu);
		vmcs_set_bits(GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_NMI);
		vmx_put(vcpu);
	}
	/* The instruction has not run: a failed pin reports its RIP. */
	/* A linear address whose own translation faulted: the guest's walk (§28.2.1). */
	return hvx_tdp_fault(vcpu, vmx->exit_gpa, vmx->exit_qual & EPT_VIOLATION_ACC_WRITE,
			     (vmx->exit_qual & (EPT_VIOLATION_GVA_IS_VALID |
						EPT_VIOLATION_GVA_TRANSLATED)) ==
			     EPT_VIOLATION_GVA_IS_VALID);
}

static int vmx_exit_internal(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	/* EPT misconfiguration, task switch: hvx builds no such state. */
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return hvx_exit_internal(vcpu, HVX_INTERNAL_UNKNOWN_EXIT, vmx->exit_reason,
				 vmx->exit_qual);
}

static int (*const vmx_exit_handlers[VMX_EXIT_NR])(struct hvx_vcpu *vcpu) = {
	[EXIT_REASON_EXCEPTION_NMI]		= vmx_exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT]	= vmx_exit_nop,
	[EXIT_REASON_TRIPLE_FAULT]		= hvx_exit_shutdown,
	[EXIT_REASON_INIT_SIGNAL]		= vmx_exit_other,
	[EXIT_REASON_INTERRUPT_WINDOW]		= hvx_exit_irq_window,
	[EXIT_REASON_TPR_BELOW_THRESHOLD]	= vmx_exit_other,
	[EXIT_REASON_NMI_WINDOW]		= vmx_exit_other,
	[EXIT_REASON_TASK_SWITCH]		= vmx_exit_internal,
	[EXIT_REASON_CPUID]			= vmx_exit_cpuid,
	[11]					= vmx_exit_ud,	/* GETSEC */
	[EXIT_REASON_HLT]			= vmx_exit_hlt,
	[EXIT_REASON_INVLPG]			= vmx_exit_invlpg,
	[EXIT_REASON_INVD]			= vmx_exit_invd,
	[EXIT_REASON_RDPMC]			= vmx_exit_rdpmc,
	[EXIT_REASON_VMCALL]			= vmx_exit_vmcall,
	[EXIT_REASON_VMCLEAR]			= vmx_exit_ud,
	[EXIT_REASON_VMLAUNCH]			= vmx_exit_ud,
	[EXIT_REASON_VMPTRLD]			= vmx_exit_ud,
	[EXIT_REASON_VMPTRST]			= vmx_exit_ud,
	[EXIT_REASON_VMREAD]			= vmx_exit_ud,
	[EXIT_REASON_VMRESUME]			= vmx_exit_ud,
	[EXIT_REASON_VMWRITE]			= vmx_exit_ud,
	[EXIT_REASON_VMOFF]			= vmx_exit_ud,
	[EXIT_REASON_VMON]			= vmx_exit_ud,
	[EXIT_REASON_CR_ACCESS]			= vmx_exit_cr,
	[EXIT_REASON_DR_ACCESS]			= vmx_exit_dr,
	[EXIT_REASON_IO_INSTRUCTION]		= vmx_exit_io,
	[EXIT_REASON_MSR_READ]			= vmx_exit_rdmsr,
	[EXIT_REASON_MSR_WRITE]			= vmx_exit_wrmsr,
	[EXIT_REASON_MWAIT_INSTRUCTION]		= vmx_exit_ud,
	[EXIT_REASON_MONITOR_INSTRUCTION]	= vmx_exit_ud,
	[EXIT_REASON_EPT_VIOLATION]		= vmx_exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG]		= vmx_exit_internal,
	[EXIT_REASON_INVEPT]			= vmx_exit_ud,
	[EXIT_REASON_INVVPID]			= vmx_exit_ud,
	[EXIT_REASON_PREEMPTION_TIMER]		= vmx_exit_other,
	[EXIT_REASON_WBINVD]			= vmx_exit_wbinvd,
	[EXIT_REASON_XSETBV]			= vmx_exit_xsetbv,
	[EXIT_REASON_VMFUNC]			= vmx_exit_ud,
	[EXIT_REASON_ENCLS]			= vmx_exit_ud,
};

int vmx_handle_exit(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 reason = vmx->exit_reason;
	u16 basic = reason;
	struct hvx_run *run = vcpu->run;

	/* The exiting instruction, for every exit: handlers move vcpu->rip only. */
	vcpu->exit_rip = vcpu->rip;
	hvx_stat_inc(vcpu, HVX_STAT_EXITS);
	if (!(reason & VMX_EXIT_FAILED_ENTRY) && basic < VMX_EXIT_NR) {
		hvx_stat_raw(vcpu, basic);
		if (vmx_exit_handlers[basic])
			return vmx_exit_handlers[basic](vcpu);
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
		return hvx_exit_internal(vcpu, HVX_INTERNAL_UNKNOWN_EXIT, reason, vmx->exit_qual);
	}

	/*
	 * A failed entry: VM exit with bit 31 set (invalid guest state, MSR
	 * loading; SDM vol. 3C §26.8), or VMLAUNCH/VMRESUME failing with the
	 * VM-instruction error in exit_qual.
	 */
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_FAIL_ENTRY);
	hvx_stat_raw(vcpu, VMX_RAW_FAIL);
	run->exit_reason = HVX_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_reason = reason == VMX_EXIT_FAILED_ENTRY ?
		HVX_VMX_VMFAIL | vmx->exit_qual : reason;
	run->fail_entry.cpu = READ_ONCE(vmx->cpu);
	run->fail_entry.pad = 0;
	hvx_event(vcpu->vm, HVX_GENL_EVENT_FAIL_ENTRY, vcpu->id, run->fail_entry.hardware_reason);
	return 0;
}
