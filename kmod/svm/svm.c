// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the AMD SVM backend (AMD APM vol. 2 ch. 15): enabling, the VMCB,
 * ASIDs, NPT, event injection and the entry path.  State accessors live
 * in svm_state.c, exit handlers in svm_exit.c.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/irq_work.h>
#include <linux/slab.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/rcupdate.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/debugreg.h>
#include <asm/hw_breakpoint.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/types.h>
#include <asm/cpufeature.h>
#include <asm/trapnr.h>
#include <asm/hypervisor.h>
#include <asm/reboot.h>

#include "svm.h"
#include "hvx_trace.h"

struct svm_cpu {
	void *hsave;		/* host save area, MSR VM_HSAVE_PA */
	void *host_vmcb;	/* VMSAVE/VMLOAD target for host state */
	u64 asid_gen;
	u32 next_asid;
	bool enabled;		/* EFER.SVME set by us */
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpu);

/*
 * QEMU's emulated SVM (TCG, up to at least 9.x) delivers an interrupt
 * injected through EVENTINJ inside VMRUN itself but leaves the vector as
 * the CPU's pending exception; if the emulator's vCPU thread is then
 * asked to leave its loop before anything else ends the guest's first
 * instruction block, it delivers the same vector again, now with the
 * guest's interrupts off, inside the handler the first delivery entered.
 * A Linux guest then deadlocks on a lock its interrupt handler already
 * holds.  A host interrupt pending at VMRUN makes the emulator exit the
 * guest at once after the injection (an INTR intercept, which replaces
 * the stale vector), so before each injected interrupt a self-IPI
 * (irq_work) is raised.  On by default only under a hypervisor the
 * kernel does not identify, as QEMU's TCG (it has no hypervisor leaf
 * Linux knows); off on bare metal and under KVM, Hyper-V, VMware or Xen,
 * whose SVM is the hardware's; Documentation/design.rst.
 */
static int kick_after_inject = -1;
module_param_cb(kick_after_inject, &hvx_param_tristate, &kick_after_inject, 0444);
MODULE_PARM_DESC(kick_after_inject,
		 "exit right after each injected interrupt (QEMU TCG workaround): 1 on, 0 off, -1 (default) on under a hypervisor Linux does not identify");

static void svm_kick_fn(struct irq_work *work)
{
	/* Nothing to do: the interrupt itself made the guest exit. */
}

static DEFINE_PER_CPU(struct irq_work, svm_kick);

static u32 svm_max_asid;
bool svm_nrips __read_mostly;	/* the CPU saves the next RIP at an exit */
static bool svm_npt;
static u64 svm_host_xcr0;	/* the same on every CPU */
static bool svm_has_tsc_aux;	/* RDTSCP or RDPID: the CPU has MSR TSC_AUX */

/* Segment attributes: APM §15.5.1, descriptor bits 47:40 and 55:52. */
#define SEG_P		BIT(7)
#define HVX_DR7_BP_ENABLE	0xffUL	/* L0-L3, G0-G3 */

static inline void svm_clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

static int svm_probe(void)
{
	u32 eax, ebx, ecx, edx;
	u64 vm_cr;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON)
		return -ENODEV;
	if (cpuid_eax(0x80000000) < 0x8000000a)
		return -ENODEV;
	cpuid(0x80000001, &eax, &ebx, &ecx, &edx);
	if (!(ecx & BIT(2)))
		return -ENODEV;
	rdmsrl(MSR_HVX_VM_CR, vm_cr);
	if (vm_cr & VM_CR_SVMDIS) {
		pr_err("hvx: SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * A crash (kdump) or an emergency reboot: leave SVM with GIF set, so that
 * INIT and NMIs reach the CPU (APM vol. 2 §15.17).  NMI context, every CPU.
 */
static void svm_emergency_disable(void)
{
	u64 efer;

	WRITE_ONCE(hvx_rebooting, true);
	rdmsrl(MSR_EFER, efer);
	if (!(efer & EFER_SVME))
		return;
	svm_stgi();
	wrmsrl(MSR_HVX_VM_HSAVE_PA, 0);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	this_cpu_ptr(&svm_cpu)->enabled = false;
}

static void svm_hardware_unsetup(void)
{
	int cpu;

	hvx_emergency_unregister();

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpu, cpu);

		/* No kick may run once the module's text is gone. */
		irq_work_sync(per_cpu_ptr(&svm_kick, cpu));

		free_page((unsigned long)sc->hsave);
		free_page((unsigned long)sc->host_vmcb);
		sc->hsave = NULL;
		sc->host_vmcb = NULL;
	}
}

static int svm_hardware_setup(void)
{
	u32 eax, ebx, ecx, edx;
	int cpu;

	cpuid(0x8000000a, &eax, &ebx, &ecx, &edx);
	svm_max_asid = ebx - 1;
	svm_npt = edx & SVM_FEAT_NPT;
	svm_nrips = edx & SVM_FEAT_NRIPS;
	if (ebx < 2)
		return -ENODEV;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpu, cpu);

		sc->hsave = (void *)get_zeroed_page(GFP_KERNEL);
		sc->host_vmcb = (void *)get_zeroed_page(GFP_KERNEL);
		if (!sc->hsave || !sc->host_vmcb) {
			svm_hardware_unsetup();
			return -ENOMEM;
		}
		sc->next_asid = svm_max_asid + 1;	/* first use starts a generation */
		*per_cpu_ptr(&svm_kick, cpu) = IRQ_WORK_INIT_HARD(svm_kick_fn);
	}
	svm_host_xcr0 = boot_cpu_has(X86_FEATURE_OSXSAVE) ?
			xgetbv(XCR_XFEATURE_ENABLED_MASK) : 0;
	hvx_emergency_register(svm_emergency_disable, "SVM");
	svm_has_tsc_aux = boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID);
	if (kick_after_inject < 0)
		kick_after_inject = boot_cpu_has(X86_FEATURE_HYPERVISOR) &&
				    hypervisor_is_type(X86_HYPER_NATIVE);
	/* Without NPT every VM gets shadow paging, which needs nothing more of SVM. */
	pr_info("hvx: SVM %s, %u ASIDs, NRIP-save %s, exit after injection %s\n",
		svm_npt ? "with NPT: nested and shadow paging" :
			  "without NPT: shadow paging only",
		svm_max_asid, svm_nrips ? "yes" : "no", kick_after_inject ? "on" : "off");
	return 0;
}

static int svm_cpu_enable(void)
{
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpu);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		/* Someone else (kvm-amd, VirtualBox) runs guests here. */
		pr_err("hvx: SVM is already enabled on CPU %d by another hypervisor; not touching it\n",
		       smp_processor_id());
		return -EBUSY;
	}
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_HVX_VM_HSAVE_PA, __pa(sc->hsave));
	sc->enabled = true;
	return 0;
}

static void svm_cpu_disable(void)
{
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpu);
	u64 efer;

	if (!sc->enabled)
		return;
	wrmsrl(MSR_HVX_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	sc->enabled = false;
}

/*
 * A CPU that comes back from suspend-to-RAM has lost EFER.SVME and
 * VM_HSAVE_PA without going through CPU hotplug (the boot CPU never
 * does).  VMRUN would then fault in the host: put them back first.
 */
static void svm_check_enabled(struct svm_cpu *sc)
{
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (likely(efer & EFER_SVME))
		return;
	pr_warn_once("hvx: SVM was lost on CPU %d (resume?): enabling it again\n",
		     smp_processor_id());
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_HVX_VM_HSAVE_PA, __pa(sc->hsave));
	sc->enabled = true;
}

static u64 svm_cap(u32 cap)
{
	switch (cap) {
	case HVX_CAP_PAGING_NESTED:
		return svm_npt;
	case HVX_CAP_NRIP_SAVE:
		return svm_nrips;
	case HVX_CAP_UNRESTRICTED_GUEST:	/* under nested paging: only with NPT */
		return svm_npt;
	case HVX_CAP_PAGING_SHADOW:
		return 1;
	case HVX_CAP_SHADOW_REAL_MODE:	/* paged real mode, APM vol. 2 §15.19 */
		return HVX_REAL_MODE_FULL;
	default:
		return 0;
	}
}

/* NPT entries have the legacy page-table format; all guest accesses are user accesses. */
#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)
#define NPT_A		BIT_ULL(5)
#define NPT_D		BIT_ULL(6)

static u64 npt_leaf(phys_addr_t pa, bool writable)
{
	return pa | NPT_P | NPT_US | NPT_A | NPT_D | (writable ? NPT_RW : 0);
}

static const struct hvx_tdp_format npt_format = {
	.leaf		= npt_leaf,
	.large		= BIT_ULL(7),	/* PS, APM vol. 2 §15.25.5 */
	.table_flags	= NPT_P | NPT_RW | NPT_US | NPT_A,
	.present_mask	= NPT_P,
};

/* The MSRs that VMLOAD/VMSAVE switch: the guest may touch them freely. */
static const u32 svm_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
	MSR_CSTAR, MSR_SYSCALL_MASK, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
	MSR_IA32_SYSENTER_EIP,
};

static void svm_msrpm_allow(u8 *msrpm, u32 msr)
{
	u32 base, offset;

	if (msr < 0x2000) {
		base = 0;
		offset = 0;
	} else if (msr >= 0xc0000000 && msr < 0xc0002000) {
		base = 0xc0000000;
		offset = 0x800;
	} else {
		base = 0xc0010000;
		offset = 0x1000;
	}
	/* Two bits an MSR: read intercept, then write intercept (APM §15.11). */
	msrpm[offset + (msr - base) / 4] &= ~(3 << (((msr - base) % 4) * 2));
}

static int svm_vm_init(struct hvx_vm *vm)
{
	struct svm_vm *sv;
	int i, ret = -ENOMEM;

	sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);
	if (!sv)
		return -ENOMEM;
	sv->iopm = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT,
					    get_order(IOPM_PAGES * PAGE_SIZE));
	if (!sv->iopm)
		goto err_free_sv;
	sv->msrpm = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT,
					     get_order(MSRPM_PAGES * PAGE_SIZE));
	if (!sv->msrpm)
		goto err_free_iopm;
	memset(sv->iopm, 0xff, IOPM_PAGES * PAGE_SIZE);
	memset(sv->msrpm, 0xff, MSRPM_PAGES * PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(svm_passthrough_msrs); i++)
		svm_msrpm_allow(sv->msrpm, svm_passthrough_msrs[i]);
	/* NPT has as many levels as the host's paging (APM §15.25.3). */
	ret = hvx_tdp_init(&vm->tdp, &npt_format,
			   native_read_cr4() & X86_CR4_LA57 ? 5 : 4);
	if (ret)
		goto err_free_msrpm;
	vm->arch = sv;
	return 0;

err_free_msrpm:
	free_pages((unsigned long)sv->msrpm, get_order(MSRPM_PAGES * PAGE_SIZE));
err_free_iopm:
	free_pages((unsigned long)sv->iopm, get_order(IOPM_PAGES * PAGE_SIZE));
err_free_sv:
	kfree(sv);
	return ret;
}

static void svm_vm_destroy(struct hvx_vm *vm)
{
	struct svm_vm *sv = vm->arch;

	free_pages((unsigned long)sv->msrpm, get_order(MSRPM_PAGES * PAGE_SIZE));
	free_pages((unsigned long)sv->iopm, get_order(IOPM_PAGES * PAGE_SIZE));
	kfree(sv);
}

static void svm_set_seg(struct vmcb_seg *s, u16 sel, u64 base, u32 limit, u16 attrib)
{
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->attrib = attrib;
}

void svm_dr_intercept(struct svm_vcpu *svm, bool on)
{
	svm->vmcb->control.intercept_dr = on ? ~0U : 0;
	svm->guest_dr = !on;
}

/* The state after RESET (APM §14.1.3). */
static void svm_reset_state(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;

	svm_set_seg(&s->cs, 0xf000, 0xffff0000, 0xffff, 0x9b);
	svm_set_seg(&s->ds, 0, 0, 0xffff, 0x93);
	svm_set_seg(&s->es, 0, 0, 0xffff, 0x93);
	svm_set_seg(&s->ss, 0, 0, 0xffff, 0x93);
	svm_set_seg(&s->fs, 0, 0, 0xffff, 0x93);
	svm_set_seg(&s->gs, 0, 0, 0xffff, 0x93);
	svm_set_seg(&s->gdtr, 0, 0, 0xffff, 0);
	svm_set_seg(&s->idtr, 0, 0, 0xffff, 0);
	svm_set_seg(&s->ldtr, 0, 0, 0xffff, 0x82);
	svm_set_seg(&s->tr, 0, 0, 0xffff, 0x8b);
	s->cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
	s->dr6 = DR6_RESERVED;
	s->dr7 = HVX_DR7_FIXED;
	s->g_pat = 0x0007040600070406ULL;
	svm->guest_cr0 = s->cr0;
	svm->guest_cr3 = 0;
	svm->guest_cr4 = 0;
	svm_set_guest_efer(vcpu, 0);
}

static int svm_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct svm_vm *sv = vcpu->vm->arch;
	struct vmcb_control *c;
	struct svm_vcpu *svm;

	svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	if (!svm)
		return -ENOMEM;
	svm->vmcb = (struct vmcb *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!svm->vmcb) {
		kfree(svm);
		return -ENOMEM;
	}
	svm->vmcb_pa = __pa(svm->vmcb);
	svm->cpu = -1;
	vcpu->arch = svm;

	c = &svm->vmcb->control;
	/*
	 * INVD would discard the host's dirty cache lines, WBINVD flushes
	 * every cache of the package, RDPMC reads the host's counters.
	 */
	c->intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_CPUID |
			     INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO |
			     INTERCEPT_MSR | INTERCEPT_SHUTDOWN | INTERCEPT_RDPMC |
			     INTERCEPT_INVD;
	/* Every instruction that takes a host-physical address, and the rest of SVM. */
	c->intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
			     INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI |
			     INTERCEPT_SKINIT | INTERCEPT_MONITOR | INTERCEPT_MWAIT |
			     INTERCEPT_XSETBV | INTERCEPT_WBINVD;
	/*
	 * #AC and #DB raised while delivering themselves loop inside the CPU
	 * with no instruction boundary for an interrupt to end the guest at
	 * (CVE-2015-5307, CVE-2015-8104): intercepted, they exit instead and
	 * are delivered from here.  A machine check is the host's.
	 */
	c->intercept_exc = BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC);
	c->iopm_base_pa = __pa(sv->iopm);
	c->msrpm_base_pa = __pa(sv->msrpm);
	/* Physical interrupts stay the host's whatever the guest's RFLAGS.IF. */
	c->int_ctl = V_INTR_MASKING;
	svm->shadow = vcpu->vm->paging == HVX_PAGING_SHADOW;
	if (svm->shadow) {
		/*
		 * Shadow paging: no NPT; CR0/CR3/CR4 accesses, INVLPG and #PF
		 * exit, and the CPU runs on the shadow tables.
		 */
		c->intercept_cr |= INTERCEPT_CR_SHADOW;
		c->intercept_misc1 |= INTERCEPT_INVLPG;
		c->intercept_exc |= BIT(X86_TRAP_PF);
		/* INVPCID would bypass the shadow tables; CPUID hides it here. */
		c->intercept_misc3 |= INTERCEPT_INVPCID;
	} else {
		c->nested_ctl = NESTED_CTL_NP_ENABLE;
		c->nested_cr3 = hvx_tdp_root_pa(&vcpu->vm->tdp);
	}
	svm_dr_intercept(svm, true);
	svm_reset_state(vcpu);
	return 0;
}

/*
 * Shadow paging: the guest's CR0/CR3/CR4/EFER changed (or its mappings
 * went away).  The CPU always pages (PG, and WP so that read-only shadow
 * entries bind the supervisor too; with PE clear that is paged real mode,
 * APM vol. 2 §15.19) with PAE-format tables and no global pages or PCIDs,
 * and has NX whatever the guest's EFER.NXE.  The shadow tables are
 * dropped and CR3 points at the root for the guest's mode.
 */
void svm_shadow_sync(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	bool lma = svm->guest_efer & EFER_LMA;

	if (!svm->shadow)
		return;
	s->cr0 = svm->guest_cr0 | X86_CR0_PG | X86_CR0_WP;
	s->cr4 = (svm->guest_cr4 & ~(X86_CR4_PSE | X86_CR4_PGE | X86_CR4_PCIDE |
				     X86_CR4_LA57)) | X86_CR4_PAE;
	s->efer = (svm->guest_efer & ~(EFER_LME | EFER_LMA)) |
		  (lma ? EFER_LME | EFER_LMA : 0) | EFER_NX | EFER_SVME;
	hvx_shadow_flush(&vcpu->shadow);
	s->cr3 = hvx_shadow_root(&vcpu->shadow, lma);
	svm->vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL;
}

/*
 * The guest's EFER changed, or (nested paging) its CR0.PG.
 *
 * Nested paging: the VMCB carries EFER.LME only while the guest pages, and
 * while the guest has LME set its CR0 writes exit (svm_mov_to_cr0() turns
 * long mode on and off).  LME only matters when paging is turned on, so the
 * guest cannot tell.  The reason is an emulator's #VMEXIT: QEMU (7.2)
 * reloads the host's CR0 while the guest's EFER and CR4 are still loaded,
 * and with LME set, PG and PAE clear there, it keeps the guest's CR0 and
 * the host CPU goes on in long mode without paging, which hangs it.
 */
void svm_set_guest_efer(struct hvx_vcpu *vcpu, u64 efer)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;

	svm->guest_efer = efer;
	if (svm->shadow) {
		svm_shadow_sync(vcpu);
		return;
	}
	if (!(vmcb->save.cr0 & X86_CR0_PG))
		efer &= ~EFER_LME;
	vmcb->save.efer = efer | EFER_SVME;
	if (svm->guest_efer & EFER_LME)
		vmcb->control.intercept_cr |= INTERCEPT_CR0_WRITE;
	else
		vmcb->control.intercept_cr &= ~INTERCEPT_CR0_WRITE;
}

static void svm_vcpu_free(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	free_page((unsigned long)svm->vmcb);
	kfree(svm);
}

/* Gives the vCPU a fresh ASID on this CPU (called with interrupts off). */
static void svm_new_asid(struct svm_vcpu *svm, struct svm_cpu *sc)
{
	if (sc->next_asid > svm_max_asid) {
		/* Wrapped: old translations may linger under reused ASIDs. */
		sc->asid_gen++;
		sc->next_asid = 1;
		svm->vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL;
	}
	svm->asid = sc->next_asid++;
	svm->asid_gen = sc->asid_gen;
	svm->vmcb->control.asid = svm->asid;
}

#define SVM_ATTR_L	BIT(9)		/* in vmcb_seg.attrib */
#define SVM_ATTR_DB	BIT(10)

/*
 * The consistency checks VMRUN makes of the guest state (APM vol. 2
 * §15.5.1), made here first: an entry that would fail is failed without
 * VMRUN.  On hardware the outcome is the same (VMEXIT_INVALID, the state
 * untouched), but QEMU's emulated VMRUN writes the host's registers into
 * the VMCB's save area when it refuses one, and the next entry then runs
 * the guest on a copy of the host's state (RIP, RSP, CR3, IDT, GS): an
 * ioctl fuzzer took the emulated host down that way.  The VMCB fields
 * only hvx sets (intercepts, ASID, permission maps) are not re-checked.
 */
static bool svm_entry_invalid(const struct vmcb *vmcb)
{
	const struct vmcb_save *v = &vmcb->save;
	u64 cr0 = v->cr0, efer = v->efer, inj = vmcb->control.event_inj;
	bool long_paging = (efer & EFER_LME) && (cr0 & X86_CR0_PG);

	/* Only hvx writes the ASID: a bad one is hvx's bug, not the guest's. */
	if (WARN_ON_ONCE(!vmcb->control.asid || vmcb->control.asid > svm_max_asid))
		return true;
	if (!(efer & EFER_SVME) || (efer & ~(SVM_EFER_GUEST_BITS | EFER_SVME)))
		return true;
	if ((cr0 >> 32) || ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD)))
		return true;
	if ((v->cr3 & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits)) ||
	    (v->cr4 & ~hvx_cr4_valid))
		return true;
	if ((v->dr6 >> 32) || (v->dr7 >> 32))
		return true;
	if (long_paging && (!(v->cr4 & X86_CR4_PAE) || !(cr0 & X86_CR0_PE) ||
			    ((v->cs.attrib & SVM_ATTR_L) && (v->cs.attrib & SVM_ATTR_DB))))
		return true;
	/*
	 * LMA is what the CPU makes of LME and PG.  VMRUN does not check it,
	 * but a guest entered with LMA and no paging has no architectural
	 * meaning; under QEMU one ran for minutes without an exit while the
	 * other host CPU waited for this one to answer an IPI.  KVM refuses
	 * the same in KVM_SET_SREGS.
	 */
	if (!!(efer & EFER_LMA) != long_paging)
		return true;
	if (!(inj & SVM_EVTINJ_VALID))
		return false;
	switch (inj & SVM_EVTINJ_TYPE_MASK) {
	case SVM_EVTINJ_INTR:
	case SVM_EVTINJ_NMI:
	case SVM_EVTINJ_SOFT:
		return false;
	case SVM_EVTINJ_EXC:
		/* 31 is reserved; QEMU refuses it too. */
		return (inj & 0xff) == X86_TRAP_NMI || (inj & 0xff) >= 31;
	default:
		return true;
	}
}

static bool svm_interruptible(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !(vmcb->control.int_state & SVM_INT_SHADOW);
}

static void svm_set_vintr(struct vmcb *vmcb, bool on)
{
	if (on) {
		/*
		 * A virtual interrupt that the guest cannot mask with CR8
		 * exits as soon as the guest can take it.  While it is
		 * pending, CR8 writes are intercepted (see svm_exit.c).
		 */
		vmcb->control.int_ctl |= V_IRQ | V_IGN_TPR;
		vmcb->control.intercept_misc1 |= INTERCEPT_VINTR;
		vmcb->control.intercept_cr |= INTERCEPT_CR8_WRITE;
	} else {
		vmcb->control.int_ctl &= ~(V_IRQ | V_IGN_TPR);
		vmcb->control.intercept_misc1 &= ~INTERCEPT_VINTR;
		vmcb->control.intercept_cr &= ~INTERCEPT_CR8_WRITE;
	}
}

/*
 * With an APIC in the kernel, the guest's CR8 is V_TPR (V_INTR_MASKING),
 * read and written without exits, and the APIC's TPR is kept in step
 * around each entry.  A CR8 write exits, and is emulated (svm_exit_cr()),
 * only while the TPR holds back an interrupt in IRR, so that a lower TPR
 * delivers it before the next instruction, or while a virtual interrupt
 * is pending (svm_set_vintr()).  After svm_set_windows().
 */
static void svm_tpr_enter(struct hvx_vcpu *vcpu, struct vmcb *vmcb)
{
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) | hvx_lapic_get_cr8(vcpu);
	if (hvx_lapic_tpr_threshold(vcpu))
		vmcb->control.intercept_cr |= INTERCEPT_CR8_WRITE;
}

/* A CR8 write the guest made without an exit reaches the APIC. */
static void svm_tpr_exit(struct hvx_vcpu *vcpu, struct vmcb *vmcb)
{
	u8 cr8 = vmcb->control.int_ctl & V_TPR_MASK;

	if (cr8 != hvx_lapic_get_cr8(vcpu))
		hvx_lapic_set_cr8(vcpu, cr8);
}

/*
 * NMI blocking is not tracked on SVM (no virtual NMI here, IRET not
 * intercepted): only what SET_STATE said holds an NMI back.
 */
static bool svm_nmi_allowed(struct hvx_vcpu *vcpu)
{
	return !vcpu->ev.nmi_masked;
}

/*
 * Exits when the guest can take an interrupt: a virtual interrupt
 * (V_IRQ) and its intercept, VINTR.  An NMI has no window of its own
 * here.  Not on the entry after an intercepted CR8 write, which runs
 * natively then (svm_exit_cr8_write()).
 */
static void svm_set_windows(struct hvx_vcpu *vcpu, bool irq, bool nmi)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	bool on = irq || nmi;

	if (svm->vintr_hold) {
		svm->vintr_hold = false;
		on = false;
	}
	svm_set_vintr(svm->vmcb, on);
}

static int svm_run(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	u64 guest_xcr0, inj, host_aux = 0;
	u32 host_pkru = 0;
	u64 t0 = 0;
	int ret;
	bool pkru_loaded;
	struct svm_cpu *sc;
	int gen;

	/* VMRUN would not see an inconsistent set of the guest's own: fail it here. */
	if (svm->shadow &&
	    hvx_paging_inconsistent(svm->guest_cr0, svm->guest_cr4, svm->guest_efer)) {
		vmcb->control.exit_code = SVM_EXIT_INVALID;
		vmcb->control.exit_int_info = 0;
		return svm_handle_exit(vcpu);
	}

	hvx_entry_begin();
	ret = hvx_entry_irqs_off();
	if (ret)
		return ret;

	sc = this_cpu_ptr(&svm_cpu);
	svm_check_enabled(sc);
	hvx_spec_enter(vcpu);
	if (svm->cpu != smp_processor_id() || svm->asid_gen != sc->asid_gen) {
		svm->cpu = smp_processor_id();
		svm_new_asid(svm, sc);
	}
	gen = atomic_read(&vcpu->vm->tlb_gen);
	if (gen != vcpu->tlb_gen) {
		/* No flush-by-ASID assumed: flush everything (APM §15.16.1). */
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL;
		vcpu->tlb_gen = gen;
		/* Guest pages went away: the shadow tables may point at them. */
		if (svm->shadow)
			hvx_shadow_flush(&vcpu->shadow);
	}
	if (svm->shadow && vcpu->shadow.tlb_dirty) {
		vcpu->shadow.tlb_dirty = false;
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL;
	}
	if (vmcb->control.tlb_ctl)
		hvx_stat_inc(vcpu, HVX_STAT_TLB_FLUSHES);
	hvx_inject_events(vcpu, svm_set_windows);
	if (vcpu->apic)
		svm_tpr_enter(vcpu, vmcb);
	if (kick_after_inject && (vmcb->control.event_inj & SVM_EVTINJ_VALID) &&
	    (vmcb->control.event_inj & SVM_EVTINJ_TYPE_MASK) == SVM_EVTINJ_INTR)
		irq_work_queue(this_cpu_ptr(&svm_kick));

	vmcb->save.rax = vcpu->regs[HVX_RAX];
	vmcb->save.rsp = vcpu->regs[HVX_RSP];
	vmcb->save.rip = vcpu->rip;
	vmcb->save.rflags = vcpu->rflags;

	if (unlikely(svm_entry_invalid(vmcb))) {
		local_irq_enable();
		preempt_enable();
		vmcb->control.exit_code = SVM_EXIT_INVALID;
		return svm_handle_exit(vcpu);
	}
	svm_clgi();
	/*
	 * hvx_check_xcr0() admits only what the CPU takes; should a value
	 * ever slip through, the entry fails instead of the host faulting.
	 */
	if (vcpu->xcr0 != svm_host_xcr0 &&
	    unlikely(hvx_xsetbv_safe(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0))) {
		svm_stgi();
		local_irq_enable();
		preempt_enable();
		pr_warn_ratelimited("hvx: the CPU refused XCR0 %#llx of a guest: entry failed\n",
				    vcpu->xcr0);
		vmcb->control.exit_code = SVM_EXIT_INVALID;
		return svm_handle_exit(vcpu);
	}
	/*
	 * RDTSCP and RDPID read TSC_AUX, which VMRUN does not switch: the
	 * guest's value is loaded around the entry (the host kernel's own
	 * entry code does not read it, only its user space does).
	 */
	if (svm_has_tsc_aux) {
		rdmsrl(MSR_TSC_AUX, host_aux);
		if (host_aux != svm->tsc_aux)
			wrmsrl(MSR_TSC_AUX, svm->tsc_aux);
	}
	if (svm->guest_dr)
		hvx_load_guest_dr(vcpu);
	pkru_loaded = hvx_load_guest_pkru(vcpu, vmcb->save.cr4, &host_pkru);

	/*
	 * Guest time is a quiescent state for RCU, as user time is: a
	 * guest that runs long must not stall grace periods.
	 */
	rcu_note_context_switch(false);
	trace_hvx_entry(vcpu->vm->id, vcpu->id, vcpu->rip);
	if (static_branch_likely(&hvx_stats_on))
		t0 = rdtsc();
	inj = vmcb->control.event_inj;
	/* Host FS, GS, TR, LDTR and SYSCALL MSRs are saved and restored in there. */
	hvx_svm_vmrun(vcpu->regs, svm->vmcb_pa, __pa(sc->host_vmcb));
	hvx_spec_exit();
	/* TSC cycles on one CPU with interrupts off; ns when read out. */
	if (static_branch_likely(&hvx_stats_on))
		hvx_stat_add(vcpu, HVX_STAT_RUN_NS, rdtsc() - t0);
	if (vcpu->apic)
		svm_tpr_exit(vcpu, vmcb);

	if (svm_has_tsc_aux && host_aux != svm->tsc_aux)
		wrmsrl(MSR_TSC_AUX, host_aux);
	hvx_put_guest_pkru(vcpu, vmcb->save.cr4, host_pkru, pkru_loaded);
	if (svm->guest_dr)
		hvx_put_guest_dr(vcpu);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	/*
	 * XSETBV is intercepted, but QEMU's emulated SVM lets it through and
	 * the guest's value lands in the real XCR0: keep it as the guest's.
	 */
	guest_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	if (unlikely(guest_xcr0 != vcpu->xcr0) && !hvx_check_xcr0(vcpu, guest_xcr0))
		vcpu->xcr0 = guest_xcr0;
	if (guest_xcr0 != svm_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, svm_host_xcr0);
	svm_stgi();
	if (unlikely(vmcb->control.exit_code == SVM_EXIT_MC))
		hvx_machine_check();
	/* A host interrupt that made the exit is taken here. */
	local_irq_enable();
	preempt_enable();

	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	/*
	 * A VMRUN that failed its checks delivered nothing, and what
	 * EXITINTINFO holds then is not about this entry: the event stays
	 * pending as it was.
	 */
	if ((u32)vmcb->control.exit_code == (u32)SVM_EXIT_INVALID)
		vmcb->control.event_inj = inj;
	vcpu->regs[HVX_RAX] = vmcb->save.rax;
	vcpu->regs[HVX_RSP] = vmcb->save.rsp;
	vcpu->rip = vmcb->save.rip;
	vcpu->rflags = vmcb->save.rflags;
	trace_hvx_exit(vcpu->vm->id, vcpu->id, vmcb->control.exit_code, vcpu->rip,
		       vmcb->control.exit_info_1, vmcb->control.exit_info_2);
	ret = svm_handle_exit(vcpu);
	hvx_stat_inc(vcpu, ret > 0 ? HVX_STAT_EXITS_KERNEL : HVX_STAT_EXITS_USER);
	return ret;
}

static u32 svm_raw_exit_code(unsigned int idx)
{
	if (idx == SVM_RAW_NPF)
		return SVM_EXIT_NPF;
	if (idx == SVM_RAW_INVALID)
		return (u32)SVM_EXIT_INVALID;
	return idx;
}

const struct hvx_backend_ops hvx_svm_ops = {
	.name			= "AMD SVM",
	.vendor			= HVX_VENDOR_AMD,
	.nr_raw_exits		= SVM_NR_RAW,
	.probe			= svm_probe,
	.hardware_setup		= svm_hardware_setup,
	.hardware_unsetup	= svm_hardware_unsetup,
	.cpu_enable		= svm_cpu_enable,
	.cpu_disable		= svm_cpu_disable,
	.cap			= svm_cap,
	.vm_init		= svm_vm_init,
	.vm_destroy		= svm_vm_destroy,
	.vcpu_create		= svm_vcpu_create,
	.vcpu_free		= svm_vcpu_free,
	.run			= svm_run,
	.get_sregs		= svm_get_sregs,
	.set_sregs		= svm_set_sregs,
	.get_cregs		= svm_get_cregs,
	.set_cregs		= svm_set_cregs,
	.get_dregs		= svm_get_dregs,
	.set_dregs		= svm_set_dregs,
	.get_events		= svm_get_events,
	.set_events		= svm_set_events,
	.get_injection		= svm_get_injection,
	.set_injection		= svm_set_injection,
	.set_cr2		= svm_set_cr2,
	.get_msr		= svm_get_msr,
	.set_msr		= svm_set_msr,
	.get_paging		= svm_get_paging,
	.seg_base		= svm_seg_base,
	.get_segment		= svm_get_segment,
	.interruptible		= svm_interruptible,
	.nmi_allowed		= svm_nmi_allowed,
	.set_windows		= svm_set_windows,
	.raw_exit_code		= svm_raw_exit_code,
};
