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
#include <asm/trapnr.h>
#include <asm/irq_vectors.h>

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
	if (vcpu->apic) {
		int ret = hvx_lapic_set_msr(vcpu, index, data, host);

		if (ret != -ENOENT)
			return ret;
	}
	return hvx_ops->set_msr(vcpu, index, data, host);
}

/* Reads an MSR the kernel holds: 0, or -ENOENT, -EINVAL as hvx_set_msr(). */
int hvx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	if (vcpu->apic) {
		int ret = hvx_lapic_get_msr(vcpu, index, data);

		if (ret != -ENOENT)
			return ret;
	}
	return hvx_ops->get_msr(vcpu, index, data);
}

/*
 * Whether HVX_INJECT_EVENT's external interrupt would be taken now: none
 * queued, the guest interruptible, and the APIC's LINT0 taking the PIC's
 * interrupts (hvx_lapic_takes_extint()).  What run->ready_for_interrupt
 * says, and what opens the window userspace asks for.
 */
bool hvx_extint_ready(struct hvx_vcpu *vcpu)
{
	return !vcpu->ev.irq && hvx_ops->interruptible(vcpu) && hvx_lapic_takes_extint(vcpu);
}

/*
 * Userspace asked to hear when the guest can take an interrupt, and it
 * can now: exit before entering.  Nothing may be in flight either (an
 * exit interrupted its delivery).  Called before each entry.
 */
bool hvx_irq_window_open(struct hvx_vcpu *vcpu)
{
	if (!vcpu->run->request_interrupt_window || !hvx_extint_ready(vcpu) ||
	    (hvx_ops->get_injection(vcpu, NULL) & HVX_EV_VALID))
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
	if (vcpu->run->request_interrupt_window && hvx_extint_ready(vcpu)) {
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_IRQ_WINDOW);
		vcpu->run->exit_reason = HVX_EXIT_IRQ_WINDOW;
		return 0;
	}
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return 1;
}

/*
 * The exceptions that push an error code (SDM vol. 3A table 6-1, APM
 * vol. 2 table 8-1): #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX.
 */
bool hvx_exception_has_error(u32 vector)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14:
	case 17: case 21: case 29: case 30:
		return true;
	default:
		return false;
	}
}

/*
 * The injection of exception @vector, in the format both vendors share.
 * Real mode pushes no error code, and both CPUs refuse an entry that asks
 * for one there (SDM vol. 3C §26.2.1.3; KVM drops it likewise).
 */
u32 hvx_exception_info(struct hvx_vcpu *vcpu, u8 vector, bool has_error)
{
	u32 info = vector | HVX_EV_TYPE_EXC | HVX_EV_VALID;
	struct hvx_paging pg;

	if (has_error) {
		hvx_ops->get_paging(vcpu, &pg);
		if (pg.cr0 & X86_CR0_PE)
			info |= HVX_EV_HAS_ERROR;
	}
	return info;
}

/*
 * The exception queue of an exit: exception @vector (with @error if the
 * vector has one) is delivered on the next entry, in place of anything
 * in flight, with the guest's RIP as the handler left it: the exiting
 * instruction for a fault, the next one for a trap (ICEBP's #DB).
 */
void hvx_queue_exception(struct hvx_vcpu *vcpu, u8 vector, u32 error)
{
	hvx_stat_inc(vcpu, HVX_STAT_INJ_EXCEPTION);
	hvx_ops->set_injection(vcpu, hvx_exception_info(vcpu, vector,
							hvx_exception_has_error(vector)), error);
}

/*
 * Delivers @f, a fault of the exiting instruction, on the next entry: the
 * instruction has not completed, whatever the handler had done to RIP.
 */
void hvx_inject_fault(struct hvx_vcpu *vcpu, const struct hvx_fault *f)
{
	vcpu->rip = vcpu->exit_rip;
	/* Neither VMRUN nor VM entry writes CR2 for an injected #PF. */
	if (f->vector == X86_TRAP_PF)
		hvx_ops->set_cr2(vcpu, f->cr2);
	hvx_queue_exception(vcpu, f->vector, f->error_code);
}

/*
 * Delivers an exception that hvx intercepts only so that the CPU cannot
 * loop delivering it (#DB, #AC).  If it arose while the guest's CPU was
 * delivering another event, the exit path has put that event back in the
 * injection field.  #DB and #AC are benign (SDM vol. 3A table 6-5): the
 * two are handled serially, the new one first.  A fault whose delivery
 * was cut short comes again when its instruction runs again, as on
 * hardware; an interrupt or NMI goes back to the queue, or, with no room
 * there, keeps the field and the new exception recurs when its delivery
 * does.
 */
void hvx_reflect_exception(struct hvx_vcpu *vcpu, u8 vector)
{
	struct hvx_pending *p = &vcpu->ev;
	u32 prev = hvx_ops->get_injection(vcpu, NULL);

	if (prev & HVX_EV_VALID) {
		switch (prev & HVX_EV_TYPE_MASK) {
		case HVX_EV_TYPE_INTR:
			if (p->irq)
				return;
			p->irq = true;
			p->irq_vector = prev & 0xff;
			break;
		case HVX_EV_TYPE_NMI:
			p->nmi = true;
			break;
		}
	}
	/* The error code of #AC is 0. */
	hvx_queue_exception(vcpu, vector, 0);
}

/* A triple fault: the guest is dead; userspace decides what follows. */
int hvx_exit_shutdown(struct hvx_vcpu *vcpu)
{
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_SHUTDOWN);
	hvx_event(vcpu->vm, HVX_GENL_EVENT_SHUTDOWN, vcpu->id, 0);
	vcpu->run->exit_reason = HVX_EXIT_SHUTDOWN;
	return 0;
}

/*
 * Shadow paging: the guest's own #PF at @cr2 with error code @ec, which
 * the walk of its tables found.  If the CPU raised it delivering another
 * event (back in the injection field now), the two combine as
 * hvx_pf_during_event() says.  Returns as an exit handler does.
 */
int hvx_shadow_pf_deliver(struct hvx_vcpu *vcpu, u64 cr2, u32 ec)
{
	u32 prev = hvx_ops->get_injection(vcpu, NULL);

	/* An intercepted #PF leaves CR2 alone (APM vol. 2 §15.12.15). */
	hvx_ops->set_cr2(vcpu, cr2);
	if (prev & HVX_EV_VALID) {
		u32 type = (prev & HVX_EV_TYPE_MASK) == HVX_EV_TYPE_NMI ? HVX_EVENT_NMI :
			   (prev & HVX_EV_TYPE_MASK) == HVX_EV_TYPE_INTR ? HVX_EVENT_EXTINT :
			   HVX_EVENT_EXCEPTION;

		switch (hvx_pf_during_event(vcpu, type, prev & 0xff)) {
		case HVX_PF_SHUTDOWN:
			hvx_ops->set_injection(vcpu, 0, 0);
			return hvx_exit_shutdown(vcpu);
		case HVX_PF_DOUBLE:
			hvx_queue_exception(vcpu, X86_TRAP_DF, 0);
			return 1;
		case HVX_PF_ALONE:
			break;
		}
	}
	hvx_queue_exception(vcpu, X86_TRAP_PF, ec);
	return 1;
}

/*
 * Picks what the next entry injects, for both vendors: nothing if the
 * injection field already holds an event whose delivery an exit cut
 * short (it goes first); else a queued exception, else an NMI if the
 * guest can take one, else an interrupt if it can take one; and asks the
 * backend for an exit when a blocked NMI or interrupt could go, or when
 * userspace asked for the interrupt window.  An NMI the guest cannot
 * take yet does not hold back an interrupt it can (KVM's
 * kvm_check_and_inject_events() decides alike).  The backend's run op
 * calls it through hvx_inject_events() (hvx_x86.h), with interrupts off,
 * right before entry, when something is queued or userspace wants the
 * window.
 */
void __hvx_inject_events(struct hvx_vcpu *vcpu)
{
	struct hvx_pending *p = &vcpu->ev;
	bool irq_window = false;
	bool nmi_window = false;

	if (hvx_ops->get_injection(vcpu, NULL) & HVX_EV_VALID)
		goto windows;
	if (p->exception) {
		hvx_ops->set_injection(vcpu, hvx_exception_info(vcpu, p->exc_vector,
								p->exc_has_error), p->exc_error);
		p->exception = false;
		hvx_stat_inc(vcpu, HVX_STAT_INJ_EXCEPTION);
		trace_hvx_inject(vcpu->vm->id, vcpu->id, HVX_EVENT_EXCEPTION, p->exc_vector);
		goto windows;
	}
	if (test_bit(HVX_REQ_EVENT, &vcpu->requests))
		hvx_lapic_accept(vcpu, &irq_window);
	if (p->nmi) {
		if (hvx_ops->nmi_allowed(vcpu)) {
			hvx_ops->set_injection(vcpu, NMI_VECTOR | HVX_EV_TYPE_NMI | HVX_EV_VALID,
					       0);
			p->nmi = false;
			hvx_stat_inc(vcpu, HVX_STAT_INJ_NMI);
			trace_hvx_inject(vcpu->vm->id, vcpu->id, HVX_EVENT_NMI, NMI_VECTOR);
			goto windows;
		}
		nmi_window = !p->nmi_masked;
	}
	if (p->irq && hvx_ops->interruptible(vcpu)) {
		hvx_ops->set_injection(vcpu, p->irq_vector | HVX_EV_TYPE_INTR | HVX_EV_VALID, 0);
		p->irq = false;
		hvx_stat_inc(vcpu, HVX_STAT_INJ_IRQ);
		trace_hvx_inject(vcpu->vm->id, vcpu->id, HVX_EVENT_EXTINT, p->irq_vector);
	}
windows:
	/*
	 * What waits: a queued interrupt, userspace's request (not while
	 * LINT0 refuses what it would inject: the window would exit on every
	 * entry), the APIC's.
	 */
	irq_window |= p->irq || test_bit(HVX_REQ_EVENT, &vcpu->requests) ||
		      (vcpu->run->request_interrupt_window && hvx_lapic_takes_extint(vcpu));
	hvx_ops->set_windows(vcpu, irq_window, nmi_window);
}

/*
 * What SET_STATE's CREGS may not hold on either vendor, checked before the
 * backend stores them (the EFER bits a guest may set are the backend's):
 *
 * - LMA other than LME and PG together, as the CPU derives it; CR4 bits
 *   this CPU lacks (KVM_SET_SREGS checks both);
 * - CR8 over 15, an XCR0 the guest may not have (hvx_check_xcr0());
 * - paging without protection, and NW without CD: VM entry refuses the
 *   first and VMRUN the second (APM vol. 2 §15.5.1), and a launcher sees
 *   one behaviour on both vendors.
 *
 * Other inconsistent CR0/CR3/CR4 values fail the next entry (FAIL_ENTRY).
 */
int hvx_check_cregs(struct hvx_vcpu *vcpu, const struct hvx_cregs *c)
{
	if (!!(c->efer & EFER_LMA) != ((c->efer & EFER_LME) && (c->cr0 & X86_CR0_PG)) ||
	    (c->cr4 & ~hvx_cr4_valid))
		return -EINVAL;
	if (c->cr8 > 15 || hvx_check_xcr0(vcpu, c->xcr0))
		return -EINVAL;
	if ((c->cr0 & X86_CR0_PG) && !(c->cr0 & X86_CR0_PE))
		return -EINVAL;
	if ((c->cr0 & X86_CR0_NW) && !(c->cr0 & X86_CR0_CD))
		return -EINVAL;
	return 0;
}
