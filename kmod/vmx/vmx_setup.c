// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: bringing VMX up and down: what the CPU offers (gathered once in
 * vmx_caps), VMXON and VMXOFF on each CPU, the emergency exit from VMX
 * operation, and the L1D flush the entry path may need.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/jump_label.h>
#include <linux/cpu.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/cpufeature.h>
#include <asm/fpu/xcr.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>
#include <asm/reboot.h>

#include "vmx.h"

/* What the CPU offers and hvx chose of it, set once at load (vmx.h). */
struct vmx_caps vmx_caps __read_mostly;

/*
 * The VMX-preemption timer makes the guest exit after this much guest
 * time at the latest.  Host interrupts exit the guest anyway; this is a
 * backstop for emulators that do not take an external-interrupt exit
 * while the guest has RFLAGS.IF clear (Bochs 2.7), which would leave the
 * host without timer ticks for as long as such a guest spins.
 */
#define HVX_VMX_BACKSTOP_MS	4

/*
 * L1 terminal fault (L1TF, CVE-2018-3646): on affected Intel CPUs a guest
 * reads, through a guest PTE that is not present, whatever the host left
 * in the L1 data cache.  With the flush on, every entry first empties L1D:
 * through IA32_FLUSH_CMD where the CPU has it, else by reading a buffer
 * larger than any L1D through it, each page first so that the reads do
 * not miss the TLB (SDM vol. 3A §"Mitigating L1TF"; KVM does the same).
 * This does not cover the sibling hyperthread: the host's SMT policy
 * (mitigations=auto,nosmt) decides that.
 */
static int l1d_flush = -1;
module_param_cb(l1d_flush, &hvx_param_tristate, &l1d_flush, 0444);
MODULE_PARM_DESC(l1d_flush,
		 "empty L1D before every VMX entry (L1TF): 1 always, 0 never, -1 (default) on CPUs with L1TF unless the host runs with mitigations=off");
#define VMX_L1D_BUF_ORDER	4	/* 64 KiB */
static u8 *vmx_l1d_buf;
DEFINE_STATIC_KEY_FALSE(vmx_l1d_flush_on);

void vmx_l1d_flush(void)
{
	unsigned int i;

	if (static_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	for (i = 0; i < (PAGE_SIZE << VMX_L1D_BUF_ORDER); i += PAGE_SIZE)
		(void)READ_ONCE(vmx_l1d_buf[i]);
	for (i = 0; i < (PAGE_SIZE << VMX_L1D_BUF_ORDER); i += L1_CACHE_BYTES)
		(void)READ_ONCE(vmx_l1d_buf[i]);
}

static int vmx_l1d_flush_setup(void)
{
	if (l1d_flush < 0)
		l1d_flush = boot_cpu_has_bug(X86_BUG_L1TF) && !cpu_mitigations_off();
	if (!l1d_flush)
		return 0;
	l1d_flush = 1;
	if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		vmx_l1d_buf = (u8 *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, VMX_L1D_BUF_ORDER);
		if (!vmx_l1d_buf)
			return -ENOMEM;
	}
	static_branch_enable(&vmx_l1d_flush_on);
	return 0;
}

static void vmx_l1d_flush_unsetup(void)
{
	static_branch_disable(&vmx_l1d_flush_on);
	if (vmx_l1d_buf)
		free_pages((unsigned long)vmx_l1d_buf, VMX_L1D_BUF_ORDER);
	vmx_l1d_buf = NULL;
}

int vmx_probe(void)
{
	u64 feat;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_CENTAUR &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_ZHAOXIN)
		return -ENODEV;
	if (!(cpuid_ecx(1) & BIT(5)))
		return -ENODEV;
	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if ((feat & FEAT_CTL_LOCKED) && !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("hvx: VMX is disabled by the firmware (IA32_FEATURE_CONTROL locked)\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * A VMX control word from its capability MSR (SDM vol. 3D §A.3-A.5): the
 * low half has the bits that must be 1, the high half those that may be.
 */
static int vmx_adjust(u32 msr, u32 true_msr, u32 required, u32 optional, u32 *out,
		      const char *what)
{
	u32 lo, hi, ctl;

	rdmsr((vmx_caps.basic & HVX_VMX_BASIC_TRUE_CTLS) && true_msr ? true_msr : msr, lo, hi);
	ctl = ((required | optional) & hi) | lo;
	if ((ctl & required) != required) {
		pr_err("hvx: this CPU lacks VMX %s controls %#x\n", what, required & ~ctl);
		return -ENODEV;
	}
	*out = ctl;
	return 0;
}

/* Leaves VMX operation on this CPU: every active VMCS is cleared first. */
static void vmx_cpu_off(struct vmx_cpu *vc)
{
	struct vmx_vcpu *vmx, *tmp;

	if (!vc->enabled)
		return;
	list_for_each_entry_safe(vmx, tmp, &vc->loaded, loaded) {
		vmx_vmclear(vmx->vmcs_pa);
		list_del_init(&vmx->loaded);
		WRITE_ONCE(vmx->cpu, -1);
	}
	vc->current_vmcs = NULL;
	asm volatile("vmxoff" : : : "cc", "memory");
	cr4_clear_bits(X86_CR4_VMXE);
	vc->enabled = false;
}

void vmx_cpu_disable(void)
{
	unsigned long flags;

	local_irq_save(flags);
	vmx_cpu_off(this_cpu_ptr(&vmx_cpu));
	local_irq_restore(flags);
}

/*
 * A crash (kdump) or an emergency reboot: INIT is blocked in VMX
 * operation, so leave it.  Runs in NMI context on every CPU.
 */
static void vmx_emergency_disable(void)
{
	WRITE_ONCE(hvx_rebooting, true);
	vmx_cpu_off(this_cpu_ptr(&vmx_cpu));
}

int vmx_cpu_enable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int cpu = smp_processor_id();
	u64 feat, cr0 = read_cr0(), cr4 = __read_cr4();

	if (cr4 & X86_CR4_VMXE) {
		/* Someone else (kvm-intel, VirtualBox) runs guests here. */
		pr_err("hvx: VMX is already enabled on CPU %d by another hypervisor; not touching it\n",
		       cpu);
		return -EBUSY;
	}
	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & FEAT_CTL_LOCKED)) {
		/* Unlocked: enable VMX outside SMX and lock, as firmware would. */
		feat |= FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX;
		wrmsrl(MSR_IA32_FEAT_CTL, feat);
	} else if (!(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("hvx: VMX is disabled by the firmware on CPU %d\n", cpu);
		return -ENODEV;
	}
	/* SDM vol. 3C §23.8: the fixed bits of CR0 and CR4 in VMX operation. */
	if ((cr0 & vmx_caps.cr0_fixed0) != vmx_caps.cr0_fixed0 || (cr0 & ~vmx_caps.cr0_fixed1)) {
		pr_err("hvx: CR0 %#llx does not fit VMX operation on CPU %d\n", cr0, cpu);
		return -EIO;
	}
	if (((cr4 | X86_CR4_VMXE) & vmx_caps.cr4_fixed0) != vmx_caps.cr4_fixed0 ||
	    (cr4 & ~vmx_caps.cr4_fixed1)) {
		pr_err("hvx: CR4 %#llx does not fit VMX operation on CPU %d\n", cr4, cpu);
		return -EIO;
	}
	*(u32 *)vc->vmxon = HVX_VMX_BASIC_REVISION(vmx_caps.basic);
	INIT_LIST_HEAD(&vc->loaded);
	vc->current_vmcs = NULL;
	cr4_set_bits(X86_CR4_VMXE);
	asm goto("vmxon %0; jna %l[fail]"
		 : : "m"(*(u64 *)&(u64){ __pa(vc->vmxon) }) : "cc", "memory" : fail);
	vc->enabled = true;
	/* Nothing cached from before VMXON may survive (SDM vol. 3C §28.3.3.4). */
	if (vmx_caps.ept && vmx_caps.invept_global)
		vmx_invept_all();
	return 0;
fail:
	cr4_clear_bits(X86_CR4_VMXE);
	pr_err("hvx: VMXON failed on CPU %d\n", cpu);
	return -EIO;
}

void vmx_hardware_unsetup(void)
{
	int cpu;

	hvx_emergency_unregister();
	vmx_l1d_flush_unsetup();
	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		free_page((unsigned long)vc->vmxon);
		vc->vmxon = NULL;
	}
}

int vmx_hardware_setup(void)
{
	u32 pin_req = PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING;
	u32 cpu_req = CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING |
		      CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_MWAIT_EXITING |
		      CPU_BASED_MONITOR_EXITING | CPU_BASED_CR8_LOAD_EXITING |
		      CPU_BASED_CR8_STORE_EXITING | CPU_BASED_MOV_DR_EXITING |
		      CPU_BASED_USE_TSC_OFFSETTING | CPU_BASED_RDPMC_EXITING;
	u32 exit_req = VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_PAT |
		       VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_EFER |
		       VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_DEBUG_CONTROLS;
	u32 entry_req = VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_IA32_EFER |
			VM_ENTRY_LOAD_DEBUG_CONTROLS;
	u64 ept_cap;
	int cpu, ret;

	rdmsrl(MSR_IA32_VMX_BASIC, vmx_caps.basic);
	if (HVX_VMX_BASIC_SIZE(vmx_caps.basic) > PAGE_SIZE ||
	    (vmx_caps.basic & HVX_VMX_BASIC_32BIT) ||
	    HVX_VMX_BASIC_MEMTYPE(vmx_caps.basic) != HVX_MEMTYPE_WB) {
		pr_err("hvx: unsupported VMCS layout (IA32_VMX_BASIC %#llx)\n", vmx_caps.basic);
		return -ENODEV;
	}
	ret = vmx_adjust(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
			 pin_req, PIN_BASED_VIRTUAL_NMIS | PIN_BASED_VMX_PREEMPTION_TIMER,
			 &vmx_caps.pin, "pin-based");
	ret = ret ?: vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
				cpu_req, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, &vmx_caps.cpu_based,
				"processor-based");
	/*
	 * Every secondary control is optional: without EPT, VMs get shadow
	 * paging; without WBINVD exiting (the first VMX CPUs) a guest's
	 * WBINVD flushes the caches of the host.
	 */
	if (!ret && (vmx_caps.cpu_based & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		ret = vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS2, 0, 0,
				 SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST |
				 SECONDARY_EXEC_ENABLE_VPID | SECONDARY_EXEC_ENABLE_RDTSCP |
				 SECONDARY_EXEC_ENABLE_INVPCID | SECONDARY_EXEC_WBINVD_EXITING,
				 &vmx_caps.secondary, "secondary");
	else
		vmx_caps.secondary = 0;
	ret = ret ?: vmx_adjust(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS,
				exit_req, 0, &vmx_caps.exit_ctls, "VM-exit");
	ret = ret ?: vmx_adjust(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
				entry_req, 0, &vmx_caps.entry_ctls, "VM-entry");
	if (ret)
		return ret;
	/* Interrupts are not acknowledged on exit: the host takes them itself. */
	vmx_caps.exit_ctls &= ~VM_EXIT_ACK_INTR_ON_EXIT;
	vmx_caps.entry_ctls &= ~VM_ENTRY_IA32E_MODE;
	/* Windows are asked for per entry; CR3 accesses need no exit with EPT. */
	vmx_caps.cpu_based &= ~(CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING);
	{
		u32 shadow_bits = CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING |
				  CPU_BASED_INVLPG_EXITING;
		u32 lo, hi;

		rdmsr(vmx_caps.basic & HVX_VMX_BASIC_TRUE_CTLS ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
		      MSR_IA32_VMX_PROCBASED_CTLS, lo, hi);
		vmx_caps.shadow_ok = (hi & shadow_bits) == shadow_bits;
		/* For VMs with an APIC in the kernel (vmx_vmcs_setup()). */
		vmx_caps.tpr_shadow = (hi & CPU_BASED_TPR_SHADOW) &&
				      !(lo & (CPU_BASED_CR8_LOAD_EXITING |
					      CPU_BASED_CR8_STORE_EXITING));
		/* CR3 exiting forced on (old CPUs): only shadow VMs can live with it. */
		if ((lo & (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING)) &&
		    (vmx_caps.secondary & SECONDARY_EXEC_ENABLE_EPT)) {
			pr_info("hvx: this CPU forces CR3 exiting: EPT left unused\n");
			vmx_caps.secondary &= ~(SECONDARY_EXEC_ENABLE_EPT |
					   SECONDARY_EXEC_UNRESTRICTED_GUEST);
		}
	}

	if (vmx_caps.pin & PIN_BASED_VMX_PREEMPTION_TIMER) {
		u64 misc;

		/* The timer counts TSC >> IA32_VMX_MISC[4:0] (SDM vol. 3C §26.5.1). */
		rdmsrl(MSR_IA32_VMX_MISC, misc);
		vmx_caps.preempt_ticks = min_t(u64, U32_MAX,
					       ((u64)tsc_khz * HVX_VMX_BACKSTOP_MS) >>
					       (misc & 0x1f));
		if (!vmx_caps.preempt_ticks)
			vmx_caps.pin &= ~PIN_BASED_VMX_PREEMPTION_TIMER;
	}

	/*
	 * IA32_VMX_EPT_VPID_CAP exists only if EPT or VPID can be enabled
	 * (SDM vol. 3D §A.10).  EPT we cannot use (no 4-level write-back
	 * tables, no INVEPT) is left off, and unrestricted guest with it.
	 */
	ept_cap = 0;
	if (vmx_caps.secondary & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID))
		rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, ept_cap);
	if ((vmx_caps.secondary & SECONDARY_EXEC_ENABLE_EPT) &&
	    (!(ept_cap & VMX_EPT_PAGE_WALK_4_BIT) || !(ept_cap & VMX_EPTP_WB_BIT) ||
	     !(ept_cap & VMX_EPT_INVEPT_BIT) ||
	     !(ept_cap & (VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT)))) {
		pr_info("hvx: this CPU's EPT lacks 4-level write-back tables or INVEPT: left unused\n");
		vmx_caps.secondary &= ~(SECONDARY_EXEC_ENABLE_EPT |
					SECONDARY_EXEC_UNRESTRICTED_GUEST);
	}
	/* Unrestricted guest needs EPT (SDM vol. 3C §26.2.1.1). */
	if (!(vmx_caps.secondary & SECONDARY_EXEC_ENABLE_EPT))
		vmx_caps.secondary &= ~SECONDARY_EXEC_UNRESTRICTED_GUEST;
	vmx_caps.ept = vmx_caps.secondary & SECONDARY_EXEC_ENABLE_EPT;
	if (!vmx_caps.ept && !vmx_caps.shadow_ok) {
		pr_err("hvx: this CPU has neither usable EPT nor CR3-load and INVLPG exiting: no paging mode works\n");
		return -ENODEV;
	}
	vmx_caps.ept_2m = vmx_caps.ept && (ept_cap & VMX_EPT_2MB_PAGE_BIT);
	vmx_caps.invept_single = vmx_caps.ept && (ept_cap & VMX_EPT_EXTENT_CONTEXT_BIT);
	vmx_caps.invept_global = vmx_caps.ept && (ept_cap & VMX_EPT_EXTENT_GLOBAL_BIT);
	vmx_caps.vpid = (vmx_caps.secondary & SECONDARY_EXEC_ENABLE_VPID) &&
		   ((ept_cap >> 32) & VMX_VPID_INVVPID_BIT) &&
		   ((ept_cap >> 32) & (VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT |
				       VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT));
	if (!vmx_caps.vpid)
		vmx_caps.secondary &= ~SECONDARY_EXEC_ENABLE_VPID;
	vmx_caps.invvpid_single = (ept_cap >> 32) & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT;
	vmx_caps.ug = vmx_caps.secondary & SECONDARY_EXEC_UNRESTRICTED_GUEST;
	vmx_caps.rdtscp = (vmx_caps.secondary & SECONDARY_EXEC_ENABLE_RDTSCP) &&
		     (boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID));
	if (!vmx_caps.rdtscp)
		vmx_caps.secondary &= ~SECONDARY_EXEC_ENABLE_RDTSCP;
	vmx_caps.nr_auto_msrs = vmx_caps.rdtscp ? VMX_NR_AUTO_MSRS : VMX_AUTO_TSC_AUX;

	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, vmx_caps.cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, vmx_caps.cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, vmx_caps.cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, vmx_caps.cr4_fixed1);
	/* The guest owns the CR bits it may set freely; the rest exit. */
	vmx_caps.cr0_mask = (u32)((vmx_caps.cr0_fixed0 &
				   ~(vmx_caps.ug ? X86_CR0_PE | X86_CR0_PG : 0)) |
				  ~vmx_caps.cr0_fixed1);
	vmx_caps.cr4_mask = (u32)(vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1);

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		vc->vmxon = (void *)get_zeroed_page(GFP_KERNEL);
		if (!vc->vmxon) {
			vmx_hardware_unsetup();
			return -ENOMEM;
		}
	}
	if (vmx_l1d_flush_setup()) {
		vmx_hardware_unsetup();
		return -ENOMEM;
	}
	vmx_caps.host_xcr0 = boot_cpu_has(X86_FEATURE_OSXSAVE) ?
			xgetbv(XCR_XFEATURE_ENABLED_MASK) : 0;

	hvx_emergency_register(vmx_emergency_disable, "VMX");
	pr_info("hvx: VMX %s, VPID %s, unrestricted guest %s, virtual NMIs %s, preemption timer %s, L1D flush %s\n",
		vmx_caps.ept ? (vmx_caps.shadow_ok ? "with EPT: nested and shadow paging" :
			   "with EPT: nested paging only") :
			  "without EPT: shadow paging only",
		vmx_caps.vpid ? "yes" : "no", vmx_caps.ug ? "yes" : "no",
		vmx_caps.pin & PIN_BASED_VIRTUAL_NMIS ? "yes" : "no",
		vmx_caps.pin & PIN_BASED_VMX_PREEMPTION_TIMER ? "yes" : "no",
		!l1d_flush ? "off" : vmx_l1d_buf ? "on (by reading)" : "on (FLUSH_CMD)");
	return 0;
}

u64 vmx_cap(u32 cap)
{
	switch (cap) {
	case HVX_CAP_PAGING_NESTED:
		return vmx_caps.ept;
	case HVX_CAP_NRIP_SAVE:
		return 1;	/* VM-exit instruction length */
	case HVX_CAP_UNRESTRICTED_GUEST:
		return vmx_caps.ug;
	case HVX_CAP_PAGING_SHADOW:
		return vmx_caps.shadow_ok;
	case HVX_CAP_SHADOW_REAL_MODE:	/* vmx_rmode.c */
		return vmx_caps.shadow_ok ? HVX_REAL_MODE_VM86 : HVX_REAL_MODE_NONE;
	default:
		return 0;
	}
}
