// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: x86 logic written once for both backends.  The backends keep only
 * what their hardware does differently: where a register lives (VMCB or
 * VMCS), how an event is injected, how an exit is decoded.  What sits on
 * the entry path is inline, in hvx_x86.h.
 */
#include <linux/kernel.h>
#include <asm/cpufeature.h>
#include <asm/msr-index.h>

#include "hvx_core.h"
#include "hvx_x86.h"
#include "hvx_trace.h"

/*
 * An event the hardware was delivering when the guest exited, in the
 * format both vendors share (hvx_x86.h), as GET_STATE reports it: it is
 * still pending.  Software interrupts and exceptions are not reported:
 * the instruction that raised them runs again.
 */
void hvx_events_from_info(u32 info, u32 error, struct hvx_events *e)
{
	if (!(info & HVX_EV_VALID))
		return;
	switch (info & HVX_EV_TYPE_MASK) {
	case HVX_EV_TYPE_EXC:
		e->flags |= HVX_EVENTS_EXCEPTION;
		e->exception_vector = info & 0xff;
		if (info & HVX_EV_HAS_ERROR) {
			e->flags |= HVX_EVENTS_EXC_ERRCODE;
			e->exception_error_code = error;
		}
		break;
	case HVX_EV_TYPE_NMI:
		e->flags |= HVX_EVENTS_NMI;
		break;
	case HVX_EV_TYPE_INTR:
		e->flags |= HVX_EVENTS_IRQ;
		e->irq_vector = info & 0xff;
		break;
	}
}

/*
 * GET_STATE's events: what the backend's hardware holds (an event in
 * flight, the interrupt shadow, NMI blocking), then what the core has
 * queued and not yet injected.
 */
void hvx_get_events(struct hvx_vcpu *vcpu, struct hvx_events *e)
{
	const struct hvx_pending *p = &vcpu->ev;

	memset(e, 0, sizeof(*e));
	hvx_ops->get_events(vcpu, e);
	if (p->exception) {
		e->flags |= HVX_EVENTS_EXCEPTION;
		e->exception_vector = p->exc_vector;
		if (p->exc_has_error) {
			e->flags |= HVX_EVENTS_EXC_ERRCODE;
			e->exception_error_code = p->exc_error;
		}
	}
	if (p->nmi)
		e->flags |= HVX_EVENTS_NMI;
	if (p->irq) {
		e->flags |= HVX_EVENTS_IRQ;
		e->irq_vector = p->irq_vector;
	}
	if (p->nmi_masked)
		e->flags |= HVX_EVENTS_NMI_MASKED;
}

/* WRMSR of an address takes a canonical one, at the CPU's address width. */
static bool hvx_msr_canonical(u64 data)
{
	int bits = boot_cpu_has(X86_FEATURE_LA57) ? 57 : 48;

	return (s64)(data << (64 - bits)) >> (64 - bits) == (s64)data;
}

/*
 * Stores an MSR the kernel holds, for the guest's WRMSR (@host false) or
 * SET_STATE (@host true), once the value passes what WRMSR itself checks
 * (SDM vol. 4, APM vol. 2): -EINVAL (#GP for the guest) if not, -ENOENT if
 * the backend does not hold the MSR.  EFER's rules are the backend's, and
 * so are SYSENTER_ESP/EIP's: Intel refuses a non-canonical address, AMD
 * keeps the low 32 bits and takes any value.
 */
int hvx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host)
{
	switch (index) {
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
		if (!hvx_msr_canonical(data))
			return -EINVAL;
		break;
	case MSR_TSC_AUX:
		/* Bits 63:32 are reserved (SDM vol. 4 table 2-2, APM vol. 2 §13.2.4). */
		if (data >> 32)
			return -EINVAL;
		break;
	case MSR_IA32_CR_PAT:
		if (!hvx_pat_valid(data))
			return -EINVAL;
		break;
	}
	return hvx_ops->set_msr(vcpu, index, data, host);
}

/*
 * Userspace asked to hear when the guest can take an interrupt, has none
 * queued, and the guest can take one now: exit before entering.  Nothing
 * may be in flight (an exit interrupted its delivery), or the window is
 * not open yet.  Called before each entry.
 */
bool hvx_irq_window_open(struct hvx_vcpu *vcpu)
{
	if (!vcpu->run->request_interrupt_window || vcpu->ev.irq ||
	    !hvx_ops->interruptible(vcpu) || hvx_ops->event_in_flight(vcpu))
		return false;
	vcpu->exit_rip = vcpu->rip;
	vcpu->run->exit_reason = HVX_EXIT_IRQ_WINDOW;
	return true;
}

/*
 * The exit the backend asked for when the guest could next take an
 * interrupt (SVM's virtual interrupt, VMX's interrupt window): tell
 * userspace if it asked and has nothing queued; the backend's injection
 * delivers what is queued.
 */
int hvx_exit_irq_window(struct hvx_vcpu *vcpu)
{
	if (hvx_ops->interruptible(vcpu) && vcpu->run->request_interrupt_window &&
	    !vcpu->ev.irq) {
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_IRQ_WINDOW);
		vcpu->run->exit_reason = HVX_EXIT_IRQ_WINDOW;
		return 0;
	}
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return 1;
}
