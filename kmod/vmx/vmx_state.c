// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the VMX backend's vCPU state accessors: segments, control and debug
 * registers, pending events and the MSRs held in the VMCS or the MSR lists.
 * Each makes the VMCS current with vmx_get()/vmx_put() (vmx.c).
 */
#include <linux/kernel.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/trapnr.h>

#include "vmx.h"

/* Segment fields are laid out ES, CS, SS, DS, FS, GS, LDTR, TR, 2 apart. */
enum { VMX_ES, VMX_CS, VMX_SS, VMX_DS, VMX_FS, VMX_GS, VMX_LDTR, VMX_TR };

static void vmx_seg_get(int seg, struct hvx_segment *s)
{
	u32 ar = vmcs_read(GUEST_ES_AR_BYTES + seg * 2);

	s->base = vmcs_read(GUEST_ES_BASE + seg * 2);
	s->limit = vmcs_read(GUEST_ES_LIMIT + seg * 2);
	s->selector = vmcs_read(GUEST_ES_SELECTOR + seg * 2);
	s->unusable = !!(ar & VMX_SEG_UNUSABLE);
	s->type = ar & 0xf;
	s->s = (ar >> 4) & 1;
	s->dpl = (ar >> 5) & 3;
	s->present = s->unusable ? 0 : (ar >> 7) & 1;
	s->avl = (ar >> 12) & 1;
	s->l = (ar >> 13) & 1;
	s->db = (ar >> 14) & 1;
	s->g = (ar >> 15) & 1;
	s->pad = 0;
}

static int vmx_seg_ar(int seg, const struct hvx_segment *s, u32 *ar)
{
	u8 type = s->type;

	if (s->type > 15 || s->s > 1 || s->dpl > 3 || s->present > 1 || s->avl > 1 ||
	    s->l > 1 || s->db > 1 || s->g > 1 || s->unusable > 1 || s->pad)
		return -EINVAL;
	if (seg == VMX_TR) {
		/* VM entry needs a busy TSS in TR (SDM vol. 3C §26.3.1.2). */
		if (s->unusable || !s->present || !(type & 1))
			type = 11;
		type |= 2;
		*ar = type | BIT(7) | s->g << 15;
		return 0;
	}
	if (s->unusable || !s->present) {
		*ar = VMX_SEG_UNUSABLE;
		return 0;
	}
	/* A usable code or data segment has been accessed: the CPU set the bit on load. */
	if (s->s)
		type |= 1;
	*ar = type | s->s << 4 | s->dpl << 5 | s->present << 7 | s->avl << 12 |
	      s->l << 13 | s->db << 14 | s->g << 15;
	return 0;
}

void vmx_get_sregs(struct hvx_vcpu *vcpu, struct hvx_sregs *s)
{
	vmx_get(vcpu);
	vmx_seg_get(VMX_CS, &s->cs);
	vmx_seg_get(VMX_DS, &s->ds);
	vmx_seg_get(VMX_ES, &s->es);
	vmx_seg_get(VMX_FS, &s->fs);
	vmx_seg_get(VMX_GS, &s->gs);
	vmx_seg_get(VMX_SS, &s->ss);
	vmx_seg_get(VMX_TR, &s->tr);
	vmx_seg_get(VMX_LDTR, &s->ldt);
	memset(&s->gdt, 0, sizeof(s->gdt));
	memset(&s->idt, 0, sizeof(s->idt));
	s->gdt.base = vmcs_read(GUEST_GDTR_BASE);
	s->gdt.limit = vmcs_read(GUEST_GDTR_LIMIT);
	s->idt.base = vmcs_read(GUEST_IDTR_BASE);
	s->idt.limit = vmcs_read(GUEST_IDTR_LIMIT);
	vmx_put(vcpu);
}

/* Writes SREGS into the current VMCS, checked in full before anything changes. */
int __vmx_set_sregs(const struct hvx_sregs *s)
{
	const struct hvx_segment *segs[8] = {
		[VMX_ES] = &s->es, [VMX_CS] = &s->cs, [VMX_SS] = &s->ss, [VMX_DS] = &s->ds,
		[VMX_FS] = &s->fs, [VMX_GS] = &s->gs, [VMX_LDTR] = &s->ldt, [VMX_TR] = &s->tr,
	};
	u32 ar[8];
	int i;

	if (memchr_inv(s->gdt.pad, 0, sizeof(s->gdt.pad)) ||
	    memchr_inv(s->idt.pad, 0, sizeof(s->idt.pad)))
		return -EINVAL;
	for (i = 0; i < 8; i++)
		if (vmx_seg_ar(i, segs[i], &ar[i]))
			return -EINVAL;
	for (i = 0; i < 8; i++) {
		vmcs_write(GUEST_ES_SELECTOR + i * 2, segs[i]->selector);
		vmcs_write(GUEST_ES_BASE + i * 2, segs[i]->base);
		vmcs_write(GUEST_ES_LIMIT + i * 2, segs[i]->limit);
		vmcs_write(GUEST_ES_AR_BYTES + i * 2, ar[i]);
	}
	vmcs_write(GUEST_GDTR_BASE, s->gdt.base);
	vmcs_write(GUEST_GDTR_LIMIT, s->gdt.limit);
	vmcs_write(GUEST_IDTR_BASE, s->idt.base);
	vmcs_write(GUEST_IDTR_LIMIT, s->idt.limit);
	return 0;
}

int vmx_set_sregs(struct hvx_vcpu *vcpu, const struct hvx_sregs *s)
{
	int ret;

	vmx_get(vcpu);
	ret = __vmx_set_sregs(s);
	vmx_put(vcpu);
	return ret;
}

#define EFER_GUEST_BITS	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

void vmx_get_cregs(struct hvx_vcpu *vcpu, struct hvx_cregs *c)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_get(vcpu);
	c->cr0 = vmx_guest_cr0(vcpu);
	c->cr2 = vmx->cr2;
	c->cr3 = vmx_guest_cr3(vcpu);
	c->cr4 = vmx_guest_cr4(vcpu);
	c->efer = vmx_guest_efer(vcpu);
	vmx_put(vcpu);
	c->cr8 = vmx->cr8;
	c->xcr0 = vcpu->xcr0;
	c->reserved = 0;
}

int vmx_set_cregs(struct hvx_vcpu *vcpu, const struct hvx_cregs *c)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 pdpte[4];
	bool pae;

	/* hvx_check_cregs() has checked what both vendors refuse. */
	if (c->efer & ~EFER_GUEST_BITS)
		return -EINVAL;
	/*
	 * Without unrestricted guest VMX runs only paged protected mode, but
	 * for shadow paging, which pages for the guest and runs real mode as
	 * virtual-8086 mode (vmx_rmode.c).
	 */
	if (!vmx_caps.ug && !vmx->shadow &&
	    (c->cr0 & (X86_CR0_PE | X86_CR0_PG)) != (X86_CR0_PE | X86_CR0_PG))
		return -EOPNOTSUPP;
	pae = !vmx->shadow && vmx_pae_paging(c->cr0, c->cr4, c->efer);
	if (pae)
		vmx_read_pdptrs(vcpu, c->cr3, pdpte);
	vmx_get(vcpu);
	vmx_set_cr0(vcpu, c->cr0);
	vmx_set_cr4(vcpu, c->cr4);
	vmx_set_efer(vcpu, c->efer);
	if (vmx->shadow) {
		vmx->guest_cr3 = c->cr3;
		vmx_shadow_sync(vcpu);
	} else {
		vmcs_write(GUEST_CR3, c->cr3);
		if (pae)
			vmx_write_pdptrs(pdpte);
	}
	vmx_put(vcpu);
	vmx->cr2 = c->cr2;
	vmx->cr8 = c->cr8;
	vcpu->xcr0 = c->xcr0;
	/* The guest's linear translations may have changed under it. */
	vmx->flush = true;
	return 0;
}

void vmx_get_dregs(struct hvx_vcpu *vcpu, struct hvx_dregs *d)
{
	memset(d, 0, sizeof(*d));
	d->dr0 = vcpu->dr[0];
	d->dr1 = vcpu->dr[1];
	d->dr2 = vcpu->dr[2];
	d->dr3 = vcpu->dr[3];
	d->dr6 = to_vmx(vcpu)->dr6;
	vmx_get(vcpu);
	d->dr7 = vmcs_read(GUEST_DR7);
	vmx_put(vcpu);
}

static void vmx_dr_exiting(struct hvx_vcpu *vcpu, bool on)
{
	if (on)
		vmcs_set_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_MOV_DR_EXITING);
	else
		vmcs_clear_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_MOV_DR_EXITING);
	to_vmx(vcpu)->guest_dr = !on;
}

void vmx_set_dregs(struct hvx_vcpu *vcpu, const struct hvx_dregs *d)
{
	vcpu->dr[0] = d->dr0;
	vcpu->dr[1] = d->dr1;
	vcpu->dr[2] = d->dr2;
	vcpu->dr[3] = d->dr3;
	/* Upper halves must be zero, the fixed bits set (SDM vol. 3 §18.2). */
	to_vmx(vcpu)->dr6 = ((u32)d->dr6 & ~DR6_RESERVED) | DR6_RESERVED;
	vmx_get(vcpu);
	/* Userspace gave the guest debug registers: switch them from now on. */
	vmx_dr_exiting(vcpu, false);
	vmcs_write(GUEST_DR7, ((u32)d->dr7 & ~0x400ULL) | HVX_DR7_FIXED);
	vmx_put(vcpu);
}

/* The event in flight, the interrupt shadow and NMI blocking; the core adds its queue. */
void vmx_get_events(struct hvx_vcpu *vcpu, struct hvx_events *e)
{
	u32 info, error, intr;

	vmx_get(vcpu);
	info = vmcs_read(VM_ENTRY_INTR_INFO_FIELD);
	error = vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE);
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	vmx_put(vcpu);
	hvx_events_from_info(info, error, e);
	if (intr & GUEST_INTR_STATE_NMI)
		e->flags |= HVX_EVENTS_NMI_MASKED;
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		e->flags |= HVX_EVENTS_SHADOW;
}

u32 vmx_get_injection(struct hvx_vcpu *vcpu, u32 *error)
{
	u32 info;

	vmx_get(vcpu);
	info = vmcs_read(VM_ENTRY_INTR_INFO_FIELD);
	if (error)
		*error = vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE);
	vmx_put(vcpu);
	return info;
}

void vmx_set_injection(struct hvx_vcpu *vcpu, u32 info, u32 error)
{
	vmx_get(vcpu);
	if (info & INTR_INFO_DELIVER_CODE_MASK)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
	vmx_put(vcpu);
}

/* VM entry does not load CR2: vmx_run() does (SDM vol. 3C §27.6.1.1). */
void vmx_set_cr2(struct hvx_vcpu *vcpu, u64 cr2)
{
	to_vmx(vcpu)->cr2 = cr2;
}

void vmx_set_events(struct hvx_vcpu *vcpu, const struct hvx_events *e)
{
	u32 intr;

	vmx_get(vcpu);
	/* The core has queued the events; drop any half-delivered one. */
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
	       ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_NMI);
	/* An STI shadow needs IF set at entry; vmx_run() turns it into MOV SS otherwise. */
	if (e->flags & HVX_EVENTS_SHADOW)
		intr |= GUEST_INTR_STATE_STI;
	if ((e->flags & HVX_EVENTS_NMI_MASKED) && (vmx_caps.pin & PIN_BASED_VIRTUAL_NMIS))
		intr |= GUEST_INTR_STATE_NMI;
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr);
	vmx_put(vcpu);
	/* The hardware tracks NMI blocking now. */
	if (vmx_caps.pin & PIN_BASED_VIRTUAL_NMIS)
		vcpu->ev.nmi_masked = false;
}

static int vmx_auto_slot(u32 index)
{
	int i;

	for (i = 0; i < VMX_NR_AUTO_MSRS; i++)
		if (vmx_auto_msrs[i] == index)
			return i;
	return -1;
}

/* The MSRs that live in VMCS guest-state fields as they are. */
static const struct {
	u32 index;
	u32 field;
} vmx_vmcs_msrs[] = {
	{ MSR_IA32_CR_PAT,	  GUEST_IA32_PAT },
	{ MSR_FS_BASE,		  GUEST_FS_BASE },
	{ MSR_GS_BASE,		  GUEST_GS_BASE },
	{ MSR_IA32_SYSENTER_CS,	  GUEST_SYSENTER_CS },
	{ MSR_IA32_SYSENTER_ESP, GUEST_SYSENTER_ESP },
	{ MSR_IA32_SYSENTER_EIP, GUEST_SYSENTER_EIP },
};

/* The VMCS field of MSR @index, or 0. */
static u32 vmx_vmcs_msr(u32 index)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vmx_vmcs_msrs); i++)
		if (vmx_vmcs_msrs[i].index == index)
			return vmx_vmcs_msrs[i].field;
	return 0;
}

int vmx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int slot = vmx_auto_slot(index);
	u32 field = vmx_vmcs_msr(index);
	int ret = 0;

	if (slot >= 0) {
		*data = vmx->guest_msrs[slot].value;
		return 0;
	}
	vmx_get(vcpu);
	if (field)
		*data = vmcs_read(field);
	else if (index == MSR_EFER)
		*data = vmx_guest_efer(vcpu);
	else if (index == MSR_IA32_TSC)
		*data = rdtsc() + vmcs_read(TSC_OFFSET);
	else
		ret = -ENOENT;
	vmx_put(vcpu);
	return ret;
}

int vmx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int slot = vmx_auto_slot(index);
	u32 field = vmx_vmcs_msr(index);
	int ret = 0;

	/* hvx_set_msr() has checked the value. */
	if (slot >= 0) {
		vmx->guest_msrs[slot].value = data;
		return 0;
	}
	if (index == MSR_EFER && (data & ~EFER_GUEST_BITS))
		return -EINVAL;
	/* Intel's WRMSR and VM entry refuse these non-canonical (SDM vol. 3C §26.3.1.1). */
	if ((index == MSR_IA32_SYSENTER_ESP || index == MSR_IA32_SYSENTER_EIP) &&
	    !hvx_msr_canonical(data))
		return -EINVAL;
	vmx_get(vcpu);
	if (field) {
		vmcs_write(field, data);
	} else if (index == MSR_EFER) {
		/* LMA is read-only to the guest (SDM vol. 3A §2.2.1). */
		if (!host)
			data = (data & ~EFER_LMA) | (vmx_guest_efer(vcpu) & EFER_LMA);
		vmx_set_efer(vcpu, data);
		vmx_shadow_sync(vcpu);
	} else if (index == MSR_IA32_TSC) {
		vmcs_write(TSC_OFFSET, data - rdtsc());
	} else {
		ret = -ENOENT;
	}
	vmx_put(vcpu);
	return ret;
}

void vmx_get_paging(struct hvx_vcpu *vcpu, struct hvx_paging *pg)
{
	vmx_get(vcpu);
	pg->cr0 = vmx_guest_cr0(vcpu);
	pg->cr3 = vmx_guest_cr3(vcpu);
	pg->cr4 = vmx_guest_cr4(vcpu);
	pg->efer = vmx_guest_efer(vcpu);
	vmx_put(vcpu);
}

/* HVX_SEG_* to the VMCS's segment order. */
static const u8 vmx_seg_field[] = {
	[HVX_SEG_ES] = VMX_ES, [HVX_SEG_CS] = VMX_CS, [HVX_SEG_SS] = VMX_SS,
	[HVX_SEG_DS] = VMX_DS, [HVX_SEG_FS] = VMX_FS, [HVX_SEG_GS] = VMX_GS,
};

void vmx_get_segment(struct hvx_vcpu *vcpu, int seg, struct hvx_segment *s)
{
	vmx_get(vcpu);
	vmx_seg_get(vmx_seg_field[seg], s);
	vmx_put(vcpu);
}

u64 vmx_seg_base(struct hvx_vcpu *vcpu, int seg)
{
	bool long64;
	u64 base;

	vmx_get(vcpu);
	long64 = (vmx_guest_efer(vcpu) & EFER_LMA) &&
		 (vmcs_read(GUEST_CS_AR_BYTES) & BIT(13));
	base = vmcs_read(GUEST_ES_BASE + vmx_seg_field[seg] * 2);
	vmx_put(vcpu);
	if (long64 && seg != HVX_SEG_FS && seg != HVX_SEG_GS)
		return 0;
	return base;
}

bool vmx_interruptible(struct hvx_vcpu *vcpu)
{
	u32 intr;

	if (!(vcpu->rflags & X86_EFLAGS_IF))
		return false;
	vmx_get(vcpu);
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	vmx_put(vcpu);
	return !(intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

u32 vmx_raw_exit_code(unsigned int idx)
{
	return idx == VMX_RAW_FAIL ? VMX_EXIT_FAILED_ENTRY : idx;
}

/* The guest's view of CR0/CR4: host-owned bits from the read shadow. */
u64 vmx_guest_cr0(struct hvx_vcpu *vcpu)
{
	u64 mask = to_vmx(vcpu)->cr0_mask;

	return (vmcs_read(GUEST_CR0) & ~mask) | (vmcs_read(CR0_READ_SHADOW) & mask);
}

u64 vmx_guest_cr4(struct hvx_vcpu *vcpu)
{
	u64 mask = to_vmx(vcpu)->cr4_mask;

	return (vmcs_read(GUEST_CR4) & ~mask) | (vmcs_read(CR4_READ_SHADOW) & mask);
}

/* CR3 and EFER as the guest sees them; under shadow paging the CPU has others. */
u64 vmx_guest_cr3(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	return vmx->shadow ? vmx->guest_cr3 : vmcs_read(GUEST_CR3);
}

u64 vmx_guest_efer(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	return vmx->shadow ? vmx->guest_efer : vmcs_read(GUEST_IA32_EFER);
}

/*
 * Shadow paging: the guest's paging registers changed (or its mappings
 * went away): drop the shadow tables, point CR3 at the root for the
 * guest's mode, and flush this VPID before the next entry.  VMCS current.
 */
void vmx_shadow_sync(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (!vmx->shadow)
		return;
	hvx_shadow_flush(&vcpu->shadow);
	vmcs_write(GUEST_CR3, hvx_shadow_root(&vcpu->shadow, vmx->guest_efer & EFER_LMA));
	vmx->flush = true;
}

/*
 * The PDPTEs of PAE paging live in the VMCS with EPT (SDM vol. 3C
 * §26.3.2.4).  Read them from guest memory first, where the owner's page
 * may need faulting in (sleeping, taking vm->lock), then write them with
 * the VMCS current, preemption off.
 */
void vmx_read_pdptrs(struct hvx_vcpu *vcpu, u64 cr3, u64 pdpte[4])
{
	might_sleep();
	memset(pdpte, 0, 4 * sizeof(*pdpte));
	hvx_read_gpa(vcpu->vm, cr3 & ~0x1fULL & 0xffffffffULL, pdpte, 4 * sizeof(*pdpte));
}

void vmx_write_pdptrs(const u64 pdpte[4])
{
	int i;

	for (i = 0; i < 4; i++)
		vmcs_write(GUEST_PDPTR0 + i * 2, pdpte[i]);
}

bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * Under shadow paging the CPU always pages (PG, and WP so that read-only
 * shadow entries bind the supervisor too) with PAE-format tables, and
 * without global pages or PCIDs: the shadow tables are flushed on every
 * CR3 write anyway.
 */
int vmx_set_cr0(struct hvx_vcpu *vcpu, u64 cr0)
{
	bool shadow = to_vmx(vcpu)->shadow;
	u64 fixed0 = vmx_caps.cr0_fixed0 & ~(vmx_caps.ug && !shadow ? X86_CR0_PE | X86_CR0_PG : 0);

	vmcs_write(CR0_READ_SHADOW, cr0);
	if (shadow)
		cr0 |= X86_CR0_PG | X86_CR0_WP;
	vmcs_write(GUEST_CR0, (cr0 | fixed0) & vmx_caps.cr0_fixed1);
	return 0;
}

int vmx_set_cr4(struct hvx_vcpu *vcpu, u64 cr4)
{
	vmcs_write(CR4_READ_SHADOW, cr4);
	if (to_vmx(vcpu)->shadow)
		cr4 = (cr4 & ~(X86_CR4_PSE | X86_CR4_PGE | X86_CR4_PCIDE | X86_CR4_LA57)) |
		      X86_CR4_PAE;
	vmcs_write(GUEST_CR4, (cr4 | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
	return 0;
}

void vmx_set_efer(struct hvx_vcpu *vcpu, u64 efer)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	/*
	 * Shadow entries may use NX whatever the guest's EFER.NXE.  The CPU
	 * always pages under shadow paging, so VM entry wants LME equal to
	 * LMA (SDM vol. 3A §28.3.1.1): a guest that left long mode with LME
	 * still set runs with LME clear, which it cannot see.
	 */
	if (vmx->shadow) {
		vmx->guest_efer = efer;
		efer = (efer & ~EFER_LME) | (efer & EFER_LMA ? EFER_LME : 0) | EFER_NX;
	}
	vmcs_write(GUEST_IA32_EFER, efer);
	if (efer & EFER_LMA)
		vmcs_set_bits(VM_ENTRY_CONTROLS, VM_ENTRY_IA32E_MODE);
	else
		vmcs_clear_bits(VM_ENTRY_CONTROLS, VM_ENTRY_IA32E_MODE);
}
