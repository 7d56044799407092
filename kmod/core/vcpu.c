// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the vCPU fd: run page, the run loop, state, events, CPUID table.
 */
#include <linux/module.h>
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/errno.h>
#include <linux/thread_info.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>

#include <asm/nospec-branch.h>
#include "hvx_core.h"
#include "hvx_trace.h"

/* The run loop: enter the guest until an exit needs userspace. */
static long hvx_vcpu_run(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	int ret;

	if (run->immediate_exit) {
		run->exit_reason = HVX_EXIT_INTR;
		return -EINTR;
	}
	run->exit_reason = HVX_EXIT_NONE;
	ret = hvx_complete_userspace(vcpu);
	if (ret <= 0)
		return ret;

	fpu_swap_kvm_fpstate(&vcpu->gfpu, true);
	for (;;) {
		/* Got a signal? Leave; a pending resched is honoured here too. */
		if (signal_pending(current)) {
			run->exit_reason = HVX_EXIT_INTR;
			hvx_stat_inc(vcpu, HVX_STAT_EXIT_SIGNAL);
			ret = -EINTR;
			break;
		}
		/*
		 * Work the kernel does on the way back to user space
		 * (task_work, memory.high throttling, rseq) must not wait
		 * for a guest that never exits there.  KVM does it here, but
		 * those helpers are not exported: leave through that path
		 * and have HVX_RUN restarted, or fail with -EINTR if a
		 * signal handler runs meanwhile.
		 */
		if (test_thread_flag(TIF_NOTIFY_RESUME)) {
			set_thread_flag(TIF_NOTIFY_SIGNAL);
			run->exit_reason = HVX_EXIT_INTR;
			ret = -ERESTARTNOHAND;
			break;
		}
		cond_resched();
		/*
		 * Before a halted vCPU waits: the window userspace asked for
		 * is open in HLT too, and its interrupt is what ends the HLT
		 * (as KVM's vcpu_run() checks after each HLT).
		 */
		if (hvx_irq_window_open(vcpu)) {
			ret = 0;
			break;
		}
		if (vcpu->apic) {
			ret = hvx_lapic_block(vcpu);
			if (ret <= 0)
				break;
		}
		ret = hvx_ops->run(vcpu);
		WRITE_ONCE(vcpu->in_guest, false);
		if (ret <= 0)
			break;
	}
	fpu_swap_kvm_fpstate(&vcpu->gfpu, false);

	run->rip = run->exit_reason == HVX_EXIT_INTR ? vcpu->rip : vcpu->exit_rip;
	run->if_flag = !!(vcpu->rflags & X86_EFLAGS_IF);
	run->ready_for_interrupt = hvx_extint_ready(vcpu);
	trace_hvx_userspace_exit(vcpu->vm->id, vcpu->id, run->exit_reason, ret);
	return ret;
}

static void hvx_get_regs(struct hvx_vcpu *vcpu, struct hvx_regs *r)
{
	r->rax = vcpu->regs[HVX_RAX];
	r->rbx = vcpu->regs[HVX_RBX];
	r->rcx = vcpu->regs[HVX_RCX];
	r->rdx = vcpu->regs[HVX_RDX];
	r->rsi = vcpu->regs[HVX_RSI];
	r->rdi = vcpu->regs[HVX_RDI];
	r->rsp = vcpu->regs[HVX_RSP];
	r->rbp = vcpu->regs[HVX_RBP];
	r->r8 = vcpu->regs[HVX_R8];
	r->r9 = vcpu->regs[HVX_R9];
	r->r10 = vcpu->regs[HVX_R10];
	r->r11 = vcpu->regs[HVX_R11];
	r->r12 = vcpu->regs[HVX_R12];
	r->r13 = vcpu->regs[HVX_R13];
	r->r14 = vcpu->regs[HVX_R14];
	r->r15 = vcpu->regs[HVX_R15];
	r->rip = vcpu->rip;
	r->rflags = vcpu->rflags;
}

static void hvx_set_regs(struct hvx_vcpu *vcpu, const struct hvx_regs *r)
{
	vcpu->regs[HVX_RAX] = r->rax;
	vcpu->regs[HVX_RBX] = r->rbx;
	vcpu->regs[HVX_RCX] = r->rcx;
	vcpu->regs[HVX_RDX] = r->rdx;
	vcpu->regs[HVX_RSI] = r->rsi;
	vcpu->regs[HVX_RDI] = r->rdi;
	vcpu->regs[HVX_RSP] = r->rsp;
	vcpu->regs[HVX_RBP] = r->rbp;
	vcpu->regs[HVX_R8] = r->r8;
	vcpu->regs[HVX_R9] = r->r9;
	vcpu->regs[HVX_R10] = r->r10;
	vcpu->regs[HVX_R11] = r->r11;
	vcpu->regs[HVX_R12] = r->r12;
	vcpu->regs[HVX_R13] = r->r13;
	vcpu->regs[HVX_R14] = r->r14;
	vcpu->regs[HVX_R15] = r->r15;
	vcpu->rip = r->rip;
	/* Bit 1 is always one; the reserved bits are zero (SDM vol. 1 §3.4.3). */
	vcpu->rflags = (r->rflags & 0x3f7fd7) | X86_EFLAGS_FIXED;
}

static int hvx_state_msrs(struct hvx_vcpu *vcpu, struct hvx_vcpu_state *st, bool set)
{
	struct hvx_msr_entry __user *up = u64_to_user_ptr(st->msrs);
	struct hvx_msr_entry *e;
	u32 i;
	int ret = 0;

	if (st->nmsrs > HVX_MAX_MSRS)
		return -E2BIG;
	if (!st->nmsrs)
		return 0;
	e = memdup_user(up, st->nmsrs * sizeof(*e));
	if (IS_ERR(e))
		return PTR_ERR(e);
	for (i = 0; i < st->nmsrs && !ret; i++) {
		if (e[i].reserved)
			ret = -EINVAL;
		else if (set)
			ret = hvx_set_msr(vcpu, e[i].index, e[i].data, true);
		else
			ret = hvx_get_msr(vcpu, e[i].index, &e[i].data);
	}
	/* An index the kernel does not hold is a bad argument here. */
	if (ret == -ENOENT)
		ret = -EINVAL;
	if (!ret && !set && copy_to_user(up, e, st->nmsrs * sizeof(*e)))
		ret = -EFAULT;
	kfree(e);
	return ret;
}

static int hvx_state_fpu(struct hvx_vcpu *vcpu, struct hvx_vcpu_state *st, bool set)
{
	void __user *up = u64_to_user_ptr(st->xsave);
	u32 pkru = vcpu->pkru;
	void *buf;
	int ret = 0;

	buf = kzalloc(HVX_XSAVE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	if (set) {
		if (copy_from_user(buf, up, HVX_XSAVE_SIZE)) {
			ret = -EFAULT;
			goto out;
		}
		/* Rejects reserved or unsupported header bits with -EINVAL. */
		ret = fpu_copy_uabi_to_guest_fpstate(&vcpu->gfpu, buf,
						     vcpu->gfpu.fpstate->user_xfeatures, &pkru);
		if (!ret)
			vcpu->pkru = pkru;
	} else {
		fpu_copy_guest_fpstate_to_uabi(&vcpu->gfpu, buf, HVX_XSAVE_SIZE,
					       vcpu->gfpu.fpstate->user_xfeatures, vcpu->pkru);
		if (copy_to_user(up, buf, HVX_XSAVE_SIZE))
			ret = -EFAULT;
	}
out:
	kfree(buf);
	return ret;
}

/*
 * An XCR0 value the guest may have (SDM vol. 1 §13.3, vol. 2 XSETBV; APM
 * vol. 2 §11.5.2), checked as KVM's __kvm_set_xcr() does: x87 always, AVX
 * needs SSE, the MPX pair and the AMX pair all or none, the AVX-512
 * triple all or none and only with AVX, and nothing the guest's CPUID
 * leaf 0xD (sub-leaf 0, EDX:EAX) does not offer or the host kernel has
 * not enabled.  The host loads the value with XSETBV before each entry,
 * so this is what keeps that XSETBV from faulting.
 */
int hvx_check_xcr0(struct hvx_vcpu *vcpu, u64 xcr0)
{
	const u64 xtile = XFEATURE_MASK_XTILE_CFG | XFEATURE_MASK_XTILE_DATA;
	u64 supported;
	u32 r[4];

	hvx_guest_cpuid(vcpu, 0xd, 0, r);
	supported = ((u64)r[3] << 32 | r[0]) & vcpu->gfpu.fpstate->user_xfeatures;
	if (!(xcr0 & XFEATURE_MASK_FP) || (xcr0 & ~(supported | XFEATURE_MASK_FP)))
		return -EINVAL;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return -EINVAL;
	if (!!(xcr0 & XFEATURE_MASK_BNDREGS) != !!(xcr0 & XFEATURE_MASK_BNDCSR))
		return -EINVAL;
	if ((xcr0 & XFEATURE_MASK_AVX512) &&
	    ((xcr0 & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512 ||
	     !(xcr0 & XFEATURE_MASK_YMM)))
		return -EINVAL;
	if ((xcr0 & xtile) && (xcr0 & xtile) != xtile)
		return -EINVAL;
	return 0;
}

/* A PAT value: memory types 2 and 3 are reserved, as is anything above 7. */
/* CR4 bits a guest may have: what this CPU implements, VMX and SMX aside. */
u64 hvx_cr4_valid __read_mostly;

void hvx_setup_cr4_valid(void)
{
	static const struct { u16 feature; u64 bit; } opt[] = {
		{ X86_FEATURE_UMIP, X86_CR4_UMIP },
		{ X86_FEATURE_LA57, X86_CR4_LA57 },
		{ X86_FEATURE_FSGSBASE, X86_CR4_FSGSBASE },
		{ X86_FEATURE_PCID, X86_CR4_PCIDE },
		{ X86_FEATURE_XSAVE, X86_CR4_OSXSAVE },
		{ X86_FEATURE_SMEP, X86_CR4_SMEP },
		{ X86_FEATURE_SMAP, X86_CR4_SMAP },
		{ X86_FEATURE_PKU, X86_CR4_PKE },
#ifdef X86_FEATURE_SHSTK
		{ X86_FEATURE_SHSTK, X86_CR4_CET },
#endif
	};
	int i;

	hvx_cr4_valid = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
			X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
			X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	for (i = 0; i < ARRAY_SIZE(opt); i++)
		if (boot_cpu_has(opt[i].feature))
			hvx_cr4_valid |= opt[i].bit;
}

bool hvx_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (i * 8);

		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

static int hvx_check_events(const struct hvx_events *e)
{
	if (e->flags & ~HVX_EVENTS_ALL || e->pad || e->pad2 ||
	    memchr_inv(e->reserved, 0, sizeof(e->reserved)))
		return -EINVAL;
	if (e->flags & HVX_EVENTS_EXCEPTION) {
		if (e->exception_vector >= 31 || e->exception_vector == 2)
			return -EINVAL;
		if (!!(e->flags & HVX_EVENTS_EXC_ERRCODE) !=
		    hvx_exception_has_error(e->exception_vector))
			return -EINVAL;
	} else if (e->flags & HVX_EVENTS_EXC_ERRCODE || e->exception_vector ||
		   e->exception_error_code) {
		return -EINVAL;
	}
	if ((e->flags & HVX_EVENTS_IRQ) ? e->irq_vector < 32 : e->irq_vector)
		return -EINVAL;
	return 0;
}

static void hvx_set_events(struct hvx_vcpu *vcpu, const struct hvx_events *e)
{
	struct hvx_pending *p = &vcpu->ev;

	p->exception = e->flags & HVX_EVENTS_EXCEPTION;
	p->exc_vector = e->exception_vector;
	p->exc_has_error = e->flags & HVX_EVENTS_EXC_ERRCODE;
	p->exc_error = e->exception_error_code;
	p->nmi = e->flags & HVX_EVENTS_NMI;
	p->nmi_masked = e->flags & HVX_EVENTS_NMI_MASKED;
	p->irq = e->flags & HVX_EVENTS_IRQ;
	p->irq_vector = e->irq_vector;
	hvx_ops->set_events(vcpu, e);
}

static void hvx_state_get_cregs(struct hvx_vcpu *vcpu, struct hvx_cregs *c)
{
	hvx_ops->get_cregs(vcpu, c);
	if (vcpu->apic)
		c->cr8 = hvx_lapic_get_cr8(vcpu);
}

/* CREGS of HVX_SET_STATE and of the registers area: checked, then set. */
static int hvx_state_set_cregs(struct hvx_vcpu *vcpu, const struct hvx_cregs *c)
{
	int ret;

	if (c->reserved)
		return -EINVAL;
	ret = hvx_check_cregs(vcpu, c);
	if (!ret)
		ret = hvx_ops->set_cregs(vcpu, c);
	if (!ret && vcpu->apic)
		hvx_lapic_set_cr8(vcpu, c->cr8);
	return ret;
}

/* Copies a GET/SET_STATE request in and checks its header. */
static struct hvx_vcpu_state *hvx_state_read(struct hvx_vcpu_state __user *argp)
{
	struct hvx_vcpu_state *st = memdup_user(argp, sizeof(*st));

	if (IS_ERR(st))
		return st;
	if (st->components & ~HVX_STATE_ALL || st->flags || st->pad ||
	    memchr_inv(st->reserved, 0, sizeof(st->reserved))) {
		kfree(st);
		return ERR_PTR(-EINVAL);
	}
	return st;
}

static int hvx_state_lapic_get(struct hvx_vcpu *vcpu, struct hvx_vcpu_state *st)
{
	struct hvx_lapic_state *ls;
	int ret;

	if (!vcpu->apic)
		return -EINVAL;
	ls = kmalloc(sizeof(*ls), GFP_KERNEL_ACCOUNT);
	if (!ls)
		return -ENOMEM;
	hvx_lapic_get_state(vcpu, ls);
	ret = copy_to_user(u64_to_user_ptr(st->lapic), ls, sizeof(*ls)) ? -EFAULT : 0;
	kfree(ls);
	return ret;
}

static long hvx_vcpu_get_state(struct hvx_vcpu *vcpu, struct hvx_vcpu_state __user *argp)
{
	struct hvx_vcpu_state *st;
	long ret;

	st = hvx_state_read(argp);
	if (IS_ERR(st))
		return PTR_ERR(st);
	if (st->components & HVX_STATE_REGS)
		hvx_get_regs(vcpu, &st->regs);
	if (st->components & HVX_STATE_SREGS)
		hvx_ops->get_sregs(vcpu, &st->sregs);
	if (st->components & HVX_STATE_CREGS)
		hvx_state_get_cregs(vcpu, &st->cregs);
	if (st->components & HVX_STATE_DREGS)
		hvx_ops->get_dregs(vcpu, &st->dregs);
	if (st->components & HVX_STATE_EVENTS)
		hvx_get_events(vcpu, &st->events);
	ret = 0;
	if (st->components & HVX_STATE_MSRS)
		ret = hvx_state_msrs(vcpu, st, false);
	if (!ret && st->components & HVX_STATE_FPU)
		ret = hvx_state_fpu(vcpu, st, false);
	if (!ret && st->components & HVX_STATE_LAPIC)
		ret = hvx_state_lapic_get(vcpu, st);
	if (!ret && copy_to_user(argp, st, sizeof(*st)))
		ret = -EFAULT;
	kfree(st);
	return ret;
}

/*
 * Validates the selected components before changing them, so that a
 * rejected SET_STATE leaves the vCPU as it was.  The exceptions: CREGS is
 * checked after SREGS is set, and MSRs and FPU, checked entry by entry,
 * come last.
 */
static long hvx_vcpu_set_state(struct hvx_vcpu *vcpu, struct hvx_vcpu_state __user *argp)
{
	struct hvx_lapic_state *ls = NULL;
	struct hvx_vcpu_state *st;
	long ret;

	st = hvx_state_read(argp);
	if (IS_ERR(st))
		return PTR_ERR(st);
	if (st->components & HVX_STATE_LAPIC) {
		ret = -EINVAL;
		if (!vcpu->apic)
			goto out;
		ls = memdup_user(u64_to_user_ptr(st->lapic), sizeof(*ls));
		if (IS_ERR(ls)) {
			ret = PTR_ERR(ls);
			ls = NULL;
			goto out;
		}
		ret = hvx_lapic_check_state(vcpu, ls);
		if (ret)
			goto out;
	}
	ret = -EINVAL;
	if ((st->components & HVX_STATE_CREGS) && st->cregs.reserved)
		goto out;
	if ((st->components & HVX_STATE_DREGS) &&
	    memchr_inv(st->dregs.reserved, 0, sizeof(st->dregs.reserved)))
		goto out;
	if ((st->components & HVX_STATE_MSRS) && st->nmsrs > HVX_MAX_MSRS) {
		ret = -E2BIG;
		goto out;
	}
	if (st->components & HVX_STATE_EVENTS) {
		ret = hvx_check_events(&st->events);
		if (ret)
			goto out;
	}
	/* SREGS and CREGS check everything before they change anything. */
	if (st->components & HVX_STATE_SREGS) {
		ret = hvx_ops->set_sregs(vcpu, &st->sregs);
		if (ret)
			goto out;
	}
	if (st->components & HVX_STATE_CREGS) {
		ret = hvx_state_set_cregs(vcpu, &st->cregs);
		if (ret)
			goto out;
	}
	if (st->components & HVX_STATE_EVENTS)
		hvx_set_events(vcpu, &st->events);
	if (st->components & HVX_STATE_REGS)
		hvx_set_regs(vcpu, &st->regs);
	if (st->components & HVX_STATE_DREGS)
		hvx_ops->set_dregs(vcpu, &st->dregs);
	/* New state from userspace: no half-done instruction to complete. */
	if (st->components & HVX_STATE_REGS)
		vcpu->complete = HVX_COMPLETE_NONE;
	ret = 0;
	if (st->components & HVX_STATE_MSRS)
		ret = hvx_state_msrs(vcpu, st, true);
	if (!ret && st->components & HVX_STATE_FPU)
		ret = hvx_state_fpu(vcpu, st, true);
	if (!ret && ls)
		hvx_lapic_set_state(vcpu, ls);
out:
	kfree(ls);
	kfree(st);
	return ret;
}

static long hvx_vcpu_inject(struct hvx_vcpu *vcpu, struct hvx_event __user *argp)
{
	struct hvx_pending *p = &vcpu->ev;
	struct hvx_event e;

	if (copy_from_user(&e, argp, sizeof(e)))
		return -EFAULT;
	if (e.flags & ~HVX_EVENT_HAS_ERRCODE || memchr_inv(e.reserved, 0, sizeof(e.reserved)))
		return -EINVAL;
	if (e.type != HVX_EVENT_EXCEPTION && (e.flags || e.error_code))
		return -EINVAL;

	switch (e.type) {
	case HVX_EVENT_EXTINT:
		if (e.vector < 32 || e.vector > 255)
			return -EINVAL;
		if (p->irq)
			return -EBUSY;
		/* LINT0 masked, or not ExtINT: the PIC's line goes nowhere now. */
		if (!hvx_lapic_takes_extint(vcpu))
			return -EAGAIN;
		p->irq = true;
		p->irq_vector = e.vector;
		return 0;
	case HVX_EVENT_NMI:
		/* The vector of an NMI is 2; 0 means the same. */
		if (e.vector && e.vector != 2)
			return -EINVAL;
		if (p->nmi)
			return -EBUSY;
		p->nmi = true;
		return 0;
	case HVX_EVENT_EXCEPTION:
		if (e.vector >= 31 || e.vector == 2)
			return -EINVAL;
		if (!!(e.flags & HVX_EVENT_HAS_ERRCODE) != hvx_exception_has_error(e.vector))
			return -EINVAL;
		if (!(e.flags & HVX_EVENT_HAS_ERRCODE) && e.error_code)
			return -EINVAL;
		if (p->exception)
			return -EBUSY;
		p->exception = true;
		p->exc_vector = e.vector;
		p->exc_has_error = e.flags & HVX_EVENT_HAS_ERRCODE;
		p->exc_error = e.error_code;
		return 0;
	default:
		return -EINVAL;
	}
}

static long hvx_vcpu_set_cpuid(struct hvx_vcpu *vcpu, struct hvx_cpuid __user *argp)
{
	struct hvx_cpuid_entry *e = NULL;
	struct hvx_cpuid c;
	u32 i;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags || memchr_inv(c.reserved, 0, sizeof(c.reserved)))
		return -EINVAL;
	if (c.nent > HVX_MAX_CPUID)
		return -E2BIG;
	if (c.nent) {
		e = memdup_user(u64_to_user_ptr(c.entries), c.nent * sizeof(*e));
		if (IS_ERR(e))
			return PTR_ERR(e);
	}
	for (i = 0; i < c.nent; i++) {
		if (e[i].reserved || e[i].flags & ~HVX_CPUID_SIGNIFICANT_INDEX) {
			kfree(e);
			return -EINVAL;
		}
	}
	kfree(vcpu->cpuid);
	vcpu->cpuid = e;
	vcpu->cpuid_nent = c.nent;
	return 0;
}

/*
 * The registers area of the run page, in: the components userspace marked
 * dirty load as HVX_SET_STATE loads them (SREGS, CREGS, then REGS, which
 * also drops the completion of the last exit), each from a copy, since
 * userspace can change the page meanwhile.  -EINVAL for an unknown bit in
 * sync_valid or sync_dirty, or a state SET_STATE refuses; the dirty bits
 * stay set then.
 */
static int hvx_sync_in(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	u64 dirty = READ_ONCE(run->sync_dirty);
	union {
		struct hvx_regs regs;
		struct hvx_sregs sregs;
		struct hvx_cregs cregs;
	} c;
	int ret;

	if ((dirty | READ_ONCE(run->sync_valid)) & ~HVX_SYNC_ALL)
		return -EINVAL;
	if (!dirty)
		return 0;
	if (dirty & HVX_STATE_SREGS) {
		memcpy(&c.sregs, &run->sync_sregs, sizeof(c.sregs));
		ret = hvx_ops->set_sregs(vcpu, &c.sregs);
		if (ret)
			return ret;
	}
	if (dirty & HVX_STATE_CREGS) {
		memcpy(&c.cregs, &run->sync_cregs, sizeof(c.cregs));
		ret = hvx_state_set_cregs(vcpu, &c.cregs);
		if (ret)
			return ret;
	}
	if (dirty & HVX_STATE_REGS) {
		memcpy(&c.regs, &run->sync_regs, sizeof(c.regs));
		hvx_set_regs(vcpu, &c.regs);
		vcpu->complete = HVX_COMPLETE_NONE;
	}
	WRITE_ONCE(run->sync_dirty, 0);
	return 0;
}

/* The registers area, out: what sync_valid asks for, after every HVX_RUN. */
static void hvx_sync_out(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	u64 valid = READ_ONCE(run->sync_valid);

	if (valid & HVX_STATE_REGS)
		hvx_get_regs(vcpu, &run->sync_regs);
	if (valid & HVX_STATE_SREGS)
		hvx_ops->get_sregs(vcpu, &run->sync_sregs);
	if (valid & HVX_STATE_CREGS)
		hvx_state_get_cregs(vcpu, &run->sync_cregs);
}

static long hvx_vcpu_run_ioctl(struct hvx_vcpu *vcpu)
{
	long ret = hvx_sync_in(vcpu);

	if (ret)
		return ret;
	ret = hvx_vcpu_run(vcpu);
	hvx_sync_out(vcpu);
	return ret;
}

static long hvx_vcpu_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg)
{
	struct hvx_vcpu *vcpu = filp->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	if (current->mm != vcpu->vm->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	switch (ioctl) {
	case HVX_RUN:
		ret = arg ? -EINVAL : hvx_vcpu_run_ioctl(vcpu);
		break;
	case HVX_GET_STATE:
		ret = hvx_vcpu_get_state(vcpu, argp);
		break;
	case HVX_SET_STATE:
		ret = hvx_vcpu_set_state(vcpu, argp);
		break;
	case HVX_INJECT_EVENT:
		ret = hvx_vcpu_inject(vcpu, argp);
		break;
	case HVX_SET_CPUID:
		ret = hvx_vcpu_set_cpuid(vcpu, argp);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	mutex_unlock(&vcpu->mutex);
	return ret;
}

static vm_fault_t hvx_vcpu_fault(struct vm_fault *vmf)
{
	struct hvx_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff >= HVX_RUN_PAGES)
		return VM_FAULT_SIGBUS;
	vmf->page = virt_to_page(vcpu->run);
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct hvx_vcpu_vm_ops = {
	.fault = hvx_vcpu_fault,
};

static int hvx_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma_pages(vma) > HVX_RUN_PAGES)
		return -EINVAL;
	vma->vm_ops = &hvx_vcpu_vm_ops;
	return 0;
}

static void hvx_vcpu_free(struct hvx_vcpu *vcpu)
{
	hvx_ops->vcpu_free(vcpu);
	hvx_lapic_free(vcpu);
	if (vcpu->vm->paging == HVX_PAGING_SHADOW)
		hvx_shadow_destroy(&vcpu->shadow);
	fpu_free_guest_fpstate(&vcpu->gfpu);
	kfree(vcpu->cpuid);
	kfree(vcpu->raw_exits);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}

static int hvx_vcpu_release(struct inode *inode, struct file *filp)
{
	struct hvx_vcpu *vcpu = filp->private_data;
	struct hvx_vm *vm = vcpu->vm;

	mutex_lock(&vm->lock);
	spin_lock(&vm->vcpus_lock);
	vm->vcpus[vcpu->id] = NULL;
	vm->nr_vcpus--;
	spin_unlock(&vm->vcpus_lock);
	mutex_unlock(&vm->lock);
	hvx_vcpu_free(vcpu);
	hvx_vm_put(vm);
	return 0;
}

static const struct file_operations hvx_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= hvx_vcpu_release,
	.unlocked_ioctl	= hvx_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= hvx_vcpu_mmap,
	.llseek		= noop_llseek,
};

int hvx_vcpu_create(struct hvx_vm *vm, u32 id)
{
	struct hvx_vcpu *vcpu;
	int ret;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);
	vcpu->raw_exits = kcalloc(hvx_ops->nr_raw_exits, sizeof(u64), GFP_KERNEL_ACCOUNT);
	if (!vcpu->raw_exits) {
		ret = -ENOMEM;
		goto err_free_vcpu;
	}
	BUILD_BUG_ON(sizeof(struct hvx_run) > HVX_RUN_PAGES * PAGE_SIZE);
	vcpu->run = (struct hvx_run *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run) {
		ret = -ENOMEM;
		goto err_free_raw;
	}
	if (!fpu_alloc_guest_fpstate(&vcpu->gfpu)) {
		ret = -ENOMEM;
		goto err_free_run;
	}
	vcpu->xcr0 = XFEATURE_MASK_FP;
	vcpu->rflags = X86_EFLAGS_FIXED;
	vcpu->rip = 0xfff0;
	vcpu->regs[HVX_RDX] = 0x600;	/* reset value: family 6 */
	vcpu->tlb_gen = atomic_read(&vm->tlb_gen);
	/* Shadow paging's tables are the core's; the backend points the CPU at them. */
	if (vm->paging == HVX_PAGING_SHADOW) {
		ret = hvx_shadow_init(&vcpu->shadow);
		if (ret)
			goto err_free_fpu;
	}
	ret = hvx_lapic_create(vcpu);
	if (ret)
		goto err_free_shadow;
	ret = hvx_ops->vcpu_create(vcpu);
	if (ret)
		goto err_free_apic;

	mutex_lock(&vm->lock);
	if (vm->vcpus[id]) {
		mutex_unlock(&vm->lock);
		ret = -EEXIST;
		goto err_free_arch;
	}
	spin_lock(&vm->vcpus_lock);
	vm->vcpus[id] = vcpu;
	vm->nr_vcpus++;
	vm->vcpu_ids = max(vm->vcpu_ids, id + 1);
	spin_unlock(&vm->vcpus_lock);
	refcount_inc(&vm->users);
	mutex_unlock(&vm->lock);

	ret = anon_inode_getfd("hvx-vcpu", &hvx_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		mutex_lock(&vm->lock);
		spin_lock(&vm->vcpus_lock);
		vm->vcpus[id] = NULL;
		vm->nr_vcpus--;
		spin_unlock(&vm->vcpus_lock);
		mutex_unlock(&vm->lock);
		hvx_vcpu_free(vcpu);
		hvx_vm_put(vm);
	}
	return ret;

err_free_arch:
	hvx_ops->vcpu_free(vcpu);
err_free_apic:
	hvx_lapic_free(vcpu);
err_free_shadow:
	if (vm->paging == HVX_PAGING_SHADOW)
		hvx_shadow_destroy(&vcpu->shadow);
err_free_fpu:
	fpu_free_guest_fpstate(&vcpu->gfpu);
err_free_run:
	free_page((unsigned long)vcpu->run);
err_free_raw:
	kfree(vcpu->raw_exits);
err_free_vcpu:
	kfree(vcpu);
	return ret;
}

/*
 * Speculation barriers between a vCPU and what ran before it on this CPU,
 * as the host kernel's mitigation state asks (the barriers are patched to
 * nothing where it does not): a CPU that switches to another vCPU (of this
 * VM or another) gets an IBPB, so branch predictions one guest trained
 * cannot steer another (KVM does the same when it loads another VMCB or
 * VMCS).  vCPUs are told apart by VM and vCPU id, which are never reused,
 * so a freed vCPU's memory reused by a new one cannot hide a switch.
 * Preemption off.
 */
static DEFINE_PER_CPU(u64, hvx_last_vcpu);

void hvx_spec_enter(struct hvx_vcpu *vcpu)
{
	u64 key = (u64)vcpu->vm->id << 32 | vcpu->id;

	if (this_cpu_read(hvx_last_vcpu) != key) {
		this_cpu_write(hvx_last_vcpu, key);
		indirect_branch_prediction_barrier();
	}
}

/*
 * After a VM exit, interrupts off: the guest may have trained predictions
 * the host's userspace could follow (VMSCAPE); the kernel flushes them on
 * the next return to userspace where it was built to.
 */
void hvx_spec_exit(void)
{
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
#endif
}
