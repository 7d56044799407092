// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the Intel VMX backend (Intel SDM vol. 3C ch. 23-31): enabling, the
 * VMCS, VPIDs, EPT, vCPU state and the entry path.  Exit handlers live in
 * vmx_exit.c.
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

struct vmx_cpu {
	void *vmxon;			/* the VMXON region */
	struct list_head loaded;	/* VMCSs active here; irqs off */
	struct vmx_vcpu *current_vmcs;	/* the current VMCS, NULL: unknown */
	bool enabled;			/* VMXON done by us */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);
static DEFINE_IDA(vmx_vpids);

static u64 vmx_basic;
u32 vmx_pin;
static u32 vmx_secondary, vmx_exit_ctls, vmx_entry_ctls;
u32 vmx_cpu_based;
static u64 vmx_cr0_fixed0;
u64 vmx_cr0_fixed1, vmx_cr4_fixed0, vmx_cr4_fixed1;
static u64 vmx_cr0_mask, vmx_cr4_mask;	/* the bits the host owns */
bool vmx_ug;
static bool vmx_ept;		/* EPT usable: nested paging available */
static bool vmx_vpid, vmx_invept_single, vmx_invept_global, vmx_invvpid_single;
static bool vmx_shadow_ok;	/* CR3 and INVLPG exiting can be set */
static u32 vmx_preempt_ticks;

/*
 * The VMX-preemption timer makes the guest exit after this much guest
 * time at the latest.  Host interrupts exit the guest anyway; this is a
 * backstop for emulators that do not take an external-interrupt exit
 * while the guest has RFLAGS.IF clear (Bochs 2.7), which would leave the
 * host without timer ticks for as long as such a guest spins.
 */
#define HVX_VMX_BACKSTOP_MS	4
static u64 vmx_host_xcr0;

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
static DEFINE_STATIC_KEY_FALSE(vmx_l1d_flush_on);

static void vmx_l1d_flush(void)
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

/* The auto-switched MSRs: slot i of the guest and host lists (vmx.h). */
const u32 vmx_auto_msrs[VMX_NR_AUTO_MSRS] = {
	MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_TSC_AUX,
};

/*
 * "Enable RDTSCP" is on: RDTSCP and RDPID run in the guest and read
 * TSC_AUX, which VM entry and exit do not switch, so it joins the lists.
 * Off, both raise #UD and CPUID does not offer them (vmx_exit.c).
 */
bool vmx_rdtscp;
static unsigned int vmx_nr_auto_msrs;

#define VMX_AUTO_KGS	0

/* MSRs the guest reads and writes without an exit: held in the VMCS or the lists. */
static const u32 vmx_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
	MSR_CSTAR, MSR_SYSCALL_MASK, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
	MSR_IA32_SYSENTER_EIP,
};

void vmx_vmwrite_error(unsigned long field, unsigned long value)
{
	pr_err_ratelimited("hvx: VMWRITE %#lx <- %#lx failed (error %lu)\n", field, value,
			   vmcs_read(VM_INSTRUCTION_ERROR));
}

static int vmx_vmclear(u64 pa)
{
	asm goto("vmclear %0; jna %l[fail]" : : "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	pr_err_ratelimited("hvx: VMCLEAR %#llx failed\n", pa);
	return -EIO;
}

static int vmx_vmptrld(u64 pa)
{
	asm goto("vmptrld %0; jna %l[fail]" : : "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	pr_err_ratelimited("hvx: VMPTRLD %#llx failed\n", pa);
	return -EIO;
}

static void vmx_invept(u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };
	unsigned long type = vmx_invept_single ? VMX_EPT_EXTENT_CONTEXT : VMX_EPT_EXTENT_GLOBAL;

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

static void vmx_invept_all(void)
{
	struct { u64 eptp, reserved; } desc = { 0, 0 };
	unsigned long type = VMX_EPT_EXTENT_GLOBAL;

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

static void vmx_invvpid(u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };
	unsigned long type = vmx_invvpid_single ? VMX_VPID_EXTENT_SINGLE_CONTEXT :
						  VMX_VPID_EXTENT_ALL_CONTEXT;

	asm volatile("invvpid %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

static int vmx_probe(void)
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

	rdmsr((vmx_basic & HVX_VMX_BASIC_TRUE_CTLS) && true_msr ? true_msr : msr, lo, hi);
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

static void vmx_cpu_disable(void)
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

static int vmx_cpu_enable(void)
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
	if ((cr0 & vmx_cr0_fixed0) != vmx_cr0_fixed0 || (cr0 & ~vmx_cr0_fixed1)) {
		pr_err("hvx: CR0 %#llx does not fit VMX operation on CPU %d\n", cr0, cpu);
		return -EIO;
	}
	if (((cr4 | X86_CR4_VMXE) & vmx_cr4_fixed0) != vmx_cr4_fixed0 ||
	    (cr4 & ~vmx_cr4_fixed1)) {
		pr_err("hvx: CR4 %#llx does not fit VMX operation on CPU %d\n", cr4, cpu);
		return -EIO;
	}
	*(u32 *)vc->vmxon = HVX_VMX_BASIC_REVISION(vmx_basic);
	INIT_LIST_HEAD(&vc->loaded);
	vc->current_vmcs = NULL;
	cr4_set_bits(X86_CR4_VMXE);
	asm goto("vmxon %0; jna %l[fail]"
		 : : "m"(*(u64 *)&(u64){ __pa(vc->vmxon) }) : "cc", "memory" : fail);
	vc->enabled = true;
	/* Nothing cached from before VMXON may survive (SDM vol. 3C §28.3.3.4). */
	if (vmx_ept && vmx_invept_global)
		vmx_invept_all();
	return 0;
fail:
	cr4_clear_bits(X86_CR4_VMXE);
	pr_err("hvx: VMXON failed on CPU %d\n", cpu);
	return -EIO;
}

static void vmx_hardware_unsetup(void)
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

static int vmx_hardware_setup(void)
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

	rdmsrl(MSR_IA32_VMX_BASIC, vmx_basic);
	if (HVX_VMX_BASIC_SIZE(vmx_basic) > PAGE_SIZE || (vmx_basic & HVX_VMX_BASIC_32BIT) ||
	    HVX_VMX_BASIC_MEMTYPE(vmx_basic) != HVX_MEMTYPE_WB) {
		pr_err("hvx: unsupported VMCS layout (IA32_VMX_BASIC %#llx)\n", vmx_basic);
		return -ENODEV;
	}
	ret = vmx_adjust(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
			 pin_req, PIN_BASED_VIRTUAL_NMIS | PIN_BASED_VMX_PREEMPTION_TIMER,
			 &vmx_pin, "pin-based");
	ret = ret ?: vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
				cpu_req, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, &vmx_cpu_based,
				"processor-based");
	/*
	 * Every secondary control is optional: without EPT, VMs get shadow
	 * paging; without WBINVD exiting (the first VMX CPUs) a guest's
	 * WBINVD flushes the caches of the host.
	 */
	if (!ret && (vmx_cpu_based & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		ret = vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS2, 0, 0,
				 SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST |
				 SECONDARY_EXEC_ENABLE_VPID | SECONDARY_EXEC_ENABLE_RDTSCP |
				 SECONDARY_EXEC_ENABLE_INVPCID | SECONDARY_EXEC_WBINVD_EXITING,
				 &vmx_secondary, "secondary");
	else
		vmx_secondary = 0;
	ret = ret ?: vmx_adjust(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS,
				exit_req, 0, &vmx_exit_ctls, "VM-exit");
	ret = ret ?: vmx_adjust(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
				entry_req, 0, &vmx_entry_ctls, "VM-entry");
	if (ret)
		return ret;
	/* Interrupts are not acknowledged on exit: the host takes them itself. */
	vmx_exit_ctls &= ~VM_EXIT_ACK_INTR_ON_EXIT;
	vmx_entry_ctls &= ~VM_ENTRY_IA32E_MODE;
	/* Windows are asked for per entry; CR3 accesses need no exit with EPT. */
	vmx_cpu_based &= ~(CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING);
	{
		u32 shadow_bits = CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING |
				  CPU_BASED_INVLPG_EXITING;
		u32 lo, hi;

		rdmsr(vmx_basic & HVX_VMX_BASIC_TRUE_CTLS ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
		      MSR_IA32_VMX_PROCBASED_CTLS, lo, hi);
		vmx_shadow_ok = (hi & shadow_bits) == shadow_bits;
		/* CR3 exiting forced on (old CPUs): only shadow VMs can live with it. */
		if ((lo & (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING)) &&
		    (vmx_secondary & SECONDARY_EXEC_ENABLE_EPT)) {
			pr_info("hvx: this CPU forces CR3 exiting: EPT left unused\n");
			vmx_secondary &= ~(SECONDARY_EXEC_ENABLE_EPT |
					   SECONDARY_EXEC_UNRESTRICTED_GUEST);
		}
	}

	if (vmx_pin & PIN_BASED_VMX_PREEMPTION_TIMER) {
		u64 misc;

		/* The timer counts TSC >> IA32_VMX_MISC[4:0] (SDM vol. 3C §26.5.1). */
		rdmsrl(MSR_IA32_VMX_MISC, misc);
		vmx_preempt_ticks = min_t(u64, U32_MAX,
					  ((u64)tsc_khz * HVX_VMX_BACKSTOP_MS) >> (misc & 0x1f));
		if (!vmx_preempt_ticks)
			vmx_pin &= ~PIN_BASED_VMX_PREEMPTION_TIMER;
	}

	/*
	 * IA32_VMX_EPT_VPID_CAP exists only if EPT or VPID can be enabled
	 * (SDM vol. 3D §A.10).  EPT we cannot use (no 4-level write-back
	 * tables, no INVEPT) is left off, and unrestricted guest with it.
	 */
	ept_cap = 0;
	if (vmx_secondary & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID))
		rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, ept_cap);
	if ((vmx_secondary & SECONDARY_EXEC_ENABLE_EPT) &&
	    (!(ept_cap & VMX_EPT_PAGE_WALK_4_BIT) || !(ept_cap & VMX_EPTP_WB_BIT) ||
	     !(ept_cap & VMX_EPT_INVEPT_BIT) ||
	     !(ept_cap & (VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT)))) {
		pr_info("hvx: this CPU's EPT lacks 4-level write-back tables or INVEPT: left unused\n");
		vmx_secondary &= ~(SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST);
	}
	/* Unrestricted guest needs EPT (SDM vol. 3C §26.2.1.1). */
	if (!(vmx_secondary & SECONDARY_EXEC_ENABLE_EPT))
		vmx_secondary &= ~SECONDARY_EXEC_UNRESTRICTED_GUEST;
	vmx_ept = vmx_secondary & SECONDARY_EXEC_ENABLE_EPT;
	if (!vmx_ept && !vmx_shadow_ok) {
		pr_err("hvx: this CPU has neither usable EPT nor CR3-load and INVLPG exiting: no paging mode works\n");
		return -ENODEV;
	}
	vmx_invept_single = vmx_ept && (ept_cap & VMX_EPT_EXTENT_CONTEXT_BIT);
	vmx_invept_global = vmx_ept && (ept_cap & VMX_EPT_EXTENT_GLOBAL_BIT);
	vmx_vpid = (vmx_secondary & SECONDARY_EXEC_ENABLE_VPID) &&
		   ((ept_cap >> 32) & VMX_VPID_INVVPID_BIT) &&
		   ((ept_cap >> 32) & (VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT |
				       VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT));
	if (!vmx_vpid)
		vmx_secondary &= ~SECONDARY_EXEC_ENABLE_VPID;
	vmx_invvpid_single = (ept_cap >> 32) & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT;
	vmx_ug = vmx_secondary & SECONDARY_EXEC_UNRESTRICTED_GUEST;
	vmx_rdtscp = (vmx_secondary & SECONDARY_EXEC_ENABLE_RDTSCP) &&
		     (boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID));
	if (!vmx_rdtscp)
		vmx_secondary &= ~SECONDARY_EXEC_ENABLE_RDTSCP;
	vmx_nr_auto_msrs = vmx_rdtscp ? VMX_NR_AUTO_MSRS : VMX_AUTO_TSC_AUX;

	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, vmx_cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, vmx_cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, vmx_cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, vmx_cr4_fixed1);
	/* The guest owns the CR bits it may set freely; the rest exit. */
	vmx_cr0_mask = (u32)((vmx_cr0_fixed0 & ~(vmx_ug ? X86_CR0_PE | X86_CR0_PG : 0)) |
			     ~vmx_cr0_fixed1);
	vmx_cr4_mask = (u32)(vmx_cr4_fixed0 | ~vmx_cr4_fixed1);

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
	vmx_host_xcr0 = boot_cpu_has(X86_FEATURE_OSXSAVE) ?
			xgetbv(XCR_XFEATURE_ENABLED_MASK) : 0;

	hvx_emergency_register(vmx_emergency_disable, "VMX");
	pr_info("hvx: VMX %s, VPID %s, unrestricted guest %s, virtual NMIs %s, preemption timer %s, L1D flush %s\n",
		vmx_ept ? (vmx_shadow_ok ? "with EPT: nested and shadow paging" :
			   "with EPT: nested paging only") :
			  "without EPT: shadow paging only",
		vmx_vpid ? "yes" : "no", vmx_ug ? "yes" : "no",
		vmx_pin & PIN_BASED_VIRTUAL_NMIS ? "yes" : "no",
		vmx_pin & PIN_BASED_VMX_PREEMPTION_TIMER ? "yes" : "no",
		!l1d_flush ? "off" : vmx_l1d_buf ? "on (by reading)" : "on (FLUSH_CMD)");
	return 0;
}

static u64 vmx_cap(u32 cap)
{
	switch (cap) {
	case HVX_CAP_PAGING_NESTED:
		return vmx_ept;
	case HVX_CAP_NRIP_SAVE:
		return 1;	/* VM-exit instruction length */
	case HVX_CAP_UNRESTRICTED_GUEST:
		return vmx_ug;
	case HVX_CAP_PAGING_SHADOW:
		return vmx_shadow_ok;
	default:
		return 0;
	}
}

/* EPT entries (SDM vol. 3C §29.3.2): all guest memory write-back, guest PAT ignored. */
static u64 ept_leaf(phys_addr_t pa, bool writable)
{
	return pa | VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK |
	       (writable ? VMX_EPT_WRITABLE_MASK : 0) |
	       (HVX_MEMTYPE_WB << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT;
}

static const struct hvx_tdp_format ept_format = {
	.leaf		= ept_leaf,
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

/* IPI (or local call): VMCLEAR the VMCS if it is still active on this CPU. */
static void vmx_clear_ipi(void *arg)
{
	struct vmx_vcpu *vmx = arg;
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (READ_ONCE(vmx->cpu) != smp_processor_id())
		return;
	vmx_vmclear(vmx->vmcs_pa);
	list_del_init(&vmx->loaded);
	if (vc->current_vmcs == vmx)
		vc->current_vmcs = NULL;
	WRITE_ONCE(vmx->cpu, -1);
}

static void vmx_clear_remote(struct vmx_vcpu *vmx)
{
	int cpu = READ_ONCE(vmx->cpu);

	/* An offline CPU cleared its VMCSs when it went down. */
	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_ipi, vmx, 1);
}

static unsigned long vmx_tss_base(void)
{
	struct desc_ptr gdt;
	u16 tr;
	struct ldttss_desc *d;

	native_store_gdt(&gdt);
	asm volatile("str %0" : "=r"(tr));
	d = (struct ldttss_desc *)(gdt.address + (tr & ~7));
	return d->base0 | ((unsigned long)d->base1 << 16) |
	       ((unsigned long)d->base2 << 24) | ((unsigned long)d->base3 << 32);
}

/* The host state that differs between CPUs (called when the VMCS moves here). */
static void vmx_set_cpu_host_state(void)
{
	struct desc_ptr gdt;
	u64 esp;

	native_store_gdt(&gdt);
	vmcs_write(HOST_GDTR_BASE, gdt.address);
	vmcs_write(HOST_TR_BASE, vmx_tss_base());
	rdmsrl(MSR_IA32_SYSENTER_ESP, esp);
	vmcs_write(HOST_IA32_SYSENTER_ESP, esp);
}

/* Makes the vCPU's VMCS current on this CPU; preemption is off. */
static int vmx_load(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int cpu = smp_processor_id();

	if (unlikely(!vc->enabled))
		return -EIO;
	if (READ_ONCE(vmx->cpu) != cpu) {
		vmx_clear_remote(vmx);
		if (vmx_vmclear(vmx->vmcs_pa) || vmx_vmptrld(vmx->vmcs_pa))
			return -EIO;
		local_irq_disable();
		list_add(&vmx->loaded, &vc->loaded);
		WRITE_ONCE(vmx->cpu, cpu);
		local_irq_enable();
		vc->current_vmcs = vmx;
		vmx->launched = false;
		/* Translations tagged on this CPU may predate a zap elsewhere. */
		vmx->flush = true;
		vmx_set_cpu_host_state();
		/* The host's TSC_AUX holds the CPU number (vgetcpu()). */
		if (vmx_rdtscp)
			rdmsrl(MSR_TSC_AUX, vmx->host_msrs[VMX_AUTO_TSC_AUX].value);
	} else if (vc->current_vmcs != vmx) {
		if (vmx_vmptrld(vmx->vmcs_pa))
			return -EIO;
		vc->current_vmcs = vmx;
	}
	return 0;
}

void vmx_get(struct hvx_vcpu *vcpu)
{
	preempt_disable();
	WARN_ON_ONCE(vmx_load(vcpu));
}

void vmx_put(struct hvx_vcpu *vcpu)
{
	preempt_enable();
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
	u64 fixed0 = vmx_cr0_fixed0 & ~(vmx_ug && !shadow ? X86_CR0_PE | X86_CR0_PG : 0);

	vmcs_write(CR0_READ_SHADOW, cr0);
	if (shadow)
		cr0 |= X86_CR0_PG | X86_CR0_WP;
	vmcs_write(GUEST_CR0, (cr0 | fixed0) & vmx_cr0_fixed1);
	return 0;
}

int vmx_set_cr4(struct hvx_vcpu *vcpu, u64 cr4)
{
	vmcs_write(CR4_READ_SHADOW, cr4);
	if (to_vmx(vcpu)->shadow)
		cr4 = (cr4 & ~(X86_CR4_PSE | X86_CR4_PGE | X86_CR4_PCIDE | X86_CR4_LA57)) |
		      X86_CR4_PAE;
	vmcs_write(GUEST_CR4, (cr4 | vmx_cr4_fixed0) & vmx_cr4_fixed1);
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
	struct desc_ptr idt;
	u64 v;

	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_pin);
	if (vmx->shadow) {
		/*
		 * Shadow paging: no EPT (nor unrestricted guest, nor INVPCID,
		 * which would need decoding), CR3 writes and reads, INVLPG and
		 * #PF exit, and the paging bits of CR0/CR4 are host-owned.
		 */
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx_cpu_based | CPU_BASED_CR3_LOAD_EXITING |
			   CPU_BASED_CR3_STORE_EXITING | CPU_BASED_INVLPG_EXITING);
		if (vmx_cpu_based & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
			vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_secondary &
				   ~(SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST |
				     SECONDARY_EXEC_ENABLE_INVPCID));
	} else {
		/* Nested paging: the CPU has EPT, hence secondary controls. */
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx_cpu_based);
		vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_secondary);
		vmcs_write(EPT_POINTER, vv->eptp);
	}
	vmcs_write(VM_EXIT_CONTROLS, vmx_exit_ctls);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_entry_ctls);
	/*
	 * #AC and #DB raised while delivering themselves loop inside the CPU
	 * with no instruction boundary for an interrupt to end the guest at
	 * (CVE-2015-5307, CVE-2015-8104): they exit instead and are delivered
	 * from vmx_exit.c.  A machine check is the host's: without the exit
	 * it would go through the guest's IDT.
	 */
	vmcs_write(EXCEPTION_BITMAP, BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC) |
		   (vmx->shadow ? BIT(X86_TRAP_PF) : 0));
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(TSC_OFFSET, 0);
	vmcs_write(MSR_BITMAP, __pa(vv->msr_bitmap));
	if (vmx->vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmx->cr0_mask = vmx_cr0_mask | (vmx->shadow ? VMX_SHADOW_CR0_BITS : 0);
	vmx->cr4_mask = vmx_cr4_mask | (vmx->shadow ? VMX_SHADOW_CR4_BITS : 0);
	vmcs_write(CR0_GUEST_HOST_MASK, vmx->cr0_mask);
	vmcs_write(CR4_GUEST_HOST_MASK, vmx->cr4_mask);
	if (vmx_pin & PIN_BASED_VMX_PREEMPTION_TIMER)
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, vmx_preempt_ticks);

	vmcs_write(VM_ENTRY_MSR_LOAD_ADDR, __pa(vmx->guest_msrs));
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, vmx_nr_auto_msrs);
	vmcs_write(VM_EXIT_MSR_STORE_ADDR, __pa(vmx->guest_msrs));
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, vmx_nr_auto_msrs);
	vmcs_write(VM_EXIT_MSR_LOAD_ADDR, __pa(vmx->host_msrs));
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, vmx_nr_auto_msrs);

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
	if (vmx_vpid) {
		ret = ida_alloc_range(&vmx_vpids, 1, 0xffff, GFP_KERNEL);
		if (ret < 0)
			goto err;
		vmx->vpid = ret;
	}
	*(u32 *)vmx->vmcs = HVX_VMX_BASIC_REVISION(vmx_basic);
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
	if (vmx->shadow) {
		ret = hvx_shadow_init(&vcpu->shadow);
		if (ret)
			goto err_vpid;
	}
	vcpu->arch = vmx;

	preempt_disable();
	ret = vmx_load(vcpu);
	if (!ret)
		vmx_vmcs_setup(vcpu);
	preempt_enable();
	if (ret) {
		vmx_clear_remote(vmx);
		hvx_shadow_destroy(&vcpu->shadow);
		goto err_vpid;
	}
	return 0;

err_vpid:
	if (vmx->vpid)
		ida_free(&vmx_vpids, vmx->vpid);
err:
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
	if (vmx->shadow)
		hvx_shadow_destroy(&vcpu->shadow);
	if (vmx->vpid)
		ida_free(&vmx_vpids, vmx->vpid);
	free_page((unsigned long)vmx->guest_msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
}

static void vmx_set_window(u32 bit, bool on)
{
	u32 ctl = vmcs_read(CPU_BASED_VM_EXEC_CONTROL);

	if (!!(ctl & bit) != on)
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, on ? ctl | bit : ctl & ~bit);
}

/*
 * Picks what the VM-entry interruption field carries on this entry: an
 * event whose delivery an exit interrupted (put back there by the exit
 * path), else a queued exception, NMI, or interrupt if the guest can take
 * it now; otherwise asks for an exit when it can.  VMCS current.
 */
static void vmx_inject_events(struct hvx_vcpu *vcpu, u32 intr)
{
	struct hvx_pending *p = &vcpu->ev;
	bool irq_window = p->irq || vcpu->run->request_interrupt_window;
	bool nmi_window = false;
	bool vnmi = vmx_pin & PIN_BASED_VIRTUAL_NMIS;
	bool shadow = intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);

	if (!(vmcs_read(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK)) {
		if (p->exception) {
			u32 info = p->exc_vector | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_VALID_MASK;

			if (p->exc_has_error && (vmx_guest_cr0(vcpu) & X86_CR0_PE)) {
				info |= INTR_INFO_DELIVER_CODE_MASK;
				vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, p->exc_error);
			}
			vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
			p->exception = false;
			hvx_stat_inc(vcpu, HVX_STAT_INJ_EXCEPTION);
			trace_hvx_inject(vcpu->vm->id, vcpu->id, HVX_EVENT_EXCEPTION,
					 p->exc_vector);
		} else if (p->nmi) {
			if (!shadow && !p->nmi_masked && !(intr & GUEST_INTR_STATE_NMI)) {
				vmcs_write(VM_ENTRY_INTR_INFO_FIELD, NMI_VECTOR |
					   INTR_TYPE_NMI_INTR | INTR_INFO_VALID_MASK);
				p->nmi = false;
				hvx_stat_inc(vcpu, HVX_STAT_INJ_NMI);
				trace_hvx_inject(vcpu->vm->id, vcpu->id, HVX_EVENT_NMI, 2);
			} else if (!p->nmi_masked) {
				nmi_window = vnmi && !shadow;
				irq_window |= !nmi_window;
			}
		} else if (p->irq && (vcpu->rflags & X86_EFLAGS_IF) && !shadow) {
			vmcs_write(VM_ENTRY_INTR_INFO_FIELD, p->irq_vector |
				   INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK);
			p->irq = false;
			irq_window = vcpu->run->request_interrupt_window;
			hvx_stat_inc(vcpu, HVX_STAT_INJ_IRQ);
			trace_hvx_inject(vcpu->vm->id, vcpu->id, HVX_EVENT_EXTINT, p->irq_vector);
		}
	}
	vmx_set_window(CPU_BASED_INTR_WINDOW_EXITING, irq_window);
	if (vnmi)
		vmx_set_window(CPU_BASED_NMI_WINDOW_EXITING, nmi_window);
}

/* Debug registers: as on SVM, DR0-3 (and DR6) are the guest's only once it uses them. */
static void vmx_load_guest_dr(struct hvx_vcpu *vcpu)
{
	int i;

	if (hw_breakpoint_active())
		native_set_debugreg(7, 0);
	for (i = 0; i < 4; i++)
		native_set_debugreg(i, vcpu->dr[i]);
	native_set_debugreg(6, to_vmx(vcpu)->dr6);
}

static void vmx_put_guest_dr(struct hvx_vcpu *vcpu)
{
	int i;

	for (i = 0; i < 4; i++)
		vcpu->dr[i] = native_get_debugreg(i);
	to_vmx(vcpu)->dr6 = native_get_debugreg(6);
	native_set_debugreg(6, DR6_RESERVED);
}

/* PKRU: as on SVM (see svm.c); VM entry does not switch it either. */
static bool vmx_pkru_loaded(struct hvx_vcpu *vcpu, u64 cr4, u32 *host)
{
	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		return false;
	*host = rdpkru();
	if (!(cr4 & X86_CR4_PKE) && !vcpu->pkru)
		return false;
	if (*host != vcpu->pkru)
		wrpkru(vcpu->pkru);
	return true;
}

static void vmx_put_guest_pkru(struct hvx_vcpu *vcpu, u64 cr4, u32 host, bool loaded)
{
	u32 cur;

	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		return;
	cur = rdpkru();
	if (loaded || cur != host || (cr4 & X86_CR4_PKE))
		vcpu->pkru = cur;
	if (cur != host)
		wrpkru(host);
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
	bool pkru_loaded;
	int ret, fail, gen;

	if (vcpu->run->request_interrupt_window && !vcpu->ev.irq && vmx_interruptible(vcpu)) {
		vmx_get(vcpu);
		ret = vmcs_read(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK;
		vmx_put(vcpu);
		if (!ret) {
			vcpu->exit_rip = vcpu->rip;
			vcpu->run->exit_reason = HVX_EXIT_IRQ_WINDOW;
			return 0;
		}
	}

	/* Without unrestricted guest, real mode cannot run (SET_STATE says so too). */
	if (unlikely(!vmx_ug || vmx->shadow)) {
		struct hvx_paging pg;

		vmx_get_paging(vcpu, &pg);
		if (!(pg.cr0 & X86_CR0_PE) ||
		    (!vmx_ug && !(pg.cr0 & X86_CR0_PG)))
			return -EOPNOTSUPP;
		/*
		 * Under shadow paging the CPU never sees the guest's paging
		 * registers and cannot refuse an inconsistent set: check
		 * what VM entry would (SDM vol. 3C §26.3.1.1) and fail the
		 * entry the same way.
		 */
		if (vmx->shadow && ((pg.efer & EFER_LMA) ?
		    !(pg.cr0 & X86_CR0_PG) || !(pg.cr4 & X86_CR4_PAE) || !(pg.efer & EFER_LME) :
		    (pg.cr0 & X86_CR0_PG) && (pg.efer & EFER_LME))) {
			vmx->exit_reason = VMX_EXIT_FAILED_ENTRY | EXIT_REASON_INVALID_STATE;
			vmx->exit_qual = 0;
			return vmx_handle_exit(vcpu);
		}
	}

	/* VMX is off, or about to be, for a reboot: no VMX instruction may run. */
	if (unlikely(READ_ONCE(hvx_rebooting)))
		return -EIO;
	preempt_disable();
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	ret = vmx_load(vcpu);
	if (ret) {
		preempt_enable();
		return ret;
	}
	local_irq_disable();
	if (unlikely(READ_ONCE(hvx_rebooting))) {
		local_irq_enable();
		preempt_enable();
		return -EIO;
	}
	if (need_resched() || signal_pending(current)) {
		local_irq_enable();
		preempt_enable();
		return 1;
	}

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
	vmx_inject_events(vcpu, intr);
	entry_info = vmcs_read(VM_ENTRY_INTR_INFO_FIELD);
	entry_error = vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE);
	vmcs_write(GUEST_RSP, vcpu->regs[HVX_RSP]);
	vmcs_write(GUEST_RIP, vcpu->rip);
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);
	guest_cr4 = vmx_guest_cr4(vcpu);
	vmx_save_host(vmx, &host);

	/* As on SVM: a value the CPU refuses fails the entry, not the host. */
	if (vcpu->xcr0 != vmx_host_xcr0 &&
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
	pkru_loaded = vmx_pkru_loaded(vcpu, guest_cr4, &host_pkru);
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);

	/*
	 * Guest time is a quiescent state for RCU, as user time is: a
	 * guest that runs long must not stall grace periods.
	 */
	rcu_note_context_switch(false);
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
	vmx_put_guest_pkru(vcpu, guest_cr4, host_pkru, pkru_loaded);
	if (vmx->guest_dr)
		vmx_put_guest_dr(vcpu);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	if (vcpu->xcr0 != vmx_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vmx_host_xcr0);

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
	.get_msr		= vmx_get_msr,
	.set_msr		= vmx_set_msr,
	.get_paging		= vmx_get_paging,
	.seg_base		= vmx_seg_base,
	.interruptible		= vmx_interruptible,
	.inject_gp		= vmx_inject_gp,
	.inject_fault		= vmx_inject_fault,
	.raw_exit_code		= vmx_raw_exit_code,
};
