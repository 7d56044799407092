/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: AMD SVM hardware definitions (AMD APM vol. 2 ch. 15 and appendix B)
 * and the SVM backend's private structures.
 */
#ifndef HVX_SVM_H
#define HVX_SVM_H

#include <linux/types.h>
#include <linux/build_bug.h>

#include "hvx_core.h"
#include "hvx_x86.h"

#define MSR_HVX_VM_CR		0xc0010114
#define MSR_HVX_VM_HSAVE_PA	0xc0010117
#define VM_CR_SVMDIS		BIT(4)

/* CPUID 0x8000000A EDX */
#define SVM_FEAT_NPT		BIT(0)
#define SVM_FEAT_NRIPS		BIT(3)

/* Intercept vector words (APM B-1, offsets 0x0c, 0x10). */
#define INTERCEPT_INTR		BIT(0)
#define INTERCEPT_NMI		BIT(1)
#define INTERCEPT_VINTR		BIT(4)
#define INTERCEPT_RDPMC		BIT(15)
#define INTERCEPT_CPUID		BIT(18)
#define INTERCEPT_INVD		BIT(22)
#define INTERCEPT_HLT		BIT(24)
#define INTERCEPT_INVLPG	BIT(25)
#define INTERCEPT_INVLPGA	BIT(26)
#define INTERCEPT_IOIO		BIT(27)
#define INTERCEPT_MSR		BIT(28)
#define INTERCEPT_SHUTDOWN	BIT(31)

#define INTERCEPT_VMRUN		BIT(0)
#define INTERCEPT_VMMCALL	BIT(1)
#define INTERCEPT_VMLOAD	BIT(2)
#define INTERCEPT_VMSAVE	BIT(3)
#define INTERCEPT_STGI		BIT(4)
#define INTERCEPT_CLGI		BIT(5)
#define INTERCEPT_SKINIT	BIT(6)
#define INTERCEPT_WBINVD	BIT(9)		/* and WBNOINVD */
#define INTERCEPT_MONITOR	BIT(10)
#define INTERCEPT_MWAIT		BIT(11)
#define INTERCEPT_XSETBV	BIT(13)

/* Third word (offset 0x14). */
#define INTERCEPT_INVPCID	BIT(2)

#define INTERCEPT_CR0_WRITE	BIT(16 + 0)
#define INTERCEPT_CR8_WRITE	BIT(16 + 8)
#define INTERCEPT_CR8_READ	BIT(8)
/* Shadow paging: CR0, CR3 and CR4 reads and writes. */
#define INTERCEPT_CR_SHADOW	(BIT(0) | BIT(3) | BIT(4) | BIT(16) | BIT(19) | BIT(20))

#define TLB_CONTROL_DO_NOTHING	0
#define TLB_CONTROL_FLUSH_ALL	1

#define V_TPR_MASK		0xfU
#define V_IRQ			BIT(8)
#define V_IGN_TPR		BIT(20)
#define V_INTR_MASKING		BIT(24)

#define SVM_INT_SHADOW		BIT(0)

#define SVM_EVTINJ_VALID	BIT(31)
#define SVM_EVTINJ_EV		BIT(11)
#define SVM_EVTINJ_TYPE_SHIFT	8
#define SVM_EVTINJ_TYPE_MASK	(7 << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_INTR		(0 << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_NMI		(2 << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_EXC		(3 << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_SOFT		(4 << SVM_EVTINJ_TYPE_SHIFT)

#define NESTED_CTL_NP_ENABLE	BIT(0)

/* Exit codes (APM C-1). */
#define SVM_EXIT_READ_CR0	0x000
#define SVM_EXIT_READ_CR4	0x004
#define SVM_EXIT_READ_CR8	0x008
#define SVM_EXIT_WRITE_CR0	0x010
#define SVM_EXIT_WRITE_CR4	0x014
#define SVM_EXIT_EXCP_BASE	0x040
#define SVM_EXIT_DB		(SVM_EXIT_EXCP_BASE + 1)
#define SVM_EXIT_PF		(SVM_EXIT_EXCP_BASE + 14)
#define SVM_EXIT_AC		(SVM_EXIT_EXCP_BASE + 17)
#define SVM_EXIT_MC		(SVM_EXIT_EXCP_BASE + 18)
#define SVM_EXIT_INVLPG		0x079
#define SVM_EXIT_INTR		0x060
#define SVM_EXIT_NMI		0x061
#define SVM_EXIT_VINTR		0x064
#define SVM_EXIT_RDPMC		0x06f
#define SVM_EXIT_CPUID		0x072
#define SVM_EXIT_INVD		0x076
#define SVM_EXIT_HLT		0x078
#define SVM_EXIT_INVLPGA	0x07a
#define SVM_EXIT_IOIO		0x07b
#define SVM_EXIT_MSR		0x07c
#define SVM_EXIT_SHUTDOWN	0x07f
#define SVM_EXIT_VMRUN		0x080
#define SVM_EXIT_VMMCALL	0x081
#define SVM_EXIT_VMLOAD		0x082
#define SVM_EXIT_VMSAVE		0x083
#define SVM_EXIT_STGI		0x084
#define SVM_EXIT_CLGI		0x085
#define SVM_EXIT_SKINIT		0x086
#define SVM_EXIT_WBINVD		0x089
#define SVM_EXIT_MONITOR	0x08a
#define SVM_EXIT_MWAIT		0x08b
#define SVM_EXIT_XSETBV		0x08d
#define SVM_EXIT_CR8_WRITE	0x018
#define SVM_EXIT_DR_FIRST	0x020	/* reads 0x20-0x2f, writes 0x30-0x3f */
#define SVM_EXIT_DR_LAST	0x03f
#define SVM_EXIT_INVPCID	0x0a2
#define SVM_EXIT_NR		0x0a3
#define SVM_EXIT_NPF		0x400
#define SVM_EXIT_INVALID	(~0ULL)

/* IOIO EXITINFO1 (APM §15.10.2) */
#define IOIO_TYPE_IN		BIT(0)
#define IOIO_STR		BIT(2)
#define IOIO_REP		BIT(3)
#define IOIO_SIZE_SHIFT		4
#define IOIO_PORT_SHIFT		16

/* NPF EXITINFO1: a #PF-style error code. */
#define NPF_WRITE		BIT(1)
#define NPF_FETCH		BIT(4)
#define NPF_GUEST_WALK		BIT_ULL(33)	/* in the guest's page-table walk */

struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
};

struct vmcb_control {
	u32 intercept_cr;		/* 0x000 */
	u32 intercept_dr;		/* 0x004 */
	u32 intercept_exc;		/* 0x008 */
	u32 intercept_misc1;		/* 0x00c */
	u32 intercept_misc2;		/* 0x010 */
	u32 intercept_misc3;		/* 0x014 */
	u8  reserved_1[0x03c - 0x018];
	u16 pause_filter_thresh;	/* 0x03c */
	u16 pause_filter_count;		/* 0x03e */
	u64 iopm_base_pa;		/* 0x040 */
	u64 msrpm_base_pa;		/* 0x048 */
	u64 tsc_offset;			/* 0x050 */
	u32 asid;			/* 0x058 */
	u8  tlb_ctl;			/* 0x05c */
	u8  reserved_2[3];
	u32 int_ctl;			/* 0x060 */
	u32 int_vector;			/* 0x064 */
	u32 int_state;			/* 0x068 */
	u8  reserved_3[4];
	u64 exit_code;			/* 0x070 */
	u64 exit_info_1;		/* 0x078 */
	u64 exit_info_2;		/* 0x080 */
	u64 exit_int_info;		/* 0x088: vector/type/valid, error code in 63:32 */
	u64 nested_ctl;			/* 0x090 */
	u64 avic_vapic_bar;		/* 0x098 */
	u64 ghcb_gpa;			/* 0x0a0 */
	u64 event_inj;			/* 0x0a8: as exit_int_info */
	u64 nested_cr3;			/* 0x0b0 */
	u64 virt_ext;			/* 0x0b8 */
	u32 clean;			/* 0x0c0 */
	u32 reserved_5;
	u64 next_rip;			/* 0x0c8 */
	u8  insn_len;			/* 0x0d0 */
	u8  insn_bytes[15];
	u8  reserved_6[0x400 - 0x0e0];
};

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;	/* 0x000 */
	u8  reserved_1[0x0cb - 0x0a0];
	u8  cpl;			/* 0x0cb */
	u8  reserved_2[4];
	u64 efer;			/* 0x0d0 */
	u8  reserved_3[0x148 - 0x0d8];
	u64 cr4;			/* 0x148 */
	u64 cr3;
	u64 cr0;
	u64 dr7;
	u64 dr6;
	u64 rflags;
	u64 rip;			/* 0x178 */
	u8  reserved_4[0x1d8 - 0x180];
	u64 rsp;			/* 0x1d8 */
	u64 s_cet, ssp, isst_addr;
	u64 rax;			/* 0x1f8 */
	u64 star;
	u64 lstar;
	u64 cstar;
	u64 sfmask;
	u64 kernel_gs_base;
	u64 sysenter_cs;
	u64 sysenter_esp;
	u64 sysenter_eip;
	u64 cr2;			/* 0x240 */
	u8  reserved_5[0x268 - 0x248];
	u64 g_pat;			/* 0x268 */
	u64 dbgctl;
	u64 br_from;
	u64 br_to;
	u64 last_excp_from;
	u64 last_excp_to;
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};

static_assert(sizeof(struct vmcb_control) == 0x400);
static_assert(offsetof(struct vmcb_control, exit_code) == 0x070);
static_assert(offsetof(struct vmcb_control, nested_cr3) == 0x0b0);
static_assert(offsetof(struct vmcb_control, next_rip) == 0x0c8);
static_assert(offsetof(struct vmcb_save, cpl) == 0x0cb);
static_assert(offsetof(struct vmcb_save, efer) == 0x0d0);
static_assert(offsetof(struct vmcb_save, cr4) == 0x148);
static_assert(offsetof(struct vmcb_save, rip) == 0x178);
static_assert(offsetof(struct vmcb_save, rsp) == 0x1d8);
static_assert(offsetof(struct vmcb_save, rax) == 0x1f8);
static_assert(offsetof(struct vmcb_save, cr2) == 0x240);
static_assert(offsetof(struct vmcb_save, g_pat) == 0x268);
static_assert(sizeof(struct vmcb) <= PAGE_SIZE);

#define IOPM_PAGES	3	/* 12 KiB, APM §15.10.1 */
#define MSRPM_PAGES	2	/* 8 KiB, APM §15.11 */

struct svm_vcpu {
	struct vmcb *vmcb;		/* (c) one page */
	u64 vmcb_pa;			/* (c) */
	int cpu;			/* (v) host CPU of the last entry, -1: none */
	u32 asid;			/* (v) */
	u64 asid_gen;			/* (v) */
	u64 guest_efer;			/* (v) EFER as the guest sees it */
	bool vintr_hold;		/* (v) skip the VINTR request once */
	bool guest_dr;			/* (v) DR0-3 switched, DR accesses not intercepted */
	bool shadow;			/* (c) shadow paging: NPT off */
	u64 guest_cr0, guest_cr3, guest_cr4;	/* (v) shadow paging: the guest's view */
	u64 tsc_aux;			/* (v) the guest's TSC_AUX, loaded around VMRUN */
};

struct svm_vm {
	void *iopm;			/* (c) all ports intercepted */
	void *msrpm;			/* (c) pass-through for the VMCB-held MSRs */
};

static inline struct svm_vcpu *to_svm(struct hvx_vcpu *vcpu)
{
	return vcpu->arch;
}

/*
 * vmrun.S: runs the guest once; GPRs other than RAX/RSP live in @regs.
 * The host's VMLOAD/VMSAVE state goes to and comes back from @host_pa.
 */
void hvx_svm_vmrun(u64 *regs, u64 vmcb_pa, u64 host_pa);

/* svm_exit.c */
int svm_handle_exit(struct hvx_vcpu *vcpu);

/* svm.c */
extern bool svm_nrips;
void svm_shadow_sync(struct hvx_vcpu *vcpu);
void svm_set_guest_efer(struct hvx_vcpu *vcpu, u64 efer);
void svm_dr_intercept(struct svm_vcpu *svm, bool on);

/* The EFER bits a guest may set (SVME is hvx's own). */
#define SVM_EFER_GUEST_BITS	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | EFER_FFXSR)

/* svm_state.c: the guest state GET/SET_STATE reach, and queued exceptions */
void svm_get_sregs(struct hvx_vcpu *vcpu, struct hvx_sregs *s);
int svm_set_sregs(struct hvx_vcpu *vcpu, const struct hvx_sregs *s);
void svm_get_cregs(struct hvx_vcpu *vcpu, struct hvx_cregs *c);
int svm_set_cregs(struct hvx_vcpu *vcpu, const struct hvx_cregs *c);
void svm_get_dregs(struct hvx_vcpu *vcpu, struct hvx_dregs *d);
void svm_set_dregs(struct hvx_vcpu *vcpu, const struct hvx_dregs *d);
void svm_get_events(struct hvx_vcpu *vcpu, struct hvx_events *e);
u32 svm_get_injection(struct hvx_vcpu *vcpu, u32 *error);
void svm_set_injection(struct hvx_vcpu *vcpu, u32 info, u32 error);
void svm_set_cr2(struct hvx_vcpu *vcpu, u64 cr2);
void svm_set_events(struct hvx_vcpu *vcpu, const struct hvx_events *e);
int svm_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data);
int svm_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host);
void svm_get_paging(struct hvx_vcpu *vcpu, struct hvx_paging *pg);
u64 svm_seg_base(struct hvx_vcpu *vcpu, int seg);
void svm_get_segment(struct hvx_vcpu *vcpu, int seg, struct hvx_segment *s);

/* Raw exit counters: one per exit code below SVM_EXIT_NR, then NPF and INVALID. */
#define SVM_RAW_NPF	SVM_EXIT_NR
#define SVM_RAW_INVALID	(SVM_EXIT_NR + 1)
#define SVM_NR_RAW	(SVM_EXIT_NR + 2)

#endif /* HVX_SVM_H */
