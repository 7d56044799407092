// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the SVM guest state that GET_STATE and SET_STATE read and write,
 * in the VMCB or beside it, and the exceptions the core queues.
 */
#include <linux/kernel.h>
#include <asm/msr.h>
#include <asm/trapnr.h>

#include "svm.h"

static void svm_seg_get(const struct vmcb_seg *v, struct hvx_segment *s)
{
	s->base = v->base;
	s->limit = v->limit;
	s->selector = v->selector;
	s->type = v->attrib & 0xf;
	s->s = (v->attrib >> 4) & 1;
	s->dpl = (v->attrib >> 5) & 3;
	s->present = (v->attrib >> 7) & 1;
	s->avl = (v->attrib >> 8) & 1;
	s->l = (v->attrib >> 9) & 1;
	s->db = (v->attrib >> 10) & 1;
	s->g = (v->attrib >> 11) & 1;
	s->unusable = !s->present;
	s->pad = 0;
}

static int svm_seg_set(struct vmcb_seg *v, const struct hvx_segment *s)
{
	if (s->type > 15 || s->s > 1 || s->dpl > 3 || s->present > 1 || s->avl > 1 ||
	    s->l > 1 || s->db > 1 || s->g > 1 || s->unusable > 1 || s->pad)
		return -EINVAL;
	v->base = s->base;
	v->limit = s->limit;
	v->selector = s->selector;
	v->attrib = s->unusable ? 0 :
		    s->type | s->s << 4 | s->dpl << 5 | s->present << 7 |
		    s->avl << 8 | s->l << 9 | s->db << 10 | s->g << 11;
	return 0;
}

static void svm_dt_get(const struct vmcb_seg *v, struct hvx_dtable *d)
{
	memset(d, 0, sizeof(*d));
	d->base = v->base;
	d->limit = v->limit;
}

void svm_get_sregs(struct hvx_vcpu *vcpu, struct hvx_sregs *s)
{
	struct vmcb_save *v = &to_svm(vcpu)->vmcb->save;

	svm_seg_get(&v->cs, &s->cs);
	svm_seg_get(&v->ds, &s->ds);
	svm_seg_get(&v->es, &s->es);
	svm_seg_get(&v->fs, &s->fs);
	svm_seg_get(&v->gs, &s->gs);
	svm_seg_get(&v->ss, &s->ss);
	svm_seg_get(&v->tr, &s->tr);
	svm_seg_get(&v->ldtr, &s->ldt);
	svm_dt_get(&v->gdtr, &s->gdt);
	svm_dt_get(&v->idtr, &s->idt);
}

int svm_set_sregs(struct hvx_vcpu *vcpu, const struct hvx_sregs *s)
{
	struct vmcb_save *v = &to_svm(vcpu)->vmcb->save;
	struct vmcb_save tmp = *v;

	if (memchr_inv(s->gdt.pad, 0, sizeof(s->gdt.pad)) ||
	    memchr_inv(s->idt.pad, 0, sizeof(s->idt.pad)))
		return -EINVAL;
	/* Checked in full before anything changes. */
	if (svm_seg_set(&tmp.cs, &s->cs) || svm_seg_set(&tmp.ds, &s->ds) ||
	    svm_seg_set(&tmp.es, &s->es) || svm_seg_set(&tmp.fs, &s->fs) ||
	    svm_seg_set(&tmp.gs, &s->gs) || svm_seg_set(&tmp.ss, &s->ss) ||
	    svm_seg_set(&tmp.tr, &s->tr) || svm_seg_set(&tmp.ldtr, &s->ldt))
		return -EINVAL;
	tmp.gdtr.base = s->gdt.base;
	tmp.gdtr.limit = s->gdt.limit;
	tmp.idtr.base = s->idt.base;
	tmp.idtr.limit = s->idt.limit;
	/* CPL is SS.DPL (APM §15.5.1). */
	tmp.cpl = s->ss.dpl;
	*v = tmp;
	return 0;
}

void svm_get_cregs(struct hvx_vcpu *vcpu, struct hvx_cregs *c)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;

	c->cr0 = svm->shadow ? svm->guest_cr0 : vmcb->save.cr0;
	c->cr2 = vmcb->save.cr2;
	c->cr3 = svm->shadow ? svm->guest_cr3 : vmcb->save.cr3;
	c->cr4 = svm->shadow ? svm->guest_cr4 : vmcb->save.cr4;
	c->cr8 = vmcb->control.int_ctl & 0xf;
	/* LMA is the hardware's: it tracks the guest's paging. */
	c->efer = (svm->guest_efer & ~EFER_LMA) | (vmcb->save.efer & EFER_LMA);
	c->xcr0 = vcpu->xcr0;
	c->reserved = 0;
}

int svm_set_cregs(struct hvx_vcpu *vcpu, const struct hvx_cregs *c)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;

	/* hvx_check_cregs() has checked what both vendors refuse. */
	if (c->efer & ~SVM_EFER_GUEST_BITS)
		return -EINVAL;
	/* Inconsistent CR0/CR3/CR4 are refused by VMRUN: a FAIL_ENTRY exit. */
	vmcb->save.cr2 = c->cr2;
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~0xf) | c->cr8;
	vcpu->xcr0 = c->xcr0;
	if (svm->shadow) {
		svm->guest_cr0 = c->cr0;
		svm->guest_cr3 = c->cr3;
		svm->guest_cr4 = c->cr4;
	} else {
		vmcb->save.cr0 = c->cr0;
		vmcb->save.cr3 = c->cr3;
		vmcb->save.cr4 = c->cr4;
	}
	svm_set_guest_efer(vcpu, c->efer);
	return 0;
}

void svm_get_dregs(struct hvx_vcpu *vcpu, struct hvx_dregs *d)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	memset(d, 0, sizeof(*d));
	d->dr0 = vcpu->dr[0];
	d->dr1 = vcpu->dr[1];
	d->dr2 = vcpu->dr[2];
	d->dr3 = vcpu->dr[3];
	d->dr6 = vmcb->save.dr6;
	d->dr7 = vmcb->save.dr7;
}

void svm_set_dregs(struct hvx_vcpu *vcpu, const struct hvx_dregs *d)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	/* Userspace gave the guest debug registers: switch them from now on. */
	svm_dr_intercept(to_svm(vcpu), false);

	vcpu->dr[0] = d->dr0;
	vcpu->dr[1] = d->dr1;
	vcpu->dr[2] = d->dr2;
	vcpu->dr[3] = d->dr3;
	/* Upper halves must be zero, the fixed bits set (SDM vol. 3 §18.2). */
	vmcb->save.dr6 = ((u32)d->dr6 & ~DR6_RESERVED) | DR6_RESERVED;
	vmcb->save.dr7 = ((u32)d->dr7 & ~0x400ULL) | HVX_DR7_FIXED;
}

/* The event in flight and the interrupt shadow; the core adds its queue. */
void svm_get_events(struct hvx_vcpu *vcpu, struct hvx_events *e)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 inj = vmcb->control.event_inj;

	hvx_events_from_info(inj, inj >> 32, e);
	if (vmcb->control.int_state & SVM_INT_SHADOW)
		e->flags |= HVX_EVENTS_SHADOW;
}

u32 svm_get_injection(struct hvx_vcpu *vcpu, u32 *error)
{
	u64 inj = to_svm(vcpu)->vmcb->control.event_inj;

	if (error)
		*error = inj >> 32;
	return inj;
}

void svm_set_injection(struct hvx_vcpu *vcpu, u32 info, u32 error)
{
	to_svm(vcpu)->vmcb->control.event_inj = info | ((u64)error << 32);
}

void svm_set_cr2(struct hvx_vcpu *vcpu, u64 cr2)
{
	to_svm(vcpu)->vmcb->save.cr2 = cr2;
}

void svm_set_events(struct hvx_vcpu *vcpu, const struct hvx_events *e)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	/* The core has queued the events; drop any half-delivered one. */
	vmcb->control.event_inj = 0;
	if (e->flags & HVX_EVENTS_SHADOW)
		vmcb->control.int_state |= SVM_INT_SHADOW;
	else
		vmcb->control.int_state &= ~SVM_INT_SHADOW;
}

/* The MSRs that live in the VMCB's save area as they are. */
static const struct {
	u32 index;
	u16 offset;
} svm_vmcb_msrs[] = {
	{ MSR_IA32_CR_PAT,	  offsetof(struct vmcb_save, g_pat) },
	{ MSR_FS_BASE,		  offsetof(struct vmcb_save, fs.base) },
	{ MSR_GS_BASE,		  offsetof(struct vmcb_save, gs.base) },
	{ MSR_KERNEL_GS_BASE,	  offsetof(struct vmcb_save, kernel_gs_base) },
	{ MSR_STAR,		  offsetof(struct vmcb_save, star) },
	{ MSR_LSTAR,		  offsetof(struct vmcb_save, lstar) },
	{ MSR_CSTAR,		  offsetof(struct vmcb_save, cstar) },
	{ MSR_SYSCALL_MASK,	  offsetof(struct vmcb_save, sfmask) },
	{ MSR_IA32_SYSENTER_CS,	  offsetof(struct vmcb_save, sysenter_cs) },
	{ MSR_IA32_SYSENTER_ESP, offsetof(struct vmcb_save, sysenter_esp) },
	{ MSR_IA32_SYSENTER_EIP, offsetof(struct vmcb_save, sysenter_eip) },
};

/* Where MSR @index lives in the VMCB's save area, or NULL. */
static u64 *svm_vmcb_msr(struct svm_vcpu *svm, u32 index)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(svm_vmcb_msrs); i++)
		if (svm_vmcb_msrs[i].index == index)
			return (void *)&svm->vmcb->save + svm_vmcb_msrs[i].offset;
	return NULL;
}

int svm_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 *field = svm_vmcb_msr(svm, index);

	if (field) {
		*data = *field;
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		*data = (svm->guest_efer & ~EFER_LMA) | (svm->vmcb->save.efer & EFER_LMA);
		return 0;
	case MSR_IA32_TSC:
		*data = rdtsc() + svm->vmcb->control.tsc_offset;
		return 0;
	case MSR_TSC_AUX:
		*data = svm->tsc_aux;
		return 0;
	}
	return -ENOENT;
}

int svm_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	u64 *field = svm_vmcb_msr(svm, index);

	if (field) {
		*field = data;
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		if (data & ~SVM_EFER_GUEST_BITS)
			return -EINVAL;
		/*
		 * LMA is read-only to the guest (APM §3.1.7), and LME cannot
		 * change while paging is on (#GP).
		 */
		if (!host) {
			u64 cr0 = svm->shadow ? svm->guest_cr0 : s->cr0;

			if ((cr0 & X86_CR0_PG) && ((data ^ svm->guest_efer) & EFER_LME))
				return -EINVAL;
			data = (data & ~EFER_LMA) | (s->efer & EFER_LMA);
		}
		svm_set_guest_efer(vcpu, data);
		return 0;
	case MSR_IA32_TSC:
		svm->vmcb->control.tsc_offset = data - rdtsc();
		return 0;
	case MSR_TSC_AUX:
		svm->tsc_aux = data;
		return 0;
	}
	return -ENOENT;
}

void svm_get_paging(struct hvx_vcpu *vcpu, struct hvx_paging *pg)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;

	if (svm->shadow) {
		pg->cr0 = svm->guest_cr0;
		pg->cr3 = svm->guest_cr3;
		pg->cr4 = svm->guest_cr4;
		pg->efer = svm->guest_efer;
		return;
	}
	pg->cr0 = s->cr0;
	pg->cr3 = s->cr3;
	pg->cr4 = s->cr4;
	pg->efer = (svm->guest_efer & ~EFER_LMA) | (s->efer & EFER_LMA);
}

static const struct vmcb_seg *svm_seg(const struct vmcb_save *v, int seg)
{
	switch (seg) {
	case HVX_SEG_ES:
		return &v->es;
	case HVX_SEG_CS:
		return &v->cs;
	case HVX_SEG_SS:
		return &v->ss;
	case HVX_SEG_FS:
		return &v->fs;
	case HVX_SEG_GS:
		return &v->gs;
	default:
		return &v->ds;
	}
}

void svm_get_segment(struct hvx_vcpu *vcpu, int seg, struct hvx_segment *s)
{
	svm_seg_get(svm_seg(&to_svm(vcpu)->vmcb->save, seg), s);
}

u64 svm_seg_base(struct hvx_vcpu *vcpu, int seg)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	bool long64 = (s->efer & EFER_LMA) && (s->cs.attrib & BIT(9));

	switch (seg) {
	case HVX_SEG_FS:
		return s->fs.base;
	case HVX_SEG_GS:
		return s->gs.base;
	case HVX_SEG_ES:
		return long64 ? 0 : s->es.base;
	case HVX_SEG_CS:
		return long64 ? 0 : s->cs.base;
	case HVX_SEG_SS:
		return long64 ? 0 : s->ss.base;
	default:
		return long64 ? 0 : s->ds.base;
	}
}
