/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: x86 state both backends switch the same way around an entry (the
 * hardware of neither vendor switches it), and the checks they share.
 * Inline: these sit on the entry path.  The rest of the shared x86 logic
 * is in core/x86.c.
 */
#ifndef HVX_X86_H
#define HVX_X86_H

#include <linux/hw_breakpoint.h>
#include <linux/sched/signal.h>
#include <asm/fpu/api.h>
#include <asm/debugreg.h>
#include <asm/special_insns.h>

#include "hvx_core.h"

/*
 * The start of an entry: preemption off, the thread's FPU state in the
 * registers (the guest's is swapped in around the run loop).
 */
static __always_inline void hvx_entry_begin(void)
{
	preempt_disable();
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
}

/*
 * Interrupts off for the world switch, unless the thread must not enter
 * now: 1 when a reschedule or a signal is due (the run loop sees to them),
 * -EIO when the host is going down (SVM/VMX are off on this CPU, or about
 * to be: never turn them back on).  Either way preemption and interrupts
 * are back on.
 */
static __always_inline int hvx_entry_irqs_off(void)
{
	int ret = 0;

	local_irq_disable();
	if (unlikely(READ_ONCE(hvx_rebooting)))
		ret = -EIO;
	else if (need_resched() || signal_pending(current))
		ret = 1;
	if (ret) {
		local_irq_enable();
		preempt_enable();
	}
	return ret;
}

/*
 * Debug registers: neither VMRUN nor VM entry switches DR0-3.  DR
 * accesses are intercepted until the guest first makes one (or userspace
 * sets DREGS); from then on the guest owns DR0-3 while it runs, switched
 * on every entry.  Most guests never pay for it.  Interrupts are off.
 */
static __always_inline void hvx_load_guest_dr(struct hvx_vcpu *vcpu)
{
	int i;

	/* No host breakpoint may match a guest address while DR0-3 hold them. */
	if (hw_breakpoint_active())
		native_set_debugreg(7, 0);
	for (i = 0; i < 4; i++)
		native_set_debugreg(i, vcpu->dr[i]);
}

static __always_inline void hvx_put_guest_dr(struct hvx_vcpu *vcpu)
{
	int i;

	for (i = 0; i < 4; i++)
		vcpu->dr[i] = native_get_debugreg(i);
}

/*
 * PKRU is user state that no entry switches; a guest can write it once it
 * has set CR4.PKE, which is not intercepted.  Writing PKRU is costly (an
 * emulated CPU flushes its TLB), so the guest's value is loaded only for a
 * guest that has PKE set (@guest_cr4) or a PKRU of its own (reset value
 * 0), and after every exit a PKRU that is not the host's is taken as the
 * guest's and the host's put back.  The one deviation: a guest that sets
 * PKE and reads PKRU before writing it sees the host's value, not 0.
 * Returns whether the guest's value was loaded; *@host is the host's.
 */
static __always_inline bool hvx_load_guest_pkru(struct hvx_vcpu *vcpu, u64 guest_cr4,
						u32 *host)
{
	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		return false;
	*host = rdpkru();
	if (!(guest_cr4 & X86_CR4_PKE) && !vcpu->pkru)
		return false;
	if (*host != vcpu->pkru)
		wrpkru(vcpu->pkru);
	return true;
}

static __always_inline void hvx_put_guest_pkru(struct hvx_vcpu *vcpu, u64 guest_cr4, u32 host,
					       bool loaded)
{
	u32 cur;

	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		return;
	cur = rdpkru();
	if (loaded || cur != host || (guest_cr4 & X86_CR4_PKE))
		vcpu->pkru = cur;
	if (cur != host)
		wrpkru(host);
}

/* DR7 at reset and with no breakpoint: bit 10 reads as 1. */
#define HVX_DR7_FIXED		0x400ULL

/*
 * Paging registers neither vendor may enter with (APM vol. 2 §15.5.1, SDM
 * vol. 3C §26.3.1.1): long mode active without paging and PAE, or paging
 * with LME but not LMA.  Under shadow paging the CPU never sees the
 * guest's own set and cannot refuse it: the backend fails the entry the
 * way the hardware would.
 */
static inline bool hvx_paging_inconsistent(u64 cr0, u64 cr4, u64 efer)
{
	if (efer & EFER_LMA)
		return !(cr0 & X86_CR0_PG) || !(cr4 & X86_CR4_PAE) || !(efer & EFER_LME);
	return (cr0 & X86_CR0_PG) && (efer & EFER_LME);
}

/*
 * Before every entry: the event to inject and the windows to ask for
 * (__hvx_inject_events()).  The common case, nothing queued and no window
 * wanted, costs a direct call of the backend's own @set_windows.
 */
static __always_inline void hvx_inject_events(struct hvx_vcpu *vcpu,
					      void (*set_windows)(struct hvx_vcpu *, bool, bool))
{
	const struct hvx_pending *p = &vcpu->ev;

	/*
	 * With an APIC, other threads kick the vCPU while it is in guest
	 * mode, and test HVX_REQ_EVENT otherwise (hvx_vcpu_kick()).
	 */
	if (vcpu->apic) {
		WRITE_ONCE(vcpu->cpu, smp_processor_id());
		/* Pairs with hvx_vcpu_kick(): in_guest before requests is read. */
		smp_store_mb(vcpu->in_guest, true);
	}
	if (likely(!p->exception && !p->nmi && !p->irq &&
		   !vcpu->run->request_interrupt_window && !READ_ONCE(vcpu->requests))) {
		set_windows(vcpu, false, false);
		return;
	}
	__hvx_inject_events(vcpu);
}

/*
 * The low 32 bits of SVM's EVENTINJ/EXITINTINFO and of VMX's interruption
 * information share one format (APM vol. 2 §15.20, SDM vol. 3C §24.8.3):
 * vector in 7:0, type in 10:8, error code valid in 11, valid in 31.
 */
#define HVX_EV_VALID		BIT(31)
#define HVX_EV_HAS_ERROR	BIT(11)
#define HVX_EV_TYPE_MASK	(7U << 8)
#define HVX_EV_TYPE_INTR	(0U << 8)
#define HVX_EV_TYPE_NMI		(2U << 8)
#define HVX_EV_TYPE_EXC		(3U << 8)

#endif
