// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the in-kernel local APIC, one per vCPU of a VM created with
 * HVX_VM_LAPIC (SDM vol. 3A ch. 11, APM vol. 2 ch. 16): the xAPIC page
 * (MMIO, decoded here) and the x2APIC MSRs, TPR/PPR and CR8, EOI, the LVT,
 * the timer on an hrtimer (one-shot, periodic, TSC-deadline), IPIs in
 * every delivery mode and shorthand, INIT/SIPI, and HLT, which waits here
 * for an interrupt instead of returning to userspace.
 *
 * Who writes what: the owning vCPU thread everything but IRR, TMR and the
 * event bits, which other vCPUs' IPIs, HVX_SIGNAL_MSI and the timer set
 * with atomic bit operations before kicking the vCPU (hvx_vcpu_kick()).
 * The owner moves an interrupt from IRR to ISR right before the entry
 * that injects it, with interrupts off (hvx_lapic_accept()).
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/sched/signal.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>
/* smp_send_reschedule() traces the IPI from 6.6 on. */
#include <trace/events/ipi.h>

#include "hvx_core.h"
#include "hvx_x86.h"

#define REG(apic, off)		((apic)->regs[(off) >> 2])
#define APIC_SHORTHAND		0xc0000		/* ICR bits 19:18 */

/* Version 0x14 (integrated APIC), six LVT entries: timer to error, no CMCI. */
#define HVX_APIC_VERSION	(0x14 | (5 << 16))
/* The APIC timer counts at 1 GHz, KVM's choice (one tick per ns). */
#define HVX_APIC_BUS_NS		1
/* A periodic timer fires at most every 200 us, as KVM's does by default. */
#define HVX_APIC_MIN_PERIOD_NS	200000ULL

/* Writable bits of the LVT entries (SDM vol. 3A figure 11-8). */
#define LVT_TIMER_MASK		(0xff | APIC_LVT_MASKED | (3 << 17))
#define LVT_LINT_MASK		(0xff | 0x700 | 0x2000 | 0x8000 | APIC_LVT_MASKED)
#define LVT_THERMAL_MASK	(0xff | 0x700 | APIC_LVT_MASKED)
#define LVT_ERROR_MASK		(0xff | APIC_LVT_MASKED)
#define LVT_TIMER_MODE		(3 << 17)

static const u16 hvx_lvts[] = {
	APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR,
};

static bool apic_x2(const struct hvx_lapic *apic)
{
	return READ_ONCE(apic->base) & X2APIC_ENABLE;
}

static bool apic_hw_enabled(const struct hvx_lapic *apic)
{
	return READ_ONCE(apic->base) & MSR_IA32_APICBASE_ENABLE;
}

static bool apic_sw_enabled(const struct hvx_lapic *apic)
{
	return READ_ONCE(REG(apic, APIC_SPIV)) & APIC_SPIV_APIC_ENABLED;
}

static u32 apic_x2_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1U << (id & 0xf));
}

/* Kicks @vcpu out of guest mode, or wakes it, to look at what it was sent. */
void hvx_vcpu_kick(struct hvx_vcpu *vcpu)
{
	int cpu, me;

	set_bit(HVX_REQ_EVENT, &vcpu->requests);
	/* Pairs with the entry's store of in_guest before it reads requests. */
	smp_mb__after_atomic();
	if (READ_ONCE(vcpu->in_guest)) {
		cpu = READ_ONCE(vcpu->cpu);
		me = get_cpu();
		if (cpu != me && cpu >= 0)
			smp_send_reschedule(cpu);
		put_cpu();
	}
	wake_up_interruptible(&vcpu->wq);
}

/* Accepts @vec into @apic's IRR (TMR says the trigger), then kicks. */
static void apic_set_irr(struct hvx_lapic *apic, u8 vec, bool level)
{
	if (level)
		set_bit(vec, apic->tmr);
	else
		clear_bit(vec, apic->tmr);
	set_bit(vec, apic->irr);
	hvx_vcpu_kick(apic->vcpu);
}

static u32 apic_ppr(const struct hvx_lapic *apic, const unsigned long *isr)
{
	u32 tpr = REG(apic, APIC_TASKPRI) & 0xff;
	unsigned int isrv = find_last_bit(isr, 256);

	if (isrv >= 256)
		isrv = 0;
	return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : isrv & 0xf0;
}

/* The ISR as a bitmap, from its eight registers. */
static void apic_isr(const struct hvx_lapic *apic, unsigned long *isr)
{
	int i;

	for (i = 0; i < 4; i++)
		isr[i] = (unsigned long)REG(apic, APIC_ISR + 0x20 * i) |
			 (unsigned long)REG(apic, APIC_ISR + 0x20 * i + 0x10) << 32;
}

/* The highest interrupt in IRR above the processor priority, or -1. */
static int apic_deliverable(const struct hvx_lapic *apic)
{
	unsigned long isr[4];
	unsigned int vec;

	if (!apic_hw_enabled(apic) || !apic_sw_enabled(apic))
		return -1;
	vec = find_last_bit(apic->irr, 256);
	if (vec >= 256)
		return -1;
	apic_isr(apic, isr);
	return (vec & 0xf0) > (apic_ppr(apic, isr) & 0xf0) ? vec : -1;
}

static void apic_isr_set(struct hvx_lapic *apic, u8 vec, bool on)
{
	u32 *r = &REG(apic, APIC_ISR + 0x10 * (vec >> 5));

	if (on)
		*r |= BIT(vec & 31);
	else
		*r &= ~BIT(vec & 31);
}

/* An error the APIC detected: latched in ESR, signalled through LVT error. */
static void apic_error(struct hvx_lapic *apic, u32 bit)
{
	u32 lvt = REG(apic, APIC_LVTERR);

	apic->esr_pending |= bit;
	if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xff) >= 16)
		apic_set_irr(apic, lvt & 0xff, false);
}

/* Delivers an interrupt of @dm to one APIC that the destination matched. */
static void apic_deliver(struct hvx_lapic *apic, u32 dm, u8 vec, bool level, bool assert)
{
	switch (dm) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* A software-disabled APIC drops fixed interrupts (SDM §11.4.7.2). */
		if (apic_sw_enabled(apic))
			apic_set_irr(apic, vec, level);
		break;
	case APIC_DM_NMI:
		set_bit(HVX_APIC_EV_NMI, &apic->events);
		hvx_vcpu_kick(apic->vcpu);
		break;
	case APIC_DM_INIT:
		/* An INIT level de-assert does nothing on a modern CPU. */
		if (level && !assert)
			break;
		set_bit(HVX_APIC_EV_INIT, &apic->events);
		hvx_vcpu_kick(apic->vcpu);
		break;
	case APIC_DM_STARTUP:
		/* A SIPI while one is pending is lost, as one to a running CPU. */
		if (!cmpxchg(&apic->sipi, 0, HVX_APIC_SIPI_VALID | vec))
			hvx_vcpu_kick(apic->vcpu);
		break;
	default:
		/* SMI is not emulated; ExtINT is not sent by IPI or MSI. */
		break;
	}
}

/*
 * Whether @apic is a destination @dest (physical, or logical flat or
 * cluster model) of a message in x2APIC format (@x2: 32-bit IDs) or xAPIC
 * format (8-bit), as SDM vol. 3A §11.6.2 and §11.12.10 define it.
 */
static bool apic_match(const struct hvx_lapic *apic, u32 dest, bool logical, bool x2)
{
	u32 ldr, id;

	if (dest == (x2 ? 0xffffffffU : 0xffU))
		return true;
	if (apic_x2(apic)) {
		id = READ_ONCE(REG(apic, APIC_ID));
		if (!logical)
			return dest == id;
		ldr = READ_ONCE(REG(apic, APIC_LDR));
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	if (!logical)
		return dest == READ_ONCE(REG(apic, APIC_ID)) >> 24;
	ldr = READ_ONCE(REG(apic, APIC_LDR)) >> 24;
	dest &= 0xff;
	if ((READ_ONCE(REG(apic, APIC_DFR)) >> 28) == 0xf)	/* flat */
		return ldr & dest;
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);	/* cluster */
}

/*
 * Sends one message to every APIC of @vm it reaches: those the shorthand
 * names (@self is the sender's, NULL for an MSI) or, without one, those
 * matching @dest.  Lowest priority goes to one of them, the one with the
 * lowest TPR.  Returns how many took it.
 */
static int apic_send(struct hvx_vm *vm, struct hvx_lapic *self, u32 shorthand, u32 dest,
		     bool logical, bool x2, u32 dm, u8 vec, bool level, bool assert)
{
	struct hvx_lapic *lowest = NULL;
	int i, n = 0;

	if (shorthand == APIC_DEST_SELF) {
		apic_deliver(self, dm, vec, level, assert);
		return 1;
	}
	spin_lock(&vm->vcpus_lock);
	for (i = 0; i < vm->vcpu_ids; i++) {
		struct hvx_vcpu *v = vm->vcpus[i];
		struct hvx_lapic *a = v ? v->apic : NULL;

		if (!a || !apic_hw_enabled(a))
			continue;
		if (shorthand == APIC_DEST_ALLBUT && a == self)
			continue;
		if (!shorthand && !apic_match(a, dest, logical, x2))
			continue;
		if (dm == APIC_DM_LOWEST) {
			if (!lowest || (READ_ONCE(REG(a, APIC_TASKPRI)) & 0xff) <
				       (READ_ONCE(REG(lowest, APIC_TASKPRI)) & 0xff))
				lowest = a;
			continue;
		}
		apic_deliver(a, dm, vec, level, assert);
		n++;
	}
	if (lowest) {
		apic_deliver(lowest, dm, vec, level, assert);
		n++;
	}
	spin_unlock(&vm->vcpus_lock);
	return n;
}

/* A write of ICR's low half: send the IPI it describes, to @dest. */
static void apic_send_ipi(struct hvx_lapic *apic, u32 icr, u32 dest)
{
	u32 dm = icr & APIC_DM_EXTINT, vec = icr & 0xff;

	if ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && vec < 16) {
		apic_error(apic, APIC_ESR_SENDILL);
		return;
	}
	/* INIT and SIPI to oneself, or with the self shorthand, are ignored. */
	if ((icr & APIC_SHORTHAND) == APIC_DEST_SELF &&
	    (dm == APIC_DM_INIT || dm == APIC_DM_STARTUP || dm == APIC_DM_LOWEST))
		return;
	apic_send(apic->vcpu->vm, apic, icr & APIC_SHORTHAND, dest, icr & APIC_DEST_LOGICAL,
		  apic_x2(apic), dm, vec, icr & APIC_INT_LEVELTRIG, icr & APIC_INT_ASSERT);
}

/* An interrupt message from the I/O APIC: how many APICs took it. */
int hvx_lapic_send(struct hvx_vm *vm, u32 dest, bool logical, u32 dm, u8 vec, bool level)
{
	return apic_send(vm, NULL, 0, dest, logical, false, dm, vec, level, true);
}

int hvx_signal_msi(struct hvx_vm *vm, const struct hvx_msi *msi)
{
	u32 dm = msi->data & APIC_DM_EXTINT, vec = msi->data & 0xff;
	u32 dest = ((msi->address >> 12) & 0xff) | ((msi->address >> 32) & 0xffffff00);

	if (msi->flags || memchr_inv(msi->reserved, 0, sizeof(msi->reserved)))
		return -EINVAL;
	if (!(vm->flags & HVX_VM_LAPIC))
		return -ENXIO;
	if (((u32)msi->address & 0xfff00000) != 0xfee00000 || (msi->address & 0xff00000000ULL) ||
	    (msi->data >> 16))
		return -EINVAL;
	if (dm == APIC_DM_SMI || dm == APIC_DM_EXTINT || dm == 0x300 ||
	    ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && vec < 16))
		return -EINVAL;
	return apic_send(vm, NULL, 0, dest, msi->address & 4, msi->address >> 40, dm, vec,
			 msi->data & APIC_INT_LEVELTRIG, true);
}

/* ---- the timer ---------------------------------------------------------- */

static u32 apic_divide(const struct hvx_lapic *apic)
{
	u32 v = REG(apic, APIC_TDCR);

	v = ((v & 3) | ((v & 8) >> 1)) + 1;
	return 1U << (v & 7);
}

static u32 apic_timer_mode(const struct hvx_lapic *apic)
{
	return READ_ONCE(REG(apic, APIC_LVTT)) & LVT_TIMER_MODE;
}

/* The count or the deadline ran out: interrupt through LVT timer. */
static u32 apic_timer_expired(struct hvx_lapic *apic)
{
	u32 lvt = READ_ONCE(REG(apic, APIC_LVTT));

	if (!(lvt & APIC_LVT_MASKED)) {
		if ((lvt & 0xff) < 16) {
			set_bit(HVX_APIC_EV_ILLEGAL, &apic->events);
			hvx_vcpu_kick(apic->vcpu);
		} else {
			apic_set_irr(apic, lvt & 0xff, false);
		}
	}
	if ((lvt & LVT_TIMER_MODE) == APIC_LVT_TIMER_TSCDEADLINE)
		WRITE_ONCE(apic->tsc_deadline, 0);
	return lvt;
}

/* The hrtimer, in hard-IRQ context; a periodic timer goes on. */
static enum hrtimer_restart apic_timer_fn(struct hrtimer *t)
{
	struct hvx_lapic *apic = container_of(t, struct hvx_lapic, timer);
	u32 lvt = apic_timer_expired(apic);

	if (apic->period_ns && (lvt & LVT_TIMER_MODE) == APIC_LVT_TIMER_PERIODIC) {
		hrtimer_forward_now(t, ns_to_ktime(apic->period_ns));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

static void apic_timer_stop(struct hvx_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
	apic->period_ns = 0;
}

/* Starts counting @count ticks down from now (one-shot and periodic modes). */
static void apic_timer_count(struct hvx_lapic *apic, u32 count)
{
	u64 ns = (u64)count * apic_divide(apic) * HVX_APIC_BUS_NS;

	apic_timer_stop(apic);
	if (!count)
		return;
	if (apic_timer_mode(apic) == APIC_LVT_TIMER_PERIODIC) {
		apic->period_ns = max_t(u64, (u64)REG(apic, APIC_TMICT) * apic_divide(apic) *
					HVX_APIC_BUS_NS, HVX_APIC_MIN_PERIOD_NS);
		ns = max(ns, HVX_APIC_MIN_PERIOD_NS);
	}
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns), HRTIMER_MODE_ABS_HARD);
}

/* Arms the TSC-deadline timer for the guest's TSC value @deadline (0 disarms). */
static void apic_timer_deadline(struct hvx_lapic *apic, u64 deadline)
{
	struct hvx_vcpu *vcpu = apic->vcpu;
	u64 tsc = 0, ns = 0;

	apic_timer_stop(apic);
	apic->tsc_deadline = deadline;
	if (!deadline || apic_timer_mode(apic) != APIC_LVT_TIMER_TSCDEADLINE)
		return;
	hvx_ops->get_msr(vcpu, MSR_IA32_TSC, &tsc);
	/* Already due: the interrupt now, without an hrtimer (KVM does the same). */
	if (deadline <= tsc || !tsc_khz) {
		apic_timer_expired(apic);
		return;
	}
	ns = mul_u64_u32_div(min(deadline - tsc, 1ULL << 50), 1000000, tsc_khz);
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns), HRTIMER_MODE_ABS_HARD);
}

/* The current-count register: what is left of the count, 0 once it ran out. */
static u32 apic_timer_current(struct hvx_lapic *apic)
{
	s64 left;

	if (apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE || !hrtimer_active(&apic->timer))
		return 0;
	left = ktime_to_ns(hrtimer_get_remaining(&apic->timer));
	if (left <= 0)
		return 0;
	return min_t(u64, div_u64(left, apic_divide(apic) * HVX_APIC_BUS_NS),
		     REG(apic, APIC_TMICT));
}

/* ---- registers ---------------------------------------------------------- */

/* The state after reset or INIT; the ID and IA32_APIC_BASE stay. */
static void apic_reset(struct hvx_lapic *apic)
{
	u32 id = apic->vcpu->id;
	int i;

	apic_timer_stop(apic);
	memset(apic->regs, 0, sizeof(apic->regs));
	bitmap_zero(apic->irr, 256);
	bitmap_zero(apic->tmr, 256);
	apic->esr_pending = 0;
	apic->tsc_deadline = 0;
	REG(apic, APIC_ID) = apic_x2(apic) ? id : id << 24;
	REG(apic, APIC_LVR) = HVX_APIC_VERSION;
	REG(apic, APIC_DFR) = 0xffffffff;
	REG(apic, APIC_SPIV) = 0xff;
	if (apic_x2(apic))
		REG(apic, APIC_LDR) = apic_x2_ldr(id);
	for (i = 0; i < ARRAY_SIZE(hvx_lvts); i++)
		REG(apic, hvx_lvts[i]) = APIC_LVT_MASKED;
	/*
	 * The BSP's LINT0 in ExtINT mode, unmasked: the virtual-wire mode a
	 * PC's firmware leaves, so that the PIC reaches the BSP until its
	 * OS masks LINT0 (KVM and QEMU reset it so too).
	 */
	if (apic->base & MSR_IA32_APICBASE_BSP)
		REG(apic, APIC_LVT0) = APIC_DM_EXTINT;
}

static bool apic_is_lvt(u32 off)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hvx_lvts); i++)
		if (hvx_lvts[i] == off)
			return true;
	return false;
}

static u32 apic_lvt_mask(u32 off)
{
	switch (off) {
	case APIC_LVTT:
		return LVT_TIMER_MASK;
	case APIC_LVT0:
	case APIC_LVT1:
		return LVT_LINT_MASK;
	case APIC_LVTERR:
		return LVT_ERROR_MASK;
	default:
		return LVT_THERMAL_MASK;
	}
}

/* A register that exists, in the mode the APIC is in (SDM table 11-1, 11-6). */
static bool apic_readable(const struct hvx_lapic *apic, u32 off)
{
	bool x2 = apic_x2(apic);

	if (off >= APIC_ISR && off < APIC_ESR)
		return true;
	if (apic_is_lvt(off))
		return true;
	switch (off) {
	case APIC_ID: case APIC_LVR: case APIC_TASKPRI: case APIC_PROCPRI:
	case APIC_LDR: case APIC_SPIV: case APIC_ESR: case APIC_ICR:
	case APIC_TMICT: case APIC_TMCCT: case APIC_TDCR:
		return true;
	case APIC_ARBPRI: case APIC_DFR: case APIC_ICR2: case APIC_EOI:
		return !x2;	/* EOI reads 0 in xAPIC mode; x2APIC: write-only */
	default:
		return false;
	}
}

static u32 apic_read(struct hvx_lapic *apic, u32 off)
{
	unsigned long isr[4];

	switch (off) {
	case APIC_PROCPRI:
		apic_isr(apic, isr);
		return apic_ppr(apic, isr);
	case APIC_TMCCT:
		return apic_timer_current(apic);
	case APIC_ARBPRI:
	case APIC_EOI:
		return 0;
	}
	if (off >= APIC_TMR && off < APIC_ESR) {
		const unsigned long *b = off >= APIC_IRR ? apic->irr : apic->tmr;
		unsigned int w = ((off - (off >= APIC_IRR ? APIC_IRR : APIC_TMR)) >> 4);

		return b[w / 2] >> (32 * (w & 1));
	}
	return REG(apic, off);
}

static void apic_eoi(struct hvx_lapic *apic)
{
	unsigned long isr[4];
	unsigned int vec;

	apic_isr(apic, isr);
	vec = find_last_bit(isr, 256);
	if (vec >= 256)
		return;
	apic_isr_set(apic, vec, false);
	/* Unmasks what waited below it. */
	set_bit(HVX_REQ_EVENT, &apic->vcpu->requests);
	/* A level-triggered interrupt's source leaves service. */
	if (test_bit(vec, apic->tmr))
		hvx_ioapic_eoi(apic->vcpu->vm, vec);
}

static void apic_set_lvtt(struct hvx_lapic *apic, u32 val)
{
	u32 old = REG(apic, APIC_LVTT);

	WRITE_ONCE(REG(apic, APIC_LVTT), val);
	/* A new mode stops the timer (SDM §11.5.4.1): counts and deadline start over. */
	if ((old ^ val) & LVT_TIMER_MODE) {
		apic_timer_stop(apic);
		REG(apic, APIC_TMICT) = 0;
		apic->tsc_deadline = 0;
	}
}

/*
 * A register write in either mode, reserved bits already checked (x2APIC)
 * or dropped here (xAPIC).  Returns -EINVAL for a register that cannot be
 * written: #GP in x2APIC mode, an illegal-register error in xAPIC mode.
 */
static int apic_write(struct hvx_lapic *apic, u32 off, u32 val)
{
	bool x2 = apic_x2(apic);
	int i;

	switch (off) {
	case APIC_ID:
		if (x2)
			return -EINVAL;
		WRITE_ONCE(REG(apic, APIC_ID), val & 0xff000000);
		break;
	case APIC_TASKPRI:
		WRITE_ONCE(REG(apic, APIC_TASKPRI), val & 0xff);
		set_bit(HVX_REQ_EVENT, &apic->vcpu->requests);
		break;
	case APIC_EOI:
		apic_eoi(apic);
		break;
	case APIC_LDR:
		if (x2)
			return -EINVAL;
		WRITE_ONCE(REG(apic, APIC_LDR), val & 0xff000000);
		break;
	case APIC_DFR:
		if (x2)
			return -EINVAL;
		WRITE_ONCE(REG(apic, APIC_DFR), val | 0x0fffffff);
		break;
	case APIC_SPIV:
		WRITE_ONCE(REG(apic, APIC_SPIV), val & 0x3ff);
		/* Software-disabled: every LVT entry masked (SDM §11.4.7.2). */
		if (!(val & APIC_SPIV_APIC_ENABLED))
			for (i = 0; i < ARRAY_SIZE(hvx_lvts); i++)
				WRITE_ONCE(REG(apic, hvx_lvts[i]),
					   REG(apic, hvx_lvts[i]) | APIC_LVT_MASKED);
		set_bit(HVX_REQ_EVENT, &apic->vcpu->requests);
		break;
	case APIC_ESR:
		/* A write latches the errors since the last one (SDM §11.5.3). */
		REG(apic, APIC_ESR) = apic->esr_pending;
		apic->esr_pending = 0;
		break;
	case APIC_ICR:
		REG(apic, APIC_ICR) = val & ~(u32)APIC_ICR_BUSY;
		apic_send_ipi(apic, val, x2 ? REG(apic, APIC_ICR2) : REG(apic, APIC_ICR2) >> 24);
		break;
	case APIC_ICR2:
		if (x2)
			return -EINVAL;
		REG(apic, APIC_ICR2) = val & 0xff000000;
		break;
	case APIC_TMICT:
		if (apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
			break;
		REG(apic, APIC_TMICT) = val;
		apic_timer_count(apic, val);
		break;
	case APIC_TDCR:
		REG(apic, APIC_TDCR) = val & 0xb;
		break;
	case APIC_SELF_IPI:
		if (!x2)
			return -EINVAL;
		if ((val & 0xff) < 16)
			apic_error(apic, APIC_ESR_SENDILL);
		else
			apic_set_irr(apic, val & 0xff, false);
		break;
	default:
		if (!apic_is_lvt(off))
			return apic_readable(apic, off) && !x2 ? 0 : -EINVAL;
		val &= apic_lvt_mask(off);
		if (!apic_sw_enabled(apic))
			val |= APIC_LVT_MASKED;
		if (off == APIC_LVTT)
			apic_set_lvtt(apic, val);
		else
			WRITE_ONCE(REG(apic, off), val);
		break;
	}
	return 0;
}

/* Bits an x2APIC register write must leave clear, or #GP (SDM §11.12.1.2). */
static u64 apic_x2_reserved(u32 off)
{
	switch (off) {
	case APIC_TASKPRI:
		return ~0xffULL;
	case APIC_SPIV:
		return ~0x3ffULL;
	case APIC_EOI:
	case APIC_ESR:
		return ~0ULL;
	case APIC_ICR:
		/* Delivery status, bits 13, 16-17 and 20-31. */
		return 0xfff32000ULL | APIC_ICR_BUSY;
	case APIC_TDCR:
		return ~0xbULL;
	case APIC_SELF_IPI:
		return ~0xffULL;
	case APIC_TMICT:
		return ~0xffffffffULL;
	default:
		return apic_is_lvt(off) ? ~(u64)apic_lvt_mask(off) : 0;
	}
}

/* ---- IA32_APIC_BASE, the MSRs, CR8 --------------------------------------- */

#define APIC_BASE_VALID	(GENMASK_ULL(HVX_GPA_BITS - 1, 12) | MSR_IA32_APICBASE_ENABLE | \
			 X2APIC_ENABLE | MSR_IA32_APICBASE_BSP)

/*
 * IA32_APIC_BASE (SDM §11.12.5 figure 11-27): enable, x2APIC, relocation.
 * The guest may not go from x2APIC to xAPIC, nor from disabled to x2APIC,
 * nor set EXTD without EN, and cannot change BSP; userspace (@host) may
 * make any valid change.
 */
static int apic_set_base(struct hvx_lapic *apic, u64 val, bool host)
{
	u64 old = apic->base;
	u64 mode = val & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);
	u64 old_mode = old & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);
	u32 id = apic->vcpu->id;

	if (val & ~APIC_BASE_VALID || mode == X2APIC_ENABLE)
		return -EINVAL;
	if (!host) {
		if ((old_mode == (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE) &&
		     mode == MSR_IA32_APICBASE_ENABLE) ||
		    (!old_mode && mode == (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE)))
			return -EINVAL;
		val = (val & ~MSR_IA32_APICBASE_BSP) | (old & MSR_IA32_APICBASE_BSP);
	}
	WRITE_ONCE(apic->base, val);
	if (mode == (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE) && mode != old_mode) {
		/* x2APIC: the ID is the vCPU's, the logical ID derived from it. */
		WRITE_ONCE(REG(apic, APIC_ID), id);
		WRITE_ONCE(REG(apic, APIC_LDR), apic_x2_ldr(id));
	} else if (mode == MSR_IA32_APICBASE_ENABLE && old_mode != mode) {
		WRITE_ONCE(REG(apic, APIC_ID), id << 24);
		WRITE_ONCE(REG(apic, APIC_LDR), 0);
	}
	if (!mode)
		apic_timer_stop(apic);
	set_bit(HVX_REQ_EVENT, &apic->vcpu->requests);
	return 0;
}

int hvx_lapic_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct hvx_lapic *apic = vcpu->apic;
	u32 off = (index - APIC_BASE_MSR) << 4;

	if (!apic)
		return -ENOENT;
	switch (index) {
	case MSR_IA32_APICBASE:
		*data = apic->base;
		return 0;
	case MSR_IA32_TSC_DEADLINE:
		*data = apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE ?
			READ_ONCE(apic->tsc_deadline) : 0;
		return 0;
	}
	if (index < APIC_BASE_MSR || index > APIC_BASE_MSR + 0xff)
		return -ENOENT;
	if (!apic_x2(apic) || !apic_readable(apic, off))
		return -EINVAL;
	*data = apic_read(apic, off);
	if (off == APIC_ICR)
		*data |= (u64)REG(apic, APIC_ICR2) << 32;
	return 0;
}

int hvx_lapic_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct hvx_lapic *apic = vcpu->apic;
	u32 off = (index - APIC_BASE_MSR) << 4;

	if (!apic)
		return -ENOENT;
	switch (index) {
	case MSR_IA32_APICBASE:
		return apic_set_base(apic, data, host);
	case MSR_IA32_TSC_DEADLINE:
		if (apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
			apic_timer_deadline(apic, data);
		return 0;
	}
	if (index < APIC_BASE_MSR || index > APIC_BASE_MSR + 0xff)
		return -ENOENT;
	/* Userspace sets the registers through HVX_STATE_LAPIC, not one by one. */
	if (host || !apic_x2(apic))
		return -EINVAL;
	if (off == APIC_ICR) {
		if (data & apic_x2_reserved(APIC_ICR))
			return -EINVAL;
		REG(apic, APIC_ICR2) = data >> 32;
		return apic_write(apic, APIC_ICR, data);
	}
	if (data & apic_x2_reserved(off) || (data >> 32))
		return -EINVAL;
	return apic_write(apic, off, data);
}

u8 hvx_lapic_get_tpr(struct hvx_vcpu *vcpu)
{
	return REG(vcpu->apic, APIC_TASKPRI);
}

/*
 * The TPR written by the guest: MOV to CR8, emulated or through the
 * backend's TPR shadow (SVM's V_TPR, VMX's virtual-APIC page).  Lowering
 * it may unmask an interrupt in IRR: look again before the next entry.
 */
void hvx_lapic_set_tpr(struct hvx_vcpu *vcpu, u8 tpr)
{
	WRITE_ONCE(REG(vcpu->apic, APIC_TASKPRI), tpr);
	set_bit(HVX_REQ_EVENT, &vcpu->requests);
}

u8 hvx_lapic_get_cr8(struct hvx_vcpu *vcpu)
{
	return hvx_lapic_get_tpr(vcpu) >> 4;
}

/* MOV to CR8 writes TPR[7:4] and clears TPR[3:0] (SDM §10.8.6.1). */
void hvx_lapic_set_cr8(struct hvx_vcpu *vcpu, u8 cr8)
{
	hvx_lapic_set_tpr(vcpu, (cr8 & 0xf) << 4);
}

/*
 * Before an entry that lets the guest write its TPR without an exit: the
 * priority class of the highest interrupt in IRR that the TPR alone holds
 * back, or 0 if none.  A write of a lower class must exit (VMX's TPR
 * threshold, SVM's CR8 write intercept) so that the interrupt is
 * delivered before the next instruction; any other write needs no exit.
 * What ISR holds back is freed by EOI, which exits anyway.  An interrupt
 * that reaches IRR during the entry kicks the vCPU out.
 */
u8 hvx_lapic_tpr_threshold(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->apic;
	unsigned int vec = find_last_bit(apic->irr, 256);

	if (vec >= 256 || (vec >> 4) > (REG(apic, APIC_TASKPRI) >> 4))
		return 0;
	return vec >> 4;
}

/*
 * Whether the vCPU takes the PIC's interrupt (ExtINT through
 * HVX_INJECT_EVENT): always without an APIC or with it hardware-disabled,
 * else only while LINT0 is unmasked in ExtINT mode (SDM §11.5.1, KVM's
 * kvm_apic_accept_pic_intr()).  The vCPU's own thread asks, which is the
 * only one that writes the LVT.
 */
bool hvx_lapic_takes_extint(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->apic;

	if (!apic || !apic_hw_enabled(apic))
		return true;
	return (REG(apic, APIC_LVT0) & (APIC_LVT_MASKED | APIC_MODE_MASK)) == APIC_DM_EXTINT;
}

/*
 * The TSC's ratio to the 1 GHz crystal as @num / @den, with @num at most
 * 4294: Linux computes crystal kHz * EBX in 32 bits (native_calibrate_tsc()),
 * which 1,000,000 * EBX overflows above that.  The best such fraction is
 * the last convergent of the continued fraction of tsc_khz / 1,000,000
 * whose numerator fits (within 0.05 % for a TSC of 1 GHz or more).  0 / 0
 * if none does.
 */
#define APIC_CRYSTAL_KHZ	(USEC_PER_SEC / HVX_APIC_BUS_NS)
#define APIC_TSC_NUM_MAX	(U32_MAX / APIC_CRYSTAL_KHZ)

static void apic_tsc_ratio(u32 khz, u32 *num, u32 *den)
{
	u64 p = khz, q = APIC_CRYSTAL_KHZ, h0 = 0, h1 = 1, k0 = 1, k1 = 0, a, h2, k2, t;

	while (q) {
		a = p / q;
		h2 = a * h1 + h0;
		k2 = a * k1 + k0;
		if (h2 > APIC_TSC_NUM_MAX || k2 > U32_MAX)
			break;
		h0 = h1;
		h1 = h2;
		k0 = k1;
		k1 = k2;
		t = p % q;
		p = q;
		q = t;
	}
	*num = k1 && h1 ? h1 : 0;
	*den = k1 && h1 ? k1 : 0;
}

/*
 * What CPUID says of the APIC: present while enabled, its initial ID, the
 * x2APIC ID in leaves 0xb and 0x1f, x2APIC and the TSC-deadline timer;
 * and the frequencies a guest would otherwise calibrate against the PIT:
 * leaf 0x15 (SDM vol. 2 CPUID: the APIC timer's 1 GHz as the core crystal
 * clock, and the TSC's ratio to it, which Linux reads on Intel CPUs) and
 * the hypervisor timing leaf 0x40000010 (EAX: TSC kHz, EBX: APIC bus kHz,
 * as VMware, ACRN and others define it), which the launcher offers
 * through its 0x40000000 leaf.
 */
void hvx_lapic_cpuid(struct hvx_vcpu *vcpu, u32 fn, u32 idx, u32 *r)
{
	struct hvx_lapic *apic = vcpu->apic;

	if (fn == 1) {
		r[1] = (r[1] & 0x00ffffff) | (vcpu->id << 24);
		r[2] |= BIT(21) | BIT(24);
		if (apic_hw_enabled(apic))
			r[3] |= BIT(9);
		else
			r[3] &= ~BIT(9);
	} else if (fn == 0xb || fn == 0x1f) {
		r[3] = vcpu->id;
	} else if (fn == 0x15) {
		apic_tsc_ratio(tsc_khz, &r[1], &r[0]);	/* TSC / crystal = r[1] / r[0] */
		r[2] = r[0] ? NSEC_PER_SEC / HVX_APIC_BUS_NS : 0;	/* crystal Hz */
		r[3] = 0;
	} else if (fn == 0x40000010) {
		r[0] = tsc_khz;
		r[1] = USEC_PER_SEC / HVX_APIC_BUS_NS;	/* APIC bus kHz */
		r[2] = 0;
		r[3] = 0;
	}
}

/* ---- xAPIC MMIO ----------------------------------------------------------- */

/* The register a MOV loads gets @val, at its operand size. */
static void hvx_apic_load(struct hvx_vcpu *vcpu, const struct hvx_insn *in, u32 val)
{
	if (in->size == 2)
		vcpu->regs[in->reg] = (vcpu->regs[in->reg] & ~0xffffULL) | (u16)val;
	else
		vcpu->regs[in->reg] = val;
}

bool hvx_lapic_mmio_hit(struct hvx_vcpu *vcpu, u64 gpa)
{
	struct hvx_lapic *apic = vcpu->apic;

	return apic && apic_hw_enabled(apic) && !apic_x2(apic) &&
	       (gpa & PAGE_MASK) == (apic->base & GENMASK_ULL(HVX_GPA_BITS - 1, 12));
}

/*
 * An access to the xAPIC page, or to the I/O APIC's (@ioapic): the MOV is
 * decoded here, and must be the access that exited (its operand at @gpa,
 * in the direction the CPU reported).  Registers are 32 bits wide at 16-byte offsets (SDM
 * §11.4.1 leaves other accesses undefined): a 16- or 64-bit read of one
 * gets its low half or its value, other offsets read 0, and only 32-bit
 * writes of a register count.
 */
int hvx_apic_mmio(struct hvx_vcpu *vcpu, u64 gpa, bool is_write, bool ioapic)
{
	struct hvx_lapic *apic = vcpu->apic;
	u32 off = gpa & 0xfff, access = is_write ? HVX_PF_W : 0;
	struct hvx_fault f;
	struct hvx_insn in;
	u64 gva, op_gpa, val;
	bool load;
	int ret;

	ret = hvx_decode_mov(vcpu, &in, &f);
	if (ret == 0) {
		ret = hvx_linearize(vcpu, in.seg, in.ea, in.size, access, &gva, &f);
		if (ret == 0)
			ret = hvx_gva_to_gpa(vcpu, gva, access, &op_gpa, &f);
	}
	if (ret > 0) {
		hvx_inject_fault(vcpu, &f);
		return 1;
	}
	load = in.op == 0x8b;
	if (ret || op_gpa != gpa || is_write == load)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_APIC_ACCESS, gpa,
					 hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->rip));
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_APIC);
	if (ioapic) {
		val = in.op == 0xc7 ? in.imm : vcpu->regs[in.reg];
		if (is_write && in.size == 4 && !(off & 0xf))
			hvx_ioapic_write(vcpu->vm, off, val);
		else if (!is_write)
			hvx_apic_load(vcpu, &in, (off & 0xf) ? 0 : hvx_ioapic_read(vcpu->vm, off));
	} else if (is_write) {
		val = in.op == 0xc7 ? in.imm : vcpu->regs[in.reg];
		if (in.size == 4 && !(off & 0xf) && apic_write(apic, off, val))
			apic_error(apic, APIC_ESR_ILLREGA);
	} else {
		val = 0;
		if (!(off & 0xf)) {
			if (apic_readable(apic, off))
				val = apic_read(apic, off);
			else
				apic_error(apic, APIC_ESR_ILLREGA);
		}
		hvx_apic_load(vcpu, &in, val);
	}
	vcpu->rip += in.len;
	return 1;
}

/* ---- delivery to the guest, HLT, INIT and SIPI ---------------------------- */

/*
 * Right before an entry, interrupts off, when another thread left
 * HVX_REQ_EVENT or a register write may have unmasked something: an NMI
 * the APIC received is queued, and the highest deliverable interrupt
 * moves from IRR to ISR into the event queue if the guest can take it
 * now; if it cannot, *@irq_window asks for an exit when it can.
 */
void hvx_lapic_accept(struct hvx_vcpu *vcpu, bool *irq_window)
{
	struct hvx_lapic *apic = vcpu->apic;
	struct hvx_pending *p = &vcpu->ev;
	int vec;

	clear_bit(HVX_REQ_EVENT, &vcpu->requests);
	/* A sender's IRR bit set after this is seen, or sets the request again. */
	smp_mb__after_atomic();
	if (!apic)
		return;
	if (test_and_clear_bit(HVX_APIC_EV_NMI, &apic->events))
		p->nmi = true;
	if (test_and_clear_bit(HVX_APIC_EV_ILLEGAL, &apic->events))
		apic_error(apic, APIC_ESR_RECVILL);
	vec = apic_deliverable(apic);
	if (vec < 0)
		return;
	if (p->irq || p->exception || !hvx_ops->interruptible(vcpu) ||
	    (hvx_ops->get_injection(vcpu, NULL) & HVX_EV_VALID)) {
		set_bit(HVX_REQ_EVENT, &vcpu->requests);
		*irq_window = true;
		return;
	}
	clear_bit(vec, apic->irr);
	apic_isr_set(apic, vec, true);
	p->irq = true;
	p->irq_vector = vec;
}

/*
 * INIT (SDM §9.4, §11.6.1): the CPU state at INIT; the APIC reset but for
 * its ID and base.  The BSP starts again at the reset vector, an AP waits
 * for a SIPI, which starts it in real mode at CS = vector << 8, IP 0.
 */
static void hvx_vcpu_init_state(struct hvx_vcpu *vcpu, u16 cs_sel, u64 rip)
{
	struct hvx_segment data = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 };
	struct hvx_cregs c = { .cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET,
			       .xcr0 = XFEATURE_MASK_FP };
	struct hvx_dregs d = { .dr6 = 0xffff0ff0, .dr7 = HVX_DR7_FIXED };
	struct hvx_events e = {};
	struct hvx_sregs s = {};

	s.cs = data;
	s.cs.type = 0xb;
	s.cs.selector = cs_sel;
	s.cs.base = cs_sel == 0xf000 ? 0xffff0000 : (u64)cs_sel << 4;
	s.ds = data;
	s.es = data;
	s.fs = data;
	s.gs = data;
	s.ss = data;
	s.tr = (struct hvx_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s.ldt = (struct hvx_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	s.gdt.limit = 0xffff;
	s.idt.limit = 0xffff;
	hvx_ops->set_sregs(vcpu, &s);
	hvx_ops->set_cregs(vcpu, &c);
	hvx_ops->set_dregs(vcpu, &d);
	memset(&vcpu->ev, 0, sizeof(vcpu->ev));
	hvx_ops->set_events(vcpu, &e);
	hvx_ops->set_injection(vcpu, 0, 0);
	memset(vcpu->regs, 0, sizeof(vcpu->regs));
	vcpu->regs[HVX_RDX] = 0x600;
	vcpu->rip = rip;
	vcpu->rflags = X86_EFLAGS_FIXED;
	vcpu->complete = HVX_COMPLETE_NONE;
}

static void apic_init_sipi(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->apic;
	u32 sipi;

	/* Every entry comes here: plain reads first, atomics only when there is work. */
	if (!test_bit(HVX_APIC_EV_INIT, &apic->events) && !READ_ONCE(apic->sipi))
		return;
	if (test_and_clear_bit(HVX_APIC_EV_INIT, &apic->events)) {
		hvx_vcpu_init_state(vcpu, 0xf000, 0xfff0);
		apic_reset(apic);
		apic->mp_state = apic->base & MSR_IA32_APICBASE_BSP ? HVX_MP_RUNNABLE :
				 HVX_MP_WAIT_SIPI;
	}
	sipi = xchg(&apic->sipi, 0);
	if (sipi && apic->mp_state == HVX_MP_WAIT_SIPI) {
		hvx_vcpu_init_state(vcpu, (sipi & 0xff) << 8, 0);
		apic->mp_state = HVX_MP_RUNNABLE;
	}
}

/* A halted vCPU resumes for an NMI, or an interrupt it takes (RFLAGS.IF). */
static bool apic_wakes(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->apic;

	if (test_bit(HVX_APIC_EV_INIT, &apic->events) || READ_ONCE(apic->sipi) ||
	    test_bit(HVX_APIC_EV_ILLEGAL, &apic->events))
		return true;
	if (apic->mp_state != HVX_MP_HALTED)
		return false;
	if (test_bit(HVX_APIC_EV_NMI, &apic->events) || vcpu->ev.nmi)
		return true;
	return (vcpu->rflags & X86_EFLAGS_IF) && (vcpu->ev.irq || apic_deliverable(apic) >= 0);
}

/*
 * Before each entry of a vCPU with an APIC: INIT and SIPI, and the wait of
 * a halted vCPU or an AP waiting for its SIPI.  Returns 1 to enter, or
 * -EINTR with the run page saying so when a signal ends the wait.
 */
int hvx_lapic_block(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->apic;
	u64 t0;

	apic_init_sipi(vcpu);
	while (apic->mp_state != HVX_MP_RUNNABLE) {
		/* The timer's illegal vector raises the error interrupt that may wake it. */
		if (test_and_clear_bit(HVX_APIC_EV_ILLEGAL, &apic->events))
			apic_error(apic, APIC_ESR_RECVILL);
		if (apic_wakes(vcpu)) {
			if (apic->mp_state == HVX_MP_HALTED)
				apic->mp_state = HVX_MP_RUNNABLE;
			apic_init_sipi(vcpu);
			continue;
		}
		t0 = ktime_get_ns();
		if (wait_event_interruptible(vcpu->wq, apic_wakes(vcpu))) {
			vcpu->run->exit_reason = HVX_EXIT_INTR;
			hvx_stat_inc(vcpu, HVX_STAT_EXIT_SIGNAL);
			return -EINTR;
		}
		hvx_stat_add(vcpu, HVX_STAT_HALT_NS, ktime_get_ns() - t0);
	}
	return 1;
}

/*
 * HLT: with an APIC in the kernel the vCPU waits here (hvx_lapic_block()).
 * With interrupts off only an NMI, INIT or SIPI can wake it, which is how
 * a guest stops for good (Linux's halt and power-off without ACPI): that
 * HLT also exits to userspace once, so that a launcher can tell, and the
 * vCPU stays halted for the next HVX_RUN.
 */
int hvx_exit_hlt(struct hvx_vcpu *vcpu)
{
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_HLT);
	if (vcpu->apic) {
		vcpu->apic->mp_state = HVX_MP_HALTED;
		if (vcpu->rflags & X86_EFLAGS_IF)
			return 1;
	}
	vcpu->run->exit_reason = HVX_EXIT_HLT;
	return 0;
}

/* ---- GET/SET_STATE -------------------------------------------------------- */

int hvx_lapic_get_state(struct hvx_vcpu *vcpu, struct hvx_lapic_state *s)
{
	struct hvx_lapic *apic = vcpu->apic;
	u32 off;

	if (!apic)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->apic_base = apic->base;
	s->tsc_deadline = apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE ?
			  READ_ONCE(apic->tsc_deadline) : 0;
	s->mp_state = apic->mp_state;
	memcpy(s->regs, apic->regs, sizeof(s->regs));
	for (off = APIC_TMR; off < APIC_ESR; off += 0x10)
		s->regs[off >> 2] = apic_read(apic, off);
	s->regs[APIC_PROCPRI >> 2] = apic_read(apic, APIC_PROCPRI);
	s->regs[APIC_TMCCT >> 2] = apic_timer_current(apic);
	return 0;
}

/*
 * What SET_STATE refuses, before anything changes: flags or reserved
 * fields set, an unknown MP state, a bad IA32_APIC_BASE, an x2APIC ID
 * other than the vCPU's.
 */
int hvx_lapic_check_state(struct hvx_vcpu *vcpu, const struct hvx_lapic_state *s)
{
	u64 mode = s->apic_base & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);

	if (s->flags || memchr_inv(s->reserved, 0, sizeof(s->reserved)) ||
	    s->mp_state > HVX_MP_WAIT_SIPI || s->apic_base & ~APIC_BASE_VALID ||
	    mode == X2APIC_ENABLE)
		return -EINVAL;
	if ((s->apic_base & X2APIC_ENABLE) && s->regs[APIC_ID >> 2] != vcpu->id)
		return -EINVAL;
	return 0;
}

/*
 * Takes a whole APIC state that hvx_lapic_check_state() passed.  Read-only
 * and derived registers are recomputed, reserved bits dropped; the timer
 * restarts from the current count (or the TSC deadline).
 */
void hvx_lapic_set_state(struct hvx_vcpu *vcpu, const struct hvx_lapic_state *s)
{
	struct hvx_lapic *apic = vcpu->apic;
	const u32 *r = s->regs;
	u32 off, cur;
	int i;

	apic_timer_stop(apic);
	WRITE_ONCE(apic->base, s->apic_base);
	apic->mp_state = s->mp_state;
	apic->esr_pending = 0;
	REG(apic, APIC_ID) = apic_x2(apic) ? vcpu->id : r[APIC_ID >> 2] & 0xff000000;
	REG(apic, APIC_LVR) = HVX_APIC_VERSION;
	REG(apic, APIC_TASKPRI) = r[APIC_TASKPRI >> 2] & 0xff;
	REG(apic, APIC_LDR) = apic_x2(apic) ? apic_x2_ldr(vcpu->id) :
			      r[APIC_LDR >> 2] & 0xff000000;
	REG(apic, APIC_DFR) = r[APIC_DFR >> 2] | 0x0fffffff;
	REG(apic, APIC_SPIV) = r[APIC_SPIV >> 2] & 0x3ff;
	REG(apic, APIC_ESR) = r[APIC_ESR >> 2] & 0xef;
	REG(apic, APIC_ICR) = r[APIC_ICR >> 2] & ~(u32)APIC_ICR_BUSY;
	REG(apic, APIC_ICR2) = r[APIC_ICR2 >> 2];
	for (i = 0; i < ARRAY_SIZE(hvx_lvts); i++)
		REG(apic, hvx_lvts[i]) = r[hvx_lvts[i] >> 2] & apic_lvt_mask(hvx_lvts[i]);
	REG(apic, APIC_TMICT) = r[APIC_TMICT >> 2];
	REG(apic, APIC_TDCR) = r[APIC_TDCR >> 2] & 0xb;
	for (off = APIC_ISR; off < APIC_TMR; off += 0x10)
		REG(apic, off) = r[off >> 2];
	for (i = 0; i < 8; i++) {
		unsigned long irr = r[(APIC_IRR >> 2) + 4 * i], tmr = r[(APIC_TMR >> 2) + 4 * i];

		if (!i) {	/* vectors 0-15 do not exist */
			irr &= ~0xffffUL;
			tmr &= ~0xffffUL;
			REG(apic, APIC_ISR) &= ~0xffffU;
		}
		((u32 *)apic->irr)[i] = irr;
		((u32 *)apic->tmr)[i] = tmr;
	}
	apic->tsc_deadline = 0;
	if (apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE) {
		apic_timer_deadline(apic, s->tsc_deadline);
	} else {
		cur = min(r[APIC_TMCCT >> 2], REG(apic, APIC_TMICT));
		apic_timer_count(apic, cur);
	}
	hvx_vcpu_kick(vcpu);
}

/* ---- life ------------------------------------------------------------------ */

/*
 * The APIC at reset: enabled in xAPIC mode at 0xfee00000, vCPU 0 the BSP
 * and running; every other vCPU an AP waiting for INIT and SIPI.
 */
int hvx_lapic_create(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic;

	if (!(vcpu->vm->flags & HVX_VM_LAPIC))
		return 0;
	apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	if (!apic)
		return -ENOMEM;
	apic->vcpu = vcpu;
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = apic_timer_fn;
	apic->base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		     (vcpu->id ? 0 : MSR_IA32_APICBASE_BSP);
	apic_reset(apic);
	apic->mp_state = vcpu->id ? HVX_MP_WAIT_SIPI : HVX_MP_RUNNABLE;
	vcpu->apic = apic;
	return 0;
}

void hvx_lapic_free(struct hvx_vcpu *vcpu)
{
	if (!vcpu->apic)
		return;
	hrtimer_cancel(&vcpu->apic->timer);
	kfree(vcpu->apic);
	vcpu->apic = NULL;
}
