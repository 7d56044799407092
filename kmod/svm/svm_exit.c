// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: SVM exit handlers.  Each returns 1 (resume the guest), 0 (return
 * to userspace, run page filled) or a negative errno.
 *
 * Without NRIP-save (QEMU's emulated SVM has none, nor decode assists)
 * the next RIP comes from the instruction's fixed length; only IOIO
 * reports it in EXITINFO2 (APM §15.10.2).
 */
#include <linux/kernel.h>
#include <asm/fpu/api.h>
#include <asm/trapnr.h>

#include "svm.h"

static bool svm_has_nrips(void)
{
	return svm_nrips;
}

/* The exiting instruction is @len bytes long: step over it. */
static void svm_skip(struct hvx_vcpu *vcpu, unsigned int len)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	if (svm_has_nrips() && vmcb->control.next_rip)
		vcpu->rip = vmcb->control.next_rip;
	else
		vcpu->rip += len;
	/* The instruction is done: an STI or MOV SS shadow ended with it. */
	vmcb->control.int_state &= ~SVM_INT_SHADOW;
}

/* DR7.GD, general detect (SDM vol. 3B §18.2.4). */
#define SVM_DR7_GD	BIT(13)

/*
 * #DB: the CPU has already written DR6 in the VMCB (KVM takes the cause
 * from there too), so the guest's handler finds it as on hardware.
 * Delivering #DB clears DR7.GD; as KVM does, hvx clears it itself rather
 * than count on injection to do it.  RFLAGS.RF stays as it is: a #DB
 * does not set it in the frame, not even a fault-like one (KVM's
 * kvm_check_and_inject_events()).
 */
static int svm_exit_db(struct hvx_vcpu *vcpu)
{
	to_svm(vcpu)->vmcb->save.dr7 &= ~SVM_DR7_GD;
	hvx_reflect_exception(vcpu, X86_TRAP_DB);
	return 1;
}

/*
 * #AC (alignment check at CPL 3): a fault, and faults other than #DB
 * set RF in the RFLAGS image they push (SDM vol. 3A §6.13); injection
 * pushes the guest's RFLAGS as they are, so RF is set there first.
 */
static int svm_exit_ac(struct hvx_vcpu *vcpu)
{
	vcpu->rflags |= X86_EFLAGS_RF;
	hvx_reflect_exception(vcpu, X86_TRAP_AC);
	return 1;
}

/* A machine check: svm_run() has handed it to the host's handler. */
static int svm_exit_mc(struct hvx_vcpu *vcpu)
{
	return 1;
}

/*
 * The length of INVD (0f 08), WBINVD (0f 09) or WBNOINVD (f3 0f 09)
 * with its prefixes, from guest memory: without NRIP-save nothing else
 * says where the next instruction starts, and WBNOINVD is WBINVD with a
 * prefix.
 */
static int svm_skip_0f(struct hvx_vcpu *vcpu)
{
	struct hvx_prefixes p;
	struct hvx_fault f;
	unsigned int len;
	u8 b[15];
	int ret;

	if (svm_has_nrips() && to_svm(vcpu)->vmcb->control.next_rip) {
		svm_skip(vcpu, 0);
		return 0;
	}
	ret = hvx_fetch_prefixes(vcpu, vcpu->rip, b, &len, &p, &f);
	/* The code went away under us: run it again, the CPU faults or exits anew. */
	if (ret > 0)
		return 1;
	if (ret)
		return -EFAULT;
	if (p.len + 1 < len && b[p.len] == 0x0f) {
		svm_skip(vcpu, p.len + 2);
		return 0;
	}
	return -EINVAL;
}

/*
 * INVD would throw away the host's dirty cache lines and WBINVD flush
 * every cache of the package: guest memory is ordinary write-back host
 * memory and no device is assigned, so both are done once the exit is
 * taken (KVM: kvm_emulate_invd(), kvm_emulate_wbinvd()).
 */
static int svm_exit_invd(struct hvx_vcpu *vcpu)
{
	int ret;

	ret = svm_skip_0f(vcpu);
	if (ret < 0)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_FETCH,
					 hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->rip), ~0ULL);
	return 1;
}

/* No virtual PMU: RDPMC raises #GP(0), as on a CPU without the counter. */
static int svm_exit_rdpmc(struct hvx_vcpu *vcpu)
{
	hvx_inject_gp(vcpu);
	return 1;
}

static int svm_exit_nop(struct hvx_vcpu *vcpu)
{
	/* A host interrupt or NMI: it has been taken once GIF was set again. */
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_HOST_INTR);
	return 1;
}

/*
 * CR8 writes are intercepted only while a virtual interrupt is pending
 * (QEMU's TCG mishandles them otherwise).  Rather than emulate MOV CR8,
 * withdraw the window request for one entry so the write runs natively;
 * the request comes back on the next exit.
 */
static int svm_exit_cr(struct hvx_vcpu *vcpu);

static int svm_exit_cr8_write(struct hvx_vcpu *vcpu)
{
	/*
	 * With an APIC in the kernel the write is emulated: the TPR may free
	 * an interrupt, delivered before the next instruction (svm_tpr_enter()).
	 */
	if (vcpu->apic)
		return svm_exit_cr(vcpu);
	to_svm(vcpu)->vintr_hold = true;
	return 1;
}

/*
 * The guest's first debug-register access: hand DR0-3 over to it and run
 * the instruction again, now unintercepted (no decoding needed).
 */
static int svm_exit_dr(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->vmcb->control.intercept_dr = 0;
	svm->guest_dr = true;
	return 1;
}

static int svm_exit_cpuid(struct hvx_vcpu *vcpu)
{
	svm_skip(vcpu, 2);
	return hvx_exit_cpuid(vcpu);
}

static int svm_exit_hlt(struct hvx_vcpu *vcpu)
{
	svm_skip(vcpu, 1);
	return hvx_exit_hlt(vcpu);
}

static int svm_exit_ioio(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 info = vmcb->control.exit_info_1;
	u8 size = (info >> IOIO_SIZE_SHIFT) & 7;	/* one-hot: 1, 2, 4 */

	vmcb->control.int_state &= ~SVM_INT_SHADOW;
	return hvx_exit_io(vcpu, info >> IOIO_PORT_SHIFT, size, info & IOIO_TYPE_IN,
			   info & IOIO_STR, info & IOIO_REP, vmcb->control.exit_info_2);
}

static int svm_exit_msr(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	bool is_write = vmcb->control.exit_info_1 & 1;
	u64 data = (u32)vcpu->regs[HVX_RAX] | (vcpu->regs[HVX_RDX] << 32);

	svm_skip(vcpu, 2);
	return hvx_exit_msr(vcpu, vcpu->regs[HVX_RCX], is_write, data);
}

static int svm_exit_vmmcall(struct hvx_vcpu *vcpu)
{
	svm_skip(vcpu, 3);
	return hvx_exit_hypercall(vcpu);
}

/* SVM instructions in the guest: hvx does not nest. */
static int svm_exit_ud(struct hvx_vcpu *vcpu)
{
	hvx_queue_exception(vcpu, X86_TRAP_UD, 0);
	return 1;
}

static int svm_exit_xsetbv(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 xcr0 = (u32)vcpu->regs[HVX_RAX] | (vcpu->regs[HVX_RDX] << 32);

	/* SDM vol. 2 XSETBV: #UD without CR4.OSXSAVE, #GP for the rest. */
	if (!(vmcb->save.cr4 & X86_CR4_OSXSAVE)) {
		hvx_queue_exception(vcpu, X86_TRAP_UD, 0);
		return 1;
	}
	if ((u32)vcpu->regs[HVX_RCX] != 0 || vmcb->save.cpl || hvx_check_xcr0(vcpu, xcr0)) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	vcpu->xcr0 = xcr0;
	svm_skip(vcpu, 3);
	return 1;
}

/*
 * Shadow paging intercepts CR0/CR3/CR4 accesses and INVLPG.  Without
 * decode assists (QEMU's SVM has none) the exit does not say which
 * register or address: the instruction is read from guest memory and
 * decoded (hvx_decode_0f()), and must be one that makes the exit that
 * happened.
 */
static u64 svm_long64(struct hvx_vcpu *vcpu)
{
	struct vmcb_save *sv = &to_svm(vcpu)->vmcb->save;

	return (sv->efer & EFER_LMA) && (sv->cs.attrib & BIT(9));
}

/*
 * MOV to CR0, checked as the instruction checks it (SDM vol. 2 MOV to CR;
 * APM vol. 2 §3.1.1); enabling or disabling paging with EFER.LME set
 * switches long mode on or off as the CPU would.  Under shadow paging for
 * every write; under nested paging while the guest has EFER.LME set (see
 * svm_set_guest_efer()).
 */
static int svm_mov_to_cr0(struct hvx_vcpu *vcpu, u64 val)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	u64 cr0 = svm->shadow ? svm->guest_cr0 : s->cr0;
	u64 cr4 = svm->shadow ? svm->guest_cr4 : s->cr4;
	u64 efer = (svm->guest_efer & ~EFER_LMA) |
		   ((svm->shadow ? svm->guest_efer : s->efer) & EFER_LMA);

	if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)))
		return -EINVAL;
	if ((val & X86_CR0_PG) && !(cr0 & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(cr4 & X86_CR4_PAE))
			return -EINVAL;
		efer |= EFER_LMA;
	} else if (!(val & X86_CR0_PG) && (cr0 & X86_CR0_PG) && (efer & EFER_LMA)) {
		/* Paging stays on in 64-bit mode: leave it for compatibility mode first. */
		if (svm_long64(vcpu))
			return -EINVAL;
		efer &= ~EFER_LMA;
	}
	/* ET is hardwired to 1 (APM vol. 2 §3.1.1). */
	if (svm->shadow) {
		svm->guest_cr0 = val | X86_CR0_ET;
	} else {
		/* As the CPU's own MOV would: new paging, no old translations. */
		if ((val ^ cr0) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE))
			svm->vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL;
		s->cr0 = val | X86_CR0_ET;
	}
	svm_set_guest_efer(vcpu, efer);
	return 0;
}

static int svm_mov_to_cr4(struct hvx_vcpu *vcpu, u64 val)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 bad = X86_CR4_VMXE | X86_CR4_PCIDE | X86_CR4_LA57 | GENMASK_ULL(63, 32);

	if ((val & bad) || ((svm->guest_efer & EFER_LMA) && !(val & X86_CR4_PAE)))
		return -EINVAL;
	svm->guest_cr4 = val;
	svm_shadow_sync(vcpu);
	return 0;
}

/* A new address space: only global pages stay in the virtual TLB. */
static void svm_mov_to_cr3(struct hvx_vcpu *vcpu, u64 val)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->guest_cr3 = val;
	hvx_shadow_new_cr3(&vcpu->shadow, svm->guest_efer & EFER_LMA);
}

/*
 * Whether @in is an instruction that makes exit @code: MOV from CRn or,
 * for CR0, SMSW; MOV to CRn or, for CR0, CLTS and LMSW (APM vol. 2
 * §15.9).  The opcode extension of 0f 01 ignores REX.R.
 */
static bool svm_insn_matches(const struct hvx_insn *in, u64 code)
{
	bool write = code >= SVM_EXIT_WRITE_CR0;
	unsigned int cr = code & 15;

	/* Only these are intercepted (INTERCEPT_CR_SHADOW, INTERCEPT_CR0_WRITE, CR8). */
	if (cr != 0 && cr != 3 && cr != 4 && cr != 8)
		return false;
	switch (in->op) {
	case 0x20:
		return !write && in->reg == cr;
	case 0x22:
		return write && in->reg == cr;
	case 0x06:
		return write && cr == 0;
	case 0x01:
		return cr == 0 && (in->reg & 7) == (write ? 6 : 4);
	default:
		return false;
	}
}

/*
 * The bytes at RIP are not (or no longer) what the CPU ran: emulating
 * them would run an instruction the CPU never checked, a MOV to CR3 at
 * CPL 3 say.  Drop the translations of the instruction's pages and run it
 * again instead, as a CPU that lost its TLB entries would: it fetches what
 * the guest's tables say now, and faults or exits for that.
 */
static int svm_refetch(struct hvx_vcpu *vcpu)
{
	u64 la = hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->rip);
	bool lma = to_svm(vcpu)->guest_efer & EFER_LMA;

	/* Nested paging: the CPU's own TLB, flushed for this ASID. */
	if (!to_svm(vcpu)->shadow) {
		to_svm(vcpu)->vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL;
		return 1;
	}
	hvx_shadow_invlpg(&vcpu->shadow, la, lma);
	hvx_shadow_invlpg(&vcpu->shadow, la + 14, lma);
	return 1;
}

/*
 * SMSW's or LMSW's memory operand, with the instruction's rights: 0 when
 * done, else what the exit handler returns (the guest took a fault, or
 * the operand is not RAM).
 */
static int svm_msw_operand(struct hvx_vcpu *vcpu, const struct hvx_insn *in, u16 *msw,
			   bool write, int *handled)
{
	struct hvx_fault f;
	int ret;

	ret = write ? hvx_emul_write(vcpu, in->seg, in->ea, msw, 2, &f) :
		      hvx_emul_read(vcpu, in->seg, in->ea, msw, 2, &f);
	if (ret < 0)
		*handled = hvx_exit_internal(vcpu, HVX_INTERNAL_FETCH,
					     hvx_seg_linear(vcpu, in->seg, in->ea), ~0ULL);
	else if (ret)
		hvx_inject_fault(vcpu, &f);
	if (ret > 0)
		*handled = 1;
	return ret;
}

static int svm_exit_cr(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 code = svm->vmcb->control.exit_code;
	struct hvx_fault f;
	struct hvx_insn in;
	u64 *reg, val;
	int ret, handled;
	u16 msw;

	ret = hvx_decode_0f(vcpu, &in, &f);
	if (ret == -EFAULT)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_FETCH,
					 hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->rip), ~0ULL);
	if (ret || !svm_insn_matches(&in, code))
		return svm_refetch(vcpu);
	/*
	 * All but SMSW are privileged.  The CPU checks CPL before the
	 * intercept (APM vol. 2 §15.7.1): only a rewritten instruction gets
	 * here at CPL > 0, and gets the #GP the CPU would give it.  SMSW
	 * faults alike under CR4.UMIP.
	 */
	if (hvx_guest_cpl(vcpu) &&
	    (in.op != 0x01 || (in.reg & 7) != 4 || (svm->guest_cr4 & X86_CR4_UMIP))) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	reg = &vcpu->regs[in.rm];
	switch (in.op) {
	case 0x20:	/* MOV from CR */
		val = in.reg == 0 ? svm->guest_cr0 : in.reg == 3 ? svm->guest_cr3 :
		      in.reg == 8 ? hvx_lapic_get_cr8(vcpu) : svm->guest_cr4;
		*reg = svm_long64(vcpu) ? val : (u32)val;
		break;
	case 0x22:	/* MOV to CR */
		val = svm_long64(vcpu) ? *reg : (u32)*reg;
		if (in.reg == 8) {
			if (val > 15)
				ret = -EINVAL;
			else
				hvx_lapic_set_cr8(vcpu, val);
		} else if (in.reg == 0) {
			ret = svm_mov_to_cr0(vcpu, val);
		} else if (in.reg == 3) {
			svm_mov_to_cr3(vcpu, val);
		} else {
			ret = svm_mov_to_cr4(vcpu, val);
		}
		break;
	case 0x06:	/* CLTS */
		ret = svm_mov_to_cr0(vcpu, svm->guest_cr0 & ~X86_CR0_TS);
		break;
	default:
		if ((in.reg & 7) == 6) {	/* LMSW: sets PE but cannot clear it */
			if (!in.mem)
				msw = *reg;
			else if (svm_msw_operand(vcpu, &in, &msw, false, &handled))
				return handled;
			ret = svm_mov_to_cr0(vcpu, (svm->guest_cr0 & ~0xeULL) | (msw & 0xf) |
					     (svm->guest_cr0 & X86_CR0_PE));
		} else {		/* SMSW */
			msw = svm->guest_cr0;
			if (!in.mem)
				*reg = svm_long64(vcpu) ? svm->guest_cr0 : (u32)svm->guest_cr0;
			else if (svm_msw_operand(vcpu, &in, &msw, true, &handled))
				return handled;
		}
		break;
	}
	if (ret == -EINVAL) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	vcpu->rip += in.len;
	svm->vmcb->control.int_state &= ~SVM_INT_SHADOW;
	return 1;
}

static int svm_exit_invlpg(struct hvx_vcpu *vcpu)
{
	struct hvx_fault f;
	struct hvx_insn in;
	int ret;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	ret = hvx_decode_0f(vcpu, &in, &f);
	if (ret == -EFAULT)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_FETCH,
					 hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->rip), ~0ULL);
	if (ret || in.op != 0x01 || (in.reg & 7) != 7 || !in.mem)
		return svm_refetch(vcpu);
	/* Privileged, as for the CR accesses above. */
	if (hvx_guest_cpl(vcpu)) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	hvx_shadow_invlpg(&vcpu->shadow, hvx_seg_linear(vcpu, in.seg, in.ea),
			  to_svm(vcpu)->guest_efer & EFER_LMA);
	vcpu->rip += in.len;
	to_svm(vcpu)->vmcb->control.int_state &= ~SVM_INT_SHADOW;
	return 1;
}

/* A #PF on the shadow tables: fill, or the guest's own #PF, or MMIO. */
static int svm_exit_pf(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 addr = vmcb->control.exit_info_2;
	u32 ec = 0;
	int ret;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_NPF);
	ret = hvx_shadow_fault(vcpu, &vcpu->shadow, addr, vmcb->control.exit_info_1, &ec);
	if (ret != 2)
		return ret;
	return hvx_shadow_pf_deliver(vcpu, addr, ec);
}

static int (*const svm_exit_handlers[SVM_EXIT_NR])(struct hvx_vcpu *vcpu) = {
	[SVM_EXIT_READ_CR0 ... SVM_EXIT_READ_CR4] = svm_exit_cr,
	[SVM_EXIT_READ_CR8]	= svm_exit_cr,
	[SVM_EXIT_WRITE_CR0 ... SVM_EXIT_WRITE_CR4] = svm_exit_cr,
	[SVM_EXIT_CR8_WRITE]	= svm_exit_cr8_write,
	[SVM_EXIT_DB]		= svm_exit_db,
	[SVM_EXIT_PF]		= svm_exit_pf,
	[SVM_EXIT_AC]		= svm_exit_ac,
	[SVM_EXIT_MC]		= svm_exit_mc,
	[SVM_EXIT_RDPMC]	= svm_exit_rdpmc,
	[SVM_EXIT_INVD]		= svm_exit_invd,
	[SVM_EXIT_INVLPG]	= svm_exit_invlpg,
	[SVM_EXIT_DR_FIRST ... SVM_EXIT_DR_LAST] = svm_exit_dr,
	[SVM_EXIT_INTR]		= svm_exit_nop,
	[SVM_EXIT_NMI]		= svm_exit_nop,
	[SVM_EXIT_VINTR]	= hvx_exit_irq_window,
	[SVM_EXIT_CPUID]	= svm_exit_cpuid,
	[SVM_EXIT_HLT]		= svm_exit_hlt,
	[SVM_EXIT_INVLPGA]	= svm_exit_ud,
	[SVM_EXIT_IOIO]		= svm_exit_ioio,
	[SVM_EXIT_MSR]		= svm_exit_msr,
	[SVM_EXIT_SHUTDOWN]	= hvx_exit_shutdown,
	[SVM_EXIT_VMRUN]	= svm_exit_ud,
	[SVM_EXIT_VMMCALL]	= svm_exit_vmmcall,
	[SVM_EXIT_VMLOAD]	= svm_exit_ud,
	[SVM_EXIT_VMSAVE]	= svm_exit_ud,
	[SVM_EXIT_STGI]		= svm_exit_ud,
	[SVM_EXIT_CLGI]		= svm_exit_ud,
	[SVM_EXIT_SKINIT]	= svm_exit_ud,
	[SVM_EXIT_MONITOR]	= svm_exit_ud,
	[SVM_EXIT_MWAIT]	= svm_exit_ud,
	[SVM_EXIT_XSETBV]	= svm_exit_xsetbv,
	[SVM_EXIT_WBINVD]	= svm_exit_invd,
	/* Only under shadow paging, where CPUID hides INVPCID. */
	[SVM_EXIT_INVPCID]	= svm_exit_ud,
};

/*
 * Exits with no vendor-neutral counter of their own (the rest are counted
 * where they are handled: port I/O, MSRs, CPUID, HLT, ...).
 */
static const bool svm_exit_other[SVM_EXIT_NR] = {
	[SVM_EXIT_READ_CR0 ... SVM_EXIT_READ_CR4] = true,
	[SVM_EXIT_READ_CR8] = true,
	[SVM_EXIT_WRITE_CR0 ... SVM_EXIT_WRITE_CR4] = true,
	[SVM_EXIT_CR8_WRITE] = true,
	[SVM_EXIT_DR_FIRST ... SVM_EXIT_DR_LAST] = true,
	[SVM_EXIT_INVLPGA] = true,
	[SVM_EXIT_VMRUN] = true,
	[SVM_EXIT_VMLOAD] = true,
	[SVM_EXIT_VMSAVE] = true,
	[SVM_EXIT_STGI] = true,
	[SVM_EXIT_CLGI] = true,
	[SVM_EXIT_SKINIT] = true,
	[SVM_EXIT_MONITOR] = true,
	[SVM_EXIT_MWAIT] = true,
	[SVM_EXIT_XSETBV] = true,
	[SVM_EXIT_DB] = true,
	[SVM_EXIT_AC] = true,
	[SVM_EXIT_MC] = true,
	[SVM_EXIT_RDPMC] = true,
	[SVM_EXIT_INVD] = true,
	[SVM_EXIT_WBINVD] = true,
	[SVM_EXIT_INVPCID] = true,
};

/*
 * An exit in the middle of delivering an event (say, an NPT fault on the
 * guest's IDT or stack) leaves it in EXITINTINFO: deliver it again on the
 * next entry (APM §15.7.2).  Software interrupts and INT3/INTO are not
 * re-injected: RIP still points at the instruction, which runs again.
 */
static void svm_requeue_interrupted(struct vmcb *vmcb)
{
	u64 info = vmcb->control.exit_int_info;
	u32 type = info & SVM_EVTINJ_TYPE_MASK;
	u8 vector = info & 0xff;

	vmcb->control.event_inj = 0;
	if (!(info & SVM_EVTINJ_VALID))
		return;
	if (type == SVM_EVTINJ_SOFT ||
	    (type == SVM_EVTINJ_EXC && (vector == X86_TRAP_BP || vector == X86_TRAP_OF)))
		return;
	vmcb->control.event_inj = info;
}

int svm_handle_exit(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 code = vmcb->control.exit_code;
	struct hvx_run *run = vcpu->run;

	/* The exiting instruction, for every exit: handlers move vcpu->rip only. */
	vcpu->exit_rip = vcpu->rip;
	/* A failed VMRUN delivered nothing: svm_run() kept EVENTINJ. */
	if ((u32)code != (u32)SVM_EXIT_INVALID)
		svm_requeue_interrupted(vmcb);
	hvx_stat_inc(vcpu, HVX_STAT_EXITS);

	if (code == SVM_EXIT_NPF) {
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_NPF);
		hvx_stat_raw(vcpu, SVM_RAW_NPF);
		/* The instruction has not run: a failed pin reports its RIP. */
		return hvx_tdp_fault(vcpu, vmcb->control.exit_info_2,
				     vmcb->control.exit_info_1 & NPF_WRITE,
				     vmcb->control.exit_info_1 & NPF_GUEST_WALK);
	}
	if (code < SVM_EXIT_NR) {
		hvx_stat_raw(vcpu, code);
		if (svm_exit_handlers[code]) {
			if (svm_exit_other[code])
				hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
			return svm_exit_handlers[code](vcpu);
		}
	}

	/* VMEXIT_INVALID is -1; some implementations store only 32 bits of it. */
	if ((u32)code == (u32)SVM_EXIT_INVALID) {
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_FAIL_ENTRY);
		hvx_stat_raw(vcpu, SVM_RAW_INVALID);
		hvx_event(vcpu->vm, HVX_GENL_EVENT_FAIL_ENTRY, vcpu->id, SVM_EXIT_INVALID);
		run->exit_reason = HVX_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_reason = SVM_EXIT_INVALID;
		run->fail_entry.cpu = to_svm(vcpu)->cpu;
		run->fail_entry.pad = 0;
		return 0;
	}
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return hvx_exit_internal(vcpu, HVX_INTERNAL_UNKNOWN_EXIT, code,
				 vmcb->control.exit_info_1);
}
