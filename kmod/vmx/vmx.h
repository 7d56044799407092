/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: the Intel VMX backend's private structures and VMCS accessors
 * (Intel SDM vol. 3C ch. 24-28).  Field encodings, control bits and exit
 * reasons come from the kernel's <asm/vmx.h>.
 */
#ifndef HVX_VMX_H
#define HVX_VMX_H

#include <linux/types.h>
#include <linux/list.h>
#include <asm/vmx.h>
#include <asm/asm.h>
#include <asm/trapnr.h>

#include "hvx_core.h"
#include "hvx_x86.h"

/* IA32_VMX_BASIC (SDM vol. 3D appendix A.1) */
#define HVX_VMX_BASIC_REVISION(b)	((u32)(b) & 0x7fffffff)
#define HVX_VMX_BASIC_SIZE(b)		(((b) >> 32) & 0x1fff)
#define HVX_VMX_BASIC_32BIT		BIT_ULL(48)
#define HVX_VMX_BASIC_MEMTYPE(b)	(((b) >> 50) & 0xf)
#define HVX_VMX_BASIC_TRUE_CTLS		BIT_ULL(55)
#define HVX_MEMTYPE_WB			6

/* Exit reasons are below this; bit 31 of the reason marks a failed entry. */
#define VMX_EXIT_NR			70
#define VMX_EXIT_FAILED_ENTRY		BIT(31)
#define VMX_RAW_FAIL			VMX_EXIT_NR	/* raw counter of failed entries */
#define VMX_NR_RAW			(VMX_EXIT_NR + 1)
/* fail_entry.hardware_reason of a VMfail: this bit and the VM-instruction error. */
#define HVX_VMX_VMFAIL			BIT_ULL(32)

/*
 * MSRs that VM entry and exit do not switch but a 64-bit guest owns:
 * switched through the VM-entry MSR-load, VM-exit MSR-store and VM-exit
 * MSR-load lists (SDM vol. 3C §24.7.2, §24.8.2).  Entry i of both lists is
 * vmx_auto_msrs[i].
 */
#define VMX_NR_AUTO_MSRS		6
#define VMX_AUTO_TSC_AUX		5	/* switched only if vmx_caps.rdtscp */

struct vmx_auto_msr {
	u32 index;
	u32 reserved;
	u64 value;
};

/* The VMCS of a vCPU, and where it is active. */
struct vmx_vcpu {
	void *vmcs;			/* (c) one page */
	u64 vmcs_pa;			/* (c) */
	int cpu;			/* CPU it is active on, -1: clear; see vmx.c */
	struct list_head loaded;	/* on that CPU's list, irqs off */
	bool launched;			/* (v) VMLAUNCH done since the VMCLEAR */
	bool flush;			/* (v) INVEPT/INVVPID before the next entry */
	bool guest_dr;			/* (v) DR0-3, DR6 switched, MOV DR not exiting */
	u16 vpid;			/* (c) 0: none */
	u64 dr6;			/* (v) the guest's DR6 */
	u8 cr8;				/* (v) without an APIC: the TPR (MOV CR8 exits) */
	u32 *vapic;			/* (c) virtual-APIC page: the TPR shadow, or NULL */
	u8 tpr_threshold;		/* (v) what TPR_THRESHOLD holds */
	u64 cr2;			/* (v) VM entry and exit do not switch CR2 */
	bool shadow;			/* (c) shadow paging: EPT off */
	u64 cr0_mask, cr4_mask;		/* (c) the host-owned CR bits */
	u64 guest_cr3, guest_efer;	/* (v) shadow paging: the guest's view */
	u64 host_cr3, host_cr4;		/* (v) what HOST_CR3/CR4 hold */
	struct vmx_auto_msr *guest_msrs;	/* (c) entry-load = exit-store list */
	struct vmx_auto_msr *host_msrs;	/* (c) exit-load list */
	/* Exit information, read while the VMCS was still current. */
	u32 exit_reason;
	u32 exit_intr_info;
	u32 exit_intr_error;
	u32 idt_info;
	u32 idt_error;
	u32 exit_insn_len;
	u64 exit_qual;
	u64 exit_gpa;
	/* Real mode under shadow paging, as virtual-8086 mode (vmx_rmode.c). */
	u8 *rm_tss;			/* (v) hvx's TSS, from the first such entry */
	bool rm_ran;			/* (v) the last entry ran virtual-8086 mode */
	/* (v) What the entry swapped out of the VMCS. */
	u16 rm_sel[6], rm_guest_sel[6];	/* the selector it ran with, the guest's */
	u32 rm_limit[6], rm_ar[6];
	u16 rm_tr_sel;
	u32 rm_tr_limit, rm_tr_ar, rm_idt_limit;
	u64 rm_tr_base, rm_idt_base, rm_cr0, rm_cr4, rm_iopl;
};

struct vmx_vm {
	void *io_bitmap;		/* (c) two pages, every port intercepted */
	void *msr_bitmap;		/* (c) one page */
	u64 eptp;			/* (c) */
};

/*
 * Whether the event of this IDT-vectoring information is delivered again
 * on the next entry: not software interrupts and INT3/INTO/INT1, whose
 * RIP is at the instruction, which runs again.
 */
static inline bool vmx_requeued(u32 idt_info)
{
	u32 type = idt_info & INTR_INFO_INTR_TYPE_MASK;

	return (idt_info & VECTORING_INFO_VALID_MASK) && type != INTR_TYPE_SOFT_INTR &&
	       type != INTR_TYPE_SOFT_EXCEPTION && type != INTR_TYPE_PRIV_SW_EXCEPTION;
}

static inline struct vmx_vcpu *to_vmx(struct hvx_vcpu *vcpu)
{
	return vcpu->arch;
}

/*
 * The exceptions that exit.  #AC and #DB raised while delivering
 * themselves loop inside the CPU with no instruction boundary for an
 * interrupt to end the guest at (CVE-2015-5307, CVE-2015-8104): they exit
 * instead and are delivered from vmx_exit.c.  A machine check is the
 * host's: without the exit it would go through the guest's IDT.  Shadow
 * paging takes #PF; virtual-8086 mode takes all (vmx_rmode.c).
 */
static inline u32 vmx_exception_bitmap(const struct vmx_vcpu *vmx)
{
	return BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC) |
	       (vmx->shadow ? BIT(X86_TRAP_PF) : 0);
}

/*
 * VMREAD/VMWRITE on the current VMCS; the callers have made it current.
 * Should VMX be off (the reboot notifier turned it off under a running
 * VM), the #UD is fixed up: reads give 0, writes are dropped.
 */
static __always_inline unsigned long vmcs_read(unsigned long field)
{
	unsigned long value = 0;

	asm volatile("1: vmread %1, %0\n"
		     "2:\n"
		     _ASM_EXTABLE(1b, 2b)
		     : "+r"(value) : "r"(field) : "cc");
	return value;
}

void vmx_vmwrite_error(unsigned long field, unsigned long value);

static __always_inline void vmcs_write(unsigned long field, unsigned long value)
{
	bool fail = false;

	asm volatile("1: vmwrite %2, %1\n"
		     "setna %0\n"
		     "2:\n"
		     _ASM_EXTABLE(1b, 2b)
		     : "+qm"(fail) : "r"(field), "rm"(value) : "cc");
	if (unlikely(fail))
		vmx_vmwrite_error(field, value);
}

static inline void vmcs_set_bits(unsigned long field, u32 bits)
{
	vmcs_write(field, vmcs_read(field) | bits);
}

static inline void vmcs_clear_bits(unsigned long field, u32 bits)
{
	vmcs_write(field, vmcs_read(field) & ~bits);
}

/* vmx.c: make the vCPU's VMCS current on this CPU for a state access. */
void vmx_get(struct hvx_vcpu *vcpu);
void vmx_put(struct hvx_vcpu *vcpu);
u64 vmx_guest_cr0(struct hvx_vcpu *vcpu);
u64 vmx_guest_cr3(struct hvx_vcpu *vcpu);
u64 vmx_guest_efer(struct hvx_vcpu *vcpu);
void vmx_shadow_sync(struct hvx_vcpu *vcpu);
u64 vmx_guest_cr4(struct hvx_vcpu *vcpu);
int vmx_set_cr0(struct hvx_vcpu *vcpu, u64 cr0);
int vmx_set_cr4(struct hvx_vcpu *vcpu, u64 cr4);
void vmx_set_efer(struct hvx_vcpu *vcpu, u64 efer);
void vmx_read_pdptrs(struct hvx_vcpu *vcpu, u64 cr3, u64 pdpte[4]);
void vmx_write_pdptrs(const u64 pdpte[4]);
extern const u32 vmx_auto_msrs[VMX_NR_AUTO_MSRS];
bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer);

/* What the CPU offers and hvx chose of it: set by vmx_hardware_setup(). */
struct vmx_caps {
	u64 basic;			/* IA32_VMX_BASIC */
	u32 pin, cpu_based, secondary;	/* the controls every VMCS starts with */
	u32 exit_ctls, entry_ctls;
	u64 cr0_fixed0, cr0_fixed1;	/* bits VMX operation fixes (SDM vol. 3C §A.7) */
	u64 cr4_fixed0, cr4_fixed1;
	u64 cr0_mask, cr4_mask;		/* the bits of the guest's the host owns */
	bool ug;			/* unrestricted guest */
	bool ept;			/* EPT usable: nested paging available */
	bool ept_2m;			/* EPT maps 2 MiB pages */
	bool vpid, invept_single, invept_global, invvpid_single;
	bool shadow_ok;			/* CR3 and INVLPG exiting can be set */
	bool tpr_shadow;		/* TPR shadow on, CR8 exiting off: allowed */
	/*
	 * "Enable RDTSCP" is on: RDTSCP and RDPID run in the guest and read
	 * TSC_AUX, which VM entry and exit do not switch, so it joins the
	 * MSR lists.  Off, both raise #UD and CPUID does not offer them.
	 */
	bool rdtscp;
	u32 preempt_ticks;		/* the preemption-timer backstop */
	unsigned int nr_auto_msrs;	/* entries in the MSR load/store lists */
	u64 host_xcr0;			/* the same on every CPU */
};

extern struct vmx_caps vmx_caps;

/* vmx_setup.c: enabling VMX, and the L1D flush before entry */
int vmx_probe(void);
int vmx_hardware_setup(void);
void vmx_hardware_unsetup(void);
int vmx_cpu_enable(void);
void vmx_cpu_disable(void);
u64 vmx_cap(u32 cap);
DECLARE_STATIC_KEY_FALSE(vmx_l1d_flush_on);
void vmx_l1d_flush(void);

/* vmx_vmcs.c: a CPU's VMX state and the VMCSs active on it */
struct vmx_cpu {
	void *vmxon;			/* the VMXON region */
	struct list_head loaded;	/* VMCSs active here; irqs off */
	struct vmx_vcpu *current_vmcs;	/* the current VMCS, NULL: unknown */
	bool enabled;			/* VMXON done by us */
};

DECLARE_PER_CPU(struct vmx_cpu, vmx_cpu);
int vmx_vmclear(u64 pa);
int vmx_vmptrld(u64 pa);
void vmx_invept(u64 eptp);
void vmx_invept_all(void);
void vmx_invvpid(u16 vpid);
void vmx_clear_remote(struct vmx_vcpu *vmx);
int vmx_load(struct hvx_vcpu *vcpu);
#define VMX_SEG_UNUSABLE	BIT(16)
#define VMX_SHADOW_CR0_BITS	(X86_CR0_PG | X86_CR0_WP | X86_CR0_PE)
#define VMX_SHADOW_CR4_BITS	(X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PGE | X86_CR4_PCIDE | \
				 X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE | X86_CR4_LA57)

/*
 * vmenter.S: enters the guest with the GPRs other than RSP in @regs (RSP
 * is in the VMCS); 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed.
 */
int hvx_vmx_vmenter(u64 *regs, bool launched);
void hvx_vmx_vmexit(void);
/* Calls the host's NMI handler as if the NMI had hit here. */
void hvx_vmx_do_nmi(unsigned long entry);

/*
 * The NMI entry the kernel exports for hypervisors that take NMIs by VM
 * exit: asm_exc_nmi_kvm_vmx since 6.3, asm_exc_nmi_noist before (Kbuild
 * looks in the kernel's Module.symvers).
 */
#ifdef HVX_HAVE_NMI_KVM_VMX
void asm_exc_nmi_kvm_vmx(void);
#define HVX_NMI_ENTRY	((unsigned long)asm_exc_nmi_kvm_vmx)
#else
void asm_exc_nmi_noist(void);
#define HVX_NMI_ENTRY	((unsigned long)asm_exc_nmi_noist)
#endif

/* vmx_state.c: the backend's state ops, and SREGS for a current VMCS */
void vmx_get_sregs(struct hvx_vcpu *vcpu, struct hvx_sregs *s);
int __vmx_set_sregs(const struct hvx_sregs *s);
int vmx_set_sregs(struct hvx_vcpu *vcpu, const struct hvx_sregs *s);
void vmx_get_cregs(struct hvx_vcpu *vcpu, struct hvx_cregs *c);
int vmx_set_cregs(struct hvx_vcpu *vcpu, const struct hvx_cregs *c);
void vmx_get_dregs(struct hvx_vcpu *vcpu, struct hvx_dregs *d);
void vmx_set_dregs(struct hvx_vcpu *vcpu, const struct hvx_dregs *d);
void vmx_get_events(struct hvx_vcpu *vcpu, struct hvx_events *e);
u32 vmx_get_injection(struct hvx_vcpu *vcpu, u32 *error);
void vmx_set_injection(struct hvx_vcpu *vcpu, u32 info, u32 error);
void vmx_set_cr2(struct hvx_vcpu *vcpu, u64 cr2);
void vmx_set_events(struct hvx_vcpu *vcpu, const struct hvx_events *e);
int vmx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host);
void vmx_get_paging(struct hvx_vcpu *vcpu, struct hvx_paging *pg);
u64 vmx_seg_base(struct hvx_vcpu *vcpu, int seg);
void vmx_get_segment(struct hvx_vcpu *vcpu, int seg, struct hvx_segment *s);
bool vmx_interruptible(struct hvx_vcpu *vcpu);
u32 vmx_raw_exit_code(unsigned int idx);

/* vmx_exit.c */
int vmx_handle_exit(struct hvx_vcpu *vcpu);
void vmx_skip(struct hvx_vcpu *vcpu);
int vmx_exit_cr(struct hvx_vcpu *vcpu);
int vmx_exit_hlt(struct hvx_vcpu *vcpu);
int vmx_exit_invd(struct hvx_vcpu *vcpu);
int vmx_exit_wbinvd(struct hvx_vcpu *vcpu);
int vmx_exit_rdmsr(struct hvx_vcpu *vcpu);
int vmx_exit_wrmsr(struct hvx_vcpu *vcpu);

/* vmx_rmode.c: real mode under shadow paging */
int vmx_rm_prepare(struct hvx_vcpu *vcpu);
void vmx_rm_enter(struct hvx_vcpu *vcpu);
void vmx_rm_exit(struct hvx_vcpu *vcpu);
bool vmx_rm_tss_fault(struct hvx_vcpu *vcpu);
int vmx_rm_exception(struct hvx_vcpu *vcpu, u8 vector);

#endif /* HVX_VMX_H */
