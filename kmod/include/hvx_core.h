/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private structures of hvx: the VM, the vCPU, the memory slots and the
 * vendor backend ops table.
 *
 * Field keys say how a field is initialised and what guards it:
 *   (c) set at creation, constant after;  (l) vm->lock;
 *   (v) only the vCPU's owning thread, under vcpu->mutex;  (a) atomic.
 */
#ifndef HVX_CORE_H
#define HVX_CORE_H

#include <linux/types.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/hrtimer.h>
#include <linux/refcount.h>
#include <linux/mm_types.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <linux/hvx.h>
#include <linux/hvx_genl.h>
#include <linux/list.h>
#include <linux/uidgid.h>
#include <linux/jump_label.h>
#include <asm/mce.h>
#include <asm/ptrace.h>
#include <asm/asm.h>
#include <asm/reboot.h>
#include <asm/cpufeature.h>
#include <asm/trapnr.h>

#define HVX_MAX_VCPUS		1024
#define HVX_NR_SLOTS		32
#define HVX_GPA_BITS		48
#define HVX_RUN_PAGES		1
/* The components of the run page's registers area (HVX_CAP_SYNC_REGS). */
#define HVX_SYNC_ALL		(HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS)

struct hvx_vm;
struct hvx_vcpu;

/* General-purpose register numbers, in the hardware's encoding order. */
enum hvx_reg {
	HVX_RAX, HVX_RCX, HVX_RDX, HVX_RBX, HVX_RSP, HVX_RBP, HVX_RSI, HVX_RDI,
	HVX_R8, HVX_R9, HVX_R10, HVX_R11, HVX_R12, HVX_R13, HVX_R14, HVX_R15,
	HVX_NR_GPRS
};

/* The paging registers a guest page-table walk needs. */
struct hvx_paging {
	u64 cr0, cr3, cr4, efer;
};

/* #PF error code bits (SDM vol. 3A §4.7); W, U and I also name an access. */
#define HVX_PF_P	BIT(0)
#define HVX_PF_W	BIT(1)
#define HVX_PF_U	BIT(2)
#define HVX_PF_RSVD	BIT(3)
#define HVX_PF_I	BIT(4)
#define HVX_PF_PK	BIT(5)

/* An exception an emulated access raises instead of accessing memory. */
struct hvx_fault {
	u8 vector;		/* X86_TRAP_PF, X86_TRAP_GP or X86_TRAP_SS */
	u32 error_code;
	u64 cr2;		/* #PF: the linear address */
};

/* What the vCPU owes the guest when userspace calls RUN again. */
enum hvx_completion {
	HVX_COMPLETE_NONE,
	HVX_COMPLETE_IO_IN,		/* IN: io_data -> RAX */
	HVX_COMPLETE_INS,		/* INS: io_data -> guest memory */
	HVX_COMPLETE_MSR,		/* RDMSR data / #GP */
	HVX_COMPLETE_HYPERCALL,		/* ret -> RAX */
};

/* A guest event the kernel will deliver on a coming entry. */
struct hvx_pending {
	bool exception;
	bool exc_has_error;
	u8 exc_vector;
	u32 exc_error;
	bool nmi;
	bool nmi_masked;
	bool irq;
	u8 irq_vector;
};

struct hvx_slot {
	u64 gpa;		/* (l) */
	u64 npages;		/* (l) 0: slot free */
	u64 uaddr;		/* (l) */
	u32 flags;		/* (l) HVX_MEM_* */
};

/*
 * The two-dimensional (NPT/EPT) page table of a VM: 4 or 5 levels, populated
 * lazily, every leaf a pinned user page.
 */
struct hvx_tdp_format {
	u64 (*leaf)(phys_addr_t pa, bool writable);
	u64 large;		/* makes a level-2 leaf map 2 MiB; 0: none */
	u64 table_flags;	/* flags of a non-leaf entry */
	u64 present_mask;	/* any of these set: entry present */
};

struct hvx_tdp {
	const struct hvx_tdp_format *fmt;	/* (c) */
	int levels;				/* (c) 4 or 5 */
	bool huge;				/* (c) 2 MiB leaves where backed */
	u64 *root;				/* (l) */
	unsigned long table_pages;		/* (l) */
	unsigned long pinned_pages;		/* (l) */
};

/*
 * A vCPU's shadow page tables (mmu/shadow.c): a virtual TLB filled on the
 * guest's page faults.  At most HVX_SHADOW_MAX_TABLES tables below the
 * roots; when they run out, everything is flushed and refilled.
 */
#define HVX_SHADOW_MAX_TABLES	1024

struct hvx_shadow {
	u64 *pml4;		/* (v) root for a long-mode guest */
	u64 *pdpt;		/* (v) root otherwise (PAE), below 4 GiB */
	u64 **tables;		/* (v) the tables below the roots */
	unsigned int nr, max;	/* (v) */
	bool tlb_dirty;		/* (v) a present entry changed or went: flush the TLB */
};

struct hvx_vm {
	u32 id;				/* (c) VM id in statistics and events */
	pid_t pid;			/* (c) thread group of the creator */
	kuid_t uid;			/* (c) euid of the creator */
	struct list_head node;		/* hvx_vms_lock: all VMs */
	refcount_t users;		/* (a) the VM fd and each vCPU */
	struct mm_struct *mm;		/* (c) owner's address space */
	u32 paging;			/* (c) HVX_PAGING_NESTED or HVX_PAGING_SHADOW */
	u32 flags;			/* (c) HVX_VM_* */
	struct mutex lock;		/* slots, tdp, vcpus[] */
	/*
	 * vcpus[] and nr_vcpus for readers that must not wait on vm->lock,
	 * which is held across accesses to user memory (netlink).
	 */
	spinlock_t vcpus_lock;
	struct hvx_slot slots[HVX_NR_SLOTS];	/* (l) */
	struct hvx_tdp tdp;			/* (l) */
	struct hvx_vcpu *vcpus[HVX_MAX_VCPUS];	/* (l+s) */
	unsigned int nr_vcpus;			/* (l+s) */
	unsigned int vcpu_ids;			/* (l+s) highest vCPU id ever + 1 */
	atomic_t tlb_gen;		/* (a) bumped when mappings go away */
	struct hvx_ioapic *ioapic;	/* (c) HVX_VM_IOAPIC VMs */
	void *arch;			/* (c) backend private */
};

/*
 * The in-kernel local APIC of a vCPU (core/lapic.c).  Registers are kept
 * as the xAPIC page lays them out; IRR and TMR are written by any thread
 * (IPIs, MSIs, the timer) with atomic bit operations, the rest only by
 * the owning thread.
 */
struct hvx_lapic {
	struct hvx_vcpu *vcpu;		/* (c) */
	u64 base;			/* (v) IA32_APIC_BASE */
	u32 regs[256];			/* (v) the page's first KiB but IRR/TMR */
	unsigned long irr[4];		/* (a) */
	unsigned long tmr[4];		/* (a) */
	unsigned long events;		/* (a) HVX_APIC_EV_* from other threads */
	u32 sipi;			/* (a) HVX_APIC_SIPI_VALID | vector, or 0 */
	u32 esr_pending;		/* (v) errors since the last ESR write */
	u32 mp_state;			/* (v) HVX_MP_* */
	u64 tsc_deadline;		/* (v) */
	u64 period_ns;			/* (v) 0: one-shot or disarmed */
	ktime_t expires;		/* (v) when the armed count runs out */
	struct hrtimer timer;
};

#define HVX_APIC_EV_INIT	0
#define HVX_APIC_EV_NMI		2
#define HVX_APIC_SIPI_VALID	BIT(8)
#define HVX_APIC_EV_ILLEGAL	3	/* the timer's LVT has a vector below 16 */

/* vcpu->requests: work another thread left for the vCPU's next entry. */
#define HVX_REQ_EVENT		0	/* an interrupt may be deliverable */

struct hvx_vcpu {
	struct hvx_vm *vm;		/* (c) */
	struct hvx_lapic *apic;		/* (c) HVX_VM_LAPIC VMs */
	unsigned long requests;		/* (a) HVX_REQ_* */
	bool in_guest;			/* (a) between event injection and the exit */
	int cpu;			/* (a) the host CPU it last entered on */
	wait_queue_head_t wq;		/* a halted vCPU sleeps here */
	u32 id;				/* (c) */
	struct mutex mutex;		/* serialises the vCPU's ioctls */
	struct hvx_run *run;		/* (c) the mmap'd run page */
	u64 regs[HVX_NR_GPRS];		/* (v) RAX/RSP synced by the backend */
	u64 rip, rflags;		/* (v) synced by the backend */
	u64 dr[4];			/* (v) DR0-3: the hardware does not switch them */
	u64 xcr0;			/* (v) */
	u32 pkru;			/* (v) */
	struct fpu_guest gfpu;		/* (v) */
	struct hvx_pending ev;		/* (v) */
	enum hvx_completion complete;	/* (v) */
	u64 exit_rip;			/* (v) RIP of the exiting instruction */
	u64 ins_off;			/* (v) HVX_COMPLETE_INS target, ES offset */
	u8 ins_size;			/* (v) */
	u16 ins_count;			/* (v) items of the HVX_COMPLETE_INS batch */
	u8 io_addr_bytes;		/* (v) address size of the string I/O */
	bool io_rep;			/* (v) it has a REP prefix */
	u64 io_next_rip;		/* (v) RIP after the string I/O */
	int tlb_gen;			/* (v) vm->tlb_gen at the last flush */
	u32 cpuid_nent;			/* (v) */
	struct hvx_cpuid_entry *cpuid;	/* (v) NULL: host values, masked */
	/* Counters: written by the vCPU thread only, read racily by netlink. */
	struct hvx_shadow shadow;	/* (v) shadow paging only */
	u64 stat[__HVX_STAT_MAX];	/* (v) HVX_STAT_* */
	u64 *raw_exits;			/* (v) ops->nr_raw_exits of them */
	void *arch;			/* (c) backend private */
};

/**
 * struct hvx_backend_ops - what a vendor backend provides.
 *
 * hvx_ops.h lists the ops, mandatory or optional; hvx_init() refuses a
 * backend without a mandatory one.
 * Exit handlers behind @run follow one contract: 1 resumes the guest,
 * 0 returns to userspace with the run page filled, <0 is an errno.
 */
struct hvx_backend_ops {
	const char *name;
	u32 vendor;				/* HVX_VENDOR_* */
	unsigned int nr_raw_exits;		/* raw exit counters a vCPU keeps */
	int (*probe)(void);			/* 0 if the CPU can run us */
	int (*hardware_setup)(void);		/* global resources */
	void (*hardware_unsetup)(void);
	int (*cpu_enable)(void);		/* this CPU, preemption off */
	void (*cpu_disable)(void);
	u64 (*cap)(u32 cap);			/* vendor part of CHECK_CAP */
	int (*vm_init)(struct hvx_vm *vm);
	void (*vm_destroy)(struct hvx_vm *vm);
	int (*vcpu_create)(struct hvx_vcpu *vcpu);
	void (*vcpu_free)(struct hvx_vcpu *vcpu);
	int (*run)(struct hvx_vcpu *vcpu);	/* one entry, one exit */
	void (*get_sregs)(struct hvx_vcpu *vcpu, struct hvx_sregs *s);
	int (*set_sregs)(struct hvx_vcpu *vcpu, const struct hvx_sregs *s);
	void (*get_cregs)(struct hvx_vcpu *vcpu, struct hvx_cregs *c);
	int (*set_cregs)(struct hvx_vcpu *vcpu, const struct hvx_cregs *c);
	void (*get_dregs)(struct hvx_vcpu *vcpu, struct hvx_dregs *d);
	void (*set_dregs)(struct hvx_vcpu *vcpu, const struct hvx_dregs *d);
	/* what the hardware holds: an event in flight, interrupt shadow, NMI blocking */
	void (*get_events)(struct hvx_vcpu *vcpu, struct hvx_events *e);
	void (*set_events)(struct hvx_vcpu *vcpu, const struct hvx_events *e);
	/*
	 * The event the next entry injects (HVX_EV_* format, hvx_x86.h): an
	 * exit that interrupted an event's delivery leaves it there, and an
	 * exception the core queues replaces it (@info 0: none).
	 */
	u32 (*get_injection)(struct hvx_vcpu *vcpu, u32 *error);
	void (*set_injection)(struct hvx_vcpu *vcpu, u32 info, u32 error);
	void (*set_cr2)(struct hvx_vcpu *vcpu, u64 cr2);
	/* MSRs the kernel virtualizes: 0, -ENOENT if unknown, -EINVAL if invalid */
	int (*get_msr)(struct hvx_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host);
	void (*get_paging)(struct hvx_vcpu *vcpu, struct hvx_paging *pg);
	u64 (*seg_base)(struct hvx_vcpu *vcpu, int seg);	/* HVX_SEG_* */
	/* one segment register (HVX_SEG_*), for what the core reads of it */
	void (*get_segment)(struct hvx_vcpu *vcpu, int seg, struct hvx_segment *s);
	bool (*interruptible)(struct hvx_vcpu *vcpu);
	bool (*nmi_allowed)(struct hvx_vcpu *vcpu);
	/* exit when the guest can take an interrupt (@irq) or an NMI (@nmi) */
	void (*set_windows)(struct hvx_vcpu *vcpu, bool irq, bool nmi);
	u32 (*raw_exit_code)(unsigned int idx);	/* vendor code of a raw counter */
};

enum { HVX_SEG_ES, HVX_SEG_CS, HVX_SEG_SS, HVX_SEG_DS, HVX_SEG_FS, HVX_SEG_GS };

#include "hvx_prefixes.h"

extern const struct hvx_backend_ops *hvx_ops;

/* core/stats.c: counters are cheap, and a static key turns them off. */
DECLARE_STATIC_KEY_TRUE(hvx_stats_on);

static inline void hvx_stat_inc(struct hvx_vcpu *vcpu, enum hvx_stat s)
{
	if (static_branch_likely(&hvx_stats_on))
		vcpu->stat[s]++;
}

static inline void hvx_stat_add(struct hvx_vcpu *vcpu, enum hvx_stat s, u64 n)
{
	if (static_branch_likely(&hvx_stats_on))
		vcpu->stat[s] += n;
}

static inline void hvx_stat_raw(struct hvx_vcpu *vcpu, unsigned int idx)
{
	if (static_branch_likely(&hvx_stats_on))
		vcpu->raw_exits[idx]++;
}

void hvx_stats_init(void);
void hvx_event(struct hvx_vm *vm, u32 type, int vcpu_id, u64 data);
int hvx_netlink_init(void);
void hvx_netlink_exit(void);

/* core/vm.c: the list of live VMs, for statistics */
extern bool hvx_rebooting;
/* core/decode.c: the kernel's instruction decoder (prefixes, 0f + ModRM) */
struct hvx_insn {
	u8 op;			/* the byte after 0f */
	u8 reg;			/* ModRM reg (with REX.R; MOV CR: the CR number) */
	u8 rm;			/* ModRM rm (with REX.B), a register if !mem */
	bool mem;
	int seg;		/* segment of a memory operand, HVX_SEG_* */
	u64 ea;			/* its offset in the segment */
	unsigned int len;
	u8 size;		/* hvx_decode_mov(): operand bytes */
	u32 imm;		/* hvx_decode_mov(): c7's immediate */
};

int hvx_fetch_prefixes(struct hvx_vcpu *vcpu, u64 rip, u8 *b, unsigned int *len,
		       struct hvx_prefixes *p, struct hvx_fault *f);
int hvx_decode_0f(struct hvx_vcpu *vcpu, struct hvx_insn *in, struct hvx_fault *f);
int hvx_decode_mov(struct hvx_vcpu *vcpu, struct hvx_insn *in, struct hvx_fault *f);

/* core/x86.c: x86 logic both backends share (hot-path inlines: hvx_x86.h) */
void hvx_events_from_info(u32 info, u32 error, struct hvx_events *e);
void hvx_get_events(struct hvx_vcpu *vcpu, struct hvx_events *e);
bool hvx_extint_ready(struct hvx_vcpu *vcpu);
bool hvx_irq_window_open(struct hvx_vcpu *vcpu);
void __hvx_inject_events(struct hvx_vcpu *vcpu);
int hvx_check_cregs(struct hvx_vcpu *vcpu, const struct hvx_cregs *c);
int hvx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host);
int hvx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data);
int hvx_exit_irq_window(struct hvx_vcpu *vcpu);

/* core/main.c: module parameters that take -1 (auto), 0 or 1 */
extern const struct kernel_param_ops hvx_param_tristate;
/* core/main.c: the backend's emergency SVM/VMX-off callback (crash, reboot) */
void hvx_emergency_register(cpu_emergency_virt_cb *cb, const char *what);
void hvx_emergency_unregister(void);
void hvx_spec_enter(struct hvx_vcpu *vcpu);
void hvx_spec_exit(void);
extern struct mutex hvx_vms_lock;
extern struct list_head hvx_vms;

/* core/lapic.c */
int hvx_lapic_create(struct hvx_vcpu *vcpu);
void hvx_lapic_free(struct hvx_vcpu *vcpu);
void hvx_vcpu_kick(struct hvx_vcpu *vcpu);
void hvx_lapic_accept(struct hvx_vcpu *vcpu, bool *irq_window);
int hvx_lapic_block(struct hvx_vcpu *vcpu);
int hvx_lapic_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data);
int hvx_lapic_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host);
bool hvx_lapic_mmio_hit(struct hvx_vcpu *vcpu, u64 gpa);
int hvx_apic_mmio(struct hvx_vcpu *vcpu, u64 gpa, bool is_write, bool ioapic);
u8 hvx_lapic_get_tpr(struct hvx_vcpu *vcpu);
void hvx_lapic_set_tpr(struct hvx_vcpu *vcpu, u8 tpr);
u8 hvx_lapic_get_cr8(struct hvx_vcpu *vcpu);
void hvx_lapic_set_cr8(struct hvx_vcpu *vcpu, u8 cr8);
u8 hvx_lapic_tpr_threshold(struct hvx_vcpu *vcpu);
bool hvx_lapic_takes_extint(struct hvx_vcpu *vcpu);
void hvx_lapic_cpuid(struct hvx_vcpu *vcpu, u32 fn, u32 idx, u32 *r);
int hvx_lapic_get_state(struct hvx_vcpu *vcpu, struct hvx_lapic_state *s);
int hvx_lapic_check_state(struct hvx_vcpu *vcpu, const struct hvx_lapic_state *s);
void hvx_lapic_set_state(struct hvx_vcpu *vcpu, const struct hvx_lapic_state *s);
int hvx_signal_msi(struct hvx_vm *vm, const struct hvx_msi *msi);
int hvx_lapic_send(struct hvx_vm *vm, u32 dest, bool logical, u32 dm, u8 vec, bool level);

/* core/ioapic.c */
struct hvx_ioapic;
int hvx_ioapic_create(struct hvx_vm *vm);
void hvx_ioapic_free(struct hvx_vm *vm);
int hvx_ioapic_line(struct hvx_vm *vm, const struct hvx_irq_line *l);
void hvx_ioapic_eoi(struct hvx_vm *vm, u8 vec);
bool hvx_ioapic_hit(struct hvx_vm *vm, u64 gpa);
u32 hvx_ioapic_read(struct hvx_vm *vm, u32 off);
void hvx_ioapic_write(struct hvx_vm *vm, u32 off, u32 val);
int hvx_ioapic_get_state(struct hvx_vm *vm, struct hvx_ioapic_state *s);
int hvx_ioapic_set_state(struct hvx_vm *vm, const struct hvx_ioapic_state *s);
int hvx_exit_hlt(struct hvx_vcpu *vcpu);

/* core/vm.c */
int hvx_vm_create(u32 paging, u32 flags);
void hvx_vm_put(struct hvx_vm *vm);
struct hvx_slot *hvx_slot_find(struct hvx_vm *vm, u64 gpa);
int hvx_read_gpa(struct hvx_vm *vm, u64 gpa, void *buf, unsigned int len);
int hvx_write_gpa(struct hvx_vm *vm, u64 gpa, const void *buf, unsigned int len);
int hvx_cmpxchg_gpa(struct hvx_vm *vm, u64 gpa, u64 old, u64 new, unsigned int size);

/* core/vcpu.c */
int hvx_vcpu_create(struct hvx_vm *vm, u32 id);
bool hvx_vcpu_fpu_init(struct hvx_vcpu *vcpu);
int hvx_check_xcr0(struct hvx_vcpu *vcpu, u64 xcr0);
bool hvx_pat_valid(u64 pat);
extern u64 hvx_cr4_valid;
void hvx_setup_cr4_valid(void);

/* core/exit.c: vendor-neutral exit work shared by the backends */
void hvx_guest_cpuid(struct hvx_vcpu *vcpu, u32 fn, u32 idx, u32 *r);
int hvx_exit_cpuid(struct hvx_vcpu *vcpu);
int hvx_exit_msr(struct hvx_vcpu *vcpu, u32 index, bool is_write, u64 data);
int hvx_exit_io(struct hvx_vcpu *vcpu, u16 port, u8 size, bool in,
		bool string, bool rep, u64 next_rip);
int hvx_exit_hypercall(struct hvx_vcpu *vcpu);
int hvx_exit_mmio(struct hvx_vcpu *vcpu, u64 gpa, bool is_write);
int hvx_exit_internal(struct hvx_vcpu *vcpu, u32 suberror, u64 d0, u64 d1);
/* What a #PF for the guest becomes while an event's delivery is pending. */
enum hvx_pf_merge { HVX_PF_ALONE, HVX_PF_DOUBLE, HVX_PF_SHUTDOWN };
enum hvx_pf_merge hvx_pf_during_event(struct hvx_vcpu *vcpu, u32 type, u8 vector);
int hvx_complete_userspace(struct hvx_vcpu *vcpu);

/* mmu/tdp.c */
int hvx_tdp_init(struct hvx_tdp *tdp, const struct hvx_tdp_format *fmt, int levels);
void hvx_tdp_destroy(struct hvx_tdp *tdp);
int hvx_tdp_fault(struct hvx_vcpu *vcpu, u64 gpa, bool write, bool walk);
int hvx_tdp_map(struct hvx_vcpu *vcpu, u64 gpa, bool write, u64 *hpa, bool *writable);
int hvx_tdp_zap_range(struct hvx_vm *vm, u64 gpa, u64 npages);
phys_addr_t hvx_tdp_root_pa(struct hvx_tdp *tdp);

/* mmu/shadow.c */
int hvx_shadow_init(struct hvx_shadow *s);
void hvx_shadow_destroy(struct hvx_shadow *s);
void hvx_shadow_flush(struct hvx_shadow *s);
void hvx_shadow_new_cr3(struct hvx_shadow *s, bool long_mode);
u64 hvx_shadow_root(struct hvx_shadow *s, bool long_mode);
void hvx_shadow_invlpg(struct hvx_shadow *s, u64 gva, bool long_mode);
void hvx_shadow_map_host(struct hvx_shadow *s, u64 gva, u64 hpa);
int hvx_shadow_fault(struct hvx_vcpu *vcpu, struct hvx_shadow *s, u64 gva, u32 hw_ec,
		     u32 *guest_ec);

/*
 * mmu/walk.c: accesses made for an emulated instruction, checked with its
 * CPL and access type.  Each returns 0, 1 with the exception the guest
 * takes instead in *f (hvx_inject_fault() delivers it), or -EFAULT when
 * the memory is not guest RAM.
 */
u8 hvx_guest_cpl(struct hvx_vcpu *vcpu);
int hvx_gva_to_gpa(struct hvx_vcpu *vcpu, u64 gva, u32 access, u64 *gpa,
		   struct hvx_fault *f);
int hvx_fetch_insn(struct hvx_vcpu *vcpu, u64 gva, u8 *buf, unsigned int *len,
		   u64 *bad_gpa, struct hvx_fault *f);
int hvx_read_gva(struct hvx_vcpu *vcpu, u64 gva, void *buf, unsigned int len,
		 struct hvx_fault *f);
int hvx_write_gva(struct hvx_vcpu *vcpu, u64 gva, const void *buf, unsigned int len,
		  struct hvx_fault *f);
int hvx_linearize(struct hvx_vcpu *vcpu, int seg, u64 off, unsigned int len, u32 access,
		  u64 *gva, struct hvx_fault *f);
int hvx_emul_read(struct hvx_vcpu *vcpu, int seg, u64 off, void *buf, unsigned int len,
		  struct hvx_fault *f);
int hvx_emul_write(struct hvx_vcpu *vcpu, int seg, u64 off, const void *buf,
		   unsigned int len, struct hvx_fault *f);
int hvx_emul_check_write(struct hvx_vcpu *vcpu, int seg, u64 off, unsigned int len,
			 struct hvx_fault *f);

/* @addr is canonical for a linear address of @bits bits (48 or 57). */
static inline bool hvx_canonical(u64 addr, int bits)
{
	return (s64)(addr << (64 - bits)) >> (64 - bits) == (s64)addr;
}

/* The same at the host CPU's width, as WRMSR checks an address. */
static inline bool hvx_msr_canonical(u64 addr)
{
	return hvx_canonical(addr, boot_cpu_has(X86_FEATURE_LA57) ? 57 : 48);
}

/* core/x86.c: the exception queue of an exit, for both backends */
bool hvx_exception_has_error(u32 vector);
u32 hvx_exception_info(struct hvx_vcpu *vcpu, u8 vector, bool has_error);
void hvx_queue_exception(struct hvx_vcpu *vcpu, u8 vector, u32 error);
void hvx_inject_fault(struct hvx_vcpu *vcpu, const struct hvx_fault *f);
void hvx_reflect_exception(struct hvx_vcpu *vcpu, u8 vector);
int hvx_shadow_pf_deliver(struct hvx_vcpu *vcpu, u64 cr2, u32 ec);
int hvx_exit_shutdown(struct hvx_vcpu *vcpu);

/* #GP(0) for the exiting instruction, which has not completed. */
static inline void hvx_inject_gp(struct hvx_vcpu *vcpu)
{
	vcpu->rip = vcpu->exit_rip;
	hvx_queue_exception(vcpu, X86_TRAP_GP, 0);
}

/* svm/svm.c, vmx/vmx.c */
extern const struct hvx_backend_ops hvx_svm_ops;
extern const struct hvx_backend_ops hvx_vmx_ops;

/*
 * A machine check that hit while a guest ran is the host's: the #MC
 * intercept (SVM) or VM exit (VMX) took it instead of the host's handler,
 * which the backend calls here, interrupts still off, as KVM does.  The
 * frame says user mode: the check did not hit kernel code.
 */
static inline void hvx_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = { .cs = 3, .flags = X86_EFLAGS_IF };

	do_machine_check(&regs);
#endif
}

/*
 * XSETBV that cannot oops: a value the CPU refuses raises #GP, which the
 * exception table turns into -EIO (the callers run with interrupts off).
 */
static inline int hvx_xsetbv_safe(u32 index, u64 value)
{
	bool fault = true;

	asm volatile("1: xsetbv\n\t"
		     "movb $0, %0\n\t"
		     "2:\n"
		     _ASM_EXTABLE(1b, 2b)
		     : "+qm"(fault)
		     : "a"((u32)value), "d"((u32)(value >> 32)), "c"(index)
		     : "memory");
	return fault ? -EIO : 0;
}

static inline u64 hvx_seg_linear(struct hvx_vcpu *vcpu, int seg, u64 off)
{
	return hvx_ops->seg_base(vcpu, seg) + off;
}

#endif /* HVX_CORE_H */
