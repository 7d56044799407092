// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the Intel VMX backend (Intel SDM vol. 3C ch. 23-31): VPIDs, EPT,
 * VMCS setup, event injection and the entry path.  Enabling VMX lives in
 * vmx_setup.c, VMCS loading in vmx_vmcs.c, state in vmx_state.c, exit
 * handlers in vmx_exit.c.
 *
 * A VMCS can be current on one CPU only, and VMREAD/VMWRITE work on the
 * current one.  A vCPU's VMCS stays active on the CPU it last ran on (on
 * that CPU's list of loaded VMCSs) until it runs elsewhere: then it is
 * VMCLEARed there by IPI and loaded here.  Every state access outside the
 * run path goes through vmx_get()/vmx_put(), which pin the thread and
 * make the VMCS current first.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/rcupdate.h>
#include <linux/cpu.h>
#include <linux/jump_label.h>
#include <asm/apicdef.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/desc.h>
#include <asm/debugreg.h>
#include <asm/hw_breakpoint.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/types.h>
#include <asm/cpufeature.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>
#include <asm/reboot.h>
#include <asm/special_insns.h>
#include <asm/irq_vectors.h>
#include <asm/segment.h>
/* load_gs_index(), from asm/gsseg.h since 6.2: this includes either. */
#include <asm/mmu_context.h>
#include <asm/traps.h>
#include <asm/trapnr.h>

#include "vmx.h"
#include "hvx_trace.h"

static DEFINE_IDA(vmx_vpids);

/* The auto-switched MSRs: slot i of the guest and host lists (vmx.h). */
const u32 vmx_auto_msrs[VMX_NR_AUTO_MSRS] = {
	MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_TSC_AUX,
};

#define VMX_AUTO_KGS	0

/* MSRs the guest reads and writes without an exit: held in the VMCS or the lists. */
static const u32 vmx_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
	MSR_CSTAR, MSR_SYSCALL_MASK, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
	MSR_IA32_SYSENTER_EIP,
};

/* EPT entries (SDM vol. 3C §29.3.2): all guest memory write-back, guest PAT ignored. */
static u64 ept_leaf(phys_addr_t pa, bool writable)
{
	return pa | VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK |
	       (writable ? VMX_EPT_WRITABLE_MASK : 0) |
	       (HVX_MEMTYPE_WB << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT;
}

static const struct hvx_tdp_format ept_format = {
	.leaf		= ept_leaf,
	.large		= BIT_ULL(7),	/* SDM vol. 3C table 29-4 */
	.table_flags	= VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK |
			  VMX_EPT_EXECUTABLE_MASK,
	.present_mask	= VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK |
			  VMX_EPT_EXECUTABLE_MASK,
};

static void vmx_msr_allow(u8 *bitmap, u32 msr)
{
	/* Read bitmaps at 0 (low) and 1 KiB (high), writes 2 KiB later (SDM §24.6.9). */
	u32 base = msr >= 0xc0000000 ? 0x400 : 0;
	u32 bit = msr & 0x1fff;

	bitmap[base + bit / 8] &= ~BIT(bit % 8);
	bitmap[0x800 + base + bit / 8] &= ~BIT(bit % 8);
}

static int vmx_vm_init(struct hvx_vm *vm)
{
	struct vmx_vm *vv;
	int i, ret;

	vv = kzalloc(sizeof(*vv), GFP_KERNEL_ACCOUNT);
	if (!vv)
		return -ENOMEM;
	vv->msr_bitmap = (void *)__get_free_page(GFP_KERNEL_ACCOUNT);
	if (!vv->msr_bitmap) {
		kfree(vv);
		return -ENOMEM;
	}
	memset(vv->msr_bitmap, 0xff, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(vmx_passthrough_msrs); i++)
		vmx_msr_allow(vv->msr_bitmap, vmx_passthrough_msrs[i]);
	ret = hvx_tdp_init(&vm->tdp, &ept_format, 4);
	if (ret) {
		free_page((unsigned long)vv->msr_bitmap);
		kfree(vv);
		return ret;
	}
	/* The CPU walks the table only under nested paging. */
	if (vm->paging == HVX_PAGING_NESTED && !vmx_caps.ept_2m)
		vm->tdp.huge = false;
	/* Shadow VMs keep their guest-physical map in the same tables, unseen by the CPU. */
	if (vm->paging == HVX_PAGING_NESTED)
		vv->eptp = hvx_tdp_root_pa(&vm->tdp) | (3 << 3) | HVX_MEMTYPE_WB;
	vm->arch = vv;
	return 0;
}

static void vmx_vm_destroy(struct hvx_vm *vm)
{
	struct vmx_vm *vv = vm->arch;

	free_page((unsigned long)vv->msr_bitmap);
	kfree(vv);
}

/* The state after RESET (SDM vol. 3A §10.1.1); unrestricted guest runs it as is. */
static void vmx_reset_state(struct hvx_vcpu *vcpu)
{
	static const struct hvx_segment data = {
		.limit = 0xffff, .type = 3, .s = 1, .present = 1,
	};
	struct hvx_sregs s = {
		.cs = { .base = 0xffff0000, .limit = 0xffff, .selector = 0xf000,
			.type = 11, .s = 1, .present = 1 },
		.ds = data, .es = data, .ss = data, .fs = data, .gs = data,
		.tr = { .limit = 0xffff, .type = 11, .present = 1 },
		.ldt = { .limit = 0xffff, .type = 2, .present = 1 },
		.gdt = { .limit = 0xffff }, .idt = { .limit = 0xffff },
	};

	__vmx_set_sregs(&s);
	vmx_set_cr0(vcpu, X86_CR0_ET | X86_CR0_NW | X86_CR0_CD);
	vmx_set_cr4(vcpu, 0);
	vmcs_write(GUEST_CR3, 0);
	vmx_set_efer(vcpu, 0);
	to_vmx(vcpu)->guest_cr3 = 0;
	vmx_shadow_sync(vcpu);
	vmcs_write(GUEST_DR7, HVX_DR7_FIXED);
	vmcs_write(GUEST_IA32_PAT, 0x0007040600070406ULL);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	to_vmx(vcpu)->dr6 = DR6_RESERVED;
}

/* Everything in a fresh VMCS (current on this CPU) that does not change per entry. */
static void vmx_vmcs_setup(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_vm *vv = vcpu->vm->arch;
	u32 cpu_based = vmx_caps.cpu_based;
	struct desc_ptr idt;
	u64 v;

	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_caps.pin);
	/*
	 * With an APIC in the kernel, MOV CR8 reads and writes the TPR in
	 * the virtual-APIC page without exits (SDM vol. 3C §30.1.2); a write
	 * below TPR_THRESHOLD exits after it (vmx_tpr_enter()).
	 */
	if (vmx->vapic) {
		cpu_based = (cpu_based | CPU_BASED_TPR_SHADOW) &
			    ~(CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING);
		vmcs_write(VIRTUAL_APIC_PAGE_ADDR, __pa(vmx->vapic));
		vmcs_write(TPR_THRESHOLD, 0);
		vmx->tpr_threshold = 0;
	}
	if (vmx->shadow) {
		/*
		 * Shadow paging: no EPT (nor unrestricted guest, nor INVPCID,
		 * which would need decoding), CR3 writes and reads, INVLPG and
		 * #PF exit, and the paging bits of CR0/CR4 are host-owned.
		 */
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
			   cpu_based | CPU_BASED_CR3_LOAD_EXITING |
			   CPU_BASED_CR3_STORE_EXITING | CPU_BASED_INVLPG_EXITING);
		if (vmx_caps.cpu_based & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
			vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_caps.secondary &
				   ~(SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST |
				     SECONDARY_EXEC_ENABLE_INVPCID));
	} else {
		/* Nested paging: the CPU has EPT, hence secondary controls. */
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, cpu_based);
		vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_caps.secondary);
		vmcs_write(EPT_POINTER, vv->eptp);
	}
	vmcs_write(VM_EXIT_CONTROLS, vmx_caps.exit_ctls);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_caps.entry_ctls);
	vmcs_write(EXCEPTION_BITMAP, vmx_exception_bitmap(vmx));
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(TSC_OFFSET, 0);
	vmcs_write(MSR_BITMAP, __pa(vv->msr_bitmap));
	if (vmx->vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmx->cr0_mask = vmx_caps.cr0_mask | (vmx->shadow ? VMX_SHADOW_CR0_BITS : 0);
	vmx->cr4_mask = vmx_caps.cr4_mask | (vmx->shadow ? VMX_SHADOW_CR4_BITS : 0);
	vmcs_write(CR0_GUEST_HOST_MASK, vmx->cr0_mask);
	vmcs_write(CR4_GUEST_HOST_MASK, vmx->cr4_mask);
	if (vmx_caps.pin & PIN_BASED_VMX_PREEMPTION_TIMER)
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, vmx_caps.preempt_ticks);

	vmcs_write(VM_ENTRY_MSR_LOAD_ADDR, __pa(vmx->guest_msrs));
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, vmx_caps.nr_auto_msrs);
	vmcs_write(VM_EXIT_MSR_STORE_ADDR, __pa(vmx->guest_msrs));
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, vmx_caps.nr_auto_msrs);
	vmcs_write(VM_EXIT_MSR_LOAD_ADDR, __pa(vmx->host_msrs));
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, vmx_caps.nr_auto_msrs);

	/* Host state (SDM vol. 3C §24.5); the per-CPU part is in vmx_load(). */
	vmcs_write(HOST_CR0, read_cr0());
	vmx->host_cr3 = __read_cr3();
	vmcs_write(HOST_CR3, vmx->host_cr3);
	vmx->host_cr4 = cr4_read_shadow();
	vmcs_write(HOST_CR4, vmx->host_cr4);
	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	store_idt(&idt);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_IA32_CR_PAT, v);
	vmcs_write(HOST_IA32_PAT, v);
	rdmsrl(MSR_EFER, v);
	vmcs_write(HOST_IA32_EFER, v);
	vmcs_write(HOST_RIP, (unsigned long)hvx_vmx_vmexit);
	vmx_reset_state(vcpu);
}

static int vmx_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx;
	void *msrs;
	int i, ret = -ENOMEM;

	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	vmx->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	msrs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vmx->vmcs || !msrs)
		goto err;
	if (vcpu->apic && vmx_caps.tpr_shadow) {
		vmx->vapic = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!vmx->vapic)
			goto err;
	}
	if (vmx_caps.vpid) {
		ret = ida_alloc_range(&vmx_vpids, 1, 0xffff, GFP_KERNEL);
		if (ret < 0)
			goto err;
		vmx->vpid = ret;
	}
	*(u32 *)vmx->vmcs = HVX_VMX_BASIC_REVISION(vmx_caps.basic);
	vmx->vmcs_pa = __pa(vmx->vmcs);
	vmx->guest_msrs = msrs;
	vmx->host_msrs = msrs + PAGE_SIZE / 2;
	for (i = 0; i < VMX_NR_AUTO_MSRS; i++) {
		vmx->guest_msrs[i].index = vmx_auto_msrs[i];
		vmx->host_msrs[i].index = vmx_auto_msrs[i];
		/* KERNEL_GS_BASE per entry, TSC_AUX per CPU (vmx_load()). */
		if (i != VMX_AUTO_KGS && i != VMX_AUTO_TSC_AUX)
			rdmsrl(vmx_auto_msrs[i], vmx->host_msrs[i].value);
	}
	vmx->cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded);
	vmx->shadow = vcpu->vm->paging == HVX_PAGING_SHADOW;
	vcpu->arch = vmx;

	preempt_disable();
	ret = vmx_load(vcpu);
	if (!ret)
		vmx_vmcs_setup(vcpu);
	preempt_enable();
	if (ret) {
		vmx_clear_remote(vmx);
		goto err_vpid;
	}
	return 0;

err_vpid:
	if (vmx->vpid)
		ida_free(&vmx_vpids, vmx->vpid);
err:
	free_page((unsigned long)vmx->vapic);
	free_page((unsigned long)msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	vcpu->arch = NULL;
	return ret;
}

static void vmx_vcpu_free(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_clear_remote(vmx);
	if (vmx->vpid)
		ida_free(&vmx_vpids, vmx->vpid);
	free_pages((unsigned long)vmx->rm_tss, 2);
	free_page((unsigned long)vmx->vapic);
	free_page((unsigned long)vmx->guest_msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
}

/* NMI blocking: an STI or MOV SS shadow, the guest's NMI handler (with virtual NMIs). */
static bool vmx_nmi_allowed(struct hvx_vcpu *vcpu)
{
	u32 intr;

	if (vcpu->ev.nmi_masked)
		return false;
	vmx_get(vcpu);
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	vmx_put(vcpu);
	return !(intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_NMI));
}

/*
 * Interrupt-window exiting for @irq; NMI-window exiting for @nmi with
 * virtual NMIs, except in a shadow, which the interrupt window outlasts
 * as well; without them, the interrupt window stands in.  Called by
 * hvx_inject_events() from vmx_run(): the VMCS is current, preemption
 * off.  One VMREAD, and a VMWRITE only for a change: this runs before
 * every entry.
 */
static void vmx_set_windows(struct hvx_vcpu *vcpu, bool irq, bool nmi)
{
	bool vnmi = vmx_caps.pin & PIN_BASED_VIRTUAL_NMIS;
	u32 mask = CPU_BASED_INTR_WINDOW_EXITING;
	bool nmi_exit = false;
	u32 ctl, want;

	lockdep_assert_preemption_disabled();
	if (nmi && vnmi)
		nmi_exit = !(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
			     (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
	if (vnmi)
		mask |= CPU_BASED_NMI_WINDOW_EXITING;
	ctl = vmcs_read(CPU_BASED_VM_EXEC_CONTROL);
	want = ctl & ~mask;
	if (irq || (nmi && !nmi_exit))
		want |= CPU_BASED_INTR_WINDOW_EXITING;
	if (nmi_exit)
		want |= CPU_BASED_NMI_WINDOW_EXITING;
	if (want != ctl)
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, want);
}

/* DR6 too: VM exit does not save it (SVM keeps it in the VMCB). */
static void vmx_load_guest_dr(struct hvx_vcpu *vcpu)
{
	hvx_load_guest_dr(vcpu);
	native_set_debugreg(6, to_vmx(vcpu)->dr6);
}

static void vmx_put_guest_dr(struct hvx_vcpu *vcpu)
{
	hvx_put_guest_dr(vcpu);
	to_vmx(vcpu)->dr6 = native_get_debugreg(6);
	native_set_debugreg(6, DR6_RESERVED);
}

/* Host segment and descriptor-table state that VM exit does not restore. */
struct vmx_host_segs {
	u16 ds, es, fs, gs, ldt;
	unsigned long fs_base, kernel_gs_base;
	u64 debugctl;
};

static void vmx_save_host(struct vmx_vcpu *vmx, struct vmx_host_segs *h)
{
	unsigned long v;

	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	asm volatile("sldt %0" : "=r"(h->ldt));
	rdmsrl(MSR_FS_BASE, h->fs_base);
	vmcs_write(HOST_FS_BASE, h->fs_base);
	rdmsrl(MSR_GS_BASE, v);
	vmcs_write(HOST_GS_BASE, v);
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	vmx->host_msrs[VMX_AUTO_KGS].value = h->kernel_gs_base;
	h->debugctl = get_debugctlmsr();
	v = __read_cr3();
	if (unlikely(v != vmx->host_cr3)) {
		vmx->host_cr3 = v;
		vmcs_write(HOST_CR3, v);
	}
	v = cr4_read_shadow();
	if (unlikely(v != vmx->host_cr4)) {
		vmx->host_cr4 = v;
		vmcs_write(HOST_CR4, v);
	}
}

/*
 * VM exit leaves DS/ES/FS/GS null, LDTR unusable, the GDT limit 0xffff,
 * the TR limit 0x67 and DEBUGCTL clear (SDM vol. 3C §28.5): put back what
 * the host had before anything can use it.
 */
static void vmx_restore_host(const struct vmx_host_segs *h)
{
	if (h->debugctl)
		update_debugctlmsr(h->debugctl);
	if (h->ldt)
		asm volatile("lldt %0" : : "rm"(h->ldt));
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, h->fs_base);
	}
	if (h->gs) {
		load_gs_index(h->gs);
		wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	}
	load_fixmap_gdt(raw_smp_processor_id());
	invalidate_tss_limit();
}

/*
 * The TPR shadow around an entry (with an APIC in the kernel): the APIC's
 * TPR goes to the virtual-APIC page, where MOV CR8 reads and writes it;
 * TPR_THRESHOLD is the class of what the TPR holds back in IRR, so that
 * a write below it exits (EXIT_REASON_TPR_BELOW_THRESHOLD, after the
 * write) and the interrupt is delivered before the next instruction.
 * The threshold never exceeds TPR[7:4], as VM entry requires (SDM vol. 3C
 * §26.2.1.1).
 */
static void vmx_tpr_enter(struct hvx_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u8 thr = hvx_lapic_tpr_threshold(vcpu);

	WRITE_ONCE(vmx->vapic[APIC_TASKPRI / 4], hvx_lapic_get_tpr(vcpu));
	if (thr != vmx->tpr_threshold) {
		vmcs_write(TPR_THRESHOLD, thr);
		vmx->tpr_threshold = thr;
	}
}

/* A CR8 write the guest made without an exit reaches the APIC. */
static void vmx_tpr_exit(struct hvx_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u8 tpr = READ_ONCE(vmx->vapic[APIC_TASKPRI / 4]);

	if (tpr != hvx_lapic_get_tpr(vcpu))
		hvx_lapic_set_tpr(vcpu, tpr);
}

/* Puts back an event whose delivery the exit interrupted (SDM vol. 3C §28.2.4). */
static void vmx_requeue_interrupted(struct vmx_vcpu *vmx)
{
	u32 info = vmx->idt_info;

	if (!vmx_requeued(info))
		return;
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		vmcs_clear_bits(GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_NMI);
	if (info & VECTORING_INFO_DELIVER_CODE_MASK)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmx->idt_error);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_RESVD_BITS_MASK);
}

static int vmx_run(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_host_segs host;
	u64 guest_cr4, t0 = 0;
	u32 host_pkru = 0, intr, entry_info, entry_error;
	bool pkru_loaded, rm = false;
	int ret, fail, gen;

	/*
	 * Without unrestricted guest, real mode runs only under shadow
	 * paging, as virtual-8086 mode (SET_STATE says so too).
	 */
	if (unlikely(!vmx_caps.ug || vmx->shadow)) {
		struct hvx_paging pg;

		vmx_get_paging(vcpu, &pg);
		if (!vmx->shadow &&
		    (pg.cr0 & (X86_CR0_PE | X86_CR0_PG)) != (X86_CR0_PE | X86_CR0_PG))
			return -EOPNOTSUPP;
		/*
		 * Under shadow paging the CPU never sees the guest's paging
		 * registers and cannot refuse an inconsistent set: check
		 * what VM entry would (SDM vol. 3C §26.3.1.1) and fail the
		 * entry the same way.
		 */
		if (vmx->shadow && hvx_paging_inconsistent(pg.cr0, pg.cr4, pg.efer)) {
			vmx->exit_reason = VMX_EXIT_FAILED_ENTRY | EXIT_REASON_INVALID_STATE;
			vmx->exit_qual = 0;
			return vmx_handle_exit(vcpu);
		}
		if (vmx->shadow && !(pg.cr0 & X86_CR0_PE)) {
			ret = vmx_rm_prepare(vcpu);
			if (ret <= 0)
				return ret;
			rm = true;
		}
	}

	/* VMX is off, or about to be, for a reboot: no VMX instruction may run. */
	if (unlikely(READ_ONCE(hvx_rebooting)))
		return -EIO;
	hvx_entry_begin();
	/* The VMCS moves here first: clearing it elsewhere takes an IPI. */
	ret = vmx_load(vcpu);
	if (ret) {
		preempt_enable();
		return ret;
	}
	ret = hvx_entry_irqs_off();
	if (ret)
		return ret;

	gen = atomic_read(&vcpu->vm->tlb_gen);
	if (gen != vcpu->tlb_gen) {
		vmx->flush = true;
		vcpu->tlb_gen = gen;
		/* Guest pages went away: the shadow tables may point at them. */
		if (vmx->shadow)
			hvx_shadow_flush(&vcpu->shadow);
	}
	if (vmx->shadow && vcpu->shadow.tlb_dirty) {
		vcpu->shadow.tlb_dirty = false;
		vmx->flush = true;
	}
	if (vmx->flush) {
		if (!vmx->shadow)
			vmx_invept(((struct vmx_vm *)vcpu->vm->arch)->eptp);
		if (vmx->vpid)
			vmx_invvpid(vmx->vpid);
		vmx->flush = false;
		hvx_stat_inc(vcpu, HVX_STAT_TLB_FLUSHES);
	}

	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	/* An STI shadow with IF clear fails entry; MOV SS blocks the same events. */
	if ((intr & GUEST_INTR_STATE_STI) && !(vcpu->rflags & X86_EFLAGS_IF)) {
		intr = (intr & ~GUEST_INTR_STATE_STI) | GUEST_INTR_STATE_MOV_SS;
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr);
	}
	hvx_inject_events(vcpu, vmx_set_windows);
	/* Virtual-8086 mode takes events as real mode does: vmx_rm_prepare() delivers them. */
	if (unlikely(rm) && (vmcs_read(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK)) {
		local_irq_enable();
		preempt_enable();
		return 1;
	}
	if (vmx->vapic)
		vmx_tpr_enter(vcpu, vmx);
	entry_info = vmcs_read(VM_ENTRY_INTR_INFO_FIELD);
	entry_error = vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE);
	vmcs_write(GUEST_RSP, vcpu->regs[HVX_RSP]);
	vmcs_write(GUEST_RIP, vcpu->rip);
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);
	guest_cr4 = vmx_guest_cr4(vcpu);
	vmx_save_host(vmx, &host);

	/* As on SVM: a value the CPU refuses fails the entry, not the host. */
	if (vcpu->xcr0 != vmx_caps.host_xcr0 &&
	    unlikely(hvx_xsetbv_safe(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0))) {
		vmx_restore_host(&host);
		local_irq_enable();
		preempt_enable();
		pr_warn_ratelimited("hvx: the CPU refused XCR0 %#llx of a guest: entry failed\n",
				    vcpu->xcr0);
		vmx->exit_reason = VMX_EXIT_FAILED_ENTRY | EXIT_REASON_INVALID_STATE;
		vmx->exit_qual = 0;
		vmx->idt_info = 0;
		return vmx_handle_exit(vcpu);
	}
	if (vmx->guest_dr)
		vmx_load_guest_dr(vcpu);
	pkru_loaded = hvx_load_guest_pkru(vcpu, guest_cr4, &host_pkru);
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);

	/*
	 * Guest time is a quiescent state for RCU, as user time is: a
	 * guest that runs long must not stall grace periods.
	 */
	rcu_note_context_switch(false);
	vmx->rm_ran = false;
	if (unlikely(rm))
		vmx_rm_enter(vcpu);
	trace_hvx_entry(vcpu->vm->id, vcpu->id, vcpu->rip);
	hvx_spec_enter(vcpu);
	if (static_branch_unlikely(&vmx_l1d_flush_on))
		vmx_l1d_flush();
	if (static_branch_likely(&hvx_stats_on))
		t0 = rdtsc();
	fail = hvx_vmx_vmenter(vcpu->regs, vmx->launched);
	hvx_spec_exit();
	if (static_branch_likely(&hvx_stats_on))
		hvx_stat_add(vcpu, HVX_STAT_RUN_NS, rdtsc() - t0);

	vmx->cr2 = native_read_cr2();
	vmx_restore_host(&host);
	if (vmx->vapic)
		vmx_tpr_exit(vcpu, vmx);
	hvx_put_guest_pkru(vcpu, guest_cr4, host_pkru, pkru_loaded);
	if (vmx->guest_dr)
		vmx_put_guest_dr(vcpu);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	if (vcpu->xcr0 != vmx_caps.host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vmx_caps.host_xcr0);

	vmx->exit_reason = fail ? VMX_EXIT_FAILED_ENTRY : vmcs_read(VM_EXIT_REASON);
	if (fail) {
		vmx->exit_qual = vmcs_read(VM_INSTRUCTION_ERROR);
		vmx->idt_info = 0;
	} else if (vmx->exit_reason & VMX_EXIT_FAILED_ENTRY) {
		/*
		 * Entry failed checking or loading guest state (SDM vol. 3C
		 * §27.8): nothing was delivered, the IDT-vectoring field is
		 * left from an earlier exit, and the VMCS is not launched.
		 * The event of this entry stays pending.
		 */
		vmx->exit_qual = vmcs_read(EXIT_QUALIFICATION);
		vmx->idt_info = 0;
		if (entry_info & INTR_INFO_DELIVER_CODE_MASK)
			vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, entry_error);
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, entry_info);
	} else {
		vmx->launched = true;
		vmx->exit_qual = vmcs_read(EXIT_QUALIFICATION);
		vmx->exit_intr_info = vmcs_read(VM_EXIT_INTR_INFO);
		vmx->exit_intr_error = vmcs_read(VM_EXIT_INTR_ERROR_CODE);
		vmx->idt_info = vmcs_read(IDT_VECTORING_INFO_FIELD);
		vmx->idt_error = vmcs_read(IDT_VECTORING_ERROR_CODE);
		vmx->exit_insn_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
		vmx->exit_gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
		vcpu->regs[HVX_RSP] = vmcs_read(GUEST_RSP);
		vcpu->rip = vmcs_read(GUEST_RIP);
		vcpu->rflags = vmcs_read(GUEST_RFLAGS);
		/* VM exit cleared the entry's event: delivered, or back in idt_info. */
		vmx_requeue_interrupted(vmx);
		/* A host NMI made this exit and was consumed by it: hand it over. */
		if ((u16)vmx->exit_reason == EXIT_REASON_EXCEPTION_NMI &&
		    (vmx->exit_intr_info & (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK)) ==
		    (INTR_INFO_VALID_MASK | INTR_TYPE_NMI_INTR))
			hvx_vmx_do_nmi(HVX_NMI_ENTRY);
		/* So did a machine check, in the guest or in VM entry (SDM vol. 3C §27.8). */
		if (((u16)vmx->exit_reason == EXIT_REASON_EXCEPTION_NMI &&
		     (vmx->exit_intr_info & (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK |
					     INTR_INFO_VECTOR_MASK)) ==
		     (INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | X86_TRAP_MC)) ||
		    (u16)vmx->exit_reason == EXIT_REASON_MCE_DURING_VMENTRY)
			hvx_machine_check();
	}
	if (unlikely(rm))
		vmx_rm_exit(vcpu);
	/* A host interrupt that made the exit is taken here. */
	local_irq_enable();
	preempt_enable();

	trace_hvx_exit(vcpu->vm->id, vcpu->id, vmx->exit_reason, vcpu->rip,
		       vmx->exit_qual, vmx->exit_gpa);
	ret = vmx_handle_exit(vcpu);
	hvx_stat_inc(vcpu, ret > 0 ? HVX_STAT_EXITS_KERNEL : HVX_STAT_EXITS_USER);
	return ret;
}

const struct hvx_backend_ops hvx_vmx_ops = {
	.name			= "Intel VMX",
	.vendor			= HVX_VENDOR_INTEL,
	.nr_raw_exits		= VMX_NR_RAW,
	.probe			= vmx_probe,
	.hardware_setup		= vmx_hardware_setup,
	.hardware_unsetup	= vmx_hardware_unsetup,
	.cpu_enable		= vmx_cpu_enable,
	.cpu_disable		= vmx_cpu_disable,
	.cap			= vmx_cap,
	.vm_init		= vmx_vm_init,
	.vm_destroy		= vmx_vm_destroy,
	.vcpu_create		= vmx_vcpu_create,
	.vcpu_free		= vmx_vcpu_free,
	.run			= vmx_run,
	.get_sregs		= vmx_get_sregs,
	.set_sregs		= vmx_set_sregs,
	.get_cregs		= vmx_get_cregs,
	.set_cregs		= vmx_set_cregs,
	.get_dregs		= vmx_get_dregs,
	.set_dregs		= vmx_set_dregs,
	.get_events		= vmx_get_events,
	.set_events		= vmx_set_events,
	.get_injection		= vmx_get_injection,
	.set_injection		= vmx_set_injection,
	.set_cr2		= vmx_set_cr2,
	.get_msr		= vmx_get_msr,
	.set_msr		= vmx_set_msr,
	.get_paging		= vmx_get_paging,
	.seg_base		= vmx_seg_base,
	.get_segment		= vmx_get_segment,
	.interruptible		= vmx_interruptible,
	.nmi_allowed		= vmx_nmi_allowed,
	.set_windows		= vmx_set_windows,
	.raw_exit_code		= vmx_raw_exit_code,
};
