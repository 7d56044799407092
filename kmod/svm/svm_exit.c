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
	return hvx_svm_ops.cap(HVX_CAP_NRIP_SAVE);
}

/* The exiting instruction is @len bytes long: step over it. */
static void svm_skip(struct hvx_vcpu *vcpu, unsigned int len)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	vcpu->exit_rip = vcpu->rip;
	if (svm_has_nrips() && vmcb->control.next_rip)
		vcpu->rip = vmcb->control.next_rip;
	else
		vcpu->rip += len;
}

static void svm_queue_exception(struct hvx_vcpu *vcpu, u8 vector)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	vmcb->control.event_inj = vector | SVM_EVTINJ_EXC | SVM_EVTINJ_VALID;
}

static int svm_exit_nop(struct hvx_vcpu *vcpu)
{
	/* A host interrupt or NMI: it has been taken once GIF was set again. */
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_HOST_INTR);
	return 1;
}

static int svm_exit_vintr(struct hvx_vcpu *vcpu)
{
	/* The guest can take an interrupt now; svm_inject_events() delivers it. */
	if (hvx_svm_ops.interruptible(vcpu) && vcpu->run->request_interrupt_window &&
	    !vcpu->ev.irq) {
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_IRQ_WINDOW);
		vcpu->exit_rip = vcpu->rip;
		vcpu->run->exit_reason = HVX_EXIT_IRQ_WINDOW;
		return 0;
	}
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return 1;
}

/*
 * CR8 writes are intercepted only while a virtual interrupt is pending
 * (QEMU's TCG mishandles them otherwise).  Rather than emulate MOV CR8,
 * withdraw the window request for one entry so the write runs natively;
 * the request comes back on the next exit.
 */
static int svm_exit_cr8_write(struct hvx_vcpu *vcpu)
{
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
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_HLT);
	vcpu->run->exit_reason = HVX_EXIT_HLT;
	return 0;
}

static int svm_exit_ioio(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 info = vmcb->control.exit_info_1;
	u8 size = (info >> IOIO_SIZE_SHIFT) & 7;	/* one-hot: 1, 2, 4 */

	vcpu->exit_rip = vcpu->rip;
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

static int svm_exit_shutdown(struct hvx_vcpu *vcpu)
{
	/* A triple fault; the VMCB state is undefined now (APM §15.12). */
	vcpu->exit_rip = vcpu->rip;
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_SHUTDOWN);
	hvx_event(vcpu->vm, HVX_GENL_EVENT_SHUTDOWN, vcpu->id, 0);
	vcpu->run->exit_reason = HVX_EXIT_SHUTDOWN;
	return 0;
}

static int svm_exit_vmmcall(struct hvx_vcpu *vcpu)
{
	svm_skip(vcpu, 3);
	return hvx_exit_hypercall(vcpu);
}

/* SVM instructions in the guest: hvx does not nest. */
static int svm_exit_ud(struct hvx_vcpu *vcpu)
{
	vcpu->exit_rip = vcpu->rip;
	svm_queue_exception(vcpu, X86_TRAP_UD);
	return 1;
}

static int svm_exit_xsetbv(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 xcr0 = (u32)vcpu->regs[HVX_RAX] | (vcpu->regs[HVX_RDX] << 32);
	struct hvx_cregs c;

	/* SDM vol. 2 XSETBV: #UD without CR4.OSXSAVE, #GP for the rest. */
	if (!(vmcb->save.cr4 & X86_CR4_OSXSAVE)) {
		vcpu->exit_rip = vcpu->rip;
		svm_queue_exception(vcpu, X86_TRAP_UD);
		return 1;
	}
	hvx_svm_ops.get_cregs(vcpu, &c);
	c.xcr0 = xcr0;
	if ((u32)vcpu->regs[HVX_RCX] != 0 || vmcb->save.cpl ||
	    hvx_svm_ops.set_cregs(vcpu, &c)) {
		vcpu->exit_rip = vcpu->rip;
		hvx_svm_ops.inject_gp(vcpu);
		return 1;
	}
	svm_skip(vcpu, 3);
	return 1;
}

static int (*const svm_exit_handlers[SVM_EXIT_NR])(struct hvx_vcpu *vcpu) = {
	[SVM_EXIT_CR8_WRITE]	= svm_exit_cr8_write,
	[SVM_EXIT_DR_FIRST ... SVM_EXIT_DR_LAST] = svm_exit_dr,
	[SVM_EXIT_INTR]		= svm_exit_nop,
	[SVM_EXIT_NMI]		= svm_exit_nop,
	[SVM_EXIT_VINTR]	= svm_exit_vintr,
	[SVM_EXIT_CPUID]	= svm_exit_cpuid,
	[SVM_EXIT_HLT]		= svm_exit_hlt,
	[SVM_EXIT_INVLPGA]	= svm_exit_ud,
	[SVM_EXIT_IOIO]		= svm_exit_ioio,
	[SVM_EXIT_MSR]		= svm_exit_msr,
	[SVM_EXIT_SHUTDOWN]	= svm_exit_shutdown,
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
};

/*
 * Exits with no vendor-neutral counter of their own (the rest are counted
 * where they are handled: port I/O, MSRs, CPUID, HLT, ...).
 */
static const bool svm_exit_other[SVM_EXIT_NR] = {
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

	svm_requeue_interrupted(vmcb);
	hvx_stat_inc(vcpu, HVX_STAT_EXITS);

	if (code == SVM_EXIT_NPF) {
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_NPF);
		hvx_stat_raw(vcpu, SVM_RAW_NPF);
		return hvx_tdp_fault(vcpu, vmcb->control.exit_info_2,
				     vmcb->control.exit_info_1 & NPF_WRITE);
	}
	if (code < SVM_EXIT_NR) {
		hvx_stat_raw(vcpu, code);
		if (svm_exit_handlers[code]) {
			if (svm_exit_other[code])
				hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
			return svm_exit_handlers[code](vcpu);
		}
	}

	vcpu->exit_rip = vcpu->rip;
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
